//! The benchmarks' workload: 20 providers and N tokens written through the vault's own
//! queries, on a SQLCipher vault or a plain SQLite file with the same schema. Shared by
//! `cargo bench -p oauth-desk-core` and the side-by-side benchmark (tests/benches).

use std::path::Path;

use oauth_desk_core::vault::migrate;
use oauth_desk_core::vault::provider_table::{self, ProviderConfig, ProviderRecord};
use oauth_desk_core::vault::tokens::{self, TokenQuery, TokenRecord, TokenStatus};
use rusqlite::Connection;

/// Fills `conn` with 20 providers and `n` tokens in one transaction.
pub fn fill(conn: &Connection, n: usize, now: i64) {
    let tx = conn.unchecked_transaction().unwrap();
    let mut ids = Vec::new();
    for i in 0..20 {
        let p = ProviderRecord {
            config: ProviderConfig {
                name: format!("provider-{i:02}"),
                client_id: "bench".into(),
                token_url: Some("https://idp.example/token".into()),
                ..Default::default()
            },
            client_secret: None,
            ..Default::default()
        };
        ids.push(provider_table::insert(&tx, &p, now).unwrap());
    }
    for i in 0..n {
        let t = TokenRecord {
            account: format!("user-{i:06}@example.com"),
            subject: None,
            access_token: Some(format!("access-{i:06}-{}", "x".repeat(40)).into()),
            token_type: Some("Bearer".into()),
            refresh_token: Some(format!("refresh-{i:06}").into()),
            id_token: None,
            scopes: vec!["openid".into(), "email".into()],
            expires_at: Some(now + (i as i64 % 7200) - 600),
            status: TokenStatus::Active,
        };
        tokens::upsert(&tx, ids[i % ids.len()], &t, now).unwrap();
    }
    tx.commit().unwrap();
}

/// A plain (unencrypted) SQLite file with the vault's schema and per-connection PRAGMAs
/// (`Vault::connect`'s, the cache size included).
pub fn plain_sqlite(path: &Path) -> Connection {
    let mut conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    conn.pragma_update(None, "cache_size", -65536).unwrap();
    migrate::migrate_to(&mut conn, migrate::latest_version()).unwrap();
    conn
}

/// The table as a person filters it: one provider, expiring soon, by expiry.
pub fn filter_query() -> TokenQuery {
    TokenQuery {
        provider: Some("provider-07".into()),
        status: Some(tokens::ShownStatus::Expiring),
        sort: Some(tokens::TokenSort::ExpiresAt),
        descending: true,
        limit: 200,
        ..Default::default()
    }
}
