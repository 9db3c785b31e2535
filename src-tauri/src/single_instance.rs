//! One window per vault: a second launch asks the running one to come to the front, then
//! leaves. The running instance listens on a Unix socket in the user's runtime directory
//! (a private 0700 folder), named after the vault path, so that two different vaults can
//! still be open side by side.
//!
//! Not tauri-plugin-single-instance: on Linux it needs a D-Bus session bus, which a desktop
//! has but a bare X session or a CI display does not, and it is per app, not per vault.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::Duration;

const ASK: &[u8] = b"show\n";

pub enum Instance {
    /// This is the first: it keeps the listener and answers later launches.
    First(UnixListener),
    /// Another instance has this vault open and was asked to show itself.
    Running,
}

/// Claims the vault's socket, or hands over to the instance that holds it. Any failure to set
/// up the socket only costs the single-instance behaviour: the app still starts.
pub fn claim(vault: &Path) -> Option<Instance> {
    let path = oauth_desk_core::agent::socket_path(vault, "sock");
    if ask_running(&path) {
        return Some(Instance::Running);
    }
    match oauth_desk_core::agent::bind_private(&path) {
        Some(l) => Some(Instance::First(l)),
        // Lost a race with another launch: it is the first, so show it.
        None if ask_running(&path) => Some(Instance::Running),
        None => {
            tracing::warn!("no single-instance socket");
            None
        }
    }
}

fn ask_running(path: &Path) -> bool {
    let Ok(mut s) = UnixStream::connect(path) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
    if s.write_all(ASK).is_err() {
        return false;
    }
    let mut answer = String::new();
    BufReader::new(s).read_line(&mut answer).is_ok() && answer == "ok\n"
}

/// Answers later launches: each one asking is a reason to `show` the window.
pub fn serve(listener: UnixListener, show: impl Fn() + Send + 'static) {
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
            let mut line = Vec::new();
            let mut reader = BufReader::new(&stream);
            if reader.read_until(b'\n', &mut line).is_ok() && line == ASK {
                show();
                let _ = (&stream).write_all(b"ok\n");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_claim_asks_the_first_to_show_itself() {
        let dir = tempfile_dir();
        std::env::set_var("XDG_RUNTIME_DIR", &dir);
        let vault = Path::new("/some/vault.db");
        let Some(Instance::First(listener)) = claim(vault) else {
            panic!("the first claim owns the socket");
        };
        let (tx, rx) = std::sync::mpsc::channel();
        serve(listener, move || tx.send(()).unwrap());
        assert!(matches!(claim(vault), Some(Instance::Running)));
        rx.recv_timeout(Duration::from_secs(3))
            .expect("the first instance was asked to show its window");
        assert!(
            matches!(
                claim(Path::new("/another/vault.db")),
                Some(Instance::First(_))
            ),
            "another vault gets its own window"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("oauth-desk-si-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
