//! The Providers view in the real window, driven as a person would: by labels and button text.
//! Screenshots: <target>/test-artifacts/providers-*.png.

use oauth_desk_core::vault::tokens::{self, TokenRecord, TokenStatus};
use oauth_desk_core::vault::{provider_table as table, Create, NoKeyring, Unlock, Vault};
use oauth_desk_tests::cli::{json, run};
use oauth_desk_tests::desktop::App;
use oauth_desk_tests::idp::{self, Idp};
use oauth_desk_tests::session::Session;

const PASSPHRASE: &str = "gui providers passphrase";

/// Gives the provider `name` a token, as a sign-in would, so that removing it has a cost.
fn give_a_token(session: &Session, name: &str) {
    let vault = Vault::open(
        &session.default_vault(),
        Unlock::Passphrase(PASSPHRASE.into()),
        &NoKeyring,
        Create::Never,
    )
    .unwrap();
    let id = table::view(vault.conn(), name).unwrap().id;
    let token = TokenRecord {
        account: "alice@example.com".into(),
        subject: Some("alice".into()),
        access_token: Some("canary-access-token".into()),
        token_type: Some("Bearer".into()),
        refresh_token: None,
        id_token: None,
        scopes: vec!["openid".into()],
        expires_at: None,
        status: TokenStatus::Active,
    };
    tokens::upsert(vault.conn(), id, &token, 1).unwrap();
}

fn card(name: &str) -> String {
    format!("//li[contains(@class,'card')][.//*[contains(@class,'card-title') and normalize-space()='{name}']]")
}

