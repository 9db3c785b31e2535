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
    // A script asking for a token in a loop adds a row each time: now and then, the log
    // keeps only its newest entries.
    if conn.last_insert_rowid() % PRUNE_EVERY == 0 {
        prune(conn, KEEP)?;
    }
    Ok(())
}

/// How many entries the log keeps, and how often (in entries) it is pruned to that.
pub const KEEP: i64 = 20_000;
const PRUNE_EVERY: i64 = 500;

/// Deletes all but the newest `keep` entries.
pub fn prune(conn: &Connection, keep: i64) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM activity WHERE id <= (SELECT id FROM activity ORDER BY id DESC LIMIT 1 OFFSET ?1)",
        [keep],
    )?)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::Vault;

    #[test]
    fn the_log_keeps_its_newest_entries() {
        let v = Vault::open_in_memory().unwrap();
        let before: i64 = v
            .conn()
            .query_row("SELECT count(*) FROM activity", [], |r| r.get(0))
            .unwrap();
        for i in 0..30 {
            record(v.conn(), i, "token handed out", Some("p"), Some("a"), None).unwrap();
        }
        assert_eq!(prune(v.conn(), 10).unwrap() as i64, before + 20);
        let kept = list_recent(v.conn(), 100).unwrap();
        assert_eq!(kept.len(), 10);
        assert_eq!(kept[0].at, 29, "the newest stay");
        assert_eq!(kept[9].at, 20);
    }
}
