//! The client's certificate for mutual-TLS client authentication (RFC 8705): imported with its
//! chain (PEM, or PKCS#12 with its key) for `tls_client_auth`, or made here, self-signed, for
//! `self_signed_tls_client_auth`. Its private key is the client key (`signing_key`), kept in
//! the vault; the certificate is public and shown by its subject, expiry and thumbprint.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKey, Private};
use openssl::x509::{X509NameBuilder, X509};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::signing_key::{SigningKey, MAX_IMPORT_BYTES};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The most certificates a chain may hold: a leaf and a few intermediates.
pub const MAX_CHAIN: usize = 8;

/// How long a self-signed certificate made here is good for.
const SELF_SIGNED_DAYS: u32 = 365;

/// What a person gives: a file (a PEM chain, maybe with its key, or PKCS#12 with both) and
/// the PKCS#12 file's password. A file only: a key inside it never passes through a page or a
/// request.
#[derive(Debug, Clone, Default, serde::Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CertInput {
    pub file: Option<std::path::PathBuf>,
    pub password: Option<Secret<String>>,
}

impl CertInput {
    /// The chain, and the private key when the file holds one.
    pub fn read(&self) -> Result<(ClientCert, Option<Secret<String>>)> {
        let path = self
            .file
            .as_deref()
            .ok_or_else(|| bad("file was not named".into()))?;
        let bytes =
            crate::local_file::read_bounded(path, MAX_IMPORT_BYTES, "the certificate file")?;
        let bytes = bytes.expose();
        let Ok(text) = std::str::from_utf8(bytes) else {
            let password = self.password.as_ref().map_or("", |p| p.expose().as_str());
            let (cert, key) = ClientCert::from_pkcs12(bytes, password)?;
            return Ok((cert, Some(key)));
        };
        let cert = ClientCert::from_pem(text)?;
        let key = text
            .contains("PRIVATE KEY-----")
            .then(|| Secret::new(text.to_owned()));
        Ok((cert, key))
    }
}

/// A certificate chain, leaf first, as PEM.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientCert {
    pem: String,
}

/// What the faces show of a certificate.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct CertView {
    pub subject: String,
    /// When it expires (RFC 3339).
    pub not_after: String,
    /// base64url SHA-256 of the leaf's DER (RFC 8705 §3.1 `x5t#S256`): what bound tokens name.
    pub thumbprint: String,
    /// Made here, self-signed.
    pub self_signed: bool,
}

impl ClientCert {
    /// A chain read from PEM text (`CERTIFICATE` blocks; other blocks, such as a key, are left
    /// to the caller).
    pub fn from_pem(text: &str) -> Result<ClientCert> {
        if text.len() > MAX_IMPORT_BYTES {
            return Err(bad("is larger than a certificate chain can be".into()));
        }
        let not_pem = || bad("is not a certificate in PEM (-----BEGIN CERTIFICATE-----)".into());
        let chain = X509::stack_from_pem(text.as_bytes()).map_err(|_| not_pem())?;
        if chain.is_empty() {
            return Err(not_pem());
        }
        ClientCert::from_chain(&chain)
    }

    fn from_chain(chain: &[X509]) -> Result<ClientCert> {
        if chain.is_empty() {
            return Err(bad("holds no certificate".into()));
        }
        if chain.len() > MAX_CHAIN {
            return Err(bad(format!(
                "holds {} certificates; at most {MAX_CHAIN} are taken",
                chain.len()
            )));
        }
        let mut pem = String::new();
        for c in chain {
            let block = c
                .to_pem()
                .map_err(|e| bad(format!("cannot be written back: {e}")))?;
            pem.push_str(&String::from_utf8_lossy(&block));
        }
        Ok(ClientCert { pem })
    }

    /// Reads a PKCS#12 file's certificate chain and key (`password` unlocks it; often empty).
    pub fn from_pkcs12(der: &[u8], password: &str) -> Result<(ClientCert, Secret<String>)> {
        if der.len() > MAX_IMPORT_BYTES {
            return Err(bad(
                "is larger than a PKCS#12 file with one key can be".into()
            ));
        }
        let parsed = openssl::pkcs12::Pkcs12::from_der(der)
            .and_then(|p| p.parse2(password))
            .map_err(|_| bad("is not a PKCS#12 file this password opens".into()))?;
        let leaf = parsed
            .cert
            .ok_or_else(|| bad("holds no certificate".into()))?;
        let key = parsed
            .pkey
            .ok_or_else(|| bad("holds no private key".into()))?;
        let mut chain = vec![leaf];
        chain.extend(parsed.ca.into_iter().flatten());
        let key_pem = key
            .private_key_to_pem_pkcs8()
            .map_err(|e| bad(format!("has a key that cannot be read: {e}")))?;
        Ok((
            ClientCert::from_chain(&chain)?,
            Secret::new(String::from_utf8_lossy(&key_pem).into_owned()),
        ))
    }

