//! Pushed authorization requests (RFC 9126) against the real test provider. A provider that
//! requires them is set to push by discovery, and signs in only so; a provider that merely
//! offers them pushes when asked to. Either way the URL the person opens carries the client id
//! and the reference alone: no scope, no PKCE challenge, no extra parameter.

use std::collections::BTreeSet;

use oauth_desk_tests::cli::{json, run, stderr};
use oauth_desk_tests::idp::{self, Client, Idp, Options};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{self, outcome};
use oauth_desk_tests::user::User;
use url::Url;

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "par tests");

fn with_provider(idp: &Idp, client: &Client, extra: &[&str]) -> Session {
    let s = Session::without_keyring();
    signin::add_provider(&s, &[PASS], idp, "Pushed", client);
    if !extra.is_empty() {
        let mut args = vec!["provider", "update", "Pushed"];
        args.extend(extra);
        signin::ok(run(&s, &args, &[PASS], ""));
    }
    s
}

/// The parameters of the URL the CLI hands the person.
fn parameters(url: &str) -> BTreeSet<String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect()
}

/// Signs in through the URL the CLI printed; returns the CLI's outcome.
fn sign_in(s: &Session, who: &str) -> serde_json::Value {
    let (running, url) = signin::start_login(s, &[PASS], "Pushed", &[]);
    assert_eq!(
        parameters(&url),
        BTreeSet::from(["client_id".to_owned(), "request_uri".to_owned()]),
        "only the reference travels through the browser: {url}"
    );
    let (status, page) = User::new(who).sign_in(&url).expect("the user signs in");
    assert_eq!(status, 200, "{page}");
    outcome(&signin::ok(running.finish()))
}

#[test]
fn a_provider_that_requires_pushing_is_set_to_push_by_discovery() {
    let idp = Idp::start_with(Options {
        require_par: true,
        ..Default::default()
    });
    let metadata = idp.metadata();
    assert_eq!(metadata["require_pushed_authorization_requests"], true);
    for (client, auth) in [
        (&idp::BASIC, "basic"),
        (&idp::POST, "post"),
        (&idp::PUBLIC, "none"),
    ] {
        let s = with_provider(&idp, client, &["--client-auth", auth]);
        let shown = json(&signin::ok(run(
            &s,
            &["provider", "show", "Pushed", "--json"],
            &[PASS],
            "",
        )));
        assert_eq!(shown["par"], true, "{}", client.id);
        assert_eq!(
            shown["par_url"], metadata["pushed_authorization_request_endpoint"],
            "{}",
            client.id
        );
        let signed = sign_in(&s, "alice");
        assert_eq!(signed["account"], "alice@example.test", "{}", client.id);
        assert_eq!(signed["has_refresh_token"], true, "{}", client.id);
    }
}

#[test]
fn a_request_not_pushed_is_refused_where_pushing_is_required() {
    let idp = Idp::start_with(Options {
        require_par: true,
        ..Default::default()
    });
    let s = with_provider(&idp, &idp::BASIC, &["--par=false"]);
    let (running, url) = signin::start_login(&s, &[PASS], "Pushed", &[]);
    assert!(parameters(&url).contains("code_challenge"), "{url}");
    let _ = User::new("alice").sign_in(&url);
    let out = running.finish();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("invalid_request"),
        "the provider's refusal is shown: {}",
        stderr(&out)
    );
}

#[test]
fn a_provider_that_offers_pushing_pushes_when_asked() {
    let idp = Idp::start();
    let s = with_provider(&idp, &idp::BASIC, &[]);
    let shown = json(&signin::ok(run(
        &s,
        &["provider", "show", "Pushed", "--json"],
        &[PASS],
        "",
    )));
    assert_eq!(shown["par"], false, "offered, not required: not turned on");
    assert!(shown["par_url"].is_string(), "{shown}");
    signin::ok(run(
        &s,
        &["provider", "update", "Pushed", "--par"],
        &[PASS],
        "",
    ));
    let signed = sign_in(&s, "bob");
    assert_eq!(signed["account"], "bob@example.test");
}

#[test]
fn pushing_without_an_endpoint_is_refused_by_field() {
    let s = Session::without_keyring();
    let out = run(
        &s,
        &[
            "provider",
            "add",
            "Pushed",
            "--token-url",
            "https://idp.example/token",
            "--auth-url",
            "https://idp.example/auth",
            "--client-id",
            "desk",
            "--par",
        ],
        &[PASS],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("par_url") && stderr(&out).contains("RFC 9126"),
        "{}",
        stderr(&out)
    );
}
