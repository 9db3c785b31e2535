//! The settings table: one JSON value a key. Typed accessors with defaults live here, so that
//! every face reads the same setting the same way.

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The settings a person can change, with their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Refresh tokens in the background this many seconds before they expire (0: never).
    pub refresh_window_secs: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            refresh_window_secs: 5 * 60,
        }
    }
}

const KEY: &str = "settings";

pub fn get(conn: &Connection) -> Result<Settings> {
    let raw: Option<String> = conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [KEY], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(raw
        .and_then(|r| serde_json::from_str(&r).ok())
        .unwrap_or_default())
}

pub fn set(conn: &Connection, s: &Settings) -> Result<()> {
    if !(0..=24 * 3600).contains(&s.refresh_window_secs) {
        return Err(Error::field(
            "refresh_window_secs",
            "must be between 0 (never) and 24 hours",
        ));
    }
    let value = serde_json::to_string(s).expect("settings serialize");
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [KEY, &value],
    )?;
    Ok(())
}

/// The REST API's key: 32 random bytes as hex, made on first use, kept in the (encrypted)
/// vault. `regenerate` replaces it, so every client must be given the new one.
pub fn api_key(conn: &Connection, regenerate: bool) -> Result<crate::secret::Secret<String>> {
    const KEY_NAME: &str = "api_key";
    if !regenerate {
        let existing: Option<String> = conn
            .query_row(
                "SELECT value FROM settings WHERE key = ?1",
                [KEY_NAME],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(k) = existing {
            return Ok(crate::secret::Secret::new(k));
        }
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Storage(format!("no randomness for the API key: {e}")))?;
    let key = hex::encode(bytes);
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [KEY_NAME, &key],
    )?;
    Ok(crate::secret::Secret::new(key))
}

#[cfg(test)]
mod tests {
    #[test]
    fn defaults_until_set_and_bounds_checked() {
        let v = crate::vault::Vault::open_in_memory().unwrap();
        assert_eq!(super::get(v.conn()).unwrap().refresh_window_secs, 300);
        super::set(
            v.conn(),
            &super::Settings {
                refresh_window_secs: 600,
            },
        )
        .unwrap();
        assert_eq!(super::get(v.conn()).unwrap().refresh_window_secs, 600);
        assert!(super::set(
            v.conn(),
            &super::Settings {
                refresh_window_secs: -1
            }
        )
        .is_err());
    }
}
