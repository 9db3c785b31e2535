//! Dynamic client registration (RFC 7591) and its management (RFC 7592): the metadata OAuth
//! Desk registers a client with, worked out from the provider's settings (the redirect URIs it
//! really uses, the grants, the authentication method, the client key's JWKS), and the
//! provider's answer, which is hostile input until it checks out: JSON, bounded, a plain
//! client id, nothing registered that was not asked for, and a management address on the
//! registration endpoint's own origin, the only place the registration token is ever sent.

use serde_json::{json, Map, Value};
use url::Url;

use super::check;
use super::provider::ProviderConfig;
use crate::error::{Error, Result};
use crate::http::Http;
use crate::secret::Secret;
use crate::text::visible;
use crate::vault::provider_table::{ClientAuth, ProviderRecord};

/// More than any registration answer (a client's metadata and its credentials).
const MAX_ANSWER: usize = 256 * 1024;

/// The longest client id or secret kept: longer ones are not a provider's.
const MAX_CREDENTIAL: usize = 4096;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// What the provider gave for a registered client.
#[derive(Debug)]
pub struct Registered {
    pub client_id: String,
    pub client_secret: Option<Secret<String>>,
    /// The client configuration endpoint and the token that manages the registration there
    /// (RFC 7592 §3); both or neither.
    pub management: Option<Management>,
    /// The authentication method the provider settled on, when it says (RFC 7591 §3.2.1).
    pub client_auth: Option<ClientAuth>,
}

/// Where a registration is read, updated and deleted, and the token that may.
#[derive(Debug, Clone)]
pub struct Management {
    pub client_uri: String,
    pub access_token: Secret<String>,
}

/// RFC 7591 §2's name of an authentication method.
pub fn method_name(auth: ClientAuth) -> &'static str {
    match auth {
        ClientAuth::Basic => "client_secret_basic",
        ClientAuth::Post => "client_secret_post",
        ClientAuth::None => "none",
        ClientAuth::ClientSecretJwt => "client_secret_jwt",
        ClientAuth::PrivateKeyJwt => "private_key_jwt",
        ClientAuth::TlsClientAuth => "tls_client_auth",
        ClientAuth::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
    }
}

fn method_from_name(name: &str) -> Option<ClientAuth> {
    [
        ClientAuth::Basic,
        ClientAuth::Post,
        ClientAuth::None,
        ClientAuth::ClientSecretJwt,
        ClientAuth::PrivateKeyJwt,
        ClientAuth::TlsClientAuth,
        ClientAuth::SelfSignedTlsClientAuth,
    ]
    .into_iter()
    .find(|m| method_name(*m) == name)
}

/// The redirect URIs the provider's sign-ins use: the custom one the login window catches,
/// or the loopback one, without a port when each sign-in picks one (RFC 8252 §7.3: the
/// provider must then take any port).
pub fn redirect_uris(p: &ProviderConfig) -> Vec<String> {
    match &p.redirect_url {
        Some(custom) => vec![custom.clone()],
        None if p.redirect_port == 0 => vec![format!("http://127.0.0.1{}", p.redirect_path)],
        None => vec![format!(
            "http://127.0.0.1:{}{}",
            p.redirect_port, p.redirect_path
        )],
    }
}

/// The client metadata OAuth Desk registers `p` with (RFC 7591 §2).
pub fn metadata(p: &ProviderRecord) -> Value {
    let mut grants = vec!["authorization_code", "refresh_token"];
    if p.device_authorization_url.is_some() {
        grants.push(DEVICE_GRANT);
    }
    if p.client_auth != ClientAuth::None {
        grants.push("client_credentials");
    }
    let native = p.redirect_url.is_none();
    let mut m = json!({
        "client_name": "OAuth Desk",
        "application_type": if native { "native" } else { "web" },
        "redirect_uris": redirect_uris(p),
        "response_types": ["code"],
        "grant_types": grants,
        "token_endpoint_auth_method": method_name(p.client_auth),
    });
    if !p.scopes.is_empty() {
        m["scope"] = p.scopes.join(" ").into();
    }
    if let Some(key) = &p.client_key {
        let mut jwk = key.public().jwk;
        if let Some(cert) = &p.client_cert {
            jwk["x5c"] = json!(cert.x5c());
        }
        m["jwks"] = json!({ "keys": [jwk] });
        if p.client_auth == ClientAuth::PrivateKeyJwt {
            m["token_endpoint_auth_signing_alg"] = key.alg().as_str().into();
        }
    }
    if p.dpop {
        m["dpop_bound_access_tokens"] = true.into();
    }
    m
}

