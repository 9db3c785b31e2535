//! The one error type of OAuth Desk, with a stable `code()` that the faces branch on
//! (CLI exit codes, `{code, message}` in the window and the REST API).
//!
//! Messages are written for the person reading them and never carry a secret: no key, token,
//! client secret or passphrase is ever formatted into one.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidInput(String),

    /// One or more fields of a form or a command line are wrong; each says which and why.
    #[error("{}", fields_message(.0))]
    InvalidFields(Vec<FieldError>),

    #[error("{0}")]
    NotFound(String),

    /// A provider could not be reached: DNS, connect, TLS or a time limit.
    #[error("{0}")]
    Network(String),

    /// A provider answered, but not with what the protocol asks for.
    #[error("{0}")]
    ProviderError(String),

    /// A provider said it cannot serve now (HTTP 429, 502, 503, 504, after the retries its
    /// Retry-After allowed). Its `code()` is "provider_error"; the background refresh waits
    /// for the provider as a whole, as for one it cannot reach.
    #[error("{0}")]
    Unavailable(String),

    /// A provider answered with an OAuth error (RFC 6749 §4.1.2.1 and §5.2, RFC 8628 §3.5,
    /// RFC 7009 §2.2.1). `error` is its code as sent, for the code to branch on (never the
    /// message, which quotes the provider's own description); `message` is for the person.
    /// Its `code()` is "provider_error", like any other refusal.
    #[error("{message}")]
    OAuth { error: String, message: String },

    /// The user (or the window closing) stopped a sign-in.
    #[error("{0}")]
    Cancelled(String),

    /// A sign-in or a request ran out of time.
    #[error("{0}")]
    TimedOut(String),

    /// The person (or nobody, in time) did not let the program have the token: the provider
    /// asks first (code "denied", or "not_answered").
    #[error("{message}")]
    NotAllowed { code: &'static str, message: String },

    /// The token agent's vault is locked (by hand, or after idle minutes): the window unlocks
    /// it.
    #[error("{0}")]
    AgentLocked(String),

    /// The token cannot be refreshed: the account has to sign in again.
    #[error("{0}")]
    NeedsSignin(String),

    /// No keyring answered and no passphrase was given.
    #[error("{}", passphrase_required(path, reason, *exists))]
    PassphraseRequired {
        path: PathBuf,
        reason: String,
        exists: bool,
    },

    /// The vault this process shares between its threads is not open: not unlocked yet, or
    /// forgotten after a failure while it was held (`vault::SharedVault`).
    #[error("the vault is locked: unlock it in the OAuth Desk window, or run the command again")]
    VaultNotOpen,

    /// The keyring answers but holds no key for this existing vault.
    #[error(
        "the OS keyring has no key for the vault at {path} (vault id {vault_id}). If this vault \
         uses a passphrase, set OAUTH_DESK_PASSPHRASE or pass --passphrase-stdin; otherwise its \
         key was removed from the keyring and the vault cannot be opened"
    )]
    KeyMissing { path: PathBuf, vault_id: String },

    #[error("the key does not open the vault at {path}: wrong passphrase, or a keyring entry that belongs to another vault")]
    WrongKey { path: PathBuf },

    #[error("the vault at {path} is truncated ({detail}); it was left as it is. Restore it from a backup")]
    VaultTruncated { path: PathBuf, detail: String },

    #[error(
        "the vault at {path} is damaged ({detail}); it was left as it is. Restore it from a backup"
    )]
    VaultCorrupt { path: PathBuf, detail: String },

    /// Damage met by a query after the vault opened (where the path is not at hand).
    #[error("the vault is damaged ({0}); it was left as it is. Restore it from a backup")]
    Damaged(String),

    #[error(
        "{path} is a plain, unencrypted SQLite file, not an OAuth Desk vault; it was left as it is"
    )]
    NotEncrypted { path: PathBuf },

    #[error("the vault at {path} has schema version {found}, newer than this build knows ({supported}); update OAuth Desk")]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    /// A backup file that cannot be restored; `code` is the vault error it amounts to
    /// (wrong_key, vault_corrupt, vault_truncated, schema_too_new...).
    #[error("{message}")]
    BadBackup { code: &'static str, message: String },

    /// Another process has the vault open, or is replacing it.
    #[error("{0}")]
    VaultBusy(String),

    #[error("this build of OAuth Desk is not linked with SQLCipher; refusing to store secrets unencrypted")]
    NoCipher,

    #[error("the OS keyring failed: {0}")]
    Keyring(String),

    #[error("vault storage error: {0}")]
    Storage(String),

    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl Error {
    /// A stable, machine-readable code. Faces branch on this, never on the message.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidInput(_) | Error::InvalidFields(_) => "invalid_input",
            Error::NotFound(_) => "not_found",
            Error::Network(_) => "network",
            Error::ProviderError(_) | Error::Unavailable(_) | Error::OAuth { .. } => {
                "provider_error"
            }
            Error::Cancelled(_) => "cancelled",
            Error::TimedOut(_) => "timed_out",
            Error::NeedsSignin(_) => "needs_signin",
            Error::AgentLocked(_) => "locked",
            Error::NotAllowed { code, .. } => code,
            Error::PassphraseRequired { .. } | Error::VaultNotOpen => "vault_locked",
            Error::KeyMissing { .. } => "key_missing",
            Error::WrongKey { .. } => "wrong_key",
            Error::VaultTruncated { .. } => "vault_truncated",
            Error::VaultCorrupt { .. } | Error::Damaged(_) => "vault_corrupt",
            Error::NotEncrypted { .. } => "vault_not_encrypted",
            Error::SchemaTooNew { .. } => "schema_too_new",
            Error::VaultBusy(_) => "vault_busy",
            Error::BadBackup { code, .. } => code,
            Error::NoCipher => "no_cipher",
            Error::Keyring(_) => "keyring",
            Error::Storage(_) => "storage",
            Error::Io { .. } => "io",
        }
    }

    /// The OAuth error code a provider answered with, if this is such an answer.
    pub fn oauth_error(&self) -> Option<&str> {
        match self {
            Error::OAuth { error, .. } => Some(error),
            _ => None,
        }
    }

    /// One field is wrong.
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidFields(vec![FieldError::new(field, message)])
    }

    /// Every field error is a clash with what is stored (see `FieldError::conflict`).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::InvalidFields(f) if !f.is_empty() && f.iter().all(|e| e.conflict))
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        // errno first, before anything else can overwrite it.
        let os = std::io::Error::last_os_error().raw_os_error();
        if disk_full(&e, os) {
            return Error::Storage(
                "the disk holding the vault is full (no space left on device); nothing was \
                 changed: free some space and try again"
                    .into(),
            );
        }
        if matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
        ) {
            return Error::Damaged(e.to_string());
        }
        // rusqlite's Display carries SQLite's message and, at most, a column name: statements
        // bind their values as parameters, so no secret can end up in it.
        Error::Storage(e.to_string())
    }
}

