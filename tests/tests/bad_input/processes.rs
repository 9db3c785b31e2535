//! Trust-boundary cases (issue 16): processes. Another local user (uid 65534, run through
//! `setpriv`) plants the token agent's folder or socket, answers as a fake agent, or asks the
//! real one; a peer of our own sends or answers endless lines. Each time OAuth Desk talks to
//! nobody but its own user, says why, and still works without the agent. And the programs
//! OAuth Desk starts (the browser, the window) get none of the passphrases a script set.

use std::io::Write;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use oauth_desk_core::agent::{private, socket_name};
use oauth_desk_tests::bins;
use oauth_desk_tests::cli::{stderr, stdout, Running};
use oauth_desk_tests::other_user::{knock, nobodys_dir, shared_tmp, FakeAgent};

use crate::common::*;

const PLANTED: &str = "planted-token-of-another-user";

pub fn cases() -> Vec<Case> {
    vec![
        planted(
            "agent folder made by another user",
            "belongs to another user (uid 65534)",
            |_, dir, name| {
                nobodys_dir(dir, 0o700);
                FakeAgent::start(&dir.join(name), PLANTED)
            },
        ),
        planted(
            "agent folder anybody can open (0777)",
            "other users can open",
            |_, dir, name| {
                std::fs::create_dir(dir).unwrap();
                chmod(dir, 0o777);
                FakeAgent::start(&dir.join(name), PLANTED)
            },
        ),
        planted(
            "agent folder is a link to another user's",
            "is a symbolic link",
            |tmp, dir, name| {
                let theirs = tmp.join("theirs");
                nobodys_dir(&theirs, 0o700);
                std::os::unix::fs::symlink(&theirs, dir).unwrap();
                FakeAgent::start(&theirs.join(name), PLANTED)
            },
        ),
        case(
            "processes",
            "agent socket of another user in our own folder",
            "token get: \"runs as another user (uid 65534)\"; nothing sent to it",
            || {
                let d = Desk::with_existing()?;
                let tmp = shared_tmp();
                let theirs = tmp.path().join("theirs");
                nobodys_dir(&theirs, 0o700);
                let fake = FakeAgent::start(&theirs.join("x.agent"), PLANTED);
                // Our folder passes every check; only the peer's uid gives it away.
                let ours = own_socket_dir(&d);
                private::make_dir(&ours).map_err(|e| e.to_string())?;
                let at = ours.join(socket_name(&d.vault(), "agent"));
                std::fs::rename(theirs.join("x.agent"), &at).map_err(|e| e.to_string())?;
                let out = d.run(&["token", "get", "Existing"], "");
                not_served(&out, fake, "runs as another user (uid 65534)")
            },
        ),
        case(
            "processes",
            "another user asks the agent",
            "the connection is closed unanswered",
            || {
                let d = Desk::with_existing()?;
                let mut serve = Running::start(&d.s, &["serve", "--port", "0"], &[PASS]);
                let first = serve.line();
                ensure(first.starts_with("listening on"), || first.clone())?;
                // Moved where nobody can reach it: the agent's own folder keeps them out.
                let tmp = shared_tmp();
                let reachable = tmp.path().join("agent.sock");
                std::fs::rename(agent_socket(&d), &reachable).map_err(|e| e.to_string())?;
                chmod(&reachable, 0o777);
                let ask = r#"{"provider":"Existing","account":null,"min_valid":0}"#;
                let said = knock(&reachable, ask);
                drop(serve);
                ensure(said == "no answer\n", || {
                    format!("nobody was answered: {said}")
                })?;
                Ok("no answer".into())
            },
        ),
        case(
            "processes",
            "an endless request to the agent",
            "the agent stops reading and hangs up",
            || {
                let d = Desk::with_existing()?;
                let mut serve = Running::start(&d.s, &["serve", "--port", "0"], &[PASS]);
                let first = serve.line();
                ensure(first.starts_with("listening on"), || first.clone())?;
                let mut s = UnixStream::connect(agent_socket(&d)).map_err(|e| e.to_string())?;
                // An agent that stops reading but keeps the connection open must fail the case,
                // not hang it.
                s.set_write_timeout(Some(std::time::Duration::from_secs(30)))
                    .map_err(|e| e.to_string())?;
                // 64 MiB without a newline: far more than any socket buffer holds, so only an
                // agent that keeps reading (and holding) it lets the write finish.
                let chunk = vec![b'a'; 1 << 20];
                let sent = (0..64).try_for_each(|_| s.write_all(&chunk));
                drop(serve);
                match sent {
                    Err(e)
                        if e.kind() == std::io::ErrorKind::WouldBlock
                            || e.kind() == std::io::ErrorKind::TimedOut =>
                    {
                        Err("the agent stopped reading but never hung up".into())
                    }
                    Err(e) => Ok(format!("the write failed: {e}")),
                    Ok(()) => Err("the agent read 64 MiB of one request line".into()),
                }
            },
        ),
        case(
            "processes",
            "an endless answer from the agent",
            "token get stops reading, opens the vault itself",
            || {
                let d = Desk::with_existing()?;
                let ours = own_socket_dir(&d);
                private::make_dir(&ours).map_err(|e| e.to_string())?;
                let at = ours.join(socket_name(&d.vault(), "agent"));
                endless_agent(&at)?;
                let out = d.run(&["token", "get", "Existing"], "");
                let _ = std::fs::remove_file(&at);
                // Without the agent, the vault is opened: Existing has no token yet.
                refused(&out, 3, "", "has no signed-in account")
            },
        ),
        case(
            "processes",
            "serve with an agent folder made by another user",
            "serve runs, says why the agent is off, binds nothing there",
            || {
                let d = Desk::with_existing()?;
                let tmp = shared_tmp();
                let dir = fallback_dir(&tmp);
                nobodys_dir(&dir, 0o755);
                let tmp_text = tmp.path().display().to_string();
                let env = [PASS, ("XDG_RUNTIME_DIR", ""), ("TMPDIR", tmp_text.as_str())];
                let mut serve = Running::start(&d.s, &["serve", "--port", "0"], &env);
                let first = serve.line();
                ensure(first.starts_with("listening on"), || first.clone())?;
                let inside: Vec<_> = std::fs::read_dir(&dir)
                    .map_err(|e| e.to_string())?
                    .flatten()
                    .map(|e| e.file_name())
                    .collect();
                let out = serve.stop();
                ensure(inside.is_empty(), || {
                    format!("serve bound in another user's folder: {inside:?}")
                })?;
                let err = stderr(&out);
                ensure(err.contains("the token agent is off"), || err.clone())?;
                ensure(err.contains("belongs to another user"), || err.clone())?;
                Ok(short(&err))
            },
        ),
        case(
            "processes",
            "passphrases in the environment of login's browser",
            "xdg-open runs without any OAUTH_DESK_*PASSPHRASE",
            || {
                let d = Desk::with_existing()?;
                let bin = tempfile::tempdir().map_err(|e| e.to_string())?;
                let dump = bin.path().join("env.txt");
                fake_program(&bin.path().join("xdg-open"), &dump)?;
                let path = format!(
                    "{}:{}",
                    bin.path().display(),
                    std::env::var("PATH").unwrap_or_default()
                );
                let mut env = passphrases();
                env.push(("PATH", path.as_str()));
                let _login = Running::start(&d.s, &["login", "Existing"], &env);
                child_env_clean(&wait_for(&dump)?)
            },
        ),
        case(
            "processes",
            "passphrases in the environment of the full command",
            "the front hands them over in a pipe: none in /proc/PID/environ",
            || {
                let d = Desk::with_existing()?;
                let mut login =
                    Running::start(&d.s, &["login", "Existing", "--no-browser"], &passphrases());
                // The URL comes once the vault opened with the passphrase from the pipe, in the
                // full command the front exec'd into (same pid).
                let url = login.line();
                ensure(url.starts_with("https://idp.example/auth"), || url.clone())?;
                let environ = std::fs::read(format!("/proc/{}/environ", login.pid()))
                    .map_err(|e| e.to_string())?;
                let env = String::from_utf8_lossy(&environ).replace('\0', "\n");
                child_env_clean(&env)
            },
        ),
        case(
            "processes",
            "passphrases in the environment of the window oauth-desk starts",
            "the window runs without any OAUTH_DESK_*PASSPHRASE",
            || {
                let d = Desk::new();
                // The front and the full command, with a stand-in for the window beside them.
                let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
                for bin in [bins::cli_path(), bins::full_cli_path()] {
                    let to = dir.path().join(bin.file_name().unwrap());
                    std::fs::copy(&bin, to).map_err(|e| e.to_string())?;
                }
                let dump = dir.path().join("env.txt");
                fake_program(&dir.path().join("oauth-desk-app"), &dump)?;
                let mut cmd = std::process::Command::new(dir.path().join("oauth-desk"));
                d.s.apply(&mut cmd);
                let out = cmd
                    .envs(passphrases())
                    .output()
                    .map_err(|e| e.to_string())?;
                ensure(out.status.success(), || stderr(&out))?;
                child_env_clean(&wait_for(&dump)?)
            },
        ),
        altered_backup(
            "backup with a trigger",
            "trigger \"copy_tokens\"",
            "CREATE TABLE IF NOT EXISTS loot (t TEXT);
             CREATE TRIGGER copy_tokens AFTER INSERT ON tokens
             BEGIN INSERT INTO loot VALUES (new.access_token); END;",
        ),
        altered_backup(
            "backup with a view",
            "view \"everything\"",
            "CREATE VIEW everything AS SELECT * FROM tokens;",
        ),
        altered_backup(
            "backup with a provider provider add refuses",
            "token_url",
            "UPDATE providers SET token_url = 'http://evil.example/token' WHERE name = 'Existing';",
        ),
    ]
}

