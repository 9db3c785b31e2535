//! The token the window or the tray last put on the clipboard. It comes off after Settings'
//! delay, and at once when the vault locks or the app quits: a copy must not outlive the
//! unlocked vault it came from (on X11 a clipboard manager would keep it after the app is
//! gone). Only while the clipboard still holds it: what the person copied since is theirs.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use oauth_desk_core::Secret;
use tauri::{AppHandle, Runtime};
use tauri_plugin_clipboard_manager::ClipboardExt;

#[derive(Default, Clone)]
pub struct Copied(Arc<Mutex<Slot>>);

/// The token is held here only: a delay's thread keeps the copy's number, so a lock or a
/// newer copy leaves it nothing to clear and no token in memory.
#[derive(Default)]
struct Slot {
    token: Option<Secret<String>>,
    copy: u64,
}

impl Copied {
    /// Puts `token` on the clipboard, to come off after `delay_secs` (0: on lock or quit only).
    pub fn put<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        token: Secret<String>,
        delay_secs: u64,
    ) -> Result<(), String> {
        // Held while the clipboard is written, so that a clearing comes wholly before or after.
        let mut slot = self.slot();
        app.clipboard()
            .write_text(token.expose().clone())
            .map_err(|e| e.to_string())?;
        slot.copy += 1;
        slot.token = Some(token);
        let copy = slot.copy;
        drop(slot);
        if delay_secs > 0 {
            let (app, copied) = (app.clone(), self.clone());
            // Without its thread the copy still comes off on lock and quit.
            let _ = std::thread::Builder::new()
                .name("clipboard".into())
                .spawn(move || {
                    std::thread::sleep(Duration::from_secs(delay_secs));
                    let mut slot = copied.slot();
                    if slot.copy == copy {
                        take_off(&app, slot.token.take());
                    }
                });
        }
        Ok(())
    }

    /// Takes the last token copied off the clipboard, if it is still there (lock, quit).
    pub fn clear<R: Runtime>(&self, app: &AppHandle<R>) {
        let mut slot = self.slot();
        take_off(app, slot.token.take());
    }

    fn slot(&self) -> MutexGuard<'_, Slot> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn take_off<R: Runtime>(app: &AppHandle<R>, token: Option<Secret<String>>) {
    let Some(token) = token else {
        return;
    };
    if app.clipboard().read_text().ok().as_deref() == Some(token.expose().as_str()) {
        let _ = app.clipboard().write_text(String::new());
    }
}
