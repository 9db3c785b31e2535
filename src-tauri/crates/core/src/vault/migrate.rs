//! Numbered migrations embedded in the binary. Each runs in its own IMMEDIATE transaction that
//! also bumps `PRAGMA user_version`, so a crash leaves the vault at one version or the next,
//! and two processes opening the same vault migrate it once.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::Result;

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
    /// It rebuilds a table others refer to: foreign keys are off while it runs (else dropping
    /// the old table would delete the rows that refer to it) and checked before it commits.
    pub rebuilds: bool,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../../migrations/0001_init.sql"),
        rebuilds: false,
    },
    Migration {
        version: 2,
        name: "settings",
        sql: include_str!("../../migrations/0002_settings.sql"),
        rebuilds: false,
    },
    Migration {
        version: 3,
        name: "iss_required",
        sql: include_str!("../../migrations/0003_iss_required.sql"),
        rebuilds: false,
    },
    Migration {
        version: 4,
        name: "par",
        sql: include_str!("../../migrations/0004_par.sql"),
        rebuilds: false,
    },
    Migration {
        version: 5,
        name: "client_auth_methods",
        sql: include_str!("../../migrations/0005_client_auth_methods.sql"),
        rebuilds: true,
    },
    Migration {
        version: 6,
        name: "client_key",
        sql: include_str!("../../migrations/0006_client_key.sql"),
        rebuilds: false,
    },
    Migration {
        version: 7,
        name: "dpop",
        sql: include_str!("../../migrations/0007_dpop.sql"),
        rebuilds: false,
    },
    Migration {
        version: 8,
        name: "client_cert",
        sql: include_str!("../../migrations/0008_client_cert.sql"),
        rebuilds: false,
    },
    Migration {
        version: 9,
        name: "account_dpop_keys",
        sql: include_str!("../../migrations/0009_account_dpop_keys.sql"),
        rebuilds: false,
    },
    Migration {
        version: 10,
        name: "registration",
        sql: include_str!("../../migrations/0010_registration.sql"),
        rebuilds: false,
    },
    Migration {
        version: 11,
        name: "narrowed_tokens",
        sql: include_str!("../../migrations/0011_narrowed_tokens.sql"),
        rebuilds: false,
    },
    Migration {
        version: 12,
        name: "end_session",
        sql: include_str!("../../migrations/0012_end_session.sql"),
        rebuilds: false,
    },
    Migration {
        version: 13,
        name: "resources_and_discovered",
        sql: include_str!("../../migrations/0013_resources_and_discovered.sql"),
        rebuilds: false,
    },
    Migration {
        version: 14,
        name: "exchanged",
        sql: include_str!("../../migrations/0014_exchanged.sql"),
        rebuilds: false,
    },
    Migration {
        version: 15,
        name: "ask_first",
        sql: include_str!("../../migrations/0015_ask_first.sql"),
        rebuilds: false,
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
        // Outside the transaction: SQLite ignores this pragma inside one.
        let keys_were_on: bool = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
        if m.rebuilds {
            conn.pragma_update(None, "foreign_keys", false)?;
        }
        let done = run_one(conn, m);
        if m.rebuilds && keys_were_on {
            conn.pragma_update(None, "foreign_keys", true)?;
        }
        if done? {
            tracing::info!(version = m.version, name = m.name, "vault migrated");
            ran += 1;
        }
    }
    Ok(ran)
}

/// Runs `m` in one IMMEDIATE transaction with the version bump; false when another process
/// had run it already.
fn run_one(conn: &mut Connection, m: &Migration) -> Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read again under the write lock: another process may have migrated meanwhile.
    if schema_version(&tx)? >= m.version {
        return Ok(false);
    }
    tx.execute_batch(m.sql)?;
    if m.rebuilds {
        let broken: i64 =
            tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })?;
        if broken > 0 {
            return Err(crate::error::Error::Storage(format!(
                "migration {} would leave {broken} rows pointing at nothing; the vault was left \
                 at schema {}",
                m.name,
                m.version - 1
            )));
        }
    }
    tx.pragma_update(None, "user_version", m.version)?;
    tx.commit()?;
    Ok(true)
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
        let mut conn = crate::vault::cipher::open_in_memory().unwrap();
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

    /// An audience or resource kept as an extra parameter before schema 13 becomes the field of
    /// its own, and leaves the extra parameters.
    #[test]
    fn schema_13_moves_the_audience_and_resource_out_of_the_extra_parameters() {
        let mut conn = crate::vault::cipher::open_in_memory().unwrap();
        migrate_to(&mut conn, 12).unwrap();
        conn.execute_batch(
            r#"INSERT INTO providers (name, token_url, client_id, extra_params, created_at, updated_at)
               VALUES ('moved', 'https://idp.example/token', 'c',
                       '{"audience":"orders","resource":"https://api.example/","prompt":"consent"}', 1, 1),
                      ('kept', 'https://idp.example/token', 'c', '{"prompt":"login"}', 1, 1);"#,
        )
        .unwrap();
        migrate_to(&mut conn, 13).unwrap();
        let row = |name: &str| -> (Option<String>, String, String) {
            conn.query_row(
                "SELECT audience, resources, extra_params FROM providers WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
        };
        assert_eq!(
            row("moved"),
            (
                Some("orders".into()),
                r#"["https://api.example/"]"#.into(),
                r#"{"prompt":"consent"}"#.into()
            )
        );
        assert_eq!(
            row("kept"),
            (None, "[]".into(), r#"{"prompt":"login"}"#.into())
        );
    }

    /// The providers table is rebuilt in schema 5: the tokens that point at its rows stay.
    #[test]
    fn a_rebuilt_table_keeps_the_rows_that_refer_to_it() {
        let mut conn = crate::vault::cipher::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        migrate_to(&mut conn, 4).unwrap();
        conn.execute_batch(
            "INSERT INTO providers (name, client_id, created_at, updated_at, par)
                 VALUES ('idp', 'desk', 1, 1, 1);
             INSERT INTO tokens (provider_id, account, obtained_at) VALUES (1, 'alice', 1);",
        )
        .unwrap();
        migrate_to(&mut conn, 5).unwrap();
        let kept: (String, i64, i64) = conn
            .query_row(
                "SELECT t.account, p.par, p.id FROM tokens t JOIN providers p ON p.id = t.provider_id",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(kept, ("alice".into(), 1, 1));
        let on: bool = conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert!(on, "foreign keys are on again");
        conn.execute(
            "UPDATE providers SET client_auth = 'client_secret_jwt' WHERE id = 1",
            [],
        )
        .unwrap();
        // Deleting the provider still takes its tokens: the reference survived the rebuild.
        conn.execute("DELETE FROM providers", []).unwrap();
        let left: i64 = conn
            .query_row("SELECT count(*) FROM tokens", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
    }

    #[test]
    fn a_failing_migration_leaves_the_previous_version() {
        let mut conn = crate::vault::cipher::open_in_memory().unwrap();
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