/// A backup of a vault altered with `sql` behind OAuth Desk's back: restoring it is refused
/// with a message that says `says`, and the vault it would replace is left as it was.
fn altered_backup(name: &'static str, says: &'static str, sql: &'static str) -> Case {
    case(
        "restore",
        name,
        format!("refused: \"{says}\"; the vault unchanged"),
        move || {
            let from = Desk::with_existing()?;
            from.s
                .open_vault(PASSPHRASE)
                .conn()
                .execute_batch(sql)
                .map_err(|e| e.to_string())?;
            let file = from.s.home().join("altered.odb");
            let file_text = file.display().to_string();
            let backup_pass = ("OAUTH_DESK_BACKUP_PASSPHRASE", "the backup's passphrase");
            let made = from.run_env(&["vault", "backup", &file_text], &[backup_pass], "");
            ensure(made.status.success(), || stderr(&made))?;

            let into = Desk::with_existing()?;
            into.provider("Mine", "https://idp.example", &[])?;
            let before = into.snapshot();
            let out = into.run_env(
                &["vault", "restore", &file_text, "--yes"],
                &[backup_pass],
                "",
            );
            let seen = refused(&out, 1, "", says)?;
            before.same(&into.snapshot())?;
            let kept = into.vault().with_file_name("vault.db.before-restore");
            ensure(!kept.exists(), || "a refused restore left a copy".into())?;
            Ok(seen)
        },
    )
}

