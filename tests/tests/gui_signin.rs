//! Signing in from the window: "Sign in" on a provider opens the login window with the
//! provider's page; the test types into its login and consent forms through the X server, as a
//! person would (its incognito web context is outside WebDriver's reach); the window closes and
//! the account appears. A hostile provider page in the login window cannot call the app.

use std::time::{Duration, Instant};

use oauth_desk_tests::canned::{Canned, CannedServer};
use oauth_desk_tests::cli::run;
use oauth_desk_tests::desktop::App;
use oauth_desk_tests::idp::{self, Idp, Options};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::add_provider;

const PASSPHRASE: &str = "gui signin passphrase";
const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", PASSPHRASE);

/// Every command the app declares, read from src-tauri/build.rs, so that a new command is
/// covered without anyone remembering to add it here.
fn commands() -> Vec<String> {
    let build =
        std::fs::read_to_string(oauth_desk_tests::workspace_root().join("src-tauri/build.rs"))
            .unwrap();
    let list = &build[build
        .find(".commands(&[")
        .expect("build.rs declares its commands")..];
    let list = &list[..list.find("])").unwrap()];
    let names: Vec<String> = list
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    assert!(names.len() > 10, "found the command list: {names:?}");
    names
}

async fn unlocked_app(session: &Session) -> App {
    let app = App::launch(session, &[]).await;
    app.find(
        "//dialog[@open]//h2[normalize-space()='Unlock the vault']",
        "the unlock dialog",
    )
    .await;
    app.type_into("Passphrase", PASSPHRASE).await;
    app.button("Unlock").await.click().await.unwrap();
    app.text("Vault: passphrase").await;
    app
}

/// A new vault's window, on the provider form after Discover from `idp`'s issuer.
async fn discovered_in_form(session: &Session, idp: &Idp) -> App {
    let app = App::launch(session, &[]).await;
    app.enter_passphrase(PASSPHRASE).await;
    app.button("Add provider").await.click().await.unwrap();
    app.type_into("Issuer URL", &idp.issuer).await;
    app.button("Discover").await.click().await.unwrap();
    app
}

/// "Sign in" on the only provider, `name`, then the user's part in the login window as `who`
/// (typed through the X server), until the window closes; `shot` names a screenshot of the
/// provider's page.
async fn sign_in_in_window(app: &App, idp: &Idp, name: &str, who: &str, shot: Option<&str>) {
    app.button("Sign in").await.click().await.unwrap();
    app.button("Start sign-in").await.click().await.unwrap();
    let origin = idp.issuer.replace('.', "\\.");
    let title = format!("^Sign in to {name} — {origin}$");
    app.wait_window(&title, true).await;
    tokio::time::sleep(Duration::from_millis(1500)).await; // the page paints
    if let Some(shot) = shot {
        app.screenshot_of(&title, shot).await;
    }
    // The login form focuses its login field; Tab to the password; Enter submits.
    app.keyboard(&title, &[who, "Tab", "pw", "Return"]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The consent page focuses its Continue button.
    app.keyboard(&title, &["Return"]).await;
    app.wait_window("^Sign in to", false).await;
}

#[tokio::test(flavor = "current_thread")]
async fn sign_in_through_the_login_window_and_see_the_account() {
    let idp = Idp::start();
    let session = Session::without_keyring();
    add_provider(&session, &[PASS], &idp, "Test IdP", &idp::BASIC);

    let app = unlocked_app(&session).await;
    app.button("Sign in").await.click().await.unwrap();
    app.button("Start sign-in").await.click().await.unwrap();
    app.text("Sign in in the login window. It closes by itself when you are done.")
        .await;
    app.screenshot("signin-progress").await;

    // The login window shows the provider's page and its origin in the title.
    let origin = idp.issuer.replace('.', "\\.");
    let title = format!("^Sign in to Test IdP — {origin}$");
    app.wait_window(&title, true).await;
    tokio::time::sleep(Duration::from_millis(1500)).await; // the page paints
    app.screenshot_of(&title, "signin-login-window").await;
    // The login form focuses its login field; Tab to the password; Enter submits.
    app.keyboard(&title, &["alice", "Tab", "pw", "Return"])
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The consent page focuses its Continue button.
    app.keyboard(&title, &["Return"]).await;

    // The redirect is caught, the window closes, and the account shows up by itself.
    app.wait_window("^Sign in to", false).await;
    app.text("Signed in to Test IdP as alice@example.test.")
        .await;
    app.find(
        "//*[contains(@class,'card')]//*[contains(normalize-space(), '1 account')]",
        "the provider's account count, updated through the event",
    )
    .await;
    app.button("Tokens").await.click().await.unwrap();
    app.text("alice@example.test").await;
    app.screenshot("signin-token-table").await;
    app.button("Activity").await.click().await.unwrap();
    app.text("signed in").await;
    app.close().await;

    let status = run(&session, &["vault", "status", "--json"], &[PASS], "");
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["tokens"], 1);
}

