//! The client's authentication on every request that carries it. Requests the `oauth2` crate
//! does not build (revocation, introspection, pushed authorization) are a form POST made here
//! (`form_post`); the crate's own (token, device authorization) go through `ClientHttp`, which
//! adds the client's assertion when it authenticates with one (`oauth::assertion`).

use std::borrow::Cow;

use base64::Engine;

use super::signing_key::SigningKey;
use super::{assertion, dpop};
use crate::error::{Error, Result};
use crate::http::Http;
use crate::vault::provider_table::{ClientAuth, ProviderRecord};

/// Where `p`'s client sends a request: the endpoint's mutual-TLS alias (RFC 8705 §5) when it
/// authenticates with a certificate and the metadata named one, else the endpoint itself.
pub fn via_mtls<'a>(
    p: &ProviderRecord,
    endpoint: Option<&'a str>,
    alias: Option<&'a str>,
) -> Option<&'a str> {
    match alias {
        Some(a) if p.client_auth.uses_certificate() => Some(a),
        _ => endpoint,
    }
}

/// The client that sends `p`'s client-authenticated requests: `http` itself, or, for a client
/// that authenticates with its certificate (RFC 8705), `http` presenting it.
pub fn http_for<'a>(http: &'a Http, p: &ProviderRecord) -> Result<Cow<'a, Http>> {
    if !p.client_auth.uses_certificate() {
        return Ok(Cow::Borrowed(http));
    }
    let (Some(cert), Some(key)) = (&p.client_cert, &p.client_key) else {
        return Err(Error::InvalidInput(format!(
            "{} authenticates with a certificate (mutual TLS) but has none: give it with --client-cert",
            crate::text::shown(&p.name)
        )));
    };
    cert.valid_at(crate::time::now()).map_err(|e| {
        Error::InvalidInput(format!(
            "{}: {e}; give a new one with `oauth-desk provider update {} --client-cert FILE` (a self-signed one is made anew with --generate-key, then registered again)",
            crate::text::shown(&p.name),
            crate::text::shown(&p.name)
        ))
    })?;
    let identity = cert.identity_pem(key)?;
    Ok(Cow::Owned(http.with_identity(identity.expose())?))
}

/// A POST of `pairs` to `url`, authenticated as `p`'s client: HTTP Basic (each part
/// form-encoded before Base64), the secret in the body, the client id alone, or the client id
/// and a fresh assertion. Build it again for a retry: an assertion is good for one request.
pub fn form_post(
    p: &ProviderRecord,
    url: &str,
    pairs: &[(&str, &str)],
) -> Result<http::Request<Vec<u8>>> {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(pairs);
    let mut request = http::Request::post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json");
    match (
        p.client_auth,
        p.client_secret.as_ref().map(|s| s.expose().as_str()),
    ) {
        (ClientAuth::Basic, Some(secret)) => {
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let pair = format!("{}:{}", enc(&p.client_id), enc(secret));
            let b64 = base64::engine::general_purpose::STANDARD.encode(pair);
            request = request.header("Authorization", format!("Basic {b64}"));
        }
        (ClientAuth::Post, Some(secret)) => {
            form.append_pair("client_id", &p.client_id)
                .append_pair("client_secret", secret);
        }
        _ => {
            form.append_pair("client_id", &p.client_id);
        }
    }
    for (name, value) in assertion::parameters(p, url, crate::time::now())?
        .into_iter()
        .flatten()
    {
        form.append_pair(name, value.expose());
    }
    request
        .body(form.finish().into_bytes())
        .map_err(|e| Error::InvalidInput(format!("cannot build a request to {url}: {e}")))
}

/// `Http` for the requests the `oauth2` crate builds for `p`'s client: it has put the client
/// id (and a secret, for basic and post) in; this adds a fresh assertion to each request's
/// body when the client authenticates with one, so that a retry is no replay, and, to a
/// token request of a DPoP provider, a fresh proof (answering one nonce challenge).
pub(crate) struct ClientHttp<'a> {
    http: Cow<'a, Http>,
    p: &'a ProviderRecord,
    dpop: Option<&'a SigningKey>,
}

impl<'a> ClientHttp<'a> {
    /// For the token endpoint: with a DPoP proof when the provider binds its tokens.
    pub fn new(http: &'a Http, p: &'a ProviderRecord) -> Result<ClientHttp<'a>> {
        let dpop = if p.dpop { p.dpop_key.as_ref() } else { None };
        Ok(ClientHttp {
            http: http_for(http, p)?,
            p,
            dpop,
        })
    }

    /// For an endpoint that issues no token (device authorization): no proof.
    pub fn without_dpop(http: &'a Http, p: &'a ProviderRecord) -> Result<ClientHttp<'a>> {
        Ok(ClientHttp {
            dpop: None,
            ..ClientHttp::new(http, p)?
        })
    }

    /// `Http::call`, authenticated.
    pub fn call(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>> {
        let build = |nonce: Option<&str>| -> Result<http::Request<Vec<u8>>> {
            let mut request = crate::http::clone_request(&request);
            let now = crate::time::now();
            let url = request.uri().to_string();
            if let Some(pairs) = assertion::parameters(self.p, &url, now)? {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                for (name, value) in &pairs {
                    form.append_pair(name, value.expose());
                }
                let body = request.body_mut();
                if !body.is_empty() {
                    body.push(b'&');
                }
                body.extend_from_slice(form.finish().as_bytes());
            }
            if let Some(key) = self.dpop {
                let proof = dpop::proof(key, request.method().as_str(), &url, nonce, None, now)?;
                let value = http::HeaderValue::from_str(proof.expose())
                    .map_err(|e| Error::InvalidInput(format!("a DPoP proof: {e}")))?;
                request.headers_mut().insert("DPoP", value);
            }
            Ok(request)
        };
        match self.dpop {
            Some(_) => dpop::send(&self.http, build),
            None => self.http.call(build(None)?),
        }
    }
}

impl oauth2::SyncHttpClient for ClientHttp<'_> {
    type Error = Error;
    fn call(&self, request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse> {
        let url = request.uri().to_string();
        crate::http::oauth_answer(&url, ClientHttp::call(self, request)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::provider_table::ProviderConfig;

    fn provider(auth: ClientAuth) -> ProviderRecord {
        ProviderRecord {
            config: ProviderConfig {
                client_id: "desk:1".into(),
                client_auth: auth,
                ..Default::default()
            },
            client_secret: Some("s&cret".into()),
            ..Default::default()
        }
    }

    #[test]
    fn each_client_authentication_goes_where_it_belongs() {
        let basic = form_post(
            &provider(ClientAuth::Basic),
            "https://idp.example/revoke",
            &[("token", "t")],
        )
        .unwrap();
        let expected = base64::engine::general_purpose::STANDARD.encode("desk%3A1:s%26cret");
        assert_eq!(
            basic.headers()["authorization"],
            format!("Basic {expected}").as_str()
        );
        assert_eq!(basic.body(), b"token=t");
        let post = form_post(
            &provider(ClientAuth::Post),
            "https://idp.example/revoke",
            &[("token", "t")],
        )
        .unwrap();
        assert!(post.headers().get("authorization").is_none());
        assert_eq!(
            post.body(),
            b"token=t&client_id=desk%3A1&client_secret=s%26cret"
        );
        let public = ProviderRecord {
            client_secret: None,
            ..provider(ClientAuth::None)
        };
        assert_eq!(
            form_post(&public, "https://idp.example/revoke", &[])
                .unwrap()
                .body(),
            b"client_id=desk%3A1"
        );
    }
}