/// Every passphrase variable a script may set, each with a value to look for, and a marker
/// that must get through (it shows the dump is the child's environment).
fn passphrases() -> Vec<(&'static str, &'static str)> {
    vec![
        PASS,
        ("OAUTH_DESK_NEW_PASSPHRASE", "canary-env-passphrase-2"),
        ("OAUTH_DESK_BACKUP_PASSPHRASE", "canary-env-passphrase-3"),
        ("CATALOGUE_MARKER", "passed-through"),
    ]
}

fn child_env_clean(env: &str) -> Check {
    ensure(env.contains("CATALOGUE_MARKER=passed-through"), || {
        format!("not the child's environment: {env}")
    })?;
    let leaked: Vec<&str> = env
        .lines()
        .filter(|l| {
            (l.starts_with("OAUTH_DESK_") && l.contains("PASSPHRASE="))
                || l.contains("canary-env-passphrase")
                || l.contains(PASSPHRASE)
        })
        .collect();
    ensure(leaked.is_empty(), || format!("the child got {leaked:?}"))?;
    Ok("no passphrase variable".into())
}

/// A program that writes its environment to `dump` (whole, by a rename) and leaves.
fn fake_program(at: &Path, dump: &Path) -> Result<(), String> {
    let script = format!(
        "#!/bin/sh\nenv > '{0}.part' && mv '{0}.part' '{0}'\n",
        dump.display()
    );
    std::fs::write(at, script).map_err(|e| e.to_string())?;
    chmod(at, 0o755);
    Ok(())
}

