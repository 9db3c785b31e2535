//! The git credential helper, driven by the real git (`git credential fill`, which runs the
//! configured helpers exactly as a clone or push does), with tokens from the real test
//! provider. `oauth-desk git setup` writes the configuration git reads.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use oauth_desk_tests::bins;
use oauth_desk_tests::cli::{json, run, stdout};
use oauth_desk_tests::idp::{self, Idp};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{add_provider, login_as, ok};

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
