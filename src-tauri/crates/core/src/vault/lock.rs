//! Who has a vault open. Every open `Vault` holds a shared lock on `<vault>.lock`; changing the
//! key or restoring a backup puts a new file in the vault's place, so they need the lock alone
//! (a process still holding the old file would otherwise write to a file nobody reads).

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::file::sidecar;
use crate::error::{Error, Result};

/// How long opening waits for a key change or a restore in another process to finish.
const WAIT: Duration = Duration::from_secs(15);

#[derive(Debug)]
pub struct OpenLock {
    file: File,
    path: PathBuf,
}

impl OpenLock {
    /// Takes the shared lock, waiting while another process has the vault alone.
    pub fn shared(vault: &Path) -> Result<OpenLock> {
        let lock = Self::open(vault)?;
        let deadline = Instant::now() + WAIT;
        loop {
            match lock.file.try_lock_shared() {
                Ok(()) => return Ok(lock),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::VaultBusy(format!(
                        "the vault at {} is being re-encrypted or restored by another process; \
                         try again when it has finished",
                        vault.display()
                    )))
                }
                Err(TryLockError::Error(e)) => {
                    return Err(Error::io(format!("locking {}", lock.path.display()), e))
                }
            }
        }
    }

    /// Turns the shared lock into the only lock, or says who else has the vault open. On
    /// failure the shared lock is taken again (Linux drops it while trying to convert).
    pub fn make_exclusive(&self, vault: &Path) -> Result<()> {
        match self.file.try_lock() {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = self.file.lock_shared();
                match e {
                    TryLockError::WouldBlock => Err(Error::VaultBusy(format!(
                        "another OAuth Desk process has the vault at {} open (the window, \
                         `oauth-desk serve` or a command); close it and try again. Nothing was \
                         changed",
                        vault.display()
                    ))),
                    TryLockError::Error(e) => {
                        Err(Error::io(format!("locking {}", self.path.display()), e))
                    }
                }
            }
        }
    }

    /// Back to sharing, once the new file is in place.
    pub fn make_shared(&self) {
        let _ = self.file.lock_shared();
    }

    fn open(vault: &Path) -> Result<OpenLock> {
        let path = sidecar(vault, ".lock");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| Error::io(format!("opening the lock {}", path.display()), e))?;
        Ok(OpenLock { file, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_only_when_no_one_else_shares() {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("v.db");
        let a = OpenLock::shared(&vault).unwrap();
        let b = OpenLock::shared(&vault).unwrap();
        let err = a.make_exclusive(&vault).unwrap_err();
        assert_eq!(err.code(), "vault_busy", "b still shares the vault");
        drop(b);
        a.make_exclusive(&vault)
            .expect("a kept its shared lock after the failed attempt and is now alone");
        let c = OpenLock::open(&vault).unwrap();
        assert!(
            c.file.try_lock_shared().is_err(),
            "no one may open the vault while a holds it alone"
        );
        a.make_shared();
        assert!(c.file.try_lock_shared().is_ok());
    }
}
