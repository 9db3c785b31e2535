//! The local REST API from Settings: off by default; start and stop it, show and regenerate
//! its key. It serves the window's own vault, so the two never disagree.

use std::sync::Arc;

use oauth_desk_api::ApiState;
use oauth_desk_core::vault::settings;
use oauth_desk_core::Error;
use serde::Serialize;
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

pub struct RunningApi {
    pub port: u16,
    pub state: Arc<ApiState>,
    pub stop: tokio::sync::oneshot::Sender<()>,
}

#[derive(Debug, Serialize)]
pub struct ApiStatus {
    pub running: bool,
    pub port: Option<u16>,
}

#[tauri::command]
pub fn api_status(state: State<'_, AppState>) -> ApiStatus {
    let api = state.api.lock().unwrap();
    ApiStatus {
        running: api.is_some(),
        port: api.as_ref().map(|a| a.port),
    }
}

/// Starts the API and remembers that it is on (and on which port) for the next start.
#[tauri::command]
pub async fn start_api(state: State<'_, AppState>, port: u16) -> CommandResult<ApiStatus> {
    let status = start(&state, port).await?;
    remember(&state, true, (port != 0).then_some(port)).await?;
    Ok(status)
}

async fn remember(state: &AppState, on: bool, port: Option<u16>) -> Result<(), Error> {
    state
        .with_vault(move |v| {
            let mut s = settings::get(v.conn())?;
            s.api_enabled = on;
            if let Some(p) = port {
                s.api_port = p;
            }
            settings::set(v.conn(), &s)
        })
        .await
}

pub async fn start(state: &AppState, port: u16) -> Result<ApiStatus, Error> {
    if let Some(a) = state.api.lock().unwrap().as_ref() {
        return Ok(ApiStatus {
            running: true,
            port: Some(a.port),
        });
    }
    let key = state
        .with_vault(|v| settings::api_key(v.conn(), false))
        .await?;
    let api = ApiState::new(state.vault.clone(), key);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<u16>();
    let serving = api.clone();
    let task = tauri::async_runtime::spawn(async move {
        oauth_desk_api::serve_until(
            serving,
            port,
            move |addr| {
                let _ = ready_tx.send(addr.port());
            },
            async move {
                let _ = stop_rx.await;
            },
        )
        .await
    });
    let port = match ready_rx.await {
        Ok(p) => p,
        Err(_) => {
            let e = task
                .await
                .map_err(|e| Error::Storage(e.to_string()))?
                .err()
                .unwrap_or_else(|| Error::Storage("the API stopped at once".into()));
            return Err(e);
        }
    };
    *state.api.lock().unwrap() = Some(RunningApi {
        port,
        state: api,
        stop: stop_tx,
    });
    Ok(ApiStatus {
        running: true,
        port: Some(port),
    })
}

#[tauri::command]
pub async fn stop_api(state: State<'_, AppState>) -> CommandResult<ApiStatus> {
    if let Some(a) = state.api.lock().unwrap().take() {
        let _ = a.stop.send(());
    }
    remember(&state, false, None).await?;
    Ok(ApiStatus {
        running: false,
        port: None,
    })
}

/// The key, shown because the user asked; `regenerate` replaces it (the running API switches
/// to the new one at once).
#[tauri::command]
pub async fn api_key(state: State<'_, AppState>, regenerate: bool) -> CommandResult<String> {
    let key = state
        .with_vault(move |v| settings::api_key(v.conn(), regenerate))
        .await?;
    if regenerate {
        if let Some(a) = state.api.lock().unwrap().as_ref() {
            a.state.set_key(key.clone());
        }
    }
    Ok(key.expose().clone())
}
