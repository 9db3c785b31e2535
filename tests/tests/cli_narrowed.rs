//! `token get NAME --scope S`: a token for fewer scopes, from the account's refresh token (RFC
//! 6749 §6), against the real test provider, kept beside the account's own token, which it
//! never replaces. A provider that answers with more scope than asked (the canned server, as
//! no real one can be made to) gets its answer refused, and its rotated refresh token kept.

use oauth_desk_tests::canned::{Canned, CannedServer};
use oauth_desk_tests::cli::{json, run, stderr, stdout};
use oauth_desk_tests::idp::{self, Idp};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{add_provider, login_as, ok};

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "narrowing tests");

/// RFC 7662 introspection as the test client: the token's scope, or None when inactive.
fn scope_of(idp: &Idp, token: &str) -> Option<String> {
    let answer = idp.introspection(&idp::BASIC, token);
    (answer["active"] == true).then(|| answer["scope"].as_str().unwrap_or_default().to_owned())
}

#[test]
fn a_narrowed_token_has_only_the_scope_asked_and_leaves_the_accounts_own_alone() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], &idp, "Test IdP", &idp::BASIC);
    login_as(&s, &[PASS], "Test IdP", "alice");
    let main = json(&ok(run(
        &s,
        &["token", "get", "Test IdP", "--json"],
        &[PASS],
        "",
    )));
    let main_token = main["token"].as_str().unwrap().to_owned();
    let wide = scope_of(&idp, &main_token).expect("the account's token is active");
    assert!(wide.split(' ').count() > 1, "{wide}");

    let refreshes = idp.grants("refresh_token");
    let narrow = stdout(&ok(run(
        &s,
        &["token", "get", "Test IdP", "--scope", "openid"],
        &[PASS],
        "",
    )))
    .trim()
    .to_owned();
    assert_ne!(narrow, main_token);
    assert_eq!(scope_of(&idp, &narrow).as_deref(), Some("openid"));
    assert_eq!(idp.grants("refresh_token"), refreshes + 1);

    // Kept: asked again, the same token, no request.
    let again = stdout(&ok(run(
        &s,
        &["token", "get", "Test IdP", "--scope", "openid", "--json"],
        &[PASS],
        "",
    )));
    assert!(again.contains(&narrow), "{again}");
    assert_eq!(idp.grants("refresh_token"), refreshes + 1, "from the cache");

    // The account's own token is untouched, and its grant lives on (the rotated refresh
    // token was kept): it refreshes.
    let after = json(&ok(run(
        &s,
        &["token", "get", "Test IdP", "--json"],
        &[PASS],
        "",
    )));
    assert_eq!(after["token"], main["token"]);
    ok(run(&s, &["token", "refresh", "Test IdP"], &[PASS], ""));
    let refreshed = stdout(&ok(run(&s, &["token", "get", "Test IdP"], &[PASS], "")));
    assert_eq!(
        scope_of(&idp, refreshed.trim()).as_deref(),
        Some(wide.as_str())
    );

    // A scope the account was never granted: the provider's refusal, said.
    let out = run(
        &s,
        &["token", "get", "Test IdP", "--scope", "api:write"],
        &[PASS],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // Revoked: the narrowed tokens go with the account's own.
    ok(run(&s, &["token", "revoke", "Test IdP"], &[PASS], ""));
    let left: i64 = s
        .open_vault(PASS.1)
        .conn()
        .query_row("SELECT count(*) FROM narrowed_tokens", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
}

#[test]
fn a_wider_answer_is_refused_and_the_rotated_refresh_token_kept() {
    // Answers no real provider gives: the canned server.
    let server = CannedServer::start(vec![(
        "/token".into(),
        Canned::json(
            r#"{"access_token": "wider", "token_type": "Bearer", "expires_in": 300,
                "scope": "read write", "refresh_token": "rt-rotated"}"#,
        ),
    )]);
    let s = Session::without_keyring();
    let token_url = format!("{}/token", server.base);
    ok(run(
        &s,
        &[
            "provider",
            "add",
            "Canned",
            "--client-id",
            "cid",
            "--token-url",
            &token_url,
        ],
        &[PASS],
        "",
    ));
    ok(run(
        &s,
        &["token", "import", "Canned", "--account", "svc"],
        &[PASS],
        r#"{"access_token": "main", "refresh_token": "rt-1", "expires_in": 3600, "scope": "read write"}"#,
    ));
    let out = run(
        &s,
        &["token", "get", "Canned", "--scope", "read"],
        &[PASS],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("more scope than asked"),
        "{}",
        stderr(&out)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("wider"));
    let kept: String = s
        .open_vault(PASS.1)
        .conn()
        .query_row(
            "SELECT refresh_token FROM tokens WHERE account = 'svc'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        kept, "rt-rotated",
        "the grant lives on in the rotated token"
    );
    let main = stdout(&ok(run(&s, &["token", "get", "Canned"], &[PASS], "")));
    assert_eq!(main.trim(), "main", "the account's own token is untouched");
    let sent = server.received("/token");
    let body = String::from_utf8_lossy(&sent[0]);
    assert!(
        body.contains("scope=read") && body.contains("grant_type=refresh_token"),
        "{body}"
    );
}
