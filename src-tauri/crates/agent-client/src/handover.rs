//! The secrets scripts hand OAuth Desk in its environment (`OAUTH_DESK_PASSPHRASE`,
//! `OAUTH_DESK_NEW_PASSPHRASE`, `OAUTH_DESK_BACKUP_PASSPHRASE`, `OAUTH_DESK_PROXY_PASSWORD`),
//! and how they travel from the `oauth-desk` front to the full command: through a pipe the
//! full command inherits, never in its environment. The full command takes them out of its
//! own environment before anything else, so no program either of them starts can inherit them,
//! and the full command's `/proc/PID/environ` does not hold them.
//! Here, beside the agent's protocol, because the front links nothing else.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::process::Command;

/// The variable that names the inherited pipe's file descriptor.
pub const FD_VAR: &str = "OAUTH_DESK_SECRETS_FD";

/// At most this much travels through the pipe: it is written whole before the reader exists,
/// so it must fit a pipe's buffer (64 KiB on Linux).
const MAX: usize = 60 * 1024;

/// Whether an environment variable holds a secret for OAuth Desk alone: `OAUTH_DESK_` and a
/// name ending in `PASSPHRASE` or `PASSWORD`.
pub fn is_secret_var(name: &OsStr) -> bool {
    let name = name.as_bytes();
    name.starts_with(b"OAUTH_DESK_")
        && (name.ends_with(b"PASSPHRASE") || name.ends_with(b"PASSWORD"))
}

/// The front, before it execs the full command: moves this process's secret variables out of
/// `cmd`'s environment into a pipe whose read end `cmd` inherits. With none, nothing changes;
/// if they cannot travel that way (a pipe refused, more than fits), they stay in the
/// environment rather than be lost.
pub fn send(cmd: &mut Command) {
    // Only a pipe made here is named to the child: never one a stray variable names.
    cmd.env_remove(FD_VAR);
    let vars: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(k, _)| is_secret_var(k))
        .collect();
    if vars.is_empty() {
        return;
    }
    let mut data = Vec::new();
    for (k, v) in &vars {
        // Neither a name nor a value of the environment can hold a NUL.
        data.extend_from_slice(k.as_bytes());
        data.push(0);
        data.extend_from_slice(v.as_bytes());
        data.push(0);
    }
    if data.len() > MAX {
        return;
    }
    let mut fds = [0; 2];
    // Without O_CLOEXEC: the read end is for the program exec'd next.
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return;
    }
    // SAFETY: pipe(2) just opened both descriptors, and nothing else owns them.
    let (read, mut write) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
    // Non-blocking: a pipe may hold less than `MAX` (a user over the pipe quota gets 4 KiB),
    // and nobody reads it yet. A write that would block leaves the variables where they were.
    if !set_nonblocking(fds[1]) || write.write_all(&data).is_err() {
        return; // both ends close on drop
    }
    drop(write);
    for (k, _) in &vars {
        cmd.env_remove(k);
    }
    cmd.env(FD_VAR, fds[0].to_string());
    // The read end stays open for the exec; it is the full command's to close.
    std::mem::forget(read);
}

/// The full command, first thing in `main` (before any thread): every secret the front sent
/// through the pipe or the environment holds, each removed from this process's environment.
pub fn receive() -> Vec<(String, String)> {
    let mut secrets = Vec::new();
    if let Some(fd) = std::env::var_os(FD_VAR) {
        std::env::remove_var(FD_VAR);
        if let Some(fd) = fd.to_str().and_then(|f| f.parse::<i32>().ok()) {
            secrets.extend(read_pipe(fd));
        }
    }
    for (k, v) in std::env::vars_os() {
        if is_secret_var(&k) {
            std::env::remove_var(&k);
            if let (Ok(k), Ok(v)) = (k.into_string(), v.into_string()) {
                secrets.retain(|(name, _)| *name != k);
                secrets.push((k, v));
            }
        }
    }
    secrets
}

