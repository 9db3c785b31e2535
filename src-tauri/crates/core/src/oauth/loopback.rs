//! The loopback redirect listener of RFC 8252 §7.3: one per sign-in, bound to 127.0.0.1 only,
//! answering GET on the exact redirect path with the right Host header and this sign-in's
//! state, and closed after the first such request or when its time is up. Any web page can
//! send requests here (an `<img>` tag will do), so every other request is answered with an
//! error status and the wait goes on; connections are served side by side, each within its own
//! time limit, so that one that stalls cannot hold up the real redirect. Its pages are static:
//! they never echo input.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::callback::StateCheck;
use crate::error::{Error, Result};

/// The most a request's head may weigh.
const MAX_HEAD: usize = 16 * 1024;
/// How long a connection may take to send its request, from the moment it is accepted.
const CONNECTION_TIME: Duration = Duration::from_secs(10);
/// Connections read at once. A browser opens at most six to one host; when a local process
/// opens more, the oldest is dropped rather than the newest, which may be the redirect.
const MAX_CONNECTIONS: usize = 32;

const DONE_PAGE: &str = "<!doctype html><meta charset=utf-8><title>OAuth Desk</title>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Signed in</h1>\
<p>You can close this window and return to OAuth Desk.</p>";
const FAILED_PAGE: &str = "<!doctype html><meta charset=utf-8><title>OAuth Desk</title>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Sign-in did not complete</h1>\
<p>Return to OAuth Desk to see why.</p>";

pub struct Loopback {
    listener: TcpListener,
    port: u16,
    path: String,
}

/// The redirect as it arrived: its query, decoded, in order (duplicates kept, so that the
/// caller can refuse them). The connection waits for `reply`.
pub struct Redirect {
    pub params: Vec<(String, String)>,
    stream: TcpStream,
}

/// A connection whose request is still coming.
struct Pending {
    stream: TcpStream,
    head: Vec<u8>,
    until: Instant,
}

enum Progress {
    /// More may come.
    Waiting,
    /// The head is complete.
    Head,
    /// Closed, broken, or too large (answered already): forget it.
    Gone,
}

impl Pending {
    /// Reads what has arrived, without blocking.
    fn read(&mut self) -> Progress {
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Progress::Gone,
                Ok(n) => {
                    self.head.extend_from_slice(&chunk[..n]);
                    if self.head.len() > MAX_HEAD {
                        respond(
                            &mut self.stream,
                            "431 Request Header Fields Too Large",
                            FAILED_PAGE,
                        );
                        return Progress::Gone;
                    }
                    if head_end(&self.head).is_some() {
                        return Progress::Head;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Progress::Waiting,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Progress::Gone,
            }
        }
    }
}

