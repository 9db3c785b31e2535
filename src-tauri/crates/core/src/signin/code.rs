//! The authorization code sign-in (RFC 6749 §4.1, PKCE, RFC 8252 §7.3): the loopback
//! listener, the authorization URL, the wait for the redirect, the code's exchange. The face
//! is handed the URL to show its way (a login window, the browser, a line of output, an
//! answer); the rest happens here.

use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use super::{Cancel, Grantee, Request, SignedIn};
use crate::error::{Error, Result};
use crate::oauth::callback::{StateCheck, SIGNIN_LIFETIME_SECS};
use crate::oauth::flow::CodeFlow;
use crate::oauth::loopback::{Loopback, Redirect};
use crate::text::shown;
use crate::time;
use crate::vault::SharedVault;

/// Where the redirect can be caught.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Catch {
    /// By the loopback listener alone: a provider that redirects to a custom URL is refused,
    /// as nothing would ever see its redirect.
    Loopback,
    /// By the face too (the login window sees the redirect before it leaves), so a custom
    /// redirect URL works; the loopback listener still runs for any other provider, in case
    /// the person moves to the system browser.
    AlsoFace,
}

/// What the face shows the person.
pub struct Authorize<'a> {
    /// The authorization URL to open.
    pub url: &'a str,
    /// Where the provider sends the person back.
    pub redirect_uri: &'a str,
    /// For `Catch::AlsoFace`: where the face hands a redirect it caught.
    pub catcher: &'a Catcher,
}

/// Hands a redirect the face caught to the waiting sign-in.
#[derive(Clone)]
pub struct Catcher(Sender<Result<Caught>>);

impl Catcher {
    /// `fragment_tokens`: the provider put tokens in the URL fragment (the implicit flow),
    /// which is refused rather than stored.
    pub fn caught(&self, params: Vec<(String, String)>, fragment_tokens: bool) {
        let _ = self.0.send(Ok(Caught {
            params,
            connection: None,
            fragment_tokens,
        }));
    }
}

/// A redirect that reached OAuth Desk, and the loopback connection to answer if it came that
/// way.
struct Caught {
    params: Vec<(String, String)>,
    connection: Option<Redirect>,
    fragment_tokens: bool,
}

/// Signs in with the authorization code: `open` gets the URL once the listener is ready, then
/// the redirect is awaited until `cancel` is set or the sign-in's time is up, and its code
/// exchanged and stored. Any failure, `open`'s included, is logged.
pub fn sign_in(
    vault: &SharedVault,
    request: &Request,
    catch: Catch,
    cancel: &Cancel,
    open: impl FnOnce(&Authorize) -> Result<()>,
) -> Result<SignedIn> {
    request.complete(vault, Grantee::AuthorizationCode, |http, p| {
        let (listener, redirect_uri) = match &p.redirect_url {
            None => {
                let listener = Loopback::bind(p.redirect_port, &p.redirect_path)?;
                let uri = listener.redirect_uri();
                (Some(listener), uri)
            }
            Some(custom) if catch == Catch::AlsoFace => (None, custom.clone()),
            Some(_) => {
                return Err(Error::InvalidInput(format!(
                    "{} redirects to a custom URL, which only the window can catch: sign in \
                     from the window",
                    shown(&p.name)
                )))
            }
        };
        let flow = CodeFlow::start(p, &redirect_uri, &request.scopes, time::now(), http)?;
        let deadline = Instant::now() + Duration::from_secs(SIGNIN_LIFETIME_SECS as u64);
        let (tx, rx) = mpsc::channel();
        let catcher = Catcher(tx);
        // Its own switch: the listener must stop once the wait is over, however it ended,
        // and the caller's switch is the caller's.
        let listening = Cancel::default();
        if let Some(listener) = listener {
            listen(listener, flow.state_check(), deadline, &catcher, &listening)?;
        }
        let authorize = Authorize {
            url: &flow.url,
            redirect_uri: &redirect_uri,
            catcher: &catcher,
        };
        let caught = open(&authorize).and_then(|()| wait(&rx, deadline, cancel));
        listening.cancel();
        let caught = caught?;
        let result = if caught.fragment_tokens {
            Err(Error::ProviderError(
                "the provider sent tokens in the URL fragment (the implicit flow), which OAuth \
                 Desk refuses; nothing was stored"
                    .into(),
            ))
        } else {
            flow.finish(&caught.params, http, time::now())
        };
        if let Some(connection) = caught.connection {
            connection.reply(result.is_ok());
        }
        result
    })
}

