//! Refresh, revocation and the device flow against a canned provider: each failure says what
//! happened and keeps the stored token as it was (or, for invalid_grant, marks the account as
//! needing sign-in without losing it).

use oauth_desk_tests::canned::{Canned, CannedServer, Pace};
use oauth_desk_tests::cli::{stderr, stdout, Running};
use serde_json::json;

use crate::common::*;
use crate::flows::{canned_provider, token, tokens_stored};

const OLD_ACCESS: &str = "old-access-token";
const OLD_REFRESH: &str = "old-refresh-token";

/// The provider on a canned server with an imported token for "alice".
fn with_token(server: &CannedServer) -> Result<Desk, String> {
    let d = canned_provider(server)?;
    let body =
        json!({ "access_token": OLD_ACCESS, "refresh_token": OLD_REFRESH, "expires_in": 3600 });
    d.ok(
        &["token", "import", "Canned", "--account", "alice"],
        &body.to_string(),
    )?;
    Ok(d)
}

/// The stored access and refresh tokens of alice.
fn stored(d: &Desk) -> Result<(Option<String>, Option<String>), String> {
    let t = d.stored("Canned", "alice")?;
    Ok((
        t.access_token.map(|s| s.expose().clone()),
        t.refresh_token.map(|s| s.expose().clone()),
    ))
}

fn kept(d: &Desk) -> Result<(), String> {
    let (a, r) = stored(d)?;
    ensure(
        a.as_deref() == Some(OLD_ACCESS) && r.as_deref() == Some(OLD_REFRESH),
        || format!("the stored token changed: access {a:?}, refresh {r:?}"),
    )
}

fn refresh(
    name: &str,
    exit: i32,
    says: &'static str,
    answer: impl Fn() -> Canned + Send + Sync + 'static,
) -> Case {
    case(
        "refresh",
        name.to_owned(),
        format!("exit {exit}: \"{says}\"; stored token kept"),
        move || {
            let server = CannedServer::start(vec![]);
            let d = with_token(&server)?;
            server.set("/token", answer());
            let out = d.run_env(
                &["token", "refresh", "Canned", "--account", "alice", "--json"],
                &[("OAUTH_DESK_HTTP_TIMEOUT", "3")],
                "",
            );
            let seen = refused(&out, exit, "", says)?;
            kept(&d)?;
            Ok(seen)
        },
    )
}

fn revoke(
    name: &str,
    says: &'static str,
    answer: impl Fn() -> Canned + Send + Sync + 'static,
) -> Case {
    case(
        "revocation",
        name.to_owned(),
        format!("fails: \"{says}\"; token kept, can be retried"),
        move || {
            let server = CannedServer::start(vec![]);
            let d = with_token(&server)?;
            server.set("/revoke", answer());
            let out = d.run_env(
                &["token", "revoke", "Canned", "--account", "alice", "--json"],
                &[("OAUTH_DESK_HTTP_TIMEOUT", "3")],
                "",
            );
            let seen = refused(&out, 1, "", says)?;
            kept(&d)?;
            Ok(seen)
        },
    )
}

fn device(
    name: &str,
    says: &'static str,
    device_answer: impl Fn(&str) -> Canned + Send + Sync + 'static,
    token_answer: impl Fn() -> Canned + Send + Sync + 'static,
) -> Case {
    case(
        "device",
        name.to_owned(),
        format!("sign-in fails: \"{says}\"; nothing stored"),
        move || {
            let server = CannedServer::start(vec![]);
            let d = canned_provider(&server)?;
            server.set("/device", device_answer(&server.base));
            server.set("/token", token_answer());
            let running = Running::start(
                &d.s,
                &["login", "Canned", "--device", "--json"],
                &[PASS, ("OAUTH_DESK_HTTP_TIMEOUT", "3")],
            );
            let out = running.finish();
            ensure(!stdout(&out).contains("javascript:"), || {
                format!("a javascript: link was shown: {}", short(&stdout(&out)))
            })?;
            let seen = refused(&out, 1, "", says)?;
            let n = tokens_stored(&d)?;
            ensure(n == 0, || format!("{n} token(s) stored"))?;
            Ok(seen)
        },
    )
}

fn device_doc(base: &str, patch: serde_json::Value) -> Canned {
    let doc = patched(
        json!({
            "device_code": "dev-code", "user_code": "ABCD-EFGH",
            "verification_uri": format!("{base}/activate"), "expires_in": 3, "interval": 1,
        }),
        patch,
    );
    Canned::json(doc.to_string())
}

fn pending(error: &str) -> Canned {
    Canned::json(json!({ "error": error }).to_string()).with_status(400)
}

