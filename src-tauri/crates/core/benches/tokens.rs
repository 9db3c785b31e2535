//! The token table at scale and a fresh token in-process: fills a real SQLCipher vault with
//! 100,000 tokens and reports medians. Run it with `make bench` (which also times the CLI).
//! Figures are printed, never asserted: speed is reported, not tested.

use std::time::{Duration, Instant};

#[path = "support/fixture.rs"]
mod fixture;

use oauth_desk_core::http::Http;
use oauth_desk_core::refresh;
use oauth_desk_core::vault::tokens::{self, TokenQuery};
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
        Unlock::Passphrase("bench passphrase".into()),
        &NoKeyring,
        Create::IfMissing,
    )
    .unwrap();
    let now = oauth_desk_core::time::now();

    let started = Instant::now();
    fixture::fill(vault.conn(), TOKENS, now);
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
    let filtered = time(20, query(fixture::filter_query()));
    let deep_page = time(
        20,
        query(TokenQuery {
            sort: Some(tokens::TokenSort::Account),
            offset: 90_000,
            limit: 200,
            ..Default::default()
        }),
    );
    // The background refresher's look for due tokens, every 30 s while the app runs: here with
    // none due (the fixture's earliest expiry is ten minutes ago, so an hour before that).
    let due = time(20, || tokens::due(v.conn(), now - 4200, 300).unwrap());
    // The same workload on a plain SQLite file with the same schema and PRAGMAs: what the
    // encryption costs.
    let plain_path = dir.path().join("plain.db");
    let plain = fixture::plain_sqlite(&plain_path);
    fixture::fill(&plain, TOKENS, now);
    let filtered_plain = time(20, || {
        tokens::query(&plain, &fixture::filter_query(), now).unwrap()
    });
    let account = "user-004000@example.com"; // expires in 3,400 s: valid for the whole run
    let get = time(1000, || {
        refresh::access_token(
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
    println!(
        "the same filter on plain SQLite:                     median {filtered_plain:.2?} (SQLCipher {:.2}x)",
        filtered.as_secs_f64() / filtered_plain.as_secs_f64()
    );
    println!("tokens due for the background refresh (none):       median {due:.2?}");
    println!("fresh access token in-process (valid, no refresh): median {get:.2?}");
}
