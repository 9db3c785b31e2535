//! `oauth-desk exec`: a program run with a fresh token from the real test provider, in its
//! environment and (with --file) in a file renewed while it runs; signals reach it, its exit
//! status is passed through, and no passphrase variable reaches it.

use oauth_desk_tests::cli::{run, stderr, stdout, Running};
use oauth_desk_tests::idp::{self, Idp, Options};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{add_provider, login_as, ok};

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "exec tests");

fn signed_in(idp: &Idp) -> Session {
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], idp, "Test IdP", &idp::BASIC);
    login_as(&s, &[PASS], "Test IdP", "alice");
    s
}

fn exec(s: &Session, extra: &[&str], script: &str) -> std::process::Output {
    let mut args = vec!["exec", "Test IdP"];
    args.extend(extra);
    args.extend(["--", "sh", "-c", script]);
    run(s, &args, &[PASS], "")
}

#[test]
fn the_token_reaches_the_program_and_its_exit_status_comes_back() {
    let idp = Idp::start();
    let s = signed_in(&idp);
    let token = stdout(&ok(run(&s, &["token", "get", "Test IdP"], &[PASS], "")));
    let out = exec(&s, &[], "printf %s \"$OAUTH_TOKEN\"");
    assert_eq!(stdout(&out), token.trim_end());
    let named = exec(&s, &["--env", "API_TOKEN"], "printf %s \"$API_TOKEN\"");
    assert_eq!(stdout(&named), token.trim_end());
    assert_eq!(exec(&s, &[], "exit 7").status.code(), Some(7));

    // The passphrase came in OAUTH_DESK_PASSPHRASE; the program's environment has none.
    let env = stdout(&ok(exec(&s, &[], "env")));
    assert!(!env.contains("OAUTH_DESK"), "{env}");
    assert!(!env.contains(PASS.1), "{env}");

    let bad = exec(&s, &["--env", "OAUTH_DESK_PASSPHRASE"], "true");
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
}

#[test]
fn a_signal_to_exec_reaches_the_program() {
    let idp = Idp::start();
    let s = signed_in(&idp);
    // The program says it is ready, then waits for TERM, which it answers by exiting 0.
    let script = "trap 'echo terminated; exit 0' TERM; echo ready; while :; do sleep 0.1; done";
    let mut running = Running::start(&s, &["exec", "Test IdP", "--", "sh", "-c", script], &[PASS]);
    assert_eq!(running.line(), "ready");
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &running.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = running.finish();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("terminated"), "{}", stdout(&out));
}

#[test]
fn the_token_file_is_renewed_while_the_program_runs_and_removed_after() {
    // Tokens live 2 s: under the minute exec keeps in hand, so the file is renewed at once.
    let idp = Idp::start_with(Options {
        access_ttl: Some(2),
        ..Default::default()
    });
    let s = signed_in(&idp);
    let runtime = s.home().join("run");
    // The program prints the file's first token and mode, then waits (at most 20 s) for
    // another and prints it too.
    let script = "f=\"$XDG_RUNTIME_DIR/token\"; first=$(cat \"$f\"); echo \"$first\"; \
                  stat -c %a \"$f\"; i=0; while [ $i -lt 200 ]; do \
                  now=$(cat \"$f\"); if [ \"$now\" != \"$first\" ]; then echo \"$now\"; exit 0; fi; \
                  sleep 0.1; i=$((i+1)); done; exit 9";
    let out = exec(&s, &["--file", "token"], script);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed = stdout(&out);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 3, "{printed}");
    assert_eq!(lines[1], "600", "only its owner reads it");
    assert_ne!(lines[0], lines[2], "renewed");
    // A 2 s token may be gone by now: that the provider refreshed is what shows the file's
    // new token came from it (login, then the start's and the file's refreshes).
    assert!(
        idp.grants("refresh_token") >= 2,
        "renewed by refreshing at the provider"
    );
    assert!(
        !runtime.join("token").exists(),
        "removed when the program ended"
    );
}
