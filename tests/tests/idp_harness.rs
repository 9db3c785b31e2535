//! The harness itself, against the real test provider: every grant later issues rely on works
//! end to end when played by hand (PKCE code flow for each client, refresh, introspection,
//! revocation, device flow, client credentials, refused consent).

use base64::Engine;
use oauth_desk_tests::idp::{self, Client, Idp};
use oauth_desk_tests::user::User;

use serde_json::Value;
use sha2::Digest;
use url::Url;

fn random_b64(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).unwrap();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// A PKCE authorization URL for `client` redirecting to a loopback port; returns it with its
/// verifier and state.
fn auth_url(idp: &Idp, client: &Client, port: u16) -> (String, String, String) {
    let verifier = random_b64(32);
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&verifier));
    let state = random_b64(16);
    let mut url = Url::parse(&idp.endpoint("authorization_endpoint")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client.id)
        .append_pair("redirect_uri", &format!("http://127.0.0.1:{port}/callback"))
        .append_pair("scope", "openid email offline_access")
        .append_pair("state", &state)
        .append_pair("nonce", &random_b64(16))
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    (url.into(), verifier, state)
}

fn token_request(
    idp: &Idp,
    client: &Client,
    mut form: Vec<(&str, String)>,
    basic: bool,
) -> (u16, Value) {
    let mut req = oauth_desk_tests::http().post(idp.endpoint("token_endpoint"));
    match (client.secret, basic) {
        (Some(secret), true) => req = req.basic_auth(client.id, Some(secret)),
        (Some(secret), false) => {
            form.push(("client_id", client.id.into()));
            form.push(("client_secret", secret.into()));
        }
        (None, _) => form.push(("client_id", client.id.into())),
    }
    let resp = req.form(&form).send().unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().unwrap())
}

fn code_flow(idp: &Idp, client: &Client, basic: bool, login: &str) -> Value {
    let port = oauth_desk_tests::free_port();
    let (url, verifier, state) = auth_url(idp, client, port);
    let redirect = User::new(login).authorize(&url).expect("the user signs in");
    assert_eq!(redirect.host_str(), Some("127.0.0.1"));
    assert_eq!(redirect.port(), Some(port));
    let q: std::collections::HashMap<_, _> = redirect.query_pairs().into_owned().collect();
    assert_eq!(
        q.get("state"),
        Some(&state),
        "the provider returns our state"
    );
    assert_eq!(
        q.get("iss"),
        Some(&idp.issuer),
        "the provider sends iss (RFC 9207)"
    );
    let code = q.get("code").expect("an authorization code").clone();
    let (status, tokens) = token_request(
        idp,
        client,
        vec![
            ("grant_type", "authorization_code".into()),
            ("code", code),
            ("redirect_uri", format!("http://127.0.0.1:{port}/callback")),
            ("code_verifier", verifier),
        ],
        basic,
    );
    assert_eq!(status, 200, "{tokens}");
    assert!(
        tokens["access_token"].is_string()
            && tokens["refresh_token"].is_string()
            && tokens["id_token"].is_string(),
        "{tokens}"
    );
    tokens
}

#[test]
fn code_flow_with_pkce_works_for_each_client() {
    let idp = Idp::start();
    for (client, basic) in [
        (&idp::BASIC, true),
        (&idp::POST, false),
        (&idp::PUBLIC, false),
    ] {
        let tokens = code_flow(&idp, client, basic, "alice");
        assert_eq!(tokens["token_type"], "Bearer");
    }
}

#[test]
fn refresh_introspect_and_revoke() {
    let idp = Idp::start();
    let tokens = code_flow(&idp, &idp::BASIC, true, "bob");
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, fresh) = token_request(
        &idp,
        &idp::BASIC,
        vec![
            ("grant_type", "refresh_token".into()),
            ("refresh_token", refresh.clone()),
        ],
        true,
    );
    assert_eq!(status, 200, "{fresh}");
    assert_ne!(
        fresh["refresh_token"].as_str().unwrap(),
        refresh,
        "the test provider rotates refresh tokens"
    );

    let access = fresh["access_token"].as_str().unwrap();
    let introspect = |token: &str| -> Value {
        oauth_desk_tests::http()
            .post(idp.endpoint("introspection_endpoint"))
            .basic_auth(idp::BASIC.id, idp::BASIC.secret)
            .form(&[("token", token)])
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let info = introspect(access);
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["sub"], "bob");

    let revoked = oauth_desk_tests::http()
        .post(idp.endpoint("revocation_endpoint"))
        .basic_auth(idp::BASIC.id, idp::BASIC.secret)
        .form(&[("token", access)])
        .send()
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 200);
    assert_eq!(
        introspect(access)["active"],
        false,
        "a revoked token is inactive"
    );
}

#[test]
fn device_flow_played_by_the_user() {
    let idp = Idp::start();
    let start: Value = oauth_desk_tests::http()
        .post(idp.endpoint("device_authorization_endpoint"))
        .form(&[("client_id", idp::PUBLIC.id), ("scope", "openid email")])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let device_code = start["device_code"]
        .as_str()
        .expect("a device code")
        .to_owned();
    let poll = || {
        token_request(
            &idp,
            &idp::PUBLIC,
            vec![
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:device_code".into(),
                ),
                ("device_code", device_code.clone()),
            ],
            false,
        )
    };
    let (status, pending) = poll();
    assert_eq!(
        (status, pending["error"].as_str()),
        (400, Some("authorization_pending"))
    );
    User::new("carol")
        .confirm_device(
            start["verification_uri"].as_str().unwrap(),
            start["user_code"].as_str().unwrap(),
        )
        .expect("the user confirms the device");
    let (status, tokens) = poll();
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["access_token"].is_string());
}

#[test]
fn client_credentials_and_refused_consent() {
    let idp = Idp::start();
    let (status, tokens) = token_request(
        &idp,
        &idp::BASIC,
        vec![("grant_type", "client_credentials".into())],
        true,
    );
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["access_token"].is_string());
    let (status, refused) = token_request(
        &idp,
        &idp::PUBLIC,
        vec![("grant_type", "client_credentials".into())],
        false,
    );
    assert_eq!(
        status, 400,
        "a public client may not use client credentials: {refused}"
    );

    let (url, _, _) = auth_url(&idp, &idp::PUBLIC, 9);
    let redirect = User::new("dave")
        .refuse(&url)
        .expect("the user reaches the consent page and refuses");
    let q: std::collections::HashMap<_, _> = redirect.query_pairs().into_owned().collect();
    assert_eq!(q.get("error").map(String::as_str), Some("access_denied"));
}
