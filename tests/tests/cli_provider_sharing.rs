//! `provider export` and `provider import`: a team's list of providers moves between vaults
//! without a secret, and every bad file is refused whole with the vault unchanged.

use oauth_desk_tests::cli::{add_provider_by_hand, run, sha, stderr, stdout};
use oauth_desk_tests::session::Session;

const PASS: [(&str, &str); 1] = [("OAUTH_DESK_PASSPHRASE", "a test passphrase")];

fn add(s: &Session, name: &str, extra: &[&str], stdin: &str) {
    add_provider_by_hand(s, &PASS, name, extra, stdin);
}

fn list(s: &Session) -> serde_json::Value {
    let out = run(s, &["provider", "list", "--json"], &PASS, "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn providers_travel_without_secrets_and_imports_ask_first() {
    let a = Session::without_keyring();
    add(
        &a,
        "corp",
        &["--client-secret-stdin", "--scope", "openid"],
        "canary-client-secret\n",
    );
    add(&a, "public", &["--client-auth", "none"], "");
    let out = run(&a, &["provider", "export"], &PASS, "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let file_text = stdout(&out);
    assert!(!file_text.contains("canary"), "no secret in the export");
    let shared: serde_json::Value = serde_json::from_str(&file_text).unwrap();
    assert_eq!(shared.as_array().unwrap().len(), 2);
    assert_eq!(shared[0]["name"], "corp");
    assert_eq!(shared[0]["client_auth"], "basic");
    let one = run(&a, &["provider", "export", "public"], &PASS, "");
    let one: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(one.as_array().unwrap().len(), 1);

    let b = Session::without_keyring();
    add(&b, "existing", &["--client-auth", "none"], "");
    let file = b.home().join("providers.json");
    std::fs::write(&file, &file_text).unwrap();
    let path = file.to_str().unwrap();
    let before = sha(&b.default_vault());

    let no_yes = run(&b, &["provider", "import", path], &PASS, "");
    assert_eq!(no_yes.status.code(), Some(1));
    assert!(
        stdout(&no_yes).contains("add     corp (needs its client secret)"),
        "{}",
        stdout(&no_yes)
    );
    assert!(stderr(&no_yes).contains("--yes"), "{}", stderr(&no_yes));
    let no_secret = run(&b, &["provider", "import", path, "--yes"], &PASS, "");
    assert_eq!(no_secret.status.code(), Some(1));
    assert!(
        stderr(&no_secret).contains("corp needs its client secret"),
        "{}",
        stderr(&no_secret)
    );
    assert_eq!(sha(&b.default_vault()), before, "nothing was imported");

    let out = run(
        &b,
        &["provider", "import", path, "--yes", "--secrets-stdin"],
        &PASS,
        "typed-secret\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let names: Vec<String> = list(&b)
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, vec!["corp", "existing", "public"]);
    assert_eq!(list(&b)[0]["has_client_secret"], true);

    // A changed file updates, keeps the stored secret, and says which fields change.
    let mut changed = shared.clone();
    changed[0]["scopes"] = serde_json::json!(["openid", "email"]);
    std::fs::write(&file, changed.to_string()).unwrap();
    let out = run(&b, &["provider", "import", path, "--yes"], &PASS, "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("update  corp: scopes"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("same    public"), "{}", stdout(&out));
    assert_eq!(
        list(&b)[0]["scopes"],
        serde_json::json!(["openid", "email"])
    );
    assert_eq!(list(&b)[0]["has_client_secret"], true);
    let again = run(&b, &["provider", "import", path], &PASS, "");
    assert_eq!(
        again.status.code(),
        Some(0),
        "nothing to change needs no --yes"
    );
    assert!(stdout(&again).contains("Nothing to change"));
}

#[test]
fn bad_provider_files_are_refused_whole() {
    let s = Session::without_keyring();
    add(&s, "existing", &["--client-auth", "none"], "");
    let before = sha(&s.default_vault());
    let good = r#"{"name":"new-one","client_id":"x","token_url":"https://a.example/t","client_auth":"none"}"#;
    let cases: Vec<(&str, String, &str)> = vec![
        ("unknown field", format!(r#"[{good}, {{"name":"b","client_id":"x","token_url":"https://b.example/t","client_auth":"none","colour":"red"}}]"#), "unknown field `colour`"),
        ("invalid URL", r#"[{"name":"b","client_id":"x","token_url":"javascript:alert(1)","client_auth":"none"}]"#.into(), "token_url"),
        ("duplicate names", format!("[{good}, {good}]"), "appears twice"),
        ("a client secret inside", r#"[{"name":"b","client_id":"x","token_url":"https://b.example/t","client_secret":"canary-file-secret"}]"#.into(), "secrets never travel"),
        ("not JSON", "providers: [corp]".into(), "not a JSON array"),
        ("an escape sequence in a name", r#"[{"name":"evil\u001b[31m","client_id":"x","token_url":"https://b.example/t","client_auth":"none"}]"#.into(), "name"),
    ];
    for (what, text, expected) in cases {
        let file = s.home().join("bad.json");
        std::fs::write(&file, &text).unwrap();
        let out = run(
            &s,
            &["provider", "import", file.to_str().unwrap(), "--yes"],
            &PASS,
            "",
        );
        assert_eq!(out.status.code(), Some(1), "{what}");
        let err = stderr(&out);
        assert!(err.contains(expected), "{what}: {err}");
        assert!(!err.contains("canary"), "{what}: no secret echoed");
        assert!(
            !err.contains('\u{1b}'),
            "{what}: no raw escape reaches the terminal"
        );
        assert_eq!(sha(&s.default_vault()), before, "{what}: nothing changed");
    }
    let missing = run(
        &s,
        &["provider", "import", "/nonexistent/p.json", "--yes"],
        &PASS,
        "",
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("cannot read"),
        "{}",
        stderr(&missing)
    );
}

/// Issue 16: a shared file is not enough to send the client secret or a refresh token to a
/// new host. The real provider is the original host; a canned server (it records every
/// request) is the new host the file points the token endpoint at.
#[test]
fn an_import_moving_the_token_endpoint_shows_old_and_new_and_sends_nothing_there() {
    use oauth_desk_tests::canned::{Canned, CannedServer};
    use oauth_desk_tests::idp::{self, Idp};
    use oauth_desk_tests::signin::{add_provider, login_as};
    let idp = Idp::start();
    let s = Session::without_keyring();
    add_provider(&s, &PASS, &idp, "Test IdP", &idp::BASIC);
    login_as(&s, &PASS, "Test IdP", "alice");
    let refresh_token = {
        let v = s.open_vault(PASS[0].1);
        let t = oauth_desk_core::vault::tokens::get(v.conn(), "Test IdP", "alice@example.test")
            .unwrap();
        t.refresh_token.unwrap().expose().clone()
    };
    let answer = r#"{"access_token":"from-the-new-host","token_type":"Bearer","expires_in":3600}"#;
    let new_host = CannedServer::start(vec![("/token".into(), Canned::json(answer))]);

    let exported = run(&s, &["provider", "export"], &PASS, "");
    let mut shared: serde_json::Value = serde_json::from_slice(&exported.stdout).unwrap();
    let old_token_url = shared[0]["token_url"].as_str().unwrap().to_owned();
    let new_token_url = format!("{}/token", new_host.base);
    shared[0]["token_url"] = new_token_url.clone().into();
    let file = s.home().join("shared.json");
    std::fs::write(&file, shared.to_string()).unwrap();

    let out = run(
        &s,
        &["provider", "import", file.to_str().unwrap(), "--yes"],
        &PASS,
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(
        printed.contains(&format!("token_url: {old_token_url} -> {new_token_url}")),
        "the preview shows the endpoint old -> new: {printed}"
    );
    assert!(
        printed.contains(
            "warning: the token endpoint moves to another host: its account will have to sign in \
             again; its client secret will be cleared"
        ),
        "{printed}"
    );
    assert!(
        printed.contains("sign in again; the client secret was cleared"),
        "{printed}"
    );

    let refresh = run(&s, &["token", "refresh", "Test IdP"], &PASS, "");
    assert_eq!(refresh.status.code(), Some(3), "{}", stderr(&refresh));
    let secret = idp::BASIC.secret.unwrap();
    for request in new_host.requests() {
        assert!(
            !request.contains(&refresh_token),
            "the new host got the refresh token: {request}"
        );
        assert!(
            !request.to_lowercase().contains("authorization: basic") && !request.contains(secret),
            "the new host got the client's credentials: {request}"
        );
    }
    assert!(
        new_host.requests().is_empty(),
        "nothing goes to the new host"
    );
    assert_eq!(list(&s)[0]["has_client_secret"], false);
}
