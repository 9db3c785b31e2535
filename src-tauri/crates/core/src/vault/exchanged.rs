//! The exchanged table: where an account's token came from when it was got by token exchange
//! (RFC 8693), kept so that the account, which has no refresh token, is exchanged again the
//! same way once its token expires. The parties are accounts here; forgetting one ends it.

use rusqlite::{named_params, Connection, OptionalExtension};

use crate::error::Result;

/// An exchange as it was asked for: the accounts (provider, account) whose tokens went in,
/// and what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub subject: (String, String),
    pub actor: Option<(String, String)>,
    pub audience: Option<String>,
    pub resource: Option<String>,
    pub scopes: Vec<String>,
    pub requested_type: String,
}

const TOKEN_ID: &str =
    "(SELECT t.id FROM tokens t JOIN providers p ON p.id = t.provider_id WHERE p.name = ? AND t.account = ?)";

/// Records how `provider`/`account` was exchanged (replacing what was recorded before).
pub fn put(conn: &Connection, provider: &str, account: &str, o: &Origin) -> Result<()> {
    let (actor_provider, actor_account) = o.actor.clone().unzip();
    conn.execute(
        &format!(
            "INSERT INTO exchanged (token_id, subject_token_id, actor_token_id, audience, resource,
                 scopes, requested_type)
             VALUES ({TOKEN_ID}, {TOKEN_ID}, {TOKEN_ID}, ?, ?, ?, ?)
             ON CONFLICT (token_id) DO UPDATE SET subject_token_id = excluded.subject_token_id,
                 actor_token_id = excluded.actor_token_id, audience = excluded.audience,
                 resource = excluded.resource, scopes = excluded.scopes,
                 requested_type = excluded.requested_type"
        ),
        rusqlite::params![
            provider,
            account,
            o.subject.0,
            o.subject.1,
            actor_provider,
            actor_account,
            o.audience,
            o.resource,
            serde_json::to_string(&o.scopes).expect("a list of strings serializes"),
            o.requested_type,
        ],
    )?;
    Ok(())
}

/// How `provider`/`account` was exchanged, if it was (and its parties are still here).
pub fn get(conn: &Connection, provider: &str, account: &str) -> Result<Option<Origin>> {
    Ok(conn
        .query_row(
            "SELECT sp.name, st.account, ap.name, at.account, e.audience, e.resource, e.scopes,
                    e.requested_type
             FROM exchanged e
             JOIN tokens t ON t.id = e.token_id JOIN providers p ON p.id = t.provider_id
             JOIN tokens st ON st.id = e.subject_token_id
             JOIN providers sp ON sp.id = st.provider_id
             LEFT JOIN tokens at ON at.id = e.actor_token_id
             LEFT JOIN providers ap ON ap.id = at.provider_id
             WHERE p.name = :provider AND t.account = :account",
            named_params! { ":provider": provider, ":account": account },
            |r| {
                let actor = match (
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ) {
                    (Some(p), Some(a)) => Some((p, a)),
                    _ => None,
                };
                let scopes: String = r.get(6)?;
                Ok(Origin {
                    subject: (r.get(0)?, r.get(1)?),
                    actor,
                    audience: r.get(4)?,
                    resource: r.get(5)?,
                    scopes: serde_json::from_str(&scopes).unwrap_or_default(),
                    requested_type: r.get(7)?,
                })
            },
        )
        .optional()?)
}
