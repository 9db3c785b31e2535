//! DPoP (RFC 9449): tokens bound to a key of OAuth Desk's. Each request to the token endpoint,
//! and each use of a bound token, carries a proof: a JWT signed with the key, naming the
//! request's method and URL (and the token's hash), so a token caught on the way is useless
//! without the key. A server may ask for a nonce of its own in the proof; it is given once.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::signing_key::SigningKey;
use crate::error::{Error, Result};
use crate::http::Http;
use crate::secret::Secret;
use crate::vault::provider_table::ProviderRecord;

/// The token type of a DPoP-bound token (RFC 9449 §5), as providers send it.
pub const TOKEN_TYPE: &str = "DPoP";

/// The error that asks for a nonce (RFC 9449 §8, §9).
pub const NONCE_ERROR: &str = "use_dpop_nonce";

/// The longest nonce taken from a server: RFC 9449 sets no limit, this keeps a hostile one from
/// making every proof huge.
pub const MAX_NONCE_CHARS: usize = 512;

/// A proof for one request: `method` and `url` (its query and fragment left out, RFC 9449
/// §4.2), the server's `nonce` when it asked for one, and `ath`, the hash of the access token
/// it goes with, when it goes with one.
pub fn proof(
    key: &SigningKey,
    method: &str,
    url: &str,
    nonce: Option<&str>,
    access_token: Option<&str>,
    now: i64,
) -> Result<Secret<String>> {
    let htu = htu(url)?;
    let method = http_method(method)?;
    let mut jti = [0u8; 16];
    getrandom::fill(&mut jti).map_err(|e| Error::Storage(format!("no randomness: {e}")))?;
    let mut claims = json!({
        "jti": hex::encode(jti),
        "htm": method.as_str(),
        "htu": htu.as_str(),
        "iat": now,
    });
    if let Some(n) = nonce {
        claims["nonce"] = json!(n);
    }
    if let Some(t) = access_token {
        claims["ath"] = json!(URL_SAFE_NO_PAD.encode(Sha256::digest(t.as_bytes())));
    }
    key.sign("dpop+jwt", true, &claims)
}

/// Methods are case-sensitive tokens (RFC 9110 §9.1); a person typing `get` means GET.
fn http_method(method: &str) -> Result<http::Method> {
    let method = method.to_ascii_uppercase();
    http::Method::from_bytes(method.as_bytes()).map_err(|_| {
        Error::InvalidInput(format!(
            "{} is not an HTTP method",
            crate::text::shown(&method)
        ))
    })
}

/// The `htu` of a proof for `url` (RFC 9449 §4.2): an http(s) URL without its query and
/// fragment, nor credentials, which are no part of the resource and must not travel in a proof.
fn htu(url: &str) -> Result<url::Url> {
    let shown = crate::text::shown(url);
    let mut htu = url::Url::parse(url)
        .map_err(|e| Error::InvalidInput(format!("cannot make a DPoP proof for {shown}: {e}")))?;
    if !matches!(htu.scheme(), "http" | "https") {
        return Err(Error::InvalidInput(format!(
            "cannot make a DPoP proof for {shown}: an http or https URL is needed"
        )));
    }
    htu.set_query(None);
    htu.set_fragment(None);
    let _ = htu.set_username("");
    let _ = htu.set_password(None);
    Ok(htu)
}

/// A URL as a server compares resources: its origin and its path with escapes decoded (so
/// `/%74oken` is `/token`).
fn resource(url: &url::Url) -> (url::Origin, String) {
    let path = percent_encoding::percent_decode_str(url.path()).decode_utf8_lossy();
    (url.origin(), path.trim_end_matches('/').to_owned())
}

/// The nonce an answer asks for: a 400 whose error is `use_dpop_nonce` (an authorization
/// server, §8) or a 401 whose challenge says so (a resource server, §9), with a `DPoP-Nonce`
/// header of printable characters. Anything else is no request for a nonce.
pub fn nonce_asked(resp: &http::Response<Vec<u8>>) -> Option<String> {
    let asks = match resp.status().as_u16() {
        400 => serde_json::from_slice::<serde_json::Value>(resp.body())
            .is_ok_and(|v| v["error"] == NONCE_ERROR),
        401 => resp
            .headers()
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .any(|h| h.to_str().is_ok_and(|h| h.contains(NONCE_ERROR))),
        _ => false,
    };
    let nonce = resp.headers().get("DPoP-Nonce")?.to_str().ok()?;
    // RFC 9449 §8.1: NQCHAR, printable ASCII but space, " and \.
    let fine = !nonce.is_empty()
        && nonce.len() <= MAX_NONCE_CHARS
        && nonce
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e));
    (asks && fine).then(|| nonce.to_owned())
}

