//! The in-app login window: the provider's page and nothing of the app. Its label matches no
//! capability, so the page cannot call a command; it starts with an empty cookie store
//! (incognito), so a second account can sign in; it may go only to https pages (or loopback);
//! it refuses downloads and new windows; and it catches the redirect to OAuth Desk before it
//! leaves, handing the parameters to the sign-in. Its title shows the page's origin.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use oauth_desk_core::signin::code::Catcher;
use oauth_desk_core::signin::Cancel;
use tauri::webview::{NewWindowResponse, PageLoadEvent};
use tauri::{AppHandle, Runtime, WebviewUrl, WebviewWindowBuilder, WindowEvent};
use url::Url;

pub fn label(id: u64) -> String {
    format!("login-{id}")
}

/// Where a page may go: https anywhere, http only on loopback.
fn allowed(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => oauth_desk_core::oauth::check::is_loopback(url),
        "about" => url.as_str() == "about:blank",
        _ => false,
    }
}

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// `url` is the redirect: same scheme, host, port and path.
fn is_redirect(url: &Url, redirect: &Url) -> bool {
    url.scheme() == redirect.scheme()
        && url.host_str() == redirect.host_str()
        && url.port_or_known_default() == redirect.port_or_known_default()
        && url.path() == redirect.path()
}

pub struct LoginWindow {
    pub id: u64,
    /// What the window is for, before the provider's name: "Sign in to", "Sign out of".
    pub purpose: &'static str,
    pub provider: String,
    pub start: Url,
    /// The redirect to catch (None for the device flow's verification page).
    pub redirect: Option<Url>,
    pub caught: Option<Catcher>,
    /// Set when the window closes: the sign-in is cancelled, unless it moved to the browser.
    pub cancel: Cancel,
    pub moved_to_browser: Arc<AtomicBool>,
}

impl LoginWindow {
    pub fn open<R: Runtime>(self, app: &AppHandle<R>) -> tauri::Result<()> {
        let LoginWindow {
            id,
            purpose,
            provider,
            start,
            redirect,
            caught,
            cancel,
            moved_to_browser,
        } = self;
        let title = format!(
            "{purpose} {} — {}",
            oauth_desk_core::text::visible(&provider),
            origin(&start)
        );
        let provider_name = provider.clone();
        let window = WebviewWindowBuilder::new(app, label(id), WebviewUrl::External(start))
            .title(title)
            .inner_size(520.0, 720.0)
            // Shown only once its close handler is in place, so no close can slip past it.
            .visible(false)
            .incognito(true)
            .disable_drag_drop_handler()
            .on_navigation(move |url| {
                if let (Some(redirect), Some(tx)) = (&redirect, &caught) {
                    if is_redirect(url, redirect) {
                        // The implicit flow's tokens are fragment parameters (RFC 6749
                        // §4.2.2): look for the parameters, not for the words.
                        let fragment_tokens = url.fragment().is_some_and(|f| {
                            url::form_urlencoded::parse(f.as_bytes())
                                .any(|(k, _)| k == "access_token" || k == "id_token")
                        });
                        let params = url
                            .query_pairs()
                            .map(|(k, v)| (k.into_owned(), v.into_owned()))
                            .collect();
                        tx.caught(params, fragment_tokens);
                        return false; // caught: it never leaves the window
                    }
                }
                allowed(url)
            })
            .on_new_window(|_, _| NewWindowResponse::Deny)
            .on_download(|_, _| false)
            .on_page_load(move |w, payload| {
                if payload.event() == PageLoadEvent::Finished {
                    let _ = w.set_title(&format!(
                        "{purpose} {} — {}",
                        oauth_desk_core::text::visible(&provider_name),
                        origin(payload.url())
                    ));
                }
            })
            .build()?;
        window.on_window_event(move |e| {
            let closing = matches!(
                e,
                WindowEvent::CloseRequested { .. } | WindowEvent::Destroyed
            );
            if closing && !moved_to_browser.load(Ordering::SeqCst) {
                cancel.cancel();
            }
        });
        window.show()?;
        let _ = window.set_focus();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_and_loopback_pages_are_allowed() {
        for ok in [
            "https://idp.example/login",
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "about:blank",
        ] {
            assert!(allowed(&Url::parse(ok).unwrap()), "{ok}");
        }
        for bad in [
            "http://idp.example/login",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "data:text/html,x",
            "myapp://x",
        ] {
            assert!(!allowed(&Url::parse(bad).unwrap()), "{bad}");
        }
    }

    #[test]
    fn the_redirect_is_recognized_by_origin_and_path() {
        let r = Url::parse("http://127.0.0.1:5000/callback").unwrap();
        assert!(is_redirect(
            &Url::parse("http://127.0.0.1:5000/callback?code=x").unwrap(),
            &r
        ));
        assert!(!is_redirect(
            &Url::parse("http://127.0.0.1:5001/callback?code=x").unwrap(),
            &r
        ));
        assert!(!is_redirect(
            &Url::parse("http://127.0.0.1:5000/callbackx").unwrap(),
            &r
        ));
    }
}
