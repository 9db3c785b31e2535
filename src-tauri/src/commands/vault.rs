//! The vault's commands: its status, unlocking with a passphrase, and the lists the views show.

use oauth_desk_core::vault::{
    activity::{self, ActivityEntry},
    tokens::{self, TokenSummary},
    Create, OsKeyring, Unlock, Vault, VaultStatus,
};
use oauth_desk_core::{Error, Secret};
use serde::Serialize;
use std::sync::atomic::Ordering;

use oauth_desk_core::vault::settings::Settings;
use tauri::{AppHandle, Runtime, State};

use crate::error::CommandResult;
use crate::state::AppState;

/// The vault as the window shows it: open (with its status), or locked and why.
#[derive(Debug, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum VaultView {
    Open {
        status: VaultStatus,
    },
    /// A passphrase is needed: to unlock an existing vault, or to protect a new one; or the
    /// vault was locked (code "locked") and `keyring` says whether it opens without one.
    Locked {
        path: String,
        exists: bool,
        code: &'static str,
        message: String,
        keyring: bool,
    },
}

/// Opens the vault through the keyring when it is not open yet, creating it on first run;
/// once locked, it stays so until the person unlocks it.
#[tauri::command]
pub async fn vault_status<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CommandResult<VaultView> {
    if state.locked.load(Ordering::SeqCst) {
        return Ok(locked_view(&state));
    }
    open_and_report(&app, &state, Unlock::Keyring).await
}

fn locked_view(state: &AppState) -> VaultView {
    VaultView::Locked {
        path: state.vault_path.display().to_string(),
        exists: true,
        code: "locked",
        message: "OAuth Desk is locked.".into(),
        keyring: state.locked_keyring.load(Ordering::SeqCst),
    }
}

/// Locks the vault: its key leaves memory; the agent and the REST API answer "locked" until
/// it is unlocked again (a keyring vault too, when locked by hand).
#[tauri::command]
pub async fn lock_vault<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CommandResult<VaultView> {
    crate::autolock::lock(&app, &state, "by_hand");
    Ok(locked_view(&state))
}

/// The view the window opens on: OAUTH_DESK_START_VIEW (providers, tokens, activity,
/// settings), or the first.
#[tauri::command]
pub fn start_view() -> Option<String> {
    std::env::var("OAUTH_DESK_START_VIEW")
        .ok()
        .filter(|v| matches!(v.as_str(), "providers" | "tokens" | "activity" | "settings"))
}

/// The person used the window: the auto-lock counts from now.
#[tauri::command]
pub fn note_activity(state: State<'_, AppState>) {
    state.note_use();
}

/// Unlocks (or creates) the vault with a passphrase the user typed.
#[tauri::command]
pub async fn unlock_vault<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    passphrase: String,
) -> CommandResult<VaultView> {
    if passphrase.is_empty() {
        // A keyring vault locked by hand opens again with its key from the keyring.
        if state.locked.load(Ordering::SeqCst) && state.locked_keyring.load(Ordering::SeqCst) {
            state.locked.store(false, Ordering::SeqCst);
            return open_and_report(&app, &state, Unlock::Keyring).await;
        }
        return Err(Error::InvalidInput("Type the vault's passphrase.".into()).into());
    }
    state.locked.store(false, Ordering::SeqCst);
    open_and_report(&app, &state, Unlock::Passphrase(Secret::new(passphrase))).await
}

/// What opening the vault came to: the view, and the Settings of a vault opened just now
/// (what starts with it: the agent, the REST API when Settings keep it on, the auto-lock).
struct Opened {
    view: VaultView,
    now: Option<Settings>,
}

async fn open_and_report<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    unlock: Unlock,
) -> CommandResult<VaultView> {
    // Counted from now, not from before a lock: the auto-lock may look as soon as the vault is
    // in its slot, before the touch below.
    state.touch();
    let path = state.vault_path.clone();
    let slot = state.vault.clone();
    let opened = tauri::async_runtime::spawn_blocking(move || -> Result<Opened, Error> {
        let mut guard = slot.lock();
        let mut now = None;
        if guard.is_none() {
            match Vault::open(&path, unlock, &OsKeyring, Create::IfMissing) {
                Ok(v) => {
                    now = Some(oauth_desk_core::vault::settings::get(v.conn())?);
                    oauth_desk_core::vault::settings::apply(v.conn())?;
                    *guard = Some(v);
                }
                Err(e @ (Error::PassphraseRequired { .. } | Error::KeyMissing { .. })) => {
                    let exists = !matches!(e, Error::PassphraseRequired { exists: false, .. });
                    let view = VaultView::Locked {
                        path: path.display().to_string(),
                        exists,
                        code: e.code(),
                        message: e.to_string(),
                        keyring: false,
                    };
                    return Ok(Opened { view, now: None });
                }
                Err(e) => return Err(e),
            }
        }
        let vault = guard.as_ref().expect("opened above");
        let view = VaultView::Open {
            status: vault.status()?,
        };
        Ok(Opened { view, now })
    })
    .await
    .map_err(|e| Error::Storage(format!("background task failed: {e}")))??;
    if let Some(settings) = opened.now {
        // The idle time starts now, before a new limit wakes the auto-lock to read it.
        state.touch();
        state.apply_settings(&settings);
        state.wake_auto_lock();
        crate::tray::refresh(app);
        // `oauth-desk token get` asks the window while it is open and unlocked.
        if let Err(e) = oauth_desk_core::agent::start(
            &state.vault_path,
            state.vault.clone(),
            oauth_desk_core::agent::Serves::WhileUnlocked,
            Some(crate::asking::asker(app)),
        ) {
            // `token get` still works, opening the vault itself; the reason goes where the
            // window's own messages go.
            eprintln!("oauth-desk: the token agent is off: {e}");
        }
        if settings.api_enabled {
            // Settings asked for the REST API whenever the window is open.
            if let Err(e) = crate::commands::api::start(state, settings.api_port).await {
                tracing::warn!(code = e.code(), "the REST API did not start: {e}");
            }
        }
    }
    Ok(opened.view)
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