/// The file once it is there (the program started by OAuth Desk runs on its own).
fn wait_for(dump: &Path) -> Result<String, String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !dump.exists() {
        if std::time::Instant::now() > deadline {
            return Err(format!("{} never started", dump.display()));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::fs::read_to_string(dump).map_err(|e| e.to_string())
}

/// A case where, without a runtime directory, the agent's folder in the temp directory was
/// made beforehand (by `plant`: the temp directory, the folder, the socket's file name; it
/// starts nobody's fake agent there): `token get` must not
/// ask it, must say why, and must go on to open the vault itself.
fn planted(
    name: &'static str,
    says: &'static str,
    plant: impl Fn(&Path, &Path, &str) -> FakeAgent + Send + Sync + 'static,
) -> Case {
    case(
        "processes",
        name,
        format!("token get: \"{says}\"; nothing sent to it"),
        move || {
            let d = Desk::with_existing()?;
            let tmp = shared_tmp();
            let name = socket_name(&d.vault(), "agent");
            let fake = plant(tmp.path(), &fallback_dir(&tmp), &name);
            let tmp_text = tmp.path().display().to_string();
            let out = d.run_env(
                &["token", "get", "Existing"],
                &[("XDG_RUNTIME_DIR", ""), ("TMPDIR", tmp_text.as_str())],
                "",
            );
            not_served(&out, fake, says)
        },
    )
}

/// The fake agent gave no token and heard no name; the command said `says` and then
/// answered from the vault (where Existing has no token: needs sign-in).
fn not_served(out: &std::process::Output, fake: FakeAgent, says: &str) -> Check {
    let asked = fake.stop();
    ensure(!stdout(out).contains(PLANTED), || {
        "the other user's token was printed".into()
    })?;
    ensure(asked.is_empty(), || {
        format!("the other user heard: {asked}")
    })?;
    let err = stderr(out);
    ensure(err.contains(says), || {
        format!("stderr does not say {says:?}: {err}")
    })?;
    refused(out, 3, "", "has no signed-in account")?;
    Ok(short(err.lines().next().unwrap_or_default()))
}

/// The agent's folder without a runtime directory: `<TMPDIR>/oauth-desk-<uid>`.
fn fallback_dir(tmp: &tempfile::TempDir) -> PathBuf {
    private::socket_dir_in(tmp.path())
}

/// The agent's folder in the desk's runtime directory.
fn own_socket_dir(d: &Desk) -> PathBuf {
    private::socket_dir_in(&d.s.home().join("run"))
}

fn agent_socket(d: &Desk) -> PathBuf {
    own_socket_dir(d).join(socket_name(&d.vault(), "agent"))
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// An agent of our own user that answers every connection with bytes and no newline, forever.
fn endless_agent(at: &Path) -> Result<(), String> {
    let listener = UnixListener::bind(at).map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let chunk = [b'a'; 1 << 16];
                while s.write_all(&chunk).is_ok() {}
            });
        }
    });
    Ok(())
}
