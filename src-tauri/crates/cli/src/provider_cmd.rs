//! `oauth-desk provider add | list | show | update | remove | presets`.

use std::collections::BTreeMap;
use std::io::{BufRead, Read};

use oauth_desk_core::http::Http;
use oauth_desk_core::oauth::client_cert::CertInput;
use oauth_desk_core::oauth::discovery::{self, Fill};
use oauth_desk_core::oauth::provider::ProviderInput;
use oauth_desk_core::oauth::signing_key::{Alg, KeyInput, MAX_IMPORT_BYTES};
use oauth_desk_core::oauth::{presets, service_account};
use oauth_desk_core::providers::registration;
use oauth_desk_core::text::visible;
use oauth_desk_core::vault::provider_table::ProviderView;
use oauth_desk_core::vault::{Create, SharedVault};
use oauth_desk_core::{providers, time, Error, FieldError, Result, Secret};
use zeroize::Zeroize;

use crate::args::{Global, ProviderCmd, ProviderFields};
use crate::unlock;

pub fn run(global: &Global, cmd: ProviderCmd) -> Result<()> {
    match cmd {
        ProviderCmd::Export { names } => crate::provider_share_cmd::export(global, &names),
        ProviderCmd::Import {
            file,
            yes,
            secrets_stdin,
            json,
        } => crate::provider_share_cmd::import(global, &file, yes, secrets_stdin, json),
        ProviderCmd::Add { name, fields, json } => {
            let vault = unlock::open(global, Create::IfMissing)?;
            let mut input = ProviderInput::default();
            if let Some(id) = fields.value("preset") {
                let preset = presets::find(id).ok_or_else(|| unknown_preset(id))?;
                input = preset.fill(&pairs("preset-param", &fields.more.preset_params)?)?;
            }
            input.name = Some(name);
            apply(&mut input, &fields)?;
            let view = providers::add(&vault, &input, time::now())?;
            print_saved("Added", &view, json);
            Ok(())
        }
        ProviderCmd::Register {
            name,
            fields,
            initial_token_stdin,
            json,
        } => {
            if initial_token_stdin && fields.more.client_secret_stdin {
                return Err(Error::InvalidInput(
                    "--initial-token-stdin and --client-secret-stdin both read standard input: \
                     the provider gives the client secret when registering"
                        .into(),
                ));
            }
            let vault = unlock::open(global, Create::IfMissing)?;
            let mut input = ProviderInput::default();
            if let Some(id) = fields.value("preset") {
                let preset = presets::find(id).ok_or_else(|| unknown_preset(id))?;
                input = preset.fill(&pairs("preset-param", &fields.more.preset_params)?)?;
            }
            input.name = Some(name);
            apply(&mut input, &fields)?;
            let initial = initial_token_stdin.then(read_initial_token).transpose()?;
            let view = registration::register(
                &vault,
                &input,
                initial.as_ref(),
                &Http::new()?,
                time::now(),
            )?;
            print_saved("Registered a client and added", &view, json);
            Ok(())
        }
        ProviderCmd::List { json } => {
            let vault = unlock::open(global, Create::Never)?;
            let list = providers::list(&vault)?;
            if json {
                println!("{}", to_json(&list));
            } else {
                print_table(&list);
            }
            Ok(())
        }
        ProviderCmd::Jwks { name } => {
            let vault = unlock::open(global, Create::Never)?;
            let view = providers::show(&vault, &name)?;
            let keys: Vec<_> = [&view.client_key, &view.dpop_key]
                .into_iter()
                .flatten()
                .map(|k| k.jwk.clone())
                .collect();
            if keys.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "{} has no key: generate a client key with `oauth-desk provider update {} --client-auth private_key_jwt --generate-key ES256`, or a DPoP key with --dpop",
                    visible(&name),
                    visible(&name)
                )));
            }
            println!("{}", to_json(&serde_json::json!({ "keys": keys })));
            Ok(())
        }
        ProviderCmd::Show { name, json } => {
            let vault = unlock::open(global, Create::Never)?;
            let view = providers::show(&vault, &name)?;
            if json {
                println!("{}", to_json(&view));
            } else {
                print_details(&view);
            }
            Ok(())
        }
        ProviderCmd::Update {
            name,
            rename,
            fields,
            update_registration,
            json,
        } => {
            let vault = unlock::open(global, Create::Never)?;
            let current = providers::show(&vault, &name)?;
            let mut input = ProviderInput::from_record(&current.record());
            if let Some(id) = fields.value("preset") {
                let preset = presets::find(id).ok_or_else(|| unknown_preset(id))?;
                let filled = preset.fill(&pairs("preset-param", &fields.more.preset_params)?)?;
                input = ProviderInput {
                    name: input.name,
                    client_id: input.client_id,
                    ..filled
                };
            }
            if let Some(new_name) = rename {
                input.name = Some(new_name);
            }
            apply(&mut input, &fields)?;
            let mut updated = providers::update(&vault, &name, &input, time::now())?;
            if update_registration {
                let renamed = updated.provider.name.clone();
                registration::update_registration(&vault, &renamed, &Http::new()?, time::now())?;
                updated.provider = providers::show(&vault, &renamed)?;
            }
            if json {
                println!("{}", to_json(&updated));
            } else {
                print_saved("Updated", &updated.provider, false);
                if let Some(notice) = &updated.notice {
                    println!("Note: {notice}.");
                }
            }
            Ok(())
        }
        ProviderCmd::Discover { name, json } => {
            let vault = SharedVault::new(unlock::open(global, Create::Never)?);
            let updated = providers::discover_again(&vault, &Http::new()?, &name, time::now())?;
            if json {
                println!("{}", to_json(&updated));
                return Ok(());
            }
            match updated.changed.as_slice() {
                [] => println!(
                    "{} matches its issuer's metadata; nothing changed.",
                    visible(&updated.provider.name)
                ),
                changed => {
                    print_saved("Discovered again", &updated.provider, false);
                    println!("Changed: {}.", changed.join(", "));
                }
            }
            if let Some(notice) = &updated.notice {
                println!("Note: {notice}.");
            }
            Ok(())
        }
        ProviderCmd::Remove {
            name,
            yes,
            deregister,
            json,
        } => {
            let vault = unlock::open(global, Create::Never)?;
            let view = providers::show(&vault, &name)?;
            if !yes && !confirm(&view)? {
                eprintln!("Nothing was removed.");
                return Ok(());
            }
            let tokens = if deregister {
                registration::deregister(&vault, &name, &Http::new()?, time::now())?
            } else {
                providers::remove(&vault, &name, time::now())?
            };
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "removed": name, "tokens_removed": tokens })
                );
            } else {
                println!(
                    "Removed provider {} and {}.",
                    visible(&name),
                    count(tokens, "token")
                );
            }
            Ok(())
        }
        ProviderCmd::Presets { json } => {
            if json {
                println!("{}", to_json(&presets::all()));
            } else {
                for p in presets::all() {
                    let params: Vec<String> = p
                        .params
                        .iter()
                        .map(|k| format!("--preset-param {}=<{}>", k.key, k.example))
                        .collect();
                    println!("{:<10} {:<20} {}", p.id, p.label, params.join(" "));
                }
            }
            Ok(())
        }
    }
}