    /// A self-signed certificate for `key`, named after the client (`client_id`), good for a
    /// year from `now` (RFC 8705 §2.2: the provider holds it, or its key, as registered).
    pub fn self_signed(key: &SigningKey, client_id: &str, now: i64) -> Result<ClientCert> {
        let pkey = key.openssl()?;
        let mut name = X509NameBuilder::new().map_err(crypto)?;
        // X.520 bounds a common name to 64 characters; counted in bytes here, for OpenSSL.
        let mut cn = String::new();
        for c in client_id.chars() {
            if cn.len() + c.len_utf8() > 64 {
                break;
            }
            cn.push(c);
        }
        name.append_entry_by_text("CN", if cn.is_empty() { "oauth-desk" } else { &cn })
            .map_err(crypto)?;
        let name = name.build();
        let mut b = X509::builder().map_err(crypto)?;
        b.set_version(2).map_err(crypto)?;
        let mut serial = BigNum::new().map_err(crypto)?;
        serial
            .rand(127, MsbOption::MAYBE_ZERO, false)
            .map_err(crypto)?;
        let serial = serial.to_asn1_integer().map_err(crypto)?;
        b.set_serial_number(&serial).map_err(crypto)?;
        b.set_subject_name(&name).map_err(crypto)?;
        b.set_issuer_name(&name).map_err(crypto)?;
        b.set_pubkey(&pkey).map_err(crypto)?;
        // A minute back, for a provider whose clock is a little behind.
        let not_before = Asn1Time::from_unix(now - 60).map_err(crypto)?;
        let not_after =
            Asn1Time::from_unix(now + i64::from(SELF_SIGNED_DAYS) * 86_400).map_err(crypto)?;
        b.set_not_before(&not_before).map_err(crypto)?;
        b.set_not_after(&not_after).map_err(crypto)?;
        b.sign(&pkey, digest_for(&pkey)).map_err(crypto)?;
        ClientCert::from_chain(&[b.build()])
    }

    fn chain(&self) -> Vec<X509> {
        X509::stack_from_pem(self.pem.as_bytes()).expect("a stored chain was checked")
    }

    fn leaf(&self) -> X509 {
        self.chain().swap_remove(0)
    }

    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// Checks that the leaf belongs to `key` and is good at `now`: a certificate of another
    /// key, or one expired or not yet valid, would only fail every request later.
    pub fn check(&self, key: &SigningKey, now: i64) -> Result<()> {
        self.matches(key)?;
        self.valid_at(now)
    }

    /// The chain with the certificate of `key` first (a bundle may list its CA first).
    pub fn ordered_for(&self, key: &SigningKey) -> Result<ClientCert> {
        let ours = key.openssl()?.public_key_to_der().map_err(crypto)?;
        let mut chain = self.chain();
        let at = chain.iter().position(|c| {
            c.public_key()
                .and_then(|k| k.public_key_to_der())
                .is_ok_and(|d| d == ours)
        });
        let Some(i) = at else {
            return Err(not_its_key());
        };
        let leaf = chain.remove(i);
        chain.insert(0, leaf);
        ClientCert::from_chain(&chain)
    }

    /// Whether the leaf is the certificate of `key`.
    pub fn matches(&self, key: &SigningKey) -> Result<()> {
        let ours = key.openssl()?.public_key_to_der().map_err(crypto)?;
        let its = self
            .leaf()
            .public_key()
            .and_then(|k| k.public_key_to_der())
            .map_err(crypto)?;
        if ours != its {
            return Err(not_its_key());
        }
        Ok(())
    }

    /// Whether the leaf is good at `now`.
    pub fn valid_at(&self, now: i64) -> Result<()> {
        let leaf = self.leaf();
        let at = Asn1Time::from_unix(now).map_err(crypto)?;
        if leaf.not_after() < at {
            return Err(bad(format!("expired on {}", leaf.not_after())));
        }
        if leaf.not_before() > at {
            return Err(bad(format!("is not valid before {}", leaf.not_before())));
        }
        Ok(())
    }

    /// RFC 8705 §3.1: base64url of the SHA-256 of the leaf's DER.
    pub fn thumbprint(&self) -> String {
        thumbprint_of(&self.leaf())
    }

