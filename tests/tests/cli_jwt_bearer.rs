//! The JWT bearer grant (RFC 7523 §2.1): `login NAME --jwt-bearer` signs an assertion with the
//! provider's client key, for a service account or a subject, against the real test provider,
//! whose grant handler (registered with `registerGrantType`) verifies it with the keys the
//! client registered and says what it claimed.

use oauth_desk_tests::cli::{json, run, stderr, stdout};
use oauth_desk_tests::idp::{self, Idp};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::ok;

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "jwt bearer tests");
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// "Svc": a private_key_jwt client whose key OAuth Desk made, registered with the IdP by its
/// public JWKS, allowed the JWT bearer grant. Returns its client id.
fn service(idp: &Idp, s: &Session) -> String {
    ok(run(
        s,
        &[
            "provider",
            "add",
            "Svc",
            "--issuer",
            &idp.issuer,
            "--client-id",
            "not-registered-yet",
            "--client-auth",
            "private_key_jwt",
            "--generate-key",
            "ES256",
        ],
        &[PASS],
        "",
    ));
    let jwks = json(&ok(run(s, &["provider", "jwks", "Svc"], &[PASS], "")));
    let id = idp.register(serde_json::json!({
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": jwks,
        "grant_types": [JWT_BEARER, "client_credentials"],
        "response_types": [],
        "redirect_uris": [],
    }));
    ok(run(
        s,
        &["provider", "update", "Svc", &format!("--client-id={id}")],
        &[PASS],
        "",
    ));
    id
}

#[test]
fn a_signed_assertion_gets_a_token_for_the_service_account_or_a_subject() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    let id = service(&idp, &s);

    let signed = json(&ok(run(
        &s,
        &[
            "login",
            "Svc",
            "--jwt-bearer",
            "--scope",
            "openid api:read",
            "--json",
        ],
        &[PASS],
        "",
    )));
    assert_eq!(
        signed["account"], id,
        "the service account is the client: {signed}"
    );
    let claimed = idp.received("assertions");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0]["sub"], id.as_str());
    assert_eq!(claimed[0]["scope"], "openid api:read");
    let token = stdout(&ok(run(
        &s,
        &["token", "get", "Svc", "--account", &id],
        &[PASS],
        "",
    )));
    assert!(idp.introspect(&idp::BASIC, token.trim()));

    let signed = json(&ok(run(
        &s,
        &[
            "login",
            "Svc",
            "--jwt-bearer",
            "--subject",
            "carol",
            "--json",
        ],
        &[PASS],
        "",
    )));
    assert_eq!(signed["account"], "carol");
    let claimed = idp.received("assertions");
    assert_eq!(claimed[1]["sub"], "carol");
    assert_ne!(claimed[0]["jti"], claimed[1]["jti"], "each assertion once");
    let log = json(&ok(run(
        &s,
        &["activity", "--json", "--limit", "1"],
        &[PASS],
        "",
    )));
    assert_eq!(log[0]["action"], "signed in");
}

#[test]
fn without_a_key_or_with_one_the_provider_does_not_know_nothing_is_stored() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    oauth_desk_tests::signin::add_provider(&s, &[PASS], &idp, "Plain", &idp::BASIC);
    let out = run(&s, &["login", "Plain", "--jwt-bearer"], &[PASS], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no client key"), "{}", stderr(&out));

    service(&idp, &s);
    // A new key the provider was never given: its signature does not check out there.
    ok(run(
        &s,
        &["provider", "update", "Svc", "--generate-key", "ES256"],
        &[PASS],
        "",
    ));
    let out = run(&s, &["login", "Svc", "--jwt-bearer"], &[PASS], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("invalid_"), "{}", stderr(&out));
    let listed = json(&ok(run(&s, &["token", "list", "--json"], &[PASS], "")));
    assert_eq!(listed, serde_json::json!([]), "nothing stored");
    assert!(idp.received("assertions").is_empty());
}

#[test]
fn a_google_service_account_key_file_becomes_a_provider_whose_key_lives_in_the_vault() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    let dir = tempfile::tempdir().unwrap();
    let key_file = idp::service_account_key_file(dir.path(), &idp, "pending@test.iam.example");
    ok(run(
        &s,
        &[
            "provider",
            "add",
            "Google SA",
            "--service-account-key",
            key_file.to_str().unwrap(),
            "--scope",
            "openid",
        ],
        &[PASS],
        "",
    ));
    let shown = json(&ok(run(
        &s,
        &["provider", "show", "Google SA", "--json"],
        &[PASS],
        "",
    )));
    assert_eq!(shown["client_id"], "pending@test.iam.example");
    assert_eq!(shown["client_auth"], "private_key_jwt");
    assert_eq!(shown["client_key"]["alg"], "RS256");
    assert!(
        !shown.to_string().contains("service-account.json"),
        "no path kept"
    );

    // The provider learns the public key; the file goes, the key stays in the vault.
    let jwks = json(&ok(run(
        &s,
        &["provider", "jwks", "Google SA"],
        &[PASS],
        "",
    )));
    let id = idp.register(serde_json::json!({
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": jwks,
        "grant_types": [JWT_BEARER],
        "response_types": [],
        "redirect_uris": [],
    }));
    ok(run(
        &s,
        &[
            "provider",
            "update",
            "Google SA",
            &format!("--client-id={id}"),
        ],
        &[PASS],
        "",
    ));
    drop(dir);
    let signed = json(&ok(run(
        &s,
        &["login", "Google SA", "--jwt-bearer", "--json"],
        &[PASS],
        "",
    )));
    assert_eq!(signed["account"], id);
}
