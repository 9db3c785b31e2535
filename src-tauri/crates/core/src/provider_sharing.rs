//! Sharing provider definitions without secrets: how a team keeps one list of providers.
//! `export` writes the provider JSON of shared/DESIGN.md §4 (an array) with no client secret
//! and no token; `plan` reads such a file and says what importing it would change, without
//! changing anything; `apply` makes those changes in one transaction, with the secrets the
//! user typed for the clients that need one. A file may not carry a stored secret or token to
//! a new host: the plan shows every endpoint old -> new and what a move clears, and the window
//! applies only the file it previewed (`Plan::digest`).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::error::{Error, FieldError, Result};
use crate::oauth::provider::ProviderInput;
use crate::providers::moves::{self, EndpointChange, Moved};
use crate::providers::{changed_fields, insert_logged, update_logged};
use crate::secret::Secret;
use crate::text::shown;
use crate::vault::provider_table::{self as table, ProviderRecord};
use crate::vault::Vault;

/// The most a provider file may weigh: far more than any real list of providers.
pub const MAX_FILE: usize = 1024 * 1024;

/// One provider as a shared file holds it: every setting that is set, in the form's order,
/// never a secret.
#[derive(Debug)]
pub struct SharedProvider(Vec<(&'static str, serde_json::Value)>);

impl From<ProviderRecord> for SharedProvider {
    fn from(r: ProviderRecord) -> Self {
        let mut entries = r.config.entries();
        entries.retain(|(_, v)| !v.is_null());
        SharedProvider(entries)
    }
}

impl Serialize for SharedProvider {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// The providers named (all of them when `names` is empty) as pretty JSON, without secrets.
pub fn export(vault: &Vault, names: &[String]) -> Result<String> {
    let names: Vec<String> = if names.is_empty() {
        table::list(vault.conn())?
            .into_iter()
            .map(|v| v.config.name)
            .collect()
    } else {
        names.to_vec()
    };
    let shared = names
        .iter()
        .map(|n| table::get(vault.conn(), n).map(SharedProvider::from))
        .collect::<Result<Vec<_>>>()?;
    Ok(serde_json::to_string_pretty(&shared).expect("providers serialize") + "\n")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Change {
    Add,
    Update {
        fields: Vec<&'static str>,
        /// Every endpoint the update changes, old -> new.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        endpoints: Vec<EndpointChange>,
        /// Endpoints moving to another host: what will be cleared, who must sign in again.
        #[serde(skip_serializing_if = "Option::is_none")]
        moved: Option<Moved>,
        /// The same in words, for the preview (`Moved::preview`).
        #[serde(skip_serializing_if = "Option::is_none")]
        warning: Option<String>,
    },
    Unchanged,
}

/// What importing one provider would do.
#[derive(Debug, Serialize)]
pub struct Planned {
    pub name: String,
    #[serde(flatten)]
    pub change: Change,
    /// A new confidential client: the user must type its secret (files never carry one).
    pub needs_secret: bool,
    #[serde(skip)]
    input: ProviderInput,
}

/// What importing a file would do, provider by provider. Nothing is changed by making it.
#[derive(Debug, Serialize)]
pub struct Plan {
    /// SHA-256 of the file, hex: a preview's apply passes it back, so that what is imported is
    /// the file that was shown, not one changed since.
    pub digest: String,
    pub providers: Vec<Planned>,
}

impl Plan {
    pub fn needing_secrets(&self) -> impl Iterator<Item = &Planned> {
        self.providers.iter().filter(|p| p.needs_secret)
    }

    pub fn changes_anything(&self) -> bool {
        self.providers.iter().any(|p| p.change != Change::Unchanged)
    }

    /// Refuses unless this plan was made from the file whose digest the preview showed.
    pub fn check_previewed(&self, digest: &str) -> Result<()> {
        if self.digest != digest {
            return Err(Error::InvalidInput(
                "the file has changed since it was previewed; preview it again. Nothing was \
                 imported"
                    .into(),
            ));
        }
        Ok(())
    }
}

fn digest(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Reads a provider file and checks every entry against the vault. The whole file is refused
/// when any entry is wrong: unknown fields, invalid values, a name twice, or a client secret.
pub fn plan(vault: &Vault, text: &str) -> Result<Plan> {
    if text.len() > MAX_FILE {
        return Err(Error::InvalidInput(format!(
            "the provider file is over {} KB; it is not a list of providers",
            MAX_FILE / 1024
        )));
    }
    let entries: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| {
        Error::InvalidInput(format!(
            "the provider file is not a JSON array of providers (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let mut problems: Vec<FieldError> = Vec::new();
    let mut seen = HashSet::new();
    let mut providers = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let label = match entry.get("name").and_then(|n| n.as_str()) {
            Some(n) => format!("provider {} (entry {})", shown(n), i + 1),
            None => format!("entry {}", i + 1),
        };
        let mut problem = |message: String| {
            problems.push(FieldError::new("file", format!("{label}: {message}")));
        };
        let Some(object) = entry.as_object() else {
            problem("is not a JSON object".into());
            continue;
        };
        if object.contains_key("client_secret") {
            problem(
                "holds a client secret; secrets never travel in shared files. Remove it \
                 (importing asks for the secret)"
                    .into(),
            );
            continue;
        }
        if object.contains_key("client_key") || object.contains_key("client_cert") {
            problem(
                "holds a client key; keys never travel in shared files. Remove it, then \
                 generate or import the key on this machine"
                    .into(),
            );
            continue;
        }
        let input: ProviderInput = match serde_json::from_value(entry.clone()) {
            Ok(input) => input,
            // serde names an unknown field and the expected type, never a value.
            Err(e) => {
                problem(e.to_string());
                continue;
            }
        };
        let name = input.name.clone().unwrap_or_default();
        if !name.is_empty() && !seen.insert(name.clone()) {
            problem("the name appears twice in the file".into());
            continue;
        }
        let stored = match table::get(vault.conn(), &name) {
            Ok(r) => Some(r),
            Err(Error::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        let validated = input.validate(stored.as_ref());
        let (record, needs_secret) = match validated {
            Ok(r) => (r, false),
            Err(errors) => {
                // A new confidential client is fine without a secret: the user types it.
                let placeholder = ProviderRecord {
                    client_secret: Some(Secret::new("placeholder".to_owned())),
                    client_key: stored.as_ref().and_then(|s| s.client_key.clone()),
                    ..Default::default()
                };
                let only_secret = errors.iter().all(|e| e.field == "client_secret");
                // So is a stored one without a secret: a move to another host cleared it.
                let secretless = stored.as_ref().is_none_or(|s| s.client_secret.is_none());
                match input.validate(Some(&placeholder)) {
                    Ok(r) if only_secret && secretless => (r, true),
                    _ => {
                        for e in errors {
                            problem(format!("{}: {}", e.field, e.message));
                        }
                        continue;
                    }
                }
            }
        };
        let change = match &stored {
            None => Change::Add,
            Some(old) => {
                let endpoints = moves::moved(old, &record);
                // As `update_logged` will do it: no secret comes with a file but a typed one.
                let mut record = record;
                let key_cleared = !endpoints.is_empty() && old.client_key.is_some();
                if !endpoints.is_empty() && !needs_secret {
                    record.client_secret = None;
                }
                if key_cleared {
                    record.client_key = None;
                    record.client_cert = None;
                }
                let fields = changed_fields(old, &record);
                if fields.is_empty() {
                    Change::Unchanged
                } else {
                    let accounts = table::view(vault.conn(), &old.name)?.accounts;
                    let moved = (!endpoints.is_empty()).then(|| Moved {
                        endpoints,
                        secret_cleared: old.client_secret.is_some() && !needs_secret,
                        key_cleared,
                        signed_out: accounts,
                    });
                    Change::Update {
                        fields,
                        endpoints: moves::endpoint_changes(old, &record),
                        warning: moved.as_ref().map(Moved::preview),
                        moved,
                    }
                }
            }
        };
        providers.push(Planned {
            name,
            change,
            needs_secret,
            input,
        });
    }
    if entries.is_empty() {
        return Err(Error::InvalidInput(
            "the provider file holds no providers".into(),
        ));
    }
    if !problems.is_empty() {
        return Err(Error::InvalidFields(problems));
    }
    Ok(Plan {
        digest: digest(text),
        providers,
    })
}

/// Makes the plan's changes in one transaction. `secrets` holds the typed secret of every
/// provider that needs one, by name. Returns, by provider, what a move to another host did.
pub fn apply(
    vault: &Vault,
    plan: &Plan,
    secrets: &HashMap<String, Secret<String>>,
    now: i64,
) -> Result<Vec<(String, String)>> {
    let missing: Vec<String> = plan
        .needing_secrets()
        .filter(|p| !secrets.contains_key(&p.name))
        .map(|p| shown(&p.name))
        .collect();
    if !missing.is_empty() {
        return Err(Error::InvalidInput(format!(
            "{} need a client secret; nothing was imported",
            missing.join(", ")
        )));
    }
    let mut notices = Vec::new();
    // As `providers::update`: no refresh in flight may store tokens after a move signed out.
    let _lock = crate::refresh::RefreshLock::acquire(vault.path())?;
    let tx = vault.conn().unchecked_transaction()?;
    for p in &plan.providers {
        let stored = match table::get(&tx, &p.name) {
            Ok(r) => Some(r),
            Err(Error::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        let mut input = p.input.clone();
        if let Some(s) = secrets.get(&p.name) {
            input.client_secret = Some(s.clone());
        }
        let record = input
            .validate(stored.as_ref())
            .map_err(Error::InvalidFields)?;
        match stored {
            None => insert_logged(&tx, &record, now)?,
            Some(old) => {
                let typed = secrets.contains_key(&p.name);
                if let Some(m) = update_logged(&tx, &old, &record, typed, now)?.moved {
                    notices.push((p.name.clone(), m.notice()));
                }
            }
        }
    }
    tx.commit()?;
    Ok(notices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers;

    fn confidential(name: &str) -> ProviderInput {
        ProviderInput {
            name: Some(name.into()),
            token_url: Some("https://idp.example/token".into()),
            authorization_url: Some("https://idp.example/auth".into()),
            client_id: Some("desk".into()),
            client_secret: Some("canary-secret-7".into()),
            scopes: Some(crate::oauth::provider::ListOrText::Text(
                "openid email".into(),
            )),
            ..Default::default()
        }
    }

    #[test]
    fn export_then_import_elsewhere_adds_and_asks_for_secrets() {
        let a = Vault::open_in_memory().unwrap();
        providers::add(&a, &confidential("corp"), 1).unwrap();
        let public = ProviderInput {
            client_secret: None,
            client_auth: Some("none".into()),
            ..confidential("public")
        };
        providers::add(&a, &public, 1).unwrap();
        let file = export(&a, &[]).unwrap();
        assert!(!file.contains("canary"), "no secret in the file: {file}");
        assert!(!file.contains("client_secret"));

        let b = Vault::open_in_memory().unwrap();
        let plan = plan(&b, &file).unwrap();
        let needing: Vec<&str> = plan.needing_secrets().map(|p| p.name.as_str()).collect();
        assert_eq!(needing, vec!["corp"]);
        assert_eq!(
            apply(&b, &plan, &HashMap::new(), 2).unwrap_err().code(),
            "invalid_input"
        );
        assert!(providers::list(&b).unwrap().is_empty(), "all or nothing");
        let secrets = HashMap::from([("corp".to_string(), Secret::new("typed".to_string()))]);
        apply(&b, &plan, &secrets, 2).unwrap();
        let corp = table::get(b.conn(), "corp").unwrap();
        assert_eq!(corp.client_secret.as_ref().unwrap().expose(), "typed");
        assert_eq!(corp.scopes, vec!["openid", "email"]);
        assert_eq!(
            export(&b, &[]).unwrap(),
            file,
            "a round trip changes nothing"
        );
        let again = super::plan(&b, &file).unwrap();
        assert!(!again.changes_anything());
    }

    #[test]
    fn an_update_names_its_fields_and_keeps_the_stored_secret() {
        let v = Vault::open_in_memory().unwrap();
        providers::add(&v, &confidential("corp"), 1).unwrap();
        let mut shared: serde_json::Value =
            serde_json::from_str(&export(&v, &[]).unwrap()).unwrap();
        shared[0]["token_url"] = "https://idp.example/v2/token".into();
        let plan = plan(&v, &shared.to_string()).unwrap();
        assert_eq!(
            plan.providers[0].change,
            Change::Update {
                fields: vec!["token_url"],
                endpoints: vec![EndpointChange {
                    field: "token_url",
                    old: Some("https://idp.example/token".into()),
                    new: Some("https://idp.example/v2/token".into()),
                }],
                moved: None,
                warning: None,
            }
        );
        assert!(!plan.providers[0].needs_secret);
        apply(&v, &plan, &HashMap::new(), 2).unwrap();
        let corp = table::get(v.conn(), "corp").unwrap();
        assert_eq!(
            corp.client_secret.as_ref().unwrap().expose(),
            "canary-secret-7"
        );
        assert_eq!(
            corp.token_url.as_deref().unwrap(),
            "https://idp.example/v2/token"
        );
    }

    #[test]
    fn a_file_moving_the_token_endpoint_shows_it_and_carries_nothing_there() {
        let v = Vault::open_in_memory().unwrap();
        providers::add(&v, &confidential("corp"), 1).unwrap();
        let id = table::view(v.conn(), "corp").unwrap().id;
        let token = crate::vault::tokens::tests::sample("alice");
        crate::vault::tokens::upsert(v.conn(), id, &token, 1).unwrap();
        let mut shared: serde_json::Value =
            serde_json::from_str(&export(&v, &[]).unwrap()).unwrap();
        shared[0]["token_url"] = "https://evil.example/token".into();
        let text = shared.to_string();
        let plan = plan(&v, &text).unwrap();
        let Change::Update {
            endpoints, moved, ..
        } = &plan.providers[0].change
        else {
            panic!("an update: {:?}", plan.providers[0].change)
        };
        assert_eq!(
            endpoints[0].new.as_deref(),
            Some("https://evil.example/token")
        );
        assert_eq!(
            endpoints[0].old.as_deref(),
            Some("https://idp.example/token")
        );
        assert_eq!(
            moved.as_ref().unwrap().preview(),
            "the token endpoint moves to another host: its account will have to sign in again; \
             its client secret will be cleared"
        );
        assert!(plan.check_previewed(&digest(&text)).is_ok());
        assert_eq!(
            plan.check_previewed(&digest("[]")).unwrap_err().code(),
            "invalid_input"
        );
        let notices = apply(&v, &plan, &HashMap::new(), 2).unwrap();
        assert_eq!(notices.len(), 1, "{notices:?}");
        let corp = table::get(v.conn(), "corp").unwrap();
        assert!(corp.client_secret.is_none(), "the secret stays behind");
        let t = crate::vault::tokens::get(v.conn(), "corp", "alice").unwrap();
        assert!(t.refresh_token.is_none(), "the refresh token stays behind");
        // Importing it again asks for the new host's secret instead of refusing the file.
        let again = super::plan(&v, &text).unwrap();
        assert!(again.providers[0].needs_secret);
    }

    #[test]
    fn bad_files_are_refused_whole() {
        let v = Vault::open_in_memory().unwrap();
        let ok = r#"{"name":"a","client_id":"x","token_url":"https://a.example/t","client_auth":"none"}"#;
        let cases = [
            ("not json", "not a JSON array".to_string()),
            ("{}", "not a JSON array".to_string()),
            ("[]", "holds no providers".to_string()),
            (
                &*format!("[{ok}, 7]"),
                "entry 2: is not a JSON object".to_string(),
            ),
            (
                &*format!(
                    r#"[{ok}, {{"name":"b","client_id":"x","token_url":"https://b.example/t","client_secret":"canary-in-file"}}]"#
                ),
                "holds a client secret".to_string(),
            ),
            (
                r#"[{"name":"a","client_id":"x","token_url":"https://a.example/t","colour":"red"}]"#,
                "unknown field `colour`".to_string(),
            ),
            (
                r#"[{"name":"a","client_id":"x","token_url":"http://a.example/t","client_auth":"none"}]"#,
                "token_url".to_string(),
            ),
            (&*format!("[{ok}, {ok}]"), "appears twice".to_string()),
        ];
        for (text, expected) in cases {
            let err = plan(&v, text).unwrap_err();
            let message = match &err {
                Error::InvalidFields(f) => f
                    .iter()
                    .map(|f| f.message.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            };
            assert!(message.contains(&expected), "{text}: {message}");
            assert!(!message.contains("canary"), "no secret echoed: {message}");
        }
        assert!(providers::list(&v).unwrap().is_empty());
    }
}
