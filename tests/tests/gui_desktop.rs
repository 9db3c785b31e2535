//! The desktop around the tokens in the real window (issue 20): closing the window leaves
//! OAuth Desk in the tray with its token agent answering, or quits it where no tray is shown;
//! the vault locks by hand and after idle minutes, and the agent then says "locked" until it is
//! unlocked; and the notifications go through the real D-Bus notification service (dunst on
//! the test's bus and display), whose click opens the sign-in.

use std::time::{Duration, Instant};

use oauth_desk_tests::cli::{json, run, stderr, stdout};
use oauth_desk_tests::desktop::{App, SniTray, TrayHost};
use oauth_desk_tests::idp::{self, Idp, Options};
use oauth_desk_tests::notices::Notices;
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{add_provider, login_as, ok, signed_in_with_passphrase};

const PASSPHRASE: &str = "gui desktop passphrase";
const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", PASSPHRASE);

/// `token get` as a script runs it: no passphrase, so only the agent can answer.
fn script_token(s: &Session) -> std::process::Output {
    run(s, &["token", "get", "Test IdP"], &[], "")
}

fn handed_out(s: &Session, env: &[(&str, &str)]) -> usize {
    let log = json(&ok(run(s, &["activity", "--json"], env, "")));
    log.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "token handed out")
        .count()
}

#[tokio::test(flavor = "current_thread")]
async fn closing_the_window_keeps_the_agent_answering_and_a_lock_stops_it() {
    let (_idp, session) = tokio::task::spawn_blocking(|| {
        let idp = Idp::start();
        let session = Session::with_keyring();
        add_provider(&session, &[], &idp, "Test IdP", &idp::BASIC);
        login_as(&session, &[], "Test IdP", "alice");
        (idp, session)
    })
    .await
    .unwrap();
    let app = App::launch(&session, &[]).await;
    app.text("Vault: OS keyring").await;
    let notices = Notices::start(&session, app.display_name());
    let _tray = TrayHost::start(app.display_name());

    // Closed as a person closes it: the window goes, the app stays, and says so once.
    app.close_window_until_gone("^OAuth Desk$").await;
    notices.wait_for("OAuth Desk is still running");
    let before = handed_out(&session, &[]);
    let out = script_token(&session);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stdout(&out).trim().is_empty());
    assert_eq!(
        handed_out(&session, &[]),
        before + 1,
        "the agent answered (and logged it) while no window was shown"
    );

    // `oauth-desk` with no arguments brings the running window back.
    let again = run(&session, &[], &[], "");
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    app.wait_window("^OAuth Desk$", true).await;

    // Locked by hand: the agent says so; the keyring vault opens again with a click.
    app.click("Lock").await;
    app.text("OAuth Desk is locked").await;
    app.screenshot("lock-screen-keyring").await;
    let locked = script_token(&session);
    assert_eq!(locked.status.code(), Some(1));
    assert!(stderr(&locked).contains("locked"), "{}", stderr(&locked));
    app.click("Unlock").await;
    app.text("Vault: OS keyring").await;
    let back = script_token(&session);
    assert_eq!(back.status.code(), Some(0), "{}", stderr(&back));
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_keyring_vault_given_a_passphrase_locks_when_idle_from_then_on() {
    let session = Session::with_keyring();
    // Four idle seconds instead of Settings' minutes.
    let app = App::launch(&session, &[("OAUTH_DESK_AUTO_LOCK_SECS", "4")]).await;
    app.text("Vault: OS keyring").await;
    // Idleness leaves a keyring vault open: the keyring would open it again.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(
        !app.page_source().await.contains("Locked after a while"),
        "a keyring vault locked when idle"
    );

    // A passphrase from Settings: from then on the idle seconds count.
    app.click("Settings").await;
    app.type_into("New passphrase", PASSPHRASE).await;
    app.type_into("Repeat the new passphrase", PASSPHRASE).await;
    app.click("Use this passphrase").await;
    // Locked only once it opens with the passphrase: a keyring vault never is.
    app.find(
        "//*[@id='unlock-reason' and contains(., 'Locked after a while without use')]",
        "the rekeyed vault locked when idle",
    )
    .await;
    app.close().await;
}

