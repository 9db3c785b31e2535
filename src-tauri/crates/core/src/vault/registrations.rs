//! The registrations table: for a client OAuth Desk registered itself (RFC 7591), where its
//! registration is managed and the token that may manage it (RFC 7592). The token is a secret:
//! it leaves this table only for the request it authorizes.

use rusqlite::{named_params, Connection, OptionalExtension};

use crate::error::Result;
use crate::oauth::registration::Management;
use crate::secret::Secret;

/// The registration of provider `name`, if OAuth Desk registered its client.
pub fn get(conn: &Connection, name: &str) -> Result<Option<Management>> {
    Ok(conn
        .query_row(
            "SELECT r.client_uri, r.access_token FROM registrations r
             JOIN providers p ON p.id = r.provider_id WHERE p.name = :name",
            named_params! { ":name": name },
            |r| {
                Ok(Management {
                    client_uri: r.get(0)?,
                    access_token: Secret::new(r.get(1)?),
                })
            },
        )
        .optional()?)
}

/// Keeps (or replaces) provider `name`'s registration.
pub fn put(conn: &Connection, name: &str, m: &Management, now: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO registrations (provider_id, client_uri, access_token, registered_at, updated_at)
         SELECT id, :uri, :token, :now, :now FROM providers WHERE name = :name
         ON CONFLICT (provider_id) DO UPDATE SET client_uri = excluded.client_uri,
             access_token = excluded.access_token, updated_at = excluded.updated_at",
        named_params! {
            ":name": name,
            ":uri": m.client_uri,
            ":token": m.access_token.expose(),
            ":now": now,
        },
    )?;
    Ok(())
}

/// Forgets provider `id`'s registration (the client itself stays at the provider).
pub fn forget(conn: &Connection, provider_id: i64) -> Result<()> {
    conn.execute(
        "DELETE FROM registrations WHERE provider_id = ?1",
        [provider_id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::provider::ProviderInput;
    use crate::vault::Vault;

    #[test]
    fn a_registration_is_kept_replaced_and_goes_with_its_provider() {
        let vault = Vault::open_in_memory().unwrap();
        let input = ProviderInput {
            name: Some("Reg".into()),
            token_url: Some("https://idp.example/token".into()),
            client_id: Some("c1".into()),
            ..Default::default()
        };
        crate::providers::add(&vault, &input, 1).unwrap();
        assert!(get(vault.conn(), "Reg").unwrap().is_none());
        let m = |token: &str| Management {
            client_uri: "https://idp.example/reg/c1".into(),
            access_token: Secret::new(token.into()),
        };
        put(vault.conn(), "Reg", &m("one"), 2).unwrap();
        put(vault.conn(), "Reg", &m("two"), 3).unwrap();
        let kept = get(vault.conn(), "Reg").unwrap().unwrap();
        assert_eq!(kept.access_token.expose(), "two");
        crate::providers::remove(&vault, "Reg", 4).unwrap();
        let left: i64 = vault
            .conn()
            .query_row("SELECT count(*) FROM registrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0, "removed with its provider");
    }
}
