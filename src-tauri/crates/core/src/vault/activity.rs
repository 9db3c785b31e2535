//! The activity table: what was done to which provider or token, and when. Never a secret:
//! callers pass names, labels and outcomes only.

use rusqlite::{params, Connection};
use serde::Serialize;

use crate::error::Result;

#[derive(Debug, Clone, Serialize)]
pub struct ActivityEntry {
    pub id: i64,
    pub at: i64,
    pub action: String,
    pub provider: Option<String>,
    pub account: Option<String>,
    pub detail: Option<String>,
}

pub fn record(
    conn: &Connection,
    at: i64,
    action: &str,
    provider: Option<&str>,
    account: Option<&str>,
    detail: Option<&str>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO activity (at, action, provider, account, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![at, action, provider, account, detail])?;
    Ok(())
}

/// The newest entries first.
pub fn list_recent(conn: &Connection, limit: u32) -> Result<Vec<ActivityEntry>> {
    let mut stmt =
        conn.prepare("SELECT id, at, action, provider, account, detail FROM activity ORDER BY at DESC, id DESC LIMIT ?1")?;
    let rows = stmt.query_map([limit], |r| {
        Ok(ActivityEntry {
            id: r.get(0)?,
            at: r.get(1)?,
            action: r.get(2)?,
            provider: r.get(3)?,
            account: r.get(4)?,
            detail: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