/// Discovery first (when --issuer is given), then every flag over it: flags win. --preset was
/// applied before (it fills the whole input), and --issuer here.
fn apply(input: &mut ProviderInput, f: &ProviderFields) -> Result<()> {
    if let Some(file) = &f.more.service_account_key {
        let bytes = oauth_desk_core::local_file::read_bounded(
            file,
            service_account::MAX_KEY_FILE,
            "the service-account key file",
        )?;
        let account = service_account::input_from(bytes.expose())?;
        input.token_url = account.token_url;
        input.client_id = account.client_id;
        input.client_auth = account.client_auth;
        input.client_key = account.client_key;
    }
    let mut discovered = None;
    if let Some(issuer) = f.value("issuer") {
        if f.more.no_discovery {
            input.issuer = Some(issuer.clone());
        } else {
            let http = Http::new()?;
            let metadata = discovery::discover(&http, issuer)?;
            metadata.fill(input, Fill::Overwrite);
            discovered = Some(metadata);
        }
    }
    f.apply_to(input, &["issuer", "preset"])?;
    // An endpoint the issuer's two documents name differently is the person's to choose,
    // with its flag.
    if let Some(unresolved) = discovered
        .map(|m| m.unresolved(input))
        .filter(|u| !u.is_empty())
    {
        return Err(Error::InvalidFields(unresolved));
    }
    if f.more.client_secret_stdin {
        input.client_secret = Some(read_secret()?);
    }
    let alg = |flag: &Option<String>| -> Result<Option<Alg>> {
        flag.as_deref()
            .map(|a| {
                Alg::parse(a).ok_or_else(|| {
                    Error::field(
                        "client_key",
                        format!(
                            "must sign with ES256, RS256, PS256 or EdDSA, not {}",
                            visible(a)
                        ),
                    )
                })
            })
            .transpose()
    };
    if let Some(generate) = alg(&f.more.generate_key)? {
        input.client_key = Some(KeyInput {
            generate: Some(generate),
            ..Default::default()
        });
    }
    if let Some(file) = &f.more.client_cert {
        input.client_cert = Some(CertInput {
            file: Some(file.clone()),
            password: std::env::var("OAUTH_DESK_PKCS12_PASSWORD")
                .ok()
                .map(Secret::new),
        });
    }
    if f.more.client_key_stdin {
        let bytes = read_key()?;
        // Text (PEM, JWK) as such; anything else is DER.
        let (import, der) = match String::from_utf8(bytes.expose().clone()) {
            Ok(text) => (Some(Secret::new(text)), None),
            Err(e) => {
                let mut copy = e.into_bytes();
                copy.zeroize();
                (None, Some(bytes))
            }
        };
        input.client_key = Some(KeyInput {
            import,
            der,
            alg: alg(&f.more.key_alg)?,
            ..Default::default()
        });
    }
    Ok(())
}

