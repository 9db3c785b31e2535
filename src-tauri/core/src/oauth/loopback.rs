//! The loopback redirect listener of RFC 8252 §7.3: one per sign-in, bound to 127.0.0.1 only,
//! answering GET on the exact redirect path with the right Host header, and closed after the
//! first such request or when its time is up. Its pages are static: they never echo input.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

const MAX_HEAD: u64 = 16 * 1024;

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

    /// Waits for the redirect until `deadline` or until `cancel` is set. Requests with another
    /// method, path or Host are answered with an error status and do not end the wait.
    pub fn wait(self, deadline: Instant, cancel: &AtomicBool) -> Result<Redirect> {
        loop {
            if cancel.load(Ordering::SeqCst) {
                return Err(Error::Cancelled("the sign-in was cancelled".into()));
            }
            if Instant::now() >= deadline {
                return Err(Error::TimedOut(
                    "no redirect came back from the provider in time; the sign-in was abandoned"
                        .into(),
                ));
            }
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if let Some(redirect) = self.handle(stream) {
                        return Ok(redirect);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(e) => return Err(Error::io("waiting for the redirect", e)),
            }
        }
    }

    /// Reads one request; answers and drops anything that is not the redirect.
    fn handle(&self, mut stream: TcpStream) -> Option<Redirect> {
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut reader = BufReader::new((&stream).take(MAX_HEAD));
        let mut request_line = String::new();
        reader.read_line(&mut request_line).ok()?;
        let mut host = None;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return None,
                Ok(_) if line == "\r\n" || line == "\n" => break,
                Ok(_) => {
                    if let Some((k, v)) = line.split_once(':') {
                        if k.eq_ignore_ascii_case("host") {
                            host = Some(v.trim().to_owned());
                        }
                    }
                }
            }
        }
        let mut parts = request_line.split(' ');
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let expected_host = format!("127.0.0.1:{}", self.port);
        let refuse = |stream: &mut TcpStream, status: &str| {
            respond(stream, status, FAILED_PAGE);
            None
        };
        if path != self.path {
            return refuse(&mut stream, "404 Not Found");
        }
        if method != "GET" {
            return refuse(&mut stream, "405 Method Not Allowed");
        }
        if host.as_deref() != Some(expected_host.as_str()) {
            // Another Host means a page in some browser tab reached us by DNS rebinding.
            return refuse(&mut stream, "400 Bad Request");
        }
        let params = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Some(Redirect { params, stream })
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

fn respond(stream: &mut TcpStream, status: &str, body: &str) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn raw(port: u16, request: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    #[test]
    fn only_a_get_on_the_exact_path_with_our_host_is_the_redirect() {
        let lb = Loopback::bind(0, "/callback").unwrap();
        let port = lb.port;
        assert!(lb.redirect_uri().starts_with("http://127.0.0.1:"));
        let cancel = Arc::new(AtomicBool::new(false));
        let waiter = std::thread::spawn(move || {
            lb.wait(
                Instant::now() + Duration::from_secs(10),
                &AtomicBool::new(false),
            )
        });
        let host = format!("Host: 127.0.0.1:{port}\r\n");
        let wrong_path = raw(port, &format!("GET /other?code=x HTTP/1.1\r\n{host}\r\n"));
        assert!(wrong_path.starts_with("HTTP/1.1 404"), "{wrong_path}");
        let wrong_method = raw(
            port,
            &format!("POST /callback?code=x HTTP/1.1\r\n{host}\r\n"),
        );
        assert!(wrong_method.starts_with("HTTP/1.1 405"), "{wrong_method}");
        let wrong_host = raw(
            port,
            "GET /callback?code=x HTTP/1.1\r\nHost: evil.example\r\n\r\n",
        );
        assert!(wrong_host.starts_with("HTTP/1.1 400"), "{wrong_host}");
        let client = std::thread::spawn(move || {
            raw(
                port,
                &format!("GET /callback?code=c%20d&state=<script> HTTP/1.1\r\n{host}\r\n"),
            )
        });
        let redirect = waiter.join().unwrap().unwrap();
        assert_eq!(redirect.params[0], ("code".to_string(), "c d".to_string()));
        redirect.reply(true);
        let page = client.join().unwrap();
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
        drop(cancel);
    }

    #[test]
    fn time_limit_and_cancel_end_the_wait() {
        let lb = Loopback::bind(0, "/callback").unwrap();
        let err = lb.wait(
            Instant::now() + Duration::from_millis(100),
            &AtomicBool::new(false),
        );
        assert_eq!(err.err().unwrap().code(), "timed_out");
        let lb = Loopback::bind(0, "/callback").unwrap();
        let err = lb.wait(
            Instant::now() + Duration::from_secs(10),
            &AtomicBool::new(true),
        );
        assert_eq!(err.err().unwrap().code(), "cancelled");
    }
}
