//! The settings table: one JSON value a key. Typed accessors with defaults live here, so that
//! every face reads the same setting the same way.

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldError, Result};
use crate::proxy::ProxyChoice;
use crate::secret::Secret;

/// The settings a person can change, with their defaults. Secrets (the proxy password, the
/// API key) are kept apart, under their own keys, so this struct can be shown and sent whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Refresh tokens in the background this many seconds before they expire (0: never).
    pub refresh_window_secs: i64,
    /// Clear a copied token from the clipboard after this many seconds (0: never).
    pub clipboard_clear_secs: i64,
    /// The window starts the local REST API when it opens.
    pub api_enabled: bool,
    pub api_port: u16,
    pub proxy_mode: ProxyMode,
    /// With `proxy_mode` manual: `http://host:port`.
    pub proxy_url: String,
    pub proxy_username: String,
    /// Lock a passphrase vault after this many minutes without use of the window (0: never).
    pub auto_lock_minutes: i64,
    /// Closing the window leaves OAuth Desk running in the tray (the agent, the refresher and
    /// a running REST API go on); off, closing quits.
    pub keep_in_tray: bool,
    /// The first close into the tray has said so (it is said once).
    pub tray_notice_shown: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ProxyMode {
    /// HTTPS_PROXY, HTTP_PROXY, NO_PROXY from the environment.
    #[default]
    Environment,
    Off,
    Manual,
}

impl ProxyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyMode::Environment => "environment",
            ProxyMode::Off => "off",
            ProxyMode::Manual => "manual",
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            refresh_window_secs: 5 * 60,
            clipboard_clear_secs: 30,
            api_enabled: false,
            api_port: 8765,
            proxy_mode: ProxyMode::Environment,
            proxy_url: String::new(),
            proxy_username: String::new(),
            auto_lock_minutes: 15,
            keep_in_tray: true,
            tray_notice_shown: false,
        }
    }
}

/// The settings as the faces show them: no secret, only whether one is set.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsView {
    #[serde(flatten)]
    pub settings: Settings,
    pub has_proxy_password: bool,
}

const KEY: &str = "settings";
const PROXY_PASSWORD: &str = "proxy_password";

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

pub fn view(conn: &Connection) -> Result<SettingsView> {
    Ok(SettingsView {
        settings: get(conn)?,
        has_proxy_password: proxy_password(conn)?.is_some(),
    })
}

/// Every problem with `s`, by field.
pub fn check(s: &Settings) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !(0..=24 * 3600).contains(&s.refresh_window_secs) {
        errors.push(FieldError::new(
            "refresh_window_secs",
            "must be between 0 (never) and 24 hours",
        ));
    }
    if !(0..=3600).contains(&s.clipboard_clear_secs) {
        errors.push(FieldError::new(
            "clipboard_clear_secs",
            "must be between 0 (only on lock and quit) and 3600 seconds",
        ));
    }
    if !(0..=24 * 60).contains(&s.auto_lock_minutes) {
        errors.push(FieldError::new(
            "auto_lock_minutes",
            "must be between 0 (never) and 1440 minutes (24 hours)",
        ));
    }
    if s.api_port == 0 {
        errors.push(FieldError::new(
            "api_port",
            "must be a port from 1 to 65535",
        ));
    }
    if s.proxy_mode == ProxyMode::Manual || !s.proxy_url.is_empty() {
        if let Err(e) = crate::proxy::check_url(s.proxy_url.trim()) {
            errors.push(FieldError::new("proxy_url", e));
        }
    }
    if s.proxy_username.chars().count() > 200 || s.proxy_username.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "proxy_username",
            "must be plain text of at most 200 characters",
        ));
    }
    errors
}

pub fn set(conn: &Connection, s: &Settings) -> Result<()> {
    let errors = check(s);
    if !errors.is_empty() {
        return Err(Error::InvalidFields(errors));
    }
    let mut s = s.clone();
    s.proxy_url = s.proxy_url.trim().to_owned();
    let value = serde_json::to_string(&s).expect("settings serialize");
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [KEY, &value],
    )?;
    Ok(())
}

/// Sets (or, with None or an empty one, removes) the proxy password.
pub fn set_proxy_password(conn: &Connection, password: Option<&Secret<String>>) -> Result<()> {
    match password.filter(|p| !p.expose().is_empty()) {
        Some(p) => {
            if p.expose().chars().any(char::is_control) {
                return Err(Error::field(
                    "proxy_password",
                    "must not contain control characters",
                ));
            }
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [PROXY_PASSWORD, p.expose().as_str()],
            )?;
        }
        None => {
            conn.execute("DELETE FROM settings WHERE key = ?1", [PROXY_PASSWORD])?;
        }
    }
    Ok(())
}

fn proxy_password(conn: &Connection) -> Result<Option<Secret<String>>> {
    Ok(conn
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [PROXY_PASSWORD],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .map(Secret::new))
}

/// The proxy the settings ask for.
pub fn proxy_choice(conn: &Connection) -> Result<ProxyChoice> {
    let s = get(conn)?;
    Ok(match s.proxy_mode {
        ProxyMode::Environment => ProxyChoice::Environment,
        ProxyMode::Off => ProxyChoice::Off,
        ProxyMode::Manual => ProxyChoice::Manual {
            url: s.proxy_url,
            username: Some(s.proxy_username).filter(|u| !u.is_empty()),
            password: proxy_password(conn)?,
        },
    })
}

/// Makes this vault's network settings those of the process (every face calls it after
/// opening the vault and after saving settings).
pub fn apply(conn: &Connection) -> Result<()> {
    crate::proxy::use_choice(proxy_choice(conn)?);
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
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(super::get(v.conn()).unwrap().refresh_window_secs, 600);
        let bad = super::Settings {
            refresh_window_secs: -1,
            clipboard_clear_secs: 99999,
            proxy_mode: super::ProxyMode::Manual,
            proxy_url: "http://u:p@proxy.example".into(),
            ..Default::default()
        };
        let fields: Vec<&str> = super::check(&bad).iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            vec!["refresh_window_secs", "clipboard_clear_secs", "proxy_url"]
        );
        assert!(super::set(v.conn(), &bad).is_err());
        assert_eq!(super::get(v.conn()).unwrap().refresh_window_secs, 600);
    }

    #[test]
    fn the_proxy_password_is_kept_apart_and_never_shown() {
        let v = crate::vault::Vault::open_in_memory().unwrap();
        let secret = crate::secret::Secret::new("canary-proxy-pw".to_string());
        super::set_proxy_password(v.conn(), Some(&secret)).unwrap();
        let view = serde_json::to_string(&super::view(v.conn()).unwrap()).unwrap();
        assert!(!view.contains("canary"), "{view}");
        assert!(view.contains("\"has_proxy_password\":true"), "{view}");
        super::set(
            v.conn(),
            &super::Settings {
                proxy_mode: super::ProxyMode::Manual,
                proxy_url: "http://proxy.example:3128".into(),
                proxy_username: "me".into(),
                ..Default::default()
            },
        )
        .unwrap();
        match super::proxy_choice(v.conn()).unwrap() {
            crate::proxy::ProxyChoice::Manual { password, .. } => {
                assert_eq!(password.unwrap().expose(), "canary-proxy-pw")
            }
            other => panic!("{other:?}"),
        }
        super::set_proxy_password(v.conn(), None).unwrap();
        assert!(!super::view(v.conn()).unwrap().has_proxy_password);
    }
}
