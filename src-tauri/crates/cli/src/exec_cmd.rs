//! `oauth-desk exec NAME [--account A] [--env VAR] [--file PATH] -- CMD ARGS...`: runs CMD with a
//! fresh token in VAR, and for a long-running program also in a file that is replaced before
//! the token expires. The signals a terminal or a supervisor sends are passed on to CMD, and
//! CMD's exit status is this command's. The passphrase variables never reach CMD.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use oauth_desk_agent_client::handover::is_secret_var;
use oauth_desk_core::text::visible;
use oauth_desk_core::{time, Error, Result};

use crate::args::{ExecArgs, Global};
use crate::token_cmd::{obtain, Obtained};

/// A token is replaced when it has less than this left, as `token get` does.
const MIN_VALID_SECS: i64 = 60;

/// How often the file's token is looked at; without a known expiry (a running agent answers
/// with the token alone) it is asked for again this often too.
const TICK: Duration = Duration::from_secs(1);
const UNKNOWN_EXPIRY_RENEW_SECS: i64 = 30;

/// The child that the forwarded signals go to (0: none yet).
static CHILD: AtomicI32 = AtomicI32::new(0);

/// The signals passed on to CMD.
const FORWARDED: [libc::c_int; 6] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// A signal that came before CMD was started (0: none): it is passed on once CMD is.
static PENDING: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(signal: libc::c_int) {
    let child = CHILD.load(Ordering::SeqCst);
    if child > 0 {
        // SAFETY: kill is async-signal-safe, and the pid is our own child's.
        unsafe {
            libc::kill(child, signal);
        }
    } else {
        PENDING.store(signal, Ordering::SeqCst);
    }
}

pub fn run(global: &Global, args: ExecArgs) -> Result<()> {
    let var_ok = args
        .var
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && args
            .var
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !var_ok || is_secret_var(std::ffi::OsStr::new(&args.var)) {
        return Err(Error::field(
            "env",
            format!(
                "must be a variable name such as OAUTH_TOKEN, not {}",
                visible(&args.var)
            ),
        ));
    }
    if args.file.is_some() && global.passphrase_stdin {
        // Renewing the file opens the vault again, and standard input is the program's by then.
        return Err(Error::field(
            "file",
            "cannot go with --passphrase-stdin: the file is renewed while the program runs, \
             so give the passphrase in OAUTH_DESK_PASSPHRASE or use the keyring",
        ));
    }
    let file = args.file.as_deref().map(in_runtime_dir).transpose()?;
    let first = obtain(global, &args.name, args.account.as_deref(), MIN_VALID_SECS)?;
    if let Some(path) = &file {
        write_token(path, &first)?;
    }
    let (program, rest) = args
        .command
        .split_first()
        .expect("clap requires the command");
    let mut cmd = Command::new(program);
    cmd.args(rest).env(&args.var, first.token.expose());
    oauth_desk_core::child_env::scrub(&mut cmd);
    // Installed before CMD starts: a signal sent as soon as CMD is seen running must reach it,
    // not end this process and leave CMD behind.
    for signal in FORWARDED {
        // SAFETY: `forward` only reads and writes atomics and calls kill.
        unsafe {
            libc::signal(signal, forward as *const () as libc::sighandler_t);
        }
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            if let Some(path) = &file {
                let _ = std::fs::remove_file(path);
            }
            return Err(Error::InvalidInput(format!(
                "cannot run {}: {e}",
                visible(&program.to_string_lossy())
            )));
        }
    };
    CHILD.store(child.id() as i32, Ordering::SeqCst);
    let early = PENDING.swap(0, Ordering::SeqCst);
    if early != 0 {
        // SAFETY: kill with our own child's pid.
        unsafe {
            libc::kill(child.id() as i32, early);
        }
    }
    let done = Arc::new(AtomicBool::new(false));
    let keeper = file.clone().map(|path| {
        let (global, name, account, done) = (
            global.clone(),
            args.name.clone(),
            args.account.clone(),
            done.clone(),
        );
        std::thread::spawn(move || {
            keep_fresh(&global, &name, account.as_deref(), &path, first, &done)
        })
    });
    let status = child
        .wait()
        .map_err(|e| Error::io("waiting for the program", e));
    done.store(true, Ordering::SeqCst);
    if let Some(k) = keeper {
        let _ = k.join();
    }
    if let Some(path) = &file {
        let _ = std::fs::remove_file(path);
    }
    let status = status?;
    // The program's status is ours: its code, or 128 + the signal that ended it, as a shell says.
    let code = status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1);
    std::process::exit(code);
}

/// A relative path is in $XDG_RUNTIME_DIR, a folder only this user can enter.
fn in_runtime_dir(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_owned());
    }
    let dir = std::env::var_os("XDG_RUNTIME_DIR").ok_or_else(|| {
        Error::field(
            "file",
            "is relative, and XDG_RUNTIME_DIR is not set: give an absolute path",
        )
    })?;
    Ok(PathBuf::from(dir).join(path))
}

/// Writes the token to `path` whole or not at all, readable by its owner only.
fn write_token(path: &Path, got: &Obtained) -> Result<()> {
    oauth_desk_core::local_file::write_private(
        path,
        got.token.expose().as_bytes(),
        "the token file",
    )
}

/// Replaces the file's token before it expires, until `done`. A failure is said once and
/// tried again at the next tick: the program keeps the token it has until then.
fn keep_fresh(
    global: &Global,
    name: &str,
    account: Option<&str>,
    path: &Path,
    mut current: Obtained,
    done: &AtomicBool,
) {
    let mut renewed_at = time::now();
    let mut said = false;
    while !done.load(Ordering::SeqCst) {
        std::thread::sleep(TICK);
        let now = time::now();
        let due = match current.expires_at {
            Some(at) => at - now < MIN_VALID_SECS,
            None => now - renewed_at >= UNKNOWN_EXPIRY_RENEW_SECS,
        };
        if !due || done.load(Ordering::SeqCst) {
            continue;
        }
        match obtain(global, name, account, MIN_VALID_SECS).and_then(|got| {
            write_token(path, &got)?;
            Ok(got)
        }) {
            Ok(got) => {
                current = got;
                renewed_at = now;
                said = false;
            }
            Err(e) if !said => {
                eprintln!(
                    "oauth-desk exec: the token file was not renewed: {}",
                    crate::output::printable(&e.to_string())
                );
                said = true;
            }
            Err(_) => {}
        }
    }
}
