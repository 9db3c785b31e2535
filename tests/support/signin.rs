//! Signing in through the CLI with the test's user playing the browser: the building blocks
//! of the login and token tests. `env` is what the CLI gets (a passphrase, or nothing with a
//! keyring session).

use std::process::Output;

use serde_json::Value;

use crate::cli::{run, stderr, stdout, Running};
use crate::idp::{Client, Idp};
use crate::session::Session;
use crate::user::User;

pub fn ok(o: Output) -> Output {
    assert_eq!(
        o.status.code(),
        Some(0),
        "failed: {}{}",
        stdout(&o),
        stderr(&o)
    );
    o
}

/// A passphrase vault (`env` gives its passphrase) with the test provider as "Test IdP" and
/// each of `who` signed in; the provider runs while the `Idp` is held. It blocks (HTTP): run
/// it off a test's async thread.
pub fn signed_in_with_passphrase(env: &'static [(&str, &str)], who: &[&str]) -> (Idp, Session) {
    let idp = Idp::start();
    let session = Session::without_keyring();
    add_provider(&session, env, &idp, "Test IdP", &crate::idp::BASIC);
    for user in who {
        login_as(&session, env, "Test IdP", user);
    }
    (idp, session)
}

/// Registers provider `name` by discovery for `client`.
pub fn add_provider(s: &Session, env: &[(&str, &str)], idp: &Idp, name: &str, client: &Client) {
    let mut args = vec![
        "provider",
        "add",
        name,
        "--issuer",
        &idp.issuer,
        "--client-id",
        client.id,
    ];
    let stdin = match client.secret {
        Some(secret) => {
            args.push("--client-secret-stdin");
            format!("{secret}\n")
        }
        None => String::new(),
    };
    ok(run(s, &args, env, &stdin));
}

/// `login NAME --no-browser --json`: the running CLI and the authorization URL it printed.
pub fn start_login(
    s: &Session,
    env: &[(&str, &str)],
    name: &str,
    extra: &[&str],
) -> (Running, String) {
    let mut args = vec!["login", name, "--no-browser", "--json"];
    args.extend(extra);
    let mut running = Running::start(s, &args, env);
    let url = running.line();
    assert!(
        url.starts_with("http://127.0.0.1:") || url.starts_with("https://127.0.0.1:"),
        "the first line is the authorization URL: {url}"
    );
    (running, url)
}

/// Signs in as `who`; returns the CLI's JSON outcome.
pub fn login_as(s: &Session, env: &[(&str, &str)], name: &str, who: &str) -> Value {
    let (running, url) = start_login(s, env, name, &[]);
    let (status, page) = User::new(who).sign_in(&url).expect("the user signs in");
    assert_eq!(status, 200, "the listener thanks the browser: {page}");
    assert!(page.contains("You can close this window"), "{page}");
    outcome(&ok(running.finish()))
}

/// The JSON the CLI printed after the authorization URL (or the device instructions).
pub fn outcome(o: &Output) -> Value {
    let text = stdout(o);
    let start = text
        .find('{')
        .unwrap_or_else(|| panic!("no JSON in {text}"));
    serde_json::from_str(&text[start..]).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Gives the tokens `account` signed in with at `provider` to `copies` more accounts,
/// `user-0001` and on, in one transaction: a vault of many accounts that all refresh (the
/// provider must keep refresh tokens, as `Options::keep_refresh_tokens` makes it).
pub fn share_account(conn: &rusqlite::Connection, provider: &str, account: &str, copies: usize) {
    use oauth_desk_core::vault::tokens;
    let signed_in = tokens::get(conn, provider, account).expect("the account is signed in");
    let provider_id: i64 = conn
        .query_row(
            "SELECT id FROM providers WHERE name = ?1",
            [provider],
            |r| r.get(0),
        )
        .expect("the provider exists");
    let tx = conn.unchecked_transaction().unwrap();
    for i in 1..=copies {
        let mut t = signed_in.clone();
        t.account = format!("user-{i:04}");
        tokens::upsert(&tx, provider_id, &t, oauth_desk_core::time::now()).unwrap();
    }
    tx.commit().unwrap();
}
