//! Trust-boundary cases (issue 16): races that could lose a grant, and sign-ins started through
//! the REST API that must not outlive their use.
//!
//! The races pit real CLI processes against each other on one vault. The provider is canned:
//! the real test provider cannot be made to hold a refresh answer until the test says so, and
//! that hold is what makes the race happen every time instead of once in a while.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use oauth_desk_core::vault::tokens;
use oauth_desk_tests::bins;
use oauth_desk_tests::canned::{Canned, CannedServer, Pace};
use oauth_desk_tests::cli::{stderr, stdout, Running};
use serde_json::{json, Value};

use crate::common::*;

/// What `refresh.rs` logs (at debug) when another holder has the vault's refresh lock.
const WAITING: &str = "waiting for the refresh lock";

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "races",
            "revoke while another process rotates the refresh token",
            "revoke waits, then revokes the rotated refresh token",
            revoke_during_refresh,
        ),
        case(
            "races",
            "sign-in stored while a refresh of that account is in flight",
            "the sign-in waits; its token is the one kept",
            signin_during_refresh,
        ),
        case(
            "races",
            "token imported while a refresh of that account is in flight",
            "the import waits; the imported token is the one kept",
            import_during_refresh,
        ),
        case(
            "races",
            "token endpoint moved while a refresh is in flight",
            "the move waits; the refresh's rotated token does not survive it",
            move_during_refresh,
        ),
        case(
            "races",
            "token endpoint moved while a sign-in is under way",
            "the sign-in's grant is not stored under the moved provider",
            move_during_signin,
        ),
        case(
            "api",
            "POST /app with a name already taken",
            "HTTP 409 naming the field; the first provider kept",
            name_taken_is_a_conflict,
        ),
        case(
            "api",
            "/connect to a provider with a custom redirect URL",
            "HTTP 409: only the window can catch it; no thread",
            connect_custom_redirect_is_a_conflict,
        ),
        case(
            "api",
            "/connect sign-in finished, then asked about again",
            "reported once, then 404; its thread is gone",
            finished_connect_is_dropped,
        ),
    ]
}

/// A canned provider: `/token` answers sign-ins at once; `/refresh` rotates (each answer
/// numbered) and holds its answer until released; `/revoke` says 200 and logs what it got.
fn rotating_provider(signin_answer: Value) -> Result<(CannedServer, Desk), String> {
    rotating_provider_with(Canned::json(signin_answer.to_string()))
}

/// The same, with `signin` as the answer of `/token`.
fn rotating_provider_with(signin: Canned) -> Result<(CannedServer, Desk), String> {
    let server = CannedServer::start(vec![
        ("/token".into(), signin),
        (
            "/refresh".into(),
            Canned::json(
                r#"{"access_token":"access-{n}","refresh_token":"refresh-{n}","token_type":"Bearer","expires_in":3600}"#,
            )
            .numbered()
            .paced(Pace::Held),
        ),
        ("/revoke".into(), Canned::json("")),
    ]);
    let d = Desk::new();
    let b = server.base.clone();
    let (auth, tok, refresh, revoke) = (
        format!("{b}/auth"),
        format!("{b}/token"),
        format!("{b}/refresh"),
        format!("{b}/revoke"),
    );
    d.ok(
        &[
            "provider",
            "add",
            "Rotating",
            "--client-id",
            "race-client",
            "--client-secret-stdin",
            "--auth-url",
            &auth,
            "--token-url",
            &tok,
            "--refresh-url",
            &refresh,
            "--revoke-url",
            &revoke,
        ],
        "race-secret\n",
    )?;
    d.ok(
        &["token", "import", "Rotating", "--account", "alice"],
        &json!({"access_token": "access-0", "refresh_token": "refresh-0", "expires_in": 3600})
            .to_string(),
    )?;
    Ok((server, d))
}

