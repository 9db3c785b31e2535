//! The command line itself: odd arguments, escape sequences, standard input that is not a
//! terminal, a wrong or missing passphrase.

use std::os::unix::ffi::OsStrExt;
use std::process::Stdio;

use oauth_desk_tests::bins;
use oauth_desk_tests::cli::stderr;

use crate::common::*;

/// Runs `args` in a desk with one provider; the result must be `refused(exit, code, says)`
/// with the vault unchanged.
fn cli(
    name: &str,
    args: &'static [&'static str],
    stdin: &'static str,
    env: &'static [(&'static str, &'static str)],
    exit: i32,
    code: &'static str,
    says: &'static str,
) -> Case {
    case(
        "cli",
        name.to_owned(),
        format!("exit {exit} {code}: \"{says}\"; vault unchanged"),
        move || {
            let d = Desk::with_existing()?;
            let before = d.snapshot();
            let out = oauth_desk_tests::cli::run(&d.s, args, env, stdin);
            let seen = refused(&out, exit, code, says)?;
            before.same(&d.snapshot())?;
            Ok(seen)
        },
    )
}

const PASS_ENV: &[(&str, &str)] = &[PASS];

pub fn cases() -> Vec<Case> {
    let mut cases = vec![
        cli(
            "unknown flag",
            &["provider", "list", "--frobnicate"],
            "",
            PASS_ENV,
            2,
            "",
            "--frobnicate",
        ),
        cli(
            "unknown command",
            &["frobnicate"],
            "",
            PASS_ENV,
            2,
            "",
            "frobnicate",
        ),
        cli(
            "missing argument",
            &["token", "get"],
            "",
            PASS_ENV,
            2,
            "",
            "NAME",
        ),
        cli(
            "name with an escape sequence (terminal title)",
            &["provider", "show", "\u{1b}]0;pwned\u{7}", "--json"],
            "",
            PASS_ENV,
            1,
            "not_found",
            "U+001B",
        ),
        cli(
            "unknown provider for token get",
            &["token", "get", "Nope"],
            "",
            PASS_ENV,
            1,
            "",
            "Nope",
        ),
        cli(
            "wrong passphrase",
            &["provider", "list", "--json"],
            "",
            &[("OAUTH_DESK_PASSPHRASE", "not the passphrase")],
            1,
            "wrong_key",
            "passphrase",
        ),
        cli(
            "no passphrase and stdin not a terminal",
            &["provider", "list", "--json"],
            "",
            &[],
            1,
            "vault_locked",
            "OAUTH_DESK_PASSPHRASE",
        ),
        cli(
            "--passphrase-stdin with empty stdin",
            &["--passphrase-stdin", "provider", "list", "--json"],
            "",
            &[],
            1,
            "",
            "passphrase",
        ),
        cli(
            "proxy password on the command line",
            &["settings", "set", "proxy-password", "hunter2-on-argv"],
            "",
            PASS_ENV,
            1,
            "",
            "proxy-password",
        ),
        cli(
            "setting out of range",
            &["settings", "set", "refresh-window", "-5"],
            "",
            PASS_ENV,
            1,
            "",
            "refresh",
        ),
        cli(
            "unknown setting",
            &["settings", "set", "colour-scheme", "pink"],
            "",
            PASS_ENV,
            1,
            "",
            "colour-scheme",
        ),
        cli(
            "token import of text that is not JSON",
            &["token", "import", "Existing", "--account", "a", "--json"],
            "access_token=x",
            PASS_ENV,
            1,
            "invalid_input",
            "JSON",
        ),
        cli(
            "token import without access_token",
            &["token", "import", "Existing", "--account", "a", "--json"],
            "{\"refresh_token\":\"r\"}",
            PASS_ENV,
            1,
            "invalid_input",
            "access_token",
        ),
        cli(
            "token import with an account of control characters",
            &[
                "token",
                "import",
                "Existing",
                "--account",
                "a\u{7}b",
                "--json",
            ],
            "{\"access_token\":\"t\"}",
            PASS_ENV,
            1,
            "invalid_input",
            "control character",
        ),
    ];
    cases.push(case(
        "cli",
        "argument that is not UTF-8",
        "exit 2, says which argument; vault unchanged",
        || {
            let d = Desk::with_existing()?;
            let before = d.snapshot();
            let mut cmd = bins::cli();
            d.s.apply(&mut cmd);
            let out = cmd
                .env(PASS.0, PASS.1)
                .args(["provider", "show"])
                .arg(std::ffi::OsStr::from_bytes(b"caf\xe9"))
                .stdin(Stdio::null())
                .output()
                .map_err(|e| e.to_string())?;
            let seen = refused(&out, 2, "", "UTF-8")?;
            before.same(&d.snapshot())?;
            Ok(seen)
        },
    ));
    cases.push(case(
        "cli",
        "argument of 100 KB",
        "refused on name; vault unchanged",
        || {
            let d = Desk::with_existing()?;
            let before = d.snapshot();
            let big = "x".repeat(100_000);
            let out = d.add_json(&big);
            let seen = field_refused(&out, "name", "8 KB")?;
            before.same(&d.snapshot())?;
            Ok(seen)
        },
    ));
    cases.push(case(
        "cli",
        "--vault pointing to a directory",
        "clear error naming the path; nothing created",
        || {
            let d = Desk::new();
            let dir = d.s.home().join("a-directory");
            std::fs::create_dir_all(&dir).unwrap();
            let out = d.run(
                &[
                    "--vault",
                    dir.to_str().unwrap(),
                    "provider",
                    "list",
                    "--json",
                ],
                "",
            );
            let seen = refused(&out, 1, "", "a-directory")?;
            let entries = std::fs::read_dir(&dir).unwrap().count();
            ensure(entries == 0, || {
                format!("{entries} file(s) created in the directory")
            })?;
            Ok(seen)
        },
    ));
    cases.push(case(
        "cli",
        "stdout closed early (token list | head -0)",
        "no panic message; exit quietly",
        || {
            let d = Desk::with_existing()?;
            let mut cmd = bins::cli();
            d.s.apply(&mut cmd);
            let mut child = cmd
                .env(PASS.0, PASS.1)
                .args(["provider", "list"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| e.to_string())?;
            drop(child.stdout.take());
            let out = child.wait_with_output().map_err(|e| e.to_string())?;
            let err = stderr(&out);
            ensure(!err.contains("panicked"), || {
                format!("it panicked: {}", short(&err))
            })?;
            Ok(format!(
                "exit {:?}, stderr {:?}",
                out.status.code(),
                short(&err)
            ))
        },
    ));
    cases
}
