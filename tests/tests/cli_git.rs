//! The git credential helper, driven by the real git: `git credential fill`, which runs the
//! configured helpers exactly as a clone or push does, and whole clones and pushes over smart
//! HTTP from `git http-backend` behind a stand-in server that lets in only a token the real
//! test provider calls active (tests/support/git_server.py). `oauth-desk git setup` writes
//! the configuration git reads.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use oauth_desk_tests::bins;
use oauth_desk_tests::cli::{json, run, stdout};
use oauth_desk_tests::idp::{self, Idp};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{add_provider, login_as, ok};
use oauth_desk_tests::stand_in::StandIn;

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "git tests");
const HOST: &str = "git.example.test";

/// `git credential fill` for https://`host`, in the session, with `config` as `-c` pairs.
fn fill(s: &Session, host: &str, config: &[String]) -> Output {
    let mut cmd = Command::new("git");
    for c in config {
        cmd.args(["-c", c]);
    }
    cmd.args(["credential", "fill"]);
    s.apply(&mut cmd);
    let mut child = cmd
        .env(PASS.0, PASS.1)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("git runs");
    write!(
        child.stdin.take().unwrap(),
        "protocol=https\nhost={host}\n\n"
    )
    .unwrap();
    child.wait_with_output().unwrap()
}

/// The helper as `git setup` writes it, for provider `name`.
fn helper(name: &str) -> String {
    format!(
        "credential.https://{HOST}.helper=!'{}' git-credential --provider '{name}'",
        bins::cli_path().display()
    )
}

/// A helper after ours that always answers: where git goes when ours says nothing.
fn fallback() -> String {
    "credential.helper=!f() { echo username=next; echo password=fallback; }; f".into()
}

