//! The token agent: while `oauth-desk serve` (or the window) has a keyring vault open,
//! `oauth-desk token get` gets its token from it over a private socket, without the keyring;
//! a passphrase vault is never served that way.

use oauth_desk_tests::cli::{run, stderr, stdout, Running};
use oauth_desk_tests::idp::{self, Idp};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{add_provider, login_as};

/// An address where no keyring answers: only the agent can give the token then.
const NO_KEYRING: (&str, &str) = ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");

#[test]
fn token_get_asks_the_running_vault_and_falls_back_to_opening_it() {
    let idp = Idp::start();
    let s = Session::with_keyring();
    add_provider(&s, &[], &idp, "Test IdP", &idp::BASIC);
    login_as(&s, &[], "Test IdP", "alice");
    let direct = run(&s, &["token", "get", "Test IdP"], &[], "");
    assert_eq!(direct.status.code(), Some(0), "{}", stderr(&direct));
    let token = stdout(&direct);

    let without = run(&s, &["token", "get", "Test IdP"], &[NO_KEYRING], "");
    assert_eq!(
        without.status.code(),
        Some(1),
        "no agent, no keyring: no token"
    );

    let mut serve = Running::start(&s, &["serve", "--port", "0"], &[]);
    assert!(serve.line().starts_with("listening on"));
    let served = run(&s, &["token", "get", "Test IdP"], &[NO_KEYRING], "");
    assert_eq!(served.status.code(), Some(0), "{}", stderr(&served));
    assert_eq!(
        stdout(&served),
        token,
        "the agent gives the same fresh token"
    );
    // Another local user never gets it: moved where uid 65534 can reach it (the agent's own
    // folder keeps other users out), the socket answers that user nothing.
    let socket = oauth_desk_core::agent::private::socket_dir_in(&s.home().join("run")).join(
        oauth_desk_core::agent::socket_name(&s.default_vault(), "agent"),
    );
    let shared = oauth_desk_tests::other_user::shared_tmp();
    let reachable = shared.path().join("agent.sock");
    std::fs::rename(&socket, &reachable).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&reachable, std::fs::Permissions::from_mode(0o777)).unwrap();
    let ask = r#"{"provider":"Test IdP","account":null,"min_valid":0}"#;
    let said = oauth_desk_tests::other_user::knock(&reachable, ask);
    assert_eq!(said, "no answer\n", "another user was answered");
    std::fs::rename(&reachable, &socket).unwrap();

    // The front command answers from the agent by itself: a copy without the full command
    // beside it still prints the token, in each way of naming the account, the vault and the
    // margin; anything else it hands over, and says so when the full command is missing.
    let alone = tempfile::tempdir().unwrap();
    let front = alone.path().join("oauth-desk");
    std::fs::copy(oauth_desk_tests::bins::cli_path(), &front).unwrap();
    let vault = s.default_vault().display().to_string();
    let run_front = |args: &[&str]| {
        let mut cmd = std::process::Command::new(&front);
        s.apply(&mut cmd);
        cmd.args(args)
            .env(NO_KEYRING.0, NO_KEYRING.1)
            .output()
            .unwrap()
    };
    for args in [
        vec!["token", "get", "Test IdP"],
        vec![
            "token",
            "get",
            "Test IdP",
            "--account",
            "alice@example.test",
        ],
        vec![
            "--vault",
            &vault,
            "token",
            "get",
            "Test IdP",
            "--min-valid",
            "30",
        ],
        vec![
            "token",
            "get",
            "Test IdP",
            "--min-valid=30",
            "--vault",
            &vault,
        ],
    ] {
        let out = run_front(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), token, "{args:?}");
    }
    for args in [
        vec!["--version"],
        vec!["token", "get", "Test IdP", "--json"],
    ] {
        let out = run_front(&args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?} is not the front's to answer"
        );
        assert!(stderr(&out).contains("oauth-desk-cli"), "{}", stderr(&out));
    }

    let unknown = run(&s, &["token", "get", "nope"], &[NO_KEYRING], "");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("nope"), "{}", stderr(&unknown));
    drop(serve);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let after = run(&s, &["token", "get", "Test IdP"], &[NO_KEYRING], "");
    assert_eq!(after.status.code(), Some(1), "the agent is gone with serve");
}

