//! The person at the keyboard, played headlessly against `tests/idp`: follows an authorization
//! URL, fills the provider's login and consent forms, and hands the final redirect to the
//! app's loopback listener as a browser would. One cookie jar per user, like one browser.

use reqwest::blocking::{Client, Response};
use reqwest::header::LOCATION;
use reqwest::redirect::Policy;
use url::Url;

pub struct User {
    http: Client,
    pub login: String,
    pub password: String,
}

/// A form found on a provider page.
#[derive(Debug)]
struct Form {
    action: String,
    fields: Vec<(String, String, String)>, // (type, name, value)
}

impl User {
    /// A user who signs in as `login` (the test provider makes it the subject).
    pub fn new(login: &str) -> User {
        User::with(login, crate::http_builder())
    }

    /// The same, for a provider served over HTTPS with a certificate of the CA in `ca` (PEM).
    pub fn trusting(login: &str, ca: &std::path::Path) -> User {
        let pem = std::fs::read(ca).expect("the CA's certificate");
        let ca = reqwest::Certificate::from_pem(&pem).expect("a PEM certificate");
        User::with(login, crate::http_builder().add_root_certificate(ca))
    }

    fn with(login: &str, builder: reqwest::blocking::ClientBuilder) -> User {
        let http = builder
            .cookie_store(true)
            .redirect(Policy::none())
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .expect("an HTTP client");
        User {
            http,
            login: login.into(),
            password: "any password".into(),
        }
    }

    /// Follows `auth_url` through the provider's login and consent pages and returns where the
    /// provider finally redirects (the app's redirect URI with `code` or `error`), without
    /// going there.
    pub fn authorize(&self, auth_url: &str) -> Result<Url, String> {
        self.walk(auth_url, Choice::Consent)
    }

    /// Like `authorize`, then delivers the redirect to the app's listener and returns the
    /// listener's reply (status, body).
    pub fn sign_in(&self, auth_url: &str) -> Result<(u16, String), String> {
        let redirect = self.authorize(auth_url)?;
        deliver(&redirect)
    }

    /// Signs in but refuses consent: the provider redirects with `error=access_denied`.
    pub fn refuse(&self, auth_url: &str) -> Result<Url, String> {
        self.walk(auth_url, Choice::Refuse)
    }

    /// Follows an end-session URL (RP-Initiated Logout) and confirms the sign-out as a person
    /// clicks "Yes, sign me out"; returns where the provider sends the browser back (the app's
    /// post-logout redirect), without going there.
    pub fn sign_out(&self, end_session_url: &str) -> Result<Url, String> {
        let start = Url::parse(end_session_url).map_err(|e| e.to_string())?;
        let provider = start.origin();
        let mut url = start;
        let mut resp = self.get(&url)?;
        for _ in 0..10 {
            if let Some(next) = location(&url, &resp)? {
                if next.origin() != provider {
                    return Ok(next);
                }
                url = next;
                resp = self.get(&url)?;
                continue;
            }
            let body = resp.text().map_err(|e| e.to_string())?;
            let form = parse_form(&body)
                .ok_or_else(|| format!("the sign-out page has no form: {}", snippet(&body)))?;
            // The button sits outside the form (form="op.logoutForm"): its value is added.
            let mut fields = self.fill(&form, None);
            fields.push(("logout".into(), "yes".into()));
            let action = url.join(&form.action).map_err(|e| e.to_string())?;
            resp = self
                .http
                .post(action.clone())
                .form(&fields)
                .send()
                .map_err(|e| e.to_string())?;
            url = action;
        }
        Err("the sign-out did not finish in 10 steps".into())
    }

