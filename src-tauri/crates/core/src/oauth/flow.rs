//! The grants, with the `oauth2` crate: authorization code + PKCE S256, device authorization
//! (RFC 8628), client credentials (RFC 6749 §4.4) and refresh (§6). Every token response is
//! checked before it becomes a `Grant`: bearer only, a sane lifetime, and an ID token verified
//! as OIDC Core §3.1.3.7 asks (signature against the provider's JWKS, issuer, audience, expiry,
//! nonce) with the `openidconnect` crate.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    DeviceAuthorizationUrl, EndpointMaybeSet, EndpointNotSet, ExtraTokenFields, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    StandardDeviceAuthorizationResponse, StandardRevocableToken, StandardTokenResponse,
    TokenResponse, TokenUrl,
};
use openidconnect::core::CoreIdToken;
use openidconnect::{IdTokenVerifier, IssuerUrl, JsonWebKeySet, Nonce};
use serde::{Deserialize, Serialize};

use super::callback::{self, Expected, StateCheck};
use super::client_auth::ClientHttp;
use super::dpop;
use super::jwk::Jwk;
use super::polling::Schedule;
use crate::error::{Error, Result};
use crate::http::Http;
use crate::secret::Secret;
use crate::text::{inert, shown};
use crate::vault::provider_table::{ClientAuth, ProviderRecord};

/// The longest lifetime a token response may claim: ten years. More is a broken provider.
pub const MAX_EXPIRES_IN: u64 = 10 * 365 * 24 * 3600;

/// The token response with the one extra field OpenID Connect adds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}
impl ExtraTokenFields for IdTokenField {}

type TokenResp = StandardTokenResponse<IdTokenField, BasicTokenType>;
type Client = oauth2::Client<
    BasicErrorResponse,
    TokenResp,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointMaybeSet,
    EndpointMaybeSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
>;

/// What a successful grant gives, checked.
#[derive(Debug)]
pub struct Grant {
    pub access_token: Secret<String>,
    pub token_type: String,
    pub refresh_token: Option<Secret<String>>,
    pub id_token: Option<Secret<String>>,
    pub scopes: Vec<String>,
    pub expires_at: Option<i64>,
    /// Who signed in, from the verified ID token.
    pub subject: Option<String>,
    pub email: Option<String>,
    pub preferred_username: Option<String>,
    /// The account's own DPoP key this token is bound to (a provider that gives each account
    /// one); None: the provider's key, or no binding.
    pub dpop_key: Option<crate::oauth::signing_key::SigningKey>,
}

/// Where token requests go: the token endpoint, or its mutual-TLS alias (RFC 8705 §5) for a
/// client that authenticates with its certificate.
fn token_endpoint(p: &ProviderRecord) -> Option<&str> {
    super::client_auth::via_mtls(p, p.token_url.as_deref(), p.mtls_token_url.as_deref())
}

fn client(p: &ProviderRecord, redirect_uri: Option<&str>) -> Result<Client> {
    fn url_err(what: &'static str) -> impl Fn(url::ParseError) -> Error {
        move |e| Error::InvalidInput(format!("the provider's {what} is not a URL: {e}"))
    }
    let mut c = oauth2::Client::new(ClientId::new(p.client_id.clone()))
        .set_auth_uri_option(
            p.authorization_url
                .clone()
                .map(AuthUrl::new)
                .transpose()
                .map_err(url_err("authorization endpoint"))?,
        )
        .set_token_uri_option(
            token_endpoint(p)
                .map(str::to_owned)
                .map(TokenUrl::new)
                .transpose()
                .map_err(url_err("token endpoint"))?,
        )
        .set_device_authorization_url_option(
            super::client_auth::via_mtls(
                p,
                p.device_authorization_url.as_deref(),
                p.mtls_device_authorization_url.as_deref(),
            )
            .map(str::to_owned)
            .map(DeviceAuthorizationUrl::new)
            .transpose()
            .map_err(url_err("device authorization endpoint"))?,
        )
        .set_auth_type(match p.client_auth {
            // With no secret set, the crate puts the client id in the body: where an
            // assertion (`ClientHttp`) goes with it.
            // RFC 8705 §2: a certificate client names itself with client_id in the body.
            ClientAuth::Post
            | ClientAuth::ClientSecretJwt
            | ClientAuth::PrivateKeyJwt
            | ClientAuth::TlsClientAuth
            | ClientAuth::SelfSignedTlsClientAuth => AuthType::RequestBody,
            ClientAuth::Basic | ClientAuth::None => AuthType::BasicAuth,
        });
    // Only these send the secret itself.
    if matches!(p.client_auth, ClientAuth::Basic | ClientAuth::Post) {
        if let Some(secret) = &p.client_secret {
            c = c.set_client_secret(ClientSecret::new(secret.expose().clone()));
        }
    }
    if let Some(r) = redirect_uri {
        c = c.set_redirect_uri(RedirectUrl::new(r.to_owned()).map_err(url_err("redirect URI"))?);
    }
    Ok(c)
}

fn scopes_or_default<'a>(p: &'a ProviderRecord, scopes: &'a [String]) -> &'a [String] {
    if scopes.is_empty() {
        &p.scopes
    } else {
        scopes
    }
}

/// A sign-in in progress: the authorization URL to open, and what the redirect must match.
/// `finish` consumes it, so a state is used once.
pub struct CodeFlow {
    pub url: String,
    /// Sent again with the code, as RFC 6749 §4.1.3 asks.
    redirect_uri: String,
    state: Secret<String>,
    verifier: PkceCodeVerifier,
    nonce: Option<Nonce>,
    started_at: i64,
    provider: ProviderRecord,
    scopes: Vec<String>,
}

