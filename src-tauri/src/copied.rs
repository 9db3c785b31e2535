//! The token the window or the tray last put on the clipboard. It comes off after Settings'
//! delay, and at once when the vault locks or the app quits: a copy must not outlive the
//! unlocked vault it came from (on X11 a clipboard manager would keep it after the app is
//! gone). Only while the clipboard still holds it: what the person copied since is theirs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use oauth_desk_core::Secret;
use tauri::{AppHandle, Runtime};
use tauri_plugin_clipboard_manager::ClipboardExt;

#[derive(Default, Clone)]
pub struct Copied(Arc<Mutex<Option<Secret<String>>>>);

impl Copied {
    /// Puts `token` on the clipboard, to come off after `delay_secs` (0: on lock or quit only).
    pub fn put<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        token: Secret<String>,
        delay_secs: u64,
    ) -> Result<(), String> {
        app.clipboard()
            .write_text(token.expose().clone())
            .map_err(|e| e.to_string())?;
        *self.slot() = Some(token.clone());
        if delay_secs > 0 {
            let (app, copied) = (app.clone(), self.clone());
            // Without its thread the copy still comes off on lock and quit.
            let _ = std::thread::Builder::new()
                .name("clipboard".into())
                .spawn(move || {
                    std::thread::sleep(Duration::from_secs(delay_secs));
                    take_off(&app, &token);
                    let mut slot = copied.slot();
                    if slot.as_ref().map(|t| t.expose()) == Some(token.expose()) {
                        *slot = None;
                    }
                });
        }
        Ok(())
    }

    /// Takes the last token copied off the clipboard, if it is still there (lock, quit).
    pub fn clear<R: Runtime>(&self, app: &AppHandle<R>) {
        let last = self.slot().take();
        if let Some(token) = last {
            take_off(app, &token);
        }
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Secret<String>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn take_off<R: Runtime>(app: &AppHandle<R>, token: &Secret<String>) {
    if app.clipboard().read_text().ok().as_deref() == Some(token.expose().as_str()) {
        let _ = app.clipboard().write_text(String::new());
    }
}
