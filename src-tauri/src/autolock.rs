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
    passphrase_vault_open(state) && lock(app, state, why)
}

fn passphrase_vault_open(state: &AppState) -> bool {
    state
        .vault
        .lock()
        .as_ref()
        .is_some_and(|v| v.key_mode() == KeyMode::Passphrase)
}

/// Wakes when a passphrase vault's idle time may have run out, and locks it if it has. Use of
/// the window only postpones the moment, so the thread sleeps until it, or until the setting
/// changes; at most 10 s, because its clock stops while the machine sleeps and the limit's
/// does not (`note_use` refuses to count a use past the limit meanwhile). With nothing that
/// idleness could lock (no limit, a keyring vault, a locked one) it sleeps until an unlock, a
/// new key or a new limit wakes it (`AppState::wake_auto_lock`).
pub fn start<R: Runtime>(app: AppHandle<R>) {
    let spawned = std::thread::Builder::new()
        .name("auto-lock".into())
        .spawn(move || {
            // Known before the first look: a change after it wakes the thread, one before it
            // is seen by the look.
            let state = app.state::<AppState>();
            let _ = state.auto_lock_thread.set(std::thread::current());
            watch(&app)
        });
    if let Err(e) = spawned {
        tracing::warn!("the auto-lock is off: {e}");
    }
}

fn watch<R: Runtime>(app: &AppHandle<R>) -> ! {
    const LONGEST_SLEEP: i64 = 10;
    loop {
        let state = app.state::<AppState>();
        let limit = state.auto_lock_secs.load(Ordering::SeqCst);
        let counting = limit > 0 && passphrase_vault_open(&state);
        state.auto_lock_counting.store(counting, Ordering::SeqCst);
        if !counting {
            std::thread::park();
            continue;
        }
        let idle = oauth_desk_core::time::now() - state.last_active.load(Ordering::SeqCst);
        let left = limit - idle;
        // A lock that did not happen (the vault was locked or rekeyed meanwhile): the count
        // starts again.
        if left <= 0 && !lock_passphrase_vault(app, &state, "idle") {
            state.touch();
        }
        std::thread::park_timeout(Duration::from_secs(left.clamp(1, LONGEST_SLEEP) as u64));
    }
}
