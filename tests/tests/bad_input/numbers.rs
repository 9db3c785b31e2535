//! Trust-boundary cases (issue 16): numbers a provider (or the environment) controls. Each one
//! is bounded: a clear error, or a safe value, and never a panic (exit 101). The providers are
//! canned servers: the real test provider never sends a hostile number.

use std::process::Output;

use oauth_desk_tests::canned::{Canned, CannedServer};
use oauth_desk_tests::cli::{stderr, Running};
use oauth_desk_tests::user;
use serde_json::json;
use url::Url;

use crate::common::*;
use crate::flows::{
    canned_provider, jwt, now, sign_in, sign_in_refused, token, tokens_stored, Browser, CLIENT,
    CODE,
};

/// 2^64 - 1, the largest u64; 2^64, one past it; 2^63 - 1, the largest i64.
const U64_MAX: &str = "18446744073709551615";
const PAST_U64: &str = "18446744073709551616";
const I64_MAX: &str = "9223372036854775807";

/// A device authorization answer with `expires_in` and `interval` as raw JSON (None: absent).
fn device_doc(base: &str, expires_in: &str, interval: Option<&str>) -> Canned {
    let interval = interval
        .map(|i| format!(r#","interval":{i}"#))
        .unwrap_or_default();
    Canned::json(format!(
        r#"{{"device_code":"dev-code","user_code":"ABCD-EFGH","verification_uri":"{base}/activate","expires_in":{expires_in}{interval}}}"#
    ))
}

fn pending(error: &str) -> Canned {
    Canned::json(json!({ "error": error }).to_string()).with_status(400)
}

/// `login Canned --device` against a canned device answer and token endpoint: the output,
/// how many polls reached the token endpoint, and the desk.
fn device_login(
    expires_in: &str,
    interval: Option<&str>,
    token_answer: Canned,
) -> Result<(Output, usize, Desk), String> {
    let server = CannedServer::start(vec![]);
    let d = canned_provider(&server)?;
    server.set("/device", device_doc(&server.base, expires_in, interval));
    server.set("/token", token_answer);
    let out = Running::start(
        &d.s,
        &["login", "Canned", "--device", "--account", "dev", "--json"],
        &[PASS, ("OAUTH_DESK_HTTP_TIMEOUT", "3")],
    )
    .finish();
    let polls = server.received("/token").len();
    Ok((out, polls, d))
}

/// The device sign-in failed saying `says`, stored nothing, and polled at most `max_polls`.
fn device_refused(
    name: &str,
    says: &'static str,
    expires_in: &'static str,
    interval: Option<&'static str>,
    answer: fn() -> Canned,
    max_polls: usize,
) -> Case {
    case(
        "numbers",
        format!("device answer: {name}"),
        format!("fails: \"{says}\"; at most {max_polls} poll(s), nothing stored"),
        move || {
            let (out, polls, d) = device_login(expires_in, interval, answer())?;
            let seen = refused(&out, 1, "", says)?;
            ensure(polls <= max_polls, || {
                format!("{polls} polls (at most {max_polls})")
            })?;
            let n = tokens_stored(&d)?;
            ensure(n == 0, || format!("{n} token(s) stored"))?;
            Ok(format!("{polls} poll(s); {seen}"))
        },
    )
}

/// The code flow's token response (canned) with `expires_in` as raw JSON.
fn token_expires_in(name: &str, raw: &'static str, says: &'static str) -> Case {
    case(
        "numbers",
        format!("token response: expires_in {name}"),
        format!("sign-in fails: \"{says}\"; nothing stored"),
        move || {
            let s = sign_in(
                |_| {
                    Canned::json(format!(
                        r#"{{"access_token":"a","token_type":"Bearer","expires_in":{raw}}}"#
                    ))
                },
                &Browser::Redirect(std::sync::Arc::new(|u| u)),
                &[],
            )?;
            sign_in_refused(&s, says)
        },
    )
}

const OLD_ACCESS: &str = "old-access-token";

/// The provider on a canned server with an imported token for "alice".
fn with_token(server: &CannedServer) -> Result<Desk, String> {
    let d = canned_provider(server)?;
    let body = json!({ "access_token": OLD_ACCESS, "refresh_token": "old-refresh-token", "expires_in": 3600 });
    d.ok(
        &["token", "import", "Canned", "--account", "alice"],
        &body.to_string(),
    )?;
    Ok(d)
}

fn access_token(d: &Desk) -> Result<Option<String>, String> {
    let t = d.stored("Canned", "alice")?;
    Ok(t.access_token.map(|s| s.expose().clone()))
}

/// `token refresh` against a canned token endpoint answering `answer`, with `env`.
fn refresh(d: &Desk, env: &[(&str, &str)]) -> Output {
    d.run_env(
        &["token", "refresh", "Canned", "--account", "alice", "--json"],
        env,
        "",
    )
}

/// The refresh failed saying `says` and the stored token is the old one.
fn refresh_refused(name: &str, says: &'static str, answer: fn() -> Canned) -> Case {
    case(
        "numbers",
        format!("refresh: {name}"),
        format!("fails: \"{says}\"; stored token kept"),
        move || {
            let server = CannedServer::start(vec![]);
            let d = with_token(&server)?;
            server.set("/token", answer());
            let out = refresh(&d, &[("OAUTH_DESK_HTTP_TIMEOUT", "3")]);
            let seen = refused(&out, 1, "", says)?;
            let kept = access_token(&d)?;
            ensure(kept.as_deref() == Some(OLD_ACCESS), || {
                format!("the stored token changed: {kept:?}")
            })?;
            Ok(seen)
        },
    )
}

fn import_refused(name: &str, field: &'static str, body: String) -> Case {
    case(
        "numbers",
        format!("import: {name}"),
        format!("refused on {field}; nothing stored"),
        move || {
            let d = Desk::with_existing()?;
            let before = d.snapshot();
            let out = d.run(
                &["token", "import", "Existing", "--account", "a", "--json"],
                &body,
            );
            let seen = field_refused(&out, field, "")?;
            before.same(&d.snapshot())?;
            Ok(seen)
        },
    )
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A code-flow sign-in whose ID token (RS256, its signature as long as the modulus) is checked
/// against a key set holding one RSA key of `n_bytes` modulus and `e_bytes` exponent; the
/// provider is found by discovery, as providers with a key set are.
fn jwks_case(name: &str, n_bytes: usize, e_bytes: usize) -> Case {
    case(
        "numbers",
        format!("JWKS: RSA key with {name}"),
        "sign-in fails: \"ID token\"; nothing stored, no panic",
        move || {
            let server = CannedServer::start(vec![]);
            let b = server.base.clone();
            let doc = json!({
                "issuer": b, "authorization_endpoint": format!("{b}/auth"),
                "token_endpoint": format!("{b}/token"), "jwks_uri": format!("{b}/jwks"),
                "response_types_supported": ["code"],
            });
            server.set(
                "/.well-known/openid-configuration",
                Canned::json(doc.to_string()),
            );
            let key = json!({
                "kty": "RSA", "kid": "big", "use": "sig", "alg": "RS256",
                "n": b64(&vec![0xff; n_bytes]), "e": b64(&vec![0x01; e_bytes]),
            });
            server.set("/jwks", Canned::json(json!({ "keys": [key] }).to_string()));
            let d = Desk::new();
            d.ok(
                &[
                    "provider",
                    "add",
                    "Keys",
                    "--issuer",
                    &b,
                    "--client-id",
                    CLIENT,
                    "--scope",
                    "openid",
                ],
                "",
            )?;
            let mut running = Running::start(
                &d.s,
                &["login", "Keys", "--no-browser", "--json"],
                &[PASS, ("OAUTH_DESK_HTTP_TIMEOUT", "3")],
            );
            let url = Url::parse(&running.line()).map_err(|e| e.to_string())?;
            let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
            let claims = json!({
                "iss": b, "sub": "alice", "aud": CLIENT, "iat": now(), "exp": now() + 600,
                "nonce": q.get("nonce"),
            });
            let header = json!({ "alg": "RS256", "kid": "big", "typ": "JWT" });
            let id_token = format!(
                "{}.{}.{}",
                b64(header.to_string().as_bytes()),
                b64(claims.to_string().as_bytes()),
                b64(&vec![1u8; n_bytes.max(1)])
            );
            server.set(
                "/token",
                token(json!({ "id_token": id_token, "scope": "openid" })),
            );
            let mut redirect = Url::parse(&q["redirect_uri"]).map_err(|e| e.to_string())?;
            redirect
                .query_pairs_mut()
                .append_pair("code", CODE)
                .append_pair("state", &q["state"]);
            let _ = user::deliver(&redirect);
            let out = running.finish();
            let seen = refused(&out, 1, "", "ID token")?;
            let n = tokens_stored(&d)?;
            ensure(n == 0, || format!("{n} token(s) stored"))?;
            Ok(seen)
        },
    )
}

pub fn cases() -> Vec<Case> {
    let mut cases = vec![
        case(
            "numbers",
            "device answer: expires_in 2^64-1",
            "bounded to an hour: signs in, no panic",
            || {
                // Before: "overflow when adding duration to instant", exit 101.
                let (out, _, d) = device_login(U64_MAX, Some("1"), token(json!({})))?;
                ensure(out.status.success(), || {
                    format!("exit {:?}: {}", out.status.code(), short(&stderr(&out)))
                })?;
                ensure(stderr(&out).contains("expires in 60 minutes"), || {
                    format!("not bounded to an hour: {}", short(&stderr(&out)))
                })?;
                let n = tokens_stored(&d)?;
                ensure(n == 1, || format!("{n} token(s) stored"))?;
                Ok("signed in; the code is polled for 60 minutes at most".into())
            },
        ),
        device_refused(
            "expires_in 0",
            "expires_in of 0",
            "0",
            Some("1"),
            || pending("authorization_pending"),
            0,
        ),
        device_refused(
            "expires_in 2^64 (past u64)",
            "expires_in",
            PAST_U64,
            Some("1"),
            || pending("authorization_pending"),
            0,
        ),
        device_refused(
            "expires_in -1",
            "expires_in",
            "-1",
            Some("1"),
            || pending("authorization_pending"),
            0,
        ),
        device_refused(
            "interval 2^64-1",
            "expired",
            "3",
            Some(U64_MAX),
            || pending("authorization_pending"),
            1,
        ),
        // 0 would be a storm of polls: RFC 8628's default of 5 s is used instead, so the
        // 3-second code is polled once.
        device_refused(
            "interval 0",
            "expired",
            "3",
            Some("0"),
            || pending("authorization_pending"),
            1,
        ),
        device_refused(
            "interval 2^64-2, then slow_down",
            "expired",
            "3",
            Some("18446744073709551614"),
            || pending("slow_down"),
            1,
        ),
        device_refused(
            "interval -1",
            "interval",
            "3",
            Some("-1"),
            || pending("authorization_pending"),
            0,
        ),
        // RFC 8628 §3.5: slow_down adds 5 s for this and all later polls, whatever interval
        // the answer names: polls at 0 s and 6 s, the next (17 s) is past the expiry (9 s).
        device_refused(
            "slow_down asking for interval 0",
            "expired",
            "9",
            Some("1"),
            || Canned::json(r#"{"error":"slow_down","interval":0}"#).with_status(400),
            2,
        ),
        // A failed poll doubles the interval: polls at 0, 2 and 6 s; 14 s is past 8.
        device_refused(
            "HTTP 500 on every poll",
            "expired",
            "8",
            Some("1"),
            || Canned::with_type("text/html", "<h1>down</h1>").with_status(500),
            3,
        ),
        token_expires_in("2^64-1", U64_MAX, "expires_in"),
        token_expires_in("2^64 (past u64)", PAST_U64, "expires_in"),
        token_expires_in("0", "0", "expires_in"),
        refresh_refused("expires_in 2^64-1", "expires_in", || {
            Canned::json(format!(
                r#"{{"access_token":"new","token_type":"Bearer","expires_in":{U64_MAX}}}"#
            ))
        }),
        // Two retries, each after at most 5 s whatever Retry-After asks, then a clear error.
        refresh_refused("429 with Retry-After 2^64 s", "busy", || {
            let mut c = Canned::json(r#"{"error":"slow"}"#).with_status(429);
            c.headers.push(("Retry-After".into(), PAST_U64.into()));
            c
        }),
        refresh_refused("503 with Retry-After in the year 9999", "busy", || {
            let mut c = Canned::json("{}").with_status(503);
            c.headers
                .push(("Retry-After".into(), "Fri, 31 Dec 9999 23:59:59 GMT".into()));
            c
        }),
        import_refused(
            "expires_at 2^63-1",
            "expires_at",
            format!(r#"{{"access_token":"a","expires_at":{I64_MAX}}}"#),
        ),
        import_refused(
            "expires_at after the year 9999",
            "expires_at",
            r#"{"access_token":"a","expires_at":253402300800}"#.into(),
        ),
        import_refused(
            "expires_in 2^64-1",
            "expires_in",
            format!(r#"{{"access_token":"a","expires_in":{U64_MAX}}}"#),
        ),
    ];
    cases.push(case(
        "numbers",
        "OAUTH_DESK_HTTP_TIMEOUT of 2^64-1 s",
        "bounded to 10 minutes: the refresh works, no panic",
        || {
            let server = CannedServer::start(vec![]);
            let d = with_token(&server)?;
            server.set(
                "/token",
                token(json!({ "access_token": "new-access-token" })),
            );
            let out = refresh(&d, &[("OAUTH_DESK_HTTP_TIMEOUT", U64_MAX)]);
            ensure(out.status.success(), || {
                format!("exit {:?}: {}", out.status.code(), short(&stderr(&out)))
            })?;
            let now = access_token(&d)?;
            ensure(now.as_deref() == Some("new-access-token"), || {
                format!("stored {now:?}")
            })?;
            Ok("refreshed".into())
        },
    ));
    cases.push(jwks_case("a 65536-bit modulus", 8192, 3));
    cases.push(jwks_case("an 8192-bit exponent", 256, 1024));
    cases.push(case(
        "numbers",
        "ID token exp of 10^20 s",
        "sign-in fails: \"ID token\"; nothing stored",
        || {
            let s = sign_in(
                |f| {
                    let claims = f.claims(json!({ "exp": 1e20 }));
                    token(json!({ "id_token": jwt(&claims, "HS256"), "scope": "openid" }))
                },
                &Browser::Redirect(std::sync::Arc::new(|u| u)),
                &[],
            )?;
            sign_in_refused(&s, "ID token")
        },
    ));
    cases
}
