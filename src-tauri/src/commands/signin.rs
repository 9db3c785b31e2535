//! Sign-in from the window: start one (login window or system browser, device code, client
//! credentials), move it to the browser, cancel it. The flow runs on its own thread; its
//! outcome arrives as the `signin-finished` event, and `tokens-changed` tells the token table.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use oauth_desk_core::http::Http;
use oauth_desk_core::oauth::callback::SIGNIN_LIFETIME_SECS;
use oauth_desk_core::oauth::flow::{self, CodeFlow, DeviceFlow, Grant};
use oauth_desk_core::oauth::loopback::Loopback;
use oauth_desk_core::signin::{self, Grantee, SignedIn};
use oauth_desk_core::vault::provider_table::{self as table, ProviderRecord, SignInWith};
use oauth_desk_core::{time, Error, Result};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};
use tauri_plugin_opener::OpenerExt;
use url::Url;

use crate::error::{CommandError, CommandResult};
use crate::login_window::{self, Caught, LoginWindow};
use crate::state::{blocking, AppState, Signin};

#[derive(Debug, Clone, Serialize)]
pub struct SigninStarted {
    pub id: u64,
    /// Where the user signs in ("window" or "browser").
    pub method: SignInWith,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceStarted {
    pub id: u64,
    pub user_code: String,
    pub verification_uri: String,
    pub expires_in: u64,
}

/// The `signin-finished` event.
#[derive(Debug, Clone, Serialize)]
pub struct SigninFinished {
    pub id: u64,
    pub provider: String,
    pub signed_in: Option<SignedIn>,
    pub error: Option<CommandError>,
}

/// Starts the authorization code flow: a loopback listener, and the login window (or the
/// system browser, for providers set to it).
#[tauri::command]
pub async fn start_signin<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
    account: Option<String>,
) -> CommandResult<SigninStarted> {
    let p = state
        .with_vault(move |v| table::get(v.conn(), &name))
        .await?;
    let id = state.next_signin_id();
    let custom = p.redirect_url.clone();
    let listener = match &custom {
        Some(_) => None,
        None => Some(Loopback::bind(p.redirect_port, &p.redirect_path)?),
    };
    let redirect_uri = match (&custom, &listener) {
        (Some(u), _) => u.clone(),
        (None, Some(l)) => l.redirect_uri(),
        (None, None) => unreachable!("a listener is bound when there is no custom redirect"),
    };
    let flow = CodeFlow::start(&p, &redirect_uri, &[], time::now())?;
    let url = flow.url.clone();
    let cancel = Arc::new(AtomicBool::new(false));
    let moved = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<Caught>();
    let deadline = Instant::now() + Duration::from_secs(SIGNIN_LIFETIME_SECS as u64);

    if let Some(listener) = listener {
        let (tx, cancel, state) = (tx.clone(), cancel.clone(), flow.state_check());
        std::thread::spawn(move || {
            if let Ok(r) = listener.wait(&state, deadline, &cancel) {
                let params = r.params.clone();
                let _ = tx.send(Caught {
                    params,
                    redirect: Some(r),
                    fragment_tokens: false,
                });
            }
        });
    }
    let method = if p.sign_in_with == SignInWith::Browser && custom.is_none() {
        app.opener()
            .open_url(url.clone(), None::<&str>)
            .map_err(|e| Error::InvalidInput(format!("cannot open the system browser: {e}")))?;
        SignInWith::Browser
    } else {
        LoginWindow {
            id,
            provider: p.name.clone(),
            start: Url::parse(&url).map_err(|e| Error::InvalidInput(e.to_string()))?,
            redirect: Some(
                Url::parse(&redirect_uri).map_err(|e| Error::InvalidInput(e.to_string()))?,
            ),
            caught: Some(tx),
            cancel: cancel.clone(),
            moved_to_browser: moved.clone(),
        }
        .open(&app)
        .map_err(|e| Error::InvalidInput(format!("cannot open the login window: {e}")))?;
        SignInWith::Window
    };
    state.signins.lock().unwrap().insert(
        id,
        Signin {
            cancel: cancel.clone(),
            moved_to_browser: moved,
            url: url.clone(),
        },
    );

    let vault = state.vault.clone();
    let app2 = app.clone();
    let in_window = method == SignInWith::Window;
    std::thread::spawn(move || {
        // The window's close event cancels; checking that the window still exists also covers
        // a close that came before its event handler was in place.
        let window_gone = || {
            in_window
                && !moved_flag(&app2, id)
                && app2.get_webview_window(&login_window::label(id)).is_none()
        };
        let outcome = wait_for_redirect(&rx, deadline, &cancel, &window_gone).and_then(|caught| {
            let http = Http::new()?;
            let result = if caught.fragment_tokens {
                Err(Error::ProviderError(
                    "the provider sent tokens in the URL fragment (the implicit flow), which OAuth Desk refuses; nothing was stored".into(),
                ))
            } else {
                flow.finish(&caught.params, &http, time::now())
            };
            if let Some(r) = caught.redirect {
                r.reply(result.is_ok());
            }
            let grant = result?;
            store(&vault, &p, grant, Grantee::AuthorizationCode, account.as_deref(), &http)
        });
        cancel.store(true, Ordering::SeqCst); // stops the listener, if still waiting
        finish(&app2, id, &p, outcome, &vault);
    });
    Ok(SigninStarted { id, method, url })
}

