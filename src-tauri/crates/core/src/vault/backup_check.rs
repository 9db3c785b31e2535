//! What a backup may bring into the vault. A backup is a file from elsewhere: it may have been
//! made by hand, or altered by whoever held it, and opening it with its passphrase proves only
//! that somebody knew the passphrase. So before it replaces anything, its schema must be
//! exactly what OAuth Desk's own migrations make (a trigger would run on the vault's next write,
//! a view could stand in for a table), and every provider in it must pass the checks a
//! provider typed into `provider add` passes (https endpoints, plain names, ...).

use rusqlite::Connection;

use super::{migrate, provider_table};
use crate::error::Result;
use crate::oauth::provider::ProviderInput;

/// One schema object as SQLite lists it: type, name, table, SQL text.
type Object = (String, String, String, Option<String>);

fn objects(conn: &Connection) -> rusqlite::Result<Vec<Object>> {
    let mut rows: Vec<Object> = conn
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    // SQLite's own tables (sqlite_sequence, the sqlite_stat tables of ANALYZE) come and go
    // with use; they hold numbers, never code. By their exact names: with writable_schema a
    // crafted file can hold any table (a virtual one too) under a name that starts sqlite_.
    const SQLITE_OWN: [&str; 4] = [
        "sqlite_sequence",
        "sqlite_stat1",
        "sqlite_stat3",
        "sqlite_stat4",
    ];
    rows.retain(|(kind, name, tbl, sql)| {
        let own = SQLITE_OWN.contains(&name.as_str())
            && tbl == name
            && sql
                .as_deref()
                .is_some_and(|s| s.starts_with(&format!("CREATE TABLE {name}(")));
        !(kind == "table" && own)
    });
    rows.sort();
    Ok(rows)
}

/// Why the backup on `conn` (at schema `version`) may not be restored, in words; Ok when it
/// may. `names` are its providers.
pub(super) fn check(conn: &Connection, version: i64, names: &[String]) -> Result<(), String> {
    let found = objects(conn).map_err(|e| format!("its schema cannot be read ({e})"))?;
    let mut ours = super::cipher::open_in_memory().map_err(|e| e.to_string())?;
    migrate::migrate_to(&mut ours, version).map_err(|e| e.to_string())?;
    let expected = objects(&ours).map_err(|e| e.to_string())?;
    let foreign: Vec<String> = found
        .iter()
        .filter(|o| !expected.contains(o))
        .map(|(kind, name, ..)| format!("{kind} {}", crate::text::shown(name)))
        .collect();
    if !foreign.is_empty() {
        return Err(format!(
            "it holds schema objects OAuth Desk does not make ({}); it was altered, or is \
             not an OAuth Desk backup",
            foreign.join(", ")
        ));
    }
    let missing = expected.iter().filter(|o| !found.contains(o)).count();
    if missing > 0 {
        return Err(format!(
            "{missing} of the tables and indexes OAuth Desk makes are missing from it"
        ));
    }
    for name in names {
        let record = provider_table::get(conn, name).map_err(|e| e.to_string())?;
        let input = ProviderInput::from_record(&record);
        if let Err(fields) = input.validate(Some(&record)) {
            let why: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect();
            return Err(format!(
                "its provider {} would be refused by `provider add` ({}); nothing was changed",
                crate::text::shown(name),
                why.join("; ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migrated() -> Connection {
        let mut c = crate::vault::cipher::open_in_memory().unwrap();
        migrate::migrate_to(&mut c, migrate::latest_version()).unwrap();
        c
    }

    fn insert(c: &Connection, name: &str, token_url: &str) {
        c.execute(
            "INSERT INTO providers (name, client_id, authorization_url, token_url, client_auth, created_at, updated_at)
             VALUES (?1, 'id', 'https://a.example/auth', ?2, 'none', 0, 0)",
            [name, token_url],
        )
        .unwrap();
    }

    fn names(c: &Connection) -> Vec<String> {
        c.prepare("SELECT name FROM providers")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn our_own_schema_and_good_providers_pass() {
        let c = migrated();
        insert(&c, "Good", "https://a.example/token");
        check(&c, migrate::latest_version(), &names(&c)).unwrap();
    }

    #[test]
    fn triggers_views_and_bad_providers_are_refused() {
        let v = migrate::latest_version();
        let c = migrated();
        c.execute_batch(
            "CREATE TRIGGER steal AFTER UPDATE ON tokens BEGIN
                 UPDATE providers SET token_url = 'https://evil.example/t'; END;",
        )
        .unwrap();
        let e = check(&c, v, &[]).unwrap_err();
        assert!(e.contains("trigger \"steal\""), "{e}");

        let c = migrated();
        c.execute_batch("CREATE VIEW v AS SELECT * FROM tokens;")
            .unwrap();
        assert!(check(&c, v, &[]).unwrap_err().contains("view \"v\""));

        let c = migrated();
        insert(&c, "Plain http", "http://evil.example/token");
        let e = check(&c, v, &names(&c)).unwrap_err();
        assert!(e.contains("Plain http") && e.contains("token_url"), "{e}");
    }

    #[test]
    fn only_sqlites_own_tables_are_passed_over_by_their_exact_names() {
        let v = migrate::latest_version();
        let c = migrated();
        // ANALYZE makes sqlite_stat1 the way SQLite does: that is no foreign object.
        insert(&c, "Good", "https://a.example/token");
        c.execute_batch("ANALYZE;").unwrap();
        check(&c, v, &names(&c)).unwrap();
        // A crafted file can list any table under a reserved name.
        let c = migrated();
        c.execute_batch(
            "PRAGMA writable_schema = ON;
             INSERT INTO sqlite_schema VALUES
                 ('table', 'sqlite_loot', 'sqlite_loot', 0, 'CREATE TABLE sqlite_loot(t)');
             PRAGMA writable_schema = OFF;",
        )
        .unwrap();
        let e = check(&c, v, &[]).unwrap_err();
        assert!(e.contains("table \"sqlite_loot\""), "{e}");
    }
}
