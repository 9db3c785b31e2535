//! The local REST API (`oauth-desk serve`): requests without the key, from another site, with
//! bad bodies, oversized or stalled; each gets its status, and the vault is unchanged.

use std::io::{Read, Write};
use std::sync::Arc;

use oauth_desk_tests::cli::{stdout, Running};
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::json;

use crate::common::*;

struct Api {
    desk: Desk,
    base: String,
    key: String,
    http: Client,
    _server: Running,
}

impl Api {
    fn start() -> Result<Api, String> {
        let desk = Desk::new();
        desk.provider("Existing", "https://idp.example", &[])?;
        let key = stdout(&desk.ok(&["api", "key"], "")?).trim().to_owned();
        let mut server = Running::start(&desk.s, &["serve", "--port", "0"], &[PASS]);
        let line = server.line();
        let base = line
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("unexpected first line {line:?}"))?
            .to_owned();
        Ok(Api {
            desk,
            base,
            key,
            http: oauth_desk_tests::http(),
            _server: server,
        })
    }
    fn url(&self, path: &str) -> String {
        format!("{}/api/v1/oauth2{path}", self.base)
    }
    fn authed(&self, r: RequestBuilder) -> RequestBuilder {
        r.bearer_auth(&self.key)
    }
    fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }
}

/// Sends what `request` builds; must answer `status` with a body containing `says` (the body
/// is never allowed to carry `never`); the vault must be unchanged, and the server must still
/// answer a good request afterwards.
fn api(
    name: &str,
    status: u16,
    says: &'static str,
    request: impl Fn(&Api) -> Result<(u16, String), String> + Send + Sync + 'static,
) -> Case {
    let request = Arc::new(request);
    case(
        "api",
        name.to_owned(),
        format!("HTTP {status} {says}; vault unchanged; server still answers"),
        move || {
            let a = Api::start()?;
            let before = a.desk.snapshot_while_served();
            let (got, body) = request(&a)?;
            ensure(got == status, || format!("HTTP {got}: {}", short(&body)))?;
            ensure(body.contains(says), || {
                format!("the body does not say {says:?}: {}", short(&body))
            })?;
            ensure(!body.contains("s3cret-value"), || {
                "a secret value was echoed".into()
            })?;
            let still = a
                .authed(a.http.get(a.url("/app")))
                .send()
                .map_err(|e| e.to_string())?;
            ensure(still.status().as_u16() == 200, || {
                "the server stopped answering".into()
            })?;
            ensure(before == a.desk.snapshot_while_served(), || {
                "the providers changed".into()
            })?;
            Ok(format!("HTTP {got} {}", short(&body)))
        },
    )
}

impl Desk {
    /// The providers as the API's own process would not disturb: read with the CLI.
    fn snapshot_while_served(&self) -> String {
        stdout(&self.run(&["provider", "list", "--json"], ""))
    }
}

fn send(r: RequestBuilder) -> Result<(u16, String), String> {
    let resp = r.send().map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    Ok((status, resp.text().unwrap_or_default()))
}

/// Raw bytes to the API; returns the status line's code and the rest.
fn raw(a: &Api, bytes: &[u8]) -> Result<(u16, String), String> {
    let mut c = std::net::TcpStream::connect(a.addr()).map_err(|e| e.to_string())?;
    c.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok();
    c.write_all(bytes).map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let _ = c.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let code = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((code, text))
}

pub fn cases() -> Vec<Case> {
    vec![
        api("no key", 401, "", |a| send(a.http.get(a.url("/app")))),
        api("wrong key", 401, "", |a| {
            send(a.http.get(a.url("/app")).bearer_auth("0".repeat(64)))
        }),
        api(
            "key in the query string instead of the header",
            401,
            "",
            |a| {
                send(
                    a.http
                        .get(format!("{}?access_token={}", a.url("/app"), a.key)),
                )
            },
        ),
        api(
            "Host of another site (DNS rebinding)",
            403,
            "forbidden_host",
            |a| {
                send(
                    a.authed(a.http.get(a.url("/app")))
                        .header("Host", "evil.example"),
                )
            },
        ),
        api("CORS preflight from a web page", 401, "", |a| {
            let (status, body) = raw(a, format!(
                "OPTIONS /api/v1/oauth2/app HTTP/1.1\r\nHost: {}\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n", a.addr()).as_bytes())?;
            ensure(
                !body
                    .to_ascii_lowercase()
                    .contains("access-control-allow-origin"),
                || "CORS allowed".into(),
            )?;
            Ok((status, body))
        }),
        api("cut-off JSON body", 422, "invalid_input", |a| {
            send(
                a.authed(a.http.post(a.url("/app")))
                    .header("content-type", "application/json")
                    .body("{\"name\": "),
            )
        }),
        api(
            "client_secret of the wrong type, not echoed",
            422,
            "invalid_input",
            |a| {
                send(a.authed(a.http.post(a.url("/app"))).header("content-type", "application/json").body(r#"{"name":"x","client_id":"c","token_url":"https://idp.example/t","client_secret":["s3cret-value"]}"#))
            },
        ),
        api("javascript: token URL", 422, "token_url", |a| {
            send(a.authed(a.http.post(a.url("/app"))).json(
                &json!({ "name": "X", "client_id": "c", "token_url": "javascript:alert(1)" }),
            ))
        }),
        api("body of 70 KB", 413, "", |a| {
            send(
                a.authed(a.http.post(a.url("/app")))
                    .json(&json!({ "name": "x".repeat(70_000) })),
            )
        }),
        api("unknown path", 404, "", |a| {
            send(a.authed(a.http.get(a.url("/nothing-here"))))
        }),
        api("encoded path traversal", 404, "", |a| {
            send(
                a.authed(
                    a.http
                        .get(format!("{}/app/..%2F..%2F..%2Fetc%2Fpasswd", a.url(""))),
                ),
            )
        }),
        api("wrong method", 405, "", |a| {
            send(a.authed(a.http.patch(a.url("/app"))))
        }),
        api("headers of 1 MB", 431, "", |a| {
            raw(a, format!("GET /api/v1/oauth2/app HTTP/1.1\r\nHost: {}\r\nX-Pad: {}\r\nConnection: close\r\n\r\n", a.addr(), "a".repeat(1 << 20)).as_bytes())
        }),
        api("a connection that sends nothing", 200, "Existing", |a| {
            // Held open while another request is made: one stalled client must not block others.
            let _silent = std::net::TcpStream::connect(a.addr()).map_err(|e| e.to_string())?;
            send(a.authed(a.http.get(a.url("/app"))))
        }),
    ]
}
