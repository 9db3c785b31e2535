//! `oauth-desk login` against the real test provider: the code flow with each kind of client
//! (the test plays the user through `--no-browser`), the device flow, client credentials, two
//! accounts side by side, and redirects that must be refused.

use std::process::Output;

use oauth_desk_core::vault::{activity, tokens, Vault};
use oauth_desk_tests::cli::{json, run, stderr, stdout, Running};
use oauth_desk_tests::idp::{self, Client, Idp};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{self, outcome};
use oauth_desk_tests::user::{self, User};
use url::Url;

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "login tests");

fn ok(o: Output) -> Output {
    signin::ok(o)
}

/// A vault with provider `name` registered by discovery for `client`.
fn with_provider(idp: &Idp, name: &str, client: &Client) -> Session {
    let s = Session::without_keyring();
    signin::add_provider(&s, &[PASS], idp, name, client);
    s
}

fn start_login(s: &Session, name: &str, extra: &[&str]) -> (Running, String) {
    signin::start_login(s, &[PASS], name, extra)
}

fn login_as(s: &Session, name: &str, who: &str) -> serde_json::Value {
    signin::login_as(s, &[PASS], name, who)
}

fn open_vault(s: &Session) -> Vault {
    s.open_vault(PASS.1)
}

#[test]
fn code_flow_with_each_kind_of_client() {
    let idp = Idp::start();
    for (client, auth) in [
        (&idp::BASIC, "basic"),
        (&idp::POST, "basic"),
        (&idp::PUBLIC, "none"),
    ] {
        let s = with_provider(&idp, "Test IdP", client);
        if client.id == idp::POST.id {
            ok(run(
                &s,
                &["provider", "update", "Test IdP", "--client-auth", "post"],
                &[PASS],
                "",
            ));
        }
        let signed = login_as(&s, "Test IdP", "alice");
        assert_eq!(
            signed["account"], "alice@example.test",
            "{}: the label is the ID token's email",
            client.id
        );
        assert_eq!(signed["grant"], "authorization_code");
        assert_eq!(
            signed["has_refresh_token"], true,
            "{}: offline_access gives a refresh token",
            client.id
        );
        assert!(signed["expires_at"].as_str().unwrap().ends_with('Z'));
        let vault = open_vault(&s);
        let token = tokens::get(vault.conn(), "Test IdP", "alice@example.test").unwrap();
        assert!(
            token.id_token.is_some(),
            "{}: the verified ID token is kept",
            client.id
        );
        assert_eq!(token.subject.as_deref(), Some("alice"));
        let shown = json(&ok(run(
            &s,
            &["provider", "show", "Test IdP", "--json"],
            &[PASS],
            "",
        )));
        assert_eq!(
            shown["client_auth"],
            if client.id == idp::POST.id {
                "post"
            } else {
                auth
            }
        );
    }
}

#[test]
fn two_accounts_side_by_side_and_signing_in_again_replaces() {
    let idp = Idp::start();
    let s = with_provider(&idp, "Test IdP", &idp::BASIC);
    assert_eq!(login_as(&s, "Test IdP", "alice")["replaced"], false);
    assert_eq!(
        login_as(&s, "Test IdP", "bob")["account"],
        "bob@example.test"
    );
    let again = login_as(&s, "Test IdP", "alice");
    assert_eq!(
        again["replaced"], true,
        "the same account replaces its token"
    );
    let status = json(&ok(run(&s, &["vault", "status", "--json"], &[PASS], "")));
    assert_eq!(status["tokens"], 2, "alice and bob, one row each: {status}");
    // --account overrides the label.
    let (running, url) = start_login(&s, "Test IdP", &["--account", "work"]);
    User::new("carol").sign_in(&url).unwrap();
    assert_eq!(outcome(&ok(running.finish()))["account"], "work");
}

#[test]
fn device_flow_and_client_credentials() {
    let idp = Idp::start();
    let s = with_provider(&idp, "Test IdP", &idp::BASIC);
    let mut running = Running::start(&s, &["login", "Test IdP", "--device", "--json"], &[PASS]);
    let open = running.line();
    let code = running.line();
    let uri = open.strip_prefix("Open:  ").expect("the verification URI");
    let code = code.strip_prefix("Code:  ").expect("the user code");
    User::new("dave")
        .confirm_device(uri, code)
        .expect("the user approves");
    let signed = outcome(&ok(running.finish()));
    assert_eq!(signed["account"], "dave@example.test");
    assert_eq!(signed["grant"], "device");

    let cc = json(&ok(run(
        &s,
        &[
            "login",
            "Test IdP",
            "--client-credentials",
            "--scope",
            "api:read",
            "--json",
        ],
        &[PASS],
        "",
    )));
    assert_eq!(
        cc["account"],
        idp::BASIC.id,
        "a service account is named after its client"
    );
    assert_eq!(cc["grant"], "client_credentials");
    assert_eq!(cc["has_refresh_token"], false);
}

fn with_param(url: &Url, key: &str, value: Option<&str>) -> Url {
    let mut u = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != key)
        .collect();
    let mut q = u.query_pairs_mut();
    q.clear();
    for (k, v) in &pairs {
        q.append_pair(k, v);
    }
    if let Some(v) = value {
        q.append_pair(key, v);
    }
    drop(q);
    u
}

