//! The vault on disk: creation, modes, encryption at rest, and one distinct error for each way
//! opening can fail, each leaving the file byte for byte as it was.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use oauth_desk_core::vault::provider_table::{self, ProviderConfig, ProviderRecord};
use oauth_desk_core::vault::tokens::{self, TokenRecord, TokenStatus};
use oauth_desk_core::vault::{Create, KeyMode, MemoryKeyring, NoKeyring, Unlock, Vault};
use oauth_desk_core::Error;

const PASS: &str = "correct horse battery staple";

fn scratch() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/oauth-desk/vault.db");
    (dir, path)
}

fn pass(p: &str) -> Unlock {
    Unlock::Passphrase(p.into())
}

fn hash(path: &Path) -> Vec<u8> {
    use std::hash::{Hash, Hasher};
    let bytes = fs::read(path).unwrap();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    let mut out = h.finish().to_le_bytes().to_vec();
    out.extend((bytes.len() as u64).to_le_bytes());
    out
}

/// A passphrase vault with a provider and a token, closed cleanly.
fn filled_vault(path: &Path) {
    let v = Vault::open(path, pass(PASS), &NoKeyring, Create::IfMissing).unwrap();
    let id = provider_table::insert(
        v.conn(),
        &ProviderRecord {
            config: ProviderConfig {
                name: "idp".into(),
                client_id: "desk".into(),
                ..Default::default()
            },
            client_secret: None,
            ..Default::default()
        },
        1,
    )
    .unwrap();
    for i in 0..40 {
        tokens::upsert(
            v.conn(),
            id,
            &token(&format!("user{i}"), &"x".repeat(900)),
            1,
        )
        .unwrap();
    }
}

