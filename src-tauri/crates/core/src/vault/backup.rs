//! Encrypted backups: a consistent copy of the vault in one file, encrypted under a passphrase
//! the user gives (Argon2id over the passphrase and the file's own salt, as a passphrase
//! vault), never under the keyring key, so it opens on another machine. A backup is read from
//! a private copy, so restoring never writes to the file the user handed over.

use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde::Serialize;

use super::cipher::SALT_LEN;
use super::file::{self, VaultFile};
use super::rekey::{check_new_passphrase, export};
use super::{activity, kdf, migrate, random_bytes, Vault};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// What a backup holds, shown before anything is replaced. Names only, never a secret.
#[derive(Debug, Clone, Serialize)]
pub struct BackupContents {
    pub schema_version: i64,
    pub providers: Vec<String>,
    /// `(provider, account)` of every stored token.
    pub accounts: Vec<(String, String)>,
}

impl Vault {
    /// Writes a backup to `dest`, which must not exist yet. The file appears whole or not at all.
    pub fn backup_to(&self, dest: &Path, passphrase: &Secret<String>) -> Result<BackupContents> {
        check_new_passphrase(passphrase)?;
        if dest.exists() {
            return Err(Error::InvalidInput(format!(
                "{} already exists; choose another file name (nothing was written)",
                dest.display()
            )));
        }
        if dest.is_dir() || dest.as_os_str().is_empty() {
            return Err(Error::InvalidInput("give the backup a file name".into()));
        }
        let salt: [u8; SALT_LEN] = random_bytes();
        let key = kdf::derive_key(passphrase, &salt);
        let tmp = file::sidecar(
            dest,
            &format!(".partial-{}", hex::encode(random_bytes::<4>())),
        );
        let written = (|| -> Result<BackupContents> {
            file::create_private(&tmp)?;
            let version = migrate::schema_version(self.conn())?;
            export(self.conn(), version, &tmp, &key, &salt)?;
            let backup = Backup::open_copy(&tmp, &key)?;
            fs::File::open(&tmp)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::io(format!("writing {}", dest.display()), e))?;
            file::publish_new(&tmp, dest)?;
            Ok(backup.contents.clone())
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        let contents = written?;
        activity::record(
            self.conn(),
            crate::time::now(),
            "vault_backed_up",
            None,
            None,
            Some(&format!(
                "{} providers, {} tokens",
                contents.providers.len(),
                contents.accounts.len()
            )),
        )?;
        Ok(contents)
    }
}

/// A backup opened with its passphrase and checked page by page; `restore_from` copies it in.
pub struct Backup {
    pub contents: BackupContents,
    conn: Connection,
    /// The private copy the connection reads, removed on drop.
    copy: Option<PathBuf>,
}

impl Drop for Backup {
    fn drop(&mut self) {
        if let Some(copy) = self.copy.take() {
            let _ = fs::remove_file(&copy);
            let _ = fs::remove_file(file::sidecar(&copy, "-journal"));
        }
    }
}

impl Backup {
    /// Opens the backup at `path` with its passphrase. Every error names the backup and what
    /// is wrong with it: missing, not a backup, truncated, damaged, wrong passphrase, newer.
    pub fn open(path: &Path, passphrase: &Secret<String>) -> Result<Backup> {
        let bad = |code: &'static str, what: String| Error::BadBackup {
            code,
            message: format!("cannot restore {}: {what}", path.display()),
        };
        let salt = match file::inspect(path) {
            Ok(VaultFile::Present { salt, .. }) => salt,
            Ok(VaultFile::Missing) => return Err(bad("not_found", "there is no such file".into())),
            Err(Error::VaultTruncated { detail, .. }) => {
                return Err(bad(
                    "vault_truncated",
                    format!("it is truncated ({detail})"),
                ))
            }
            Err(Error::NotEncrypted { .. }) => {
                return Err(bad(
                    "vault_not_encrypted",
                    "it is a plain SQLite file, not an OAuth Desk backup".into(),
                ))
            }
            Err(e) => return Err(e),
        };
        let key = kdf::derive_key(passphrase, &salt);
        let copy = std::env::temp_dir().join(format!(
            "oauth-desk-restore-{}.db",
            hex::encode(random_bytes::<6>())
        ));
        file::create_private(&copy)?;
        let opened = fs::copy(path, &copy)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))
            .and_then(|_| Self::open_copy(&copy, &key));
        let mut backup = match opened {
            Ok(b) => b,
            Err(e) => {
                let _ = fs::remove_file(&copy);
                return Err(match e {
                    Error::WrongKey { .. } => {
                        bad("wrong_key", "the passphrase does not open it".into())
                    }
                    Error::VaultCorrupt { detail, .. } => bad(
                        "vault_corrupt",
                        format!("it is damaged or was altered ({detail})"),
                    ),
                    Error::VaultTruncated { detail, .. } => {
                        bad("vault_truncated", format!("it is truncated ({detail})"))
                    }
                    Error::SchemaTooNew {
                        found, supported, ..
                    } => bad(
                        "schema_too_new",
                        format!(
                            "it was made by a newer OAuth Desk (schema {found}; this one knows \
                             up to {supported}); update OAuth Desk first"
                        ),
                    ),
                    Error::InvalidInput(_) => {
                        bad("invalid_input", "it is not an OAuth Desk backup".into())
                    }
                    other => other,
                });
            }
        };
        backup.copy = Some(copy);
        // Dropped on refusal: the private copy goes with it.
        super::backup_check::check(
            &backup.conn,
            backup.contents.schema_version,
            &backup.contents.providers,
        )
        .map_err(|why| bad("invalid_input", why))?;
        Ok(backup)
    }

    /// Opens a file we own (a private copy, or a backup just written) and reads what it holds.
    fn open_copy(path: &Path, key: &Secret<Vec<u8>>) -> Result<Backup> {
        let len = fs::metadata(path).map(|m| m.len()).ok();
        let conn = super::rekey::open_read_write(path, key)?;
        super::first_read(&conn, path, key, len, false)?;
        let schema_version = migrate::schema_version(&conn)?;
        if schema_version > migrate::latest_version() {
            return Err(Error::SchemaTooNew {
                path: path.to_owned(),
                found: schema_version,
                supported: migrate::latest_version(),
            });
        }
        super::integrity(&conn, path)?;
        let not_ours =
            || Error::InvalidInput(format!("{} is not an OAuth Desk backup", path.display()));
        if schema_version < 1 {
            return Err(not_ours());
        }
        let providers = conn
            .prepare("SELECT name FROM providers ORDER BY name")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|_| not_ours())?;
        let accounts = conn
            .prepare(
                "SELECT p.name, t.account FROM tokens t JOIN providers p ON p.id = t.provider_id
                 ORDER BY p.name, t.account",
            )
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(|_| not_ours())?;
        Ok(Backup {
            contents: BackupContents {
                schema_version,
                providers,
                accounts,
            },
            conn,
            copy: None,
        })
    }

    /// Copies the backup into a new vault file under the target vault's key and salt.
    pub(super) fn export_to(
        &self,
        dest: &Path,
        key: &Secret<Vec<u8>>,
        salt: &[u8; SALT_LEN],
    ) -> Result<()> {
        export(&self.conn, self.contents.schema_version, dest, key, salt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::{Create, MemoryKeyring, Unlock};

    fn secret(s: &str) -> Secret<String> {
        Secret::new(s.to_owned())
    }

    fn vault_with_marker(path: &Path, keys: &MemoryKeyring, marker: &str) -> Vault {
        let v = Vault::open(path, Unlock::Keyring, keys, Create::IfMissing).unwrap();
        v.conn()
            .execute(
                "INSERT INTO providers (name, client_id, authorization_url, token_url, client_auth, created_at, updated_at)
                 VALUES (?1, 'id', 'https://a.example/auth', 'https://a.example/token', 'none', 0, 0)",
                [marker],
            )
            .unwrap();
        v
    }

    fn restore_error(path: &Path, pass: &str) -> Error {
        match Backup::open(path, &secret(pass)) {
            Ok(_) => panic!("{} should not open", path.display()),
            Err(e) => e,
        }
    }

    #[test]
    fn a_backup_restores_into_another_vault_under_that_vaults_key() {
        let dir = tempfile::tempdir().unwrap();
        let keys = MemoryKeyring::default();
        let source = vault_with_marker(&dir.path().join("a.db"), &keys, "from-a");
        let file = dir.path().join("backup.odb");
        let contents = source.backup_to(&file, &secret("backup pass")).unwrap();
        assert_eq!(contents.providers, vec!["from-a".to_string()]);
        let bytes = std::fs::read(&file).unwrap();

        let target_path = dir.path().join("b.db");
        let mut target = Vault::open(
            &target_path,
            Unlock::Passphrase(secret("target pass")),
            &keys,
            Create::IfMissing,
        )
        .unwrap();
        let backup = Backup::open(&file, &secret("backup pass")).unwrap();
        target.restore_from(&backup).unwrap();
        drop(backup);
        drop(target);
        assert_eq!(
            std::fs::read(&file).unwrap(),
            bytes,
            "the backup file is never written"
        );
        assert!(
            !before_restore(&target_path).exists(),
            "an empty vault is not worth keeping"
        );
        let target = Vault::open(
            &target_path,
            Unlock::Passphrase(secret("target pass")),
            &keys,
            Create::Never,
        )
        .expect("the target's own passphrase still opens it");
        let names: Vec<String> = target
            .conn()
            .prepare("SELECT name FROM providers")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        assert_eq!(names, vec!["from-a".to_string()]);
        target.check_integrity().unwrap();
    }

    fn before_restore(p: &Path) -> PathBuf {
        crate::vault::rekey::before_restore_path(p)
    }

    #[test]
    fn a_restore_over_a_vault_keeps_the_old_one_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let keys = MemoryKeyring::default();
        let file = dir.path().join("backup.odb");
        vault_with_marker(&dir.path().join("a.db"), &keys, "from-a")
            .backup_to(&file, &secret("backup pass"))
            .unwrap();
        let target_path = dir.path().join("b.db");
        let mut target = vault_with_marker(&target_path, &keys, "was-in-b");
        target
            .restore_from(&Backup::open(&file, &secret("backup pass")).unwrap())
            .unwrap();
        let kept = before_restore(&target_path);
        assert!(kept.exists());
        drop(target);
        std::fs::rename(&kept, &target_path).unwrap();
        let old = Vault::open(&target_path, Unlock::Keyring, &keys, Create::Never).unwrap();
        let n: i64 = old
            .conn()
            .query_row(
                "SELECT count(*) FROM providers WHERE name='was-in-b'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            n, 1,
            "the replaced vault opens with its key and holds what it held"
        );
    }

    #[test]
    fn bad_backups_are_named_and_refused() {
        let dir = tempfile::tempdir().unwrap();
        let keys = MemoryKeyring::default();
        let v = vault_with_marker(&dir.path().join("a.db"), &keys, "p");
        let file = dir.path().join("backup.odb");
        v.backup_to(&file, &secret("backup pass")).unwrap();
        let bytes = std::fs::read(&file).unwrap();

        assert_eq!(restore_error(&file, "not the pass").code(), "wrong_key");
        assert_eq!(
            v.backup_to(&file, &secret("backup pass"))
                .unwrap_err()
                .code(),
            "invalid_input",
            "an existing file is not overwritten"
        );
        assert_eq!(
            v.backup_to(&dir.path().join("x"), &secret("short"))
                .unwrap_err()
                .code(),
            "invalid_input"
        );

        let cut = dir.path().join("cut.odb");
        std::fs::write(&cut, &bytes[..bytes.len() - 4096]).unwrap();
        assert_eq!(restore_error(&cut, "backup pass").code(), "vault_truncated");
        std::fs::write(&cut, &bytes[..1000]).unwrap();
        assert_eq!(restore_error(&cut, "backup pass").code(), "vault_truncated");

        for offset in [100, bytes.len() / 2, bytes.len() - 10] {
            let mut tampered = bytes.clone();
            tampered[offset] ^= 0x01;
            let f = dir.path().join(format!("tampered-{offset}.odb"));
            std::fs::write(&f, &tampered).unwrap();
            let code = restore_error(&f, "backup pass").code();
            assert_eq!(code, "vault_corrupt", "a flipped bit at {offset}");
        }

        let plain = dir.path().join("plain.db");
        crate::vault::cipher::open(&plain, Default::default())
            .unwrap()
            .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
            .unwrap();
        assert_eq!(
            restore_error(&plain, "backup pass").code(),
            "vault_not_encrypted"
        );

        // A backup from a newer OAuth Desk: the same file with a higher schema version.
        let newer = dir.path().join("newer.odb");
        std::fs::copy(&file, &newer).unwrap();
        {
            let b = Backup::open(&newer, &secret("backup pass")).unwrap();
            let salt: [u8; 16] = bytes[..16].try_into().unwrap();
            let key = kdf::derive_key(&secret("backup pass"), &salt);
            drop(b);
            let c = super::super::rekey::open_read_write(&newer, &key).unwrap();
            c.pragma_update(None, "user_version", 99).unwrap();
        }
        let e = restore_error(&newer, "backup pass");
        assert_eq!(e.code(), "schema_too_new", "{e}");
        assert!(e.to_string().contains("newer OAuth Desk"));
    }
}