/// A provider that requires pushed authorization requests (RFC 9126), added in the form:
/// Discover fills the endpoint and turns pushing on, and the login window then opens the
/// provider's page from the pushed request's reference and signs in.
#[tokio::test(flavor = "current_thread")]
async fn a_provider_that_requires_pushed_requests_is_set_up_and_signed_in_from_the_window() {
    let idp = Idp::start_with(Options {
        require_par: true,
        ..Default::default()
    });
    let session = Session::without_keyring();
    let app = discovered_in_form(&session, &idp).await;
    app.wait_value(
        "Pushed authorization request endpoint",
        &format!("{}/request", idp.issuer),
    )
    .await;
    assert_eq!(app.value("Push the request first").await, "true");
    app.type_into("Name", "Pushed").await;
    app.type_into("Client ID", idp::BASIC.id).await;
    app.type_into("Client secret", idp::BASIC.secret.unwrap())
        .await;
    // Focused, the loopback port (typed as it was) brings the choice above it into view.
    app.type_into("Loopback port", "0").await;
    app.screenshot("signin-par-form").await;
    app.button("Save provider").await.click().await.unwrap();

    sign_in_in_window(
        &app,
        &idp,
        "Pushed",
        "carol",
        Some("signin-par-login-window"),
    )
    .await;
    app.text("Signed in to Pushed as carol@example.test.").await;
    app.close().await;
}

