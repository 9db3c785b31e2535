//! `oauth-desk vault status | init | check | passphrase | use-keyring | rotate-key | backup |
//! restore | remove-before-restore`.

use std::path::Path;

use oauth_desk_core::vault::backup::Backup;
use oauth_desk_core::vault::{self, Create, KeyMode, OsKeyring, Unlock, Vault, VaultFile};
use oauth_desk_core::{Error, Result};

use crate::args::{Global, VaultCmd};
use crate::output::printable;
use crate::{ask, unlock};

pub fn run(global: &Global, cmd: VaultCmd) -> Result<()> {
    match cmd {
        VaultCmd::Status { json } => status(global, json),
        VaultCmd::Init => init(global),
        VaultCmd::Check { json } => {
            let v = unlock::open(global, Create::Never)?;
            v.check_integrity()?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "path": v.path(), "intact": true })
                );
            } else {
                println!(
                    "The vault at {} is intact.",
                    printable(&v.path().display().to_string())
                );
            }
            Ok(())
        }
        VaultCmd::Passphrase => {
            let mut v = unlock::open(global, Create::Never)?;
            let new = ask::new_secret("new passphrase", "OAUTH_DESK_NEW_PASSPHRASE")?;
            let was = v.key_mode();
            v.change_key(Unlock::Passphrase(new), &OsKeyring)?;
            println!(
                "{} The vault at {} now opens with the new passphrase only.",
                if was == KeyMode::Keyring {
                    "Moved the key out of the OS keyring."
                } else {
                    "Changed the passphrase."
                },
                shown(v.path())
            );
            Ok(())
        }
        VaultCmd::UseKeyring => {
            let mut v = unlock::open(global, Create::Never)?;
            v.change_key(Unlock::Keyring, &OsKeyring)?;
            println!(
                "The vault at {} now opens with a random key kept in the OS keyring.",
                shown(v.path())
            );
            Ok(())
        }
        VaultCmd::RotateKey => {
            let how = unlock::unlock(global)?;
            let again = match &how {
                Unlock::Keyring => Unlock::Keyring,
                Unlock::Passphrase(p) => Unlock::Passphrase(p.clone()),
            };
            let mut v = Vault::open(&unlock::vault_path(global)?, how, &OsKeyring, Create::Never)?;
            v.change_key(again, &OsKeyring)?;
            println!(
                "The vault at {} is re-encrypted under a fresh key ({} mode).",
                shown(v.path()),
                v.key_mode().as_str()
            );
            Ok(())
        }
        VaultCmd::Backup { file } => {
            let v = unlock::open(global, Create::Never)?;
            let pass = ask::new_secret("backup passphrase", "OAUTH_DESK_BACKUP_PASSPHRASE")?;
            let c = v.backup_to(&file, &pass)?;
            println!(
                "Wrote {} ({}, {}), encrypted under the backup passphrase.",
                shown(&file),
                count(c.providers.len(), "provider"),
                count(c.accounts.len(), "token")
            );
            Ok(())
        }
        VaultCmd::Restore { file, yes } => restore(global, &file, yes),
        VaultCmd::RemoveBeforeRestore => {
            let path = unlock::vault_path(global)?;
            match vault::rekey::remove_before_restore(&path)? {
                Some(kept) => println!("Removed {}.", shown(&kept)),
                None => println!(
                    "There is no copy of a replaced vault beside {}.",
                    shown(&path)
                ),
            }
            Ok(())
        }
    }
}

fn count(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn shown(p: &Path) -> String {
    printable(&p.display().to_string())
}

fn restore(global: &Global, file: &Path, yes: bool) -> Result<()> {
    let mut v = unlock::open(global, Create::IfMissing)?;
    let pass = ask::known_secret("backup passphrase", "OAUTH_DESK_BACKUP_PASSPHRASE")?;
    let backup = Backup::open(file, &pass)?;
    let c = &backup.contents;
    println!(
        "{} holds {} and {}:",
        shown(file),
        count(c.providers.len(), "provider"),
        count(c.accounts.len(), "token")
    );
    for name in &c.providers {
        let accounts: Vec<String> = c
            .accounts
            .iter()
            .filter(|(p, _)| p == name)
            .map(|(_, a)| printable(a))
            .collect();
        if accounts.is_empty() {
            println!("  {}", printable(name));
        } else {
            println!("  {}: {}", printable(name), accounts.join(", "));
        }
    }
    let now = v.status()?;
    if now.providers + now.tokens > 0 && !yes {
        let held = format!(
            "{}, {}",
            count(now.providers as usize, "provider"),
            count(now.tokens as usize, "token")
        );
        let question = format!(
            "Replace the vault at {} ({held}) with this backup?",
            shown(v.path())
        );
        let hint = format!(
            "restoring replaces the vault at {} ({held}); pass --yes to confirm in a script. \
             Nothing was changed",
            shown(v.path())
        );
        if !ask::confirm(&question, &hint)? {
            return Err(Error::Cancelled("Nothing was changed.".into()));
        }
    }
    match v.restore_from(&backup)? {
        Some(kept) => println!(
            "Restored. The vault it replaced is kept at {} (it opens with the same key); \
             `oauth-desk vault remove-before-restore` removes it.",
            shown(&kept)
        ),
        None => println!("Restored."),
    }
    Ok(())
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
    // Where the window's or `serve`'s token agent listens for this vault (to forward it with
    // `ssh -R`); it answers only while one of them runs, and only for a keyring vault.
    let agent = oauth_desk_core::agent::socket_path(&path, "agent");
    if json {
        let mut value = serde_json::to_value(&s).map_err(|e| Error::Storage(e.to_string()))?;
        value["exists"] = true.into();
        value["agent_socket"] = agent.display().to_string().into();
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
    println!("Agent      {}", printable(&agent.display().to_string()));
    if let Some(kept) = &s.before_restore {
        println!(
            "Replaced   {} (the vault a restore replaced; `oauth-desk vault \
             remove-before-restore` removes it)",
            shown(kept)
        );
    }
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
