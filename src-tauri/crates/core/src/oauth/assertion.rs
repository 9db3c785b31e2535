//! Client assertions (RFC 7523 §2.2, OpenID Connect Core §9): instead of its secret, the client
//! sends a short-lived JWT that only the holder of its credential could have made, so a
//! request caught on the way cannot be replayed for long, and never shows the secret itself.
//! `client_secret_jwt` signs it with an HMAC of the client secret (HS256); `private_key_jwt`
//! with the client's own key (`oauth::signing_key`), whose public half the provider holds.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::vault::provider_table::{ClientAuth, ProviderRecord};

/// RFC 7523 §2.2.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is good for: one request, with room for a clock a little off.
pub const LIFETIME_SECS: i64 = 120;

/// The form parameters that carry an assertion, by name.
pub type Parameters = [(&'static str, Secret<String>); 2];

/// The `client_assertion_type` and `client_assertion` parameters for one request by `p`'s
/// client to `url`, when it authenticates with an assertion; None when it does not.
///
/// The assertion is addressed to the token endpoint and is good there for its lifetime, so it
/// goes only to the token endpoint's host (or the issuer's): a revocation or introspection
/// endpoint elsewhere could spend it to get tokens as the client.
pub fn parameters(p: &ProviderRecord, url: &str, now: i64) -> Result<Option<Parameters>> {
    if !matches!(
        p.client_auth,
        ClientAuth::ClientSecretJwt | ClientAuth::PrivateKeyJwt
    ) {
        return Ok(None);
    }
    let origin = |u: Option<&str>| u.and_then(|u| url::Url::parse(u).ok()).map(|u| u.origin());
    let target = origin(Some(url));
    let trusted = [origin(p.token_url.as_deref()), origin(p.issuer.as_deref())];
    if target.is_none() || !trusted.contains(&target) {
        return Err(Error::InvalidInput(format!(
            "{} is not on the host of the token endpoint (or of the issuer): OAuth Desk sends it no client assertion, which would be good at the token endpoint",
            crate::text::shown(url)
        )));
    }
    let assertion = match p.client_auth {
        ClientAuth::ClientSecretJwt => client_secret_jwt(p, now)?,
        ClientAuth::PrivateKeyJwt => private_key_jwt(p, now)?,
        _ => return Ok(None),
    };
    Ok(Some([
        (
            "client_assertion_type",
            Secret::new(ASSERTION_TYPE.to_owned()),
        ),
        ("client_assertion", assertion),
    ]))
}

/// The claims every assertion carries: the client is both issuer and subject, the audience is
/// the token endpoint (which RFC 7523 §3 names, and which providers accept at their other
/// endpoints too) or, for a provider that asks for it, the issuer; and a `jti` no other
/// assertion has.
fn claims(p: &ProviderRecord, now: i64) -> Result<serde_json::Value> {
    let audience = if p.assertion_aud_issuer {
        p.issuer.as_deref()
    } else {
        p.token_url.as_deref().or(p.issuer.as_deref())
    };
    let audience = audience.ok_or_else(|| {
        Error::InvalidInput(format!(
            "{} has no {} to address its client assertion to",
            crate::text::shown(&p.name),
            if p.assertion_aud_issuer {
                "issuer"
            } else {
                "token endpoint"
            }
        ))
    })?;
    let mut jti = [0u8; 16];
    getrandom::fill(&mut jti).map_err(|e| Error::Storage(format!("no randomness: {e}")))?;
    Ok(json!({
        "iss": p.client_id,
        "sub": p.client_id,
        "aud": audience,
        "jti": hex::encode(jti),
        "iat": now,
        "exp": now + LIFETIME_SECS,
    }))
}

/// The assertion of the JWT bearer grant (RFC 7523 §2.1), signed with the client's key: the
/// client vouches for `subject` (itself when None: a service account), for `scopes` (a claim
/// some providers, Google's service accounts, read from the assertion rather than the form).
pub fn grant_assertion(
    p: &ProviderRecord,
    subject: Option<&str>,
    scopes: &[String],
    now: i64,
) -> Result<Secret<String>> {
    let key = p.client_key.as_ref().ok_or_else(|| {
        Error::InvalidInput(format!(
            "{} has no client key to sign a JWT bearer assertion with: generate or import one",
            crate::text::shown(&p.name)
        ))
    })?;
    let mut claims = claims(p, now)?;
    if let Some(s) = subject {
        claims["sub"] = s.into();
    }
    if !scopes.is_empty() {
        claims["scope"] = scopes.join(" ").into();
    }
    key.sign("JWT", false, &claims)
}

/// HS256 with the client secret as the key (OpenID Connect Core §9).
fn client_secret_jwt(p: &ProviderRecord, now: i64) -> Result<Secret<String>> {
    let secret = p.client_secret.as_ref().ok_or_else(|| {
        Error::InvalidInput(format!(
            "{} authenticates with client_secret_jwt but has no client secret",
            crate::text::shown(&p.name)
        ))
    })?;
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(json!({ "alg": "HS256", "typ": "JWT" }).to_string()),
        URL_SAFE_NO_PAD.encode(claims(p, now)?.to_string())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    Ok(Secret::new(format!("{signing_input}.{signature}")))
}

/// Signed with the client's key, named by its thumbprint (`kid`) so that a provider holding
/// several keys for the client knows which to check.
fn private_key_jwt(p: &ProviderRecord, now: i64) -> Result<Secret<String>> {
    let key = p.client_key.as_ref().ok_or_else(|| {
        Error::InvalidInput(format!(
            "{} authenticates with private_key_jwt but has no client key: generate or import one",
            crate::text::shown(&p.name)
        ))
    })?;
    key.sign("JWT", false, &claims(p, now)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::provider_table::ProviderConfig;

    const TOKEN: &str = "https://idp.example/token";

    fn provider(auth: ClientAuth) -> ProviderRecord {
        ProviderRecord {
            config: ProviderConfig {
                name: "idp".into(),
                client_id: "desk".into(),
                token_url: Some("https://idp.example/token".into()),
                client_auth: auth,
                ..Default::default()
            },
            client_secret: Some("s3cret".into()),
            ..Default::default()
        }
    }

    fn part(jwt: &str, i: usize) -> serde_json::Value {
        let raw = URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(i).unwrap())
            .unwrap();
        serde_json::from_slice(&raw).unwrap()
    }

    #[test]
    fn a_client_secret_jwt_names_the_client_and_the_token_endpoint_and_verifies() {
        let [(kind, kind_value), (name, jwt)] =
            parameters(&provider(ClientAuth::ClientSecretJwt), TOKEN, 1000)
                .unwrap()
                .unwrap();
        assert_eq!(
            (kind, kind_value.expose().as_str()),
            ("client_assertion_type", ASSERTION_TYPE)
        );
        assert_eq!(name, "client_assertion");
        let jwt = jwt.expose();
        assert_eq!(part(jwt, 0)["alg"], "HS256");
        let claims = part(jwt, 1);
        assert_eq!(claims["iss"], "desk");
        assert_eq!(claims["sub"], "desk");
        assert_eq!(claims["aud"], "https://idp.example/token");
        assert_eq!(claims["exp"], 1000 + LIFETIME_SECS);
        assert!(!jwt.contains("s3cret"), "the secret itself never travels");
        let (input, signature) = jwt.rsplit_once('.').unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(input.as_bytes());
        mac.verify_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap())
            .expect("the HMAC of the secret");
    }

    #[test]
    fn each_assertion_has_its_own_jti_and_other_methods_send_none() {
        let p = provider(ClientAuth::ClientSecretJwt);
        let jti = |_| {
            let [_, (_, jwt)] = parameters(&p, TOKEN, 1).unwrap().unwrap();
            part(jwt.expose(), 1)["jti"].as_str().unwrap().to_owned()
        };
        assert_ne!(jti(0), jti(1));
        for other in [ClientAuth::Basic, ClientAuth::Post, ClientAuth::None] {
            assert!(parameters(&provider(other), TOKEN, 1).unwrap().is_none());
        }
    }

    #[test]
    fn a_provider_that_asks_for_it_gets_the_issuer_as_audience() {
        let mut p = provider(ClientAuth::ClientSecretJwt);
        p.config.issuer = Some("https://idp.example".into());
        p.config.assertion_aud_issuer = true;
        let [_, (_, jwt)] = parameters(&p, TOKEN, 1).unwrap().unwrap();
        assert_eq!(part(jwt.expose(), 1)["aud"], "https://idp.example");
        p.config.issuer = None;
        let err = parameters(&p, TOKEN, 1).unwrap_err().to_string();
        assert!(err.contains("has no issuer"), "{err}");
    }

    #[test]
    fn an_assertion_goes_only_to_the_token_endpoints_host() {
        let p = provider(ClientAuth::ClientSecretJwt);
        assert!(parameters(&p, "https://idp.example/revoke", 1)
            .unwrap()
            .is_some());
        let err = parameters(&p, "https://elsewhere.example/revoke", 1).unwrap_err();
        assert!(
            err.to_string().contains("sends it no client assertion"),
            "{err}"
        );
        assert!(parameters(&p, "not a url", 1).is_err());
    }
}