/// The sign-in moved to the system browser (its window closed on purpose).
fn moved_flag<R: Runtime>(app: &AppHandle<R>, id: u64) -> bool {
    app.try_state::<AppState>()
        .and_then(|s| {
            s.signins.lock().ok().and_then(|m| {
                m.get(&id)
                    .map(|x| x.moved_to_browser.load(Ordering::SeqCst))
            })
        })
        .unwrap_or(false)
}

fn wait_for_redirect(
    rx: &mpsc::Receiver<Caught>,
    deadline: Instant,
    cancel: &AtomicBool,
    window_gone: &dyn Fn() -> bool,
) -> Result<Caught> {
    loop {
        if cancel.load(Ordering::SeqCst) || window_gone() {
            return Err(Error::Cancelled("the sign-in was cancelled".into()));
        }
        if Instant::now() > deadline {
            return Err(Error::TimedOut(
                "the sign-in took longer than 10 minutes and was abandoned".into(),
            ));
        }
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(c) => return Ok(c),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Error::Cancelled("the sign-in was cancelled".into()))
            }
        }
    }
}

fn store(
    vault: &std::sync::Mutex<Option<oauth_desk_core::vault::Vault>>,
    p: &ProviderRecord,
    grant: Grant,
    how: Grantee,
    account: Option<&str>,
    http: &Http,
) -> Result<SignedIn> {
    let guard = vault
        .lock()
        .map_err(|_| Error::Storage("the vault lock was poisoned".into()))?;
    let v = guard
        .as_ref()
        .ok_or_else(|| Error::Storage("the vault is locked".into()))?;
    signin::store(v, p, grant, how, account, http, time::now())
}

/// Logs and announces the outcome, and closes the login window.
fn finish<R: Runtime>(
    app: &AppHandle<R>,
    id: u64,
    p: &ProviderRecord,
    outcome: Result<SignedIn>,
    vault: &std::sync::Mutex<Option<oauth_desk_core::vault::Vault>>,
) {
    if let Err(e) = &outcome {
        if let Ok(guard) = vault.lock() {
            if let Some(v) = guard.as_ref() {
                signin::record_failure(v, &p.name, e, time::now());
            }
        }
    }
    if let Some(w) = app.get_webview_window(&login_window::label(id)) {
        // destroy, not close: a close can leave a window that is busy loading only hidden.
        let _ = w.destroy();
    }
    if let Some(state) = app.try_state::<AppState>() {
        state.signins.lock().unwrap().remove(&id);
    }
    let ok = outcome.is_ok();
    let event = SigninFinished {
        id,
        provider: p.name.clone(),
        signed_in: outcome.as_ref().ok().cloned(),
        error: outcome.err().map(CommandError::from),
    };
    let _ = app.emit("signin-finished", event);
    if ok {
        let _ = app.emit("tokens-changed", ());
    }
}

