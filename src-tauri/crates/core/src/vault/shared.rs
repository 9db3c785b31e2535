//! The vault as the threads of one process share it: the window's commands, its background
//! refresh, the token agent, the REST API and the sign-ins waiting for their redirect. Empty
//! until the vault is unlocked.
//!
//! A poisoned lock is recovered, never turned into an error. A thread that panicked while it
//! held the vault left nothing half-written: every change goes through a SQLite transaction,
//! which rolls back when it is dropped unfinished, and what `Vault` keeps in memory (the
//! connection, the path, the key mode) is set once at open. Refusing the lock from then on would
//! only turn one panic into every later command failing until the process restarts.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use super::Vault;
use crate::error::{Error, Result};

#[derive(Clone, Default)]
pub struct SharedVault(Arc<Mutex<Option<Vault>>>);

impl SharedVault {
    /// Shares a vault that is open already (the CLI and `serve` open it before anything runs).
    pub fn new(vault: Vault) -> SharedVault {
        SharedVault(Arc::new(Mutex::new(Some(vault))))
    }

    /// The slot itself, for what opens the vault or replaces it.
    pub fn lock(&self) -> MutexGuard<'_, Option<Vault>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` with the open vault, holding it for no longer than `f` runs.
    pub fn with<T>(&self, f: impl FnOnce(&Vault) -> Result<T>) -> Result<T> {
        self.with_mut(|v| f(v))
    }

    /// Like `with`, for what changes the vault's file under it (a new key, a restore).
    pub fn with_mut<T>(&self, f: impl FnOnce(&mut Vault) -> Result<T>) -> Result<T> {
        match self.lock().as_mut() {
            Some(v) => f(v),
            // The window asks for the passphrase on this code.
            None => Err(Error::PassphraseRequired {
                path: PathBuf::new(),
                reason: "the vault is not unlocked yet".into(),
                exists: true,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_holding_the_vault_leaves_it_usable() {
        let shared = SharedVault::new(Vault::open_in_memory().unwrap());
        let held = shared.clone();
        let panicked = std::thread::spawn(move || {
            held.with(|_| -> Result<()> { panic!("a bug while the vault is held") })
        })
        .join();
        assert!(panicked.is_err(), "the thread panicked, poisoning the lock");
        let status = shared.with(|v| v.status());
        assert!(status.is_ok(), "the next caller still gets the vault");
    }

    #[test]
    fn an_empty_slot_asks_for_the_passphrase() {
        let e = SharedVault::default().with(|_| Ok(())).unwrap_err();
        assert_eq!(e.code(), "vault_locked");
    }
}
