//! A key the client signs with: its client assertions (private_key_jwt, RFC 7523) and its
//! DPoP proofs (RFC 9449). Generated here or imported (PEM, PKCS#8 DER, or a JWK), kept in the
//! vault as a private JWK, and shown only as its public half and thumbprint. josekit (over the
//! OpenSSL already in the build) does the key formats and the signatures.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
use josekit::jwk::alg::ed::{EdCurve, EdKeyPair};
use josekit::jwk::alg::rsa::RsaKeyPair;
use josekit::jwk::{Jwk, KeyPair};
use josekit::jws::{JwsHeader, JwsSigner};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The most a key to import may weigh: a 4096-bit RSA key in PEM is about 3.3 KiB.
pub const MAX_IMPORT_BYTES: usize = 64 * 1024;

/// RSA keys this app generates; RFC 7518 §3.3 asks for 2048 bits at least, and imports are
/// held to that.
const RSA_BITS: u32 = 2048;

/// The largest RSA key imported: every token request is signed with it, and an 8192-bit
/// signature already takes a visible moment.
const MAX_RSA_BITS: usize = 8192;

/// The algorithms a client key signs with (RFC 7518 §3.1, RFC 8037).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, Default,
)]
pub enum Alg {
    /// ECDSA with P-256 and SHA-256.
    #[default]
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// Ed25519.
    EdDSA,
}

crate::wire_names!(Alg);

impl Alg {
    pub const ALL: [Alg; 4] = [Alg::ES256, Alg::RS256, Alg::PS256, Alg::EdDSA];

    /// The key type this algorithm needs, as a person would name it.
    fn key_kind(self) -> &'static str {
        match self {
            Alg::ES256 => "an EC P-256 key",
            Alg::RS256 | Alg::PS256 => "an RSA key of 2048 bits or more",
            Alg::EdDSA => "an Ed25519 key",
        }
    }

    fn signer(self, jwk: &Jwk) -> std::result::Result<Box<dyn JwsSigner>, josekit::JoseError> {
        Ok(match self {
            Alg::ES256 => Box::new(josekit::jws::ES256.signer_from_jwk(jwk)?),
            Alg::RS256 => Box::new(josekit::jws::RS256.signer_from_jwk(jwk)?),
            Alg::PS256 => Box::new(josekit::jws::PS256.signer_from_jwk(jwk)?),
            Alg::EdDSA => Box::new(josekit::jws::EdDSA.signer_from_jwk(jwk)?),
        })
    }
}

/// What a person asks for: a new key, or one of their own (with the algorithm it should sign
/// with, when the key alone does not say), given as text (standard input) or as a file the
/// app reads (the window, whose page never holds a private key).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct KeyInput {
    pub generate: Option<Alg>,
    /// A private key: PEM (PKCS#8, or a traditional RSA or EC key) or a JWK.
    pub import: Option<Secret<String>>,
    /// A file holding such a key, or one in DER (PKCS#8, or a traditional RSA or EC key).
    pub file: Option<std::path::PathBuf>,
    /// A key in DER, read from standard input by the CLI (never from JSON).
    #[serde(skip)]
    pub der: Option<Secret<Vec<u8>>>,
    pub alg: Option<Alg>,
}

impl KeyInput {
    /// The key asked for: generated, or read and imported.
    pub fn make(&self, accepted: &[String]) -> Result<SigningKey> {
        match (&self.generate, &self.import, &self.file, &self.der) {
            (Some(alg), None, None, None) => SigningKey::generate(*alg),
            (None, Some(text), None, None) => SigningKey::import(text.expose(), self.alg, accepted),
            (None, None, Some(path), None) => {
                let bytes =
                    crate::local_file::read_bounded(path, MAX_IMPORT_BYTES, "the key file")?;
                // A Google service-account key file holds its key as PEM (RS256).
                match super::service_account::private_key_of(bytes.expose()) {
                    Some(pem) => {
                        SigningKey::import(pem.expose(), self.alg.or(Some(Alg::RS256)), accepted)
                    }
                    None => SigningKey::import_bytes(bytes.expose(), self.alg, accepted),
                }
            }
            (None, None, None, Some(der)) => {
                SigningKey::import_bytes(der.expose(), self.alg, accepted)
            }
            _ => Err(Error::InvalidInput(
                "give one of: a key to generate, a key, or a key file".into(),
            )),
        }
    }
}

