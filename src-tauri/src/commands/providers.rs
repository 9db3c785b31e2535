//! The Providers view's commands: list, the form (check as typed, discover, presets), add,
//! update, remove. Each is a few lines over `oauth_desk_core::providers`.

use std::collections::BTreeMap;

use oauth_desk_core::http::Http;
use oauth_desk_core::oauth::discovery::{self, Fill};
use oauth_desk_core::oauth::presets::{self, Preset};
use oauth_desk_core::oauth::provider::{ProviderForm, ProviderInput};
use oauth_desk_core::providers::Updated;
use oauth_desk_core::vault::provider_table::ProviderView;
use oauth_desk_core::{providers, time, Error, FieldError};
use tauri::State;

use crate::error::CommandResult;
use crate::state::{blocking, AppState};

#[tauri::command]
pub async fn list_providers(state: State<'_, AppState>) -> CommandResult<Vec<ProviderView>> {
    Ok(state.with_vault(providers::list).await?)
}

/// The form of an existing provider, to edit it.
#[tauri::command]
pub async fn provider_form(
    state: State<'_, AppState>,
    name: String,
) -> CommandResult<ProviderForm> {
    Ok(state
        .with_vault(move |v| {
            let view = providers::show(v, &name)?;
            Ok(ProviderInput::from_record(&view.record()).to_form())
        })
        .await?)
}

/// Every problem with the form as it stands; nothing is saved.
#[tauri::command]
pub async fn check_provider(
    state: State<'_, AppState>,
    input: ProviderInput,
    editing: Option<String>,
) -> CommandResult<Vec<FieldError>> {
    Ok(state
        .with_vault(move |v| providers::check(v, &input, editing.as_deref()))
        .await?)
}

#[tauri::command]
pub async fn add_provider(
    state: State<'_, AppState>,
    input: ProviderInput,
) -> CommandResult<ProviderView> {
    Ok(state
        .with_vault(move |v| providers::add(v, &input, time::now()))
        .await?)
}

#[tauri::command]
pub async fn update_provider(
    state: State<'_, AppState>,
    name: String,
    input: ProviderInput,
) -> CommandResult<Updated> {
    Ok(state
        .with_vault(move |v| providers::update(v, &name, &input, time::now()))
        .await?)
}

/// Removes a provider and its tokens (the window has asked first); returns how many tokens went.
#[tauri::command]
pub async fn remove_provider(state: State<'_, AppState>, name: String) -> CommandResult<i64> {
    Ok(state
        .with_vault(move |v| providers::remove(v, &name, time::now()))
        .await?)
}

/// Fetches the issuer's metadata and returns the form with every endpoint it names filled in.
#[tauri::command]
pub async fn discover_provider(mut input: ProviderInput) -> CommandResult<ProviderForm> {
    Ok(blocking(move || {
        let issuer = input.issuer.clone().unwrap_or_default();
        let metadata = discovery::discover(&Http::new()?, &issuer)?;
        metadata.fill(&mut input, Fill::Overwrite);
        Ok(input.to_form())
    })
    .await?)
}

#[tauri::command]
pub fn list_presets() -> Vec<Preset> {
    presets::all().to_vec()
}

/// The form as a preset fills it, with the values it needs (tenant, server URL...).
#[tauri::command]
pub fn apply_preset(id: String, params: BTreeMap<String, String>) -> CommandResult<ProviderForm> {
    let preset = presets::find(&id)
        .ok_or_else(|| Error::field("preset", format!("there is no preset named {id:?}")))?;
    Ok(preset.fill(&params)?.to_form())
}
