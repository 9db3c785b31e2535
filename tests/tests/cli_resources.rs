//! Resource indicators (RFC 8707) and the audience, per provider and per sign-in, against the
//! real test provider, whose resource servers live under https://api.test/: a token asked for
//! a resource names it as its audience when introspected, and a resource the provider does
//! not serve is refused with its own words, nothing stored.

use oauth_desk_tests::cli::{json, run, stderr, stdout};
use oauth_desk_tests::idp::{self, Idp};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{add_provider, ok, outcome, start_login};
use oauth_desk_tests::user::User;
use serde_json::Value;

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "resource tests");
const ORDERS: &str = "https://api.test/orders";
const BILLING: &str = "https://api.test/billing";

/// RFC 7662 introspection as the test client.
fn introspect(idp: &Idp, token: &str) -> Value {
    idp.introspection(&idp::BASIC, token)
}

fn token(s: &Session, name: &str, extra: &[&str]) -> String {
    let mut args = vec!["token", "get", name];
    args.extend(extra);
    stdout(&ok(run(s, &args, &[PASS], ""))).trim().to_owned()
}

#[test]
fn the_providers_resource_is_asked_for_and_the_token_is_for_it() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], &idp, "Orders", &idp::BASIC);
    ok(run(
        &s,
        &[
            "provider",
            "update",
            "Orders",
            "--resource",
            ORDERS,
            "--audience",
            "orders-api",
            "--scope",
            "openid email api:read",
        ],
        &[PASS],
        "",
    ));
    let shown = json(&ok(run(
        &s,
        &["provider", "show", "Orders", "--json"],
        &[PASS],
        "",
    )));
    assert_eq!(shown["resources"], serde_json::json!([ORDERS]));
    assert_eq!(shown["audience"], "orders-api");

    let (running, url) = start_login(&s, &[PASS], "Orders", &[]);
    let query: Vec<(String, String)> = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert!(query.contains(&("resource".into(), ORDERS.into())), "{url}");
    assert!(
        query.contains(&("audience".into(), "orders-api".into())),
        "{url}"
    );
    let (status, page) = User::new("alice").sign_in(&url).expect("alice signs in");
    assert_eq!(status, 200, "{page}");
    let signed = outcome(&ok(running.finish()));
    assert_eq!(signed["account"], "alice@example.test");

    let answer = introspect(&idp, &token(&s, "Orders", &[]));
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(
        answer["aud"], ORDERS,
        "the token is for the resource: {answer}"
    );
    assert_eq!(answer["scope"], "api:read", "{answer}");

    // Narrowed to the resource by a refresh (RFC 8707 §2.2): its own token, for it; the
    // account's token is left as it was.
    let main = token(&s, "Orders", &[]);
    let narrowed = token(&s, "Orders", &["--resource", ORDERS]);
    assert_ne!(narrowed, main);
    assert_eq!(introspect(&idp, &narrowed)["aud"], ORDERS);
    assert_eq!(token(&s, "Orders", &[]), main);
}

#[test]
fn a_sign_in_may_ask_for_another_resource_and_a_refused_one_stores_nothing() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], &idp, "Test IdP", &idp::BASIC);
    ok(run(
        &s,
        &["provider", "update", "Test IdP", "--resource", ORDERS],
        &[PASS],
        "",
    ));

    // This sign-in asks for billing, not the provider's orders.
    let (running, url) = start_login(&s, &[PASS], "Test IdP", &["--resource", BILLING]);
    assert!(url.contains("billing") && !url.contains("orders"), "{url}");
    User::new("bob").sign_in(&url).expect("bob signs in");
    ok(running.finish());
    let answer = introspect(&idp, &token(&s, "Test IdP", &[]));
    assert_eq!(answer["aud"], BILLING, "{answer}");

    // Not a URI: refused before anything is sent.
    let bad = run(
        &s,
        &[
            "login",
            "Test IdP",
            "--no-browser",
            "--resource",
            "orders#x",
        ],
        &[PASS],
        "",
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("absolute URI"), "{}", stderr(&bad));

    // A resource the provider does not serve: its refusal, and no account.
    let (running, url) = start_login(
        &s,
        &[PASS],
        "Test IdP",
        &[
            "--resource",
            "https://elsewhere.example/",
            "--account",
            "refused",
        ],
    );
    let (_, page) = User::new("carol")
        .sign_in(&url)
        .expect("the redirect comes back");
    let out = running.finish();
    assert_ne!(out.status.code(), Some(0), "{page}");
    assert!(stderr(&out).contains("invalid_target"), "{}", stderr(&out));
    let listed = stdout(&ok(run(&s, &["token", "list"], &[PASS], "")));
    assert!(!listed.contains("refused"), "{listed}");
}
