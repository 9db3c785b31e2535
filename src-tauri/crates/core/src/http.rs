//! The HTTP client every provider request goes through: time limits on connecting and on the
//! whole exchange, a cap on what is read, and no redirects followed (a provider's answer is
//! taken from the URL the user configured, never from wherever it points).

use std::io::Read;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(30);
/// The most a token or metadata response may weigh.
pub const MAX_RESPONSE: usize = 1024 * 1024;

/// A provider's answer, read whole (up to the caller's limit).
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Clone)]
pub struct Http {
    client: reqwest::blocking::Client,
    connect: Duration,
    total: Duration,
    /// The proxy non-loopback calls go through (host:port), named in network errors.
    proxy: Option<String>,
}

impl Http {
    /// The default limits; `OAUTH_DESK_HTTP_TIMEOUT` (seconds) changes the total one, for slow
    /// networks (and for tests of a provider that hangs).
    pub fn new() -> Result<Http> {
        let total = total_timeout(std::env::var("OAUTH_DESK_HTTP_TIMEOUT").ok().as_deref());
        Self::with_timeouts(CONNECT_TIMEOUT.min(total), total)
    }

    pub fn with_timeouts(connect: Duration, total: Duration) -> Result<Http> {
        Http::build(connect, total, None)
    }

    /// The same client presenting a TLS client certificate (`identity`: its private key and
    /// chain as PEM), for mutual-TLS client authentication (RFC 8705).
    pub fn with_identity(&self, identity: &[u8]) -> Result<Http> {
        let identity = reqwest::Identity::from_pem(identity).map_err(|e| {
            Error::InvalidInput(format!(
                "the client certificate cannot be used for TLS: {e}"
            ))
        })?;
        Http::build(self.connect, self.total, Some(identity))
    }

    fn build(
        connect: Duration,
        total: Duration,
        identity: Option<reqwest::Identity>,
    ) -> Result<Http> {
        install_tls();
        let mut builder = reqwest::blocking::Client::builder()
            .connect_timeout(connect)
            .timeout(total)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("OAuthDesk/", env!("CARGO_PKG_VERSION")));
        if let Some(identity) = identity {
            builder = builder.identity(identity);
        }
        let (builder, proxy) = crate::proxy::configure(builder)?;
        let client = builder
            .build()
            .map_err(|e| Error::Network(format!("cannot start the HTTP client: {e}")))?;
        Ok(Http {
            client,
            connect,
            total,
            proxy,
        })
    }

    /// GETs `url` with a bearer token (userinfo).
    pub fn get_bearer(&self, url: &str, token: &str, limit: usize) -> Result<Fetched> {
        let started = Instant::now();
        let resp = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .bearer_auth(token)
            .send()
            .map_err(|e| self.network_error(url, &e))?;
        let fetched = read(url, resp, limit, started + self.total)?;
        logged("GET", url, fetched.status, started);
        Ok(fetched)
    }

    /// Sends a request the `oauth2` crate built; the answer is capped and time-limited.
    pub fn call(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>> {
        let started = Instant::now();
        let url = request.uri().to_string();
        let (parts, body) = request.into_parts();
        let method = parts.method.clone();
        let resp = self
            .client
            .request(parts.method, &url)
            .headers(parts.headers)
            .body(body)
            .send()
            .map_err(|e| self.network_error(&url, &e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let fetched = read(&url, resp, MAX_RESPONSE, started + self.total)?;
        logged(method.as_str(), &url, status.as_u16(), started);
        let mut out = http::Response::builder().status(status);
        if let Some(h) = out.headers_mut() {
            *h = headers;
        }
        out.body(fetched.body)
            .map_err(|e| Error::Network(format!("{url}: {e}")))
    }

    /// A failed request's error; through a proxy, it names the proxy (a refusing or silent
    /// proxy is the likelier culprit than the provider).
    fn network_error(&self, url: &str, e: &reqwest::Error) -> Error {
        let err = network_error(url, e);
        let through = match (&self.proxy, is_loopback(url)) {
            (Some(p), false) => p,
            _ => return err,
        };
        match err {
            Error::Network(m) => Error::Network(format!("{m}, through the proxy at {through}")),
            Error::TimedOut(m) => Error::TimedOut(format!("{m} (through the proxy at {through})")),
            other => other,
        }
    }

    /// GETs `url` asking for `accept`; reads at most `limit` bytes of body.
    pub fn get(&self, url: &str, accept: &str, limit: usize) -> Result<Fetched> {
        let started = Instant::now();
        let resp = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .map_err(|e| self.network_error(url, &e))?;
        let fetched = read(url, resp, limit, started + self.total)?;
        logged("GET", url, fetched.status, started);
        Ok(fetched)
    }
}

/// The longest total time limit `OAUTH_DESK_HTTP_TIMEOUT` may set: ten minutes is slow enough
/// for any network, and a limit is added to the clock (near 2^64 seconds, that sum panics).
pub const MAX_TOTAL_TIMEOUT: Duration = Duration::from_secs(600);

/// The total time limit `OAUTH_DESK_HTTP_TIMEOUT` asks for: whole seconds from 1 to 600 (more
/// is cut to 600); the default when unset, zero or not a number.
fn total_timeout(setting: Option<&str>) -> Duration {
    let secs = match setting.map(str::trim) {
        Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            // Digits beyond u64 are simply very many seconds.
            s.parse::<u64>().unwrap_or(u64::MAX)
        }
        _ => 0,
    };
    match secs {
        0 => TOTAL_TIMEOUT,
        s => Duration::from_secs(s).min(MAX_TOTAL_TIMEOUT),
    }
}

/// The longest wait before a retry, whatever Retry-After asks: a busy provider gets a bounded
/// back-off, and a person at the command is not kept waiting by a hostile number.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How long a 429 or 503 answer asks to wait before trying again (RFC 9110 §10.2.3: seconds,
/// or an HTTP date, counted from `now` in Unix seconds), at most `max`. `None` when it says
/// nothing usable (absent, negative, a date in another format).
pub fn retry_after(headers: &http::HeaderMap, now: i64, max: Duration) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let secs = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        value.parse::<u64>().unwrap_or(u64::MAX)
    } else {
        // IMF-fixdate, the one form RFC 9110 §5.6.7 has senders use.
        let format = time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        let at = time::PrimitiveDateTime::parse(value, &format)
            .ok()?
            .assume_utc()
            .unix_timestamp();
        // A date in the past asks for no wait.
        u64::try_from(at.saturating_sub(now)).unwrap_or(0)
    };
    Some(Duration::from_secs(secs).min(max))
}

