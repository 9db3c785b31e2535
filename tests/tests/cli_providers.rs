//! `oauth-desk provider ...` against the real test provider, and bad input of every kind: each
//! gets an error that names the field and the problem, and leaves the vault as it was.

use std::process::Output;

use oauth_desk_tests::canned::{Canned, CannedServer};
use oauth_desk_tests::cli::{add_provider_by_hand, json, run, sha, stderr, stdout};
use oauth_desk_tests::idp::{self, Idp};
use oauth_desk_tests::session::Session;
use serde_json::Value;

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "provider tests");

fn desk(s: &Session, args: &[&str]) -> Output {
    run(s, args, &[PASS], "")
}

fn desk_stdin(s: &Session, args: &[&str], stdin: &str) -> Output {
    run(s, args, &[PASS], stdin)
}

fn ok(o: Output) -> Output {
    assert_eq!(
        o.status.code(),
        Some(0),
        "failed: {}{}",
        stdout(&o),
        stderr(&o)
    );
    o
}

/// A vault with one provider in it, as the starting point of the bad-input tests.
fn vault_with_one_provider() -> Session {
    let s = Session::without_keyring();
    add_provider_by_hand(
        &s,
        &[PASS],
        "Existing",
        &["--client-secret-stdin"],
        "existing-secret\n",
    );
    s
}

/// What "unchanged" means: the vault file byte for byte, and what the CLI lists.
struct Snapshot {
    file: Vec<u8>,
    list: String,
}

fn snapshot(s: &Session) -> Snapshot {
    let list = stdout(&ok(desk(s, &["provider", "list", "--json"])));
    Snapshot {
        file: sha(&s.default_vault()),
        list,
    }
}

/// Runs a command that must fail on `field`, saying `says`, and change nothing.
fn assert_refused(s: &Session, args: &[&str], field: &str, says: &str) {
    let before = snapshot(s);
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let out = desk(s, &with_json);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?} must fail: {}",
        stdout(&out)
    );
    let err: Value = serde_json::from_str(stderr(&out).trim())
        .unwrap_or_else(|e| panic!("{args:?}: stderr is not JSON ({e}): {}", stderr(&out)));
    assert_eq!(err["code"], "invalid_input", "{args:?}: {err}");
    let fields = err["fields"]
        .as_array()
        .expect("the error lists its fields");
    let hit = fields
        .iter()
        .find(|f| f["field"] == field)
        .unwrap_or_else(|| panic!("{args:?}: no error on {field}: {err}"));
    assert!(
        hit["message"].as_str().unwrap().contains(says),
        "{args:?}: the {field} error should say {says:?}: {hit}"
    );
    let after = snapshot(s);
    assert_eq!(after.list, before.list, "{args:?} changed the providers");
    assert!(after.file == before.file, "{args:?} changed the vault file");
}

#[test]
fn add_by_discovery_list_update_show_remove_never_shows_the_secret() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    let secret = idp::BASIC.secret.unwrap();
    let mut outputs = Vec::new();
    let mut record = |o: Output| {
        outputs.push(format!("{}{}", stdout(&o), stderr(&o)));
        ok(o)
    };

    let added = record(desk_stdin(
        &s,
        &[
            "provider",
            "add",
            "Test IdP",
            "--issuer",
            &idp.issuer,
            "--client-id",
            idp::BASIC.id,
            "--client-secret-stdin",
            "--json",
        ],
        &format!("{secret}\n"),
    ));
    let added = json(&added);
    assert_eq!(
        added["token_url"],
        format!("{}/token", idp.issuer),
        "discovery filled the token endpoint"
    );
    assert_eq!(
        added["device_authorization_url"],
        format!("{}/device/auth", idp.issuer)
    );
    assert_eq!(
        added["revocation_url"],
        format!("{}/token/revocation", idp.issuer)
    );
    assert_eq!(added["has_client_secret"], true);
    assert_eq!(added["client_auth"], "basic");
    assert!(added["scopes"]
        .as_array()
        .unwrap()
        .contains(&Value::from("offline_access")));

    let list = json(&record(desk(&s, &["provider", "list", "--json"])));
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "Test IdP");
    assert!(
        list[0]["created_at"].as_str().unwrap().ends_with('Z'),
        "times are RFC 3339"
    );

    record(desk(
        &s,
        &[
            "provider",
            "update",
            "Test IdP",
            "--rename",
            "Staging",
            "--scope",
            "openid email",
            "--param",
            "prompt=consent",
            "--audience",
            "https://api.example",
            "--color",
            "#0a0",
        ],
    ));
    let shown = json(&record(desk(
        &s,
        &["provider", "show", "Staging", "--json"],
    )));
    assert_eq!(shown["scopes"], serde_json::json!(["openid", "email"]));
    assert_eq!(shown["extra_params"]["prompt"], "consent");
    assert_eq!(shown["audience"], "https://api.example");
    assert_eq!(shown["color"], "#00aa00");
    assert_eq!(shown["has_client_secret"], true, "editing kept the secret");
    let human = stdout(&record(desk(&s, &["provider", "show", "Staging"])));
    assert!(human.contains("Client secret  set (hidden)"), "{human}");

    // Without --yes and without a terminal, remove refuses rather than guess.
    let refused = desk(&s, &["provider", "remove", "Staging"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("--yes"), "{}", stderr(&refused));
    let removed = json(&record(desk(
        &s,
        &["provider", "remove", "Staging", "--yes", "--json"],
    )));
    assert_eq!(removed["tokens_removed"], 0);
    let list = json(&record(desk(&s, &["provider", "list", "--json"])));
    assert_eq!(list, serde_json::json!([]));

    let status = json(&ok(desk(&s, &["vault", "status", "--json"])));
    assert_eq!(
        status["activity"], 4,
        "vault created, added, updated, removed: {status}"
    );
    for o in &outputs {
        assert!(
            !o.contains(secret),
            "the client secret leaked into output: {o}"
        );
    }
}

