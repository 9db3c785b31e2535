//! The endpoints under /api/v1/oauth2, each a few lines over the core (DESIGN.md §1: thin
//! faces). The OpenAPI document beside this file describes them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use oauth_desk_core::http::Http;
use oauth_desk_core::oauth::callback::SIGNIN_LIFETIME_SECS;
use oauth_desk_core::oauth::dpop;
use oauth_desk_core::oauth::provider::ProviderInput;
use oauth_desk_core::signin::code::{self, Catch};
use oauth_desk_core::signin::{background, Request};
use oauth_desk_core::vault::provider_table as ptable;
use oauth_desk_core::{import, providers, refresh, revoke, time, Error};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{ApiError, ApiState};

type S = State<Arc<ApiState>>;
type ApiResult = Result<Response, ApiError>;

pub fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        // Unknown paths answer like unknown providers: JSON, as the document says of 404s.
        .fallback(|| async { crate::error(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/oauth2/app", get(list_apps).post(add_app))
        .route(
            "/api/v1/oauth2/app/{name}",
            get(show_app).put(update_app).delete(remove_app),
        )
        .route("/api/v1/oauth2/registration", post(register_app))
        .route(
            "/api/v1/oauth2/app/{name}/registration",
            put(update_registration),
        )
        .route("/api/v1/oauth2/app/{name}/discover", post(discover_app))
        .route("/api/v1/oauth2/connect/{name}", get(connect))
        .route("/api/v1/oauth2/signin/{id}", get(signin_status))
        .route("/api/v1/oauth2/user/{name}", post(set_user))
        .route("/api/v1/oauth2/user/{name}/exchange", post(exchange_user))
        .route(
            "/api/v1/oauth2/user/{name}/{account}",
            get(get_user).put(put_user).delete(revoke_user),
        )
        .route(
            "/api/v1/oauth2/user/{name}/{account}/refresh",
            post(refresh_user),
        )
        .route(
            "/api/v1/oauth2/user/{name}/{account}/proof",
            post(proof_user),
        )
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::served(),
    )
        .into_response()
}

/// Parses a JSON body. The message names where it went wrong, never a value from it (a body
/// may hold a client secret or a token).
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        let what = e.to_string();
        let detail = if what.starts_with("unknown field") || what.starts_with("missing field") {
            what.split(" at line").next().unwrap_or("").to_owned()
        } else if e.is_data() {
            "a value has the wrong type".to_owned()
        } else {
            "the body is not valid JSON".to_owned()
        };
        ApiError(Error::InvalidInput(format!(
            "{detail} (line {}, column {})",
            e.line(),
            e.column()
        )))
    })
}

fn ok(value: impl serde::Serialize) -> ApiResult {
    Ok(Json(serde_json::to_value(value).expect("views serialize")).into_response())
}

async fn list_apps(State(s): S) -> ApiResult {
    ok(s.with_vault(providers::list).await?)
}

async fn show_app(State(s): S, Path(name): Path<String>) -> ApiResult {
    ok(s.with_vault(move |v| providers::show(v, &name)).await?)
}

/// A provider's body, as the document describes it: the API generates client keys, and a key
/// of one's own is imported from a file or standard input (the CLI, the window), so that no
/// private key travels in a request a proxy or a log could keep.
fn provider_input(body: &[u8]) -> Result<ProviderInput, ApiError> {
    let input: ProviderInput = parse(body)?;
    match input.remote_refusal() {
        Some(refused) => Err(ApiError(Error::InvalidFields(vec![refused]))),
        None => Ok(input),
    }
}