/// A private signing key and the algorithm it signs with. Debug shows the thumbprint only.
#[derive(Clone, PartialEq)]
pub struct SigningKey {
    alg: Alg,
    /// The private JWK (without `alg`, `kid` or `use`, which are derived).
    jwk: Secret<String>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({} {})", self.alg.as_str(), self.thumbprint())
    }
}

/// What every face may show of a key: nothing private.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PublicKey {
    pub alg: Alg,
    /// The RFC 7638 SHA-256 thumbprint, which is also the key id (`kid`).
    pub thumbprint: String,
    /// The public JWK, to paste into the provider's console.
    #[schemars(with = "Map<String, Value>")]
    pub jwk: Value,
}

impl SigningKey {
    /// A new key for `alg`.
    pub fn generate(alg: Alg) -> Result<SigningKey> {
        let pair: Box<dyn KeyPair> = match alg {
            Alg::ES256 => Box::new(EcKeyPair::generate(EcCurve::P256).map_err(crypto)?),
            Alg::RS256 | Alg::PS256 => Box::new(RsaKeyPair::generate(RSA_BITS).map_err(crypto)?),
            Alg::EdDSA => Box::new(EdKeyPair::generate(EdCurve::Ed25519).map_err(crypto)?),
        };
        SigningKey::from_private_jwk(pair.to_jwk_key_pair(), Some(alg))
    }

    /// Reads a private key a person gave, in any of the usual formats. `alg` is the algorithm
    /// asked for; without one it comes from the key (a JWK's `alg`, else its type: RSA keys
    /// sign with the first of `RS256`/`PS256` that `accepted` lists, RS256 when it is empty).
    pub fn import(text: &str, alg: Option<Alg>, accepted: &[String]) -> Result<SigningKey> {
        if text.len() > MAX_IMPORT_BYTES {
            return Err(bad_key(format!(
                "is {} bytes; a private key is at most {MAX_IMPORT_BYTES}",
                text.len()
            )));
        }
        let text = text.trim();
        let jwk = if text.starts_with('{') {
            let jwk = Jwk::from_bytes(text.as_bytes())
                .map_err(|_| bad_key("is not a JSON Web Key (RFC 7517)".into()))?;
            if jwk.parameter("d").is_none() {
                return Err(bad_key(
                    "is a public JWK; the private key (with its \"d\") is needed to sign".into(),
                ));
            }
            rebuilt(&jwk)?
        } else if text.contains("-----BEGIN") {
            if text.contains("ENCRYPTED") {
                return Err(bad_key(
                    "is encrypted; decrypt it first (openssl pkey -in KEY.pem)".into(),
                ));
            }
            let pkey = openssl::pkey::PKey::private_key_from_pem(text.as_bytes())
                .map_err(|_| bad_key("is not a private key in PEM (PKCS#8, RSA or EC)".into()))?;
            private_jwk(&pkey)?
        } else {
            return Err(bad_key(
                "is neither PEM (-----BEGIN PRIVATE KEY-----) nor a JWK ({\"kty\": ...})".into(),
            ));
        };
        let alg = alg
            .or_else(|| jwk.algorithm().and_then(Alg::parse))
            .unwrap_or_else(|| default_alg(jwk.key_type(), accepted));
        SigningKey::from_private_jwk(jwk, Some(alg))
    }

