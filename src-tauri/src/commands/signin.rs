//! Sign-in from the window: start one (login window or system browser, device code, client
//! credentials), move it to the browser, cancel it. The sign-in runs in the core on a thread
//! of its own; its outcome arrives as the `signin-finished` event, and `tokens-changed` tells
//! the token table.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use oauth_desk_core::signin::code::{self, Catch};
use oauth_desk_core::signin::signout::{self, SignedOut};
use oauth_desk_core::signin::{self, background, device, Cancel, Request, SignedIn};
use oauth_desk_core::vault::provider_table::{self as table, SignInWith};
use oauth_desk_core::vault::SharedVault;
use oauth_desk_core::{Error, Result};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};
use tauri_plugin_opener::OpenerExt;
use url::Url;

use crate::error::{CommandError, CommandResult};
use crate::login_window::{self, LoginWindow};
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
    target: Option<Target>,
) -> CommandResult<SigninStarted> {
    in_background(
        &app,
        &state,
        name,
        account,
        target,
        |request, login, hand_over| {
            code::sign_in(&login.vault, request, Catch::AlsoFace, &login.cancel, |a| {
                let p = &request.provider;
                let method = if p.sign_in_with == SignInWith::Browser && p.redirect_url.is_none() {
                    open_in_browser(&login.app, a.url)?;
                    SignInWith::Browser
                } else {
                    let redirect = Url::parse(a.redirect_uri).map_err(invalid)?;
                    login.open_window(a.url, Some((redirect, a.catcher.clone())))?;
                    SignInWith::Window
                };
                // A custom redirect reaches only the login window: the browser cannot finish it.
                login.register(a.url, p.redirect_url.is_none());
                hand_over(SigninStarted {
                    id: login.id,
                    method,
                    url: a.url.to_owned(),
                });
                Ok(())
            })
        },
    )
    .await
}

/// Starts the device flow: shows the code, opens the verification page in a login window, and
/// polls in the background.
#[tauri::command]
pub async fn start_device_signin<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
    account: Option<String>,
    target: Option<Target>,
) -> CommandResult<DeviceStarted> {
    in_background(
        &app,
        &state,
        name,
        account,
        target,
        |request, login, hand_over| {
            device::sign_in(&login.vault, request, &login.cancel, |flow| {
                let page = flow
                    .verification_uri_complete
                    .clone()
                    .unwrap_or(flow.verification_uri.clone());
                // A page that is no URL is still shown as text, with the code.
                if Url::parse(&page).is_ok() {
                    login.open_window(&page, None)?;
                }
                login.register(&page, true);
                hand_over(DeviceStarted {
                    id: login.id,
                    user_code: flow.user_code.clone(),
                    verification_uri: flow.verification_uri.clone(),
                    expires_in: flow.expires_in,
                });
                Ok(())
            })
        },
    )
    .await
}

/// Client credentials: a token for the client itself.
#[tauri::command]
pub async fn signin_client_credentials<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
    account: Option<String>,
    target: Option<Target>,
) -> CommandResult<SignedIn> {
    let request = request(&state, name, account, target).await?;
    direct(&app, &state, move |vault| {
        signin::client_credentials(vault, &request)
    })
    .await
}

/// The JWT bearer grant (RFC 7523 §2.1) for the client itself: a service account's token,
/// its assertion signed with the provider's client key.
#[tauri::command]
pub async fn signin_jwt_bearer<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
    account: Option<String>,
    target: Option<Target>,
) -> CommandResult<SignedIn> {
    let request = request(&state, name, account, target).await?;
    direct(&app, &state, move |vault| {
        signin::jwt_bearer(vault, &request, None)
    })
    .await
}

/// A grant with nobody to wait for: `grant` off the UI thread, then the token table told.
async fn direct<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    grant: impl FnOnce(&SharedVault) -> Result<SignedIn> + Send + 'static,
) -> CommandResult<SignedIn> {
    let vault = state.vault.clone();
    let signed = blocking(move || grant(&vault)).await?;
    let _ = app.emit("tokens-changed", ());
    Ok(signed)
}

