//! The loopback redirect listener of `oauth-desk login` against stray requests, with the real
//! test provider: any web page can make the browser send `GET /callback` to it (an `<img>`
//! will do), with the right Host. Such a request, without this sign-in's state or with
//! another one, gets a 400 and the sign-in goes on; so do connections that stall. Then the
//! provider's real redirect still signs in.

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use oauth_desk_tests::cli::stderr;
use oauth_desk_tests::idp::{self, Idp};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{self, outcome};
use oauth_desk_tests::user::{self, User};
use url::Url;

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "loopback tests");

fn with_provider(idp: &Idp) -> Session {
    let s = Session::without_keyring();
    signin::add_provider(&s, &[PASS], idp, "Test IdP", &idp::PUBLIC);
    s
}

/// `redirect` with its query rebuilt: `key` removed, then set to `value` if given.
fn with_param(redirect: &Url, key: &str, value: Option<&str>) -> Url {
    let pairs: Vec<(String, String)> = redirect
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != key)
        .collect();
    let mut u = redirect.clone();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    if let Some(v) = value {
        u.query_pairs_mut().append_pair(key, v);
    }
    u
}

/// A connection that sends half a request line and then, until `stop`, a byte every 200 ms
/// (at most 30 s): every read gets something, its head never ends.
fn trickle(port: u16, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _ = s.write_all(b"GET /callback?co");
        for _ in 0..150 {
            if stop.load(Ordering::SeqCst) || s.write_all(b"a").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    })
}

#[test]
fn stray_requests_and_stalled_connections_leave_the_sign_in_waiting_for_its_redirect() {
    let idp = Idp::start();
    let s = with_provider(&idp);
    let (running, url) = signin::start_login(&s, &[PASS], "Test IdP", &[]);
    // The provider's real redirect, held back while the strays arrive.
    let redirect = User::new("alice").authorize(&url).unwrap();
    let port = redirect.port().unwrap();

    // Half a request line, then silence; and one that trickles (a slow-loris).
    let mut stalled = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stalled.write_all(b"GET /callback?code=").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let trickling = trickle(port, stop.clone());

    // What an <img src="http://127.0.0.1:PORT/callback"> on any page sends.
    let mut bare = redirect.clone();
    bare.set_query(None);
    let (status, page) = user::deliver(&bare).unwrap();
    assert_eq!(status, 400, "a callback without state is refused: {page}");
    // The real code with a state of the page's choosing: refused too, so a leaked code
    // alone is of no use.
    let forged = with_param(&redirect, "state", Some("forged-state"));
    let (status, page) = user::deliver(&forged).unwrap();
    assert_eq!(status, 400, "another state is refused");
    assert!(!page.contains("forged"), "the page never echoes input");
    let no_state = with_param(&redirect, "state", None);
    assert_eq!(user::deliver(&no_state).unwrap().0, 400);

    // The real redirect, while the stalled connections are still open.
    let (status, page) = user::deliver(&redirect).unwrap();
    stop.store(true, Ordering::SeqCst);
    assert_eq!(status, 200, "the redirect is taken: {page}");
    assert!(page.contains("You can close this window"), "{page}");
    let out = signin::ok(running.finish());
    assert_eq!(outcome(&out)["account"], "alice@example.test");
    trickling.join().unwrap();
    drop(stalled);
}

#[test]
fn the_redirect_of_an_earlier_sign_in_is_refused_and_the_current_one_goes_on() {
    let idp = Idp::start();
    let s = with_provider(&idp);
    let (first, url) = signin::start_login(&s, &[PASS], "Test IdP", &["--account", "first"]);
    let old = User::new("alice").authorize(&url).unwrap();
    user::deliver(&old).unwrap();
    signin::ok(first.finish());

    let (running, url) = signin::start_login(&s, &[PASS], "Test IdP", &["--account", "second"]);
    let redirect = User::new("bob").authorize(&url).unwrap();
    // The first sign-in's redirect (code and state), replayed to this sign-in's listener.
    let mut replayed = old.clone();
    replayed.set_port(redirect.port()).unwrap();
    let (status, _) = user::deliver(&replayed).unwrap();
    assert_eq!(status, 400, "a replayed redirect is refused");
    let (status, _) = user::deliver(&redirect).unwrap();
    assert_eq!(status, 200);
    let out = running.finish();
    assert_eq!(
        outcome(&signin::ok(out))["account"],
        "second",
        "the sign-in in progress completes"
    );
}

#[test]
fn a_redirect_with_our_state_but_a_bad_issuer_still_ends_the_sign_in() {
    // Only the provider knows the state: a redirect that carries it is the answer, even a
    // wrong one, and ends the sign-in with its reason rather than waiting on.
    let idp = Idp::start();
    let s = with_provider(&idp);
    let (running, url) = signin::start_login(&s, &[PASS], "Test IdP", &[]);
    let redirect = User::new("alice").authorize(&url).unwrap();
    let evil = with_param(&redirect, "iss", Some("https://evil.example"));
    let (status, _) = user::deliver(&evil).unwrap();
    assert_eq!(status, 400);
    let out = running.finish();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("RFC 9207"), "{}", stderr(&out));
}
