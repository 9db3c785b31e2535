//! The providers table: get, list, insert, update and delete rows. What goes in has been
//! validated by `oauth::provider`; this module only stores it. The client secret is a `Secret`
//! and `ProviderView`, the shape every face shows, carries only whether one is set.

use crate::oauth::discovery::{endpoint_fields, Source};
use std::ops::{Deref, DerefMut};
use std::sync::LazyLock;

use rusqlite::types::Value;
use rusqlite::{named_params, Connection, OptionalExtension, Row, ToSql};
use serde::{Deserialize, Serialize};

pub use crate::oauth::provider::ProviderConfig;
use crate::oauth::provider::FIELDS;

use crate::error::{Error, Result};
use crate::oauth::client_cert::{CertView, ClientCert};
use crate::oauth::signing_key::{Alg, PublicKey, SigningKey};
use crate::secret::Secret;
use crate::text::shown;

/// How the client proves itself at the token endpoint (Rocket.Chat's "token sent via header /
/// payload").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// HTTP Basic with the client id and secret (RFC 6749 §2.3.1).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body.
    Post,
    /// A public client: the client id only.
    None,
    /// A JWT signed with an HMAC of the client secret (RFC 7523 §2.2, OpenID Connect Core
    /// §9): the secret itself never travels.
    ClientSecretJwt,
    /// A JWT signed with the client's private key (RFC 7523 §2.2), whose public half the
    /// provider holds.
    PrivateKeyJwt,
    /// The client's certificate in the TLS handshake, issued by a CA the provider trusts
    /// (RFC 8705 §2.1).
    TlsClientAuth,
    /// A self-signed certificate in the TLS handshake, registered with the provider
    /// (RFC 8705 §2.2).
    SelfSignedTlsClientAuth,
}

impl ClientAuth {
    /// The client proves itself with its certificate in the TLS handshake.
    pub fn uses_certificate(self) -> bool {
        matches!(
            self,
            ClientAuth::TlsClientAuth | ClientAuth::SelfSignedTlsClientAuth
        )
    }

    /// The client proves itself with its secret, one way or another.
    pub fn uses_secret(self) -> bool {
        matches!(
            self,
            ClientAuth::Basic | ClientAuth::Post | ClientAuth::ClientSecretJwt
        )
    }
}

crate::wire_names!(ClientAuth);

/// Where the user signs in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
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

/// A provider as stored: its validated configuration, and its credentials beside it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderRecord {
    pub config: ProviderConfig,
    pub client_secret: Option<Secret<String>>,
    /// The private key private_key_jwt signs with.
    pub client_key: Option<SigningKey>,
    /// The private key DPoP proofs are signed with: the key the tokens are bound to.
    pub dpop_key: Option<SigningKey>,
    /// The certificate of mutual-TLS client authentication; its key is `client_key`.
    pub client_cert: Option<ClientCert>,
}

// A record is its configuration plus a secret; the flows read the configuration's fields
// through it (`p.token_url`) rather than naming the part every time.
impl Deref for ProviderRecord {
    type Target = ProviderConfig;
    fn deref(&self) -> &ProviderConfig {
        &self.config
    }
}

impl DerefMut for ProviderRecord {
    fn deref_mut(&mut self) -> &mut ProviderConfig {
        &mut self.config
    }
}

/// A provider as the faces show it (`provider show --json`, the form, the REST API): every
/// field but the client secret, of which only its presence.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[schemars(rename = "Provider", deny_unknown_fields)]
pub struct ProviderView {
    pub id: i64,
    #[serde(flatten)]
    pub config: ProviderConfig,
    /// Whether a client secret is stored; the secret itself never leaves the vault.
    pub has_client_secret: bool,
    /// The public half of the client's signing key, when it has one.
    pub client_key: Option<PublicKey>,
    /// The public half of the key DPoP-bound tokens are bound to.
    pub dpop_key: Option<PublicKey>,
    /// The client's certificate for mutual TLS, when it has one.
    pub client_cert: Option<CertView>,
    /// OAuth Desk registered this client at the provider (RFC 7591) and can update or delete
    /// it there (RFC 7592).
    pub registered: bool,
    /// Where each endpoint that is set came from: discovered from the issuer's metadata, or
    /// set by hand (which discovering again keeps).
    pub endpoint_sources: std::collections::BTreeMap<&'static str, Source>,
    /// How many accounts have a token for this provider.
    #[schemars(range(min = 0))]
    pub accounts: i64,
    #[serde(serialize_with = "crate::time::serialize_rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub created_at: i64,
    #[serde(serialize_with = "crate::time::serialize_rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub updated_at: i64,
}