/// What one sign-in asks tokens for, instead of the provider's own (RFC 8707 resources, an
/// audience); empty values are not given.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Target {
    resources: Vec<String>,
    audience: Option<String>,
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
        if !s.in_browser {
            return Err(Error::InvalidInput(
                "this provider redirects to a custom URL, which only the login window can \
                 catch: finish signing in there"
                    .into(),
            )
            .into());
        }
        s.moved_to_browser.store(true, Ordering::SeqCst);
        s.url.clone()
    };
    open_in_browser(&app, &url)?;
    close_login_window(&app, id);
    Ok(())
}

/// Signs an account out: its tokens revoked, then the provider's session ended in a login
/// window (or the browser, for a provider set to it), which closes once the provider sends the
/// person back. Closing it first leaves that session open; the tokens are revoked anyway.
#[tauri::command]
pub async fn sign_out<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
    account: String,
    forget: bool,
) -> CommandResult<SignedOut> {
    let in_browser = {
        let name = name.clone();
        state
            .with_vault(move |v| {
                Ok(table::get(v.conn(), &name)?.sign_in_with == SignInWith::Browser)
            })
            .await?
    };
    let login = Login {
        app: app.clone(),
        vault: state.vault.clone(),
        id: state.next_signin_id(),
        provider: name,
        cancel: Cancel::default(),
        moved_to_browser: Arc::default(),
    };
    let id = login.id;
    // The dialog's Cancel (`cancel_sign_out`) stops the wait for the provider's return.
    *state.sign_out_cancel.lock().unwrap() = Some(login.cancel.clone());
    let outcome = blocking(move || {
        signout::sign_out(
            &login.vault,
            &login.provider,
            Some(&account),
            forget,
            &login.cancel,
            if in_browser {
                signout::ShownIn::Elsewhere
            } else {
                signout::ShownIn::LoginWindow
            },
            |url| {
                if in_browser {
                    open_in_browser(&login.app, url)
                } else {
                    login.open_window_for("Sign out of", url, None)
                }
            },
        )
    })
    .await;
    close_login_window(&app, id);
    let _ = app.emit("tokens-changed", ());
    Ok(outcome?)
}

/// Stops waiting for the provider to end its session (the tokens are revoked already).
#[tauri::command]
pub async fn cancel_sign_out<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CommandResult<()> {
    if let Some(cancel) = state.sign_out_cancel.lock().unwrap().take() {
        cancel.cancel();
    }
    let _ = app.emit("tokens-changed", ());
    Ok(())
}

#[tauri::command]
pub async fn cancel_signin<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: u64,
) -> CommandResult<()> {
    if let Some(s) = state.signins.lock().unwrap().get(&id) {
        s.cancel.cancel();
    }
    close_login_window(&app, id);
    Ok(())
}

async fn request(
    state: &AppState,
    name: String,
    account: Option<String>,
    target: Option<Target>,
) -> Result<Request> {
    let provider = state
        .with_vault(move |v| table::get(v.conn(), &name))
        .await?;
    let Target {
        resources,
        audience,
    } = target.unwrap_or_default();
    Request {
        provider,
        scopes: Vec::new(),
        account,
    }
    .for_target(
        resources
            .into_iter()
            .filter(|r| !r.trim().is_empty())
            .collect(),
        audience.filter(|a| !a.trim().is_empty()),
    )
}