/// Registers a client at `endpoint` with `metadata` (and the initial access token the
/// provider asked for, RFC 7591 §3).
pub fn register(
    http: &Http,
    endpoint: &str,
    metadata: &Value,
    initial_token: Option<&Secret<String>>,
) -> Result<Registered> {
    let answer = send(
        http,
        "POST",
        endpoint,
        initial_token,
        Some(metadata),
        "registering the client",
    )?;
    read(&answer, metadata, endpoint, None).map_err(|refused| {
        // The provider made the client all the same: delete it again where it says how.
        let salvaged = match (
            answer["registration_client_uri"].as_str(),
            answer["registration_access_token"].as_str(),
        ) {
            (Some(uri), Some(token)) => {
                managed_at(uri, endpoint).ok().map(|client_uri| Management {
                    client_uri,
                    access_token: Secret::new(token.to_owned()),
                })
            }
            _ => None,
        };
        let deleted = salvaged.is_some_and(|m| delete(http, &m).is_ok());
        let left = if deleted {
            "the client it made was deleted again".to_owned()
        } else {
            format!(
                "the client it made ({}) may remain at the provider: delete it there",
                visible(answer["client_id"].as_str().unwrap_or("without an id"))
            )
        };
        Error::ProviderError(format!("{refused}; {left}"))
    })
}

/// Replaces the registration's metadata (RFC 7592 §2.2); the provider may answer with a new
/// secret and a new registration token, which replace the old.
pub fn update(
    http: &Http,
    management: &Management,
    client_id: &str,
    metadata: &Value,
) -> Result<Registered> {
    let mut body = metadata.clone();
    body["client_id"] = client_id.into();
    let answer = send(
        http,
        "PUT",
        &management.client_uri,
        Some(&management.access_token),
        Some(&body),
        "updating the registration",
    )?;
    read(
        &answer,
        metadata,
        &management.client_uri,
        Some((client_id, management)),
    )
}

/// Deletes the client at the provider (RFC 7592 §2.3).
pub fn delete(http: &Http, management: &Management) -> Result<()> {
    send(
        http,
        "DELETE",
        &management.client_uri,
        Some(&management.access_token),
        None,
        "deleting the client at the provider",
    )
    .map(|_| ())
}

/// The answer's JSON object (Null for an empty 2xx), or the provider's refusal in plain words.
fn send(
    http: &Http,
    method: &str,
    url: &str,
    bearer: Option<&Secret<String>>,
    body: Option<&Value>,
    doing: &str,
) -> Result<Value> {
    // As the URL parser writes it: escaped, which the request line needs.
    let target = Url::parse(url).map_err(|e| {
        Error::InvalidInput(format!("{doing}: {} is not a URL ({e})", visible(url)))
    })?;
    let mut request = http::Request::builder()
        .method(method)
        .uri(target.as_str())
        .header(http::header::ACCEPT, "application/json");
    if let Some(token) = bearer {
        request = request.header(
            http::header::AUTHORIZATION,
            format!("Bearer {}", token.expose()),
        );
    }
    let bytes = match body {
        Some(b) => {
            request = request.header(http::header::CONTENT_TYPE, "application/json");
            serde_json::to_vec(b).expect("JSON serializes")
        }
        None => Vec::new(),
    };
    let request = request
        .body(bytes)
        .map_err(|e| Error::InvalidInput(format!("{doing}: {e}")))?;
    let response = http.call(request)?;
    let status = response.status().as_u16();
    let body = response.body();
    if body.len() > MAX_ANSWER {
        return Err(Error::ProviderError(format!(
            "{doing}: the answer is larger than {MAX_ANSWER} bytes"
        )));
    }
    let doc: Option<Value> = serde_json::from_slice(body).ok();
    if !(200..300).contains(&status) {
        let said = doc
            .as_ref()
            .and_then(|d| {
                let code = d["error"].as_str()?;
                let text = d["error_description"].as_str().unwrap_or_default();
                Some(format!(": {}", visible(format!("{code} {text}").trim())))
            })
            .unwrap_or_default();
        return Err(Error::ProviderError(format!(
            "{doing}: the provider refused (HTTP {status}{said})"
        )));
    }
    match doc {
        Some(d @ Value::Object(_)) => Ok(d),
        None if body.is_empty() => Ok(Value::Null),
        _ => Err(Error::ProviderError(format!(
            "{doing}: the provider's answer is not a JSON object"
        ))),
    }
}

