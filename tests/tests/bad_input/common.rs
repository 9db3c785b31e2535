//! What every case of the catalogue shares: the case itself, a scratch desk (session + vault
//! passphrase), and the checks "refused with a clear error" and "nothing changed".

use std::process::Output;

use oauth_desk_tests::cli::{run, sha, stderr, stdout};
use oauth_desk_tests::session::Session;
use serde_json::Value;

/// What a case saw (Ok: a short quote of the error or outcome) or why it failed (Err).
pub type Check = Result<String, String>;

pub struct Case {
    pub area: &'static str,
    pub name: String,
    pub expected: String,
    pub run: Box<dyn Fn() -> Check + Send + Sync>,
}

pub fn case(
    area: &'static str,
    name: impl Into<String>,
    expected: impl Into<String>,
    run: impl Fn() -> Check + Send + Sync + 'static,
) -> Case {
    Case {
        area,
        name: name.into(),
        expected: expected.into(),
        run: Box::new(run),
    }
}

pub const PASSPHRASE: &str = "bad input catalogue";
pub const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", PASSPHRASE);

/// A throwaway session whose vault opens with `PASSPHRASE` (no keyring).
pub struct Desk {
    pub s: Session,
}

impl Desk {
    pub fn new() -> Desk {
        Desk {
            s: Session::without_keyring(),
        }
    }

    /// A desk whose vault holds one provider, "Existing" (client id "catalogue-client").
    pub fn with_existing() -> Result<Desk, String> {
        let d = Desk::new();
        d.provider("Existing", "https://idp.example", &[])?;
        Ok(d)
    }

    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        run(&self.s, args, &[PASS], stdin)
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
        let mut all = vec![PASS];
        all.extend_from_slice(env);
        run(&self.s, args, &all, stdin)
    }

    /// Runs a command that must succeed.
    pub fn ok(&self, args: &[&str], stdin: &str) -> Result<Output, String> {
        let out = self.run(args, stdin);
        if out.status.success() {
            Ok(out)
        } else {
            Err(format!("oauth-desk {args:?} failed: {}", stderr(&out)))
        }
    }

    /// Adds a public client by hand with endpoints on `base` (nothing fetched).
    pub fn provider(&self, name: &str, base: &str, extra: &[&str]) -> Result<(), String> {
        let (auth, token) = (format!("{base}/auth"), format!("{base}/token"));
        let mut args = vec![
            "provider",
            "add",
            name,
            "--client-id",
            "catalogue-client",
            "--auth-url",
            &auth,
            "--token-url",
            &token,
        ];
        args.extend_from_slice(extra);
        self.ok(&args, "").map(|_| ())
    }

    pub fn vault(&self) -> std::path::PathBuf {
        self.s.default_vault()
    }

    /// The token stored for `provider`/`account`, read from the vault itself.
    pub fn stored(
        &self,
        provider: &str,
        account: &str,
    ) -> Result<oauth_desk_core::vault::tokens::TokenRecord, String> {
        use oauth_desk_core::vault::{tokens, Create, NoKeyring, Unlock, Vault};
        let v = Vault::open(
            &self.vault(),
            Unlock::Passphrase(PASSPHRASE.into()),
            &NoKeyring,
            Create::Never,
        )
        .map_err(|e| e.to_string())?;
        tokens::get(v.conn(), provider, account).map_err(|e| e.to_string())
    }

    /// `provider add NAME --client-id c --token-url https://idp.example/t --json`: a save that
    /// needs nothing but the vault, for the cases where the vault itself is in the way.
    pub fn add_json(&self, name: &str) -> Output {
        self.run(
            &[
                "provider",
                "add",
                name,
                "--client-id",
                "c",
                "--token-url",
                "https://idp.example/t",
                "--json",
            ],
            "",
        )
    }

    /// What "nothing changed" compares: the file's bytes, the providers and the tokens.
    pub fn snapshot(&self) -> Snapshot {
        let list = |args: &[&str]| stdout(&self.run(args, ""));
        Snapshot {
            file: self.vault().exists().then(|| sha(&self.vault())),
            providers: list(&["provider", "list", "--json"]),
            tokens: list(&["token", "list", "--json"]),
        }
    }
}

