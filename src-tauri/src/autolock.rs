//! Locking the vault: by hand (the window's Lock button, the tray), and, for a passphrase
//! vault, after the idle minutes Settings give (the window's use counts, not a script's).
//! Locked, the key leaves memory; the window asks to unlock, and the agent and the REST API
//! answer "locked" until then.

use std::sync::atomic::Ordering;
use std::time::Duration;

use oauth_desk_core::vault::KeyMode;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::state::AppState;

/// The `vault-locked` event: why ("idle", "by_hand").
#[derive(Clone, Serialize)]
struct Locked {
    why: &'static str,
}

/// Locks the vault, if it is open, and tells the window and the tray.
pub fn lock<R: Runtime>(app: &AppHandle<R>, state: &AppState, why: &'static str) -> bool {
    if !state.lock() {
        return false;
    }
    tracing::info!(why, "vault locked");
    let _ = app.emit("vault-locked", Locked { why });
    crate::tray::refresh(app);
    true
}

/// Checks every second whether a passphrase vault has been idle for longer than Settings
/// allow.
pub fn start<R: Runtime>(app: AppHandle<R>) {
    let spawned = std::thread::Builder::new()
        .name("auto-lock".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_secs(1));
            let state = app.state::<AppState>();
            let limit = state.auto_lock_secs.load(Ordering::SeqCst);
            let idle = oauth_desk_core::time::now() - state.last_active.load(Ordering::SeqCst);
            if limit <= 0 || idle < limit {
                continue;
            }
            let passphrase = state
                .vault
                .lock()
                .as_ref()
                .is_some_and(|v| v.key_mode() == KeyMode::Passphrase);
            if passphrase {
                lock(&app, &state, "idle");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("the auto-lock is off: {e}");
    }
}