#[test]
fn endpoints_that_are_not_https_urls_are_refused_by_field() {
    let s = vault_with_one_provider();
    let add = |flag: &str, value: &str| -> Vec<String> {
        let mut args: Vec<String> = ["provider", "add", "New", "--client-id", "c"]
            .map(String::from)
            .to_vec();
        if flag != "--token-url" {
            args.extend(["--token-url".into(), "https://idp.example/token".into()]);
        }
        args.extend([flag.into(), value.into()]);
        args
    };
    let long = format!("https://idp.example/{}", "a".repeat(8200));
    for (flag, field, value, says) in [
        (
            "--token-url",
            "token_url",
            "http://idp.example/token",
            "must use https",
        ),
        (
            "--auth-url",
            "authorization_url",
            "javascript:alert(1)",
            "javascript: URLs are not allowed",
        ),
        (
            "--revoke-url",
            "revocation_url",
            "data:text/html,x",
            "data: URLs are not allowed",
        ),
        (
            "--userinfo-url",
            "userinfo_url",
            "file:///etc/passwd",
            "file: URLs are not allowed",
        ),
        (
            "--device-url",
            "device_authorization_url",
            "myapp://device",
            "myapp: URLs are not allowed",
        ),
        (
            "--token-url",
            "token_url",
            "https://idp.example/token#frag",
            "fragment",
        ),
        (
            "--token-url",
            "token_url",
            "https://user:pw@idp.example/token",
            "user name or password",
        ),
        (
            "--introspection-url",
            "introspection_url",
            "/introspect",
            "absolute URL",
        ),
        (
            "--token-url",
            "token_url",
            "https://idp.example/to\r\nken",
            "control character",
        ),
        ("--refresh-url", "refresh_url", &long, "8 KB"),
        (
            "--redirect-url",
            "redirect_url",
            "ftp://app.example/cb",
            "ftp: URLs are not allowed",
        ),
    ] {
        let args = add(flag, value);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_refused(&s, &args, field, says);
    }
}

#[test]
fn names_must_be_present_and_unique_and_odd_ones_are_shown_visibly() {
    let s = vault_with_one_provider();
    let base = [
        "--token-url",
        "https://idp.example/token",
        "--client-id",
        "c",
    ];
    let with = |name: &'static str| -> Vec<&'static str> {
        let mut a = vec!["provider", "add", name];
        a.extend(base);
        a
    };
    assert_refused(&s, &with(""), "name", "required");
    assert_refused(&s, &with("Existing"), "name", "already exists");
    assert_refused(&s, &with("two\nlines"), "name", "control character");
    assert_refused(&s, &with("Existing"), "name", "choose another name");
    // Renaming onto a taken name is refused too.
    ok(desk(&s, &with("Other")));
    assert_refused(
        &s,
        &["provider", "update", "Other", "--rename", "Existing"],
        "name",
        "already exists",
    );

    // Markup, a bidi override and a zero-width space are stored as typed and shown visibly.
    let odd = "<b>pay\u{202E}lap\u{200B}</b>";
    ok(desk(&s, &with(odd)));
    let list = json(&ok(desk(&s, &["provider", "list", "--json"])));
    assert!(
        list.as_array().unwrap().iter().any(|p| p["name"] == odd),
        "stored as typed: {list}"
    );
    let table = stdout(&ok(desk(&s, &["provider", "list"])));
    assert!(
        table.contains("<b>pay<U+202E>lap<U+200B></b>"),
        "shown visibly: {table}"
    );
    assert!(
        !table.contains('\u{202E}'),
        "the override never reaches the terminal"
    );
}

