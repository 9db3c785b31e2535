//! Trust-boundary cases (issue 16): endpoints. A change that points an endpoint at another host
//! (a typed update, a shared file) must not carry the client secret or a stored token there,
//! and discovery from a remote issuer may not name endpoints on this machine. The original
//! host and the new one are canned servers here (each records what it is sent); the real
//! provider's version of the first cases is in cli_providers.rs, cli_provider_sharing.rs and
//! api.rs.

use oauth_desk_core::oauth::discovery;
use oauth_desk_core::provider_sharing;
use oauth_desk_core::vault::Vault;
use oauth_desk_tests::canned::{Canned, CannedServer};
use serde_json::json;

use crate::common::*;
use crate::flows::{canned_provider, token, SECRET};

const STORED_REFRESH: &str = "stored-refresh-token-at-the-old-host";
const STORED_ACCESS: &str = "stored-access-token-at-the-old-host";

/// The provider "Canned" on `old` with an imported token for alice.
fn signed_in(old: &CannedServer) -> Result<Desk, String> {
    let d = canned_provider(old)?;
    let body = json!({ "access_token": STORED_ACCESS, "refresh_token": STORED_REFRESH,
                       "expires_in": 3600 });
    d.ok(
        &["token", "import", "Canned", "--account", "alice"],
        &body.to_string(),
    )?;
    Ok(d)
}

/// Err if `new_host` was sent anything at all; the message quotes what would have leaked.
fn sent_nothing(new_host: &CannedServer) -> Result<(), String> {
    let seen = new_host.requests();
    let leaked: Vec<&String> = seen
        .iter()
        .filter(|r| {
            r.contains(SECRET)
                || r.to_lowercase().contains("authorization: basic")
                || r.contains(STORED_REFRESH)
                || r.contains(STORED_ACCESS)
        })
        .collect();
    ensure(leaked.is_empty(), || {
        format!("the new host got a credential: {}", short(leaked[0]))
    })?;
    ensure(seen.is_empty(), || {
        format!("the new host was sent {} request(s)", seen.len())
    })
}

/// `provider show Canned --json` says the secret is gone and `token list` that alice must
/// sign in again (or has been revoked since).
fn left_behind(d: &Desk) -> Result<(), String> {
    let shown: serde_json::Value =
        serde_json::from_slice(&d.ok(&["provider", "show", "Canned", "--json"], "")?.stdout)
            .map_err(|e| e.to_string())?;
    ensure(shown["has_client_secret"] == false, || {
        format!("the client secret was kept: {shown}")
    })?;
    let tokens: serde_json::Value =
        serde_json::from_slice(&d.ok(&["token", "list", "--json"], "")?.stdout)
            .map_err(|e| e.to_string())?;
    // Revoked, when the case revoked it since (its tokens were already forgotten).
    let status = &tokens[0]["status"];
    ensure(status == "needs_signin" || status == "revoked", || {
        format!("the account was not signed out: {tokens}")
    })
}

/// `provider update Canned FLAG <new host>PATH`, then `then`: refused, nothing sent there.
fn moved_by_update(
    name: &str,
    flag: &'static str,
    path: &'static str,
    then: &'static [&str],
) -> Case {
    case(
        "endpoints",
        name.to_owned(),
        format!(
            "`{}`: {}; the new host is sent nothing; secret cleared",
            then.join(" "),
            if then[1] == "revoke" {
                "forgotten here only"
            } else {
                "exit 3"
            }
        ),
        move || {
            let old = CannedServer::start(vec![]);
            let new_host = CannedServer::start(vec![
                ("/token".into(), token(json!({}))),
                ("/revoke".into(), Canned::json("{}")),
            ]);
            let d = signed_in(&old)?;
            let url = format!("{}{path}", new_host.base);
            let mut update = vec!["provider", "update", "Canned", flag, &url];
            if flag == "--issuer" {
                update.push("--no-discovery");
            }
            let out = d.ok(&update, "")?;
            let mut args = then.to_vec();
            if then[1] != "get" {
                args.push("--json");
            }
            let after = d.run(&args, "");
            sent_nothing(&new_host)?;
            let said = oauth_desk_tests::cli::stdout(&out);
            ensure(said.contains("moved to another host"), || {
                format!(
                    "the update does not say what the move did: {}",
                    short(&said)
                )
            })?;
            left_behind(&d)?;
            match after.status.code() {
                // Revocation of a signed-out account only forgets it here.
                Some(0) if then[1] == "revoke" => Ok("revoked locally; nothing sent".into()),
                // `token get` prints no JSON error: its exit code says it.
                _ if then[1] == "get" => refused(&after, 3, "", "sign in again"),
                _ => refused(&after, 3, "needs_signin", "sign in again"),
            }
        },
    )
}

