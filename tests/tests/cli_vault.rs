//! The `oauth-desk` command and the vault, with a real Secret Service keyring (gnome-keyring on
//! a private D-Bus), with no D-Bus at all, and with passphrases.

use std::process::Command;
use std::time::{Duration, Instant};

use oauth_desk_tests::bins;
use oauth_desk_tests::cli::{error_code, json, run, sha, stderr, stdout};
use oauth_desk_tests::session::Session;

#[test]
fn help_version_and_usage_errors_follow_the_contract() {
    let s = Session::without_keyring();
    let help = run(&s, &["--help"], &[], "");
    assert_eq!(help.status.code(), Some(0));
    assert!(
        stdout(&help).contains("vault"),
        "help lists the vault commands: {}",
        stdout(&help)
    );
    assert!(
        stdout(&help).contains("Exit codes"),
        "help states the exit codes"
    );
    let version = run(&s, &["--version"], &[], "");
    assert_eq!(
        stdout(&version).trim(),
        format!("oauth-desk {}", env!("CARGO_PKG_VERSION"))
    );
    let bad = run(&s, &["vault", "no-such-command"], &[], "");
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a usage error exits 2: {}",
        stderr(&bad)
    );
}

#[test]
fn the_cli_links_no_gui_library() {
    for cli in [bins::cli_path(), bins::full_cli_path()] {
        let out = Command::new("ldd").arg(&cli).output().expect("ldd runs");
        let libs = String::from_utf8_lossy(&out.stdout);
        for gui in ["webkit", "gtk", "gdk", "javascriptcore", "soup"] {
            assert!(
                !libs.to_lowercase().contains(gui),
                "{} must not link {gui}:\n{libs}",
                cli.display()
            );
        }
    }
    // The front command (what scripts call for a token) links nothing but the C library.
    let front = Command::new("ldd").arg(bins::cli_path()).output().unwrap();
    let front = String::from_utf8_lossy(&front.stdout);
    assert!(
        !front.contains("libssl") && !front.contains("libcrypto"),
        "{front}"
    );
    let gui = Command::new("ldd").arg(bins::gui_path()).output().unwrap();
    assert!(
        String::from_utf8_lossy(&gui.stdout).contains("webkit2gtk"),
        "the window binary is the one with WebKit"
    );
}

#[test]
fn status_of_a_missing_vault_creates_nothing() {
    let s = Session::with_keyring();
    let out = run(&s, &["vault", "status", "--json"], &[], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["exists"], false);
    assert_eq!(
        v["path"],
        s.default_vault().display().to_string(),
        "the default vault sits under XDG_DATA_HOME"
    );
    assert!(
        !s.default_vault().exists(),
        "status must not create a vault"
    );
}