    /// Whether the provider would ask this user to log in at `auth_url` (no session of theirs
    /// there), looked at without going further.
    pub fn would_log_in(&self, auth_url: &str) -> Result<bool, String> {
        let mut url = Url::parse(auth_url).map_err(|e| e.to_string())?;
        let provider = url.origin();
        let mut resp = self.get(&url)?;
        for _ in 0..10 {
            match location(&url, &resp)? {
                Some(next) if next.origin() == provider => {
                    url = next;
                    resp = self.get(&url)?;
                }
                Some(_) => return Ok(false),
                None => {
                    let body = resp.text().map_err(|e| e.to_string())?;
                    return Ok(parse_form(&body)
                        .is_some_and(|f| f.fields.iter().any(|(_, n, _)| n == "login")));
                }
            }
        }
        Err("no page in 10 steps".into())
    }

    /// Plays the device flow's user (RFC 8628 §3.3): opens the verification URI, types the
    /// user code, confirms, signs in and consents.
    pub fn confirm_device(&self, verification_uri: &str, user_code: &str) -> Result<(), String> {
        let mut url = Url::parse(verification_uri).map_err(|e| e.to_string())?;
        let mut resp = self.get(&url)?;
        for _ in 0..20 {
            if let Some(next) = location(&url, &resp)? {
                url = next;
                resp = self.get(&url)?;
                continue;
            }
            let status = resp.status().as_u16();
            let body = resp.text().map_err(|e| e.to_string())?;
            if status != 200 {
                return Err(format!(
                    "device page {url} answered {status}: {}",
                    snippet(&body)
                ));
            }
            let Some(form) = parse_form(&body) else {
                return if body.contains("Sign-in Success")
                    || body.to_lowercase().contains("success")
                {
                    Ok(())
                } else {
                    Err(format!(
                        "device flow ended on a page without a form: {}",
                        snippet(&body)
                    ))
                };
            };
            (url, resp) = self.submit(&url, &form, Some(user_code))?;
        }
        Err("the device flow did not finish in 20 steps".into())
    }

    fn walk(&self, auth_url: &str, choice: Choice) -> Result<Url, String> {
        let start = Url::parse(auth_url).map_err(|e| format!("not a URL: {auth_url}: {e}"))?;
        let provider = start.origin();
        let mut url = start;
        let mut resp = self.get(&url)?;
        for _ in 0..20 {
            if let Some(next) = location(&url, &resp)? {
                if next.origin() != provider {
                    return Ok(next); // leaving the provider: the redirect to the app
                }
                url = next;
                resp = self.get(&url)?;
                continue;
            }
            let status = resp.status().as_u16();
            let body = resp.text().map_err(|e| e.to_string())?;
            let form = parse_form(&body).ok_or_else(|| {
                format!(
                    "the provider answered {status} at {url} with no form: {}",
                    snippet(&body)
                )
            })?;
            let is_consent = form
                .fields
                .iter()
                .any(|(_, n, v)| n == "prompt" && v == "consent");
            if is_consent && choice == Choice::Refuse {
                // The page's cancel link, as a person would click it.
                let href = body
                    .split("href=\"")
                    .skip(1)
                    .filter_map(|rest| rest.split('"').next())
                    .find(|h| h.ends_with("/abort"))
                    .ok_or("the consent page has no cancel link")?;
                url = url
                    .join(&decode_entities(href))
                    .map_err(|e| e.to_string())?;
                resp = self.get(&url)?;
                continue;
            }
            (url, resp) = self.submit(&url, &form, None)?;
        }
        Err("the sign-in did not finish in 20 steps".into())
    }

    /// Fills and posts a form; returns where it went and the answer.
    fn submit(
        &self,
        page: &Url,
        form: &Form,
        user_code: Option<&str>,
    ) -> Result<(Url, reqwest::blocking::Response), String> {
        let fields = self.fill(form, user_code);
        let action = page.join(&form.action).map_err(|e| e.to_string())?;
        let resp = self
            .http
            .post(action.clone())
            .form(&fields)
            .send()
            .map_err(|e| e.to_string())?;
        Ok((action, resp))
    }

