//! `token sign-out` (OpenID Connect RP-Initiated Logout 1.0) against the real test provider:
//! the tokens are revoked there, the person confirms the end of the provider's session and is
//! sent back to OAuth Desk's loopback listener, and a sign-in afterwards asks for the login
//! again. The account is kept as signed out, or forgotten.

use oauth_desk_tests::cli::{json, run, stdout, Running};
use oauth_desk_tests::idp::{self, Idp};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{add_provider, ok, outcome, start_login};
use oauth_desk_tests::user::{deliver, User};

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "sign-out tests");

/// A sign-in as `user` (whose browser keeps its cookies); whether the provider asked for the
/// login on the way.
fn sign_in(s: &Session, user: &User) -> bool {
    let (running, url) = start_login(s, &[PASS], "Test IdP", &[]);
    let asked = user.would_log_in(&url).unwrap();
    let (status, page) = user.sign_in(&url).expect("the user signs in");
    assert_eq!(status, 200, "{page}");
    outcome(&ok(running.finish()));
    asked
}

fn sign_out(s: &Session, user: &User, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["token", "sign-out", "Test IdP", "--no-browser", "--json"];
    args.extend(extra);
    let mut running = Running::start(s, &args, &[PASS]);
    let end_session = running.line();
    // Printed (or given to a browser, whose argv and history keep it): the client id names
    // the client, and the ID token stays out of it.
    assert!(!end_session.contains("id_token_hint="), "{end_session}");
    assert!(end_session.contains("client_id="), "{end_session}");
    let back = user.sign_out(&end_session).expect("the user confirms");
    let (status, page) = deliver(&back).unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("signed out"), "{page}");
    let out = ok(running.finish());
    serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap()
}

#[test]
fn signing_out_revokes_ends_the_session_and_the_next_sign_in_asks_again() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], &idp, "Test IdP", &idp::BASIC);
    let shown = json(&ok(run(
        &s,
        &["provider", "show", "Test IdP", "--json"],
        &[PASS],
        "",
    )));
    assert_eq!(
        shown["end_session_url"],
        format!("{}/session/end", idp.issuer)
    );

    let alice = User::new("alice");
    assert!(sign_in(&s, &alice), "the first sign-in asks for the login");
    assert!(
        !sign_in(&s, &alice),
        "the provider's session spares the second"
    );
    let token = stdout(&ok(run(&s, &["token", "get", "Test IdP"], &[PASS], "")));

    let out = sign_out(&s, &alice, &[]);
    assert_eq!(out["revoked_at_provider"], true, "{out}");
    assert_eq!(out["session_ended"], true, "{out}");
    assert_eq!(out["forgotten"], false);
    assert!(!idp.introspect(&idp::BASIC, token.trim()), "revoked there");
    let listed = json(&ok(run(&s, &["token", "list", "--json"], &[PASS], "")));
    assert_eq!(listed[0]["status"], "revoked", "kept, signed out: {listed}");
    let log = json(&ok(run(
        &s,
        &["activity", "--json", "--limit", "1"],
        &[PASS],
        "",
    )));
    assert_eq!(log[0]["action"], "signed out");

    assert!(
        sign_in(&s, &alice),
        "after signing out, the login is asked again"
    );
    let out = sign_out(&s, &alice, &["--forget"]);
    assert_eq!(out["forgotten"], true);
    let listed = json(&ok(run(&s, &["token", "list", "--json"], &[PASS], "")));
    assert_eq!(listed, serde_json::json!([]), "forgotten");
}