#[test]
fn with_a_real_keyring_the_key_lives_in_the_keyring_and_the_file_is_encrypted() {
    let s = Session::with_keyring();
    let init = run(&s, &["vault", "init"], &[], "");
    assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
    assert!(stdout(&init).contains("keyring mode"), "{}", stdout(&init));

    let out = run(&s, &["vault", "status", "--json"], &[], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["key_mode"], "keyring");
    assert_eq!(
        v["schema_version"],
        oauth_desk_core::vault::migrate::latest_version()
    );
    assert_eq!(v["activity"], 1);
    let text = run(&s, &["vault", "status"], &[], "");
    assert!(
        stdout(&text).contains("OS keyring"),
        "the text status says the mode: {}",
        stdout(&text)
    );

    let bytes = std::fs::read(s.default_vault()).unwrap();
    assert!(
        !bytes.windows(15).any(|w| w == b"SQLite format 3"),
        "the vault file must be encrypted"
    );

    // The key is in the Secret Service: a look-up by our service name finds exactly one item.
    let mut lookup = Command::new("secret-tool");
    s.apply(&mut lookup);
    let found = lookup
        .args(["search", "--all", "service", "oauth-desk"])
        .output()
        .expect("secret-tool runs (apt libsecret-tools)");
    let listing = String::from_utf8_lossy(&found.stdout) + String::from_utf8_lossy(&found.stderr);
    assert_eq!(
        listing.matches("attribute.service = oauth-desk").count(),
        1,
        "the keyring holds the vault key: {listing}"
    );

    let again = run(&s, &["vault", "init"], &[], "");
    assert_eq!(
        again.status.code(),
        Some(1),
        "init over an existing vault is refused"
    );
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn a_keyring_without_the_vaults_key_says_so_and_changes_nothing() {
    let a = Session::with_keyring();
    assert!(run(&a, &["vault", "init"], &[], "").status.success());
    // The same vault file, seen from another session whose keyring never held its key.
    let b = Session::with_keyring();
    let path = a.default_vault();
    let before = sha(&path);
    let listing = || {
        let mut names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    let files_before = listing();
    let out = run(
        &b,
        &[
            "--vault",
            path.to_str().unwrap(),
            "vault",
            "status",
            "--json",
        ],
        &[],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(error_code(&out), "key_missing", "{}", stderr(&out));
    assert_eq!(sha(&path), before, "the vault must be left as it was");
    assert_eq!(
        listing(),
        files_before,
        "no new vault or key file may appear"
    );
}

#[test]
fn without_dbus_the_vault_uses_a_passphrase_and_says_so() {
    let s = Session::without_keyring();
    let started = Instant::now();
    let locked = run(&s, &["vault", "init"], &[], "");
    assert_eq!(locked.status.code(), Some(1));
    assert!(
        stderr(&locked).contains("needs a passphrase"),
        "{}",
        stderr(&locked)
    );
    assert!(!s.default_vault().exists(), "no vault without a key");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "no keyring must not mean a long wait"
    );

    let pass = [("OAUTH_DESK_PASSPHRASE", "a passphrase for tests")];
    let init = run(&s, &["vault", "init"], &pass, "");
    assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
    assert!(stdout(&init).contains("passphrase mode"));

    let status = run(&s, &["vault", "status", "--json"], &pass, "");
    assert_eq!(json(&status)["key_mode"], "passphrase");
    let stdin_status = run(
        &s,
        &["--passphrase-stdin", "vault", "status"],
        &[],
        "a passphrase for tests\n",
    );
    assert!(
        stdout(&stdin_status).contains("passphrase (Argon2id)"),
        "{}",
        stderr(&stdin_status)
    );

    let before = sha(&s.default_vault());
    let wrong = run(
        &s,
        &["vault", "status", "--json"],
        &[("OAUTH_DESK_PASSPHRASE", "not it")],
        "",
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert_eq!(error_code(&wrong), "wrong_key");
    assert!(
        !stderr(&wrong).contains("not it"),
        "the passphrase must not be echoed"
    );
    let locked = run(&s, &["vault", "status", "--json"], &[], "");
    assert_eq!(error_code(&locked), "vault_locked");
    assert_eq!(sha(&s.default_vault()), before);
}

#[test]
fn damaged_and_foreign_files_each_get_their_own_error() {
    let s = Session::without_keyring();
    let pass = [("OAUTH_DESK_PASSPHRASE", "a passphrase")];
    assert!(run(&s, &["vault", "init"], &pass, "").status.success());
    let good = std::fs::read(s.default_vault()).unwrap();
    let dir = s.home().join("cases");
    std::fs::create_dir_all(&dir).unwrap();

    let plain = dir.join("plain.db");
    let mut sqlite_header = b"SQLite format 3\0".to_vec();
    sqlite_header.resize(4096, 0);
    std::fs::write(&plain, &sqlite_header).unwrap();
    let truncated = dir.join("truncated.db");
    std::fs::write(&truncated, &good[..good.len() - 4096]).unwrap();
    let empty = dir.join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let damaged = dir.join("damaged.db");
    let mut bytes = good.clone();
    bytes[100] ^= 0xff;
    std::fs::write(&damaged, &bytes).unwrap();

    for (path, code) in [
        (&plain, "vault_not_encrypted"),
        (&truncated, "vault_truncated"),
        (&empty, "vault_truncated"),
        (&damaged, "vault_corrupt"),
    ] {
        let before = sha(path);
        let out = run(
            &s,
            &[
                "--vault",
                path.to_str().unwrap(),
                "vault",
                "status",
                "--json",
            ],
            &pass,
            "",
        );
        assert_eq!(out.status.code(), Some(1), "{}", path.display());
        assert_eq!(
            error_code(&out),
            code,
            "{}: {}",
            path.display(),
            stderr(&out)
        );
        assert_eq!(
            sha(path),
            before,
            "{} must be left as it was",
            path.display()
        );
    }
}

#[test]
fn a_new_passphrase_vault_needs_eight_characters_like_a_new_passphrase() {
    let s = Session::without_keyring();
    for args in [
        &["vault", "init"][..],
        &[
            "provider",
            "add",
            "x",
            "--client-id",
            "c",
            "--token-url",
            "https://idp.example/t",
        ],
    ] {
        let short = run(&s, args, &[("OAUTH_DESK_PASSPHRASE", "seven c")], "");
        assert_eq!(short.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&short).contains("at least 8 characters"),
            "{}",
            stderr(&short)
        );
        assert!(!s.default_vault().exists(), "{args:?} made no vault");
    }
    let eight = run(
        &s,
        &["vault", "init"],
        &[("OAUTH_DESK_PASSPHRASE", "eight ch")],
        "",
    );
    assert_eq!(eight.status.code(), Some(0), "{}", stderr(&eight));
}

#[test]
fn the_vault_a_restore_replaced_is_named_and_can_be_removed() {
    let s = Session::without_keyring();
    let env = [
        ("OAUTH_DESK_PASSPHRASE", "a passphrase for tests"),
        ("OAUTH_DESK_BACKUP_PASSPHRASE", "the backup's passphrase"),
    ];
    let add = |name: &str| {
        oauth_desk_tests::cli::add_provider_by_hand(&s, &env, name, &["--client-auth", "none"], "")
    };
    add("in-backup");
    let file = s.home().join("desk.odb");
    let backup = run(&s, &["vault", "backup", file.to_str().unwrap()], &env, "");
    assert_eq!(backup.status.code(), Some(0), "{}", stderr(&backup));
    add("after-backup");

    let restore = run(
        &s,
        &["vault", "restore", file.to_str().unwrap(), "--yes"],
        &env,
        "",
    );
    assert_eq!(restore.status.code(), Some(0), "{}", stderr(&restore));
    let kept = s.default_vault().with_file_name("vault.db.before-restore");
    let said = stdout(&restore);
    assert!(
        said.contains(&kept.display().to_string())
            && said.contains("oauth-desk vault remove-before-restore"),
        "the result names the copy and how to remove it: {said}"
    );
    let status = json(&run(&s, &["vault", "status", "--json"], &env, ""));
    assert_eq!(status["before_restore"], kept.display().to_string());
    let text = stdout(&run(&s, &["vault", "status"], &env, ""));
    assert!(text.contains("remove-before-restore"), "{text}");

    // Without the vault's passphrase too: removing a file beside it needs no key.
    let removed = run(&s, &["vault", "remove-before-restore"], &[], "");
    assert_eq!(removed.status.code(), Some(0), "{}", stderr(&removed));
    assert!(stdout(&removed).contains("Removed"), "{}", stdout(&removed));
    assert!(!kept.exists(), "the copy is gone");
    let status = json(&run(&s, &["vault", "status", "--json"], &env, ""));
    assert!(status["before_restore"].is_null(), "{status}");
    let again = run(&s, &["vault", "remove-before-restore"], &[], "");
    assert_eq!(again.status.code(), Some(0));
    assert!(
        stdout(&again).contains("There is no copy"),
        "{}",
        stdout(&again)
    );
    // A link planted there is not followed: only the file a restore leaves is removed.
    let target = s.home().join("precious");
    std::fs::write(&target, "keep me").unwrap();
    std::os::unix::fs::symlink(&target, &kept).unwrap();
    let link = run(&s, &["vault", "remove-before-restore"], &[], "");
    assert_eq!(link.status.code(), Some(1), "{}", stdout(&link));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
}
