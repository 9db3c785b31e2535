//! OAuth Desk's local REST API: the Mattermost Apps OAuth2 operations (register a provider,
//! connect, set, get, refresh and revoke a user's token) for scripts and local tools, over the
//! same core and vault as the CLI and the window.
//!
//! Bound to 127.0.0.1 only. Every request needs `Authorization: Bearer <key>` (a wrong or
//! missing key is a bare 401) and a loopback Host header (DNS rebinding). No CORS headers are
//! sent, so no web page can read an answer. Bodies are capped at 64 KB.

mod openapi;
mod routes;
mod signins;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use oauth_desk_core::signin::SignedIn;
use oauth_desk_core::vault::{SharedVault, Vault};
use oauth_desk_core::{Error, Result, Secret};

pub const MAX_BODY: usize = 64 * 1024;

/// A sign-in started through `/connect`, as `/signin/{id}` reports it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SigninState {
    Pending,
    Done { signed_in: SignedIn },
    Failed { code: &'static str, message: String },
}

impl From<Result<SignedIn>> for SigninState {
    fn from(outcome: Result<SignedIn>) -> Self {
        match outcome {
            Ok(signed_in) => SigninState::Done { signed_in },
            Err(e) => SigninState::Failed {
                code: e.code(),
                message: e.to_string(),
            },
        }
    }
}

pub struct ApiState {
    pub vault: SharedVault,
    key: std::sync::RwLock<Secret<String>>,
    port: std::sync::atomic::AtomicU16,
    pub(crate) signins: signins::Signins,
}

impl ApiState {
    pub fn new(vault: SharedVault, key: Secret<String>) -> Arc<ApiState> {
        Arc::new(ApiState {
            vault,
            key: std::sync::RwLock::new(key),
            port: Default::default(),
            signins: Default::default(),
        })
    }

    /// Replaces the key (after it was regenerated); the old one stops working at once.
    pub fn set_key(&self, key: Secret<String>) {
        if let Ok(mut k) = self.key.write() {
            *k = key;
        }
    }

    /// Runs `f` with the vault on a blocking thread.
    pub async fn with_vault<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Vault) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let vault = self.vault.clone();
        blocking(move || vault.with(f)).await
    }
}

/// Runs `f` where it may block (the disk, the network) without holding up other requests.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Storage(format!("background task failed: {e}")))?
}

/// The router with its guards, for `serve` and for tests.
pub fn router(state: Arc<ApiState>) -> Router {
    routes::routes()
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// Serves until the process is stopped. `ready` gets the address once it listens.
pub async fn serve(state: Arc<ApiState>, port: u16, ready: impl FnOnce(SocketAddr)) -> Result<()> {
    serve_until(state, port, ready, std::future::pending()).await
}

/// Serves until `stop` completes (the window's Settings switch the API off this way).
pub async fn serve_until(
    state: Arc<ApiState>,
    port: u16,
    ready: impl FnOnce(SocketAddr),
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .map_err(|e| Error::InvalidInput(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("listening", e))?;
    state
        .port
        .store(addr.port(), std::sync::atomic::Ordering::SeqCst);
    ready(addr);
    let served = axum::serve(listener, router(state.clone()))
        .with_graceful_shutdown(stop)
        .await
        .map_err(|e| Error::io("serving the API", e));
    // Nobody can ask about them any more: their threads stop waiting and free their ports.
    state.signins.cancel_all();
    served
}

/// Host first (a page reached by DNS rebinding carries its own host name), then the key.
async fn guard(State(state): State<Arc<ApiState>>, request: Request, next: Next) -> Response {
    let port = state.port.load(std::sync::atomic::Ordering::SeqCst);
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let loopback = ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|h| host == format!("{h}:{port}") || (port == 80 && host == *h));
    if !loopback {
        return error(
            StatusCode::FORBIDDEN,
            "forbidden_host",
            "the Host header must be a loopback address",
        );
    }
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    let matches = state
        .key
        .read()
        .map(|k| constant_time_eq(given.as_bytes(), k.expose().as_bytes()))
        .unwrap_or(false);
    if !matches {
        // No detail: nothing to learn from a wrong guess.
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header(header::WWW_AUTHENTICATE, "Bearer")
            .body(Body::empty())
            .expect("a static response");
    }
    next.run(request).await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "code": code, "message": message })),
    )
        .into_response()
}

/// A core error as an HTTP answer: `{code, message}` with a fitting status.
pub(crate) struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = match e.code() {
            _ if e.is_conflict() => StatusCode::CONFLICT,
            "invalid_input" => StatusCode::UNPROCESSABLE_ENTITY,
            "not_found" => StatusCode::NOT_FOUND,
            "needs_signin" => StatusCode::CONFLICT,
            "provider_error" | "network" => StatusCode::BAD_GATEWAY,
            "timed_out" => StatusCode::GATEWAY_TIMEOUT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut body = serde_json::json!({ "code": e.code(), "message": e.to_string() });
        if let Error::InvalidFields(fields) = &e {
            body["fields"] = serde_json::json!(fields);
        }
        (status, axum::Json(body)).into_response()
    }
}
