//! The authorization response (RFC 6749 §4.1.2), checked before anything is exchanged: each
//! parameter at most once, the sign-in not expired, the state ours, the issuer ours (RFC 9207),
//! and either a code or an error, never both or neither.

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::text::{inert, shown};

/// How long a sign-in may take from the authorization URL to the redirect.
pub const SIGNIN_LIFETIME_SECS: i64 = 10 * 60;

/// What the redirect must match.
pub struct Expected<'a> {
    pub state: &'a str,
    pub issuer: Option<&'a str>,
    /// The provider's metadata says it sends `iss` (RFC 9207 §3): then it must be there.
    pub iss_required: bool,
    pub started_at: i64,
}

/// The state a sign-in's redirect carries: what tells the provider's redirect apart from a
/// request any web page can send to the loopback listener (an `<img>` pointing at it), so that
/// such a request is turned away without ending the sign-in.
#[derive(Clone)]
pub struct StateCheck(Secret<String>);

impl StateCheck {
    pub fn new(state: &str) -> StateCheck {
        StateCheck(Secret::new(state.to_owned()))
    }

    /// Whether one of `params`' states is this one. A second state is left for `code_from` to
    /// refuse with its reason: only the provider knows the state, so the answer is a real one.
    pub fn carried_by(&self, params: &[(String, String)]) -> bool {
        params.iter().any(|(k, v)| {
            k == "state" && constant_time_eq(v.as_bytes(), self.0.expose().as_bytes())
        })
    }
}

