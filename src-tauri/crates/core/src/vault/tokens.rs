//! The tokens table: one row per provider and account. Token values are `Secret`s; the
//! summary that lists show has none of them.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::oauth::signing_key::{Alg, SigningKey};
use crate::secret::Secret;
use crate::vault::provider_table::ProviderRecord;

/// A token's stored status (the `status` column, the `status` of `token list --json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    #[default]
    Active,
    Expired,
    NeedsSignin,
    Revoked,
}

/// The status the token table shows and filters on: the stored one, with "expired" and
/// "expiring" (within `EXPIRING_SECS`) worked out from the expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShownStatus {
    Active,
    Expiring,
    Expired,
    NeedsSignin,
    Revoked,
}

/// The column the token table is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TokenSort {
    #[default]
    Provider,
    Account,
    Status,
    ExpiresAt,
    RefreshedAt,
}

crate::wire_names!(TokenStatus, ShownStatus, TokenSort);

#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub account: String,
    pub subject: Option<String>,
    pub access_token: Option<Secret<String>>,
    pub token_type: Option<String>,
    pub refresh_token: Option<Secret<String>>,
    pub id_token: Option<Secret<String>>,
    pub scopes: Vec<String>,
    pub expires_at: Option<i64>,
    pub status: TokenStatus,
}

/// What the token table shows: no token value.
#[derive(Debug, Clone, Serialize)]
pub struct TokenSummary {
    pub provider: String,
    pub account: String,
    pub status: TokenStatus,
    pub expires_at: Option<i64>,
    pub scopes: Vec<String>,
    pub obtained_at: i64,
    pub refreshed_at: Option<i64>,
    pub last_error: Option<String>,
    /// Bearer, or DPoP: bound to the provider's DPoP key.
    pub token_type: Option<String>,
}

/// Stores the token of `record.account` at provider `provider_id`, replacing the one it had.
pub fn upsert(conn: &Connection, provider_id: i64, t: &TokenRecord, now: i64) -> Result<()> {
    let expose = |s: &Option<Secret<String>>| s.as_ref().map(|s| s.expose().clone());
    // A new grant: tokens narrowed from the one it replaces go with it, and so does how it
    // was exchanged (an exchange records its origin again after this).
    for table in ["narrowed_tokens", "exchanged"] {
        conn.execute(
            &format!(
                "DELETE FROM {table} WHERE token_id =
                     (SELECT id FROM tokens WHERE provider_id = ?1 AND account = ?2)"
            ),
            params![provider_id, t.account],
        )?;
    }
    conn.execute(
        "INSERT INTO tokens (provider_id, account, subject, access_token, token_type, refresh_token,
             id_token, scopes, expires_at, obtained_at, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (provider_id, account) DO UPDATE SET subject = excluded.subject,
             access_token = excluded.access_token, token_type = excluded.token_type,
             refresh_token = excluded.refresh_token, id_token = excluded.id_token,
             scopes = excluded.scopes, expires_at = excluded.expires_at,
             obtained_at = excluded.obtained_at, status = excluded.status, last_error = NULL",
        params![
            provider_id,
            t.account,
            t.subject,
            expose(&t.access_token),
            t.token_type,
            expose(&t.refresh_token),
            expose(&t.id_token),
            serde_json::to_string(&t.scopes).expect("a list of strings serializes"),
            t.expires_at,
            now,
            t.status,
        ],
    )?;
    Ok(())
}

/// Keeps `key` as the account's own DPoP key (None: the provider's key serves it).
pub fn set_dpop_key(
    conn: &Connection,
    provider_id: i64,
    account: &str,
    key: Option<&SigningKey>,
) -> Result<()> {
    conn.execute(
        "UPDATE tokens SET dpop_key_alg = ?3, dpop_key = ?4 WHERE provider_id = ?1 AND account = ?2",
        params![
            provider_id,
            account,
            key.map(|k| k.alg().as_str()),
            key.map(|k| k.stored_jwk().expose().as_str()),
        ],
    )?;
    Ok(())
}

