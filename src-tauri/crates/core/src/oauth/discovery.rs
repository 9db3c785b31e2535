//! Discovery: from an issuer, its OpenID Connect Discovery document and its RFC 8414
//! authorization server metadata, both read: several providers name some endpoints
//! (revocation, introspection, device authorization) in the second only. An endpoint either
//! names is used; one they name differently is left for the person to choose, never picked
//! silently. A provider's metadata is hostile input until it checks out: JSON only, at most
//! 1 MB, not deeply nested, no redirects, the very issuer that was asked for (RFC 8414 §3.3),
//! and every endpoint a URL the form itself would accept.

use std::collections::BTreeMap;

use crate::text;
use serde_json::{Map, Value};

use super::check;
use super::provider::{BoolOrText, ListOrText, MapOrText, ProviderInput, FIELDS};
use crate::error::{Error, Result};
use crate::http::Http;

pub const MAX_METADATA: usize = 1024 * 1024;
pub const MAX_DEPTH: usize = 32;

/// What a provider's metadata says, checked.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Metadata {
    /// The document it came from.
    pub source: String,
    pub issuer: String,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub device_authorization_endpoint: Option<String>,
    pub introspection_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    pub scopes_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// The algorithms client assertions may be signed with (at most 32 kept).
    pub token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    /// The algorithms DPoP proofs may be signed with (RFC 9449 §5.1; at most 32 kept).
    pub dpop_signing_alg_values_supported: Vec<String>,
    pub code_challenge_methods_supported: Vec<String>,
    /// RFC 9207: the provider sends `iss` with the authorization response.
    pub authorization_response_iss_parameter_supported: bool,
    /// RFC 8705 §5: the endpoints' aliases for clients with a certificate, by the metadata's
    /// names of the endpoints (`token_endpoint`...).
    pub mtls_endpoint_aliases: BTreeMap<&'static str, String>,
    /// RFC 8705 §3: access tokens are bound to the client's certificate.
    pub tls_client_certificate_bound_access_tokens: bool,
    /// RFC 9126: where authorization requests are pushed, and whether they must be.
    pub pushed_authorization_request_endpoint: Option<String>,
    pub require_pushed_authorization_requests: bool,
    /// RFC 7591 §3: where clients are registered.
    pub registration_endpoint: Option<String>,
    /// RP-Initiated Logout 1.0 §2.1: where a sign-out ends the provider's session.
    pub end_session_endpoint: Option<String>,
    /// Endpoints the two documents name differently: left out above, for the person to choose.
    pub disagreements: Vec<Disagreement>,
}

/// An endpoint the OpenID configuration and the RFC 8414 metadata name differently.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Disagreement {
    /// The provider field it would fill (`revocation_url`).
    pub field: String,
    /// Each document's value, in the order of `sources`.
    pub values: [String; 2],
    /// The documents' addresses.
    pub sources: [String; 2],
}

/// The endpoints either document may name, by their metadata names, with the provider field
/// each fills.
pub const ENDPOINTS: &[(&str, &str)] = &[
    ("authorization_endpoint", "authorization_url"),
    ("token_endpoint", "token_url"),
    ("revocation_endpoint", "revocation_url"),
    ("userinfo_endpoint", "userinfo_url"),
    ("device_authorization_endpoint", "device_authorization_url"),
    ("introspection_endpoint", "introspection_url"),
    ("jwks_uri", "jwks_uri"),
    ("pushed_authorization_request_endpoint", "par_url"),
    ("registration_endpoint", "registration_url"),
    ("end_session_endpoint", "end_session_url"),
];

/// The endpoints whose mutual-TLS aliases are read (RFC 8705 §5), by their metadata names.
pub const MTLS_ALIASES: &[&str] = &[
    "token_endpoint",
    "revocation_endpoint",
    "introspection_endpoint",
    "device_authorization_endpoint",
    "pushed_authorization_request_endpoint",
    "userinfo_endpoint",
];

