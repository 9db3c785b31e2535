//! The vault's commands: its status, unlocking with a passphrase, and the lists the views show.

use oauth_desk_core::vault::{
    activity::{self, ActivityEntry},
    tokens::{self, TokenSummary},
    Create, OsKeyring, Unlock, Vault, VaultStatus,
};
use oauth_desk_core::{Error, Secret};
use serde::Serialize;
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

/// The vault as the window shows it: open (with its status), or locked and why.
#[derive(Debug, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum VaultView {
    Open {
        status: VaultStatus,
    },
    /// A passphrase is needed: to unlock an existing vault, or to protect a new one.
    Locked {
        path: String,
        exists: bool,
        code: &'static str,
        message: String,
    },
}

/// Opens the vault through the keyring when it is not open yet, creating it on first run.
#[tauri::command]
pub async fn vault_status(state: State<'_, AppState>) -> CommandResult<VaultView> {
    open_and_report(&state, Unlock::Keyring).await
}

/// Unlocks (or creates) the vault with a passphrase the user typed.
#[tauri::command]
pub async fn unlock_vault(
    state: State<'_, AppState>,
    passphrase: String,
) -> CommandResult<VaultView> {
    if passphrase.is_empty() {
        return Err(Error::InvalidInput("Type the vault's passphrase.".into()).into());
    }
    open_and_report(&state, Unlock::Passphrase(Secret::new(passphrase))).await
}

async fn open_and_report(state: &AppState, unlock: Unlock) -> CommandResult<VaultView> {
    let path = state.vault_path.clone();
    let slot = state.vault.clone();
    let view = tauri::async_runtime::spawn_blocking(
        move || -> Result<(VaultView, Option<Option<u16>>), Error> {
            let mut guard = slot.lock();
            // What opening starts once: the REST API when Settings keep it on (its port).
            let mut start_api = None;
            let mut opened_now = false;
            if guard.is_none() {
                match Vault::open(&path, unlock, &OsKeyring, Create::IfMissing) {
                    Ok(v) => {
                        let settings = oauth_desk_core::vault::settings::get(v.conn())?;
                        oauth_desk_core::vault::settings::apply(v.conn())?;
                        start_api = settings.api_enabled.then_some(settings.api_port);
                        *guard = Some(v);
                        opened_now = true;
                    }
                    Err(e @ (Error::PassphraseRequired { .. } | Error::KeyMissing { .. })) => {
                        let exists = !matches!(e, Error::PassphraseRequired { exists: false, .. });
                        return Ok((
                            VaultView::Locked {
                                path: path.display().to_string(),
                                exists,
                                code: e.code(),
                                message: e.to_string(),
                            },
                            None,
                        ));
                    }
                    Err(e) => return Err(e),
                }
            }
            let vault = guard.as_ref().expect("opened above");
            Ok((
                VaultView::Open {
                    status: vault.status()?,
                },
                opened_now.then_some(start_api),
            ))
        },
    )
    .await
    .map_err(|e| Error::Storage(format!("background task failed: {e}")))??;
    let (view, opened_now) = view;
    if let Some(start_api) = opened_now {
        // `oauth-desk token get` asks the window while it is open (keyring vaults only).
        if let Err(e) = oauth_desk_core::agent::start(&state.vault_path, state.vault.clone()) {
            // `token get` still works, opening the vault itself; the reason goes where the
            // window's own messages go.
            eprintln!("oauth-desk: the token agent is off: {e}");
        }
        if let Some(port) = start_api {
            // Settings asked for the REST API whenever the window is open.
            if let Err(e) = crate::commands::api::start(state, port).await {
                tracing::warn!(code = e.code(), "the REST API did not start: {e}");
            }
        }
    }
    Ok(view)
}

#[tauri::command]
pub async fn list_tokens(state: State<'_, AppState>) -> CommandResult<Vec<TokenSummary>> {
    Ok(state.with_vault(|v| tokens::list(v.conn())).await?)
}

#[tauri::command]
pub async fn list_activity(state: State<'_, AppState>) -> CommandResult<Vec<ActivityEntry>> {
    Ok(state
        .with_vault(|v| activity::list_recent(v.conn(), 200))
        .await?)
}
