//! Provider calls through an HTTP proxy: one set in Settings (with credentials kept in the
//! vault), or HTTPS_PROXY / NO_PROXY from the environment; loopback never proxied; and a proxy
//! that refuses, hangs or answers garbage gives a clear error that names it and stores nothing.
//!
//! The provider is tests/idp reached as `https://idp.test`: the test proxy terminates TLS with
//! a certificate made for the run (trusted through SSL_CERT_FILE) and forwards to tests/idp,
//! so a call can only succeed by going through the proxy.

use oauth_desk_tests::cli::{run, stderr, stdout};
use oauth_desk_tests::idp::{self, Idp};
use oauth_desk_tests::proxy::{Behaviour, TestCert, TestProxy};
use oauth_desk_tests::session::Session;

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "a test passphrase");

fn path_of(url: &str) -> String {
    url::Url::parse(url).unwrap().path().to_owned()
}

fn upstream(idp: &Idp) -> std::net::SocketAddr {
    let u = url::Url::parse(&idp.issuer).unwrap();
    format!("127.0.0.1:{}", u.port().unwrap()).parse().unwrap()
}

/// A provider whose endpoints are on `https://idp.test` (which only the test proxy can reach).
fn add_remote_provider(s: &Session, idp: &Idp) {
    let token = format!(
        "https://idp.test{}",
        path_of(&idp.endpoint("token_endpoint"))
    );
    let revoke = format!(
        "https://idp.test{}",
        path_of(&idp.endpoint("revocation_endpoint"))
    );
    let out = run(
        s,
        &[
            "provider",
            "add",
            "corp",
            "--client-id",
            idp::BASIC.id,
            "--client-secret-stdin",
            "--auth-url",
            "https://idp.test/auth",
            "--token-url",
            &token,
            "--revoke-url",
            &revoke,
        ],
        &[PASS],
        &format!("{}\n", idp::BASIC.secret.unwrap()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

fn login(s: &Session, env: &[(&str, &str)]) -> std::process::Output {
    let mut all = vec![PASS];
    all.extend_from_slice(env);
    run(
        s,
        &[
            "login",
            "corp",
            "--client-credentials",
            "--scope",
            "api:read",
        ],
        &all,
        "",
    )
}

fn set(s: &Session, name: &str, value: &str) {
    let out = run(s, &["settings", "set", name, value], &[PASS], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

fn tokens(s: &Session) -> String {
    stdout(&run(s, &["token", "list", "--json"], &[PASS], ""))
}

/// The provider, a session with `corp` registered on https://idp.test, the certificate the
/// proxy presents, and a proxy forwarding to the provider (asking for `credentials`).
fn setup(credentials: Option<(&str, &str)>) -> (Idp, Session, TestCert, TestProxy) {
    let idp = Idp::start();
    let s = Session::without_keyring();
    let cert = TestCert::make(s.home());
    let proxy = TestProxy::start(
        Behaviour::Forward {
            upstream: upstream(&idp),
            credentials: credentials.map(|(u, p)| (u.to_owned(), p.to_owned())),
        },
        Some(&cert),
    );
    add_remote_provider(&s, &idp);
    (idp, s, cert, proxy)
}

#[test]
fn provider_calls_go_through_the_proxy_from_settings_or_the_environment_but_never_loopback() {
    let (idp, s, cert, proxy) = setup(None);
    let trust = ("SSL_CERT_FILE", cert.cert_file.to_str().unwrap());

    // Without a proxy idp.test does not even resolve.
    set(&s, "proxy", "off");
    let direct = login(&s, &[trust, ("HTTPS_PROXY", &proxy.url())]);
    assert_eq!(
        direct.status.code(),
        Some(1),
        "proxy off means off, whatever the environment says"
    );
    assert!(proxy.log().is_empty());

    // The proxy from Settings.
    set(&s, "proxy", &proxy.url());
    let out = login(&s, &[trust]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let token_path = path_of(&idp.endpoint("token_endpoint"));
    assert_eq!(
        proxy.log(),
        vec![
            "CONNECT idp.test:443".to_string(),
            format!("  POST {token_path}")
        ],
        "the token request went through the proxy"
    );
    let out = run(&s, &["token", "revoke", "corp"], &[PASS, trust], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let revoke_path = path_of(&idp.endpoint("revocation_endpoint"));
    assert!(
        proxy.log().contains(&format!("  POST {revoke_path}")),
        "{:?}",
        proxy.log()
    );

    // The environment's proxy, by default.
    set(&s, "proxy", "environment");
    let before = proxy.log().len();
    let out = login(&s, &[trust, ("HTTPS_PROXY", &proxy.url())]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(proxy.log().len(), before + 2, "{:?}", proxy.log());
    let bypassed = login(
        &s,
        &[
            trust,
            ("HTTPS_PROXY", &proxy.url()),
            ("NO_PROXY", "idp.test"),
        ],
    );
    assert_eq!(
        bypassed.status.code(),
        Some(1),
        "NO_PROXY sends idp.test direct, where it does not resolve"
    );
    assert_eq!(proxy.log().len(), before + 2);

    // A provider on loopback is reached directly even with a proxy set.
    set(&s, "proxy", &proxy.url());
    let out = run(
        &s,
        &[
            "provider",
            "add",
            "local",
            "--client-id",
            idp::BASIC.id,
            "--client-secret-stdin",
            "--auth-url",
            &idp.endpoint("authorization_endpoint"),
            "--token-url",
            &idp.endpoint("token_endpoint"),
        ],
        &[PASS],
        &format!("{}\n", idp::BASIC.secret.unwrap()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let before = proxy.log().len();
    let out = run(
        &s,
        &[
            "login",
            "local",
            "--client-credentials",
            "--scope",
            "api:read",
        ],
        &[
            PASS,
            ("HTTPS_PROXY", &proxy.url()),
            ("HTTP_PROXY", &proxy.url()),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        proxy.log().len(),
        before,
        "loopback never goes through the proxy"
    );
}

#[test]
fn proxy_credentials_live_in_the_vault_and_never_show() {
    let (_idp, s, cert, proxy) = setup(Some(("alice", "canary-proxy-password")));
    let trust = ("SSL_CERT_FILE", cert.cert_file.to_str().unwrap());
    set(&s, "proxy", &proxy.url());
    set(&s, "proxy-user", "alice");

    let refused = login(&s, &[trust]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains(&format!("through the proxy at 127.0.0.1:{}", proxy.port)),
        "the error names the proxy: {}",
        stderr(&refused)
    );

    let on_argv = run(
        &s,
        &["settings", "set", "proxy-password", "canary-on-argv"],
        &[PASS],
        "",
    );
    assert_eq!(
        on_argv.status.code(),
        Some(1),
        "a secret on the command line is refused"
    );
    let out = run(
        &s,
        &["settings", "set", "proxy-password"],
        &[PASS],
        "canary-proxy-password\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = login(&s, &[trust]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        proxy
            .log()
            .last()
            .map(String::as_str)
            .map(|l| l.starts_with("  POST")),
        Some(true)
    );
    assert!(
        proxy
            .log()
            .iter()
            .any(|l| l == "CONNECT idp.test:443 [auth]"),
        "{:?}",
        proxy.log()
    );

    let shown = run(&s, &["settings", "get"], &[PASS], "");
    let text = stdout(&shown);
    assert!(text.contains("proxy-password   (set)"), "{text}");
    assert!(text.contains("proxy-user       alice"), "{text}");
    let json = stdout(&run(&s, &["settings", "get", "--json"], &[PASS], ""));
    for out in [&text, &json] {
        assert!(!out.contains("canary"), "the password never shows: {out}");
    }
    let bytes = std::fs::read(s.default_vault()).unwrap();
    assert!(!bytes.windows(21).any(|w| w == b"canary-proxy-password"));
}

#[test]
fn a_proxy_that_refuses_hangs_or_answers_garbage_gives_a_clear_error_and_stores_nothing() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    let cert = TestCert::make(s.home());
    let trust = ("SSL_CERT_FILE", cert.cert_file.to_str().unwrap());
    add_remote_provider(&s, &idp);
    let before = tokens(&s);

    let closed = format!("http://127.0.0.1:{}", oauth_desk_tests::free_port());
    let forbid = TestProxy::start(Behaviour::Forbid, None);
    let hang = TestProxy::start(Behaviour::Hang, None);
    let garbage = TestProxy::start(Behaviour::Garbage, None);
    for (what, url, expected) in [
        ("refusing connections", closed.clone(), "could not connect"),
        ("answering 403", forbid.url(), "through the proxy"),
        ("hanging", hang.url(), "did not answer in time"),
        ("answering garbage", garbage.url(), "through the proxy"),
    ] {
        set(&s, "proxy", &url);
        let started = std::time::Instant::now();
        let out = login(&s, &[trust, ("OAUTH_DESK_HTTP_TIMEOUT", "3")]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(err.contains(expected), "{what}: {err}");
        let port = url::Url::parse(&url).unwrap().port().unwrap();
        assert!(
            err.contains(&format!("127.0.0.1:{port}")),
            "{what}: the proxy is named: {err}"
        );
        assert!(
            started.elapsed().as_secs() < 30,
            "{what}: bounded by the time limit"
        );
        assert_eq!(tokens(&s), before, "{what}: nothing stored");
    }
    let bad = run(
        &s,
        &["settings", "set", "proxy", "socks5://127.0.0.1:1080"],
        &[PASS],
        "",
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("proxy_url"), "{}", stderr(&bad));
}

#[test]
fn a_provider_whose_certificate_is_untrusted_or_for_another_host_gets_no_request() {
    let (idp, s, cert, proxy) = setup(None);
    set(&s, "proxy", &proxy.url());
    let before = tokens(&s);

    // The system's authorities do not include the one made for this run.
    let out = login(&s, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("https://idp.test/")
            && err.contains("TLS certificate is not signed by an authority this system trusts"),
        "{err}"
    );

    // Trusted, but for idp.test, not the host the provider is registered at. A token endpoint
    // moved to another host leaves the stored secret behind, so the update brings it again.
    let trust = ("SSL_CERT_FILE", cert.cert_file.to_str().unwrap());
    let token = idp.endpoint("token_endpoint");
    let out = run(
        &s,
        &[
            "provider",
            "update",
            "corp",
            "--token-url",
            &format!("https://other.test{}", path_of(&token)),
            "--client-secret-stdin",
        ],
        &[PASS],
        &format!("{}\n", idp::BASIC.secret.unwrap()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = login(&s, &[trust]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("https://other.test/")
            && err.contains("TLS certificate is not valid for other.test"),
        "{err}"
    );

    assert_eq!(
        proxy.log(),
        vec!["CONNECT idp.test:443", "CONNECT other.test:443"],
        "the tunnels opened, but no request (with the client's secret) went through either"
    );
    assert_eq!(tokens(&s), before, "nothing stored");
}
