//! The keys ID tokens are checked against: openidconnect's own JSON Web Key, except that RSA
//! signatures are verified by OpenSSL (already linked: SQLCipher encrypts with its libcrypto)
//! with the key parsed once per key set, instead of by the pure-Rust `rsa` crate on every
//! token. A bulk refresh checks a thousand ID tokens, and that check was a fifth of its time.
//! Every other decision (key use, key type, the key's algorithm, EC, EdDSA and HMAC
//! signatures) stays openidconnect's.

use base64::Engine;
use openidconnect::core::{
    CoreJsonWebKey, CoreJsonWebKeyType, CoreJsonWebKeyUse, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    JsonWebKey, JsonWebKeyAlgorithm, JsonWebKeyId, JsonWebKeyUse, JwsSigningAlgorithm,
    SignatureVerificationError,
};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Public};
use serde::{Deserialize, Serialize};

/// The largest RSA key, and the public exponents (2 to 2^33 - 1, in bits), the `rsa` crate
/// accepts: keys outside these limits go to openidconnect, which refuses them as before.
const MAX_RSA_BITS: i32 = 4096;
const RSA_EXPONENT_BITS: std::ops::RangeInclusive<i32> = 2..=33;

#[derive(Clone, Debug, Serialize)]
#[serde(transparent)]
pub struct Jwk {
    inner: CoreJsonWebKey,
    /// Shared by clones (OpenSSL counts its references).
    #[serde(skip)]
    rsa: Option<PKey<Public>>,
}

impl<'de> Deserialize<'de> for Jwk {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        let inner = CoreJsonWebKey::deserialize(&value).map_err(serde::de::Error::custom)?;
        let rsa = match inner.key_type() {
            CoreJsonWebKeyType::RSA => rsa_key(&value),
            _ => None,
        };
        Ok(Jwk { inner, rsa })
    }
}

/// The RSA public key of a JWK's `n` and `e`, when within the limits.
fn rsa_key(jwk: &serde_json::Value) -> Option<PKey<Public>> {
    let number = |name: &str| {
        let text = jwk.get(name)?.as_str()?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .ok()?;
        openssl::bn::BigNum::from_slice(&bytes).ok()
    };
    let (n, e) = (number("n")?, number("e")?);
    if n.num_bits() > MAX_RSA_BITS || !RSA_EXPONENT_BITS.contains(&e.num_bits()) {
        return None;
    }
    let rsa = openssl::rsa::Rsa::from_public_components(n, e).ok()?;
    PKey::from_rsa(rsa).ok()
}

/// The digest and whether PSS, for the RSA algorithms.
fn rsa_scheme(alg: &CoreJwsSigningAlgorithm) -> Option<(MessageDigest, bool)> {
    use CoreJwsSigningAlgorithm as A;
    Some(match alg {
        A::RsaSsaPkcs1V15Sha256 => (MessageDigest::sha256(), false),
        A::RsaSsaPkcs1V15Sha384 => (MessageDigest::sha384(), false),
        A::RsaSsaPkcs1V15Sha512 => (MessageDigest::sha512(), false),
        A::RsaSsaPssSha256 => (MessageDigest::sha256(), true),
        A::RsaSsaPssSha384 => (MessageDigest::sha384(), true),
        A::RsaSsaPssSha512 => (MessageDigest::sha512(), true),
        _ => return None,
    })
}

/// openidconnect's rule for whether a key may check a signature of `alg`.
/// The length of an HMAC signature of `alg`, for the HMAC algorithms.
fn hmac_len(alg: &CoreJwsSigningAlgorithm) -> Option<usize> {
    match alg {
        CoreJwsSigningAlgorithm::HmacSha256 => Some(32),
        CoreJwsSigningAlgorithm::HmacSha384 => Some(48),
        CoreJwsSigningAlgorithm::HmacSha512 => Some(64),
        _ => None,
    }
}

fn compatible(key: &Jwk, alg: &CoreJwsSigningAlgorithm) -> Result<(), &'static str> {
    if key.key_use().is_some_and(|u| !u.allows_signature()) {
        return Err("key usage not permitted for digital signatures");
    }
    if alg.key_type().as_ref() != Some(key.key_type()) {
        return Err("key type does not match signature algorithm");
    }
    match key.signing_alg() {
        JsonWebKeyAlgorithm::Unspecified => Ok(()),
        JsonWebKeyAlgorithm::Unsupported => Err("key algorithm is not a signing algorithm"),
        JsonWebKeyAlgorithm::Algorithm(a) if a == alg => Ok(()),
        JsonWebKeyAlgorithm::Algorithm(_) => Err("incompatible key algorithm"),
    }
}

