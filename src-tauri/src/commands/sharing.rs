//! Provider definitions shared without secrets: export to a file, and import one after
//! showing what changes and asking for the secrets new clients need.

use std::collections::HashMap;

use oauth_desk_core::provider_sharing::{self, Plan};
use oauth_desk_core::{time, Error, Secret};
use tauri::State;

use crate::commands::keys::expand;
use crate::error::CommandResult;
use crate::state::AppState;

/// Writes every provider (without secrets) to `path`; refuses to overwrite a file.
#[tauri::command]
pub async fn export_providers(state: State<'_, AppState>, path: String) -> CommandResult<usize> {
    let path = expand(&path)?;
    Ok(state
        .with_vault(move |v| {
            let text = provider_sharing::export(v, &[])?;
            let count = serde_json::from_str::<Vec<serde_json::Value>>(&text)
                .map(|l| l.len())
                .unwrap_or(0);
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
            f.write_all(text.as_bytes())
                .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
            Ok(count)
        })
        .await?)
}

fn read(path: &str) -> Result<String, Error> {
    let path = expand(path)?;
    let meta = std::fs::metadata(&path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    if meta.len() > provider_sharing::MAX_FILE as u64 {
        return Err(Error::InvalidInput(
            "the file is over 1 MB; it is not a list of providers".into(),
        ));
    }
    let bytes = std::fs::read(&path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    String::from_utf8(bytes).map_err(|_| Error::InvalidInput("the file is not UTF-8 text".into()))
}

/// What importing the file would change; nothing is changed.
#[tauri::command]
pub async fn plan_provider_import(state: State<'_, AppState>, path: String) -> CommandResult<Plan> {
    let text = read(&path)?;
    Ok(state
        .with_vault(move |v| provider_sharing::plan(v, &text))
        .await?)
}

/// Imports the file (checked again) that the preview showed, `digest` its plan's, with the
/// typed secrets of the new clients, by name. Returns what moves to other hosts did.
#[tauri::command]
pub async fn apply_provider_import(
    state: State<'_, AppState>,
    path: String,
    digest: String,
    secrets: HashMap<String, String>,
) -> CommandResult<Vec<(String, String)>> {
    let text = read(&path)?;
    let secrets: HashMap<String, Secret<String>> = secrets
        .into_iter()
        .filter(|(_, s)| !s.is_empty())
        .map(|(k, s)| (k, Secret::new(s)))
        .collect();
    Ok(state
        .with_vault(move |v| {
            let plan = provider_sharing::plan(v, &text)?;
            plan.check_previewed(&digest)?;
            provider_sharing::apply(v, &plan, &secrets, time::now())
        })
        .await?)
}
