//! Where a vault's raw key lives in keyring mode: the OS keyring (Secret Service on Linux).
//!
//! The store is a trait so that tests and the faces choose it: the real keyring in the app and
//! the CLI, an in-memory one or none at all in unit tests. Every call to the OS keyring runs on
//! a helper thread with a time limit, so a keyring that never answers cannot hang the caller.

use std::collections::HashMap;
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use crate::secret::Secret;

const SERVICE: &str = "oauth-desk";
const TIME_LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyringError {
    /// No keyring answers (no D-Bus session, no Secret Service, no login keyring, locked).
    /// The vault falls back to a passphrase.
    Unavailable(String),
    /// The keyring answered with an error.
    Failed(String),
}

/// A store of vault keys, addressed by vault id (the hex of the vault file's salt).
pub trait KeyStore: Send + Sync {
    fn get(&self, vault_id: &str) -> Result<Option<Secret<Vec<u8>>>, KeyringError>;
    fn set(&self, vault_id: &str, key: &Secret<Vec<u8>>) -> Result<(), KeyringError>;
    fn delete(&self, vault_id: &str) -> Result<(), KeyringError>;
}

/// The OS keyring, through the `keyring` crate.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsKeyring;

fn entry_user(vault_id: &str) -> String {
    format!("vault {vault_id}")
}

fn map_err(e: keyring::Error) -> KeyringError {
    match e {
        keyring::Error::PlatformFailure(inner) => KeyringError::Unavailable(inner.to_string()),
        keyring::Error::NoStorageAccess(inner) => KeyringError::Unavailable(format!(
            "the keyring is locked or has no default collection ({inner})"
        )),
        other => KeyringError::Failed(other.to_string()),
    }
}

/// Runs `f` on a helper thread and gives up after the time limit.
fn with_time_limit<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, KeyringError> + Send + 'static,
) -> Result<T, KeyringError> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("keyring".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| KeyringError::Failed(e.to_string()))?;
    rx.recv_timeout(TIME_LIMIT).unwrap_or_else(|_| {
        Err(KeyringError::Unavailable(format!(
            "no answer within {} s",
            TIME_LIMIT.as_secs()
        )))
    })
}

impl KeyStore for OsKeyring {
    fn get(&self, vault_id: &str) -> Result<Option<Secret<Vec<u8>>>, KeyringError> {
        let user = entry_user(vault_id);
        with_time_limit(move || {
            let entry = keyring::Entry::new(SERVICE, &user).map_err(map_err)?;
            match entry.get_secret() {
                Ok(bytes) => Ok(Some(Secret::new(bytes))),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(map_err(e)),
            }
        })
    }

    fn set(&self, vault_id: &str, key: &Secret<Vec<u8>>) -> Result<(), KeyringError> {
        let user = entry_user(vault_id);
        let key = key.clone();
        with_time_limit(move || {
            let entry = keyring::Entry::new(SERVICE, &user).map_err(map_err)?;
            entry.set_secret(key.expose()).map_err(map_err)
        })
    }

    fn delete(&self, vault_id: &str) -> Result<(), KeyringError> {
        let user = entry_user(vault_id);
        with_time_limit(move || {
            let entry = keyring::Entry::new(SERVICE, &user).map_err(map_err)?;
            match entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(map_err(e)),
            }
        })
    }
}

/// A keyring in memory, for tests.
#[derive(Default)]
pub struct MemoryKeyring(Mutex<HashMap<String, Vec<u8>>>);

impl KeyStore for MemoryKeyring {
    fn get(&self, vault_id: &str) -> Result<Option<Secret<Vec<u8>>>, KeyringError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .get(vault_id)
            .cloned()
            .map(Secret::new))
    }
    fn set(&self, vault_id: &str, key: &Secret<Vec<u8>>) -> Result<(), KeyringError> {
        self.0
            .lock()
            .unwrap()
            .insert(vault_id.to_owned(), key.expose().clone());
        Ok(())
    }
    fn delete(&self, vault_id: &str) -> Result<(), KeyringError> {
        self.0.lock().unwrap().remove(vault_id);
        Ok(())
    }
}

impl MemoryKeyring {
    /// The vault ids it holds keys for.
    pub fn get_for_test(&self) -> Vec<String> {
        self.0.lock().unwrap().keys().cloned().collect()
    }
}

/// No keyring at all, as on a machine without a Secret Service: for tests of passphrase mode.
pub struct NoKeyring;

impl KeyStore for NoKeyring {
    fn get(&self, _: &str) -> Result<Option<Secret<Vec<u8>>>, KeyringError> {
        Err(KeyringError::Unavailable("no keyring (test)".into()))
    }
    fn set(&self, _: &str, _: &Secret<Vec<u8>>) -> Result<(), KeyringError> {
        Err(KeyringError::Unavailable("no keyring (test)".into()))
    }
    fn delete(&self, _: &str) -> Result<(), KeyringError> {
        Err(KeyringError::Unavailable("no keyring (test)".into()))
    }
}
