//! `oauth-desk login NAME [--account A] [--scope S]... [--no-browser | --device | --client-credentials]`.

use std::io::Write;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use oauth_desk_core::http::Http;
use oauth_desk_core::oauth::callback::SIGNIN_LIFETIME_SECS;
use oauth_desk_core::oauth::flow::{self, CodeFlow, DeviceFlow};
use oauth_desk_core::oauth::loopback::Loopback;
use oauth_desk_core::signin::{self, Grantee, SignedIn};
use oauth_desk_core::text::visible;
use oauth_desk_core::vault::provider_table::ProviderRecord;
use oauth_desk_core::vault::{provider_table as table, Create, Vault};
use oauth_desk_core::{time, Error, Result};

use crate::args::{Global, LoginArgs};
use crate::unlock;

pub fn run(global: &Global, args: LoginArgs) -> Result<()> {
    let vault = unlock::open(global, Create::Never)?;
    let p = table::get(vault.conn(), &args.name)?;
    let http = Http::new()?;
    let outcome = if args.device {
        device(&vault, &p, &args, &http)
    } else if args.client_credentials {
        flow::client_credentials(&p, &args.scopes, &http, time::now()).and_then(|g| {
            signin::store(
                &vault,
                &p,
                g,
                Grantee::ClientCredentials,
                args.account.as_deref(),
                &http,
                time::now(),
            )
        })
    } else {
        code(&vault, &p, &args, &http)
    };
    match outcome {
        Ok(signed) => {
            report(&signed, args.json);
            Ok(())
        }
        Err(e) => {
            signin::record_failure(&vault, &p.name, &e, time::now());
            Err(e)
        }
    }
}

fn code(vault: &Vault, p: &ProviderRecord, args: &LoginArgs, http: &Http) -> Result<SignedIn> {
    if p.redirect_url.is_some() {
        return Err(Error::InvalidInput(format!(
            "{} redirects to a custom URL, which only the login window can catch: sign in from the window",
            visible(&p.name)
        )));
    }
    let listener = Loopback::bind(p.redirect_port, &p.redirect_path)?;
    let flow = CodeFlow::start(p, &listener.redirect_uri(), &args.scopes, time::now())?;
    if args.no_browser {
        // Alone on the first line, so that scripts (and the tests) can read it.
        println!("{}", flow.url);
        let _ = std::io::stdout().flush();
        eprintln!(
            "Waiting for the provider to redirect to {} …",
            listener.redirect_uri()
        );
    } else {
        open_browser(&flow.url);
        eprintln!(
            "Sign in in your browser. If it did not open, visit:\n{}",
            flow.url
        );
    }
    let deadline = Instant::now() + Duration::from_secs(SIGNIN_LIFETIME_SECS as u64);
    let redirect = listener.wait(&flow.state_check(), deadline, &AtomicBool::new(false))?;
    let params = redirect.params.clone();
    match flow.finish(&params, http, time::now()) {
        Ok(grant) => {
            redirect.reply(true);
            signin::store(
                vault,
                p,
                grant,
                Grantee::AuthorizationCode,
                args.account.as_deref(),
                http,
                time::now(),
            )
        }
        Err(e) => {
            redirect.reply(false);
            Err(e)
        }
    }
}

fn device(vault: &Vault, p: &ProviderRecord, args: &LoginArgs, http: &Http) -> Result<SignedIn> {
    let flow = DeviceFlow::start(p, &args.scopes, http)?;
    println!("Open:  {}", flow.verification_uri);
    println!("Code:  {}", flow.user_code);
    if let Some(complete) = &flow.verification_uri_complete {
        println!("Or:    {complete}");
    }
    let _ = std::io::stdout().flush();
    eprintln!(
        "Waiting for the sign-in to be approved (the code expires in {} minutes) …",
        flow.expires_in.div_ceil(60)
    );
    let grant = flow.finish(http, &AtomicBool::new(false), time::now)?;
    signin::store(
        vault,
        p,
        grant,
        Grantee::Device,
        args.account.as_deref(),
        http,
        time::now(),
    )
}

/// Opens the system browser without linking a GUI library: xdg-open does it.
fn open_browser(url: &str) {
    let _ = oauth_desk_core::child_env::scrub(&mut std::process::Command::new("xdg-open"))
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

fn report(s: &SignedIn, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(s).expect("views serialize")
        );
        return;
    }
    let expiry = s
        .expires_at
        .map(|t| format!(", expires {}", time::to_rfc3339(t)))
        .unwrap_or_default();
    let verb = if s.replaced {
        "Signed in again"
    } else {
        "Signed in"
    };
    println!(
        "{verb} to {} as {}{expiry}{}.",
        visible(&s.provider),
        visible(&s.account),
        if s.has_refresh_token {
            ", with a refresh token"
        } else {
            ""
        }
    );
}