impl CodeFlow {
    /// Builds the authorization URL; for a provider that pushes its requests (RFC 9126), pushes
    /// them first, so the URL carries only their reference.
    pub fn start(
        p: &ProviderRecord,
        redirect_uri: &str,
        scopes: &[String],
        now: i64,
        http: &Http,
    ) -> Result<CodeFlow> {
        if p.authorization_url.is_none() {
            return Err(Error::InvalidInput(format!(
                "{} has no authorization endpoint: add it, or sign in with the device flow or client credentials",
                shown(&p.name)
            )));
        }
        let scopes = scopes_or_default(p, scopes).to_vec();
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let client = client(p, Some(redirect_uri))?;
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .map_err(|e| Error::InvalidInput(e.to_string()))?
            .set_pkce_challenge(challenge)
            .add_scopes(scopes.iter().cloned().map(Scope::new));
        let nonce = scopes.iter().any(|s| s == "openid").then(Nonce::new_random);
        if let Some(n) = &nonce {
            request = request.add_extra_param("nonce", n.secret().clone());
        }
        for (k, v) in &p.extra_params {
            request = request.add_extra_param(k.clone(), v.clone());
        }
        for (k, v) in audience_and_resources(p) {
            request = request.add_extra_param(k, v);
        }
        // RFC 9449 §10: the code can then be exchanged only with a proof of this key.
        if let Some(key) = p.dpop_key.as_ref().filter(|_| p.dpop) {
            request = request.add_extra_param("dpop_jkt", key.thumbprint());
        }
        let (url, state) = request.url();
        let url = if p.par {
            super::par::push(p, url.as_str(), http)?
        } else {
            url.to_string()
        };
        Ok(CodeFlow {
            url,
            redirect_uri: redirect_uri.to_owned(),
            state: Secret::new(state.secret().clone()),
            verifier,
            nonce,
            started_at: now,
            provider: p.clone(),
            scopes,
        })
    }

    /// What the loopback listener checks each request against: a request without this
    /// sign-in's state is a stray one (any web page can send it) and must not end the sign-in.
    pub fn state_check(&self) -> StateCheck {
        StateCheck::new(self.state.expose())
    }

    /// Checks the redirect and exchanges its code.
    pub fn finish(self, params: &[(String, String)], http: &Http, now: i64) -> Result<Grant> {
        let expected = Expected {
            state: self.state.expose(),
            issuer: self.provider.issuer.as_deref(),
            iss_required: self.provider.iss_required,
            started_at: self.started_at,
        };
        let code = callback::code_from(params, &expected, now)?;
        let client = client(&self.provider, Some(&self.redirect_uri))?;
        let mut request = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| Error::InvalidInput(e.to_string()))?
            .set_pkce_verifier(self.verifier);
        // RFC 8707 §2.2: the token request names the resources again.
        for (k, v) in audience_and_resources(&self.provider) {
            request = request.add_extra_param(k, v);
        }
        let response = request.request(&Json(
            &ClientHttp::new(http, &self.provider)?,
            "token endpoint",
        ));
        let response = token_result(response)?;
        grant(
            response,
            &self.provider,
            &self.scopes,
            self.nonce.as_ref(),
            http,
            now,
        )
    }
}

/// A device authorization in progress (RFC 8628): what the user must do, and the polling.
pub struct DeviceFlow {
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    /// How long the code is polled for, in seconds: the provider's `expires_in`, at most an
    /// hour (`polling::MAX_LIFETIME`).
    pub expires_in: u64,
    /// The answer with its numbers bounded, as the `oauth2` crate's polling gets it.
    response: StandardDeviceAuthorizationResponse,
    schedule: Schedule,
    provider: ProviderRecord,
    scopes: Vec<String>,
}

impl DeviceFlow {
    pub fn start(p: &ProviderRecord, scopes: &[String], http: &Http) -> Result<DeviceFlow> {
        if p.device_authorization_url.is_none() {
            return Err(Error::InvalidInput(format!(
                "{} has no device authorization endpoint",
                shown(&p.name)
            )));
        }
        let scopes = scopes_or_default(p, scopes).to_vec();
        let c = client(p, None)?;
        let mut request = c
            .exchange_device_code()
            .map_err(|e| Error::InvalidInput(e.to_string()))?
            .add_scopes(scopes.iter().cloned().map(Scope::new));
        for (k, v) in audience_and_resources(p) {
            request = request.add_extra_param(k, v);
        }
        let response: StandardDeviceAuthorizationResponse = request
            .request(&Json(
                &ClientHttp::without_dpop(http, p)?,
                "device authorization endpoint",
            ))
            .map_err(|e| request_error("device authorization endpoint", e))?;
        check_device_answer(&response)?;
        let schedule = Schedule::new(
            response.expires_in().as_secs(),
            response.interval().as_secs(),
            std::time::Instant::now(),
        )
        .map_err(device_answer_refused)?;
        let response = bounded(&response, &schedule)?;
        Ok(DeviceFlow {
            user_code: response.user_code().secret().clone(),
            verification_uri: response.verification_uri().to_string(),
            verification_uri_complete: response
                .verification_uri_complete()
                .map(|u| u.secret().clone()),
            expires_in: schedule.lifetime(),
            response,
            schedule,
            provider: p.clone(),
            scopes,
        })
    }