fn token(account: &str, access: &str) -> TokenRecord {
    TokenRecord {
        account: account.into(),
        subject: None,
        access_token: Some(access.into()),
        token_type: Some("Bearer".into()),
        refresh_token: None,
        id_token: None,
        scopes: vec![],
        expires_at: None,
        status: TokenStatus::Active,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_new_keyring_vault_is_private_encrypted_and_reopens_with_its_stored_key() {
    let (_dir, path) = scratch();
    let keys = MemoryKeyring::default();
    let v = Vault::open(&path, Unlock::Keyring, &keys, Create::IfMissing).unwrap();
    assert_eq!(v.key_mode(), KeyMode::Keyring);
    let status = v.status().unwrap();
    assert_eq!(
        status.schema_version,
        oauth_desk_core::vault::migrate::latest_version()
    );
    assert!(
        status.sqlcipher_version.starts_with('4'),
        "SQLCipher 4 is linked: {}",
        status.sqlcipher_version
    );
    drop(v);

    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode(&path),
        0o600,
        "the vault must be readable by its owner only"
    );
    assert_eq!(
        mode(path.parent().unwrap()),
        0o700,
        "the vault's directory must be private"
    );
    let mut leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    leftovers.sort();
    assert_eq!(
        leftovers,
        ["vault.db", "vault.db.lock"],
        "creation must leave no temporary file behind (the lock says who has the vault open)"
    );
    assert_eq!(mode(&path.with_file_name("vault.db.lock")), 0o600);

    let v = Vault::open(&path, Unlock::Keyring, &keys, Create::Never).unwrap();
    assert_eq!(
        v.status().unwrap().activity,
        1,
        "the creation is in the activity log"
    );
}

#[test]
fn secrets_written_through_the_core_api_never_reach_the_file_or_wal_in_clear() {
    let (_dir, path) = scratch();
    let keys = MemoryKeyring::default();
    let v = Vault::open(&path, Unlock::Keyring, &keys, Create::IfMissing).unwrap();
    let canaries = [
        "canary-client-secret-7f3e",
        "canary-access-token-91ab",
        "canary-refresh-token-c0de",
    ];
    let id = provider_table::insert(
        v.conn(),
        &ProviderRecord {
            config: ProviderConfig {
                name: "idp".into(),
                client_id: "desk".into(),
                ..Default::default()
            },
            client_secret: Some(canaries[0].into()),
            ..Default::default()
        },
        1,
    )
    .unwrap();
    let mut t = token("alice@example.com", canaries[1]);
    t.refresh_token = Some(canaries[2].into());
    tokens::upsert(v.conn(), id, &t, 1).unwrap();

    // While the vault is open the newest pages sit in the WAL: check it as well as the file.
    let wal = fs::read(format!("{}-wal", path.display())).unwrap();
    assert!(
        !wal.is_empty(),
        "WAL mode is on, so the writes are in the WAL"
    );
    for (name, bytes) in [("vault", fs::read(&path).unwrap()), ("wal", wal)] {
        assert!(
            !contains(&bytes, b"SQLite format 3"),
            "{name} must not carry the plain SQLite header"
        );
        for c in canaries {
            assert!(!contains(&bytes, c.as_bytes()), "{name} holds {c} in clear");
        }
        assert!(
            !contains(&bytes, b"alice@example.com"),
            "{name} holds an account label in clear"
        );
    }
    drop(v);
    let bytes = fs::read(&path).unwrap();
    assert!(canaries.iter().all(|c| !contains(&bytes, c.as_bytes())));
    let v = Vault::open(&path, Unlock::Keyring, &keys, Create::Never).unwrap();
    assert_eq!(
        tokens::get(v.conn(), "idp", "alice@example.com")
            .unwrap()
            .access_token
            .unwrap()
            .expose(),
        canaries[1]
    );
}

#[test]
fn a_passphrase_vault_opens_with_its_passphrase_only() {
    let (_dir, path) = scratch();
    filled_vault(&path);
    let v = Vault::open(&path, pass(PASS), &NoKeyring, Create::Never).unwrap();
    assert_eq!(v.key_mode(), KeyMode::Passphrase);
    assert_eq!(v.status().unwrap().tokens, 40);
    drop(v);

    let before = hash(&path);
    let err = Vault::open(&path, pass("wrong passphrase"), &NoKeyring, Create::Never).unwrap_err();
    assert_eq!(err.code(), "wrong_key", "{err}");
    assert_eq!(
        hash(&path),
        before,
        "a wrong key must leave the file as it was"
    );
}

#[test]
fn without_a_keyring_a_vault_asks_for_a_passphrase_and_creates_nothing() {
    let (_dir, path) = scratch();
    let err = Vault::open(&path, Unlock::Keyring, &NoKeyring, Create::IfMissing).unwrap_err();
    assert!(
        matches!(err, Error::PassphraseRequired { exists: false, .. }),
        "{err:?}"
    );
    assert!(
        !path.exists(),
        "no file may be made before a key is settled"
    );

    filled_vault(&path);
    let before = hash(&path);
    let err = Vault::open(&path, Unlock::Keyring, &NoKeyring, Create::IfMissing).unwrap_err();
    assert!(
        matches!(err, Error::PassphraseRequired { exists: true, .. }),
        "{err:?}"
    );
    assert_eq!(err.code(), "vault_locked");
    assert_eq!(hash(&path), before);
}

#[test]
fn a_keyring_without_the_vaults_entry_is_its_own_error_and_no_new_key_is_made() {
    let (_dir, path) = scratch();
    let keys = MemoryKeyring::default();
    drop(Vault::open(&path, Unlock::Keyring, &keys, Create::IfMissing).unwrap());
    let before = hash(&path);
    let empty = MemoryKeyring::default();
    let err = Vault::open(&path, Unlock::Keyring, &empty, Create::IfMissing).unwrap_err();
    assert_eq!(err.code(), "key_missing", "{err}");
    assert_eq!(hash(&path), before);
    assert!(
        empty.get_for_test().is_empty(),
        "opening must never store a new key for an existing vault"
    );
}

#[test]
fn truncated_files_are_named_as_truncated_and_left_alone() {
    let (dir, path) = scratch();
    filled_vault(&path);
    let full = fs::read(&path).unwrap();
    assert!(
        full.len() >= 8 * 4096,
        "the sample vault spans several pages"
    );
    for (case, len) in [
        ("empty", 0),
        ("mid-page", full.len() / 2 + 100),
        ("page boundary", (full.len() / 4096 / 2) * 4096),
    ] {
        let p = dir.path().join(format!("{case}.db"));
        fs::write(&p, &full[..len]).unwrap();
        let before = hash(&p);
        let err = Vault::open(&p, pass(PASS), &NoKeyring, Create::IfMissing).unwrap_err();
        assert_eq!(err.code(), "vault_truncated", "{case}: {err}");
        assert_eq!(hash(&p), before, "{case}: the file must be left as it was");
    }
}

#[test]
fn damaged_pages_are_named_as_damage_not_as_a_wrong_key() {
    let (dir, path) = scratch();
    filled_vault(&path);
    let full = fs::read(&path).unwrap();
    let pages = full.len() / 4096;
    for (case, offset) in [("page 1", 200), ("mid-file", (pages / 2) * 4096 + 1000)] {
        let p = dir.path().join(format!("{}.db", case.replace(' ', "-")));
        let mut bytes = full.clone();
        bytes[offset] ^= 0x55;
        fs::write(&p, &bytes).unwrap();
        let before = hash(&p);
        // Damage surfaces when the damaged page is read: at open for page 1, on a full read
        // (status counts every table, the integrity check reads every page) for the others.
        let err = Vault::open(&p, pass(PASS), &NoKeyring, Create::Never)
            .and_then(|v| v.check_integrity().map(|_| v))
            .unwrap_err();
        assert_eq!(err.code(), "vault_corrupt", "{case}: {err}");
        assert_eq!(hash(&p), before, "{case}: the file must be left as it was");
    }
}

#[test]
fn a_plain_sqlite_file_is_refused_as_unencrypted() {
    let (dir, _) = scratch();
    let p = dir.path().join("plain.db");
    let conn = rusqlite::Connection::open(&p).unwrap();
    conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(conn);
    let before = hash(&p);
    let err = Vault::open(
        &p,
        Unlock::Keyring,
        &MemoryKeyring::default(),
        Create::IfMissing,
    )
    .unwrap_err();
    assert_eq!(err.code(), "vault_not_encrypted", "{err}");
    assert_eq!(hash(&p), before);
}

/// A vault made by the schema-1 build, kept as a fixture: today's build must open and migrate
/// it, keeping its rows. Its passphrase also pins the KDF parameters.
#[test]
fn a_schema_1_vault_opens_and_migrates_with_this_build() {
    let (dir, _) = scratch();
    let p = dir.path().join("v1.db");
    fs::copy(fixture(), &p).unwrap();
    let v = Vault::open(&p, pass(FIXTURE_PASS), &NoKeyring, Create::Never).unwrap();
    let status = v.status().unwrap();
    assert_eq!(
        status.schema_version,
        oauth_desk_core::vault::migrate::latest_version()
    );
    assert_eq!(
        (status.providers, status.tokens),
        (1, 1),
        "the fixture's rows survive the migration"
    );
    let t = tokens::get(v.conn(), "fixture-idp", "fixture@example.com").unwrap();
    assert_eq!(t.access_token.unwrap().expose(), "fixture-access-token");
    v.conn()
        .query_row("SELECT count(*) FROM settings", [], |r| r.get::<_, i64>(0))
        .expect("schema 2 added settings");
}

const FIXTURE_PASS: &str = "fixture passphrase";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vault-schema1.db")
}

/// Writes the schema-1 fixture: a vault made now, brought back to schema 1 by undoing schema 2
/// (which only added a table). Run by hand: cargo test -p oauth-desk-core -- --ignored make_schema1_fixture
#[test]
#[ignore]
fn make_schema1_fixture() {
    let _ = fs::remove_file(fixture());
    let v = Vault::open(
        &fixture(),
        pass(FIXTURE_PASS),
        &NoKeyring,
        Create::IfMissing,
    )
    .unwrap();
    let id = provider_table::insert(
        v.conn(),
        &ProviderRecord {
            config: ProviderConfig {
                name: "fixture-idp".into(),
                client_id: "fixture".into(),
                ..Default::default()
            },
            client_secret: None,
            ..Default::default()
        },
        1_700_000_000,
    )
    .unwrap();
    tokens::upsert(
        v.conn(),
        id,
        &token("fixture@example.com", "fixture-access-token"),
        1_700_000_000,
    )
    .unwrap();
    v.conn()
        .execute_batch("DROP TABLE settings; PRAGMA user_version = 1;")
        .unwrap();
}
