//! Putting a new file in the vault's place: a new key (switching between keyring and passphrase,
//! a new passphrase, a fresh raw key) or a restored backup.
//!
//! The new file is written beside the vault, checked, and renamed over it; the rename is the
//! one moment the change happens. Before it, the vault is the old file with the old key (still
//! in the keyring); after it, the new file with the new key (stored in the keyring before the
//! rename). A crash anywhere leaves one of the two, never neither. The old file is kept as a
//! hard link (`<vault>.key-change-backup`, `<vault>.before-restore`) until the new one is in
//! place, and a restore keeps it for good.

use std::fs;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use zeroize::Zeroizing;

use super::cipher::SALT_LEN;
use super::file::{self, sidecar};
use super::keyring::{KeyStore, KeyringError};
use super::{activity, kdf, migrate, random_bytes, KeyMode, Unlock, Vault};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Where a change of key leaves a copy of the old file while it runs.
pub fn key_change_backup_path(vault: &Path) -> std::path::PathBuf {
    sidecar(vault, ".key-change-backup")
}

/// Where a restore keeps the vault it replaced.
pub fn before_restore_path(vault: &Path) -> std::path::PathBuf {
    sidecar(vault, ".before-restore")
}

/// Removes the copy a restore kept beside the vault at `vault` (it holds the old providers and
/// tokens, under the old key): the user's choice once the restored vault is as they want it.
/// Returns the path removed, None when there was no copy.
pub fn remove_before_restore(vault: &Path) -> Result<Option<std::path::PathBuf>> {
    let kept = before_restore_path(&file::resolve(vault)?);
    match fs::symlink_metadata(&kept) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format!("looking at {}", kept.display()), e)),
        // Only the file a restore leaves: never what a link there points to, nor a folder.
        Ok(m) if !m.is_file() => {
            return Err(Error::InvalidInput(format!(
                "{} is not the copy a restore leaves (not a plain file); it was left as it is",
                kept.display()
            )))
        }
        Ok(_) => {}
    }
    fs::remove_file(&kept).map_err(|e| Error::io(format!("removing {}", kept.display()), e))?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let _ = fs::remove_file(sidecar(&kept, suffix));
    }
    Ok(Some(kept))
}

impl Vault {
    /// Re-encrypts the vault under a new key: `Unlock::Keyring` puts a fresh random key in the
    /// OS keyring (from passphrase mode, or rotating the keyring key); `Unlock::Passphrase`
    /// derives one from the given passphrase (from keyring mode, a new passphrase, or the same
    /// passphrase with a new salt). The vault id changes with the salt.
    pub fn change_key(&mut self, to: Unlock, keys: &dyn KeyStore) -> Result<()> {
        let salt: [u8; SALT_LEN] = random_bytes();
        let (key, mode) = match to {
            Unlock::Passphrase(p) => {
                check_new_passphrase(&p)?;
                (kdf::derive_key(&p, &salt), KeyMode::Passphrase)
            }
            Unlock::Keyring => (Secret::new(random_bytes::<32>().to_vec()), KeyMode::Keyring),
        };
        let (from, to) = (self.mode, mode);
        let old_id = file::vault_id(&self.salt);
        let new_id = file::vault_id(&salt);
        let version = migrate::schema_version(&self.conn)?;
        let backup = key_change_backup_path(&self.path);
        self.replace_file(
            |conn, tmp| export(conn, version, tmp, &key, &salt),
            &Replacement {
                key: &key,
                salt,
                mode,
                keep_old_at: &backup,
            },
            || match mode {
                KeyMode::Keyring => keys.set(&new_id, &key).map_err(keyring_error),
                KeyMode::Passphrase => Ok(()),
            },
        )?;
        // The old file and its key are no longer needed once the new one is in place.
        let _ = fs::remove_file(&backup);
        if from == KeyMode::Keyring {
            if let Err(e) = keys.delete(&old_id) {
                tracing::warn!(?e, "the old key could not be removed from the keyring");
            }
        }
        activity::record(
            &self.conn,
            crate::time::now(),
            "vault_key_changed",
            None,
            None,
            Some(&format!("{} -> {}", from.as_str(), to.as_str())),
        )?;
        tracing::info!(from = from.as_str(), to = to.as_str(), "vault key changed");
        Ok(())
    }

    /// Replaces everything in the vault with what a backup holds (already opened and checked
    /// by `backup::Backup::open`), under this vault's own key. The vault it replaces is kept at
    /// `<vault>.before-restore` when it held anything: that path is returned.
    pub fn restore_from(
        &mut self,
        backup: &super::backup::Backup,
    ) -> Result<Option<std::path::PathBuf>> {
        let key = self.key.clone();
        let salt = self.salt;
        let held_anything = {
            let s = self.status()?;
            s.providers + s.tokens > 0
        };
        let keep = before_restore_path(&self.path);
        self.replace_file(
            |_, tmp| backup.export_to(tmp, &key, &salt),
            &Replacement {
                key: &key,
                salt,
                mode: self.mode,
                keep_old_at: &keep,
            },
            || Ok(()),
        )?;
        if !held_anything {
            let _ = fs::remove_file(&keep);
        }
        activity::record(
            &self.conn,
            crate::time::now(),
            "vault_restored",
            None,
            None,
            Some(&format!(
                "{} providers, {} tokens",
                backup.contents.providers.len(),
                backup.contents.accounts.len()
            )),
        )?;
        Ok(held_anything.then_some(keep))
    }

