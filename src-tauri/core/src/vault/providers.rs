//! The providers table: get, list, upsert and delete. Validation of what goes in lives with the
//! provider model; this module only stores rows. The client secret is a `Secret` and is left
//! out of `ProviderSummary`, the shape lists are made of.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    #[default]
    Basic,
    Post,
    None,
}

impl ClientAuth {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuth::Basic => "basic",
            ClientAuth::Post => "post",
            ClientAuth::None => "none",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "post" => ClientAuth::Post,
            "none" => ClientAuth::None,
            _ => ClientAuth::Basic,
        }
    }
}

/// A provider as stored. Endpoints are validated before they get here.
#[derive(Debug, Clone, Default)]
pub struct ProviderRecord {
    pub name: String,
    pub preset: Option<String>,
    pub issuer: Option<String>,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub refresh_url: Option<String>,
    pub revocation_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub device_authorization_url: Option<String>,
    pub introspection_url: Option<String>,
    pub jwks_uri: Option<String>,
    pub client_id: String,
    pub client_secret: Option<Secret<String>>,
    pub client_auth: ClientAuth,
    pub scopes: Vec<String>,
    pub extra_params: BTreeMap<String, String>,
    pub redirect_port: u16,
    pub color: Option<String>,
}

/// What a list shows of a provider: no secret, only whether one is set.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderSummary {
    pub id: i64,
    pub name: String,
    pub issuer: Option<String>,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub client_id: String,
    pub has_client_secret: bool,
    pub client_auth: ClientAuth,
    pub scopes: Vec<String>,
    pub color: Option<String>,
    pub accounts: i64,
}

/// Inserts or replaces the provider named `p.name`; returns its id. A `None` client secret
/// keeps the stored one, so that editing other fields never needs the secret again.
pub fn upsert(conn: &Connection, p: &ProviderRecord, now: i64) -> Result<i64> {
    let scopes = serde_json::to_string(&p.scopes).expect("a list of strings serializes");
    let extra = serde_json::to_string(&p.extra_params).expect("a map of strings serializes");
    let secret = p.client_secret.as_ref().map(|s| s.expose().as_str());
    let id = conn.query_row(
        "INSERT INTO providers (name, preset, issuer, authorization_url, token_url, refresh_url,
             revocation_url, userinfo_url, device_authorization_url, introspection_url, jwks_uri,
             client_id, client_secret, client_auth, scopes, extra_params, redirect_port, color,
             created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?19)
         ON CONFLICT (name) DO UPDATE SET preset = excluded.preset, issuer = excluded.issuer,
             authorization_url = excluded.authorization_url, token_url = excluded.token_url,
             refresh_url = excluded.refresh_url, revocation_url = excluded.revocation_url,
             userinfo_url = excluded.userinfo_url,
             device_authorization_url = excluded.device_authorization_url,
             introspection_url = excluded.introspection_url, jwks_uri = excluded.jwks_uri,
             client_id = excluded.client_id,
             client_secret = coalesce(excluded.client_secret, providers.client_secret),
             client_auth = excluded.client_auth, scopes = excluded.scopes,
             extra_params = excluded.extra_params, redirect_port = excluded.redirect_port,
             color = excluded.color, updated_at = excluded.updated_at
         RETURNING id",
        params![
            p.name, p.preset, p.issuer, p.authorization_url, p.token_url, p.refresh_url,
            p.revocation_url, p.userinfo_url, p.device_authorization_url, p.introspection_url,
            p.jwks_uri, p.client_id, secret, p.client_auth.as_str(), scopes, extra,
            p.redirect_port, p.color, now
        ],
        |r| r.get(0),
    )?;
    Ok(id)
}

pub fn get(conn: &Connection, name: &str) -> Result<ProviderRecord> {
    conn.query_row(
        "SELECT name, preset, issuer, authorization_url, token_url, refresh_url, revocation_url,
                userinfo_url, device_authorization_url, introspection_url, jwks_uri, client_id,
                client_secret, client_auth, scopes, extra_params, redirect_port, color
         FROM providers WHERE name = ?1",
        [name],
        record_from_row,
    )
    .optional()?
    .ok_or_else(|| Error::NotFound(format!("no provider named {name:?}")))
}

