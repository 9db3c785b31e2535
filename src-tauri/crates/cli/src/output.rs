//! How the CLI reports failure: one line on stderr (or `{code, message}` JSON), and the exit
//! code of the contract.

use oauth_desk_core::Error;

use crate::exit;

pub fn exit_code(e: &Error) -> u8 {
    match e.code() {
        "needs_signin" => exit::NEEDS_SIGNIN,
        "usage" => exit::USAGE,
        _ => exit::ERROR,
    }
}

pub fn print_error(e: &Error, json: bool) {
    if json {
        let mut body = serde_json::json!({ "code": e.code(), "message": e.to_string() });
        if let Error::InvalidFields(fields) = e {
            body["fields"] = serde_json::json!(fields);
        }
        eprintln!("{body}");
    } else if let Error::InvalidFields(fields) = e {
        eprintln!("oauth-desk: nothing was saved; fix these and try again:");
        for f in fields {
            eprintln!("  {}: {}", f.field, printable(&f.message));
        }
    } else {
        eprintln!("oauth-desk: {}", printable(&e.to_string()));
    }
}

/// Control characters (terminal escape sequences among them) shown as `\u{..}`, so that text
/// from a file name or a provider can never drive the user's terminal.
pub fn printable(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() && c != '\n' {
                c.escape_unicode().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_sequences_are_shown_not_obeyed() {
        assert_eq!(super::printable("a\u{1b}[31mb"), "a\\u{1b}[31mb");
    }
}