/// The metadata documents to try, in order: OIDC Discovery (issuer + path), then RFC 8414
/// (the well-known segment between host and path).
pub fn candidate_urls(issuer: &str) -> Result<Vec<String>> {
    let valid = check::endpoint(issuer)
        .map_err(|e| Error::field("issuer", e))?
        .ok_or_else(|| {
            Error::field(
                "issuer",
                "is required for discovery, such as https://accounts.example.com",
            )
        })?;
    let url = url::Url::parse(&valid).expect("checked above");
    if url.query().is_some() {
        return Err(Error::field(
            "issuer",
            "must not contain a query (RFC 8414 §2)",
        ));
    }
    let oidc = format!(
        "{}/.well-known/openid-configuration",
        valid.trim_end_matches('/')
    );
    let path = url.path().trim_end_matches('/');
    let origin = url.origin().ascii_serialization();
    let rfc8414 = format!("{origin}/.well-known/oauth-authorization-server{path}");
    Ok(if oidc == rfc8414 {
        vec![oidc]
    } else {
        vec![oidc, rfc8414]
    })
}

/// Fetches and checks the metadata of `issuer`.
pub fn discover(http: &Http, issuer: &str) -> Result<Metadata> {
    let issuer = issuer.trim_matches(' ');
    let candidates = candidate_urls(issuer)?;
    fetch(http, issuer, candidates).map_err(|e| {
        let context = format!("discovery from the issuer {} failed", text::shown(issuer));
        match e {
            Error::Network(m) => Error::Network(format!("{context}: {m}")),
            Error::ProviderError(m) => Error::ProviderError(format!("{context}: {m}")),
            other => other,
        }
    })
}

fn fetch(http: &Http, issuer: &str, candidates: Vec<String>) -> Result<Metadata> {
    let mut tried = Vec::new();
    for (i, url) in candidates.iter().enumerate() {
        let fetched = http.get(url, "application/json", MAX_METADATA)?;
        match fetched.status {
            200 => {
                let doc = parse_document(url, &fetched.body, fetched.content_type.as_deref())?;
                let mut found = metadata(url, issuer, &doc)?;
                // The other document may name endpoints this one leaves out. It is a help,
                // not a need: one that is missing, or does not check out, is passed over.
                for other in &candidates[i + 1..] {
                    match second_document(http, issuer, other) {
                        Ok(Some(more)) => found = found.merged(more),
                        Ok(None) => {}
                        Err(e) => tracing::debug!("discovery: {other} passed over: {e}"),
                    }
                }
                return Ok(found);
            }
            // Not there: the other well-known location may be.
            404 | 410 => tried.push(format!("{url} ({})", fetched.status)),
            300..=399 => {
                return Err(Error::ProviderError(format!(
                    "{url} redirects to {}; metadata must be served at the issuer's own address, \
                     so the redirect was not followed. Check the issuer URL",
                    fetched
                        .location
                        .as_deref()
                        .map(text::visible)
                        .unwrap_or_else(|| "nowhere".into())
                )))
            }
            s => {
                return Err(Error::ProviderError(format!(
                    "{url} answered HTTP {s}, not a metadata document"
                )))
            }
        }
    }
    Err(Error::ProviderError(format!(
        "{} publishes no metadata: tried {}",
        text::visible(issuer),
        tried.join(" and ")
    )))
}

/// The other well-known document, when it is there and checks out.
fn second_document(http: &Http, issuer: &str, url: &str) -> Result<Option<Metadata>> {
    let fetched = http.get(url, "application/json", MAX_METADATA)?;
    if fetched.status != 200 {
        return Ok(None);
    }
    let doc = parse_document(url, &fetched.body, fetched.content_type.as_deref())?;
    metadata(url, issuer, &doc).map(Some)
}

/// Parses a metadata document: a JSON object, not HTML, not nested beyond reason.
pub fn parse_document(
    url: &str,
    body: &[u8],
    content_type: Option<&str>,
) -> Result<Map<String, Value>> {
    let looks_html = content_type.is_some_and(|c| c.to_ascii_lowercase().contains("html"))
        || body.trim_ascii_start().first() == Some(&b'<');
    if looks_html {
        return Err(Error::ProviderError(format!(
            "{url} answered with an HTML page, not JSON metadata; is the issuer URL right?"
        )));
    }
    if body.trim_ascii().is_empty() {
        return Err(Error::ProviderError(format!(
            "{url} answered with an empty body, not JSON metadata"
        )));
    }
    if depth(body) > MAX_DEPTH {
        return Err(Error::ProviderError(format!(
            "{url} answered with JSON nested more than {MAX_DEPTH} levels deep; refusing it"
        )));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::ProviderError(format!(
            "{url} answered with JSON that is not an object"
        ))),
        Err(e) => Err(Error::ProviderError(format!(
            "{url} answered with something that is not JSON ({e})"
        ))),
    }
}

