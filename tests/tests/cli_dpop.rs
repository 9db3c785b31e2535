//! DPoP (RFC 9449) against the real test provider: a provider set to bind its tokens signs in
//! with a proof on every token request, its tokens are DPoP tokens bound to the provider's key
//! (the provider's introspection names the key's thumbprint), and they are good at the
//! userinfo endpoint only with a proof made by `token proof` or `token get --header`.

use oauth_desk_tests::canned::{Canned, CannedServer};
use oauth_desk_tests::cli::{json, run, stderr, stdout, Running};
use oauth_desk_tests::idp::{self, Idp, Options};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{self, ok};

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "dpop tests");
const ALICE: &str = "alice@example.test";

fn cli(s: &Session, args: &[&str]) -> std::process::Output {
    run(s, args, &[PASS], "")
}

/// A vault with "Bound": the IdP's `desk-basic` client, its tokens bound by DPoP.
fn bound(idp: &Idp) -> Session {
    let s = Session::without_keyring();
    signin::add_provider(&s, &[PASS], idp, "Bound", &idp::BASIC);
    ok(cli(&s, &["provider", "update", "Bound", "--dpop"]));
    s
}

/// The userinfo endpoint's status for `headers`.
fn userinfo(idp: &Idp, headers: &[(&str, &str)]) -> u16 {
    let mut request = oauth_desk_tests::http().get(idp.endpoint("userinfo_endpoint"));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.send().expect("the IdP answers").status().as_u16()
}

fn token(s: &Session) -> serde_json::Value {
    json(&ok(cli(s, &["token", "get", "Bound", "--json"])))
}

