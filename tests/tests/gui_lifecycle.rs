//! The life of an account in the real window: signed out from its row (tokens revoked, the
//! provider's end-session page answered in the login window, which then closes), exchanged for
//! another token from its row (RFC 8693), and its token copied in one click.

use oauth_desk_tests::cli::run;
use oauth_desk_tests::desktop::{token_row, App};
use oauth_desk_tests::idp::{self, Idp};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{ok, signed_in_with_passphrase};

const PASSPHRASE: &str = "gui lifecycle passphrase";
const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", PASSPHRASE);

fn token_of(s: &Session, account: &str) -> String {
    let out = ok(run(
        s,
        &["token", "get", "Test IdP", "--account", account],
        &[PASS],
        "",
    ));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "current_thread")]
async fn an_account_is_signed_out_exchanged_and_copied_from_its_row() {
    let (idp, session) =
        tokio::task::spawn_blocking(|| signed_in_with_passphrase(&[PASS], &["alice", "bob"]))
            .await
            .unwrap();
    let alice = token_of(&session, "alice@example.test");
    // A copy comes off the clipboard after Settings' delay.
    ok(run(
        &session,
        &["settings", "set", "clipboard-clear", "2"],
        &[PASS],
        "",
    ));
    let app = App::launch(&session, &[]).await;
    app.enter_passphrase(PASSPHRASE).await;
    app.button("Tokens").await.click().await.unwrap();

    // Copy: one click on the row.
    let bob = token_of(&session, "bob@example.test");
    app.find(
        &format!(
            "{}//button[@aria-label='Copy the access token of bob@example.test at Test IdP']",
            token_row("bob@example.test")
        ),
        "bob's copy button",
    )
    .await
    .click()
    .await
    .unwrap();
    app.find(
        "//*[contains(@class,'toast') and starts-with(normalize-space(), 'Access token copied')]",
        "the copy's toast",
    )
    .await;
    assert_eq!(app.clipboard().await, bob);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !app.clipboard().await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the copy comes off after 2 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }

    // Sign out: asked first, then the provider's end-session page in the login window.
    app.row_action("Test IdP", "alice@example.test", "Sign out…")
        .await;
    app.text("Sign alice@example.test out?").await;
    app.screenshot("signout-dialog").await;
    app.button("Sign out").await.click().await.unwrap();
    // The login window is private (incognito), so the provider finds no session cookie of its
    // own there and sends the person straight back to the loopback listener: the window opens
    // and closes by itself, and the provider's end-session endpoint got the request.
    app.wait_window("^Sign out of", false).await;
    app.find(
        "//*[contains(@class,'toast') and contains(normalize-space(), 'the provider’s session ended')]",
        "the sign-out's toast",
    )
    .await;
    app.find(
        &format!(
            "{}//span[contains(@class,'status') and normalize-space()='revoked']",
            token_row("alice@example.test")
        ),
        "alice shown signed out",
    )
    .await;
    app.screenshot("signed-out").await;
    // Blocking HTTP: on a thread of its own, off the test's async one.
    let (path, asked) = std::thread::scope(|t| {
        t.spawn(|| {
            let end_session = idp.endpoint("end_session_endpoint");
            let path = url::Url::parse(&end_session).unwrap().path().to_owned();
            let asked = idp.requests(&path);
            (path, asked)
        })
        .join()
        .unwrap()
    });
    assert!(
        asked >= 1,
        "the provider's end-session endpoint was asked ({path})"
    );
    let alive = std::thread::scope(|t| {
        t.spawn(|| idp.introspect(&idp::BASIC, &alice))
            .join()
            .unwrap()
    });
    assert!(!alive, "revoked at the provider");

    // Exchange bob's token at the provider for one of its own, stored as an account.
    // From Details, as from the row's menu.
    app.row_action("Test IdP", "bob@example.test", "Details")
        .await;
    app.find(
        "//dialog//pre[contains(., '\"active\": true')]",
        "the details, loaded",
    )
    .await;
    app.click("Exchange for another token…").await;
    app.type_into("Audience", "orders-api").await;
    app.type_into("Store as account", "bob for orders").await;
    app.screenshot("exchange-dialog").await;
    app.button("Exchange").await.click().await.unwrap();
    app.find(&token_row("bob for orders"), "the exchanged account's row")
        .await;
    let received = std::thread::scope(|t| t.spawn(|| idp.received("exchanges")).join().unwrap());
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0]["subject"], "bob");
    assert_eq!(received[0]["audience"], "orders-api");
    app.screenshot("exchanged").await;
    app.close().await;
}

