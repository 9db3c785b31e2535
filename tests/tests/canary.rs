//! Canary secrets (issue 7): distinctive fake secrets (a client secret, access, refresh and ID
//! tokens, two passphrases, a backup passphrase, a proxy password, the API key) go through every
//! flow: provider, sign-in with an ID token, token get, refresh, client credentials, settings,
//! passphrase change, backup, the REST API, export, revocation and the window. Then every file
//! of the session (the vault and its WAL while in use, the backup, configuration), the log of
//! every command run with tracing at its most verbose, every standard output and error, the
//! API's responses and the window's DOM are searched. Only what the user asked to see may
//! carry a secret: `token get`'s output, `api key`'s output, the API's token answer.
//!
//! The provider is a canned server: the real test provider issues its own tokens, so its
//! tokens could not be canaries.

use std::collections::BTreeMap;
use std::process::Output;

use oauth_desk_tests::canned::{Canned, CannedServer};
use oauth_desk_tests::cli::{run, stdout, Running};
use oauth_desk_tests::desktop::App;
use oauth_desk_tests::session::Session;
use oauth_desk_tests::user;
use serde_json::json;
use url::Url;

const CLIENT_SECRET: &str = "canary-client-secret-7f3a";
const ACCESS_1: &str = "canary-access-one-9d2e";
const REFRESH_1: &str = "canary-refresh-one-4b1c";
const ACCESS_2: &str = "canary-access-two-8c3d";
const REFRESH_2: &str = "canary-refresh-two-2a9f";
const ACCESS_CC: &str = "canary-access-cc-6e1b";
const PASSPHRASE_1: &str = "canary-passphrase-one-1a2b";
const PASSPHRASE_2: &str = "canary-passphrase-two-3c4d";
const BACKUP_PASSPHRASE: &str = "canary-backup-pass-5d6e";
const PROXY_PASSWORD: &str = "canary-proxy-pass-7e8f";
const CLIENT: &str = "canary-client";

/// Tracing at its most verbose in every process: whatever is logged is searched.
const LOG: (&str, &str) = ("OAUTH_DESK_LOG", "trace");

fn id_token(issuer: &str, nonce: &str) -> String {
    let now = oauth_desk_tests::jwt::now();
    let claims = json!({
        "iss": issuer, "sub": "alice", "aud": CLIENT, "email": "alice@example.test",
        "iat": now, "exp": now + 600, "nonce": nonce,
    });
    oauth_desk_tests::jwt::sign(&claims, "HS256", CLIENT_SECRET)
}

fn token(access: &str, refresh: Option<&str>, id: Option<&str>) -> Canned {
    let mut body = json!({ "access_token": access, "token_type": "Bearer", "expires_in": 3600 });
    if let Some(r) = refresh {
        body["refresh_token"] = json!(r);
    }
    if let Some(i) = id {
        body["id_token"] = json!(i);
        body["scope"] = json!("openid");
    }
    Canned::json(body.to_string())
}

/// A client's EC private key, as the PEM the user imports and as its private JWK member `d`.
struct ClientKey {
    pem: String,
    /// A line of the PEM's Base64 body.
    pem_body: String,
    d: String,
}

impl ClientKey {
    fn new() -> ClientKey {
        let group =
            openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
        let ec = openssl::ec::EcKey::generate(&group).unwrap();
        let pem = openssl::pkey::PKey::from_ec_key(ec)
            .unwrap()
            .private_key_to_pem_pkcs8()
            .unwrap();
        ClientKey::of(&String::from_utf8(pem).unwrap())
    }

    /// The canaries of an EC key given as PEM.
    fn of(pem: &str) -> ClientKey {
        use base64::Engine;
        let ec = openssl::pkey::PKey::private_key_from_pem(pem.as_bytes())
            .unwrap()
            .ec_key()
            .unwrap();
        let d = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(ec.private_key().to_vec_padded(32).unwrap());
        let pem_body = pem.lines().nth(1).unwrap().to_owned();
        ClientKey {
            pem: pem.to_owned(),
            pem_body,
            d,
        }
    }
}