/// How deeply the JSON in `body` nests arrays and objects, read without parsing it (so a hostile
/// document cannot exhaust the parser's stack first); brackets inside strings do not count.
/// Token responses are measured the same way (`flow`).
pub(crate) fn depth(body: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Checks a parsed document against the issuer asked for.
pub fn metadata(source: &str, issuer: &str, doc: &Map<String, Value>) -> Result<Metadata> {
    let bad = |what: String| Error::ProviderError(format!("the metadata at {source} {what}"));
    let named = match doc.get("issuer") {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err(bad("has no issuer".into())),
    };
    if named != issuer {
        return Err(bad(format!(
            "names the issuer {}, not {} as asked: RFC 8414 §3.3 forbids using it. If {} is \
             the provider you mean, use it as the issuer",
            text::shown(named),
            text::shown(issuer),
            text::shown(named)
        )));
    }
    // A port on this machine may belong to another user: metadata from a remote issuer that
    // names a loopback endpoint would send the code, the PKCE verifier and the client secret
    // there. Only an issuer on loopback itself (a local test provider) may have them.
    let issuer_local = url::Url::parse(issuer).is_ok_and(|u| check::is_loopback(&u));
    let endpoint_in = |doc: &Map<String, Value>, key: &str| -> Result<Option<String>> {
        let value = match doc.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(s)) => {
                check::endpoint(s).map_err(|e| bad(format!("gives a {key} that {e}")))?
            }
            Some(_) => return Err(bad(format!("gives a {key} that is not a string"))),
        };
        let local = value
            .as_deref()
            .and_then(|v| url::Url::parse(v).ok())
            .is_some_and(|u| check::is_loopback(&u));
        if local && !issuer_local {
            return Err(bad(format!(
                "gives a {key} on this machine ({}) for the remote issuer {}: only a loopback \
                 issuer may name loopback endpoints",
                text::shown(value.as_deref().unwrap_or_default()),
                text::shown(issuer)
            )));
        }
        Ok(value)
    };
    let endpoint = |key: &str| endpoint_in(doc, key);
    // RFC 8705 §5: where a client with a certificate sends its requests.
    let mut mtls_endpoint_aliases = BTreeMap::new();
    if let Some(Value::Object(aliases)) = doc.get("mtls_endpoint_aliases") {
        for name in MTLS_ALIASES {
            if let Some(url) = endpoint_in(aliases, name)? {
                mtls_endpoint_aliases.insert(*name, url);
            }
        }
    }
    let strings = |key: &str| -> Vec<String> {
        match doc.get(key) {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str())
                .filter(|s| check::plain_text(s).is_ok())
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    };
    // Algorithm names, bounded as the provider form's `algs` check takes them.
    let algs = |key: &str| -> Vec<String> {
        strings(key)
            .into_iter()
            .filter(|a| {
                a.len() <= 32
                    && a.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+-_.".contains(&b))
            })
            .take(32)
            .collect()
    };
    Ok(Metadata {
        source: source.to_owned(),
        issuer: issuer.to_owned(),
        authorization_endpoint: endpoint("authorization_endpoint")?,
        token_endpoint: endpoint("token_endpoint")?,
        revocation_endpoint: endpoint("revocation_endpoint")?,
        userinfo_endpoint: endpoint("userinfo_endpoint")?,
        device_authorization_endpoint: endpoint("device_authorization_endpoint")?,
        introspection_endpoint: endpoint("introspection_endpoint")?,
        jwks_uri: endpoint("jwks_uri")?,
        scopes_supported: strings("scopes_supported"),
        token_endpoint_auth_methods_supported: strings("token_endpoint_auth_methods_supported"),
        token_endpoint_auth_signing_alg_values_supported: algs(
            "token_endpoint_auth_signing_alg_values_supported",
        ),
        dpop_signing_alg_values_supported: algs("dpop_signing_alg_values_supported"),
        code_challenge_methods_supported: strings("code_challenge_methods_supported"),
        authorization_response_iss_parameter_supported: doc
            .get("authorization_response_iss_parameter_supported")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        pushed_authorization_request_endpoint: endpoint("pushed_authorization_request_endpoint")?,
        registration_endpoint: endpoint("registration_endpoint")?,
        end_session_endpoint: endpoint("end_session_endpoint")?,
        mtls_endpoint_aliases,
        disagreements: Vec::new(),
        tls_client_certificate_bound_access_tokens: doc
            .get("tls_client_certificate_bound_access_tokens")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        require_pushed_authorization_requests: doc
            .get("require_pushed_authorization_requests")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// Which endpoints to fill: all that the metadata names but those set by hand (discovering,
/// and discovering again), or only those the user left empty (a preset's issuer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    Overwrite,
    OnlyEmpty,
}

/// The endpoint fields discovery fills, as the record names them.
pub fn endpoint_fields() -> impl Iterator<Item = &'static str> {
    ENDPOINTS.iter().map(|(_, f)| *f)
}