/// `token refresh Rotating --account alice`, started, and waited for until its request has
/// reached the provider (which holds the answer: the refresh lock is held from here on).
fn refresh_in_flight(d: &Desk, server: &CannedServer) -> Result<Running, String> {
    let refresh = Running::start(
        &d.s,
        &["token", "refresh", "Rotating", "--account", "alice"],
        &[PASS],
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.received("/refresh").is_empty() {
        if Instant::now() > deadline {
            return Err("the refresh never reached the provider".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(refresh)
}

/// Runs `args` (with `stdin`) while a refresh of alice is held at the provider, then lets the
/// refresh go: whether `args` waited for the refresh lock, and its standard output. Both must
/// succeed.
fn during_held_refresh(
    d: &Desk,
    server: &CannedServer,
    what: &str,
    args: &[&str],
    stdin: &str,
) -> Result<(bool, String), String> {
    let refresh = refresh_in_flight(d, server)?;
    let mut other = Watched::start(d, args, stdin);
    let waited = other.waits_for_the_lock();
    server.release();
    finished_ok("the refresh", refresh)?;
    let (code, out, last) = other.finish();
    ensure(code == Some(0), || format!("{what} failed: {last}"))?;
    Ok((waited, out))
}

/// A CLI started with debug logs, whose standard error is read as it comes.
struct Watched {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Watched {
    /// Starts the CLI with `stdin` as its whole standard input.
    fn start(d: &Desk, args: &[&str], stdin: &str) -> Watched {
        let mut cmd: Command = bins::cli();
        d.s.apply(&mut cmd);
        cmd.args(args)
            .env(PASS.0, PASS.1)
            .env("OAUTH_DESK_LOG", "debug")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the CLI starts");
        let mut input = child.stdin.take().unwrap();
        input
            .write_all(stdin.as_bytes())
            .expect("the CLI reads its input");
        drop(input);
        let err = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watched {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits until the CLI says it waits for the refresh lock (true) or exits without having
    /// said so (false): no guess at how long either takes.
    fn waits_for_the_lock(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            while let Ok(line) = self.lines.try_recv() {
                let waiting = line.contains(WAITING);
                self.seen.push(line);
                if waiting {
                    return true;
                }
            }
            if self.child.try_wait().unwrap().is_some() {
                // What it printed before exiting is in the channel already or soon: drain it.
                while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
                    self.seen.push(line);
                }
                return self.seen.iter().any(|l| l.contains(WAITING));
            }
            assert!(
                Instant::now() < deadline,
                "the CLI neither waited nor ended"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Exit code, standard output, and the last line of standard error.
    fn finish(mut self) -> (Option<i32>, String, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the CLI did not end within 60 s");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        let mut out = String::new();
        let _ = self.child.stdout.take().unwrap().read_to_string(&mut out);
        (
            status.code(),
            out,
            self.seen.last().cloned().unwrap_or_default(),
        )
    }
}

impl Drop for Watched {
    /// A CLI left waiting (a case that failed half-way) ends with its case.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn alice(d: &Desk) -> Result<tokens::TokenRecord, String> {
    d.stored("Rotating", "alice")
}

fn finished_ok(what: &str, r: Running) -> Result<(), String> {
    let out = r.finish();
    ensure(out.status.success(), || {
        format!("{what} failed: {}{}", stdout(&out), stderr(&out))
    })
}

/// Revocation reads the refresh token under the refresh lock, so it revokes the one a refresh
/// in another process rotated in, and nothing brings the row back to life afterwards.
fn revoke_during_refresh() -> Check {
    let (server, d) = rotating_provider(json!({"access_token": "unused"}))?;
    let (waited, out) = during_held_refresh(
        &d,
        &server,
        "the revoke",
        &[
            "token",
            "revoke",
            "Rotating",
            "--account",
            "alice",
            "--json",
        ],
        "",
    )?;
    let outcome: Value = serde_json::from_str(out.trim()).map_err(|e| format!("{e}: {out}"))?;
    ensure(outcome["outcome"] == "at_provider", || {
        format!("the revoke said {outcome}")
    })?;
    // The refresh was the provider's first request, so its answer is number 1.
    let revoked: Vec<String> = server
        .received("/revoke")
        .iter()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    ensure(
        revoked.iter().any(|b| b.contains("token=refresh-1&")),
        || {
            format!(
                "revoked at the provider, yet the live refresh token the concurrent refresh \
                 rotated in (refresh-1) was never revoked (waited for the lock: {waited}); \
                 the provider got {revoked:?}"
            )
        },
    )?;
    let t = alice(&d)?;
    ensure(
        t.refresh_token.is_none() && t.access_token.is_none() && t.status.as_str() == "revoked",
        || {
            format!(
                "after the revoke the vault holds {} with a refresh token: {}",
                t.status.as_str(),
                t.refresh_token.is_some()
            )
        },
    )?;
    Ok(format!(
        "waited for the refresh, revoked refresh-1; provider got {} revocations",
        revoked.len()
    ))
}

/// A sign-in's store waits for a refresh of the same account in another process, so the
/// refresh's answer (the old grant, rotated) cannot overwrite the new sign-in.
fn signin_during_refresh() -> Check {
    let (server, d) = rotating_provider(json!({
        "access_token": "signed-in-access", "refresh_token": "signed-in-refresh",
        "token_type": "Bearer", "expires_in": 3600,
    }))?;
    let (waited, out) = during_held_refresh(
        &d,
        &server,
        "the sign-in",
        &[
            "login",
            "Rotating",
            "--client-credentials",
            "--account",
            "alice",
            "--json",
        ],
        "",
    )?;
    let signed: Value = serde_json::from_str(out.trim()).map_err(|e| format!("{e}: {out}"))?;
    let t = alice(&d)?;
    let (access, refresh) = (
        t.access_token.map(|s| s.expose().clone()),
        t.refresh_token.map(|s| s.expose().clone()),
    );
    ensure(
        access.as_deref() == Some("signed-in-access")
            && refresh.as_deref() == Some("signed-in-refresh"),
        || {
            format!(
                "the new sign-in was overwritten by the old grant's refresh (waited for the \
                 lock: {waited}): alice holds {access:?} / {refresh:?}"
            )
        },
    )?;
    ensure(signed["replaced"] == true, || {
        format!("the sign-in did not say it replaced a token: {signed}")
    })?;
    Ok("waited for the refresh; the sign-in's tokens are kept".into())
}

/// An import (`token import`, the API's "set user token") waits for a refresh of the same
/// account, like a sign-in: the refresh's answer cannot overwrite the imported token.
fn import_during_refresh() -> Check {
    let (server, d) = rotating_provider(json!({}))?;
    let body = json!({
        "access_token": "imported-access", "refresh_token": "imported-refresh", "expires_in": 3600,
    });
    let (waited, _) = during_held_refresh(
        &d,
        &server,
        "the import",
        &["token", "import", "Rotating", "--account", "alice"],
        &body.to_string(),
    )?;
    let t = alice(&d)?;
    let (access, refresh) = (
        t.access_token.map(|s| s.expose().clone()),
        t.refresh_token.map(|s| s.expose().clone()),
    );
    ensure(
        access.as_deref() == Some("imported-access")
            && refresh.as_deref() == Some("imported-refresh"),
        || {
            format!(
                "the imported token was overwritten by the old grant's refresh (waited for the \
                 lock: {waited}): alice holds {access:?} / {refresh:?}"
            )
        },
    )?;
    Ok("waited for the refresh; the imported token is kept".into())
}

/// A move of the token endpoint (which signs the accounts out) waits for a refresh in flight
/// in another process: else the refresh's answer, stored after the move, would make the
/// account active again with a refresh token the next refresh sends to the new host.
fn move_during_refresh() -> Check {
    let (server, d) = rotating_provider(json!({}))?;
    let (waited, _) = during_held_refresh(
        &d,
        &server,
        "the update",
        &[
            "provider",
            "update",
            "Rotating",
            "--token-url",
            "http://localhost:1/token",
            "--refresh-url",
            "http://localhost:1/token",
        ],
        "",
    )?;
    let t = alice(&d)?;
    ensure(
        t.refresh_token.is_none() && t.access_token.is_none(),
        || {
            format!(
                "after the move alice still holds {:?} / {:?} (the update waited for the lock: \
             {waited}); the next refresh would send it to the new host",
                t.access_token.map(|s| s.expose().clone()),
                t.refresh_token.map(|s| s.expose().clone())
            )
        },
    )?;
    Ok("waited for the refresh; alice signed out, nothing left to send".into())
}

/// A sign-in that began before its provider's token endpoint moved: its grant comes from the
/// old host, and storing it under the moved provider would hand its refresh token to the new
/// one. It is refused (needs sign-in) and nothing is stored.
fn move_during_signin() -> Check {
    let answer = json!({
        "access_token": "old-host-access", "refresh_token": "old-host-refresh",
        "token_type": "Bearer", "expires_in": 3600,
    });
    let (server, d) = rotating_provider_with(Canned::json(answer.to_string()).paced(Pace::Held))?;
    let login = Running::start(
        &d.s,
        &[
            "login",
            "Rotating",
            "--client-credentials",
            "--account",
            "bob",
        ],
        &[PASS],
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.received("/token").is_empty() {
        if Instant::now() > deadline {
            return Err("the sign-in never reached the provider".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    d.ok(
        &[
            "provider",
            "update",
            "Rotating",
            "--token-url",
            "http://localhost:1/token",
            "--refresh-url",
            "http://localhost:1/token",
        ],
        "",
    )?;
    server.release();
    let out = login.finish();
    let stored = d.stored("Rotating", "bob").ok();
    ensure(stored.is_none(), || {
        format!(
            "the old host's grant was stored under the moved provider (exit {:?})",
            out.status.code()
        )
    })?;
    refused(&out, 3, "", "moved to another host")
}

/// `oauth-desk serve` on a desk, and the address it listens on.
struct Served {
    child: Child,
    base: String,
    key: String,
}

impl Served {
    fn start(d: &Desk) -> Result<Served, String> {
        let key = stdout(&d.ok(&["api", "key"], "")?).trim().to_owned();
        let mut cmd: Command = bins::cli();
        d.s.apply(&mut cmd);
        cmd.args(["serve", "--port", "0"])
            .env(PASS.0, PASS.1)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        // Owned by `Served` at once, so that every early return below ends the server.
        let mut served = Served {
            child: cmd.spawn().expect("the CLI starts"),
            base: String::new(),
            key,
        };
        let mut line = String::new();
        BufReader::new(served.child.stdout.take().unwrap())
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        served.base = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("unexpected first line {line:?}"))?
            .to_owned();
        Ok(served)
    }

    fn get(&self, path: &str) -> Result<(u16, Value), String> {
        let r = oauth_desk_tests::http()
            .get(format!("{}/api/v1/oauth2{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        Ok((status, r.json().unwrap_or(Value::Null)))
    }

    fn post(&self, path: &str, body: &Value) -> Result<(u16, Value), String> {
        let r = oauth_desk_tests::http()
            .post(format!("{}/api/v1/oauth2{path}", self.base))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        Ok((status, r.json().unwrap_or(Value::Null)))
    }

    /// The server's threads that wait for a sign-in's redirect (named so in routes.rs).
    fn waiting_threads(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/task", self.child.id()))
            .map(|tasks| {
                tasks
                    .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                    .filter(|name| name.trim() == "api-signin")
                    .count()
            })
            .unwrap_or(0)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A sign-in through `/connect` against the real provider: once done, its outcome is handed
/// out once and then dropped (they used to pile up for as long as the server ran), and no
/// thread is left for it.
fn finished_connect_is_dropped() -> Check {
    use oauth_desk_tests::idp::{self, Idp};
    use oauth_desk_tests::user::{deliver, User};
    let provider = Idp::start();
    let d = Desk::new();
    oauth_desk_tests::signin::add_provider(&d.s, &[PASS], &provider, "Test IdP", &idp::BASIC);
    let api = Served::start(&d)?;
    let (status, started) = api.get("/connect/Test%20IdP?account=alice")?;
    ensure(status == 200, || {
        format!("/connect answered {status}: {started}")
    })?;
    let id = started["id"].as_str().unwrap_or_default().to_owned();
    let url = started["url"].as_str().unwrap_or_default().to_owned();
    // The thread names itself once it runs: wait for that, not for a guessed time.
    let deadline = Instant::now() + Duration::from_secs(10);
    while api.waiting_threads() != 1 {
        ensure(Instant::now() < deadline, || {
            format!(
                "{} threads wait for the redirect, not one",
                api.waiting_threads()
            )
        })?;
        std::thread::sleep(Duration::from_millis(10));
    }
    let redirect = User::new("alice").authorize(&url)?;
    deliver(&redirect)?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let outcome = loop {
        let (_, st) = api.get(&format!("/signin/{id}"))?;
        if st["status"] != "pending" {
            break st;
        }
        ensure(Instant::now() < deadline, || {
            "the sign-in never finished".into()
        })?;
        std::thread::sleep(Duration::from_millis(50));
    };
    ensure(outcome["status"] == "done", || {
        format!("the sign-in: {outcome}")
    })?;
    let (again, body) = api.get(&format!("/signin/{id}"))?;
    ensure(again == 404, || {
        format!("a finished sign-in is still kept: asked again, HTTP {again} {body}")
    })?;
    // The thread records the outcome as its last act; it is gone soon after.
    let deadline = Instant::now() + Duration::from_secs(10);
    while api.waiting_threads() > 0 {
        ensure(Instant::now() < deadline, || {
            "the finished sign-in's thread is still there".into()
        })?;
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok("done once, then 404; no thread left".into())
}

/// A well-formed provider whose name is taken is a conflict with what is stored (409), which
/// the OpenAPI document lets a valid request get; 422 would say the request itself is wrong.
fn name_taken_is_a_conflict() -> Check {
    let d = Desk::new();
    let api = Served::start(&d)?;
    let provider = |client: &str| json!({"name": "Twice", "token_url": "https://idp.example/token", "client_id": client});
    let (first, body) = api.post("/app", &provider("first"))?;
    ensure(first == 201, || {
        format!("the first POST: HTTP {first} {body}")
    })?;
    let (second, body) = api.post("/app", &provider("second"))?;
    ensure(second == 409, || format!("HTTP {second} {body}"))?;
    ensure(
        body["code"] == "invalid_input" && body["fields"][0]["field"] == "name",
        || format!("the answer does not name the field: {body}"),
    )?;
    let (_, kept) = api.get("/app/Twice")?;
    ensure(kept["client_id"] == "first", || {
        format!("the stored provider changed: {kept}")
    })?;
    Ok(short(&body["message"].to_string()))
}

/// What stops this sign-in is the stored provider, not the request: 409, and no listener or
/// thread is left waiting.
fn connect_custom_redirect_is_a_conflict() -> Check {
    let d = Desk::new();
    let api = Served::start(&d)?;
    let (added, body) = api.post(
        "/app",
        &json!({"name": "Custom", "token_url": "https://idp.example/token",
                "authorization_url": "https://idp.example/auth", "client_id": "c",
                "redirect_url": "https://app.example/callback"}),
    )?;
    ensure(added == 201, || format!("adding: HTTP {added} {body}"))?;
    let (status, body) = api.get("/connect/Custom")?;
    ensure(status == 409, || format!("HTTP {status} {body}"))?;
    ensure(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("only the window")),
        || format!("the message does not say why: {body}"),
    )?;
    ensure(api.waiting_threads() == 0, || {
        "a thread waits for a redirect that cannot come".into()
    })?;
    Ok(short(body["message"].as_str().unwrap_or_default()))
}