    /// The steps every replacement shares; `write` fills the new file, `before_switch` runs
    /// once it is checked (storing a new key in the keyring).
    fn replace_file(
        &mut self,
        write: impl FnOnce(&Connection, &Path) -> Result<()>,
        new: &Replacement,
        before_switch: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        let lock = self.lock.take().ok_or_else(|| {
            Error::InvalidInput("this vault is not a file on disk; its key cannot change".into())
        })?;
        if let Err(e) = lock.make_exclusive(&self.path) {
            self.lock = Some(lock);
            return Err(e);
        }
        let result = self.replace_file_alone(write, new, before_switch);
        lock.make_shared();
        self.lock = Some(lock);
        result
    }

    fn replace_file_alone(
        &mut self,
        write: impl FnOnce(&Connection, &Path) -> Result<()>,
        new: &Replacement,
        before_switch: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        let Replacement {
            key,
            salt,
            mode,
            keep_old_at,
        } = *new;
        let path = self.path.clone();
        let tmp = sidecar(&path, ".replacement");
        remove_with_sidecars(&tmp); // left by a crash of an earlier attempt
        let made = (|| {
            file::create_private(&tmp)?;
            write(&self.conn, &tmp)?;
            // Opening it the normal way proves the key, migrates a restored backup and checks
            // every page before anything depends on it.
            let new = Vault::connect(&tmp, key.clone(), salt, false, mode, None)?;
            new.check_integrity()?;
            drop(new);
            fs::File::open(&tmp)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::io("writing the new vault to disk", e))?;
            before_switch()
        })();
        if let Err(e) = made {
            remove_with_sidecars(&tmp);
            return Err(e);
        }

        // Everything committed is in the main file, so the hard link below is the whole old
        // vault and the WAL can go away with the connection.
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(|e| self.storage_error(e))?;
        let _ = fs::remove_file(keep_old_at);
        fs::hard_link(&path, keep_old_at)
            .map_err(|e| Error::io(format!("keeping a copy at {}", keep_old_at.display()), e))?;

        // Our connection must be closed before the rename: closing it afterwards would remove
        // the WAL by name, which by then belongs to the new file.
        let old = std::mem::replace(&mut self.conn, super::cipher::open_in_memory()?);
        let _ = old.close();
        if let Err(e) = fs::rename(&tmp, &path) {
            remove_with_sidecars(&tmp);
            let _ = fs::remove_file(keep_old_at);
            self.reopen(self.key.clone(), self.salt, self.mode)?;
            return Err(Error::io(
                format!("moving the new vault to {}", path.display()),
                e,
            ));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        self.reopen(key.clone(), salt, mode)
    }

    fn reopen(&mut self, key: Secret<Vec<u8>>, salt: [u8; SALT_LEN], mode: KeyMode) -> Result<()> {
        let fresh = Vault::connect(&self.path, key, salt, false, mode, None)?;
        let Vault {
            conn,
            key,
            salt,
            mode,
            ..
        } = fresh;
        self.conn = conn;
        self.key = key;
        self.salt = salt;
        self.mode = mode;
        Ok(())
    }
}

/// The file that takes the vault's place: its key, salt and mode, and where the old file stays
/// while the switch happens.
struct Replacement<'a> {
    key: &'a Secret<Vec<u8>>,
    salt: [u8; SALT_LEN],
    mode: KeyMode,
    keep_old_at: &'a Path,
}

/// A new passphrase must be worth the Argon2 it goes through.
pub fn check_new_passphrase(p: &Secret<String>) -> Result<()> {
    if p.expose().chars().count() < 8 {
        return Err(Error::field(
            "passphrase",
            "is too short: use at least 8 characters",
        ));
    }
    Ok(())
}

/// Copies every table of the connection's main database into a new SQLCipher file at `dest`
/// under `key` and `salt`, in one read transaction (a consistent copy even while others write).
pub(super) fn export(
    conn: &Connection,
    schema_version: i64,
    dest: &Path,
    key: &Secret<Vec<u8>>,
    salt: &[u8; SALT_LEN],
) -> Result<()> {
    let dest_text = dest
        .to_str()
        .ok_or_else(|| Error::InvalidInput(format!("{} is not a UTF-8 path", dest.display())))?;
    let mut raw = Zeroizing::new(String::with_capacity(110));
    raw.push_str("x'");
    raw.push_str(&hex::encode(key.expose()));
    raw.push_str(&hex::encode(salt));
    raw.push('\'');
    conn.execute(
        "ATTACH DATABASE ?1 AS replacement KEY ?2",
        rusqlite::params![dest_text, raw.as_str()],
    )
    .map_err(|e| Error::Storage(format!("cannot create {}: {}", dest.display(), code_of(&e))))?;
    let copied = conn
        .query_row("SELECT sqlcipher_export('replacement')", [], |_| Ok(()))
        .and_then(|_| conn.pragma_update(Some("replacement"), "user_version", schema_version));
    let detached = conn.execute_batch("DETACH DATABASE replacement");
    copied.map_err(|e| Error::Storage(format!("copying the vault failed: {e}")))?;
    detached?;
    Ok(())
}

