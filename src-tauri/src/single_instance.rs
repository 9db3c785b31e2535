//! One window per vault: a second launch asks the running one to come to the front, then
//! leaves. The running instance listens on a Unix socket in the user's runtime directory
//! (a private 0700 folder, refused unless it is this user's own: see the token agent), named
//! after the vault path, so that two different vaults can still be open side by side. Each end
//! refuses a peer of another user: a socket planted by somebody else cannot keep the window
//! from opening, nor bring it to the front.
//!
//! Not tauri-plugin-single-instance: on Linux it needs a D-Bus session bus, which a desktop
//! has but a bare X session or a CI display does not, and it is per app, not per vault.

use std::io::Write;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::Duration;

use oauth_desk_core::agent::private;

const ASK: &[u8] = b"show\n";
/// The longest line either end reads: the ask and the answer are a word each.
const LINE_LIMIT: usize = 64;

pub enum Instance {
    /// This is the first: it keeps the listener and answers later launches.
    First(UnixListener),
    /// Another instance has this vault open and was asked to show itself.
    Running,
}

/// Claims the vault's socket, or hands over to the instance that holds it. Any failure to set
/// up the socket only costs the single-instance behaviour: the app still starts.
pub fn claim(vault: &Path) -> Option<Instance> {
    claim_at(&oauth_desk_core::agent::socket_path(vault, "sock"))
}

fn claim_at(path: &Path) -> Option<Instance> {
    if ask_running(path) {
        return Some(Instance::Running);
    }
    match oauth_desk_core::agent::bind_private(path) {
        Ok(Some(l)) => Some(Instance::First(l)),
        // Lost a race with another launch: it is the first, so show it.
        Ok(None) if ask_running(path) => Some(Instance::Running),
        Ok(None) => None,
        Err(e) => {
            eprintln!("oauth-desk: a second launch will open a second window: {e}");
            None
        }
    }
}

fn ask_running(path: &Path) -> bool {
    let Ok(mut s) = private::connect(path) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
    if s.write_all(ASK).is_err() {
        return false;
    }
    private::read_line(&s, LINE_LIMIT).is_ok_and(|answer| answer == "ok\n")
}

/// Answers later launches: each one asking is a reason to `show` the window.
pub fn serve(listener: UnixListener, show: impl Fn() + Send + 'static) {
    let spawned = std::thread::Builder::new()
        .name("single-instance".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                if private::check_peer(&stream).is_err() {
                    continue;
                }
                let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
                let asked = private::read_line(&stream, LINE_LIMIT);
                if asked.is_ok_and(|line| line.as_bytes() == ASK) {
                    show();
                    let _ = (&stream).write_all(b"ok\n");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("a second launch cannot bring this window up: {e}");
    }
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

    #[test]
    fn a_socket_folder_others_can_enter_is_refused_and_left_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile_dir().join("planted");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let sock = dir.join("x.sock");
        assert!(claim_at(&sock).is_none(), "a 0777 folder is not used");
        assert!(!sock.exists(), "nothing is bound in it");
        // Another user's folder (needs root to make one; the tests run as root here).
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        if std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).is_ok() {
            assert!(
                claim_at(&sock).is_none(),
                "a folder of uid 65534 is not used"
            );
            assert!(!sock.exists(), "nothing is bound in it");
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("oauth-desk-si-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