/// The pairs in the pipe at `fd`, which is closed after. Anything but an inherited pipe (a
/// stray variable naming the terminal or a file) is left alone and yields nothing.
fn read_pipe(fd: i32) -> Vec<(String, String)> {
    if fd <= 2 {
        return Vec::new();
    }
    // SAFETY: fstat only writes into `st`.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } != 0 || st.st_mode & libc::S_IFMT != libc::S_IFIFO {
        return Vec::new();
    }
    // A hand-over was written whole and its write end closed before the exec, so reading it
    // never waits. Any other pipe (a stray variable naming make's jobserver, say) would: read
    // it without blocking, and take a wait for what it is, not ours.
    if !set_nonblocking(fd) {
        return Vec::new();
    }
    // SAFETY: the descriptor is a pipe this process inherited for this purpose; it is owned
    // and closed here.
    let pipe = unsafe { File::from_raw_fd(fd) };
    let mut data = Vec::new();
    if pipe.take(MAX as u64).read_to_end(&mut data).is_err() {
        return Vec::new();
    }
    let mut parts = data.split(|&b| b == 0);
    let mut pairs = Vec::new();
    while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
        let k = OsString::from_vec(k.to_vec());
        if !is_secret_var(&k) {
            continue;
        }
        if let (Ok(k), Ok(v)) = (k.into_string(), String::from_utf8(v.to_vec())) {
            pairs.push((k, v));
        }
    }
    pairs
}

fn set_nonblocking(fd: i32) -> bool {
    // SAFETY: fcntl on a descriptor this process owns, with an integer argument.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_oauth_desk_secrets_are_secret_variables() {
        for name in [
            "OAUTH_DESK_PASSPHRASE",
            "OAUTH_DESK_NEW_PASSPHRASE",
            "OAUTH_DESK_BACKUP_PASSPHRASE",
            "OAUTH_DESK_PROXY_PASSWORD",
        ] {
            assert!(is_secret_var(OsStr::new(name)), "{name}");
        }
        for name in [
            "OAUTH_DESK_VAULT",
            "PASSPHRASE",
            "MY_PASSPHRASE",
            "OAUTH_DESK_LOG",
            FD_VAR,
        ] {
            assert!(!is_secret_var(OsStr::new(name)), "{name}");
        }
    }

    #[test]
    fn a_descriptor_that_is_not_a_pipe_yields_nothing() {
        let file = tempfile_in_tmp();
        use std::os::fd::AsRawFd;
        assert!(read_pipe(file.as_raw_fd()).is_empty(), "a plain file");
        assert!(read_pipe(0).is_empty(), "standard input");
    }

    #[test]
    fn a_pipe_still_open_for_writing_is_not_waited_for() {
        let mut fds = [0; 2];
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: both descriptors were just opened by pipe(2).
        let mut write = unsafe { File::from_raw_fd(fds[1]) };
        write.write_all(b"OAUTH_DESK_PASSPHRASE\0half").unwrap();
        // The write end stays open, as a jobserver's does: a blocking read would never end.
        assert!(read_pipe(fds[0]).is_empty(), "refused, not waited on");
        drop(write);
    }

    #[test]
    fn a_hand_over_travels_whole() {
        let mut fds = [0; 2];
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        {
            // SAFETY: just opened by pipe(2); closed at the end of this block, as `send` does.
            let mut write = unsafe { File::from_raw_fd(fds[1]) };
            write
                .write_all(b"OAUTH_DESK_PASSPHRASE\0pass word\0NOT_OURS\0x\0")
                .unwrap();
        }
        assert_eq!(
            read_pipe(fds[0]),
            [("OAUTH_DESK_PASSPHRASE".to_owned(), "pass word".to_owned())],
            "only OAuth Desk's secret variables are taken"
        );
    }

    fn tempfile_in_tmp() -> File {
        let path = std::env::temp_dir().join(format!("handover-{}", std::process::id()));
        let mut f = File::create(&path).unwrap();
        f.write_all(b"OAUTH_DESK_PASSPHRASE\0planted\0").unwrap();
        let f = File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        f
    }
}
