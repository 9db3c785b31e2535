//! The in-app login window under a hostile provider page: it tries to leave for a local file,
//! a plain-http site, a custom scheme, or to open a pop-up. Each attempt is refused: the page
//! is still where it was a moment later (it reports its own address to the canned server) and
//! nothing is stored. Each case starts the real window under Xvfb.

use std::time::{Duration, Instant};

use oauth_desk_tests::canned::{Canned, CannedServer};
use oauth_desk_tests::desktop::App;

use crate::common::*;

/// A login page that runs `attempt` (JavaScript), waits, then reports where it is.
fn hostile(name: &str, attempt: &'static str) -> Case {
    case(
        "login window",
        name.to_owned(),
        "refused: the page stays where it was; nothing stored",
        move || {
            let page = format!(
                r#"<!doctype html><title>Evil login</title><p>Signing you in…</p><script>
                let popup = 'none';
                try {{ {attempt} }} catch (e) {{ popup = 'threw: ' + e; }}
                setTimeout(() => fetch('/report', {{ method: 'POST',
                    body: JSON.stringify({{ href: location.href, popup: String(popup) }}) }}), 1500);
                </script>"#
            );
            let server = CannedServer::start(vec![
                ("/auth".into(), Canned::with_type("text/html", page)),
                ("/report".into(), Canned::json("{}")),
            ]);
            let d = Desk::new();
            d.provider("Evil", &server.base, &[])?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            // A WebDriver command has no time limit of its own, and under load one has hung
            // here (a whole CI run waited on it): one more try, with a new window, after 120 s.
            let mut report = None;
            for _ in 0..2 {
                // Made inside the runtime: a time limit needs its clock.
                let attempt = runtime.block_on(async {
                    tokio::time::timeout(Duration::from_secs(120), sign_in_and_wait(&d, &server))
                        .await
                });
                if let Ok(r) = attempt {
                    report = r;
                    break;
                }
            }
            let report = report.ok_or("the page never reported: it was navigated away")?;
            let report: serde_json::Value =
                serde_json::from_slice(&report).map_err(|e| e.to_string())?;
            let href = report["href"].as_str().unwrap_or_default();
            ensure(href.starts_with(&format!("{}/auth", server.base)), || {
                format!("the page is now at {href}")
            })?;
            let popup = report["popup"].as_str().unwrap_or_default().to_owned();
            ensure(popup == "none" || popup == "null", || {
                format!("a pop-up opened: {popup}")
            })?;
            let n = crate::flows::tokens_stored(&d)?;
            ensure(n == 0, || format!("{n} token(s) stored"))?;
            Ok(format!("still at the provider page, pop-up {popup}"))
        },
    )
}

/// Starts a sign-in with the hostile page in the login window; what the page reported within
/// 30 s, if anything.
async fn sign_in_and_wait(d: &Desk, server: &CannedServer) -> Option<Vec<u8>> {
    let app = App::launch(&d.s, &[]).await;
    app.enter_passphrase(PASSPHRASE).await;
    app.button("Sign in").await.click().await.unwrap();
    app.button("Start sign-in").await.click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let report = loop {
        if let Some(body) = server.received("/report").pop() {
            break Some(body);
        }
        if Instant::now() > deadline {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    app.close().await;
    report
}

pub fn cases() -> Vec<Case> {
    vec![
        hostile(
            "page navigates to file:///etc/passwd",
            "location.href = 'file:///etc/passwd';",
        ),
        hostile(
            "page navigates to a plain-http site",
            "location.href = 'http://evil.example/';",
        ),
        hostile(
            "page navigates to a custom scheme",
            "location.href = 'myapp://steal?x=1';",
        ),
        hostile(
            "page opens a pop-up",
            "popup = window.open('https://evil.example/', '_blank');",
        ),
    ]
}
