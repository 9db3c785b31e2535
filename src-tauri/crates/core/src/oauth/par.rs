//! Pushed authorization requests (RFC 9126). The authorization request's parameters go to the
//! provider first, in a POST authenticated as the client; the browser then carries only the
//! reference the provider answers with. So the scopes, the PKCE challenge and the extra
//! parameters cannot be read or altered on the way, and a provider that requires pushing
//! (FAPI 2.0, some open-banking profiles) accepts the sign-in at all.

use serde_json::Value;
use url::Url;

use super::check;
use super::client_auth::{form_post, http_for};
use crate::error::{Error, Result};
use crate::http::Http;
use crate::text::{inert, shown};
use crate::vault::provider_table::{ClientAuth, ProviderRecord};

/// The longest `request_uri` taken: it is opened in a URL, and real ones are under 100 bytes.
pub const MAX_REQUEST_URI: usize = 2048;

const ENDPOINT: &str = "pushed authorization request endpoint";

/// Pushes the parameters of `authorization_url` (as the code flow built it) to `p`'s PAR
/// endpoint, and returns the URL to open instead: the authorization endpoint with its own
/// query, the client id and the `request_uri`.
pub fn push(p: &ProviderRecord, authorization_url: &str, http: &Http) -> Result<String> {
    let endpoint = super::client_auth::via_mtls(p, p.par_url.as_deref(), p.mtls_par_url.as_deref());
    let Some(endpoint) = endpoint else {
        return Err(Error::InvalidInput(format!(
            "{} pushes its authorization requests (RFC 9126) but has no pushed authorization \
             request endpoint: fill it by discovery from the issuer, or turn pushing off",
            shown(&p.name)
        )));
    };
    let (mut opened, pushed) = split(p, authorization_url)?;
    let pushed: Vec<(&str, &str)> = pushed
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let response = http_for(http, p)?.call(form_post(p, endpoint, &pushed)?)?;
    let request_uri = request_uri(response.status().as_u16(), response.body())?;
    opened
        .query_pairs_mut()
        .append_pair("client_id", &p.client_id)
        .append_pair("request_uri", &request_uri);
    Ok(opened.to_string())
}

/// The URL the person will open (the authorization endpoint as configured: RFC 6749 §3.1 keeps
/// its own query on every request), and the parameters the code flow added, to push.
fn split(p: &ProviderRecord, authorization_url: &str) -> Result<(Url, Vec<(String, String)>)> {
    let parse = |u: &str| {
        Url::parse(u)
            .map_err(|e| Error::InvalidInput(format!("the authorization URL is not a URL: {e}")))
    };
    let built = parse(authorization_url)?;
    let opened = parse(p.authorization_url.as_deref().unwrap_or(authorization_url))?;
    let own: Vec<(String, String)> = opened.query_pairs().into_owned().collect();
    // The client id is where the client's authentication puts it: in the body for post and
    // none (form_post adds it), beside the Basic header as the request's own parameter.
    let pushed = built
        .query_pairs()
        .into_owned()
        .filter(|pair| !own.contains(pair))
        .filter(|(k, _)| k != "client_id" || p.client_auth == ClientAuth::Basic)
        .collect();
    Ok((opened, pushed))
}

/// The `request_uri` of the PAR endpoint's answer (201, RFC 9126 §2.2), or what went wrong.
/// The answer is outside input: its reference is bounded and must be plain text.
pub(crate) fn request_uri(status: u16, body: &[u8]) -> Result<String> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let json = json.filter(Value::is_object);
    if !(200..300).contains(&status) {
        if let Some(code) = json.as_ref().and_then(|v| v["error"].as_str()) {
            return Err(super::flow::oauth_error(
                &format!("the {ENDPOINT} refused the request:"),
                code,
                json.as_ref().expect("an object"),
            ));
        }
        return Err(Error::ProviderError(format!(
            "the {ENDPOINT} answered HTTP {status}; nothing was opened"
        )));
    }
    let refused = |what: &str| {
        Error::ProviderError(format!(
            "the {ENDPOINT} answered with {what}; nothing was opened"
        ))
    };
    let json = json.ok_or_else(|| refused("a body that is not a JSON object"))?;
    let uri = match &json["request_uri"] {
        Value::String(s) => s,
        Value::Null => return Err(refused("no request_uri")),
        _ => return Err(refused("a request_uri that is not a string")),
    };
    if uri.is_empty() || uri.len() > MAX_REQUEST_URI {
        return Err(refused(&format!(
            "a request_uri of {} bytes (1 to {MAX_REQUEST_URI} are taken)",
            uri.len()
        )));
    }
    if let Err(e) = check::plain_text(uri) {
        return Err(refused(&format!("a request_uri that {}", inert(&e))));
    }
    Ok(uri.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::provider_table::ProviderConfig;

    fn refused(status: u16, body: &str) -> String {
        request_uri(status, body.as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn the_reference_comes_from_a_201_answer() {
        let uri = "urn:ietf:params:oauth:request_uri:abc";
        let body = format!(r#"{{"request_uri":"{uri}","expires_in":60}}"#);
        assert_eq!(request_uri(201, body.as_bytes()).unwrap(), uri);
    }

    #[test]
    fn a_bad_answer_is_refused_and_says_why() {
        assert!(refused(201, "<html>").contains("not a JSON object"));
        assert!(refused(201, "[]").contains("not a JSON object"));
        assert!(refused(201, "{}").contains("no request_uri"));
        assert!(refused(201, r#"{"request_uri":7}"#).contains("not a string"));
        assert!(refused(201, r#"{"request_uri":""}"#).contains("0 bytes"));
        let long = format!(r#"{{"request_uri":"{}"}}"#, "u".repeat(MAX_REQUEST_URI + 1));
        assert!(refused(201, &long).contains("2049 bytes"));
        assert!(refused(201, r#"{"request_uri":"a\nb"}"#).contains("control character"));
        assert!(refused(503, "busy").contains("HTTP 503"));
    }

    #[test]
    fn the_endpoints_own_query_stays_on_the_url_and_the_rest_is_pushed() {
        let mut p = ProviderRecord {
            config: ProviderConfig {
                authorization_url: Some("https://idp.example/authorize?p=b2c_1_signin".into()),
                client_id: "desk".into(),
                ..Default::default()
            },
            client_secret: None,
            ..Default::default()
        };
        let built = "https://idp.example/authorize?p=b2c_1_signin&response_type=code\
                     &client_id=desk&scope=openid&state=s";
        for (auth, client_id_pushed) in [
            (ClientAuth::Basic, true),
            (ClientAuth::Post, false),
            (ClientAuth::None, false),
        ] {
            p.client_auth = auth;
            let (opened, pushed) = split(&p, built).unwrap();
            assert_eq!(
                opened.as_str(),
                "https://idp.example/authorize?p=b2c_1_signin"
            );
            let names: Vec<&str> = pushed.iter().map(|(k, _)| k.as_str()).collect();
            let mut expected = vec!["response_type", "scope", "state"];
            if client_id_pushed {
                expected.insert(1, "client_id");
            }
            assert_eq!(names, expected, "{auth:?}");
        }
    }

    #[test]
    fn a_refusal_carries_the_oauth_error_code() {
        let e = request_uri(
            400,
            br#"{"error":"invalid_request","error_description":"bad scope"}"#,
        )
        .unwrap_err();
        assert_eq!(e.oauth_error(), Some("invalid_request"));
        assert!(e.to_string().contains("bad scope"), "{e}");
    }
}
