//! Desktop notifications (org.freedesktop.Notifications, through notify-rust): short, plain,
//! and never a secret. A desktop without a notification service drops them, said in the log.

use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime};

/// Shows `summary` and `body` as OAuth Desk's notification.
pub fn tell<R: Runtime>(_app: &AppHandle<R>, summary: &str, body: &str) {
    let note = notification(summary, body);
    // D-Bus may take a moment: never on the thread that called.
    std::thread::spawn(move || {
        if let Err(e) = note.show() {
            tracing::warn!("notification not shown: {e}");
        }
    });
}

/// The `open-signin` event: the window opens the sign-in of this provider.
#[derive(Clone, Serialize)]
struct OpenSignin {
    provider: String,
}

/// A notification whose action ("Sign in", also its default: a click on it) brings the
/// window up with the sign-in of `provider`.
pub fn offer_signin<R: Runtime>(app: &AppHandle<R>, summary: &str, body: &str, provider: &str) {
    let mut note = notification(summary, body);
    note.action("default", "Sign in");
    let (app, provider) = (app.clone(), provider.to_owned());
    std::thread::spawn(move || match note.show() {
        Ok(handle) => handle.wait_for_action(|action| {
            if action == "default" {
                crate::tray::show_window(&app);
                let _ = app.emit("open-signin", OpenSignin { provider });
            }
        }),
        Err(e) => tracing::warn!("notification not shown: {e}"),
    });
}

/// A question for the person while the window is hidden: a click brings the window up, where
/// the question waits (`asking::waiting_questions`).
pub fn offer_answer<R: Runtime>(app: &AppHandle<R>, summary: &str, body: &str) {
    let mut note = notification(summary, body);
    note.action("default", "Open OAuth Desk");
    let app = app.clone();
    std::thread::spawn(move || match note.show() {
        Ok(handle) => handle.wait_for_action(|action| {
            if action == "default" {
                crate::tray::show_window(&app);
                let _ = app.emit("agent-ask-again", ());
            }
        }),
        Err(e) => tracing::warn!("notification not shown: {e}"),
    });
}

fn notification(summary: &str, body: &str) -> notify_rust::Notification {
    let mut note = notify_rust::Notification::new();
    note.appname("OAuth Desk")
        .summary(&plain(summary, 120))
        .body(&plain(body, 400))
        .icon("oauth-desk");
    note
}

/// Text a notification service shows as it is: cut, and its markup characters escaped (many
/// read the body as markup, and a program's path or an account label is somebody else's).
fn plain(text: &str, max: usize) -> String {
    let mut cut: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        cut.push('…');
    }
    cut.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_is_escaped_and_long_text_cut() {
        assert_eq!(
            super::plain("a <b>&</b>", 100),
            "a &lt;b&gt;&amp;&lt;/b&gt;"
        );
        assert_eq!(super::plain("abcdef", 3), "abc…");
    }
}
