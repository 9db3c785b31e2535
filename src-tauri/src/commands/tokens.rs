//! The token table's commands: a page of rows (filtered and sorted in SQL), refresh and revoke.
//! Refreshes go through the same cross-process lock as the CLI's.

use oauth_desk_core::http::Http;
use oauth_desk_core::refresh::{self, RefreshOutcome};
use oauth_desk_core::revoke::{self, Revoked};
use oauth_desk_core::time;
use oauth_desk_core::vault::tokens::{self, TokenPage, TokenQuery};
use tauri::{AppHandle, Emitter, Runtime, State};

use oauth_desk_core::details::{self, Details};
use oauth_desk_core::{exchange, import};

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
        .with_vault(move |v| refresh::refresh(v, &provider, Some(&account), &Http::new, &time::now))
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

/// Trades the subject's token (and the actor's) at provider `name` for a token of its own,
/// stored as an account of `name` (RFC 8693).
#[tauri::command]
pub async fn exchange_token<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
    input: exchange::Asked,
) -> CommandResult<exchange::Exchanged> {
    let outcome = state
        .with_vault(move |v| input.exchange(v, &name, &Http::new()?, time::now()))
        .await;
    let _ = app.emit("tokens-changed", ());
    Ok(outcome?)
}

/// The token's decoded claims, userinfo and introspection, on request.
#[tauri::command]
pub async fn token_details(
    state: State<'_, AppState>,
    provider: String,
    account: String,
) -> CommandResult<Details> {
    Ok(state
        .with_vault(move |v| details::details(v, &provider, &account, &Http::new()?))
        .await?)
}

/// The access token itself, shown only because the user pressed Reveal.
#[tauri::command]
pub async fn reveal_access_token(
    state: State<'_, AppState>,
    provider: String,
    account: String,
) -> CommandResult<String> {
    Ok(stored_access_token(&state, provider, account)
        .await?
        .expose()
        .clone())
}

/// The stored access token (none once revoked), for Reveal and Copy.
async fn stored_access_token(
    state: &AppState,
    provider: String,
    account: String,
) -> oauth_desk_core::Result<oauth_desk_core::Secret<String>> {
    state
        .with_vault(move |v| {
            tokens::get(v.conn(), &provider, &account)?
                .access_token
                .ok_or_else(|| oauth_desk_core::Error::NotFound("this token was revoked".into()))
        })
        .await
}

/// Copies the access token to the clipboard and clears it after the delay in Settings (0:
/// only when the vault locks or the app quits), unless something else was copied meanwhile.
/// The token never passes through the page. Returns the delay.
#[tauri::command]
pub async fn copy_access_token<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    provider: String,
    account: String,
) -> CommandResult<u64> {
    copy_token(app, &state, provider, account).await
}

/// Copies an account's access token, cleared from the clipboard after Settings' delay, on lock
/// and on quit (the window's Copy, the tray's menu).
pub(crate) async fn copy_token<R: Runtime>(
    app: AppHandle<R>,
    state: &AppState,
    provider: String,
    account: String,
) -> CommandResult<u64> {
    let token = stored_access_token(state, provider, account).await?;
    let delay = state
        .with_vault(|v| oauth_desk_core::vault::settings::get(v.conn()))
        .await?
        .clipboard_clear_secs
        .max(0) as u64;
    state.copied.put(&app, token, delay).map_err(|e| {
        oauth_desk_core::Error::InvalidInput(format!("cannot use the clipboard: {e}"))
    })?;
    // The vault locked while the token was on its way: the lock's clearing may have come
    // before the copy. A lock empties the vault before it clears, so this sees it.
    if state.vault.lock().is_none() {
        state.copied.clear(&app);
    }
    Ok(delay)
}

/// Stores a token obtained elsewhere (a token response as JSON), checked like one.
#[tauri::command]
pub async fn import_token<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    provider: String,
    account: String,
    json: String,
) -> CommandResult<Option<i64>> {
    let expires = state
        .with_vault(move |v| import::import(v, &provider, &account, json.as_bytes(), time::now()))
        .await?;
    let _ = app.emit("tokens-changed", ());
    Ok(expires)
}
