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
        let due = match state.vault.lock() {
            Ok(guard) => match guard.as_ref() {
                Some(v) => {
                    let window = settings::get(v.conn())
                        .map(|s| s.refresh_window_secs)
                        .unwrap_or(0);
                    if window == 0 {
                        continue;
                    }
                    tokens::due(v.conn(), time::now(), window).unwrap_or_default()
                }
                None => continue,
            },
            Err(_) => return,
        };
        let mut changed = false;
        for (provider, account) in due {
            // The lock is taken per token, so the window's own commands get their turn.
            if let Ok(guard) = state.vault.lock() {
                if let Some(v) = guard.as_ref() {
                    let _ = refresh::refresh(v, &provider, Some(&account), &Http::new, &time::now);
                    changed = true;
                }
            }
        }
        if changed {
            let _ = app.emit("tokens-changed", ());
        }
    });
}
