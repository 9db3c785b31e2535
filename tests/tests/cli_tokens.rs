//! `oauth-desk token ...` against the real test provider: a fresh token (refreshed when
//! needed, with and without rotation), revocation, import, renaming, one refresh for many
//! concurrent callers, refreshes killed halfway, and a bulk refresh that stops asking once it
//! cannot store.

use std::process::{Command, Stdio};
use std::time::Duration;

use oauth_desk_core::vault::tokens;
use oauth_desk_tests::bins;
use oauth_desk_tests::cli::{json, run, stderr, stdout};
use oauth_desk_tests::idp::{self, Idp, Options};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{add_provider, login_as, ok, share_account};

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "token tests");

fn stored(s: &Session) -> tokens::TokenRecord {
    let v = s.open_vault(PASS.1);
    tokens::get(v.conn(), "Test IdP", "alice@example.test").unwrap()
}

fn signed_in(idp: &Idp) -> Session {
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], idp, "Test IdP", &idp::BASIC);
    login_as(&s, &[PASS], "Test IdP", "alice");
    s
}

fn token_get(s: &Session, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["token", "get", "Test IdP"];
    args.extend(extra);
    run(s, &args, &[PASS], "")
}

/// `--header` for `curl -H`, `--json` for scripts that want the expiry and scopes too: the
/// same token as `token get` prints, and one the provider takes.
#[test]
fn token_get_prints_the_header_or_the_token_with_its_details() {
    let idp = Idp::start();
    let s = signed_in(&idp);
    let plain = stdout(&ok(token_get(&s, &[])));
    let token = plain.trim_end();
    let header = stdout(&ok(token_get(&s, &["--header"])));
    assert_eq!(header, format!("Authorization: Bearer {token}\n"));
    let details: serde_json::Value =
        serde_json::from_str(&stdout(&ok(token_get(&s, &["--json"])))).unwrap();
    assert_eq!(details["token"], token);
    assert_eq!(details["account"], "alice@example.test");
    assert!(
        details["token_type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer")),
        "{details}"
    );
    assert!(
        details["expires_at"].as_str().unwrap().ends_with('Z'),
        "{details}"
    );
    assert!(
        details["scopes"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("openid")),
        "{details}"
    );
    assert!(idp.introspect(&idp::BASIC, token), "the provider takes it");
    let both = token_get(&s, &["--header", "--json"]);
    assert_eq!(both.status.code(), Some(2), "they exclude each other");
}

#[test]
fn token_get_prints_the_token_and_refreshes_it_when_needed_with_and_without_rotation() {
    for keep in [false, true] {
        let idp = Idp::start_with(Options {
            access_ttl: Some(600),
            keep_refresh_tokens: keep,
            ..Default::default()
        });
        let s = signed_in(&idp);
        let before = stored(&s);
        let first = stdout(&ok(token_get(&s, &[])));
        assert_eq!(
            first.trim(),
            before.access_token.as_ref().unwrap().expose(),
            "a valid token is printed as stored"
        );
        assert_eq!(first.lines().count(), 1, "the token alone");
        assert_eq!(
            idp.grants("refresh_token"),
            0,
            "no refresh while it is valid"
        );

        // Asking for more validity than it has left forces a refresh.
        let second = stdout(&ok(token_get(&s, &["--min-valid", "3600"])));
        assert_ne!(second.trim(), first.trim(), "a new access token");
        assert_eq!(idp.grants("refresh_token"), 1);
        let after = stored(&s);
        assert_eq!(after.access_token.as_ref().unwrap().expose(), second.trim());
        let rotated = after.refresh_token.as_ref().unwrap().expose()
            != before.refresh_token.as_ref().unwrap().expose();
        assert_eq!(
            rotated, !keep,
            "the new refresh token is stored when it rotates, the old kept when not"
        );
        // The stored refresh token still works: refresh again.
        let third = stdout(&ok(token_get(&s, &["--min-valid", "3600"])));
        assert_ne!(third.trim(), second.trim());
        assert_eq!(idp.grants("refresh_token"), 2);
        assert!(
            idp.introspect(&idp::BASIC, third.trim()),
            "the provider accepts the new token"
        );
    }
}

#[test]
fn after_revoke_the_provider_says_inactive_and_token_get_exits_3() {
    let idp = Idp::start();
    let s = signed_in(&idp);
    let access = stored(&s).access_token.unwrap().expose().clone();
    assert!(idp.introspect(&idp::BASIC, &access));
    let out = ok(run(
        &s,
        &["token", "revoke", "Test IdP", "--json"],
        &[PASS],
        "",
    ));
    assert_eq!(json(&out)["outcome"], "at_provider");
    assert!(
        !idp.introspect(&idp::BASIC, &access),
        "revoked at the provider"
    );
    let row = stored(&s);
    assert!(
        row.access_token.is_none() && row.refresh_token.is_none(),
        "the secrets are wiped locally"
    );
    let get = token_get(&s, &[]);
    assert_eq!(
        get.status.code(),
        Some(3),
        "needs sign-in: {}",
        stderr(&get)
    );
    let list = json(&ok(run(&s, &["token", "list", "--json"], &[PASS], "")));
    assert_eq!(list[0]["status"], "revoked");
}

