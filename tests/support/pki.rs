//! Certificates for mutual-TLS tests (RFC 8705): a test CA, the provider's server certificate
//! for 127.0.0.1, and client certificates the CA issues (good, expired), all as PEM files in a
//! scratch directory.

use std::path::{Path, PathBuf};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, SubjectAlternativeName};
use openssl::x509::{X509NameBuilder, X509};

/// A certificate and its key, as PEM.
pub struct Issued {
    pub cert: String,
    pub key: String,
}

impl Issued {
    /// The certificate and its key in one PEM, as `--client-cert FILE` takes them.
    pub fn bundle(&self) -> String {
        format!("{}{}", self.cert, self.key)
    }
}

pub struct Pki {
    dir: tempfile::TempDir,
    ca_key: PKey<Private>,
    ca: X509,
}

fn key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl Default for Pki {
    fn default() -> Pki {
        Pki::new()
    }
}

impl Pki {
    pub fn new() -> Pki {
        let ca_key = key();
        let mut b = builder("OAuth Desk test CA", &ca_key, now() - 3600, now() + 86_400);
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
            .unwrap();
        let name = b.x509_name_for("OAuth Desk test CA");
        b.set_issuer_name(&name).unwrap();
        b.sign(&ca_key, MessageDigest::sha256()).unwrap();
        let pki = Pki {
            dir: tempfile::tempdir().unwrap(),
            ca_key,
            ca: b.build(),
        };
        std::fs::write(pki.ca_path(), pki.ca.to_pem().unwrap()).unwrap();
        pki
    }

    /// The CA's certificate, a PEM file (what SSL_CERT_FILE names for the app to trust the
    /// provider, and what the provider trusts client certificates from).
    pub fn ca_path(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A certificate the CA issues to `cn`, valid from `from` to `to` (Unix times); for
    /// 127.0.0.1 and localhost as well when `server`.
    pub fn issue(&self, cn: &str, from: i64, to: i64, server: bool) -> Issued {
        let key = key();
        let mut b = builder(cn, &key, from, to);
        b.set_issuer_name(self.ca.subject_name()).unwrap();
        if server {
            let san = SubjectAlternativeName::new()
                .ip("127.0.0.1")
                .dns("localhost")
                .build(&b.x509v3_context(Some(&self.ca), None))
                .unwrap();
            b.append_extension(san).unwrap();
        }
        b.sign(&self.ca_key, MessageDigest::sha256()).unwrap();
        Issued {
            cert: String::from_utf8(b.build().to_pem().unwrap()).unwrap(),
            key: String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap(),
        }
    }

    /// A client certificate good for a day.
    pub fn client(&self, cn: &str) -> Issued {
        self.issue(cn, now() - 3600, now() + 86_400, false)
    }

    /// A client certificate that expired yesterday.
    pub fn expired_client(&self, cn: &str) -> Issued {
        self.issue(cn, now() - 3 * 86_400, now() - 86_400, false)
    }

    /// Writes `text` to a file of the scratch directory; returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

trait NameFor {
    fn x509_name_for(&self, cn: &str) -> openssl::x509::X509Name;
}

impl NameFor for openssl::x509::X509Builder {
    fn x509_name_for(&self, cn: &str) -> openssl::x509::X509Name {
        let mut n = X509NameBuilder::new().unwrap();
        n.append_entry_by_text("CN", cn).unwrap();
        n.build()
    }
}

fn builder(cn: &str, key: &PKey<Private>, from: i64, to: i64) -> openssl::x509::X509Builder {
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    let mut serial = BigNum::new().unwrap();
    serial.rand(64, MsbOption::MAYBE_ZERO, false).unwrap();
    b.set_serial_number(&serial.to_asn1_integer().unwrap())
        .unwrap();
    let name = b.x509_name_for(cn);
    b.set_subject_name(&name).unwrap();
    b.set_pubkey(key).unwrap();
    b.set_not_before(&Asn1Time::from_unix(from).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::from_unix(to).unwrap()).unwrap();
    b
}
