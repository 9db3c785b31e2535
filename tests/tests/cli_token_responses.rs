//! Hostile token endpoints and ID tokens. These come from a canned server: the real test
//! provider cannot be made to answer with HTML, form encoding, bad lifetimes, forged ID tokens,
//! or to hang. Each case: a clear error, and nothing stored.

use std::process::Output;

use oauth_desk_tests::canned::{Canned, CannedServer, Pace};
use oauth_desk_tests::cli::{run, stderr, stdout, Running};
use oauth_desk_tests::jwt::now;
use oauth_desk_tests::session::Session;
use oauth_desk_tests::user;
use url::Url;

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "token response tests");
const SECRET: &str = "canned-client-secret";
const CLIENT: &str = "canned-client";

/// An ID token signed with HS256 and the client secret (OIDC Core §10.1), or unsigned.
fn jwt(claims: serde_json::Value, alg: &str) -> String {
    oauth_desk_tests::jwt::sign(&claims, alg, SECRET)
}

/// Signs in to a provider whose token endpoint is `path` on `server`, delivering a redirect
/// with a made-up code; returns what the CLI printed and how many tokens were stored.
fn login_against(server: &CannedServer, path: &str, env: &[(&str, &str)]) -> (Output, i64) {
    let s = Session::without_keyring();
    let token_url = format!("{}{path}", server.base);
    let auth_url = format!("{}/auth", server.base);
    let args = [
        "provider",
        "add",
        "Canned",
        "--issuer",
        &server.base,
        "--no-discovery",
        "--auth-url",
        &auth_url,
        "--token-url",
        &token_url,
        "--client-id",
        CLIENT,
        "--client-secret-stdin",
        "--scope",
        "openid",
    ];
    let added = run(&s, &args, &[PASS], &format!("{SECRET}\n"));
    assert_eq!(added.status.code(), Some(0), "{}", stderr(&added));
    let mut all_env = vec![PASS];
    all_env.extend(env);
    let mut running = Running::start(&s, &["login", "Canned", "--no-browser", "--json"], &all_env);
    let url = Url::parse(&running.line()).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    let mut redirect = Url::parse(&q["redirect_uri"]).unwrap();
    redirect
        .query_pairs_mut()
        .append_pair("code", "canned-code")
        .append_pair("state", &q["state"]);
    let _ = user::deliver(&redirect);
    let out = running.finish();
    let status = run(&s, &["vault", "status", "--json"], &[PASS], "");
    let tokens = serde_json::from_slice::<serde_json::Value>(&status.stdout).unwrap()["tokens"]
        .as_i64()
        .unwrap();
    (out, tokens)
}

fn assert_refused(server: &CannedServer, path: &str, env: &[(&str, &str)], says: &[&str]) {
    let (out, tokens) = login_against(server, path, env);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{path} must fail: {}",
        stdout(&out)
    );
    let message = stderr(&out);
    for s in says {
        assert!(message.contains(s), "{path}: should say {s:?}: {message}");
    }
    assert!(
        !message.contains("canned-code"),
        "{path}: the code never appears in a message"
    );
    assert!(
        !message.contains(SECRET),
        "{path}: the secret never appears in a message"
    );
    assert_eq!(tokens, 0, "{path}: nothing is stored");
}

fn token(extra: serde_json::Value) -> Canned {
    let mut body =
        serde_json::json!({ "access_token": "canned-access-token", "token_type": "Bearer" });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    Canned::json(body.to_string())
}

