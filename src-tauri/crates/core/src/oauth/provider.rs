//! The provider model: its fields, declared once (`provider_fields!` below), and their
//! validation from what a person typed (`ProviderInput`: the form, the command line, the REST
//! API, a shared file) into a `ProviderConfig`. Every problem is reported against the field it
//! belongs to, all at once and in the form's order, so the form can show each beside its
//! input.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use super::check;
use super::client_cert::{CertInput, ClientCert};
use super::input_schema;
use super::presets;
use super::provider_schema::{provider_fields, Column, FieldValue};
pub use super::provider_schema::{
    BoolOrText, Field, ListOrText, MapOrText, NumberOrText, ProviderForm,
};
use super::signing_key::{Alg, KeyInput, SigningKey};
use crate::error::FieldError;
use crate::secret::Secret;
use crate::text::shown;
use crate::vault::provider_table::{ClientAuth, ProviderRecord, SignInWith, DEFAULT_REDIRECT_PATH};

pub const MAX_NAME_CHARS: usize = 200;

/// Parameters OAuth Desk sets itself on every authorization request, and those that are
/// fields of their own (`resources`, `audience`).
pub(crate) const RESERVED_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "resource",
    "audience",
];

/// How many resources a provider or a sign-in may name.
pub const MAX_RESOURCES: usize = 16;