/// Provider `p` as the requests of `account` see it: its DPoP key is the account's own,
/// when the account has one.
pub fn for_account(
    conn: &Connection,
    mut p: ProviderRecord,
    account: &str,
) -> Result<ProviderRecord> {
    let stored: Option<(Option<Alg>, Option<String>)> = conn
        .query_row(
            "SELECT t.dpop_key_alg, t.dpop_key FROM tokens t JOIN providers p ON p.id = t.provider_id
             WHERE p.name = ?1 AND t.account = ?2",
            [&p.name, account],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((Some(alg), Some(jwk))) = stored {
        let key = SigningKey::from_stored(alg, Secret::new(jwk)).ok_or_else(|| {
            Error::Storage(format!(
                "the stored DPoP key of account {account:?} is not a usable {} key",
                alg.as_str()
            ))
        })?;
        p.dpop_key = Some(key);
    }
    Ok(p)
}

pub fn get(conn: &Connection, provider: &str, account: &str) -> Result<TokenRecord> {
    conn.prepare_cached(
        "SELECT t.account, t.subject, t.access_token, t.token_type, t.refresh_token, t.id_token,
                t.scopes, t.expires_at, t.status
         FROM tokens t JOIN providers p ON p.id = t.provider_id
         WHERE p.name = ?1 AND t.account = ?2",
    )?
    .query_row([provider, account], |r| {
        Ok(TokenRecord {
            account: r.get(0)?,
            subject: r.get(1)?,
            access_token: r.get::<_, Option<String>>(2)?.map(Secret::new),
            token_type: r.get(3)?,
            refresh_token: r.get::<_, Option<String>>(4)?.map(Secret::new),
            id_token: r.get::<_, Option<String>>(5)?.map(Secret::new),
            scopes: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
            expires_at: r.get(7)?,
            status: TokenStatus::parse(&r.get::<_, String>(8)?).unwrap_or_default(),
        })
    })
    .optional()?
    .ok_or_else(|| not_found(provider, account))
}

/// The accounts of `provider`, by name.
pub fn accounts(conn: &Connection, provider: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.account FROM tokens t JOIN providers p ON p.id = t.provider_id
         WHERE p.name = ?1 ORDER BY t.account COLLATE NOCASE",
    )?;
    let rows = stmt.query_map([provider], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What a refresh brings: a new access token, and whatever else the provider sent.
pub struct Refreshed<'a> {
    pub access_token: &'a Secret<String>,
    /// None keeps the refresh token the row has (RFC 6749 §6: the provider may not rotate).
    pub refresh_token: Option<&'a Secret<String>>,
    pub id_token: Option<&'a Secret<String>>,
    pub scopes: &'a [String],
    pub expires_at: Option<i64>,
    /// Bearer, or DPoP when the refresh bound the new token to the provider's key.
    pub token_type: &'a str,
}

pub fn store_refreshed(
    conn: &Connection,
    provider: &str,
    account: &str,
    r: &Refreshed,
    now: i64,
) -> Result<()> {
    // Cached statements: a bulk refresh runs these a thousand times in a row. The status is
    // set by a second statement, and only when it changes: SQLite evaluates the status CHECK
    // (an IN list, built into a temporary table each time) whenever an UPDATE sets the
    // column, and that temporary table was a tenth of a bulk refresh's time.
    let changed = conn
        .prepare_cached(
            "UPDATE tokens SET access_token = ?3, refresh_token = coalesce(?4, refresh_token),
             id_token = coalesce(?5, id_token), scopes = ?6, expires_at = ?7, refreshed_at = ?8,
             token_type = ?9, last_error = NULL
         WHERE account = ?2 AND provider_id = (SELECT id FROM providers WHERE name = ?1)",
        )?
        .execute(params![
            provider,
            account,
            r.access_token.expose(),
            r.refresh_token.map(|s| s.expose().as_str()),
            r.id_token.map(|s| s.expose().as_str()),
            serde_json::to_string(r.scopes).expect("a list of strings serializes"),
            r.expires_at,
            now,
            r.token_type,
        ])?;
    if changed == 0 {
        return Err(not_found(provider, account));
    }
    conn.prepare_cached(
        "UPDATE tokens SET status = 'active'
         WHERE account = ?2 AND provider_id = (SELECT id FROM providers WHERE name = ?1)
           AND status <> 'active'",
    )?
    .execute(params![provider, account])?;
    Ok(())
}

/// Sets the status (and the error a face shows), keeping the secrets.
pub fn mark(
    conn: &Connection,
    provider: &str,
    account: &str,
    status: TokenStatus,
    error: Option<&str>,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE tokens SET status = ?3, last_error = ?4
         WHERE account = ?2 AND provider_id = (SELECT id FROM providers WHERE name = ?1)",
    )?
    .execute(params![provider, account, status, error])?;
    Ok(())
}