/// Where an endpoint's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// As the provider's metadata last gave it.
    Discovered,
    /// Typed, a flag, a preset or a file: discovering again keeps it.
    ByHand,
}

impl Source {
    /// `value`'s source, given what discovery last gave that field (`discovered`: all it gave).
    pub fn of(
        field: &str,
        value: Option<&str>,
        discovered: &BTreeMap<String, String>,
    ) -> Option<Source> {
        let value = value.filter(|v| !v.trim().is_empty())?;
        Some(if discovered.get(field).is_some_and(|d| d == value) {
            Source::Discovered
        } else {
            Source::ByHand
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Discovered => "discovered",
            Source::ByHand => "set by hand",
        }
    }
}

/// What discovery last gave, as the input carries it (a map, or the form's key=value lines).
fn discovered_in(input: &ProviderInput) -> BTreeMap<String, String> {
    match &input.discovered {
        Some(MapOrText::Map(m)) => m.clone(),
        Some(MapOrText::Text(t)) => t
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect(),
        None => Default::default(),
    }
}

/// The input's slot of endpoint field `field` (one of `ENDPOINTS`' fields).
fn input_endpoint<'a>(input: &'a mut ProviderInput, field: &str) -> Option<&'a mut Option<String>> {
    Some(match field {
        "authorization_url" => &mut input.authorization_url,
        "token_url" => &mut input.token_url,
        "revocation_url" => &mut input.revocation_url,
        "userinfo_url" => &mut input.userinfo_url,
        "device_authorization_url" => &mut input.device_authorization_url,
        "introspection_url" => &mut input.introspection_url,
        "jwks_uri" => &mut input.jwks_uri,
        "par_url" => &mut input.par_url,
        "registration_url" => &mut input.registration_url,
        "end_session_url" => &mut input.end_session_url,
        _ => return None,
    })
}

impl Metadata {
    fn endpoint(&self, key: &str) -> Option<&str> {
        match key {
            "authorization_endpoint" => self.authorization_endpoint.as_deref(),
            "token_endpoint" => self.token_endpoint.as_deref(),
            "revocation_endpoint" => self.revocation_endpoint.as_deref(),
            "userinfo_endpoint" => self.userinfo_endpoint.as_deref(),
            "device_authorization_endpoint" => self.device_authorization_endpoint.as_deref(),
            "introspection_endpoint" => self.introspection_endpoint.as_deref(),
            "jwks_uri" => self.jwks_uri.as_deref(),
            "pushed_authorization_request_endpoint" => {
                self.pushed_authorization_request_endpoint.as_deref()
            }
            "registration_endpoint" => self.registration_endpoint.as_deref(),
            "end_session_endpoint" => self.end_session_endpoint.as_deref(),
            other => unreachable!("{other} is not in ENDPOINTS"),
        }
    }

    fn endpoint_slot(&mut self, key: &str) -> &mut Option<String> {
        match key {
            "authorization_endpoint" => &mut self.authorization_endpoint,
            "token_endpoint" => &mut self.token_endpoint,
            "revocation_endpoint" => &mut self.revocation_endpoint,
            "userinfo_endpoint" => &mut self.userinfo_endpoint,
            "device_authorization_endpoint" => &mut self.device_authorization_endpoint,
            "introspection_endpoint" => &mut self.introspection_endpoint,
            "jwks_uri" => &mut self.jwks_uri,
            "pushed_authorization_request_endpoint" => {
                &mut self.pushed_authorization_request_endpoint
            }
            "registration_endpoint" => &mut self.registration_endpoint,
            "end_session_endpoint" => &mut self.end_session_endpoint,
            other => unreachable!("{other} is not in ENDPOINTS"),
        }
    }

