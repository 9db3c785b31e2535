//! Token exchange (RFC 8693) against the real test provider, whose grant handler (registered
//! with oidc-provider's `registerGrantType`) takes only active access tokens of its own and
//! says what it received.

use oauth_desk_tests::cli::{json, run, stderr};
use oauth_desk_tests::idp::{self, Idp, Options};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{add_provider, login_as, ok};

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "exchange tests");
const ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";

fn session(idp: &Idp) -> Session {
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], idp, "Front", &idp::BASIC);
    add_provider(&s, &[PASS], idp, "Back", &idp::BASIC);
    login_as(&s, &[PASS], "Front", "alice");
    login_as(&s, &[PASS], "Front", "bob");
    s
}

#[test]
fn an_exchanged_token_is_stored_as_an_account_and_the_provider_got_subject_and_actor() {
    let idp = Idp::start();
    let s = session(&idp);
    let out = ok(run(
        &s,
        &[
            "token",
            "exchange",
            "Back",
            "--subject",
            "Front:alice@example.test",
            "--actor",
            "Front:bob@example.test",
            "--audience",
            "orders-api",
            "--resource",
            "https://api.example.test/orders",
            "--scope",
            "openid email",
            "--json",
        ],
        &[PASS],
        "",
    ));
    let got = json(&out);
    assert_eq!(got["account"], "exchanged from Front / alice@example.test");
    assert_eq!(got["scopes"], serde_json::json!(["openid", "email"]));

    let received = idp.received("exchanges");
    assert_eq!(received.len(), 1, "{received:?}");
    let r = &received[0];
    assert_eq!(r["subject"], "alice");
    assert_eq!(r["actor"], "bob");
    assert_eq!(r["subject_token_type"], ACCESS);
    assert_eq!(r["actor_token_type"], ACCESS);
    assert_eq!(r["audience"], "orders-api");
    assert_eq!(r["resource"], "https://api.example.test/orders");
    assert_eq!(r["requested_token_type"], ACCESS);

    // The result is an account of Back, handed out as any other, and the provider takes it.
    let token = String::from_utf8_lossy(
        &ok(run(
            &s,
            &[
                "token",
                "get",
                "Back",
                "--account",
                "exchanged from Front / alice@example.test",
            ],
            &[PASS],
            "",
        ))
        .stdout,
    )
    .trim()
    .to_owned();
    assert!(idp.introspect(&idp::BASIC, &token));
    let log = json(&ok(run(
        &s,
        &["activity", "--json", "--limit", "1"],
        &[PASS],
        "",
    )));
    assert_eq!(log[0]["action"], "token exchanged");
    assert_eq!(
        log[0]["detail"],
        "from Front / alice@example.test, acting Front / bob@example.test"
    );

    // It has no refresh token: once expired, it is exchanged again, the same way, rather
    // than sent to sign in.
    let label = "exchanged from Front / alice@example.test";
    let vault = s.open_vault(PASS.1);
    vault
        .conn()
        .execute(
            "UPDATE tokens SET expires_at = ?1 WHERE account = ?2",
            rusqlite::params![oauth_desk_core::time::now() - 10, label],
        )
        .unwrap();
    drop(vault);
    let renewed = String::from_utf8_lossy(
        &ok(run(
            &s,
            &["token", "get", "Back", "--account", label],
            &[PASS],
            "",
        ))
        .stdout,
    )
    .trim()
    .to_owned();
    assert_ne!(renewed, token, "a new token");
    assert!(idp.introspect(&idp::BASIC, &renewed));
    let received = idp.received("exchanges");
    assert_eq!(received.len(), 2, "exchanged once more: {received:?}");
    assert_eq!(received[1]["subject"], "alice");
    assert_eq!(received[1]["actor"], "bob");
    assert_eq!(received[1]["audience"], "orders-api");
    assert_eq!(received[1]["resource"], "https://api.example.test/orders");
    let log = json(&ok(run(
        &s,
        &["activity", "--json", "--limit", "1"],
        &[PASS],
        "",
    )));
    assert_eq!(log[0]["action"], "token exchanged again");
}

#[test]
fn an_answer_of_an_unknown_token_type_or_a_refusal_stores_nothing() {
    let idp = Idp::start_with(Options {
        exchange_issued_type: Some("urn:example:token-type:magic"),
        ..Default::default()
    });
    let s = session(&idp);
    let out = run(
        &s,
        &[
            "token",
            "exchange",
            "Back",
            "--subject",
            "Front:alice@example.test",
        ],
        &[PASS],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("urn:example:token-type:magic"),
        "{}",
        stderr(&out)
    );
    let listed = json(&ok(run(&s, &["token", "list", "--json"], &[PASS], "")));
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["provider"] != "Back"),
        "nothing stored: {listed}"
    );

    // A subject provider that is not in the vault: said, before anything is sent.
    let out = run(
        &s,
        &["token", "exchange", "Back", "--subject", "Nobody"],
        &[PASS],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("Nobody"), "{}", stderr(&out));
    let out = run(
        &s,
        &[
            "token",
            "exchange",
            "Back",
            "--subject",
            "Front:alice@example.test",
            "--requested-type",
            "urn:ietf:params:oauth:token-type:saml2",
        ],
        &[PASS],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
}

/// An account is never its own subject: storing it so would make it exchange itself again
/// and again once expired. Nor does an exchange replace an account that signed in.
#[test]
fn an_exchange_into_its_own_subject_or_a_signed_in_account_is_refused() {
    let idp = Idp::start();
    let s = session(&idp);
    for (label, says) in [
        ("alice@example.test", "goes into the exchange"),
        ("bob@example.test", "already has an account"),
    ] {
        let out = run(
            &s,
            &[
                "token",
                "exchange",
                "Front",
                "--subject",
                "Front:alice@example.test",
                "--account",
                label,
            ],
            &[PASS],
            "",
        );
        assert_eq!(out.status.code(), Some(1), "{label}");
        assert!(stderr(&out).contains(says), "{label}: {}", stderr(&out));
    }
    assert!(
        idp.received("exchanges").is_empty(),
        "refused before asking the provider"
    );
}
