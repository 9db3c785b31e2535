//! Reading a file a person named (a client key, a certificate): a regular file only, opened
//! without waiting (a FIFO or a terminal named by mistake would otherwise block whoever holds
//! the vault), and at most so many bytes of it; and writing one that only its owner may read,
//! whole or not at all.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The bytes of the regular file at `path`, refused beyond `max`. `what` names it in errors
/// ("the key file").
pub fn read_bounded(path: &Path, max: usize, what: &str) -> Result<Secret<Vec<u8>>> {
    let shown = crate::text::shown(&path.display().to_string());
    let cannot =
        |e: std::io::Error| Error::InvalidInput(format!("cannot read {what} {shown}: {e}"));
    let file = std::fs::OpenOptions::new()
        .read(true)
        // Without waiting (a FIFO), and never taking a terminal named by mistake as ours.
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(cannot)?;
    if !file.metadata().map_err(cannot)?.is_file() {
        return Err(Error::InvalidInput(format!(
            "{what} {shown} is not a regular file"
        )));
    }
    // Its whole size at once: growing by reallocation would leave copies of a key behind.
    let mut bytes = Vec::with_capacity(max + 1);
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    let bytes = Secret::new(bytes);
    if bytes.expose().len() > max {
        return Err(Error::InvalidInput(format!(
            "{what} {shown} is larger than {max} bytes"
        )));
    }
    Ok(bytes)
}

/// Writes `bytes` to `path` whole or not at all: a new file of mode 0600 beside it, synced,
/// then renamed over it, so a reader never sees half of it and a crash leaves the old one.
/// `what` names it in errors ("the token file").
pub fn write_private(path: &Path, bytes: &[u8], what: &str) -> Result<()> {
    // A random name: a process id is not unique across containers sharing a folder, and the
    // exclusive create below never takes over a file (or a link) somebody else made.
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).expect("the OS random source is available");
    let tmp = path.with_file_name(format!(
        ".{}.{:016x}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        u64::from_le_bytes(random)
    ));
    let shown = crate::text::shown(&path.display().to_string());
    let cannot =
        |e: std::io::Error| Error::InvalidInput(format!("cannot write {what} {shown}: {e}"));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(cannot(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_regular_file_within_its_bound_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key.pem");
        std::fs::write(&file, b"0123456789").unwrap();
        assert_eq!(
            read_bounded(&file, 10, "the key file").unwrap().expose(),
            b"0123456789"
        );
        let err = read_bounded(&file, 9, "the key file")
            .unwrap_err()
            .to_string();
        assert!(err.contains("larger than 9 bytes"), "{err}");
        let err = read_bounded(dir.path(), 10, "the key file")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not a regular file") || err.contains("cannot read"),
            "{err}"
        );
        // A FIFO nobody writes to: refused at once, not waited on.
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let err = read_bounded(&fifo, 10, "the key file")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a regular file"), "{err}");
        assert!(read_bounded(&dir.path().join("missing"), 10, "the key file").is_err());
    }

    #[test]
    fn a_private_file_is_replaced_whole_and_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, b"old").unwrap();
        write_private(&file, b"new token", "the token file").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"new token");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the old file's mode is not kept");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file is left"
        );
        let err = write_private(&dir.path().join("none/token"), b"x", "the token file")
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot write the token file"), "{err}");
    }
}
