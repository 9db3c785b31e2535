//! Revocation (RFC 7009): the refresh token, then the access token, each with its
//! token_type_hint and the client's authentication; then the secrets are wiped locally and the
//! row says "revoked". Without a revocation endpoint the token is only forgotten, and the faces
//! say exactly that.

use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::http::Http;
use crate::oauth::client_auth::{form_post, http_for};
use crate::refresh::RefreshLock;
use crate::text::{inert, shown};
use crate::vault::provider_table::{self as ptable, ProviderRecord};
use crate::vault::{activity, tokens, Vault};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Revoked {
    /// The provider confirmed the revocation.
    AtProvider,
    /// The provider has no revocation endpoint: the token was only forgotten here.
    ForgottenLocally,
}

pub fn revoke(
    vault: &Vault,
    provider: &str,
    account: Option<&str>,
    http: &Http,
    now: i64,
) -> Result<(String, Revoked)> {
    let account = crate::refresh::resolve_account(vault, provider, account)?;
    // Held until the row is wiped, and the token read under it: a refresh in another process
    // could otherwise rotate a new refresh token in after our read, which we would not revoke
    // (while saying "revoked at the provider") and which it would write back over our wipe.
    let _lock = RefreshLock::acquire(vault.path())?;
    let p = ptable::get(vault.conn(), provider)?;
    let t = tokens::get(vault.conn(), provider, &account)?;
    let revocation = crate::oauth::client_auth::via_mtls(
        &p,
        p.revocation_url.as_deref(),
        p.mtls_revocation_url.as_deref(),
    );
    let outcome = match revocation {
        Some(url) => {
            for (token, hint) in [
                (&t.refresh_token, "refresh_token"),
                (&t.access_token, "access_token"),
            ] {
                if let Some(token) = token {
                    post(&p, url, token.expose(), hint, http, now)?;
                }
            }
            Revoked::AtProvider
        }
        None => Revoked::ForgottenLocally,
    };
    let tx = vault.conn().unchecked_transaction()?;
    tokens::wipe(&tx, provider, &account)?;
    let detail = match outcome {
        Revoked::AtProvider => "revoked at the provider",
        Revoked::ForgottenLocally => {
            "forgotten locally only: the provider has no revocation endpoint"
        }
    };
    activity::record(
        &tx,
        now,
        "revoked",
        Some(provider),
        Some(&account),
        Some(detail),
    )?;
    tx.commit()?;
    Ok((account, outcome))
}

fn post(
    p: &ProviderRecord,
    url: &str,
    token: &str,
    hint: &str,
    http: &Http,
    now: i64,
) -> Result<()> {
    let http = http_for(http, p)?;
    for attempt in 0..3 {
        // Built again each time: a client assertion is good for one request.
        let request = form_post(p, url, &[("token", token), ("token_type_hint", hint)])?;
        let response = http.call(request)?;
        let status = response.status().as_u16();
        if status == 200 {
            return Ok(());
        }
        if status == 503 && attempt < 2 {
            let wait = crate::http::retry_after(response.headers(), now, crate::http::MAX_BACKOFF)
                .unwrap_or(Duration::from_secs(1));
            std::thread::sleep(wait);
            continue;
        }
        let error = serde_json::from_slice::<serde_json::Value>(response.body())
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned));
        let message = match error.as_deref() {
            Some("unsupported_token_type") => format!(
                "{} does not revoke {hint}s (unsupported_token_type); nothing was changed here",
                shown(&p.name)
            ),
            Some(e) => format!(
                "the revocation endpoint answered HTTP {status} with the error {}; nothing was changed here",
                inert(e)
            ),
            None => format!("the revocation endpoint answered HTTP {status}; nothing was changed here"),
        };
        return Err(match error {
            Some(error) => Error::OAuth { error, message },
            None => Error::ProviderError(message),
        });
    }
    Err(Error::ProviderError(
        "the revocation endpoint stayed unavailable (503); nothing was changed here".into(),
    ))
}
