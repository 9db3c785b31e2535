//! Asking the person at the terminal: secrets without echo (twice when they are new), and
//! yes/no before anything is replaced. In a script the same secrets come from an environment
//! variable or, one per line, from standard input, and a confirmation needs `--yes`.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::OnceLock;

use oauth_desk_core::{Error, Result, Secret};
use zeroize::Zeroize;

/// The secrets this process was handed in `OAUTH_DESK_*PASSPHRASE` / `*PASSWORD` variables,
/// directly or by the front through a pipe. Taken out of the environment at start, so that no
/// program the command starts inherits them.
static HANDED: OnceLock<HashMap<String, Secret<String>>> = OnceLock::new();

/// First thing in `main`, before any thread: see `handover::receive`.
pub fn take_handed_secrets() {
    let secrets = oauth_desk_agent_client::handover::receive()
        .into_iter()
        .map(|(k, v)| (k, Secret::new(v)))
        .collect();
    let _ = HANDED.set(secrets);
}

/// The secret handed in the variable `name`, if any.
pub fn handed(name: &str) -> Option<String> {
    HANDED.get()?.get(name).map(|s| s.expose().clone())
}

/// A secret the user chooses now (a new passphrase): typed twice on a terminal.
pub fn new_secret(what: &str, env: &str) -> Result<Secret<String>> {
    secret(what, env, true)
}

/// A secret the user already has (a backup's passphrase).
pub fn known_secret(what: &str, env: &str) -> Result<Secret<String>> {
    secret(what, env, false)
}

/// A secret that may be empty (an empty proxy password removes the stored one). Only what
/// was read decides: a failure to read is an error, never an empty secret.
pub fn optional_secret(what: &str, env: &str) -> Result<Option<Secret<String>>> {
    let (value, _) = read(what, env, false)?;
    Ok((!value.is_empty()).then(|| Secret::new(value)))
}

fn secret(what: &str, env: &str, twice: bool) -> Result<Secret<String>> {
    let (value, from) = read(what, env, twice)?;
    if value.is_empty() {
        return Err(Error::InvalidInput(format!("no {what} came from {from}")));
    }
    Ok(Secret::new(value))
}

/// The secret from the environment, the terminal (twice when asked) or the next stdin line,
/// with where it came from.
fn read(what: &str, env: &str, twice: bool) -> Result<(String, String)> {
    if let Some(v) = handed(env) {
        return Ok((v, env.to_owned()));
    }
    if std::io::stdin().is_terminal() {
        let mut first = prompt(&format!("{}: ", capitalized(what)))?;
        if twice {
            let mut again = prompt(&format!("{} again: ", capitalized(what)))?;
            let same = again == first;
            again.zeroize();
            if !same {
                first.zeroize();
                return Err(Error::InvalidInput(format!(
                    "the two {what}s differ; nothing was changed"
                )));
            }
        }
        return Ok((first, "the terminal".into()));
    }
    Ok((stdin_line(what)?, format!("standard input (or set {env})")))
}

/// The next line of standard input, without its line ending (a secret in a script).
pub fn stdin_line(what: &str) -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::InvalidInput(format!("cannot read the {what}: {e}")))?;
    let value = line.trim_end_matches(['\n', '\r']).to_owned();
    line.zeroize();
    Ok(value)
}

fn prompt(text: &str) -> Result<String> {
    rpassword::prompt_password(text)
        .map_err(|e| Error::InvalidInput(format!("cannot read from the terminal: {e}")))
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Asks `question` on a terminal; without one, refuses with `in_a_script` (which names --yes).
pub fn confirm(question: &str, in_a_script: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::InvalidInput(in_a_script.to_owned()));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::InvalidInput(format!("cannot read the answer: {e}")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
