//! Client authentication by signed assertion (RFC 7523 §2.2, OpenID Connect Core §9) against the
//! real test provider, whose client `desk-jwt` is let in only with a valid client_secret_jwt
//! assertion, and with each `jti` once: every request below (code exchange, refreshes, client
//! credentials, pushed authorization, revocation) had to carry a fresh one.

use oauth_desk_tests::cli::{json, run, stderr, stdout};
use oauth_desk_tests::idp::{self, Idp};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{self, ok, outcome};

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "assertion tests");

const REFRESH_ALICE: &[&str] = &[
    "token",
    "refresh",
    "Keyed",
    "--account",
    "alice@example.test",
];

fn cli(s: &Session, args: &[&str]) -> std::process::Output {
    run(s, args, &[PASS], "")
}

/// A vault with "Signed": the IdP's `desk-jwt` client, authenticating as `auth`.
fn signed(idp: &Idp, auth: &str) -> Session {
    let s = Session::without_keyring();
    signin::add_provider(&s, &[PASS], idp, "Signed", &idp::JWT);
    ok(cli(
        &s,
        &["provider", "update", "Signed", "--client-auth", auth],
    ));
    s
}

#[test]
fn a_client_secret_jwt_client_signs_in_refreshes_pushes_and_revokes() {
    let idp = Idp::start();
    let s = signed(&idp, "client_secret_jwt");

    let signed = signin::login_as(&s, &[PASS], "Signed", "alice");
    assert_eq!(signed["account"], "alice@example.test");
    for _ in 0..2 {
        ok(cli(
            &s,
            &[
                "token",
                "refresh",
                "Signed",
                "--account",
                "alice@example.test",
            ],
        ));
    }
    assert_eq!(
        idp.grants("refresh_token"),
        2,
        "two refreshes, two assertions"
    );

    let robot = outcome(&ok(cli(
        &s,
        &["login", "Signed", "--client-credentials", "--json"],
    )));
    assert_eq!(robot["grant"], "client_credentials");

    ok(cli(&s, &["provider", "update", "Signed", "--par"]));
    let pushed = signin::login_as(&s, &[PASS], "Signed", "bob");
    assert_eq!(
        pushed["account"], "bob@example.test",
        "pushed with an assertion"
    );

    ok(cli(
        &s,
        &[
            "token",
            "revoke",
            "Signed",
            "--account",
            "alice@example.test",
        ],
    ));
    let after = cli(
        &s,
        &[
            "token",
            "refresh",
            "Signed",
            "--account",
            "alice@example.test",
        ],
    );
    assert!(!after.status.success(), "revoked: {}", stderr(&after));
}

