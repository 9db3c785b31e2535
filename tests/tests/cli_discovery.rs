//! Discovery reads both of an issuer's documents (OpenID Connect Discovery and RFC 8414), as
//! the real test provider serves them split the way several real providers do: endpoints only
//! the second names are found, and endpoints the two name differently are the person's to
//! choose, never picked silently.

use oauth_desk_tests::cli::{json, run, stderr};
use oauth_desk_tests::idp::{self, Idp, Options};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{login_as, ok};

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "discovery tests");

fn add(s: &Session, idp: &Idp, extra: &[&str]) -> std::process::Output {
    let client = format!("--client-id={}", idp::BASIC.id);
    let mut args = vec![
        "provider",
        "add",
        "Split",
        "--issuer",
        &idp.issuer,
        &client,
        "--client-secret-stdin",
    ];
    args.extend(extra);
    run(
        s,
        &args,
        &[PASS],
        &format!("{}\n", idp::BASIC.secret.unwrap()),
    )
}

/// RFC 7662 introspection at the endpoint the OpenID configuration leaves out.
fn active(idp: &Idp, token: &str) -> bool {
    let answer: serde_json::Value = oauth_desk_tests::http()
        .post(format!("{}/token/introspection", idp.issuer))
        .basic_auth(idp::BASIC.id, idp::BASIC.secret)
        .form(&[("token", token)])
        .send()
        .unwrap()
        .json()
        .unwrap();
    answer["active"] == true
}

#[test]
fn endpoints_only_the_rfc_8414_metadata_names_are_found_and_work() {
    let idp = Idp::start_with(Options {
        split_metadata: true,
        ..Default::default()
    });
    // The OpenID configuration really lacks them.
    let oidc = idp.metadata();
    assert!(oidc.get("revocation_endpoint").is_none(), "{oidc}");

    let s = Session::without_keyring();
    ok(add(&s, &idp, &[]));
    let shown = json(&ok(run(
        &s,
        &["provider", "show", "Split", "--json"],
        &[PASS],
        "",
    )));
    for (field, path) in [
        ("revocation_url", "/token/revocation"),
        ("introspection_url", "/token/introspection"),
        ("device_authorization_url", "/device/auth"),
    ] {
        assert_eq!(
            shown[field],
            format!("{}{path}", idp.issuer),
            "{field}: {shown}"
        );
    }

    // The revocation endpoint found that way revokes: the provider says the token is dead.
    login_as(&s, &[PASS], "Split", "alice");
    let token =
        String::from_utf8_lossy(&ok(run(&s, &["token", "get", "Split"], &[PASS], "")).stdout)
            .trim()
            .to_owned();
    assert!(active(&idp, &token));
    ok(run(&s, &["token", "revoke", "Split"], &[PASS], ""));
    assert!(!active(&idp, &token), "revoked at the provider");
}

#[test]
fn documents_that_disagree_are_asked_about_and_nothing_is_stored_until_answered() {
    let idp = Idp::start_with(Options {
        disagreeing_metadata: true,
        ..Default::default()
    });
    let s = Session::without_keyring();
    let out = add(&s, &idp, &[]);
    assert_eq!(out.status.code(), Some(1));
    let said = stderr(&out);
    assert!(said.contains("revocation_url"), "{said}");
    assert!(said.contains("disagree"), "{said}");
    assert!(
        said.contains("/token/revocation") && said.contains("/other/revocation"),
        "{said}"
    );
    let listed = json(&ok(run(&s, &["provider", "list", "--json"], &[PASS], "")));
    assert_eq!(listed, serde_json::json!([]), "nothing stored");

    // Answered with the flag: that one is kept, and the rest as discovered.
    let chosen = format!("{}/token/revocation", idp.issuer);
    ok(add(&s, &idp, &["--revoke-url", &chosen]));
    let shown = json(&ok(run(
        &s,
        &["provider", "show", "Split", "--json"],
        &[PASS],
        "",
    )));
    assert_eq!(shown["revocation_url"], chosen);
    assert_eq!(shown["token_url"], format!("{}/token", idp.issuer));

    // Discovered again: the earlier choice, one of the two, stays; any other value is asked
    // about again rather than kept without a word.
    ok(run(
        &s,
        &["provider", "update", "Split", "--issuer", &idp.issuer],
        &[PASS],
        "",
    ));
    let shown = json(&ok(run(
        &s,
        &["provider", "show", "Split", "--json"],
        &[PASS],
        "",
    )));
    assert_eq!(shown["revocation_url"], chosen);
    let elsewhere = format!("{}/third/revocation", idp.issuer);
    ok(run(
        &s,
        &["provider", "update", "Split", "--revoke-url", &elsewhere],
        &[PASS],
        "",
    ));
    let again = run(
        &s,
        &["provider", "update", "Split", "--issuer", &idp.issuer],
        &[PASS],
        "",
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("disagree"), "{}", stderr(&again));
}
