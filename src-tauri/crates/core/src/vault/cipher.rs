//! How OAuth Desk speaks to SQLCipher: connections opened only once it has started, the raw-key
//! PRAGMA, the proof that SQLCipher is linked, and a page check that tells a wrong key from a
//! damaged first page.
//!
//! SQLCipher 4 defaults: 4096-byte pages; each page ends with a 16-byte IV and a 64-byte
//! HMAC-SHA512 over the ciphertext, the IV and the page number (little-endian). The HMAC key is
//! PBKDF2-HMAC-SHA512(key, salt XOR 0x3a, 2 rounds). Page 1 starts with the 16-byte salt in clear.

use std::path::Path;
use std::sync::Once;

use hmac::{Hmac, Mac};
use rusqlite::{Connection, OpenFlags};
use sha2::Sha512;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::secret::Secret;

pub const PAGE_SIZE: usize = 4096;
pub const SALT_LEN: usize = 16;
const IV_LEN: usize = 16;
const HMAC_LEN: usize = 64;
const RESERVE: usize = IV_LEN + HMAC_LEN;
const HMAC_SALT_MASK: u8 = 0x3a;
const FAST_KDF_ITER: u32 = 2;

/// Opens `path` once SQLCipher is ready in this process. Every connection the vault makes goes
/// through here or [`open_in_memory`].
pub fn open(path: &Path, flags: OpenFlags) -> Result<Connection> {
    started();
    Ok(Connection::open_with_flags(path, flags)?)
}

/// An in-memory connection, opened like [`open`].
pub fn open_in_memory() -> Result<Connection> {
    started();
    Ok(Connection::open_in_memory()?)
}

/// Runs SQLite's start-up to its end on one thread before any other connection is made.
/// `sqlite3_initialize` marks SQLite initialised before it runs SQLCipher's own start-up
/// (`SQLITE_EXTRA_INIT`), so a thread opening a connection in that gap finds SQLCipher not
/// ready and its `PRAGMA key` fails as if the key were refused. Two vaults opened at once as a
/// process starts can land there, as the tests do: seen once in CI.
fn started() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        // The first open in the process runs the whole start-up, SQLCipher's included, before
        // it returns; a failure shows again on the caller's own open.
        let _ = Connection::open_in_memory();
    });
}

/// Gives SQLCipher the raw 256-bit key, and the salt when the file is new (for an existing file
/// SQLCipher reads the salt from the file). Must be the first statement on a connection.
pub fn apply_key(
    conn: &Connection,
    key: &Secret<Vec<u8>>,
    new_salt: Option<&[u8; SALT_LEN]>,
) -> Result<()> {
    // Keeps SQLCipher from printing HMAC failures to stderr when a key is wrong.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    let mut stmt = Zeroizing::new(String::with_capacity(160));
    stmt.push_str("PRAGMA key = \"x'");
    stmt.push_str(&hex::encode(key.expose()));
    if let Some(salt) = new_salt {
        stmt.push_str(&hex::encode(salt));
    }
    stmt.push_str("'\";");
    // PRAGMA key itself never fails; a wrong key shows on the first read. Its text is not
    // reported even if it did, so the key cannot reach an error message.
    conn.execute_batch(&stmt)
        .map_err(|_| Error::Storage("SQLCipher refused the key".into()))?;
    Ok(())
}

/// SQLCipher's version, or `NoCipher` when the library is plain SQLite (the PRAGMA is then
/// unknown and answers nothing), so that secrets are never stored in clear.
pub fn cipher_version(conn: &Connection) -> Result<String> {
    let version: Option<String> = conn
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .ok();
    version.filter(|v| !v.is_empty()).ok_or(Error::NoCipher)
}

/// Whether `key` authenticates page `pgno` (>= 2) of a vault whose bytes are `file`.
/// Used after page 1 failed to decrypt: if a later page verifies, the key is right and page 1
/// is damaged; if none does, the key is wrong.
pub fn key_authenticates_page(file: &[u8], pgno: usize, key: &[u8]) -> bool {
    if pgno < 2 || file.len() < pgno * PAGE_SIZE || file.len() < SALT_LEN {
        return false;
    }
    let mut hmac_salt = [0u8; SALT_LEN];
    for (out, b) in hmac_salt.iter_mut().zip(&file[..SALT_LEN]) {
        *out = b ^ HMAC_SALT_MASK;
    }
    let mut hmac_key = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<Sha512>(key, &hmac_salt, FAST_KDF_ITER, hmac_key.as_mut());

    let page = &file[(pgno - 1) * PAGE_SIZE..pgno * PAGE_SIZE];
    let signed = &page[..PAGE_SIZE - RESERVE + IV_LEN];
    let tag = &page[PAGE_SIZE - HMAC_LEN..];
    let Ok(mut mac) = Hmac::<Sha512>::new_from_slice(hmac_key.as_ref()) else {
        return false;
    };
    mac.update(signed);
    mac.update(&(pgno as u32).to_le_bytes());
    mac.verify_slice(tag).is_ok()
}

/// The database size in pages that page 1's SQLite header records, decrypted with `key`, or
/// `None` when the header does not vouch for it (SQLite's "version-valid-for" rule). Only
/// two AES blocks are decrypted; page 1 has already been authenticated by SQLCipher.
pub fn header_page_count(page1: &[u8], key: &[u8]) -> Option<u64> {
    use aes::cipher::{generic_array::GenericArray, BlockDecrypt, KeyInit};
    if page1.len() < PAGE_SIZE {
        return None;
    }
    let aes = aes::Aes256::new_from_slice(key).ok()?;
    let iv = &page1[PAGE_SIZE - RESERVE..PAGE_SIZE - RESERVE + IV_LEN];
    // CBC over the bytes after the salt: block i covers plaintext offsets 16 + 16 i.
    let block = |i: usize| -> [u8; 16] {
        let start = SALT_LEN + 16 * i;
        let mut b = GenericArray::clone_from_slice(&page1[start..start + 16]);
        aes.decrypt_block(&mut b);
        let prev = if i == 0 {
            iv
        } else {
            &page1[start - 16..start]
        };
        std::array::from_fn(|j| b[j] ^ prev[j])
    };
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let first = block(0); // header offsets 16..32: change counter at 24, size at 28
    let fifth = block(4); // header offsets 80..96: version-valid-for at 92
    let (change_counter, size, valid_for) =
        (be(&first[8..12]), be(&first[12..16]), be(&fifth[12..16]));
    (size > 0 && valid_for == change_counter).then_some(size as u64)
}