    /// Reads a private key given as bytes: text (PEM, JWK) as `import` reads it, anything
    /// else as DER (PKCS#8, or a traditional RSA or EC key).
    pub fn import_bytes(bytes: &[u8], alg: Option<Alg>, accepted: &[String]) -> Result<SigningKey> {
        if let Ok(text) = std::str::from_utf8(bytes) {
            return SigningKey::import(text, alg, accepted);
        }
        if bytes.len() > MAX_IMPORT_BYTES {
            return Err(bad_key(format!(
                "is {} bytes; a private key is at most {MAX_IMPORT_BYTES}",
                bytes.len()
            )));
        }
        let pkey = openssl::pkey::PKey::private_key_from_der(bytes).map_err(|_| {
            bad_key("is neither PEM, a JWK, nor a private key in DER (PKCS#8, RSA or EC)".into())
        })?;
        let jwk = private_jwk(&pkey)?;
        let alg = alg.unwrap_or_else(|| default_alg(jwk.key_type(), accepted));
        SigningKey::from_private_jwk(jwk, Some(alg))
    }

    /// The key as the vault keeps it; None when the stored text is no JWK (a damaged or
    /// hand-edited vault), which is then said rather than panicked on later.
    /// (Parsing is the check: a key that parses but will not sign fails where it signs, with
    /// an error, and reading a provider, on every `token get`, builds no signer.)
    pub(crate) fn from_stored(alg: Alg, jwk: Secret<String>) -> Option<SigningKey> {
        Jwk::from_bytes(jwk.expose().as_bytes()).ok()?;
        Some(SigningKey { alg, jwk })
    }

    pub(crate) fn stored_jwk(&self) -> &Secret<String> {
        &self.jwk
    }

    fn from_private_jwk(mut jwk: Jwk, alg: Option<Alg>) -> Result<SigningKey> {
        for derived in ["alg", "kid", "use", "key_ops", "x5c", "x5t", "x5t#S256"] {
            jwk.set_parameter(derived, None).map_err(crypto)?;
        }
        let alg = alg.unwrap_or_else(|| default_alg(jwk.key_type(), &[]));
        if rsa_bits(&jwk) > MAX_RSA_BITS {
            return Err(bad_key(format!(
                "is {}; OAuth Desk takes RSA keys of at most {MAX_RSA_BITS} bits (each request is signed with it)",
                describe(&jwk)
            )));
        }
        // The signer refuses a key of the wrong type or size, which is the check we want.
        alg.signer(&jwk).map_err(|_| {
            bad_key(format!(
                "is {}, but {} needs {}",
                describe(&jwk),
                alg.as_str(),
                alg.key_kind()
            ))
        })?;
        Ok(SigningKey {
            alg,
            jwk: Secret::new(jwk.to_string()),
        })
    }

    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The key as OpenSSL holds it, for TLS and for certificates.
    pub(crate) fn openssl(&self) -> Result<openssl::pkey::PKey<openssl::pkey::Private>> {
        let der = private_der(&self.private()).map_err(crypto)?;
        openssl::pkey::PKey::private_key_from_der(der.expose()).map_err(crypto)
    }

    fn private(&self) -> Jwk {
        Jwk::from_bytes(self.jwk.expose().as_bytes()).expect("a stored key is a JWK")
    }

    /// The public members only (RFC 7638 §3.2 lists them per key type).
    fn public_members(&self) -> BTreeMap<String, Value> {
        let private = self.private();
        let members: &[&str] = match private.key_type() {
            "EC" => &["crv", "kty", "x", "y"],
            "RSA" => &["e", "kty", "n"],
            _ => &["crv", "kty", "x"],
        };
        members
            .iter()
            .filter_map(|m| Some((m.to_string(), private.parameter(m)?.clone())))
            .collect()
    }

    /// RFC 7638: the SHA-256 of the public members in lexicographic order, without spaces.
    pub fn thumbprint(&self) -> String {
        let canonical = serde_json::to_string(&self.public_members()).expect("JSON");
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// The public JWK with its `kid` (the thumbprint), `alg` and `use`.
    pub fn public_jwk(&self) -> Value {
        let mut jwk: Map<String, Value> = self.public_members().into_iter().collect();
        jwk.insert("kid".into(), self.thumbprint().into());
        jwk.insert("alg".into(), self.alg.as_str().into());
        jwk.insert("use".into(), "sig".into());
        Value::Object(jwk)
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            alg: self.alg,
            thumbprint: self.thumbprint(),
            jwk: self.public_jwk(),
        }
    }

