//! Discovery documents (`provider add --issuer`), from a canned server that can be told what to
//! answer (a real provider cannot be made to answer these): each refused as a provider error
//! naming the issuer, nothing stored.

use oauth_desk_tests::canned::{Canned, CannedServer, Pace};
use serde_json::json;

use crate::common::*;

/// A document that is right for `issuer` apart from `patch`.
fn document(issuer: &str, patch: serde_json::Value) -> Canned {
    let doc = patched(
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/auth"),
            "token_endpoint": format!("{issuer}/token"),
            "response_types_supported": ["code"],
        }),
        patch,
    );
    Canned::json(doc.to_string())
}

type Answer = Box<dyn Fn(&str) -> Canned + Send + Sync>;

fn discovery(name: &str, says: &'static str, answer: Answer) -> Case {
    discovery_with("provider_error", name, says, answer)
}

/// Refused with `code`; errors of the document (not of a field) name the issuer's URL.
fn discovery_with(code: &'static str, name: &str, says: &'static str, answer: Answer) -> Case {
    case(
        "discovery",
        name.to_owned(),
        format!("{code} naming the issuer: \"{says}\"; nothing stored"),
        move || {
            let server = CannedServer::start(vec![]);
            let issuer = format!("{}/tenant", server.base);
            server.set("/tenant/.well-known/openid-configuration", answer(&issuer));
            let d = Desk::new();
            d.provider("Existing", "https://idp.example", &[])?;
            let before = d.snapshot();
            let out = d.run_env(
                &[
                    "provider",
                    "add",
                    "New",
                    "--issuer",
                    &issuer,
                    "--client-id",
                    "c",
                    "--json",
                ],
                &[("OAUTH_DESK_HTTP_TIMEOUT", "3")],
                "",
            );
            let seen = refused(&out, 1, code, says)?;
            let message = failure(&out).message;
            ensure(code == "invalid_input" || message.contains(&issuer), || {
                format!("the message does not name the issuer: {message}")
            })?;
            before.same(&d.snapshot())?;
            Ok(seen)
        },
    )
}

pub fn cases() -> Vec<Case> {
    vec![
        discovery(
            "HTML page instead of JSON",
            "HTML page",
            Box::new(|_| Canned::with_type("text/html", "<!doctype html><h1>Sign in</h1>")),
        ),
        discovery("empty body", "empty", Box::new(|_| Canned::json(""))),
        discovery(
            "text that is not JSON",
            "not JSON",
            Box::new(|_| Canned::json("issuer: https://idp.example")),
        ),
        discovery(
            "JSON array instead of an object",
            "object",
            Box::new(|_| Canned::json("[1,2,3]")),
        ),
        discovery(
            "HTTP 404",
            "publishes no metadata",
            Box::new(|_| Canned::json("{}").with_status(404)),
        ),
        discovery(
            "HTTP 500 with HTML",
            "HTTP 500",
            Box::new(|_| {
                Canned::with_type("text/html", "<h1>Internal error</h1>").with_status(500)
            }),
        ),
        discovery(
            "document of 1.1 MB",
            "more than 1024 KB",
            Box::new(|i| document(i, json!({ "pad": "a".repeat(1_100_000) }))),
        ),
        discovery(
            "arrays nested 5000 deep",
            "nested more than 32 levels",
            Box::new(|_| Canned::json(format!("{}{}", "[".repeat(5000), "]".repeat(5000)))),
        ),
        discovery(
            "another issuer's document",
            "RFC 8414 §3.3",
            Box::new(|_| document("https://evil.example", json!({}))),
        ),
        discovery(
            "redirect to another host",
            "redirects to https://evil.example",
            Box::new(|_| Canned::redirect("https://evil.example/.well-known/openid-configuration")),
        ),
        discovery_with(
            "invalid_input",
            "no token endpoint (and none given)",
            "token_url",
            Box::new(|i| document(i, json!({ "token_endpoint": null }))),
        ),
        discovery(
            "token endpoint is a number",
            "token_endpoint",
            Box::new(|i| document(i, json!({ "token_endpoint": 42 }))),
        ),
        discovery(
            "javascript: authorization endpoint",
            "javascript:",
            Box::new(|i| {
                document(
                    i,
                    json!({ "authorization_endpoint": "javascript:alert(1)" }),
                )
            }),
        ),
        discovery(
            "plain-http endpoint on another host",
            "https",
            Box::new(|i| document(i, json!({ "token_endpoint": "http://evil.example/token" }))),
        ),
        discovery_with(
            "timed_out",
            "server that never answers",
            "in time",
            Box::new(|i| document(i, json!({})).paced(Pace::Hang)),
        ),
        discovery_with(
            "timed_out",
            "server that sends a byte a second",
            "in time",
            Box::new(|i| document(i, json!({})).paced(Pace::Trickle)),
        ),
    ]
}
