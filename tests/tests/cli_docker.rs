//! docker's credential helper, `docker-credential-oauth-desk`: driven by the real docker CLI
//! (`docker manifest inspect`, which asks the helper and talks to the registry itself, with no
//! docker daemon) where this machine has one, else by skopeo, the other real client of the same
//! protocol (`scripts/setup.sh test` installs it where docker is missing); and through the
//! protocol exactly as those clients drive it (the action as the one argument, the request on
//! standard input, the answer or the error on standard output). The registry is a stand-in
//! (tests/support/registry.py) that lets in only a token the real test provider calls active.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use oauth_desk_tests::bins;
use oauth_desk_tests::cli::{run, stdout};
use oauth_desk_tests::idp::{self, Idp};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{add_provider, login_as, ok};
use oauth_desk_tests::stand_in::StandIn;
use serde_json::Value;

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "docker tests");
const NOT_FOUND: &str = "credentials not found in native keychain";

fn docker_config(s: &Session) -> PathBuf {
    s.home().join(".docker")
}

/// The session's environment for docker and its helper: its docker config, and the folder
/// of the built `docker-credential-oauth-desk` first on the PATH.
fn env(s: &Session) -> Vec<(String, String)> {
    let path = format!(
        "{}:{}",
        bins::profile_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut env = s.env();
    env.push(("PATH".into(), path));
    env.push((
        "DOCKER_CONFIG".into(),
        docker_config(s).display().to_string(),
    ));
    env.push((PASS.0.into(), PASS.1.into()));
    env
}

/// `docker-credential-oauth-desk ACTION` with `request` on standard input, as docker runs it;
/// it must answer within 30 s whatever it is sent.
fn helper(s: &Session, action: &str, request: &[u8], extra: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bins::profile_dir().join("docker-credential-oauth-desk"));
    s.apply(&mut cmd);
    let mut child = cmd
        .arg(action)
        .envs(env(s))
        .envs(extra.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the helper starts");
    let mut input = child.stdin.take().unwrap();
    // A helper that stops reading early may close the pipe: that is its right.
    let _ = input.write_all(request);
    drop(input);
    wait(child, "the helper")
}

fn wait(mut child: std::process::Child, what: &str) -> Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("{what} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn said(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

fn setup(s: &Session, registry: &str) {
    ok(run(
        s,
        &["docker", "setup", "Test IdP", "--registry", registry],
        &[PASS, ("DOCKER_CONFIG", docker_config(s).to_str().unwrap())],
        "",
    ));
}

fn config(s: &Session) -> Value {
    serde_json::from_slice(&std::fs::read(docker_config(s).join("config.json")).unwrap()).unwrap()
}

/// The real client this machine has: docker's CLI, else skopeo.
enum Client {
    Docker(PathBuf),
    Skopeo(PathBuf),
}

fn client() -> Client {
    let find = |name: &str| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(name))
                .find(|p| p.is_file())
        })
    };
    if let Some(docker) = find("docker") {
        return Client::Docker(docker);
    }
    if let Some(skopeo) = find("skopeo") {
        return Client::Skopeo(skopeo);
    }
    panic!("neither docker nor skopeo is installed: `scripts/setup.sh test` installs skopeo");
}

/// The image's manifest from `registry`, fetched by the real client with the helper set up
/// in the session's docker config.
fn inspect(s: &Session, registry: &str) -> Output {
    let image = format!("{registry}/team/app:1");
    let mut cmd = match client() {
        // No daemon needed: `manifest inspect` talks to the registry from the CLI itself;
        // --insecure takes the stand-in's self-signed certificate.
        Client::Docker(docker) => {
            let mut c = Command::new(docker);
            c.args(["manifest", "inspect", "--insecure", &image]);
            c
        }
        Client::Skopeo(skopeo) => {
            let mut c = Command::new(skopeo);
            c.args(["inspect", "--raw", "--tls-verify=false"])
                .arg(format!("docker://{image}"))
                .env("REGISTRY_AUTH_FILE", docker_config(s).join("config.json"));
            c
        }
    };
    s.apply(&mut cmd);
    let child = cmd
        .envs(env(s))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the client starts");
    wait(child, "the registry client")
}

