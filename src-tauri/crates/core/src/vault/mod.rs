//! The vault: one SQLCipher file holding providers, tokens and activity.
//!
//! Opening never creates a key or a file over an existing one. Every failure to open leaves the
//! file byte for byte as it was and names what went wrong: no key in the keyring, a wrong key, a
//! truncated or damaged file, a plain SQLite file.

pub mod backup;
mod backup_check;
pub(crate) mod cipher;
mod file;
mod kdf;
pub mod keyring;
mod lock;
pub mod migrate;
pub mod rekey;
mod shared;

pub mod activity;
pub mod exchanged;
pub mod narrowed;
pub mod provider_table;
pub mod registrations;
pub mod settings;
pub mod tokens;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::secret::Secret;
pub use file::VaultFile;
pub use keyring::{KeyStore, KeyringError, MemoryKeyring, NoKeyring, OsKeyring};
pub use shared::SharedVault;

use cipher::{PAGE_SIZE, SALT_LEN};

/// Where the key of a vault comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyMode {
    /// 32 random bytes kept in the OS keyring.
    Keyring,
    /// Derived from a passphrase with Argon2id.
    Passphrase,
}

impl KeyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyMode::Keyring => "keyring",
            KeyMode::Passphrase => "passphrase",
        }
    }
}

/// How to unlock: through the keyring, or with a passphrase the user gave.
#[derive(Debug)]
pub enum Unlock {
    Keyring,
    Passphrase(Secret<String>),
}

/// Whether a missing vault may be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    IfMissing,
    Never,
}

/// `$XDG_DATA_HOME/oauth-desk/vault.db` (the faces let `--vault` and `OAUTH_DESK_VAULT` override it).
pub fn default_path() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "oauth-desk")
        .map(|d| d.data_dir().join("vault.db"))
        .ok_or_else(|| {
            Error::InvalidInput(
                "no home directory: pass --vault PATH or set OAUTH_DESK_VAULT".into(),
            )
        })
}

/// What stands at a vault path, read without a key.
pub fn inspect(path: &Path) -> Result<VaultFile> {
    file::inspect(path)
}

pub struct Vault {
    conn: Connection,
    path: PathBuf,
    mode: KeyMode,
    /// Kept so that a key change that fails half-way can reopen the vault as it was.
    key: Secret<Vec<u8>>,
    salt: [u8; SALT_LEN],
    /// None for an in-memory vault and for files opened only to be checked.
    lock: Option<lock::OpenLock>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// A vault's state as the faces show it. No secret in it.
#[derive(Debug, Clone, Serialize)]
pub struct VaultStatus {
    pub path: PathBuf,
    pub key_mode: KeyMode,
    pub schema_version: i64,
    pub sqlcipher_version: String,
    pub providers: i64,
    pub tokens: i64,
    pub activity: i64,
    /// The vault a restore replaced, kept beside this one until the user removes it.
    pub before_restore: Option<PathBuf>,
}

impl Vault {
    /// Opens the vault at `path`, creating it when it is missing and `create` allows.
    pub fn open(path: &Path, unlock: Unlock, keys: &dyn KeyStore, create: Create) -> Result<Vault> {
        let path = &file::resolve(path)?;
        if let (VaultFile::Missing, Create::Never) = (file::inspect(path)?, create) {
            return Err(Error::NotFound(format!(
                "no vault at {} yet",
                path.display()
            )));
        }
        file::ensure_dir(path)?;
        // Taken before the file is read: a key change or a restore in progress finishes first.
        let lock = lock::OpenLock::shared(path)?;
        let mut vault = match file::inspect(path)? {
            VaultFile::Present { salt, len } => {
                let (key, mode) = existing_key(path, &salt, unlock, keys)?;
                Self::connect(path, key, salt, false, mode, Some(len))?
            }
            VaultFile::Missing if create == Create::IfMissing => Self::create(path, unlock, keys)?,
            VaultFile::Missing => {
                return Err(Error::NotFound(format!(
                    "no vault at {} yet",
                    path.display()
                )))
            }
        };
        vault.lock = Some(lock);
        Ok(vault)
    }

    /// An in-memory vault for unit tests: the same schema and queries, nothing on disk.
    pub fn open_in_memory() -> Result<Vault> {
        let mut conn = cipher::open_in_memory()?;
        conn.pragma_update(None, "foreign_keys", true)?;
        migrate::migrate_to(&mut conn, migrate::latest_version())?;
        Ok(Vault {
            conn,
            path: PathBuf::from(":memory:"),
            mode: KeyMode::Keyring,
            key: Secret::new(Vec::new()),
            salt: [0; SALT_LEN],
            lock: None,
        })
    }