    /// Polls the token endpoint as RFC 8628 §3.5 asks (`polling::Schedule`) until the user
    /// approves, refuses, the code expires, or `cancel` is set.
    pub fn finish(self, http: &Http, cancel: &AtomicBool, now: impl Fn() -> i64) -> Result<Grant> {
        let client = client(&self.provider, None)?;
        let expires = self.schedule.expires();
        if std::time::Instant::now() >= expires {
            // Past the end, the crate could not even compute its own time limit.
            return Err(Error::ProviderError(
                "the device code expired before the sign-in was approved".into(),
            ));
        }
        let schedule = std::cell::RefCell::new(self.schedule);
        let authenticated = ClientHttp::new(http, &self.provider)?;
        let polling = Polling {
            http: &authenticated,
            cancel,
            schedule: &schedule,
        };
        // The wait after each poll is this side's, not the crate's (which would add to the
        // provider's interval unchecked), and never runs past the code's expiry.
        let sleep = |_: Duration| {
            let until = schedule.borrow().next_poll(std::time::Instant::now());
            while std::time::Instant::now() < until && !cancel.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
        };
        // The crate stops polling only on an answer or when its clock passes the expiry: once
        // cancelled or expired here, its clock jumps to the end, so that it stops at once
        // instead of polling on.
        let clock = move || {
            if cancel.load(Ordering::SeqCst) || std::time::Instant::now() >= expires {
                chrono::DateTime::<chrono::Utc>::MAX_UTC
            } else {
                chrono::Utc::now()
            }
        };
        let result = client
            .exchange_device_access_token(&self.response)
            .map_err(|e| Error::InvalidInput(e.to_string()))?
            .set_time_fn(clock)
            .request(&Json(&polling, "token endpoint"), sleep, None);
        if cancel.load(Ordering::SeqCst) {
            return Err(Error::Cancelled("the sign-in was cancelled".into()));
        }
        let response = result.map_err(|e| match e {
            RequestTokenError::ServerResponse(r) => {
                let code = r.error().as_ref();
                let what = match code {
                    "access_denied" => {
                        "the sign-in was refused at the provider (access_denied)".to_owned()
                    }
                    "expired_token" => {
                        "the device code expired before the sign-in was approved (expired_token)"
                            .to_owned()
                    }
                    other => format!(
                        "the token endpoint answered with the error {}",
                        inert(other)
                    ),
                };
                let description = r
                    .error_description()
                    .map(|d| format!(": {}", inert(d)))
                    .unwrap_or_default();
                Error::OAuth {
                    error: code.to_owned(),
                    message: format!("{what}{description}"),
                }
            }
            other => request_error("token endpoint", other),
        })?;
        grant(response, &self.provider, &self.scopes, None, http, now())
    }
}

fn device_answer_refused(m: String) -> Error {
    Error::ProviderError(format!(
        "the device authorization endpoint answered with {m}; nothing was started"
    ))
}

/// What the person is shown must be safe to show: a web address to open (https, or http on
/// loopback) and a short code of printable characters. The device code goes back with every
/// poll: at most 8 KB, no control characters.
fn check_device_answer(r: &StandardDeviceAuthorizationResponse) -> Result<()> {
    let bad = device_answer_refused;
    let uri = r.verification_uri().to_string();
    super::check::endpoint(&uri).map_err(|e| bad(format!("a verification_uri that {e}")))?;
    if let Some(complete) = r.verification_uri_complete() {
        super::check::endpoint(complete.secret())
            .map_err(|e| bad(format!("a verification_uri_complete that {e}")))?;
    }
    let code = r.user_code().secret();
    if code.is_empty() || code.chars().count() > 64 || super::check::plain_text(code).is_err() {
        return Err(bad(
            "a user_code that is empty, longer than 64 characters or holds control characters"
                .into(),
        ));
    }
    let device_code = r.device_code().secret();
    if device_code.is_empty() || super::check::plain_text(device_code).is_err() {
        return Err(bad(
            "a device_code that is empty, longer than 8 KB or holds control characters".into(),
        ));
    }
    Ok(())
}

/// The answer with the schedule's bounded lifetime and interval in place of the provider's:
/// the crate adds five seconds to the interval on each slow_down and adds the lifetime to its
/// clock, and a number near 2^64 would overflow either (a panic).
fn bounded(
    r: &StandardDeviceAuthorizationResponse,
    schedule: &Schedule,
) -> Result<StandardDeviceAuthorizationResponse> {
    let mut v = serde_json::to_value(r)
        .map_err(|e| Error::ProviderError(format!("the device answer: {e}")))?;
    v["expires_in"] = schedule.lifetime().into();
    v["interval"] = schedule.interval().as_secs().into();
    serde_json::from_value(v).map_err(|e| Error::ProviderError(format!("the device answer: {e}")))
}

/// The HTTP client of the polling: no request once cancelled, and each answer tells the
/// schedule what RFC 8628 §3.5 makes of it (slow_down, or a failed request).
struct Polling<'a> {
    http: &'a ClientHttp<'a>,
    cancel: &'a AtomicBool,
    schedule: &'a std::cell::RefCell<Schedule>,
}

impl oauth2::SyncHttpClient for Polling<'_> {
    type Error = Error;
    fn call(&self, request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse> {
        if self.cancel.load(Ordering::SeqCst) {
            return Err(Error::Cancelled("the sign-in was cancelled".into()));
        }
        let answer = oauth2::SyncHttpClient::call(self.http, request);
        match &answer {
            Ok(r) => {
                let slow_down = serde_json::from_slice::<serde_json::Value>(r.body())
                    .is_ok_and(|v| v["error"] == "slow_down");
                if slow_down {
                    self.schedule.borrow_mut().slow_down();
                }
            }
            Err(_) => self.schedule.borrow_mut().failed(),
        }
        answer
    }
}

/// Client credentials (RFC 6749 §4.4): a token for the client itself, no user.
pub fn client_credentials(
    p: &ProviderRecord,
    scopes: &[String],
    http: &Http,
    now: i64,
) -> Result<Grant> {
    let credential = match p.client_auth {
        ClientAuth::None => false,
        ClientAuth::PrivateKeyJwt => p.client_key.is_some(),
        ClientAuth::TlsClientAuth | ClientAuth::SelfSignedTlsClientAuth => {
            p.client_key.is_some() && p.client_cert.is_some()
        }
        _ => p.client_secret.is_some(),
    };
    if !credential {
        return Err(Error::InvalidInput(format!(
            "{} is a public client; client credentials need a client secret, key or certificate",
            shown(&p.name)
        )));
    }
    let scopes = scopes_or_default(p, scopes).to_vec();
    let c = client(p, None)?;
    let mut request = c
        .exchange_client_credentials()
        .map_err(|e| Error::InvalidInput(e.to_string()))?
        .add_scopes(scopes.iter().cloned().map(Scope::new));
    for (k, v) in audience_and_resources(p) {
        request = request.add_extra_param(k, v);
    }
    let response = request.request(&Json(&ClientHttp::new(http, p)?, "token endpoint"));
    grant(token_result(response)?, p, &scopes, None, http, now)
}

