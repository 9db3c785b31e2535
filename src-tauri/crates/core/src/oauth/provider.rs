//! The provider as a person types it (`ProviderInput`: the form, the command line, the REST
//! API) and its validation into a `ProviderRecord`. Every problem is reported against the
//! field it belongs to, all at once, so the form can show each beside its input.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::check;
use super::presets;
use crate::error::FieldError;
use crate::secret::Secret;
use crate::text::shown;
use crate::vault::provider_table::{ClientAuth, ProviderRecord, SignInWith, DEFAULT_REDIRECT_PATH};

pub const MAX_NAME_CHARS: usize = 200;

/// Parameters OAuth Desk sets itself on every authorization request.
const RESERVED_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
];

/// What the user typed. Empty strings mean "not set"; lists may come as a list or as text.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderInput {
    pub name: Option<String>,
    pub preset: Option<String>,
    pub issuer: Option<String>,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub refresh_url: Option<String>,
    pub revocation_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub device_authorization_url: Option<String>,
    pub introspection_url: Option<String>,
    pub jwks_uri: Option<String>,
    pub client_id: Option<String>,
    /// Write-only. Empty keeps the stored secret when editing.
    pub client_secret: Option<Secret<String>>,
    /// "basic", "post" or "none"; empty picks basic when there is a secret, none otherwise.
    pub client_auth: Option<String>,
    pub scopes: Option<ListOrText>,
    pub extra_params: Option<MapOrText>,
    pub redirect_port: Option<NumberOrText>,
    pub redirect_path: Option<String>,
    pub redirect_url: Option<String>,
    pub sign_in_with: Option<String>,
    pub color: Option<String>,
    /// Set by discovery from the metadata (RFC 9207), not typed.
    pub iss_required: Option<BoolOrText>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum BoolOrText {
    Bool(bool),
    Text(String),
}

/// Scopes as a JSON list, or as text separated by spaces (how the form and RFC 6749 write them).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ListOrText {
    List(Vec<String>),
    Text(String),
}

/// Extra parameters as a JSON object, or as `key=value` lines (the form's text area).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum MapOrText {
    Map(BTreeMap<String, String>),
    Text(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum NumberOrText {
    Number(i64),
    Text(String),
}

/// The form's fields as the window shows them: every value as text (scopes separated by
/// spaces, extra parameters one `key=value` a line), and never the secret.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProviderForm {
    pub name: String,
    pub preset: String,
    pub issuer: String,
    pub authorization_url: String,
    pub token_url: String,
    pub refresh_url: String,
    pub revocation_url: String,
    pub userinfo_url: String,
    pub device_authorization_url: String,
    pub introspection_url: String,
    pub jwks_uri: String,
    pub client_id: String,
    pub client_auth: String,
    pub scopes: String,
    pub extra_params: String,
    pub redirect_port: String,
    pub redirect_path: String,
    pub redirect_url: String,
    pub sign_in_with: String,
    pub color: String,
    pub iss_required: String,
}

impl ProviderInput {
    /// The form showing this input (its secret left out).
    pub fn to_form(&self) -> ProviderForm {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        ProviderForm {
            name: s(&self.name),
            preset: s(&self.preset),
            issuer: s(&self.issuer),
            authorization_url: s(&self.authorization_url),
            token_url: s(&self.token_url),
            refresh_url: s(&self.refresh_url),
            revocation_url: s(&self.revocation_url),
            userinfo_url: s(&self.userinfo_url),
            device_authorization_url: s(&self.device_authorization_url),
            introspection_url: s(&self.introspection_url),
            jwks_uri: s(&self.jwks_uri),
            client_id: s(&self.client_id),
            client_auth: s(&self.client_auth),
            scopes: match &self.scopes {
                None => String::new(),
                Some(ListOrText::List(l)) => l.join(" "),
                Some(ListOrText::Text(t)) => t.clone(),
            },
            extra_params: match &self.extra_params {
                None => String::new(),
                Some(MapOrText::Map(m)) => m
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
                Some(MapOrText::Text(t)) => t.clone(),
            },
            redirect_port: match &self.redirect_port {
                None => "0".into(),
                Some(NumberOrText::Number(n)) => n.to_string(),
                Some(NumberOrText::Text(t)) => t.clone(),
            },
            redirect_path: self
                .redirect_path
                .clone()
                .unwrap_or_else(|| DEFAULT_REDIRECT_PATH.into()),
            redirect_url: s(&self.redirect_url),
            sign_in_with: self.sign_in_with.clone().unwrap_or_else(|| "window".into()),
            color: s(&self.color),
            iss_required: match &self.iss_required {
                Some(BoolOrText::Bool(true)) => "true".into(),
                Some(BoolOrText::Text(t)) if t == "true" => "true".into(),
                _ => "false".into(),
            },
        }
    }