#[derive(PartialEq, Eq, Debug)]
pub struct Snapshot {
    file: Option<Vec<u8>>,
    providers: String,
    tokens: String,
}

impl Snapshot {
    /// Err unless `after` is the same vault: same bytes, providers and tokens.
    pub fn same(&self, after: &Snapshot) -> Result<(), String> {
        if self.providers != after.providers {
            return Err(format!(
                "the providers changed: {} -> {}",
                self.providers, after.providers
            ));
        }
        if self.tokens != after.tokens {
            return Err(format!(
                "the tokens changed: {} -> {}",
                self.tokens, after.tokens
            ));
        }
        if self.file != after.file {
            return Err("the vault file's bytes changed".into());
        }
        Ok(())
    }
}

/// The error a command printed: the last line of standard error as JSON, else its text.
pub struct Failure {
    pub exit: Option<i32>,
    pub code: String,
    pub message: String,
    pub fields: Vec<(String, String)>,
}

pub fn failure(out: &Output) -> Failure {
    let err = stderr(out);
    let last = err.lines().last().unwrap_or_default();
    let json: Option<Value> = serde_json::from_str(last).ok();
    let fields = json
        .as_ref()
        .and_then(|j| j["fields"].as_array())
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["field"].as_str().unwrap_or_default().to_owned(),
                        f["message"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Failure {
        exit: out.status.code(),
        code: json
            .as_ref()
            .and_then(|j| j["code"].as_str())
            .unwrap_or_default()
            .to_owned(),
        message: json
            .as_ref()
            .and_then(|j| j["message"].as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| err.trim().to_owned()),
        fields,
    }
}

/// The command failed with `exit`, error `code` (any when empty) and a message containing
/// `says`; nothing raw from a terminal's point of view (no ESC) reached the output.
pub fn refused(out: &Output, exit: i32, code: &str, says: &str) -> Check {
    let f = failure(out);
    if f.exit != Some(exit) {
        return Err(format!(
            "exit {:?} (wanted {exit}); stdout {:?}; stderr {:?}",
            f.exit,
            short(&stdout(out)),
            short(&stderr(out))
        ));
    }
    if !code.is_empty() && f.code != code {
        return Err(format!("code {:?} (wanted {code}): {}", f.code, f.message));
    }
    let all = f.message.clone();
    if !all.contains(says) {
        return Err(format!("the message does not say {says:?}: {all}"));
    }
    no_raw_escapes(out)?;
    Ok(short(&all))
}

/// Refused as invalid input on `field`, with a message containing `says`.
pub fn field_refused(out: &Output, field: &str, says: &str) -> Check {
    let f = failure(out);
    if f.exit != Some(1) || f.code != "invalid_input" {
        return Err(format!(
            "exit {:?}, code {:?}: {}",
            f.exit, f.code, f.message
        ));
    }
    match f.fields.iter().find(|(k, _)| k == field) {
        Some((_, m)) if m.contains(says) => {
            no_raw_escapes(out)?;
            Ok(short(&format!("{field}: {m}")))
        }
        Some((_, m)) => Err(format!("{field}: the message does not say {says:?}: {m}")),
        None => Err(format!("no error on {field}: {:?}", f.fields)),
    }
}

pub fn no_raw_escapes(out: &Output) -> Result<(), String> {
    if out.stdout.contains(&0x1b) || out.stderr.contains(&0x1b) {
        return Err("a raw escape character reached the terminal".into());
    }
    Ok(())
}

/// The first line of `s`, at most 90 characters: what the table quotes.
pub fn short(s: &str) -> String {
    let line = s.trim().lines().next().unwrap_or_default();
    match line.char_indices().nth(90) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_owned(),
    }
}

/// Err with `what` unless `cond`.
pub fn ensure(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(what())
    }
}

/// `base` with the members of `patch` set, a null removing one: a valid answer with one thing
/// wrong.
pub fn patched(mut base: Value, patch: Value) -> Value {
    for (k, v) in patch.as_object().expect("a patch is an object") {
        if v.is_null() {
            base.as_object_mut().unwrap().remove(k);
        } else {
            base[k] = v.clone();
        }
    }
    base
}