#[test]
fn without_a_revocation_endpoint_the_token_is_only_forgotten_and_said_so() {
    let idp = Idp::start();
    let s = signed_in(&idp);
    // The endpoint cannot be removed by update (empty keeps nothing): set it by hand to none.
    let v = s.open_vault(PASS.1);
    v.conn()
        .execute("UPDATE providers SET revocation_url = NULL", [])
        .unwrap();
    drop(v);
    let out = ok(run(&s, &["token", "revoke", "Test IdP"], &[PASS], ""));
    assert!(stdout(&out).contains("NOT revoked"), "{}", stdout(&out));
}

#[test]
fn import_and_rename() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], &idp, "Test IdP", &idp::BASIC);
    let token = r#"{"access_token":"imported-access","token_type":"Bearer","expires_in":3600,"refresh_token":"imported-refresh","scope":"openid"}"#;
    ok(run(
        &s,
        &["token", "import", "Test IdP", "--account", "ci-bot"],
        &[PASS],
        token,
    ));
    assert_eq!(stdout(&ok(token_get(&s, &[]))).trim(), "imported-access");
    let bad = run(
        &s,
        &["token", "import", "Test IdP", "--account", "x", "--json"],
        &[PASS],
        r#"{"access_token":"a","expires_in":"3600"}"#,
    );
    assert_eq!(bad.status.code(), Some(1));
    let err: serde_json::Value = serde_json::from_str(stderr(&bad).trim()).unwrap();
    assert_eq!(err["fields"][0]["field"], "expires_in");
    ok(run(
        &s,
        &[
            "token",
            "rename",
            "Test IdP",
            "--account",
            "ci-bot",
            "--to",
            "deploy-bot",
        ],
        &[PASS],
        "",
    ));
    let list = json(&ok(run(&s, &["token", "list", "--json"], &[PASS], "")));
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "the bad import stored nothing"
    );
    assert_eq!(list[0]["account"], "deploy-bot");
}

