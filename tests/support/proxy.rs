//! A small HTTP proxy on loopback that the tests point OAuth Desk at. It answers CONNECT for
//! any host, terminates TLS itself with a certificate made for the test (the client trusts it
//! through SSL_CERT_FILE), and forwards each request inside to the test provider over plain
//! HTTP: so a provider reached as `https://idp.test` is really tests/idp, and every call that
//! went through the proxy is in its log. It can also refuse, hang or answer garbage.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone)]
pub enum Behaviour {
    /// Tunnel to the provider at `upstream`; with `credentials`, demand them (407 otherwise).
    Forward {
        upstream: SocketAddr,
        credentials: Option<(String, String)>,
    },
    /// Answer CONNECT with 403.
    Forbid,
    /// Accept and never answer.
    Hang,
    /// Answer with bytes that are not HTTP.
    Garbage,
}

pub struct TestProxy {
    pub port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

/// A certificate for `idp.test` and the file a client trusts it through.
pub struct TestCert {
    pub cert_file: PathBuf,
    identity: native_tls::Identity,
}

impl TestCert {
    /// A certificate authority made for the run (the file a client trusts) and a server
    /// certificate for `idp.test` it signs: the shape of a real site's, which strict verifiers
    /// (webpki refuses a CA certificate used as a server's) accept.
    pub fn make(dir: &Path) -> TestCert {
        let cert_file = dir.join("idp-test-ca.pem");
        let ca_key = dir.join("idp-test-ca-key.pem");
        let request = dir.join("idp-test.csr");
        let extensions = dir.join("idp-test.ext");
        let server_cert = dir.join("idp-test-cert.pem");
        let key_file = dir.join("idp-test-key.pem");
        std::fs::write(
            &extensions,
            "basicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\n\
             subjectAltName=DNS:idp.test\n",
        )
        .unwrap();
        // `args` split at spaces, then each file option with its path.
        let openssl = |args: &str, files: &[(&str, &Path)]| {
            let mut cmd = Command::new("openssl");
            cmd.args(args.split(' '));
            for (option, path) in files {
                cmd.arg(option).arg(path);
            }
            let out = cmd
                .output()
                .expect("openssl runs (apt package openssl; `make test` installs it)");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        openssl(
            "req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=oauth-desk-test-ca",
            &[("-keyout", &ca_key), ("-out", &cert_file)],
        );
        openssl(
            "req -new -newkey rsa:2048 -nodes -subj /CN=idp.test",
            &[("-keyout", &key_file), ("-out", &request)],
        );
        openssl(
            "x509 -req -days 2 -set_serial 2",
            &[
                ("-in", &request),
                ("-CA", &cert_file),
                ("-CAkey", &ca_key),
                ("-extfile", &extensions),
                ("-out", &server_cert),
            ],
        );
        let identity = native_tls::Identity::from_pkcs8(
            &std::fs::read(&server_cert).unwrap(),
            &std::fs::read(&key_file).unwrap(),
        )
        .expect("the test certificate loads");
        TestCert {
            cert_file,
            identity,
        }
    }
}

impl TestProxy {
    pub fn start(behaviour: Behaviour, cert: Option<&TestCert>) -> TestProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let acceptor =
            cert.map(|c| Arc::new(native_tls::TlsAcceptor::new(c.identity.clone()).unwrap()));
        let shared = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, behaviour, acceptor) =
                    (shared.clone(), behaviour.clone(), acceptor.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &behaviour, acceptor.as_deref(), &log);
                });
            }
        });
        TestProxy { port, log }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What passed through: `CONNECT host:port [auth]` and the requests inside.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn read_head(r: &mut impl BufRead) -> std::io::Result<Vec<String>> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            return Ok(lines);
        }
        lines.push(line);
    }
}

fn header<'a>(head: &'a [String], name: &str) -> Option<&'a str> {
    head.iter().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn serve(
    stream: TcpStream,
    behaviour: &Behaviour,
    acceptor: Option<&native_tls::TlsAcceptor>,
    log: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut stream = stream;
    let head = read_head(&mut reader)?;
    let auth = header(&head, "Proxy-Authorization").map(str::to_owned);
    log.lock().unwrap().push(format!(
        "{}{}",
        head[0].trim_end_matches(" HTTP/1.1"),
        if auth.is_some() { " [auth]" } else { "" }
    ));
    let (upstream, credentials) = match behaviour {
        Behaviour::Forbid => {
            return stream.write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
        }
        Behaviour::Hang => {
            std::thread::sleep(Duration::from_secs(120));
            return Ok(());
        }
        Behaviour::Garbage => {
            return stream.write_all(b"\x16\x03\x01 this is not HTTP at all\r\n\r\n")
        }
        Behaviour::Forward {
            upstream,
            credentials,
        } => (upstream, credentials),
    };
    if let Some((user, pass)) = credentials {
        use base64::Engine;
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        );
        if auth.as_deref() != Some(expected.as_str()) {
            return stream.write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm=\"test\"\r\ncontent-length: 0\r\n\r\n",
            );
        }
    }
    if !head[0].starts_with("CONNECT ") {
        return stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
    }
    stream.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    let acceptor = acceptor.expect("a forwarding proxy has a certificate");
    let tls = acceptor
        .accept(stream)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut tls = BufReader::new(tls);
    // One request per tunnel: the answer is sent with `connection: close`.
    let inner = read_head(&mut tls)?;
    log.lock()
        .unwrap()
        .push(format!("  {}", inner[0].trim_end_matches(" HTTP/1.1")));
    let len: usize = header(&inner, "Content-Length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    tls.read_exact(&mut body)?;
    let mut up = TcpStream::connect(upstream)?;
    let mut request = format!("{}\r\n", inner[0]);
    for h in inner.iter().skip(1) {
        let name = h
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if name != "connection" && name != "host" {
            request.push_str(h);
            request.push_str("\r\n");
        }
    }
    request.push_str(&format!("host: {upstream}\r\nconnection: close\r\n\r\n"));
    up.write_all(request.as_bytes())?;
    up.write_all(&body)?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    let tls = tls.get_mut();
    tls.write_all(&answer)?;
    tls.flush()?;
    let _ = tls.shutdown();
    Ok(())
}
