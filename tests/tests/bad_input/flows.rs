//! Sign-in against a canned provider (the test provider cannot be made to misbehave): the
//! loopback callback, token responses, ID tokens and clocks ten minutes off. Each failure is a
//! clear error with nothing stored; each request the listener should ignore leaves the sign-in
//! waiting for the real redirect.

use std::collections::HashMap;

use oauth_desk_tests::canned::{Canned, CannedServer, Pace};
use oauth_desk_tests::cli::{stderr, Running};
pub use oauth_desk_tests::jwt::now;
use oauth_desk_tests::user;
use serde_json::{json, Value};
use url::Url;

use crate::common::*;

pub const SECRET: &str = "catalogue-client-secret";
pub const CLIENT: &str = "catalogue-client";
pub const CODE: &str = "catalogue-code";

/// An ID token signed with HS256 and the client secret, or unsigned.
pub fn jwt(claims: &Value, alg: &str) -> String {
    oauth_desk_tests::jwt::sign(claims, alg, SECRET)
}

/// What the canned provider knows when it answers the token request.
pub struct Flow {
    pub issuer: String,
    pub nonce: String,
}

impl Flow {
    /// Claims that verify, with `patch` applied (null removes a claim).
    pub fn claims(&self, patch: Value) -> Value {
        patched(
            json!({
                "iss": self.issuer, "sub": "alice", "aud": CLIENT, "email": "alice@example.test",
                "iat": now(), "exp": now() + 600, "nonce": self.nonce,
            }),
            patch,
        )
    }
}

/// A token response: a bearer token, with `extra` fields merged in (null removes one).
pub fn token(extra: Value) -> Canned {
    let body = patched(
        json!({ "access_token": "canned-access-token", "token_type": "Bearer", "expires_in": 3600 }),
        extra,
    );
    Canned::json(body.to_string())
}

/// A desk with the provider "Canned" on `server` (confidential client, openid, issuer = the
/// server), plus a revocation and a device endpoint there.
pub fn canned_provider(server: &CannedServer) -> Result<Desk, String> {
    let d = Desk::new();
    let b = &server.base;
    let (auth, tok, rev, dev) = (
        format!("{b}/auth"),
        format!("{b}/token"),
        format!("{b}/revoke"),
        format!("{b}/device"),
    );
    let args = [
        "provider",
        "add",
        "Canned",
        "--issuer",
        b,
        "--no-discovery",
        "--auth-url",
        &auth,
        "--token-url",
        &tok,
        "--revoke-url",
        &rev,
        "--device-url",
        &dev,
        "--client-id",
        CLIENT,
        "--client-secret-stdin",
        "--scope",
        "openid",
    ];
    d.ok(&args, &format!("{SECRET}\n"))?;
    Ok(d)
}

/// Something sent to the listener before the real redirect; returns what the listener said.
type StrayFn = dyn Fn(&Url) -> Result<String, String> + Send + Sync;

/// How the test plays the browser's part once the authorization URL is known.
pub enum Browser {
    /// Delivers the provider's redirect (code + state), edited by the function.
    Redirect(std::sync::Arc<dyn Fn(Url) -> Url + Send + Sync>),
    /// First sends something the listener must ignore, then the right redirect.
    Stray(Box<StrayFn>),
}

pub struct SignIn {
    pub out: std::process::Output,
    pub desk: Desk,
    pub stray: Option<String>,
}

/// Runs `login Canned --no-browser --json` against a canned token endpoint answering `answer`.
pub fn sign_in(
    answer: impl Fn(&Flow) -> Canned,
    browser: &Browser,
    env: &[(&str, &str)],
) -> Result<SignIn, String> {
    let server = CannedServer::start(vec![]);
    let desk = canned_provider(&server)?;
    let mut all_env = vec![PASS, ("OAUTH_DESK_HTTP_TIMEOUT", "3")];
    all_env.extend_from_slice(env);
    let mut running = Running::start(
        &desk.s,
        &["login", "Canned", "--no-browser", "--json"],
        &all_env,
    );
    let url = Url::parse(&running.line()).map_err(|e| e.to_string())?;
    let q: HashMap<_, _> = url.query_pairs().into_owned().collect();
    let flow = Flow {
        issuer: server.base.clone(),
        nonce: q.get("nonce").cloned().unwrap_or_default(),
    };
    server.set("/token", answer(&flow));
    let mut redirect = Url::parse(&q["redirect_uri"]).map_err(|e| e.to_string())?;
    redirect
        .query_pairs_mut()
        .append_pair("code", CODE)
        .append_pair("state", &q["state"])
        .append_pair("iss", &server.base);
    let mut stray = None;
    match browser {
        Browser::Redirect(edit) => {
            let _ = user::deliver(&edit(redirect));
        }
        Browser::Stray(send) => {
            stray = Some(send(&redirect)?);
            let _ = user::deliver(&redirect);
        }
    }
    let out = running.finish();
    Ok(SignIn { out, desk, stray })
}

