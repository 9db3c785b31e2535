//! Import a token obtained elsewhere (the Mattermost "set user token"): a token response as
//! JSON, checked like one (an access token, bearer only, a sane lifetime, valid scopes) before
//! it replaces the account's token. Messages name the field, never its value.

use serde_json::Value;

use crate::error::{Error, FieldError, Result};
use crate::oauth::check;
use crate::oauth::flow::MAX_EXPIRES_IN;
use crate::secret::Secret;
use crate::vault::provider_table as ptable;
use crate::vault::tokens::{self, TokenRecord, TokenStatus};
use crate::vault::{activity, Vault};

/// The latest `expires_at` an import may give: 9999-12-31T23:59:59Z, the last time an RFC 3339
/// date can write (`token list` shows every expiry as one).
pub const MAX_EXPIRES_AT: i64 = 253_402_300_799;

/// Checks `json` and stores it as the token of `provider`/`account`; returns its expiry.
pub fn import(
    vault: &Vault,
    provider: &str,
    account: &str,
    json: &[u8],
    now: i64,
) -> Result<Option<i64>> {
    let account = account.trim();
    if account.is_empty() {
        return Err(Error::field(
            "account",
            "is required: the account this token belongs to",
        ));
    }
    check::plain_text(account).map_err(|e| Error::field("account", e))?;
    let record = parse(json, account, now)?;
    // As a sign-in's store: a refresh of this account in another process would otherwise write
    // the old grant's rotated tokens over the imported ones once its answer came back.
    let _lock = crate::refresh::RefreshLock::acquire(vault.path())?;
    let tx = vault.conn().unchecked_transaction()?;
    let id = ptable::view(&tx, provider)?.id;
    tokens::upsert(&tx, id, &record, now)?;
    activity::record(&tx, now, "imported", Some(provider), Some(account), None)?;
    tx.commit()?;
    Ok(record.expires_at)
}