    /// Builds a new vault in a private temporary file, stores its key, and only then moves it to
    /// `path`. A crash at any point leaves either no vault or a whole one whose key is stored.
    fn create(path: &Path, unlock: Unlock, keys: &dyn KeyStore) -> Result<Vault> {
        // The same rule as a change of passphrase, for every face that creates a vault.
        if let Unlock::Passphrase(p) = &unlock {
            rekey::check_new_passphrase(p)?;
        }
        file::ensure_dir(path)?;
        let salt: [u8; SALT_LEN] = random_bytes();
        let id = file::vault_id(&salt);
        let (key, mode) = match unlock {
            Unlock::Passphrase(p) => (kdf::derive_key(&p, &salt), KeyMode::Passphrase),
            Unlock::Keyring => {
                // Asks the keyring first, so that a machine without one gets the passphrase
                // prompt before any file is made.
                match keys.get(&id) {
                    Ok(_) => {}
                    Err(KeyringError::Unavailable(reason)) => {
                        return Err(Error::PassphraseRequired {
                            path: path.to_owned(),
                            reason,
                            exists: false,
                        })
                    }
                    Err(KeyringError::Failed(m)) => return Err(Error::Keyring(m)),
                }
                (Secret::new(random_bytes::<32>().to_vec()), KeyMode::Keyring)
            }
        };

        let tmp = file::sidecar(path, &format!(".new-{}", hex::encode(random_bytes::<6>())));
        file::create_private(&tmp)?;
        let built = (|| {
            let vault = Self::connect(&tmp, key.clone(), salt, true, mode, None)?;
            activity::record(
                &vault.conn,
                crate::time::now(),
                "vault_created",
                None,
                None,
                Some(mode.as_str()),
            )?;
            drop(vault); // closes cleanly: the WAL is checkpointed into the file and removed
            if mode == KeyMode::Keyring {
                keys.set(&id, &key).map_err(|e| match e {
                    KeyringError::Unavailable(reason) => Error::PassphraseRequired {
                        path: path.to_owned(),
                        reason,
                        exists: false,
                    },
                    KeyringError::Failed(m) => Error::Keyring(m),
                })?;
            }
            file::publish_new(&tmp, path)
        })();
        if let Err(e) = built {
            for p in [
                file::sidecar(&tmp, "-wal"),
                file::sidecar(&tmp, "-shm"),
                tmp,
            ] {
                let _ = std::fs::remove_file(p);
            }
            return Err(e);
        }
        tracing::info!(path = %path.display(), mode = mode.as_str(), "vault created");
        Self::connect(path, key, salt, false, mode, None)
    }

    /// Opens a connection, gives it the key, proves SQLCipher and the key with a read, checks
    /// the file is whole, sets the per-connection PRAGMAs and migrates.
    fn connect(
        path: &Path,
        key: Secret<Vec<u8>>,
        salt: [u8; SALT_LEN],
        new_file: bool,
        mode: KeyMode,
        file_len: Option<u64>,
    ) -> Result<Vault> {
        let new_salt = new_file.then_some(&salt);
        let key = &key;
        let wal_in_use = std::fs::metadata(file::sidecar(path, "-wal")).is_ok_and(|m| m.len() > 0);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = cipher::open(path, flags)?;
        cipher::apply_key(&conn, key, new_salt)?;
        cipher::cipher_version(&conn)?;
        conn.execute_batch("PRAGMA cipher_memory_security = ON;")?;

        first_read(&conn, path, key, file_len, wal_in_use)?;

        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        // Pages are decrypted as they enter SQLite's cache; a cache large enough for the whole
        // token table (64 MiB at most, used only as the vault grows) decrypts each page once
        // instead of on every query.
        conn.pragma_update(None, "cache_size", -65536)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;

        let found = migrate::schema_version(&conn)?;
        let supported = migrate::latest_version();
        if found > supported {
            return Err(Error::SchemaTooNew {
                path: path.to_owned(),
                found,
                supported,
            });
        }
        migrate::migrate_to(&mut conn, supported).map_err(|e| match e {
            Error::Damaged(detail) => Error::VaultCorrupt {
                path: path.to_owned(),
                detail,
            },
            other => other,
        })?;
        file::restrict_modes(path);
        Ok(Vault {
            conn,
            path: path.to_owned(),
            mode,
            key: key.clone(),
            salt,
            lock: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn key_mode(&self) -> KeyMode {
        self.mode
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    pub fn status(&self) -> Result<VaultStatus> {
        let count = |table: &str| -> Result<i64> {
            self.conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .map_err(|e| self.storage_error(e))
        };
        Ok(VaultStatus {
            path: self.path.clone(),
            key_mode: self.mode,
            schema_version: migrate::schema_version(&self.conn)?,
            sqlcipher_version: cipher::cipher_version(&self.conn)?,
            providers: count("providers")?,
            tokens: count("tokens")?,
            activity: count("activity")?,
            before_restore: Some(rekey::before_restore_path(&self.path)).filter(|p| p.exists()),
        })
    }

    /// Reads every page and checks both SQLite's structure and SQLCipher's page HMACs.
    pub fn check_integrity(&self) -> Result<()> {
        integrity(&self.conn, &self.path)
    }

    /// Maps a storage error of this vault, naming damage as damage.
    pub fn storage_error(&self, e: rusqlite::Error) -> Error {
        storage_error(&self.path, e)
    }
}

/// A storage error of the file at `path`, naming damage as damage.
fn storage_error(path: &Path, e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
            Error::VaultCorrupt {
                path: path.to_owned(),
                detail: e.to_string(),
            }
        }
        _ => e.into(),
    }
}

/// The first read on a keyed connection decrypts page 1 and loads the schema: it proves the
/// key, or names the damage (a wrong key, a damaged first page, a truncated file).
pub(super) fn first_read(
    conn: &Connection,
    path: &Path,
    key: &Secret<Vec<u8>>,
    file_len: Option<u64>,
    wal_in_use: bool,
) -> Result<()> {
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => diagnose_unreadable(path, key),
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
            diagnose_truncation(path, key, file_len, wal_in_use).unwrap_or_else(|| {
                Error::VaultCorrupt {
                    path: path.to_owned(),
                    detail: e.to_string(),
                }
            })
        }
        _ => e.into(),
    })?;
    Ok(())
}