    /// This document with what `other` (the same issuer's other document) adds: the endpoints
    /// this one leaves out; those both name differently are left out, as disagreements.
    pub fn merged(mut self, mut other: Metadata) -> Metadata {
        // An endpoint only the second document names is taken on a host the first already
        // trusts (the issuer's, or one of its endpoints'): for an issuer with a path, the
        // second document lives elsewhere on the origin, and may be somebody else's.
        let origin = |u: &str| {
            url::Url::parse(u)
                .ok()
                .map(|u| u.origin().ascii_serialization())
        };
        let mut trusted: Vec<String> = origin(&self.issuer).into_iter().collect();
        for (key, _) in ENDPOINTS {
            if let Some(o) = self.endpoint_slot(key).as_deref().and_then(origin) {
                trusted.push(o);
            }
        }
        for (key, field) in ENDPOINTS {
            let theirs = other.endpoint_slot(key).take();
            let source = self.source.clone();
            let mine = self.endpoint_slot(key);
            match (mine.clone(), theirs) {
                (None, Some(t)) if origin(&t).is_some_and(|o| trusted.contains(&o)) => {
                    *mine = Some(t)
                }
                (None, Some(t)) => tracing::warn!(
                    "discovery: {key} {} named only by {} is on another host; not used",
                    text::shown(&t),
                    other.source
                ),
                (Some(m), Some(t)) if m != t => {
                    *mine = None;
                    self.disagreements.push(Disagreement {
                        field: (*field).to_owned(),
                        values: [m, t],
                        sources: [source, other.source.clone()],
                    });
                }
                _ => {}
            }
        }
        let lists = [
            (&mut self.scopes_supported, other.scopes_supported),
            (
                &mut self.token_endpoint_auth_methods_supported,
                other.token_endpoint_auth_methods_supported,
            ),
            (
                &mut self.token_endpoint_auth_signing_alg_values_supported,
                other.token_endpoint_auth_signing_alg_values_supported,
            ),
            (
                &mut self.dpop_signing_alg_values_supported,
                other.dpop_signing_alg_values_supported,
            ),
            (
                &mut self.code_challenge_methods_supported,
                other.code_challenge_methods_supported,
            ),
        ];
        for (mine, theirs) in lists {
            if mine.is_empty() {
                *mine = theirs;
            }
        }
        // The mutual-TLS aliases (RFC 8705 §5) are the first document's alone: they name other
        // hosts by design, which only the document read first is trusted to do.
        self.authorization_response_iss_parameter_supported |=
            other.authorization_response_iss_parameter_supported;
        self.tls_client_certificate_bound_access_tokens |=
            other.tls_client_certificate_bound_access_tokens;
        self.require_pushed_authorization_requests |= other.require_pushed_authorization_requests;
        self.source = format!("{} and {}", self.source, other.source);
        self
    }

    /// Field errors for the endpoints the documents disagree on that `input` still leaves
    /// empty: the person chooses (a flag, a field of the form); nothing is picked for them.
    pub fn unresolved(&self, input: &ProviderInput) -> Vec<crate::error::FieldError> {
        let form = input.to_form();
        self.disagreements
            .iter()
            .filter(|d| {
                form.get(d.field.as_str())
                    .is_none_or(|v| v.trim().is_empty())
            })
            .map(|d| {
                let field = FIELDS
                    .iter()
                    .find(|f| f.name == d.field)
                    .map_or("endpoint", |f| f.name);
                crate::error::FieldError::new(
                    field,
                    format!(
                        "the provider's two metadata documents disagree: {} ({}) or {} ({}); \
                         choose one",
                        text::shown(&d.values[0]),
                        text::shown(&d.sources[0]),
                        text::shown(&d.values[1]),
                        text::shown(&d.sources[1])
                    ),
                )
            })
            .collect()
    }

