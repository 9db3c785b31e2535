//! Built-in presets: real endpoints of well-known providers and the quirks users hit with them.
//! A preset fills the form (`Preset::fill`); the user reviews it, adds the client id and secret,
//! and saves. Endpoints that depend on the user's tenant, realm or server take `{param}`s.

use std::collections::BTreeMap;

use serde::Serialize;

use super::check;
use super::provider::{ListOrText, MapOrText, ProviderInput};
use crate::error::{Error, FieldError, Result};
use crate::vault::provider_table::{ClientAuth, SignInWith};

/// What a `{param}` holds, and so how it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// An https base URL (a server, an org, a realm); a trailing slash is dropped.
    BaseUrl,
    /// One path segment, such as a tenant id.
    Segment,
    /// A host name, such as an Auth0 domain.
    Host,
}

#[derive(Debug, Clone, Serialize)]
pub struct Param {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: ParamKind,
    pub example: &'static str,
    pub default: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Preset {
    pub id: &'static str,
    pub label: &'static str,
    pub params: &'static [Param],
    pub issuer: Option<&'static str>,
    pub authorization_url: Option<&'static str>,
    pub token_url: &'static str,
    pub revocation_url: Option<&'static str>,
    pub userinfo_url: Option<&'static str>,
    pub device_authorization_url: Option<&'static str>,
    pub introspection_url: Option<&'static str>,
    pub jwks_uri: Option<&'static str>,
    pub scopes: &'static [&'static str],
    pub extra_params: &'static [(&'static str, &'static str)],
    pub client_auth: ClientAuth,
    pub sign_in_with: SignInWith,
    pub color: &'static str,
    /// The quirks, in a sentence or two, shown under the preset picker.
    pub notes: &'static str,
}

const fn base() -> Preset {
    Preset {
        id: "",
        label: "",
        params: &[],
        issuer: None,
        authorization_url: None,
        token_url: "",
        revocation_url: None,
        userinfo_url: None,
        device_authorization_url: None,
        introspection_url: None,
        jwks_uri: None,
        scopes: &[],
        extra_params: &[],
        client_auth: ClientAuth::Basic,
        sign_in_with: SignInWith::Window,
        color: "#1f6feb",
        notes: "",
    }
}

