//! A credential follows its endpoint, not the provider's name (issue 16). A change that points
//! an endpoint which receives the client secret or a stored token at another origin (scheme,
//! host, port) must not carry them there: whoever wrote the change (a shared providers file,
//! an API key, a form) may own the new host. This module says which endpoints moved and how
//! to tell the person; `providers::update_logged` clears the secret and signs the accounts out.

use serde::Serialize;
use url::{Origin, Url};

use crate::oauth::provider::{Field, ProviderConfig, FIELDS};

/// What an endpoint field points at. Without its own URL, a refresh goes to the token
/// endpoint, so the refresh endpoint is that.
fn endpoint<'a>(p: &'a ProviderConfig, field: &Field) -> Option<&'a str> {
    match field.name {
        "refresh_url" => p.refresh_url.as_deref().or(p.token_url.as_deref()),
        name => p.text(name),
    }
}

/// The endpoints that receive the client's authentication or a stored token (the field list
/// marks them `guard`), by what a person calls them. The issuer is among them: ID tokens are
/// checked against it and discovery starts from it. The authorization endpoint and the JWKS
/// receive neither, so only the preview shows them.
fn guarded() -> impl Iterator<Item = (&'static str, &'static Field)> {
    FIELDS
        .iter()
        .filter_map(|f| f.guarded.map(|label| (label, f)))
}

/// Every URL field, as the import preview lists them: the redirect URL too, where the
/// authorization code is delivered. OAuth Desk does not call it, but a change to it is one a
/// person must see.
fn url_fields() -> impl Iterator<Item = &'static Field> {
    FIELDS
        .iter()
        .filter(|f| matches!(f.check, "url" | "token_url"))
}

/// One endpoint a change alters, old -> new (endpoints are not secrets: shared files hold them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointChange {
    pub field: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// Every URL field whose value differs between `old` and `new`, same host or not.
pub fn endpoint_changes(old: &ProviderConfig, new: &ProviderConfig) -> Vec<EndpointChange> {
    url_fields()
        .filter(|f| old.text(f.name) != new.text(f.name))
        .map(|f| EndpointChange {
            field: f.name,
            old: old.text(f.name).map(str::to_owned),
            new: new.text(f.name).map(str::to_owned),
        })
        .collect()
}

fn origin(url: Option<&str>) -> Option<Origin> {
    url.map(|u| match Url::parse(u) {
        Ok(u) => u.origin(),
        // Stored URLs were validated; one that does not parse counts as a move: a new opaque
        // origin equals no other.
        Err(_) => Origin::new_opaque(),
    })
}

/// The guarded endpoints of `new` that point at an origin `old` did not use for them. An
/// endpoint `old` did not have may point at an origin of `old`'s guarded endpoints (a
/// revocation endpoint added beside the token endpoint), not at a new one. Unguarded fields
/// (the authorization endpoint, the JWKS) lend no trust: else one change could point the
/// authorization endpoint at a host and the next add a revocation endpoint there.
pub fn moved(old: &ProviderConfig, new: &ProviderConfig) -> Vec<&'static str> {
    // The userinfo endpoint only ever gets an access token: its host lends no trust to an
    // endpoint that would get the client secret or the refresh token.
    let known: Vec<Origin> = guarded()
        .filter(|(_, f)| !matches!(f.name, "userinfo_url" | "mtls_userinfo_url"))
        .filter_map(|(_, f)| origin(endpoint(old, f)))
        .collect();
    guarded()
        .filter(|(_, f)| {
            // The refresh endpoint is its own only when either side names one; otherwise it is
            // the token endpoint, already counted.
            f.name != "refresh_url" || old.refresh_url.is_some() || new.refresh_url.is_some()
        })
        .filter(
            |(_, f)| match (origin(endpoint(old, f)), origin(endpoint(new, f))) {
                (_, None) => false,
                (Some(was), Some(now)) => was != now,
                (None, Some(now)) => !known.contains(&now),
            },
        )
        .map(|(label, _)| label)
        .collect()
}