/// A shared file that moves `field` to the new host, imported with --yes, then a refresh.
fn moved_by_file(name: &str, field: &'static str) -> Case {
    case(
        "endpoints",
        name.to_owned(),
        format!("import shows {field} old -> new; refresh: exit 3, the new host sent nothing"),
        move || {
            let old = CannedServer::start(vec![]);
            let new_host = CannedServer::start(vec![("/token".into(), token(json!({})))]);
            let d = signed_in(&old)?;
            let mut shared: serde_json::Value =
                serde_json::from_slice(&d.ok(&["provider", "export"], "")?.stdout)
                    .map_err(|e| e.to_string())?;
            let was = shared[0][field].as_str().map(str::to_owned);
            let new_url = format!("{}/token", new_host.base);
            shared[0][field] = new_url.clone().into();
            let file = d.s.home().join("shared.json");
            std::fs::write(&file, shared.to_string()).map_err(|e| e.to_string())?;
            let out = d.ok(&["provider", "import", file.to_str().unwrap(), "--yes"], "")?;
            let printed = oauth_desk_tests::cli::stdout(&out);
            let line = format!(
                "{field}: {} -> {new_url}",
                was.as_deref().unwrap_or("(none)")
            );
            ensure(printed.contains(&line), || {
                format!("the preview does not show {line:?}: {printed}")
            })?;
            let after = d.run(&["token", "refresh", "Canned", "--json"], "");
            sent_nothing(&new_host)?;
            left_behind(&d)?;
            refused(&after, 3, "needs_signin", "sign in again")
        },
    )
}

/// Metadata from the remote issuer https://idp.example naming `key` on this machine.
fn loopback_in_remote_metadata(key: &'static str, url: &'static str) -> Case {
    case(
        "endpoints",
        format!("https issuer's metadata names {key} {url}"),
        "provider_error: \"only a loopback issuer may name loopback endpoints\"",
        move || {
            let doc = json!({
                "issuer": "https://idp.example",
                "authorization_endpoint": "https://idp.example/auth",
                "token_endpoint": "https://idp.example/token",
                key: url,
            });
            let doc = doc.as_object().unwrap().clone();
            match discovery::metadata(
                "https://idp.example/.well-known",
                "https://idp.example",
                &doc,
            ) {
                Ok(m) => Err(format!("accepted: {m:?}")),
                Err(e)
                    if e.code() == "provider_error"
                        && e.to_string().contains("only a loopback issuer") =>
                {
                    Ok(short(&e.to_string()))
                }
                Err(e) => Err(format!("{}: {e}", e.code())),
            }
        },
    )
}

pub fn cases() -> Vec<Case> {
    vec![
        moved_by_update(
            "update --token-url to another host, then refresh",
            "--token-url",
            "/token",
            &["token", "refresh", "Canned"],
        ),
        moved_by_update(
            "update --refresh-url to another host, then refresh",
            "--refresh-url",
            "/token",
            &["token", "refresh", "Canned"],
        ),
        moved_by_update(
            "update --revoke-url to another host, then revoke",
            "--revoke-url",
            "/revoke",
            &["token", "revoke", "Canned"],
        ),
        moved_by_update(
            "update --issuer to another host, then token get",
            "--issuer",
            "",
            &["token", "get", "Canned"],
        ),
        moved_by_file("shared file moves token_url to another host", "token_url"),
        moved_by_file(
            "shared file adds a refresh_url on another host",
            "refresh_url",
        ),
        loopback_in_remote_metadata("token_endpoint", "http://127.0.0.1:8123/token"),
        loopback_in_remote_metadata("revocation_endpoint", "http://localhost:8123/revoke"),
        loopback_in_remote_metadata("userinfo_endpoint", "http://[::1]:8123/me"),
        case(
            "endpoints",
            "window import of a file changed after its preview",
            "invalid_input: \"changed since it was previewed\"; nothing imported",
            || {
                let v = Vault::open_in_memory().map_err(|e| e.to_string())?;
                let file = r#"[{"name":"a","client_id":"x","token_url":"https://a.example/t","client_auth":"none"}]"#;
                let previewed = provider_sharing::plan(&v, file).map_err(|e| e.to_string())?;
                let changed = file.replace("a.example", "b.example");
                let now = provider_sharing::plan(&v, &changed).map_err(|e| e.to_string())?;
                match now.check_previewed(&previewed.digest) {
                    Ok(()) => Err("a changed file was accepted".into()),
                    Err(e) if e.code() == "invalid_input" => {
                        ensure(
                            oauth_desk_core::providers::list(&v)
                                .map_err(|e| e.to_string())?
                                .is_empty(),
                            || "something was imported".into(),
                        )?;
                        Ok(short(&e.to_string()))
                    }
                    Err(e) => Err(format!("{}: {e}", e.code())),
                }
            },
        ),
    ]
}