static PRESETS: &[Preset] = &[
    Preset {
        id: "google",
        label: "Google",
        issuer: Some("https://accounts.google.com"),
        authorization_url: Some("https://accounts.google.com/o/oauth2/v2/auth"),
        token_url: "https://oauth2.googleapis.com/token",
        revocation_url: Some("https://oauth2.googleapis.com/revoke"),
        userinfo_url: Some("https://openidconnect.googleapis.com/v1/userinfo"),
        device_authorization_url: Some("https://oauth2.googleapis.com/device/code"),
        jwks_uri: Some("https://www.googleapis.com/oauth2/v3/certs"),
        scopes: &["openid", "email", "profile"],
        extra_params: &[("access_type", "offline"), ("prompt", "consent")],
        client_auth: ClientAuth::Post,
        sign_in_with: SignInWith::Browser,
        color: "#4285f4",
        notes: "Google refuses sign-in inside embedded windows (disallowed_useragent), so this \
                preset signs in through the system browser. It returns a refresh token only with \
                access_type=offline and prompt=consent. Use a \"Desktop app\" OAuth client.",
        ..base()
    },
    Preset {
        id: "github",
        label: "GitHub",
        authorization_url: Some("https://github.com/login/oauth/authorize"),
        token_url: "https://github.com/login/oauth/access_token",
        userinfo_url: Some("https://api.github.com/user"),
        device_authorization_url: Some("https://github.com/login/device/code"),
        scopes: &["read:user"],
        client_auth: ClientAuth::Post,
        color: "#24292f",
        notes: "GitHub's token endpoint answers form-encoded unless asked for JSON (OAuth Desk \
                always sends Accept: application/json). Enable the device flow in the app's \
                settings to sign in without a browser. GitHub has no RFC 7009 revocation \
                endpoint: revoke tokens in your GitHub settings.",
        ..base()
    },
    Preset {
        id: "entra",
        label: "Microsoft Entra ID",
        params: &[Param {
            key: "tenant",
            label: "Tenant (id, domain, or common / organizations / consumers)",
            kind: ParamKind::Segment,
            example: "contoso.onmicrosoft.com",
            default: Some("common"),
        }],
        issuer: Some("https://login.microsoftonline.com/{tenant}/v2.0"),
        authorization_url: Some("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize"),
        token_url: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        userinfo_url: Some("https://graph.microsoft.com/oidc/userinfo"),
        device_authorization_url: Some(
            "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode",
        ),
        jwks_uri: Some("https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys"),
        scopes: &["openid", "profile", "email", "offline_access"],
        client_auth: ClientAuth::Post,
        color: "#0078d4",
        notes: "The tenant is part of every endpoint. With common, organizations or consumers \
                the ID token's issuer names the user's own tenant. Entra has no revocation \
                endpoint; refresh tokens need offline_access.",
        ..base()
    },
    Preset {
        id: "gitlab",
        label: "GitLab",
        params: &[Param {
            key: "base_url",
            label: "GitLab server",
            kind: ParamKind::BaseUrl,
            example: "https://gitlab.example.com",
            default: Some("https://gitlab.com"),
        }],
        issuer: Some("{base_url}"),
        authorization_url: Some("{base_url}/oauth/authorize"),
        token_url: "{base_url}/oauth/token",
        revocation_url: Some("{base_url}/oauth/revoke"),
        userinfo_url: Some("{base_url}/oauth/userinfo"),
        device_authorization_url: Some("{base_url}/oauth/authorize_device"),
        introspection_url: Some("{base_url}/oauth/introspect"),
        jwks_uri: Some("{base_url}/oauth/discovery/keys"),
        scopes: &["openid", "profile", "email", "read_user"],
        client_auth: ClientAuth::Basic,
        color: "#fc6d26",
        notes: "For a self-hosted GitLab, give its base URL. Mark the application \
                \"confidential\" only if you enter its secret.",
        ..base()
    },
    Preset {
        id: "okta",
        label: "Okta",
        params: &[Param {
            key: "org_url",
            label: "Okta org URL",
            kind: ParamKind::BaseUrl,
            example: "https://dev-123456.okta.com",
            default: None,
        }],
        issuer: Some("{org_url}/oauth2/default"),
        authorization_url: Some("{org_url}/oauth2/default/v1/authorize"),
        token_url: "{org_url}/oauth2/default/v1/token",
        revocation_url: Some("{org_url}/oauth2/default/v1/revoke"),
        userinfo_url: Some("{org_url}/oauth2/default/v1/userinfo"),
        device_authorization_url: Some("{org_url}/oauth2/default/v1/device/authorize"),
        introspection_url: Some("{org_url}/oauth2/default/v1/introspect"),
        jwks_uri: Some("{org_url}/oauth2/default/v1/keys"),
        scopes: &["openid", "profile", "email", "offline_access"],
        client_auth: ClientAuth::Basic,
        color: "#007dc1",
        notes: "Filled for the \"default\" authorization server; for another, change the issuer \
                and press Discover. Refresh tokens need the Refresh Token grant enabled on the app.",
        ..base()
    },
    Preset {
        id: "keycloak",
        label: "Keycloak",
        params: &[Param {
            key: "realm_url",
            label: "Realm URL",
            kind: ParamKind::BaseUrl,
            example: "https://sso.example.com/realms/myrealm",
            default: None,
        }],
        issuer: Some("{realm_url}"),
        authorization_url: Some("{realm_url}/protocol/openid-connect/auth"),
        token_url: "{realm_url}/protocol/openid-connect/token",
        revocation_url: Some("{realm_url}/protocol/openid-connect/revoke"),
        userinfo_url: Some("{realm_url}/protocol/openid-connect/userinfo"),
        device_authorization_url: Some("{realm_url}/protocol/openid-connect/auth/device"),
        introspection_url: Some("{realm_url}/protocol/openid-connect/token/introspect"),
        jwks_uri: Some("{realm_url}/protocol/openid-connect/certs"),
        scopes: &["openid", "profile", "email", "offline_access"],
        client_auth: ClientAuth::Basic,
        color: "#4d9bd5",
        notes: "The realm URL is the issuer (Keycloak before 17 puts /auth before /realms). \
                Press Discover to confirm the endpoints.",
        ..base()
    },
    Preset {
        id: "auth0",
        label: "Auth0",
        params: &[Param {
            key: "domain",
            label: "Auth0 domain",
            kind: ParamKind::Host,
            example: "example.eu.auth0.com",
            default: None,
        }],
        issuer: Some("https://{domain}/"),
        authorization_url: Some("https://{domain}/authorize"),
        token_url: "https://{domain}/oauth/token",
        revocation_url: Some("https://{domain}/oauth/revoke"),
        userinfo_url: Some("https://{domain}/userinfo"),
        device_authorization_url: Some("https://{domain}/oauth/device/code"),
        jwks_uri: Some("https://{domain}/.well-known/jwks.json"),
        scopes: &["openid", "profile", "email", "offline_access"],
        client_auth: ClientAuth::Post,
        color: "#eb5424",
        notes: "Auth0's issuer ends with a slash. To get an access token for your API rather \
                than an opaque one, give your API identifier as the audience.",
        ..base()
    },
    Preset {
        id: "apple",
        label: "Apple",
        issuer: Some("https://appleid.apple.com"),
        authorization_url: Some("https://appleid.apple.com/auth/authorize"),
        token_url: "https://appleid.apple.com/auth/token",
        revocation_url: Some("https://appleid.apple.com/auth/revoke"),
        jwks_uri: Some("https://appleid.apple.com/auth/keys"),
        scopes: &["openid", "name", "email"],
        client_auth: ClientAuth::Post,
        color: "#000000",
        notes: "The client id is your Services ID and the client secret is a JWT you sign with \
                your key (team id, key id). Apple asks for response_mode=form_post when name or \
                email is requested, which needs an https redirect URL: set a custom redirect URL \
                registered with Apple. Apple has no userinfo endpoint; the ID token carries the email.",
        ..base()
    },
    Preset {
        id: "x",
        label: "X (Twitter)",
        authorization_url: Some("https://x.com/i/oauth2/authorize"),
        token_url: "https://api.x.com/2/oauth2/token",
        revocation_url: Some("https://api.x.com/2/oauth2/revoke"),
        userinfo_url: Some("https://api.x.com/2/users/me"),
        scopes: &["tweet.read", "users.read", "offline.access"],
        client_auth: ClientAuth::Basic,
        color: "#000000",
        notes: "Refresh tokens need the offline.access scope. Confidential clients use HTTP \
                Basic; a public (native) client uses none.",
        ..base()
    },
    Preset {
        id: "drupal",
        label: "Drupal",
        params: &[Param {
            key: "server_url",
            label: "Drupal server URL",
            kind: ParamKind::BaseUrl,
            example: "https://drupal.example.com",
            default: None,
        }],
        authorization_url: Some("{server_url}/oauth/authorize"),
        token_url: "{server_url}/oauth/token",
        userinfo_url: Some("{server_url}/oauth/userinfo"),
        scopes: &["openid", "profile", "email"],
        client_auth: ClientAuth::Basic,
        color: "#0678be",
        notes: "For the Simple OAuth module. The server URL is given without a trailing slash, \
                as Rocket.Chat's Drupal settings ask.",
        ..base()
    },
    Preset {
        id: "slack",
        label: "Slack",
        issuer: Some("https://slack.com"),
        authorization_url: Some("https://slack.com/openid/connect/authorize"),
        token_url: "https://slack.com/api/openid.connect.token",
        userinfo_url: Some("https://slack.com/api/openid.connect.userInfo"),
        jwks_uri: Some("https://slack.com/openid/connect/keys"),
        scopes: &["openid", "profile", "email"],
        client_auth: ClientAuth::Post,
        color: "#4a154b",
        notes: "Sign in with Slack (OpenID Connect). Slack requires an https redirect URL for \
                its apps unless you add the loopback one. Its auth.revoke method is not an RFC \
                7009 endpoint.",
        ..base()
    },
    Preset {
        id: "dropbox",
        label: "Dropbox",
        issuer: Some("https://www.dropbox.com"),
        authorization_url: Some("https://www.dropbox.com/oauth2/authorize"),
        token_url: "https://api.dropboxapi.com/oauth2/token",
        scopes: &["account_info.read"],
        extra_params: &[("token_access_type", "offline")],
        client_auth: ClientAuth::Post,
        color: "#0061fe",
        notes: "Dropbox returns a refresh token only with token_access_type=offline. Its token \
                revocation (/2/auth/token/revoke) is not an RFC 7009 endpoint.",
        ..base()
    },
];