#[tokio::test(flavor = "current_thread")]
async fn add_by_discovery_see_it_listed_edit_it_and_remove_it_after_confirming() {
    let idp = Idp::start();
    let session = Session::without_keyring();
    let app = App::launch(&session, &[]).await;
    app.enter_passphrase(PASSPHRASE).await;

    // Add: the issuer's metadata fills the endpoints.
    app.text("Add your first provider").await;
    app.button("Add provider").await.click().await.unwrap();
    app.type_into("Issuer URL", &idp.issuer).await;
    app.button("Discover").await.click().await.unwrap();
    app.wait_value("Token endpoint", &format!("{}/token", idp.issuer))
        .await;
    assert_eq!(
        app.value("Device authorization endpoint").await,
        format!("{}/device/auth", idp.issuer)
    );
    assert_eq!(
        app.value("Default scopes").await,
        "openid profile email offline_access"
    );
    app.type_into("Name", "Test IdP").await;
    app.type_into("Client ID", idp::BASIC.id).await;
    app.type_into("Client secret", idp::BASIC.secret.unwrap())
        .await;
    let secret = app.field("Client secret").await;
    assert_eq!(
        secret.attr("type").await.unwrap().as_deref(),
        Some("password"),
        "masked by default"
    );
    app.button("Show").await.click().await.unwrap();
    assert_eq!(
        secret.attr("type").await.unwrap().as_deref(),
        Some("text"),
        "shown on request"
    );
    app.button("Hide").await.click().await.unwrap();
    assert_eq!(
        secret.attr("type").await.unwrap().as_deref(),
        Some("password")
    );
    app.button("Save provider").await.click().await.unwrap();
    app.find(&card("Test IdP"), "the new provider in the list")
        .await;

    // A second provider, by hand, after the form has shown its errors as they were typed.
    app.button("Add provider").await.click().await.unwrap();
    app.type_into("Name", "Test IdP").await;
    app.error_beside("Name", "already exists").await;
    app.type_into("Token endpoint", "http://evil.example/token")
        .await;
    app.error_beside("Token endpoint", "must use https").await;
    app.type_into("Default scopes", "openid bad\"scope").await;
    app.error_beside("Default scopes", "RFC 6749").await;
    app.screenshot("providers-form-validation-error").await;
    app.button("Save provider").await.click().await.unwrap();
    app.error_beside("Token endpoint", "must use https").await;
    app.type_into("Name", "Second provider").await;
    app.type_into("Token endpoint", "https://second.example/oauth/token")
        .await;
    app.type_into(
        "Authorization endpoint",
        "https://second.example/oauth/authorize",
    )
    .await;
    app.type_into("Default scopes", "read write").await;
    app.type_into("Client ID", "second-client").await;
    app.type_into("Colour", "#d9480f").await;
    app.button("Save provider").await.click().await.unwrap();
    app.find(&card("Second provider"), "the second provider in the list")
        .await;
    app.text("2 providers").await;
    app.screenshot("providers-list-two").await;

    // Edit: rename and change the scopes; the stored secret stays without being retyped.
    app.find(
        &format!("{}//button[normalize-space()='Edit']", card("Test IdP")),
        "Edit",
    )
    .await
    .click()
    .await
    .unwrap();
    app.wait_value("Name", "Test IdP").await;
    app.type_into("Name", "Test IdP (staging)").await;
    app.type_into("Default scopes", "openid email").await;
    app.button("Save changes").await.click().await.unwrap();
    app.find(&card("Test IdP (staging)"), "the renamed provider")
        .await;
    let mut cli = oauth_desk_tests::cli::run(
        &session,
        &["provider", "show", "Test IdP (staging)", "--json"],
        &[("OAUTH_DESK_PASSPHRASE", PASSPHRASE)],
        "",
    );
    let shown = json(&cli);
    assert_eq!(shown["scopes"], serde_json::json!(["openid", "email"]));
    assert_eq!(shown["has_client_secret"], true, "editing kept the secret");
    assert_eq!(shown["client_auth"], "basic");

    // Remove: the confirmation says how many tokens go; Cancel keeps everything.
    give_a_token(&session, "Test IdP (staging)");
    app.button("Tokens").await.click().await.unwrap();
    app.button("Providers").await.click().await.unwrap();
    let remove = format!(
        "{}//button[normalize-space()='Remove']",
        card("Test IdP (staging)")
    );
    app.find(&remove, "Remove").await.click().await.unwrap();
    app.text("This deletes the provider and its 1 token from the vault. This cannot be undone.")
        .await;
    app.screenshot("providers-remove-confirmation").await;
    app.button("Cancel").await.click().await.unwrap();
    app.find(
        &card("Test IdP (staging)"),
        "the provider, kept after Cancel",
    )
    .await;
    app.find(&remove, "Remove").await.click().await.unwrap();
    app.button("Remove provider").await.click().await.unwrap();
    app.text_gone("Test IdP (staging)").await;
    app.text("1 provider").await;
    app.close().await;

    cli = run(
        &session,
        &["provider", "list", "--json"],
        &[("OAUTH_DESK_PASSPHRASE", PASSPHRASE)],
        "",
    );
    let list = json(&cli);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Second provider"]);
    assert_eq!(list[0]["color"], "#d9480f");
    assert_eq!(
        list[0]["client_auth"], "none",
        "no secret makes a public client"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_preset_fills_the_form_with_its_quirks_and_escape_leaves_it() {
    let session = Session::without_keyring();
    let app = App::launch(&session, &[]).await;
    app.enter_passphrase(PASSPHRASE).await;
    app.button("Add provider").await.click().await.unwrap();

    app.field("Preset").await.click().await.unwrap();
    app.find(
        "//select[@id='preset-picker']/option[normalize-space()='Microsoft Entra ID']",
        "the Entra preset",
    )
    .await
    .click()
    .await
    .unwrap();
    // A tenant that would escape the URL path is refused beside its own field.
    app.type_into(
        "Tenant (id, domain, or common / organizations / consumers)",
        "../evil",
    )
    .await;
    app.button("Apply preset").await.click().await.unwrap();
    app.error_beside(
        "Tenant (id, domain, or common / organizations / consumers)",
        "letters, digits",
    )
    .await;
    assert_eq!(
        app.value("Token endpoint").await,
        "",
        "nothing is filled from a bad tenant"
    );
    app.type_into(
        "Tenant (id, domain, or common / organizations / consumers)",
        "contoso.onmicrosoft.com",
    )
    .await;
    app.button("Apply preset").await.click().await.unwrap();
    app.wait_value(
        "Token endpoint",
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
    )
    .await;
    assert_eq!(app.value("Name").await, "Microsoft Entra ID");
    assert_eq!(
        app.value("Default scopes").await,
        "openid profile email offline_access"
    );
    app.client
        .execute("document.querySelector('main').scrollTop = 0", vec![])
        .await
        .unwrap();
    app.screenshot("providers-form-preset").await;

    // Google's preset signs in through the system browser and asks for offline access.
    app.find(
        "//select[@id='preset-picker']/option[normalize-space()='Google']",
        "the Google preset",
    )
    .await
    .click()
    .await
    .unwrap();
    app.button("Apply preset").await.click().await.unwrap();
    app.wait_value("Sign in with", "browser").await;
    assert_eq!(
        app.value("Extra parameters").await,
        "access_type=offline\nprompt=consent"
    );

    // Escape leaves the form; having typed, the window asks before discarding.
    app.field("Client ID")
        .await
        .send_keys("\u{e00c}")
        .await
        .unwrap();
    app.text("Discard your changes?").await;
    app.button("Discard").await.click().await.unwrap();
    app.text("Add your first provider").await;
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn names_with_markup_or_invisible_characters_are_shown_escaped_and_visibly() {
    let session = Session::without_keyring();
    let odd = "<img src=x onerror=alert(1)> pay\u{202E}lap\u{200B}";
    let pass = [("OAUTH_DESK_PASSPHRASE", PASSPHRASE)];
    oauth_desk_tests::cli::add_provider_by_hand(&session, &pass, odd, &[], "");

    let app = App::launch(&session, &[]).await;
    app.text("Unlock the vault").await;
    app.enter_passphrase(PASSPHRASE).await;
    app.find(
        &card("<img src=x onerror=alert(1)> pay<U+202E>lap<U+200B>"),
        "the name as typed, markup as text and invisible characters written out",
    )
    .await;
    let images = app
        .client
        .find_all(fantoccini::Locator::Css("main img"))
        .await
        .unwrap();
    assert!(
        images.is_empty(),
        "the markup in a name must never become an element"
    );
    app.close().await;
}

/// Issue 16: the window's import preview shows every changed endpoint old → new and what a
/// move to another host clears, and Import applies only the file that was previewed.
#[tokio::test(flavor = "current_thread")]
async fn the_import_preview_shows_endpoints_old_and_new_and_applies_only_what_it_showed() {
    let session = Session::without_keyring();
    let pass = [("OAUTH_DESK_PASSPHRASE", PASSPHRASE)];
    for name in ["corp", "edited"] {
        oauth_desk_tests::cli::add_provider_by_hand(
            &session,
            &pass,
            name,
            &["--client-secret-stdin"],
            "canary-corp-secret\n",
        );
        give_a_token(&session, name);
    }
    let exported = run(&session, &["provider", "export", "corp"], &pass, "");
    let mut shared: serde_json::Value = serde_json::from_slice(&exported.stdout).unwrap();
    shared[0]["token_url"] = "https://elsewhere.example/token".into();
    let file = session.home().join("team.json");
    std::fs::write(&file, shared.to_string()).unwrap();

    let app = App::launch(&session, &[]).await;
    app.enter_passphrase(PASSPHRASE).await;

    // The form: moving the token endpoint without retyping the secret says what it cleared.
    app.find(
        &format!("{}//button[normalize-space()='Edit']", card("edited")),
        "Edit",
    )
    .await
    .click()
    .await
    .unwrap();
    app.wait_value("Name", "edited").await;
    // Below the fold, and WebKitWebDriver does not scroll to type.
    let field = app.field("Token endpoint").await;
    app.client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'})",
            vec![serde_json::to_value(&field).unwrap()],
        )
        .await
        .unwrap();
    app.type_into("Token endpoint", "https://moved.example/token")
        .await;
    app.button("Save changes").await.click().await.unwrap();
    app.text(
        "Saved edited: the token endpoint moved to another host: sign in again; the client \
         secret was cleared.",
    )
    .await;
    app.screenshot("providers-form-moved-endpoint").await;
    let edited = json(&run(
        &session,
        &["provider", "show", "edited", "--json"],
        &pass,
        "",
    ));
    assert_eq!(
        edited["has_client_secret"], false,
        "the secret stayed behind"
    );

    app.button("Import…").await.click().await.unwrap();
    app.type_into("Provider file", file.to_str().unwrap()).await;
    app.button("Preview").await.click().await.unwrap();
    app.text("token_url: https://idp.example/token → https://elsewhere.example/token")
        .await;
    app.text(
        "Warning: the token endpoint moves to another host: its account will have to sign in \
         again; its client secret will be cleared.",
    )
    .await;
    app.screenshot("providers-import-moved-endpoint").await;

    // The file changes after the preview: Import refuses it rather than apply unseen changes.
    shared[0]["token_url"] = "https://third.example/token".into();
    std::fs::write(&file, shared.to_string()).unwrap();
    app.button("Import").await.click().await.unwrap();
    app.text("the file has changed since it was previewed; preview it again. Nothing was imported")
        .await;
    let corp = json(&run(
        &session,
        &["provider", "show", "corp", "--json"],
        &pass,
        "",
    ));
    assert_eq!(
        corp["token_url"], "https://idp.example/token",
        "nothing imported"
    );
    assert_eq!(corp["has_client_secret"], true);

    app.button("Preview").await.click().await.unwrap();
    app.text("token_url: https://idp.example/token → https://third.example/token")
        .await;
    app.button("Import").await.click().await.unwrap();
    app.text("corp: the token endpoint moved to another host: sign in again; the client secret was cleared.")
        .await;
    app.close().await;
    let corp = json(&run(
        &session,
        &["provider", "show", "corp", "--json"],
        &pass,
        "",
    ));
    assert_eq!(corp["token_url"], "https://third.example/token");
    assert_eq!(corp["has_client_secret"], false, "the secret stayed behind");
    let tokens = json(&run(&session, &["token", "list", "--json"], &pass, ""));
    for t in tokens.as_array().unwrap() {
        assert_eq!(t["status"], "needs_signin", "{tokens}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn register_a_client_from_the_form_and_delete_it_there_when_removing() {
    let idp = Idp::start();
    let session = Session::without_keyring();
    let app = App::launch(&session, &[]).await;
    app.enter_passphrase(PASSPHRASE).await;
    let env = [("OAUTH_DESK_PASSPHRASE", PASSPHRASE)];

    // Discovery names the registration endpoint; the form then offers to register.
    app.button("Add provider").await.click().await.unwrap();
    app.type_into("Issuer URL", &idp.issuer).await;
    app.button("Discover").await.click().await.unwrap();
    app.wait_value(
        "Client registration endpoint",
        &format!("{}/reg", idp.issuer),
    )
    .await;
    app.type_into("Name", "Registered IdP").await;
    app.click("Register a new client").await;
    app.text("Initial access token (optional)").await;
    app.screenshot("providers-register-dialog").await;
    app.click("Register").await;
    app.find(
        &card("Registered IdP"),
        "the registered provider in the list",
    )
    .await;
    app.screenshot("providers-registered").await;
    let shown = json(&run(
        &session,
        &["provider", "show", "Registered IdP", "--json"],
        &env,
        "",
    ));
    assert_eq!(shown["registered"], true);
    assert_eq!(shown["has_client_secret"], true);
    let client_id = shown["client_id"].as_str().unwrap().to_owned();
    let secret: String = session
        .open_vault(PASSPHRASE)
        .conn()
        .query_row(
            "SELECT client_secret FROM providers WHERE name = 'Registered IdP'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    // Whether the provider takes the client's credentials (blocking HTTP: off the async
    // thread).
    let token_endpoint = format!("{}/token", idp.issuer);
    let client_works = || {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    oauth_desk_tests::http()
                        .post(&token_endpoint)
                        .basic_auth(&client_id, Some(&secret))
                        .form(&[("grant_type", "client_credentials")])
                        .send()
                        .unwrap()
                        .status()
                        .is_success()
                })
                .join()
                .unwrap()
        })
    };
    assert!(client_works(), "the registered client works");

    // Editing it offers to send the new settings to the provider.
    app.find(
        &format!(
            "{}//button[normalize-space()='Edit']",
            card("Registered IdP")
        ),
        "Edit",
    )
    .await
    .click()
    .await
    .unwrap();
    app.wait_value("Name", "Registered IdP").await;
    app.type_into("Default scopes", "openid email").await;
    app.click("Save changes").await;
    app.text("Update the registration at the provider too?")
        .await;
    app.screenshot("providers-update-registration").await;
    app.click("Update registration").await;
    app.find(&card("Registered IdP"), "back in the list").await;
    let (uri, rat): (String, String) = session
        .open_vault(PASSPHRASE)
        .conn()
        .query_row(
            "SELECT client_uri, access_token FROM registrations",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let registered: serde_json::Value = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                oauth_desk_tests::http()
                    .get(&uri)
                    .bearer_auth(&rat)
                    .send()
                    .unwrap()
                    .json()
                    .unwrap()
            })
            .join()
            .unwrap()
    });
    assert_eq!(registered["scope"], "openid email", "{registered}");

    // Removing it offers to delete the client at the provider too.
    let remove = format!(
        "{}//button[normalize-space()='Remove']",
        card("Registered IdP")
    );
    app.find(&remove, "Remove").await.click().await.unwrap();
    app.click("Remove provider").await;
    app.text("Also delete the client at the provider?").await;
    app.screenshot("providers-deregister-confirmation").await;
    app.click("Delete there too").await;
    app.text_gone("Registered IdP").await;
    app.close().await;
    let listed = json(&run(&session, &["provider", "list", "--json"], &env, ""));
    assert_eq!(listed, serde_json::json!([]));
    assert!(!client_works(), "the client is deleted at the provider");
}