/// Forgets the token's secrets; the row stays, saying "revoked".
pub fn wipe(conn: &Connection, provider: &str, account: &str) -> Result<()> {
    // Revoked: nothing narrowed from it stays, and it is not exchanged again by itself.
    for table in ["narrowed_tokens", "exchanged"] {
        conn.execute(
            &format!(
                "DELETE FROM {table} WHERE token_id = (SELECT t.id FROM tokens t
                     JOIN providers p ON p.id = t.provider_id WHERE p.name = ?1 AND t.account = ?2)"
            ),
            params![provider, account],
        )?;
    }
    conn.execute(
        "UPDATE tokens SET access_token = NULL, refresh_token = NULL, id_token = NULL,
             dpop_key = NULL, dpop_key_alg = NULL, status = 'revoked', last_error = NULL
         WHERE account = ?2 AND provider_id = (SELECT id FROM providers WHERE name = ?1)",
        params![provider, account],
    )?;
    Ok(())
}

/// Forgets the account: its row, and with it its narrowed tokens.
pub fn forget(conn: &Connection, provider: &str, account: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM tokens
         WHERE account = ?2 AND provider_id = (SELECT id FROM providers WHERE name = ?1)",
        params![provider, account],
    )?;
    Ok(())
}

/// Forgets every token of provider `provider_id` (access, refresh and ID token, and an
/// account's own DPoP key, which bound nothing left) and marks each
/// account as needing sign-in, with `reason` as its error; returns how many accounts. For a
/// provider whose endpoints moved to another host: no stored token may follow them there, and
/// revocation or a refresh would send it whatever the status says.
pub fn sign_out_all(conn: &Connection, provider_id: i64, reason: &str) -> Result<i64> {
    // Nor is an exchanged account exchanged again at the moved endpoint.
    for table in ["narrowed_tokens", "exchanged"] {
        conn.execute(
            &format!(
                "DELETE FROM {table} WHERE token_id IN (SELECT id FROM tokens WHERE provider_id = ?1)"
            ),
            params![provider_id],
        )?;
    }
    let n = conn.execute(
        "UPDATE tokens SET access_token = NULL, refresh_token = NULL, id_token = NULL,
             dpop_key = NULL, dpop_key_alg = NULL, status = 'needs_signin', last_error = ?2
         WHERE provider_id = ?1",
        params![provider_id, reason],
    )?;
    Ok(n as i64)
}

