//! The passphrase KDF: Argon2id over the passphrase and the vault file's salt, giving the raw
//! 256-bit key SQLCipher is opened with. The parameters are fixed: changing them would lock out
//! every existing passphrase vault, and a fixture test holds them in place.

use argon2::{Algorithm, Argon2, Params, Version};

use crate::secret::Secret;

/// 64 MiB, 3 passes, 1 lane: ~0.3 s on a 2-core machine, the cost of each guess an attacker makes.
const MEMORY_KIB: u32 = 64 * 1024;
const PASSES: u32 = 3;
const LANES: u32 = 1;

pub fn derive_key(passphrase: &Secret<String>, salt: &[u8; 16]) -> Secret<Vec<u8>> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, Some(32))
        .expect("constant Argon2 parameters are valid");
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut key = vec![0u8; 32];
    argon
        .hash_password_into(passphrase.expose().as_bytes(), salt, &mut key)
        .expect("a 16-byte salt and 32-byte output are within Argon2's limits");
    Secret::new(key)
}
