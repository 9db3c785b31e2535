//! `oauth-desk activity [--json] [--limit N]`: the activity log, newest first, as the window's
//! Activity view shows it. It names providers, accounts and outcomes, never a secret.

use oauth_desk_core::text::visible;
use oauth_desk_core::vault::{activity, Create};
use oauth_desk_core::{time, Result};
use serde_json::json;

use crate::args::Global;

pub fn run(global: &Global, json_out: bool, limit: u32) -> Result<()> {
    let vault = crate::unlock::open(global, Create::Never)?;
    let entries = activity::list_recent(vault.conn(), limit)?;
    if json_out {
        let listed: Vec<_> = entries
            .iter()
            .map(|e| {
                json!({
                    "at": time::to_rfc3339(e.at),
                    "action": e.action,
                    "provider": e.provider,
                    "account": e.account,
                    "detail": e.detail,
                })
            })
            .collect();
        println!("{}", serde_json::Value::from(listed));
        return Ok(());
    }
    if entries.is_empty() {
        println!("Nothing has happened in this vault yet.");
    }
    for e in &entries {
        let about = [e.provider.as_deref(), e.account.as_deref()]
            .into_iter()
            .flatten()
            .map(visible)
            .collect::<Vec<_>>()
            .join(" / ");
        println!(
            "{}  {:<22} {}{}",
            time::to_rfc3339(e.at),
            visible(&e.action),
            about,
            e.detail
                .as_deref()
                .map(|d| format!(": {}", visible(d)))
                .unwrap_or_default()
        );
    }
    Ok(())
}
