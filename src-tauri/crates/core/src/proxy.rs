//! Which HTTP proxy provider calls go through: the standard environment variables by default
//! (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, upper or lower case), none, or a
//! proxy set in Settings with optional credentials from the vault. Loopback addresses never
//! go through a proxy: a provider on this machine is reached directly.
//!
//! The choice is process-wide: the faces set it from the vault's settings once the vault is
//! open (and again when Settings change), and every `Http` made afterwards follows it.

use std::sync::RwLock;

use reqwest::{NoProxy, Proxy};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Always bypassed, whatever NO_PROXY says.
const LOOPBACK: &str = "127.0.0.0/8,::1,localhost";

#[derive(Debug, Clone, Default)]
pub enum ProxyChoice {
    /// HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY.
    #[default]
    Environment,
    /// Straight to every provider.
    Off,
    /// Every non-loopback call through `url`, with basic credentials when given.
    Manual {
        url: String,
        username: Option<String>,
        password: Option<Secret<String>>,
    },
}

static CHOICE: RwLock<ProxyChoice> = RwLock::new(ProxyChoice::Environment);

/// Makes `choice` the proxy of every HTTP client made from now on.
pub fn use_choice(choice: ProxyChoice) {
    *CHOICE.write().unwrap_or_else(|e| e.into_inner()) = choice;
}

/// Checks a proxy URL as Settings takes it: http or https, a host, no credentials in it (they
/// have their own fields, so the URL can be shown), no path.
pub fn check_url(text: &str) -> std::result::Result<(), String> {
    let url = url::Url::parse(text)
        .map_err(|_| "is not a URL such as http://proxy.example:3128".to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "must start with http:// or https://, not {}://",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("needs a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not hold credentials: put them in the user name and password fields".into(),
        );
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err("must be only scheme, host and port".into());
    }
    Ok(())
}

/// Applies the current choice to a client being built. Returns the builder and, for messages,
/// the proxy a non-loopback call goes through (host and port only).
pub(crate) fn configure(
    builder: reqwest::blocking::ClientBuilder,
) -> Result<(reqwest::blocking::ClientBuilder, Option<String>)> {
    let choice = CHOICE.read().unwrap_or_else(|e| e.into_inner()).clone();
    // Our own rules replace reqwest's reading of the environment.
    let builder = builder.no_proxy();
    match choice {
        ProxyChoice::Off => Ok((builder, None)),
        ProxyChoice::Manual {
            url,
            username,
            password,
        } => {
            let mut proxy = Proxy::all(&url)
                .map_err(|_| Error::InvalidInput("the proxy URL in Settings is not valid".into()))?
                .no_proxy(NoProxy::from_string(LOOPBACK));
            if let Some(user) = username.filter(|u| !u.is_empty()) {
                let pass = password.as_ref().map(|p| p.expose().as_str()).unwrap_or("");
                proxy = proxy.basic_auth(&user, pass);
            }
            Ok((builder.proxy(proxy), Some(host_port(&url))))
        }
        ProxyChoice::Environment => {
            let env = |names: [&str; 2]| {
                names
                    .iter()
                    .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
            };
            let no_proxy = match env(["NO_PROXY", "no_proxy"]) {
                Some(list) => format!("{list},{LOOPBACK}"),
                None => LOOPBACK.to_owned(),
            };
            let mut builder = builder;
            let mut shown = None;
            let rules: [(&str, [&str; 2], MakeProxy); 3] = [
                ("HTTPS_PROXY", ["HTTPS_PROXY", "https_proxy"], |u| {
                    Proxy::https(u)
                }),
                ("HTTP_PROXY", ["HTTP_PROXY", "http_proxy"], |u| {
                    Proxy::http(u)
                }),
                ("ALL_PROXY", ["ALL_PROXY", "all_proxy"], |u| Proxy::all(u)),
            ];
            for (var, names, make) in rules {
                if let Some(url) = env(names) {
                    let proxy = make(&url).map_err(|_| {
                        Error::InvalidInput(format!("{var} is not a valid proxy URL"))
                    })?;
                    builder = builder.proxy(proxy.no_proxy(NoProxy::from_string(&no_proxy)));
                    shown.get_or_insert_with(|| host_port(&url));
                }
            }
            Ok((builder, shown))
        }
    }
}

/// Which requests a proxy from the environment takes: https, http or all.
type MakeProxy = fn(&str) -> reqwest::Result<Proxy>;

/// `host:port` of a proxy URL: never its credentials.
fn host_port(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!(
            "{}:{}",
            u.host_str().unwrap_or("?"),
            u.port_or_known_default().unwrap_or(0)
        ),
        Err(_) => "the configured proxy".into(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn proxy_urls_are_checked() {
        assert!(super::check_url("http://proxy.example:3128").is_ok());
        assert!(super::check_url("https://proxy.example").is_ok());
        for bad in [
            "proxy.example:3128",
            "socks5://proxy.example:1080",
            "http://user:pw@proxy.example:3128",
            "http://proxy.example:3128/path",
            "",
        ] {
            assert!(super::check_url(bad).is_err(), "{bad}");
        }
        assert_eq!(
            super::host_port("http://user:pw@p.example:3128"),
            "p.example:3128"
        );
    }
}