/// The CLI must fail saying `says`, store no token, and log the failure without the code.
fn assert_refused(s: &Session, running: Running, code: Option<&str>, says: &str) {
    let out = running.finish();
    assert_eq!(out.status.code(), Some(1), "must fail: {}", stdout(&out));
    let last = stderr(&out).lines().last().unwrap_or_default().to_owned();
    let err: serde_json::Value =
        serde_json::from_str(&last).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    let message = err["message"].as_str().unwrap();
    assert!(message.contains(says), "should say {says:?}: {message}");
    let vault = open_vault(s);
    let count: i64 = vault
        .conn()
        .query_row("SELECT count(*) FROM tokens", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 0, "nothing stored after: {message}");
    let log = serde_json::to_string(&activity::list_recent(vault.conn(), 50).unwrap()).unwrap();
    assert!(
        log.contains("sign-in failed"),
        "the failure is logged: {log}"
    );
    if let Some(code) = code {
        assert!(
            !log.contains(code) && !message.contains(code),
            "the code never reaches a log or a message"
        );
    }
}

// A redirect without this sign-in's state (a stray request, a forged or replayed redirect)
// does not end the sign-in: tests/loopback.rs.
#[test]
fn redirects_with_a_bad_issuer_or_duplicates_or_refused_consent_store_nothing() {
    let idp = Idp::start();

    // An iss of another issuer (RFC 9207).
    let s = with_provider(&idp, "Test IdP", &idp::BASIC);
    let (running, url) = start_login(&s, "Test IdP", &[]);
    let redirect = User::new("alice").authorize(&url).unwrap();
    let code = redirect
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let (status, page) =
        user::deliver(&with_param(&redirect, "iss", Some("https://evil.example"))).unwrap();
    assert_eq!(status, 400);
    assert!(!page.contains("evil"), "the reply page never echoes input");
    assert_refused(&s, running, Some(&code), "RFC 9207");

    // Duplicated parameters.
    let s = with_provider(&idp, "Test IdP", &idp::BASIC);
    let (running, url) = start_login(&s, "Test IdP", &[]);
    let redirect = User::new("alice").authorize(&url).unwrap();
    let mut dup = redirect.clone();
    dup.query_pairs_mut().append_pair("code", "second");
    user::deliver(&dup).unwrap();
    assert_refused(&s, running, None, "more than once");

    // The user refuses consent.
    let s = with_provider(&idp, "Test IdP", &idp::BASIC);
    let (running, url) = start_login(&s, "Test IdP", &[]);
    let refused = User::new("alice").refuse(&url).unwrap();
    user::deliver(&refused).unwrap();
    assert_refused(&s, running, None, "access_denied");
}

#[test]
fn the_listener_ignores_other_paths_methods_and_hosts_then_takes_the_redirect() {
    let idp = Idp::start();
    let s = with_provider(&idp, "Test IdP", &idp::PUBLIC);
    let (running, url) = start_login(&s, "Test IdP", &[]);
    let redirect = User::new("erin").authorize(&url).unwrap();
    let port = redirect.port().unwrap();
    let http = oauth_desk_tests::http();
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(
        http.get(format!("{base}/other?{}", redirect.query().unwrap()))
            .send()
            .unwrap()
            .status(),
        404
    );
    assert_eq!(http.post(redirect.clone()).send().unwrap().status(), 405);
    let rebinding = http
        .get(redirect.clone())
        .header("Host", "evil.example")
        .send()
        .unwrap();
    assert_eq!(
        rebinding.status(),
        400,
        "another Host is refused (DNS rebinding)"
    );
    let (status, _) = user::deliver(&redirect).unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        outcome(&ok(running.finish()))["account"],
        "erin@example.test"
    );
}

#[test]
fn codes_verifiers_and_tokens_never_reach_output_or_the_log() {
    let idp = Idp::start();
    let s = with_provider(&idp, "Test IdP", &idp::BASIC);
    let (running, url) = start_login(&s, "Test IdP", &[]);
    let redirect = User::new("alice").authorize(&url).unwrap();
    let code = redirect
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    user::deliver(&redirect).unwrap();
    let out = ok(running.finish());
    let vault = open_vault(&s);
    let token = tokens::get(vault.conn(), "Test IdP", "alice@example.test").unwrap();
    let canaries = [
        code.as_str(),
        token.access_token.as_ref().unwrap().expose().as_str(),
        token.refresh_token.as_ref().unwrap().expose().as_str(),
        token.id_token.as_ref().unwrap().expose().as_str(),
        idp::BASIC.secret.unwrap(),
    ];
    // What the CLI printed after the URL, and everything logged.
    let printed = format!(
        "{}{}",
        stdout(&out).lines().skip(1).collect::<String>(),
        stderr(&out)
    );
    let log = serde_json::to_string(&activity::list_recent(vault.conn(), 100).unwrap()).unwrap();
    for c in canaries {
        assert!(!printed.contains(c), "a secret reached the output");
        assert!(!log.contains(c), "a secret reached the activity log");
    }
    // The PKCE verifier never leaves the process: the authorization URL carries only its hash.
    assert!(url.contains("code_challenge_method=S256") && !url.contains("code_verifier"));
}