/// Sends the request `build` makes for a nonce (None first) and, when the answer asks for a
/// nonce, once more with it: a server asking again gets its second answer back as it is, so
/// one that asks on every answer costs two requests, never a loop.
pub fn send(
    http: &Http,
    build: impl Fn(Option<&str>) -> Result<http::Request<Vec<u8>>>,
) -> Result<http::Response<Vec<u8>>> {
    let first = http.call(build(None)?)?;
    match nonce_asked(&first) {
        Some(nonce) => http.call(build(Some(&nonce))?),
        None => Ok(first),
    }
}

/// The provider as a new sign-in uses it: with a DPoP key of the account's own, made now,
/// when the provider gives each account one (its algorithm is the provider key's).
pub fn for_new_account(p: &ProviderRecord) -> Result<std::borrow::Cow<'_, ProviderRecord>> {
    if !(p.dpop && p.dpop_per_account) {
        return Ok(std::borrow::Cow::Borrowed(p));
    }
    let alg = p
        .dpop_key
        .as_ref()
        .map_or(super::signing_key::Alg::ES256, |k| k.alg());
    let mut own = p.clone();
    own.dpop_key = Some(SigningKey::generate(alg)?);
    Ok(std::borrow::Cow::Owned(own))
}

/// How a token is sent with one request: the `Authorization` header's value and, for a
/// DPoP-bound token, the `DPoP` header's proof for `method` and `url`.
pub struct Presented {
    pub authorization: Secret<String>,
    pub proof: Option<Secret<String>>,
}

/// The request a proof is made for, and the nonce its server asked for, if any.
#[derive(Debug, Clone, Copy)]
pub struct ForRequest<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub nonce: Option<&'a str>,
}

/// A nonce as a server gives it (RFC 9449 §8.1: NQCHAR, here at most 512 of them).
pub fn check_nonce(n: &str) -> Result<()> {
    let fine = !n.is_empty()
        && n.len() <= MAX_NONCE_CHARS
        && n.bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e));
    if fine {
        Ok(())
    } else {
        Err(Error::InvalidInput(
            "the nonce is not one a server gives (printable characters but space, \" and \\, at most 512)".into(),
        ))
    }
}

/// Presents `token` (of `token_type`, as stored) for a request: a bearer token as it is; a
/// DPoP-bound one with a proof by `p`'s DPoP key, which needs the request. Never for the
/// provider's own credential endpoints: those proofs OAuth Desk makes itself, and one made
/// for a script there would bind tokens obtained elsewhere to the key.
pub fn present(
    p: &ProviderRecord,
    token_type: Option<&str>,
    token: &str,
    request: Option<ForRequest<'_>>,
    now: i64,
) -> Result<Presented> {
    // The request is checked whatever the token: a script's mistake is said the same way
    // before and after its provider turns DPoP on.
    if let Some(r) = &request {
        htu(r.url)?;
        http_method(r.method)?;
        if let Some(n) = r.nonce {
            check_nonce(n)?;
        }
    }
    if !token_type.is_some_and(|t| t.eq_ignore_ascii_case(TOKEN_TYPE)) {
        return Ok(Presented {
            authorization: Secret::new(format!("Bearer {token}")),
            proof: None,
        });
    }
    let key = p.dpop_key.as_ref().ok_or_else(|| {
        Error::InvalidInput(format!(
            "this token is bound to a DPoP key that {} no longer has: sign in again",
            crate::text::shown(&p.name)
        ))
    })?;
    let r = request.ok_or_else(|| {
        Error::InvalidInput(
            "this token is DPoP-bound: its proof is made for one request; give --url (and --method, GET by default)"
                .into(),
        )
    })?;
    // Compared as the proof names it and as a server reads it: no credentials, query,
    // fragment or escapes can make the provider's own endpoint look like another URL.
    let target = resource(&htu(r.url)?);
    let own = crate::oauth::provider::FIELDS
        .iter()
        .filter(|f| {
            f.guarded.is_some()
                && !matches!(f.name, "issuer" | "userinfo_url" | "mtls_userinfo_url")
        })
        .filter_map(|f| p.text(f.name))
        .filter_map(|u| htu(u).ok());
    if own.into_iter().any(|u| resource(&u) == target) {
        return Err(Error::InvalidInput(format!(
            "{} is one of {}'s own credential endpoints: OAuth Desk makes no proof for it",
            crate::text::shown(r.url),
            crate::text::shown(&p.name)
        )));
    }
    Ok(Presented {
        authorization: Secret::new(format!("{TOKEN_TYPE} {token}")),
        proof: Some(proof(key, r.method, r.url, r.nonce, Some(token), now)?),
    })
}

