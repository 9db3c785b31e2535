//! A fresh access token, and the refresh behind it (RFC 6749 §6), once at a time.
//!
//! Every refresh of a vault happens under one file lock beside it, held by whichever thread or
//! process refreshes, so that many callers (the window, several CLIs, the REST API) make one
//! request to the provider and all get the same new token: with rotating refresh tokens, a
//! second request with the old one would look like reuse and revoke the grant. After taking the
//! lock the token is read again, because the previous holder may have just refreshed it. The
//! new tokens are committed (synchronous=FULL) before the access token is handed out.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::http::Http;
use crate::oauth::flow;
use crate::secret::Secret;
use crate::text::{inert, shown};
use crate::vault::provider_table as ptable;
use crate::vault::tokens::{self, Refreshed, TokenRecord, TokenStatus};
use crate::vault::{activity, Vault};

/// Refresh when the token has less than this left (seconds).
pub const DEFAULT_MARGIN: i64 = 60;
/// How long a caller waits for another's refresh before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(90);

/// The account meant: the one given, or the provider's only one.
pub fn resolve_account(vault: &Vault, provider: &str, account: Option<&str>) -> Result<String> {
    if let Some(a) = account {
        return Ok(a.to_owned());
    }
    ptable::get(vault.conn(), provider)?;
    let accounts = tokens::accounts(vault.conn(), provider)?;
    match accounts.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Error::NeedsSignin(format!(
            "{} has no signed-in account: run `oauth-desk login {}`",
            shown(provider),
            provider
        ))),
        many => Err(Error::InvalidInput(format!(
            "{} has {} accounts ({}): choose one with --account",
            shown(provider),
            many.len(),
            many.iter().map(|a| shown(a)).collect::<Vec<_>>().join(", ")
        ))),
    }
}

fn usable(t: &TokenRecord, provider: &str) -> Result<()> {
    match t.status {
        TokenStatus::Revoked => Err(Error::NeedsSignin(format!(
            "the token of {} at {} was revoked: sign in again",
            shown(&t.account),
            shown(provider)
        ))),
        TokenStatus::NeedsSignin => Err(Error::NeedsSignin(format!(
            "{} at {} needs to sign in again",
            shown(&t.account),
            shown(provider)
        ))),
        _ => Ok(()),
    }
}

fn valid_for(t: &TokenRecord, min_valid: i64, now: i64) -> bool {
    t.access_token.is_some() && t.expires_at.is_none_or(|e| e - now > min_valid)
}

/// The access token of `provider`/`account`, valid for more than `min_valid` seconds,
/// refreshed first when it is not.
pub fn access_token(
    vault: &Vault,
    provider: &str,
    account: Option<&str>,
    min_valid: i64,
    http: &dyn Fn() -> Result<Http>,
    now: &dyn Fn() -> i64,
) -> Result<Secret<String>> {
    fresh(vault, provider, account, min_valid, http, now).map(|f| f.token)
}

/// A fresh access token with what a script may want to know of it (`token get --json`).
pub struct Fresh {
    pub token: Secret<String>,
    pub account: String,
    pub token_type: Option<String>,
    pub expires_at: Option<i64>,
    pub scopes: Vec<String>,
}

/// `access_token`, with the stored token's type, expiry and scopes: one read of the row when
/// the token is still good, a second only after a refresh wrote a new one.
pub fn fresh(
    vault: &Vault,
    provider: &str,
    account: Option<&str>,
    min_valid: i64,
    http: &dyn Fn() -> Result<Http>,
    now: &dyn Fn() -> i64,
) -> Result<Fresh> {
    let account = resolve_account(vault, provider, account)?;
    let mut t = tokens::get(vault.conn(), provider, &account)?;
    usable(&t, provider)?;
    let token = if valid_for(&t, min_valid, now()) {
        t.access_token.take().expect("checked by valid_for")
    } else if t.refresh_token.is_none()
        && crate::exchange::again(vault, provider, &account, &http()?, now())?
    {
        // Got by token exchange, without a refresh token: exchanged again instead.
        t = tokens::get(vault.conn(), provider, &account)?;
        t.access_token
            .take()
            .ok_or_else(|| Error::ProviderError("the exchange again gave no access token".into()))?
    } else {
        let refreshed = refresh_locked(vault, provider, &account, Some(min_valid), http, now)?;
        t = tokens::get(vault.conn(), provider, &account)?;
        refreshed.access_token
    };
    Ok(Fresh {
        token,
        account,
        token_type: t.token_type,
        expires_at: t.expires_at,
        scopes: t.scopes,
    })
}