#[tokio::test(flavor = "current_thread")]
async fn discovery_offers_both_endpoints_when_the_documents_disagree() {
    let idp = Idp::start_with(idp::Options {
        disagreeing_metadata: true,
        ..Default::default()
    });
    let session = Session::without_keyring();
    let app = App::launch(&session, &[]).await;
    app.enter_passphrase(PASSPHRASE).await;
    app.button("Add provider").await.click().await.unwrap();
    app.type_into("Issuer URL", &idp.issuer).await;
    app.button("Discover").await.click().await.unwrap();
    app.wait_value("Token endpoint", &format!("{}/token", idp.issuer))
        .await;
    assert_eq!(app.value("Revocation endpoint").await, "", "nothing chosen");
    let other = format!("{}/other/revocation", idp.issuer);
    let choose = format!("Use {other} (RFC 8414 metadata)");
    app.button(&choose).await;
    app.button(&format!(
        "Use {}/token/revocation (OpenID configuration)",
        idp.issuer
    ))
    .await;
    app.screenshot("providers-discovery-disagreement").await;
    app.click(&choose).await;
    app.wait_value("Revocation endpoint", &other).await;
    app.text_gone("The provider's two metadata documents disagree here: choose one.")
        .await;
    app.close().await;
}

/// The edit form says where each endpoint came from, and "Discover again" keeps the one a
/// person set by hand while the rest follow the metadata.
#[tokio::test(flavor = "current_thread")]
async fn the_form_marks_hand_set_endpoints_and_discovering_again_keeps_them() {
    let (idp, session) = tokio::task::spawn_blocking(|| {
        let idp = Idp::start();
        let session = Session::without_keyring();
        let env = [("OAUTH_DESK_PASSPHRASE", PASSPHRASE)];
        oauth_desk_tests::signin::add_provider(&session, &env, &idp, "Test IdP", &idp::BASIC);
        let mine = format!("{}/token/introspection?tenant=mine", idp.issuer);
        oauth_desk_tests::signin::ok(run(
            &session,
            &[
                "provider",
                "update",
                "Test IdP",
                "--introspection-url",
                &mine,
            ],
            &env,
            "",
        ));
        (idp, session)
    })
    .await
    .unwrap();
    let mine = format!("{}/token/introspection?tenant=mine", idp.issuer);
    let app = App::launch(&session, &[]).await;
    app.enter_passphrase(PASSPHRASE).await;
    app.find(
        &format!("{}//button[normalize-space()='Edit']", card("Test IdP")),
        "Edit",
    )
    .await
    .click()
    .await
    .unwrap();
    let source = |field: &str, says: &str| {
        format!(
            "//*[@data-field='{field}']/span[contains(@class,'source') and normalize-space()='{says}']"
        )
    };
    app.find(
        &source("token_url", "discovered"),
        "the token endpoint: discovered",
    )
    .await;
    app.find(
        &source("introspection_url", "set by hand"),
        "the introspection endpoint: set by hand",
    )
    .await;
    // Emptied and discovered again, the token endpoint comes back; the hand-set one stays.
    app.type_into("Token endpoint", "").await;
    app.click("Discover again").await;
    app.wait_value("Token endpoint", &format!("{}/token", idp.issuer))
        .await;
    app.find(
        "//*[contains(@class,'toast') and contains(normalize-space(), 'Kept 1 endpoint set by hand')]",
        "the toast says what was kept",
    )
    .await;
    assert_eq!(app.value("Introspection endpoint").await, mine);
    app.scroll_to(&app.field("Revocation endpoint").await).await;
    app.screenshot("providers-discover-again").await;
    app.close().await;
}