#[test]
fn scopes_params_and_other_fields_are_checked() {
    let s = vault_with_one_provider();
    let add = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut a = vec![
            "provider",
            "add",
            "New",
            "--token-url",
            "https://idp.example/token",
            "--client-id",
            "c",
        ];
        a.extend(extra);
        a
    };
    assert_refused(&s, &add(&["--scope", "quo\"te"]), "scopes", "RFC 6749");
    assert_refused(&s, &add(&["--scope", "back\\slash"]), "scopes", "RFC 6749");
    assert_refused(
        &s,
        &add(&["--param", "redirect_uri=https://evil.example"]),
        "extra_params",
        "set by OAuth Desk",
    );
    assert_refused(
        &s,
        &add(&["--redirect-port", "70000"]),
        "redirect_port",
        "65535",
    );
    assert_refused(
        &s,
        &add(&["--client-auth", "basic"]),
        "client_secret",
        "required for basic or post",
    );
    assert_refused(&s, &add(&["--color", "red"]), "color", "#1f6feb");
    assert_refused(&s, &add(&["--preset", "nope"]), "preset", "no preset");
    assert_refused(
        &s,
        &["provider", "add", "New", "--client-id", "c"],
        "token_url",
        "required",
    );
    assert_refused(
        &s,
        &[
            "provider",
            "add",
            "New",
            "--preset",
            "entra",
            "--preset-param",
            "tenant=../evil",
            "--client-id",
            "c",
        ],
        "tenant",
        "letters, digits",
    );
}

