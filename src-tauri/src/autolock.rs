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
    state.copied.clear(app);
    tracing::info!(why, "vault locked");
    let _ = app.emit("vault-locked", Locked { why });
    crate::tray::refresh(app);
    true
}

/// Locks the vault if it is open with a passphrase: what idleness and the screen's lock
/// lock (a keyring vault would open again without asking). Whether it did.
pub fn lock_passphrase_vault<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    why: &'static str,
) -> bool {
    let passphrase = state
        .vault
        .lock()
        .as_ref()
        .is_some_and(|v| v.key_mode() == KeyMode::Passphrase);
    passphrase && lock(app, state, why)
}

/// Wakes when a passphrase vault's idle time may have run out, and locks it if it has. Use of
/// the window only postpones the moment, so the thread sleeps until it, or until the setting
/// changes; at most 10 s, because its clock stops while the machine sleeps and the limit's
/// does not (`note_use` refuses to count a use past the limit meanwhile).
pub fn start<R: Runtime>(app: AppHandle<R>) {
    const LONGEST_SLEEP: i64 = 10;
    let waker = app.clone();
    let spawned = std::thread::Builder::new()
        .name("auto-lock".into())
        .spawn(move || loop {
            let state = app.state::<AppState>();
            let limit = state.auto_lock_secs.load(Ordering::SeqCst);
            let idle = oauth_desk_core::time::now() - state.last_active.load(Ordering::SeqCst);
            let left = limit - idle;
            // Idleness does not lock a keyring vault (nor one already locked): its count
            // starts again.
            if limit > 0 && left <= 0 && !lock_passphrase_vault(&app, &state, "idle") {
                state.touch();
            }
            // Past the limit (locked, or a keyring vault): the next unlock or use starts anew.
            let sleep = match limit {
                0 => LONGEST_SLEEP,
                _ if left > 0 => left,
                _ => limit,
            };
            std::thread::park_timeout(Duration::from_secs(sleep.clamp(1, LONGEST_SLEEP) as u64));
        });
    match spawned {
        Ok(handle) => {
            let _ = waker
                .state::<AppState>()
                .auto_lock_thread
                .set(handle.thread().clone());
        }
        Err(e) => tracing::warn!("the auto-lock is off: {e}"),
    }
}