/// Checks an answer to a registration (or an update, with the client it was for).
fn read(
    answer: &Value,
    asked: &Value,
    endpoint: &str,
    updating: Option<(&str, &Management)>,
) -> Result<Registered> {
    let doc = answer.as_object().ok_or_else(|| {
        Error::ProviderError("the registration answer is not a JSON object".into())
    })?;
    let text = |key: &str| -> Result<Option<String>> {
        match doc.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s))
                if !s.is_empty() && s.len() <= MAX_CREDENTIAL && check::plain_text(s).is_ok() =>
            {
                Ok(Some(s.clone()))
            }
            Some(_) => Err(Error::ProviderError(format!(
                "the registration answer's {key} is not a usable string"
            ))),
        }
    };
    let client_id = text("client_id")?.ok_or_else(|| {
        Error::ProviderError("the registration answer has no client_id (RFC 7591 §3.2.1)".into())
    })?;
    if let Some((id, _)) = updating {
        if client_id != id {
            return Err(Error::ProviderError(format!(
                "the provider answered the update of {} for another client, {}",
                visible(id),
                visible(&client_id)
            )));
        }
    }
    unasked_redirects(doc, asked)?;
    let client_auth = match text("token_endpoint_auth_method")? {
        None => None,
        Some(m) => Some(method_from_name(&m).ok_or_else(|| {
            Error::ProviderError(format!(
                "the provider registered the client with {}, an authentication method OAuth \
                 Desk does not speak",
                visible(&m)
            ))
        })?),
    };
    let management = match (
        text("registration_client_uri")?,
        text("registration_access_token")?,
    ) {
        (Some(uri), Some(token)) => Some(Management {
            client_uri: managed_at(&uri, endpoint)?,
            access_token: Secret::new(token),
        }),
        // An update that sends no new token keeps the old one (RFC 7592 §2.2).
        (None, None) => updating.map(|(_, m)| m.clone()),
        (Some(uri), None) => match updating {
            Some((_, m)) => Some(Management {
                client_uri: managed_at(&uri, endpoint)?,
                access_token: m.access_token.clone(),
            }),
            None => None,
        },
        (None, Some(_)) => updating.map(|(_, m)| m.clone()),
    };
    Ok(Registered {
        client_id,
        client_secret: text("client_secret")?.map(Secret::new),
        management,
        client_auth,
    })
}

