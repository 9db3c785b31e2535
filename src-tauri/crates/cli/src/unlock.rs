//! Opening the vault for a command: the path from --vault, OAUTH_DESK_VAULT or the default;
//! the key from the OS keyring, or a passphrase from OAUTH_DESK_PASSPHRASE or standard input.

use std::io::BufRead;
use std::path::PathBuf;

use oauth_desk_core::vault::{self, Create, OsKeyring, Unlock, Vault};
use oauth_desk_core::{Error, Result, Secret};
use zeroize::Zeroize;

use crate::args::Global;

pub fn vault_path(global: &Global) -> Result<PathBuf> {
    match &global.vault {
        Some(p) if p.as_os_str().is_empty() => {
            Err(Error::InvalidInput("--vault needs a path".into()))
        }
        Some(p) => Ok(p.clone()),
        None => vault::default_path(),
    }
}

pub fn unlock(global: &Global) -> Result<Unlock> {
    if global.passphrase_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| {
            Error::InvalidInput(format!(
                "cannot read the passphrase from standard input: {e}"
            ))
        })?;
        let pass = line.trim_end_matches(['\n', '\r']).to_owned();
        line.zeroize();
        return passphrase(pass, "standard input");
    }
    match crate::ask::handed("OAUTH_DESK_PASSPHRASE") {
        Some(p) => passphrase(p, "OAUTH_DESK_PASSPHRASE"),
        None => Ok(Unlock::Keyring),
    }
}

fn passphrase(p: String, from: &str) -> Result<Unlock> {
    if p.is_empty() {
        return Err(Error::InvalidInput(format!(
            "the passphrase from {from} is empty"
        )));
    }
    Ok(Unlock::Passphrase(Secret::new(p)))
}

/// Opens the vault and makes its network settings (the proxy) those of this process.
pub fn open(global: &Global, create: Create) -> Result<Vault> {
    let vault = Vault::open(&vault_path(global)?, unlock(global)?, &OsKeyring, create)?;
    vault::settings::apply(vault.conn())?;
    Ok(vault)
}