    fn fill(&self, form: &Form, user_code: Option<&str>) -> Vec<(String, String)> {
        form.fields
            .iter()
            .map(|(kind, name, value)| {
                let value = match (kind.as_str(), name.as_str()) {
                    (_, "login") => self.login.clone(),
                    (_, "password") => self.password.clone(),
                    ("text", "user_code") => user_code.unwrap_or_default().to_owned(),
                    _ => value.clone(),
                };
                (name.clone(), value)
            })
            .collect()
    }

    fn get(&self, url: &Url) -> Result<Response, String> {
        self.http
            .get(url.clone())
            .send()
            .map_err(|e| format!("GET {url}: {e}"))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Choice {
    Consent,
    Refuse,
}

/// Goes to `redirect` as the browser would, returning the listener's (status, body).
pub fn deliver(redirect: &Url) -> Result<(u16, String), String> {
    let resp = crate::http_builder()
        .redirect(Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
        .get(redirect.clone())
        .send()
        .map_err(|e| format!("delivering the redirect to {}: {e}", redirect.path()))?;
    let status = resp.status().as_u16();
    Ok((status, resp.text().unwrap_or_default()))
}

fn location(base: &Url, resp: &Response) -> Result<Option<Url>, String> {
    if !resp.status().is_redirection() {
        return Ok(None);
    }
    let loc = resp
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or("a redirect without Location")?;
    base.join(loc)
        .map(Some)
        .map_err(|e| format!("bad Location {loc:?}: {e}"))
}

fn snippet(body: &str) -> String {
    body.chars().take(300).collect()
}

/// The first form of a page, with its inputs: enough HTML for oidc-provider's own pages.
fn parse_form(html: &str) -> Option<Form> {
    let start = html.find("<form")?;
    let end = html[start..]
        .find("</form>")
        .map_or(html.len(), |e| start + e);
    let form_html = &html[start..end];
    let tag_end = form_html.find('>')?;
    let action = attr(&form_html[..tag_end], "action").unwrap_or_default();
    let mut fields = Vec::new();
    let mut rest = &form_html[tag_end..];
    while let Some(i) = rest.find("<input") {
        let tag_close = rest[i..].find('>').map_or(rest.len(), |j| i + j);
        let tag = &rest[i..tag_close];
        if let Some(name) = attr(tag, "name") {
            let kind = attr(tag, "type").unwrap_or_else(|| "text".into());
            fields.push((kind, name, attr(tag, "value").unwrap_or_default()));
        }
        rest = &rest[tag_close..];
    }
    Some(Form {
        action: decode_entities(&action),
        fields,
    })
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!("{name}=\"");
    let mut from = 0;
    while let Some(i) = tag[from..].find(&needle) {
        let at = from + i;
        // a whole attribute name, not the tail of another (e.g. `name` in `data-name`)
        let boundary = at == 0 || tag.as_bytes()[at - 1].is_ascii_whitespace();
        let value_start = at + needle.len();
        let value_end = value_start + tag[value_start..].find('"')?;
        if boundary {
            return Some(decode_entities(&tag[value_start..value_end]));
        }
        from = value_end;
    }
    None
}

fn decode_entities(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_oidc_provider_forms() {
        let html = r#"<form autocomplete="off" action="/interaction/abc/login" method="post">
  <input type="hidden" name="prompt" value="login"/>
  <input required type="text" name="login" placeholder="Enter any login" autofocus="on" />
  <input
    value="AB&amp;CD" type="text" name="user_code" placeholder="Enter code"></input></form>"#;
        let f = parse_form(html).unwrap();
        assert_eq!(f.action, "/interaction/abc/login");
        assert_eq!(
            f.fields[0],
            ("hidden".into(), "prompt".into(), "login".into())
        );
        assert_eq!(f.fields[1].1, "login");
        assert_eq!(
            f.fields[2],
            ("text".into(), "user_code".into(), "AB&CD".into())
        );
    }
}