impl Deref for ProviderView {
    type Target = ProviderConfig;
    fn deref(&self) -> &ProviderConfig {
        &self.config
    }
}

impl ProviderView {
    /// The record without its secret (the form edits a view, never the secret).
    pub fn record(&self) -> ProviderRecord {
        ProviderRecord {
            config: self.config.clone(),
            ..Default::default()
        }
    }
}

/// The credential columns, beside the fields.
const CREDENTIALS: &str =
    "client_secret, client_key_alg, client_key, dpop_key_alg, dpop_key, client_cert";

/// The SQL this table runs, written from the field list once.
struct Statements {
    insert: String,
    update: String,
    get: String,
    view: String,
}

static SQL: LazyLock<Statements> = LazyLock::new(|| {
    let names: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
    let list =
        |f: &dyn Fn(&str) -> String| names.iter().map(|n| f(n)).collect::<Vec<_>>().join(", ");
    Statements {
        insert: format!(
            "INSERT INTO providers ({}, {CREDENTIALS}, created_at, updated_at)
             VALUES ({}, :client_secret, :client_key_alg, :client_key, :dpop_key_alg, :dpop_key,
                 :client_cert, :now, :now) RETURNING id",
            list(&|n| n.to_owned()),
            list(&|n| format!(":{n}")),
        ),
        update: format!(
            "UPDATE providers SET {}, client_secret = :client_secret,
                 client_key_alg = :client_key_alg, client_key = :client_key,
                 dpop_key_alg = :dpop_key_alg, dpop_key = :dpop_key, client_cert = :client_cert,
                 updated_at = :now
             WHERE id = :id",
            list(&|n| format!("{n} = :{n}")),
        ),
        get: format!(
            "SELECT {}, {CREDENTIALS} FROM providers WHERE name = :name",
            list(&|n| n.to_owned()),
        ),
        view: format!(
            "SELECT p.id, {}, p.client_secret IS NOT NULL AS has_client_secret,
                 p.client_key_alg, p.client_key, p.dpop_key_alg, p.dpop_key, p.client_cert,
                 EXISTS (SELECT 1 FROM registrations r WHERE r.provider_id = p.id) AS registered,
                 (SELECT count(*) FROM tokens t WHERE t.provider_id = p.id) AS accounts,
                 p.created_at, p.updated_at
             FROM providers p",
            list(&|n| format!("p.{n}")),
        ),
    }
});

/// The record's fields, its secret and `now` as named SQL parameters; `extra` adds more.
fn bound<'a>(
    values: &'a [(&'static str, Value)],
    extra: &[(&'a str, &'a dyn ToSql)],
) -> Vec<(&'a str, &'a dyn ToSql)> {
    values
        .iter()
        .map(|(n, v)| (*n, v as &dyn ToSql))
        .chain(extra.iter().copied())
        .collect()
}

fn record_values(p: &ProviderRecord, now: i64) -> Vec<(&'static str, Value)> {
    let mut values = p.config.named_columns();
    values.push((
        ":client_secret",
        p.client_secret
            .as_ref()
            .map_or(Value::Null, |s| Value::Text(s.expose().clone())),
    ));
    for (alg_column, key_column, key) in [
        (":client_key_alg", ":client_key", &p.client_key),
        (":dpop_key_alg", ":dpop_key", &p.dpop_key),
    ] {
        let (alg, key) = match key {
            Some(k) => (
                Value::Text(k.alg().as_str().to_owned()),
                Value::Text(k.stored_jwk().expose().clone()),
            ),
            None => (Value::Null, Value::Null),
        };
        values.push((alg_column, alg));
        values.push((key_column, key));
    }
    values.push((
        ":client_cert",
        p.client_cert
            .as_ref()
            .map_or(Value::Null, |c| Value::Text(c.pem().to_owned())),
    ));
    values.push((":now", Value::Integer(now)));
    values
}

/// Adds a provider; returns its id. A taken name is an error on the `name` field.
pub fn insert(conn: &Connection, p: &ProviderRecord, now: i64) -> Result<i64> {
    if find_id(conn, &p.name)?.is_some() {
        return Err(name_taken(&p.name));
    }
    let values = record_values(p, now);
    let id = conn.query_row(&SQL.insert, bound(&values, &[]).as_slice(), |r| r.get(0))?;
    Ok(id)
}