/// The authorization code of a valid redirect.
pub fn code_from(params: &[(String, String)], expected: &Expected, now: i64) -> Result<String> {
    let bad = |m: String| Error::ProviderError(format!("the redirect was refused: {m}"));
    for (i, (k, _)) in params.iter().enumerate() {
        if params[..i].iter().any(|(k2, _)| k2 == k) {
            return Err(bad(format!(
                "it carries {} more than once (RFC 6749 §3.1)",
                inert(k)
            )));
        }
    }
    let get = |k: &str| {
        params
            .iter()
            .find(|(k2, _)| k2 == k)
            .map(|(_, v)| v.as_str())
    };
    if now > expected.started_at + SIGNIN_LIFETIME_SECS {
        return Err(bad(
            "this sign-in expired (it has to finish within 10 minutes); start it again".into(),
        ));
    }
    match get("state") {
        None => {
            return Err(bad(
                "it has no state parameter, so it cannot be tied to this sign-in".into(),
            ))
        }
        Some(s) if !constant_time_eq(s.as_bytes(), expected.state.as_bytes()) => {
            return Err(bad(
                "its state does not match this sign-in (a stale, replayed or forged redirect)"
                    .into(),
            ))
        }
        Some(_) => {}
    }
    match (get("iss"), expected.issuer) {
        (Some(iss), Some(ours)) if iss != ours => {
            return Err(bad(format!(
                "it comes from the issuer {}, not {} (RFC 9207: a mix-up attack or a misconfigured provider)",
                shown(iss),
                shown(ours)
            )))
        }
        (Some(_), None) => {}
        (None, _) if expected.iss_required => {
            return Err(bad(
                "it has no iss parameter, which this provider's metadata promises (RFC 9207)".into(),
            ))
        }
        _ => {}
    }
    match (get("code"), get("error")) {
        (Some(_), Some(_)) => Err(bad("it carries both a code and an error".into())),
        (None, None) => Err(bad(
            "it carries neither a code nor an error. (Tokens in the URL fragment, the implicit \
             flow, are not accepted: set the provider to the authorization code flow.)"
                .into(),
        )),
        (None, Some(error)) => {
            let description = get("error_description")
                .map(|d| format!(": {}", inert(d)))
                .unwrap_or_default();
            let what = if error == "access_denied" {
                "the sign-in was refused at the provider (access_denied)".to_owned()
            } else {
                format!("the provider answered with the error {}", inert(error))
            };
            Err(Error::OAuth {
                error: error.to_owned(),
                message: format!("{what}{description}"),
            })
        }
        (Some(""), None) => Err(bad("its code is empty".into())),
        (Some(code), None) => Ok(code.to_owned()),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const EXPECTED: Expected = Expected {
        state: "s1",
        issuer: Some("https://idp.example"),
        iss_required: false,
        started_at: 1000,
    };

    fn refused(params: &[(&str, &str)], now: i64) -> String {
        let e = code_from(&p(params), &EXPECTED, now).unwrap_err();
        assert_eq!(e.code(), "provider_error");
        e.to_string()
    }

    #[test]
    fn a_good_redirect_gives_its_code() {
        let params = [
            ("code", "abc"),
            ("state", "s1"),
            ("iss", "https://idp.example"),
        ];
        assert_eq!(code_from(&p(&params), &EXPECTED, 1001).unwrap(), "abc");
    }

    #[test]
    fn only_a_redirect_with_our_state_is_one_for_this_sign_in() {
        let ours = StateCheck::new("s1");
        assert!(ours.carried_by(&p(&[("code", "c"), ("state", "s1")])));
        assert!(
            ours.carried_by(&p(&[("state", "x"), ("state", "s1")])),
            "a duplicate is the provider's; code_from refuses it with a reason"
        );
        assert!(!ours.carried_by(&p(&[("code", "c")])), "no state");
        assert!(!ours.carried_by(&p(&[("state", "s2")])), "another state");
        assert!(!ours.carried_by(&p(&[("state", "s")])), "a prefix");
        assert!(!ours.carried_by(&p(&[("STATE", "s1")])), "another name");
    }

    #[test]
    fn state_must_be_ours_and_fresh() {
        assert!(refused(&[("code", "c")], 1001).contains("no state"));
        assert!(refused(&[("code", "c"), ("state", "s2")], 1001).contains("does not match"));
        assert!(refused(&[("code", "c"), ("state", "s1")], 1000 + 601).contains("expired"));
    }

    #[test]
    fn code_and_error_exactly_one_and_each_once() {
        assert!(refused(&[("state", "s1")], 1001).contains("neither"));
        assert!(refused(&[("state", "s1"), ("code", "c"), ("error", "x")], 1001).contains("both"));
        assert!(
            refused(&[("state", "s1"), ("code", "c"), ("code", "d")], 1001)
                .contains("more than once")
        );
        assert!(
            refused(&[("state", "s1"), ("state", "s1"), ("code", "d")], 1001)
                .contains("more than once")
        );
    }

    #[test]
    fn iss_is_checked_when_present_and_required_when_promised() {
        let other = refused(
            &[
                ("state", "s1"),
                ("code", "c"),
                ("iss", "https://evil.example"),
            ],
            1001,
        );
        assert!(other.contains("RFC 9207"), "{other}");
        let strict = Expected {
            iss_required: true,
            ..EXPECTED
        };
        let e = code_from(&p(&[("state", "s1"), ("code", "c")]), &strict, 1001).unwrap_err();
        assert!(e.to_string().contains("no iss"));
    }

    #[test]
    fn a_hostile_error_description_is_inert_and_short() {
        let hostile = format!(
            "<img src=x onerror=alert(1)>\u{1b}[2J\u{202E}{}",
            "A".repeat(100_000)
        );
        let msg = refused(
            &[
                ("state", "s1"),
                ("error", "access_denied"),
                ("error_description", &hostile),
            ],
            1001,
        );
        assert!(
            msg.starts_with("the sign-in was refused at the provider (access_denied): <img"),
            "{msg}"
        );
        assert!(
            !msg.contains('\u{1b}') && !msg.contains('\u{202E}'),
            "no escape reaches a terminal"
        );
        assert!(msg.contains("<U+001B>[2J"));
        assert!(
            msg.chars().count() < 420,
            "cut to a readable length: {}",
            msg.len()
        );
    }
}