/// The thumbprint the provider bound `token` to (its introspection's `cnf.jkt`).
fn bound_to(idp: &Idp, token: &str) -> String {
    let v: serde_json::Value = oauth_desk_tests::http()
        .post(idp.endpoint("introspection_endpoint"))
        .basic_auth(idp::BASIC.id, idp::BASIC.secret)
        .form(&[("token", token)])
        .send()
        .and_then(|r| r.json())
        .expect("the IdP introspects");
    v["cnf"]["jkt"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_dpop_token_is_bound_to_the_key_and_good_only_with_its_proof() {
    let idp = Idp::start();
    let s = bound(&idp);
    signin::login_as(&s, &[PASS], "Bound", "alice");

    let t = token(&s);
    assert_eq!(t["token_type"], "DPoP", "{t}");
    let access = t["token"].as_str().unwrap();
    let key = json(&ok(cli(&s, &["provider", "show", "Bound", "--json"])))["dpop_key"].clone();
    assert_eq!(
        bound_to(&idp, access),
        key["thumbprint"],
        "bound to our key"
    );
    let listed = json(&ok(cli(&s, &["token", "list", "--json"])));
    assert_eq!(listed[0]["token_type"], "DPoP");

    let url = idp.endpoint("userinfo_endpoint");
    let proof = stdout(&ok(cli(
        &s,
        &["token", "proof", "Bound", "--method", "GET", "--url", &url],
    )));
    let dpop = format!("DPoP {access}");
    assert_eq!(
        userinfo(&idp, &[("Authorization", &dpop), ("DPoP", proof.trim())]),
        200,
        "the token with its proof"
    );
    // RFC 9449 §7.1 lets the server refuse a missing proof with 400 (oidc-provider does) or
    // 401.
    let unproven = userinfo(&idp, &[("Authorization", &dpop)]);
    assert!(
        matches!(unproven, 400 | 401),
        "the token without a proof: {unproven}"
    );
    let bearer = format!("Bearer {access}");
    assert_eq!(
        userinfo(&idp, &[("Authorization", &bearer)]),
        401,
        "the token as a bearer token"
    );

    // `--header` prints both lines, ready for curl -H.
    let lines = stdout(&ok(cli(
        &s,
        &["token", "get", "Bound", "--header", "--url", &url],
    )));
    let headers: Vec<(&str, &str)> = lines
        .lines()
        .map(|l| l.split_once(": ").expect("a header line"))
        .collect();
    assert_eq!(headers.len(), 2, "{lines}");
    assert_eq!(userinfo(&idp, &headers), 200);
    let without_url = cli(&s, &["token", "get", "Bound", "--header"]);
    assert!(
        stderr(&without_url).contains("give --url"),
        "{}",
        stderr(&without_url)
    );
    // A nonce the server asked for goes into the proof; the provider's own endpoints get none.
    let with_nonce = stdout(&ok(cli(
        &s,
        &["token", "proof", "Bound", "--url", &url, "--nonce", "n-42"],
    )));
    let claims = oauth_desk_tests::jwt::claims(with_nonce.trim());
    assert_eq!(claims["nonce"], "n-42", "{claims}");
    let token_url = idp.endpoint("token_endpoint");
    let own = cli(&s, &["token", "proof", "Bound", "--url", &token_url]);
    assert!(
        stderr(&own).contains("own credential endpoints"),
        "{}",
        stderr(&own)
    );
    // The plain form stays the token alone.
    assert_eq!(
        stdout(&ok(cli(&s, &["token", "get", "Bound"]))).trim(),
        access
    );
}

/// The authorization request names the key (`dpop_jkt`, RFC 9449 §10), so that its code is
/// good only with a proof of that key; with DPoP off, it names none and the token is a bearer.
#[test]
fn the_authorization_request_names_the_key_and_dpop_off_gives_a_bearer_token() {
    let idp = Idp::start();
    let s = bound(&idp);
    let key = json(&ok(cli(&s, &["provider", "show", "Bound", "--json"])))["dpop_key"].clone();
    let (running, url) = signin::start_login(&s, &[PASS], "Bound", &[]);
    let jkt = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "dpop_jkt")
        .map(|(_, v)| v.into_owned());
    assert_eq!(jkt.as_deref(), key["thumbprint"].as_str(), "{url}");
    let (status, _) = oauth_desk_tests::user::User::new("alice")
        .sign_in(&url)
        .expect("the user signs in");
    assert_eq!(status, 200);
    ok(running.finish());
    assert_eq!(token(&s)["token_type"], "DPoP");

    ok(cli(&s, &["provider", "update", "Bound", "--dpop=false"]));
    let (running, url) = signin::start_login(&s, &[PASS], "Bound", &[]);
    assert!(!url.contains("dpop_jkt"), "{url}");
    oauth_desk_tests::user::User::new("alice")
        .sign_in(&url)
        .expect("the user signs in");
    ok(running.finish());
    assert_eq!(token(&s)["token_type"], "Bearer");
    let kept = json(&ok(cli(&s, &["provider", "show", "Bound", "--json"])))["dpop_key"].clone();
    assert_eq!(kept, key, "the key stays for when DPoP is turned on again");
}

/// The REST API gives scripts the same: the token with its type, and a proof for a request.
#[test]
fn the_rest_api_gives_the_token_type_and_a_proof() {
    let idp = Idp::start();
    let s = bound(&idp);
    signin::login_as(&s, &[PASS], "Bound", "alice");
    let key = stdout(&ok(cli(&s, &["api", "key"]))).trim().to_owned();
    let mut serve = Running::start(&s, &["serve", "--port", "0"], &[PASS]);
    let base = serve.line().trim_start_matches("listening on ").to_owned();
    let url = idp.endpoint("userinfo_endpoint");
    let answer: serde_json::Value = oauth_desk_tests::http()
        .post(format!("{base}/api/v1/oauth2/user/Bound/{ALICE}/proof"))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "method": "GET", "url": url }))
        .send()
        .and_then(|r| r.json())
        .expect("the API answers");
    assert_eq!(answer["token_type"], "DPoP", "{answer}");
    let dpop = format!("DPoP {}", answer["token"].as_str().unwrap());
    let proof = answer["proof"].as_str().expect("a proof");
    assert_eq!(
        userinfo(&idp, &[("Authorization", &dpop), ("DPoP", proof)]),
        200
    );
    let got: serde_json::Value = oauth_desk_tests::http()
        .get(format!("{base}/api/v1/oauth2/user/Bound/{ALICE}"))
        .bearer_auth(&key)
        .send()
        .and_then(|r| r.json())
        .expect("the API answers");
    assert_eq!(got["token_type"], "DPoP");
    drop(serve);
}

