//! Numbered migrations embedded in the binary. Each runs in its own IMMEDIATE transaction that
//! also bumps `PRAGMA user_version`, so a crash leaves the vault at one version or the next,
//! and two processes opening the same vault migrate it once.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::Result;

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "settings",
        sql: include_str!("../../migrations/0002_settings.sql"),
    },
    Migration {
        version: 3,
        name: "iss_required",
        sql: include_str!("../../migrations/0003_iss_required.sql"),
    },
    Migration {
        version: 4,
        name: "par",
        sql: include_str!("../../migrations/0004_par.sql"),
    },
];

pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

pub fn schema_version(conn: &Connection) -> Result<i64> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Brings the schema up to `target`; returns how many migrations ran. The caller has checked
/// that the vault is not newer than this build.
pub fn migrate_to(conn: &mut Connection, target: i64) -> Result<usize> {
    let mut ran = 0;
    for m in MIGRATIONS.iter().filter(|m| m.version <= target) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read again under the write lock: another process may have migrated meanwhile.
        if schema_version(&tx)? >= m.version {
            continue;
        }
        tx.execute_batch(m.sql)?;
        tx.pragma_update(None, "user_version", m.version)?;
        tx.commit()?;
        tracing::info!(version = m.version, name = m.name, "vault migrated");
        ran += 1;
    }
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_numbered_in_order_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(
                m.version,
                i as i64 + 1,
                "migration {} is out of sequence",
                m.name
            );
        }
    }

    #[test]
    fn running_twice_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(
            migrate_to(&mut conn, latest_version()).unwrap(),
            MIGRATIONS.len()
        );
        let schema = |c: &Connection| -> Vec<String> {
            let mut st = c
                .prepare("SELECT sql FROM sqlite_schema ORDER BY name")
                .unwrap();
            st.query_map([], |r| r.get::<_, Option<String>>(0))
                .unwrap()
                .map(|r| r.unwrap().unwrap_or_default())
                .collect()
        };
        let before = schema(&conn);
        assert_eq!(
            migrate_to(&mut conn, latest_version()).unwrap(),
            0,
            "a second run must find nothing to do"
        );
        assert_eq!(schema(&conn), before);
        assert_eq!(schema_version(&conn).unwrap(), latest_version());
    }

    #[test]
    fn a_failing_migration_leaves_the_previous_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 1).unwrap();
        // Simulate a half-applied schema 2 by creating its table first: its migration fails
        // and must roll back whole, version included.
        conn.execute_batch("CREATE TABLE settings (x)").unwrap();
        assert!(migrate_to(&mut conn, 2).is_err());
        assert_eq!(
            schema_version(&conn).unwrap(),
            1,
            "a failed migration must not bump the version"
        );
    }
}
