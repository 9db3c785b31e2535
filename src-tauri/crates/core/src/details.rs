//! What a token says about itself, for the details panel: the ID token's and a JWT access
//! token's header and claims (decoded for reading, not verified again: the ID token was
//! verified when it arrived), the provider's userinfo, and its introspection (RFC 7662).
//! Only on request; the token values themselves are not part of it.

use base64::Engine;
use serde::Serialize;
use serde_json::Value;

use crate::error::Result;
use crate::http::Http;
use crate::oauth::dpop;
use crate::vault::provider_table as ptable;
use crate::vault::{tokens, Vault};

#[derive(Debug, Serialize)]
pub struct Jwt {
    pub header: Value,
    pub claims: Value,
}

#[derive(Debug, Serialize, Default)]
pub struct Details {
    pub id_token: Option<Jwt>,
    /// Set when the access token is a JWT (many providers' are opaque).
    pub access_token: Option<Jwt>,
    pub userinfo: Option<Value>,
    pub introspection: Option<Value>,
    /// What the token is bound to, when it is sender-constrained.
    pub bound_to: Option<Binding>,
    /// What could not be fetched, as text.
    pub notes: Vec<String>,
}

/// A sender-constrained token's binding: a stolen copy is useless without this key.
#[derive(Debug, Serialize)]
pub struct Binding {
    /// "DPoP" (RFC 9449) or "mTLS" (RFC 8705: the client's certificate).
    pub kind: &'static str,
    pub alg: &'static str,
    /// The key's RFC 7638 thumbprint, as the provider's `cnf.jkt` names it.
    pub thumbprint: String,
}

/// Decodes a JWS compact serialization's header and payload, or None if it is not one.
pub fn decode(token: &str) -> Option<Jwt> {
    let mut parts = token.split('.');
    let (h, p) = (parts.next()?, parts.next()?);
    parts.next()?;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: Value = serde_json::from_slice(&b64.decode(h.trim_end_matches('=')).ok()?).ok()?;
    let claims: Value = serde_json::from_slice(&b64.decode(p.trim_end_matches('=')).ok()?).ok()?;
    (header.is_object() && claims.is_object()).then_some(Jwt { header, claims })
}

/// The `cnf` member `member` of a JWT access token (RFC 7800), when it has one.
fn confirmed(d: &Details, member: &str) -> Option<String> {
    let cnf = d.access_token.as_ref()?.claims.get("cnf")?;
    cnf.get(member)?.as_str().map(str::to_owned)
}

/// The key or certificate a JWT access token says it is bound to.
fn bound_in_token(d: &Details) -> Option<String> {
    confirmed(d, "jkt").or_else(|| confirmed(d, "x5t#S256"))
}

