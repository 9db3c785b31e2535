//! The stand-in servers (`tests/support/*.py`) that real clients (kubectl, docker, git) are
//! driven against: each lets in only a token the test provider's introspection calls active
//! (`token_gate.py`), so a client gets through only with what OAuth Desk handed it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::idp::{self, Idp};

/// A running stand-in; it stops when dropped (its standard input closes).
pub struct StandIn {
    /// `https://127.0.0.1:PORT` (or http, without TLS).
    pub url: String,
    /// Its self-signed certificate (PEM), the CA to trust it with; None without TLS.
    pub ca: Option<PathBuf>,
    child: Child,
    _dir: tempfile::TempDir,
}

impl StandIn {
    /// Starts `tests/support/SCRIPT INTROSPECTION CLIENT_ID CLIENT_SECRET [CERT KEY] EXTRA...`
    /// with the provider's introspection endpoint and its BASIC client; over TLS with a fresh
    /// self-signed certificate for 127.0.0.1 when `tls`.
    pub fn start(script: &str, idp: &Idp, tls: bool, extra: &[&Path]) -> StandIn {
        let dir = tempfile::tempdir().unwrap();
        let introspection = idp.metadata()["introspection_endpoint"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut cmd = Command::new("python3");
        cmd.arg(crate::workspace_root().join("tests/support").join(script))
            .args([&introspection, idp::BASIC.id, idp::BASIC.secret.unwrap()]);
        let ca = tls.then(|| {
            let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
            self_signed(&cert, &key);
            cmd.arg(&cert).arg(&key);
            cert
        });
        let mut child = cmd
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut port = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut port)
            .unwrap();
        assert!(
            port.trim().parse::<u16>().is_ok(),
            "{script} started and printed its port, not {port:?}"
        );
        let scheme = if tls { "https" } else { "http" };
        StandIn {
            url: format!("{scheme}://127.0.0.1:{}", port.trim()),
            ca,
            child,
            _dir: dir,
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> &str {
        self.url.split_once("://").unwrap().1
    }

    /// The tokens it let in, oldest first (GET /test/seen, asked with curl: the tests' HTTP
    /// client has no TLS of its own).
    pub fn seen(&self) -> Vec<String> {
        let out = Command::new("curl")
            .args(["-sSk", "--max-time", "10"])
            .arg(format!("{}/test/seen", self.url))
            .output()
            .expect("curl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        seen["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn self_signed(cert: &Path, key: &Path) {
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(key)
        .arg("-out")
        .arg(cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs (`make test` installs it)");
    assert!(made.success());
}