// Each provider field, once. Its name is its JSON name, vault column and form field; adding
// one here, a migration for its column, and (when a person sets it) a flag in the CLI's
// `ProviderFields` and an input in `ui/views/provider-form.js` is the whole change: the tests
// below, in the CLI and in the API check that those faces list exactly these fields.
provider_fields! {
    /// A unique name of 1 to 200 characters, used by `login`, `token get` and the window
    name: String, check name, flag None;
    /// Start from a built-in preset (see `oauth-desk provider presets`)
    preset: Option<String>, check preset, flag Some(("preset", "ID"));
    /// The issuer, whose OpenID Connect / RFC 8414 metadata fills the endpoints
    issuer: Option<String>, check url, flag Some(("issuer", "URL")),
        guard "issuer";
    /// The authorization endpoint, where the user signs in (RFC 6749 §3.1)
    authorization_url: Option<String>, check url, flag Some(("auth-url", "URL"));
    /// The token endpoint, where every sign-in ends (RFC 6749 §3.2)
    token_url: Option<String>, check token_url, flag Some(("token-url", "URL")),
        guard "token endpoint";
    /// Where refresh requests go [default: the token endpoint]
    refresh_url: Option<String>, check url, flag Some(("refresh-url", "URL")),
        guard "refresh endpoint";
    /// The token revocation endpoint (RFC 7009)
    revocation_url: Option<String>, check url, flag Some(("revoke-url", "URL")),
        guard "revocation endpoint";
    /// The OpenID Connect userinfo endpoint, which names the account
    userinfo_url: Option<String>, check url, flag Some(("userinfo-url", "URL")),
        guard "userinfo endpoint";
    /// The device authorization endpoint (RFC 8628)
    device_authorization_url: Option<String>, check url, flag Some(("device-url", "URL")),
        guard "device authorization endpoint";
    /// The token introspection endpoint (RFC 7662)
    introspection_url: Option<String>, check url, flag Some(("introspection-url", "URL")),
        guard "introspection endpoint";
    /// The token endpoint's mutual-TLS alias (RFC 8705 §5, set by discovery): where a client
    /// with a certificate sends its token requests
    mtls_token_url: Option<String>, check url, flag None,
        guard "mTLS token endpoint";
    /// The revocation endpoint's mutual-TLS alias (set by discovery)
    mtls_revocation_url: Option<String>, check url, flag None,
        guard "mTLS revocation endpoint";
    /// The introspection endpoint's mutual-TLS alias (set by discovery)
    mtls_introspection_url: Option<String>, check url, flag None,
        guard "mTLS introspection endpoint";
    /// The device authorization endpoint's mutual-TLS alias (set by discovery)
    mtls_device_authorization_url: Option<String>, check url, flag None,
        guard "mTLS device authorization endpoint";
    /// The pushed authorization request endpoint's mutual-TLS alias (set by discovery)
    mtls_par_url: Option<String>, check url, flag None,
        guard "mTLS pushed authorization request endpoint";
    /// The userinfo endpoint's mutual-TLS alias (set by discovery)
    mtls_userinfo_url: Option<String>, check url, flag None,
        guard "mTLS userinfo endpoint";
    /// The metadata promises access tokens bound to the client's certificate (RFC 8705 §3,
    /// set by discovery)
    mtls_bound_tokens: bool, check boolean, flag None;
    /// The pushed authorization request endpoint (RFC 9126)
    par_url: Option<String>, check url, flag Some(("par-url", "URL")),
        guard "pushed authorization request endpoint";
    /// The end-session endpoint (OpenID Connect RP-Initiated Logout), where signing out ends
    /// the provider's session too
    end_session_url: Option<String>, check url, flag Some(("end-session-url", "URL")),
        guard "end-session endpoint";
    /// The client registration endpoint (RFC 7591), where `provider register` creates a client
    registration_url: Option<String>, check url, flag Some(("registration-url", "URL"));
    /// Push each authorization request to the provider first (RFC 9126), as some providers
    /// require; the browser then carries only a reference to it
    par: bool, check boolean, flag Some(("par", "true|false"));
    /// Bind tokens to a key of OAuth Desk's (DPoP, RFC 9449): a stolen token is useless
    /// without the key, which never leaves the vault
    dpop: bool, check boolean, flag Some(("dpop", "true|false"));
    /// With DPoP: give each account a key of its own, made at its sign-in, instead of one key
    /// for the provider's every account
    dpop_per_account: bool, check boolean, flag Some(("dpop-per-account", "true|false"));
    /// The algorithms the provider accepts for DPoP proofs (set by discovery)
    dpop_algs: Vec<String>, check names, flag None;
    /// The JWKS: the keys that sign ID tokens (set by discovery)
    jwks_uri: Option<String>, check url, flag None;
    /// The client id the provider gave when OAuth Desk was registered
    client_id: String, check client_id, flag Some(("client-id", "ID"));
    /// How the client authenticates at the token endpoint (client_secret_jwt: a JWT signed with
    /// the secret, which never travels; private_key_jwt: one signed with the client's key);
    /// empty picks basic with a secret, none without
    client_auth: ClientAuth, check client_auth, flag Some(("client-auth", "basic|post|none|client_secret_jwt|private_key_jwt|tls_client_auth|self_signed_tls_client_auth"));
    /// Address client assertions to the issuer rather than the token endpoint, for a provider
    /// that asks for it (draft-ietf-oauth-rfc7523bis)
    assertion_aud_issuer: bool, check boolean, flag Some(("assertion-aud-issuer", "true|false"));
    /// The client authentication methods the provider offers (set by discovery)
    auth_methods: Vec<String>, check names, flag None;
    /// The algorithms the provider accepts for client assertions (set by discovery)
    assertion_algs: Vec<String>, check names, flag None;
    /// A default scope (RFC 6749 §3.3); repeat the flag, or give several separated by spaces
    scopes: Vec<String>, check scopes, flag Some(("scope", "SCOPE"));
    /// An extra authorization parameter, such as audience=https://api.example.com (repeatable)
    extra_params: BTreeMap<String, String>, check extra_params, flag Some(("param", "KEY=VALUE"));
    /// A resource the tokens are for (RFC 8707): an absolute URI, asked for at each sign-in;
    /// repeat the flag, or give several separated by spaces
    resources: Vec<String>, check resources, flag Some(("resource", "URI"));
    /// The audience the tokens are for, which some providers (Auth0, Okta) ask for at each
    /// sign-in
    audience: Option<String>, check audience, flag Some(("audience", "AUDIENCE"));
    /// The loopback redirect's port; 0 picks a free one at each sign-in
    redirect_port: u16, check port, flag Some(("redirect-port", "PORT"));
    /// The loopback redirect's path [default: /callback]
    redirect_path: String = DEFAULT_REDIRECT_PATH.into(), check redirect_path, flag Some(("redirect-path", "PATH"));
    /// A registered redirect URL that the login window catches, instead of the loopback one
    redirect_url: Option<String>, check url, flag Some(("redirect-url", "URL"));
    /// Where the user signs in: the in-app window, or the system browser
    sign_in_with: SignInWith, check sign_in_with, flag Some(("sign-in-with", "window|browser"));
    /// Ask in the window before another program gets one of this provider's tokens through
    /// the token agent (allow once, for 8 hours, or deny)
    ask_first: bool, check boolean, flag Some(("ask-first", "true|false"));
    /// The provider's colour in the window, such as #1f6feb
    color: Option<String>, check color, flag Some(("color", "COLOR"));
    /// The metadata promises the RFC 9207 `iss` response parameter (set by discovery)
    iss_required: bool, check boolean, flag None;
    /// The endpoints as discovery last gave them (set by discovery): an endpoint whose value
    /// differs was set by hand, and discovering again keeps it
    discovered: BTreeMap<String, String>, check discovered, flag None;
}

/// Where a field is listed (its problems, its changes): the declared order, the secret after
/// the client id.
pub(crate) fn position(field: &str) -> usize {
    let at = |name: &str| FIELDS.iter().position(|f| f.name == name);
    match field {
        "client_secret" => at("client_id").map_or(usize::MAX, |i| 2 * i + 1),
        "client_key" | "client_cert" => at("client_auth").map_or(usize::MAX, |i| 2 * i + 1),
        f => at(f).map_or(usize::MAX, |i| 2 * i),
    }
}

impl ProviderInput {
    /// Why a request from another program (the REST API) may not carry this input: the API
    /// generates keys, and a key or certificate of one's own comes from a file or standard
    /// input on this machine (the CLI, the window), never in a request a proxy or a log could
    /// keep, nor as a path the API would read. None: it may.
    pub fn remote_refusal(&self) -> Option<FieldError> {
        if self.client_cert.is_some() {
            return Some(FieldError::new(
                "client_cert",
                "the REST API takes no certificate files; give it with `oauth-desk provider update NAME --client-cert FILE`, or use self_signed_tls_client_auth, whose certificate the app makes",
            ));
        }
        let imported = self.client_key.as_ref().is_some_and(|k| {
            k.generate.is_none() || k.import.is_some() || k.file.is_some() || k.alg.is_some()
        });
        imported.then(|| {
            FieldError::new(
                "client_key",
                "the REST API only generates keys ({\"generate\": \"ES256\"}); import your own with `oauth-desk provider update NAME --client-key-stdin`",
            )
        })
    }