/// Replaces every field of provider `id`, its name included.
pub fn update(conn: &Connection, id: i64, p: &ProviderRecord, now: i64) -> Result<()> {
    if let Some(other) = find_id(conn, &p.name)? {
        if other != id {
            return Err(name_taken(&p.name));
        }
    }
    let values = record_values(p, now);
    let changed = conn.execute(&SQL.update, bound(&values, &[(":id", &id)]).as_slice())?;
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

/// The provider named `name`, secret included (for flows, never for a face).
pub fn get(conn: &Connection, name: &str) -> Result<ProviderRecord> {
    // Cached: every `token get` the agent answers starts here.
    conn.prepare_cached(&SQL.get)?
        .query_row(named_params! { ":name": name }, record_from_row)
        .optional()?
        .ok_or_else(|| not_found(name))
}

pub fn not_found(name: &str) -> Error {
    Error::NotFound(format!("no provider named {}", shown(name)))
}

fn record_from_row(r: &Row<'_>) -> rusqlite::Result<ProviderRecord> {
    Ok(ProviderRecord {
        config: ProviderConfig::from_row(r)?,
        client_secret: r
            .get::<_, Option<String>>("client_secret")?
            .map(Secret::new),
        client_key: key_from_row(r, "client_key")?,
        dpop_key: key_from_row(r, "dpop_key")?,
        client_cert: cert_from_row(r)?,
    })
}

fn cert_from_row(r: &Row<'_>) -> rusqlite::Result<Option<ClientCert>> {
    let Some(pem) = r.get::<_, Option<String>>("client_cert")? else {
        return Ok(None);
    };
    ClientCert::from_pem(&pem).map(Some).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("the stored client certificate: {e}").into(),
        )
    })
}

/// The key in column `name` (and its algorithm in `name_alg`).
fn key_from_row(r: &Row<'_>, name: &str) -> rusqlite::Result<Option<SigningKey>> {
    let alg: Option<Alg> = r.get(format!("{name}_alg").as_str())?;
    let key: Option<String> = r.get(name)?;
    let Some((alg, key)) = alg.zip(key) else {
        return Ok(None);
    };
    SigningKey::from_stored(alg, Secret::new(key))
        .map(Some)
        .ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                format!("the stored {name} is not a usable {} key", alg.as_str()).into(),
            )
        })
}

fn view_from_row(r: &Row<'_>) -> rusqlite::Result<ProviderView> {
    let cert = cert_from_row(r)?;
    let config = ProviderConfig::from_row(r)?;
    Ok(ProviderView {
        id: r.get("id")?,
        endpoint_sources: endpoint_fields()
            .filter_map(|f| Some((f, Source::of(f, config.text(f), &config.discovered)?)))
            .collect(),
        config,
        has_client_secret: r.get("has_client_secret")?,
        client_key: key_from_row(r, "client_key")?.map(|k| {
            let mut public = k.public();
            // A key with a certificate: its JWK carries the chain (RFC 7517 §4.7), as a
            // provider registering a self-signed client takes it.
            if let Some(cert) = &cert {
                public.jwk["x5c"] = serde_json::json!(cert.x5c());
            }
            public
        }),
        dpop_key: key_from_row(r, "dpop_key")?.map(|k| k.public()),
        client_cert: cert.map(|c| c.view()),
        registered: r.get("registered")?,
        accounts: r.get("accounts")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

/// The provider named `name` as the faces show it.
pub fn view(conn: &Connection, name: &str) -> Result<ProviderView> {
    conn.query_row(
        &format!("{} WHERE p.name = :name", SQL.view),
        named_params! { ":name": name },
        view_from_row,
    )
    .optional()?
    .ok_or_else(|| not_found(name))
}

/// Every provider, by name.
pub fn list(conn: &Connection) -> Result<Vec<ProviderView>> {
    let mut stmt = conn.prepare(&format!(
        "{} ORDER BY p.name COLLATE NOCASE, p.id",
        SQL.view
    ))?;
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
            config: ProviderConfig {
                name: name.into(),
                client_id: "desk".into(),
                token_url: Some("https://idp.example/token".into()),
                scopes: vec!["openid".into(), "offline_access".into()],
                ..Default::default()
            },
            client_secret: Some("s3cret".into()),
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
                (ClientAuth::ClientSecretJwt, "client_secret_jwt"),
                (ClientAuth::PrivateKeyJwt, "private_key_jwt"),
                (ClientAuth::TlsClientAuth, "tls_client_auth"),
                (
                    ClientAuth::SelfSignedTlsClientAuth,
                    "self_signed_tls_client_auth",
                ),
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