/// Every built-in preset, in the order the picker shows them.
pub fn all() -> &'static [Preset] {
    PRESETS
}

pub fn find(id: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.id == id)
}

impl Preset {
    /// The form as this preset fills it, with `values` for its `{param}`s (defaults where
    /// missing). The client id and secret are left for the user.
    pub fn fill(&self, values: &BTreeMap<String, String>) -> Result<ProviderInput> {
        let mut resolved = BTreeMap::new();
        let mut errors = Vec::new();
        for p in self.params {
            let raw = values
                .get(p.key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .or(p.default.map(str::to_owned));
            match raw.map(|v| check_param(p, &v)) {
                Some(Ok(v)) => {
                    resolved.insert(p.key, v);
                }
                Some(Err(e)) => errors.push(FieldError::new(p.key, e)),
                None => errors.push(FieldError::new(
                    p.key,
                    format!("is required for {}, such as {}", self.label, p.example),
                )),
            }
        }
        if !errors.is_empty() {
            return Err(Error::InvalidFields(errors));
        }
        let sub = |t: &str| -> String {
            let mut s = t.to_owned();
            for (k, v) in &resolved {
                s = s.replace(&format!("{{{k}}}"), v);
            }
            s
        };
        let opt = |t: Option<&str>| t.map(sub);
        Ok(ProviderInput {
            name: Some(self.label.to_owned()),
            preset: Some(self.id.to_owned()),
            issuer: opt(self.issuer),
            authorization_url: opt(self.authorization_url),
            token_url: Some(sub(self.token_url)),
            revocation_url: opt(self.revocation_url),
            userinfo_url: opt(self.userinfo_url),
            device_authorization_url: opt(self.device_authorization_url),
            introspection_url: opt(self.introspection_url),
            jwks_uri: opt(self.jwks_uri),
            client_auth: Some(self.client_auth.as_str().to_owned()),
            scopes: Some(ListOrText::List(
                self.scopes.iter().map(|s| s.to_string()).collect(),
            )),
            extra_params: Some(MapOrText::Map(
                self.extra_params
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )),
            sign_in_with: Some(self.sign_in_with.as_str().to_owned()),
            color: Some(self.color.to_owned()),
            ..Default::default()
        })
    }
}

fn check_param(p: &Param, value: &str) -> std::result::Result<String, String> {
    match p.kind {
        ParamKind::BaseUrl => {
            let v = check::endpoint(value)?.unwrap_or_default();
            let url = url::Url::parse(&v).map_err(|e| e.to_string())?;
            if url.query().is_some() {
                return Err("must not contain a query".into());
            }
            Ok(v.trim_end_matches('/').to_owned())
        }
        ParamKind::Segment => {
            if value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
            {
                Ok(value.to_owned())
            } else {
                Err(format!(
                    "may hold only letters, digits, dots, dashes and underscores, such as {}",
                    p.example
                ))
            }
        }
        ParamKind::Host => {
            let ok = value.contains('.')
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.".contains(c));
            if ok {
                Ok(value.to_ascii_lowercase())
            } else {
                Err(format!("must be a host name, such as {}", p.example))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_fills_a_valid_provider() {
        for p in all() {
            let values: BTreeMap<String, String> = p
                .params
                .iter()
                .map(|k| (k.key.to_owned(), k.example.to_owned()))
                .collect();
            let mut input = p.fill(&values).unwrap_or_else(|e| panic!("{}: {e}", p.id));
            input.client_id = Some("desk".into());
            if p.client_auth != ClientAuth::None {
                input.client_secret = Some("s".into());
            }
            let record = input
                .validate(None)
                .unwrap_or_else(|e| panic!("{} fills an invalid provider: {e:?}", p.id));
            assert_eq!(record.preset.as_deref(), Some(p.id));
            assert!(
                !record.token_url.as_deref().unwrap().contains('{'),
                "{}: every param is substituted",
                p.id
            );
        }
    }

    #[test]
    fn quirks_users_hit_are_in_the_presets() {
        let google = find("google").unwrap().fill(&BTreeMap::new()).unwrap();
        assert_eq!(google.sign_in_with.as_deref(), Some("browser"));
        let Some(MapOrText::Map(extra)) = google.extra_params else {
            panic!()
        };
        assert_eq!(extra["access_type"], "offline");
        assert_eq!(extra["prompt"], "consent");
        assert!(find("github").unwrap().device_authorization_url.is_some());
        let entra = find("entra").unwrap();
        let filled = entra
            .fill(&[("tenant".to_string(), "contoso.onmicrosoft.com".to_string())].into())
            .unwrap();
        assert_eq!(
            filled.token_url.as_deref(),
            Some("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token")
        );
        let common = entra.fill(&BTreeMap::new()).unwrap();
        assert!(common.token_url.unwrap().contains("/common/"));
    }

    #[test]
    fn params_are_checked_before_they_reach_a_url() {
        let gitlab = find("gitlab").unwrap();
        let own = gitlab
            .fill(
                &[(
                    "base_url".to_string(),
                    "https://git.example.com/".to_string(),
                )]
                .into(),
            )
            .unwrap();
        assert_eq!(
            own.token_url.as_deref(),
            Some("https://git.example.com/oauth/token")
        );
        for (preset, key, value) in [
            ("gitlab", "base_url", "http://git.example.com"),
            ("entra", "tenant", "x/../../evil"),
            ("auth0", "domain", "evil.example/path"),
        ] {
            let err = find(preset)
                .unwrap()
                .fill(&[(key.to_string(), value.to_string())].into())
                .unwrap_err();
            assert!(
                matches!(&err, Error::InvalidFields(f) if f[0].field == key),
                "{err:?}"
            );
        }
        let err = find("okta").unwrap().fill(&BTreeMap::new()).unwrap_err();
        assert!(err.to_string().contains("org_url: is required"), "{err}");
    }
}
