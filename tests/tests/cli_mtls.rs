//! Mutual-TLS client authentication (RFC 8705) against the real test provider, served over
//! HTTPS and asking every client for a certificate: `tls_client_auth` with a certificate a CA
//! issued (the provider checks the chain and the subject), `self_signed_tls_client_auth` with
//! one OAuth Desk makes (the provider checks it against the registered JWKS). Each signs in
//! and refreshes; without the certificate on our side, the provider refuses the client. Bad
//! certificates are refused here, and nothing is stored.

use std::path::Path;

use oauth_desk_tests::cli::{json, run, stderr};
use oauth_desk_tests::idp::{Idp, Options};
use oauth_desk_tests::pki::Pki;
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{self, ok, outcome};
use oauth_desk_tests::user::User;

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "mtls tests");
const ALICE: &str = "alice@example.test";

/// The CLI, trusting the test CA for the provider's HTTPS (as a system CA store would).
fn cli(s: &Session, pki: &Pki, args: &[&str], stdin: &str) -> std::process::Output {
    let ca = pki.ca_path();
    run(
        s,
        args,
        &[PASS, ("SSL_CERT_FILE", ca.to_str().unwrap())],
        stdin,
    )
}

/// Signs in as alice through the code flow, the user trusting the CA too.
fn sign_in(s: &Session, pki: &Pki, name: &str) -> serde_json::Value {
    let ca = pki.ca_path();
    let env = [PASS, ("SSL_CERT_FILE", ca.to_str().unwrap())];
    let (running, url) = signin::start_login(s, &env, name, &[]);
    let (status, page) = User::trusting("alice", &ca)
        .sign_in(&url)
        .expect("the user signs in");
    assert_eq!(status, 200, "{page}");
    outcome(&ok(running.finish()))
}

fn add(s: &Session, pki: &Pki, idp: &Idp, name: &str, client_id: &str, more: &[&str]) {
    // With `=`: a registered id may begin with "-".
    let id = format!("--client-id={client_id}");
    let mut args = vec!["provider", "add", name, "--issuer", &idp.issuer, &id];
    args.extend(more);
    ok(cli(s, pki, &args, ""));
}

/// Signs in, refreshes, and gets client credentials: three requests the certificate let in.
fn use_it(s: &Session, pki: &Pki, idp: &Idp, name: &str) {
    assert_eq!(sign_in(s, pki, name)["account"], ALICE);
    let before = idp.grants("refresh_token");
    ok(cli(
        s,
        pki,
        &["token", "refresh", name, "--account", ALICE],
        "",
    ));
    assert_eq!(idp.grants("refresh_token"), before + 1);
    let robot = outcome(&ok(cli(
        s,
        pki,
        &["login", name, "--client-credentials", "--json"],
        "",
    )));
    assert_eq!(robot["grant"], "client_credentials");
}