/// SQLite says SQLITE_FULL when a write to the file fails for space, but a full disk met while
/// growing the WAL index (`-shm`) comes back as a plain I/O error: errno tells those apart.
fn disk_full(e: &rusqlite::Error, os_errno: Option<i32>) -> bool {
    const ENOSPC: i32 = 28;
    const EDQUOT: i32 = 122;
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => true,
        Some(rusqlite::ErrorCode::SystemIoFailure) => {
            matches!(os_errno, Some(ENOSPC | EDQUOT))
                || matches!(e, rusqlite::Error::SqliteFailure(f, _)
                    if f.extended_code == rusqlite::ffi::SQLITE_IOERR_SHMSIZE)
        }
        _ => false,
    }
}

/// What is wrong with one field. `field` is the name the JSON, the form and (with dashes) the
/// command line use.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
    /// The value is well formed but clashes with what is stored (a name already taken): the
    /// REST API answers 409 rather than 422, since no request could be right without a change.
    #[serde(skip)]
    pub conflict: bool,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            field,
            message: message.into(),
            conflict: false,
        }
    }

    pub fn conflict(field: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            conflict: true,
            ..FieldError::new(field, message)
        }
    }
}

fn fields_message(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

fn passphrase_required(path: &std::path::Path, reason: &str, exists: bool) -> String {
    let what = if exists {
        format!("the vault at {} needs its passphrase", path.display())
    } else {
        format!(
            "a new vault at {} needs a passphrase to protect it",
            path.display()
        )
    };
    format!(
        "{what}: no OS keyring is available ({reason}). Set OAUTH_DESK_PASSPHRASE, \
         pass --passphrase-stdin, or unlock it in the window"
    )
}