    /// The input that would produce `record` (without its secret): the start of an edit.
    pub fn from_record(r: &ProviderRecord) -> ProviderInput {
        ProviderInput::from_config(&r.config)
    }

    /// Checks every field; returns the record to store, or every problem found. `stored` is
    /// the provider being edited: its secret and key are kept when no new one is given. A key
    /// asked for is generated or read here.
    pub fn validate(
        &self,
        stored: Option<&ProviderRecord>,
    ) -> Result<ProviderRecord, Vec<FieldError>> {
        let stored_secret = stored.and_then(|s| s.client_secret.as_ref());
        let mut v = Validator::default();
        let mut config = self.check_fields(&mut v);

        // The rules between fields (`input_schema::between_fields` says them to the API).
        let typed_secret = self
            .client_secret
            .as_ref()
            .filter(|s| !s.expose().is_empty());
        if let Some(s) = typed_secret {
            // The message names the problem, never the value.
            if let Err(e) = check::plain_text(s.expose()) {
                v.error("client_secret", e);
            }
        }
        let secret = typed_secret.or(stored_secret).cloned();
        if text(&self.client_auth).is_none() {
            config.client_auth = if secret.is_some() {
                ClientAuth::Basic
            } else {
                ClientAuth::None
            };
        }
        let client_secret = match config.client_auth {
            ClientAuth::None => {
                if typed_secret.is_some() {
                    v.error(
                        "client_secret",
                        "a public client (client authentication \"none\") sends no secret: clear it, or choose basic or post",
                    );
                }
                None
            }
            // The key signs (or the certificate proves); a secret kept from another method
            // waits for a switch back.
            ClientAuth::PrivateKeyJwt
            | ClientAuth::TlsClientAuth
            | ClientAuth::SelfSignedTlsClientAuth => secret,
            _ => {
                if secret.is_none() {
                    let method = match config.client_auth {
                        ClientAuth::ClientSecretJwt => "client_secret_jwt",
                        _ => "basic or post",
                    };
                    v.error(
                        "client_secret",
                        format!("is required for {method} client authentication; choose \"none\" for a public client"),
                    );
                }
                secret
            }
        };
        let mut client_key = self.client_key(&config, stored, &mut v);
        let client_cert = self.client_cert(&config, stored, &mut client_key, &mut v);
        let dpop_key = dpop_key(&config, stored, &mut v);
        if config.par && config.par_url.is_none() && !v.has("par_url") {
            v.error(
                "par_url",
                "is required to push authorization requests (RFC 9126): fill it by discovery from the issuer, or turn pushing off",
            );
        }
        if config.redirect_url.is_some() && config.sign_in_with == SignInWith::Browser {
            v.error(
                "redirect_url",
                "a custom redirect URL is caught by the in-app login window; sign in with the window, or clear it to use the loopback redirect",
            );
        }

        if !v.errors.is_empty() {
            v.errors.sort_by_key(|e| position(e.field));
            return Err(v.errors);
        }
        Ok(ProviderRecord {
            config,
            client_secret,
            client_key,
            dpop_key,
            client_cert,
        })
    }

    /// The certificate a change gives, else the stored one; for the certificate methods, the
    /// one they need: a self-signed one made (with a key, if there is none) when missing or of
    /// another key, an issued one put leaf first and checked against its key and the clock
    /// when it or its key is new. (An expired stored one does not block other changes: its use
    /// says so.)
    fn client_cert(
        &self,
        config: &ProviderConfig,
        stored: Option<&ProviderRecord>,
        key: &mut Option<SigningKey>,
        v: &mut Validator,
    ) -> Option<ClientCert> {
        // The validity period is checked against the clock of the moment the change is made.
        let now = crate::time::now();
        let key_given = self
            .client_key
            .as_ref()
            .is_some_and(|k| *k != KeyInput::default());
        let stored_cert = stored.and_then(|s| s.client_cert.clone());
        let given = self
            .client_cert
            .as_ref()
            .filter(|c| **c != CertInput::default());
        if given.is_some() && config.client_auth != ClientAuth::TlsClientAuth {
            v.error(
                "client_cert",
                "a certificate file is for tls_client_auth (self_signed_tls_client_auth makes its own)",
            );
            return stored_cert;
        }
        let mut cert = match given {
            None => stored_cert,
            Some(given) => match given.read() {
                Ok((cert, with_key)) => {
                    if let (Some(text), false) = (with_key, key_given) {
                        match SigningKey::import(text.expose(), None, &config.assertion_algs) {
                            Ok(k) => *key = Some(k),
                            Err(e) => v.error("client_cert", e.to_string()),
                        }
                    }
                    Some(cert)
                }
                Err(e) => {
                    v.error("client_cert", e.to_string());
                    return None;
                }
            },
        };
        match config.client_auth {
            ClientAuth::SelfSignedTlsClientAuth => {
                if key.is_none() {
                    match SigningKey::generate(Alg::ES256) {
                        Ok(k) => *key = Some(k),
                        Err(e) => v.error("client_key", e.to_string()),
                    }
                }
                let k = key.as_ref()?;
                if cert.as_ref().is_none_or(|c| c.matches(k).is_err()) {
                    match ClientCert::self_signed(k, &config.client_id, now) {
                        Ok(c) => cert = Some(c),
                        Err(e) => v.error("client_cert", e.to_string()),
                    }
                }
            }
            ClientAuth::TlsClientAuth => match (&cert, key.as_ref()) {
                (None, _) => v.error(
                    "client_cert",
                    "is required for tls_client_auth: the certificate the provider's CA issued to this client, in PEM or PKCS#12",
                ),
                (Some(_), None) => v.error(
                    "client_key",
                    "is required for tls_client_auth: the certificate's private key (in its PEM file, or given on its own)",
                ),
                (Some(c), Some(k)) if given.is_some() || key_given => {
                    match c.ordered_for(k).and_then(|o| o.valid_at(now).map(|()| o)) {
                        Ok(ordered) => cert = Some(ordered),
                        Err(e) => v.error("client_cert", e.to_string()),
                    }
                }
                (Some(_), Some(_)) => {}
            },
            _ => {}
        }
        cert
    }

