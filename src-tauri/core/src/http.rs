//! The HTTP client every provider request goes through: time limits on connecting and on the
//! whole exchange, a cap on what is read, and no redirects followed (a provider's answer is
//! taken from the URL the user configured, never from wherever it points).

use std::io::Read;
use std::time::Duration;

use crate::error::{Error, Result};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(30);

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
}

impl Http {
    pub fn new() -> Result<Http> {
        Self::with_timeouts(CONNECT_TIMEOUT, TOTAL_TIMEOUT)
    }

    pub fn with_timeouts(connect: Duration, total: Duration) -> Result<Http> {
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(connect)
            .timeout(total)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("OAuthDesk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Network(format!("cannot start the HTTP client: {e}")))?;
        Ok(Http { client })
    }

    /// GETs `url` asking for `accept`; reads at most `limit` bytes of body.
    pub fn get(&self, url: &str, accept: &str, limit: usize) -> Result<Fetched> {
        let resp = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .map_err(|e| network_error(url, &e))?;
        read(url, resp, limit)
    }
}

fn read(url: &str, resp: reqwest::blocking::Response, limit: usize) -> Result<Fetched> {
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
    resp.take(limit as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|e| Error::Network(format!("reading the answer of {url} failed: {e}")))?;
    if body.len() > limit {
        return Err(too_large(url, limit));
    }
    Ok(Fetched {
        status,
        content_type,
        location,
        body,
    })
}

fn too_large(url: &str, limit: usize) -> Error {
    Error::ProviderError(format!(
        "{url} answered with more than {} KB; refusing to read it",
        limit / 1024
    ))
}

fn network_error(url: &str, e: &reqwest::Error) -> Error {
    let why = if e.is_timeout() {
        "it did not answer in time".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    // The innermost cause says what a person can act on (refused, DNS, certificate).
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    Error::Network(format!("{url}: {why} ({cause})"))
}
