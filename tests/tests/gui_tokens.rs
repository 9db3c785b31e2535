//! The token table in the real window: the accounts signed in, search, refresh, revoke.

use oauth_desk_tests::cli::{json, run};
use oauth_desk_tests::desktop::{token_row, App};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{ok, signed_in_with_passphrase};

const PASSPHRASE: &str = "gui tokens passphrase";
const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", PASSPHRASE);

fn expires_of(s: &Session, account: &str) -> String {
    let list = json(&ok(run(s, &["token", "list", "--json"], &[PASS], "")));
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["account"] == account)
        .unwrap()
        .clone();
    row["expires_at"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "current_thread")]
async fn the_table_shows_searches_refreshes_and_revokes() {
    // Signing in uses a blocking HTTP client: off the test's async thread.
    let (_idp, session) =
        tokio::task::spawn_blocking(|| signed_in_with_passphrase(&[PASS], &["alice", "bob"]))
            .await
            .unwrap();
    let alice_expiry = expires_of(&session, "alice@example.test");

    let app = App::launch(&session, &[]).await;
    app.text("Unlock the vault").await;
    app.enter_passphrase(PASSPHRASE).await;
    app.button("Tokens").await.click().await.unwrap();
    app.find(&token_row("alice@example.test"), "alice's row")
        .await;
    app.find(&token_row("bob@example.test"), "bob's row").await;
    app.text("Showing 1–2 of 2").await;
    app.screenshot("tokens-table").await;

    // Search filters, in SQL.
    app.type_into("Search", "bob").await;
    app.text("Showing 1–1 of 1").await;
    app.text_gone("alice@example.test").await;
    app.type_into("Search", "").await;
    app.text("Showing 1–2 of 2").await;

    // Refresh changes the expiry and the last refresh.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    app.row_action("Test IdP", "alice@example.test", "Refresh")
        .await;
    app.find(
        "//*[contains(@class,'toast') and starts-with(normalize-space(), 'Refreshed alice@example.test at Test IdP')]",
        "the refresh's toast",
    )
    .await;
    app.find(
        &format!(
            "{}/td[7][normalize-space()!='never']",
            token_row("alice@example.test")
        ),
        "alice's last refresh",
    )
    .await;
    assert_ne!(
        expires_of(&session, "alice@example.test"),
        alice_expiry,
        "the refresh moved the expiry"
    );

    // Revoke asks, then changes the status.
    app.row_action("Test IdP", "bob@example.test", "Revoke")
        .await;
    app.button("Revoke token").await.click().await.unwrap();
    app.find(
        &format!(
            "{}//span[contains(@class,'status') and normalize-space()='revoked']",
            token_row("bob@example.test")
        ),
        "bob's token revoked",
    )
    .await;
    app.screenshot("tokens-after-revoke").await;
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn details_reveal_bulk_refresh_import_and_the_activity_filter() {
    let (_idp, session) =
        tokio::task::spawn_blocking(|| signed_in_with_passphrase(&[PASS], &["alice", "bob"]))
            .await
            .unwrap();
    let app = App::launch(&session, &[]).await;
    app.text("Unlock the vault").await;
    app.enter_passphrase(PASSPHRASE).await;
    app.button("Tokens").await.click().await.unwrap();

    // Details: the ID token's claims and the provider's introspection; the token only on Reveal.
    app.row_action("Test IdP", "alice@example.test", "Details")
        .await;
    app.find(
        "//dialog//pre[contains(., '\"sub\": \"alice\"')]",
        "the ID token's claims",
    )
    .await;
    app.find(
        "//dialog//pre[contains(., '\"active\": true')]",
        "the introspection",
    )
    .await;
    let masked = app
        .find("//*[@id='access-token-value']", "the masked token")
        .await;
    assert!(
        !masked.text().await.unwrap().contains(char::is_alphanumeric),
        "masked until asked"
    );
    app.screenshot("tokens-details").await;
    app.button("Reveal").await.click().await.unwrap();
    let token = oauth_desk_tests::signin::ok(run(
        &session,
        &[
            "token",
            "get",
            "Test IdP",
            "--account",
            "alice@example.test",
        ],
        &[PASS],
        "",
    ));
    let token = String::from_utf8_lossy(&token.stdout).trim().to_owned();
    app.text(&token).await;
    app.button("Hide").await.click().await.unwrap();
    app.text_gone(&token).await;
    app.button("Close").await.click().await.unwrap();

    // Refresh all, with a summary; then only the selected rows.
    app.button("Refresh all").await.click().await.unwrap();
    app.text("Refreshed all 2 tokens.").await;
    app.find(
        &format!("{}//input[@type='checkbox']", token_row("bob@example.test")),
        "bob's checkbox",
    )
    .await
    .click()
    .await
    .unwrap();
    app.button("Refresh selected (1)")
        .await
        .click()
        .await
        .unwrap();
    app.text("Refreshed 1 token.").await;

    // Import: a bad token is refused by field; a good one shows up. (The refresh re-renders
    // the table's view as its event arrives: `click` finds the button again if so.)
    app.click("Import token").await;
    app.type_into("Account", "ci-bot").await;
    app.type_into(
        "Token response (JSON)",
        r#"{"access_token":"x","expires_in":-1}"#,
    )
    .await;
    app.button("Import").await.click().await.unwrap();
    app.text("expires_in: must be a whole number of seconds between 1 and ten years")
        .await;
    app.type_into(
        "Token response (JSON)",
        r#"{"access_token":"imported","expires_in":3600}"#,
    )
    .await;
    app.button("Import").await.click().await.unwrap();
    app.find(&token_row("ci-bot"), "the imported token's row")
        .await;

    // The background refresh window is a setting.
    app.button("Settings").await.click().await.unwrap();
    app.type_into("Refresh tokens this many minutes before they expire", "10")
        .await;
    app.button("Save").await.click().await.unwrap();
    app.text("Settings saved.").await;
    app.button("Tokens").await.click().await.unwrap();
    app.button("Settings").await.click().await.unwrap();
    app.wait_value("Refresh tokens this many minutes before they expire", "10")
        .await;

    // The activity log, filtered.
    app.button("Activity").await.click().await.unwrap();
    app.type_into("Filter", "imported").await;
    app.find(
        "//table//td[normalize-space()='ci-bot']",
        "the import in the log",
    )
    .await;
    app.text_gone("alice@example.test").await;
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_rest_api_is_started_from_settings_and_its_key_regenerated() {
    let session = Session::without_keyring();
    let app = App::launch(&session, &[]).await;
    app.enter_passphrase(PASSPHRASE).await;
    app.button("Settings").await.click().await.unwrap();
    app.text("Off. Scripts can also run `oauth-desk serve`.")
        .await;
    app.type_into("Port", "0").await;
    app.button("Start API").await.click().await.unwrap();
    let status = app
        .find(
            "//*[@id='api-status' and starts-with(normalize-space(), 'Listening on')]",
            "the API's address",
        )
        .await
        .text()
        .await
        .unwrap();
    let base = status.trim_start_matches("Listening on ").trim().to_owned();
    app.button("Show key").await.click().await.unwrap();
    let key_cell = app.find("//*[@id='api-key-value']", "the key").await;
    let key = key_cell.text().await.unwrap();
    assert_eq!(key.len(), 64, "{key}");
    let get = |key: String, base: String| async move {
        tokio::task::spawn_blocking(move || {
            oauth_desk_tests::http()
                .get(format!("{base}/api/v1/oauth2/app"))
                .bearer_auth(key)
                .send()
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        })
        .await
        .unwrap()
    };
    assert_eq!(
        get(key.clone(), base.clone()).await,
        200,
        "the window's API answers with its key"
    );
    app.button("Regenerate key").await.click().await.unwrap();
    app.button("Regenerate").await.click().await.unwrap();
    app.text("A new API key is in use.").await;
    let new_key = app
        .find("//*[@id='api-key-value']", "the key")
        .await
        .text()
        .await
        .unwrap();
    assert_ne!(new_key, key);
    assert_eq!(
        get(key, base.clone()).await,
        401,
        "the old key stops working at once"
    );
    assert_eq!(get(new_key.clone(), base.clone()).await, 200);
    app.button("Stop API").await.click().await.unwrap();
    app.text("Off. Scripts can also run `oauth-desk serve`.")
        .await;
    assert_eq!(get(new_key, base).await, 0, "nothing listens any more");
    app.screenshot("settings-api").await;
    app.close().await;
}

/// The window, `oauth-desk serve` and the CLI on one vault at the same time.
#[tokio::test(flavor = "current_thread")]
async fn the_window_the_api_and_the_cli_use_one_vault_at_once() {
    let session = Session::without_keyring();
    let app = App::launch(&session, &[]).await;
    app.enter_passphrase(PASSPHRASE).await;
    let (server, base, key) = {
        let s = &session;
        let key = String::from_utf8_lossy(&ok(run(s, &["api", "key"], &[PASS], "")).stdout)
            .trim()
            .to_owned();
        let mut server =
            oauth_desk_tests::cli::Running::start(s, &["serve", "--port", "0"], &[PASS]);
        let base = server.line().trim_start_matches("listening on ").to_owned();
        (server, base, key)
    };
    // The API adds a provider; the window and the CLI see it.
    let (k, b) = (key.clone(), base.clone());
    let status = tokio::task::spawn_blocking(move || {
        oauth_desk_tests::http()
            .post(format!("{b}/api/v1/oauth2/app"))
            .bearer_auth(k)
            .json(&serde_json::json!({"name": "From the API", "token_url": "https://idp.example/token", "client_id": "c"}))
            .send()
            .unwrap()
            .status()
            .as_u16()
    })
    .await
    .unwrap();
    assert_eq!(status, 201);
    app.button("Tokens").await.click().await.unwrap();
    app.button("Providers").await.click().await.unwrap();
    app.find(
        "//li[contains(@class,'card')]//*[normalize-space()='From the API']",
        "the API's provider in the window",
    )
    .await;
    // The CLI adds one; the API and the window see it.
    oauth_desk_tests::cli::add_provider_by_hand(&session, &[PASS], "From the CLI", &[], "");
    let (k, b) = (key.clone(), base.clone());
    let names = tokio::task::spawn_blocking(move || {
        let v: serde_json::Value = oauth_desk_tests::http()
            .get(format!("{b}/api/v1/oauth2/app"))
            .bearer_auth(k)
            .send()
            .unwrap()
            .json()
            .unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert_eq!(names, ["From the API", "From the CLI"]);
    app.button("Tokens").await.click().await.unwrap();
    app.button("Providers").await.click().await.unwrap();
    app.text("2 providers").await;
    app.close().await;
    drop(server);
}
