//! Trust-boundary cases (issue 16): processes. Another local user (uid 65534, run through
//! `setpriv`) plants the token agent's folder or socket, answers as a fake agent, or asks the
//! real one; a peer of our own sends or answers endless lines. Each time OAuth Desk talks to
//! nobody but its own user, says why, and still works without the agent.

use std::io::Write;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use oauth_desk_core::agent::{private, socket_name};
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
                // 64 MiB without a newline: far more than any socket buffer holds, so only an
                // agent that keeps reading (and holding) it lets the write finish.
                let chunk = vec![b'a'; 1 << 20];
                let sent = (0..64).try_for_each(|_| s.write_all(&chunk));
                drop(serve);
                match sent {
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
    ]
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
