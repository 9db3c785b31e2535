//! Token exchange (RFC 8693): a fresh token of one account (the subject, and maybe an actor)
//! traded at a provider's token endpoint for a token of its own, stored as an account of that
//! provider. The answer is checked as any token response is, and its `issued_token_type` must
//! be a token this tool can hand out as an access token; anything else is refused, not stored.

use crate::error::{Error, Result};
use crate::http::Http;
use crate::oauth::check;
use crate::oauth::client_auth::{form_post, http_for};
use crate::text::shown;
use crate::vault::provider_table as ptable;
use crate::vault::tokens;
use crate::vault::{activity, exchanged, Vault};

pub const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";

/// An account whose token goes into the exchange: `PROVIDER[:ACCOUNT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub provider: String,
    pub account: Option<String>,
}

impl Party {
    /// `PROVIDER` or `PROVIDER:ACCOUNT` (the account after the last colon, since a provider's
    /// name may hold one and an account label rarely does).
    pub fn parse(raw: &str) -> Party {
        match raw.rsplit_once(':') {
            Some((provider, account)) if !provider.is_empty() && !account.is_empty() => Party {
                provider: provider.to_owned(),
                account: Some(account.to_owned()),
            },
            _ => Party {
                provider: raw.to_owned(),
                account: None,
            },
        }
    }

    /// As an account label and the activity log name it: "Work / alice@example.com".
    fn label(&self) -> String {
        match &self.account {
            Some(a) => format!("{} / {a}", self.provider),
            None => self.provider.clone(),
        }
    }
}

/// A party as a face gives it: `PROVIDER[:ACCOUNT]` text (the CLI's, the API's), or the two
/// apart (the window's, where an account label may hold a colon).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub enum PartyText {
    Text(String),
    Parts {
        provider: String,
        account: Option<String>,
    },
}

impl PartyText {
    pub fn party(self) -> Party {
        match self {
            PartyText::Text(t) => Party::parse(&t),
            PartyText::Parts { provider, account } => Party { provider, account },
        }
    }
}

/// What to ask for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub audience: Option<String>,
    pub resource: Option<String>,
    pub scopes: Vec<String>,
    /// RFC 8693 §3 token type; the access token type when not given.
    pub requested_type: Option<String>,
    /// The label to store the result under [default: "exchanged from SUBJECT"].
    pub account: Option<String>,
}

/// An exchange as a face receives it (the window's dialog, the REST API's body): the parties
/// as `PROVIDER[:ACCOUNT]`; an empty value is one not given.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asked {
    pub subject: PartyText,
    pub actor: Option<PartyText>,
    pub audience: Option<String>,
    pub resource: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub requested_token_type: Option<String>,
    pub account: Option<String>,
}

impl Asked {
    /// Exchanges as asked, at provider `name`.
    pub fn exchange(self, vault: &Vault, name: &str, http: &Http, now: i64) -> Result<Exchanged> {
        let given = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let subject = self.subject.party();
        let actor = self
            .actor
            .map(PartyText::party)
            .filter(|a| !a.provider.is_empty());
        let request = Request {
            audience: given(self.audience),
            resource: given(self.resource),
            scopes: self.scopes.into_iter().filter(|s| !s.is_empty()).collect(),
            requested_type: given(self.requested_token_type),
            account: given(self.account),
        };
        exchange(vault, name, &subject, actor.as_ref(), &request, http, now)
    }
}

/// The stored result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Exchanged {
    pub account: String,
    pub expires_at: Option<i64>,
    pub scopes: Vec<String>,
}

pub fn exchange(
    vault: &Vault,
    name: &str,
    subject: &Party,
    actor: Option<&Party>,
    req: &Request,
    http: &Http,
    now: i64,
) -> Result<Exchanged> {
    exchange_as(vault, name, subject, actor, req, Into::New, http, now)
}

/// Where the result goes: a new account, or the exchanged account it renews.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Into {
    New,
    Again,
}

/// Exchanges `provider`/`account` again, as it was exchanged first (its token has expired and
/// it has no refresh token): the same parties, fresh tokens of theirs, the same request.
/// `Ok(false)`: it was not got by exchange.
pub fn again(vault: &Vault, provider: &str, account: &str, http: &Http, now: i64) -> Result<bool> {
    let Some(o) = exchanged::get(vault.conn(), provider, account)? else {
        return Ok(false);
    };
    // A party may itself be an exchanged account that expired: a chain, bounded here (a
    // cycle cannot be stored, see `exchange_as`, but a chain is not followed for ever).
    let _depth = Depth::enter()?;
    let party = |(provider, account): (String, String)| Party {
        provider,
        account: Some(account),
    };
    let req = Request {
        audience: o.audience,
        resource: o.resource,
        scopes: o.scopes,
        requested_type: Some(o.requested_type),
        account: Some(account.to_owned()),
    };
    let actor = o.actor.map(party);
    exchange_as(
        vault,
        provider,
        &party(o.subject),
        actor.as_ref(),
        &req,
        Into::Again,
        http,
        now,
    )?;
    Ok(true)
}