    pub fn view(&self) -> CertView {
        let leaf = self.leaf();
        let subject = leaf
            .subject_name()
            .entries()
            .filter_map(|e| {
                let field = e.object().nid().short_name().ok()?;
                let value = e.data().to_string().ok()?;
                Some(format!("{field}={value}"))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let self_signed = leaf.issued(&leaf) == openssl::x509::X509VerifyResult::OK;
        CertView {
            subject: crate::text::visible(&subject),
            not_after: crate::time::to_rfc3339(asn1_unix(leaf.not_after())),
            thumbprint: thumbprint_of(&leaf),
            self_signed,
        }
    }

    /// The chain's DER certificates as base64 (a JWK's `x5c`).
    pub fn x5c(&self) -> Vec<String> {
        self.chain()
            .iter()
            .filter_map(|c| c.to_der().ok())
            .map(|d| base64::engine::general_purpose::STANDARD.encode(d))
            .collect()
    }

    /// The key and the chain as one PEM, as the TLS client takes its identity.
    pub fn identity_pem(&self, key: &SigningKey) -> Result<Secret<Vec<u8>>> {
        let mut pem = key.openssl()?.private_key_to_pem_pkcs8().map_err(crypto)?;
        pem.extend_from_slice(self.pem.as_bytes());
        Ok(Secret::new(pem))
    }
}

fn thumbprint_of(leaf: &X509) -> String {
    let der = leaf.to_der().expect("a parsed certificate encodes");
    URL_SAFE_NO_PAD.encode(Sha256::digest(der))
}

/// Ed25519 signs without a separate digest; the others with SHA-256.
fn digest_for(pkey: &PKey<Private>) -> MessageDigest {
    match pkey.id() {
        Id::ED25519 => MessageDigest::null(),
        _ => MessageDigest::sha256(),
    }
}

/// An ASN.1 time as Unix seconds.
fn asn1_unix(t: &openssl::asn1::Asn1TimeRef) -> i64 {
    let epoch = Asn1Time::from_unix(0).expect("the epoch");
    epoch
        .diff(t)
        .map(|d| i64::from(d.days) * 86_400 + i64::from(d.secs))
        .unwrap_or(0)
}

fn not_its_key() -> Error {
    bad("does not match its private key (it was issued for another key)".into())
}

fn bad(what: String) -> Error {
    Error::InvalidInput(format!("the client certificate {what}"))
}

fn crypto(e: impl std::fmt::Display) -> Error {
    Error::InvalidInput(format!("the client certificate could not be made: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::signing_key::Alg;

    #[test]
    fn a_self_signed_certificate_matches_its_key_and_reads_back() {
        for alg in [Alg::ES256, Alg::EdDSA] {
            let key = SigningKey::generate(alg).unwrap();
            let cert = ClientCert::self_signed(&key, "desk", 1_800_000_000).unwrap();
            cert.check(&key, 1_800_000_000).unwrap();
            let again = ClientCert::from_pem(cert.pem()).unwrap();
            assert_eq!(again.thumbprint(), cert.thumbprint());
            let view = cert.view();
            assert_eq!(view.subject, "CN=desk");
            assert!(view.self_signed);
            assert_eq!(cert.x5c().len(), 1);
        }
    }

    #[test]
    fn a_bundle_listing_another_certificate_first_is_put_leaf_first() {
        let key = SigningKey::generate(Alg::ES256).unwrap();
        let other = SigningKey::generate(Alg::ES256).unwrap();
        let mine = ClientCert::self_signed(&key, "desk", 1_800_000_000).unwrap();
        let theirs = ClientCert::self_signed(&other, "ca", 1_800_000_000).unwrap();
        let bundle = ClientCert::from_pem(&format!("{}{}", theirs.pem(), mine.pem())).unwrap();
        assert!(
            bundle.matches(&key).is_err(),
            "the other one is first as given"
        );
        let ordered = bundle.ordered_for(&key).unwrap();
        assert_eq!(ordered.thumbprint(), mine.thumbprint());
        assert_eq!(ordered.x5c().len(), 2, "the rest of the chain stays");
        let stranger = SigningKey::generate(Alg::ES256).unwrap();
        assert!(bundle.ordered_for(&stranger).is_err());
        // A common name is cut at 64 bytes, never inside a character.
        let long = "é".repeat(40);
        let cert = ClientCert::self_signed(&key, &long, 1_800_000_000).unwrap();
        assert_eq!(cert.view().subject, format!("CN={}", "é".repeat(32)));
    }

    #[test]
    fn another_keys_expired_or_future_certificate_is_refused() {
        let key = SigningKey::generate(Alg::ES256).unwrap();
        let other = SigningKey::generate(Alg::ES256).unwrap();
        let now = 1_800_000_000;
        let cert = ClientCert::self_signed(&key, "desk", now).unwrap();
        let err = cert.check(&other, now).unwrap_err().to_string();
        assert!(err.contains("does not match its private key"), "{err}");
        let err = cert
            .check(&key, now + 400 * 86_400)
            .unwrap_err()
            .to_string();
        assert!(err.contains("expired"), "{err}");
        let err = cert.check(&key, now - 3600).unwrap_err().to_string();
        assert!(err.contains("not valid before"), "{err}");
        assert!(ClientCert::from_pem("garbage").is_err());
        assert!(ClientCert::from_pkcs12(b"garbage", "").is_err());
    }
}