/// The provider's audience and resources (RFC 8707), as request parameters: a sign-in asks for
/// them at the authorization endpoint and again at the token endpoint.
fn audience_and_resources(p: &ProviderRecord) -> Vec<(&'static str, String)> {
    let audience = p.audience.iter().map(|a| ("audience", a.clone()));
    let resources = p.resources.iter().map(|r| ("resource", r.clone()));
    audience.chain(resources).collect()
}

/// A refresh asking for fewer scopes (RFC 6749 §6; none: the grant's own) or for one resource
/// (RFC 8707 §2.2). The grant may carry a rotated refresh token, which the caller keeps; the
/// caller also judges a narrowed answer's scope (`refresh::narrowed`).
pub fn narrow(
    p: &ProviderRecord,
    refresh_token: &Secret<String>,
    scopes: &[String],
    resource: Option<&str>,
    http: &Http,
    now: i64,
) -> Result<Grant> {
    let mut p = p.clone();
    if p.refresh_url.is_some() {
        // A refresh endpoint a person set wins over the token endpoint's mTLS alias too.
        p.token_url = p.refresh_url.clone();
        p.mtls_token_url = None;
    }
    let p = &p;
    let c = client(p, None)?;
    let token = RefreshToken::new(refresh_token.expose().clone());
    let mut request = c
        .exchange_refresh_token(&token)
        .map_err(|e| Error::InvalidInput(e.to_string()))?
        .add_scopes(scopes.iter().cloned().map(Scope::new));
    if let Some(r) = resource {
        request = request.add_extra_param("resource", r);
    }
    let response = request.request(&Json(
        &BackingOff {
            http: &ClientHttp::new(http, p)?,
            now,
        },
        "token endpoint",
    ));
    let response = token_result(response).map_err(|e| refresh_refused(e, p))?;
    let requested = if scopes.is_empty() { &p.scopes } else { scopes };
    grant(response, p, requested, None, http, now)
}

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The JWT bearer grant (RFC 7523 §2.1): an assertion signed with the client's key is the
/// grant itself, for a service account (`subject` None: the client) or for a user the client
/// may act for. The client authenticates as it always does, which may be not at all.
pub fn jwt_bearer(
    p: &ProviderRecord,
    subject: Option<&str>,
    scopes: &[String],
    http: &Http,
    now: i64,
) -> Result<Grant> {
    let url = token_endpoint(p)
        .ok_or_else(|| Error::field("token_url", "is needed for the JWT bearer grant"))?;
    let scopes = scopes_or_default(p, scopes).to_vec();
    let assertion = super::assertion::grant_assertion(p, subject, &scopes, now)?;
    let scope = scopes.join(" ");
    let mut pairs = vec![
        ("grant_type", JWT_BEARER),
        ("assertion", assertion.expose().as_str()),
    ];
    if !scope.is_empty() {
        pairs.push(("scope", &scope));
    }
    let request = super::client_auth::form_post(p, url, &pairs)?;
    let response =
        crate::http::oauth_answer(url, super::client_auth::http_for(http, p)?.call(request)?)?;
    // Read as the oauth2 crate reads the answers of the grants it builds, so that a failure is
    // reported the same way (never quoting a value).
    let body = response.body();
    let read: std::result::Result<TokenResp, RequestTokenError<Error, BasicErrorResponse>> =
        if response.status().is_success() {
            serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body))
                .map_err(|e| RequestTokenError::Parse(e, body.to_vec()))
        } else {
            match serde_json::from_slice::<BasicErrorResponse>(body) {
                Ok(refused) => Err(RequestTokenError::ServerResponse(refused)),
                Err(_) => Err(RequestTokenError::Other(format!(
                    "HTTP {} without an OAuth error",
                    response.status().as_u16()
                ))),
            }
        };
    grant(token_result(read)?, p, &scopes, None, http, now)
}

/// The HTTP client of refresh requests: a 429 or 503 is retried after what Retry-After asks
/// (at most `http::MAX_BACKOFF`, twice), so a busy provider gets a bounded back-off rather than a
/// storm.
struct BackingOff<'a> {
    http: &'a ClientHttp<'a>,
    /// Unix seconds, for a Retry-After that is a date.
    now: i64,
}

pub const REFRESH_RETRIES: u32 = 2;

impl oauth2::SyncHttpClient for BackingOff<'_> {
    type Error = Error;
    fn call(&self, request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse> {
        let mut attempt = 0;
        loop {
            let response = self.http.call(crate::http::clone_request(&request))?;
            let status = response.status().as_u16();
            if (status == 429 || status == 503) && attempt < REFRESH_RETRIES {
                let wait = crate::http::retry_after(
                    response.headers(),
                    self.now,
                    crate::http::MAX_BACKOFF,
                )
                .unwrap_or(Duration::from_secs(1));
                std::thread::sleep(wait);
                attempt += 1;
                continue;
            }
            if status == 429 || status == 503 {
                return Err(Error::Unavailable(format!(
                    "the token endpoint is busy (HTTP {status}) and stayed so after {REFRESH_RETRIES} retries; try again later"
                )));
            }
            if status == 502 || status == 504 {
                return Err(Error::Unavailable(format!(
                    "the token endpoint's gateway could not reach it (HTTP {status}); try again later"
                )));
            }
            return crate::http::oauth_answer(&request.uri().to_string(), response);
        }
    }
}

/// Refresh (RFC 6749 §6). The token endpoint may or may not send a new refresh token.
pub fn refresh(
    p: &ProviderRecord,
    refresh_token: &Secret<String>,
    http: &Http,
    now: i64,
) -> Result<Grant> {
    narrow(p, refresh_token, &[], None, http, now)
}