/// Chooses ring as rustls's cryptography for every HTTP client of the process (reqwest refuses
/// to build one before it is chosen). Rustls with the platform verifier, rather than
/// OpenSSL through native-tls: it reads the system's CA certificates on the first HTTPS
/// handshake instead of twice whenever a client is built (about 45 ms, most of the start of a
/// `token refresh --all` against a plain-HTTP provider).
pub fn install_tls() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Fails only if another provider was installed first, which is then used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// One line per provider request: method, address without its query (a redirect's query holds
/// a code), status and time. Never a header or a body.
fn logged(method: &str, url: &str, status: u16, started: Instant) {
    tracing::debug!(
        method,
        url = url.split(['?', '#']).next().unwrap_or(""),
        status,
        ms = started.elapsed().as_millis() as u64,
        "provider request"
    );
}

/// A copy of a request, to send it again (a retry after 429/503).
pub fn clone_request(r: &http::Request<Vec<u8>>) -> http::Request<Vec<u8>> {
    let mut copy = http::Request::new(r.body().clone());
    *copy.method_mut() = r.method().clone();
    *copy.uri_mut() = r.uri().clone();
    *copy.headers_mut() = r.headers().clone();
    copy
}

impl oauth2::SyncHttpClient for Http {
    type Error = Error;
    fn call(&self, request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse> {
        let url = request.uri().to_string();
        oauth_answer(&url, Http::call(self, request)?)
    }
}

/// An answer to an OAuth request: 2xx, or an error status carrying an OAuth error object,
/// goes on to the `oauth2` crate; any other error status (a proxy's or server's HTML page) is
/// named by its status here, where the status is still known.
pub fn oauth_answer(
    url: &str,
    response: http::Response<Vec<u8>>,
) -> Result<http::Response<Vec<u8>>> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let oauth_error = serde_json::from_slice::<serde_json::Value>(response.body())
        .is_ok_and(|v| v.get("error").is_some_and(|e| e.is_string()));
    if oauth_error {
        return Ok(response);
    }
    let kind = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|c| c.split(';').next().unwrap_or(c).trim().to_owned())
        .filter(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_graphic()))
        .map(|c| format!(" with a {c} body"))
        .unwrap_or_default();
    Err(Error::ProviderError(format!(
        "{url} answered HTTP {}{kind}, not an OAuth response; nothing was stored",
        status.as_u16()
    )))
}

/// Reads the body in pieces until `deadline`: a provider that sends a byte a second is cut off
/// as surely as one that sends nothing.
fn read(
    url: &str,
    mut resp: reqwest::blocking::Response,
    limit: usize,
    deadline: Instant,
) -> Result<Fetched> {
    let header = |name| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let status = resp.status().as_u16();
    let content_type = header(reqwest::header::CONTENT_TYPE);
    let location = header(reqwest::header::LOCATION);
    if let Some(len) = resp.content_length() {
        if len > limit as u64 {
            return Err(too_large(url, limit));
        }
    }
    let mut body = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if Instant::now() > deadline {
            return Err(Error::TimedOut(format!(
                "{url} did not finish answering in time; the request was abandoned"
            )));
        }
        let n = resp.read(&mut chunk).map_err(|e| {
            if timed_out(&e) {
                Error::TimedOut(format!(
                    "{url} did not answer in time; the request was abandoned"
                ))
            } else {
                Error::Network(format!("reading the answer of {url} failed: {e}"))
            }
        })?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
        if body.len() > limit {
            return Err(too_large(url, limit));
        }
    }
    Ok(Fetched {
        status,
        content_type,
        location,
        body,
    })
}

