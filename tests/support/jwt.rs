//! ID tokens made by the tests for canned providers: HS256 over a client secret (OIDC Core
//! §10.1), or unsigned (`alg: none`), which OAuth Desk must refuse; and the claims of a JWS the
//! app made (a DPoP proof), read back.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// A JWT of `claims`, signed with HS256 and `secret`, or unsigned when `alg` is "none".
pub fn sign(claims: &Value, alg: &str, secret: &str) -> String {
    let header = b64(json!({ "alg": alg, "typ": "JWT" }).to_string().as_bytes());
    let input = format!("{header}.{}", b64(claims.to_string().as_bytes()));
    if alg == "none" {
        return format!("{input}.");
    }
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

/// Seconds since the epoch, for `iat` and `exp`.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The claims of a compact JWS, read without checking its signature.
pub fn claims(jws: &str) -> Value {
    let payload = jws.split('.').nth(1).expect("a compact JWS");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url claims");
    serde_json::from_slice(&bytes).expect("JSON claims")
}
