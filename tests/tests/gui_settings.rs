//! Settings and portability in the real window: a new passphrase, a backup written and
//! restored after confirming, the proxy with its password, and providers exported and
//! imported (with the secret a new client needs typed in).

use oauth_desk_tests::cli::{add_provider_by_hand, json, run, stdout};
use oauth_desk_tests::desktop::App;
use oauth_desk_tests::session::Session;

const FIRST: &str = "gui settings first passphrase";
const SECOND: &str = "gui settings second passphrase";
/// What a script left in the window's environment (the window never reads it).
const ENV_PASSPHRASE: &str = "canary-window-env-passphrase";

fn add(s: &Session, pass: &str, name: &str) {
    let env = [("OAUTH_DESK_PASSPHRASE", pass)];
    add_provider_by_hand(s, &env, name, &["--client-auth", "none"], "");
}

#[tokio::test(flavor = "current_thread")]
async fn passphrase_backup_restore_proxy_and_provider_sharing_from_the_window() {
    let session = Session::without_keyring();
    add(&session, FIRST, "before-backup");
    // A script's passphrase in the window's environment reaches none of the programs the window
    // starts (WebKit's processes here; the system browser in the same way).
    let app = App::launch(&session, &[("OAUTH_DESK_PASSPHRASE", ENV_PASSPHRASE)]).await;
    app.enter_passphrase(FIRST).await;
    let children = children_of_the_window();
    assert!(!children.is_empty(), "WebKit runs in processes of its own");
    for (pid, env) in children {
        assert!(
            !env.windows(ENV_PASSPHRASE.len())
                .any(|w| w == ENV_PASSPHRASE.as_bytes()),
            "process {pid}, started by the window, has the passphrase in its environment"
        );
    }

    // A new passphrase.
    app.button("Settings").await.click().await.unwrap();
    app.type_into("New passphrase", "short").await;
    app.type_into("Repeat the new passphrase", "short").await;
    app.button("Change passphrase").await.click().await.unwrap();
    app.error_beside("New passphrase", "at least 8 characters")
        .await;
    app.type_into("New passphrase", SECOND).await;
    app.type_into("Repeat the new passphrase", SECOND).await;
    app.button("Change passphrase").await.click().await.unwrap();
    app.text("The vault now opens with the new passphrase only.")
        .await;
    app.screenshot("settings-vault-key").await;

    // A backup.
    let backup = session.home().join("desk.odb");
    app.type_into("Backup file", backup.to_str().unwrap()).await;
    app.type_into("Backup passphrase", "backup passphrase 1")
        .await;
    app.type_into("Repeat the backup passphrase", "backup passphrase 1")
        .await;
    app.button("Write backup").await.click().await.unwrap();
    app.text("Backup written: 1 provider, 0 tokens.").await;
    assert!(backup.exists());

    // Something added after the backup, then the backup restored over it.
    add(&session, SECOND, "after-backup");
    app.type_into("Backup to restore", backup.to_str().unwrap())
        .await;
    app.type_into("Its passphrase", "not the passphrase").await;
    app.button("Look inside").await.click().await.unwrap();
    app.error_beside("Backup to restore", "the passphrase does not open it")
        .await;
    app.type_into("Its passphrase", "backup passphrase 1").await;
    app.button("Look inside").await.click().await.unwrap();
    app.text("This backup holds 1 provider and 0 tokens:").await;
    app.text("before-backup").await;
    app.screenshot("settings-restore-preview").await;
    app.button("Restore this backup")
        .await
        .click()
        .await
        .unwrap();
    app.button("Replace").await.click().await.unwrap();
    let kept = session
        .default_vault()
        .with_file_name("vault.db.before-restore");
    app.text(&format!(
        "Restored from the backup. The vault it replaced is kept at {}.",
        kept.display()
    ))
    .await;
    assert!(kept.exists(), "the replaced vault is kept");
    // It still holds the old tokens: Settings names it and removes it.
    app.button("Remove the replaced vault")
        .await
        .click()
        .await
        .unwrap();
    app.screenshot("settings-remove-replaced-vault").await;
    app.button("Remove").await.click().await.unwrap();
    app.text("The replaced vault was removed.").await;
    assert!(!kept.exists(), "removed from Settings");

    // The proxy: a bad URL is refused beside its field, a good one saved with a password.
    app.field("HTTP proxy for provider calls")
        .await
        .select_by_value("manual")
        .await
        .unwrap();
    app.type_into("Proxy URL", "socks5://127.0.0.1:1080").await;
    app.button("Save").await.click().await.unwrap();
    app.error_beside("Proxy URL", "http:// or https://").await;
    app.type_into("Proxy URL", "http://proxy.example:3128")
        .await;
    app.type_into("Proxy user name", "alice").await;
    app.type_into("Proxy password", "canary-gui-proxy-pw").await;
    app.type_into(
        "Clear a copied token from the clipboard after (seconds)",
        "45",
    )
    .await;
    app.button("Save").await.click().await.unwrap();
    app.text("Settings saved.").await;
    app.screenshot("settings-proxy").await;

    // Providers: export, then import a file with a new confidential client.
    app.button("Providers").await.click().await.unwrap();
    app.find(
        "//li[contains(@class,'card')][@data-name='before-backup']",
        "the restored provider",
    )
    .await;
    app.text_gone("after-backup").await;
    app.button("Export…").await.click().await.unwrap();
    let exported = session.home().join("team.json");
    app.type_into("Export to file", exported.to_str().unwrap())
        .await;
    app.button("Export").await.click().await.unwrap();
    app.text(&format!("Exported 1 provider to {}.", exported.display()))
        .await;
    let file = std::fs::read_to_string(&exported).unwrap();
    assert!(
        file.contains("before-backup") && !file.contains("client_secret"),
        "{file}"
    );

    let team = session.home().join("incoming.json");
    std::fs::write(
        &team,
        r#"[{"name":"corp","client_id":"corp-desk","client_auth":"basic",
             "authorization_url":"https://corp.example/auth","token_url":"https://corp.example/token"}]"#,
    )
    .unwrap();
    app.button("Import…").await.click().await.unwrap();
    app.type_into("Provider file", team.to_str().unwrap()).await;
    app.button("Preview").await.click().await.unwrap();
    app.text("Importing makes these changes:").await;
    app.type_into("Client secret for corp", "canary-typed-secret")
        .await;
    app.screenshot("providers-import-preview").await;
    app.button("Import").await.click().await.unwrap();
    app.find(
        "//li[contains(@class,'card')][@data-name='corp']",
        "the imported provider",
    )
    .await;
    let page = app.page_source().await;
    assert!(!page.contains("canary"), "no secret stays in the page");
    app.close().await;

    // What the window did is what the vault holds.
    let pass = [("OAUTH_DESK_PASSPHRASE", SECOND)];
    let first = run(
        &session,
        &["provider", "list"],
        &[("OAUTH_DESK_PASSPHRASE", FIRST)],
        "",
    );
    assert_eq!(
        first.status.code(),
        Some(1),
        "the first passphrase no longer opens it"
    );
    let corp = json(&run(
        &session,
        &["provider", "show", "corp", "--json"],
        &pass,
        "",
    ));
    assert_eq!(corp["has_client_secret"], true);
    let settings = stdout(&run(&session, &["settings", "get"], &pass, ""));
    assert!(settings.contains("http://proxy.example:3128"), "{settings}");
    assert!(settings.contains("proxy-password   (set)"), "{settings}");
    assert!(settings.contains("clipboard-clear  45"), "{settings}");
    assert!(!kept.exists(), "the replaced vault stays removed");
}

/// Every process descending from the window started with ENV_PASSPHRASE (found by that value
/// in its own starting environment), with the environment it started with.
fn children_of_the_window() -> Vec<(u32, Vec<u8>)> {
    let procs: Vec<(u32, u32, Vec<u8>)> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
            Some((pid, ppid, env))
        })
        .collect();
    let gui = oauth_desk_tests::bins::gui_path();
    let mut ours: Vec<u32> = procs
        .iter()
        .filter(|(pid, _, env)| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == gui)
                && env
                    .split(|b| *b == 0)
                    .any(|kv| kv == format!("OAUTH_DESK_PASSPHRASE={ENV_PASSPHRASE}").as_bytes())
        })
        .map(|(pid, ..)| *pid)
        .collect();
    assert_eq!(ours.len(), 1, "one window started with the passphrase");
    let mut children = Vec::new();
    while let Some(parent) = ours.pop() {
        for (pid, ppid, env) in &procs {
            if *ppid == parent {
                ours.push(*pid);
                children.push((*pid, env.clone()));
            }
        }
    }
    children
}
