//! Providers whose client OAuth Desk registers itself (RFC 7591) and then keeps in step with
//! the provider (RFC 7592): registered, updated, and deleted there before it is forgotten
//! here. Everything that can be checked is checked before the provider is asked, so that a
//! refusal here never leaves a client behind there.

use crate::error::{Error, FieldError, Result};
use crate::http::Http;
use crate::oauth::provider::ProviderInput;
use crate::oauth::registration::{self, Registered};
use crate::secret::Secret;
use crate::text::shown;
use crate::vault::provider_table::{self as table, ProviderView};
use crate::vault::{activity, registrations, Vault};

/// Stands in for the client id while the rest of the input is checked; never stored.
const NOT_YET: &str = "registering";

/// Registers a client for `input` at its registration endpoint and adds the provider with it.
pub fn register(
    vault: &Vault,
    input: &ProviderInput,
    initial_token: Option<&Secret<String>>,
    http: &Http,
    now: i64,
) -> Result<ProviderView> {
    if input
        .client_id
        .as_deref()
        .is_some_and(|c| !c.trim().is_empty())
    {
        return Err(Error::field(
            "client_id",
            "comes from the provider when registering; leave it out",
        ));
    }
    if input
        .client_secret
        .as_ref()
        .is_some_and(|c| !c.expose().is_empty())
    {
        return Err(Error::field(
            "client_secret",
            "comes from the provider when registering; leave it out",
        ));
    }
    let mut probe = input.clone();
    probe.client_id = Some(NOT_YET.into());
    // Unless told otherwise, a confidential client: the provider makes a secret for this
    // installation alone (RFC 8252 §8.5), which the vault keeps, and client credentials work.
    if probe
        .client_auth
        .as_deref()
        .is_none_or(|a| a.trim().is_empty())
    {
        probe.client_auth = Some("basic".into());
    }
    // The secret is the provider's to give: a stand-in of a valid length meanwhile, for a
    // method that has one.
    let with_secret = probe
        .client_auth
        .as_deref()
        .is_some_and(|a| matches!(a.trim(), "basic" | "post" | "client_secret_jwt"));
    if with_secret {
        probe.client_secret = Some(Secret::new(NOT_YET.repeat(4)));
    }
    let mut record = probe.validate(None).map_err(Error::InvalidFields)?;
    if table::get(vault.conn(), &record.name).is_ok() {
        return Err(Error::InvalidFields(vec![FieldError::conflict(
            "name",
            "a provider with this name already exists; choose another name",
        )]));
    }
    let endpoint = record.registration_url.clone().ok_or_else(|| {
        Error::field(
            "registration_url",
            "is needed to register a client: this provider publishes no registration endpoint \
             (RFC 7591); give its issuer, or --registration-url",
        )
    })?;
    let metadata = registration::metadata(&record);
    let got = registration::register(http, &endpoint, &metadata, initial_token)?;
    record.client_id = got.client_id.clone();
    record.client_secret = got.client_secret.clone();
    let stored = (|| -> Result<()> {
        // The method asked for, or none: a provider that downgrades it (to a public client,
        // say) or picks one this client has no key or certificate for is not followed.
        if let Some(auth) = got.client_auth.filter(|a| *a != record.client_auth) {
            return Err(Error::ProviderError(format!(
                "the provider registered the client with {}, not {} as asked",
                auth.as_str(),
                record.client_auth.as_str()
            )));
        }
        if record.client_auth.uses_secret() && record.client_secret.is_none() {
            return Err(Error::ProviderError(format!(
                "the provider registered a client that authenticates with {} but gave no \
                 client secret",
                record.client_auth.as_str()
            )));
        }
        let tx = vault.conn().unchecked_transaction()?;
        super::insert_logged(&tx, &record, now)?;
        if let Some(m) = &got.management {
            registrations::put(&tx, &record.name, m, now)?;
        }
        activity::record(
            &tx,
            now,
            "client registered",
            Some(&record.name),
            None,
            Some(&registered_detail(&got)),
        )?;
        tx.commit()?;
        Ok(())
    })();
    if let Err(e) = stored {
        // Not kept here: not left there either, where the provider lets us.
        if let Some(m) = &got.management {
            let _ = registration::delete(http, m);
        }
        return Err(e);
    }
    table::view(vault.conn(), &record.name)
}

fn registered_detail(got: &Registered) -> String {
    let managed = if got.management.is_some() {
        "managed by OAuth Desk (RFC 7592)"
    } else {
        "the provider gave no way to manage it"
    };
    format!("client id {}; {managed}", shown(&got.client_id))
}

/// The registration of provider `name`, or why there is none to manage.
fn management(vault: &Vault, name: &str) -> Result<registration::Management> {
    table::get(vault.conn(), name)?;
    registrations::get(vault.conn(), name)?.ok_or_else(|| {
        Error::InvalidFields(vec![FieldError::conflict(
            "registered",
            format!(
                "{} was not registered by OAuth Desk (or its provider gave no way to manage \
                 the registration): there is nothing to update or delete at the provider",
                shown(name)
            ),
        )])
    })
}

/// Sends provider `name`'s settings to its registration, as they are now (after an edit),
/// and keeps what the provider answers: perhaps a new secret, a new registration token.
pub fn update_registration(vault: &Vault, name: &str, http: &Http, now: i64) -> Result<()> {
    let m = management(vault, name)?;
    let old = table::get(vault.conn(), name)?;
    let got = registration::update(http, &m, &old.client_id, &registration::metadata(&old))?;
    if let Some(auth) = got.client_auth.filter(|a| *a != old.client_auth) {
        return Err(Error::ProviderError(format!(
            "the provider answered the update with {}, not {} as this provider has it; \
             nothing was changed here",
            auth.as_str(),
            old.client_auth.as_str()
        )));
    }
    let mut new = old.clone();
    if let Some(secret) = got.client_secret.clone() {
        new.client_secret = Some(secret);
    }
    let tx = vault.conn().unchecked_transaction()?;
    super::update_logged(&tx, &old, &new, new.client_secret != old.client_secret, now)?;
    if let Some(kept) = &got.management {
        registrations::put(&tx, name, kept, now)?;
    }
    activity::record(
        &tx,
        now,
        "registration updated",
        Some(name),
        None,
        Some("the provider has the client's current settings"),
    )?;
    tx.commit()?;
    Ok(())
}

/// Deletes provider `name`'s client at the provider, then the provider here with its tokens.
/// When the provider refuses, nothing is removed here, and the error says so.
pub fn deregister(vault: &Vault, name: &str, http: &Http, now: i64) -> Result<i64> {
    let m = management(vault, name)?;
    if let Err(e) = registration::delete(http, &m) {
        return Err(match e {
            Error::ProviderError(said) | Error::Network(said) | Error::TimedOut(said) => {
                Error::ProviderError(format!(
                    "{said}. Nothing was removed here; `oauth-desk provider remove {}` forgets \
                     the provider without deleting its client",
                    shown(name)
                ))
            }
            other => other,
        });
    }
    super::remove(vault, name, now)
}