/// The `n` accounts whose tokens were got most recently (signed in or refreshed) and are not
/// revoked or waiting for a sign-in: (provider, account), newest first. The tray offers them.
pub fn recent(conn: &Connection, n: usize) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT p.name, t.account FROM tokens t JOIN providers p ON p.id = t.provider_id
         WHERE t.status = 'active' AND t.access_token IS NOT NULL
         ORDER BY max(t.obtained_at, coalesce(t.refreshed_at, 0)) DESC, t.id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([n as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Renames an account; the new label must be free at that provider.
pub fn rename(conn: &Connection, provider: &str, account: &str, to: &str) -> Result<()> {
    if get(conn, provider, to).is_ok() {
        return Err(Error::field(
            "account",
            format!("{provider} already has an account named {to:?}"),
        ));
    }
    let changed = conn.execute(
        "UPDATE tokens SET account = ?3
         WHERE account = ?2 AND provider_id = (SELECT id FROM providers WHERE name = ?1)",
        params![provider, account, to],
    )?;
    if changed == 0 {
        return Err(not_found(provider, account));
    }
    Ok(())
}

fn not_found(provider: &str, account: &str) -> Error {
    Error::NotFound(format!(
        "no token for account {account:?} of provider {provider:?}"
    ))
}

/// What the token table asks for: a filter, an order, and the page it shows.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct TokenQuery {
    /// Part of the provider's name or the account.
    pub search: String,
    pub provider: Option<String>,
    pub status: Option<ShownStatus>,
    pub sort: Option<TokenSort>,
    pub descending: bool,
    pub offset: u32,
    pub limit: u32,
}

/// A row of the token table.
#[derive(Debug, Clone, Serialize)]
pub struct TokenRow {
    pub provider: String,
    pub color: Option<String>,
    pub account: String,
    pub status: ShownStatus,
    pub expires_at: Option<i64>,
    pub scopes: Vec<String>,
    pub refreshed_at: Option<i64>,
    /// When the access token held now was got (signed in or refreshed): the window shows the
    /// time left as a share of its lifetime.
    pub issued_at: i64,
    pub last_error: Option<String>,
    pub has_refresh_token: bool,
    /// Bearer, or DPoP: bound to the provider's DPoP key.
    pub token_type: Option<String>,
    /// What the token is bound to, if anything: "DPoP" (the provider's DPoP key) or "mTLS"
    /// (the client's certificate, for a provider that binds its tokens to it).
    pub bound: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenPage {
    pub total: i64,
    pub rows: Vec<TokenRow>,
}

/// A token this close to its expiry shows as "expiring".
pub const EXPIRING_SECS: i64 = 300;

/// One page of the token table, filtered and sorted in SQL so that 100,000 rows stay fast.
pub fn query(conn: &Connection, q: &TokenQuery, now: i64) -> Result<TokenPage> {
    let order = match q.sort.unwrap_or_default() {
        TokenSort::Provider => "p.name COLLATE NOCASE",
        TokenSort::Account => "t.account COLLATE NOCASE",
        TokenSort::Status => "shown",
        TokenSort::ExpiresAt => "t.expires_at IS NULL, t.expires_at",
        TokenSort::RefreshedAt => "t.refreshed_at IS NULL, t.refreshed_at",
    };
    let dir = if q.descending { "DESC" } else { "ASC" };
    let base = "FROM (SELECT t.*, CASE
                 WHEN t.status = 'active' AND t.expires_at IS NOT NULL AND t.expires_at <= ?1 THEN 'expired'
                 WHEN t.status = 'active' AND t.expires_at IS NOT NULL AND t.expires_at <= ?1 + ?2 THEN 'expiring'
                 ELSE t.status END AS shown FROM tokens t) t
             JOIN providers p ON p.id = t.provider_id
             WHERE (?3 = '' OR p.name LIKE '%' || ?3 || '%' ESCAPE '\\' OR t.account LIKE '%' || ?3 || '%' ESCAPE '\\')
               AND (?4 IS NULL OR p.name = ?4)
               AND (?5 IS NULL OR t.shown = ?5)";
    let search = q
        .search
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let args = params![now, EXPIRING_SECS, search, q.provider, q.status];
    let total: i64 = conn.query_row(&format!("SELECT count(*) {base}"), args, |r| r.get(0))?;
    let limit = if q.limit == 0 { 200 } else { q.limit.min(1000) };
    let sql = format!(
        "SELECT p.name, p.color, t.account, t.shown, t.expires_at, t.scopes, t.refreshed_at, t.last_error,
                t.refresh_token IS NOT NULL, t.token_type,
                CASE WHEN t.token_type = 'DPoP' THEN 'DPoP'
                     WHEN p.mtls_bound_tokens AND p.client_auth IN ('tls_client_auth', 'self_signed_tls_client_auth')
                     THEN 'mTLS' END,
                max(t.obtained_at, coalesce(t.refreshed_at, 0))
         {base} ORDER BY {order} {dir}, p.name COLLATE NOCASE, t.account COLLATE NOCASE LIMIT {limit} OFFSET {}",
        q.offset
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(
        params![now, EXPIRING_SECS, search, q.provider, q.status],
        |r| {
            Ok(TokenRow {
                provider: r.get(0)?,
                color: r.get(1)?,
                account: r.get(2)?,
                status: r.get(3)?,
                expires_at: r.get(4)?,
                scopes: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or_default(),
                refreshed_at: r.get(6)?,
                last_error: r.get(7)?,
                has_refresh_token: r.get(8)?,
                token_type: r.get(9)?,
                bound: r.get(10)?,
                issued_at: r.get(11)?,
            })
        },
    )?;
    Ok(TokenPage {
        total,
        rows: rows.collect::<Result<_, _>>()?,
    })
}

/// Accounts whose token expires within `window` seconds and can be refreshed.
pub fn due(conn: &Connection, now: i64, window: i64) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT p.name, t.account FROM tokens t JOIN providers p ON p.id = t.provider_id
         WHERE t.status = 'active' AND t.refresh_token IS NOT NULL
           AND t.expires_at IS NOT NULL AND t.expires_at <= ?1
         ORDER BY t.expires_at",
    )?;
    let rows = stmt.query_map([now + window], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn list(conn: &Connection) -> Result<Vec<TokenSummary>> {
    let mut stmt = conn.prepare(
        "SELECT p.name, t.account, t.status, t.expires_at, t.scopes, t.obtained_at, t.refreshed_at, t.last_error,
                t.token_type
         FROM tokens t JOIN providers p ON p.id = t.provider_id
         ORDER BY p.name COLLATE NOCASE, t.account COLLATE NOCASE",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(TokenSummary {
            provider: r.get(0)?,
            account: r.get(1)?,
            status: TokenStatus::parse(&r.get::<_, String>(2)?).unwrap_or_default(),
            expires_at: r.get(3)?,
            scopes: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
            obtained_at: r.get(5)?,
            refreshed_at: r.get(6)?,
            last_error: r.get(7)?,
            token_type: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An in-memory vault with one provider, "idp", and its id.
    fn vault_with_provider() -> (crate::vault::Vault, i64) {
        let v = crate::vault::Vault::open_in_memory().unwrap();
        let pid = crate::vault::provider_table::insert(
            v.conn(),
            &crate::vault::provider_table::ProviderRecord {
                config: crate::vault::provider_table::ProviderConfig {
                    name: "idp".into(),
                    client_id: "c".into(),
                    ..Default::default()
                },
                client_secret: None,
                ..Default::default()
            },
            1,
        )
        .unwrap();
        (v, pid)
    }

    pub(crate) fn sample(account: &str) -> TokenRecord {
        TokenRecord {
            account: account.into(),
            subject: Some(account.into()),
            access_token: Some("at-value".into()),
            token_type: Some("Bearer".into()),
            refresh_token: Some("rt-value".into()),
            id_token: None,
            scopes: vec!["openid".into()],
            expires_at: Some(100),
            status: TokenStatus::Active,
        }
    }

    /// The UI, the REST API, `token list --json` and the table's SQL use these strings.
    #[test]
    fn statuses_and_sort_orders_keep_their_names() {
        use crate::wire::assert_names;
        assert_names(
            &[
                (TokenStatus::Active, "active"),
                (TokenStatus::Expired, "expired"),
                (TokenStatus::NeedsSignin, "needs_signin"),
                (TokenStatus::Revoked, "revoked"),
            ],
            TokenStatus::as_str,
        );
        assert_names(
            &[
                (ShownStatus::Active, "active"),
                (ShownStatus::Expiring, "expiring"),
                (ShownStatus::Expired, "expired"),
                (ShownStatus::NeedsSignin, "needs_signin"),
                (ShownStatus::Revoked, "revoked"),
            ],
            ShownStatus::as_str,
        );
        assert_names(
            &[
                (TokenSort::Provider, "provider"),
                (TokenSort::Account, "account"),
                (TokenSort::Status, "status"),
                (TokenSort::ExpiresAt, "expires_at"),
                (TokenSort::RefreshedAt, "refreshed_at"),
            ],
            TokenSort::as_str,
        );
    }

    #[test]
    fn the_table_query_filters_sorts_and_pages_in_sql() {
        let (v, pid) = vault_with_provider();
        for (account, expires) in [("alice", 1000), ("bob", 150), ("carol_x", 50)] {
            let mut t = sample(account);
            t.expires_at = Some(expires);
            upsert(v.conn(), pid, &t, 1).unwrap();
        }
        let page = |q: TokenQuery| query(v.conn(), &q, 100).unwrap();
        let all = page(TokenQuery {
            sort: Some(TokenSort::ExpiresAt),
            ..Default::default()
        });
        assert_eq!(all.total, 3);
        let accounts: Vec<_> = all.rows.iter().map(|r| r.account.as_str()).collect();
        assert_eq!(accounts, ["carol_x", "bob", "alice"]);
        let statuses: Vec<_> = all.rows.iter().map(|r| r.status.as_str()).collect();
        assert_eq!(statuses, ["expired", "expiring", "active"]);
        assert_eq!(
            page(TokenQuery {
                status: Some(ShownStatus::Expiring),
                ..Default::default()
            })
            .total,
            1
        );
        // `_` and `%` are searched for literally.
        assert_eq!(
            page(TokenQuery {
                search: "_".into(),
                ..Default::default()
            })
            .total,
            1
        );
        assert_eq!(
            page(TokenQuery {
                search: "%".into(),
                ..Default::default()
            })
            .total,
            0
        );
        let second = page(TokenQuery {
            limit: 1,
            offset: 1,
            ..Default::default()
        });
        assert_eq!(
            (
                second.total,
                second.rows.len(),
                second.rows[0].account.as_str()
            ),
            (3, 1, "bob")
        );
        assert_eq!(
            due(v.conn(), 100, 60).unwrap().len(),
            2,
            "carol (expired) and bob, not alice"
        );
    }

    #[test]
    fn one_row_per_account_and_signing_in_again_replaces_it() {
        let (v, pid) = vault_with_provider();
        upsert(v.conn(), pid, &sample("alice"), 1).unwrap();
        upsert(v.conn(), pid, &sample("bob"), 1).unwrap();
        let mut again = sample("alice");
        again.access_token = Some("at-new".into());
        upsert(v.conn(), pid, &again, 2).unwrap();
        assert_eq!(list(v.conn()).unwrap().len(), 2);
        assert_eq!(
            get(v.conn(), "idp", "alice")
                .unwrap()
                .access_token
                .unwrap()
                .expose(),
            "at-new"
        );
        let listed = serde_json::to_string(&list(v.conn()).unwrap()).unwrap();
        assert!(
            !listed.contains("at-"),
            "a list must carry no token: {listed}"
        );
    }

    #[test]
    fn a_refresh_stores_the_new_tokens_and_makes_the_account_active_again() {
        let (v, pid) = vault_with_provider();
        upsert(v.conn(), pid, &sample("alice"), 1).unwrap();
        upsert(v.conn(), pid, &sample("bob"), 1).unwrap();
        mark(
            v.conn(),
            "idp",
            "alice",
            TokenStatus::Expired,
            Some("offline"),
        )
        .unwrap();
        mark(
            v.conn(),
            "idp",
            "bob",
            TokenStatus::Expired,
            Some("offline"),
        )
        .unwrap();
        let (access, scopes) = (Secret::new("at-2".to_string()), vec!["openid".to_string()]);
        let refreshed = Refreshed {
            access_token: &access,
            refresh_token: None,
            id_token: None,
            scopes: &scopes,
            expires_at: Some(200),
            token_type: "Bearer",
        };
        store_refreshed(v.conn(), "idp", "alice", &refreshed, 2).unwrap();
        let alice = get(v.conn(), "idp", "alice").unwrap();
        assert_eq!(alice.status, TokenStatus::Active);
        assert_eq!(alice.access_token.unwrap().expose(), "at-2");
        assert_eq!(alice.refresh_token.unwrap().expose(), "rt-value", "kept");
        assert_eq!(alice.expires_at, Some(200));
        let listed = list(v.conn()).unwrap();
        assert_eq!(listed[0].last_error, None, "alice's error is cleared");
        assert_eq!(listed[1].status, TokenStatus::Expired, "bob is untouched");
        assert_eq!(listed[1].last_error.as_deref(), Some("offline"));
        // Already active: stays so.
        store_refreshed(v.conn(), "idp", "alice", &refreshed, 3).unwrap();
        assert_eq!(
            get(v.conn(), "idp", "alice").unwrap().status,
            TokenStatus::Active
        );
        assert!(store_refreshed(v.conn(), "idp", "carol", &refreshed, 3).is_err());
    }
}
