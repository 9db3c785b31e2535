//! One entry point per parser that reads outside input, for the fuzz targets in `tests/fuzz`
//! and for the regression inputs they found (`tests/fuzz/regressions`, replayed by
//! `tests/fuzz_regressions.rs`). Each takes raw bytes, runs the same code a provider's answer,
//! a file or a local client reaches, and may fail with an error; it must never panic, hang or
//! grow without bound. Not an API: the names follow the targets, nothing else calls them.

use std::sync::OnceLock;

use crate::http::Http;
use crate::oauth::provider::ProviderInput;
use crate::vault::provider_table::{ClientAuth, ProviderConfig, ProviderRecord};
use crate::vault::Vault;

/// What a fuzz target calls with its input.
pub type Entry = fn(&[u8]);

/// The fuzz targets, by name: each maps to the function below that feeds it.
pub const TARGETS: &[(&str, Entry)] = &[
    ("callback_request", callback_request),
    ("token_response", token_response),
    ("discovery_document", discovery_document),
    ("device_answer", device_answer),
    ("id_token", id_token),
    ("provider_import", provider_import),
    ("token_import", token_import),
    ("backup_header", backup_header),
    ("agent_line", agent_line),
    ("api_provider_body", api_provider_body),
    ("registration_answer", registration_answer),
    ("exchange_answer", exchange_answer),
];

fn text(data: &[u8]) -> &str {
    std::str::from_utf8(data).unwrap_or("")
}

/// A provider as a sign-in or refresh meets it: an issuer, a client id, and a client secret so
/// that HMAC ID tokens are tried too.
fn provider() -> ProviderRecord {
    ProviderRecord {
        config: ProviderConfig {
            name: "fuzz".into(),
            issuer: Some("https://idp.example".into()),
            authorization_url: Some("https://idp.example/auth".into()),
            token_url: Some("https://idp.example/token".into()),
            client_id: "desk".into(),
            client_auth: ClientAuth::Basic,
            scopes: vec!["openid".into()],
            ..Default::default()
        },
        client_secret: Some(crate::Secret::new("fuzz-client-secret".into())),
        ..Default::default()
    }
}

fn http() -> &'static Http {
    static HTTP: OnceLock<Http> = OnceLock::new();
    HTTP.get_or_init(|| {
        crate::http::install_tls();
        Http::new().expect("an HTTP client builds")
    })
}

/// A request to the loopback listener, judged as the listener judges it (path, method, Host,
/// state), then checked as the redirect of this sign-in.
pub fn callback_request(data: &[u8]) {
    let state = "the-state-of-this-sign-in";
    let check = crate::oauth::callback::StateCheck::new(state);
    let Some(params) = crate::oauth::loopback::fuzz_judge(data, &check) else {
        return;
    };
    let expected = crate::oauth::callback::Expected {
        state,
        issuer: Some("https://idp.example"),
        iss_required: data.len() % 2 == 1,
        started_at: 1_700_000_000,
    };
    let _ = crate::oauth::callback::code_from(&params, &expected, 1_700_000_100);
}

/// A token endpoint's JSON answer, read and checked as every grant's answer is. No JWKS is
/// configured, so an ID token is checked without a network fetch.
pub fn token_response(data: &[u8]) {
    let _ = crate::oauth::flow::fuzz_token_response(data, &provider(), http());
}

/// A metadata document as discovery reads it, then its fields as a provider takes them.
pub fn discovery_document(data: &[u8]) {
    let url = "https://idp.example/.well-known/openid-configuration";
    let content_type = data.first().map(|b| {
        if b & 1 == 1 {
            "text/html"
        } else {
            "application/json"
        }
    });
    if let Ok(doc) = crate::oauth::discovery::parse_document(url, data, content_type) {
        if let Ok(m) = crate::oauth::discovery::metadata(url, "https://idp.example", &doc) {
            let mut input = ProviderInput::default();
            m.fill(&mut input, crate::oauth::discovery::Fill::Overwrite);
            let _ = input.validate(None);
        }
    }
}

/// A device authorization endpoint's answer (RFC 8628 §3.2).
pub fn device_answer(data: &[u8]) {
    let _ = crate::oauth::flow::fuzz_device_answer(data);
}

/// A key set and an ID token, separated by the first NUL byte, verified as a sign-in does.
pub fn id_token(data: &[u8]) {
    let (jwks, token) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"{\"keys\":[]}"[..], data),
    };
    let _ = crate::oauth::flow::fuzz_id_token(jwks, text(token), &provider());
}

/// A shared providers file, planned against a vault that already holds one provider.
pub fn provider_import(data: &[u8]) {
    let Ok(vault) = Vault::open_in_memory() else {
        return;
    };
    let existing = ProviderInput {
        name: Some("Existing".into()),
        client_id: Some("c".into()),
        token_url: Some("https://idp.example/token".into()),
        ..Default::default()
    };
    let _ = crate::providers::add(&vault, &existing, 1);
    let _ = crate::provider_sharing::plan(&vault, text(data));
}

/// A token to import, as `token import` and the API's "set user token" read it.
pub fn token_import(data: &[u8]) {
    let _ = crate::import::fuzz_parse(data, 1_700_000_000);
}

/// A provider's answer to a client registration (RFC 7591 §3.2), checked as `register` checks it.
pub fn registration_answer(data: &[u8]) {
    crate::oauth::registration::fuzz_answer(data);
}

/// A provider's answer to a token exchange (RFC 8693 §2.2), checked as `exchange` checks it.
pub fn exchange_answer(data: &[u8]) {
    let _ = crate::exchange::fuzz_answer(data, 1_700_000_000);
}

/// The first bytes of a file offered as a vault or a backup, as they are read before any key.
pub fn backup_header(data: &[u8]) {
    let Ok(dir) = tempfile_dir() else { return };
    let path = dir.join("backup.odb");
    if std::fs::write(&path, data).is_ok() {
        let _ = crate::vault::inspect(&path);
    }
    let _ = std::fs::remove_file(&path);
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    if let Some(d) = DIR.get() {
        return Ok(d.clone());
    }
    let d = std::env::temp_dir().join(format!("oauth-desk-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(DIR.get_or_init(|| d).clone())
}

/// A line on the token agent's socket: a request as the agent reads it, and an answer as
/// `token get` reads it.
pub fn agent_line(data: &[u8]) {
    crate::agent::fuzz_request(data);
    let _ = oauth_desk_agent_client::parse_answer(text(data));
}

/// A JSON body of `POST /app` or `PUT /app/{name}`, read and saved as the REST API does.
pub fn api_provider_body(data: &[u8]) {
    let Ok(input) = serde_json::from_slice::<ProviderInput>(data) else {
        return;
    };
    if input.remote_refusal().is_some() {
        return;
    }
    let Ok(vault) = Vault::open_in_memory() else {
        return;
    };
    if crate::providers::add(&vault, &input, 1).is_ok() {
        let name = input.name.clone().unwrap_or_default();
        let _ = crate::providers::update(&vault, name.trim(), &input, 2);
    }
}
