//! Client authentication by signed assertion (RFC 7523 §2.2, OpenID Connect Core §9) against the
//! real test provider, whose client `desk-jwt` is let in only with a valid client_secret_jwt
//! assertion, and with each `jti` once: every request below (code exchange, refreshes, client
//! credentials, pushed authorization, revocation) had to carry a fresh one.

use oauth_desk_tests::cli::{run, stderr};
use oauth_desk_tests::idp::{self, Idp};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{self, ok, outcome};

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "assertion tests");

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