fn answered(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn git_gets_a_fresh_token_with_its_expiry() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], &idp, "Test IdP", &idp::BASIC);
    login_as(&s, &[PASS], "Test IdP", "alice");
    let details = json(&ok(run(
        &s,
        &["token", "get", "Test IdP", "--json"],
        &[PASS],
        "",
    )));

    let out = fill(&s, HOST, &[helper("Test IdP")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = answered(&out);
    assert!(text.contains("username=oauth2\n"), "{text}");
    let token = details["token"].as_str().unwrap();
    assert!(text.contains(&format!("password={token}\n")), "{text}");
    let expires = time::OffsetDateTime::parse(
        details["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
    .unix_timestamp();
    assert!(
        text.contains(&format!("password_expiry_utc={expires}\n")),
        "git is told when the token expires: {text}"
    );
    assert!(
        idp.introspect(&idp::BASIC, token),
        "a token the provider takes"
    );
}

#[test]
fn without_a_provider_or_a_sign_in_git_goes_to_the_next_helper() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], &idp, "Test IdP", &idp::BASIC);

    // Mapped, but nobody signed in: ours says why on stderr and lets the next one answer.
    let out = fill(&s, HOST, &[helper("Test IdP"), fallback()]);
    assert!(
        answered(&out).contains("password=fallback"),
        "{}",
        answered(&out)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("oauth-desk git-credential"), "{said}");

    // A locked vault (no passphrase, no keyring): the same.
    let mut locked = Command::new("git");
    locked.args([
        "-c",
        &helper("Test IdP"),
        "-c",
        &fallback(),
        "credential",
        "fill",
    ]);
    s.apply(&mut locked);
    let out = locked
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove(PASS.0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin
                .take()
                .unwrap()
                .write_all(format!("protocol=https\nhost={HOST}\n\n").as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(
        answered(&out).contains("password=fallback"),
        "{}",
        answered(&out)
    );

    // An unknown provider, and a helper without one: the same.
    for config in [
        helper("Nobody"),
        format!(
            "credential.helper=!'{}' git-credential",
            bins::cli_path().display()
        ),
    ] {
        let out = fill(&s, HOST, &[config, fallback()]);
        assert!(
            answered(&out).contains("password=fallback"),
            "{}",
            answered(&out)
        );
    }
}

#[test]
fn setup_writes_the_helper_once_and_store_and_erase_do_nothing() {
    let s = Session::without_keyring();
    let mut shown = String::new();
    for _ in 0..2 {
        let out = ok(run(
            &s,
            &["git", "setup", "Test IdP", "--host", HOST],
            &[],
            "",
        ));
        shown = stdout(&out);
    }
    let mut get = Command::new("git");
    get.args([
        "config",
        "--global",
        "--get-all",
        &format!("credential.https://{HOST}.helper"),
    ]);
    s.apply(&mut get);
    let written = String::from_utf8_lossy(&get.output().unwrap().stdout).into_owned();
    assert_eq!(written.lines().count(), 1, "once, however often: {written}");
    assert!(
        written.contains("git-credential --provider 'Test IdP'"),
        "{written}"
    );
    assert!(shown.contains(written.trim()), "the line is shown: {shown}");

    let bad = run(
        &s,
        &["git", "setup", "Test IdP", "--host", "evil host/x"],
        &[],
        "",
    );
    assert_eq!(bad.status.code(), Some(1));

    for op in ["store", "erase"] {
        let out = run(
            &s,
            &["git-credential", "--provider", "Test IdP", op],
            &[PASS],
            "protocol=https\nhost=git.example.test\nusername=u\npassword=p\n\n",
        );
        assert!(out.status.success());
        assert!(out.stdout.is_empty(), "{op} answers nothing");
    }
}

/// The real git, in the session, never prompting, with `config` as `-c` pairs.
fn git(s: &Session, config: &[String], args: &[&str]) -> Output {
    let mut cmd = Command::new("git");
    for c in config {
        cmd.args(["-c", c]);
    }
    s.apply(&mut cmd);
    cmd.args(args)
        .env(PASS.0, PASS.1)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS")
        .stdin(Stdio::null())
        .output()
        .expect("git runs")
}

fn git_ok(s: &Session, config: &[String], args: &[&str]) -> String {
    let out = git(s, config, args);
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn git_clones_and_pushes_with_the_token_and_clones_again_once_it_expired() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], &idp, "Test IdP", &idp::BASIC);
    login_as(&s, &[PASS], "Test IdP", "alice");

    // A bare repository with one commit, served by the stand-in.
    let root = tempfile::tempdir().unwrap();
    let bare = root.path().join("team/app.git");
    let bare_path = bare.to_str().unwrap();
    git_ok(&s, &[], &["init", "-q", "--bare", "-b", "main", bare_path]);
    let seed = root.path().join("seed");
    git_ok(
        &s,
        &[],
        &["init", "-q", "-b", "main", seed.to_str().unwrap()],
    );
    let who = [
        "user.name=Test".to_owned(),
        "user.email=test@example.test".to_owned(),
    ];
    let seed_path = seed.to_str().unwrap();
    git_ok(
        &s,
        &who,
        &[
            "-C",
            seed_path,
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "first",
        ],
    );
    git_ok(&s, &[], &["-C", seed_path, "push", "-q", bare_path, "main"]);
    let server = StandIn::start("git_server.py", &idp, false, &[root.path()]);
    let url = format!("{}/team/app.git", server.url);
    // Plain http, which the helper answers on loopback only.
    let helper = vec![format!(
        "credential.{}.helper=!'{}' git-credential --provider 'Test IdP'",
        server.url,
        bins::cli_path().display()
    )];

    let work = s.home().join("work");
    git_ok(&s, &helper, &["clone", "-q", &url, work.to_str().unwrap()]);
    let work_path = work.to_str().unwrap();
    git_ok(
        &s,
        &who,
        &[
            "-C",
            work_path,
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "pushed with a token",
        ],
    );
    git_ok(
        &s,
        &helper,
        &["-C", work_path, "push", "-q", "origin", "main"],
    );
    let log = git_ok(&s, &[], &["--git-dir", bare_path, "log", "--format=%s"]);
    assert_eq!(log.lines().next(), Some("pushed with a token"), "{log}");
    let first = server.seen();
    assert!(!first.is_empty(), "the server let git in");
    assert!(first.iter().all(|t| idp.introspect(&idp::BASIC, t)));

    // The stored token expires: the next clone gets a refreshed one, with no prompt.
    let vault = s.open_vault(PASS.1);
    let expired = oauth_desk_core::time::now() - 10;
    vault
        .conn()
        .execute("UPDATE tokens SET expires_at = ?1", [expired])
        .unwrap();
    drop(vault);
    let refreshes = idp.grants("refresh_token");
    let again = s.home().join("again");
    git_ok(&s, &helper, &["clone", "-q", &url, again.to_str().unwrap()]);
    let log = git_ok(
        &s,
        &[],
        &["-C", again.to_str().unwrap(), "log", "--format=%s"],
    );
    assert!(log.contains("pushed with a token"), "{log}");
    assert_eq!(idp.grants("refresh_token"), refreshes + 1, "refreshed once");
    let last = server.seen().pop().unwrap();
    assert!(
        !first.contains(&last),
        "the second clone went in with the new token"
    );

    // Without the helper, git is turned away and does not wait for anybody.
    let out = git(
        &s,
        &[],
        &["clone", "-q", &url, s.home().join("no").to_str().unwrap()],
    );
    assert!(!out.status.success());
}
