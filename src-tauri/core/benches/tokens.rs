//! The token table at scale and a fresh token in-process: fills a real SQLCipher vault with
//! 100,000 tokens and reports medians. Run it with `make bench` (which also times the CLI).
//! Figures are printed, never asserted: speed is reported, not tested.

use std::time::{Duration, Instant};

use oauth_desk_core::fresh;
use oauth_desk_core::http::Http;
use oauth_desk_core::vault::providers::{self, ProviderRecord};
use oauth_desk_core::vault::tokens::{self, TokenQuery, TokenRecord, TokenStatus};
use oauth_desk_core::vault::{Create, NoKeyring, Unlock, Vault};

const TOKENS: usize = 100_000;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let vault = Vault::open(
        &path,
        Unlock::Passphrase("bench".into()),
        &NoKeyring,
        Create::IfMissing,
    )
    .unwrap();
    let now = oauth_desk_core::time::now();

    let started = Instant::now();
    let tx = vault.conn().unchecked_transaction().unwrap();
    let mut ids = Vec::new();
    for i in 0..20 {
        let p = ProviderRecord {
            name: format!("provider-{i:02}"),
            client_id: "bench".into(),
            token_url: Some("https://idp.example/token".into()),
            ..Default::default()
        };
        ids.push(providers::insert(&tx, &p, now).unwrap());
    }
    for i in 0..TOKENS {
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
    let fill = started.elapsed();
    let size = std::fs::metadata(&path).unwrap().len();

    let v = &vault;
    let query = |q: TokenQuery| move || tokens::query(v.conn(), &q, now).unwrap();
    let first_page = time(
        20,
        query(TokenQuery {
            limit: 200,
            ..Default::default()
        }),
    );
    let search = time(
        20,
        query(TokenQuery {
            search: "user-04242".into(),
            limit: 200,
            ..Default::default()
        }),
    );
    let filtered = time(
        20,
        query(TokenQuery {
            provider: Some("provider-07".into()),
            status: Some("expiring".into()),
            sort: Some("expires_at".into()),
            descending: true,
            limit: 200,
            ..Default::default()
        }),
    );
    let deep_page = time(
        20,
        query(TokenQuery {
            sort: Some("account".into()),
            offset: 90_000,
            limit: 200,
            ..Default::default()
        }),
    );
    let account = "user-004000@example.com"; // expires in 3,400 s: valid for the whole run
    let get = time(1000, || {
        fresh::access_token(
            &vault,
            "provider-00",
            Some(account),
            0,
            &Http::new,
            &oauth_desk_core::time::now,
        )
        .unwrap()
    });

    println!(
        "vault with {TOKENS} tokens: filled in {fill:.2?}, {:.1} MiB on disk",
        size as f64 / 1048576.0
    );
    println!("token table, first page of 200 (sorted by provider): median {first_page:.2?}");
    println!("token table, search \"user-04242\":                  median {search:.2?}");
    println!("token table, provider + status filter, by expiry:   median {filtered:.2?}");
    println!("token table, page at offset 90,000 by account:     median {deep_page:.2?}");
    println!("fresh access token in-process (valid, no refresh): median {get:.2?}");
}