fn refused_without_the_certificate(s: &Session, pki: &Pki, name: &str) {
    // Switched off on our side (a public client sends no certificate), the client is refused.
    ok(cli(
        s,
        pki,
        &["provider", "update", name, "--client-auth", "none"],
        "",
    ));
    let out = cli(s, pki, &["token", "refresh", name, "--account", ALICE], "");
    assert!(
        !out.status.success() && stderr(&out).contains("invalid_client"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_tls_client_auth_client_signs_in_and_refreshes_with_its_issued_certificate() {
    let pki = Pki::new();
    let idp = Idp::start_with(Options {
        tls: Some(&pki),
        ..Default::default()
    });
    let client_id = idp.register(serde_json::json!({
        "token_endpoint_auth_method": "tls_client_auth",
        "tls_client_auth_subject_dn": "CN=desk-tls",
    }));
    // The CA's certificate comes first in the file, as some bundles have it.
    let issued = pki.client("desk-tls");
    let ca = std::fs::read_to_string(pki.ca_path()).unwrap();
    let file = pki.write("client.pem", &format!("{ca}{}{}", issued.cert, issued.key));
    let s = Session::without_keyring();
    add(
        &s,
        &pki,
        &idp,
        "Certified",
        &client_id,
        &[
            "--client-auth",
            "tls_client_auth",
            "--client-cert",
            file.to_str().unwrap(),
        ],
    );
    let shown = json(&ok(cli(
        &s,
        &pki,
        &["provider", "show", "Certified", "--json"],
        "",
    )));
    assert_eq!(shown["client_cert"]["subject"], "CN=desk-tls");
    assert_eq!(shown["client_cert"]["self_signed"], false);
    use_it(&s, &pki, &idp, "Certified");
    refused_without_the_certificate(&s, &pki, "Certified");
}

#[test]
fn a_self_signed_client_gets_its_certificate_made_and_registered_by_its_jwks() {
    let pki = Pki::new();
    let idp = Idp::start_with(Options {
        tls: Some(&pki),
        ..Default::default()
    });
    let s = Session::without_keyring();
    add(
        &s,
        &pki,
        &idp,
        "SelfSigned",
        "not-registered-yet",
        &["--client-auth", "self_signed_tls_client_auth"],
    );
    let jwks = json(&ok(cli(&s, &pki, &["provider", "jwks", "SelfSigned"], "")));
    assert!(jwks["keys"][0]["x5c"][0].is_string(), "{jwks}");
    let client_id = idp.register(serde_json::json!({
        "token_endpoint_auth_method": "self_signed_tls_client_auth",
        "jwks": jwks,
    }));
    ok(cli(
        &s,
        &pki,
        &[
            "provider",
            "update",
            "SelfSigned",
            &format!("--client-id={client_id}"),
        ],
        "",
    ));
    let shown = json(&ok(cli(
        &s,
        &pki,
        &["provider", "show", "SelfSigned", "--json"],
        "",
    )));
    assert_eq!(shown["client_cert"]["self_signed"], true);
    use_it(&s, &pki, &idp, "SelfSigned");
    refused_without_the_certificate(&s, &pki, "SelfSigned");
}

/// Where the metadata names mTLS aliases (RFC 8705 §5), a certificate client sends its token,
/// refresh, revocation and userinfo requests there, and none to the plain endpoints.
#[test]
fn a_certificate_client_uses_the_endpoints_mtls_aliases() {
    let pki = Pki::new();
    let idp = Idp::start_with(Options {
        tls: Some(&pki),
        mtls_aliases: true,
        ..Default::default()
    });
    let client_id = idp.register(serde_json::json!({
        "token_endpoint_auth_method": "tls_client_auth",
        "tls_client_auth_subject_dn": "CN=desk-tls",
    }));
    let file = pki.write("client.pem", &pki.client("desk-tls").bundle());
    let s = Session::without_keyring();
    add(
        &s,
        &pki,
        &idp,
        "Aliased",
        &client_id,
        &[
            "--client-auth",
            "tls_client_auth",
            "--client-cert",
            path_of(&file),
        ],
    );
    let shown = json(&ok(cli(
        &s,
        &pki,
        &["provider", "show", "Aliased", "--json"],
        "",
    )));
    assert!(
        shown["mtls_token_url"]
            .as_str()
            .unwrap()
            .starts_with("https://localhost:"),
        "{shown}"
    );
    assert_eq!(
        sign_in(&s, &pki, "Aliased")["account"],
        ALICE,
        "named by userinfo or the ID token"
    );
    ok(cli(
        &s,
        &pki,
        &["token", "refresh", "Aliased", "--account", ALICE],
        "",
    ));
    ok(cli(
        &s,
        &pki,
        &["token", "revoke", "Aliased", "--account", ALICE],
        "",
    ));
    assert_eq!(
        idp.requests("localhost/token"),
        2,
        "the code and the refresh"
    );
    assert_eq!(
        idp.requests("127.0.0.1/token"),
        0,
        "none to the plain token endpoint"
    );
    assert!(idp.requests("localhost/token/revocation") >= 1);
    assert_eq!(idp.requests("127.0.0.1/token/revocation"), 0);
}

/// A certificate of another key, an expired one, a file of garbage, and none at all: each is
/// refused with what is wrong, and no provider is stored.
#[test]
fn bad_certificates_are_refused_and_nothing_is_stored() {
    let pki = Pki::new();
    let good = pki.client("desk-tls");
    let other = pki.client("desk-tls");
    let expired = pki.expired_client("desk-tls");
    let mismatched = pki.write("mismatched.pem", &format!("{}{}", good.cert, other.key));
    let old = pki.write("expired.pem", &expired.bundle());
    let garbage = pki.write("garbage.pem", "not a certificate\n");
    let binary = pki.dir().join("garbage.p12");
    std::fs::write(&binary, [0x30, 0x82, 0xff, 0xfe, 0x00, 0x01]).unwrap();
    let s = Session::without_keyring();
    fn tls(file: &Path) -> [&str; 4] {
        [
            "--client-auth",
            "tls_client_auth",
            "--client-cert",
            path_of(file),
        ]
    }
    let (m, o, g, b) = (tls(&mismatched), tls(&old), tls(&garbage), tls(&binary));
    let cases: [(&[&str], &str); 6] = [
        (&m, "does not match its private key"),
        (&o, "expired"),
        (&g, "is not a certificate in PEM"),
        (&b, "is not a PKCS#12 file"),
        (
            &["--client-auth", "tls_client_auth"],
            "is required for tls_client_auth",
        ),
        (
            &[
                "--client-auth",
                "private_key_jwt",
                "--generate-key",
                "ES256",
                "--client-cert",
                path_of(&old),
            ],
            "a certificate file is for tls_client_auth",
        ),
    ];
    for (more, says) in cases {
        let mut args = vec![
            "provider",
            "add",
            "Bad",
            "--token-url",
            "https://127.0.0.1:9/token",
            "--client-id",
            "x",
        ];
        args.extend(more);
        let out = cli(&s, &pki, &args, "");
        assert_eq!(out.status.code(), Some(1), "{more:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{more:?}: {}", stderr(&out));
        let shown = cli(&s, &pki, &["provider", "show", "Bad"], "");
        assert!(!shown.status.success(), "{more:?}: nothing was stored");
    }
}

fn path_of(p: &Path) -> &str {
    p.to_str().unwrap()
}
