//! A Google service-account key file (the JSON the Cloud console downloads) as a provider: its
//! token endpoint, its email as the client id, and its private key, which goes into the vault
//! (the file's path is never what is kept). Such a client gets tokens with the JWT bearer grant
//! (RFC 7523 §2.1, `login --jwt-bearer`), its assertions signed with that key.

use serde::Deserialize;

use super::provider::ProviderInput;
use super::signing_key::{Alg, KeyInput};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// More than any key file (about 2.4 KB).
pub const MAX_KEY_FILE: usize = 64 * 1024;

#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: String,
    client_email: String,
    private_key: Secret<String>,
    token_uri: String,
}

/// The provider a key file describes (name and scopes are the person's to give).
pub fn input_from(json: &[u8]) -> Result<ProviderInput> {
    let file: KeyFile = serde_json::from_slice(json).map_err(|e| {
        // serde's message names the field, never a value of it.
        let what = e.to_string();
        Error::InvalidInput(format!(
            "not a service-account key file ({})",
            what.split(" at line").next().unwrap_or_default()
        ))
    })?;
    if file.kind != "service_account" {
        return Err(Error::InvalidInput(
            "the key file's type is not service_account".into(),
        ));
    }
    Ok(ProviderInput {
        token_url: Some(file.token_uri),
        client_id: Some(file.client_email),
        client_auth: Some("private_key_jwt".into()),
        client_key: Some(KeyInput {
            import: Some(file.private_key),
            alg: Some(Alg::RS256),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The provider the key file at `path` describes (read bounded; the path is not kept).
pub fn read(path: &std::path::Path) -> Result<ProviderInput> {
    let bytes =
        crate::local_file::read_bounded(path, MAX_KEY_FILE, "the service-account key file")?;
    input_from(bytes.expose())
}

/// The private key of `bytes`, if they are a service-account key file: a key file a person
/// names for the client key may be one (the window's form).
pub(crate) fn private_key_of(bytes: &[u8]) -> Option<Secret<String>> {
    input_from(bytes).ok()?.client_key?.import
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_gives_the_endpoint_the_client_and_the_key() {
        let json = br#"{"type": "service_account", "project_id": "p",
            "private_key_id": "abc", "private_key": "-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n",
            "client_email": "svc@p.iam.gserviceaccount.com", "client_id": "123",
            "token_uri": "https://oauth2.googleapis.com/token"}"#;
        let input = input_from(json).unwrap();
        assert_eq!(
            input.token_url.as_deref(),
            Some("https://oauth2.googleapis.com/token")
        );
        assert_eq!(
            input.client_id.as_deref(),
            Some("svc@p.iam.gserviceaccount.com")
        );
        let key = input.client_key.unwrap();
        assert!(key.import.unwrap().expose().starts_with("-----BEGIN"));
        assert_eq!(key.alg, Some(Alg::RS256));
    }

    #[test]
    fn other_files_are_refused_without_echoing_them() {
        let err = input_from(
            br#"{"type": "authorized_user", "client_email": "a",
            "private_key": "SECRET-KEY", "token_uri": "https://x.example/t"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("service_account"), "{err}");
        let err = input_from(br#"{"private_key": "SECRET-KEY"}"#)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("SECRET-KEY"), "{err}");
        assert!(input_from(b"not json").is_err());
    }
}
