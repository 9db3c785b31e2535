//! `oauth-desk token list | get | refresh | revoke | import | rename`.

use std::io::{Read, Write};

use oauth_desk_core::http::Http;
use oauth_desk_core::oauth::dpop;
use oauth_desk_core::revoke::Revoked;
use oauth_desk_core::text::visible;
use oauth_desk_core::vault::{tokens, Create};
use oauth_desk_core::{agent, import, refresh, revoke, time, Error, Result};

use crate::args::{Global, TokenCmd};
use crate::unlock;

/// A fresh token, and its expiry when it is known (the agent's answer is the token alone).
pub struct Obtained {
    pub token: oauth_desk_core::Secret<String>,
    pub expires_at: Option<i64>,
}

/// A token valid `min_valid` more seconds: from a running window or `serve` at once, otherwise
/// from the vault opened here.
pub fn obtain(
    global: &Global,
    name: &str,
    account: Option<&str>,
    min_valid: i64,
) -> Result<Obtained> {
    // A caller with the vault's passphrase opens it here: there is nothing to ask the window
    // for it, nor to wait for while the window is locked (a named agent is asked all the same:
    // there may be no vault here).
    let own_key = global.passphrase_stdin || crate::ask::handed("OAUTH_DESK_PASSPHRASE").is_some();
    if own_key && oauth_desk_agent_client::named_agent().is_none() {
        // Not asked, but still looked at: a folder or socket another user planted is said.
        let socket = oauth_desk_agent_client::socket_path(&unlock::vault_path(global)?, "agent");
        if let Err(e) = oauth_desk_agent_client::private::connect(&socket) {
            if e.kind() == std::io::ErrorKind::PermissionDenied {
                let said = oauth_desk_core::Error::Io {
                    context: "not asking the token agent".into(),
                    source: e,
                };
                eprintln!(
                    "oauth-desk: {}",
                    crate::output::printable(&said.to_string())
                );
            }
        }
        let (_, f) = fresh_here(global, name, account, min_valid)?;
        return Ok(Obtained {
            token: f.token,
            expires_at: f.expires_at,
        });
    }
    let asked = agent::ask(
        &unlock::vault_path(global)?,
        name,
        account,
        min_valid.max(0),
    );
    match asked {
        agent::Asked::Answer(answer) => Ok(Obtained {
            token: answer?,
            expires_at: None,
        }),
        other => {
            if let agent::Asked::Unsafe(e) = other {
                // Said, not fatal: the vault opens here as it would with no agent.
                eprintln!("oauth-desk: {}", crate::output::printable(&e.to_string()));
            }
            let (_, f) = fresh_here(global, name, account, min_valid)?;
            Ok(Obtained {
                token: f.token,
                expires_at: f.expires_at,
            })
        }
    }
}

/// The scopes given as flags, each of which may hold several separated by spaces.
fn scope_words(flags: &[String]) -> Vec<String> {
    flags
        .iter()
        .flat_map(|s| s.split(' '))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The token alone, or with its type, expiry, scopes and account as JSON.
fn print_fresh(f: &refresh::Fresh, json: bool) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    let written = if json {
        let out = serde_json::json!({
            "token": f.token.expose(),
            "token_type": f.token_type,
            "expires_at": f.expires_at.map(time::to_rfc3339),
            "scopes": f.scopes,
            "account": f.account,
        });
        writeln!(stdout, "{out}")
    } else {
        writeln!(stdout, "{}", f.token.expose())
    };
    written.map_err(|e| Error::io("writing the token", e))
}

/// A fresh token from the vault opened here (refreshed first when it expires within
/// `min_valid` seconds), and the vault.
fn fresh_here(
    global: &Global,
    name: &str,
    account: Option<&str>,
    min_valid: i64,
) -> Result<(oauth_desk_core::vault::Vault, refresh::Fresh)> {
    let vault = unlock::open(global, Create::Never)?;
    let f = refresh::fresh(
        &vault,
        name,
        account,
        min_valid.max(0),
        &Http::new,
        &time::now,
    )?;
    Ok((vault, f))
}

/// A fresh token as it goes with one request (`method`, `url`), and its stored type.
fn presented(
    global: &Global,
    name: &str,
    account: Option<&str>,
    min_valid: i64,
    method: &str,
    url: Option<&str>,
    nonce: Option<&str>,
) -> Result<(dpop::Presented, Option<String>)> {
    let vault = unlock::open(global, Create::Never)?;
    let (presented, f) = refresh::presented(
        &vault,
        name,
        account,
        min_valid.max(0),
        url.map(|url| dpop::ForRequest { method, url, nonce }),
        &Http::new,
        &time::now,
    )?;
    Ok((presented, f.token_type))
}

/// Requests in flight at once in `token refresh --all`: enough to hide a provider's latency,
/// few enough not to look like a flood.
const BULK_WORKERS: usize = 4;

