//! The narrowed_tokens table: an account's tokens for fewer scopes or one resource, cached
//! beside its own token (which they never replace) until they expire or the account signs in
//! again.

use rusqlite::{named_params, Connection, OptionalExtension};

use crate::error::Result;
use crate::secret::Secret;

/// A narrowed token as kept.
pub struct Narrowed {
    pub access_token: Secret<String>,
    pub token_type: Option<String>,
    pub expires_at: Option<i64>,
    pub obtained_at: i64,
}

/// The key of a set of scopes: sorted, without repeats, separated by spaces.
pub fn scope_key(scopes: &[String]) -> String {
    let mut sorted: Vec<&str> = scopes.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.join(" ")
}

pub fn get(
    conn: &Connection,
    token_id: i64,
    scope: &str,
    resource: &str,
) -> Result<Option<Narrowed>> {
    Ok(conn
        .query_row(
            "SELECT access_token, token_type, expires_at, obtained_at FROM narrowed_tokens
             WHERE token_id = :id AND scope = :scope AND resource = :resource",
            named_params! { ":id": token_id, ":scope": scope, ":resource": resource },
            |r| {
                Ok(Narrowed {
                    access_token: Secret::new(r.get(0)?),
                    token_type: r.get(1)?,
                    expires_at: r.get(2)?,
                    obtained_at: r.get(3)?,
                })
            },
        )
        .optional()?)
}

pub fn put(
    conn: &Connection,
    token_id: i64,
    scope: &str,
    resource: &str,
    n: &Narrowed,
) -> Result<()> {
    conn.execute(
        "INSERT INTO narrowed_tokens (token_id, scope, resource, access_token, token_type,
             expires_at, obtained_at)
         VALUES (:id, :scope, :resource, :token, :type, :expires, :obtained)
         ON CONFLICT (token_id, scope, resource) DO UPDATE SET
             access_token = excluded.access_token, token_type = excluded.token_type,
             expires_at = excluded.expires_at, obtained_at = excluded.obtained_at",
        named_params! {
            ":id": token_id,
            ":scope": scope,
            ":resource": resource,
            ":token": n.access_token.expose(),
            ":type": n.token_type,
            ":expires": n.expires_at,
            ":obtained": n.obtained_at,
        },
    )?;
    Ok(())
}

/// The account's row id and when its token was obtained (a sign-in): a narrowed token older
/// than that belongs to a grant that is gone.
pub fn account_row(conn: &Connection, provider: &str, account: &str) -> Result<(i64, i64)> {
    Ok(conn.query_row(
        "SELECT t.id, t.obtained_at FROM tokens t JOIN providers p ON p.id = t.provider_id
         WHERE p.name = :provider AND t.account = :account",
        named_params! { ":provider": provider, ":account": account },
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// Keeps a rotated refresh token a narrowing refresh gave: the account's grant lives on in it.
pub fn keep_refresh_token(
    conn: &Connection,
    token_id: i64,
    refresh: &Secret<String>,
) -> Result<()> {
    conn.execute(
        "UPDATE tokens SET refresh_token = ?1 WHERE id = ?2",
        rusqlite::params![refresh.expose(), token_id],
    )?;
    Ok(())
}
