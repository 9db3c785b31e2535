//! What a person does with providers, for every face: add, update, remove, list, show and
//! check a form as it is typed. Each change is one transaction with its activity entry, which
//! names the fields that changed and never a value. A change that moves an endpoint to another
//! host leaves the client secret and the tokens behind (`moves`).

pub mod moves;
pub mod registration;

use serde::Serialize;

use crate::error::{Error, FieldError, Result};
use crate::http::Http;
use crate::oauth::discovery::{self, Fill};
use crate::oauth::provider::{position, ProviderInput};
use crate::vault::provider_table::{self as table, ProviderRecord, ProviderView};
use crate::vault::{activity, tokens, SharedVault, Vault};
use moves::Moved;

/// A saved provider, and what the face must tell about the change beyond its fields.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "ProviderUpdated", deny_unknown_fields)]
pub struct Updated {
    #[serde(flatten)]
    pub provider: ProviderView,
    /// The fields the change altered (none: the provider was already so).
    pub changed: Vec<&'static str>,
    /// Said when endpoints moved to another host: what was cleared, who must sign in again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

/// What `update_logged` wrote.
pub(crate) struct Written {
    pub changed: Vec<&'static str>,
    pub moved: Option<Moved>,
}

pub fn list(vault: &Vault) -> Result<Vec<ProviderView>> {
    table::list(vault.conn())
}

pub fn show(vault: &Vault, name: &str) -> Result<ProviderView> {
    table::view(vault.conn(), name)
}

/// Every problem with `input`, the name's uniqueness included, without saving anything.
/// `editing` is the name of the provider being edited, if any.
pub fn check(
    vault: &Vault,
    input: &ProviderInput,
    editing: Option<&str>,
) -> Result<Vec<FieldError>> {
    let stored = match editing {
        Some(name) => Some(table::get(vault.conn(), name)?),
        None => None,
    };
    let mut errors = match input.validate(stored.as_ref()) {
        Ok(_) => Vec::new(),
        Err(e) => e,
    };
    let name = input.name.as_deref().unwrap_or("").trim_matches(' ');
    let taken =
        !name.is_empty() && Some(name) != editing && table::view(vault.conn(), name).is_ok();
    if taken && !errors.iter().any(|e| e.field == "name") {
        errors.insert(
            0,
            FieldError::new(
                "name",
                "a provider with this name already exists; choose another name",
            ),
        );
    }
    Ok(errors)
}

pub fn add(vault: &Vault, input: &ProviderInput, now: i64) -> Result<ProviderView> {
    let record = input.validate(None).map_err(Error::InvalidFields)?;
    let tx = vault.conn().unchecked_transaction()?;
    insert_logged(&tx, &record, now)?;
    tx.commit()?;
    table::view(vault.conn(), &record.name)
}

/// Inserts a checked provider with its activity entry, inside the caller's transaction.
pub(crate) fn insert_logged(
    conn: &rusqlite::Connection,
    record: &ProviderRecord,
    now: i64,
) -> Result<()> {
    table::insert(conn, record, now)?;
    activity::record(
        conn,
        now,
        "provider added",
        Some(&record.name),
        None,
        Some(&summary(record)),
    )
}

/// Replaces a provider with a checked record and logs the changed fields, inside the caller's
/// transaction. `new_secret`: the change brought a client secret of its own (typed, or read
/// from stdin); otherwise `new` carries the stored one. When an endpoint that receives the
/// secret or a token moves to another origin, the stored secret is dropped (unless a new one
/// came) and every account is signed out, so that nothing stored reaches the new host. So is
/// the client key, unless the change brought its own: an assertion it signs for the new host
/// would be good at the old one.
pub(crate) fn update_logged(
    conn: &rusqlite::Connection,
    old: &ProviderRecord,
    new: &ProviderRecord,
    new_secret: bool,
    now: i64,
) -> Result<Written> {
    let mut new = new.clone();
    let endpoints = moves::moved(old, &new);
    let mut moved = None;
    if !endpoints.is_empty() {
        let secret_cleared = !new_secret && old.client_secret.is_some();
        if !new_secret {
            new.client_secret = None;
        }
        let key_cleared = old.client_key.is_some() && new.client_key == old.client_key;
        if key_cleared {
            // The certificate is of that key: it goes with it.
            new.client_key = None;
            new.client_cert = None;
        }
        moved = Some(Moved {
            endpoints,
            secret_cleared,
            key_cleared,
            signed_out: 0,
        });
    }
    let changed = changed_fields(old, &new);
    if changed.is_empty() {
        return Ok(Written { changed, moved });
    }
    let id = table::view(conn, &old.name)?.id;
    table::update(conn, id, &new, now)?;
    // The registration belongs to the client at the host it was made at: another host or
    // another client id must not get its token, nor a secret it would hand out (RFC 7592).
    if moved.is_some() || old.client_id != new.client_id {
        crate::vault::registrations::forget(conn, id)?;
    }
    let mut detail = format!("changed {}", changed.join(", "));
    if let Some(m) = &mut moved {
        m.signed_out = tokens::sign_out_all(conn, id, &m.token_reason())?;
        detail = format!("{detail}; {}", m.notice());
    }
    activity::record(
        conn,
        now,
        "provider updated",
        Some(&new.name),
        None,
        Some(&detail),
    )?;
    Ok(Written { changed, moved })
}

/// Replaces provider `name` with `input`; an empty client secret keeps the stored one, unless
/// an endpoint moves to another host (see `update_logged`).
pub fn update(vault: &Vault, name: &str, input: &ProviderInput, now: i64) -> Result<Updated> {
    update_from(vault, name, now, |_| Ok(input.clone()))
}

/// Replaces provider `name` with the input `edit` makes of the stored record, under the
/// refresh lock and in one transaction.
fn update_from(
    vault: &Vault,
    name: &str,
    now: i64,
    edit: impl FnOnce(&ProviderRecord) -> Result<ProviderInput>,
) -> Result<Updated> {
    // A refresh in flight in another process would otherwise store its rotated tokens, active
    // again, after a move signed the accounts out: the next refresh would take them to the new
    // host.
    let _lock = crate::refresh::RefreshLock::acquire(vault.path())?;
    let tx = vault.conn().unchecked_transaction()?;
    let old = table::get(&tx, name)?;
    let input = edit(&old)?;
    let new = input.validate(Some(&old)).map_err(Error::InvalidFields)?;
    let new_secret = input
        .client_secret
        .as_ref()
        .is_some_and(|s| !s.expose().is_empty());
    let written = update_logged(&tx, &old, &new, new_secret, now)?;
    if written.changed.is_empty() {
        return Ok(Updated {
            provider: table::view(vault.conn(), name)?,
            changed: Vec::new(),
            notice: None,
        });
    }
    tx.commit()?;
    Ok(Updated {
        provider: table::view(vault.conn(), &new.name)?,
        changed: written.changed,
        notice: written.moved.map(|m| m.notice()),
    })
}

/// Discovers provider `name` again from its issuer: the endpoints the metadata gives replace
/// those it gave before, and an endpoint set by hand stays. An endpoint that moves to another
/// host takes nothing stored with it (`update_logged`); one the issuer's two documents
/// disagree on is the person's to choose. The metadata is fetched without the vault held.
pub fn discover_again(vault: &SharedVault, http: &Http, name: &str, now: i64) -> Result<Updated> {
    let issuer = vault.with(|v| Ok(table::get(v.conn(), name)?.config.issuer))?;
    // What the provider is, not what was asked, stands in the way: a conflict.
    let issuer = issuer.ok_or_else(|| {
        Error::InvalidFields(vec![FieldError::conflict(
            "issuer",
            "is not set: this provider was added by hand; set its issuer to discover it",
        )])
    })?;
    let metadata = discovery::discover(http, &issuer)?;
    vault.with(|v| {
        update_from(v, name, now, |old| {
            if old.issuer.as_deref() != Some(issuer.as_str()) {
                return Err(Error::InvalidInput(
                    "the provider's issuer changed while it was discovered; discover it again"
                        .into(),
                ));
            }
            let mut input = ProviderInput::from_record(old);
            // Never discovered before (added by hand, or before OAuth Desk kept what discovery
            // gave): which endpoints were set by hand is not known, so only empty ones fill.
            let how = if old.discovered.is_empty() {
                Fill::OnlyEmpty
            } else {
                Fill::Overwrite
            };
            metadata.fill(&mut input, how);
            let unresolved = metadata.unresolved(&input);
            if unresolved.is_empty() {
                Ok(input)
            } else {
                let conflicts = unresolved
                    .into_iter()
                    .map(|e| FieldError::conflict(e.field, e.message))
                    .collect();
                Err(Error::InvalidFields(conflicts))
            }
        })
    })
}

/// Removes provider `name` and its tokens; returns how many tokens went with it.
pub fn remove(vault: &Vault, name: &str, now: i64) -> Result<i64> {
    let tx = vault.conn().unchecked_transaction()?;
    let tokens = table::delete(&tx, name)?;
    let detail = match tokens {
        0 => "no tokens".to_owned(),
        1 => "1 token removed with it".to_owned(),
        n => format!("{n} tokens removed with it"),
    };
    activity::record(
        &tx,
        now,
        "provider removed",
        Some(name),
        None,
        Some(&detail),
    )?;
    tx.commit()?;
    Ok(tokens)
}

fn summary(r: &ProviderRecord) -> String {
    let host = r
        .token_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    format!(
        "token endpoint at {host}, client authentication {}",
        r.client_auth.as_str()
    )
}

/// The names of the fields that differ; a credential appears as "client secret" or "client
/// key", never its value.
pub(crate) fn changed_fields(old: &ProviderRecord, new: &ProviderRecord) -> Vec<&'static str> {
    let mut changed = old.config.changed_fields(&new.config);
    let credentials = [
        (
            old.client_secret != new.client_secret,
            "client_secret",
            "client secret",
        ),
        (old.client_key != new.client_key, "client_key", "client key"),
        (old.dpop_key != new.dpop_key, "dpop", "DPoP key"),
        (
            old.client_cert != new.client_cert,
            "client_cert",
            "client certificate",
        ),
    ];
    for (_, field, label) in credentials.into_iter().filter(|c| c.0) {
        // Where the form shows it.
        let at = changed
            .iter()
            .position(|f| position(f) > position(field))
            .unwrap_or(changed.len());
        changed.insert(at, label);
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::provider::ListOrText;

    fn input(name: &str) -> ProviderInput {
        ProviderInput {
            name: Some(name.into()),
            token_url: Some("https://idp.example/token".into()),
            client_id: Some("desk".into()),
            client_secret: Some("canary-secret-1".into()),
            ..Default::default()
        }
    }

    /// A move takes the client key with the secret: an assertion signed for the new host
    /// would be good at the old one for its lifetime.
    #[test]
    fn a_moved_token_endpoint_drops_the_client_key_and_says_so() {
        use crate::oauth::signing_key::{Alg, KeyInput};
        let v = Vault::open_in_memory().unwrap();
        let keyed = ProviderInput {
            client_auth: Some("private_key_jwt".into()),
            client_secret: None,
            client_key: Some(KeyInput {
                generate: Some(Alg::ES256),
                ..Default::default()
            }),
            ..input("idp")
        };
        let added = add(&v, &keyed, 1).unwrap();
        assert!(added.client_key.is_some());
        let renamed_only = ProviderInput {
            client_key: None,
            color: Some("#123456".into()),
            ..keyed.clone()
        };
        let kept = update(&v, "idp", &renamed_only, 2).unwrap();
        assert_eq!(
            kept.provider.client_key, added.client_key,
            "no move, same key"
        );
        let moved = ProviderInput {
            token_url: Some("https://elsewhere.example/token".into()),
            ..renamed_only
        };
        let done = update(&v, "idp", &moved, 3).unwrap();
        assert!(done.provider.client_key.is_none(), "the key stayed behind");
        assert!(
            done.notice.unwrap().contains("the client key was removed"),
            "the person is told"
        );
    }

    fn activity_text(v: &Vault) -> String {
        serde_json::to_string(&activity::list_recent(v.conn(), 100).unwrap()).unwrap()
    }

    #[test]
    fn changes_are_logged_by_field_without_values() {
        let v = Vault::open_in_memory().unwrap();
        add(&v, &input("idp"), 1).unwrap();
        let mut edit = input("idp");
        edit.client_secret = Some("canary-secret-2".into());
        edit.scopes = Some(ListOrText::Text("openid".into()));
        update(&v, "idp", &edit, 2).unwrap();
        let log = activity_text(&v);
        assert!(log.contains("changed client secret, scopes"), "{log}");
        assert!(
            !log.contains("canary"),
            "no secret in the activity log: {log}"
        );
        assert_eq!(remove(&v, "idp", 3).unwrap(), 0);
        assert!(activity_text(&v).contains("provider removed"));
    }

    #[test]
    fn bad_input_changes_nothing() {
        let v = Vault::open_in_memory().unwrap();
        add(&v, &input("idp"), 1).unwrap();
        let before = (list(&v).unwrap().len(), activity_text(&v));
        let bad = ProviderInput {
            token_url: Some("ftp://x".into()),
            ..input("other")
        };
        assert_eq!(add(&v, &bad, 2).unwrap_err().code(), "invalid_input");
        assert_eq!(
            add(&v, &input("idp"), 2).unwrap_err().code(),
            "invalid_input"
        );
        assert_eq!(
            update(&v, "idp", &bad, 2).unwrap_err().code(),
            "invalid_input"
        );
        assert_eq!(
            update(&v, "nope", &input("x"), 2).unwrap_err().code(),
            "not_found"
        );
        assert_eq!(remove(&v, "nope", 2).unwrap_err().code(), "not_found");
        assert_eq!((list(&v).unwrap().len(), activity_text(&v)), before);
    }

    /// "idp" with a signed-in account, alice.
    fn with_account(v: &Vault) {
        add(v, &input("idp"), 1).unwrap();
        let id = table::view(v.conn(), "idp").unwrap().id;
        tokens::upsert(v.conn(), id, &tokens::tests::sample("alice"), 1).unwrap();
    }

    #[test]
    fn moving_the_token_endpoint_leaves_the_secret_and_the_tokens_behind() {
        let v = Vault::open_in_memory().unwrap();
        with_account(&v);
        let moved = ProviderInput {
            token_url: Some("https://other.example/token".into()),
            client_secret: None,
            ..input("idp")
        };
        let done = update(&v, "idp", &moved, 2).unwrap();
        assert_eq!(
            done.notice.as_deref(),
            Some("the token endpoint moved to another host: sign in again; the client secret was cleared")
        );
        let stored = table::get(v.conn(), "idp").unwrap();
        assert!(stored.client_secret.is_none(), "the secret must not follow");
        let t = tokens::get(v.conn(), "idp", "alice").unwrap();
        assert_eq!(t.status, tokens::TokenStatus::NeedsSignin);
        assert!(
            t.refresh_token.is_none() && t.access_token.is_none() && t.id_token.is_none(),
            "no stored token may reach the new host"
        );
        let log = activity_text(&v);
        assert!(log.contains("moved to another host"), "{log}");
        assert!(
            !log.contains("canary") && !log.contains("rt-value"),
            "{log}"
        );
    }

    #[test]
    fn a_new_secret_in_the_same_change_is_kept_and_a_path_change_moves_nothing() {
        let v = Vault::open_in_memory().unwrap();
        with_account(&v);
        let same_host = ProviderInput {
            token_url: Some("https://idp.example/v2/token".into()),
            client_secret: None,
            ..input("idp")
        };
        assert_eq!(update(&v, "idp", &same_host, 2).unwrap().notice, None);
        let t = tokens::get(v.conn(), "idp", "alice").unwrap();
        assert_eq!(t.refresh_token.unwrap().expose(), "rt-value");
        let with_secret = ProviderInput {
            revocation_url: Some("https://other.example/revoke".into()),
            client_secret: Some("canary-secret-3".into()),
            ..input("idp")
        };
        let done = update(&v, "idp", &with_secret, 3).unwrap();
        assert_eq!(
            done.notice.as_deref(),
            Some("the revocation endpoint moved to another host: sign in again")
        );
        let stored = table::get(v.conn(), "idp").unwrap();
        assert_eq!(stored.client_secret.unwrap().expose(), "canary-secret-3");
        assert!(tokens::get(v.conn(), "idp", "alice")
            .unwrap()
            .refresh_token
            .is_none());
    }

    #[test]
    fn check_reports_a_taken_name_but_not_the_provider_being_edited() {
        let v = Vault::open_in_memory().unwrap();
        add(&v, &input("idp"), 1).unwrap();
        let errs = check(&v, &input("idp"), None).unwrap();
        assert_eq!(errs[0].field, "name");
        assert!(check(&v, &input("idp"), Some("idp")).unwrap().is_empty());
        // Editing without retyping the secret is fine.
        let no_secret = ProviderInput {
            client_secret: None,
            ..input("idp")
        };
        assert!(check(&v, &no_secret, Some("idp")).unwrap().is_empty());
    }
}
