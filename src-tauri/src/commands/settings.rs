//! Settings: read and save them (the proxy takes effect at once), and the proxy password,
//! which is written here and never read back.

use oauth_desk_core::vault::settings::{self, Settings, SettingsView};
use oauth_desk_core::Secret;
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> CommandResult<SettingsView> {
    Ok(state.with_vault(|v| settings::view(v.conn())).await?)
}

#[tauri::command]
pub async fn save_settings(state: State<'_, AppState>, settings: Settings) -> CommandResult<()> {
    let saved = settings.clone();
    state
        .with_vault(move |v| {
            settings::set(v.conn(), &settings)?;
            settings::apply(v.conn())
        })
        .await?;
    state.apply_settings(&saved);
    Ok(())
}

/// Sets the proxy password; an empty one removes it.
#[tauri::command]
pub async fn set_proxy_password(state: State<'_, AppState>, password: String) -> CommandResult<()> {
    let password = Secret::new(password);
    Ok(state
        .with_vault(move |v| {
            settings::set_proxy_password(v.conn(), Some(&password))?;
            settings::apply(v.conn())
        })
        .await?)
}