    /// The input that would produce `record` (without its secret): the start of an edit.
    pub fn from_record(r: &ProviderRecord) -> ProviderInput {
        ProviderInput {
            name: Some(r.name.clone()),
            preset: r.preset.clone(),
            issuer: r.issuer.clone(),
            authorization_url: r.authorization_url.clone(),
            token_url: r.token_url.clone(),
            refresh_url: r.refresh_url.clone(),
            revocation_url: r.revocation_url.clone(),
            userinfo_url: r.userinfo_url.clone(),
            device_authorization_url: r.device_authorization_url.clone(),
            introspection_url: r.introspection_url.clone(),
            jwks_uri: r.jwks_uri.clone(),
            client_id: Some(r.client_id.clone()),
            client_secret: None,
            client_auth: Some(r.client_auth.as_str().into()),
            scopes: Some(ListOrText::List(r.scopes.clone())),
            extra_params: Some(MapOrText::Map(r.extra_params.clone())),
            redirect_port: Some(NumberOrText::Number(r.redirect_port.into())),
            redirect_path: Some(r.redirect_path.clone()),
            redirect_url: r.redirect_url.clone(),
            sign_in_with: Some(r.sign_in_with.as_str().into()),
            color: r.color.clone(),
            iss_required: Some(BoolOrText::Bool(r.iss_required)),
        }
    }

