//! Field checks shared by the provider form, the command line and discovery: URLs, scopes,
//! plain text. Each returns the message a person reads beside the field.

use url::{Host, Url};

use crate::text::{describe, shown};

/// No single value may exceed this; providers' own limits are far below it.
pub const MAX_VALUE: usize = 8 * 1024;

/// Refuses control characters (CR/LF among them: they would split headers and logs) and values
/// over 8 KB.
pub fn plain_text(raw: &str) -> Result<(), String> {
    if raw.len() > MAX_VALUE {
        return Err(format!(
            "is {} bytes long; at most 8 KB is allowed",
            raw.len()
        ));
    }
    if let Some(c) = raw.chars().find(|c| c.is_control()) {
        return Err(format!(
            "contains the control character {}; line breaks and tabs are not allowed",
            c.escape_unicode()
        ));
    }
    Ok(())
}

/// An endpoint: absolute, https (or http on a loopback address), no user:password, no fragment.
/// Returns the URL as typed (trimmed of spaces), so that an issuer keeps its exact spelling.
pub fn endpoint(raw: &str) -> Result<Option<String>, String> {
    let value = raw.trim_matches(' ');
    plain_text(value)?;
    if value.is_empty() {
        return Ok(None);
    }
    let url = match Url::parse(value) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            return Err(
                "must be an absolute URL, such as https://login.example.com/authorize".into(),
            )
        }
        Err(e) => return Err(format!("is not a valid URL ({e})")),
    };
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(
                "must use https; plain http is allowed only for 127.0.0.1, [::1] and localhost"
                    .into(),
            )
        }
        other => {
            return Err(format!(
                "must be an https URL; {other}: URLs are not allowed"
            ))
        }
    }
    if url.host().is_none() {
        return Err("must name a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password".into());
    }
    if url.fragment().is_some() {
        return Err("must not contain a fragment (the part after #)".into());
    }
    Ok(Some(value.to_owned()))
}

pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
/// A resource indicator (RFC 8707 §2): an absolute URI without a fragment.
pub fn resource(value: &str) -> Result<(), String> {
    plain_text(value)?;
    match Url::parse(value) {
        Ok(u) if u.fragment().is_none() => Ok(()),
        _ => Err("must be an absolute URI without a fragment (RFC 8707)".into()),
    }
}

pub fn scope(token: &str) -> Result<(), String> {
    if token.len() > MAX_VALUE {
        return Err("a scope is longer than 8 KB".into());
    }
    match token
        .chars()
        .find(|&c| !(c == '\u{21}' || ('\u{23}'..='\u{5b}').contains(&c) || ('\u{5d}'..='\u{7e}').contains(&c)))
    {
        None => Ok(()),
        Some(c) => Err(format!(
            "{} contains {}, which RFC 6749 §3.3 does not allow in a scope (printable ASCII other than space, \" and \\)",
            shown(token),
            describe(c)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_absolute_https_without_credentials_or_fragment() {
        assert_eq!(
            endpoint("https://idp.example/auth").unwrap().as_deref(),
            Some("https://idp.example/auth")
        );
        assert_eq!(
            endpoint("  http://127.0.0.1:8080/token ")
                .unwrap()
                .as_deref(),
            Some("http://127.0.0.1:8080/token")
        );
        assert!(endpoint("http://[::1]:9/x").unwrap().is_some());
        assert!(endpoint("http://localhost/x").unwrap().is_some());
        assert_eq!(endpoint("").unwrap(), None);
        for (bad, says) in [
            ("http://idp.example/auth", "must use https"),
            ("javascript:alert(1)", "javascript: URLs are not allowed"),
            ("data:text/html,hi", "data: URLs are not allowed"),
            ("file:///etc/passwd", "file: URLs are not allowed"),
            ("myapp://callback", "myapp: URLs are not allowed"),
            ("/oauth/token", "must be an absolute URL"),
            ("https://user:pw@idp.example/token", "user name or password"),
            ("https://idp.example/token#x", "fragment"),
            ("https://idp.example/to\r\nken", "control character"),
        ] {
            let err = endpoint(bad).expect_err(bad);
            assert!(err.contains(says), "{bad}: {err}");
        }
        let long = format!("https://idp.example/{}", "a".repeat(MAX_VALUE));
        assert!(endpoint(&long).unwrap_err().contains("8 KB"));
    }

    #[test]
    fn scopes_follow_rfc_6749() {
        for ok in [
            "openid",
            "read:user",
            "https://graph.microsoft.com/.default",
            "a!#[]~",
        ] {
            scope(ok).unwrap();
        }
        for bad in ["a b", "quo\"te", "back\\slash", "é", "tab\t"] {
            assert!(scope(bad).unwrap_err().contains("RFC 6749"), "{bad}");
        }
    }
}