/// What a refused refresh means. It branches on the error code the provider sent, never on the
/// text: the description is the provider's free text and may well name another code.
fn refresh_refused(e: Error, p: &ProviderRecord) -> Error {
    match e.oauth_error() {
        Some("invalid_grant") => Error::NeedsSignin(format!(
            "{e}. The refresh token is no longer accepted: sign in again"
        )),
        Some("invalid_client") => Error::OAuth {
            error: "invalid_client".into(),
            message: format!(
                "{e}. The provider does not accept this client's credentials: check the client id, secret and authentication of {}",
                shown(&p.name)
            ),
        },
        _ => e,
    }
}

fn token_result(
    r: std::result::Result<TokenResp, RequestTokenError<Error, BasicErrorResponse>>,
) -> Result<TokenResp> {
    r.map_err(|e| request_error("token endpoint", e))
}

/// A failed request as a person reads it. Bodies are never quoted: they may hold tokens.
fn request_error<TE: oauth2::ErrorResponse + 'static>(
    endpoint: &str,
    e: RequestTokenError<Error, TE>,
) -> Error {
    match e {
        RequestTokenError::Request(e) => e,
        RequestTokenError::ServerResponse(r) => {
            let v = serde_json::to_value(&r).unwrap_or_default();
            let code = v["error"].as_str().unwrap_or("unknown_error");
            oauth_error(&format!("the {endpoint} answered with the error"), code, &v)
        }
        RequestTokenError::Parse(err, body) => {
            let parsed = serde_json::from_slice::<serde_json::Value>(&body);
            // An OAuth error sent with status 200 is still an error, not a malformed token.
            if let Ok(v) = &parsed {
                if let Some(code) = v.get("error").and_then(|c| c.as_str()) {
                    return oauth_error(
                        &format!("the {endpoint} answered HTTP 200 with the error"),
                        code,
                        v,
                    );
                }
            }
            let what = parse_failure(
                err.inner(),
                &err.path().to_string(),
                parsed.as_ref().ok(),
                &body,
            );
            let mut path = err.path().to_string();
            if path.len() > 60 {
                // A hostile document's path can be thousands of "[0]"s long.
                path = format!("{}…", path.chars().take(60).collect::<String>());
            }
            Error::ProviderError(format!(
                "the {endpoint} answered with a token response that is not valid ({}{}); nothing was stored",
                if path == "." { String::new() } else { format!("{path}: ") },
                inert(&what)
            ))
        }
        // `Json` has refused what the crate says this for (a 200 answer that is not JSON or
        // is empty); what is left is the crate's own.
        RequestTokenError::Other(m) => Error::ProviderError(format!(
            "the {endpoint} answered with {}; nothing was stored",
            inert(&m)
        )),
    }
}

/// The HTTP client of an OAuth endpoint whose 200 answer must be JSON: the oauth2 crate
/// refuses one that is not (by its Content-Type, when it has one) or is empty, but says so only
/// in text; refused here, where the response is at hand, the error is this side's.
struct Json<'a, C>(&'a C, &'static str);

impl<C: oauth2::SyncHttpClient<Error = Error>> oauth2::SyncHttpClient for Json<'_, C> {
    type Error = Error;
    fn call(&self, request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse> {
        let (inner, endpoint) = (self.0, self.1);
        let response = inner.call(request)?;
        if response.status() != oauth2::http::StatusCode::OK {
            return Ok(response);
        }
        // The crate's test: a Content-Type, if any, that starts with application/json.
        let json = response
            .headers()
            .get(oauth2::http::header::CONTENT_TYPE)
            .is_none_or(|c| {
                c.to_str()
                    .is_ok_and(|c| c.to_ascii_lowercase().starts_with("application/json"))
            });
        let what = if !json {
            "a body that is not JSON (its Content-Type is not application/json)"
        } else if response.body().is_empty() {
            "an empty body"
        } else {
            return Ok(response);
        };
        Err(Error::ProviderError(format!(
            "the {endpoint} answered with {what}; nothing was stored"
        )))
    }
}

/// An OAuth error answer (`v` holds its `error_description`): the code is kept as sent for the
/// branches, and shown inert with the description.
pub(crate) fn oauth_error(what: &str, code: &str, v: &serde_json::Value) -> Error {
    let description = v["error_description"]
        .as_str()
        .map(|d| format!(": {}", inert(d)))
        .unwrap_or_default();
    Error::OAuth {
        error: code.to_owned(),
        message: format!("{what} {}{description}", inert(code)),
    }
}

/// Deeper than this, serde_json refuses a document (its recursion limit).
const SERDE_JSON_DEPTH: usize = 128;

/// What is wrong with a token response that did not parse, from serde_json's category and the
/// document itself rather than its message: the message may quote a value (a token), and its
/// wording is not an interface.
fn parse_failure(
    e: &serde_json::Error,
    path: &str,
    document: Option<&serde_json::Value>,
    body: &[u8],
) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof if super::discovery::depth(body) > SERDE_JSON_DEPTH => {
            "JSON nested too deeply".to_owned()
        }
        // A token response is a flat object: the path of a field is its name.
        Category::Data
            if document
                .and_then(|d| d.get(path))
                .is_some_and(|v| v.is_string()) =>
        {
            // Every string field of a token response takes any string (token_type included),
            // so a string refused stands where a number belongs (expires_in).
            "a string where a number belongs".to_owned()
        }
        _ => {
            // serde quotes the value after "invalid type:", but strings are handled above and
            // numbers are no secret; what it expected is cut, being Rust type names.
            let what = e.to_string();
            what.split(", expected").next().unwrap_or(&what).to_owned()
        }
    }
}