/// Waits for the redirect on a thread of its own, so that the sign-in can wait for the face's
/// catch and its cancel switch at the same time. Named, so that it is not taken for the
/// thread it was started from (the API counts its sign-ins' threads by name).
fn listen(
    listener: Loopback,
    state: StateCheck,
    deadline: Instant,
    catcher: &Catcher,
    stop: &Cancel,
) -> Result<()> {
    let (to, stop) = (catcher.0.clone(), stop.clone());
    std::thread::Builder::new()
        .name("loopback".into())
        .spawn(move || {
            let caught = listener
                .wait(&state, deadline, stop.flag())
                .map(|r| Caught {
                    params: r.params.clone(),
                    connection: Some(r),
                    fragment_tokens: false,
                });
            let _ = to.send(caught);
        })
        .map(drop)
        .map_err(|e| Error::io("waiting for the redirect", e))
}

fn wait(rx: &Receiver<Result<Caught>>, deadline: Instant, cancel: &Cancel) -> Result<Caught> {
    loop {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled("the sign-in was cancelled".into()));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::TimedOut(
                "no redirect came back from the provider in time; the sign-in was abandoned".into(),
            ));
        }
        // Never disconnected (the sign-in holds a sender): this only times out, so that the
        // switch is looked at every 100 ms.
        if let Ok(caught) = rx.recv_timeout(left.min(Duration::from_millis(100))) {
            return caught;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::provider_table::tests::sample;
    use crate::vault::{activity, Vault};

    fn request(redirect_url: Option<&str>) -> Request {
        let mut provider = sample("idp");
        provider.authorization_url = Some("https://idp.example/auth".into());
        provider.redirect_url = redirect_url.map(Into::into);
        Request {
            provider,
            scopes: Vec::new(),
            account: None,
        }
    }

    fn logged(vault: &SharedVault) -> Vec<String> {
        vault
            .with(|v| activity::list_recent(v.conn(), 10))
            .unwrap()
            .into_iter()
            .map(|e| format!("{}: {}", e.action, e.detail.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn a_custom_redirect_is_refused_where_only_the_listener_could_catch_it_and_logged() {
        let vault = SharedVault::new(Vault::open_in_memory().unwrap());
        let request = request(Some("https://app.example/callback"));
        let refused = sign_in(
            &vault,
            &request,
            Catch::Loopback,
            &Cancel::default(),
            |_| panic!("no URL is handed out for a redirect nothing would see"),
        );
        assert_eq!(refused.unwrap_err().code(), "invalid_input");
        let log = logged(&vault);
        assert!(
            log.len() == 1 && log[0].contains("only the window"),
            "every failed sign-in is logged, whichever face started it: {log:?}"
        );
    }

    #[test]
    fn cancelling_ends_the_wait_and_closes_the_listener() {
        let vault = SharedVault::new(Vault::open_in_memory().unwrap());
        let cancel = Cancel::default();
        let mut redirect_uri = String::new();
        let cancelled = sign_in(&vault, &request(None), Catch::Loopback, &cancel, |a| {
            redirect_uri = a.redirect_uri.to_owned();
            cancel.cancel();
            Ok(())
        });
        assert_eq!(cancelled.unwrap_err().code(), "cancelled");
        assert!(logged(&vault)[0].starts_with("sign-in failed"));
        let port = url::Url::parse(&redirect_uri).unwrap().port().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "the listener must not hold its port once the sign-in is over"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn tokens_in_a_caught_redirects_fragment_are_refused() {
        let vault = SharedVault::new(Vault::open_in_memory().unwrap());
        let request = request(Some("https://app.example/callback"));
        let refused = sign_in(&vault, &request, Catch::AlsoFace, &Cancel::default(), |a| {
            a.catcher.caught(Vec::new(), true);
            Ok(())
        });
        let e = refused.unwrap_err();
        assert_eq!(e.code(), "provider_error");
        assert!(e.to_string().contains("implicit flow"), "{e}");
    }
}
