//! The vault as the threads of one process share it: the window's commands, its background
//! refresh, the token agent, the REST API and the sign-ins waiting for their redirect. Empty
//! until the vault is unlocked.
//!
//! A poisoned lock empties the slot. A thread that panicked while it held the vault may have
//! been half-way through replacing its file (a new key, a restore swap the connection out and
//! back in), so the vault in memory can no longer be trusted to be the one on disk. Every
//! change to the file itself runs in a SQLite transaction, which rolled back: the file is whole.
//! So the vault is forgotten and opened again from it, as at start-up (the window asks to
//! unlock it), rather than every later command failing until the process restarts, or carrying
//! on against an empty connection.

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
        self.0.lock().unwrap_or_else(|poisoned| {
            let mut slot = poisoned.into_inner();
            *slot = None;
            self.0.clear_poison();
            slot
        })
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
            None => Err(Error::VaultNotOpen),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_holding_the_vault_forgets_it_until_it_is_opened_again() {
        let shared = SharedVault::new(Vault::open_in_memory().unwrap());
        let held = shared.clone();
        let panicked = std::thread::spawn(move || {
            held.with_mut(|_| -> Result<()> { panic!("a bug half-way through a key change") })
        })
        .join();
        assert!(panicked.is_err(), "the thread panicked, poisoning the lock");
        let e = shared.with(|v| v.status()).unwrap_err();
        assert_eq!(
            e.code(),
            "vault_locked",
            "the half-changed vault is not used: {e}"
        );
        // Opened again, it is used as before: the lock is no longer poisoned.
        *shared.lock() = Some(Vault::open_in_memory().unwrap());
        assert!(shared.with(|v| v.status()).is_ok());
    }

    #[test]
    fn an_empty_slot_asks_for_the_passphrase() {
        let e = SharedVault::default().with(|_| Ok(())).unwrap_err();
        assert_eq!(e.code(), "vault_locked");
    }
}
