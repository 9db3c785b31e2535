//! Provider registration by hand, update, removal and import: each bad value refused on its
//! field, with the vault's bytes unchanged.

use crate::common::*;

const BASE: &[(&str, &str)] = &[
    ("--client-id", "c"),
    ("--auth-url", "https://idp.example/auth"),
    ("--token-url", "https://idp.example/token"),
];

/// Flags that take no value.
const SWITCHES: &[&str] = &["--client-secret-stdin", "--no-discovery"];

/// `provider add NAME` with the base flags, `changes` replacing or adding flags (a value of
/// "-" drops the flag).
fn add_args(name: &str, changes: &[(&str, &str)]) -> Vec<String> {
    let mut flags: Vec<(String, String)> = BASE
        .iter()
        .map(|(f, v)| (f.to_string(), v.to_string()))
        .collect();
    for (f, v) in changes {
        flags.retain(|(g, _)| g != f);
        if *v != "-" {
            flags.push((f.to_string(), v.to_string()));
        }
    }
    let mut args = vec!["provider".into(), "add".into(), name.into()];
    for (f, v) in flags {
        let switch = SWITCHES.contains(&f.as_str());
        args.push(f);
        if !switch {
            args.push(v);
        }
    }
    args.push("--json".into());
    args
}

fn add_refused(
    name: impl Into<String>,
    case_name: &str,
    changes: Vec<(&'static str, String)>,
    stdin: impl Into<String>,
    field: &'static str,
    says: &'static str,
) -> Case {
    let name = name.into();
    let stdin = stdin.into();
    case(
        "providers",
        case_name.to_owned(),
        format!("refused on {field}: \"{says}\"; vault unchanged"),
        move || {
            let d = Desk::with_existing()?;
            let before = d.snapshot();
            let changes: Vec<(&str, &str)> =
                changes.iter().map(|(f, v)| (*f, v.as_str())).collect();
            let args = add_args(&name, &changes);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = d.run(&args, &stdin);
            let seen = field_refused(&out, field, says)?;
            before.same(&d.snapshot())?;
            Ok(seen)
        },
    )
}

pub fn cases() -> Vec<Case> {
    let s = |v: &str| v.to_owned();
    let long_url = format!("https://idp.example/{}", "a".repeat(8200));
    let mut cases = vec![
        add_refused("", "empty name", vec![], "", "name", "required"),
        add_refused("   ", "name of spaces", vec![], "", "name", "required"),
        add_refused(
            "Existing",
            "duplicate name",
            vec![],
            "",
            "name",
            "already exists",
        ),
        add_refused(
            "two\nlines",
            "name with a newline",
            vec![],
            "",
            "name",
            "control character",
        ),
        add_refused(
            "\u{1b}[2Jwipe",
            "name with an escape sequence",
            vec![],
            "",
            "name",
            "control character",
        ),
        add_refused(
            "n".repeat(300),
            "name of 300 characters",
            vec![],
            "",
            "name",
            "characters",
        ),
        add_refused(
            "New",
            "token URL over plain http",
            vec![("--token-url", s("http://idp.example/token"))],
            "",
            "token_url",
            "must use https",
        ),
        add_refused(
            "New",
            "javascript: authorization URL",
            vec![("--auth-url", s("javascript:alert(1)"))],
            "",
            "authorization_url",
            "javascript: URLs are not allowed",
        ),
        add_refused(
            "New",
            "file: userinfo URL",
            vec![("--userinfo-url", s("file:///etc/passwd"))],
            "",
            "userinfo_url",
            "file: URLs are not allowed",
        ),
        add_refused(
            "New",
            "relative revocation URL",
            vec![("--revoke-url", s("/revoke"))],
            "",
            "revocation_url",
            "absolute URL",
        ),
        add_refused(
            "New",
            "URL with a fragment",
            vec![("--token-url", s("https://idp.example/token#x"))],
            "",
            "token_url",
            "fragment",
        ),
        add_refused(
            "New",
            "URL with a password",
            vec![("--token-url", s("https://u:p@idp.example/token"))],
            "",
            "token_url",
            "user name or password",
        ),
        add_refused(
            "New",
            "URL with CR LF",
            vec![("--token-url", s("https://idp.example/to\r\nken"))],
            "",
            "token_url",
            "control character",
        ),
        add_refused(
            "New",
            "URL of 8 KB",
            vec![("--refresh-url", long_url)],
            "",
            "refresh_url",
            "8 KB",
        ),
        add_refused(
            "New",
            "no token URL",
            vec![("--token-url", s("-"))],
            "",
            "token_url",
            "required",
        ),
        add_refused(
            "New",
            "empty client id",
            vec![("--client-id", s(""))],
            "",
            "client_id",
            "required",
        ),
        add_refused(
            "New",
            "client id with a tab",
            vec![("--client-id", s("a\tb"))],
            "",
            "client_id",
            "control character",
        ),
        add_refused(
            "New",
            "scope with a quote",
            vec![("--scope", s("quo\"te"))],
            "",
            "scopes",
            "RFC 6749",
        ),
        add_refused(
            "New",
            "extra parameter redirect_uri",
            vec![("--param", s("redirect_uri=https://evil.example"))],
            "",
            "extra_params",
            "redirect_uri",
        ),
        add_refused(
            "New",
            "extra parameter without =",
            vec![("--param", s("novalue"))],
            "",
            "param",
            "KEY=VALUE",
        ),
        add_refused(
            "New",
            "redirect port 70000",
            vec![("--redirect-port", s("70000"))],
            "",
            "redirect_port",
            "65535",
        ),
        add_refused(
            "New",
            "basic auth without a secret",
            vec![("--client-auth", s("basic"))],
            "",
            "client_secret",
            "basic or post",
        ),
        add_refused(
            "New",
            "colour that is not #rrggbb",
            vec![("--color", s("red"))],
            "",
            "color",
            "#1f6feb",
        ),
        add_refused(
            "New",
            "unknown preset",
            vec![("--preset", s("nope"))],
            "",
            "preset",
            "no preset",
        ),
        add_refused(
            "New",
            "client secret of 100 KB on stdin",
            vec![("--client-secret-stdin", s(""))],
            format!("{}\n", "s".repeat(100_000)),
            "client_secret",
            "KB",
        ),
        add_refused(
            "New",
            "empty client secret on stdin",
            vec![("--client-secret-stdin", s(""))],
            "\n",
            "client_secret",
            "no secret",
        ),
    ];
    cases.push(case(
        "providers",
        "update of a provider that does not exist",
        "not_found naming it; vault unchanged",
        || {
            let d = Desk::with_existing()?;
            let before = d.snapshot();
            let out = d.run(
                &["provider", "update", "Nope", "--client-id", "x", "--json"],
                "",
            );
            let seen = refused(&out, 1, "not_found", "Nope")?;
            before.same(&d.snapshot())?;
            Ok(seen)
        },
    ));
    cases.push(case(
        "providers",
        "rename onto an existing name",
        "refused on name; both kept",
        || {
            let d = Desk::with_existing()?;
            d.provider("Other", "https://other.example", &[])?;
            let before = d.snapshot();
            let out = d.run(
                &[
                    "provider", "update", "Other", "--rename", "Existing", "--json",
                ],
                "",
            );
            let seen = field_refused(&out, "name", "already exists")?;
            before.same(&d.snapshot())?;
            Ok(seen)
        },
    ));
    cases.push(case(
        "providers",
        "remove with stdin not a terminal and no --yes",
        "refused, asks for --yes; provider kept",
        || {
            let d = Desk::with_existing()?;
            let before = d.snapshot();
            let out = d.run(&["provider", "remove", "Existing", "--json"], "y\n");
            let seen = refused(&out, 1, "", "--yes")?;
            before.same(&d.snapshot())?;
            Ok(seen)
        },
    ));
    cases.push(case(
        "providers",
        "import file with a client secret",
        "whole file refused: secrets never travel; vault unchanged",
        || {
            let d = Desk::with_existing()?;
            let before = d.snapshot();
            let file = d.s.home().join("shared.json");
            std::fs::write(
                &file,
                r#"[{"name":"Shared","client_id":"c","token_url":"https://idp.example/token","client_secret":"s3cret-in-file"}]"#,
            )
            .unwrap();
            let out = d.run(
                &["provider", "import", file.to_str().unwrap(), "--yes", "--json"],
                "",
            );
            let seen = refused(&out, 1, "invalid_input", "secret")?;
            ensure(
                !String::from_utf8_lossy(&out.stderr).contains("s3cret-in-file"),
                || "the secret was echoed".into(),
            )?;
            before.same(&d.snapshot())?;
            Ok(seen)
        },
    ));
    cases.push(case(
        "providers",
        "import file that is not JSON",
        "refused: not JSON; vault unchanged",
        || {
            let d = Desk::with_existing()?;
            let before = d.snapshot();
            let file = d.s.home().join("shared.json");
            std::fs::write(&file, "<html>not a provider file</html>").unwrap();
            let out = d.run(
                &[
                    "provider",
                    "import",
                    file.to_str().unwrap(),
                    "--yes",
                    "--json",
                ],
                "",
            );
            let seen = refused(&out, 1, "invalid_input", "JSON")?;
            before.same(&d.snapshot())?;
            Ok(seen)
        },
    ));
    cases
}