/// Opens a file with a key and nothing else (no WAL, no migration): for a backup's private copy.
pub(super) fn open_read_write(path: &Path, key: &Secret<Vec<u8>>) -> Result<Connection> {
    let conn = super::cipher::open(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    super::cipher::apply_key(&conn, key, None)?;
    Ok(conn)
}

/// An error's SQLite code without its text (the text of an ATTACH could hold the key).
fn code_of(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(code) => format!("{code:?}"),
        None => "unknown error".into(),
    }
}

fn keyring_error(e: KeyringError) -> Error {
    match e {
        KeyringError::Unavailable(reason) => {
            Error::Keyring(format!("no OS keyring can hold the new key ({reason})"))
        }
        KeyringError::Failed(m) => Error::Keyring(m),
    }
}

fn remove_with_sidecars(path: &Path) {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let _ = fs::remove_file(sidecar(path, suffix));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::{Create, MemoryKeyring};

    fn pass(s: &str) -> Unlock {
        Unlock::Passphrase(Secret::new(s.to_owned()))
    }

    fn add_marker(v: &Vault) {
        v.conn()
            .execute(
                "INSERT INTO settings (key, value) VALUES ('marker', 'kept')",
                [],
            )
            .unwrap();
    }

    fn marker(v: &Vault) -> String {
        v.conn()
            .query_row("SELECT value FROM settings WHERE key='marker'", [], |r| {
                r.get(0)
            })
            .unwrap()
    }

    #[test]
    fn every_switch_keeps_the_data_and_only_the_new_key_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        let keys = MemoryKeyring::default();
        let mut v = Vault::open(&path, Unlock::Keyring, &keys, Create::IfMissing).unwrap();
        add_marker(&v);
        let first_id = keys.get_for_test();

        v.change_key(pass("correct horse"), &keys).unwrap();
        assert_eq!(v.key_mode(), KeyMode::Passphrase);
        assert!(
            keys.get_for_test().is_empty(),
            "the old keyring key was removed"
        );
        assert_eq!(marker(&v), "kept");
        drop(v);
        let err = Vault::open(&path, Unlock::Keyring, &keys, Create::Never).unwrap_err();
        assert_eq!(err.code(), "key_missing");

        let mut v = Vault::open(&path, pass("correct horse"), &keys, Create::Never).unwrap();
        v.change_key(pass("battery staple"), &keys).unwrap();
        drop(v);
        let err = Vault::open(&path, pass("correct horse"), &keys, Create::Never).unwrap_err();
        assert_eq!(
            err.code(),
            "wrong_key",
            "the old passphrase no longer opens it"
        );

        let mut v = Vault::open(&path, pass("battery staple"), &keys, Create::Never).unwrap();
        v.change_key(Unlock::Keyring, &keys).unwrap();
        let second_id = keys.get_for_test();
        assert_eq!(second_id.len(), 1);
        assert_ne!(second_id, first_id, "a fresh key under a fresh id");
        v.change_key(Unlock::Keyring, &keys).unwrap();
        assert_eq!(keys.get_for_test().len(), 1, "rotation removed the old key");
        assert_ne!(keys.get_for_test(), second_id);
        drop(v);
        let v = Vault::open(&path, Unlock::Keyring, &keys, Create::Never).unwrap();
        assert_eq!(marker(&v), "kept");
        v.check_integrity().unwrap();
        assert!(!key_change_backup_path(&path).exists());
        assert!(!sidecar(&path, ".replacement").exists());
    }

    #[test]
    fn a_short_passphrase_or_a_second_holder_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        let keys = MemoryKeyring::default();
        let mut v = Vault::open(&path, pass("long enough"), &keys, Create::IfMissing).unwrap();
        let before = std::fs::read(&path).unwrap();
        assert_eq!(
            v.change_key(pass("short"), &keys).unwrap_err().code(),
            "invalid_input"
        );
        let other = Vault::open(&path, pass("long enough"), &keys, Create::Never).unwrap();
        let err = v.change_key(Unlock::Keyring, &keys).unwrap_err();
        assert_eq!(err.code(), "vault_busy");
        assert!(
            keys.get_for_test().is_empty(),
            "no key was stored for a change refused"
        );
        drop(other);
        assert_eq!(std::fs::read(&path).unwrap(), before);
        v.status()
            .expect("the vault still works after the refusals");
    }

    #[test]
    fn a_new_passphrase_vault_needs_as_long_a_passphrase_as_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        let keys = MemoryKeyring::default();
        let err = Vault::open(&path, pass("seven c"), &keys, Create::IfMissing).unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        assert!(err.to_string().contains("at least 8 characters"), "{err}");
        assert!(!path.exists(), "no vault was made");
        Vault::open(&path, pass("eight ch"), &keys, Create::IfMissing)
            .expect("8 characters are enough");
    }
}
