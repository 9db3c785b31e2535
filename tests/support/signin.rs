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
        url.starts_with("http://127.0.0.1:"),
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
