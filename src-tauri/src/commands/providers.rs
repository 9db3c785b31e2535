//! The Providers view's commands: list, the form (check as typed, discover, presets), add,
//! update, remove. Each is a few lines over `oauth_desk_core::providers`.

use std::collections::BTreeMap;

use oauth_desk_core::http::Http;
use oauth_desk_core::oauth::discovery::{self, Fill};
use oauth_desk_core::oauth::presets::{self, Preset};
use oauth_desk_core::oauth::provider::{ProviderForm, ProviderInput};
use oauth_desk_core::providers::{registration, Updated};
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

/// Registers a new client at the provider (RFC 7591) and adds the provider with it; the
/// initial access token, when the provider asks for one, is used for this request only.
#[tauri::command]
pub async fn register_provider(
    state: State<'_, AppState>,
    input: ProviderInput,
    initial_token: Option<String>,
) -> CommandResult<ProviderView> {
    let token = initial_token
        .filter(|t| !t.is_empty())
        .map(oauth_desk_core::Secret::new);
    Ok(state
        .with_vault(move |v| {
            registration::register(v, &input, token.as_ref(), &Http::new()?, time::now())
        })
        .await?)
}

/// Sends the provider's settings to the client's registration at the provider (RFC 7592).
#[tauri::command]
pub async fn update_registration(
    state: State<'_, AppState>,
    name: String,
) -> CommandResult<ProviderView> {
    Ok(state
        .with_vault(move |v| {
            registration::update_registration(v, &name, &Http::new()?, time::now())?;
            providers::show(v, &name)
        })
        .await?)
}

/// Deletes the client at the provider, then the provider here; nothing here when it refuses.
#[tauri::command]
pub async fn deregister_provider(state: State<'_, AppState>, name: String) -> CommandResult<i64> {
    Ok(state
        .with_vault(move |v| registration::deregister(v, &name, &Http::new()?, time::now()))
        .await?)
}

/// Copies the public JWK of the provider's client key, to paste into the provider's console.
/// (Public: there is nothing to clear afterwards.)
#[tauri::command]
pub async fn copy_public_key<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
) -> CommandResult<()> {
    use tauri_plugin_clipboard_manager::ClipboardExt;
    let view = state.with_vault(move |v| providers::show(v, &name)).await?;
    let key = view.client_key.ok_or_else(|| {
        oauth_desk_core::Error::InvalidInput(format!(
            "{} has no client key",
            oauth_desk_core::text::shown(&view.config.name)
        ))
    })?;
    let jwk = serde_json::to_string_pretty(&key.jwk).expect("a JWK serializes");
    app.clipboard().write_text(jwk).map_err(|e| {
        oauth_desk_core::Error::InvalidInput(format!("cannot use the clipboard: {e}"))
    })?;
    Ok(())
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
pub async fn discover_provider(mut input: ProviderInput) -> CommandResult<Discovered> {
    Ok(blocking(move || {
        let issuer = input.issuer.clone().unwrap_or_default();
        let metadata = discovery::discover(&Http::new()?, &issuer)?;
        metadata.fill(&mut input, Fill::Overwrite);
        Ok(Discovered {
            form: input.to_form(),
            disagreements: metadata.disagreements,
        })
    })
    .await?)
}

/// The form as discovery fills it, and the endpoints for the person to choose between.
#[derive(serde::Serialize)]
pub struct Discovered {
    form: ProviderForm,
    disagreements: Vec<discovery::Disagreement>,
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

/// The form as a Google service-account key file fills it: its token endpoint, its email as
/// the client id, private_key_jwt. Its key is read again from the file when the form is saved
/// (the page never holds a private key).
#[tauri::command]
pub async fn service_account_form(path: String) -> CommandResult<ProviderForm> {
    Ok(blocking(move || {
        Ok(oauth_desk_core::oauth::service_account::read(std::path::Path::new(&path))?.to_form())
    })
    .await?)
}

/// The window's form and the types `ui/api.js` declares are written by hand; these hold them
/// to the core's field list, so a field added there and not here fails `make check`.
#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use oauth_desk_core::oauth::provider::{ProviderConfig, FIELDS};
    use oauth_desk_core::vault::provider_table::ProviderView;

    fn ui(file: &str) -> String {
        let path = format!("{}/../ui/{file}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The words before a colon (`name: type`) in one JSDoc typedef of `ui/api.js`.
    fn typedef_keys(js: &str, name: &str) -> BTreeSet<String> {
        let end = js
            .find(&format!("}} {name}"))
            .unwrap_or_else(|| panic!("no typedef {name}"));
        let start = js[..end].rfind("@typedef {{").expect("typedef start");
        js[start + "@typedef {{".len()..end]
            .split(',')
            .filter_map(|entry| entry.split(':').next())
            .map(|key| key.trim_matches(|c: char| c == '*' || c.is_whitespace()))
            // What a type's own comma leaves (`Record<string, string>`) is not a key.
            .filter(|key| {
                !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_form_has_an_input_for_every_field_and_the_secret() {
        let form = ui("views/provider-form.js");
        let named: BTreeSet<&str> = form
            .split("name: '")
            .skip(1)
            .filter_map(|rest| rest.split('\'').next())
            .collect();
        let mut expected: BTreeSet<&str> = FIELDS.iter().map(|f| f.name).collect();
        expected.insert("client_secret");
        expected.insert("client_key");
        expected.insert("client_cert");
        assert_eq!(named, expected);
    }

    #[test]
    fn the_form_marks_the_source_of_every_endpoint_discovery_fills() {
        let form = ui("views/provider-form.js");
        let marked: BTreeSet<&str> = form
            .split("name: '")
            .skip(1)
            .filter(|rest| {
                // A field's object ends at its closing brace; `discovered: true` is inside it.
                let end = rest.find('}').unwrap_or(rest.len());
                rest[..end].contains("discovered: true")
            })
            .filter_map(|rest| rest.split('\'').next())
            .collect();
        let filled: BTreeSet<&str> = oauth_desk_core::oauth::discovery::endpoint_fields().collect();
        assert_eq!(
            marked, filled,
            "each endpoint discovery fills shows its source"
        );
    }

    #[test]
    fn api_js_declares_the_provider_view_the_core_serializes() {
        let view = ProviderView {
            id: 1,
            config: ProviderConfig::default(),
            has_client_secret: false,
            client_key: None,
            dpop_key: None,
            client_cert: None,
            registered: false,
            endpoint_sources: Default::default(),
            accounts: 0,
            created_at: 0,
            updated_at: 0,
        };
        let sent: BTreeSet<String> = serde_json::to_value(&view)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(typedef_keys(&ui("api.js"), "ProviderView"), sent);
    }
}
