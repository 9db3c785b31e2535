//! kubectl's exec credential plugin, driven by the real kubectl against a stand-in API server
//! (tests/support/kube_api.py: https on loopback, lets in only a bearer token the real test
//! provider says is active). `oauth-desk kubeconfig` writes the configuration kubectl reads.

use std::path::Path;
use std::process::{Command, Output};

use oauth_desk_tests::cli::{run, stdout};
use oauth_desk_tests::idp::{self, Idp, Options};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{add_provider, login_as, ok};
use oauth_desk_tests::stand_in::StandIn;

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "kube tests");

fn kubectl(s: &Session, kubeconfig: &Path) -> Output {
    let mut cmd = Command::new("kubectl");
    cmd.arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["get", "--raw", "/version"]);
    s.apply(&mut cmd);
    cmd.env(PASS.0, PASS.1).output().expect("kubectl runs")
}

/// `oauth-desk kubeconfig` for `api`, written into the session's home.
fn kubeconfig(s: &Session, api: &StandIn) -> std::path::PathBuf {
    let out = ok(run(
        s,
        &[
            "kubeconfig",
            "Test IdP",
            "--server",
            &api.url,
            "--ca",
            api.ca.as_ref().unwrap().to_str().unwrap(),
        ],
        &[],
        "",
    ));
    let path = s.home().join("kubeconfig.json");
    std::fs::write(&path, stdout(&out)).unwrap();
    path
}

#[test]
fn kubectl_gets_through_with_a_fresh_token_each_time_it_needs_one() {
    // Tokens live 30 s, under the minute the plugin wants left: each call needs a fresh one,
    // and it is still good when the stand-in asks about it, however loaded the machine.
    let idp = Idp::start_with(Options {
        access_ttl: Some(30),
        ..Default::default()
    });
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], &idp, "Test IdP", &idp::BASIC);
    login_as(&s, &[PASS], "Test IdP", "alice");
    let api = StandIn::start("kube_api.py", &idp, true, &[]);
    let config = kubeconfig(&s, &api);

    let first = kubectl(&s, &config);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        stdout(&first).contains("v1.32.0-stub"),
        "{}",
        stdout(&first)
    );
    let refreshed = idp.grants("refresh_token");
    assert!(refreshed >= 1, "the 30 s token was refreshed for kubectl");
    let second = kubectl(&s, &config);
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(idp.grants("refresh_token") > refreshed, "a fresh one again");
}

#[test]
fn without_a_sign_in_kubectl_shows_why_and_the_plugin_exits_3() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], &idp, "Test IdP", &idp::BASIC);
    let api = StandIn::start("kube_api.py", &idp, true, &[]);
    let config = kubeconfig(&s, &api);
    let out = kubectl(&s, &config);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("oauth-desk login"),
        "kubectl shows the plugin's word: {said}"
    );

    let direct = run(&s, &["kube-credential", "Test IdP"], &[PASS], "");
    assert_eq!(direct.status.code(), Some(3));

    // An unknown provider and a locked vault: a message on standard error and exit 1, which
    // kubectl shows as it does the others.
    let unknown = run(&s, &["kube-credential", "Nobody"], &[PASS], "");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("Nobody"));
    assert!(unknown.stdout.is_empty(), "no credential");
    let mut locked = Command::new("kubectl");
    locked
        .arg("--kubeconfig")
        .arg(&config)
        .args(["get", "--raw", "/version"]);
    s.apply(&mut locked);
    let out = locked.env_remove(PASS.0).output().expect("kubectl runs");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("passphrase") || said.contains("keyring") || said.contains("locked"),
        "kubectl shows why: {said}"
    );
}

#[test]
fn the_credential_is_v1_unless_kubectl_asks_for_v1beta1() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], &idp, "Test IdP", &idp::BASIC);
    login_as(&s, &[PASS], "Test IdP", "alice");
    for (info, version) in [
        ("", "client.authentication.k8s.io/v1"),
        (
            r#"{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{}}"#,
            "client.authentication.k8s.io/v1beta1",
        ),
    ] {
        let out = ok(run(
            &s,
            &["kube-credential", "Test IdP"],
            &[PASS, ("KUBERNETES_EXEC_INFO", info)],
            "",
        ));
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(v["apiVersion"], version);
        assert_eq!(v["kind"], "ExecCredential");
        assert!(v["status"]["token"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(v["status"]["expirationTimestamp"]
            .as_str()
            .unwrap()
            .ends_with('Z'));
    }
}