/// How many tokens the desk's vault holds.
pub fn tokens_stored(d: &Desk) -> Result<i64, String> {
    let out = d.ok(&["vault", "status", "--json"], "")?;
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    v["tokens"].as_i64().ok_or_else(|| "no token count".into())
}

/// The sign-in failed saying `says`, stored nothing, and never showed the code or the secret.
pub fn sign_in_refused(s: &SignIn, says: &str) -> Check {
    let seen = refused(&s.out, 1, "", says)?;
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&s.out.stdout),
        stderr(&s.out)
    );
    ensure(!all.contains(CODE) && !all.contains(SECRET), || {
        "the code or the client secret reached the output".into()
    })?;
    let n = tokens_stored(&s.desk)?;
    ensure(n == 0, || format!("{n} token(s) stored"))?;
    Ok(seen)
}

/// The sign-in worked and stored one token.
pub fn sign_in_ok(s: &SignIn) -> Result<Value, String> {
    if !s.out.status.success() {
        return Err(format!("the sign-in failed: {}", short(&stderr(&s.out))));
    }
    let n = tokens_stored(&s.desk)?;
    ensure(n == 1, || format!("{n} token(s) stored"))?;
    let list = s.desk.ok(&["token", "list", "--json"], "")?;
    let v: Value = serde_json::from_slice(&list.stdout).map_err(|e| e.to_string())?;
    Ok(v[0].clone())
}

fn exchange(
    name: &str,
    says: &'static str,
    answer: impl Fn(&Flow) -> Canned + Send + Sync + 'static,
) -> Case {
    case(
        "token response",
        name.to_owned(),
        format!("sign-in fails: \"{says}\"; nothing stored"),
        move || {
            let s = sign_in(&answer, &Browser::Redirect(std::sync::Arc::new(|u| u)), &[])?;
            sign_in_refused(&s, says)
        },
    )
}

fn with_id_token(
    name: &str,
    says: &'static str,
    patch: impl Fn(&Flow) -> Value + Send + Sync + 'static,
    alg: &'static str,
) -> Case {
    exchange(name, says, move |f| {
        token(json!({ "id_token": jwt(&f.claims(patch(f)), alg), "scope": "openid" }))
    })
}

fn redirect_refused(
    name: &str,
    says: &'static str,
    edit: impl Fn(Url) -> Url + Send + Sync + 'static,
) -> Case {
    let edit: std::sync::Arc<dyn Fn(Url) -> Url + Send + Sync> = std::sync::Arc::new(edit);
    case(
        "callback",
        name.to_owned(),
        format!("sign-in fails: \"{says}\"; nothing stored"),
        move || {
            let browser = Browser::Redirect(edit.clone());
            let s = sign_in(|_| token(json!({})), &browser, &[])?;
            sign_in_refused(&s, says)
        },
    )
}

fn stray_ignored(
    name: &str,
    expected: &str,
    send: impl Fn(&Url) -> Result<String, String> + Send + Sync + 'static,
) -> Case {
    let send: std::sync::Arc<StrayFn> = std::sync::Arc::new(send);
    case(
        "callback",
        name.to_owned(),
        format!("{expected}; the real redirect then signs in"),
        move || {
            let send = send.clone();
            let s = sign_in(
                |_| token(json!({})),
                &Browser::Stray(Box::new(move |u| send(u))),
                &[],
            )?;
            sign_in_ok(&s)?;
            Ok(s.stray.unwrap_or_default())
        },
    )
}

/// The redirect with its query rebuilt by `f` over the pairs.
fn requery(u: Url, f: impl Fn(Vec<(String, String)>) -> Vec<(String, String)>) -> Url {
    let pairs = f(u.query_pairs().into_owned().collect());
    let mut u = u;
    u.query_pairs_mut().clear().extend_pairs(pairs);
    u
}