#[test]
fn a_passphrase_vault_is_not_served_without_its_passphrase() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    let pass = ("OAUTH_DESK_PASSPHRASE", "agent test passphrase");
    add_provider(&s, &[pass], &idp, "Test IdP", &idp::BASIC);
    login_as(&s, &[pass], "Test IdP", "alice");
    let mut serve = Running::start(&s, &["serve", "--port", "0"], &[pass]);
    assert!(serve.line().starts_with("listening on"));
    let out = run(&s, &["token", "get", "Test IdP"], &[], "");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).is_empty(), "no token without the passphrase");
    let with = run(&s, &["token", "get", "Test IdP"], &[pass], "");
    assert_eq!(with.status.code(), Some(0), "{}", stderr(&with));
    drop(serve);
}

#[test]
fn another_machine_gets_a_token_through_the_agent_forwarded_over_ssh() {
    // The "other machine" is a login through the real sshd, with another HOME and no vault:
    // only the agent socket `ssh -R` forwards can give it a token.
    let idp = Idp::start();
    let s = Session::with_keyring();
    add_provider(&s, &[], &idp, "Test IdP", &idp::BASIC);
    login_as(&s, &[], "Test IdP", "alice");
    let mut serve = Running::start(&s, &["serve", "--port", "0"], &[]);
    assert!(serve.line().starts_with("listening on"));
    // Where `vault status` says the agent listens, as the README has it forwarded.
    let status = oauth_desk_tests::cli::json(&run(&s, &["vault", "status", "--json"], &[], ""));
    let local = std::path::PathBuf::from(status["agent_socket"].as_str().unwrap());
    assert!(local.exists(), "{status}");
    let token = stdout(&run(&s, &["token", "get", "Test IdP"], &[], ""));

    let sshd = oauth_desk_tests::sshd::Sshd::start();
    let remote_home = tempfile::tempdir().unwrap();
    let remote_socket = remote_home.path().join("agent.sock");
    let cli = oauth_desk_tests::bins::cli_path();
    let command = format!(
        "HOME='{home}' XDG_RUNTIME_DIR= XDG_DATA_HOME= DBUS_SESSION_BUS_ADDRESS= \
         OAUTH_DESK_AGENT='{sock}' '{cli}' token get 'Test IdP'",
        home = remote_home.path().display(),
        sock = remote_socket.display(),
        cli = cli.display(),
    );
    let out = sshd.run(Some((&remote_socket, &local)), &command);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        sshd.log()
    );
    assert_eq!(
        stdout(&out),
        token,
        "the agent's token, over the forwarded socket"
    );
    // The log names who got which account's token, and that this one went to another machine.
    // (The agent writes it once the answer is out: it may come a moment after the token.)
    let mut log = serde_json::Value::Null;
    for _ in 0..50 {
        log = oauth_desk_tests::cli::json(&run(&s, &["activity", "--json"], &[], ""));
        let count = log
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "token handed out")
            .count();
        if count >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let handed: Vec<&serde_json::Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "token handed out")
        .collect();
    assert!(handed.len() >= 2, "{log}");
    assert_eq!(handed[0]["account"], "alice@example.test");
    let remote = handed[0]["detail"].as_str().unwrap();
    assert!(remote.contains("another machine over SSH"), "{remote}");
    let local = handed[1]["detail"].as_str().unwrap();
    // The program that ran `oauth-desk token get`: this test.
    assert!(
        local.contains("cli_agent") && local.contains("pid"),
        "{local}"
    );
    assert!(!log.to_string().contains(token.trim()), "never the token");

    // Without the forwarding, the named agent does not answer: said, not waited on.
    let _ = std::fs::remove_file(&remote_socket);
    let out = sshd.run(None, &command);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("OAUTH_DESK_AGENT"), "{said}");
    drop(serve);
}