/// Runs a sign-in of provider `name` in the background: the command answers with what it
/// hands over, and its outcome comes as `signin-finished`.
async fn in_background<R: Runtime, T: Send + 'static>(
    app: &AppHandle<R>,
    state: &AppState,
    name: String,
    account: Option<String>,
    target: Option<Target>,
    sign_in: impl FnOnce(&Request, &Login<R>, &dyn Fn(T)) -> Result<SignedIn> + Send + 'static,
) -> CommandResult<T> {
    let request = request(state, name, account, target).await?;
    let login = Login {
        app: app.clone(),
        vault: state.vault.clone(),
        id: state.next_signin_id(),
        provider: request.provider.name.clone(),
        cancel: Cancel::default(),
        moved_to_browser: Arc::default(),
    };
    let (app, id, provider) = (app.clone(), login.id, login.provider.clone());
    Ok(blocking(move || {
        background::start(
            "signin",
            move |hand_over| sign_in(&request, &login, hand_over),
            move |outcome| finish(&app, id, provider, outcome),
        )
    })
    .await?)
}

/// A sign-in the window runs: its id, and the switches its login window and the Cancel and
/// "Open in browser" buttons work.
struct Login<R: Runtime> {
    app: AppHandle<R>,
    vault: SharedVault,
    id: u64,
    provider: String,
    cancel: Cancel,
    moved_to_browser: Arc<AtomicBool>,
}

impl<R: Runtime> Login<R> {
    /// The login window at `start`, catching the redirect if one is given.
    fn open_window(&self, start: &str, redirect: Option<(Url, code::Catcher)>) -> Result<()> {
        self.open_window_for("Sign in to", start, redirect)
    }

    /// The login window for `purpose` ("Sign in to", "Sign out of"), as its title says.
    fn open_window_for(
        &self,
        purpose: &'static str,
        start: &str,
        redirect: Option<(Url, code::Catcher)>,
    ) -> Result<()> {
        let (redirect, caught) = redirect.unzip();
        LoginWindow {
            id: self.id,
            purpose,
            provider: self.provider.clone(),
            start: Url::parse(start).map_err(invalid)?,
            redirect,
            caught,
            cancel: self.cancel.clone(),
            moved_to_browser: self.moved_to_browser.clone(),
        }
        .open(&self.app)
        .map_err(|e| Error::InvalidInput(format!("cannot open the login window: {e}")))
    }

    /// From now on the buttons can cancel the sign-in or move it to the browser at `url`
    /// (when `in_browser`: the browser can finish it).
    fn register(&self, url: &str, in_browser: bool) {
        if let Some(state) = self.app.try_state::<AppState>() {
            state.signins.lock().unwrap().insert(
                self.id,
                Signin {
                    cancel: self.cancel.clone(),
                    moved_to_browser: self.moved_to_browser.clone(),
                    url: url.to_owned(),
                    in_browser,
                },
            );
        }
    }
}

/// Announces the outcome (the core logged a failure already), and closes the login window.
fn finish<R: Runtime>(app: &AppHandle<R>, id: u64, provider: String, outcome: Result<SignedIn>) {
    close_login_window(app, id);
    if let Some(state) = app.try_state::<AppState>() {
        state.signins.lock().unwrap().remove(&id);
    }
    let ok = outcome.is_ok();
    let event = SigninFinished {
        id,
        provider,
        signed_in: outcome.as_ref().ok().cloned(),
        error: outcome.err().map(CommandError::from),
    };
    let _ = app.emit("signin-finished", event);
    if ok {
        let _ = app.emit("tokens-changed", ());
    }
}

fn close_login_window<R: Runtime>(app: &AppHandle<R>, id: u64) {
    if let Some(w) = app.get_webview_window(&login_window::label(id)) {
        // destroy, not close: a close can leave a window that is busy loading only hidden.
        let _ = w.destroy();
    }
}

fn open_in_browser<R: Runtime>(app: &AppHandle<R>, url: &str) -> Result<()> {
    app.opener()
        .open_url(url, None::<&str>)
        .map_err(|e| Error::InvalidInput(format!("cannot open the system browser: {e}")))
}

fn invalid(e: url::ParseError) -> Error {
    Error::InvalidInput(e.to_string())
}
