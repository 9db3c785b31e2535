//! Requests the `oauth2` crate does not build (revocation, introspection): a form POST carrying
//! the client's authentication as the provider is configured, RFC 6749 §2.3.1.

use base64::Engine;

use crate::error::{Error, Result};
use crate::vault::provider_table::{ClientAuth, ProviderRecord};

/// A POST of `pairs` to `url`, authenticated as `p`'s client: HTTP Basic (each part
/// form-encoded before Base64), the secret in the body, or the client id alone.
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
    request
        .body(form.finish().into_bytes())
        .map_err(|e| Error::InvalidInput(format!("cannot build a request to {url}: {e}")))
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