thread_local! {
    static DEPTH: std::cell::Cell<u8> = const { std::cell::Cell::new(0) };
}

/// How deep re-exchanges nest on this thread, while one is under way.
struct Depth;

impl Depth {
    const MAX: u8 = 4;

    fn enter() -> Result<Depth> {
        DEPTH.with(|d| {
            if d.get() >= Self::MAX {
                return Err(Error::InvalidInput(
                    "the exchanged accounts depend on each other too deeply to exchange again; \
                     exchange the account anew"
                        .into(),
                ));
            }
            d.set(d.get() + 1);
            Ok(Depth)
        })
    }
}

impl Drop for Depth {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

#[allow(clippy::too_many_arguments)]
fn exchange_as(
    vault: &Vault,
    name: &str,
    subject: &Party,
    actor: Option<&Party>,
    req: &Request,
    into: Into,
    http: &Http,
    now: i64,
) -> Result<Exchanged> {
    let p = ptable::get(vault.conn(), name)?;
    if let Some(a) = &req.audience {
        check::plain_text(a).map_err(|e| Error::field("audience", e))?;
    }
    if let Some(r) = &req.resource {
        check::resource(r).map_err(|e| Error::field("resource", e))?;
    }
    for s in &req.scopes {
        check::scope(s).map_err(|e| Error::field("scope", e))?;
    }
    let requested = req.requested_type.as_deref().unwrap_or(ACCESS_TOKEN);
    if ![ACCESS_TOKEN, JWT].contains(&requested) {
        return Err(Error::field(
            "requested_type",
            format!("must be {ACCESS_TOKEN} or {JWT}: the result is handed out as an access token"),
        ));
    }
    let token_of = |party: &Party| {
        crate::refresh::fresh(
            vault,
            &party.provider,
            party.account.as_deref(),
            crate::refresh::DEFAULT_MARGIN,
            &Http::new,
            &crate::time::now,
        )
    };
    // The label is checked before any token leaves.
    let account = req
        .account
        .clone()
        .unwrap_or_else(|| format!("exchanged from {}", subject.label()));
    check::plain_text(&account).map_err(|e| Error::field("account", e))?;
    let subject_token = token_of(subject)?;
    let actor_token = actor.map(token_of).transpose()?;
    // The token endpoint, or its mutual-TLS alias for a client with a certificate.
    let url = crate::oauth::client_auth::via_mtls(
        &p,
        p.token_url.as_deref(),
        p.mtls_token_url.as_deref(),
    )
    .map(str::to_owned)
    .ok_or_else(|| Error::field("token_url", "is needed to exchange a token at the provider"))?;
    // The result never replaces a signed-in account's tokens (an exchanged account may be
    // exchanged anew), and never is one of its own parties: that would exchange itself.
    let party_is_target =
        |t: &crate::refresh::Fresh, party: &Party| party.provider == name && t.account == account;
    if party_is_target(&subject_token, subject)
        || actor
            .zip(actor_token.as_ref())
            .is_some_and(|(a, t)| party_is_target(t, a))
    {
        return Err(Error::field(
            "account",
            "is the account whose token goes into the exchange: choose another label",
        ));
    }
    if into == Into::New
        && tokens::get(vault.conn(), name, &account).is_ok()
        && exchanged::get(vault.conn(), name, &account)?.is_none()
    {
        return Err(Error::InvalidFields(vec![
            crate::error::FieldError::conflict(
                "account",
                format!(
                    "{} already has an account {}: choose another label",
                    shown(name),
                    shown(&account)
                ),
            ),
        ]));
    }
    let scope = req.scopes.join(" ");
    let mut pairs: Vec<(&str, &str)> = vec![
        ("grant_type", GRANT),
        ("subject_token", subject_token.token.expose()),
        ("subject_token_type", ACCESS_TOKEN),
        ("requested_token_type", requested),
    ];
    if let Some(a) = &actor_token {
        pairs.push(("actor_token", a.token.expose()));
        pairs.push(("actor_token_type", ACCESS_TOKEN));
    }
    if let Some(a) = &req.audience {
        pairs.push(("audience", a));
    }
    if let Some(r) = &req.resource {
        pairs.push(("resource", r));
    }
    if !scope.is_empty() {
        pairs.push(("scope", &scope));
    }
    let response = http_for(http, &p)?.call(form_post(&p, &url, &pairs)?)?;
    let status = response.status().as_u16();
    let body = response.body();
    let doc: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    if status != 200 {
        let said = doc
            .as_ref()
            .and_then(|d| d["error"].as_str().map(crate::text::visible))
            .unwrap_or_else(|| format!("HTTP {status}"));
        return Err(Error::ProviderError(format!(
            "{} refused the exchange ({said}); nothing was stored",
            shown(name)
        )));
    }
    let record = answer(name, doc.as_ref(), body, &account, now)?;
    let _lock = crate::refresh::RefreshLock::acquire(vault.path())?;
    let tx = vault.conn().unchecked_transaction()?;
    // Read again under the lock: a provider moved meanwhile (which signs its accounts out),
    // or an account signed out or revoked meanwhile, does not get the result.
    let now_p = ptable::get(&tx, name)?;
    let same_endpoint = now_p.token_url == p.token_url
        && now_p.mtls_token_url == p.mtls_token_url
        && now_p.client_auth == p.client_auth;
    let still_wanted = match into {
        Into::New => true,
        Into::Again => {
            tokens::get(&tx, name, &account).is_ok_and(|t| t.status == tokens::TokenStatus::Active)
                && exchanged::get(&tx, name, &account)?.is_some()
        }
    };
    if !same_endpoint || !still_wanted {
        return Err(Error::InvalidInput(format!(
            "{} changed while the token was exchanged; nothing was stored",
            shown(name)
        )));
    }
    let id = ptable::view(&tx, name)?.id;
    tokens::upsert(&tx, id, &record, now)?;
    // Where it came from, to exchange it again when it expires: the parties as resolved.
    let origin = exchanged::Origin {
        subject: (subject.provider.clone(), subject_token.account.clone()),
        actor: actor
            .zip(actor_token.as_ref())
            .map(|(a, t)| (a.provider.clone(), t.account.clone())),
        audience: req.audience.clone(),
        resource: req.resource.clone(),
        scopes: req.scopes.clone(),
        requested_type: requested.to_owned(),
    };
    exchanged::put(&tx, name, &account, &origin)?;
    let from = match actor {
        Some(a) => format!("from {}, acting {}", subject.label(), a.label()),
        None => format!("from {}", subject.label()),
    };
    activity::record(
        &tx,
        now,
        if into == Into::New {
            "token exchanged"
        } else {
            "token exchanged again"
        },
        Some(name),
        Some(&account),
        Some(&from),
    )?;
    tx.commit()?;
    Ok(Exchanged {
        account,
        expires_at: record.expires_at,
        scopes: record.scopes,
    })
}

/// Checks an exchange answer: a token type this tool hands out as an access token, and a
/// token response as an imported one is checked.
fn answer(
    name: &str,
    doc: Option<&serde_json::Value>,
    body: &[u8],
    account: &str,
    now: i64,
) -> Result<tokens::TokenRecord> {
    let issued = doc
        .and_then(|d| d["issued_token_type"].as_str().map(str::to_owned))
        .unwrap_or_default();
    if ![ACCESS_TOKEN, JWT].contains(&issued.as_str()) {
        return Err(Error::ProviderError(format!(
            "{} answered the exchange with a token of type {} (RFC 8693 §2.2.1), not one to use \
             as an access token; nothing was stored",
            shown(name),
            shown(if issued.is_empty() {
                "(none given)"
            } else {
                &issued
            })
        )));
    }
    crate::import::parse(body, account, now).map_err(|e| {
        Error::ProviderError(format!(
            "{}'s exchange answer is not a usable token response ({e}); nothing was stored",
            shown(name)
        ))
    })
}

/// `crate::fuzzing`: an answer read as `exchange` reads it.
pub(crate) fn fuzz_answer(body: &[u8], now: i64) -> Result<tokens::TokenRecord> {
    let doc: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    answer("fuzz", doc.as_ref(), body, "fuzz", now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_party_is_a_provider_and_maybe_an_account_after_the_last_colon() {
        assert_eq!(
            Party::parse("Work"),
            Party {
                provider: "Work".into(),
                account: None
            }
        );
        assert_eq!(
            Party::parse("Work:alice@example.com"),
            Party {
                provider: "Work".into(),
                account: Some("alice@example.com".into())
            }
        );
        assert_eq!(Party::parse("Work:").provider, "Work:");
    }
}
