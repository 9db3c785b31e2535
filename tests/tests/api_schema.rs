//! The REST API's OpenAPI document tells the truth: schemathesis (from PyPI, installed by
//! `scripts/setup.sh test` in a venv outside the clone) generates requests from the document
//! that `oauth-desk serve` itself serves, valid and invalid, following its links from a
//! registered provider to its tokens, and runs every check on the answers: no server error,
//! every request the document calls valid accepted, every invalid one refused, every answer as
//! documented. Any failure fails the test; schemathesis's summary is printed either way.
//!
//! Stateful runs start from a provider registered beforehand against the real test provider:
//! schemathesis 4.32's dependency analysis reads `client_id` in POST /app as a reference to a
//! "Client" resource nothing produces, so it starts no chain at POST /app. From POST
//! /user/Seeded the document's links lead to getting, replacing, refreshing and revoking the
//! token it stored. The stateful phase runs on its own after the others, with "Seeded" added
//! again should they have removed or renamed it (and it does neither itself, which would cut
//! every chain after it).
//!
//! `OAUTH_DESK_SCHEMATHESIS` names another schemathesis binary; `OAUTH_DESK_SCHEMATHESIS_SEED`
//! another seed (the default one makes a failure repeat run after run).

use std::path::PathBuf;
use std::process::{Command, Stdio};

use oauth_desk_tests::cli::{run, stdout, Running};
use oauth_desk_tests::idp::{self, Idp};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::ok;

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "api schema tests");
/// Examples per operation and phase: under a minute in all on two cores (about 1,700 requests).
const MAX_EXAMPLES: &str = "50";
/// The key comes from the environment. 502 and 504 are what the document promises when a
/// provider fails (the generated providers' endpoints lead nowhere), not errors of the server.
/// Stateful runs send valid requests only, so that chains of links get past their first step.
/// Exchange is left out of them: its path is under a user's, but it names its subject in the
/// body, so schemathesis's guess that it reads the user just stored does not hold.
const CONFIG: &str = r#"[headers]
Authorization = "Bearer ${OAUTH_DESK_API_KEY}"

[checks.not_a_server_error]
expected-statuses = ["2xx", "3xx", "4xx", "502", "504"]

[phases.stateful.generation]
mode = "positive"

[[operations]]
include-operation-id = "setUser"
parameters = { name = "Seeded" }

[[operations]]
include-operation-id = ["removeApp", "updateApp", "exchangeUser"]
phases = { stateful = { enabled = false } }
"#;
const SEED: &str = "16";

/// Where scripts/setup.sh installs it.
fn schemathesis() -> PathBuf {
    if let Some(p) = std::env::var_os("OAUTH_DESK_SCHEMATHESIS") {
        return p.into();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache"));
    cache.join("oauth-desk/schemathesis/bin/schemathesis")
}

/// Registers "Seeded" against the test provider, unless it is there (a run may remove or
/// rename it: the phases before the stateful one do).
fn seed(s: &Session, idp: &Idp) {
    if run(s, &["provider", "show", "Seeded"], &[PASS], "")
        .status
        .success()
    {
        return;
    }
    let (token_url, revoke_url) = (
        idp.endpoint("token_endpoint"),
        idp.endpoint("revocation_endpoint"),
    );
    ok(run(
        s,
        &[
            "provider",
            "add",
            "Seeded",
            "--client-id",
            idp::BASIC.id,
            "--client-secret-stdin",
            "--token-url",
            &token_url,
            "--revoke-url",
            &revoke_url,
        ],
        &[PASS],
        &format!("{}\n", idp::BASIC.secret.unwrap()),
    ));
}

#[test]
fn the_openapi_document_says_what_the_server_accepts() {
    let tool = schemathesis();
    assert!(
        tool.exists(),
        "{} is missing: run `scripts/setup.sh test` (make test does)",
        tool.display()
    );
    let idp = Idp::start();
    let s = Session::without_keyring();
    seed(&s, &idp);
    let key = stdout(&ok(run(&s, &["api", "key"], &[PASS], "")))
        .trim()
        .to_owned();
    let mut server = Running::start(&s, &["serve", "--port", "0"], &[PASS]);
    let line = server.line();
    let base = line
        .strip_prefix("listening on ")
        .expect("the address line")
        .to_owned();

    // The key reaches schemathesis through its environment and its config file's placeholder,
    // never its command line.
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("schemathesis.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let seed_arg = std::env::var("OAUTH_DESK_SCHEMATHESIS_SEED").unwrap_or_else(|_| SEED.into());
    let schemathesis = |phases: &str| {
        let out = Command::new(&tool)
            .arg("--config-file")
            .arg(&config)
            .args([
                "run",
                &format!("{base}/api/v1/openapi.json"),
                "--url",
                &base,
            ])
            .args(["--phases", phases, "--checks", "all", "--workers", "1"])
            .args(["--max-examples", MAX_EXAMPLES, "--seed", &seed_arg])
            .args(["--request-timeout", "20", "--no-color"])
            .env("OAUTH_DESK_API_KEY", &key)
            // Its caches (.hypothesis/) go to the scratch directory, not the clone.
            .current_dir(work.path())
            .stdin(Stdio::null())
            .output()
            .expect("schemathesis runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        println!("{text}");
        assert!(
            !text.contains(&key),
            "schemathesis printed the API key (its output is sanitized)"
        );
        out.status.success()
    };
    let single = schemathesis("examples,coverage,fuzzing");
    seed(&s, &idp);
    let stateful = schemathesis("stateful");
    assert!(
        single && stateful,
        "schemathesis found requests the document and the server disagree on (above)"
    );
    drop(server);
}