    /// A compact JWS of `claims` with header `typ` and either the `kid` (an assertion, whose
    /// key the provider has) or the public `jwk` itself (a DPoP proof, RFC 9449 §4.2).
    pub fn sign(&self, typ: &str, embed_jwk: bool, claims: &Value) -> Result<Secret<String>> {
        let mut header = JwsHeader::new();
        header.set_token_type(typ);
        if embed_jwk {
            let public = Jwk::from_map(match self.public_jwk() {
                Value::Object(mut m) => {
                    m.remove("kid");
                    m.remove("use");
                    m
                }
                _ => unreachable!("a JWK is an object"),
            })
            .map_err(crypto)?;
            header.set_jwk(public);
        } else {
            header.set_key_id(self.thumbprint());
        }
        let signer = self.alg.signer(&self.private()).map_err(crypto)?;
        let payload = serde_json::to_vec(claims).expect("claims serialize");
        let jws = josekit::jws::serialize_compact(&payload, &header, &*signer).map_err(crypto)?;
        Ok(Secret::new(jws))
    }
}

/// RSA keys sign RS256 unless the provider takes only PS256; the others have one algorithm.
fn default_alg(kty: &str, accepted: &[String]) -> Alg {
    match kty {
        "RSA" => {
            let takes = |a: Alg| accepted.iter().any(|x| x == a.as_str());
            if !accepted.is_empty() && !takes(Alg::RS256) && takes(Alg::PS256) {
                Alg::PS256
            } else {
                Alg::RS256
            }
        }
        "OKP" => Alg::EdDSA,
        _ => Alg::ES256,
    }
}

/// A JWK's key, rebuilt from its private part: the public members a JWK states are not to be
/// trusted (josekit reads an Ed25519 key's `d` alone, and an EC key's point is optional), so
/// they are derived again and must agree with what the JWK said.
fn rebuilt(jwk: &Jwk) -> Result<Jwk> {
    let unsupported = || {
        bad_key(format!(
            "is {}; OAuth Desk signs with EC P-256 (ES256), RSA (RS256, PS256) or Ed25519 (EdDSA) keys",
            describe(jwk)
        ))
    };
    if !matches!(
        (jwk.key_type(), jwk.curve()),
        ("EC", Some("P-256")) | ("RSA", _) | ("OKP", Some("Ed25519"))
    ) {
        return Err(unsupported());
    }
    let unmade = || {
        bad_key(format!(
            "is {} whose members do not make a key",
            describe(jwk)
        ))
    };
    let der = private_der(jwk).map_err(|_| unmade())?;
    let pkey = openssl::pkey::PKey::private_key_from_der(der.expose()).map_err(|_| unmade())?;
    let made = private_jwk(&pkey)?;
    for member in ["x", "y", "n", "e"] {
        if let Some(stated) = jwk.parameter(member) {
            if made.parameter(member) != Some(stated) {
                return Err(bad_key(format!(
                    "states a public \"{member}\" that does not belong to its private key"
                )));
            }
        }
    }
    Ok(made)
}

/// A private JWK as PKCS#8 DER.
fn private_der(jwk: &Jwk) -> std::result::Result<Secret<Vec<u8>>, josekit::JoseError> {
    let der = match jwk.key_type() {
        "EC" => EcKeyPair::from_jwk(jwk)?.to_der_private_key(),
        "RSA" => RsaKeyPair::from_jwk(jwk)?.to_der_private_key(),
        _ => EdKeyPair::from_jwk(jwk)?.to_der_private_key(),
    };
    Ok(Secret::new(der))
}