    /// The key a change gives (generated or imported now), else the stored one; checked
    /// against what private_key_jwt and the provider's metadata need.
    fn client_key(
        &self,
        config: &ProviderConfig,
        stored: Option<&ProviderRecord>,
        v: &mut Validator,
    ) -> Option<SigningKey> {
        let given = self
            .client_key
            .as_ref()
            .filter(|k| **k != KeyInput::default());
        let key = match given {
            None => stored.and_then(|s| s.client_key.clone()),
            Some(k) => {
                let made = k.make(&config.assertion_algs);
                match made {
                    Ok(key) => Some(key),
                    Err(e) => {
                        v.error("client_key", e.to_string());
                        return None;
                    }
                }
            }
        };
        if config.client_auth != ClientAuth::PrivateKeyJwt {
            return key;
        }
        match &key {
            None => v.error(
                "client_key",
                "is required for private_key_jwt: generate a key (ES256, RS256, PS256 or EdDSA) or import your own, then register its public JWK with the provider",
            ),
            Some(k) => {
                let accepted = &config.assertion_algs;
                if !accepted.is_empty() && !accepted.iter().any(|a| a == k.alg().as_str()) {
                    v.error(
                        "client_key",
                        format!(
                            "signs {}, which the provider does not accept for client assertions (it lists {})",
                            k.alg().as_str(),
                            accepted.iter().map(|a| shown(a)).collect::<Vec<_>>().join(", ")
                        ),
                    );
                }
            }
        }
        key
    }
}

/// The key DPoP proofs are signed with: the stored one, else a new one (ES256 unless the
/// provider takes only other algorithms made here). It is kept when DPoP is turned off, so that turning it on again
/// finds the tokens' key.
fn dpop_key(
    config: &ProviderConfig,
    stored: Option<&ProviderRecord>,
    v: &mut Validator,
) -> Option<SigningKey> {
    let stored = stored.and_then(|s| s.dpop_key.clone());
    // A stored key is never replaced here: the tokens bound to it would stop working.
    if !config.dpop || stored.is_some() {
        return stored;
    }
    let accepted = &config.dpop_algs;
    let takes = |alg: Alg| accepted.is_empty() || accepted.iter().any(|a| a == alg.as_str());
    // A provider listing none of the algorithms made here may list too few: ES256 is the one
    // RFC 9449 names, and the provider's own answer at sign-in will say if it is refused.
    let alg = Alg::ALL
        .into_iter()
        .find(|a| takes(*a))
        .unwrap_or(Alg::ES256);
    match SigningKey::generate(alg) {
        Ok(k) => Some(k),
        Err(e) => {
            v.error("dpop", e.to_string());
            None
        }
    }
}

/// A list given as a list, or as text separated by spaces.
fn words(raw: &Option<ListOrText>) -> Vec<String> {
    match raw {
        None => Vec::new(),
        Some(ListOrText::List(l)) => l.clone(),
        Some(ListOrText::Text(t)) => t.split(' ').map(str::to_owned).collect(),
    }
}

fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref()
        .map(|s| s.trim_matches(' '))
        .filter(|s| !s.is_empty())
}