    /// Checks every field; returns the record to store, or every problem found.
    /// `stored_secret` is the secret of the provider being edited, kept when none is typed.
    pub fn validate(
        &self,
        stored_secret: Option<&Secret<String>>,
    ) -> Result<ProviderRecord, Vec<FieldError>> {
        let mut v = Validator::default();
        let name = v.name(self.name.as_deref().unwrap_or(""));
        let preset = text(&self.preset).map(str::to_owned);
        if let Some(p) = &preset {
            if presets::find(p).is_none() {
                v.error(
                    "preset",
                    format!("there is no preset {}; see the preset list", shown(p)),
                );
            }
        }
        let issuer = v.url("issuer", &self.issuer);
        let authorization_url = v.url("authorization_url", &self.authorization_url);
        let token_url = v.url("token_url", &self.token_url);
        let refresh_url = v.url("refresh_url", &self.refresh_url);
        let revocation_url = v.url("revocation_url", &self.revocation_url);
        let userinfo_url = v.url("userinfo_url", &self.userinfo_url);
        let device_authorization_url =
            v.url("device_authorization_url", &self.device_authorization_url);
        let introspection_url = v.url("introspection_url", &self.introspection_url);
        let jwks_uri = v.url("jwks_uri", &self.jwks_uri);
        if token_url.is_none() && !v.has("token_url") {
            v.error(
                "token_url",
                "is required: every sign-in ends at the token endpoint (or fill it by discovery from the issuer)",
            );
        }

        let client_id = self.client_id.as_deref().unwrap_or("").trim_matches(' ');
        if client_id.is_empty() {
            v.error(
                "client_id",
                "is required: the client id the provider gave when you registered OAuth Desk",
            );
        } else if let Err(e) = check::plain_text(client_id) {
            v.error("client_id", e);
        }

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
        let client_auth = match text(&self.client_auth) {
            None if secret.is_some() => ClientAuth::Basic,
            None => ClientAuth::None,
            Some(s) => ClientAuth::parse(s).unwrap_or_else(|| {
                v.error(
                    "client_auth",
                    format!("must be basic, post or none, not {}", shown(s)),
                );
                ClientAuth::Basic
            }),
        };
        let client_secret = match client_auth {
            ClientAuth::None => {
                if typed_secret.is_some() {
                    v.error(
                        "client_secret",
                        "a public client (client authentication \"none\") sends no secret: clear it, or choose basic or post",
                    );
                }
                None
            }
            _ => {
                if secret.is_none() {
                    v.error(
                        "client_secret",
                        "is required for basic or post client authentication; choose \"none\" for a public client",
                    );
                }
                secret
            }
        };

        let scopes = v.scopes(&self.scopes);
        let extra_params = v.extra_params(&self.extra_params);
        let redirect_port = v.port(&self.redirect_port);
        let redirect_path = v.redirect_path(self.redirect_path.as_deref());
        let redirect_url = v.url("redirect_url", &self.redirect_url);
        let sign_in_with = match text(&self.sign_in_with) {
            None => SignInWith::Window,
            Some(s) => SignInWith::parse(s).unwrap_or_else(|| {
                v.error(
                    "sign_in_with",
                    format!("must be window or browser, not {}", shown(s)),
                );
                SignInWith::Window
            }),
        };
        if redirect_url.is_some() && sign_in_with == SignInWith::Browser {
            v.error(
                "redirect_url",
                "a custom redirect URL is caught by the in-app login window; sign in with the window, or clear it to use the loopback redirect",
            );
        }
        let color = v.color(&self.color);
        let iss_required = match &self.iss_required {
            None => false,
            Some(BoolOrText::Bool(b)) => *b,
            Some(BoolOrText::Text(t)) => match t.as_str() {
                "true" => true,
                "" | "false" => false,
                other => {
                    v.error(
                        "iss_required",
                        format!("must be true or false, not {}", shown(other)),
                    );
                    false
                }
            },
        };

        if !v.errors.is_empty() {
            return Err(v.errors);
        }
        Ok(ProviderRecord {
            name,
            preset,
            issuer,
            authorization_url,
            token_url,
            refresh_url,
            revocation_url,
            userinfo_url,
            device_authorization_url,
            introspection_url,
            jwks_uri,
            client_id: client_id.to_owned(),
            client_secret,
            client_auth,
            scopes,
            extra_params,
            redirect_port,
            redirect_path,
            redirect_url,
            sign_in_with,
            color,
            iss_required,
        })
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

    /// Names may hold markup, bidi overrides or zero-width characters: they are stored as typed
    /// and every face shows them escaped and made visible. Control characters are refused.
    fn name(&mut self, raw: &str) -> String {
        let name = raw.trim_matches(' ');
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

    fn scopes(&mut self, raw: &Option<ListOrText>) -> Vec<String> {
        let list: Vec<String> = match raw {
            None => Vec::new(),
            Some(ListOrText::List(l)) => l.clone(),
            Some(ListOrText::Text(t)) => t.split(' ').map(str::to_owned).collect(),
        };
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

    fn extra_params(&mut self, raw: &Option<MapOrText>) -> BTreeMap<String, String> {
        let pairs: Vec<(String, String)> = match raw {
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
                            "extra_params",
                            format!("line {}: write key=value, such as audience=https://api.example.com", n + 1),
                        ),
                    }
                }
                pairs
            }
        };
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

    fn port(&mut self, raw: &Option<NumberOrText>) -> u16 {
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

    fn redirect_path(&mut self, raw: Option<&str>) -> String {
        let path = raw.unwrap_or("").trim_matches(' ');
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

    fn color(&mut self, raw: &Option<String>) -> Option<String> {
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
            "audience = https://api.example\n\nprompt=consent".into(),
        ));
        input.redirect_port = Some(NumberOrText::Text("8400".into()));
        let r = input.validate(None).unwrap();
        assert_eq!(r.scopes, ["openid", "email", "offline_access"]);
        assert_eq!(r.client_auth, ClientAuth::Basic, "a secret implies basic");
        assert_eq!(r.color.as_deref(), Some("#aabbcc"));
        assert_eq!(r.extra_params["audience"], "https://api.example");
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
            "basic, post or none",
        );
        // Editing without typing the secret keeps the stored one.
        let stored: Secret<String> = "stored".into();
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
        let again = ProviderInput::from_record(&r)
            .validate(r.client_secret.as_ref())
            .unwrap();
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
        assert_eq!(form.scopes, "openid email offline_access");
        assert_eq!(form.extra_params, "a=1\nb=2");
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
    fn unknown_json_fields_are_refused() {
        let err = serde_json::from_str::<ProviderInput>(r#"{"name":"x","client_secrett":"y"}"#)
            .unwrap_err();
        assert!(err.to_string().contains("client_secrett"));
    }
}