/// What a move did (or, in a preview, will do) to what the provider had stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Moved {
    /// The endpoints that moved, as a person calls them.
    pub endpoints: Vec<&'static str>,
    /// The stored client secret was dropped (no new one came with the change).
    pub secret_cleared: bool,
    /// The stored client key was dropped (no new one came with the change).
    pub key_cleared: bool,
    /// The accounts whose tokens were forgotten and that must sign in again.
    pub signed_out: i64,
}

impl Moved {
    fn what(&self) -> String {
        let names: Vec<String> = self.endpoints.iter().map(|e| format!("the {e}")).collect();
        match names.as_slice() {
            [] => "an endpoint".into(),
            [one] => one.clone(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        }
    }

    /// The sentence a face shows after the change, e.g. "the token endpoint moved to another
    /// host: sign in again; the client secret was cleared".
    pub fn notice(&self) -> String {
        let mut then = Vec::new();
        if self.signed_out > 0 {
            then.push("sign in again".to_owned());
        }
        if self.secret_cleared {
            then.push("the client secret was cleared".to_owned());
        }
        if self.key_cleared {
            then.push(
                "the client key was removed: generate or import a new one and register it with the provider"
                    .to_owned(),
            );
        }
        let head = format!("{} moved to another host", self.what());
        if then.is_empty() {
            head
        } else {
            format!("{head}: {}", then.join("; "))
        }
    }

    /// The same, before the change (the import preview).
    pub fn preview(&self) -> String {
        let mut then = Vec::new();
        match self.signed_out {
            0 => {}
            1 => then.push("its account will have to sign in again".to_owned()),
            n => then.push(format!("its {n} accounts will have to sign in again")),
        }
        if self.secret_cleared {
            then.push("its client secret will be cleared".to_owned());
        }
        if self.key_cleared {
            then.push("its client key will be removed".to_owned());
        }
        let verb = if self.endpoints.len() == 1 {
            "moves"
        } else {
            "move"
        };
        let head = format!("{} {verb} to another host", self.what());
        if then.is_empty() {
            head
        } else {
            format!("{head}: {}", then.join("; "))
        }
    }

    /// What the token rows say: why their tokens were forgotten.
    pub fn token_reason(&self) -> String {
        format!("{} moved to another host: sign in again", self.what())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(base: &str) -> ProviderConfig {
        ProviderConfig {
            issuer: Some(base.into()),
            authorization_url: Some(format!("{base}/auth")),
            token_url: Some(format!("{base}/token")),
            ..Default::default()
        }
    }

    /// Which endpoints a credential is bound to is a security rule: a `guard` mark dropped
    /// from the field list must fail here, not pass silently.
    #[test]
    fn the_guarded_endpoints_and_the_previewed_urls_are_these() {
        let guarded: Vec<(&str, &str)> = guarded().map(|(label, f)| (f.name, label)).collect();
        assert_eq!(
            guarded,
            [
                ("issuer", "issuer"),
                ("token_url", "token endpoint"),
                ("refresh_url", "refresh endpoint"),
                ("revocation_url", "revocation endpoint"),
                ("userinfo_url", "userinfo endpoint"),
                ("device_authorization_url", "device authorization endpoint"),
                ("introspection_url", "introspection endpoint"),
                ("mtls_token_url", "mTLS token endpoint"),
                ("mtls_revocation_url", "mTLS revocation endpoint"),
                ("mtls_introspection_url", "mTLS introspection endpoint"),
                (
                    "mtls_device_authorization_url",
                    "mTLS device authorization endpoint"
                ),
                ("mtls_par_url", "mTLS pushed authorization request endpoint"),
                ("mtls_userinfo_url", "mTLS userinfo endpoint"),
                ("par_url", "pushed authorization request endpoint"),
                ("end_session_url", "end-session endpoint"),
            ]
        );
        // Every other URL field receives no stored credential (the registration endpoint gets
        // an initial access token typed for that one request), and the preview still shows it.
        let unguarded: Vec<&str> = url_fields()
            .filter(|f| f.guarded.is_none())
            .map(|f| f.name)
            .collect();
        assert_eq!(
            unguarded,
            [
                "authorization_url",
                "registration_url",
                "jwks_uri",
                "redirect_url"
            ]
        );
    }

    #[test]
    fn another_scheme_host_or_port_is_a_move_and_a_path_is_not() {
        let old = at("https://idp.example");
        for (url, moves) in [
            ("https://idp.example/v2/token", false),
            ("https://IDP.example:443/token", false),
            ("https://idp.example:8443/token", true),
            ("https://evil.example/token", true),
            ("http://127.0.0.1:9/token", true),
        ] {
            let new = ProviderConfig {
                token_url: Some(url.into()),
                ..old.clone()
            };
            let labels = moved(&old, &new);
            assert_eq!(!labels.is_empty(), moves, "{url}: {labels:?}");
            if moves {
                assert_eq!(labels, ["token endpoint"], "the refresh follows silently");
            }
        }
    }

    #[test]
    fn a_new_endpoint_may_join_a_known_origin_but_not_a_new_one() {
        let old = at("https://idp.example");
        let beside = ProviderConfig {
            revocation_url: Some("https://idp.example/revoke".into()),
            ..old.clone()
        };
        assert!(moved(&old, &beside).is_empty());
        let elsewhere = ProviderConfig {
            revocation_url: Some("https://evil.example/revoke".into()),
            refresh_url: Some("https://evil.example/token".into()),
            ..old.clone()
        };
        assert_eq!(
            moved(&old, &elsewhere),
            ["refresh endpoint", "revocation endpoint"]
        );
        let dropped = ProviderConfig {
            issuer: None,
            ..old.clone()
        };
        assert!(moved(&old, &dropped).is_empty(), "removing sends nothing");
        // Two steps: the authorization endpoint (unguarded) first, then an endpoint beside it.
        let step_one = ProviderConfig {
            authorization_url: Some("https://evil.example/auth".into()),
            ..old.clone()
        };
        assert!(moved(&old, &step_one).is_empty());
        let step_two = ProviderConfig {
            revocation_url: Some("https://evil.example/revoke".into()),
            ..step_one.clone()
        };
        assert_eq!(moved(&step_one, &step_two), ["revocation endpoint"]);
        // The userinfo endpoint's host has only seen access tokens: a revocation endpoint
        // (client secret, refresh token) added there is a move.
        let with_userinfo = ProviderConfig {
            userinfo_url: Some("https://api.example/me".into()),
            ..old.clone()
        };
        let revoke_there = ProviderConfig {
            revocation_url: Some("https://api.example/revoke".into()),
            ..with_userinfo.clone()
        };
        assert_eq!(
            moved(&with_userinfo, &revoke_there),
            ["revocation endpoint"]
        );
        let userinfo_beside = ProviderConfig {
            userinfo_url: Some("https://idp.example/me".into()),
            ..old.clone()
        };
        assert!(
            moved(&old, &userinfo_beside).is_empty(),
            "userinfo may join a known host"
        );
    }

    #[test]
    fn a_changed_redirect_url_is_shown_old_to_new() {
        let old = at("https://idp.example");
        let new = ProviderConfig {
            redirect_url: Some("https://evil.example/cb".into()),
            ..old.clone()
        };
        let changes = endpoint_changes(&old, &new);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].field, "redirect_url");
        assert_eq!(changes[0].new.as_deref(), Some("https://evil.example/cb"));
    }

    #[test]
    fn the_notice_says_what_moved_and_what_was_done() {
        let m = Moved {
            endpoints: vec!["token endpoint"],
            secret_cleared: true,
            key_cleared: false,
            signed_out: 1,
        };
        assert_eq!(
            m.notice(),
            "the token endpoint moved to another host: sign in again; the client secret was cleared"
        );
        let two = Moved {
            endpoints: vec!["token endpoint", "issuer"],
            secret_cleared: false,
            key_cleared: false,
            signed_out: 2,
        };
        assert_eq!(
            two.preview(),
            "the token endpoint and the issuer move to another host: its 2 accounts will have to sign in again"
        );
    }
}
