//! A tiny HTTP server on 127.0.0.1 that answers fixed responses by path: the hostile provider
//! that a real one cannot be made to be (HTML metadata, huge or deeply nested documents,
//! another issuer, redirects). Tests that use it say so.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Clone)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub pace: Pace,
    /// "{n}" in the body and the headers becomes the number of requests the server has
    /// received, so that each answer differs (a token endpoint that rotates its tokens, a
    /// server that asks for a new DPoP nonce each time).
    pub numbered: bool,
}

/// How the answer is sent.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    AtOnce,
    /// Headers, then one byte of body a second.
    Trickle,
    /// Nothing at all, for two minutes.
    Hang,
    /// Nothing until the test calls `CannedServer::release` (at most two minutes): a request
    /// the provider has received but not yet answered, for as long as a test needs.
    Held,
}

impl Canned {
    pub fn json(body: impl Into<Vec<u8>>) -> Canned {
        Canned::with_type("application/json", body)
    }
    pub fn with_type(content_type: &str, body: impl Into<Vec<u8>>) -> Canned {
        Canned {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            pace: Pace::AtOnce,
            numbered: false,
        }
    }
    pub fn with_header(mut self, name: &str, value: &str) -> Canned {
        self.headers.push((name.into(), value.into()));
        self
    }
    pub fn with_status(mut self, status: u16) -> Canned {
        self.status = status;
        self
    }
    pub fn paced(mut self, pace: Pace) -> Canned {
        self.pace = pace;
        self
    }
    pub fn numbered(mut self) -> Canned {
        self.numbered = true;
        self
    }
    pub fn redirect(to: &str) -> Canned {
        Canned {
            status: 302,
            headers: vec![("Location".into(), to.into())],
            body: Vec::new(),
            pace: Pace::AtOnce,
            numbered: false,
        }
    }
}

/// Requests received: path, body, and the request line with its headers.
type Received = std::sync::Mutex<Vec<(String, Vec<u8>, String)>>;

type Routes = std::sync::Mutex<Vec<(String, Canned)>>;

pub struct CannedServer {
    pub base: String,
    stop: Arc<AtomicBool>,
    received: Arc<Received>,
    routes: Arc<Routes>,
    released: Arc<AtomicBool>,
}

impl CannedServer {
    /// Serves `routes` (exact path -> response); anything else is a 404.
    pub fn start(routes: Vec<(String, Canned)>) -> CannedServer {
        Self::start_on(0, routes)
    }

    /// On a given port (0 for any), for answers that must name the server's own address.
    pub fn start_on(port: u16, routes: Vec<(String, Canned)>) -> CannedServer {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let received = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = received.clone();
        let routes = Arc::new(std::sync::Mutex::new(routes));
        let table = routes.clone();
        let released = Arc::new(AtomicBool::new(false));
        let gate = released.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let routes = table.clone();
                let log = log.clone();
                let gate = gate.clone();
                // A connection each: a hanging answer must not hold up the next request.
                std::thread::spawn(move || serve(conn, &routes, &log, &gate));
            }
        });
        CannedServer {
            base,
            stop,
            received,
            routes,
            released,
        }
    }

    /// Lets every `Pace::Held` answer go, those waiting and those to come.
    pub fn release(&self) {
        self.released.store(true, Ordering::SeqCst);
    }

    /// Answers `path` with `answer` from now on: for answers that depend on the request before
    /// (an ID token carrying the nonce of the authorization URL).
    pub fn set(&self, path: &str, answer: Canned) {
        let mut routes = self.routes.lock().unwrap();
        routes.retain(|(p, _)| p != path);
        routes.push((path.to_owned(), answer));
    }

    /// The bodies of the requests received at `path`, so far.
    pub fn received(&self, path: &str) -> Vec<Vec<u8>> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _, _)| p == path)
            .map(|(_, b, _)| b.clone())
            .collect()
    }

    /// Every request received so far, at any path, as text: the request line, the headers and
    /// the body. For "this host was sent nothing" (no Authorization header, no token).
    pub fn requests(&self) -> Vec<String> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|(_, body, head)| format!("{head}\r\n{}", String::from_utf8_lossy(body)))
            .collect()
    }
}

fn serve(mut conn: std::net::TcpStream, routes: &Routes, log: &Received, released: &AtomicBool) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut request_line = String::new();
    let _ = reader.read_line(&mut request_line);
    if request_line.trim().is_empty() {
        // A client killed between connecting and sending: no request, so neither logged nor
        // numbered (the numbers count the requests `received` lists).
        return;
    }
    let mut length = 0usize;
    let mut request_head = request_line.clone();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        request_head.push_str(&line);
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length.min(1 << 20)];
    let _ = std::io::Read::read_exact(&mut reader, &mut body);
    let target = request_line.split(' ').nth(1).unwrap_or("");
    let path = target.split('?').next().unwrap_or("").to_owned();
    let n = {
        let mut log = log.lock().unwrap();
        log.push((path.clone(), body, request_head));
        log.len()
    };
    let resp = routes
        .lock()
        .unwrap()
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, c)| c.clone())
        .unwrap_or(Canned {
            status: 404,
            headers: vec![],
            body: b"not found".to_vec(),
            pace: Pace::AtOnce,
            numbered: false,
        });
    let mut resp = resp;
    if resp.numbered {
        resp.body = String::from_utf8_lossy(&resp.body)
            .replace("{n}", &n.to_string())
            .into_bytes();
        for (_, v) in &mut resp.headers {
            *v = v.replace("{n}", &n.to_string());
        }
    }
    if resp.pace == Pace::Hang {
        std::thread::sleep(std::time::Duration::from_secs(120));
        return;
    }
    if resp.pace == Pace::Held {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while !released.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        resp.status,
        resp.body.len()
    );
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = conn.write_all(head.as_bytes());
    if resp.pace == Pace::Trickle {
        for b in &resp.body {
            if conn.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    } else {
        let _ = conn.write_all(&resp.body);
    }
}

impl Drop for CannedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect(self.base.trim_start_matches("http://"));
    }
}
