//! Signing an account out (OpenID Connect RP-Initiated Logout 1.0): its tokens revoked at the
//! provider (RFC 7009) and wiped here, then, where the provider has an end-session endpoint,
//! its session there ended too: the person confirms in the browser (or the login window), and
//! the provider sends them back to a loopback listener of ours, with the state it was given.
//! The account is then kept as signed out, or forgotten.

use std::io::{BufRead, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::http::Http;
use crate::oauth::callback::SIGNIN_LIFETIME_SECS;
use crate::vault::provider_table as ptable;
use crate::vault::{activity, tokens, SharedVault};

const PATH: &str = "/signed-out";

/// The outcome a face shows. No secret.
#[derive(Debug, Clone, Serialize)]
pub struct SignedOut {
    pub provider: String,
    pub account: String,
    /// The provider confirmed the revocation (it has a revocation endpoint).
    pub revoked_at_provider: bool,
    /// The provider's session was ended (its end-session endpoint sent the person back).
    pub session_ended: bool,
    /// The account was forgotten here, not kept as signed out.
    pub forgotten: bool,
}

/// Where the end-session URL is shown: the in-app login window, or somewhere else (the system
/// browser, a terminal), where it must not carry the ID token: a browser's argv and history
/// keep it. Without it, the client id names the client (RP-Initiated Logout 1.0 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShownIn {
    LoginWindow,
    Elsewhere,
}

/// Signs `provider`/`account` out. `open` gets the end-session URL to show the person, when
/// the provider has an end-session endpoint; the wait for their return ends with `cancel` or
/// the sign-in's time limit.
pub fn sign_out(
    vault: &SharedVault,
    provider: &str,
    account: Option<&str>,
    forget: bool,
    cancel: &super::Cancel,
    shown_in: ShownIn,
    open: impl FnOnce(&str) -> Result<()>,
) -> Result<SignedOut> {
    let http = Http::new()?;
    let (p, account, id_token) = vault.with(|v| {
        let account = crate::refresh::resolve_account(v, provider, account)?;
        let t = tokens::get(v.conn(), provider, &account)?;
        Ok((ptable::get(v.conn(), provider)?, account, t.id_token))
    })?;
    let (_, revoked) = vault
        .with(|v| crate::revoke::revoke(v, provider, Some(&account), &http, crate::time::now()))?;
    let mut session_ended = false;
    if let Some(end_session) = &p.end_session_url {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| Error::io("listening for the provider's return", e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io("listening for the provider's return", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::io("listening for the provider's return", e))?
            .port();
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw).map_err(|e| Error::Storage(format!("no randomness: {e}")))?;
        let state = hex::encode(raw);
        let mut url = url::Url::parse(end_session)
            .map_err(|e| Error::field("end_session_url", e.to_string()))?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(hint) = id_token
                .as_ref()
                .filter(|_| shown_in == ShownIn::LoginWindow)
            {
                q.append_pair("id_token_hint", hint.expose());
            }
            q.append_pair("client_id", &p.client_id)
                .append_pair(
                    "post_logout_redirect_uri",
                    &format!("http://127.0.0.1:{port}{PATH}"),
                )
                .append_pair("state", &state);
        }
        open(url.as_str())?;
        let deadline = Instant::now() + Duration::from_secs(SIGNIN_LIFETIME_SECS as u64);
        // The tokens are revoked already: a provider that never sends the person back leaves
        // its session open, which is said, and the rest (forgetting, the log) still happens.
        session_ended = match wait_for_return(&listener, &state, deadline, cancel) {
            Ok(back) => back,
            Err(e) => {
                tracing::warn!("sign-out: {e}");
                false
            }
        };
    }
    vault.with(|v| {
        let tx = v.conn().unchecked_transaction()?;
        if forget {
            tokens::forget(&tx, provider, &account)?;
        }
        let detail = match (session_ended, forget) {
            (true, false) => "the provider's session ended; the account is kept, signed out",
            (true, true) => "the provider's session ended; the account is forgotten",
            (false, false) => "tokens revoked; the account is kept, signed out",
            (false, true) => "tokens revoked; the account is forgotten",
        };
        activity::record(
            &tx,
            crate::time::now(),
            "signed out",
            Some(provider),
            Some(&account),
            Some(detail),
        )?;
        tx.commit()?;
        Ok(())
    })?;
    Ok(SignedOut {
        provider: provider.to_owned(),
        account,
        revoked_at_provider: revoked == crate::revoke::Revoked::AtProvider,
        session_ended,
        forgotten: forget,
    })
}

/// Waits for `GET /signed-out?state=STATE` on `listener`; anything else is answered 404 and
/// the wait goes on. True when the person came back; an error when the time ran out.
fn wait_for_return(
    listener: &TcpListener,
    state: &str,
    deadline: Instant,
    cancel: &super::Cancel,
) -> Result<bool> {
    loop {
        if cancel.is_cancelled() {
            return Err(Error::InvalidInput("the sign-out was cancelled".into()));
        }
        if Instant::now() > deadline {
            return Err(Error::TimedOut(
                "the provider did not send you back within the time limit; the tokens are \
                 revoked, the provider's session may still be open"
                    .into(),
            ));
        }
        match listener.accept() {
            Ok((stream, _)) => {
                if answer(stream, state) {
                    return Ok(true);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(Error::io("waiting for the provider's return", e)),
        }
    }
}

/// Reads one request (bounded, briefly) and answers it; true for the return we wait for.
fn answer(mut stream: TcpStream, state: &str) -> bool {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    // The request line only, however it arrives, up to 8 KiB.
    let mut line = Vec::new();
    let _ = std::io::BufReader::new((&stream).take(8192)).read_until(b'\n', &mut line);
    let line = String::from_utf8_lossy(&line).trim_end().to_owned();
    let target = line
        .strip_prefix("GET ")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_default();
    let ours = url::Url::parse(&format!("http://127.0.0.1{target}")).is_ok_and(|u| {
        u.path() == PATH && u.query_pairs().any(|(k, v)| k == "state" && v == state)
    });
    let (status, body) = if ours {
        (
            "200 OK",
            "<!doctype html><title>Signed out</title><p>You are signed out. You can close this window.",
        )
    } else {
        ("404 Not Found", "not found")
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    ours
}
