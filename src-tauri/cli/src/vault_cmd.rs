//! `oauth-desk vault status | init | check`.

use oauth_desk_core::vault::{self, Create, KeyMode, VaultFile};
use oauth_desk_core::{Error, Result};

use crate::args::{Global, VaultCmd};
use crate::output::printable;
use crate::unlock;

pub fn run(global: &Global, cmd: VaultCmd) -> Result<()> {
    match cmd {
        VaultCmd::Status { json } => status(global, json),
        VaultCmd::Init => init(global),
        VaultCmd::Check => {
            let v = unlock::open(global, Create::Never)?;
            v.check_integrity()?;
            println!(
                "The vault at {} is intact.",
                printable(&v.path().display().to_string())
            );
            Ok(())
        }
    }
}

fn status(global: &Global, json: bool) -> Result<()> {
    let path = unlock::vault_path(global)?;
    if let VaultFile::Missing = vault::inspect(&path)? {
        if json {
            println!("{}", serde_json::json!({ "path": path, "exists": false }));
        } else {
            println!(
                "Vault      {} (not created yet: it is made on first use)",
                printable(&path.display().to_string())
            );
        }
        return Ok(());
    }
    let v = unlock::open(global, Create::Never)?;
    let s = v.status()?;
    if json {
        let mut value = serde_json::to_value(&s).map_err(|e| Error::Storage(e.to_string()))?;
        value["exists"] = true.into();
        println!("{value}");
        return Ok(());
    }
    let mode = match s.key_mode {
        KeyMode::Keyring => "OS keyring (a random 256-bit key in the Secret Service)",
        KeyMode::Passphrase => "passphrase (Argon2id)",
    };
    println!("Vault      {}", printable(&s.path.display().to_string()));
    println!("Key        {mode}");
    println!("Schema     {}", s.schema_version);
    println!("SQLCipher  {}", s.sqlcipher_version);
    println!("Providers  {}", s.providers);
    println!("Tokens     {}", s.tokens);
    println!("Activity   {}", s.activity);
    Ok(())
}

fn init(global: &Global) -> Result<()> {
    let path = unlock::vault_path(global)?;
    if let VaultFile::Present { .. } = vault::inspect(&path)? {
        return Err(Error::InvalidInput(format!(
            "a vault already exists at {}; nothing was changed",
            printable(&path.display().to_string())
        )));
    }
    let v = unlock::open(global, Create::IfMissing)?;
    println!(
        "Created the vault at {} ({} mode).",
        printable(&v.path().display().to_string()),
        v.key_mode().as_str()
    );
    Ok(())
}