/// A fresh token as it goes with one request (`request`: its method and URL): the
/// `Authorization` value and, for a DPoP-bound token, the proof; with the token's details.
pub fn presented(
    vault: &Vault,
    provider: &str,
    account: Option<&str>,
    min_valid: i64,
    request: Option<crate::oauth::dpop::ForRequest<'_>>,
    http: &dyn Fn() -> Result<Http>,
    now: &dyn Fn() -> i64,
) -> Result<(crate::oauth::dpop::Presented, Fresh)> {
    let f = fresh(vault, provider, account, min_valid, http, now)?;
    let p = tokens::for_account(
        vault.conn(),
        crate::vault::provider_table::get(vault.conn(), provider)?,
        &f.account,
    )?;
    let presented = crate::oauth::dpop::present(
        &p,
        f.token_type.as_deref(),
        f.token.expose(),
        request,
        now(),
    )?;
    Ok((presented, f))
}

/// What a refresh did, for the faces.
#[derive(Debug, Serialize)]
pub struct RefreshOutcome {
    pub provider: String,
    pub account: String,
    #[serde(serialize_with = "crate::time::serialize_opt_rfc3339")]
    pub expires_at: Option<i64>,
    /// The provider sent a new refresh token (rotation).
    pub rotated: bool,
    /// Another caller had just refreshed it; no request was made.
    pub shared: bool,
    #[serde(skip)]
    pub access_token: Secret<String>,
}

/// What a narrowed token is for: fewer scopes, and/or one resource.
#[derive(Debug, Clone, Copy)]
pub struct Narrowing<'a> {
    pub scopes: &'a [String],
    pub resource: Option<&'a str>,
}