/// Hostile discovery documents come from a canned server: the real test provider cannot be made
/// to serve HTML, 1 MB documents, deep nesting, another issuer or a redirect.
#[test]
fn hostile_discovery_documents_are_refused_and_change_nothing() {
    let s = vault_with_one_provider();
    let well_known = |case: &str| format!("/{case}/.well-known/openid-configuration");
    // The canned server's own address is only known once it runs, so the "other issuer" case
    // names a fixed foreign one.
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let huge = format!("{{\"issuer\":\"x\",\"pad\":\"{}\"}}", "a".repeat(1_100_000));
    let server = CannedServer::start(vec![
        (
            well_known("html"),
            Canned::with_type("text/html", "<!doctype html><h1>Sign in</h1>"),
        ),
        (well_known("huge"), Canned::json(huge)),
        (well_known("deep"), Canned::json(deep)),
        (
            well_known("other"),
            Canned::json(
                r#"{"issuer":"https://evil.example","token_endpoint":"https://evil.example/token"}"#,
            ),
        ),
        (
            well_known("redirect"),
            Canned::redirect("https://evil.example/.well-known/openid-configuration"),
        ),
        (well_known("hostile-endpoint"), Canned::json("{}")),
    ]);
    for (case, says) in [
        ("html", "HTML page"),
        ("huge", "more than 1024 KB"),
        ("deep", "nested more than 32 levels"),
        ("other", "RFC 8414 §3.3"),
        ("redirect", "redirects to https://evil.example"),
        ("missing", "publishes no metadata"),
    ] {
        let issuer = format!("{}/{case}", server.base);
        let before = snapshot(&s);
        let out = desk(
            &s,
            &[
                "provider",
                "add",
                "New",
                "--issuer",
                &issuer,
                "--client-id",
                "c",
                "--json",
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{case}: {}", stdout(&out));
        let err: Value = serde_json::from_str(stderr(&out).trim()).unwrap();
        assert_eq!(err["code"], "provider_error", "{case}: {err}");
        let message = err["message"].as_str().unwrap();
        assert!(
            message.contains("discovery from the issuer"),
            "{case}: names the issuer: {message}"
        );
        assert!(
            message.contains(says),
            "{case}: should say {says:?}: {message}"
        );
        let after = snapshot(&s);
        assert_eq!(after.list, before.list, "{case} changed the providers");
        assert!(after.file == before.file, "{case} changed the vault file");
    }
}

/// On a terminal, `remove` asks and only "y" removes. `script` gives the command a real pty.
#[test]
fn remove_asks_on_a_terminal() {
    let s = vault_with_one_provider();
    let cli = oauth_desk_tests::bins::cli_path();
    let ask = |answer: &str| -> String {
        let mut cmd = std::process::Command::new("script");
        cmd.args([
            "-qec",
            &format!("{} provider remove Existing", cli.display()),
            "/dev/null",
        ]);
        let out = {
            let mut c = cmd;
            s.apply(&mut c);
            c.env("OAUTH_DESK_PASSPHRASE", PASS.1)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped());
            let mut child = c.spawn().expect("script (bsdutils) runs");
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(answer.as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        };
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let no = ask("n\n");
    assert!(
        no.contains("Remove provider Existing and its 0 tokens? [y/N]"),
        "{no}"
    );
    assert!(no.contains("Nothing was removed."), "{no}");
    assert_eq!(
        json(&ok(desk(&s, &["provider", "list", "--json"])))
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let yes = ask("y\n");
    assert!(yes.contains("Removed provider Existing"), "{yes}");
    assert_eq!(
        json(&ok(desk(&s, &["provider", "list", "--json"]))),
        serde_json::json!([])
    );
}

/// Issue 16: a credential follows its endpoint, not the provider's name. The real test
/// provider is the original host; a canned server (it records what it is sent) plays the new
/// host that a changed token URL points at.
#[test]
fn a_token_endpoint_moved_to_another_host_gets_neither_the_secret_nor_the_tokens() {
    use oauth_desk_tests::signin::{add_provider, login_as};
    let idp = Idp::start();
    let s = Session::without_keyring();
    add_provider(&s, &[PASS], &idp, "Test IdP", &idp::BASIC);
    login_as(&s, &[PASS], "Test IdP", "alice");
    let stored = {
        let v = s.open_vault(PASS.1);
        oauth_desk_core::vault::tokens::get(v.conn(), "Test IdP", "alice@example.test").unwrap()
    };
    let refresh_token = stored.refresh_token.unwrap().expose().clone();
    let access_token = stored.access_token.unwrap().expose().clone();
    let answer = r#"{"access_token":"from-the-new-host","token_type":"Bearer","expires_in":3600}"#;
    let new_host = CannedServer::start(vec![
        ("/token".into(), Canned::json(answer)),
        ("/revoke".into(), Canned::json("{}")),
    ]);

    let moved = ok(desk(
        &s,
        &[
            "provider",
            "update",
            "Test IdP",
            "--token-url",
            &format!("{}/token", new_host.base),
        ],
    ));
    assert!(
        stdout(&moved).contains(
            "the token endpoint moved to another host: sign in again; the client secret was cleared"
        ),
        "the result says what the move did: {}",
        stdout(&moved)
    );
    let refresh = desk(&s, &["token", "refresh", "Test IdP", "--json"]);
    assert_eq!(
        refresh.status.code(),
        Some(3),
        "the account needs sign-in: {}{}",
        stdout(&refresh),
        stderr(&refresh)
    );
    idp::assert_sent_nothing(&new_host, &[&refresh_token, &access_token]);
    let shown = json(&ok(desk(&s, &["provider", "show", "Test IdP", "--json"])));
    assert_eq!(
        shown["has_client_secret"], false,
        "the secret stayed behind"
    );
    let tokens = json(&ok(desk(&s, &["token", "list", "--json"])));
    assert_eq!(tokens[0]["status"], "needs_signin", "{tokens}");

    // Revocation at a new host, too, finds nothing to send. The provider lost its secret, so
    // an edit brings the new host's own.
    ok(desk_stdin(
        &s,
        &[
            "provider",
            "update",
            "Test IdP",
            "--revoke-url",
            &format!("{}/revoke", new_host.base),
            "--client-secret-stdin",
        ],
        "the-new-hosts-secret\n",
    ));
    let _ = desk(&s, &["token", "revoke", "Test IdP", "--json"]);
    idp::assert_sent_nothing(&new_host, &[&refresh_token, &access_token]);

    let shown = json(&ok(desk(&s, &["provider", "show", "Test IdP", "--json"])));
    assert_eq!(shown["has_client_secret"], true, "the new host's secret");
}
