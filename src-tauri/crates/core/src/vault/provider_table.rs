//! The providers table: get, list, insert, update and delete rows. What goes in has been
//! validated by `oauth::provider`; this module only stores it. The client secret is a `Secret`
//! and `ProviderView`, the shape every face shows, carries only whether one is set.

use std::collections::BTreeMap;

use rusqlite::{params_from_iter, Connection, OptionalExtension, Row, ToSql};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::text::shown;

/// How the client proves itself at the token endpoint (Rocket.Chat's "token sent via header /
/// payload").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// HTTP Basic with the client id and secret (RFC 6749 §2.3.1).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body.
    Post,
    /// A public client: the client id only.
    None,
}

crate::wire_names!(ClientAuth);

/// Where the user signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SignInWith {
    /// The in-app login window.
    #[default]
    Window,
    /// The system browser, for providers that refuse embedded views (Google).
    Browser,
}

crate::wire_names!(SignInWith);

pub const DEFAULT_REDIRECT_PATH: &str = "/callback";

/// A provider as stored: validated, complete.
#[derive(Debug, Clone, PartialEq)]
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
    pub redirect_path: String,
    pub redirect_url: Option<String>,
    pub sign_in_with: SignInWith,
    pub color: Option<String>,
    /// The metadata promises the RFC 9207 `iss` response parameter.
    pub iss_required: bool,
}

impl Default for ProviderRecord {
    fn default() -> Self {
        ProviderRecord {
            name: String::new(),
            preset: None,
            issuer: None,
            authorization_url: None,
            token_url: None,
            refresh_url: None,
            revocation_url: None,
            userinfo_url: None,
            device_authorization_url: None,
            introspection_url: None,
            jwks_uri: None,
            client_id: String::new(),
            client_secret: None,
            client_auth: ClientAuth::Basic,
            scopes: Vec::new(),
            extra_params: BTreeMap::new(),
            redirect_port: 0,
            redirect_path: DEFAULT_REDIRECT_PATH.into(),
            redirect_url: None,
            sign_in_with: SignInWith::Window,
            color: None,
            iss_required: false,
        }
    }
}

/// A provider as the faces show it (`provider show --json`, the form, the REST API): every
/// field but the client secret, of which only its presence.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderView {
    pub id: i64,
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
    pub has_client_secret: bool,
    pub client_auth: ClientAuth,
    pub scopes: Vec<String>,
    pub extra_params: BTreeMap<String, String>,
    pub redirect_port: u16,
    pub redirect_path: String,
    pub redirect_url: Option<String>,
    pub sign_in_with: SignInWith,
    pub color: Option<String>,
    pub iss_required: bool,
    /// How many accounts have a token for this provider.
    pub accounts: i64,
    #[serde(serialize_with = "crate::time::serialize_rfc3339")]
    pub created_at: i64,
    #[serde(serialize_with = "crate::time::serialize_rfc3339")]
    pub updated_at: i64,
}

impl ProviderView {
    /// The record without its secret (the form edits a view, never the secret).
    pub fn record(&self) -> ProviderRecord {
        ProviderRecord {
            name: self.name.clone(),
            preset: self.preset.clone(),
            issuer: self.issuer.clone(),
            authorization_url: self.authorization_url.clone(),
            token_url: self.token_url.clone(),
            refresh_url: self.refresh_url.clone(),
            revocation_url: self.revocation_url.clone(),
            userinfo_url: self.userinfo_url.clone(),
            device_authorization_url: self.device_authorization_url.clone(),
            introspection_url: self.introspection_url.clone(),
            jwks_uri: self.jwks_uri.clone(),
            client_id: self.client_id.clone(),
            client_secret: None,
            client_auth: self.client_auth,
            scopes: self.scopes.clone(),
            extra_params: self.extra_params.clone(),
            redirect_port: self.redirect_port,
            redirect_path: self.redirect_path.clone(),
            redirect_url: self.redirect_url.clone(),
            sign_in_with: self.sign_in_with,
            color: self.color.clone(),
            iss_required: self.iss_required,
        }
    }
}

const COLUMNS: &str = "name, preset, issuer, authorization_url, token_url, refresh_url,
    revocation_url, userinfo_url, device_authorization_url, introspection_url, jwks_uri,
    client_id, client_secret, client_auth, scopes, extra_params, redirect_port, redirect_path,
    redirect_url, sign_in_with, color, iss_required";

/// Adds a provider; returns its id. A taken name is an error on the `name` field.
pub fn insert(conn: &Connection, p: &ProviderRecord, now: i64) -> Result<i64> {
    if find_id(conn, &p.name)?.is_some() {
        return Err(name_taken(&p.name));
    }
    let sql = format!(
        "INSERT INTO providers ({COLUMNS}, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                 ?19, ?20, ?21, ?22, ?23, ?23)
         RETURNING id"
    );
    let values = record_values(p, now);
    let id = conn.query_row(&sql, params_from_iter(bind(&values)), |r| r.get(0))?;
    Ok(id)
}

