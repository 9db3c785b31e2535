//! The token agent. A process that already has the vault open (the window, `oauth-desk serve`)
//! answers `oauth-desk token get` over a Unix socket, so a script pays for one local round trip
//! instead of a keyring look-up and a vault open: the model of oidc-agent and `oidc-token`.
//!
//! The socket sits in a private (0700) folder of the user's runtime directory, named after the
//! vault, so only the user's own processes reach it. It serves keyring-mode vaults only: there
//! any process of the user can already fetch the key from the keyring, so the agent gives away
//! nothing new, whereas a passphrase vault must keep asking for its passphrase.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::vault::{KeyMode, Vault};

/// A socket of this user for `vault` (the address the `oauth-desk` front command asks too).
pub use oauth_desk_agent_client::socket_path;

/// Binds `path` in its private folder, replacing what a crashed process left; None when a live
/// process answers there already (it is the agent).
pub fn bind_private(path: &Path) -> Option<UnixListener> {
    if UnixStream::connect(path).is_ok() {
        return None;
    }
    let dir = path.parent()?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .ok()?;
    let _ = std::fs::remove_file(path);
    UnixListener::bind(path).ok()
}

#[derive(Serialize, Deserialize)]
struct Ask {
    provider: String,
    account: Option<String>,
    min_valid: i64,
}

#[derive(Serialize, Deserialize)]
struct Answer {
    token: Option<String>,
    code: Option<String>,
    message: Option<String>,
}

/// Starts answering on the vault's agent socket, unless another process does already.
pub fn start(vault_path: &Path, vault: Arc<Mutex<Option<Vault>>>) {
    let Some(listener) = bind_private(&socket_path(vault_path, "agent")) else {
        return;
    };
    std::thread::Builder::new()
        .name("token-agent".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let vault = vault.clone();
                std::thread::spawn(move || answer(stream, &vault));
            }
        })
        .ok();
}

fn answer(stream: UnixStream, vault: &Mutex<Option<Vault>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut line = String::new();
    if BufReader::new(&stream).read_line(&mut line).is_err() {
        return;
    }
    let reply = match serde_json::from_str::<Ask>(&line) {
        Ok(ask) => token_for(&ask, vault),
        Err(_) => Err(Error::InvalidInput("not a token request".into())),
    };
    let answer = match reply {
        Ok(token) => Answer {
            token: Some(token.expose().clone()),
            code: None,
            message: None,
        },
        Err(e) => Answer {
            token: None,
            code: Some(e.code().into()),
            message: Some(e.to_string()),
        },
    };
    let mut text = serde_json::to_string(&answer).expect("answers serialize");
    text.push('\n');
    let _ = (&stream).write_all(text.as_bytes());
}

fn token_for(ask: &Ask, vault: &Mutex<Option<Vault>>) -> Result<Secret<String>> {
    let guard = vault
        .lock()
        .map_err(|_| Error::Storage("the vault lock was poisoned".into()))?;
    let v = guard
        .as_ref()
        .ok_or_else(|| Error::Storage("the vault is not open yet".into()))?;
    if v.key_mode() != KeyMode::Keyring {
        return Err(Error::InvalidInput(
            "the agent serves keyring vaults only".into(),
        ));
    }
    crate::fresh::access_token(
        v,
        &ask.provider,
        ask.account.as_deref(),
        ask.min_valid,
        &crate::http::Http::new,
        &crate::time::now,
    )
}

/// Asks a running agent for a fresh token. None when no agent answers (or it does not serve
/// this vault): the caller opens the vault itself. Errors that are about the token (needs
/// sign-in, not found) come back as they are.
pub fn ask(
    vault_path: &Path,
    provider: &str,
    account: Option<&str>,
    min_valid: i64,
) -> Option<Result<Secret<String>>> {
    use oauth_desk_agent_client::Answer as Said;
    match oauth_desk_agent_client::ask(vault_path, provider, account, min_valid)? {
        Said::Token(t) => Some(Ok(Secret::new(t))),
        Said::Refused { code, message } => match code.as_str() {
            "needs_signin" => Some(Err(Error::NeedsSignin(message))),
            "not_found" => Some(Err(Error::NotFound(message))),
            _ => None,
        },
    }
}

/// `crate::fuzzing`: a request line read as `answer` reads it (without a vault to answer from).
pub(crate) fn fuzz_request(line: &[u8]) {
    let _ = serde_json::from_slice::<Ask>(line);
}