/// The same client sending its secret (HTTP Basic) is refused: what let it in above was the
/// assertion, not the secret.
#[test]
fn the_secret_itself_does_not_get_this_client_in() {
    let idp = Idp::start();
    let s = signed(&idp, "basic");
    let out = cli(&s, &["login", "Signed", "--client-credentials", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("invalid_client"), "{}", stderr(&out));
}

/// A vault with "Keyed": a private_key_jwt client whose key OAuth Desk made (or, with
/// `import`, was given), registered with the IdP by the public JWKS `provider jwks` prints, as
/// a person pastes it into a provider's console. Returns the JWKS.
fn keyed(idp: &Idp, s: &Session, key: &[&str], stdin: &str) -> serde_json::Value {
    let mut add = vec![
        "provider",
        "add",
        "Keyed",
        "--issuer",
        &idp.issuer,
        "--client-id",
        "not-registered-yet",
        "--client-auth",
        "private_key_jwt",
    ];
    add.extend(key);
    ok(run(s, &add, &[PASS], stdin));
    let jwks = json(&ok(cli(s, &["provider", "jwks", "Keyed"])));
    let client_id = idp.register(serde_json::json!({
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": jwks,
    }));
    ok(cli(
        s,
        // With `=`: a registered id may begin with "-".
        &[
            "provider",
            "update",
            "Keyed",
            &format!("--client-id={client_id}"),
        ],
    ));
    jwks
}

#[test]
fn a_private_key_jwt_client_signs_in_and_refreshes_with_each_algorithm() {
    let idp = Idp::start();
    for alg in ["ES256", "RS256", "PS256", "EdDSA"] {
        let s = Session::without_keyring();
        let jwks = keyed(&idp, &s, &["--generate-key", alg], "");
        let key = &jwks["keys"][0];
        assert_eq!(key["alg"], alg);
        assert!(key.get("d").is_none(), "the JWKS is public: {key}");
        let shown = json(&ok(cli(&s, &["provider", "show", "Keyed", "--json"])));
        assert_eq!(shown["client_key"]["thumbprint"], key["kid"]);

        let refreshes = idp.grants("refresh_token");
        let signed = signin::login_as(&s, &[PASS], "Keyed", "alice");
        assert_eq!(signed["account"], "alice@example.test", "{alg}");
        ok(cli(&s, REFRESH_ALICE));
        assert_eq!(idp.grants("refresh_token"), refreshes + 1, "{alg}");
        if alg == "ES256" {
            // Addressed to the issuer, as some providers ask, the assertion is taken too.
            ok(cli(
                &s,
                &["provider", "update", "Keyed", "--assertion-aud-issuer"],
            ));
            ok(cli(&s, REFRESH_ALICE));
            // The pushed request (RFC 9126) is authenticated with the key too.
            ok(cli(&s, &["provider", "update", "Keyed", "--par"]));
            let pushed = signin::login_as(&s, &[PASS], "Keyed", "bob");
            assert_eq!(pushed["account"], "bob@example.test");
        }

        // Switched off on our side (an assertion signed with a secret instead), the same
        // client is refused: the key let it in.
        ok(run(
            &s,
            &[
                "provider",
                "update",
                "Keyed",
                "--client-auth",
                "client_secret_jwt",
                "--client-secret-stdin",
            ],
            &[PASS],
            "a-secret-of-at-least-thirty-two-bytes\n",
        ));
        let out = cli(&s, &["login", "Keyed", "--client-credentials", "--json"]);
        assert!(
            stderr(&out).contains("invalid_client"),
            "{alg}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn an_imported_pem_key_signs_and_stays_private() {
    let idp = Idp::start();
    let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
    let pem = String::from_utf8(
        openssl::pkey::PKey::from_rsa(rsa)
            .unwrap()
            .private_key_to_pem_pkcs8()
            .unwrap(),
    )
    .unwrap();
    let s = Session::without_keyring();
    let jwks = keyed(
        &idp,
        &s,
        &["--client-key-stdin", "--key-alg", "PS256"],
        &pem,
    );
    assert_eq!(jwks["keys"][0]["alg"], "PS256");
    let robot = outcome(&ok(cli(
        &s,
        &["login", "Keyed", "--client-credentials", "--json"],
    )));
    assert_eq!(robot["grant"], "client_credentials");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    for out in [
        cli(&s, &["provider", "show", "Keyed", "--json"]),
        cli(&s, &["provider", "export"]),
    ] {
        let text = stdout(&out);
        assert!(!text.contains(&body[..40]), "no private key shown: {text}");
        assert!(!text.contains("\"d\""), "no private JWK member: {text}");
    }
}

/// Bad keys are refused with what is wrong, and nothing is stored.
#[test]
fn a_wrong_key_type_or_garbage_is_refused_and_nothing_is_stored() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
    let pem = String::from_utf8(rsa.private_key_to_pem().unwrap()).unwrap();
    let add = |key: &[&str], stdin: &str| {
        let mut args = vec![
            "provider",
            "add",
            "Bad",
            "--issuer",
            &idp.issuer,
            "--client-id",
            "x",
            "--client-auth",
            "private_key_jwt",
        ];
        args.extend(key);
        run(&s, &args, &[PASS], stdin)
    };
    for (key, stdin, says) in [
        (
            &["--client-key-stdin", "--key-alg", "ES256"][..],
            pem.as_str(),
            "ES256 needs an EC P-256 key",
        ),
        (
            &["--client-key-stdin"][..],
            "not a key at all\n",
            "is neither PEM",
        ),
        (
            &["--client-key-stdin"][..],
            "-----BEGIN PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END PRIVATE KEY-----\n",
            "is not a private key in PEM",
        ),
        (&[][..], "", "is required for private_key_jwt"),
        (
            &["--generate-key", "HS256"][..],
            "",
            "ES256, RS256, PS256 or EdDSA",
        ),
    ] {
        let out = add(key, stdin);
        assert_eq!(out.status.code(), Some(1), "{key:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{key:?}: {}", stderr(&out));
        let shown = cli(&s, &["provider", "show", "Bad"]);
        assert!(!shown.status.success(), "{key:?}: nothing was stored");
    }
}

/// A provider that does not know the key refuses the assertion (`invalid_client`), and no
/// token is stored.
#[test]
fn an_assertion_the_provider_refuses_stores_nothing() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    keyed(&idp, &s, &["--generate-key", "ES256"], "");
    // A new key replaces the registered one: the provider has never seen it.
    ok(cli(
        &s,
        &["provider", "update", "Keyed", "--generate-key", "ES256"],
    ));
    let out = cli(&s, &["login", "Keyed", "--client-credentials", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("invalid_client"), "{}", stderr(&out));
    let tokens = json(&ok(cli(&s, &["token", "list", "--json"])));
    assert_eq!(tokens, serde_json::json!([]), "no token stored");
}
