//! `oauth-desk`, the command scripts call, and `docker-credential-oauth-desk`, the same small
//! program under the name docker's credential protocol wants. `oauth-desk token get NAME` is
//! called in loops and prompts, so it must cost what `oidc-token` costs: when a window or
//! `oauth-desk serve` has the vault open, this small program (the standard library and the
//! agent's line protocol, nothing else) asks that token agent and prints the token. Everything
//! else, and every case it is not sure of, it hands to the full command, `oauth-desk-cli`
//! beside it, by exec: same arguments, same output, same exit code.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::ExitCode;

use oauth_desk_agent_client::{ask, Answer};

/// The full command's name, installed beside this one.
const FULL: &str = "oauth-desk-cli";

/// Runs the command with `prefix` before its own arguments (`docker-credential-oauth-desk
/// get` is `oauth-desk docker-credential get`).
pub fn run(prefix: &[&str]) -> ExitCode {
    let args: Vec<OsString> = prefix
        .iter()
        .map(OsString::from)
        .chain(std::env::args_os().skip(1))
        .collect();
    match fast_token_get(&args) {
        Some(Answer::Token(token)) => {
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{token}").and_then(|_| out.flush()).is_ok() {
                return ExitCode::SUCCESS;
            }
            return ExitCode::from(1);
        }
        // The person said no, or nobody answered, or the vault is locked: asking again through
        // the full command would put the question a second time.
        Some(Answer::Refused { message, .. }) => {
            let message: String = message
                .chars()
                .filter(|c| !invisible(*c))
                .take(500)
                .collect();
            eprintln!("oauth-desk: {message}");
            return ExitCode::from(1);
        }
        None => {}
    }
    let full = match std::env::current_exe() {
        Ok(me) => me.with_file_name(FULL),
        Err(_) => PathBuf::from(FULL),
    };
    // The passphrases go over in a pipe, not the environment: then no program the full
    // command starts can inherit them, and its /proc/PID/environ does not hold them.
    let mut cmd = std::process::Command::new(&full);
    cmd.arg0("oauth-desk").args(&args);
    oauth_desk_agent_client::handover::send(&mut cmd);
    let err = cmd.exec();
    let said = format!(
        "oauth-desk: cannot run {} ({err}); reinstall OAuth Desk",
        full.display()
    );
    // docker shows a helper's standard output, not its standard error.
    if prefix.first() == Some(&"docker-credential") {
        println!("{said}");
    } else {
        eprintln!("{said}");
    }
    ExitCode::from(1)
}

/// `token get NAME [--account LABEL] [--min-valid SECONDS] [--vault PATH]`, answered by the
/// agent: a token, or a refusal that is final (denied, not answered, locked). None for
/// anything else: another command, another flag, no agent, or another error (which the full
/// command then reports in its own words).
fn fast_token_get(args: &[OsString]) -> Option<Answer> {
    let args: Vec<&str> = args.iter().map(|a| a.to_str()).collect::<Option<_>>()?;
    let mut vault: Option<PathBuf> = None;
    let mut rest = args.as_slice();
    // `--vault PATH` may come before the command too.
    while let ["--vault", value, tail @ ..] = rest {
        vault = Some(PathBuf::from(value));
        rest = tail;
    }
    let [first, second, name, tail @ ..] = rest else {
        return None;
    };
    if (*first, *second) != ("token", "get") || name.starts_with('-') {
        return None;
    }
    let (mut account, mut min_valid, mut rest) = (None::<String>, 60i64, tail);
    while !rest.is_empty() {
        let (flag, value, tail) = match rest {
            [flag, tail @ ..] if flag.contains('=') => {
                let (f, v) = flag.split_once('=')?;
                (f, v, tail)
            }
            [flag, value, tail @ ..] => (*flag, *value, tail),
            _ => return None,
        };
        match flag {
            "--vault" => vault = Some(PathBuf::from(value)),
            "--account" => account = Some(value.to_owned()),
            // Digits only: anything else is the full command's to refuse.
            "--min-valid" => min_valid = value.parse::<u32>().ok()?.into(),
            _ => return None,
        }
        rest = tail;
    }
    let vault = match (vault, std::env::var_os("OAUTH_DESK_VAULT")) {
        (Some(v), _) => v,
        // Set but empty is an error the full command words.
        (None, Some(v)) if v.is_empty() => return None,
        (None, Some(v)) => PathBuf::from(v),
        (None, None) => default_vault()?,
    };
    if vault.as_os_str().is_empty() {
        return None;
    }
    // A caller with the passphrase: the full command opens the vault itself, asking nobody.
    if std::env::var_os("OAUTH_DESK_PASSPHRASE").is_some_and(|p| !p.is_empty())
        && oauth_desk_agent_client::named_agent().is_none()
    {
        return None;
    }
    match ask(&vault, name, account.as_deref(), min_valid)? {
        Answer::Token(t) if !t.is_empty() && !t.contains(['\n', '\r']) => Some(Answer::Token(t)),
        refused @ Answer::Refused { .. } if final_refusal(&refused) => Some(refused),
        _ => None,
    }
}

/// A character that changes how text reads without being seen: controls, bidi overrides,
/// zero-width ones (the core's `text::visible` writes them out; this small program drops them).
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{00ad}' | '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// A refusal the full command could only repeat: asking the agent again would ask the person
/// again, or find it locked again.
fn final_refusal(answer: &Answer) -> bool {
    matches!(answer, Answer::Refused { code, .. } if matches!(code.as_str(), "denied" | "not_answered" | "locked"))
}

/// `$XDG_DATA_HOME/oauth-desk/vault.db`, or under `~/.local/share`: where the full command's
/// `directories::ProjectDirs` puts it on Linux.
fn default_vault() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".local/share"))
        })?;
    Some(data.join("oauth-desk").join("vault.db"))
}