/// The rest of standard input: a private key, never in argv.
fn read_key() -> Result<Secret<Vec<u8>>> {
    // Its whole size at once: growing by reallocation would leave copies of the key behind.
    let mut bytes = Vec::with_capacity(MAX_IMPORT_BYTES + 1);
    std::io::stdin()
        .lock()
        .take(MAX_IMPORT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            Error::InvalidInput(format!(
                "cannot read the client key from standard input: {e}"
            ))
        })?;
    let key = Secret::new(bytes);
    if key.expose().iter().all(u8::is_ascii_whitespace) {
        return Err(Error::field(
            "client_key",
            "--client-key-stdin was given but standard input held no key",
        ));
    }
    Ok(key)
}

/// `KEY=VALUE` flags as a map; a malformed one names its flag.
fn pairs(flag: &'static str, raw: &[String]) -> Result<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    for r in raw {
        let (k, v) = r.split_once('=').ok_or_else(|| {
            Error::InvalidFields(vec![FieldError::new(
                flag,
                format!("write KEY=VALUE, not {}", visible(r)),
            )])
        })?;
        map.insert(k.trim().to_owned(), v.to_owned());
    }
    Ok(map)
}

fn unknown_preset(id: &str) -> Error {
    let ids: Vec<&str> = presets::all().iter().map(|p| p.id).collect();
    Error::field(
        "preset",
        format!(
            "there is no preset {}; choose one of {}",
            visible(id),
            ids.join(", ")
        ),
    )
}

/// One line of standard input, never echoed, never in argv.
fn read_secret() -> Result<Secret<String>> {
    stdin_line("the client secret")?.ok_or_else(|| {
        Error::field(
            "client_secret",
            "--client-secret-stdin was given but standard input held no secret",
        )
    })
}

/// The first line of standard input: the initial access token for registering, never in argv.
fn read_initial_token() -> Result<Secret<String>> {
    stdin_line("the initial access token")?.ok_or_else(|| {
        Error::InvalidInput(
            "--initial-token-stdin was given but standard input held no token".into(),
        )
    })
}

/// The first line of standard input without its line break (None when empty); `what` names
/// it in errors.
fn stdin_line(what: &str) -> Result<Option<Secret<String>>> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::InvalidInput(format!("cannot read {what} from standard input: {e}")))?;
    let value = line.trim_end_matches(['\n', '\r']).to_owned();
    line.zeroize();
    Ok((!value.is_empty()).then(|| Secret::new(value)))
}

fn confirm(view: &ProviderView) -> Result<bool> {
    let (name, tokens) = (visible(&view.name), count(view.accounts, "token"));
    crate::ask::confirm(
        &format!("Remove provider {name} and its {tokens}?"),
        &format!("removing {name} deletes {tokens} with it; pass --yes to confirm in a script"),
    )
}

fn count(n: i64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string_pretty(v).expect("views serialize")
}

fn print_saved(verb: &str, view: &ProviderView, json: bool) {
    if json {
        println!("{}", to_json(view));
    } else {
        println!("{verb} provider {}.", visible(&view.name));
        print_details(view);
    }
}

fn host(url: &Option<String>) -> String {
    url.as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "-".into())
}

