//! `oauth-desk activity`: the log the window's Activity view shows, on the command line,
//! newest first, with nothing secret in it.

use oauth_desk_tests::cli::{json, run, stdout};
use oauth_desk_tests::idp::{self, Idp};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{add_provider, login_as, ok};

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "activity tests");

#[test]
fn the_log_names_what_happened_newest_first_and_no_secret() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    ok(run(&s, &["vault", "init"], &[PASS], ""));
    let created = stdout(&ok(run(&s, &["activity"], &[PASS], "")));
    assert!(created.contains("vault_created"), "{created}");

    add_provider(&s, &[PASS], &idp, "Test IdP", &idp::BASIC);
    login_as(&s, &[PASS], "Test IdP", "alice");
    let token = stdout(&ok(run(&s, &["token", "get", "Test IdP"], &[PASS], "")));
    ok(run(&s, &["token", "revoke", "Test IdP"], &[PASS], ""));

    let out = ok(run(&s, &["activity", "--json"], &[PASS], ""));
    let log = json(&out);
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["revoked", "signed in", "provider added", "vault_created"],
        "{log}"
    );
    assert_eq!(log[0]["provider"], "Test IdP");
    assert_eq!(log[0]["account"], "alice@example.test");
    assert!(log[0]["at"].as_str().unwrap().ends_with('Z'));
    let text = stdout(&ok(run(&s, &["activity"], &[PASS], "")));
    assert!(text.lines().next().unwrap().contains("revoked"), "{text}");
    for shown in [stdout(&out), text] {
        assert!(!shown.contains(token.trim()), "no token");
        assert!(
            !shown.contains(idp::BASIC.secret.unwrap()),
            "no client secret"
        );
    }

    let one = json(&ok(run(
        &s,
        &["activity", "--json", "--limit", "1"],
        &[PASS],
        "",
    )));
    assert_eq!(one.as_array().unwrap().len(), 1);
    let bad = run(&s, &["activity", "--limit", "0"], &[PASS], "");
    assert_eq!(bad.status.code(), Some(2));
}
