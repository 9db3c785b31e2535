//! `oauth-desk login NAME [--account A] [--scope S]... [--no-browser | --device | --client-credentials]`.

use std::io::Write;

use oauth_desk_core::oauth::flow::DeviceFlow;
use oauth_desk_core::signin::code::{self, Authorize, Catch};
use oauth_desk_core::signin::{self, device, Cancel, Request, SignedIn};
use oauth_desk_core::text::visible;
use oauth_desk_core::vault::{provider_table as table, Create, SharedVault};
use oauth_desk_core::{time, Result};

use crate::args::{Global, LoginArgs};
use crate::unlock;

pub fn run(global: &Global, args: LoginArgs) -> Result<()> {
    let vault = SharedVault::new(unlock::open(global, Create::Never)?);
    let provider = vault.with(|v| table::get(v.conn(), &args.name))?;
    let request = Request {
        provider,
        scopes: args.scopes,
        account: args.account,
    }
    .for_target(args.resources, args.audience)?;
    // Nothing here cancels a sign-in: Ctrl+C ends the process, and the sign-in with it.
    let never = Cancel::default();
    let signed = if args.device {
        device::sign_in(&vault, &request, &never, show_code)
    } else if args.client_credentials {
        signin::client_credentials(&vault, &request)
    } else if args.jwt_bearer {
        signin::jwt_bearer(&vault, &request, args.subject.as_deref())
    } else {
        code::sign_in(&vault, &request, Catch::Loopback, &never, |a| {
            show_url(a, args.no_browser)
        })
    }?;
    report(&signed, args.json);
    Ok(())
}

/// `token sign-out`: revoke, then end the provider's session where it has an endpoint for it.
pub fn sign_out(
    global: &Global,
    name: &str,
    account: Option<&str>,
    forget: bool,
    no_browser: bool,
    json: bool,
) -> Result<()> {
    let vault = SharedVault::new(unlock::open(global, Create::Never)?);
    let never = Cancel::default();
    let shown = signin::signout::ShownIn::Elsewhere;
    let out = signin::signout::sign_out(&vault, name, account, forget, &never, shown, |url| {
        if no_browser {
            println!("{url}");
            let _ = std::io::stdout().flush();
            eprintln!("Waiting for the provider to send you back …");
        } else {
            open_browser(url);
            eprintln!("Confirm the sign-out in your browser. If it did not open, visit:\n{url}");
        }
        Ok(())
    })?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&out).expect("the outcome serializes")
        );
    } else {
        println!(
            "Signed {} out of {}: tokens {}{}{}.",
            visible(&out.account),
            visible(&out.provider),
            if out.revoked_at_provider {
                "revoked at the provider"
            } else {
                "forgotten (no revocation endpoint)"
            },
            if out.session_ended {
                ", the provider's session ended"
            } else {
                ""
            },
            if out.forgotten {
                ", the account forgotten"
            } else {
                ", the account kept as signed out"
            }
        );
    }
    Ok(())
}

fn show_url(a: &Authorize, no_browser: bool) -> Result<()> {
    if no_browser {
        // Alone on the first line, so that scripts (and the tests) can read it.
        println!("{}", a.url);
        let _ = std::io::stdout().flush();
        eprintln!(
            "Waiting for the provider to redirect to {} …",
            a.redirect_uri
        );
    } else {
        open_browser(a.url);
        eprintln!(
            "Sign in in your browser. If it did not open, visit:\n{}",
            a.url
        );
    }
    Ok(())
}

fn show_code(flow: &DeviceFlow) -> Result<()> {
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
    Ok(())
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
