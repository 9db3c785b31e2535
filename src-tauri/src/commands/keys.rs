//! The vault's key and its backups: switch between keyring and passphrase, change the
//! passphrase, rotate the key, write an encrypted backup, look into one and restore it, and
//! remove the copy of the vault a restore replaced.

use std::path::PathBuf;

use oauth_desk_core::vault::backup::{Backup, BackupContents};
use oauth_desk_core::vault::{OsKeyring, Unlock, VaultStatus};
use oauth_desk_core::{Error, Secret};
use tauri::{AppHandle, Emitter, Runtime, State};

use crate::error::CommandResult;
use crate::state::AppState;

/// `mode`: "keyring" (a fresh key in the OS keyring: a switch, or a rotation) or "passphrase"
/// (the passphrase given: a switch, a new passphrase, or the same one with a new salt).
#[tauri::command]
pub async fn change_vault_key(
    state: State<'_, AppState>,
    mode: String,
    passphrase: Option<String>,
) -> CommandResult<VaultStatus> {
    let to = match (mode.as_str(), passphrase) {
        ("keyring", _) => Unlock::Keyring,
        ("passphrase", Some(p)) if !p.is_empty() => Unlock::Passphrase(Secret::new(p)),
        ("passphrase", _) => {
            return Err(Error::field("passphrase", "type the new passphrase").into())
        }
        _ => return Err(Error::InvalidInput("mode must be keyring or passphrase".into()).into()),
    };
    let changed = state
        .with_vault_mut(move |v| {
            v.change_key(to, &OsKeyring)?;
            v.status()
        })
        .await;
    // A keyring vault that now opens with a passphrase locks when idle from now on, even where
    // the change failed after its new key took (its record in Activity, say).
    state.note_use();
    state.wake_auto_lock();
    Ok(changed?)
}

/// A backup file name in the home directory, for the form to start from.
#[tauri::command]
pub fn suggest_backup_path() -> String {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let day = oauth_desk_core::time::to_rfc3339(oauth_desk_core::time::now());
    home.join(format!("oauth-desk-backup-{}.odb", &day[..10]))
        .display()
        .to_string()
}

#[tauri::command]
pub async fn backup_vault(
    state: State<'_, AppState>,
    path: String,
    passphrase: String,
) -> CommandResult<BackupContents> {
    let path = expand(&path)?;
    let pass = Secret::new(passphrase);
    Ok(state.with_vault(move |v| v.backup_to(&path, &pass)).await?)
}

/// What a backup holds, shown before the user agrees to restore it.
#[tauri::command]
pub async fn inspect_backup(path: String, passphrase: String) -> CommandResult<BackupContents> {
    let path = expand(&path)?;
    let pass = Secret::new(passphrase);
    Ok(crate::state::blocking(move || Ok(Backup::open(&path, &pass)?.contents.clone())).await?)
}

#[tauri::command]
pub async fn restore_vault<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    path: String,
    passphrase: String,
) -> CommandResult<VaultStatus> {
    let path = expand(&path)?;
    let pass = Secret::new(passphrase);
    let status = state
        .with_vault_mut(move |v| {
            let backup = Backup::open(&path, &pass)?;
            v.restore_from(&backup)?;
            v.status()
        })
        .await?;
    let _ = app.emit("tokens-changed", ());
    Ok(status)
}

/// Removes the copy of the vault a restore replaced (`<vault>.before-restore`).
#[tauri::command]
pub async fn remove_before_restore(state: State<'_, AppState>) -> CommandResult<VaultStatus> {
    Ok(state
        .with_vault(|v| {
            oauth_desk_core::vault::rekey::remove_before_restore(v.path())?;
            v.status()
        })
        .await?)
}

/// A path as typed: `~/` means the home directory; it must be absolute.
pub fn expand(text: &str) -> Result<PathBuf, Error> {
    let text = text.trim();
    let path = match text.strip_prefix("~/") {
        Some(rest) => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(rest),
        None => PathBuf::from(text),
    };
    if !path.is_absolute() {
        return Err(Error::field(
            "path",
            "give a full path, such as ~/oauth-desk-backup.odb",
        ));
    }
    Ok(path)
}