/// The private JWK of an OpenSSL key: EC P-256, RSA or Ed25519.
fn private_jwk(pkey: &openssl::pkey::PKey<openssl::pkey::Private>) -> Result<Jwk> {
    use openssl::pkey::Id;
    let der = pkey.private_key_to_pkcs8().map_err(crypto)?;
    let unsupported = |what: &str| {
        bad_key(format!(
            "is {what}; OAuth Desk signs with EC P-256 (ES256), RSA (RS256, PS256) or Ed25519 (EdDSA) keys"
        ))
    };
    Ok(match pkey.id() {
        Id::EC => EcKeyPair::from_der(&der, Some(EcCurve::P256))
            .map_err(|_| unsupported("an EC key on a curve other than P-256"))?
            .to_jwk_key_pair(),
        Id::RSA => RsaKeyPair::from_der(&der)
            .map_err(crypto)?
            .to_jwk_key_pair(),
        Id::ED25519 => EdKeyPair::from_der(&der).map_err(crypto)?.to_jwk_key_pair(),
        _ => return Err(unsupported("a key of another type")),
    })
}

/// An RSA key's modulus size in bits (0 for other keys).
fn rsa_bits(jwk: &Jwk) -> usize {
    if jwk.key_type() != "RSA" {
        return 0;
    }
    jwk.parameter("n")
        .and_then(Value::as_str)
        .and_then(|n| URL_SAFE_NO_PAD.decode(n).ok())
        .map_or(0, |n| n.len() * 8)
}

fn describe(jwk: &Jwk) -> String {
    match (jwk.key_type(), jwk.curve()) {
        ("RSA", _) => format!("a {}-bit RSA key", rsa_bits(jwk)),
        ("EC", Some(crv)) => format!("an EC {} key", crate::text::shown(crv)),
        ("OKP", Some(crv)) => format!("an {} key", crate::text::shown(crv)),
        (kty, _) => format!("a key of type {}", crate::text::shown(kty)),
    }
}

fn bad_key(what: String) -> Error {
    Error::InvalidInput(format!("the key {what}"))
}

