//! The token table's commands: a page of rows (filtered and sorted in SQL), refresh and revoke.
//! Refreshes go through the same cross-process lock as the CLI's.

use oauth_desk_core::fresh::{self, RefreshOutcome};
use oauth_desk_core::http::Http;
use oauth_desk_core::revoke::{self, Revoked};
use oauth_desk_core::time;
use oauth_desk_core::vault::tokens::{self, TokenPage, TokenQuery};
use tauri::{AppHandle, Emitter, Runtime, State};

use crate::error::CommandResult;
use crate::state::AppState;

#[tauri::command]
pub async fn query_tokens(
    state: State<'_, AppState>,
    query: TokenQuery,
) -> CommandResult<TokenPage> {
    Ok(state
        .with_vault(move |v| tokens::query(v.conn(), &query, time::now()))
        .await?)
}

#[tauri::command]
pub async fn refresh_token<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    provider: String,
    account: String,
) -> CommandResult<RefreshOutcome> {
    let outcome = state
        .with_vault(move |v| fresh::refresh(v, &provider, Some(&account), &Http::new, &time::now))
        .await;
    // A failure changes the row too (its status and last error).
    let _ = app.emit("tokens-changed", ());
    Ok(outcome?)
}

#[tauri::command]
pub async fn revoke_token<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    provider: String,
    account: String,
) -> CommandResult<Revoked> {
    let outcome = state
        .with_vault(move |v| {
            revoke::revoke(v, &provider, Some(&account), &Http::new()?, time::now()).map(|(_, r)| r)
        })
        .await;
    let _ = app.emit("tokens-changed", ());
    Ok(outcome?)
}
