//! The test OpenID provider (`tests/idp/server.mjs`, oidc-provider) on a free loopback port.
//!
//! Clients: `desk-basic` (secret `desk-basic-secret`, HTTP Basic), `desk-post` (secret
//! `desk-post-secret`, form body), `desk-jwt` (client_secret_jwt), `desk-public` (no secret). All are native clients whose
//! loopback redirect `http://127.0.0.1:<any port>/callback` is accepted; all get refresh tokens.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};

use serde_json::Value;

pub struct Idp {
    pub issuer: String,
    child: Child,
    _stdin: ChildStdin,
    /// Over HTTPS: the CA the tests' own requests trust.
    ca: Option<std::path::PathBuf>,
}

pub struct Client {
    pub id: &'static str,
    pub secret: Option<&'static str>,
}

pub const BASIC: Client = Client {
    id: "desk-basic",
    secret: Some("desk-basic-secret"),
};
pub const POST: Client = Client {
    id: "desk-post",
    secret: Some("desk-post-secret"),
};
/// Authenticates with a JWT signed with an HMAC of its secret (client_secret_jwt).
pub const JWT: Client = Client {
    id: "desk-jwt",
    secret: Some("desk-jwt-secret-of-at-least-32-bytes"),
};
pub const PUBLIC: Client = Client {
    id: "desk-public",
    secret: None,
};

#[derive(Default)]
pub struct Options<'a> {
    /// Access-token lifetime in seconds (default 3600).
    pub access_ttl: Option<u64>,
    /// Keep refresh tokens instead of rotating them.
    pub keep_refresh_tokens: bool,
    /// Refuse authorization requests that were not pushed first (RFC 9126), and say so in
    /// the metadata.
    pub require_par: bool,
    /// Ask for a nonce in every DPoP proof (RFC 9449 §8).
    pub dpop_nonce: bool,
    /// Serve HTTPS with a certificate of this PKI, asking clients for theirs (RFC 8705).
    pub tls: Option<&'a crate::pki::Pki>,
    /// With `tls`: name mTLS aliases of the token, revocation, introspection and userinfo
    /// endpoints on https://localhost:PORT in the metadata (RFC 8705 §5).
    pub mtls_aliases: bool,
    /// Registering a client (RFC 7591) takes this initial access token.
    pub registration_token: Option<&'a str>,
    /// The OpenID configuration leaves out the revocation, introspection and device
    /// endpoints, which only the RFC 8414 metadata names.
    pub split_metadata: bool,
    /// The RFC 8414 metadata names another revocation endpoint than the OpenID configuration.
    pub disagreeing_metadata: bool,
    /// Token exchange answers name this `issued_token_type` (RFC 8693 §2.2.1).
    pub exchange_issued_type: Option<&'a str>,
}

impl Idp {
    pub fn start() -> Idp {
        Idp::start_with(Options::default())
    }

