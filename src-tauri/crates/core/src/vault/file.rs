//! The vault file on disk before any key is tried: what is at the path, its salt (the vault's
//! id), and the checks that need no key. Nothing here writes to an existing file.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::cipher::{PAGE_SIZE, SALT_LEN};
use crate::error::{Error, Result};

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// What stands at the vault path.
#[derive(Debug)]
pub enum VaultFile {
    Missing,
    Present { salt: [u8; SALT_LEN], len: u64 },
}

pub fn vault_id(salt: &[u8; SALT_LEN]) -> String {
    hex::encode(salt)
}

pub fn inspect(path: &Path) -> Result<VaultFile> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(VaultFile::Missing),
        Err(e) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
    };
    if !meta.is_file() {
        return Err(Error::InvalidInput(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    let len = meta.len();
    let truncated = |detail: String| Error::VaultTruncated {
        path: path.to_owned(),
        detail,
    };
    if len == 0 {
        return Err(truncated("the file is empty".into()));
    }
    let mut head = [0u8; SALT_LEN];
    let mut f = fs::File::open(path)
        .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    f.read_exact(&mut head)
        .map_err(|_| truncated(format!("{len} bytes, shorter than a header")))?;
    if &head == SQLITE_MAGIC {
        return Err(Error::NotEncrypted {
            path: path.to_owned(),
        });
    }
    if len % PAGE_SIZE as u64 != 0 {
        return Err(truncated(format!(
            "{len} bytes, not a whole number of {PAGE_SIZE}-byte pages"
        )));
    }
    Ok(VaultFile::Present { salt: head, len })
}

/// The vault's real path. A symlink at `path` (a vault kept on another disk) is followed, so
/// that the WAL, the lock and the rename of a key change all happen beside the real file and
/// the link stays a link; a dangling link is an error, never a new vault at its target.
pub fn resolve(path: &Path) -> Result<PathBuf> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path).map_err(|e| {
            let target = fs::read_link(path)
                .map(|t| t.display().to_string())
                .unwrap_or_else(|_| "?".into());
            Error::io(
                format!(
                    "{} is a symbolic link to {target}, which cannot be reached; fix or remove \
                     the link",
                    path.display()
                ),
                e,
            )
        }),
        _ => Ok(path.to_owned()),
    }
}

/// Makes the vault's directory (0700) when missing.
pub fn ensure_dir(path: &Path) -> Result<()> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    }
    Ok(())
}

/// Creates an empty file only we can read, failing if anything is already there.
pub fn create_private(path: &Path) -> Result<()> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
    Ok(())
}

/// Tightens the vault and its -wal/-shm to 0600 (SQLite gives them the database's mode, but a
/// file copied in by hand may be looser).
pub fn restrict_modes(path: &Path) {
    for p in [
        path.to_owned(),
        sidecar(path, "-wal"),
        sidecar(path, "-shm"),
    ] {
        if let Ok(meta) = fs::metadata(&p) {
            if meta.permissions().mode() & 0o077 != 0 {
                let _ = fs::set_permissions(&p, fs::Permissions::from_mode(0o600));
            }
        }
    }
}

pub fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Moves a finished new vault into place without ever replacing a file that appeared there
/// meanwhile: a hard link fails when the target exists, a rename would not.
pub fn publish_new(tmp: &Path, path: &Path) -> Result<()> {
    fs::hard_link(tmp, path)
        .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
    let _ = fs::remove_file(tmp);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Makes the new directory entry durable before anyone relies on it.
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}
