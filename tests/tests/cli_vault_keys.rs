//! Key management and backups from the command line, with a real Secret Service keyring:
//! switching between keyring and passphrase, changing the passphrase, rotating the key (each
//! killed at random moments), encrypted backups restored on "another machine" (a second
//! session), and every bad backup refused with the vault left as it was.

use std::process::{Command, Stdio};
use std::time::Duration;

use oauth_desk_tests::bins;
use oauth_desk_tests::cli::{add_provider_by_hand, run, sha, stderr, stdout};
use oauth_desk_tests::session::Session;

fn add_provider(s: &Session, name: &str, env: &[(&str, &str)]) {
    add_provider_by_hand(s, env, name, &[], "");
}

fn providers(s: &Session, env: &[(&str, &str)]) -> Result<Vec<String>, String> {
    let out = run(s, &["provider", "list", "--json"], env, "");
    if out.status.code() != Some(0) {
        return Err(stderr(&out));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Ok(v.as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect())
}

fn key_mode(s: &Session, env: &[(&str, &str)]) -> String {
    let out = run(s, &["vault", "status", "--json"], env, "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["key_mode"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// How many vault keys the session's keyring holds.
fn keyring_items(s: &Session) -> usize {
    let mut lookup = Command::new("secret-tool");
    s.apply(&mut lookup);
    let found = lookup
        .args(["search", "--all", "service", "oauth-desk"])
        .output()
        .expect("secret-tool runs");
    let listing = String::from_utf8_lossy(&found.stdout) + String::from_utf8_lossy(&found.stderr);
    listing.matches("attribute.service = oauth-desk").count()
}

#[test]
fn keyring_to_passphrase_to_a_new_passphrase_to_keyring_and_a_rotation() {
    let s = Session::with_keyring();
    add_provider(&s, "kept", &[]);
    assert_eq!(keyring_items(&s), 1);

    let out = run(
        &s,
        &["vault", "passphrase"],
        &[("OAUTH_DESK_NEW_PASSPHRASE", "first passphrase")],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("new passphrase only"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        keyring_items(&s),
        0,
        "the keyring no longer holds a key for it"
    );
    let first = [("OAUTH_DESK_PASSPHRASE", "first passphrase")];
    assert_eq!(key_mode(&s, &first), "passphrase");
    assert_eq!(providers(&s, &first).unwrap(), vec!["kept"]);
    let err = providers(&s, &[]).unwrap_err();
    assert!(err.contains("no key for the vault"), "{err}");

    // Scripts give the current passphrase, then the new one, on standard input.
    let out = run(
        &s,
        &["vault", "passphrase", "--passphrase-stdin"],
        &[],
        "first passphrase\nsecond passphrase\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let second = [("OAUTH_DESK_PASSPHRASE", "second passphrase")];
    assert!(providers(&s, &first).unwrap_err().contains("does not open"));
    assert_eq!(providers(&s, &second).unwrap(), vec!["kept"]);

    let out = run(&s, &["vault", "rotate-key"], &second, "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        providers(&s, &second).unwrap(),
        vec!["kept"],
        "same passphrase, new salt"
    );

    let out = run(&s, &["vault", "use-keyring"], &second, "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(keyring_items(&s), 1);
    assert_eq!(key_mode(&s, &[]), "keyring");
    assert!(providers(&s, &second)
        .unwrap_err()
        .contains("does not open"));

    let before = sha(&s.default_vault());
    let out = run(&s, &["vault", "rotate-key"], &[], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_ne!(
        sha(&s.default_vault()),
        before,
        "every page is encrypted anew"
    );
    assert_eq!(keyring_items(&s), 1, "the old key left the keyring");
    assert_eq!(providers(&s, &[]).unwrap(), vec!["kept"]);

    // Mistakes change nothing.
    let before = sha(&s.default_vault());
    let short = run(
        &s,
        &["vault", "passphrase"],
        &[("OAUTH_DESK_NEW_PASSPHRASE", "short")],
        "",
    );
    assert_eq!(short.status.code(), Some(1));
    assert!(stderr(&short).contains("at least 8"), "{}", stderr(&short));
    let none = run(&s, &["vault", "passphrase"], &[], "");
    assert_eq!(none.status.code(), Some(1));
    assert!(
        stderr(&none).contains("no new passphrase"),
        "{}",
        stderr(&none)
    );
    assert_eq!(sha(&s.default_vault()), before);
    let out = run(&s, &["vault", "check"], &[], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_key_change_is_refused_while_another_process_has_the_vault_open() {
    let s = Session::without_keyring();
    let pass = [("OAUTH_DESK_PASSPHRASE", "the passphrase")];
    add_provider(&s, "p", &pass);
    let mut serve = oauth_desk_tests::cli::Running::start(&s, &["serve", "--port", "0"], &pass);
    assert!(serve.line().starts_with("listening on"));
    let before = sha(&s.default_vault());
    let out = run(
        &s,
        &["vault", "passphrase"],
        &[
            ("OAUTH_DESK_PASSPHRASE", "the passphrase"),
            ("OAUTH_DESK_NEW_PASSPHRASE", "another passphrase"),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("another OAuth Desk process has the vault"),
        "{}",
        stderr(&out)
    );
    assert_eq!(sha(&s.default_vault()), before, "nothing was changed");
    drop(serve);
    assert_eq!(providers(&s, &pass).unwrap(), vec!["p"]);
}

#[test]
fn a_backup_restores_on_another_machine_and_asks_before_replacing() {
    let a = Session::with_keyring();
    add_provider(&a, "from-a", &[]);
    let file = a.home().join("backup.odb");
    let file_arg = file.to_str().unwrap();
    let bp = [("OAUTH_DESK_BACKUP_PASSPHRASE", "backup passphrase")];
    let out = run(&a, &["vault", "backup", file_arg], &bp, "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("1 provider, 0 tokens"),
        "{}",
        stdout(&out)
    );
    let bytes = std::fs::read(&file).unwrap();
    assert!(!bytes.windows(15).any(|w| w == b"SQLite format 3"));
    assert!(
        !bytes.windows(6).any(|w| w == b"from-a"),
        "nothing readable in it"
    );
    let again = run(&a, &["vault", "backup", file_arg], &bp, "");
    assert_eq!(
        again.status.code(),
        Some(1),
        "an existing file is not overwritten"
    );

    // Another machine, with a vault of its own.
    let b = Session::with_keyring();
    add_provider(&b, "was-on-b", &[]);
    let before = sha(&b.default_vault());

    let wrong = run(
        &b,
        &["vault", "restore", file_arg, "--yes"],
        &[("OAUTH_DESK_BACKUP_PASSPHRASE", "not it at all")],
        "",
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        stderr(&wrong).contains("passphrase does not open it"),
        "{}",
        stderr(&wrong)
    );
    assert_eq!(sha(&b.default_vault()), before);

    for (what, damaged) in [
        ("truncated", bytes[..bytes.len() - 4096].to_vec()),
        ("altered", {
            let mut t = bytes.clone();
            let mid = t.len() / 2;
            t[mid] ^= 0x40;
            t
        }),
        ("empty", Vec::new()),
    ] {
        let f = b.home().join(format!("{what}.odb"));
        std::fs::write(&f, &damaged).unwrap();
        let out = run(
            &b,
            &["vault", "restore", f.to_str().unwrap(), "--yes"],
            &bp,
            "",
        );
        assert_eq!(out.status.code(), Some(1), "{what}");
        assert!(
            stderr(&out).contains("cannot restore"),
            "{what}: {}",
            stderr(&out)
        );
        assert_eq!(
            sha(&b.default_vault()),
            before,
            "{what}: the vault is unchanged"
        );
    }

    // In a script, replacing a vault that holds something needs --yes.
    let no_yes = run(&b, &["vault", "restore", file_arg], &bp, "");
    assert_eq!(no_yes.status.code(), Some(1));
    assert!(
        stdout(&no_yes).contains("from-a"),
        "it shows what the backup holds first"
    );
    assert!(stderr(&no_yes).contains("--yes"), "{}", stderr(&no_yes));
    assert_eq!(sha(&b.default_vault()), before);

    let out = run(&b, &["vault", "restore", file_arg, "--yes"], &bp, "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("before-restore"), "{}", stdout(&out));
    assert_eq!(providers(&b, &[]).unwrap(), vec!["from-a"]);
    assert_eq!(
        std::fs::read(&file).unwrap(),
        bytes,
        "the backup itself is never written"
    );

    // A third machine with no vault yet gets one holding the backup.
    let c = Session::without_keyring();
    let out = run(
        &c,
        &["vault", "restore", file_arg],
        &[
            ("OAUTH_DESK_BACKUP_PASSPHRASE", "backup passphrase"),
            ("OAUTH_DESK_PASSPHRASE", "machine c passphrase"),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        providers(&c, &[("OAUTH_DESK_PASSPHRASE", "machine c passphrase")]).unwrap(),
        vec!["from-a"]
    );
}

/// How many kills the crash test makes; `OAUTH_DESK_CRASH_RUNS=200 cargo test -p
/// oauth-desk-tests --test cli_vault_keys -- killed` is the full run.
fn crash_runs() -> usize {
    std::env::var("OAUTH_DESK_CRASH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

/// A passphrase change or a key rotation killed at any moment leaves a vault that the old or
/// the new passphrase opens, that checks clean, and that still holds its provider.
#[test]
fn key_changes_killed_at_random_moments_leave_the_old_or_the_new_key_working() {
    let s = Session::without_keyring();
    let mut current = "passphrase number 0".to_string();
    add_provider(&s, "kept", &[("OAUTH_DESK_PASSPHRASE", &current)]);
    let (mut old_kept, mut new_won) = (0, 0);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for run_no in 1..=crash_runs() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Argon2 takes ~0.3 s in a debug build and runs twice (open, then the new key); the
        // kill lands anywhere from before the first to after the rename.
        let delay = Duration::from_millis(seed % 1200);
        let next = format!("passphrase number {run_no}");
        let rotate = run_no % 3 == 0;
        let mut cmd = bins::cli();
        s.apply(&mut cmd);
        cmd.args(["vault", if rotate { "rotate-key" } else { "passphrase" }])
            .env("OAUTH_DESK_PASSPHRASE", &current)
            .env("OAUTH_DESK_NEW_PASSPHRASE", &next)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();

        let candidates = if rotate {
            vec![current.clone()]
        } else {
            vec![current.clone(), next.clone()]
        };
        let opened: Vec<&String> = candidates
            .iter()
            .filter(|p| {
                providers(&s, &[("OAUTH_DESK_PASSPHRASE", p)]).is_ok_and(|names| {
                    assert_eq!(names, vec!["kept"], "run {run_no}: the provider survived");
                    true
                })
            })
            .collect();
        assert_eq!(
            opened.len(),
            1,
            "run {run_no} (killed after {delay:?}): exactly one of the passphrases opens the vault"
        );
        if *opened[0] == current {
            old_kept += 1;
        } else {
            new_won += 1;
        }
        current = opened[0].clone();
        let check = run(
            &s,
            &["vault", "check"],
            &[("OAUTH_DESK_PASSPHRASE", &current)],
            "",
        );
        assert_eq!(
            check.status.code(),
            Some(0),
            "run {run_no}: {}",
            stderr(&check)
        );
    }
    eprintln!(
        "{} kills: {old_kept} left the old key, {new_won} the new one",
        crash_runs()
    );
    assert!(
        crash_runs() < 100 || (old_kept > 0 && new_won > 0),
        "the kills landed both before and after the switch ({old_kept} / {new_won})"
    );
}
