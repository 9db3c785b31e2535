//! The binaries under test, as `cargo build --workspace` left them beside this test's own
//! executable (`<target>/debug`). `make test` builds them before running the tests.

use std::path::PathBuf;
use std::process::Command;

/// `<target>/debug` (or whatever profile the tests were built with).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    // <target>/<profile>/deps/<test binary>
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("tests run from <target>/<profile>/deps")
        .to_owned()
}

pub fn target_dir() -> PathBuf {
    profile_dir()
        .parent()
        .expect("the profile directory sits in the target directory")
        .to_owned()
}

fn binary(name: &str) -> PathBuf {
    let path = profile_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing: build the workspace first (`cargo build --workspace`, which `make test` does)",
        path.display()
    );
    path
}

/// The full command the `oauth-desk` front hands over to.
pub fn full_cli_path() -> PathBuf {
    binary("oauth-desk-cli")
}

/// The `oauth-desk` command.
pub fn cli_path() -> PathBuf {
    binary("oauth-desk")
}

/// The window's binary.
pub fn gui_path() -> PathBuf {
    binary("oauth-desk-app")
}

/// A `Command` for the CLI with a clean environment: no inherited vault, passphrase or D-Bus
/// session, so that each test says exactly what the CLI gets.
pub fn cli() -> Command {
    let mut cmd = Command::new(cli_path());
    for var in [
        "OAUTH_DESK_VAULT",
        "OAUTH_DESK_PASSPHRASE",
        "DBUS_SESSION_BUS_ADDRESS",
        "DISPLAY",
        "WAYLAND_DISPLAY",
    ] {
        cmd.env_remove(var);
    }
    cmd
}