/// Replaces every field of provider `id`, its name included.
pub fn update(conn: &Connection, id: i64, p: &ProviderRecord, now: i64) -> Result<()> {
    if let Some(other) = find_id(conn, &p.name)? {
        if other != id {
            return Err(name_taken(&p.name));
        }
    }
    let changed = conn.execute(
        "UPDATE providers SET name = ?1, preset = ?2, issuer = ?3, authorization_url = ?4,
             token_url = ?5, refresh_url = ?6, revocation_url = ?7, userinfo_url = ?8,
             device_authorization_url = ?9, introspection_url = ?10, jwks_uri = ?11,
             client_id = ?12, client_secret = ?13, client_auth = ?14, scopes = ?15,
             extra_params = ?16, redirect_port = ?17, redirect_path = ?18, redirect_url = ?19,
             sign_in_with = ?20, color = ?21, iss_required = ?22, updated_at = ?23
         WHERE id = ?24",
        params_from_iter(
            bind(&record_values(p, now))
                .into_iter()
                .chain([&id as &dyn ToSql]),
        ),
    )?;
    if changed == 0 {
        return Err(Error::NotFound(format!("no provider with id {id}")));
    }
    Ok(())
}

fn name_taken(name: &str) -> Error {
    Error::InvalidFields(vec![crate::error::FieldError::conflict(
        "name",
        format!(
            "a provider named {} already exists; choose another name",
            shown(name)
        ),
    )])
}

fn find_id(conn: &Connection, name: &str) -> Result<Option<i64>> {
    Ok(conn
        .query_row("SELECT id FROM providers WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()?)
}

type Values<'a> = (
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
    Option<&'a str>,
    &'static str,
    String,
    String,
    u16,
    &'a str,
    Option<&'a str>,
    &'static str,
    Option<&'a str>,
    bool,
    i64,
);

fn record_values(p: &ProviderRecord, now: i64) -> Values<'_> {
    (
        &p.name,
        p.preset.as_deref(),
        p.issuer.as_deref(),
        p.authorization_url.as_deref(),
        p.token_url.as_deref(),
        p.refresh_url.as_deref(),
        p.revocation_url.as_deref(),
        p.userinfo_url.as_deref(),
        p.device_authorization_url.as_deref(),
        p.introspection_url.as_deref(),
        p.jwks_uri.as_deref(),
        &p.client_id,
        p.client_secret.as_ref().map(|s| s.expose().as_str()),
        p.client_auth.as_str(),
        serde_json::to_string(&p.scopes).expect("a list of strings serializes"),
        serde_json::to_string(&p.extra_params).expect("a map of strings serializes"),
        p.redirect_port,
        &p.redirect_path,
        p.redirect_url.as_deref(),
        p.sign_in_with.as_str(),
        p.color.as_deref(),
        p.iss_required,
        now,
    )
}

/// The values in the order of `COLUMNS` and then `now`, as SQL parameters ?1..?23.
fn bind<'a>(v: &'a Values<'a>) -> [&'a dyn ToSql; 23] {
    [
        &v.0, &v.1, &v.2, &v.3, &v.4, &v.5, &v.6, &v.7, &v.8, &v.9, &v.10, &v.11, &v.12, &v.13,
        &v.14, &v.15, &v.16, &v.17, &v.18, &v.19, &v.20, &v.21, &v.22,
    ]
}

/// The provider named `name`, secret included (for flows, never for a face).
pub fn get(conn: &Connection, name: &str) -> Result<ProviderRecord> {
    // Cached: every `token get` the agent answers starts here.
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM providers WHERE name = ?1"))?
        .query_row([name], record_from_row)
        .optional()?
        .ok_or_else(|| not_found(name))
}

pub fn not_found(name: &str) -> Error {
    Error::NotFound(format!("no provider named {}", shown(name)))
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
        client_auth: ClientAuth::parse(&r.get::<_, String>(13)?).unwrap_or_default(),
        scopes: serde_json::from_str(&r.get::<_, String>(14)?).unwrap_or_default(),
        extra_params: serde_json::from_str(&r.get::<_, String>(15)?).unwrap_or_default(),
        redirect_port: r.get(16)?,
        redirect_path: r.get(17)?,
        redirect_url: r.get(18)?,
        sign_in_with: SignInWith::parse(&r.get::<_, String>(19)?).unwrap_or_default(),
        color: r.get(20)?,
        iss_required: r.get(21)?,
    })
}

const VIEW: &str = "SELECT p.id, p.name, p.preset, p.issuer, p.authorization_url, p.token_url,
        p.refresh_url, p.revocation_url, p.userinfo_url, p.device_authorization_url,
        p.introspection_url, p.jwks_uri, p.client_id, p.client_secret IS NOT NULL, p.client_auth,
        p.scopes, p.extra_params, p.redirect_port, p.redirect_path, p.redirect_url,
        p.sign_in_with, p.color, (SELECT count(*) FROM tokens t WHERE t.provider_id = p.id),
        p.created_at, p.updated_at, p.iss_required
    FROM providers p";