#[derive(Default)]
struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    fn error(&mut self, field: &'static str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    fn has(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }

    fn preset(&mut self, field: &'static str, raw: &Option<String>) -> Option<String> {
        let preset = text(raw)?;
        if presets::find(preset).is_none() {
            self.error(
                field,
                format!("there is no preset {}; see the preset list", shown(preset)),
            );
        }
        Some(preset.to_owned())
    }

    fn client_id(&mut self, field: &'static str, raw: &Option<String>) -> String {
        let client_id = raw.as_deref().unwrap_or("").trim_matches(' ');
        if client_id.is_empty() {
            self.error(
                field,
                "is required: the client id the provider gave when you registered OAuth Desk",
            );
        } else if let Err(e) = check::plain_text(client_id) {
            self.error(field, e);
        }
        client_id.to_owned()
    }

    /// One of a plain enum's wire names (`names` lists them for the message); left empty,
    /// its default.
    fn choice<T: DeserializeOwned + Default>(
        &mut self,
        field: &'static str,
        raw: &Option<String>,
        names: &str,
    ) -> T {
        let Some(s) = text(raw) else {
            return T::default();
        };
        crate::wire::parse(s).unwrap_or_else(|| {
            self.error(field, format!("must be {names}, not {}", shown(s)));
            T::default()
        })
    }

    /// Left empty, `validate` chooses by whether there is a secret.
    fn client_auth(&mut self, field: &'static str, raw: &Option<String>) -> ClientAuth {
        self.choice(
            field,
            raw,
            "basic, post, none, client_secret_jwt, private_key_jwt, tls_client_auth or self_signed_tls_client_auth",
        )
    }

    /// Names from metadata (algorithms, methods): kept as given (unknown ones included),
    /// bounded.
    fn names(&mut self, field: &'static str, raw: &Option<ListOrText>) -> Vec<String> {
        let list = words(raw);
        let mut names: Vec<String> = Vec::new();
        for a in list.into_iter().filter(|a| !a.is_empty()) {
            let fine = a.len() <= 32
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-_.".contains(&b));
            if !fine {
                self.error(
                    field,
                    format!("{} is not a name of letters, digits and +._-", shown(&a)),
                );
            } else if names.len() == 32 {
                self.error(field, "lists more than 32 names");
                break;
            } else if !names.contains(&a) {
                names.push(a);
            }
        }
        names
    }

    fn sign_in_with(&mut self, field: &'static str, raw: &Option<String>) -> SignInWith {
        self.choice(field, raw, "window or browser")
    }

    fn boolean(&mut self, field: &'static str, raw: &Option<BoolOrText>) -> bool {
        match raw {
            None => false,
            Some(BoolOrText::Bool(b)) => *b,
            Some(BoolOrText::Text(t)) => match t.as_str() {
                "true" => true,
                "" | "false" => false,
                other => {
                    self.error(
                        field,
                        format!("must be true or false, not {}", shown(other)),
                    );
                    false
                }
            },
        }
    }

    /// Names may hold markup, bidi overrides or zero-width characters: they are stored as typed
    /// and every face shows them escaped and made visible. Control characters are refused.
    fn name(&mut self, _: &'static str, raw: &Option<String>) -> String {
        let name = raw.as_deref().unwrap_or("").trim_matches(' ');
        if name.is_empty() {
            self.error(
                "name",
                "is required: a name for this provider, such as \"GitHub\" or \"Staging IdP\"",
            );
        } else if let Err(e) = check::plain_text(name) {
            self.error("name", e);
        } else if name.chars().count() > MAX_NAME_CHARS {
            self.error(
                "name",
                format!("is longer than {MAX_NAME_CHARS} characters"),
            );
        }
        name.to_owned()
    }

    fn url(&mut self, field: &'static str, raw: &Option<String>) -> Option<String> {
        match check::endpoint(raw.as_deref().unwrap_or("")) {
            Ok(v) => v,
            Err(e) => {
                self.error(field, e);
                None
            }
        }
    }

    fn token_url(&mut self, field: &'static str, raw: &Option<String>) -> Option<String> {
        let url = self.url(field, raw);
        if url.is_none() && !self.has(field) {
            self.error(
                field,
                "is required: every sign-in ends at the token endpoint (or fill it by discovery from the issuer)",
            );
        }
        url
    }

    fn scopes(&mut self, _: &'static str, raw: &Option<ListOrText>) -> Vec<String> {
        let list = words(raw);
        let mut scopes: Vec<String> = Vec::new();
        for s in list.iter().filter(|s| !s.is_empty()) {
            if let Err(e) = check::scope(s) {
                self.error("scopes", e);
            } else if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        scopes
    }

    /// A map given as a map, or as text of one key=value a line.
    fn pairs(&mut self, field: &'static str, raw: &Option<MapOrText>) -> Vec<(String, String)> {
        match raw {
            None => Vec::new(),
            Some(MapOrText::Map(m)) => m.clone().into_iter().collect(),
            Some(MapOrText::Text(t)) => {
                let mut pairs = Vec::new();
                for (n, line) in t.lines().enumerate() {
                    let line = line.trim();
                    if line.is_empty() {
                        continue;
                    }
                    match line.split_once('=') {
                        Some((k, v)) => pairs.push((k.trim().to_owned(), v.trim().to_owned())),
                        None => self.error(
                            field,
                            format!("line {}: write key=value, such as prompt=consent", n + 1),
                        ),
                    }
                }
                pairs
            }
        }
    }

    fn extra_params(
        &mut self,
        field: &'static str,
        raw: &Option<MapOrText>,
    ) -> BTreeMap<String, String> {
        let pairs = self.pairs(field, raw);
        let mut map = BTreeMap::new();
        for (k, v) in pairs {
            if k.is_empty()
                || !k
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._~-".contains(c))
            {
                self.error(
                    "extra_params",
                    format!(
                        "{} is not a parameter name (letters, digits and . _ ~ - only)",
                        shown(&k)
                    ),
                );
            } else if matches!(k.as_str(), "resource" | "audience") {
                self.error(
                    "extra_params",
                    format!("{k} is a field of its own: give it there, not as an extra parameter"),
                );
            } else if RESERVED_PARAMS.contains(&k.as_str()) {
                self.error(
                    "extra_params",
                    format!("{k} is set by OAuth Desk itself and cannot be an extra parameter"),
                );
            } else if let Err(e) = check::plain_text(&v) {
                self.error("extra_params", format!("{k}: {e}"));
            } else if map.insert(k.clone(), v).is_some() {
                self.error("extra_params", format!("{k} is given twice"));
            }
        }
        map
    }

    fn resources(&mut self, field: &'static str, raw: &Option<ListOrText>) -> Vec<String> {
        let mut resources: Vec<String> = Vec::new();
        for r in words(raw).into_iter().filter(|r| !r.is_empty()) {
            if let Err(e) = check::resource(&r) {
                self.error(field, format!("{}: {e}", shown(&r)));
            } else if resources.len() == MAX_RESOURCES {
                self.error(field, format!("names more than {MAX_RESOURCES} resources"));
                break;
            } else if !resources.contains(&r) {
                resources.push(r);
            }
        }
        resources
    }

    fn audience(&mut self, field: &'static str, raw: &Option<String>) -> Option<String> {
        let audience = text(raw)?;
        if let Err(e) = check::plain_text(audience) {
            self.error(field, e);
        }
        Some(audience.to_owned())
    }

    /// Endpoint fields and the URLs discovery gave them (only used to tell a discovered
    /// endpoint from one set by hand, never as an address); another key is refused, an
    /// empty value skipped.
    fn discovered(
        &mut self,
        field: &'static str,
        raw: &Option<MapOrText>,
    ) -> BTreeMap<String, String> {
        let endpoints = super::discovery::ENDPOINTS;
        let mut map = BTreeMap::new();
        for (k, v) in self.pairs(field, raw) {
            if !endpoints.iter().any(|(_, f)| *f == k) {
                self.error(field, format!("{} is not an endpoint field", shown(&k)));
            } else {
                match check::endpoint(&v) {
                    Ok(Some(url)) => {
                        map.insert(k, url);
                    }
                    Ok(None) => {}
                    Err(e) => self.error(field, format!("{k}: {e}")),
                }
            }
        }
        map
    }

    fn port(&mut self, _: &'static str, raw: &Option<NumberOrText>) -> u16 {
        let n = match raw {
            None => return 0,
            Some(NumberOrText::Number(n)) => *n,
            Some(NumberOrText::Text(t)) if t.trim().is_empty() => return 0,
            Some(NumberOrText::Text(t)) => match t.trim().parse::<i64>() {
                Ok(n) => n,
                Err(_) => {
                    self.error(
                        "redirect_port",
                        format!(
                            "must be a port number (0 for any free port), not {}",
                            shown(t)
                        ),
                    );
                    return 0;
                }
            },
        };
        u16::try_from(n).unwrap_or_else(|_| {
            self.error(
                "redirect_port",
                format!("must be between 0 (any free port) and 65535, not {n}"),
            );
            0
        })
    }

    fn redirect_path(&mut self, _: &'static str, raw: &Option<String>) -> String {
        let path = raw.as_deref().unwrap_or("").trim_matches(' ');
        if path.is_empty() {
            return DEFAULT_REDIRECT_PATH.into();
        }
        if let Err(e) = check::plain_text(path) {
            self.error("redirect_path", e);
        } else if !path.starts_with('/') {
            self.error("redirect_path", "must start with /, such as /callback");
        } else if let Some(c) = path
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "/-._~!$&'()*+,;=:@%".contains(*c)))
        {
            self.error(
                "redirect_path",
                format!("may hold only a URL path; {c:?} is not allowed"),
            );
        }
        path.to_owned()
    }

    fn color(&mut self, _: &'static str, raw: &Option<String>) -> Option<String> {
        let c = text(raw)?;
        let hex = c.strip_prefix('#').unwrap_or("");
        if !(hex.len() == 3 || hex.len() == 6) || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            self.error(
                "color",
                format!("must be a colour such as #1f6feb, not {}", shown(c)),
            );
            return None;
        }
        let hex = hex.to_ascii_lowercase();
        Some(if hex.len() == 3 {
            let mut full = String::from("#");
            for ch in hex.chars() {
                full.push(ch);
                full.push(ch);
            }
            full
        } else {
            format!("#{hex}")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> ProviderInput {
        ProviderInput {
            name: Some("Staging IdP".into()),
            authorization_url: Some("https://idp.example/authorize".into()),
            token_url: Some("https://idp.example/token".into()),
            client_id: Some("desk".into()),
            client_secret: Some("s3cret".into()),
            scopes: Some(ListOrText::Text("openid  email offline_access".into())),
            ..Default::default()
        }
    }

    fn errors_of(input: &ProviderInput) -> Vec<FieldError> {
        input.validate(None).expect_err("invalid input")
    }

    #[test]
    fn private_key_jwt_needs_a_key_the_provider_accepts_and_keeps_the_stored_one() {
        use crate::oauth::signing_key::Alg;
        let keyed = |key: Option<KeyInput>, algs: &[&str]| ProviderInput {
            client_auth: Some("private_key_jwt".into()),
            client_secret: None,
            client_key: key,
            assertion_algs: Some(ListOrText::List(
                algs.iter().map(|a| a.to_string()).collect(),
            )),
            ..good()
        };
        let errors = errors_of(&keyed(None, &[]));
        assert_eq!(errors[0].field, "client_key");
        assert!(errors[0]
            .message
            .contains("is required for private_key_jwt"));

        let generate = |alg| KeyInput {
            generate: Some(alg),
            ..Default::default()
        };
        let r = keyed(Some(generate(Alg::EdDSA)), &[])
            .validate(None)
            .unwrap();
        let key = r.client_key.clone().expect("a generated key");
        assert_eq!(key.alg(), Alg::EdDSA);
        assert!(r.client_secret.is_none());
        // An edit that gives no key keeps the stored one.
        let kept = keyed(None, &[]).validate(Some(&r)).unwrap();
        assert_eq!(kept.client_key, Some(key));

        let errors = errors_of(&keyed(Some(generate(Alg::RS256)), &["ES256", "PS256"]));
        assert_eq!(errors[0].field, "client_key");
        assert!(
            errors[0]
                .message
                .contains("signs RS256, which the provider does not accept"),
            "{}",
            errors[0].message
        );
    }

    /// One field wrong: exactly that field is named, with a message that says `says`.
    fn assert_one_error(input: ProviderInput, field: &str, says: &str) {
        let errors = errors_of(&input);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, field, "{errors:?}");
        assert!(
            errors[0].message.contains(says),
            "{field}: {:?} should say {says:?}",
            errors[0].message
        );
    }

    #[test]
    fn a_good_provider_is_normalized() {
        let mut input = good();
        input.color = Some("#ABC".into());
        input.extra_params = Some(MapOrText::Text(
            "x-tenant = https://api.example\n\nprompt=consent".into(),
        ));
        input.audience = Some(" orders-api ".into());
        input.resources = Some(ListOrText::Text(
            "https://api.example/a  https://api.example/a https://api.example/b".into(),
        ));
        input.redirect_port = Some(NumberOrText::Text("8400".into()));
        let r = input.validate(None).unwrap();
        assert_eq!(r.scopes, ["openid", "email", "offline_access"]);
        assert_eq!(r.client_auth, ClientAuth::Basic, "a secret implies basic");
        assert_eq!(r.color.as_deref(), Some("#aabbcc"));
        assert_eq!(r.extra_params["x-tenant"], "https://api.example");
        assert_eq!(r.audience.as_deref(), Some("orders-api"));
        assert_eq!(
            r.resources,
            ["https://api.example/a", "https://api.example/b"],
            "each resource once"
        );
        assert_eq!(r.redirect_port, 8400);
        assert_eq!(r.redirect_path, "/callback");
        assert_eq!(r.sign_in_with, SignInWith::Window);
    }

    #[test]
    fn every_endpoint_field_is_checked_and_named() {
        type Setter = fn(&mut ProviderInput, String);
        let fields: [(&str, Setter); 9] = [
            ("issuer", |i, v| i.issuer = Some(v)),
            ("authorization_url", |i, v| i.authorization_url = Some(v)),
            ("token_url", |i, v| i.token_url = Some(v)),
            ("refresh_url", |i, v| i.refresh_url = Some(v)),
            ("revocation_url", |i, v| i.revocation_url = Some(v)),
            ("userinfo_url", |i, v| i.userinfo_url = Some(v)),
            ("device_authorization_url", |i, v| {
                i.device_authorization_url = Some(v)
            }),
            ("introspection_url", |i, v| i.introspection_url = Some(v)),
            ("redirect_url", |i, v| i.redirect_url = Some(v)),
        ];
        for (field, set) in fields {
            let mut input = good();
            set(&mut input, "javascript:alert(1)".into());
            assert_one_error(input, field, "javascript: URLs are not allowed");
        }
    }

    #[test]
    fn required_fields_and_names() {
        assert_one_error(
            ProviderInput {
                name: Some("  ".into()),
                ..good()
            },
            "name",
            "required",
        );
        assert_one_error(
            ProviderInput {
                name: Some("a\nb".into()),
                ..good()
            },
            "name",
            "control character",
        );
        assert_one_error(
            ProviderInput {
                name: Some("n".repeat(201)),
                ..good()
            },
            "name",
            "longer than 200",
        );
        assert_one_error(
            ProviderInput {
                client_id: None,
                ..good()
            },
            "client_id",
            "required",
        );
        assert_one_error(
            ProviderInput {
                token_url: None,
                ..good()
            },
            "token_url",
            "required",
        );
        assert_one_error(
            ProviderInput {
                client_id: Some("x".repeat(9000)),
                ..good()
            },
            "client_id",
            "8 KB",
        );
        // Markup, bidi overrides and zero-width characters are kept as typed.
        let odd = "<img src=x onerror=alert(1)> pay\u{202E}lap\u{200B}";
        let r = ProviderInput {
            name: Some(odd.into()),
            ..good()
        }
        .validate(None)
        .unwrap();
        assert_eq!(r.name, odd);
    }

    #[test]
    fn secrets_follow_the_client_authentication() {
        let public = ProviderInput {
            client_secret: None,
            ..good()
        };
        assert_eq!(public.validate(None).unwrap().client_auth, ClientAuth::None);
        assert_one_error(
            ProviderInput {
                client_secret: None,
                client_auth: Some("post".into()),
                ..good()
            },
            "client_secret",
            "required for basic or post",
        );
        assert_one_error(
            ProviderInput {
                client_auth: Some("none".into()),
                ..good()
            },
            "client_secret",
            "public client",
        );
        assert_one_error(
            ProviderInput {
                client_auth: Some("jwt".into()),
                ..good()
            },
            "client_auth",
            "private_key_jwt, tls_client_auth or self_signed_tls_client_auth",
        );
        // Editing without typing the secret keeps the stored one.
        let stored = ProviderRecord {
            client_secret: Some("stored".into()),
            ..Default::default()
        };
        let edit = ProviderInput {
            client_secret: Some("".into()),
            ..good()
        };
        let r = edit.validate(Some(&stored)).unwrap();
        assert_eq!(r.client_secret.as_ref().unwrap().expose(), "stored");
        // A secret's problem is named without showing the secret.
        let errors = errors_of(&ProviderInput {
            client_secret: Some("top\nsecret".into()),
            ..good()
        });
        assert_eq!(errors[0].field, "client_secret");
        assert!(!errors[0].message.contains("top"), "{:?}", errors[0]);
    }

    #[test]
    fn scopes_params_ports_paths_and_colours() {
        assert_one_error(
            ProviderInput {
                scopes: Some(ListOrText::List(vec!["a\"b".into()])),
                ..good()
            },
            "scopes",
            "RFC 6749",
        );
        for (params, says) in [
            ("state=x", "set by OAuth Desk"),
            ("redirect_uri=https://evil.example", "set by OAuth Desk"),
            ("no equals sign", "key=value"),
            ("bad key=1", "not a parameter name"),
            ("a=1\na=2", "given twice"),
            ("audience=api", "a field of its own"),
            ("resource=https://api.example", "a field of its own"),
        ] {
            assert_one_error(
                ProviderInput {
                    extra_params: Some(MapOrText::Text(params.into())),
                    ..good()
                },
                "extra_params",
                says,
            );
        }
        assert_one_error(
            ProviderInput {
                redirect_port: Some(NumberOrText::Number(70000)),
                ..good()
            },
            "redirect_port",
            "65535",
        );
        assert_one_error(
            ProviderInput {
                redirect_port: Some(NumberOrText::Text("http".into())),
                ..good()
            },
            "redirect_port",
            "port number",
        );
        assert_one_error(
            ProviderInput {
                redirect_path: Some("callback".into()),
                ..good()
            },
            "redirect_path",
            "start with /",
        );
        assert_one_error(
            ProviderInput {
                redirect_path: Some("/cb?x=1".into()),
                ..good()
            },
            "redirect_path",
            "not allowed",
        );
        assert_one_error(
            ProviderInput {
                color: Some("red".into()),
                ..good()
            },
            "color",
            "#1f6feb",
        );
        assert_one_error(
            ProviderInput {
                redirect_url: Some("https://app.example/cb".into()),
                sign_in_with: Some("browser".into()),
                ..good()
            },
            "redirect_url",
            "login window",
        );
        assert_one_error(
            ProviderInput {
                preset: Some("nope".into()),
                ..good()
            },
            "preset",
            "no preset",
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let input = ProviderInput {
            name: None,
            token_url: Some("http://idp.example/token".into()),
            color: Some("blue".into()),
            ..good()
        };
        let fields: Vec<_> = errors_of(&input).iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "token_url", "color"]);
    }

    #[test]
    fn a_record_round_trips_through_its_input() {
        let r = good().validate(None).unwrap();
        let again = ProviderInput::from_record(&r).validate(Some(&r)).unwrap();
        assert_eq!(again, r);
    }

    #[test]
    fn the_form_shows_lists_as_text_and_reads_back_the_same() {
        let mut input = good();
        input.extra_params = Some(MapOrText::Map(
            [
                ("a".to_string(), "1".to_string()),
                ("b".to_string(), "2".to_string()),
            ]
            .into(),
        ));
        let r = input.validate(None).unwrap();
        let form = ProviderInput::from_record(&r).to_form();
        assert_eq!(form["scopes"], "openid email offline_access");
        assert_eq!(form["extra_params"], "a=1\nb=2");
        let json = serde_json::to_value(&form).unwrap();
        assert!(
            json.get("client_secret").is_none(),
            "the form never carries the secret"
        );
        let mut back: ProviderInput = serde_json::from_value(json).unwrap();
        back.client_secret = Some("s3cret".into());
        assert_eq!(back.validate(None).unwrap(), r);
    }

    #[test]
    fn every_field_counts_as_a_change() {
        // iss_required was once left out of a hand-kept list of compared fields.
        let old = ProviderConfig::default();
        let new = ProviderConfig {
            iss_required: true,
            ..old.clone()
        };
        assert_eq!(old.changed_fields(&new), ["iss_required"]);
    }

    #[test]
    fn unknown_json_fields_are_refused() {
        let err = serde_json::from_str::<ProviderInput>(r#"{"name":"x","client_secrett":"y"}"#)
            .unwrap_err();
        assert!(err.to_string().contains("client_secrett"));
    }
}