/// The redirect URIs the provider registered must be among those asked for: a provider (or a
/// network attacker on the way) that adds one would get the codes of sign-ins sent there.
fn unasked_redirects(doc: &Map<String, Value>, asked: &Value) -> Result<()> {
    let Some(given) = doc.get("redirect_uris") else {
        return Ok(());
    };
    let asked: Vec<&str> = asked["redirect_uris"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let given = given.as_array().ok_or_else(|| {
        Error::ProviderError("the registration answer's redirect_uris is not a list".into())
    })?;
    for uri in given {
        let uri = uri.as_str().unwrap_or_default();
        if !asked.contains(&uri) {
            return Err(Error::ProviderError(format!(
                "the provider registered a redirect URI OAuth Desk did not ask for ({}); the \
                 client is not used",
                visible(uri)
            )));
        }
    }
    Ok(())
}

/// The client configuration endpoint, refused unless it is on the registration endpoint's
/// origin: the registration token goes there, and nowhere else.
fn managed_at(uri: &str, endpoint: &str) -> Result<String> {
    let valid = check::endpoint(uri).ok().flatten().ok_or_else(|| {
        Error::ProviderError(format!(
            "the registration answer's registration_client_uri is not a usable URL ({})",
            visible(uri)
        ))
    })?;
    let origin = |u: &str| Url::parse(u).map(|u| u.origin().ascii_serialization());
    if origin(&valid).ok() != origin(endpoint).ok() {
        return Err(Error::ProviderError(format!(
            "the provider manages the registration at {}, not on the registration endpoint's \
             host; its registration token is not sent there",
            visible(&valid)
        )));
    }
    Ok(valid)
}

/// `crate::fuzzing`: an answer read as `register` reads it.
pub(crate) fn fuzz_answer(body: &[u8]) {
    if body.len() > MAX_ANSWER {
        return;
    }
    if let Ok(answer) = serde_json::from_slice::<Value>(body) {
        let asked = json!({ "redirect_uris": ["http://127.0.0.1/callback"] });
        let _ = read(&answer, &asked, "https://idp.example/reg", None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked() -> Value {
        json!({ "redirect_uris": ["http://127.0.0.1/callback"] })
    }

    const ENDPOINT: &str = "https://idp.example/reg";

    #[test]
    fn a_registration_answer_gives_the_client_and_where_it_is_managed() {
        let got = read(
            &json!({
                "client_id": "c1",
                "client_secret": "s1",
                "registration_client_uri": "https://idp.example/reg/c1",
                "registration_access_token": "rat",
                "token_endpoint_auth_method": "client_secret_post",
                "redirect_uris": ["http://127.0.0.1/callback"],
            }),
            &asked(),
            ENDPOINT,
            None,
        )
        .unwrap();
        assert_eq!(got.client_id, "c1");
        assert_eq!(got.client_secret.unwrap().expose(), "s1");
        let m = got.management.unwrap();
        assert_eq!(m.client_uri, "https://idp.example/reg/c1");
        assert_eq!(m.access_token.expose(), "rat");
        assert_eq!(got.client_auth, Some(ClientAuth::Post));
    }

    #[test]
    fn answers_that_do_not_check_out_are_refused() {
        let refused = |answer: Value| {
            read(&answer, &asked(), ENDPOINT, None)
                .unwrap_err()
                .to_string()
        };
        assert!(refused(json!({})).contains("no client_id"));
        assert!(refused(json!({"client_id": 7})).contains("client_id"));
        assert!(refused(json!({"client_id": "a\nb"})).contains("client_id"));
        assert!(refused(json!({
            "client_id": "c1",
            "redirect_uris": ["http://127.0.0.1/callback", "https://evil.example/cb"],
        }))
        .contains("did not ask for"));
        assert!(refused(json!({
            "client_id": "c1",
            "registration_client_uri": "https://evil.example/reg/c1",
            "registration_access_token": "rat",
        }))
        .contains("not sent there"));
        assert!(refused(json!({
            "client_id": "c1", "token_endpoint_auth_method": "magic",
        }))
        .contains("does not speak"));
        let wrong = Management {
            client_uri: "https://idp.example/reg/c1".into(),
            access_token: Secret::new("rat".into()),
        };
        let other = read(
            &json!({"client_id": "c2"}),
            &asked(),
            ENDPOINT,
            Some(("c1", &wrong)),
        )
        .unwrap_err()
        .to_string();
        assert!(other.contains("another client"), "{other}");
    }

    #[test]
    fn an_update_without_a_new_token_keeps_the_old_one() {
        let m = Management {
            client_uri: "https://idp.example/reg/c1".into(),
            access_token: Secret::new("rat".into()),
        };
        let got = read(
            &json!({"client_id": "c1"}),
            &asked(),
            ENDPOINT,
            Some(("c1", &m)),
        )
        .unwrap();
        assert_eq!(got.management.unwrap().access_token.expose(), "rat");
    }

    #[test]
    fn native_clients_register_a_loopback_redirect_without_a_port_unless_one_is_fixed() {
        let mut p = ProviderRecord::default();
        p.config.redirect_path = "/callback".into();
        assert_eq!(redirect_uris(&p), ["http://127.0.0.1/callback"]);
        p.config.redirect_port = 8123;
        assert_eq!(redirect_uris(&p), ["http://127.0.0.1:8123/callback"]);
        p.config.redirect_url = Some("https://app.example/cb".into());
        assert_eq!(redirect_uris(&p), ["https://app.example/cb"]);
        let m = metadata(&p);
        assert_eq!(m["application_type"], "web");
        assert_eq!(m["token_endpoint_auth_method"], "client_secret_basic");
    }
}
