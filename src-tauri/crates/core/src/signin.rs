//! A sign-in from start to end, written once for the window, the CLI and the REST API: each
//! grant obtains its tokens its own way (`code`, `device`, client credentials here), and every
//! one of them ends alike, stored under the refresh lock (`store`) or its failure logged. A face
//! only shows what the person has to see (a URL, a code) and reports the outcome.

pub mod background;
pub mod code;
pub mod device;
pub mod signout;
mod store;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub use store::{label, record_failure, store, Grantee, SignedIn};

use crate::error::{Error, Result};
use crate::http::Http;
use crate::oauth::flow::{self, Grant};
use crate::vault::provider_table::ProviderRecord;
use crate::vault::SharedVault;
use crate::{text, time};

/// What a person asked for: a token from this provider, for these scopes, under this label.
pub struct Request {
    pub provider: ProviderRecord,
    /// None asked for: the provider's default scopes.
    pub scopes: Vec<String>,
    /// None asked for: a label read from the grant (ID token, userinfo, or the client id).
    pub account: Option<String>,
}

impl Request {
    /// This sign-in asks for tokens for these resources (RFC 8707) and this audience instead
    /// of the provider's own; none given keeps the provider's.
    pub fn for_target(mut self, resources: Vec<String>, audience: Option<String>) -> Result<Self> {
        use crate::oauth::{check, provider::MAX_RESOURCES};
        if resources.len() > MAX_RESOURCES {
            return Err(Error::field(
                "resource",
                format!("names more than {MAX_RESOURCES} resources"),
            ));
        }
        for r in &resources {
            check::resource(r)
                .map_err(|e| Error::field("resource", format!("{}: {e}", text::shown(r))))?;
        }
        if !resources.is_empty() {
            self.provider.config.resources = resources;
        }
        if let Some(a) = audience
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
        {
            check::plain_text(&a).map_err(|e| Error::field("audience", e))?;
            self.provider.config.audience = Some(a);
        }
        Ok(self)
    }

    /// The end all grants share: `obtain` the grant, store it, and log it when any step
    /// failed, so that the activity log shows every sign-in whichever face started it.
    /// `obtain` is given the provider as the sign-in uses it (with the account's own DPoP key,
    /// made now, where each account gets one).
    fn complete(
        &self,
        vault: &SharedVault,
        how: Grantee,
        obtain: impl FnOnce(&Http, &ProviderRecord) -> Result<Grant>,
    ) -> Result<SignedIn> {
        let outcome = Http::new().and_then(|http| {
            let p = crate::oauth::dpop::for_new_account(&self.provider)?;
            let grant = obtain(&http, &p)?;
            let account = label(&p, &grant, how, self.account.as_deref(), &http)?;
            // Only now is the vault held, and no request is made while it is: a sign-in waits
            // minutes for the person, and the other commands must not wait with it.
            vault.with(|v| store(v, &p, grant, how, &account, time::now()))
        });
        if let Err(e) = &outcome {
            let _ = vault.with(|v| {
                record_failure(v, &self.provider.name, e, time::now());
                Ok(())
            });
        }
        outcome
    }
}

/// Client credentials (RFC 6749 §4.4): a token for the client itself, with nobody to wait for.
/// The JWT bearer grant (RFC 7523 §2.1), for `subject` or the client itself; the account is
/// labelled by the subject unless the request names one.
pub fn jwt_bearer(
    vault: &SharedVault,
    request: &Request,
    subject: Option<&str>,
) -> Result<SignedIn> {
    let labelled;
    let request = match (&request.account, subject) {
        (None, Some(s)) => {
            labelled = Request {
                provider: request.provider.clone(),
                scopes: request.scopes.clone(),
                account: Some(s.to_owned()),
            };
            &labelled
        }
        _ => request,
    };
    request.complete(vault, Grantee::JwtBearer, |http, p| {
        flow::jwt_bearer(p, subject, &request.scopes, http, time::now())
    })
}

pub fn client_credentials(vault: &SharedVault, request: &Request) -> Result<SignedIn> {
    request.complete(vault, Grantee::ClientCredentials, |http, p| {
        flow::client_credentials(p, &request.scopes, http, time::now())
    })
}

/// Stops a sign-in that waits for the person: the window's Cancel button or its login window
/// closing, the API stopping. Clones share one switch.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// The switch itself, for the waits of the `oauth` layer.
    pub fn flag(&self) -> &AtomicBool {
        &self.0
    }
}