fn view_from_row(r: &Row<'_>) -> rusqlite::Result<ProviderView> {
    Ok(ProviderView {
        id: r.get(0)?,
        name: r.get(1)?,
        preset: r.get(2)?,
        issuer: r.get(3)?,
        authorization_url: r.get(4)?,
        token_url: r.get(5)?,
        refresh_url: r.get(6)?,
        revocation_url: r.get(7)?,
        userinfo_url: r.get(8)?,
        device_authorization_url: r.get(9)?,
        introspection_url: r.get(10)?,
        jwks_uri: r.get(11)?,
        client_id: r.get(12)?,
        has_client_secret: r.get(13)?,
        client_auth: ClientAuth::parse(&r.get::<_, String>(14)?).unwrap_or_default(),
        scopes: serde_json::from_str(&r.get::<_, String>(15)?).unwrap_or_default(),
        extra_params: serde_json::from_str(&r.get::<_, String>(16)?).unwrap_or_default(),
        redirect_port: r.get(17)?,
        redirect_path: r.get(18)?,
        redirect_url: r.get(19)?,
        sign_in_with: SignInWith::parse(&r.get::<_, String>(20)?).unwrap_or_default(),
        color: r.get(21)?,
        iss_required: r.get(25)?,
        accounts: r.get(22)?,
        created_at: r.get(23)?,
        updated_at: r.get(24)?,
    })
}

/// The provider named `name` as the faces show it.
pub fn view(conn: &Connection, name: &str) -> Result<ProviderView> {
    conn.query_row(&format!("{VIEW} WHERE p.name = ?1"), [name], view_from_row)
        .optional()?
        .ok_or_else(|| not_found(name))
}

/// Every provider, by name.
pub fn list(conn: &Connection) -> Result<Vec<ProviderView>> {
    let mut stmt = conn.prepare(&format!("{VIEW} ORDER BY p.name COLLATE NOCASE, p.id"))?;
    let rows = stmt.query_map([], view_from_row)?;
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
    let tokens = tokens.ok_or_else(|| not_found(name))?;
    conn.execute("DELETE FROM providers WHERE name = ?1", [name])?;
    Ok(tokens)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::vault::Vault;

    pub(crate) fn sample(name: &str) -> ProviderRecord {
        ProviderRecord {
            name: name.into(),
            client_id: "desk".into(),
            client_secret: Some("s3cret".into()),
            token_url: Some("https://idp.example/token".into()),
            scopes: vec!["openid".into(), "offline_access".into()],
            ..Default::default()
        }
    }

    /// Provider JSON, the CLI's flags and output, and the SQL CHECKs use these strings.
    #[test]
    fn client_auth_and_sign_in_methods_keep_their_names() {
        use crate::wire::assert_names;
        assert_names(
            &[
                (ClientAuth::Basic, "basic"),
                (ClientAuth::Post, "post"),
                (ClientAuth::None, "none"),
            ],
            ClientAuth::as_str,
        );
        assert_names(
            &[
                (SignInWith::Window, "window"),
                (SignInWith::Browser, "browser"),
            ],
            SignInWith::as_str,
        );
    }

    #[test]
    fn insert_update_and_get_round_trip_every_field() {
        let v = Vault::open_in_memory().unwrap();
        let id = insert(v.conn(), &sample("idp"), 1).unwrap();
        let mut edited = sample("idp2");
        edited.client_auth = ClientAuth::Post;
        edited.sign_in_with = SignInWith::Browser;
        edited
            .extra_params
            .insert("prompt".into(), "consent".into());
        edited.redirect_port = 8400;
        edited.color = Some("#112233".into());
        update(v.conn(), id, &edited, 2).unwrap();
        assert_eq!(get(v.conn(), "idp2").unwrap(), edited);
        assert!(matches!(get(v.conn(), "idp"), Err(Error::NotFound(_))));
        let shown = view(v.conn(), "idp2").unwrap();
        assert_eq!((shown.created_at, shown.updated_at), (1, 2));
        assert_eq!(
            shown.record(),
            ProviderRecord {
                client_secret: None,
                ..edited
            }
        );
    }

    #[test]
    fn a_taken_name_is_an_error_on_the_name_field() {
        let v = Vault::open_in_memory().unwrap();
        insert(v.conn(), &sample("idp"), 1).unwrap();
        let other = insert(v.conn(), &sample("other"), 1).unwrap();
        for err in [
            insert(v.conn(), &sample("idp"), 2).unwrap_err(),
            update(v.conn(), other, &sample("idp"), 2).unwrap_err(),
        ] {
            match err {
                Error::InvalidFields(f) => assert_eq!(f[0].field, "name"),
                e => panic!("expected a field error, got {e:?}"),
            }
        }
    }

    #[test]
    fn list_carries_no_secret_and_delete_says_how_many_tokens_went() {
        let v = Vault::open_in_memory().unwrap();
        let id = insert(v.conn(), &sample("idp"), 1).unwrap();
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
        assert!(listed.contains("\"has_client_secret\":true"));
        assert_eq!(delete(v.conn(), "idp").unwrap(), 1);
        assert!(matches!(get(v.conn(), "idp"), Err(Error::NotFound(_))));
        assert!(matches!(delete(v.conn(), "idp"), Err(Error::NotFound(_))));
    }
}
