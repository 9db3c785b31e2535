//! `oauth-desk settings get | set`: the settings the window's Settings view shows, by name.

use oauth_desk_core::vault::settings::{self, ProxyMode, Settings, SettingsView};
use oauth_desk_core::vault::Create;
use oauth_desk_core::{Error, Result};

use crate::args::{Global, SettingsCmd};
use crate::output::printable;
use crate::{ask, unlock};

const NAMES: &str =
    "refresh-window, clipboard-clear, api, api-port, proxy, proxy-user, proxy-password";

pub fn run(global: &Global, cmd: SettingsCmd) -> Result<()> {
    match cmd {
        SettingsCmd::Get { name, json } => {
            let vault = unlock::open(global, Create::Never)?;
            let view = settings::view(vault.conn())?;
            let rows = match &name {
                None => rows(&view),
                Some(n) => vec![(n.as_str(), row(&view, n).ok_or_else(|| unknown(n))?)],
            };
            if json {
                let value = match &name {
                    None => serde_json::to_value(&view).expect("settings serialize"),
                    Some(_) => serde_json::json!({ rows[0].0: rows[0].1 }),
                };
                println!("{value}");
            } else if name.is_some() {
                println!("{}", rows[0].1);
            } else {
                for (k, v) in rows {
                    println!("{k:<16} {v}");
                }
            }
            Ok(())
        }
        SettingsCmd::Set { name, value } => {
            let vault = unlock::open(global, Create::IfMissing)?;
            if name == "proxy-password" {
                if value.is_some() {
                    return Err(Error::InvalidInput(
                        "the proxy password is never given on the command line: run \
                         `oauth-desk settings set proxy-password` and type it, or set \
                         OAUTH_DESK_PROXY_PASSWORD, or pipe it on standard input"
                            .into(),
                    ));
                }
                let pass = ask::optional_secret("proxy password", "OAUTH_DESK_PROXY_PASSWORD")?;
                settings::set_proxy_password(vault.conn(), pass.as_ref())?;
                println!(
                    "{}",
                    if pass.is_some() {
                        "Saved the proxy password."
                    } else {
                        "Removed the proxy password."
                    }
                );
                return Ok(());
            }
            let value = value.ok_or_else(|| {
                Error::InvalidInput(format!(
                    "give {name} a value: oauth-desk settings set {name} VALUE"
                ))
            })?;
            let mut s = settings::get(vault.conn())?;
            change(&mut s, &name, &value)?;
            settings::set(vault.conn(), &s)?;
            let shown = row(&settings::view(vault.conn())?, &name).unwrap_or_default();
            println!("{name} = {shown}");
            if name == "api" || name == "api-port" {
                println!("(The window applies this when it next opens; `oauth-desk serve` runs the API now.)");
            }
            Ok(())
        }
    }
}

/// One setting as `get` shows it.
fn row(view: &SettingsView, name: &str) -> Option<String> {
    rows(view)
        .into_iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn rows(view: &SettingsView) -> Vec<(&'static str, String)> {
    let s = &view.settings;
    let secs = |n: i64| {
        if n == 0 {
            "0 (never)".to_owned()
        } else {
            n.to_string()
        }
    };
    let proxy = match s.proxy_mode {
        ProxyMode::Environment => "environment".to_owned(),
        ProxyMode::Off => "off".to_owned(),
        ProxyMode::Manual => printable(&s.proxy_url),
    };
    vec![
        ("refresh-window", secs(s.refresh_window_secs)),
        (
            "clipboard-clear",
            match s.clipboard_clear_secs {
                0 => "0 (on lock and quit only)".to_owned(),
                n => n.to_string(),
            },
        ),
        ("api", if s.api_enabled { "on" } else { "off" }.to_owned()),
        ("api-port", s.api_port.to_string()),
        ("proxy", proxy),
        ("proxy-user", printable(&s.proxy_username)),
        (
            "proxy-password",
            if view.has_proxy_password {
                "(set)"
            } else {
                "(none)"
            }
            .to_owned(),
        ),
    ]
}

fn change(s: &mut Settings, name: &str, value: &str) -> Result<()> {
    let seconds = |field: &'static str| {
        value
            .parse::<i64>()
            .map_err(|_| Error::field(field, "must be a whole number of seconds"))
    };
    match name {
        "refresh-window" => s.refresh_window_secs = seconds("refresh_window_secs")?,
        "clipboard-clear" => s.clipboard_clear_secs = seconds("clipboard_clear_secs")?,
        "api" => {
            s.api_enabled = match value {
                "on" | "true" | "yes" => true,
                "off" | "false" | "no" => false,
                _ => return Err(Error::field("api_enabled", "must be on or off")),
            }
        }
        "api-port" => {
            s.api_port = value
                .parse()
                .map_err(|_| Error::field("api_port", "must be a port from 1 to 65535"))?
        }
        "proxy" => match value {
            "environment" | "env" => s.proxy_mode = ProxyMode::Environment,
            "off" | "none" => s.proxy_mode = ProxyMode::Off,
            url => {
                s.proxy_mode = ProxyMode::Manual;
                s.proxy_url = url.to_owned();
            }
        },
        "proxy-user" => s.proxy_username = value.to_owned(),
        other => return Err(unknown(other)),
    }
    Ok(())
}

fn unknown(name: &str) -> Error {
    Error::InvalidInput(format!(
        "there is no setting {}; the settings are {NAMES}",
        printable(name)
    ))
}
