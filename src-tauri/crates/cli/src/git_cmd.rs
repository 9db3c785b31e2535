//! git's credential helper (gitcredentials(7), git-credential(1)) and its set-up. git runs
//! `oauth-desk git-credential --provider NAME get` with `key=value` lines on standard input;
//! the answer is the provider's fresh access token as the password, with its expiry, so that
//! git never keeps it longer. The helper never prompts and never answers with what git sent:
//! when it cannot answer (no provider named, not signed in, a locked vault) it says why on
//! standard error and prints nothing, which is the protocol's "ask the next helper".

use std::io::{Read, Write};
use std::process::Command;

use oauth_desk_core::oauth::check;
use oauth_desk_core::text::visible;
use oauth_desk_core::{time, Error, Result};

use crate::args::{GitCmd, GitCredentialArgs, Global};

/// More than any request git sends (a handful of short lines).
const MAX_REQUEST: u64 = 64 * 1024;

/// The token is refreshed first when it has less than this left (as `token get` does), and
/// git is told it expires then when the expiry is not known (a running window's agent answers
/// with the token alone).
const MIN_VALID_SECS: i64 = 60;

pub fn credential(global: &Global, args: &GitCredentialArgs) -> Result<()> {
    let mut raw = Vec::new();
    std::io::stdin()
        .take(MAX_REQUEST)
        .read_to_end(&mut raw)
        .map_err(|e| Error::io("reading git's request", e))?;
    // store and erase: the token stays the vault's; nothing to keep or forget here.
    if args.operation != "get" {
        return Ok(());
    }
    if let Err(e) = answer(global, args, &String::from_utf8_lossy(&raw)) {
        // git goes on to the next helper, or asks the person: say why this one did not answer.
        eprintln!(
            "oauth-desk git-credential: {}",
            crate::output::printable(&e.to_string())
        );
    }
    Ok(())
}

fn answer(global: &Global, args: &GitCredentialArgs, request: &str) -> Result<()> {
    let Some(provider) = &args.provider else {
        return Ok(());
    };
    let field = |key: &str| {
        request
            .lines()
            .take_while(|l| !l.is_empty())
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
    };
    let host = field("host").unwrap_or_default();
    match field("protocol") {
        Some("https") => {}
        // A token over plain http is one anybody on the way can read: only on this machine.
        Some("http") if is_loopback(host) => {}
        other => {
            return Err(Error::InvalidInput(format!(
                "a token is sent over https only, not over {}",
                visible(other.unwrap_or("no protocol"))
            )))
        }
    }
    let got = crate::token_cmd::obtain(global, provider, args.account.as_deref(), MIN_VALID_SECS)?;
    let token = got.token.expose();
    // One line each: anything that could start another line would be read as another key.
    for (what, value) in [
        ("token", token.as_str()),
        ("user name", args.username.as_str()),
    ] {
        if value.is_empty() || value.contains(['\n', '\r', '\0']) {
            return Err(Error::InvalidInput(format!(
                "the {what} cannot be given to git: it is empty or holds a line break"
            )));
        }
    }
    let expiry = got
        .expires_at
        .unwrap_or_else(|| time::now() + MIN_VALID_SECS);
    let mut out = std::io::stdout().lock();
    write!(
        out,
        "username={}\npassword={token}\npassword_expiry_utc={expiry}\n",
        args.username
    )
    .map_err(|e| Error::io("answering git", e))
}

fn is_loopback(host: &str) -> bool {
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

pub fn run(cmd: GitCmd) -> Result<()> {
    let GitCmd::Setup {
        name,
        host,
        account,
    } = cmd;
    // The host goes into a git configuration key: a name, an optional port, nothing else.
    if host.is_empty()
        || check::plain_text(&host).is_err()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
    {
        return Err(Error::field(
            "host",
            format!(
                "must be a host name, such as git.example.com or git.example.com:8443, not {}",
                visible(&host)
            ),
        ));
    }
    let key = format!("credential.https://{host}.helper");
    let mut value = format!(
        "!{} git-credential --provider {}",
        shell_quoted(&crate::front::path()),
        shell_quoted(&name)
    );
    if let Some(a) = &account {
        value.push_str(&format!(" --account {}", shell_quoted(a)));
    }
    let present = git(&["config", "--global", "--get-all", &key])?;
    if !String::from_utf8_lossy(&present.stdout)
        .lines()
        .any(|l| l == value)
    {
        let added = git(&["config", "--global", "--add", &key, &value])?;
        if !added.status.success() {
            return Err(Error::InvalidInput(format!(
                "git config failed: {}",
                visible(String::from_utf8_lossy(&added.stderr).trim())
            )));
        }
    }
    println!("In your git configuration (~/.gitconfig):");
    println!("[credential \"https://{host}\"]");
    println!("\thelper = {value}");
    Ok(())
}

fn git(args: &[&str]) -> Result<std::process::Output> {
    Command::new("git")
        .args(args)
        .output()
        .map_err(|e| Error::InvalidInput(format!("cannot run git ({e}); is it installed?")))
}

/// `s` as one word for the shell git runs a `!` helper with.
fn shell_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_shell_word_whatever_they_hold() {
        assert_eq!(shell_quoted("Test IdP"), "'Test IdP'");
        assert_eq!(shell_quoted("it's; rm -rf ~"), r"'it'\''s; rm -rf ~'");
    }

    #[test]
    fn plain_http_is_for_this_machine_only() {
        assert!(is_loopback("127.0.0.1:8080"));
        assert!(is_loopback("localhost"));
        assert!(!is_loopback("git.example.com"));
        assert!(!is_loopback("127.0.0.1.evil.example"));
    }
}