async fn add_app(State(s): S, body: Bytes) -> ApiResult {
    let input = provider_input(&body)?;
    let view = s
        .with_vault(move |v| providers::add(v, &input, time::now()))
        .await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn update_app(State(s): S, Path(name): Path<String>, body: Bytes) -> ApiResult {
    let input = provider_input(&body)?;
    ok(
        s.with_vault(move |v| providers::update(v, &name, &input, time::now()))
            .await?,
    )
}

/// Registers a new client at the provider's registration endpoint (RFC 7591) and adds the
/// provider with it; the initial access token, when the provider wants one, comes in a header
/// and is used for that request only.
async fn register_app(State(s): S, headers: axum::http::HeaderMap, body: Bytes) -> ApiResult {
    let input = provider_input(&body)?;
    let initial = match headers.get("x-initial-access-token") {
        None => None,
        Some(v) => Some(oauth_desk_core::Secret::new(
            v.to_str()
                .ok()
                .filter(|t| !t.is_empty() && t.bytes().all(|b| (b'!'..=b'~').contains(&b)))
                .ok_or_else(|| {
                    ApiError(Error::InvalidInput(
                        "X-Initial-Access-Token must be a non-empty visible ASCII string".into(),
                    ))
                })?
                .to_owned(),
        )),
    };
    let view = s
        .with_vault(move |v| {
            providers::registration::register(
                v,
                &input,
                initial.as_ref(),
                &Http::new()?,
                time::now(),
            )
        })
        .await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// Sends the provider's settings to its client's registration (RFC 7592).
async fn update_registration(State(s): S, Path(name): Path<String>) -> ApiResult {
    ok(s.with_vault(move |v| {
        providers::registration::update_registration(v, &name, &Http::new()?, time::now())?;
        providers::show(v, &name)
    })
    .await?)
}

/// Discovers the provider again from its issuer; endpoints set by hand stay.
async fn discover_app(State(s): S, Path(name): Path<String>) -> ApiResult {
    let vault = s.vault.clone();
    ok(crate::blocking(move || {
        providers::discover_again(&vault, &Http::new()?, &name, time::now())
    })
    .await?)
}

#[derive(Deserialize)]
struct RemoveQuery {
    #[serde(default)]
    deregister: bool,
}

async fn remove_app(
    State(s): S,
    Path(name): Path<String>,
    // A query that is not a form gets axum's 400, in text, as the document's 400 says.
    Query(q): Query<RemoveQuery>,
) -> ApiResult {
    let removed = name.clone();
    let tokens = s
        .with_vault(move |v| {
            if q.deregister {
                providers::registration::deregister(v, &name, &Http::new()?, time::now())
            } else {
                providers::remove(v, &name, time::now())
            }
        })
        .await?;
    ok(json!({ "removed": removed, "tokens_removed": tokens }))
}

#[derive(Deserialize)]
struct ConnectQuery {
    account: Option<String>,
}

/// Starts a sign-in whose redirect comes back to OAuth Desk's own loopback listener; the
/// caller opens `url` in a browser and follows `/signin/{id}`.
async fn connect(
    State(s): S,
    Path(name): Path<String>,
    Query(q): Query<ConnectQuery>,
) -> ApiResult {
    let provider = s.with_vault(move |v| ptable::get(v.conn(), &name)).await?;
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|e| Error::Storage(e.to_string()))?;
    let id = hex::encode(raw);
    let deadline = Instant::now() + Duration::from_secs(SIGNIN_LIFETIME_SECS as u64);
    let Some(cancel) = s.signins.start(&id, deadline, Instant::now()) else {
        return Ok(crate::error(
            StatusCode::TOO_MANY_REQUESTS,
            "invalid_input",
            &format!(
                "{} sign-ins are already waiting for their redirect; finish or let one expire \
                 first",
                crate::signins::MAX_PENDING
            ),
        ));
    };
    let request = Request {
        provider,
        scopes: Vec::new(),
        account: q.account,
    };
    let (vault, state, key) = (s.vault.clone(), s.clone(), id.clone());
    let started = crate::blocking(move || {
        // Named, so that one can see (and the tests count) the sign-ins still waiting.
        background::start(
            "api-signin",
            move |hand_over| {
                code::sign_in(&vault, &request, Catch::Loopback, &cancel, |a| {
                    hand_over(a.url.to_owned());
                    Ok(())
                })
            },
            move |outcome| state.signins.finish(&key, outcome.into(), Instant::now()),
        )
    })
    .await;
    match started {
        Ok(url) => ok(json!({ "id": id, "url": url })),
        Err(e) => {
            s.signins.forget(&id);
            match e.code() {
                // The provider itself failed (its pushed authorization request endpoint, say):
                // 502 or 504, as for any request it answers badly.
                "provider_error" | "network" | "timed_out" => Err(ApiError(e)),
                // Otherwise what stops it this early is the stored provider (or a port taken),
                // not the request: 409, so that a caller knows no other request would do.
                _ => Ok(crate::error(StatusCode::CONFLICT, e.code(), &e.to_string())),
            }
        }
    }
}

/// A finished sign-in is reported once, then forgotten (as is one nobody asks about).
async fn signin_status(State(s): S, Path(id): Path<String>) -> ApiResult {
    match s.signins.report(&id, Instant::now()) {
        Some(st) => ok(st),
        None => Err(ApiError(Error::NotFound(
            "no sign-in with that id: it never existed, or it finished and was already reported"
                .into(),
        ))),
    }
}

/// Mattermost's StoreOAuth2User: `{"account": ..., <token response fields>}`.
async fn set_user(State(s): S, Path(name): Path<String>, body: Bytes) -> ApiResult {
    let mut value: Value = parse(&body)?;
    let account = match value.as_object_mut().and_then(|o| o.remove("account")) {
        Some(Value::String(a)) => a,
        _ => {
            return Err(ApiError(Error::field(
                "account",
                "is required: the account this token belongs to",
            )))
        }
    };
    let token = serde_json::to_vec(&value).expect("JSON");
    let (n, a) = (name.clone(), account.clone());
    let expires = s
        .with_vault(move |v| import::import(v, &n, &a, &token, time::now()))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "provider": name, "account": account, "expires_at": expires.map(time::to_rfc3339) })),
    )
        .into_response())
}