/// Reads every page and checks both SQLite's structure and SQLCipher's page HMACs.
pub(super) fn integrity(conn: &Connection, path: &Path) -> Result<()> {
    let mut problems: Vec<String> = Vec::new();
    // integrity_check, not quick_check: it also proves every index matches its table.
    for pragma in ["integrity_check", "cipher_integrity_check"] {
        let mut stmt = conn
            .prepare(&format!("PRAGMA {pragma}"))
            .map_err(|e| storage_error(path, e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| storage_error(path, e))?;
        for row in rows {
            let row = row.map_err(|e| storage_error(path, e))?;
            if row != "ok" {
                problems.push(row);
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        problems.truncate(5);
        Err(Error::VaultCorrupt {
            path: path.to_owned(),
            detail: problems.join("; "),
        })
    }
}

/// The key for an existing vault, from the passphrase or the keyring.
fn existing_key(
    path: &Path,
    salt: &[u8; SALT_LEN],
    unlock: Unlock,
    keys: &dyn KeyStore,
) -> Result<(Secret<Vec<u8>>, KeyMode)> {
    match unlock {
        Unlock::Passphrase(p) => Ok((kdf::derive_key(&p, salt), KeyMode::Passphrase)),
        Unlock::Keyring => {
            let id = file::vault_id(salt);
            match keys.get(&id) {
                Ok(Some(key)) => Ok((key, KeyMode::Keyring)),
                Ok(None) => Err(Error::KeyMissing {
                    path: path.to_owned(),
                    vault_id: id,
                }),
                Err(KeyringError::Unavailable(reason)) => Err(Error::PassphraseRequired {
                    path: path.to_owned(),
                    reason,
                    exists: true,
                }),
                Err(KeyringError::Failed(m)) => Err(Error::Keyring(m)),
            }
        }
    }
}

/// Page 1 did not decrypt: a wrong key, or a damaged first page? If the key authenticates any
/// later page, the key is right and page 1 is damaged.
fn diagnose_unreadable(path: &Path, key: &Secret<Vec<u8>>) -> Error {
    let Ok(bytes) = std::fs::read(path) else {
        return Error::WrongKey {
            path: path.to_owned(),
        };
    };
    let pages = bytes.len() / PAGE_SIZE;
    if (2..=pages.min(16)).any(|pgno| cipher::key_authenticates_page(&bytes, pgno, key.expose())) {
        Error::VaultCorrupt {
            path: path.to_owned(),
            detail: "its first page does not decrypt, though the key is right".into(),
        }
    } else {
        Error::WrongKey {
            path: path.to_owned(),
        }
    }
}

/// SQLite calls a file shorter than its header's page count corrupt; name that truncation.
fn diagnose_truncation(
    path: &Path,
    key: &Secret<Vec<u8>>,
    file_len: Option<u64>,
    wal_in_use: bool,
) -> Option<Error> {
    let len = file_len?;
    if wal_in_use {
        return None; // the WAL may legitimately hold pages past the file's end
    }
    let mut page1 = vec![0u8; PAGE_SIZE];
    std::io::Read::read_exact(&mut std::fs::File::open(path).ok()?, &mut page1).ok()?;
    let pages = cipher::header_page_count(&page1, key.expose())?;
    (pages * PAGE_SIZE as u64 > len).then(|| Error::VaultTruncated {
        path: path.to_owned(),
        detail: format!("{} of {} pages present", len / PAGE_SIZE as u64, pages),
    })
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the OS random source is available");
    b
}
