//! Accessibility, measured: axe-core (npm, installed beside the UI's checkers in tools/ui) is
//! injected through WebDriver into the real window and run on every view and dialog: no
//! serious or critical violation may be found. And a journey with the keyboard alone: add a
//! provider by discovery, sign in, copy a token, revoke it.

use std::time::Duration;

use oauth_desk_tests::cli::run;
use oauth_desk_tests::desktop::App;
use oauth_desk_tests::idp::{self, Idp};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{ok, signed_in_with_passphrase};
use serde_json::Value;

const PASSPHRASE: &str = "gui a11y passphrase";
const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", PASSPHRASE);

fn axe_source() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tools/ui/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (`scripts/setup.sh test` installs axe-core)",
            path.display()
        )
    })
}

/// The serious and critical violations axe finds on the page as it is now. The script runs
/// as WebDriver's, so the page's CSP (script-src 'self') does not apply to it.
async fn violations(app: &App, axe: &str) -> Vec<Value> {
    let script = format!(
        "{axe}\n;const done = arguments[arguments.length - 1];
        window.axe.run(document, {{ resultTypes: ['violations'] }})
          .then((r) => done(r.violations
            .filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => ({{ id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ': ' + n.failureSummary) }}))))
          .catch((e) => done([{{ id: 'axe-failed', help: String(e) }}]));"
    );
    let found = app
        .client
        .execute_async(&script, vec![])
        .await
        .expect("axe runs in the window");
    found.as_array().cloned().unwrap_or_default()
}