fn verify_rsa(
    key: &PKey<Public>,
    digest: MessageDigest,
    pss: bool,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, openssl::error::ErrorStack> {
    let mut v = openssl::sign::Verifier::new(digest, key)?;
    if pss {
        // RFC 7518 §3.5: MGF1 with the same hash, a salt as long as the hash.
        v.set_rsa_padding(openssl::rsa::Padding::PKCS1_PSS)?;
        v.set_rsa_mgf1_md(digest)?;
        v.set_rsa_pss_saltlen(openssl::sign::RsaPssSaltlen::DIGEST_LENGTH)?;
    }
    v.verify_oneshot(signature, message)
}

impl JsonWebKey for Jwk {
    type KeyUse = CoreJsonWebKeyUse;
    type SigningAlgorithm = CoreJwsSigningAlgorithm;

    fn key_id(&self) -> Option<&JsonWebKeyId> {
        self.inner.key_id()
    }

    fn key_type(&self) -> &CoreJsonWebKeyType {
        self.inner.key_type()
    }

    fn key_use(&self) -> Option<&CoreJsonWebKeyUse> {
        self.inner.key_use()
    }

    fn signing_alg(&self) -> JsonWebKeyAlgorithm<&CoreJwsSigningAlgorithm> {
        self.inner.signing_alg()
    }

    fn new_symmetric(key: Vec<u8>) -> Self {
        Jwk {
            inner: CoreJsonWebKey::new_symmetric(key),
            rsa: None,
        }
    }

    fn verify_signature(
        &self,
        alg: &CoreJwsSigningAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureVerificationError> {
        // openidconnect 4.1 panics on an HMAC signature of the wrong length (it converts the
        // slice into a fixed-size array): refuse that here, as the bad signature it is.
        if hmac_len(alg).is_some_and(|len| signature.len() != len) {
            return Err(SignatureVerificationError::CryptoError(
                "bad signature".into(),
            ));
        }
        let (Some(key), Some((digest, pss))) = (&self.rsa, rsa_scheme(alg)) else {
            return self.inner.verify_signature(alg, message, signature);
        };
        compatible(self, alg).map_err(|e| SignatureVerificationError::InvalidKey(e.into()))?;
        match verify_rsa(key, digest, pss, message, signature) {
            Ok(true) => Ok(()),
            _ => Err(SignatureVerificationError::CryptoError(
                "bad signature".into(),
            )),
        }
    }

    fn hash_bytes(&self, bytes: &[u8], alg: &CoreJwsSigningAlgorithm) -> Result<Vec<u8>, String> {
        self.inner.hash_bytes(bytes, alg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::rsa::Rsa;
    use CoreJwsSigningAlgorithm as A;

    const RSA_ALGS: [A; 6] = [
        A::RsaSsaPkcs1V15Sha256,
        A::RsaSsaPkcs1V15Sha384,
        A::RsaSsaPkcs1V15Sha512,
        A::RsaSsaPssSha256,
        A::RsaSsaPssSha384,
        A::RsaSsaPssSha512,
    ];

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn sign(key: &PKey<openssl::pkey::Private>, alg: &A, message: &[u8]) -> Vec<u8> {
        let (digest, pss) = rsa_scheme(alg).unwrap();
        let mut s = openssl::sign::Signer::new(digest, key).unwrap();
        if pss {
            s.set_rsa_padding(openssl::rsa::Padding::PKCS1_PSS).unwrap();
            s.set_rsa_mgf1_md(digest).unwrap();
            s.set_rsa_pss_saltlen(openssl::sign::RsaPssSaltlen::DIGEST_LENGTH)
                .unwrap();
        }
        s.sign_oneshot_to_vec(message).unwrap()
    }

    /// The key as JSON, and as both our key and openidconnect's.
    fn jwk(rsa: &Rsa<openssl::pkey::Private>, extra: serde_json::Value) -> (Jwk, CoreJsonWebKey) {
        let mut v = serde_json::json!({
            "kty": "RSA",
            "kid": "k1",
            "n": b64(&rsa.n().to_vec()),
            "e": b64(&rsa.e().to_vec()),
        });
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        (
            serde_json::from_value(v.clone()).unwrap(),
            serde_json::from_value(v).unwrap(),
        )
    }

    #[test]
    fn rsa_signatures_are_judged_as_openidconnect_judges_them() {
        let rsa = Rsa::generate(2048).unwrap();
        let private = PKey::from_rsa(rsa.clone()).unwrap();
        let message = b"header.payload";
        let (ours, theirs) = jwk(&rsa, serde_json::json!({}));
        assert!(ours.rsa.is_some(), "the fast path is taken");
        for alg in &RSA_ALGS {
            let good = sign(&private, alg, message);
            let mut flipped = good.clone();
            flipped[10] ^= 1;
            let other = RSA_ALGS.iter().find(|a| *a != alg).unwrap();
            let cases: [(&[u8], &[u8], &A, bool); 5] = [
                (message, &good, alg, true),
                (message, &flipped, alg, false),
                (b"header.payloaD", &good, alg, false),
                (message, &good[..good.len() - 1], alg, false),
                (message, &good, other, false),
            ];
            for (i, (m, sig, a, valid)) in cases.into_iter().enumerate() {
                let ours = ours.verify_signature(a, m, sig);
                let theirs = theirs.verify_signature(a, m, sig);
                assert_eq!(ours.is_ok(), valid, "{alg:?} case {i}: {ours:?}");
                assert_eq!(ours.is_ok(), theirs.is_ok(), "{alg:?} case {i}: {theirs:?}");
            }
        }
    }

    #[test]
    fn a_key_for_encryption_or_another_algorithm_is_refused_as_openidconnect_refuses_it() {
        let rsa = Rsa::generate(2048).unwrap();
        let private = PKey::from_rsa(rsa.clone()).unwrap();
        let message = b"header.payload";
        let good = sign(&private, &A::RsaSsaPkcs1V15Sha256, message);
        for extra in [
            serde_json::json!({"use": "enc"}),
            serde_json::json!({"alg": "RS512"}),
            serde_json::json!({"alg": "A256GCM"}),
        ] {
            let (ours, theirs) = jwk(&rsa, extra.clone());
            let ours = ours.verify_signature(&A::RsaSsaPkcs1V15Sha256, message, &good);
            let theirs = theirs.verify_signature(&A::RsaSsaPkcs1V15Sha256, message, &good);
            assert!(ours.is_err(), "{extra}");
            assert_eq!(format!("{ours:?}"), format!("{theirs:?}"), "{extra}");
        }
        // A key whose alg says RS256 checks RS256.
        let (ours, _) = jwk(&rsa, serde_json::json!({"alg": "RS256", "use": "sig"}));
        assert!(ours
            .verify_signature(&A::RsaSsaPkcs1V15Sha256, message, &good)
            .is_ok());
    }

    #[test]
    fn keys_beyond_the_rsa_crates_limits_are_left_to_openidconnect() {
        let exponent = openssl::bn::BigNum::from_dec_str("17179869185").unwrap(); // 2^34 + 1
        let big = Rsa::generate_with_e(2048, &exponent).unwrap();
        let (ours, _) = jwk(&big, serde_json::json!({}));
        assert!(ours.rsa.is_none(), "an exponent above 2^33 - 1");
        let message = b"header.payload";
        let private = PKey::from_rsa(big).unwrap();
        let good = sign(&private, &A::RsaSsaPkcs1V15Sha256, message);
        assert!(
            ours.verify_signature(&A::RsaSsaPkcs1V15Sha256, message, &good)
                .is_err(),
            "refused, as before"
        );
        // Symmetric keys and other key types never take the RSA path.
        let hmac = Jwk::new_symmetric(b"secret".to_vec());
        assert!(hmac.rsa.is_none());
        assert!(hmac
            .verify_signature(&A::RsaSsaPkcs1V15Sha256, message, &good)
            .is_err());
    }

    #[test]
    fn an_hmac_signature_of_the_wrong_length_is_refused_not_a_panic() {
        // Found by the id_token fuzz target (tests/fuzz/regressions/id_token/hmac-short-sig).
        let key = Jwk::new_symmetric(b"fuzz-client-secret".to_vec());
        for (alg, len) in [
            (A::HmacSha256, 32),
            (A::HmacSha384, 48),
            (A::HmacSha512, 64),
        ] {
            for wrong in [0, 3, len - 1, len + 1] {
                let outcome = std::panic::catch_unwind(|| {
                    key.verify_signature(&alg, b"header.payload", &vec![0u8; wrong])
                });
                assert!(
                    matches!(outcome, Ok(Err(_))),
                    "{alg:?} with a {wrong}-byte signature is refused as bad, without a panic"
                );
            }
            assert!(
                key.verify_signature(&alg, b"header.payload", &vec![0u8; len])
                    .is_err(),
                "a signature of the right length that is wrong is still refused"
            );
        }
    }

    #[test]
    fn hostile_key_sizes_are_refused_without_a_panic() {
        let message = b"header.payload";
        let signature = vec![1u8; 8192];
        // (modulus bytes, exponent bytes): moduli of 65536, 32768 and 4104 bits, exponents of
        // 8192 and 41 bits, and empty numbers. Each is refused before any arithmetic.
        for (n, e) in [
            (8192, 3),
            (4096, 3),
            (513, 3),
            (256, 1024),
            (256, 6),
            (0, 0),
        ] {
            let v = serde_json::json!({
                "kty": "RSA", "kid": "k1", "n": b64(&vec![0xff; n]), "e": b64(&vec![0x01; e]),
            });
            let Ok(key) = serde_json::from_value::<Jwk>(v) else {
                continue; // refused as a key at all
            };
            assert!(key.rsa.is_none(), "{n} / {e} bytes: outside the limits");
            for alg in &RSA_ALGS {
                assert!(
                    key.verify_signature(alg, message, &signature).is_err(),
                    "{n} / {e} bytes"
                );
            }
        }
    }
}
