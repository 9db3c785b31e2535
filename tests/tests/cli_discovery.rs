//! Discovery reads both of an issuer's documents (OpenID Connect Discovery and RFC 8414), as
//! the real test provider serves them split the way several real providers do: endpoints only
//! the second names are found, and endpoints the two name differently are the person's to
//! choose, never picked silently.

use oauth_desk_tests::cli::{json, run, stderr, stdout, Running};
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
    // One of the person's own, set by hand, is theirs: discovering again keeps it too.
    let elsewhere = format!("{}/third/revocation", idp.issuer);
    ok(run(
        &s,
        &["provider", "update", "Split", "--revoke-url", &elsewhere],
        &[PASS],
        "",
    ));
    ok(run(&s, &["provider", "discover", "Split"], &[PASS], ""));
    let shown = json(&ok(run(
        &s,
        &["provider", "show", "Split", "--json"],
        &[PASS],
        "",
    )));
    assert_eq!(shown["revocation_url"], elsewhere);
    assert_eq!(shown["endpoint_sources"]["revocation_url"], "by_hand");
}

#[test]
fn an_endpoint_set_by_hand_survives_discovering_again_and_each_says_where_it_came_from() {
    let idp = Idp::start_with(Options {
        split_metadata: true,
        ..Default::default()
    });
    let s = Session::without_keyring();
    ok(add(&s, &idp, &[]));
    let show = || {
        json(&ok(run(
            &s,
            &["provider", "show", "Split", "--json"],
            &[PASS],
            "",
        )))
    };
    let first = show();
    for field in [
        "token_url",
        "revocation_url",
        "introspection_url",
        "end_session_url",
    ] {
        assert_eq!(
            first["endpoint_sources"][field], "discovered",
            "{field}: {first}"
        );
    }

    // The person points introspection at their own path on the same host, and empties the
    // userinfo endpoint's value for one of their own too.
    let mine = format!("{}/token/introspection?tenant=mine", idp.issuer);
    ok(run(
        &s,
        &["provider", "update", "Split", "--introspection-url", &mine],
        &[PASS],
        "",
    ));
    let human = stdout(&ok(run(&s, &["provider", "show", "Split"], &[PASS], "")));
    assert!(human.contains(&format!("{mine} (set by hand)")), "{human}");
    assert!(
        human.contains(&format!("{}/token (discovered)", idp.issuer)),
        "{human}"
    );

    // Discovered again, from the CLI and then the API: the hand-set one stays, the rest are
    // the metadata's, and the client secret is still there (nothing moved host).
    let out = ok(run(&s, &["provider", "discover", "Split"], &[PASS], ""));
    assert!(stdout(&out).contains("nothing changed"), "{}", stdout(&out));
    let again = show();
    assert_eq!(again["introspection_url"], mine);
    assert_eq!(again["endpoint_sources"]["introspection_url"], "by_hand");
    assert_eq!(again["endpoint_sources"]["token_url"], "discovered");
    assert_eq!(again["has_client_secret"], true);

    let key = stdout(&ok(run(&s, &["api", "key"], &[PASS], "")))
        .trim()
        .to_owned();
    let mut server = Running::start(&s, &["serve", "--port", "0"], &[PASS]);
    let base = server.line().replace("listening on ", "");
    let answer: serde_json::Value = oauth_desk_tests::http()
        .post(format!("{base}/api/v1/oauth2/app/Split/discover"))
        .bearer_auth(&key)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(answer["introspection_url"], mine, "{answer}");
    assert_eq!(answer["changed"], serde_json::json!([]), "{answer}");

    // A provider added by hand has no issuer to discover from: said so.
    oauth_desk_tests::cli::add_provider_by_hand(&s, &[PASS], "By hand", &[], "");
    let refused = run(&s, &["provider", "discover", "By hand"], &[PASS], "");
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("no issuer") || stderr(&refused).contains("not set"),
        "{}",
        stderr(&refused)
    );
}
