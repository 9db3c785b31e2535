//! Times as the vault stores them (Unix seconds) and as the faces print them (RFC 3339, UTC).
//! Business logic takes `now` as an argument; only the faces read the system clock.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The current time in Unix seconds. Call it in a face and pass the value down.
pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

pub fn to_rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// For `#[serde(serialize_with)]`: Unix seconds written as RFC 3339, as every `--json` prints times.
pub fn serialize_rfc3339<S: serde::Serializer>(unix: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&to_rfc3339(*unix))
}

pub fn serialize_opt_rfc3339<S: serde::Serializer>(
    unix: &Option<i64>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match unix {
        Some(t) => serialize_rfc3339(t, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_rfc3339_in_utc() {
        assert_eq!(super::to_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::to_rfc3339(1_800_000_000), "2027-01-15T08:00:00Z");
    }
}
