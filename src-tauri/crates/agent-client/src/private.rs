//! The private folder the local sockets live in (the token agent's, the window's single-instance
//! one) and who may be on the other side of them: this user only.
//!
//! Without `$XDG_RUNTIME_DIR` (cron, `su`, some SSH sessions) the folder is in the shared temp
//! directory, where another local user can make it first, or leave a symbolic link there. So the
//! folder is looked at with `lstat` every time it is used, by both ends, and refused unless it is
//! a real folder of ours that nobody else can enter; and each end asks the kernel who the peer
//! is (`SO_PEERCRED`), so that a socket somebody else bound is never trusted either.

use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::os::unix::io::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// The effective uid: the one the kernel gives our files and our sockets.
pub fn my_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// `<runtime dir>/oauth-desk-<uid>`, or `<temp dir>/oauth-desk-<uid>` without a runtime dir.
/// Named after the uid, not `$USER`, which may be unset or say anything.
pub fn socket_dir() -> PathBuf {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    socket_dir_in(&base)
}

/// The folder `socket_dir` names inside `base`.
pub fn socket_dir_in(base: &Path) -> PathBuf {
    base.join(format!("oauth-desk-{}", my_uid()))
}

fn refused(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, what)
}

/// Refuses `dir` unless it is a real folder (not a link), owned by us, that no other user can
/// enter. Not found is passed on as it is (no agent, nothing to refuse).
pub fn check_dir(dir: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(dir)?;
    let shown = dir.display();
    if meta.file_type().is_symlink() {
        return Err(refused(format!(
            "{shown} is a symbolic link, not a folder of yours; remove it"
        )));
    }
    if !meta.is_dir() {
        return Err(refused(format!("{shown} is not a folder; remove it")));
    }
    if meta.uid() != my_uid() {
        return Err(refused(format!(
            "{shown} belongs to another user (uid {}), not to you (uid {}); remove it",
            meta.uid(),
            my_uid()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(refused(format!(
            "other users can open {shown} (mode {:04o}); it must be 0700: remove it or \
             `chmod 700` it",
            meta.mode() & 0o7777
        )));
    }
    Ok(())
}

/// Makes `dir` (mode 0700) when it is missing, then checks it as `check_dir` does: a folder
/// found there already is used only when it passes.
pub fn make_dir(dir: &Path) -> io::Result<()> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(io::Error::new(
                e.kind(),
                format!("cannot make {}: {e}", dir.display()),
            ))
        }
    }
    check_dir(dir)
}

/// The process on the other side of a connected socket, as the kernel saw it when that process
/// connected (or listened).
fn peer_cred(stream: &UnixStream) -> io::Result<libc::ucred> {
    // SAFETY: ucred is plain old data; getsockopt writes at most `len` bytes into it.
    let mut cred: libc::ucred = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(cred)
}

/// The uid of the process on the other side.
pub fn peer_uid(stream: &UnixStream) -> io::Result<u32> {
    peer_cred(stream).map(|c| c.uid)
}

/// The pid of the process on the other side (sshd's, for a socket `ssh -R` forwards).
pub fn peer_pid(stream: &UnixStream) -> io::Result<i32> {
    peer_cred(stream).map(|c| c.pid)
}

/// Refuses a peer that is not this user.
pub fn check_peer(stream: &UnixStream) -> io::Result<()> {
    let uid = peer_uid(stream)?;
    if uid != my_uid() {
        return Err(refused(format!(
            "the process on the other side of the socket runs as another user (uid {uid}), \
             not as you (uid {})",
            my_uid()
        )));
    }
    Ok(())
}

/// Connects to the socket at `path` after checking its folder, then checks who answers.
pub fn connect(path: &Path) -> io::Result<UnixStream> {
    if let Some(dir) = path.parent() {
        check_dir(dir)?;
    }
    connect_named(path)
}

/// Connects to a socket the person named (OAUTH_DESK_AGENT: one `ssh -R` forwards, wherever
/// they put it), and checks who answers: this user's process (sshd's session runs as them).
pub fn connect_named(path: &Path) -> io::Result<UnixStream> {
    let stream = UnixStream::connect(path)?;
    check_peer(&stream)?;
    Ok(stream)
}

/// Reads one line of at most `limit` bytes (its newline included). A longer one is an error,
/// so a peer cannot make us hold more than that; the end of the stream ends the line too.
pub fn read_line(stream: impl Read, limit: usize) -> io::Result<String> {
    let mut line = Vec::new();
    BufReader::new(stream.take(limit as u64 + 1)).read_until(b'\n', &mut line)?;
    if line.len() > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a line longer than {limit} bytes"),
        ));
    }
    String::from_utf8(line).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("oauth-desk-private-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir(&d).unwrap();
        d
    }

    #[test]
    fn a_folder_others_can_open_or_a_link_is_refused_and_ours_is_made_0700() {
        let d = scratch("dirs");
        let ours = d.join("ours");
        make_dir(&ours).unwrap();
        let mode = std::fs::metadata(&ours).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "a new folder is private");

        let open = d.join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = make_dir(&open).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        assert!(e.to_string().contains("0777"), "{e}");

        let link = d.join("link");
        std::os::unix::fs::symlink(&ours, &link).unwrap();
        let e = make_dir(&link).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(
            check_dir(&link).is_err(),
            "a link to our own folder is refused too"
        );
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn lines_are_read_up_to_their_limit() {
        assert_eq!(read_line(&b"show\nmore"[..], 5).unwrap(), "show\n");
        assert_eq!(read_line(&b"end"[..], 5).unwrap(), "end");
        let e = read_line(&b"toolong\n"[..], 5).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        // An endless peer: the reader stops after the limit.
        assert!(read_line(io::repeat(b'a'), 1 << 16).is_err());
    }

    #[test]
    fn our_own_peer_is_accepted() {
        let (a, b) = UnixStream::pair().unwrap();
        check_peer(&a).unwrap();
        assert_eq!(peer_uid(&b).unwrap(), my_uid());
    }
}