#[test]
fn malformed_token_responses_are_refused() {
    let server = CannedServer::start(vec![
        (
            "/html".into(),
            Canned::with_type("text/html", "<html><body>Sign in</body></html>"),
        ),
        ("/empty".into(), Canned::json("")),
        (
            "/error-200".into(),
            Canned::json(
                r#"{"error":"invalid_grant","error_description":"<b>expired</b>\u001b[31m"}"#,
            ),
        ),
        (
            "/form".into(),
            Canned::with_type(
                "application/x-www-form-urlencoded",
                "access_token=canned-access-token&token_type=bearer",
            ),
        ),
        (
            "/no-token-type".into(),
            Canned::json(r#"{"access_token":"canned-access-token"}"#),
        ),
        (
            "/minus-one".into(),
            token(serde_json::json!({ "expires_in": -1 })),
        ),
        (
            "/string".into(),
            token(serde_json::json!({ "expires_in": "3600" })),
        ),
        (
            "/huge".into(),
            Canned::json(
                r#"{"access_token":"canned-access-token","token_type":"Bearer","expires_in":1e18}"#,
            ),
        ),
        (
            "/mac".into(),
            token(serde_json::json!({ "token_type": "MAC" })),
        ),
        (
            "/error-400".into(),
            Canned::json(r#"{"error":"invalid_client"}"#).with_status(400),
        ),
    ]);
    assert_refused(&server, "/html", &[], &["not JSON"]);
    assert_refused(&server, "/empty", &[], &["empty"]);
    assert_refused(
        &server,
        "/error-200",
        &[],
        &[
            "HTTP 200 with the error invalid_grant",
            "<b>expired</b><U+001B>[31m",
        ],
    );
    assert_refused(&server, "/form", &[], &["not JSON"]);
    assert_refused(&server, "/no-token-type", &[], &["token_type"]);
    assert_refused(&server, "/minus-one", &[], &["expires_in", "-1"]);
    assert_refused(
        &server,
        "/string",
        &[],
        &["expires_in", "a string where a number belongs"],
    );
    assert_refused(&server, "/huge", &[], &["expires_in"]);
    assert_refused(&server, "/mac", &[], &["token_type", "not bearer"]);
    assert_refused(&server, "/error-400", &[], &["invalid_client"]);
}

#[test]
fn a_token_endpoint_that_hangs_or_trickles_runs_out_of_time() {
    let server = CannedServer::start(vec![
        (
            "/hang".into(),
            token(serde_json::json!({})).paced(Pace::Hang),
        ),
        (
            "/trickle".into(),
            token(serde_json::json!({})).paced(Pace::Trickle),
        ),
    ]);
    let quick = [("OAUTH_DESK_HTTP_TIMEOUT", "3")];
    let started = std::time::Instant::now();
    assert_refused(&server, "/hang", &quick, &["in time"]);
    assert_refused(&server, "/trickle", &quick, &["in time"]);
    assert!(
        started.elapsed().as_secs() < 40,
        "the time limit fired (took {:?})",
        started.elapsed()
    );
}

#[test]
fn id_tokens_are_verified() {
    let base_claims = |server: &str| {
        serde_json::json!({
            "iss": server, "sub": "alice", "aud": CLIENT, "iat": now(), "exp": now() + 600,
            "nonce": "will-not-match",
        })
    };
    // The server's address is only known once it runs: start it, then add the routes' bodies
    // by starting a second server that names the first as issuer.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let issuer = format!("http://127.0.0.1:{port}");
    let with = |patch: serde_json::Value, alg: &str| {
        let mut c = base_claims(&issuer);
        c.as_object_mut()
            .unwrap()
            .extend(patch.as_object().unwrap().clone());
        token(serde_json::json!({ "id_token": jwt(c, alg), "scope": "openid" }))
    };
    let server = CannedServer::start_on(
        port,
        vec![
            ("/none".into(), with(serde_json::json!({}), "none")),
            (
                "/aud".into(),
                with(serde_json::json!({ "aud": "someone-else" }), "HS256"),
            ),
            (
                "/expired".into(),
                with(
                    serde_json::json!({ "exp": now() - 3600, "iat": now() - 7200 }),
                    "HS256",
                ),
            ),
            ("/nonce".into(), with(serde_json::json!({}), "HS256")),
            (
                "/issuer".into(),
                with(
                    serde_json::json!({ "iss": "https://evil.example" }),
                    "HS256",
                ),
            ),
        ],
    );
    assert_refused(&server, "/none", &[], &["ID token was refused"]);
    assert_refused(&server, "/aud", &[], &["ID token was refused", "audience"]);
    assert_refused(
        &server,
        "/expired",
        &[],
        &["ID token was refused", "expired"],
    );
    assert_refused(&server, "/nonce", &[], &["ID token was refused", "nonce"]);
    assert_refused(&server, "/issuer", &[], &["ID token was refused", "issuer"]);
}