/// A Google service-account key file fills the form (its key read by the app when saved, and
/// the file then not needed), and the window signs in with the JWT bearer grant.
#[tokio::test(flavor = "current_thread")]
async fn a_service_account_key_file_is_a_provider_and_signs_in_with_jwt_bearer() {
    let idp = tokio::task::spawn_blocking(Idp::start).await.unwrap();
    let session = Session::without_keyring();
    let dir = tempfile::tempdir().unwrap();
    let key_file = idp::service_account_key_file(dir.path(), &idp, "pending@test.iam.example");

    let app = App::launch(&session, &[]).await;
    app.enter_passphrase(PASSPHRASE).await;
    app.button("Add provider").await.click().await.unwrap();
    app.type_into("Name", "Google SA").await;
    app.choose(
        "Client authentication",
        "Private key JWT (private_key_jwt: signed with a key only this app holds)",
    )
    .await;
    app.choose(
        "Client key",
        "Import a private key file (PEM, JWK, or a Google service-account key)",
    )
    .await;
    app.type_into("Key file", key_file.to_str().unwrap()).await;
    app.click("Fill from service-account file").await;
    app.wait_value("Client ID", "pending@test.iam.example")
        .await;
    app.wait_value("Token endpoint", &format!("{}/token", idp.issuer))
        .await;
    app.screenshot("providers-service-account").await;
    app.click("Save provider").await;
    app.text("Google SA").await;

    // The provider learns the public key; the file goes, the key stays in the vault.
    let id = std::thread::scope(|t| {
        t.spawn(|| {
            let jwks = oauth_desk_tests::cli::json(&ok(run(
                &session,
                &["provider", "jwks", "Google SA"],
                &[PASS],
                "",
            )));
            let id = idp.register(serde_json::json!({
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": jwks,
                "grant_types": ["urn:ietf:params:oauth:grant-type:jwt-bearer"],
                "response_types": [],
                "redirect_uris": [],
            }));
            ok(run(
                &session,
                &[
                    "provider",
                    "update",
                    "Google SA",
                    &format!("--client-id={id}"),
                ],
                &[PASS],
                "",
            ));
            let shown = String::from_utf8_lossy(
                &ok(run(
                    &session,
                    &["provider", "show", "Google SA", "--json"],
                    &[PASS],
                    "",
                ))
                .stdout,
            )
            .into_owned();
            assert!(
                !shown.contains("service-account.json"),
                "no path kept: {shown}"
            );
            id
        })
        .join()
        .unwrap()
    });
    drop(dir);
    app.close().await;

    let app = App::launch(&session, &[]).await;
    app.enter_passphrase(PASSPHRASE).await;
    app.button("Sign in").await.click().await.unwrap();
    app.choose("How", "As a service account (JWT bearer)").await;
    app.screenshot("signin-jwt-bearer").await;
    app.button("Start sign-in").await.click().await.unwrap();
    app.find(
        &format!("//*[contains(@class,'toast') and contains(normalize-space(), 'Signed in to Google SA as {id}')]"),
        "signed in as the service account",
    )
    .await;
    let claimed = std::thread::scope(|t| t.spawn(|| idp.received("assertions")).join().unwrap());
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    assert_eq!(claimed[0]["client"], id.as_str());
    app.close().await;
}
