//! The environment of the programs OAuth Desk starts (the browser, the window): ours, less the
//! passphrases and passwords that scripts hand OAuth Desk in `OAUTH_DESK_*PASSPHRASE` and
//! `OAUTH_DESK_*PASSWORD` variables (`handover::is_secret_var`). Those are for
//! OAuth Desk alone; a browser lives on long after a sign-in, starts helpers of its own and
//! writes crash reports, and would carry them everywhere.

use std::process::Command;

use oauth_desk_agent_client::handover::is_secret_var;

/// Keeps every passphrase variable of this process out of `cmd`'s environment.
pub fn scrub(cmd: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        if is_secret_var(&name) {
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
        if is_secret_var(&name) {
            std::env::remove_var(name);
        }
    }
}