fn record_from_row(r: &Row<'_>) -> rusqlite::Result<ProviderRecord> {
    Ok(ProviderRecord {
        name: r.get(0)?,
        preset: r.get(1)?,
        issuer: r.get(2)?,
        authorization_url: r.get(3)?,
        token_url: r.get(4)?,
        refresh_url: r.get(5)?,
        revocation_url: r.get(6)?,
        userinfo_url: r.get(7)?,
        device_authorization_url: r.get(8)?,
        introspection_url: r.get(9)?,
        jwks_uri: r.get(10)?,
        client_id: r.get(11)?,
        client_secret: r.get::<_, Option<String>>(12)?.map(Secret::new),
        client_auth: ClientAuth::parse(&r.get::<_, String>(13)?),
        scopes: serde_json::from_str(&r.get::<_, String>(14)?).unwrap_or_default(),
        extra_params: serde_json::from_str(&r.get::<_, String>(15)?).unwrap_or_default(),
        redirect_port: r.get(16)?,
        color: r.get(17)?,
    })
}

pub fn list(conn: &Connection) -> Result<Vec<ProviderSummary>> {
    let mut stmt = conn.prepare(
        "SELECT p.id, p.name, p.issuer, p.authorization_url, p.token_url, p.client_id,
                p.client_secret IS NOT NULL, p.client_auth, p.scopes, p.color,
                (SELECT count(*) FROM tokens t WHERE t.provider_id = p.id)
         FROM providers p ORDER BY p.name COLLATE NOCASE",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(ProviderSummary {
            id: r.get(0)?,
            name: r.get(1)?,
            issuer: r.get(2)?,
            authorization_url: r.get(3)?,
            token_url: r.get(4)?,
            client_id: r.get(5)?,
            has_client_secret: r.get(6)?,
            client_auth: ClientAuth::parse(&r.get::<_, String>(7)?),
            scopes: serde_json::from_str(&r.get::<_, String>(8)?).unwrap_or_default(),
            color: r.get(9)?,
            accounts: r.get(10)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes a provider and, through the foreign key, its tokens. Returns how many tokens went.
pub fn delete(conn: &Connection, name: &str) -> Result<i64> {
    let tokens: Option<i64> = conn
        .query_row(
            "SELECT (SELECT count(*) FROM tokens t WHERE t.provider_id = p.id) FROM providers p WHERE p.name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    let tokens = tokens.ok_or_else(|| Error::NotFound(format!("no provider named {name:?}")))?;
    conn.execute("DELETE FROM providers WHERE name = ?1", [name])?;
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::Vault;

    fn sample(name: &str) -> ProviderRecord {
        ProviderRecord {
            name: name.into(),
            client_id: "desk".into(),
            client_secret: Some("s3cret".into()),
            token_url: Some("https://idp.example/token".into()),
            scopes: vec!["openid".into(), "offline_access".into()],
            ..Default::default()
        }
    }

    #[test]
    fn upsert_keeps_the_secret_when_none_is_given() {
        let v = Vault::open_in_memory().unwrap();
        upsert(v.conn(), &sample("idp"), 1).unwrap();
        let mut edited = sample("idp");
        edited.client_secret = None;
        edited.client_id = "desk2".into();
        upsert(v.conn(), &edited, 2).unwrap();
        let got = get(v.conn(), "idp").unwrap();
        assert_eq!(got.client_id, "desk2");
        assert_eq!(
            got.client_secret.as_ref().map(|s| s.expose().as_str()),
            Some("s3cret")
        );
        assert_eq!(got.scopes, ["openid", "offline_access"]);
    }

    #[test]
    fn list_carries_no_secret_and_delete_says_how_many_tokens_went() {
        let v = Vault::open_in_memory().unwrap();
        let id = upsert(v.conn(), &sample("idp"), 1).unwrap();
        crate::vault::tokens::upsert(
            v.conn(),
            id,
            &crate::vault::tokens::tests::sample("alice"),
            1,
        )
        .unwrap();
        let listed = serde_json::to_string(&list(v.conn()).unwrap()).unwrap();
        assert!(
            !listed.contains("s3cret"),
            "a list must never carry the secret: {listed}"
        );
        assert!(listed.contains("\"accounts\":1"));
        assert_eq!(delete(v.conn(), "idp").unwrap(), 1);
        assert!(matches!(get(v.conn(), "idp"), Err(Error::NotFound(_))));
        assert!(matches!(delete(v.conn(), "idp"), Err(Error::NotFound(_))));
    }
}
