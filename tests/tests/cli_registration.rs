//! Dynamic client registration (RFC 7591) and its management (RFC 7592) against the real test
//! provider (oidc-provider's `registration` and `registrationManagement`): `provider register`
//! creates the client the sign-ins then use, `provider update --update-registration` sends
//! the new settings, `provider remove --deregister` deletes the client there. Answers no real
//! provider gives (an unasked redirect URI, no client id) come from the canned server, which
//! says so.

use oauth_desk_tests::canned::{Canned, CannedServer};
use oauth_desk_tests::cli::{json, run, stderr};
use oauth_desk_tests::idp::{Idp, Options};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{login_as, ok};
use serde_json::Value;

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "registration tests");

/// The stored registration of `name`: (client uri, registration token, client secret).
fn stored(s: &Session, name: &str) -> (String, String, String) {
    s.open_vault(PASS.1)
        .conn()
        .query_row(
            "SELECT r.client_uri, r.access_token, p.client_secret FROM registrations r
             JOIN providers p ON p.id = r.provider_id WHERE p.name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

/// GET the client's registration (RFC 7592 §2.1) with `token`: its status and metadata.
fn read_registration(uri: &str, token: &str) -> (u16, Value) {
    let resp = oauth_desk_tests::http()
        .get(uri)
        .bearer_auth(token)
        .send()
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(Value::Null))
}

/// A client credentials grant with the client's id and secret: whether the provider still
/// knows the client.
fn client_works(idp: &Idp, id: &str, secret: &str) -> bool {
    oauth_desk_tests::http()
        .post(idp.endpoint("token_endpoint"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .unwrap()
        .status()
        .is_success()
}

#[test]
fn a_registered_client_signs_in_is_updated_and_is_deleted_at_the_provider() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    let out = ok(run(
        &s,
        &[
            "provider",
            "register",
            "Reg",
            "--issuer",
            &idp.issuer,
            "--json",
        ],
        &[PASS],
        "",
    ));
    let view = json(&out);
    let client_id = view["client_id"].as_str().unwrap().to_owned();
    assert!(!client_id.is_empty() && client_id != "registering");
    assert_eq!(view["has_client_secret"], true);
    assert!(view["registration_url"]
        .as_str()
        .unwrap()
        .starts_with(&idp.issuer));
    let (uri, token, secret) = stored(&s, "Reg");
    assert!(
        uri.starts_with(&idp.issuer) && uri.contains(&client_id),
        "{uri}"
    );
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(
        !text.contains(&token) && !text.contains(&secret),
        "no credential is printed"
    );

    // The provider has the client OAuth Desk asked for, and a sign-in works with it.
    let (status, registered) = read_registration(&uri, &token);
    assert_eq!(status, 200);
    assert_eq!(registered["application_type"], "native");
    assert_eq!(
        registered["redirect_uris"],
        serde_json::json!(["http://127.0.0.1/callback"])
    );
    assert_eq!(
        registered["token_endpoint_auth_method"],
        "client_secret_basic"
    );
    let signed_in = login_as(&s, &[PASS], "Reg", "alice");
    assert_eq!(signed_in["account"], "alice@example.test", "{signed_in}");
    assert!(client_works(&idp, &client_id, &secret));

    // An edit reaches the registration; the provider rotates the registration token.
    ok(run(
        &s,
        &[
            "provider",
            "update",
            "Reg",
            "--scope",
            "openid email",
            "--update-registration",
        ],
        &[PASS],
        "",
    ));
    let (_, new_token, _) = stored(&s, "Reg");
    assert_ne!(new_token, token, "the rotated token is kept");
    let (status, registered) = read_registration(&uri, &new_token);
    assert_eq!(status, 200);
    assert_eq!(registered["scope"], "openid email");
    assert_eq!(
        read_registration(&uri, &token).0,
        401,
        "the old token is spent"
    );

    // Deleted at the provider, then here.
    let out = ok(run(
        &s,
        &["provider", "remove", "Reg", "--yes", "--deregister"],
        &[PASS],
        "",
    ));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Removed provider Reg"));
    assert!(
        !client_works(&idp, &client_id, &secret),
        "the client is gone there"
    );
    let listed = ok(run(&s, &["provider", "list", "--json"], &[PASS], ""));
    assert_eq!(json(&listed), serde_json::json!([]));
}

#[test]
fn a_provider_that_wants_an_initial_access_token_gets_it_from_standard_input_only() {
    let iat = "initial-access-token-canary";
    let idp = Idp::start_with(Options {
        registration_token: Some(iat),
        ..Default::default()
    });
    let s = Session::without_keyring();
    let refused = run(
        &s,
        &["provider", "register", "Reg", "--issuer", &idp.issuer],
        &[PASS],
        "",
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("refused"), "{}", stderr(&refused));
    let listed = ok(run(&s, &["provider", "list", "--json"], &[PASS], ""));
    assert_eq!(json(&listed), serde_json::json!([]), "nothing stored");

    let out = ok(run(
        &s,
        &[
            "provider",
            "register",
            "Reg",
            "--issuer",
            &idp.issuer,
            "--initial-token-stdin",
        ],
        &[PASS],
        &format!("{iat}\n"),
    ));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(!text.contains(iat));
    login_as(&s, &[PASS], "Reg", "bob");
}

#[test]
fn registration_answers_that_do_not_check_out_leave_nothing_behind() {
    // Answers no real provider gives: the canned server.
    let s = Session::without_keyring();
    for (answer, said) in [
        (r#"{"client_secret": "s"}"#, "no client_id"),
        (
            r#"{"client_id": "c", "redirect_uris": ["http://127.0.0.1/callback", "https://evil.example/cb"]}"#,
            "did not ask for",
        ),
        (
            r#"{"client_id": "c", "registration_client_uri": "https://evil.example/reg/c", "registration_access_token": "t"}"#,
            "not sent there",
        ),
        // Downgraded to a public client: not followed, and said that the client may remain.
        (
            r#"{"client_id": "c", "token_endpoint_auth_method": "none"}"#,
            "registered the client with none, not basic as asked",
        ),
    ] {
        let server =
            CannedServer::start(vec![("/reg".into(), Canned::json(answer).with_status(201))]);
        let out = run(
            &s,
            &[
                "provider",
                "register",
                "Reg",
                "--auth-url",
                &format!("{}/auth", server.base),
                "--token-url",
                &format!("{}/token", server.base),
                "--registration-url",
                &format!("{}/reg", server.base),
            ],
            &[PASS],
            "",
        );
        assert_eq!(out.status.code(), Some(1), "{answer}");
        assert!(stderr(&out).contains(said), "{}", stderr(&out));
        let listed = ok(run(&s, &["provider", "list", "--json"], &[PASS], ""));
        assert_eq!(json(&listed), serde_json::json!([]), "nothing stored");
    }

    // Refused after the provider made the client: deleted again where the answer says how.
    let server = CannedServer::start(vec![("/reg/c".into(), Canned::json("").with_status(204))]);
    let answer = format!(
        r#"{{"client_id": "c", "redirect_uris": ["https://evil.example/cb"], "registration_client_uri": "{}/reg/c", "registration_access_token": "t"}}"#,
        server.base
    );
    server.set("/reg", Canned::json(answer).with_status(201));
    let out = run(
        &s,
        &[
            "provider",
            "register",
            "Reg",
            "--token-url",
            &format!("{}/token", server.base),
            "--registration-url",
            &format!("{}/reg", server.base),
        ],
        &[PASS],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("deleted again"), "{}", stderr(&out));
    let deleted = server.requests();
    assert!(
        deleted.iter().any(|r| r.starts_with("DELETE /reg/c")),
        "{deleted:?}"
    );

    // No registration endpoint at all, and a client id given by hand: said before asking.
    let out = run(
        &s,
        &[
            "provider",
            "register",
            "Reg",
            "--token-url",
            "https://idp.example/token",
        ],
        &[PASS],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("registration endpoint"),
        "{}",
        stderr(&out)
    );
    let out = run(
        &s,
        &[
            "provider",
            "register",
            "Reg",
            "--client-id",
            "mine",
            "--registration-url",
            "https://idp.example/reg",
        ],
        &[PASS],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("client_id"), "{}", stderr(&out));

    // Removing with --deregister a provider that was never registered here: said, kept.
    oauth_desk_tests::cli::add_provider_by_hand(&s, &[PASS], "Typed", &[], "");
    let out = run(
        &s,
        &["provider", "remove", "Typed", "--yes", "--deregister"],
        &[PASS],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not registered by OAuth Desk"));
    ok(run(&s, &["provider", "show", "Typed"], &[PASS], ""));
}

#[test]
fn a_registration_is_forgotten_when_the_provider_moves_to_another_host() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    ok(run(
        &s,
        &["provider", "register", "Reg", "--issuer", &idp.issuer],
        &[PASS],
        "",
    ));
    stored(&s, "Reg");
    // The token endpoint moves: the registration token must never serve the new host, nor
    // fetch a secret that would then be sent there.
    ok(run(
        &s,
        &[
            "provider",
            "update",
            "Reg",
            "--token-url",
            "https://elsewhere.example/token",
        ],
        &[PASS],
        "",
    ));
    let left: i64 = s
        .open_vault(PASS.1)
        .conn()
        .query_row("SELECT count(*) FROM registrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
    let out = run(
        &s,
        &[
            "provider",
            "update",
            "Reg",
            "--client-secret-stdin",
            "--update-registration",
        ],
        &[PASS],
        "the new host's secret\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not registered by OAuth Desk"),
        "{}",
        stderr(&out)
    );
}