/// Where the provider is set to give each account a DPoP key of its own, two accounts' tokens
/// are bound to two keys, neither of them the provider's, and each account refreshes and
/// proves with its own.
#[test]
fn each_account_can_have_a_dpop_key_of_its_own() {
    let idp = Idp::start();
    let s = bound(&idp);
    ok(cli(
        &s,
        &["provider", "update", "Bound", "--dpop-per-account"],
    ));
    signin::login_as(&s, &[PASS], "Bound", "alice");
    signin::login_as(&s, &[PASS], "Bound", "bob");
    let access = |account: &str| {
        let t = json(&ok(cli(
            &s,
            &["token", "get", "Bound", "--account", account, "--json"],
        )));
        assert_eq!(t["token_type"], "DPoP", "{t}");
        t["token"].as_str().unwrap().to_owned()
    };
    let provider_key = json(&ok(cli(&s, &["provider", "show", "Bound", "--json"])))["dpop_key"]
        ["thumbprint"]
        .clone();
    let (alice, bob) = (
        bound_to(&idp, &access(ALICE)),
        bound_to(&idp, &access("bob@example.test")),
    );
    assert_ne!(alice, bob, "one key each");
    assert_ne!(
        serde_json::json!(alice),
        provider_key,
        "not the provider's key"
    );

    ok(cli(&s, &["token", "refresh", "Bound", "--account", ALICE]));
    let token = access(ALICE);
    assert_eq!(
        bound_to(&idp, &token),
        alice,
        "the refresh kept alice's key"
    );
    let url = idp.endpoint("userinfo_endpoint");
    let proof = stdout(&ok(cli(
        &s,
        &["token", "proof", "Bound", "--account", ALICE, "--url", &url],
    )));
    let dpop = format!("DPoP {token}");
    assert_eq!(
        userinfo(&idp, &[("Authorization", &dpop), ("DPoP", proof.trim())]),
        200,
        "alice's proof, made with alice's key"
    );
    // Turned off for new accounts, the keys stay with the tokens bound to them: a bulk refresh
    // uses each account's own.
    ok(cli(
        &s,
        &["provider", "update", "Bound", "--dpop-per-account=false"],
    ));
    ok(cli(&s, &["token", "refresh", "--all"]));
    assert_eq!(bound_to(&idp, &access(ALICE)), alice, "alice's key, still");
    assert_eq!(
        bound_to(&idp, &access("bob@example.test")),
        bob,
        "bob's key, still"
    );
}

#[test]
fn a_refresh_keeps_the_binding() {
    let idp = Idp::start();
    let s = bound(&idp);
    signin::login_as(&s, &[PASS], "Bound", "alice");
    let before = token(&s);
    ok(cli(&s, &["token", "refresh", "Bound", "--account", ALICE]));
    let after = token(&s);
    assert_ne!(after["token"], before["token"], "a new token");
    assert_eq!(after["token_type"], "DPoP");
    let access = after["token"].as_str().unwrap();
    assert_eq!(
        bound_to(&idp, access),
        bound_to(&idp, before["token"].as_str().unwrap()),
        "the same key"
    );
    let url = idp.endpoint("userinfo_endpoint");
    let proof = stdout(&ok(cli(&s, &["token", "proof", "Bound", "--url", &url])));
    let dpop = format!("DPoP {access}");
    assert_eq!(
        userinfo(&idp, &[("Authorization", &dpop), ("DPoP", proof.trim())]),
        200
    );
}

/// A provider that wants its own nonce in every proof gets it: each token request is refused
/// once with a nonce (`use_dpop_nonce`) and sent once more with it, never a third time.
#[test]
fn a_nonce_challenge_is_answered_exactly_once() {
    let idp = Idp::start_with(Options {
        dpop_nonce: true,
        ..Default::default()
    });
    let s = bound(&idp);
    signin::login_as(&s, &[PASS], "Bound", "alice");
    assert_eq!(idp.requests("/token"), 2, "challenged, then answered");
    ok(cli(&s, &["token", "refresh", "Bound", "--account", ALICE]));
    assert_eq!(idp.requests("/token"), 4);
    assert_eq!(idp.grants("refresh_token"), 1);
    assert_eq!(token(&s)["token_type"], "DPoP");
}

/// A server that asks for a new nonce on every answer (a fault the real provider never
/// shows, so a canned one plays it) gets two requests, and the person a clear error.
#[test]
fn a_provider_asking_for_a_new_nonce_every_time_gets_two_requests() {
    let server = CannedServer::start(vec![(
        "/token".into(),
        Canned::json(r#"{"error":"use_dpop_nonce","error_description":"nonce please"}"#)
            .with_status(400)
            .with_header("DPoP-Nonce", "nonce-{n}")
            .numbered(),
    )]);
    let s = Session::without_keyring();
    let token_url = format!("{}/token", server.base);
    ok(run(
        &s,
        &[
            "provider",
            "add",
            "Greedy",
            "--token-url",
            &token_url,
            "--client-id",
            "desk",
            "--client-secret-stdin",
            "--dpop",
        ],
        &[PASS],
        "secret\n",
    ));
    let out = cli(&s, &["login", "Greedy", "--client-credentials", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("use_dpop_nonce"),
        "the provider's error is named: {}",
        stderr(&out)
    );
    let sent = server.received("/token");
    assert_eq!(sent.len(), 2, "one challenge answered, no more");
    let heads = server.requests();
    assert!(
        heads[1].to_ascii_lowercase().contains("dpop: "),
        "the retry carries a proof: {}",
        heads[1]
    );
    let tokens = json(&ok(cli(&s, &["token", "list", "--json"])));
    assert_eq!(tokens, serde_json::json!([]), "nothing stored");
}