/// A token of `provider`/`account` narrowed to `scopes` and/or `resource`, valid for more than
/// `min_valid` seconds: the one kept from before, or a new one from the account's refresh token
/// (whose rotation, if the provider rotates, is kept for the account). Never the account's own
/// token, and never one the provider gave for more than was asked.
pub fn narrowed(
    vault: &Vault,
    provider: &str,
    account: Option<&str>,
    to: Narrowing<'_>,
    min_valid: i64,
    http: &dyn Fn() -> Result<Http>,
    now: &dyn Fn() -> i64,
) -> Result<Fresh> {
    use crate::vault::narrowed::{self, Narrowed};
    let Narrowing { scopes, resource } = to;
    for s in scopes {
        crate::oauth::check::scope(s).map_err(|e| Error::field("scope", e))?;
    }
    if let Some(r) = resource {
        crate::oauth::check::resource(r).map_err(|e| Error::field("resource", e))?;
    }
    let account = resolve_account(vault, provider, account)?;
    let key = narrowed::scope_key(scopes);
    let resource_key = resource.unwrap_or_default();
    let cached = |conn: &rusqlite::Connection| -> Result<Option<Fresh>> {
        let t = tokens::get(conn, provider, &account)?;
        usable(&t, provider)?;
        let (id, signed_in) = narrowed::account_row(conn, provider, &account)?;
        Ok(narrowed::get(conn, id, &key, resource_key)?
            .filter(|n| n.obtained_at >= signed_in)
            .filter(|n| n.expires_at.is_none_or(|e| e - now() > min_valid))
            .map(|n| Fresh {
                token: n.access_token,
                account: account.clone(),
                token_type: n.token_type,
                expires_at: n.expires_at,
                scopes: scopes.to_vec(),
            }))
    };
    if let Some(f) = cached(vault.conn())? {
        return Ok(f);
    }
    let _lock = RefreshLock::acquire(vault.path())?;
    if let Some(f) = cached(vault.conn())? {
        return Ok(f);
    }
    let t = tokens::get(vault.conn(), provider, &account)?;
    let refresh_token = refresh_token_of(vault, &t, provider, &account, now())?;
    let p = tokens::for_account(vault.conn(), ptable::get(vault.conn(), provider)?, &account)?;
    let grant =
        http().and_then(|h| flow::narrow(&p, &refresh_token, scopes, resource, &h, now()))?;
    let (id, _) = narrowed::account_row(vault.conn(), provider, &account)?;
    // Kept first, and on its own, whatever follows: the old refresh token may be spent now.
    if let Some(rotated) = &grant.refresh_token {
        narrowed::keep_refresh_token(vault.conn(), id, rotated)?;
    }
    // Narrowed by scope: no scope beyond those asked. By resource alone: any the grant has.
    let wider: Vec<&String> = if scopes.is_empty() {
        Vec::new()
    } else {
        grant
            .scopes
            .iter()
            .filter(|s| !scopes.contains(s))
            .collect()
    };
    if !wider.is_empty() {
        return Err(Error::ProviderError(format!(
            "{} answered the narrowing refresh with more scope than asked ({}): it is not \
             handed out as a narrowed token",
            shown(provider),
            wider
                .iter()
                .map(|s| shown(s))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let kept = Narrowed {
        access_token: grant.access_token.clone(),
        token_type: Some(grant.token_type.clone()),
        expires_at: grant.expires_at,
        obtained_at: now(),
    };
    narrowed::put(vault.conn(), id, &key, resource_key, &kept)?;
    Ok(Fresh {
        token: grant.access_token,
        account,
        token_type: Some(grant.token_type),
        expires_at: grant.expires_at,
        scopes: grant.scopes,
    })
}

/// Refreshes now, whatever the expiry (the table's Refresh, `token refresh`).
pub fn refresh(
    vault: &Vault,
    provider: &str,
    account: Option<&str>,
    http: &dyn Fn() -> Result<Http>,
    now: &dyn Fn() -> i64,
) -> Result<RefreshOutcome> {
    let account = resolve_account(vault, provider, account)?;
    let t = tokens::get(vault.conn(), provider, &account)?;
    usable(&t, provider)?;
    refresh_locked(vault, provider, &account, None, http, now)
}

/// `min_valid`: refresh only if still needed once the lock is held; None: refresh anyway.
fn refresh_locked(
    vault: &Vault,
    provider: &str,
    account: &str,
    min_valid: Option<i64>,
    http: &dyn Fn() -> Result<Http>,
    now: &dyn Fn() -> i64,
) -> Result<RefreshOutcome> {
    let _lock = RefreshLock::acquire(vault.path())?;
    let t = tokens::get(vault.conn(), provider, account)?;
    usable(&t, provider)?;
    if let Some(min) = min_valid {
        if valid_for(&t, min, now()) {
            return Ok(RefreshOutcome {
                provider: provider.to_owned(),
                account: account.to_owned(),
                expires_at: t.expires_at,
                rotated: false,
                shared: true,
                access_token: t.access_token.expect("checked by valid_for"),
            });
        }
    }
    let refresh_token = refresh_token_of(vault, &t, provider, account, now())?;
    let p = tokens::for_account(vault.conn(), ptable::get(vault.conn(), provider)?, account)?;
    let grant = match http().and_then(|h| flow::refresh(&p, &refresh_token, &h, now())) {
        Ok(g) => g,
        Err(e) => {
            record_failure(vault, provider, account, &e, now())?;
            return Err(e);
        }
    };
    let tx = vault.conn().unchecked_transaction()?;
    let outcome = store(&tx, provider, account, &refresh_token, grant, now())?;
    tx.commit()?;
    Ok(outcome)
}

/// The refresh token to use; without one the account needs sign-in, which is recorded.
fn refresh_token_of(
    vault: &Vault,
    t: &TokenRecord,
    provider: &str,
    account: &str,
    now: i64,
) -> Result<Secret<String>> {
    if let Some(r) = &t.refresh_token {
        return Ok(r.clone());
    }
    let e = Error::NeedsSignin(format!(
        "the token of {} at {} cannot be refreshed: there is no refresh token; sign in again",
        shown(account),
        shown(provider)
    ));
    record_failure(vault, provider, account, &e, now)?;
    Err(e)
}

/// Writes a refresh's new tokens and its activity line into `tx`.
fn store(
    tx: &rusqlite::Transaction,
    provider: &str,
    account: &str,
    old_refresh_token: &Secret<String>,
    grant: flow::Grant,
    now: i64,
) -> Result<RefreshOutcome> {
    let rotated = grant
        .refresh_token
        .as_ref()
        .is_some_and(|n| n.expose() != old_refresh_token.expose());
    tokens::store_refreshed(
        tx,
        provider,
        account,
        &Refreshed {
            access_token: &grant.access_token,
            refresh_token: grant.refresh_token.as_ref(),
            id_token: grant.id_token.as_ref(),
            scopes: &grant.scopes,
            expires_at: grant.expires_at,
            token_type: &grant.token_type,
        },
        now,
    )?;
    let detail = if rotated {
        "refresh token rotated"
    } else {
        "refresh token kept"
    };
    activity::record(
        tx,
        now,
        "refreshed",
        Some(provider),
        Some(account),
        Some(detail),
    )?;
    Ok(RefreshOutcome {
        provider: provider.to_owned(),
        account: account.to_owned(),
        expires_at: grant.expires_at,
        rotated,
        shared: false,
        access_token: grant.access_token,
    })
}

fn record_failure(vault: &Vault, provider: &str, account: &str, e: &Error, now: i64) -> Result<()> {
    let status = tokens::get(vault.conn(), provider, account)?.status;
    let tx = vault.conn().unchecked_transaction()?;
    note_failure(&tx, provider, account, status, e, now)?;
    tx.commit()?;
    Ok(())
}

/// Marks a failed refresh in `tx`: needs sign-in when the provider said so, else the status
/// the row had, with the error and an activity line.
fn note_failure(
    tx: &rusqlite::Transaction,
    provider: &str,
    account: &str,
    status: TokenStatus,
    e: &Error,
    now: i64,
) -> Result<()> {
    let message = inert(&e.to_string());
    let status = match e {
        Error::NeedsSignin(_) => TokenStatus::NeedsSignin,
        _ => status,
    };
    tokens::mark(tx, provider, account, status, Some(&message))?;
    activity::record(
        tx,
        now,
        "refresh failed",
        Some(provider),
        Some(account),
        Some(&message),
    )?;
    Ok(())
}

/// One account of a bulk refresh, read under the lock.
struct Job {
    index: usize,
    provider: std::sync::Arc<ptable::ProviderRecord>,
    account: String,
    status: TokenStatus,
    refresh_token: Secret<String>,
}

/// Refreshes many accounts (`token refresh --all`). The vault's refresh lock is held for the
/// whole batch (other callers wait, then read the fresh tokens); `workers` requests are in
/// flight at once, the first as soon as its account is read; results are committed as they
/// arrive, those of a short window in one transaction (a group commit: one fsync for several
/// tokens, none held back for the others). Gives one result per target, in order.
pub fn refresh_many(
    vault: &Vault,
    targets: &[(String, String)],
    http: &Http,
    now: &(dyn Fn() -> i64 + Sync),
    workers: usize,
) -> Result<Vec<Result<RefreshOutcome>>> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{mpsc, Mutex};

    let _lock = RefreshLock::acquire(vault.path())?;
    let mut results: Vec<Option<Result<RefreshOutcome>>> =
        (0..targets.len()).map(|_| None).collect();
    let (queue, queued) = mpsc::channel::<Job>();
    let queued = Mutex::new(queued);
    let (done, arrived) = mpsc::channel();
    // Set when a write fails: no more requests then, since a rotated refresh token nobody can
    // store would lose its grant.
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..workers.clamp(1, 16).min(targets.len().max(1)) {
            let done = done.clone();
            let (queued, stop) = (&queued, &stop);
            scope.spawn(move || loop {
                let next = queued
                    .lock()
                    .map_err(|_| ())
                    .and_then(|q| q.recv().map_err(|_| ()));
                let Ok(job) = next else { break };
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let grant = flow::refresh(&job.provider, &job.refresh_token, http, now());
                if done.send((job, grant)).is_err() {
                    break;
                }
            });
        }
        drop(done);
        let mut providers = std::collections::HashMap::new();
        for (index, (provider, account)) in targets.iter().enumerate() {
            match prepare(vault, &mut providers, index, provider, account, now) {
                Ok(job) => {
                    // The workers outlive this loop; a send fails only if they all died.
                    let _ = queue.send(job);
                }
                Err(e) => results[index] = Some(Err(e)),
            }
        }
        drop(queue);
        let written = write_as_they_arrive(vault, &arrived, &mut results, now);
        if written.is_err() {
            stop.store(true, Ordering::SeqCst);
        }
        written
    })?;
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::Cancelled("the refresh was interrupted".into()))))
        .collect())
}