/// A GET of `url` with a DPoP-bound `token` and its proof (a userinfo request).
pub fn get(
    http: &Http,
    key: &SigningKey,
    url: &str,
    token: &str,
    now: i64,
) -> Result<http::Response<Vec<u8>>> {
    send(http, |nonce| {
        let proof = proof(key, "GET", url, nonce, Some(token), now)?;
        http::Request::get(url)
            .header("Accept", "application/json")
            .header("Authorization", format!("{TOKEN_TYPE} {token}"))
            .header("DPoP", proof.expose().as_str())
            .body(Vec::new())
            .map_err(|e| Error::InvalidInput(format!("cannot build a request to {url}: {e}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::signing_key::Alg;

    fn part(jwt: &str, i: usize) -> serde_json::Value {
        serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(jwt.split('.').nth(i).unwrap())
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn a_proof_names_the_request_carries_the_public_key_and_hashes_the_token() {
        let key = SigningKey::generate(Alg::ES256).unwrap();
        let p = proof(
            &key,
            "GET",
            "https://api.example/me?x=1#f",
            Some("n-1"),
            Some("tok"),
            1000,
        )
        .unwrap();
        let header = part(p.expose(), 0);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert!(header["jwk"]["x"].is_string() && header["jwk"].get("d").is_none());
        let claims = part(p.expose(), 1);
        assert_eq!(
            claims["htu"], "https://api.example/me",
            "no query, no fragment"
        );
        assert_eq!(claims["htm"], "GET");
        assert_eq!(claims["iat"], 1000);
        assert_eq!(claims["nonce"], "n-1");
        // RFC 9449 §4.2: base64url of the SHA-256 of the token's ASCII.
        assert_eq!(
            claims["ath"],
            URL_SAFE_NO_PAD.encode(Sha256::digest(b"tok"))
        );
        let other = proof(&key, "get", "https://u:p@api.example/me", None, None, 1000).unwrap();
        assert_eq!(part(other.expose(), 1)["htm"], "GET");
        assert_eq!(
            part(other.expose(), 1)["htu"],
            "https://api.example/me",
            "no credentials in the proof"
        );
        assert!(proof(&key, "G ET", "https://api.example/", None, None, 1).is_err());
        assert!(proof(&key, "GET", "file:///etc/passwd", None, None, 1).is_err());
        assert_ne!(part(other.expose(), 1)["jti"], claims["jti"]);
        assert!(part(other.expose(), 1).get("ath").is_none());
    }

    fn answer(status: u16, body: &str, headers: &[(&str, &str)]) -> http::Response<Vec<u8>> {
        let mut b = http::Response::builder().status(status);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(body.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn no_proof_is_made_for_the_providers_own_endpoints_however_written() {
        let p = ProviderRecord {
            config: crate::vault::provider_table::ProviderConfig {
                name: "idp".into(),
                token_url: Some("https://idp.example/token?tenant=x".into()),
                ..Default::default()
            },
            dpop_key: Some(SigningKey::generate(Alg::ES256).unwrap()),
            ..Default::default()
        };
        let ask = |url| {
            let r = ForRequest {
                method: "POST",
                url,
                nonce: None,
            };
            present(&p, Some(TOKEN_TYPE), "t", Some(r), 1)
        };
        for url in [
            "https://idp.example/token",
            "https://u@idp.example/token",
            "https://IDP.example/%74oken",
            "https://idp.example/token/",
            "https://idp.example/token?x=1#y",
        ] {
            let err = ask(url)
                .err()
                .unwrap_or_else(|| panic!("{url} got a proof"));
            assert!(
                err.to_string().contains("own credential endpoints"),
                "{url}: {err}"
            );
        }
        assert!(ask("https://idp.example/api/me").is_ok());
    }

    #[test]
    fn only_a_well_formed_request_for_a_nonce_is_one() {
        let nonce = [("DPoP-Nonce", "abc")];
        let asked = r#"{"error":"use_dpop_nonce"}"#;
        assert_eq!(
            nonce_asked(&answer(400, asked, &nonce)).as_deref(),
            Some("abc")
        );
        let challenge = [
            ("DPoP-Nonce", "abc"),
            ("WWW-Authenticate", "DPoP error=\"use_dpop_nonce\""),
        ];
        assert_eq!(
            nonce_asked(&answer(401, "", &challenge)).as_deref(),
            Some("abc")
        );
        assert_eq!(
            nonce_asked(&answer(400, asked, &[])),
            None,
            "no nonce given"
        );
        let other = r#"{"error":"invalid_grant"}"#;
        assert_eq!(nonce_asked(&answer(400, other, &nonce)), None);
        assert_eq!(nonce_asked(&answer(200, asked, &nonce)), None);
        let long = "a".repeat(MAX_NONCE_CHARS + 1);
        assert_eq!(
            nonce_asked(&answer(400, asked, &[("DPoP-Nonce", &long)])),
            None
        );
        assert_eq!(
            nonce_asked(&answer(400, asked, &[("DPoP-Nonce", "a\"b")])),
            None
        );
    }
}