/// Everything seen, by where it was seen, and the secrets each place may show.
#[derive(Default)]
struct Seen {
    places: Vec<(String, Vec<u8>, Vec<String>)>,
}

impl Seen {
    fn add(&mut self, place: impl Into<String>, bytes: impl Into<Vec<u8>>, allowed: &[&str]) {
        self.places.push((
            place.into(),
            bytes.into(),
            allowed.iter().map(|s| s.to_string()).collect(),
        ));
    }
    fn output(&mut self, what: &str, out: &Output, allowed: &[&str]) {
        self.add(format!("{what}: stdout"), out.stdout.clone(), allowed);
        self.add(format!("{what}: stderr"), out.stderr.clone(), &[]);
    }
}

struct Desk {
    s: Session,
    passphrase: &'static str,
}

impl Desk {
    fn run(&self, seen: &mut Seen, args: &[&str], stdin: &str, allowed: &[&str]) -> Output {
        let out = run(
            &self.s,
            args,
            &[("OAUTH_DESK_PASSPHRASE", self.passphrase), LOG],
            stdin,
        );
        seen.output(&format!("oauth-desk {}", args.join(" ")), &out, allowed);
        assert!(
            out.status.success(),
            "oauth-desk {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

/// Every file under `dir`, by path.
fn files(dir: &std::path::Path, into: &mut BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let ft = entry.file_type().unwrap();
        if ft.is_dir() {
            files(&path, into);
        } else if ft.is_file() {
            if let Ok(bytes) = std::fs::read(&path) {
                into.insert(path.display().to_string(), bytes);
            }
        }
    }
}

/// The window's part: unlock with the passphrase, visit every view, keep each DOM and the log.
async fn window(s: &Session, passphrase: &str, seen: &mut Seen) {
    let app = App::launch(s, &[("OAUTH_DESK_LOG", "trace")]).await;
    app.enter_passphrase(passphrase).await;
    for view in ["Providers", "Tokens", "Settings"] {
        app.button(view).await.click().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        seen.add(
            format!("the window's DOM ({view})"),
            app.page_source().await,
            &[],
        );
    }
    let log = app.log_path();
    app.close().await;
    seen.add(
        "the window's log (app and driver output)",
        std::fs::read(&log).unwrap(),
        &[],
    );
}

// A plain test: the blocking HTTP clients (the API's, the browser's) cannot live inside an
// async runtime, so only the window's part runs in one.
#[test]
fn canary_secrets_appear_nowhere_but_where_the_user_asked() {
    let client_key = ClientKey::new();
    let pki = oauth_desk_tests::pki::Pki::new();
    let cert_issued = pki.client("canary-client");
    let cert_key = ClientKey::of(&cert_issued.key);
    let server = CannedServer::start(vec![("/revoke".into(), Canned::json("{}"))]);
    let s = Session::without_keyring();
    let mut d = Desk {
        s,
        passphrase: PASSPHRASE_1,
    };
    let mut seen = Seen::default();
    let b = server.base.clone();
    let (auth, tok, rev) = (
        format!("{b}/auth"),
        format!("{b}/token"),
        format!("{b}/revoke"),
    );

    // A confidential client with an ID token (HS256 over the client secret).
    d.run(
        &mut seen,
        &[
            "provider",
            "add",
            "Canned",
            "--issuer",
            &b,
            "--no-discovery",
            "--auth-url",
            &auth,
            "--token-url",
            &tok,
            "--revoke-url",
            &rev,
            "--client-id",
            CLIENT,
            "--client-secret-stdin",
            "--client-auth",
            "post",
            "--scope",
            "openid",
        ],
        &format!("{CLIENT_SECRET}\n"),
        &[],
    );
    let mut login = Running::start(
        &d.s,
        &["login", "Canned", "--no-browser", "--json"],
        &[("OAUTH_DESK_PASSPHRASE", PASSPHRASE_1), LOG],
    );
    let url = Url::parse(&login.line()).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    let id = id_token(&b, &q["nonce"]);
    server.set("/token", token(ACCESS_1, Some(REFRESH_1), Some(&id)));
    let mut redirect = Url::parse(&q["redirect_uri"]).unwrap();
    redirect
        .query_pairs_mut()
        .append_pair("code", "canary-code-0c0d")
        .append_pair("state", &q["state"])
        .append_pair("iss", &b);
    let (status, page) = user::deliver(&redirect).unwrap();
    seen.add("the loopback page the browser shows", page, &[]);
    assert_eq!(status, 200);
    let out = login.finish();
    seen.output("oauth-desk login", &out, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    for args in [
        &["provider", "list", "--json"][..],
        &["provider", "show", "Canned", "--json"],
        &["provider", "show", "Canned"],
        &["token", "list", "--json"],
        &["token", "list"],
        &["vault", "status", "--json"],
        &["settings", "get", "--json"],
        &["provider", "export"],
    ] {
        d.run(&mut seen, args, "", &[]);
    }
    // Asked for: the access token alone.
    let got = d.run(&mut seen, &["token", "get", "Canned"], "", &[ACCESS_1]);
    assert_eq!(stdout(&got).trim(), ACCESS_1);

    server.set("/token", token(ACCESS_2, Some(REFRESH_2), None));
    d.run(
        &mut seen,
        &[
            "token",
            "refresh",
            "Canned",
            "--account",
            "alice@example.test",
        ],
        "",
        &[],
    );
    server.set("/token", token(ACCESS_CC, None, None));
    d.run(
        &mut seen,
        &["login", "Canned", "--client-credentials", "--json"],
        "",
        &[],
    );
    // A private_key_jwt client with a key of the user's own (PEM on stdin), which signs an
    // assertion for client credentials; a tls_client_auth client whose certificate file holds
    // its key (the provider here is plain HTTP, so no handshake uses it). Both keys stay in
    // the vault.
    let cert_file = pki.write("canary-client.pem", &cert_issued.bundle());
    let cert_path = cert_file.to_str().unwrap();
    let keyed: [(&str, &[&str], &str); 2] = [
        (
            "Keyed",
            &["--client-auth", "private_key_jwt", "--client-key-stdin"],
            &client_key.pem,
        ),
        (
            "Certified",
            &[
                "--client-auth",
                "tls_client_auth",
                "--client-cert",
                cert_path,
            ],
            "",
        ),
    ];
    for (name, how, stdin) in keyed {
        let mut add = vec![
            "provider",
            "add",
            name,
            "--issuer",
            &b,
            "--no-discovery",
            "--token-url",
            &tok,
            "--client-id",
            CLIENT,
        ];
        add.extend(how);
        d.run(&mut seen, &add, stdin, &[]);
        for args in [
            &["login", name, "--client-credentials", "--json"][..],
            &["provider", "show", name, "--json"],
            &["provider", "show", name],
            &["provider", "jwks", name],
            &["provider", "export"],
        ] {
            d.run(&mut seen, args, "", &[]);
        }
    }
    std::fs::remove_file(&cert_file).unwrap();
    let sent = server.received("/token");
    assert!(
        sent.iter()
            .any(|r| String::from_utf8_lossy(r).contains("client_assertion=")),
        "the key signed an assertion"
    );
    d.run(
        &mut seen,
        &["settings", "set", "proxy-password"],
        &format!("{PROXY_PASSWORD}\n"),
        &[],
    );
    d.run(
        &mut seen,
        &["vault", "passphrase"],
        &format!("{PASSPHRASE_2}\n"),
        &[],
    );
    d.passphrase = PASSPHRASE_2;
    let backup = d.s.home().join("canary-backup.odb");
    d.run(
        &mut seen,
        &["vault", "backup", backup.to_str().unwrap()],
        &format!("{BACKUP_PASSPHRASE}\n"),
        &[],
    );

    // The REST API, with the vault's WAL read while the server has the vault open.
    let key = stdout(&d.run(&mut seen, &["api", "key"], "", &["<the API key>"]))
        .trim()
        .to_owned();
    let mut serve = Running::start(
        &d.s,
        &["serve", "--port", "0"],
        &[("OAUTH_DESK_PASSPHRASE", PASSPHRASE_2), LOG],
    );
    let base = serve.line().trim_start_matches("listening on ").to_owned();
    let http = oauth_desk_tests::http();
    let api = |method: reqwest::Method, path: &str| {
        let r = http
            .request(method, format!("{base}/api/v1/oauth2{path}"))
            .bearer_auth(&key)
            .send()
            .unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    let mut answers = Vec::new();
    for path in ["/app", "/app/Canned"] {
        answers.push((path, api(reqwest::Method::GET, path), vec![]));
    }
    answers.push((
        "/user/Canned/alice@example.test",
        api(reqwest::Method::GET, "/user/Canned/alice@example.test"),
        vec![ACCESS_2],
    ));
    let wal = std::fs::read(format!("{}-wal", d.s.default_vault().display())).unwrap_or_default();
    seen.add("the vault's WAL while the API has it open", wal, &[]);
    drop(serve);
    for (path, (status, body), allowed) in answers {
        assert_eq!(status, 200, "GET {path}: {body}");
        let allowed: Vec<&str> = allowed.to_vec();
        seen.add(format!("API GET {path}"), body, &allowed);
    }

    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(window(&d.s, PASSPHRASE_2, &mut seen));

    d.run(
        &mut seen,
        &[
            "token",
            "revoke",
            "Canned",
            "--account",
            "alice@example.test",
        ],
        "",
        &[],
    );
    assert!(
        !server.received("/revoke").is_empty(),
        "the revocation reached the provider"
    );

    let mut all = BTreeMap::new();
    files(d.s.home(), &mut all);
    assert!(
        all.keys().any(|p| p.ends_with("vault.db")),
        "the vault is searched"
    );
    for (path, bytes) in all {
        seen.add(format!("file {path}"), bytes, &[]);
    }

    let canaries = [
        ("client secret", CLIENT_SECRET.to_owned()),
        ("access token 1", ACCESS_1.to_owned()),
        ("refresh token 1", REFRESH_1.to_owned()),
        ("access token 2", ACCESS_2.to_owned()),
        ("refresh token 2", REFRESH_2.to_owned()),
        ("client-credentials token", ACCESS_CC.to_owned()),
        ("ID token", id.clone()),
        (
            "ID token signature",
            id.rsplit('.').next().unwrap().to_owned(),
        ),
        ("first passphrase", PASSPHRASE_1.to_owned()),
        ("second passphrase", PASSPHRASE_2.to_owned()),
        ("backup passphrase", BACKUP_PASSPHRASE.to_owned()),
        ("proxy password", PROXY_PASSWORD.to_owned()),
        ("authorization code", "canary-code-0c0d".to_owned()),
        ("API key", key.clone()),
        ("client key (PEM)", client_key.pem_body.clone()),
        ("client key (JWK d)", client_key.d.clone()),
        ("certificate key (PEM)", cert_key.pem_body.clone()),
        ("certificate key (JWK d)", cert_key.d.clone()),
    ];
    // The search finds what it looks for: where the user asked, the secrets are there.
    let found_where_asked = seen
        .places
        .iter()
        .filter(|(_, bytes, allowed)| {
            let text = String::from_utf8_lossy(bytes);
            allowed.iter().any(|a| text.contains(a.as_str()))
                || (allowed.iter().any(|a| a == "<the API key>") && text.contains(&key))
        })
        .count();
    assert_eq!(
        found_where_asked, 3,
        "token get, api key and the API's token answer"
    );
    // And the logs were on: every provider request is a trace line.
    assert!(
        seen.places.iter().any(|(p, b, _)| p.ends_with("stderr")
            && String::from_utf8_lossy(b).contains("provider request")),
        "the commands logged their requests"
    );
    let mut hits = Vec::new();
    for (place, bytes, allowed) in &seen.places {
        let text = String::from_utf8_lossy(bytes);
        for (name, canary) in &canaries {
            let asked = allowed.iter().any(|a| a == canary)
                || (allowed.iter().any(|a| a == "<the API key>") && canary == &key);
            if !asked && text.contains(canary.as_str()) {
                hits.push(format!("{name} in {place}"));
            }
        }
    }
    eprintln!(
        "{} places searched for {} canaries",
        seen.places.len(),
        canaries.len()
    );
    assert!(
        hits.is_empty(),
        "secrets found where nobody asked:\n{}",
        hits.join("\n")
    );
}