/// A private_key_jwt client with DPoP, set up in the form: the app generates the key on save,
/// the edit form shows its thumbprint and copies its public JWK (read back from the X
/// clipboard, as a paste into the provider's console would), the provider registers that key,
/// and the sign-in in the login window gives a token the table and the details mark as bound.
#[tokio::test(flavor = "current_thread")]
async fn a_private_key_jwt_provider_is_set_up_in_the_form_and_its_token_is_bound() {
    let idp = Idp::start();
    let session = Session::without_keyring();
    let app = discovered_in_form(&session, &idp).await;
    app.wait_value("Token endpoint", &format!("{}/token", idp.issuer))
        .await;
    app.type_into("Name", "Keyed").await;
    app.type_into("Client ID", "not-registered-yet").await;
    app.choose(
        "Client authentication",
        "Private key JWT (private_key_jwt: signed with a key only this app holds)",
    )
    .await;
    app.choose("Client key", "Generate a new ES256 key").await;
    app.choose(
        "Bind tokens to a key (DPoP)",
        "Yes (RFC 9449): a stolen token is useless without the key",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await; // the choice paints
    app.screenshot("keys-form-generate").await;
    app.type_into("Loopback port", "0").await;
    app.button("Save provider").await.click().await.unwrap();

    app.button("Edit").await.click().await.unwrap();
    app.click("Copy public JWK").await;
    app.text("Public JWK copied: paste it into the provider’s console.")
        .await;
    let copied = app.clipboard().await;
    let jwk: serde_json::Value = serde_json::from_str(&copied)
        .unwrap_or_else(|e| panic!("the clipboard holds a JWK ({e}): {copied:?}"));
    assert_eq!(jwk["kty"], "EC");
    assert!(jwk.get("d").is_none(), "only the public half: {jwk}");
    let shown = app
        .find("//*[contains(@class,'public-key')]//code", "the thumbprint")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(jwk["kid"], shown.as_str(), "the thumbprint is the key id");
    app.screenshot("keys-form-public-jwk").await;

    // The registration's HTTP client blocks: off the test's async thread.
    let client_id = std::thread::scope(|s| {
        s.spawn(|| {
            idp.register(serde_json::json!({
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": { "keys": [jwk] },
            }))
        })
        .join()
        .unwrap()
    });
    app.type_into("Client ID", &client_id).await;
    app.button("Save changes").await.click().await.unwrap();

    sign_in_in_window(&app, &idp, "Keyed", "dana", None).await;
    app.text("Signed in to Keyed as dana@example.test.").await;

    app.button("Tokens").await.click().await.unwrap();
    app.text("DPoP-bound").await;
    app.screenshot("keys-token-table-bound").await;
    app.row_action("Keyed", "dana@example.test", "Details")
        .await;
    app.text("Bound to").await;
    app.screenshot("keys-token-details-bound").await;
    app.close().await;
}

/// Plugin commands the app's plugins and Tauri's core offer to windows that are granted them.
const PLUGIN_COMMANDS: &[&str] = &[
    "plugin:clipboard-manager|read_text",
    "plugin:clipboard-manager|write_text",
    "plugin:opener|open_url",
    "plugin:opener|open_path",
    "plugin:opener|reveal_item_in_dir",
    "plugin:window-state|save_window_state",
    "plugin:window-state|restore_state",
    "plugin:window-state|filename",
    "plugin:window|close",
    "plugin:window|set_title",
    "plugin:window|get_all_windows",
    "plugin:webview|create_webview_window",
    "plugin:webview|get_all_webviews",
    "plugin:event|emit",
    "plugin:event|listen",
    "plugin:app|version",
    "plugin:path|resolve_directory",
    "plugin:menu|new",
    "plugin:tray|new",
];

/// The provider's page is hostile: a canned page that tries every app and plugin command
/// through `window.__TAURI_INTERNALS__`, fetches the IPC endpoints itself (`ipc://localhost/`
/// and `http://ipc.localhost/`) with made-up headers, posts raw IPC messages, and reports what
/// happened. (A real provider cannot be made to serve this page; the canned one is the
/// attacker.) The command that would show success is `add_provider` of "Injected".
#[tokio::test(flavor = "current_thread")]
async fn a_page_in_the_login_window_cannot_call_the_app() {
    let injected = serde_json::json!({
        "name": "Injected", "client_id": "x", "token_url": "https://evil.example/token",
        "client_secret": "y",
    });
    let page = format!(
        r#"<!doctype html><title>Evil login</title><p>Signing you in…</p><script>
        const commands = {commands};
        const injected = {injected};
        const args = {{ name: 'x', id: 1, input: injected, passphrase: 'x', url: 'https://evil.example',
                        path: '/etc/passwd', text: 'x', label: 'x', event: 'x', handler: 1 }};
        (async () => {{
          const results = {{}};
          const ipc = window.__TAURI_INTERNALS__;
          if (!ipc) {{ results.ipc = 'absent'; }} else {{
            for (const c of commands) {{
              try {{ await ipc.invoke(c, args); results[c] = 'allowed'; }}
              catch (e) {{ results[c] = 'refused: ' + String(e); }}
            }}
          }}
          for (const base of ['ipc://localhost/', 'http://ipc.localhost/']) {{
            for (const c of ['add_provider', 'list_providers', 'plugin:clipboard-manager|read_text']) {{
              const key = 'fetch ' + base + c;
              try {{
                const r = await fetch(base + encodeURIComponent(c), {{
                  method: 'POST', body: JSON.stringify(args),
                  headers: {{ 'Content-Type': 'application/json', 'Tauri-Callback': '1',
                             'Tauri-Error': '2', 'Tauri-Invoke-Key': 'guessed' }} }});
                const body = await r.text();
                results[key] = (r.ok ? 'allowed: ' : 'refused: HTTP ' + r.status + ' ') + body.slice(0, 200);
              }} catch (e) {{ results[key] = 'refused: ' + String(e); }}
            }}
          }}
          const raw = JSON.stringify({{ cmd: 'add_provider', callback: 1, error: 2, payload: args,
                                        options: {{}}, invokeKey: 'guessed' }});
          try {{ window.ipc.postMessage(raw); results.postMessage = 'sent'; }}
          catch (e) {{ results.postMessage = 'refused: ' + String(e); }}
          try {{ window.webkit.messageHandlers.ipc.postMessage(raw); results.messageHandler = 'sent'; }}
          catch (e) {{ results.messageHandler = 'refused: ' + String(e); }}
          await new Promise(r => setTimeout(r, 1500));
          await fetch('/report', {{ method: 'POST', body: JSON.stringify(results) }});
        }})();
        </script>"#,
        commands = serde_json::json!(commands()
            .into_iter()
            .chain(PLUGIN_COMMANDS.iter().map(|c| c.to_string()))
            .collect::<Vec<_>>())
    );
    let evil = CannedServer::start(vec![
        ("/login".into(), Canned::with_type("text/html", page)),
        ("/report".into(), Canned::json("{}")),
    ]);
    let session = Session::without_keyring();
    let auth = format!("{}/login", evil.base);
    let token = format!("{}/token", evil.base);
    let add = [
        "provider",
        "add",
        "Evil",
        "--auth-url",
        &auth,
        "--token-url",
        &token,
        "--client-id",
        "x",
    ];
    assert_eq!(run(&session, &add, &[PASS], "").status.code(), Some(0));

    let app = unlocked_app(&session).await;
    app.button("Sign in").await.click().await.unwrap();
    app.button("Start sign-in").await.click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let report = loop {
        if let Some(body) = evil.received("/report").pop() {
            break serde_json::from_slice::<serde_json::Value>(&body).unwrap();
        }
        assert!(Instant::now() < deadline, "the page never reported");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!("what the hostile page got: {report:#}");
    if report.get("ipc").is_none() {
        for c in commands()
            .into_iter()
            .chain(PLUGIN_COMMANDS.iter().map(|c| c.to_string()))
        {
            let r = report[&c]
                .as_str()
                .unwrap_or_else(|| panic!("no result for {c}: {report}"));
            assert!(
                r.starts_with("refused") && r.contains("not allowed"),
                "{c} from the login window: {r}"
            );
        }
    }
    for (attempt, r) in report.as_object().unwrap() {
        let r = r.as_str().unwrap_or_default();
        if attempt.starts_with("fetch ") {
            assert!(r.starts_with("refused"), "{attempt}: {r}");
        }
    }
    // The main window still works, and nothing was changed by the page.
    app.button("Cancel sign-in").await.click().await.unwrap();
    app.wait_window("^Sign in to", false).await;
    app.text("Evil").await;
    app.close().await;
    let list = run(&session, &["provider", "list", "--json"], &[PASS], "");
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(
        v.as_array().unwrap().len(),
        1,
        "the page removed or added nothing (no raw message, fetch or invoke got through)"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn closing_the_login_window_cancels_the_sign_in() {
    let idp = Idp::start();
    let session = Session::without_keyring();
    add_provider(&session, &[PASS], &idp, "Public IdP", &idp::PUBLIC);
    let app = unlocked_app(&session).await;
    app.button("Sign in").await.click().await.unwrap();
    app.button("Start sign-in").await.click().await.unwrap();
    app.wait_window("^Sign in to Public IdP", true).await;
    // As a person would: once the provider's page is there.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.close_window_until_gone("^Sign in to Public IdP").await;
    // The dialog goes away, the failure is logged as a cancel, and nothing is stored.
    app.text_gone("Sign in in the login window. It closes by itself when you are done.")
        .await;
    app.button("Activity").await.click().await.unwrap();
    app.text("sign-in failed").await;
    app.close().await;
    let status = run(&session, &["vault", "status", "--json"], &[PASS], "");
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["tokens"], 0);
}

/// A fake `xdg-open` first on the app's PATH stands in for the system browser (the machine has
/// none): it writes the URL it was given where the test reads it, and the test's user then
/// plays the browser's part against the real provider.
fn fake_browser() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let opened = dir.path().join("opened-url");
    let script = dir.path().join("xdg-open");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", opened.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (dir, opened)
}

async fn wait_file(path: &std::path::Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(s) = std::fs::read_to_string(path) {
            if !s.is_empty() {
                return s;
            }
        }
        assert!(Instant::now() < deadline, "the browser was never opened");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn open_in_browser_instead_finishes_through_the_loopback_redirect() {
    let idp = Idp::start();
    let session = Session::without_keyring();
    add_provider(&session, &[PASS], &idp, "Test IdP", &idp::PUBLIC);
    let (bin, opened) = fake_browser();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    let app = App::launch(&session, &[("PATH", &path)]).await;
    app.text("Unlock the vault").await;
    app.enter_passphrase(PASSPHRASE).await;
    app.button("Sign in").await.click().await.unwrap();
    app.button("Start sign-in").await.click().await.unwrap();
    app.wait_window("^Sign in to Test IdP", true).await;
    app.button("Open in browser instead")
        .await
        .click()
        .await
        .unwrap();
    app.wait_window("^Sign in to Test IdP", false).await;
    app.text("Sign in in your browser; this dialog closes when you are done.")
        .await;
    let url = wait_file(&opened).await;
    let (status, page) = tokio::task::spawn_blocking(move || {
        oauth_desk_tests::user::User::new("frank").sign_in(&url)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(status, 200, "{page}");
    app.text("Signed in to Test IdP as frank@example.test.")
        .await;
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_device_flow_shows_the_code_and_finishes_when_approved() {
    let idp = Idp::start();
    let session = Session::without_keyring();
    add_provider(&session, &[PASS], &idp, "Test IdP", &idp::BASIC);
    let app = App::launch(&session, &[]).await;
    app.text("Unlock the vault").await;
    app.enter_passphrase(PASSPHRASE).await;
    app.button("Sign in").await.click().await.unwrap();
    app.field("How").await.click().await.unwrap();
    app.find(
        "//select[@id='signin-method']/option[normalize-space()='With a device code']",
        "the device option",
    )
    .await
    .click()
    .await
    .unwrap();
    app.button("Start sign-in").await.click().await.unwrap();
    let code = app
        .find("//*[contains(@class,'user-code')]", "the user code")
        .await
        .text()
        .await
        .unwrap();
    let uri = app
        .find(
            "//dialog//*[contains(@class,'mono')]",
            "the verification URI",
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(uri.starts_with(&idp.issuer), "{uri}");
    app.screenshot("signin-device-code").await;
    // The user's part runs off the test's async thread (it uses a blocking HTTP client).
    tokio::task::spawn_blocking(move || {
        oauth_desk_tests::user::User::new("grace").confirm_device(&uri, &code)
    })
    .await
    .unwrap()
    .unwrap();
    app.text("Signed in to Test IdP as grace@example.test.")
        .await;
    app.wait_window("^Sign in to Test IdP", false).await;
    app.close().await;
}