/// Moves a sign-in from the login window to the system browser (same loopback redirect).
#[tauri::command]
pub async fn open_signin_in_browser<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: u64,
) -> CommandResult<()> {
    let url = {
        let signins = state.signins.lock().unwrap();
        let s = signins
            .get(&id)
            .ok_or_else(|| Error::NotFound("that sign-in is over".into()))?;
        s.moved_to_browser.store(true, Ordering::SeqCst);
        s.url.clone()
    };
    app.opener()
        .open_url(url, None::<&str>)
        .map_err(|e| Error::InvalidInput(format!("cannot open the system browser: {e}")))?;
    if let Some(w) = app.get_webview_window(&login_window::label(id)) {
        let _ = w.destroy();
    }
    Ok(())
}

#[tauri::command]
pub async fn cancel_signin<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: u64,
) -> CommandResult<()> {
    if let Some(s) = state.signins.lock().unwrap().get(&id) {
        s.cancel.store(true, Ordering::SeqCst);
    }
    if let Some(w) = app.get_webview_window(&login_window::label(id)) {
        let _ = w.destroy();
    }
    Ok(())
}

/// Starts the device flow: shows the code, opens the verification page in a login window, and
/// polls in the background.
#[tauri::command]
pub async fn start_device_signin<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
    account: Option<String>,
) -> CommandResult<DeviceStarted> {
    let p = state
        .with_vault(move |v| table::get(v.conn(), &name))
        .await?;
    let p2 = p.clone();
    let flow = blocking(move || DeviceFlow::start(&p2, &[], &Http::new()?)).await?;
    let id = state.next_signin_id();
    let cancel = Arc::new(AtomicBool::new(false));
    let moved = Arc::new(AtomicBool::new(false));
    let page = flow
        .verification_uri_complete
        .clone()
        .unwrap_or(flow.verification_uri.clone());
    if let Ok(start) = Url::parse(&page) {
        LoginWindow {
            id,
            provider: p.name.clone(),
            start,
            redirect: None,
            caught: None,
            cancel: cancel.clone(),
            moved_to_browser: moved.clone(),
        }
        .open(&app)
        .map_err(|e| Error::InvalidInput(format!("cannot open the login window: {e}")))?;
    }
    state.signins.lock().unwrap().insert(
        id,
        Signin {
            cancel: cancel.clone(),
            moved_to_browser: moved,
            url: page,
        },
    );
    let started = DeviceStarted {
        id,
        user_code: flow.user_code.clone(),
        verification_uri: flow.verification_uri.clone(),
        expires_in: flow.expires_in,
    };
    let vault = state.vault.clone();
    std::thread::spawn(move || {
        let outcome = Http::new().and_then(|http| {
            let grant = flow.finish(&http, &cancel, time::now)?;
            store(
                &vault,
                &p,
                grant,
                Grantee::Device,
                account.as_deref(),
                &http,
            )
        });
        finish(&app, id, &p, outcome, &vault);
    });
    Ok(started)
}

/// Client credentials: a token for the client itself.
#[tauri::command]
pub async fn signin_client_credentials<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
    account: Option<String>,
) -> CommandResult<SignedIn> {
    let p = state
        .with_vault(move |v| table::get(v.conn(), &name))
        .await?;
    let vault = state.vault.clone();
    let p2 = p.clone();
    let outcome = blocking(move || {
        let http = Http::new()?;
        let grant = flow::client_credentials(&p2, &[], &http, time::now())?;
        store(
            &vault,
            &p2,
            grant,
            Grantee::ClientCredentials,
            account.as_deref(),
            &http,
        )
    })
    .await;
    if let Err(e) = &outcome {
        let e2 = Error::ProviderError(e.to_string());
        let name = p.name.clone();
        let _ = state
            .with_vault(move |v| {
                signin::record_failure(v, &name, &e2, time::now());
                Ok(())
            })
            .await;
    } else {
        let _ = app.emit("tokens-changed", ());
    }
    Ok(outcome?)
}