#[test]
fn the_real_client_pulls_a_manifest_with_a_fresh_token_and_only_mapped_registries_get_one() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], &idp, "Test IdP", &idp::BASIC);
    login_as(&s, &[PASS], "Test IdP", "alice");
    let registry = StandIn::start("registry.py", &idp, true, &[]);
    // What the person had in docker's config stays.
    std::fs::create_dir_all(docker_config(&s)).unwrap();
    std::fs::write(
        docker_config(&s).join("config.json"),
        r#"{"auths": {}, "psFormat": "table {{.ID}}", "credHelpers": {"ghcr.io": "gh"}}"#,
    )
    .unwrap();
    setup(&s, registry.host());
    let written = config(&s);
    assert_eq!(written["credHelpers"][registry.host()], "oauth-desk");
    assert_eq!(written["credHelpers"]["ghcr.io"], "gh");
    assert_eq!(written["psFormat"], "table {{.ID}}");

    let out = inspect(&s, registry.host());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).contains("schemaVersion"), "{}", stdout(&out));
    let seen = registry.seen();
    assert!(!seen.is_empty(), "the registry let the client in");
    assert!(
        seen.iter().all(|t| idp.introspect(&idp::BASIC, t)),
        "with the provider's own token"
    );

    // The same registry under a name not mapped (localhost): nothing is answered for it, even
    // with OAuth Desk as docker's store for every registry, so the client goes in without
    // credentials and the registry turns it away.
    let mut all = config(&s);
    all["credsStore"] = "oauth-desk".into();
    std::fs::write(
        docker_config(&s).join("config.json"),
        serde_json::to_vec(&all).unwrap(),
    )
    .unwrap();
    let other = registry.host().replace("127.0.0.1", "localhost");
    let before = registry.seen().len();
    let out = inspect(&s, &other);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert_eq!(registry.seen().len(), before, "no token went to {other}");
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(
        err.contains("no basic auth credentials")
            || err.contains("unauthorized")
            || err.contains("authentication required"),
        "turned away by the registry, not by a helper error: {err}"
    );
}

#[test]
fn the_protocol_answers_get_list_store_and_erase_as_docker_expects() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], &idp, "Test IdP", &idp::BASIC);
    login_as(&s, &[PASS], "Test IdP", "alice");
    let host = "registry.example.test:5000";

    // Not set up: the protocol's own "nothing here", which docker reads as no credentials.
    let out = helper(&s, "get", host.as_bytes(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(said(&out), NOT_FOUND);

    setup(&s, host);
    for server in [
        host.to_owned(),
        format!("https://{host}/v2/"),
        "REGISTRY.example.test:5000\n".into(),
    ] {
        let out = helper(&s, "get", server.as_bytes(), &[]);
        assert!(out.status.success(), "{}", said(&out));
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            answer["ServerURL"],
            server.trim(),
            "the server as docker sent it"
        );
        assert_eq!(answer["Username"], "oauth2");
        let secret = answer["Secret"].as_str().unwrap();
        assert!(idp.introspect(&idp::BASIC, secret), "an active token");
    }
    let other = helper(&s, "get", b"registry.example.test:5001", &[]);
    assert_eq!(said(&other), NOT_FOUND, "another port is another registry");

    let listed: Value = serde_json::from_slice(&helper(&s, "list", b"", &[]).stdout).unwrap();
    assert_eq!(listed, serde_json::json!({ host: "oauth2" }));

    // docker login stores what it was given: kept nowhere, for a mapped registry; refused,
    // with the way to map it, for another.
    let typed = "typed-password-never-kept";
    let store = |server: &str| {
        let request = serde_json::json!({"ServerURL": server, "Username": "me", "Secret": typed});
        helper(&s, "store", request.to_string().as_bytes(), &[])
    };
    let out = store(host);
    assert!(out.status.success(), "{}", said(&out));
    assert_eq!(said(&out), "");
    let out = store("elsewhere.example.test");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        said(&out).contains("oauth-desk docker setup"),
        "{}",
        said(&out)
    );
    assert!(!said(&out).contains(typed));
    for entry in walk(s.home()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(typed),
            "{} holds the typed password",
            entry.display()
        );
    }

    // docker logout: the registry is answered no more; the account keeps its token.
    let out = helper(&s, "erase", host.as_bytes(), &[]);
    assert!(out.status.success(), "{}", said(&out));
    assert_eq!(said(&helper(&s, "get", host.as_bytes(), &[])), NOT_FOUND);
    assert_eq!(said(&helper(&s, "list", b"", &[])), "{}");
    ok(run(&s, &["token", "get", "Test IdP"], &[PASS], ""));
    // Erasing what is not there is no error (docker logout twice).
    assert!(helper(&s, "erase", host.as_bytes(), &[]).status.success());
}

