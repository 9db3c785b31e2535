//! Reading a file a person named (a client key, a certificate): a regular file only, opened
//! without waiting (a FIFO or a terminal named by mistake would otherwise block whoever holds
//! the vault), and at most so many bytes of it.

use std::io::Read;
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
}