/// Reads one account of a bulk refresh (under the lock) into a job for the workers.
fn prepare(
    vault: &Vault,
    providers: &mut std::collections::HashMap<String, std::sync::Arc<ptable::ProviderRecord>>,
    index: usize,
    provider: &str,
    account: &str,
    now: &(dyn Fn() -> i64 + Sync),
) -> Result<Job> {
    let t = tokens::get(vault.conn(), provider, account)?;
    usable(&t, provider)?;
    let refresh_token = refresh_token_of(vault, &t, provider, account, now())?;
    let p = match providers.get(provider) {
        Some(p) => std::sync::Arc::clone(p),
        None => {
            let p = std::sync::Arc::new(ptable::get(vault.conn(), provider)?);
            providers.insert(provider.to_owned(), std::sync::Arc::clone(&p));
            p
        }
    };
    // An account with a DPoP key of its own refreshes with it (even once the provider no
    // longer gives new accounts one: its token is still bound to it).
    let p = if p.dpop {
        std::sync::Arc::new(tokens::for_account(vault.conn(), (*p).clone(), account)?)
    } else {
        p
    };
    Ok(Job {
        index,
        provider: p,
        account: account.to_owned(),
        status: t.status,
        refresh_token,
    })
}

/// How long the writer of a bulk refresh gathers answers before committing them together,
/// and the most it gathers: a commit (its fsync, and the pages it writes) then serves dozens of
/// tokens rather than three (commits were a quarter of a bulk refresh's time, and 25 ms
/// measured about 4% faster than 10 ms); a crash in between loses at most this window's
/// answers (their old tokens stay whole).
const GATHER: Duration = Duration::from_millis(25);
const GATHER_MAX: usize = 64;