pub fn details(vault: &Vault, provider: &str, account: &str, http: &Http) -> Result<Details> {
    let p = tokens::for_account(vault.conn(), ptable::get(vault.conn(), provider)?, account)?;
    let t = tokens::get(vault.conn(), provider, account)?;
    let mut d = Details {
        id_token: t.id_token.as_ref().and_then(|s| decode(s.expose())),
        access_token: t.access_token.as_ref().and_then(|s| decode(s.expose())),
        ..Default::default()
    };
    let dpop_bound = t
        .token_type
        .as_deref()
        .is_some_and(|k| k.eq_ignore_ascii_case(dpop::TOKEN_TYPE));
    if dpop_bound {
        d.bound_to = p.dpop_key.as_ref().map(|k| Binding {
            kind: dpop::TOKEN_TYPE,
            alg: k.alg().as_str(),
            thumbprint: k.thumbprint(),
        });
    } else if let Some(x5t) = confirmed(&d, "x5t#S256") {
        // The token says so itself (RFC 8705 §3.1): a JWT access token with `cnf`.
        d.bound_to = Some(Binding {
            kind: "mTLS",
            alg: "X.509 certificate",
            thumbprint: x5t,
        });
    } else if p.mtls_bound_tokens && p.client_auth.uses_certificate() {
        d.bound_to = p.client_cert.as_ref().map(|c| Binding {
            kind: "mTLS",
            alg: "X.509 certificate",
            thumbprint: c.thumbprint(),
        });
    }
    if let (Some(bound), Some(said)) = (&d.bound_to, bound_in_token(&d)) {
        if bound.thumbprint != said {
            d.notes.push(format!(
                "The token itself names another key ({}) than this app's ({}): its provider \
                 will refuse it with this app's proofs",
                crate::text::shown(&said),
                bound.thumbprint
            ));
        }
    }
    let Some(access) = &t.access_token else {
        d.notes
            .push("The token was revoked: nothing more to ask the provider.".into());
        return Ok(d);
    };
    let userinfo = crate::oauth::client_auth::via_mtls(
        &p,
        p.userinfo_url.as_deref(),
        p.mtls_userinfo_url.as_deref(),
    );
    // A token bound to the client's certificate is good only over a connection showing it; a
    // certificate that cannot be used is said, beside what the token itself shows.
    let with_cert = match crate::oauth::client_auth::http_for(http, &p) {
        Ok(h) => h,
        Err(e) => {
            d.notes.push(e.to_string());
            return Ok(d);
        }
    };
    let http = &*with_cert;
    match userinfo {
        Some(url) => {
            let answer = match p.dpop_key.as_ref().filter(|_| dpop_bound) {
                Some(key) => dpop::get(http, key, url, access.expose(), crate::time::now())
                    .map(|r| (r.status().as_u16(), r.into_body())),
                None => http
                    .get_bearer(url, access.expose(), 256 * 1024)
                    .map(|r| (r.status, r.body)),
            };
            match answer {
                Ok((200, body)) => d.userinfo = serde_json::from_slice(&body).ok(),
                Ok((status, _)) => d.notes.push(format!("userinfo answered HTTP {status}")),
                Err(e) => d.notes.push(format!("userinfo: {e}")),
            }
        }
        None => d
            .notes
            .push("The provider has no userinfo endpoint.".into()),
    }
    let introspection = crate::oauth::client_auth::via_mtls(
        &p,
        p.introspection_url.as_deref(),
        p.mtls_introspection_url.as_deref(),
    );
    match introspection {
        Some(url) => {
            let pairs = [
                ("token", access.expose().as_str()),
                ("token_type_hint", "access_token"),
            ];
            let sent = crate::oauth::client_auth::http_for(http, &p).and_then(|h| {
                crate::oauth::client_auth::form_post(&p, url, &pairs).map(|r| h.call(r))
            });
            match sent {
                Ok(Ok(r)) if r.status() == 200 => {
                    d.introspection = serde_json::from_slice(r.body()).ok()
                }
                Ok(Ok(r)) => d
                    .notes
                    .push(format!("introspection answered HTTP {}", r.status())),
                Ok(Err(e)) => d.notes.push(format!("introspection: {e}")),
                Err(e) => d.notes.push(format!("introspection: {e}")),
            }
        }
        None => d
            .notes
            .push("The provider has no introspection endpoint.".into()),
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_jwt_access_tokens_cnf_names_what_it_is_bound_to() {
        let d = super::Details {
            access_token: Some(super::Jwt {
                header: serde_json::json!({}),
                claims: serde_json::json!({ "cnf": { "x5t#S256": "abc" } }),
            }),
            ..Default::default()
        };
        assert_eq!(super::confirmed(&d, "x5t#S256").as_deref(), Some("abc"));
        assert_eq!(super::bound_in_token(&d).as_deref(), Some("abc"));
        assert_eq!(super::confirmed(&d, "jkt"), None);
    }

    #[test]
    fn decodes_a_jwt_and_refuses_other_strings() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MX0.c2ln";
        let d = super::decode(jwt).unwrap();
        assert_eq!(d.header["alg"], "RS256");
        assert_eq!(d.claims["sub"], "alice");
        assert!(super::decode("opaque-token").is_none());
        assert!(super::decode("a.b.c").is_none());
    }
}
