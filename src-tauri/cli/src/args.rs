//! The command line, as clap reads it. Secrets never come through argv: passphrases come from
//! the environment or standard input.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "oauth-desk",
    version,
    about = "Manage OAuth 2.0 clients and their tokens; with no command, open the OAuth Desk window",
    after_help = "Exit codes: 0 ok, 1 error, 2 usage, 3 needs sign-in."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,

    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Errors go out as JSON when the command was asked for JSON.
    pub fn json_errors(&self) -> bool {
        match &self.command {
            Some(Command::Vault(VaultCmd::Status { json })) => *json,
            _ => false,
        }
    }
}

#[derive(Debug, Args)]
pub struct Global {
    /// The vault file [default: $XDG_DATA_HOME/oauth-desk/vault.db]
    #[arg(long, global = true, env = "OAUTH_DESK_VAULT", value_name = "PATH")]
    pub vault: Option<PathBuf>,

    /// Read the vault's passphrase from the first line of standard input (or set
    /// OAUTH_DESK_PASSPHRASE); used where no OS keyring is available
    #[arg(long, global = true)]
    pub passphrase_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The encrypted vault: where it is, how it is unlocked, what it holds
    #[command(subcommand)]
    Vault(VaultCmd),
}

#[derive(Debug, Subcommand)]
pub enum VaultCmd {
    /// Show the vault's path, key mode, schema version and counts
    Status {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Create the vault (its key goes to the OS keyring, or comes from a passphrase)
    Init,
    /// Read every page and verify the vault's structure and encryption
    Check,
}