fn set(pairs: Vec<(String, String)>, key: &str, value: Option<&str>) -> Vec<(String, String)> {
    let mut out: Vec<_> = pairs.into_iter().filter(|(k, _)| k != key).collect();
    if let Some(v) = value {
        out.push((key.into(), v.into()));
    }
    out
}

/// Delivers `u` as a browser would; Ok if the listener answered 400.
fn answered_400(u: &Url) -> Result<String, String> {
    let (status, _) = user::deliver(u)?;
    ensure(status == 400, || format!("answered {status}"))?;
    Ok(format!("answered {status}"))
}

/// Sends raw bytes to the listener and returns its first line.
fn raw(u: &Url, request: &[u8]) -> Result<String, String> {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect((u.host_str().unwrap(), u.port().unwrap()))
        .map_err(|e| e.to_string())?;
    c.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok();
    c.write_all(request).map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let _ = c.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    Ok(format!(
        "listener answered {}",
        short(text.lines().next().unwrap_or("nothing (closed)"))
    ))
}

pub fn cases() -> Vec<Case> {
    let mut cases = vec![
        // Only the provider knows the state: a request without it is one any web page can send
        // (an <img>), and must not end the sign-in.
        stray_ignored("state of another sign-in", "400, keeps waiting", |u| {
            answered_400(&requery(u.clone(), |p| {
                set(p, "state", Some("forged-state"))
            }))
        }),
        stray_ignored("no state (any page's <img>)", "400, keeps waiting", |u| {
            answered_400(&requery(u.clone(), |p| set(p, "state", None)))
        }),
        stray_ignored(
            "connection that stalls after half a request line",
            "dropped in time, the redirect is served beside it",
            |u| {
                use std::io::Write;
                let mut c =
                    std::net::TcpStream::connect((u.host_str().unwrap(), u.port().unwrap()))
                        .map_err(|e| e.to_string())?;
                c.write_all(b"GET /callback?code=")
                    .map_err(|e| e.to_string())?;
                // Held open past the redirect: the listener must not wait for it.
                std::thread::spawn(move || {
                    std::thread::sleep(std::time::Duration::from_secs(15));
                    drop(c);
                });
                Ok("left stalled".into())
            },
        ),
        redirect_refused("no code", "code", |u| requery(u, |p| set(p, "code", None))),
        redirect_refused("error=access_denied", "access_denied", |u| {
            requery(u, |p| {
                let p = set(p, "code", None);
                set(p, "error", Some("access_denied"))
            })
        }),
        redirect_refused("error_description with escapes and HTML", "<U+001B>", |u| {
            requery(u, |p| {
                let p = set(p, "code", None);
                let p = set(p, "error", Some("server_error"));
                set(
                    p,
                    "error_description",
                    Some("<script>x</script>\u{1b}[31mred"),
                )
            })
        }),
        redirect_refused("iss of another issuer (RFC 9207)", "iss", |u| {
            requery(u, |p| set(p, "iss", Some("https://evil.example")))
        }),
        redirect_refused("code given twice", "code", |u| {
            let mut u = u;
            u.query_pairs_mut().append_pair("code", "second-code");
            u
        }),
        stray_ignored("another path on the listener", "404, keeps waiting", |u| {
            let mut other = u.clone();
            other.set_path("/favicon.ico");
            let (status, _) = user::deliver(&other)?;
            ensure(status == 404, || format!("answered {status}"))?;
            Ok(format!("answered {status}"))
        }),
        stray_ignored("POST to the callback", "405, keeps waiting", |u| {
            let path = format!("{}?{}", u.path(), u.query().unwrap_or(""));
            raw(
                u,
                format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
                    .as_bytes(),
            )
        }),
        stray_ignored(
            "Host header of another site (DNS rebinding)",
            "refused, keeps waiting",
            |u| {
                let path = format!("{}?{}", u.path(), u.query().unwrap_or(""));
                raw(
                    u,
                    format!("GET {path} HTTP/1.1\r\nHost: evil.example\r\n\r\n").as_bytes(),
                )
            },
        ),
        stray_ignored(
            "bytes that are not HTTP",
            "refused (404), keeps waiting",
            |u| {
                raw(
                    u,
                    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n",
                )
            },
        ),
        stray_ignored("request line of 100 KB", "refused, keeps waiting", |u| {
            raw(
                u,
                format!(
                    "GET /callback?x={} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                    "a".repeat(100_000)
                )
                .as_bytes(),
            )
        }),
        exchange("HTML instead of JSON", "not JSON", |_| {
            Canned::with_type("text/html", "<html><body>Sign in</body></html>")
        }),
        exchange("empty body", "empty", |_| Canned::json("")),
        exchange(
            "error inside HTTP 200",
            "HTTP 200 with the error invalid_grant",
            |_| Canned::json(r#"{"error":"invalid_grant"}"#),
        ),
        exchange("form encoding instead of JSON", "not JSON", |_| {
            Canned::with_type(
                "application/x-www-form-urlencoded",
                "access_token=x&token_type=bearer",
            )
        }),
        exchange("no token_type", "token_type", |_| {
            token(json!({ "token_type": null }))
        }),
        exchange("token_type MAC", "not bearer", |_| {
            token(json!({ "token_type": "MAC" }))
        }),
        exchange("no access_token", "access_token", |_| {
            token(json!({ "access_token": null }))
        }),
        exchange("access_token is a number", "access_token", |_| {
            token(json!({ "access_token": 12345 }))
        }),
        exchange("access_token is empty", "access_token", |_| {
            token(json!({ "access_token": "" }))
        }),
        exchange("access_token with a newline", "access_token", |_| {
            token(json!({ "access_token": "abc\r\nSet-Cookie: x" }))
        }),
        exchange("expires_in -1", "expires_in", |_| {
            token(json!({ "expires_in": -1 }))
        }),
        exchange(
            "expires_in as a string",
            "a string where a number belongs",
            |_| token(json!({ "expires_in": "3600" })),
        ),
        exchange("expires_in 1e18", "expires_in", |_| {
            Canned::json(r#"{"access_token":"a","token_type":"Bearer","expires_in":1e18}"#)
        }),
        exchange("HTTP 400 invalid_client", "invalid_client", |_| {
            Canned::json(r#"{"error":"invalid_client"}"#).with_status(400)
        }),
        exchange("HTTP 500 with an HTML page", "HTTP 500", |_| {
            Canned::with_type("text/html", "<h1>Oops</h1>").with_status(500)
        }),
        exchange("body of 3 MB", "KB", |_| {
            token(json!({ "pad": "a".repeat(3_000_000) }))
        }),
        exchange("JSON nested 5000 deep", "nested", |_| {
            Canned::json(format!(
                "{{\"access_token\":\"a\",\"token_type\":\"Bearer\",\"x\":{}{}}}",
                "[".repeat(5000),
                "]".repeat(5000)
            ))
        }),
        exchange("endpoint that never answers", "in time", |_| {
            token(json!({})).paced(Pace::Hang)
        }),
        exchange("endpoint that sends a byte a second", "in time", |_| {
            token(json!({})).paced(Pace::Trickle)
        }),
        with_id_token("ID token with alg none", "ID token", |_| json!({}), "none"),
        with_id_token(
            "ID token for another client",
            "ID token",
            |_| json!({ "aud": "someone-else" }),
            "HS256",
        ),
        with_id_token(
            "ID token from another issuer",
            "ID token",
            |_| json!({ "iss": "https://evil.example" }),
            "HS256",
        ),
        with_id_token(
            "ID token with another nonce",
            "ID token",
            |_| json!({ "nonce": "replayed" }),
            "HS256",
        ),
        with_id_token(
            "ID token without a nonce",
            "ID token",
            |_| json!({ "nonce": null }),
            "HS256",
        ),
        exchange("ID token that is not a JWT", "ID token", |_| {
            token(json!({ "id_token": "not.a.jwt", "scope": "openid" }))
        }),
        exchange("ID token with a forged signature", "ID token", |f| {
            let good = jwt(&f.claims(json!({})), "HS256");
            let forged = format!("{}AAAA", &good[..good.len() - 4]);
            token(json!({ "id_token": forged, "scope": "openid" }))
        }),
        // Found by the id_token fuzz target: openidconnect panicked on an HMAC signature of
        // the wrong length, so a hostile provider could end a sign-in with exit 101.
        exchange("ID token with a 3-byte HS256 signature", "ID token", |f| {
            let good = jwt(&f.claims(json!({})), "HS256");
            let (signed, _) = good.rsplit_once('.').expect("a JWT has three parts");
            token(json!({ "id_token": format!("{signed}.c2ln"), "scope": "openid" }))
        }),
        with_id_token(
            "clock: ID token expired 10 minutes ago",
            "expired",
            |_| json!({ "iat": now() - 1200, "exp": now() - 600 }),
            "HS256",
        ),
    ];
    // A provider whose clock is ten minutes off is still usable: issued-at in the future and a
    // Date header ahead change nothing, and the expiry is counted from this machine's clock.
    for (name, skew) in [
        ("clock: provider 10 minutes ahead", 600i64),
        ("clock: provider 10 minutes behind", -600),
    ] {
        cases.push(case(
            "clock",
            name,
            "signed in; expiry = this machine's now + expires_in",
            move || {
                let date = httpdate(now() + skew);
                let s = sign_in(
                    move |f| {
                        let mut c = token(json!({
                            "id_token": jwt(&f.claims(json!({ "iat": now() + skew, "exp": now() + skew + 3600 })), "HS256"),
                            "scope": "openid",
                        }));
                        c.headers.push(("Date".into(), date.clone()));
                        c
                    },
                    &Browser::Redirect(std::sync::Arc::new(|u| u)),
                    &[],
                )?;
                let row = sign_in_ok(&s)?;
                let expires = row["expires_at"]
                    .as_str()
                    .and_then(|t| {
                        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
                    })
                    .ok_or("no expires_at")?
                    .unix_timestamp();
                let off = expires - (now() + 3600);
                ensure(off.abs() < 60, || format!("expires_at is {off} s off this machine's clock"))?;
                Ok(format!("account {}, expires in {} s", row["account"], expires - now()))
            },
        ));
    }
    cases.extend([
        pushed("answer without request_uri", "no request_uri", || {
            Canned::json(r#"{"expires_in":60}"#).with_status(201)
        }),
        pushed("HTTP 400 invalid_request", "invalid_request", || {
            Canned::json(r#"{"error":"invalid_request","error_description":"no"}"#).with_status(400)
        }),
        pushed("request_uri of 10 KB", "1 to 2048", || {
            Canned::json(json!({ "request_uri": "u".repeat(10_000) }).to_string()).with_status(201)
        }),
        pushed("request_uri with a line break", "control character", || {
            Canned::json(r#"{"request_uri":"urn:x\r\nSet-Cookie: a=b"}"#).with_status(201)
        }),
        pushed("HTML page", "not a JSON object", || {
            Canned::with_type("text/html", "<h1>Pushed</h1>").with_status(201)
        }),
        pushed("endpoint that never answers", "in time", || {
            Canned::json("{}").paced(Pace::Hang)
        }),
    ]);
    cases
}

/// `login` for a provider that pushes its authorization requests (RFC 9126) to a canned PAR
/// endpoint answering `answer`: the sign-in must end before any URL is shown, with nothing
/// stored and the client secret (sent to the PAR endpoint) nowhere in the output.
fn pushed(
    name: &str,
    says: &'static str,
    answer: impl Fn() -> Canned + Send + Sync + 'static,
) -> Case {
    case(
        "pushed request",
        name.to_owned(),
        format!("sign-in fails: \"{says}\"; no URL shown, nothing stored"),
        move || {
            let server = CannedServer::start(vec![("/par".into(), answer())]);
            let desk = canned_provider(&server)?;
            let par = format!("{}/par", server.base);
            desk.ok(
                &["provider", "update", "Canned", "--par", "--par-url", &par],
                "",
            )?;
            let out = desk.run_env(
                &["login", "Canned", "--no-browser", "--json"],
                &[("OAUTH_DESK_HTTP_TIMEOUT", "3")],
                "",
            );
            let seen = refused(&out, 1, "", says)?;
            let printed = String::from_utf8_lossy(&out.stdout);
            ensure(!printed.contains("http"), || {
                format!("a URL was shown: {}", short(&printed))
            })?;
            ensure(!stderr(&out).contains(SECRET), || {
                "the client secret reached the output".into()
            })?;
            let n = tokens_stored(&desk)?;
            ensure(n == 0, || format!("{n} token(s) stored"))?;
            Ok(seen)
        },
    )
}

/// An RFC 7231 date.
fn httpdate(t: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(t).unwrap();
    let f = time::format_description::parse_borrowed::<2>(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT",
    )
    .unwrap();
    t.format(&f).unwrap()
}