/// reqwest's blocking reader gives its time-out as an io::Error of kind Other around a
/// reqwest::Error: ask the error, not its text.
fn timed_out(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
            .is_some_and(|r| r.is_timeout())
}

fn too_large(url: &str, limit: usize) -> Error {
    Error::ProviderError(format!(
        "{url} answered with more than {} KB; refusing to read it",
        limit / 1024
    ))
}

fn is_loopback(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    })
}

fn network_error(url: &str, e: &reqwest::Error) -> Error {
    if e.is_timeout() {
        return Error::TimedOut(format!(
            "{url} did not answer in time; the request was abandoned"
        ));
    }
    let why = if false {
        String::new()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    // The innermost cause says what a person can act on (refused, DNS, certificate).
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
        if let Some(tls) = as_tls(cause) {
            return Error::Network(format!("{url}: {why}: {}", tls_problem(url, tls)));
        }
    }
    Error::Network(format!("{url}: {why} ({cause})"))
}

/// The TLS error `e` is, or carries as an I/O error (whose `source` skips what it wraps).
fn as_tls<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    e.downcast_ref::<rustls::Error>().or_else(|| {
        e.downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    })
}

/// A refused TLS handshake in words: most often a certificate the system does not trust (a
/// company's own authority, not installed) or one made for another host.
fn tls_problem(url: &str, e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => "its TLS certificate is not signed by an authority this system \
                                 trusts (install the authority's certificate, or name it in \
                                 SSL_CERT_FILE)"
                .to_owned(),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                let host = url::Url::parse(url).ok();
                let host = host
                    .as_ref()
                    .and_then(|u| u.host_str())
                    .unwrap_or("this host");
                format!("its TLS certificate is not valid for {host}")
            }
            C::Expired | C::ExpiredContext { .. } => "its TLS certificate has expired".to_owned(),
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "its TLS certificate is not valid yet (is this computer's clock right?)".to_owned()
            }
            C::Revoked => "its TLS certificate was revoked".to_owned(),
            other => format!("its TLS certificate was refused ({other:?})"),
        },
        other => format!("the TLS handshake failed ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(value: &str, now: i64) -> Option<Duration> {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, value.parse().unwrap());
        retry_after(&h, now, Duration::from_secs(5))
    }

    #[test]
    fn retry_after_takes_seconds_and_dates_and_is_bounded() {
        // 1445412480 is Wed, 21 Oct 2015 07:28:00 GMT.
        let date = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(after("3", 0), Some(Duration::from_secs(3)));
        assert_eq!(after(date, 1_445_412_480 - 2), Some(Duration::from_secs(2)));
        assert_eq!(
            after(date, 1_445_412_480 + 60),
            Some(Duration::ZERO),
            "in the past"
        );
        assert_eq!(
            after("18446744073709551615", 0),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            after("99999999999999999999999", 0),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            after("Fri, 31 Dec 9999 23:59:59 GMT", 0),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            after(date, i64::MIN),
            Some(Duration::from_secs(5)),
            "no overflow"
        );
        assert_eq!(after(date, i64::MAX), Some(Duration::ZERO), "no overflow");
        assert_eq!(after("-1", 0), None);
        assert_eq!(after("1.5", 0), None);
        assert_eq!(after("soon", 0), None);
        assert_eq!(
            retry_after(&http::HeaderMap::new(), 0, Duration::from_secs(5)),
            None
        );
    }

    #[test]
    fn the_timeout_setting_is_bounded() {
        assert_eq!(total_timeout(None), TOTAL_TIMEOUT);
        assert_eq!(total_timeout(Some("0")), TOTAL_TIMEOUT);
        assert_eq!(total_timeout(Some("-3")), TOTAL_TIMEOUT);
        assert_eq!(total_timeout(Some("3")), Duration::from_secs(3));
        assert_eq!(
            total_timeout(Some("18446744073709551615")),
            MAX_TOTAL_TIMEOUT
        );
        assert_eq!(
            total_timeout(Some("1".repeat(40).as_str())),
            MAX_TOTAL_TIMEOUT
        );
        // The limit is added to the clock on every request: this must not overflow.
        let _ = Instant::now() + total_timeout(Some("18446744073709551615"));
    }
}
