//! Background refresh while the app runs: every 30 s, tokens that expire within the window
//! (5 minutes unless Settings say otherwise) are refreshed ahead of time, one by one, through
//! the same lock as every other refresh. Failures land in the table (status, last error) and
//! the activity log; the window never waits for any of it. A failed account is tried again
//! after a growing wait, as is a provider that cannot be reached (`retry`). An
//! account that comes to need a sign-in, or whose refresh failed three times in a row, is told
//! as a notification (`watch`).

use std::time::{Duration, Instant};

use oauth_desk_core::http::Http;
use oauth_desk_core::refresh;
use oauth_desk_core::retry::Backoff;
use oauth_desk_core::time;
use oauth_desk_core::vault::{settings, tokens};
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::state::AppState;

/// How often due tokens are looked for; a test may shorten it (OAUTH_DESK_REFRESH_EVERY_SECS).
fn every() -> Duration {
    let secs = std::env::var("OAUTH_DESK_REFRESH_EVERY_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(30);
    Duration::from_secs(secs)
}

pub fn start<R: Runtime>(app: AppHandle<R>) {
    let every = every();
    let mut watch = crate::watch::Watch::default();
    let mut backoff = Backoff::default();
    let spawned = std::thread::Builder::new()
        .name("refresher".into())
        .spawn(move || loop {
            std::thread::sleep(every);
            let Some(state) = app.try_state::<AppState>() else {
                continue;
            };
            // Nothing is due while the vault is locked or Settings turned this off (a window of 0).
            let mut due = state
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
            backoff.keep_only(&due);
            backoff.order(&mut due);
            let mut changed = false;
            for (provider, account) in due {
                if !backoff.ready(&provider, &account, Instant::now()) {
                    continue;
                }
                // The lock is taken per token, so the window's own commands get their turn.
                let outcome = state.vault.with(|v| {
                    Ok(refresh::refresh(
                        v,
                        &provider,
                        Some(&account),
                        &Http::new,
                        &time::now,
                    ))
                });
                if let Ok(outcome) = outcome {
                    changed = true;
                    let error = outcome.as_ref().err();
                    backoff.saw(&provider, &account, error, Instant::now());
                    watch.saw(&app, &provider, &account, error);
                }
            }
            if changed {
                let _ = app.emit("tokens-changed", ());
            }
        });
    if let Err(e) = spawned {
        tracing::error!("no background refresh: {e}");
    }
}