pub fn cases() -> Vec<Case> {
    let mut cases = vec![
        refresh("invalid_grant", 3, "sign in again", || {
            Canned::json(r#"{"error":"invalid_grant"}"#).with_status(400)
        }),
        // The code branches on the `error` field, not on the text: a description naming
        // another code changes nothing.
        refresh(
            "invalid_grant, described as invalid_client",
            3,
            "sign in again",
            || {
                Canned::json(
                    r#"{"error":"invalid_grant","error_description":"mentions invalid_client"}"#,
                )
                .with_status(400)
            },
        ),
        refresh(
            "invalid_request, described as invalid_grant",
            1,
            "the error invalid_request: not an invalid_grant",
            || {
                Canned::json(
                    r#"{"error":"invalid_request","error_description":"not an invalid_grant"}"#,
                )
                .with_status(400)
            },
        ),
        refresh("HTTP 502 with HTML", 1, "HTTP 502", || {
            Canned::with_type("text/html", "<h1>Bad gateway</h1>").with_status(502)
        }),
        refresh("no access_token", 1, "access_token", || {
            token(json!({ "access_token": null }))
        }),
        refresh("expires_in -1", 1, "expires_in", || {
            token(json!({ "expires_in": -1 }))
        }),
        refresh("endpoint that never answers", 1, "in time", || {
            token(json!({})).paced(Pace::Hang)
        }),
        refresh("not JSON", 1, "not JSON", || {
            Canned::with_type("text/plain", "ok")
        }),
        refresh("access_token with a newline", 1, "access_token", || {
            token(json!({ "access_token": "abc\ndef" }))
        }),
        revoke("HTTP 500", "HTTP 500", || {
            Canned::with_type("text/html", "<h1>x</h1>").with_status(500)
        }),
        revoke(
            "HTTP 400 unsupported_token_type",
            "unsupported_token_type",
            || Canned::json(r#"{"error":"unsupported_token_type"}"#).with_status(400),
        ),
        revoke("HTTP 401 invalid_client", "invalid_client", || {
            Canned::json(r#"{"error":"invalid_client"}"#).with_status(401)
        }),
        revoke("endpoint that never answers", "in time", || {
            Canned::json("{}").paced(Pace::Hang)
        }),
        revoke("HTTP 503 every time", "503", || {
            Canned::json("{}").with_status(503)
        }),
        device(
            "device answer in HTML",
            "not JSON",
            |_| Canned::with_type("text/html", "<p>hi</p>"),
            || pending("authorization_pending"),
        ),
        device(
            "no device_code",
            "device_code",
            |b| device_doc(b, json!({ "device_code": null })),
            || pending("authorization_pending"),
        ),
        device(
            "javascript: verification URI",
            "verification_uri",
            |b| device_doc(b, json!({ "verification_uri": "javascript:alert(1)" })),
            || pending("authorization_pending"),
        ),
        device(
            "user_code with an escape sequence",
            "user_code",
            |b| device_doc(b, json!({ "user_code": "AB\u{1b}]0;pwn\u{7}CD" })),
            || pending("authorization_pending"),
        ),
        device(
            "user never confirms (pending until expiry)",
            "expired",
            |b| device_doc(b, json!({})),
            || pending("authorization_pending"),
        ),
        device(
            "slow_down until expiry",
            "expired",
            |b| device_doc(b, json!({})),
            || pending("slow_down"),
        ),
        device(
            "interval of 100000 s",
            "expired",
            |b| device_doc(b, json!({ "interval": 100000 })),
            || pending("authorization_pending"),
        ),
        device(
            "access_denied",
            "denied",
            |b| device_doc(b, json!({})),
            || pending("access_denied"),
        ),
        device(
            "expired_token",
            "expired",
            |b| device_doc(b, json!({})),
            || pending("expired_token"),
        ),
    ];
    cases.push(case(
        "refresh",
        "no refresh_token in the answer (RFC 6749 §6)",
        "refreshed; the old refresh token is kept",
        || {
            let server = CannedServer::start(vec![]);
            let d = with_token(&server)?;
            server.set(
                "/token",
                token(json!({ "access_token": "new-access-token" })),
            );
            let out = d.run(
                &["token", "refresh", "Canned", "--account", "alice", "--json"],
                "",
            );
            ensure(out.status.success(), || short(&stderr(&out)))?;
            let (a, r) = stored(&d)?;
            ensure(
                a.as_deref() == Some("new-access-token") && r.as_deref() == Some(OLD_REFRESH),
                || format!("stored access {a:?}, refresh {r:?}"),
            )?;
            Ok("new access token, old refresh token kept".into())
        },
    ));
    cases
}
