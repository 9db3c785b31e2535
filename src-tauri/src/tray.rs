//! The tray icon and its menu: open the window, copy the token of a recently used account,
//! lock the vault, quit. Closing the window leaves OAuth Desk here (a setting, on by default),
//! so the token agent, the background refresh and a running REST API go on; the first such
//! close says so once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use oauth_desk_core::text::visible;
use oauth_desk_core::vault::{settings, tokens};
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Listener, Manager, Runtime, WindowEvent};

use crate::state::AppState;

const ID: &str = "main-tray";
/// How many recent accounts the menu offers to copy.
const RECENT: usize = 5;

/// What the tray knows between menu rebuilds: whether its icon was built, and which account
/// each "copy" item stands for.
#[derive(Default)]
pub struct Tray {
    built: AtomicBool,
    accounts: Mutex<Vec<(String, String)>>,
}

/// Puts the icon in the tray and makes closing the window hide it there. Without the
/// appindicator library there is no icon, and closing quits; so it does where the desktop shows
/// no tray when the window closes (`tray_host`).
pub fn install<R: Runtime>(app: &AppHandle<R>) {
    app.manage(Tray::default());
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(app)));
    match built {
        Ok(Ok(())) => app.state::<Tray>().built.store(true, Ordering::SeqCst),
        Ok(Err(e)) => tracing::warn!("no tray icon: {e}"),
        Err(_) => tracing::warn!("no tray icon: the desktop has no tray library"),
    }
    // A sign-in, a refresh or a revocation changes which accounts are recent.
    let handle = app.clone();
    app.listen_any("tokens-changed", move |_| refresh(&handle));
    if let Some(window) = app.get_webview_window("main") {
        let handle = app.clone();
        window.on_window_event(move |event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                if !wants_tray(&handle) {
                    return;
                }
                api.prevent_close();
                // The window's size and place are kept now, as a quit would keep them. Here,
                // on the window's thread: the plugin holds its lock while it asks the window,
                // and a window asked from another thread waits for this one, which may be
                // waiting for that lock in the plugin's own close handler.
                save_window_state(&handle);
                // Asking the desktop for its tray takes a D-Bus and an X11 round trip: not
                // on the window's thread.
                let closer = handle.clone();
                let spawned = std::thread::Builder::new()
                    .name("window-close".into())
                    .spawn(move || closed(&closer));
                if spawned.is_err() {
                    hide(&handle);
                }
            }
        });
    }
}

fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let icon = app
        .default_window_icon()
        .cloned()
        .ok_or_else(|| tauri::Error::AssetNotFound("the app icon".into()))?;
    TrayIconBuilder::with_id(ID)
        .icon(icon)
        .tooltip("OAuth Desk")
        .menu(&menu(app)?)
        .on_menu_event(|app, event| chosen(app, event.id().as_ref()))
        .build(app)?;
    Ok(())
}

/// The menu as things are now: the recent accounts, and Lock while the vault is open.
fn menu<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<Menu<R>> {
    let state = app.state::<AppState>();
    let open_vault = state.vault.lock().is_some();
    let recent = state
        .vault
        .with(|v| tokens::recent(v.conn(), RECENT))
        .unwrap_or_default();
    let copy = Submenu::with_id(app, "copy", "Copy token", open_vault && !recent.is_empty())?;
    for (i, (provider, account)) in recent.iter().enumerate() {
        let label = format!("{} at {}", visible(account), visible(provider));
        copy.append(&MenuItem::with_id(
            app,
            format!("copy:{i}"),
            label,
            true,
            None::<&str>,
        )?)?;
    }
    *app.state::<Tray>().accounts.lock().unwrap() = recent;
    Menu::with_items(
        app,
        &[
            &MenuItem::with_id(app, "open", "Open OAuth Desk", true, None::<&str>)?,
            &copy,
            &MenuItem::with_id(app, "lock", "Lock the vault", open_vault, None::<&str>)?,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, "quit", "Quit OAuth Desk", true, None::<&str>)?,
        ],
    )
}

/// Rebuilds the menu (after an unlock, a lock, a sign-in), off the thread that asked: the
/// vault may be held by a refresh at a slow provider, and the window must not wait for it.
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let Some(tray) = app.tray_by_id(ID) else {
        return;
    };
    let app = app.clone();
    std::thread::spawn(move || match menu(&app) {
        Ok(m) => {
            let _ = tray.set_menu(Some(m));
        }
        Err(e) => tracing::warn!("tray menu: {e}"),
    });
}

fn chosen<R: Runtime>(app: &AppHandle<R>, id: &str) {
    match id {
        "open" => show_window(app),
        "lock" => {
            let app = app.clone();
            std::thread::spawn(move || {
                crate::autolock::lock(&app, &app.state::<AppState>(), "by_hand");
            });
        }
        "quit" => app.exit(0),
        copy => {
            let Some(i) = copy
                .strip_prefix("copy:")
                .and_then(|i| i.parse::<usize>().ok())
            else {
                return;
            };
            let Some((provider, account)) =
                app.state::<Tray>().accounts.lock().unwrap().get(i).cloned()
            else {
                return;
            };
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let state = app.state::<AppState>();
                let copied =
                    crate::commands::tokens::copy_token(app.clone(), &state, provider, account)
                        .await;
                if let Err(e) = copied {
                    crate::notices::tell(&app, "The token was not copied", &e.message);
                }
            });
        }
    }
}

pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Whether closing the window may hide it into the tray: the icon was built and Settings want
/// it. Otherwise the app quits as it always did.
fn wants_tray<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.state::<Tray>().built.load(Ordering::SeqCst)
        && app.state::<AppState>().keep_in_tray.load(Ordering::SeqCst)
}

/// The window was closed and Settings want the tray: hidden there if the desktop shows one,
/// else the app quits (sign-in windows too: none would bring this one back).
fn closed<R: Runtime>(app: &AppHandle<R>) {
    if crate::tray_host::shown() {
        to_tray(app);
    } else {
        tracing::info!("no tray is shown: closing the window quits");
        app.exit(0);
    }
}

fn save_window_state<R: Runtime>(app: &AppHandle<R>) {
    use tauri_plugin_window_state::{AppHandleExt, StateFlags};
    let _ = app.save_window_state(StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED);
}

fn hide<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.hide();
    }
}

/// Hides the window into the tray; the first time says so. Off the window's thread: the vault
/// may be busy.
fn to_tray<R: Runtime>(app: &AppHandle<R>) {
    hide(app);
    let first = app
        .state::<AppState>()
        .vault
        .with(|v| {
            let mut s = settings::get(v.conn())?;
            let first = !s.tray_notice_shown;
            if first {
                s.tray_notice_shown = true;
                settings::set(v.conn(), &s)?;
            }
            Ok(first)
        })
        .unwrap_or(false);
    if first {
        crate::notices::tell(
            app,
            "OAuth Desk is still running",
            "It keeps answering scripts and refreshing tokens from the tray. Quit it from the tray's menu; Settings can make closing quit.",
        );
    }
}