fn grant(
    r: TokenResp,
    p: &ProviderRecord,
    requested: &[String],
    nonce: Option<&Nonce>,
    http: &Http,
    now: i64,
) -> Result<Grant> {
    let bad = |m: String| {
        Error::ProviderError(format!(
            "the token response was refused: {m}; nothing was stored"
        ))
    };
    // A provider may ignore DPoP and send a bearer token; a DPoP token comes only in answer
    // to a proof.
    let token_type = match r.token_type() {
        BasicTokenType::Bearer => {
            if p.dpop {
                tracing::warn!(
                    provider = %shown(&p.name),
                    "DPoP is on but the provider sent a bearer token: it is stored unbound"
                );
            }
            "Bearer"
        }
        BasicTokenType::Extension(t) if p.dpop && t.eq_ignore_ascii_case(dpop::TOKEN_TYPE) => {
            dpop::TOKEN_TYPE
        }
        other => {
            let expected = if p.dpop { "bearer or DPoP" } else { "bearer" };
            return Err(bad(format!(
                "its token_type is {}, not {expected}",
                inert(other.as_ref())
            )));
        }
    };
    if r.access_token().secret().is_empty() {
        return Err(bad("its access_token is empty".into()));
    }
    // RFC 6749 Appendix A.12/A.17: tokens are printable ASCII. A line break would split the
    // Authorization header it is sent in and the line `token get` prints for scripts.
    let printable = |t: &str| t.bytes().all(|b| (0x20..=0x7e).contains(&b));
    if !printable(r.access_token().secret()) {
        return Err(bad(
            "its access_token holds characters other than printable ASCII (RFC 6749 Appendix A.12)"
                .into(),
        ));
    }
    if r.refresh_token().is_some_and(|t| !printable(t.secret())) {
        return Err(bad(
            "its refresh_token holds characters other than printable ASCII (RFC 6749 Appendix A.17)"
                .into(),
        ));
    }
    let expires_at = match r.expires_in() {
        None => None,
        Some(d) if d.as_secs() == 0 || d.as_secs() > MAX_EXPIRES_IN => {
            return Err(bad(format!(
                "its expires_in of {} seconds is not a plausible lifetime",
                d.as_secs()
            )))
        }
        // Within ten years (the guard above), so the cast is exact and the sum cannot overflow.
        Some(d) => Some(now.saturating_add(d.as_secs() as i64)),
    };
    let scopes = match r.scopes() {
        Some(s) => s.iter().map(|s| s.to_string()).collect(),
        None => requested.to_vec(),
    };
    let mut g = Grant {
        access_token: Secret::new(r.access_token().secret().clone()),
        token_type: token_type.into(),
        refresh_token: r.refresh_token().map(|t| Secret::new(t.secret().clone())),
        id_token: None,
        scopes,
        expires_at,
        subject: None,
        email: None,
        preferred_username: None,
        dpop_key: p
            .dpop_key
            .clone()
            .filter(|_| p.dpop_per_account && token_type == dpop::TOKEN_TYPE),
    };
    match &r.extra_fields().id_token {
        Some(raw) => {
            verify_id_token(raw, p, nonce, http, &mut g)?;
            g.id_token = Some(Secret::new(raw.clone()));
        }
        None if nonce.is_some() => {
            // openid was asked but no ID token came: allowed for refresh, odd for sign-in.
            tracing::debug!("no ID token in the response although openid was requested");
        }
        None => {}
    }
    Ok(g)
}

fn verify_id_token(
    raw: &str,
    p: &ProviderRecord,
    nonce: Option<&Nonce>,
    http: &Http,
    g: &mut Grant,
) -> Result<()> {
    let bad = id_token_refused;
    let issuer = p.issuer.clone().ok_or_else(|| {
        bad(
            "the provider has no issuer to check it against; set the issuer (or press Discover)"
                .into(),
        )
    })?;
    let token: CoreIdToken = serde_json::from_value(serde_json::Value::String(raw.to_owned()))
        .map_err(|e| bad(format!("it is not a JWT ({})", inert(&e.to_string()))))?;
    let issuer = IssuerUrl::new(issuer).map_err(|e| bad(e.to_string()))?;
    let (keys, cached) = jwks(p, http, false)?;
    let verified = verify_with(&token, p, &issuer, nonce, keys);
    // A key the cached set lacks may be a key the provider rotated in since: fetch once more.
    let claims = match verified {
        Err(_) if cached => verify_with(&token, p, &issuer, nonce, jwks(p, http, true)?.0),
        other => other,
    }
    .map_err(|e| bad(inert(&e)))?;
    g.subject = Some(claims.subject().to_string());
    g.email = claims.email().map(|e| e.to_string());
    g.preferred_username = claims.preferred_username().map(|u| u.to_string());
    Ok(())
}

fn id_token_refused(why: String) -> Error {
    Error::ProviderError(format!(
        "the ID token was refused: {why}; nothing was stored"
    ))
}

/// How long a provider's key set is reused: a bulk refresh verifies hundreds of ID tokens
/// against the same keys, one fetch serves them all.
const JWKS_TTL: Duration = Duration::from_secs(300);

type KeySet = JsonWebKeySet<Jwk>;
type KeySets = std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, KeySet)>>;

/// The provider's key set, and whether it came from this process's cache (kept `JWKS_TTL`);
/// `reload` fetches it anew.
fn jwks(p: &ProviderRecord, http: &Http, reload: bool) -> Result<(KeySet, bool)> {
    static CACHE: std::sync::OnceLock<KeySets> = std::sync::OnceLock::new();
    let Some(uri) = &p.jwks_uri else {
        return Ok((KeySet::new(Vec::new()), false));
    };
    let cache = CACHE.get_or_init(Default::default);
    if !reload {
        if let Some((at, keys)) = cache.lock().ok().and_then(|c| c.get(uri).cloned()) {
            if at.elapsed() < JWKS_TTL {
                return Ok((keys, true));
            }
        }
    }
    let bad = id_token_refused;
    let fetched = http.get(uri, "application/json", 1024 * 1024)?;
    if fetched.status != 200 {
        return Err(bad(format!(
            "the JWKS at {uri} answered HTTP {}",
            fetched.status
        )));
    }
    let keys = serde_json::from_slice::<KeySet>(&fetched.body)
        .map_err(|e| bad(format!("the JWKS at {uri} is not a key set ({e})")))?;
    if let Ok(mut c) = cache.lock() {
        c.insert(uri.clone(), (std::time::Instant::now(), keys.clone()));
    }
    Ok((keys, false))
}