async fn put_user(
    State(s): S,
    Path((name, account)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let _: Value = parse(&body)?;
    let (n, a) = (name.clone(), account.clone());
    let expires = s
        .with_vault(move |v| import::import(v, &n, &a, &body, time::now()))
        .await?;
    ok(json!({ "provider": name, "account": account, "expires_at": expires.map(time::to_rfc3339) }))
}

/// GetOAuth2User / getAccessTokenForUser: the access token, refreshed first when it expires
/// within a minute.
async fn get_user(State(s): S, Path((name, account)): Path<(String, String)>) -> ApiResult {
    let f = s
        .with_vault(move |v| {
            let f = refresh::fresh(
                v,
                &name,
                Some(&account),
                refresh::DEFAULT_MARGIN,
                &Http::new,
                &time::now,
            )?;
            handed_out(v, &name, &f.account);
            Ok(f)
        })
        .await?;
    ok(json!({ "token": f.token.expose(), "token_type": token_type(f.token_type) }))
}

/// Every token the API hands out is in the activity log, as the agent's are: to whom (a
/// caller with the API key, on this machine) and which account, never the token.
fn handed_out(v: &oauth_desk_core::vault::Vault, name: &str, account: &str) {
    let logged = oauth_desk_core::vault::activity::record(
        v.conn(),
        time::now(),
        "token handed out",
        Some(name),
        Some(account),
        Some("to a caller of the REST API (with its key, on 127.0.0.1)"),
    );
    // Said, and the token not withheld for it.
    if let Err(e) = logged {
        tracing::warn!("REST API: the hand-out was not logged: {e}");
    }
}

/// Trades a fresh token of `subject` (and `actor`) at provider `{name}` for one of its own,
/// stored as an account of it.
async fn exchange_user(State(s): S, Path(name): Path<String>, body: Bytes) -> ApiResult {
    let asked: oauth_desk_core::exchange::Asked = parse(&body)?;
    let got = s
        .with_vault(move |v| asked.exchange(v, &name, &Http::new()?, time::now()))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "account": got.account,
            "expires_at": got.expires_at.map(time::to_rfc3339),
            "scopes": got.scopes,
        })),
    )
        .into_response())
}

/// Bearer unless the token is DPoP-bound.
fn token_type(stored: Option<String>) -> String {
    stored.unwrap_or_else(|| "Bearer".into())
}

/// The request a proof is for.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ProofFor {
    method: String,
    url: String,
    nonce: Option<String>,
}

/// A fresh token with, when it is DPoP-bound, its proof for one request (RFC 9449).
async fn proof_user(
    State(s): S,
    Path((name, account)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let req: ProofFor = parse(&body)?;
    let (presented, f) = s
        .with_vault(move |v| {
            refresh::presented(
                v,
                &name,
                Some(&account),
                refresh::DEFAULT_MARGIN,
                Some(dpop::ForRequest {
                    method: &req.method,
                    url: &req.url,
                    nonce: req.nonce.as_deref(),
                }),
                &Http::new,
                &time::now,
            )
            .inspect(|(_, f)| handed_out(v, &name, &f.account))
        })
        .await?;
    ok(json!({
        "token": f.token.expose(),
        "token_type": token_type(f.token_type),
        "proof": presented.proof.as_ref().map(|p| p.expose()),
    }))
}

async fn refresh_user(State(s): S, Path((name, account)): Path<(String, String)>) -> ApiResult {
    ok(
        s.with_vault(move |v| refresh::refresh(v, &name, Some(&account), &Http::new, &time::now))
            .await?,
    )
}

/// revokeUserAccessToken.
async fn revoke_user(State(s): S, Path((name, account)): Path<(String, String)>) -> ApiResult {
    let (account, outcome) = s
        .with_vault(move |v| revoke::revoke(v, &name, Some(&account), &Http::new()?, time::now()))
        .await?;
    ok(json!({ "account": account, "outcome": outcome }))
}
