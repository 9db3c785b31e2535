//! The vault locks with the screen, where the desktop tells: its screen saver's
//! `ActiveChanged(true)` signal (org.freedesktop.ScreenSaver, org.gnome.ScreenSaver) on the
//! session bus locks a passphrase vault, as idle minutes do. Without a session bus, nothing is
//! watched (said in the log).

use std::num::NonZeroUsize;

use futures_util::StreamExt;
use tauri::{AppHandle, Manager, Runtime};

use crate::state::AppState;

pub fn start<R: Runtime>(app: AppHandle<R>) {
    let spawned = std::thread::Builder::new()
        .name("screen-lock".into())
        .spawn(move || {
            if let Err(e) = zbus::block_on(watch(&app)) {
                tracing::info!("the screen lock is not watched: {e}");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("the screen lock is not watched: {e}");
    }
}

async fn watch<R: Runtime>(app: &AppHandle<R>) -> zbus::Result<()> {
    let conn = zbus::Connection::session().await?;
    let rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .member("ActiveChanged")
        .build()?;
    let mut signals =
        zbus::MessageStream::for_match_rule(rule, &conn, NonZeroUsize::new(16)).await?;
    while let Some(signal) = signals.next().await {
        let Ok(signal) = signal else {
            continue;
        };
        let header = signal.header();
        let from_screen_saver = header.interface().is_some_and(|i| {
            matches!(
                i.as_str(),
                "org.freedesktop.ScreenSaver" | "org.gnome.ScreenSaver"
            )
        });
        let active = signal.body().deserialize::<bool>().unwrap_or(false);
        if !(from_screen_saver && active) {
            continue;
        }
        crate::autolock::lock_passphrase_vault(app, &app.state::<AppState>(), "screen_locked");
    }
    Ok(())
}