fn print_table(list: &[ProviderView]) {
    if list.is_empty() {
        println!("No providers yet. Add one with `oauth-desk provider add NAME --issuer URL --client-id ID`.");
        return;
    }
    let width = list
        .iter()
        .map(|p| visible(&p.name).chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    println!(
        "{:<width$}  {:<30}  {:<6}  ACCOUNTS",
        "NAME", "HOST", "AUTH"
    );
    for p in list {
        let endpoint = p.authorization_url.clone().or(p.token_url.clone());
        println!(
            "{:<width$}  {:<30}  {:<6}  {}",
            visible(&p.name),
            host(&endpoint),
            p.client_auth.as_str(),
            p.accounts
        );
    }
}

fn print_details(p: &ProviderView) {
    let opt = |v: &Option<String>| v.as_deref().map(visible).unwrap_or_else(|| "-".into());
    // An endpoint with where it came from, once the provider was discovered.
    let endpoint = |field: &str, v: &Option<String>| match p.endpoint_sources.get(field) {
        Some(source) if !p.discovered.is_empty() => format!("{} ({})", opt(v), source.as_str()),
        _ => opt(v),
    };
    let rows: Vec<(&str, String)> = vec![
        ("Name", visible(&p.name)),
        ("Preset", opt(&p.preset)),
        ("Issuer", opt(&p.issuer)),
        (
            "Authorization",
            endpoint("authorization_url", &p.authorization_url),
        ),
        ("Token", endpoint("token_url", &p.token_url)),
        (
            "Refresh",
            p.refresh_url
                .as_deref()
                .map(visible)
                .unwrap_or_else(|| "(the token endpoint)".into()),
        ),
        ("Revocation", endpoint("revocation_url", &p.revocation_url)),
        ("Userinfo", endpoint("userinfo_url", &p.userinfo_url)),
        (
            "Device",
            endpoint("device_authorization_url", &p.device_authorization_url),
        ),
        (
            "Introspection",
            endpoint("introspection_url", &p.introspection_url),
        ),
        ("PAR", endpoint("par_url", &p.par_url)),
        (
            "End session",
            endpoint("end_session_url", &p.end_session_url),
        ),
        ("Client id", visible(&p.client_id)),
        (
            "Registration",
            if p.registered {
                "registered by OAuth Desk (update: provider update --update-registration; \
                 delete: provider remove --deregister)"
                    .into()
            } else {
                p.registration_url
                    .as_deref()
                    .map(|u| format!("none; the provider registers clients at {}", visible(u)))
                    .unwrap_or_else(|| "none".into())
            },
        ),
        (
            "Client secret",
            if p.has_client_secret {
                "set (hidden)"
            } else {
                "none (public client)"
            }
            .into(),
        ),
        ("Client auth", p.client_auth.as_str().into()),
        (
            "Client key",
            p.client_key.as_ref().map_or_else(
                || "none".into(),
                |k| {
                    format!(
                        "{}, thumbprint {} (`provider jwks` prints it)",
                        k.alg.as_str(),
                        k.thumbprint
                    )
                },
            ),
        ),
        (
            "Client cert",
            p.client_cert.as_ref().map_or_else(
                || "none".into(),
                |c| {
                    format!(
                        "{}{}, expires {}, thumbprint {}",
                        c.subject,
                        if c.self_signed { " (self-signed)" } else { "" },
                        c.not_after,
                        c.thumbprint
                    )
                },
            ),
        ),
        (
            "DPoP",
            match (&p.dpop_key, p.dpop) {
                (Some(k), true) => format!(
                    "on: tokens bound to the {} key {}",
                    k.alg.as_str(),
                    k.thumbprint
                ),
                (_, true) => "on".into(),
                (_, false) => "off".into(),
            },
        ),
        ("Scopes", visible(&p.scopes.join(" "))),
        ("Resources", visible(&p.resources.join(" "))),
        ("Audience", opt(&p.audience)),
        (
            "Extra params",
            visible(
                &p.extra_params
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        ),
        (
            "Redirect",
            match &p.redirect_url {
                Some(u) => visible(u),
                None if p.redirect_port == 0 => {
                    format!(
                        "http://127.0.0.1:<any free port>{}",
                        visible(&p.redirect_path)
                    )
                }
                None => format!(
                    "http://127.0.0.1:{}{}",
                    p.redirect_port,
                    visible(&p.redirect_path)
                ),
            },
        ),
        ("Sign in with", p.sign_in_with.as_str().into()),
        ("Colour", opt(&p.color)),
        ("Accounts", p.accounts.to_string()),
    ];
    for (k, v) in rows {
        println!("  {k:<14} {v}");
    }
}
