//! Background refresh while the app runs: every 30 s, tokens that expire within the window
//! (5 minutes unless Settings say otherwise) are refreshed ahead of time, one by one, through the same lock as every other
//! refresh. Failures land in the table (status, last error) and the activity log; the window
//! never waits for any of it.

use std::time::Duration;

use oauth_desk_core::http::Http;
use oauth_desk_core::refresh;
use oauth_desk_core::time;
use oauth_desk_core::vault::{settings, tokens};
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(30);

pub fn start<R: Runtime>(app: AppHandle<R>) {
    std::thread::spawn(move || loop {
        std::thread::sleep(EVERY);
        let Some(state) = app.try_state::<AppState>() else {
            continue;
        };
        // Nothing is due while the vault is locked or Settings turned this off (a window of 0).
        let due = state
            .vault
            .with(|v| {
                let window = settings::get(v.conn())
                    .map(|s| s.refresh_window_secs)
                    .unwrap_or(0);
                Ok(match window {
                    0 => Vec::new(),
                    _ => tokens::due(v.conn(), time::now(), window).unwrap_or_default(),
                })
            })
            .unwrap_or_default();
        let mut changed = false;
        for (provider, account) in due {
            // The lock is taken per token, so the window's own commands get their turn.
            let refreshed = state.vault.with(|v| {
                let _ = refresh::refresh(v, &provider, Some(&account), &Http::new, &time::now);
                Ok(())
            });
            changed |= refreshed.is_ok();
        }
        if changed {
            let _ = app.emit("tokens-changed", ());
        }
    });
}