/// Where the head ends (after its blank line), if it has.
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Loopback {
    /// Binds 127.0.0.1:`port` (0 for any free port).
    pub fn bind(port: u16, path: &str) -> Result<Loopback> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map_err(|e| {
            Error::InvalidInput(format!(
                "cannot listen on 127.0.0.1:{port} for the redirect ({e}); choose another loopback port, or 0 for any"
            ))
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::io("loopback", e))?
            .port();
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io("loopback", e))?;
        Ok(Loopback {
            listener,
            port,
            path: path.to_owned(),
        })
    }

    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{}", self.port, self.path)
    }

    /// Waits for the redirect that carries `state` until `deadline` or until `cancel` is set.
    /// Requests with another method, path, Host or state are answered with an error status
    /// and do not end the wait.
    pub fn wait(
        self,
        state: &StateCheck,
        deadline: Instant,
        cancel: &AtomicBool,
    ) -> Result<Redirect> {
        let mut pending: Vec<Pending> = Vec::new();
        loop {
            if cancel.load(Ordering::SeqCst) {
                return Err(Error::Cancelled("the sign-in was cancelled".into()));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::TimedOut(
                    "no redirect came back from the provider in time; the sign-in was abandoned"
                        .into(),
                ));
            }
            loop {
                match self.listener.accept() {
                    Ok((stream, _)) => {
                        if stream.set_nonblocking(true).is_err() {
                            continue;
                        }
                        if pending.len() >= MAX_CONNECTIONS {
                            pending.remove(0);
                        }
                        pending.push(Pending {
                            stream,
                            head: Vec::new(),
                            until: now + CONNECTION_TIME,
                        });
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    // A client that gave up between connecting and being accepted.
                    Err(e)
                        if matches!(
                            e.kind(),
                            ErrorKind::Interrupted | ErrorKind::ConnectionAborted
                        ) => {}
                    Err(e) => return Err(Error::io("waiting for the redirect", e)),
                }
            }
            let mut i = 0;
            while i < pending.len() {
                match pending[i].read() {
                    Progress::Waiting if pending[i].until > now => i += 1,
                    // Out of time (a slow-loris connection), closed, or answered.
                    Progress::Waiting | Progress::Gone => {
                        pending.swap_remove(i);
                    }
                    Progress::Head => {
                        let mut conn = pending.swap_remove(i);
                        match self.judge(&conn.head, state) {
                            Ok(params) => {
                                return Ok(Redirect {
                                    params,
                                    stream: conn.stream,
                                });
                            }
                            Err(status) => respond(&mut conn.stream, status, FAILED_PAGE),
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The redirect's parameters if `head` is the redirect of this sign-in; else the status
    /// to answer with.
    fn judge(
        &self,
        head: &[u8],
        state: &StateCheck,
    ) -> std::result::Result<Vec<(String, String)>, &'static str> {
        let text = String::from_utf8_lossy(&head[..head_end(head).unwrap_or(head.len())]);
        let mut lines = text.lines();
        let request_line = lines.next().unwrap_or("");
        let host = lines
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.eq_ignore_ascii_case("host"))
            .map(|(_, v)| v.trim());
        let mut parts = request_line.split(' ');
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        if path != self.path {
            return Err("404 Not Found");
        }
        if method != "GET" {
            return Err("405 Method Not Allowed");
        }
        if host != Some(format!("127.0.0.1:{}", self.port).as_str()) {
            // Another Host means a page in some browser tab reached us by DNS rebinding.
            return Err("400 Bad Request");
        }
        let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if !state.carried_by(&params) {
            // Not the provider's redirect for this sign-in: a page that loaded the callback,
            // or the redirect of another sign-in. The real one may still come.
            tracing::debug!(
                "a request to the redirect path without this sign-in's state was refused"
            );
            return Err("400 Bad Request");
        }
        Ok(params)
    }
}

impl Redirect {
    /// Answers the browser with the static page for the outcome, and closes the connection.
    pub fn reply(mut self, ok: bool) {
        respond(
            &mut self.stream,
            if ok { "200 OK" } else { "400 Bad Request" },
            if ok { DONE_PAGE } else { FAILED_PAGE },
        );
    }
}

/// Writes a whole answer, blocking at most a few seconds on a peer that reads nothing.
fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_write_timeout(Some(Duration::from_secs(3)));
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}

/// `crate::fuzzing`: a request head judged as `wait` judges it, by a listener on port 5000 with
/// the default path (fixed, so that an input can carry the right Host).
pub(crate) fn fuzz_judge(head: &[u8], state: &StateCheck) -> Option<Vec<(String, String)>> {
    static LISTENER: std::sync::OnceLock<Option<Loopback>> = std::sync::OnceLock::new();
    let listener = LISTENER.get_or_init(|| {
        Loopback::bind(0, "/callback").ok().map(|mut l| {
            l.port = 5000;
            l
        })
    });
    listener.as_ref()?.judge(head, state).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(port: u16, request: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        // A listener that wrongly took a request as the redirect holds it unanswered.
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    /// A listener waiting in the background for the state "s1", with ten seconds to spare.
    fn listening() -> (u16, std::thread::JoinHandle<Result<Redirect>>) {
        let lb = Loopback::bind(0, "/callback").unwrap();
        let port = lb.port;
        let waiter = std::thread::spawn(move || {
            lb.wait(
                &StateCheck::new("s1"),
                Instant::now() + Duration::from_secs(10),
                &AtomicBool::new(false),
            )
        });
        (port, waiter)
    }

    #[test]
    fn only_a_get_on_the_exact_path_with_our_host_and_state_is_the_redirect() {
        let (port, waiter) = listening();
        let host = format!("Host: 127.0.0.1:{port}\r\n");
        let wrong_path = raw(port, &format!("GET /other?code=x HTTP/1.1\r\n{host}\r\n"));
        assert!(wrong_path.starts_with("HTTP/1.1 404"), "{wrong_path}");
        let wrong_method = raw(
            port,
            &format!("POST /callback?code=x&state=s1 HTTP/1.1\r\n{host}\r\n"),
        );
        assert!(wrong_method.starts_with("HTTP/1.1 405"), "{wrong_method}");
        let wrong_host = raw(
            port,
            "GET /callback?code=x&state=s1 HTTP/1.1\r\nHost: evil.example\r\n\r\n",
        );
        assert!(wrong_host.starts_with("HTTP/1.1 400"), "{wrong_host}");
        // What any web page can make a browser send: the callback without the state.
        let no_state = raw(
            port,
            &format!("GET /callback?code=x HTTP/1.1\r\n{host}\r\n"),
        );
        assert!(no_state.starts_with("HTTP/1.1 400"), "{no_state}");
        let bare = raw(port, &format!("GET /callback HTTP/1.1\r\n{host}\r\n"));
        assert!(bare.starts_with("HTTP/1.1 400"), "{bare}");
        let other_state = raw(
            port,
            &format!("GET /callback?code=x&state=s2 HTTP/1.1\r\n{host}\r\n"),
        );
        assert!(other_state.starts_with("HTTP/1.1 400"), "{other_state}");
        let huge = raw(
            port,
            &format!(
                "GET /callback?x={} HTTP/1.1\r\n{host}\r\n",
                "a".repeat(20_000)
            ),
        );
        assert!(
            huge.is_empty() || huge.starts_with("HTTP/1.1 431"),
            "{huge}"
        );
        assert!(!waiter.is_finished(), "no stray request ends the wait");
        let client = std::thread::spawn(move || {
            raw(
                port,
                &format!("GET /callback?code=c%20d&state=s1&x=<script> HTTP/1.1\r\n{host}\r\n"),
            )
        });
        let redirect = waiter.join().unwrap().unwrap();
        assert_eq!(redirect.params[0], ("code".to_string(), "c d".to_string()));
        redirect.reply(true);
        let page = client.join().unwrap();
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert!(
            page.contains("Cache-Control: no-store")
                && page.contains("Referrer-Policy: no-referrer")
        );
        assert!(
            !page.contains("<script>") && !page.contains("c d"),
            "the page never echoes input"
        );
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "the listener closed after the redirect"
        );
    }

    #[test]
    fn connections_that_stall_or_trickle_do_not_hold_up_the_redirect() {
        let (port, waiter) = listening();
        // Half a request line, then nothing.
        let mut stalled = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stalled.write_all(b"GET /callback?co").unwrap();
        // Half a request line, then a byte every 200 ms for 15 s (longer than the wait's 10):
        // each read succeeds, the head never ends. Only a limit on the whole connection, or
        // serving others beside it, gets past it in time.
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let trickling = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                let _ = s.write_all(b"GET /callback?co");
                for _ in 0..75 {
                    if stop.load(Ordering::SeqCst) || s.write_all(b"a").is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
        };
        // The redirect comes after both (the order the listener sees them in).
        std::thread::sleep(Duration::from_millis(300));
        let client = std::thread::spawn(move || {
            raw(
                port,
                &format!(
                    "GET /callback?code=c&state=s1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
                ),
            )
        });
        let redirect = waiter.join().unwrap();
        stop.store(true, Ordering::SeqCst);
        let redirect = redirect.expect("the redirect is taken while the others stall");
        assert_eq!(redirect.params[0], ("code".to_string(), "c".to_string()));
        redirect.reply(true);
        assert!(client.join().unwrap().starts_with("HTTP/1.1 200"));
        trickling.join().unwrap();
        drop(stalled);
    }

    #[test]
    fn time_limit_and_cancel_end_the_wait() {
        let lb = Loopback::bind(0, "/callback").unwrap();
        let err = lb.wait(
            &StateCheck::new("s1"),
            Instant::now() + Duration::from_millis(100),
            &AtomicBool::new(false),
        );
        assert_eq!(err.err().unwrap().code(), "timed_out");
        let lb = Loopback::bind(0, "/callback").unwrap();
        let err = lb.wait(
            &StateCheck::new("s1"),
            Instant::now() + Duration::from_secs(10),
            &AtomicBool::new(true),
        );
        assert_eq!(err.err().unwrap().code(), "cancelled");
    }
}