pub(crate) fn parse(json: &[u8], account: &str, now: i64) -> Result<TokenRecord> {
    let v: Value = serde_json::from_slice(json).map_err(|e| {
        Error::InvalidInput(format!(
            "the token to import is not JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let obj = v
        .as_object()
        .ok_or_else(|| Error::InvalidInput("the token to import must be a JSON object".into()))?;
    let mut errors = Vec::new();
    let mut secret = |field: &'static str, required: bool| -> Option<Secret<String>> {
        match obj.get(field) {
            None | Some(Value::Null) if !required => None,
            Some(Value::String(s)) if !s.is_empty() && check::plain_text(s).is_ok() => {
                Some(Secret::new(s.clone()))
            }
            None | Some(Value::Null) => {
                errors.push(FieldError::new(field, "is required"));
                None
            }
            Some(_) => {
                errors.push(FieldError::new(
                    field,
                    "must be a non-empty string without control characters",
                ));
                None
            }
        }
    };
    let access_token = secret("access_token", true);
    let refresh_token = secret("refresh_token", false);
    let id_token = secret("id_token", false);
    match obj.get("token_type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t.eq_ignore_ascii_case("bearer") => {}
        Some(_) => errors.push(FieldError::new("token_type", "must be Bearer")),
    }
    let expires_at = match (obj.get("expires_in"), obj.get("expires_at")) {
        (Some(_), Some(_)) => {
            errors.push(FieldError::new(
                "expires_in",
                "give expires_in or expires_at, not both",
            ));
            None
        }
        (Some(Value::Number(n)), None) => match n.as_u64() {
            Some(s) if s > 0 && s <= MAX_EXPIRES_IN => Some(now.saturating_add(s as i64)),
            _ => {
                errors.push(FieldError::new(
                    "expires_in",
                    "must be a whole number of seconds between 1 and ten years",
                ));
                None
            }
        },
        (Some(_), None) => {
            errors.push(FieldError::new("expires_in", "must be a number of seconds"));
            None
        }
        (None, Some(v)) => {
            // Fixed bounds, so that the OpenAPI document can state them: from 1970 (an expired
            // token may still be refreshed) to the last second RFC 3339 can write. A date is
            // judged by the year it is written in; its offset moves it by less than a day.
            let t = match v {
                Value::Number(n) => n.as_i64().filter(|t| (1..=MAX_EXPIRES_AT).contains(t)),
                Value::String(s) => {
                    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                        .ok()
                        .filter(|t| (1970..=9999).contains(&t.year()))
                        .map(|t| t.unix_timestamp().clamp(0, MAX_EXPIRES_AT))
                }
                _ => None,
            };
            if t.is_none() {
                errors.push(FieldError::new(
                    "expires_at",
                    "must be a Unix time from 1 to 253402300799, or an RFC 3339 date in the \
                     years 1970 to 9999",
                ));
            }
            t
        }
        (None, None) => None,
    };
    let scopes: Vec<String> = match obj.get("scope") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(_) => {
            errors.push(FieldError::new(
                "scope",
                "must be a string of scopes separated by spaces",
            ));
            Vec::new()
        }
    };
    for s in &scopes {
        if let Err(e) = check::scope(s) {
            errors.push(FieldError::new("scope", e));
        }
    }
    if !errors.is_empty() {
        return Err(Error::InvalidFields(errors));
    }
    Ok(TokenRecord {
        account: account.to_owned(),
        subject: None,
        access_token,
        token_type: Some("Bearer".into()),
        refresh_token,
        id_token,
        scopes,
        expires_at,
        status: TokenStatus::Active,
    })
}

/// `crate::fuzzing`: a token to import, read and checked as `import` does.
pub(crate) fn fuzz_parse(json: &[u8], now: i64) -> Result<TokenRecord> {
    parse(json, "fuzz", now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(json: &str) -> Vec<&'static str> {
        match parse(json.as_bytes(), "a", 1000) {
            Err(Error::InvalidFields(f)) => f.iter().map(|e| e.field).collect(),
            other => panic!("{json}: {other:?}"),
        }
    }

    #[test]
    fn a_token_response_imports_with_an_absolute_expiry() {
        let r = parse(br#"{"access_token":"a","token_type":"bearer","expires_in":60,"scope":"x y","refresh_token":"r","extra":1}"#, "a", 1000).unwrap();
        assert_eq!(r.expires_at, Some(1060));
        assert_eq!(r.scopes, ["x", "y"]);
        let r = parse(
            br#"{"access_token":"a","expires_at":"2030-01-01T00:00:00Z"}"#,
            "a",
            1_800_000_000,
        )
        .unwrap();
        assert_eq!(r.expires_at, Some(1_893_456_000));
    }

    #[test]
    fn bad_tokens_are_refused_by_field_without_their_values() {
        assert_eq!(fields(r#"{"token_type":"bearer"}"#), ["access_token"]);
        assert_eq!(
            fields(r#"{"access_token":"a","token_type":"mac"}"#),
            ["token_type"]
        );
        assert_eq!(
            fields(r#"{"access_token":"a","expires_in":-1}"#),
            ["expires_in"]
        );
        assert_eq!(
            fields(r#"{"access_token":"a","expires_in":"3600"}"#),
            ["expires_in"]
        );
        assert_eq!(
            fields(r#"{"access_token":"a","expires_in":1e18}"#),
            ["expires_in"]
        );
        for hostile in [
            "9223372036854775807",
            "18446744073709551616",
            "-1",
            "0",
            "1e300",
            "253402300800",
            r#""10000-01-01T00:00:00Z""#,
            r#""0001-01-01T00:00:00Z""#,
            r#""1969-12-31T23:59:59Z""#,
        ] {
            assert_eq!(
                fields(&format!(r#"{{"access_token":"a","expires_at":{hostile}}}"#)),
                ["expires_at"],
                "{hostile}"
            );
        }
        let last = parse(
            br#"{"access_token":"a","expires_at":"9999-12-31T23:59:59-23:59"}"#,
            "a",
            1,
        )
        .unwrap();
        assert_eq!(
            last.expires_at,
            Some(MAX_EXPIRES_AT),
            "kept within what a date can show"
        );
        let r = parse(br#"{"access_token":"a","expires_at":999}"#, "a", 1000).unwrap();
        assert_eq!(
            r.expires_at,
            Some(999),
            "an expired token may be imported, to refresh"
        );
        assert_eq!(
            fields(r#"{"access_token":"a","scope":"bad\"scope"}"#),
            ["scope"]
        );
        assert_eq!(
            fields(r#"{"access_token":"line\nbreak"}"#),
            ["access_token"]
        );
        let e = parse(br#"{"access_token": 12345678}"#, "a", 1)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("12345678"), "{e}");
        assert!(parse(b"<html>", "a", 1)
            .unwrap_err()
            .to_string()
            .contains("not JSON"));
    }
}