fn crypto(e: impl std::fmt::Display) -> Error {
    Error::InvalidInput(format!("the key could not be used: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verify(key: &SigningKey, jws: &str) -> Value {
        let public = Jwk::from_bytes(key.public_jwk().to_string()).unwrap();
        let verifier: Box<dyn josekit::jws::JwsVerifier> = match key.alg() {
            Alg::ES256 => Box::new(josekit::jws::ES256.verifier_from_jwk(&public).unwrap()),
            Alg::RS256 => Box::new(josekit::jws::RS256.verifier_from_jwk(&public).unwrap()),
            Alg::PS256 => Box::new(josekit::jws::PS256.verifier_from_jwk(&public).unwrap()),
            Alg::EdDSA => Box::new(josekit::jws::EdDSA.verifier_from_jwk(&public).unwrap()),
        };
        let (payload, header) = josekit::jws::deserialize_compact(jws, &*verifier)
            .expect("the signature verifies with the public JWK");
        assert_eq!(header.algorithm(), Some(key.alg().as_str()));
        serde_json::from_slice(&payload).unwrap()
    }

    #[test]
    fn every_algorithm_generates_a_key_that_signs_and_verifies_with_its_public_half() {
        for alg in Alg::ALL {
            let key = SigningKey::generate(alg).unwrap();
            let jws = key
                .sign("JWT", false, &serde_json::json!({"a": 1}))
                .unwrap();
            assert_eq!(verify(&key, jws.expose())["a"], 1, "{alg:?}");
            let public = key.public_jwk().to_string();
            assert!(!public.contains("\"d\""), "no private member: {public}");
            assert_eq!(key.public().thumbprint, key.public_jwk()["kid"]);
        }
    }

    #[test]
    fn the_thumbprint_is_rfc_7638s() {
        // RFC 7638 §3.1's example key and thumbprint.
        let key = SigningKey {
            alg: Alg::RS256,
            jwk: Secret::new(
                serde_json::json!({
                    "kty": "RSA",
                    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
                    "e": "AQAB",
                    "d": "AQAB"
                })
                .to_string(),
            ),
        };
        assert_eq!(
            key.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn pem_and_jwk_imports_keep_the_key_and_take_its_algorithm() {
        let ec = openssl::ec::EcKey::generate(
            &openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap(),
        )
        .unwrap();
        let pkey = openssl::pkey::PKey::from_ec_key(ec).unwrap();
        let pem = String::from_utf8(pkey.private_key_to_pem_pkcs8().unwrap()).unwrap();
        let key = SigningKey::import(&pem, None, &[]).unwrap();
        assert_eq!(key.alg(), Alg::ES256);
        let again = SigningKey::import(key.jwk.expose(), None, &[]).unwrap();
        assert_eq!(
            again.thumbprint(),
            key.thumbprint(),
            "JWK import is the same key"
        );

        let rsa = SigningKey::generate(Alg::RS256).unwrap();
        let only_ps = ["PS256".to_owned(), "ES256".to_owned()];
        assert_eq!(
            SigningKey::import(rsa.jwk.expose(), None, &only_ps)
                .unwrap()
                .alg(),
            Alg::PS256,
            "an RSA key signs PS256 for a provider that takes only that"
        );
    }

    #[test]
    fn a_wrong_key_type_a_public_key_and_garbage_are_refused_with_what_is_wrong() {
        let rsa = SigningKey::generate(Alg::RS256).unwrap();
        let err = SigningKey::import(rsa.jwk.expose(), Some(Alg::ES256), &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("2048-bit RSA key") && err.contains("ES256 needs an EC P-256 key"),
            "{err}"
        );
        let public = rsa.public_jwk().to_string();
        let err = SigningKey::import(&public, None, &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("public JWK"), "{err}");
        for garbage in [
            "",
            "hello",
            "{\"kty\":",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        ] {
            let err = SigningKey::import(garbage, None, &[])
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("the key "), "{garbage:?}: {err}");
        }
        // A JWK's public members must be its private key's: another key's point is refused,
        // and a JWK without one gets its own.
        let ec = SigningKey::generate(Alg::ES256).unwrap();
        let other = SigningKey::generate(Alg::ES256).unwrap();
        let mut mixed: serde_json::Map<String, Value> =
            serde_json::from_str(ec.jwk.expose()).unwrap();
        mixed.insert("x".into(), other.public_jwk()["x"].clone());
        let err = SigningKey::import(&Value::Object(mixed.clone()).to_string(), None, &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("does not belong") || err.contains("do not make a key"),
            "{err}"
        );
        mixed.remove("x");
        mixed.remove("y");
        let bare = SigningKey::import(&Value::Object(mixed).to_string(), None, &[]).unwrap();
        assert_eq!(bare.thumbprint(), ec.thumbprint());
        let ed448 = r#"{"kty":"OKP","crv":"Ed448","d":"AQAB","x":"AQAB"}"#;
        let err = SigningKey::import(ed448, None, &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("Ed25519 (EdDSA)"), "{err}");
        // DER: PKCS#8 as a key file holds it; other binary is refused.
        let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
        let der = openssl::pkey::PKey::from_rsa(rsa)
            .unwrap()
            .private_key_to_pkcs8()
            .unwrap();
        let key = SigningKey::import_bytes(&der, Some(Alg::PS256), &[]).unwrap();
        assert_eq!(key.alg(), Alg::PS256);
        let err = SigningKey::import_bytes(&[0x30, 0x82, 0xff], None, &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("nor a private key in DER"), "{err}");
        let huge = "A".repeat(MAX_IMPORT_BYTES + 1);
        assert!(SigningKey::import(&huge, None, &[]).is_err());
    }

    #[test]
    fn debug_shows_no_private_member() {
        let key = SigningKey::generate(Alg::ES256).unwrap();
        let shown = format!("{key:?}");
        let d = key
            .private()
            .parameter("d")
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned();
        assert!(!shown.contains(&d), "{shown}");
    }
}