/// How many processes of the window run with `s`'s HOME.
fn apps_running(s: &Session) -> usize {
    let exe = oauth_desk_tests::bins::gui_path().canonicalize().unwrap();
    let home = format!("HOME={}", s.home().display());
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|p| {
            let p = p.path();
            std::fs::read_link(p.join("exe")).is_ok_and(|x| x == exe)
                && std::fs::read(p.join("environ"))
                    .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == home.as_bytes()))
        })
        .count()
}

#[tokio::test(flavor = "current_thread")]
async fn with_no_tray_shown_closing_the_window_quits() {
    // No tray at all; then a StatusNotifier watcher with no host to show its items.
    for watcher in [false, true] {
        let session = Session::with_keyring();
        let app = App::launch(&session, &[("OAUTH_DESK_LOG", "info")]).await;
        let _tray = watcher.then(|| SniTray::start(&session, app.display_name(), false));
        app.text("Add your first provider").await;
        assert_eq!(apps_running(&session), 1, "the window's process is found");
        // The icon is built, but nothing shows it: hidden, the window could only come back
        // from the command line.
        app.close_window_until_gone("^OAuth Desk$").await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while apps_running(&session) > 0 {
            assert!(
                Instant::now() < deadline,
                "the app still runs, hidden in a tray that nothing shows (watcher: {watcher})"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // It quit because it looked for a tray (an app built without the tray library would
        // have quit without looking).
        let log = std::fs::read_to_string(app.log_path()).unwrap();
        assert!(log.contains("no tray is shown"), "{log}");
        app.close().await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_status_notifier_tray_keeps_the_app_when_the_window_closes() {
    let session = Session::with_keyring();
    let app = App::launch(&session, &[]).await;
    let notices = Notices::start(&session, app.display_name());
    let _tray = SniTray::start(&session, app.display_name(), true);
    app.text("Add your first provider").await;
    tokio::time::sleep(Duration::from_millis(1500)).await; // the icon registers
    app.screenshot_of("^gtk-sni-tray", "tray-status-notifier")
        .await;
    app.close_window_until_gone("^OAuth Desk$").await;
    notices.wait_for("OAuth Desk is still running");
    assert_eq!(apps_running(&session), 1, "the app runs on in the tray");
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn an_idle_passphrase_vault_locks_and_the_agent_says_so_until_unlocked() {
    let (_idp, session) =
        tokio::task::spawn_blocking(|| signed_in_with_passphrase(&[PASS], &["alice"]))
            .await
            .unwrap();
    // Four idle seconds instead of Settings' minutes.
    let app = App::launch(&session, &[("OAUTH_DESK_AUTO_LOCK_SECS", "4")]).await;
    app.enter_passphrase(PASSPHRASE).await;
    app.text("Vault: passphrase").await;
    // Unlocked in the window, the passphrase vault answers scripts through the agent, once
    // the person allows them (it asks for every provider).
    let out = allowed_script(&app, &session, "Allow once").await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    app.text("OAuth Desk is locked").await;
    app.find(
        "//*[@id='unlock-reason' and contains(., 'Locked after a while without use')]",
        "why it locked",
    )
    .await;
    app.screenshot("lock-screen").await;
    let started = Instant::now();
    let locked = script_token(&session);
    assert_eq!(locked.status.code(), Some(1));
    assert!(
        stderr(&locked).contains("vault is locked"),
        "{}",
        stderr(&locked)
    );
    assert!(started.elapsed() < Duration::from_secs(3), "said at once");

    app.type_into("Passphrase", PASSPHRASE).await;
    app.click("Unlock").await;
    app.text("Vault: passphrase").await;
    let back = allowed_script(&app, &session, "Allow once").await;
    assert_eq!(back.status.code(), Some(0), "{}", stderr(&back));
    app.close().await;
}

/// A script's `token get` that the window asks about, answered `answer` (after the second
/// the buttons wait before they can be pressed).
async fn allowed_script(app: &App, s: &Session, answer: &str) -> std::process::Output {
    let script = script_in_background(s);
    app.find(
        "//dialog[@open]//h2[normalize-space()='Allow a program to get a token?']",
        "the question",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    app.click(answer).await;
    script.join().unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn an_account_revoked_behind_its_back_is_told_and_the_notification_opens_its_sign_in() {
    let (idp, session) = tokio::task::spawn_blocking(|| {
        // Tokens of a minute are due for a refresh at once (the window is five minutes).
        let idp = Idp::start_with(Options {
            access_ttl: Some(60),
            ..Default::default()
        });
        let session = Session::with_keyring();
        add_provider(&session, &[PASS], &idp, "Test IdP", &idp::BASIC);
        login_as(&session, &[PASS], "Test IdP", "alice");
        (idp, session)
    })
    .await
    .unwrap();
    // The provider forgets the grant: its refresh token is revoked there, not here.
    let refresh = {
        let vault = session.open_vault(PASSPHRASE);
        oauth_desk_core::vault::tokens::get(vault.conn(), "Test IdP", "alice@example.test")
            .unwrap()
            .refresh_token
            .unwrap()
            .expose()
            .clone()
    };
    std::thread::scope(|t| {
        t.spawn(|| {
            let status = oauth_desk_tests::http()
                .post(idp.endpoint("revocation_endpoint"))
                .basic_auth(idp::BASIC.id, idp::BASIC.secret)
                .form(&[
                    ("token", refresh.as_str()),
                    ("token_type_hint", "refresh_token"),
                ])
                .send()
                .unwrap()
                .status();
            assert!(status.is_success(), "revoked at the provider: {status}");
        })
        .join()
        .unwrap()
    });

    let app = App::launch(&session, &[("OAUTH_DESK_REFRESH_EVERY_SECS", "2")]).await;
    let notices = Notices::start(&session, app.display_name());
    app.enter_passphrase(PASSPHRASE).await;
    let said = notices.wait_for("alice@example.test at Test IdP needs to sign in again");
    assert!(!said.contains(&refresh), "no token in a notification");
    tokio::time::sleep(Duration::from_millis(800)).await;
    app.screenshot_of("^Dunst$", "notification-needs-signin")
        .await;
    notices.click();
    app.text("Sign in to Test IdP").await;
    app.screenshot("notification-opened-signin").await;
    app.close().await;
}

/// A provider that is down is asked once, then left alone for a while (30 s after the first
/// failure), however many of its accounts are due: the rounds here come every 2 s, and three
/// of them pass with nothing more asked. The provider: a port nobody listens on.
#[tokio::test(flavor = "current_thread")]
async fn a_provider_that_is_down_is_not_asked_again_for_each_account() {
    const ACCOUNTS: usize = 3;
    let session = tokio::task::spawn_blocking(|| {
        let s = Session::with_keyring();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (auth, token) = (
            format!("http://127.0.0.1:{port}/auth"),
            format!("http://127.0.0.1:{port}/token"),
        );
        ok(run(
            &s,
            &[
                "provider",
                "add",
                "Down",
                "--client-id",
                "cid",
                "--auth-url",
                &auth,
                "--token-url",
                &token,
            ],
            &[],
            "",
        ));
        for i in 0..ACCOUNTS {
            let response = serde_json::json!({
                "access_token": format!("token-{i}"),
                "refresh_token": format!("refresh-{i}"),
                "expires_in": 60,
            });
            let account = format!("user{i}@example.com");
            ok(run(
                &s,
                &["token", "import", "Down", "--account", &account],
                &[],
                &response.to_string(),
            ));
        }
        s
    })
    .await
    .unwrap();
    // When each failed refresh was written (RFC 3339, to the second).
    let failures = |s: &Session| -> Vec<String> {
        let log = json(&ok(run(s, &["activity", "--json"], &[], "")));
        log.as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "refresh failed")
            .map(|e| e["at"].as_str().unwrap().to_owned())
            .collect()
    };
    let app = App::launch(&session, &[("OAUTH_DESK_REFRESH_EVERY_SECS", "2")]).await;
    app.text("Vault: OS keyring").await;
    let started = Instant::now();
    while failures(&session).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the refresher tries"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_secs(7)).await;
    let at = failures(&session);
    assert_eq!(
        at.len(),
        1,
        "one try, then three rounds asked nothing: {at:?}"
    );
    let tried = json(&ok(run(&session, &["token", "list", "--json"], &[], "")));
    let errors = tried
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["last_error"].is_string())
        .count();
    assert_eq!(errors, 1, "the other accounts were not tried: {tried}");
    app.close().await;
}

/// A keyring vault whose provider asks first, with alice signed in.
fn asking_session() -> (Idp, Session) {
    let idp = Idp::start();
    let session = Session::with_keyring();
    add_provider(&session, &[], &idp, "Test IdP", &idp::BASIC);
    ok(run(
        &session,
        &["provider", "update", "Test IdP", "--ask-first"],
        &[],
        "",
    ));
    login_as(&session, &[], "Test IdP", "alice");
    (idp, session)
}

/// `token get` run as a script would, on a thread of its own: it waits for the person.
fn script_in_background(s: &Session) -> std::thread::JoinHandle<std::process::Output> {
    let mut cmd = oauth_desk_tests::bins::cli();
    s.apply(&mut cmd);
    cmd.args(["token", "get", "Test IdP"]);
    std::thread::spawn(move || cmd.output().expect("the front runs"))
}

#[tokio::test(flavor = "current_thread")]
async fn a_provider_that_asks_first_hands_a_token_only_to_a_program_allowed() {
    let (_idp, session) = tokio::task::spawn_blocking(asking_session).await.unwrap();
    let app = App::launch(&session, &[]).await;
    app.text("Vault: OS keyring").await;
    let prompt = "//dialog[@open]//h2[normalize-space()='Allow a program to get a token?']";

    // Denied: the program is told so, and waits no longer.
    let script = script_in_background(&session);
    app.find(prompt, "the question").await;
    let named = app
        .find(
            "//dialog[@open]//code[contains(@class,'program')]",
            "the program",
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        // Not `oauth-desk` itself but the program that ran it: this test.
        named.contains("gui_desktop") && named.contains("(pid "),
        "{named}"
    );
    app.screenshot("asking-prompt").await;
    app.click("Deny").await;
    let denied = script.join().unwrap();
    assert_eq!(denied.status.code(), Some(1));
    assert!(stderr(&denied).contains("denied"), "{}", stderr(&denied));
    assert!(stdout(&denied).is_empty(), "no token");

    // Allowed once: this request only.
    let script = script_in_background(&session);
    app.find(prompt, "the question again").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    app.click("Allow once").await;
    let allowed = script.join().unwrap();
    assert_eq!(allowed.status.code(), Some(0), "{}", stderr(&allowed));
    assert!(!stdout(&allowed).trim().is_empty());

    // Allowed for 8 hours: the next request is not asked about.
    let script = script_in_background(&session);
    app.find(prompt, "the question, a third time").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    app.click("Allow for 8 hours").await;
    assert_eq!(script.join().unwrap().status.code(), Some(0));
    let started = Instant::now();
    let quiet = script_token(&session);
    assert_eq!(quiet.status.code(), Some(0), "{}", stderr(&quiet));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "not asked again"
    );

    // The Activity view names the program for each hand-out and the refusal.
    let log = json(&ok(run(&session, &["activity", "--json"], &[], "")));
    let entries = log.as_array().unwrap();
    let refused = entries
        .iter()
        .find(|e| e["action"] == "token refused")
        .expect("the refusal is logged");
    assert!(
        refused["detail"].as_str().unwrap().contains("gui_desktop"),
        "{refused}"
    );
    let handed = entries
        .iter()
        .filter(|e| e["action"] == "token handed out")
        .count();
    assert_eq!(handed, 3, "{log}");
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn with_the_window_hidden_the_question_comes_as_a_notification() {
    let (_idp, session) = tokio::task::spawn_blocking(asking_session).await.unwrap();
    let app = App::launch(&session, &[]).await;
    app.text("Vault: OS keyring").await;
    let notices = Notices::start(&session, app.display_name());
    let _tray = TrayHost::start(app.display_name());
    app.close_window_until_gone("^OAuth Desk$").await;
    notices.wait_for("OAuth Desk is still running");
    notices.dismiss_all();

    let script = script_in_background(&session);
    notices.wait_for("A program asks for a token of Test IdP");
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.screenshot_of("^Dunst$", "asking-notification").await;
    notices.click();
    app.wait_window("^OAuth Desk$", true).await;
    app.find(
        "//dialog[@open]//h2[normalize-space()='Allow a program to get a token?']",
        "the question, in the window it brought up",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    app.click("Allow once").await;
    let out = script.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    app.close().await;
}

/// xdotool on the test's display, as a mouse and keyboard there.
fn xdo(app: &App, args: &[&str]) {
    let status = std::process::Command::new("xdotool")
        .args(args)
        .env("DISPLAY", app.display_name())
        .status()
        .expect("xdotool runs");
    assert!(status.success(), "xdotool {args:?}");
}

/// Opens the tray menu (trayer holds the icon at the screen's top right), then walks it with
/// the keyboard.
async fn tray_menu(app: &App, keys: &[&str]) {
    xdo(app, &["mousemove", "1690", "16", "click", "1"]);
    tokio::time::sleep(Duration::from_millis(700)).await;
    tray_menu_keys(app, keys).await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_tray_menu_copies_a_recent_token_locks_and_quits() {
    let (_idp, session) =
        tokio::task::spawn_blocking(|| signed_in_with_passphrase(&[PASS], &["alice"]))
            .await
            .unwrap();
    let app = App::launch(&session, &[]).await;
    let tray = TrayHost::start(app.display_name());
    app.enter_passphrase(PASSPHRASE).await;
    app.text("Vault: passphrase").await;
    tokio::time::sleep(Duration::from_millis(1500)).await; // the icon docks

    // Open, Copy token ▸ the recent account.
    tray_menu(&app, &["Down", "Down"]).await;
    // The whole screen: the menu is the tray's, not the window's.
    let shot = oauth_desk_tests::artifacts_dir().join("tray-menu.png");
    let _ = std::process::Command::new("import")
        .args(["-window", "root"])
        .arg(&shot)
        .env("DISPLAY", app.display_name())
        .status();
    tray_menu_keys(&app, &["Right", "Return"]).await;
    let token = String::from_utf8_lossy(
        &ok(run(&session, &["token", "get", "Test IdP"], &[PASS], "")).stdout,
    )
    .trim()
    .to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.clipboard().await != token {
        assert!(Instant::now() < deadline, "the tray copied the token");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Lock the vault: the window asks again, the agent says locked, and the copy is taken off
    // the clipboard (Settings' 30 s are not up yet).
    tray_menu(&app, &["Down", "Down", "Down", "Return"]).await;
    app.text("OAuth Desk is locked").await;
    assert_eq!(
        app.clipboard().await,
        "",
        "no token on the clipboard once locked"
    );
    let locked = script_token(&session);
    assert!(stderr(&locked).contains("locked"), "{}", stderr(&locked));

    // Quit: the app is gone, and its agent with it.
    tray_menu(&app, &["Up", "Return"]).await;
    app.wait_window("^OAuth Desk$", false).await;
    drop(tray);
}

async fn tray_menu_keys(app: &App, keys: &[&str]) {
    for key in keys {
        xdo(app, &["key", key]);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_screen_savers_signal_locks_a_passphrase_vault() {
    let (_idp, session) = tokio::task::spawn_blocking(|| {
        let idp = Idp::start();
        // A session bus to say it on (the keyring on it stays unused: a passphrase vault).
        let session = Session::with_keyring();
        add_provider(&session, &[PASS], &idp, "Test IdP", &idp::BASIC);
        (idp, session)
    })
    .await
    .unwrap();
    let app = App::launch(&session, &[]).await;
    app.enter_passphrase(PASSPHRASE).await;
    app.text("Vault: passphrase").await;
    tokio::time::sleep(Duration::from_millis(500)).await; // the app listens
                                                          // What a screen saver says on the session bus as the screen locks.
    let mut emit = std::process::Command::new("gdbus");
    session.apply(&mut emit);
    let said = emit
        .args([
            "emit",
            "--session",
            "--object-path",
            "/org/freedesktop/ScreenSaver",
        ])
        .args([
            "--signal",
            "org.freedesktop.ScreenSaver.ActiveChanged",
            "true",
        ])
        .output()
        .expect("gdbus runs");
    assert!(said.status.success(), "{said:?}");
    app.text("OAuth Desk is locked").await;
    app.close().await;
}
