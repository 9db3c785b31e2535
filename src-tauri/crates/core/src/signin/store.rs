//! Storing what a sign-in gives: the account's label (as asked, from the ID token or userinfo,
//! or the client id for client credentials), its token replacing the one that account had, and
//! the outcome in the activity log, without a secret.

use serde::Serialize;

use crate::error::Result;
use crate::http::Http;
use crate::oauth::flow::{self, Grant};
use crate::text::inert;
use crate::vault::provider_table::{self as table, ProviderRecord};
use crate::vault::tokens::{self, TokenRecord, TokenStatus};
use crate::vault::{activity, Vault};

/// How the token was obtained, for the log and the faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grantee {
    AuthorizationCode,
    Device,
    ClientCredentials,
    JwtBearer,
}

impl Grantee {
    fn describe(self) -> &'static str {
        match self {
            Grantee::AuthorizationCode => "authorization code",
            Grantee::Device => "device authorization",
            Grantee::ClientCredentials => "client credentials",
            Grantee::JwtBearer => "JWT bearer assertion",
        }
    }
}

/// The outcome a face shows: who signed in where, and until when. No secret.
#[derive(Debug, Clone, Serialize)]
pub struct SignedIn {
    pub provider: String,
    pub account: String,
    /// The account had a token, which this one replaced.
    pub replaced: bool,
    pub grant: Grantee,
    #[serde(serialize_with = "crate::time::serialize_opt_rfc3339")]
    pub expires_at: Option<i64>,
    pub scopes: Vec<String>,
    pub has_refresh_token: bool,
}

/// The label `grant` is stored under: the one the user asked for, or the client id for client
/// credentials, or one read from the ID token or the provider's userinfo endpoint. That may
/// take a request, so it is asked before the vault is held.
pub fn label(
    p: &ProviderRecord,
    grant: &Grant,
    how: Grantee,
    asked: Option<&str>,
    http: &Http,
) -> Result<String> {
    let account = match asked.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => a.to_owned(),
        None if matches!(how, Grantee::ClientCredentials | Grantee::JwtBearer) => {
            p.client_id.clone()
        }
        None => flow::account_label(p, grant, http).unwrap_or_else(|| "default".into()),
    };
    crate::oauth::check::plain_text(&account).map_err(|e| crate::Error::field("account", e))?;
    Ok(account)
}

/// Stores `grant` for provider `p` under `account` (from `label`).
pub fn store(
    vault: &Vault,
    p: &ProviderRecord,
    grant: Grant,
    how: Grantee,
    account: &str,
    now: i64,
) -> Result<SignedIn> {
    let account = account.to_owned();
    // A refresh of this account in another process, holding the lock, would otherwise write
    // the old grant's rotated tokens over the new sign-in once its answer came back. Whether a
    // token is replaced is read under the lock too.
    let _lock = crate::refresh::RefreshLock::acquire(vault.path())?;
    let tx = vault.conn().unchecked_transaction()?;
    // The sign-in began with the provider as it was then (up to 10 minutes ago). If its
    // endpoints moved since, the accounts were signed out and the secret cleared for the new
    // host: a grant from the old one must not be stored under it.
    let current = table::get(&tx, &p.name)?;
    let moved = crate::providers::moves::moved(p, &current);
    if !moved.is_empty() {
        return Err(crate::Error::NeedsSignin(format!(
            "{}'s {} moved to another host while this sign-in was under way; nothing was \
             stored: sign in again",
            crate::text::shown(&p.name),
            moved.join(", ")
        )));
    }
    let id = table::view(&tx, &p.name)?.id;
    let replaced = tokens::get(&tx, &p.name, &account).is_ok();
    let signed = SignedIn {
        provider: p.name.clone(),
        account: account.clone(),
        replaced,
        grant: how,
        expires_at: grant.expires_at,
        scopes: grant.scopes.clone(),
        has_refresh_token: grant.refresh_token.is_some(),
    };
    let account_key = grant.dpop_key.clone();
    let record = TokenRecord {
        account: account.clone(),
        subject: grant.subject,
        access_token: Some(grant.access_token),
        token_type: Some(grant.token_type),
        refresh_token: grant.refresh_token,
        id_token: grant.id_token,
        scopes: grant.scopes,
        expires_at: grant.expires_at,
        status: TokenStatus::Active,
    };
    tokens::upsert(&tx, id, &record, now)?;
    tokens::set_dpop_key(&tx, id, &account, account_key.as_ref())?;
    let detail = format!(
        "{}{}",
        how.describe(),
        if replaced {
            "; replaced the previous token"
        } else {
            ""
        }
    );
    activity::record(
        &tx,
        now,
        "signed in",
        Some(&p.name),
        Some(&account),
        Some(&detail),
    )?;
    tx.commit()?;
    Ok(signed)
}

/// Logs a failed sign-in. The message is one of ours (never a code, verifier or token).
pub fn record_failure(vault: &Vault, provider: &str, error: &crate::Error, now: i64) {
    let detail = inert(&error.to_string());
    let _ = activity::record(
        vault.conn(),
        now,
        "sign-in failed",
        Some(provider),
        None,
        Some(&detail),
    );
}