    pub fn start_with(opts: Options<'_>) -> Idp {
        let dir = crate::workspace_root().join("tests/idp");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "tests/idp has no node_modules: run `npm ci --prefix tests/idp` (`make test` does)"
        );
        let mut cmd = Command::new("node");
        cmd.arg("server.mjs")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(ttl) = opts.access_ttl {
            cmd.env("IDP_ACCESS_TTL", ttl.to_string());
        }
        if opts.keep_refresh_tokens {
            cmd.env("IDP_ROTATE_REFRESH", "0");
        }
        if opts.require_par {
            cmd.env("IDP_REQUIRE_PAR", "1");
        }
        if opts.dpop_nonce {
            cmd.env("IDP_DPOP_NONCE", "1");
        }
        if let Some(pki) = opts.tls {
            let server = pki.issue("127.0.0.1", 0, 4_000_000_000, true);
            cmd.env("IDP_TLS_CERT", pki.write("idp.pem", &server.cert))
                .env("IDP_TLS_KEY", pki.write("idp-key.pem", &server.key))
                .env("IDP_TLS_CLIENT_CA", pki.ca_path());
        }
        if opts.mtls_aliases {
            cmd.env("IDP_MTLS_ALIASES", "1");
        }
        if let Some(token) = opts.registration_token {
            cmd.env("IDP_REGISTRATION_TOKEN", token);
        }
        if opts.split_metadata {
            cmd.env("IDP_SPLIT_METADATA", "1");
        }
        if opts.disagreeing_metadata {
            cmd.env("IDP_METADATA_DISAGREE", "1");
        }
        if let Some(t) = opts.exchange_issued_type {
            cmd.env("IDP_EXCHANGE_ISSUED_TYPE", t);
        }
        let mut child = cmd.spawn().expect("node runs tests/idp/server.mjs");
        // The provider exits when this pipe closes, even if the test dies without dropping us.
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("the IdP prints its issuer");
        let v: Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("the IdP did not start (it printed {line:?}): {e}"));
        let issuer = v["issuer"]
            .as_str()
            .expect("issuer in the IdP's first line")
            .to_owned();
        Idp {
            issuer,
            child,
            _stdin: stdin,
            ca: opts.tls.map(|p| p.ca_path()),
        }
    }

    /// A client for the tests' own requests to the provider (trusting its CA over HTTPS).
    fn http(&self) -> reqwest::blocking::Client {
        let mut b = crate::http_builder();
        if let Some(ca) = &self.ca {
            let pem = std::fs::read(ca).unwrap();
            b = b.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
        }
        b.build().expect("an HTTP client")
    }

    /// Registers a client (RFC 7591) with `metadata` over this provider's native-client
    /// defaults; returns its client id.
    pub fn register(&self, metadata: Value) -> String {
        let mut body = serde_json::json!({
            "application_type": "native",
            "redirect_uris": ["http://127.0.0.1/callback"],
            "response_types": ["code"],
            "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
            "scope": "openid offline_access profile email api:read",
        });
        for (k, v) in metadata.as_object().expect("metadata is an object") {
            body[k] = v.clone();
        }
        let answer: Value = self
            .http()
            .post(self.endpoint("registration_endpoint"))
            .json(&body)
            .send()
            .and_then(|r| r.json())
            .expect("the IdP answers a registration");
        answer["client_id"]
            .as_str()
            .unwrap_or_else(|| panic!("the IdP registered the client: {answer}"))
            .to_owned()
    }

    /// The provider's discovery document.
    pub fn metadata(&self) -> Value {
        self.http()
            .get(format!("{}/.well-known/openid-configuration", self.issuer))
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .expect("the IdP serves its discovery document")
    }

    /// How many grants of `grant_type` the provider has issued so far.
    pub fn grants(&self, grant_type: &str) -> u64 {
        self.counted("grants", grant_type)
    }

    /// How many requests reached `path` (such as "/token", or "localhost/token" for those
    /// addressed to that host name) so far.
    pub fn requests(&self, path: &str) -> u64 {
        self.counted("requests", path)
    }

    /// One of the provider's counts (`GET /test/{what}`), 0 when it has none for `key`.
    /// What the test grant handlers received, oldest first: `exchanges` (RFC 8693: the
    /// subject's and actor's accounts, the token types, audience, resource, scope) or
    /// `assertions` (RFC 7523 §2.1: the client, subject and scope each assertion claimed).
    pub fn received(&self, what: &str) -> Vec<Value> {
        let v: Value = self
            .http()
            .get(format!("{}/test/{what}", self.issuer))
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("the IdP lists its {what}: {e}"));
        v.as_array().cloned().unwrap_or_default()
    }

    fn counted(&self, what: &str, key: &str) -> u64 {
        let v: Value = self
            .http()
            .get(format!("{}/test/{what}", self.issuer))
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("the IdP counts its {what}: {e}"));
        v[key].as_u64().unwrap_or(0)
    }

    /// Asks the provider whether `token` is active (RFC 7662), as `client`.
    pub fn introspect(&self, client: &Client, token: &str) -> bool {
        self.introspection(client, token)["active"]
            .as_bool()
            .expect("introspection says active or not")
    }

    /// The provider's RFC 7662 introspection of `token`, asked as `client`.
    pub fn introspection(&self, client: &Client, token: &str) -> Value {
        self.http()
            .post(self.endpoint("introspection_endpoint"))
            .basic_auth(client.id, client.secret)
            .form(&[("token", token)])
            .send()
            .and_then(|r| r.json())
            .expect("the IdP introspects")
    }

    /// The CPU time the provider's threads have used so far (their schedstat run times), for
    /// benchmarks that say how busy the provider was.
    pub fn cpu_time(&self) -> std::time::Duration {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.child.id()))
            .expect("the IdP's /proc/PID/task");
        let nanos = tasks
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
            .filter_map(|line| line.split_whitespace().next()?.parse::<u64>().ok())
            .sum();
        std::time::Duration::from_nanos(nanos)
    }

    pub fn endpoint(&self, name: &str) -> String {
        self.metadata()[name]
            .as_str()
            .unwrap_or_else(|| panic!("the IdP's metadata names {name}"))
            .to_owned()
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What `new_host` (a canned server an endpoint of the `BASIC` client moved to) received,
/// checked for what must not follow an endpoint there: the client's HTTP Basic credentials,
/// its secret in a form, the stored `tokens`; and that nothing at all went there.
pub fn assert_sent_nothing(new_host: &crate::canned::CannedServer, tokens: &[&str]) {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        BASIC.id,
        BASIC.secret.unwrap()
    ));
    for request in new_host.requests() {
        assert!(
            !request.contains(&basic),
            "the new host got the client secret (HTTP Basic): {request}"
        );
        assert!(
            !request.contains(BASIC.secret.unwrap()),
            "the new host got the client secret: {request}"
        );
        for t in tokens {
            assert!(
                !request.contains(t),
                "the new host got a stored token: {request}"
            );
        }
    }
    assert_eq!(
        new_host.requests(),
        Vec::<String>::new(),
        "nothing at all goes to the new host"
    );
}

/// A Google service-account key file (the JSON the Cloud console downloads) in `dir`, with a
/// fresh RSA key, `client_email` and this provider's token endpoint: what `provider add
/// --service-account-key` and the form read.
pub fn service_account_key_file(dir: &std::path::Path, idp: &Idp, client_email: &str) -> PathBuf {
    let pem = dir.join("key.pem");
    let made = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&pem)
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(made.success(), "openssl made an RSA key");
    let key_file = dir.join("service-account.json");
    std::fs::write(
        &key_file,
        serde_json::json!({
            "type": "service_account",
            "project_id": "test",
            "private_key_id": "k1",
            "private_key": std::fs::read_to_string(&pem).unwrap(),
            "client_email": client_email,
            "token_uri": format!("{}/token", idp.issuer),
        })
        .to_string(),
    )
    .unwrap();
    key_file
}
