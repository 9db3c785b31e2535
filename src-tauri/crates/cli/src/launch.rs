//! `oauth-desk` with no command: replace this process with the window, the `oauth-desk-app`
//! binary installed beside this one.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;

use oauth_desk_core::{Error, Result};

use crate::args::Global;

pub const GUI_BINARY: &str = "oauth-desk-app";

fn gui_path() -> Result<PathBuf> {
    let me = std::env::current_exe()
        .map_err(|e| Error::Storage(format!("cannot locate this program: {e}")))?;
    let gui = me.with_file_name(GUI_BINARY);
    if gui.is_file() {
        Ok(gui)
    } else {
        Err(Error::NotFound(format!(
            "the OAuth Desk window ({}) is not installed beside this command; \
             run `make run` from the source tree, or install the .deb",
            gui.display()
        )))
    }
}

pub fn start_gui(global: &Global) -> Result<()> {
    let gui = gui_path()?;
    let mut cmd = std::process::Command::new(&gui);
    // The window asks for a passphrase itself; what a script set here is not for it.
    oauth_desk_core::child_env::scrub(&mut cmd);
    if let Some(vault) = &global.vault {
        cmd.env("OAUTH_DESK_VAULT", vault);
    }
    // exec only returns on failure.
    let e = cmd.exec();
    Err(Error::Storage(format!(
        "cannot start {}: {e}",
        gui.display()
    )))
}
