//! Where the token agent listens and how to ask it for a token: one line of JSON each way.
//! The standard library (and libc, for the peer's uid) only, so that the `oauth-desk` front
//! command, which answers `token get` from the agent, starts as fast as a C program; the agent
//! itself (in the core) reads and writes the same lines with serde.
//!
//! Ask:    {"provider":"NAME","account":"LABEL"|null,"min_valid":SECONDS}
//! Answer: {"token":"...","code":null,"message":null} or {"token":null,"code":"...","message":"..."}

use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub mod handover;
pub mod private;

/// The longest answer line read from an agent: a large JWT access token is a few KiB.
pub const ANSWER_LIMIT: usize = 1 << 20;
/// The longest request line an agent reads: a provider's and an account's name.
pub const ASK_LIMIT: usize = 16 << 10;

/// A socket of this user for `vault`: `<private socket dir>/<hash of the path>.<kind>`.
pub fn socket_path(vault: &Path, kind: &str) -> PathBuf {
    private::socket_dir().join(socket_name(vault, kind))
}

/// The socket's file name for `vault`, without its folder.
pub fn socket_name(vault: &Path, kind: &str) -> String {
    // The same vault named two ways (relative, through a link) is one vault.
    let vault = std::fs::canonicalize(vault).unwrap_or_else(|_| vault.to_owned());
    let mut h = std::hash::DefaultHasher::new();
    vault.hash(&mut h);
    format!("{:016x}.{kind}", h.finish())
}

/// The agent socket OAUTH_DESK_AGENT names, if any: on another machine, the one `ssh -R`
/// forwards there from the machine with the vault.
pub fn named_agent() -> Option<PathBuf> {
    std::env::var_os("OAUTH_DESK_AGENT")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

/// What the agent said.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    Token(String),
    /// An error with its code (`needs_signin`, `not_found`, ...) and message.
    Refused {
        code: String,
        message: String,
    },
}

/// Asks the agent of `vault` for a token valid `min_valid` more seconds. None when no agent
/// answers, it is not safe to ask (see `try_ask`), or its answer cannot be read: the caller
/// then opens the vault itself.
pub fn ask(vault: &Path, provider: &str, account: Option<&str>, min_valid: i64) -> Option<Answer> {
    try_ask(vault, provider, account, min_valid).ok().flatten()
}

/// As `ask`, but says why it did not ask: an error of kind `PermissionDenied` when the socket's
/// folder is not a private folder of ours or another user answers there. The request (a
/// provider's and an account's name) is sent only after both checks.
pub fn try_ask(
    vault: &Path,
    provider: &str,
    account: Option<&str>,
    min_valid: i64,
) -> io::Result<Option<Answer>> {
    let mut stream = match named_agent() {
        // Named: it must answer, or the caller says why (there is no vault here to fall
        // back on, as a rule).
        Some(path) => private::connect_named(&path)?,
        None => match private::connect(&socket_path(vault, "agent")) {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => return Err(e),
            Err(_) => return Ok(None),
        },
    };
    // A refresh can take the provider's time; the HTTP client's own limit is 30 s.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(40)));
    if stream
        .write_all(request(provider, account, min_valid).as_bytes())
        .is_err()
    {
        return Ok(None);
    }
    Ok(private::read_line(&stream, ANSWER_LIMIT)
        .ok()
        .and_then(|line| parse_answer(&line)))
}

/// The request line.
pub fn request(provider: &str, account: Option<&str>, min_valid: i64) -> String {
    let account = account.map_or_else(|| "null".to_owned(), quote);
    format!(
        "{{\"provider\":{},\"account\":{account},\"min_valid\":{min_valid}}}\n",
        quote(provider)
    )
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Reads an answer line: a flat JSON object whose values are strings or null.
pub fn parse_answer(line: &str) -> Option<Answer> {
    let mut fields = std::collections::HashMap::new();
    let mut p = Parser {
        s: line.trim().as_bytes(),
        i: 0,
    };
    p.eat(b'{')?;
    if p.peek()? != b'}' {
        loop {
            let key = p.string()?;
            p.eat(b':')?;
            let value = if p.peek()? == b'n' {
                p.literal(b"null")?;
                None
            } else {
                Some(p.string()?)
            };
            fields.insert(key, value);
            match p.next()? {
                b',' => continue,
                b'}' => break,
                _ => return None,
            }
        }
    }
    match fields.remove("token").flatten() {
        Some(token) => Some(Answer::Token(token)),
        None => Some(Answer::Refused {
            code: fields.remove("code").flatten()?,
            message: fields.remove("message").flatten().unwrap_or_default(),
        }),
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.i).is_some_and(|b| b.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.i).copied()
    }
    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }
    fn eat(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.skip_ws();
        let end = self.i + word.len();
        (self.s.get(self.i..end)? == word).then(|| self.i = end)
    }
    fn hex4(&mut self) -> Option<u32> {
        let digits = std::str::from_utf8(self.s.get(self.i..self.i + 4)?).ok()?;
        self.i += 4;
        u32::from_str_radix(digits, 16).ok()
    }
    fn string(&mut self) -> Option<String> {
        self.eat(b'"')?;
        let mut out = Vec::new();
        loop {
            let b = *self.s.get(self.i)?;
            self.i += 1;
            match b {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xd800..0xdc00).contains(&hi) {
                                self.literal(b"\\u")?;
                                let lo = self.hex4()?;
                                0x10000 + ((hi - 0xd800) << 10) + (lo.checked_sub(0xdc00)?)
                            } else {
                                hi
                            };
                            char::from_u32(code)?
                        }
                        _ => return None,
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                b => out.push(b),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_quote_what_needs_quoting() {
        assert_eq!(
            request("My \"IdP\"", Some("a\\b\n"), 60),
            "{\"provider\":\"My \\\"IdP\\\"\",\"account\":\"a\\\\b\\u000a\",\"min_valid\":60}\n"
        );
        assert_eq!(
            request("x", None, 0),
            "{\"provider\":\"x\",\"account\":null,\"min_valid\":0}\n"
        );
    }

    #[test]
    fn answers_are_read_with_escapes_and_nulls() {
        assert_eq!(
            parse_answer(
                "{\"token\":\"a\\\"b\\\\c\\u00e9\\ud83d\\ude00\",\"code\":null,\"message\":null}\n"
            ),
            Some(Answer::Token("a\"b\\cé😀".into()))
        );
        assert_eq!(
            parse_answer("{\"token\":null,\"code\":\"needs_signin\",\"message\":\"sign in\"}"),
            Some(Answer::Refused {
                code: "needs_signin".into(),
                message: "sign in".into()
            })
        );
    }

    #[test]
    fn anything_else_is_no_answer() {
        for bad in [
            "",
            "{",
            "[]",
            "{\"token\":12}",
            "{\"token\":\"unterminated}",
            "{\"token\":null}",
            "{\"token\":\"\\x\"}",
            "{\"token\":\"\\ud800\"}",
        ] {
            assert_eq!(parse_answer(bad), None, "{bad:?}");
        }
    }
}