/// The ID token's claims if it verifies against `jwks`; why not (with the causes) if not.
fn verify_with(
    token: &CoreIdToken,
    p: &ProviderRecord,
    issuer: &IssuerUrl,
    nonce: Option<&Nonce>,
    jwks: KeySet,
) -> std::result::Result<openidconnect::core::CoreIdTokenClaims, String> {
    let issuer = issuer.clone();
    let client_id = ClientId::new(p.client_id.clone());
    use openidconnect::core::CoreJwsSigningAlgorithm as Alg;
    let asymmetric = [
        Alg::RsaSsaPkcs1V15Sha256,
        Alg::RsaSsaPkcs1V15Sha384,
        Alg::RsaSsaPkcs1V15Sha512,
        Alg::RsaSsaPssSha256,
        Alg::RsaSsaPssSha384,
        Alg::RsaSsaPssSha512,
        Alg::EcdsaP256Sha256,
        Alg::EcdsaP384Sha384,
        Alg::EcdsaP521Sha512,
        Alg::EdDsa,
    ];
    // Never "none". HMAC (keyed with the client secret, OIDC Core §10.1) only for clients
    // that have a secret.
    let verifier = match (&p.client_secret, p.client_auth) {
        (Some(secret), ClientAuth::Basic | ClientAuth::Post) => {
            IdTokenVerifier::<Jwk>::new_confidential_client(
                client_id,
                ClientSecret::new(secret.expose().clone()),
                issuer,
                jwks,
            )
            .set_allowed_algs(asymmetric.into_iter().chain([
                Alg::HmacSha256,
                Alg::HmacSha384,
                Alg::HmacSha512,
            ]))
        }
        _ => IdTokenVerifier::<Jwk>::new_public_client(client_id, issuer, jwks)
            .set_allowed_algs(asymmetric),
    };
    match nonce {
        Some(n) => token.claims(&verifier, n),
        None => token.claims(&verifier, |_: Option<&Nonce>| Ok(())),
    }
    .cloned()
    .map_err(|e| {
        // The outer message is generic ("Signature verification failed"); the cause says why.
        let mut why = e.to_string();
        let mut cause: &dyn std::error::Error = &e;
        while let Some(next) = cause.source() {
            why.push_str(&format!(": {next}"));
            cause = next;
        }
        why
    })
}