/// The writer of `refresh_many`: commits the answers as they arrive, a window's worth at a
/// time, until the workers are gone.
fn write_as_they_arrive(
    vault: &Vault,
    arrived: &std::sync::mpsc::Receiver<(Job, Result<flow::Grant>)>,
    results: &mut [Option<Result<RefreshOutcome>>],
    now: &(dyn Fn() -> i64 + Sync),
) -> Result<()> {
    while let Ok(first) = arrived.recv() {
        let deadline = Instant::now() + GATHER;
        let mut batch = vec![first];
        while batch.len() < GATHER_MAX {
            match arrived.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(answer) => batch.push(answer),
                // The window closed, or the workers are done.
                Err(_) => break,
            }
        }
        let tx = vault.conn().unchecked_transaction()?;
        let mut written = Vec::with_capacity(batch.len());
        for (job, grant) in batch {
            let name = job.provider.name.as_str();
            let outcome = match grant {
                Ok(g) => Ok(store(
                    &tx,
                    name,
                    &job.account,
                    &job.refresh_token,
                    g,
                    now(),
                )?),
                Err(e) => {
                    note_failure(&tx, name, &job.account, job.status, &e, now())?;
                    Err(e)
                }
            };
            written.push((job.index, outcome));
        }
        tx.commit()?;
        for (index, outcome) in written {
            results[index] = Some(outcome);
        }
    }
    Ok(())
}

/// The vault's refresh lock: an exclusive lock on `<vault>.refresh-lock`, released on drop.
/// Whoever writes an account's tokens from what a provider answered holds it: a refresh, a
/// revocation (which must revoke the refresh token a concurrent refresh may have just rotated
/// in) and a sign-in's store (which a concurrent refresh would otherwise overwrite with the old
/// grant's tokens). Each reads the token again once it has the lock.
pub(crate) struct RefreshLock {
    _file: Option<File>,
}

impl RefreshLock {
    pub(crate) fn acquire(vault: &Path) -> Result<RefreshLock> {
        if vault.as_os_str() == ":memory:" {
            return Ok(RefreshLock { _file: None });
        }
        let path = lock_path(vault);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| Error::io(format!("opening the refresh lock {}", path.display()), e))?;
        let deadline = Instant::now() + LOCK_WAIT;
        let mut waited = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(RefreshLock { _file: Some(file) }),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    if !waited {
                        // Says why a command pauses (and lets tests see that it does).
                        tracing::debug!("waiting for the refresh lock: another process or thread is refreshing, revoking or storing a token");
                        waited = true;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Error::TimedOut(
                        "another refresh, revocation or sign-in of this vault did not finish within 90 seconds"
                            .into(),
                    ))
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::io("taking the refresh lock", e))
                }
            }
        }
    }
}

fn lock_path(vault: &Path) -> PathBuf {
    let mut name = vault.file_name().unwrap_or_default().to_os_string();
    name.push(".refresh-lock");
    vault.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_excludes_a_second_holder_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("vault.db");
        let first = RefreshLock::acquire(&vault).unwrap();
        let path = lock_path(&vault);
        let other = OpenOptions::new().write(true).open(&path).unwrap();
        assert!(other.try_lock().is_err(), "held by the first");
        drop(first);
        assert!(other.try_lock().is_ok(), "free once dropped");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