    /// Puts every endpoint the metadata names into `input`, with a sensible default for the
    /// scopes and the client authentication when those are empty. An endpoint set by hand
    /// (one that differs from what discovery gave before) stays; one discovery gave before
    /// and the metadata no longer names is emptied. What the metadata gave is kept in the
    /// input's `discovered`, to tell the two apart next time.
    pub fn fill(&self, input: &mut ProviderInput, how: Fill) {
        let set = |slot: &mut Option<String>, value: &Option<String>| {
            let empty = slot.as_deref().is_none_or(|s| s.trim().is_empty());
            if value.is_some() && (how == Fill::Overwrite || empty) {
                *slot = value.clone();
            }
        };
        set(&mut input.issuer, &Some(self.issuer.clone()));
        let before = discovered_in(input);
        let mut now_discovered = BTreeMap::new();
        let mut by_hand = Vec::new();
        for (key, field) in ENDPOINTS {
            let value = self.endpoint(key).map(str::to_owned);
            if let Some(v) = &value {
                now_discovered.insert((*field).to_owned(), v.clone());
            }
            let Some(slot) = input_endpoint(input, field) else {
                continue;
            };
            // Never discovered before, every endpoint is the metadata's to fill.
            if !before.is_empty()
                && Source::of(field, slot.as_deref(), &before) == Some(Source::ByHand)
            {
                by_hand.push(*field);
                continue;
            }
            match value {
                Some(_) => set(slot, &value),
                None if how == Fill::Overwrite && before.contains_key(*field) => *slot = None,
                None => {}
            }
        }
        input.discovered = Some(MapOrText::Map(now_discovered));
        for (name, slot) in [
            ("token_endpoint", &mut input.mtls_token_url),
            ("revocation_endpoint", &mut input.mtls_revocation_url),
            ("introspection_endpoint", &mut input.mtls_introspection_url),
            (
                "device_authorization_endpoint",
                &mut input.mtls_device_authorization_url,
            ),
            (
                "pushed_authorization_request_endpoint",
                &mut input.mtls_par_url,
            ),
            ("userinfo_endpoint", &mut input.mtls_userinfo_url),
        ] {
            match self.mtls_endpoint_aliases.get(name) {
                Some(url) => set(slot, &Some(url.clone())),
                // An alias the metadata no longer names must not keep getting tokens.
                None if how == Fill::Overwrite => *slot = None,
                None => {}
            }
        }
        // Re-discovered: an endpoint the documents disagree on is left for the person to choose,
        // unless they chose one of the two before (a second document alone cannot empty it) or
        // set their own by hand.
        if how == Fill::Overwrite {
            for d in self
                .disagreements
                .iter()
                .filter(|d| !by_hand.contains(&d.field.as_str()))
            {
                if let Some(slot) = input_endpoint(input, &d.field) {
                    let chosen = slot
                        .as_deref()
                        .is_some_and(|v| d.values.iter().any(|c| c == v));
                    if !chosen {
                        *slot = None;
                    }
                }
            }
        }
        input.mtls_bound_tokens = Some(BoolOrText::Bool(
            self.tls_client_certificate_bound_access_tokens,
        ));
        // A provider that requires pushing gets it; one that merely offers it keeps the
        // person's choice.
        if self.require_pushed_authorization_requests {
            input.par = Some(BoolOrText::Bool(true));
        }
        input.auth_methods = Some(ListOrText::List(
            self.token_endpoint_auth_methods_supported
                .iter()
                .filter(|m| m.len() <= 32)
                .take(32)
                .cloned()
                .collect(),
        ));
        input.assertion_algs = Some(ListOrText::List(
            self.token_endpoint_auth_signing_alg_values_supported
                .clone(),
        ));
        input.dpop_algs = Some(ListOrText::List(
            self.dpop_signing_alg_values_supported.clone(),
        ));
        input.iss_required = Some(BoolOrText::Bool(
            self.authorization_response_iss_parameter_supported,
        ));

        let no_scopes = match &input.scopes {
            None => true,
            Some(ListOrText::List(l)) => l.is_empty(),
            Some(ListOrText::Text(t)) => t.trim().is_empty(),
        };
        if no_scopes && !self.scopes_supported.is_empty() {
            let wanted = ["openid", "profile", "email", "offline_access"];
            let scopes: Vec<String> = wanted
                .iter()
                .filter(|s| self.scopes_supported.iter().any(|x| x == *s))
                .map(|s| s.to_string())
                .collect();
            if !scopes.is_empty() {
                input.scopes = Some(ListOrText::List(scopes));
            }
        }
        let methods = &self.token_endpoint_auth_methods_supported;
        let auth_empty = input
            .client_auth
            .as_deref()
            .is_none_or(|s| s.trim().is_empty());
        if auth_empty
            && !methods.is_empty()
            && !methods.iter().any(|m| m == "client_secret_basic")
            && methods.iter().any(|m| m == "client_secret_post")
        {
            input.client_auth = Some("post".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document_of(
        source: &str,
        revocation: Option<&str>,
        introspection: Option<&str>,
    ) -> Metadata {
        Metadata {
            source: source.into(),
            issuer: "https://idp.example".into(),
            token_endpoint: Some("https://idp.example/token".into()),
            revocation_endpoint: revocation.map(Into::into),
            introspection_endpoint: introspection.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn the_second_document_adds_what_the_first_leaves_out_and_disagreements_are_left_open() {
        let oidc = document_of("oidc", None, Some("https://idp.example/introspect"));
        let oauth = document_of(
            "rfc8414",
            Some("https://idp.example/revoke"),
            Some("https://idp.example/other-introspect"),
        );
        let merged = oidc.merged(oauth);
        assert_eq!(
            merged.revocation_endpoint.as_deref(),
            Some("https://idp.example/revoke")
        );
        assert_eq!(merged.introspection_endpoint, None, "not picked silently");
        assert_eq!(
            merged.disagreements,
            [Disagreement {
                field: "introspection_url".into(),
                values: [
                    "https://idp.example/introspect".into(),
                    "https://idp.example/other-introspect".into()
                ],
                sources: ["oidc".into(), "rfc8414".into()],
            }]
        );
        // One only the second names on another host is not taken.
        let mut elsewhere = document_of("rfc8414", None, None);
        elsewhere.device_authorization_endpoint = Some("https://evil.example/device".into());
        let guarded = document_of("oidc", None, None).merged(elsewhere);
        assert_eq!(guarded.device_authorization_endpoint, None);
        let mut input = ProviderInput::default();
        merged.fill(&mut input, Fill::Overwrite);
        assert_eq!(merged.unresolved(&input).len(), 1);
        input.introspection_url = Some("https://idp.example/introspect".into());
        assert!(merged.unresolved(&input).is_empty(), "answered");
    }

    #[test]
    fn well_known_urls_for_oidc_and_rfc_8414() {
        assert_eq!(
            candidate_urls("https://idp.example").unwrap(),
            [
                "https://idp.example/.well-known/openid-configuration",
                "https://idp.example/.well-known/oauth-authorization-server"
            ]
        );
        assert_eq!(
            candidate_urls("https://idp.example/realms/dev/").unwrap(),
            [
                "https://idp.example/realms/dev/.well-known/openid-configuration",
                "https://idp.example/.well-known/oauth-authorization-server/realms/dev"
            ]
        );
        for bad in [
            "http://idp.example",
            "idp.example",
            "https://idp.example/?tenant=x",
            "",
        ] {
            match candidate_urls(bad) {
                Err(Error::InvalidFields(f)) => assert_eq!(f[0].field, "issuer", "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn nesting_is_measured_outside_strings() {
        assert_eq!(depth(br#"{"a":[{"b":"[[[[{{{"}]}"#), 3);
        assert_eq!(depth(br#"{"a":"\"[["}"#), 1);
        assert_eq!(depth(br#"{"a":"[[[[\"]]]","b":[[1]]}"#), 3);
        assert_eq!(depth(&[b'['; 100]), 100);
    }

    fn doc(json: &str) -> Map<String, Value> {
        parse_document(
            "https://idp.example/m",
            json.as_bytes(),
            Some("application/json"),
        )
        .unwrap()
    }

    #[test]
    fn metadata_must_name_the_issuer_asked_for_and_valid_endpoints() {
        let good = r#"{"issuer":"https://idp.example","token_endpoint":"https://idp.example/token",
            "scopes_supported":["openid","email","offline_access","x"],
            "token_endpoint_auth_methods_supported":["client_secret_post"]}"#;
        let m = metadata("src", "https://idp.example", &doc(good)).unwrap();
        assert_eq!(
            m.token_endpoint.as_deref(),
            Some("https://idp.example/token")
        );
        let mut input = ProviderInput::default();
        m.fill(&mut input, Fill::OnlyEmpty);
        assert!(
            matches!(&input.scopes, Some(ListOrText::List(l)) if l == &["openid", "email", "offline_access"])
        );
        assert_eq!(input.client_auth.as_deref(), Some("post"));

        let err = metadata("src", "https://idp.example/", &doc(good)).unwrap_err();
        assert!(err.to_string().contains("RFC 8414 §3.3"), "{err}");
        let hostile =
            r#"{"issuer":"https://idp.example","authorization_endpoint":"javascript:alert(1)"}"#;
        let err = metadata("src", "https://idp.example", &doc(hostile)).unwrap_err();
        assert!(err.to_string().contains("authorization_endpoint"), "{err}");
        assert_eq!(err.code(), "provider_error");
    }

    #[test]
    fn only_a_loopback_issuer_may_name_loopback_endpoints() {
        for local in [
            "http://127.0.0.1:8123/token",
            "http://localhost:8123/token",
            "http://[::1]:8123/token",
            "https://127.0.0.1/token",
        ] {
            for key in ["token_endpoint", "revocation_endpoint", "jwks_uri"] {
                let text = format!(r#"{{"issuer":"https://idp.example","{key}":"{local}"}}"#);
                let err = metadata("src", "https://idp.example", &doc(&text)).unwrap_err();
                assert!(
                    err.to_string().contains("only a loopback issuer"),
                    "{key} {local}: {err}"
                );
            }
        }
        let local =
            r#"{"issuer":"http://127.0.0.1:9000","token_endpoint":"http://127.0.0.1:9000/token"}"#;
        assert!(metadata("src", "http://127.0.0.1:9000", &doc(local)).is_ok());
    }

    #[test]
    fn html_non_objects_and_deep_nesting_are_refused() {
        for (body, ct, says) in [
            (
                "<!doctype html><p>login</p>",
                Some("text/html"),
                "HTML page",
            ),
            ("  <html>", Some("application/json"), "HTML page"),
            ("[1,2]", None, "not an object"),
            ("{nope", None, "not JSON"),
        ] {
            let err = parse_document("u", body.as_bytes(), ct).unwrap_err();
            assert!(err.to_string().contains(says), "{body}: {err}");
        }
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        assert!(parse_document("u", deep.as_bytes(), None)
            .unwrap_err()
            .to_string()
            .contains("nested"));
    }

    #[test]
    fn fill_overwrites_or_keeps_what_the_user_typed() {
        let m = Metadata {
            issuer: "https://idp.example".into(),
            token_endpoint: Some("https://idp.example/token".into()),
            ..Default::default()
        };
        let typed = ProviderInput {
            token_url: Some("https://mine.example/token".into()),
            ..Default::default()
        };
        let mut flags_win = typed.clone();
        m.fill(&mut flags_win, Fill::OnlyEmpty);
        assert_eq!(
            flags_win.token_url.as_deref(),
            Some("https://mine.example/token")
        );
        // Never discovered before: the first discovery fills every endpoint it names.
        let mut first = typed;
        m.fill(&mut first, Fill::Overwrite);
        assert_eq!(
            first.token_url.as_deref(),
            Some("https://idp.example/token")
        );
        assert_eq!(first.issuer.as_deref(), Some("https://idp.example"));
    }

    #[test]
    fn discovering_again_keeps_what_was_set_by_hand() {
        let before = Metadata {
            issuer: "https://idp.example".into(),
            token_endpoint: Some("https://idp.example/token".into()),
            revocation_endpoint: Some("https://idp.example/revoke".into()),
            device_authorization_endpoint: Some("https://idp.example/device".into()),
            ..Default::default()
        };
        let mut input = ProviderInput::default();
        before.fill(&mut input, Fill::Overwrite);
        // A person changes the revocation endpoint and adds an introspection endpoint.
        input.revocation_url = Some("https://idp.example/my-revoke".into());
        input.introspection_url = Some("https://idp.example/my-introspect".into());
        let config = ProviderInput {
            name: Some("idp".into()),
            client_id: Some("desk".into()),
            ..input.clone()
        }
        .validate(None)
        .expect("a valid provider")
        .config;
        let source = |f: &str| Source::of(f, config.text(f), &config.discovered);
        assert_eq!(source("token_url"), Some(Source::Discovered));
        assert_eq!(source("revocation_url"), Some(Source::ByHand));
        assert_eq!(source("introspection_url"), Some(Source::ByHand));
        assert_eq!(source("userinfo_url"), None, "not set");

        let after = Metadata {
            issuer: "https://idp.example".into(),
            token_endpoint: Some("https://idp.example/v2/token".into()),
            revocation_endpoint: Some("https://idp.example/v2/revoke".into()),
            introspection_endpoint: Some("https://idp.example/v2/introspect".into()),
            ..Default::default()
        };
        after.fill(&mut input, Fill::Overwrite);
        assert_eq!(
            input.token_url.as_deref(),
            Some("https://idp.example/v2/token"),
            "a discovered endpoint follows the metadata"
        );
        assert_eq!(
            input.revocation_url.as_deref(),
            Some("https://idp.example/my-revoke"),
            "one set by hand stays"
        );
        assert_eq!(
            input.introspection_url.as_deref(),
            Some("https://idp.example/my-introspect")
        );
        assert_eq!(
            input.device_authorization_url, None,
            "a discovered endpoint the metadata no longer names goes"
        );
    }
}