/// The account's label: the email or user name of the ID token, else of the userinfo
/// endpoint (email, preferred_username, login), else the subject (or userinfo's sub or id).
pub fn account_label(p: &ProviderRecord, g: &Grant, http: &Http) -> Option<String> {
    if let Some(l) = g.email.clone().or(g.preferred_username.clone()) {
        return Some(l);
    }
    let info = userinfo(p, g, http);
    let pick = |keys: &[&str]| -> Option<String> {
        let v = info.as_ref()?;
        keys.iter().find_map(|k| match &v[*k] {
            serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    pick(&["email", "preferred_username", "login"])
        .or(g.subject.clone())
        .or_else(|| pick(&["sub", "id"]))
        .filter(|s| super::check::plain_text(s).is_ok())
}

fn userinfo(p: &ProviderRecord, g: &Grant, http: &Http) -> Option<serde_json::Value> {
    let url =
        super::client_auth::via_mtls(p, p.userinfo_url.as_deref(), p.mtls_userinfo_url.as_deref())?;
    // A token bound to the client's certificate is good only over a connection showing it.
    let http = &*super::client_auth::http_for(http, p).ok()?;
    let body = if g.token_type == dpop::TOKEN_TYPE {
        let key = p.dpop_key.as_ref()?;
        let resp = dpop::get(http, key, url, g.access_token.expose(), crate::time::now()).ok()?;
        (resp.status() == 200).then(|| resp.into_body())?
    } else {
        let resp = http
            .get_bearer(url, g.access_token.expose(), 256 * 1024)
            .ok()?;
        (resp.status == 200).then_some(resp.body)?
    };
    serde_json::from_slice(&body).ok()
}

/// `crate::fuzzing`: a token endpoint's body read as the oauth2 crate reads it, then checked
/// as every grant is.
pub(crate) fn fuzz_token_response(body: &[u8], p: &ProviderRecord, http: &Http) -> Result<Grant> {
    let r: TokenResp = serde_json::from_slice(body).map_err(|e| {
        Error::ProviderError(format!("not a token response ({})", inert(&e.to_string())))
    })?;
    grant(r, p, &p.scopes, None, http, 1_700_000_000)
}

/// `crate::fuzzing`: a device authorization answer, read and checked as `DeviceFlow::start`.
pub(crate) fn fuzz_device_answer(body: &[u8]) -> Result<()> {
    let r: StandardDeviceAuthorizationResponse = serde_json::from_slice(body).map_err(|e| {
        Error::ProviderError(format!("not a device answer ({})", inert(&e.to_string())))
    })?;
    check_device_answer(&r)
}

/// `crate::fuzzing`: an ID token verified against `jwks` (a JWKS document) as a sign-in does.
pub(crate) fn fuzz_id_token(jwks: &[u8], raw: &str, p: &ProviderRecord) -> Result<()> {
    let keys = serde_json::from_slice::<KeySet>(jwks)
        .map_err(|e| id_token_refused(format!("not a key set ({})", inert(&e.to_string()))))?;
    let token: CoreIdToken = serde_json::from_value(serde_json::Value::String(raw.to_owned()))
        .map_err(|e| id_token_refused(format!("it is not a JWT ({})", inert(&e.to_string()))))?;
    let issuer = IssuerUrl::new(p.issuer.clone().unwrap_or_default())
        .map_err(|e| id_token_refused(e.to_string()))?;
    verify_with(&token, p, &issuer, None, keys).map_err(|e| id_token_refused(inert(&e)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::provider_table::ProviderConfig;

    /// The error the token endpoint's answer `body` (status 400) becomes.
    fn answered(body: &str) -> Error {
        let r: BasicErrorResponse = serde_json::from_str(body).unwrap();
        request_error::<BasicErrorResponse>("token endpoint", RequestTokenError::ServerResponse(r))
    }

    #[test]
    fn a_refused_refresh_branches_on_the_error_code_not_on_the_description() {
        let p = provider();
        let grant =
            answered(r#"{"error":"invalid_grant","error_description":"mentions invalid_client"}"#);
        assert_eq!(grant.oauth_error(), Some("invalid_grant"));
        assert_eq!(refresh_refused(grant, &p).code(), "needs_signin");

        let other =
            answered(r#"{"error":"invalid_request","error_description":"not an invalid_grant"}"#);
        assert_eq!(other.oauth_error(), Some("invalid_request"));
        let other = refresh_refused(other, &p);
        assert_eq!(other.code(), "provider_error", "{other}");
        assert!(!other.to_string().contains("sign in again"), "{other}");

        let client = answered(r#"{"error":"server_error","error_description":"invalid_client?"}"#);
        let client = refresh_refused(client, &p);
        assert!(!client.to_string().contains("credentials"), "{client}");
        let client = refresh_refused(answered(r#"{"error":"invalid_client"}"#), &p);
        assert_eq!(client.oauth_error(), Some("invalid_client"));
        assert!(client.to_string().contains("credentials"), "{client}");
    }

    /// An HTTP client that gives one answer (the JSON check sits above any client).
    struct Answers(u16, Option<&'static str>, &'static str);

    impl oauth2::SyncHttpClient for Answers {
        type Error = Error;
        fn call(&self, _: oauth2::HttpRequest) -> Result<oauth2::HttpResponse> {
            let mut r = oauth2::http::Response::builder().status(self.0);
            if let Some(t) = self.1 {
                r = r.header("content-type", t);
            }
            Ok(r.body(self.2.as_bytes().to_vec()).unwrap())
        }
    }

    #[test]
    fn a_200_answer_that_is_not_json_or_is_empty_is_refused_before_the_crate() {
        let call = |status, content_type, body| {
            let request = oauth2::http::Request::new(Vec::new());
            oauth2::SyncHttpClient::call(
                &Json(&Answers(status, content_type, body), "token endpoint"),
                request,
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
        };
        let refused = |r: std::result::Result<(), String>| r.unwrap_err();
        assert!(refused(call(200, Some("text/html"), "<p>")).contains("not JSON"));
        assert!(refused(call(200, Some("application/json"), "")).contains("an empty body"));
        assert!(refused(call(200, None, "")).contains("an empty body"));
        assert_eq!(
            call(200, Some("Application/JSON; charset=utf-8"), "{}"),
            Ok(())
        );
        assert_eq!(call(200, None, "{}"), Ok(()));
        // Error answers are the crate's to parse (and http::oauth_answer's to name).
        assert_eq!(call(400, Some("text/html"), "<p>"), Ok(()));
    }

    #[test]
    fn a_token_response_that_does_not_parse_is_told_by_category_not_by_message() {
        let what = |body: &str| {
            let e = serde_json::from_str::<TokenResp>(body).unwrap_err();
            let doc = serde_json::from_str::<serde_json::Value>(body).ok();
            parse_failure(&e, "expires_in", doc.as_ref(), body.as_bytes())
        };
        assert_eq!(
            what(r#"{"access_token":"a","token_type":"Bearer","expires_in":"secret-ish"}"#),
            "a string where a number belongs"
        );
        let deep = format!("{{\"x\":{}{}}}", "[".repeat(200), "]".repeat(200));
        assert_eq!(what(&deep), "JSON nested too deeply");
        let minus = what(r#"{"access_token":"a","token_type":"Bearer","expires_in":-1}"#);
        assert!(minus.contains("-1"), "{minus}");
    }

    fn provider() -> ProviderRecord {
        ProviderRecord {
            config: ProviderConfig {
                name: "idp".into(),
                issuer: Some("https://idp.example".into()),
                authorization_url: Some("https://idp.example/auth".into()),
                token_url: Some("https://idp.example/token".into()),
                client_id: "desk".into(),
                scopes: vec!["openid".into(), "email".into()],
                extra_params: [("prompt".to_string(), "consent".to_string())].into(),
                audience: Some("https://api".into()),
                resources: vec![
                    "https://api.example/a".into(),
                    "https://api.example/b".into(),
                ],
                client_auth: ClientAuth::None,
                ..Default::default()
            },
            client_secret: None,
            ..Default::default()
        }
    }

    #[test]
    fn the_authorization_url_carries_pkce_state_nonce_and_extra_params() {
        let http = Http::new().unwrap();
        let flow =
            CodeFlow::start(&provider(), "http://127.0.0.1:5000/callback", &[], 1, &http).unwrap();
        let url = url::Url::parse(&flow.url).unwrap();
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:5000/callback");
        assert_eq!(q["scope"], "openid email");
        assert_eq!(q["audience"], "https://api");
        assert_eq!(q["prompt"], "consent");
        let resources: Vec<_> = url
            .query_pairs()
            .filter(|(k, _)| k == "resource")
            .map(|(_, v)| v.into_owned())
            .collect();
        assert_eq!(
            resources,
            ["https://api.example/a", "https://api.example/b"],
            "each resource is its own parameter (RFC 8707 §2)"
        );
        assert_eq!(q["state"].len(), 22, "a random state");
        assert!(q.contains_key("nonce"), "openid asks for a nonce");
        let other = CodeFlow::start(
            &provider(),
            "http://127.0.0.1:5000/callback",
            &["read".into()],
            1,
            &http,
        )
        .unwrap();
        assert!(!other.url.contains("nonce="), "no openid, no nonce");
        assert_ne!(flow.state.expose(), other.state.expose());
    }
}
