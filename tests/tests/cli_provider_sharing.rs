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