async fn check(app: &App, axe: &str, what: &str, failures: &mut Vec<String>) {
    tokio::time::sleep(Duration::from_millis(400)).await;
    for v in violations(app, axe).await {
        failures.push(format!("{what}: {v}"));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_view_or_dialog_has_a_serious_or_critical_violation_in_light_mode() {
    every_view(false).await;
}

#[tokio::test(flavor = "current_thread")]
async fn no_view_or_dialog_has_a_serious_or_critical_violation_in_dark_mode() {
    every_view(true).await;
}

async fn every_view(dark: bool) {
    let (_idp, session) =
        tokio::task::spawn_blocking(|| signed_in_with_passphrase(&[PASS], &["alice"]))
            .await
            .unwrap();
    let axe = axe_source();
    let mut failures = Vec::new();
    let env: &[(&str, &str)] = if dark {
        &[("GTK_THEME", "Adwaita:dark")]
    } else {
        &[]
    };
    let app = App::launch(&session, env).await;
    app.find(
        "//dialog[@id='unlock-dialog' and @open]",
        "the unlock dialog",
    )
    .await;
    check(&app, &axe, "the unlock dialog", &mut failures).await;
    app.enter_passphrase(PASSPHRASE).await;

    app.text("Test IdP").await;
    check(&app, &axe, "Providers", &mut failures).await;
    app.button("Edit").await.click().await.unwrap();
    app.text("Edit Test IdP").await;
    check(&app, &axe, "the provider form", &mut failures).await;
    app.click("Cancel").await;
    app.button("Sign in").await.click().await.unwrap();
    app.text("Sign in to Test IdP").await;
    check(&app, &axe, "Sign in", &mut failures).await;
    app.click("Cancel").await;

    app.button("Tokens").await.click().await.unwrap();
    app.text("alice@example.test").await;
    check(&app, &axe, "Tokens", &mut failures).await;
    app.row_action("Test IdP", "alice@example.test", "Details")
        .await;
    app.find(
        "//dialog//pre[contains(., '\"active\": true')]",
        "the details",
    )
    .await;
    check(&app, &axe, "Details", &mut failures).await;
    app.click("Close").await;
    app.click("Import token").await;
    app.text("Import a token").await;
    check(&app, &axe, "Import", &mut failures).await;
    app.click("Cancel").await;

    app.button("Activity").await.click().await.unwrap();
    app.text("signed in").await;
    check(&app, &axe, "Activity", &mut failures).await;
    app.button("Settings").await.click().await.unwrap();
    app.text("Lock a passphrase vault after this many idle minutes")
        .await;
    check(&app, &axe, "Settings", &mut failures).await;
    app.close().await;
    assert!(failures.is_empty(), "axe found:\n{}", failures.join("\n"));
}

/// What has the keyboard focus now, as a person hears it: the label of a field, the name or
/// text of a button.
async fn focused(app: &App) -> String {
    let said = app
        .client
        .execute(
            "const e = document.activeElement;
             const name = e.getAttribute('aria-label') || (e.labels && e.labels[0] && e.labels[0].textContent) || e.textContent || '';
             return name.replace(/\\s+/g, ' ').trim();",
            vec![],
        )
        .await
        .expect("the page says what has the focus");
    said.as_str().unwrap_or_default().to_owned()
}

const MAIN: &str = "^OAuth Desk$";

/// Presses Tab (through the X server, as a keyboard does) until `label` has the focus.
async fn tab_to(app: &App, label: &str) {
    for _ in 0..60 {
        if focused(app).await == label {
            return;
        }
        app.keyboard(MAIN, &["Tab"]).await;
    }
    panic!(
        "Tab never reached {label:?} (last: {:?})",
        focused(app).await
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_keyboard_alone_adds_a_provider_signs_in_copies_and_revokes() {
    let idp = tokio::task::spawn_blocking(Idp::start).await.unwrap();
    let session = Session::without_keyring();
    let app = App::launch(&session, &[]).await;
    app.text("Protect your new vault").await;
    // The passphrase field has the focus; Return creates the vault.
    app.keyboard(MAIN, &[PASSPHRASE, "Tab", PASSPHRASE, "Return"])
        .await;
    app.text("Add your first provider").await;

    tab_to(&app, "Add provider").await;
    app.keyboard(MAIN, &["Return"]).await;
    tab_to(&app, "Issuer URL").await;
    app.keyboard(MAIN, &[&idp.issuer]).await;
    tab_to(&app, "Discover").await;
    app.keyboard(MAIN, &["Return"]).await;
    app.wait_value("Token endpoint", &format!("{}/token", idp.issuer))
        .await;
    tab_to(&app, "Name").await;
    app.keyboard(MAIN, &["Test IdP"]).await;
    tab_to(&app, "Client ID").await;
    app.keyboard(
        MAIN,
        &[idp::BASIC.id, "Tab", idp::BASIC.secret.unwrap(), "Return"],
    )
    .await;
    app.find(
        "//*[contains(@class,'card-title') and normalize-space()='Test IdP']",
        "the saved provider",
    )
    .await;

    // Sign in: the dialog, then the provider's pages in the login window, by keyboard.
    tab_to(&app, "Sign in to Test IdP").await;
    app.keyboard(MAIN, &["Return"]).await;
    app.text("Sign in to Test IdP").await;
    tab_to(&app, "Start sign-in").await;
    app.keyboard(MAIN, &["Return"]).await;
    let origin = idp.issuer.replace('.', "\\.");
    let login = format!("^Sign in to Test IdP — {origin}$");
    app.wait_window(&login, true).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.keyboard(&login, &["alice", "Tab", "pw", "Return"])
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.keyboard(&login, &["Return"]).await;
    app.wait_window("^Sign in to", false).await;
    app.text("Signed in to Test IdP as alice@example.test.")
        .await;

    // Tokens (Alt+2): copy from the row, then revoke through the row's menu.
    app.keyboard(MAIN, &["alt+2"]).await;
    app.text("alice@example.test").await;
    tab_to(
        &app,
        "Copy the access token of alice@example.test at Test IdP",
    )
    .await;
    app.keyboard(MAIN, &["Return"]).await;
    let token = String::from_utf8_lossy(
        &ok(run(&session, &["token", "get", "Test IdP"], &[PASS], "")).stdout,
    )
    .trim()
    .to_owned();
    assert_eq!(app.clipboard().await, token, "copied by keyboard");
    tab_to(&app, "More actions for alice@example.test at Test IdP").await;
    app.keyboard(MAIN, &["Return"]).await;
    assert_eq!(focused(&app).await, "Details", "the menu takes the focus");
    app.keyboard(MAIN, &["Down", "Down", "Down", "Down"]).await;
    assert_eq!(focused(&app).await, "Revoke");
    app.keyboard(MAIN, &["Return"]).await;
    app.text("Revoke the token of alice@example.test?").await;
    tab_to(&app, "Revoke token").await;
    app.keyboard(MAIN, &["Return"]).await;
    app.find(
        "//span[contains(@class,'status') and normalize-space()='revoked']",
        "revoked",
    )
    .await;
    let alive = std::thread::scope(|t| {
        t.spawn(|| idp.introspect(&idp::BASIC, &token))
            .join()
            .unwrap()
    });
    assert!(!alive, "revoked at the provider");
    app.close().await;
}