/// Many processes want a fresh token at once; the provider rotates refresh tokens, so a second
/// refresh with the same one would be reuse. One refresh, one token for all.
#[test]
fn fifty_concurrent_token_gets_make_one_refresh_and_print_one_token() {
    let idp = Idp::start_with(Options {
        access_ttl: Some(600),
        keep_refresh_tokens: false,
        ..Default::default()
    });
    // A keyring session: fifty passphrase derivations at once would only measure Argon2.
    let s = Session::with_keyring();
    add_provider(&s, &[], &idp, "Test IdP", &idp::BASIC);
    let signed = login_as(&s, &[], "Test IdP", "alice");
    // Callers want a little less validity than a new token has: the signed-in token, a few
    // seconds older, needs a refresh; the refreshed one satisfies everyone after it.
    let expires = time::OffsetDateTime::parse(
        signed["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
    .unix_timestamp();
    let lifetime = expires - oauth_desk_core::time::now();
    let min_valid = (lifetime - 3).to_string();
    std::thread::sleep(Duration::from_secs(5));
    let children: Vec<_> = (0..50)
        .map(|_| {
            let mut cmd: Command = bins::cli();
            s.apply(&mut cmd);
            cmd.args(["token", "get", "Test IdP", "--min-valid", &min_valid])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let tokens: std::collections::BTreeSet<String> = outputs
        .iter()
        .map(|o| {
            assert_eq!(
                o.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
            String::from_utf8_lossy(&o.stdout).trim().to_owned()
        })
        .collect();
    assert_eq!(tokens.len(), 1, "all fifty print the same token");
    assert_eq!(
        idp.grants("refresh_token"),
        1,
        "the provider saw exactly one refresh"
    );
}

/// A refresh killed at any moment leaves a vault that opens, checks clean, and holds a token.
#[test]
fn a_refresh_killed_halfway_loses_nothing() {
    let idp = Idp::start_with(Options {
        access_ttl: Some(3600),
        keep_refresh_tokens: true,
        ..Default::default()
    });
    let s = signed_in(&idp);
    let original = stored(&s).access_token.unwrap().expose().clone();
    let mut known = std::collections::BTreeSet::from([original]);
    for i in 0..20u64 {
        let mut cmd: Command = bins::cli();
        s.apply(&mut cmd);
        let mut child = cmd
            .args(["token", "refresh", "Test IdP"])
            .env(PASS.0, PASS.1)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill at a different point each time: before, during and after the request.
        std::thread::sleep(Duration::from_millis(60 + (i * 37) % 400));
        let _ = child.kill();
        let _ = child.wait();
        let check = run(&s, &["vault", "check"], &[PASS], "");
        assert_eq!(
            check.status.code(),
            Some(0),
            "round {i}: {}",
            stderr(&check)
        );
        let got = stdout(&ok(token_get(&s, &["--min-valid", "0"])))
            .trim()
            .to_owned();
        // Old or new: either one the provider issued and still accepts.
        assert!(
            idp.introspect(&idp::BASIC, &got),
            "round {i}: the token is valid"
        );
        known.insert(got);
    }
    assert!(
        known.len() > 1,
        "some of the refreshes completed before the kill"
    );
}

/// The provider no longer accepts the refresh token: the account needs sign-in (exit 3), the
/// row says so, and the next call does not ask the provider again.
#[test]
fn invalid_grant_means_needs_sign_in_without_a_retry_loop() {
    let idp = Idp::start();
    let s = signed_in(&idp);
    let refresh = stored(&s).refresh_token.unwrap().expose().clone();
    let revoked = oauth_desk_tests::http()
        .post(idp.endpoint("revocation_endpoint"))
        .basic_auth(idp::BASIC.id, idp::BASIC.secret)
        .form(&[
            ("token", refresh.as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .unwrap();
    assert_eq!(
        revoked.status().as_u16(),
        200,
        "revoked behind OAuth Desk's back"
    );
    let get = token_get(&s, &["--min-valid", "999999"]);
    assert_eq!(get.status.code(), Some(3), "{}", stderr(&get));
    assert!(stderr(&get).contains("sign in again"), "{}", stderr(&get));
    let list = json(&ok(run(&s, &["token", "list", "--json"], &[PASS], "")));
    assert_eq!(list[0]["status"], "needs_signin");
    assert!(list[0]["last_error"]
        .as_str()
        .unwrap()
        .contains("invalid_grant"));
    let again = token_get(&s, &[]);
    assert_eq!(
        again.status.code(),
        Some(3),
        "still needs sign-in, without asking the provider"
    );
}

/// Busy and misconfigured token endpoints come from a canned server (the test provider is
/// never busy and cannot be told to refuse its own client).
#[test]
fn a_busy_token_endpoint_gets_a_bounded_back_off_and_a_bad_client_a_clear_error() {
    use oauth_desk_tests::canned::{Canned, CannedServer};
    let mut busy = Canned::json(r#"{"error":"temporarily_unavailable"}"#).with_status(503);
    busy.headers.push(("Retry-After".into(), "1".into()));
    let server = CannedServer::start(vec![
        ("/busy".into(), busy),
        (
            "/bad-client".into(),
            Canned::json(r#"{"error":"invalid_client"}"#).with_status(401),
        ),
    ]);
    for (path, says) in [
        ("/busy", "busy (HTTP 503)"),
        ("/bad-client", "check the client id"),
    ] {
        let s = Session::without_keyring();
        let token_url = format!("{}{path}", server.base);
        ok(run(
            &s,
            &[
                "provider",
                "add",
                "Canned",
                "--token-url",
                &token_url,
                "--client-id",
                "c",
                "--client-secret-stdin",
            ],
            &[PASS],
            "secret\n",
        ));
        let token = r#"{"access_token":"a","refresh_token":"r","expires_in":60}"#;
        ok(run(
            &s,
            &["token", "import", "Canned", "--account", "bot"],
            &[PASS],
            token,
        ));
        let out = run(&s, &["token", "refresh", "Canned"], &[PASS], "");
        assert_eq!(out.status.code(), Some(1), "{path}: {}", stdout(&out));
        assert!(stderr(&out).contains(says), "{path}: {}", stderr(&out));
    }
    assert_eq!(
        server.received("/busy").len(),
        3,
        "one request and two retries, then it stops"
    );
    assert_eq!(
        server.received("/bad-client").len(),
        1,
        "a configuration error is not retried"
    );
}

#[test]
fn an_expired_token_is_refreshed_by_token_get() {
    let idp = Idp::start_with(Options {
        access_ttl: Some(2),
        keep_refresh_tokens: false,
        ..Default::default()
    });
    let s = signed_in(&idp);
    let old = stored(&s).access_token.unwrap().expose().clone();
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !idp.introspect(&idp::BASIC, &old),
        "the stored token has expired at the provider"
    );
    let fresh = stdout(&ok(token_get(&s, &["--min-valid", "0"])))
        .trim()
        .to_owned();
    assert_ne!(fresh, old);
    assert!(
        idp.introspect(&idp::BASIC, &fresh),
        "the printed token works"
    );
    assert_eq!(idp.grants("refresh_token"), 1);
}

/// `token refresh --all`: several accounts refreshed at once (rotating refresh tokens), one
/// whose grant the provider revoked and one imported without a refresh token. Each good one
/// gets a token the provider accepts and its rotated refresh token; each bad one is reported
/// and marked, and the run says how many failed.
#[test]
fn refresh_all_refreshes_every_account_and_reports_the_failures() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], &idp, "Test IdP", &idp::BASIC);
    let people = ["alice", "bob", "carol", "dave", "erin", "frank"];
    for who in people {
        login_as(&s, &[PASS], "Test IdP", who);
    }
    let imported = run(
        &s,
        &["token", "import", "Test IdP", "--account", "no-refresh"],
        &[PASS],
        r#"{"access_token":"imported","expires_in":3600}"#,
    );
    assert_eq!(imported.status.code(), Some(0), "{}", stderr(&imported));
    let before: std::collections::HashMap<String, tokens::TokenRecord> = {
        let v = s.open_vault(PASS.1);
        people
            .iter()
            .map(|p| {
                let account = format!("{p}@example.test");
                let t = tokens::get(v.conn(), "Test IdP", &account).unwrap();
                (account, t)
            })
            .collect()
    };
    let revoked = before["frank@example.test"]
        .refresh_token
        .as_ref()
        .unwrap()
        .expose()
        .clone();
    let r = oauth_desk_tests::http()
        .post(idp.endpoint("revocation_endpoint"))
        .basic_auth(idp::BASIC.id, idp::BASIC.secret)
        .form(&[
            ("token", revoked.as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "revoked behind OAuth Desk's back");

    let out = run(&s, &["token", "refresh", "--all", "--json"], &[PASS], "");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("2 of the tokens could not be refreshed"),
        "{}",
        stderr(&out)
    );
    let refreshed = json(&out);
    assert_eq!(refreshed.as_array().unwrap().len(), 5, "{refreshed}");
    assert_eq!(
        idp.grants("refresh_token"),
        5,
        "one refresh granted per account whose grant stands"
    );

    let v = s.open_vault(PASS.1);
    for p in &people[..5] {
        let account = format!("{p}@example.test");
        let now = tokens::get(v.conn(), "Test IdP", &account).unwrap();
        let was = &before[&account];
        let access = now.access_token.as_ref().unwrap().expose();
        assert_ne!(
            access,
            was.access_token.as_ref().unwrap().expose(),
            "{account}"
        );
        assert!(idp.introspect(&idp::BASIC, access), "{account}: accepted");
        assert_ne!(
            now.refresh_token.as_ref().unwrap().expose(),
            was.refresh_token.as_ref().unwrap().expose(),
            "{account}: the rotated refresh token is stored"
        );
    }
    let list = json(&ok(run(&s, &["token", "list", "--json"], &[PASS], "")));
    let status = |account: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|t| t["account"] == account)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("frank@example.test"), "needs_signin");
    assert_eq!(status("no-refresh"), "needs_signin");
    assert_eq!(status("alice@example.test"), "active");
}

/// When the vault refuses a write in the middle of a bulk refresh, no more refresh requests go
/// out: with rotating refresh tokens, an answer nobody can store loses its grant. Driven through
/// the core, with the vault put in query-only mode once open: as root (CI), the CLI's vault
/// cannot be made to refuse writes (file modes do not bind root).
#[test]
fn a_bulk_refresh_stops_asking_once_a_write_fails() {
    const ACCOUNTS: usize = 400;
    let idp = Idp::start_with(Options {
        keep_refresh_tokens: true,
        ..Default::default()
    });
    let s = signed_in(&idp);
    let v = s.open_vault(PASS.1);
    share_account(v.conn(), "Test IdP", "alice@example.test", ACCOUNTS - 1);
    let targets: Vec<(String, String)> = tokens::list(v.conn())
        .unwrap()
        .into_iter()
        .map(|t| (t.provider, t.account))
        .collect();
    assert_eq!(targets.len(), ACCOUNTS);
    let before = idp.grants("refresh_token");

    v.conn().execute_batch("PRAGMA query_only = ON").unwrap();
    let http = oauth_desk_core::http::Http::new().unwrap();
    let result =
        oauth_desk_core::refresh::refresh_many(&v, &targets, &http, &oauth_desk_core::time::now, 4);
    assert!(
        result.is_err(),
        "the refused write is the bulk refresh's error"
    );
    let asked = idp.grants("refresh_token") - before;
    assert!(
        (1..ACCOUNTS as u64 / 2).contains(&asked),
        "the requests stop after the first refused write: {asked} of {ACCOUNTS} were sent"
    );
}