pub fn run(global: &Global, cmd: TokenCmd) -> Result<()> {
    match cmd {
        TokenCmd::Get {
            name,
            account,
            min_valid,
            json,
            scopes,
            resource,
            ..
        } if !scopes.is_empty() || resource.is_some() => {
            let vault = unlock::open(global, Create::Never)?;
            let f = refresh::narrowed(
                &vault,
                &name,
                account.as_deref(),
                refresh::Narrowing {
                    scopes: &scope_words(&scopes),
                    resource: resource.as_deref(),
                },
                min_valid.max(0),
                &Http::new,
                &time::now,
            )?;
            print_fresh(&f, json)
        }
        TokenCmd::Get {
            name,
            account,
            min_valid,
            json: true,
            ..
        } => {
            // The token's details live in the vault, so it is opened here even when an agent
            // runs (`--header` and `--json` exclude each other).
            let (_, f) = fresh_here(global, &name, account.as_deref(), min_valid)?;
            print_fresh(&f, true)
        }
        TokenCmd::Get {
            name,
            account,
            min_valid,
            header: true,
            method,
            url,
            nonce,
            json: false,
            ..
        } => {
            // The vault knows whether the token is DPoP-bound and holds the key for its proof,
            // so it is opened here even when an agent runs.
            let (presented, _) = presented(
                global,
                &name,
                account.as_deref(),
                min_valid,
                &method,
                url.as_deref(),
                nonce.as_deref(),
            )?;
            let mut out = std::io::stdout().lock();
            let mut written = writeln!(out, "Authorization: {}", presented.authorization.expose());
            if let Some(proof) = &presented.proof {
                written = written.and_then(|_| writeln!(out, "DPoP: {}", proof.expose()));
            }
            written.map_err(|e| Error::io("writing the token", e))?;
            Ok(())
        }
        TokenCmd::Get {
            name,
            account,
            min_valid,
            ..
        } => {
            // The token alone, for `$(oauth-desk token get NAME)`.
            let token = obtain(global, &name, account.as_deref(), min_valid)?.token;
            writeln!(std::io::stdout().lock(), "{}", token.expose())
                .map_err(|e| Error::io("writing the token", e))?;
            Ok(())
        }
        TokenCmd::Proof {
            name,
            account,
            method,
            url,
            nonce,
            min_valid,
        } => {
            let (presented, token_type) = presented(
                global,
                &name,
                account.as_deref(),
                min_valid,
                &method,
                Some(&url),
                nonce.as_deref(),
            )?;
            let proof = presented.proof.ok_or_else(|| {
                Error::InvalidInput(format!(
                    "the token of {} is a {} token, bound to no key: it needs no proof",
                    visible(&name),
                    visible(token_type.as_deref().unwrap_or("bearer"))
                ))
            })?;
            writeln!(std::io::stdout().lock(), "{}", proof.expose())
                .map_err(|e| Error::io("writing the proof", e))?;
            Ok(())
        }
        TokenCmd::List { json } => {
            let vault = unlock::open(global, Create::Never)?;
            let list = tokens::list(vault.conn())?;
            if json {
                let rows: Vec<_> = list
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "provider": t.provider,
                            "account": t.account,
                            "status": t.status,
                            "expires_at": t.expires_at.map(time::to_rfc3339),
                            "scopes": t.scopes,
                            "refreshed_at": t.refreshed_at.map(time::to_rfc3339),
                            "last_error": t.last_error,
                            "token_type": t.token_type,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows).expect("JSON"));
            } else if list.is_empty() {
                println!("No tokens yet. Sign in with `oauth-desk login NAME`.");
            } else {
                println!(
                    "{:<20}  {:<28}  {:<12}  {:<25}  BOUND",
                    "PROVIDER", "ACCOUNT", "STATUS", "EXPIRES"
                );
                for t in list {
                    let bound = match t.token_type.as_deref() {
                        Some(t) if t.eq_ignore_ascii_case(dpop::TOKEN_TYPE) => "DPoP key",
                        _ => "-",
                    };
                    println!(
                        "{:<20}  {:<28}  {:<12}  {:<25}  {bound}",
                        visible(&t.provider),
                        visible(&t.account),
                        t.status.as_str(),
                        t.expires_at
                            .map(time::to_rfc3339)
                            .unwrap_or_else(|| "-".into())
                    );
                }
            }
            Ok(())
        }
        TokenCmd::Refresh {
            name,
            account,
            all,
            json,
        } => {
            // The HTTP client (its TLS set-up and runtime thread, a few milliseconds) is built
            // while the vault opens.
            let http = all.then(|| std::thread::spawn(Http::new));
            let vault = unlock::open(global, Create::Never)?;
            let mut failures = 0;
            let mut outcomes = Vec::new();
            let results = if let Some(http) = http {
                let targets: Vec<(String, String)> = tokens::list(vault.conn())?
                    .into_iter()
                    .map(|t| (t.provider, t.account))
                    .collect();
                // One client for the whole run (its connections are reused), a few requests in
                // flight at once.
                let http = http
                    .join()
                    .expect("building the HTTP client does not panic")?;
                refresh::refresh_many(&vault, &targets, &http, &time::now, BULK_WORKERS)?
                    .into_iter()
                    .zip(targets.into_iter().map(|(p, _)| p))
                    .collect::<Vec<_>>()
            } else {
                let name = name.expect("clap requires it without --all");
                let one =
                    refresh::refresh(&vault, &name, account.as_deref(), &Http::new, &time::now)?;
                vec![(Ok(one), name)]
            };
            for (result, provider) in results {
                match result {
                    Ok(o) => {
                        if !json {
                            println!(
                                "Refreshed {} at {}{}.",
                                visible(&o.account),
                                visible(&o.provider),
                                o.expires_at
                                    .map(|t| format!(", expires {}", time::to_rfc3339(t)))
                                    .unwrap_or_default()
                            );
                        }
                        outcomes.push(serde_json::to_value(&o).expect("JSON"));
                    }
                    Err(e) => {
                        failures += 1;
                        eprintln!(
                            "oauth-desk: {}: {}",
                            visible(&provider),
                            crate::output::printable(&e.to_string())
                        );
                    }
                }
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&outcomes).expect("JSON"));
            }
            if failures > 0 {
                return Err(Error::ProviderError(format!(
                    "{failures} of the tokens could not be refreshed"
                )));
            }
            Ok(())
        }
        TokenCmd::Revoke {
            name,
            account,
            json,
        } => {
            let vault = unlock::open(global, Create::Never)?;
            let (account, outcome) = revoke::revoke(
                &vault,
                &name,
                account.as_deref(),
                &Http::new()?,
                time::now(),
            )?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "provider": name, "account": account, "outcome": outcome })
                );
            } else {
                match outcome {
                    Revoked::AtProvider => println!("Revoked the token of {} at {}.", visible(&account), visible(&name)),
                    Revoked::ForgottenLocally => println!(
                        "{} has no revocation endpoint: the token of {} was forgotten here but NOT revoked; it stays valid until it expires.",
                        visible(&name),
                        visible(&account)
                    ),
                }
            }
            Ok(())
        }
        TokenCmd::Import {
            name,
            account,
            json,
        } => {
            let vault = unlock::open(global, Create::Never)?;
            let mut input = Vec::new();
            std::io::stdin()
                .lock()
                .take(1024 * 1024 + 1)
                .read_to_end(&mut input)
                .map_err(|e| Error::io("reading the token from standard input", e))?;
            if input.len() > 1024 * 1024 {
                return Err(Error::InvalidInput(
                    "the token to import is larger than 1 MB".into(),
                ));
            }
            let expires_at = import::import(&vault, &name, &account, &input, time::now());
            zeroize::Zeroize::zeroize(&mut input);
            let expires_at = expires_at?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "provider": name, "account": account, "expires_at": expires_at.map(time::to_rfc3339) })
                );
            } else {
                println!(
                    "Imported the token of {} at {}.",
                    visible(&account),
                    visible(&name)
                );
            }
            Ok(())
        }
        TokenCmd::Exchange {
            name,
            subject,
            actor,
            audience,
            resource,
            scopes,
            requested_type,
            account,
            json,
        } => {
            use oauth_desk_core::exchange::{self, Party};
            let vault = unlock::open(global, Create::Never)?;
            let req = exchange::Request {
                audience,
                resource,
                scopes: scope_words(&scopes),
                requested_type,
                account,
            };
            let got = exchange::exchange(
                &vault,
                &name,
                &Party::parse(&subject),
                actor.as_deref().map(Party::parse).as_ref(),
                &req,
                &Http::new()?,
                time::now(),
            )?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "provider": name,
                        "account": got.account,
                        "expires_at": got.expires_at.map(time::to_rfc3339),
                        "scopes": got.scopes,
                    })
                );
            } else {
                println!(
                    "Stored the exchanged token as {} at {}{}.",
                    visible(&got.account),
                    visible(&name),
                    got.expires_at
                        .map(|t| format!(", expiring {}", time::to_rfc3339(t)))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        TokenCmd::SignOut {
            name,
            account,
            forget,
            no_browser,
            json,
        } => {
            crate::login_cmd::sign_out(global, &name, account.as_deref(), forget, no_browser, json)
        }
        TokenCmd::Rename { name, account, to } => {
            let vault = unlock::open(global, Create::Never)?;
            let to = to.trim().to_owned();
            oauth_desk_core::oauth::check::plain_text(&to)
                .map_err(|e| Error::field("account", e))?;
            if to.is_empty() {
                return Err(Error::field("account", "the new label is empty"));
            }
            let tx = vault.conn().unchecked_transaction()?;
            tokens::rename(&tx, &name, &account, &to)?;
            oauth_desk_core::vault::activity::record(
                &tx,
                time::now(),
                "account renamed",
                Some(&name),
                Some(&to),
                Some(&format!("was {}", visible(&account))),
            )?;
            tx.commit()?;
            println!(
                "Renamed {} to {} at {}.",
                visible(&account),
                visible(&to),
                visible(&name)
            );
            Ok(())
        }
    }
}