#[test]
fn every_way_of_saying_no_is_the_protocols_and_never_hangs() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], &idp, "Test IdP", &idp::BASIC);
    let host = "registry.example.test";
    setup(&s, host);

    // Not signed in: docker shows the message, which says what to do.
    let out = helper(&s, "get", host.as_bytes(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(said(&out).contains("oauth-desk login"), "{}", said(&out));

    // A locked vault: no passphrase and no keyring.
    let out = helper(&s, "get", host.as_bytes(), &[(PASS.0, "")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!said(&out).is_empty());
    assert_ne!(said(&out), NOT_FOUND, "a locked vault is said as such");

    // The provider is gone since the registry was set up.
    ok(run(
        &s,
        &["provider", "remove", "Test IdP", "--yes"],
        &[PASS],
        "",
    ));
    let out = helper(&s, "get", host.as_bytes(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(said(&out).contains("Test IdP"), "{}", said(&out));

    // Bad requests: far too long, binary, no server, an unknown action.
    let flood = vec![b'a'; 2 * 1024 * 1024];
    for request in [&flood[..], b"\x00\xff\xfe", b"", b"reg istry"] {
        let out = helper(&s, "get", request, &[]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(said(&out), NOT_FOUND);
    }
    let out = helper(&s, "store", b"{not json", &[]);
    assert_eq!(out.status.code(), Some(1));
    let out = helper(&s, "fetch", b"", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(said(&out).contains("unknown action"), "{}", said(&out));

    // A mapping file that is not OAuth Desk's is said, and left as it is.
    let mapping = s.home().join("data/oauth-desk/vault.db.docker.json");
    std::fs::write(&mapping, b"[1, 2").unwrap();
    let out = helper(&s, "list", b"", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(said(&out).contains("not OAuth Desk's"), "{}", said(&out));
    let out = run(
        &s,
        &["docker", "setup", "Test IdP", "--registry", host],
        &[PASS, ("DOCKER_CONFIG", docker_config(&s).to_str().unwrap())],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&mapping).unwrap(), b"[1, 2");
}

#[test]
fn setup_refuses_a_registry_that_is_not_a_host_and_remove_undoes_it() {
    let s = Session::without_keyring();
    let config_dir = docker_config(&s);
    let env = [PASS, ("DOCKER_CONFIG", config_dir.to_str().unwrap())];
    for bad in ["", "reg istry.example", "a\"b", "x\ny.example"] {
        let out = run(
            &s,
            &["docker", "setup", "Test IdP", "--registry", bad],
            &env,
            "",
        );
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
        assert!(
            !config_dir.join("config.json").exists(),
            "{bad:?} wrote nothing"
        );
    }
    ok(run(
        &s,
        &[
            "docker",
            "setup",
            "Test IdP",
            "--registry",
            "https://Reg.Example.test/v2/",
        ],
        &env,
        "",
    ));
    assert_eq!(config(&s)["credHelpers"]["reg.example.test"], "oauth-desk");
    let out = ok(run(
        &s,
        &["docker", "remove", "--registry", "reg.example.test"],
        &env,
        "",
    ));
    assert!(stdout(&out).contains("no longer"), "{}", stdout(&out));
    assert_eq!(config(&s)["credHelpers"], serde_json::json!({}));

    // Another helper's registry is not taken over.
    let file = config_dir.join("config.json");
    std::fs::write(
        &file,
        r#"{"credHelpers": {"reg.example.test": "ecr-login"}}"#,
    )
    .unwrap();
    let out = run(
        &s,
        &[
            "docker",
            "setup",
            "Test IdP",
            "--registry",
            "reg.example.test",
        ],
        &env,
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ecr-login"));
    assert_eq!(config(&s)["credHelpers"]["reg.example.test"], "ecr-login");

    // Docker Hub is asked for by its old address, whatever name it was set up with.
    ok(run(
        &s,
        &["docker", "setup", "Test IdP", "--registry", "docker.io"],
        &env,
        "",
    ));
    assert_eq!(
        config(&s)["credHelpers"]["https://index.docker.io/v1/"],
        "oauth-desk"
    );

    // A config kept as a link (stow, home-manager) stays a link, to the file it was.
    let kept = s.home().join("dotfiles-docker.json");
    std::fs::rename(&file, &kept).unwrap();
    std::os::unix::fs::symlink(&kept, &file).unwrap();
    ok(run(
        &s,
        &[
            "docker",
            "setup",
            "Test IdP",
            "--registry",
            "other.example.test",
        ],
        &env,
        "",
    ));
    assert!(std::fs::symlink_metadata(&file)
        .unwrap()
        .file_type()
        .is_symlink());
    let through: Value = serde_json::from_slice(&std::fs::read(&kept).unwrap()).unwrap();
    assert_eq!(through["credHelpers"]["other.example.test"], "oauth-desk");
    assert_eq!(through["credHelpers"]["reg.example.test"], "ecr-login");
}

#[test]
fn a_mapping_others_could_have_written_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let idp = Idp::start();
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], &idp, "Test IdP", &idp::BASIC);
    login_as(&s, &[PASS], "Test IdP", "alice");
    setup(&s, "reg.example.test");
    let mapping = s.home().join("data/oauth-desk/vault.db.docker.json");
    assert!(helper(&s, "get", b"reg.example.test", &[]).status.success());
    std::fs::set_permissions(&mapping, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = helper(&s, "get", b"reg.example.test", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(said(&out).contains("only you can write"), "{}", said(&out));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
