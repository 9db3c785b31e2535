//! The environment of the programs OAuth Desk starts (the browser, the window): ours, less the
//! passphrases that scripts hand OAuth Desk in `OAUTH_DESK_*PASSPHRASE` variables. Those are for
//! OAuth Desk alone; a browser lives on long after a sign-in, starts helpers of its own and
//! writes crash reports, and would carry them everywhere.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::Command;

/// `OAUTH_DESK_PASSPHRASE`, `OAUTH_DESK_NEW_PASSPHRASE`, `OAUTH_DESK_BACKUP_PASSPHRASE`, and
/// any later one named the same way.
pub fn is_passphrase_var(name: &OsStr) -> bool {
    let name = name.as_bytes();
    name.starts_with(b"OAUTH_DESK_") && name.ends_with(b"PASSPHRASE")
}

/// Keeps every passphrase variable of this process out of `cmd`'s environment.
pub fn scrub(cmd: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        if is_passphrase_var(&name) {
            cmd.env_remove(name);
        }
    }
    cmd
}

/// Removes the passphrase variables from this process's own environment, for a program that
/// never reads them and starts children it does not spawn itself (the window: the browser is
/// opened by a plugin, WebKit starts its own processes). Call it first thing in `main`, before
/// any other thread exists.
pub fn forget_passphrases() {
    for (name, _) in std::env::vars_os() {
        if is_passphrase_var(&name) {
            std::env::remove_var(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_passphrase_variables_are_kept_out() {
        for name in [
            "OAUTH_DESK_PASSPHRASE",
            "OAUTH_DESK_NEW_PASSPHRASE",
            "OAUTH_DESK_BACKUP_PASSPHRASE",
        ] {
            assert!(is_passphrase_var(OsStr::new(name)), "{name}");
        }
        for name in [
            "OAUTH_DESK_VAULT",
            "PASSPHRASE",
            "MY_PASSPHRASE",
            "OAUTH_DESK_LOG",
        ] {
            assert!(!is_passphrase_var(OsStr::new(name)), "{name}");
        }
    }
}
