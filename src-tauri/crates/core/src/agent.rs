//! The token agent. A process that already has the vault open (the window, `oauth-desk serve`)
//! answers `oauth-desk token get` over a Unix socket, so a script pays for one local round trip
//! instead of a keyring look-up and a vault open: the model of oidc-agent and `oidc-token`.
//!
//! The socket sits in a private (0700) folder of the user's runtime directory (or of the temp
//! directory without one), named after the vault; the folder is refused unless it is a real
//! folder of this user's that nobody else can enter, and a connection from another user is
//! refused too (see `oauth_desk_agent_client::private`). `serve` answers from keyring-mode vaults
//! only: there any process of the user can already fetch the key from the keyring, so the agent
//! gives away nothing new. The window also answers from a passphrase vault while the person
//! keeps it unlocked there (as ssh-agent holds a key once its passphrase is typed), since the
//! window locks it again after idle minutes; locked, the agent answers "locked".

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::vault::{KeyMode, SharedVault};

/// A socket of this user for `vault` (the address the `oauth-desk` front command asks too).
pub use oauth_desk_agent_client::{private, socket_name, socket_path};

/// Binds `path` in its private folder, replacing what a crashed process left; Ok(None) when a
/// live process of ours answers there already (it is the agent). An error, which says why,
/// when the folder is not a private folder of ours: another user made it, or opened it up, or
/// left a link there.
pub fn bind_private(path: &Path) -> Result<Option<UnixListener>> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::InvalidInput(format!("{} has no folder", path.display())))?;
    let unsafe_dir = |e: std::io::Error| Error::Io {
        context: if e.kind() == std::io::ErrorKind::PermissionDenied {
            "its socket folder is not safe to use"
        } else {
            "no socket folder"
        }
        .into(),
        source: e,
    };
    private::make_dir(dir).map_err(unsafe_dir)?;
    if private::connect(path).is_ok() {
        return Ok(None);
    }
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)
        .map_err(|e| Error::io(format!("listening on {}", path.display()), e))?;
    // Checked again once bound: a folder swapped in between is not used.
    private::check_dir(dir).map_err(unsafe_dir)?;
    Ok(Some(listener))
}

#[derive(Serialize, Deserialize)]
struct Request {
    provider: String,
    account: Option<String>,
    min_valid: i64,
}

#[derive(Serialize, Deserialize)]
struct Answer {
    token: Option<String>,
    code: Option<String>,
    message: Option<String>,
}

/// Which vaults an agent answers from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serves {
    /// Keyring vaults only (`serve`, which nothing locks again).
    KeyringVaults,
    /// Any vault while it is unlocked (the window, which locks a passphrase vault when idle).
    WhileUnlocked,
}

/// How long a person has to answer the question before the program is told nobody did (its
/// `token get` waits 40 s for any answer).
pub const ASK_LIMIT: Duration = Duration::from_secs(30);

/// How long "allow for 8 hours" lasts.
pub const ALLOW_FOR: Duration = Duration::from_secs(8 * 3600);

/// A program asks for a token of a provider that asks first: who, and for what.
#[derive(Debug, Clone, Serialize)]
pub struct Question {
    pub provider: String,
    pub account: String,
    /// The asking program's executable, as /proc names it, or "an unknown program".
    pub program: String,
    pub pid: Option<i32>,
    /// Asked from another machine, through an `ssh -R` forwarding of the socket.
    pub remote: bool,
}

/// The person's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Once,
    /// This program, for this provider, for `ALLOW_FOR`.
    ForHours,
    Deny,
    /// Nobody answered within `ASK_LIMIT`.
    NoAnswer,
}

/// Puts a question to the person (the window's prompt, or a notification when it is hidden)
/// and waits for the answer, at most `ASK_LIMIT`.
pub trait Ask: Send + Sync {
    fn ask(&self, question: &Question) -> Verdict;
}

/// What the agent shares between its connections: who may ask, and who was allowed for a while.
#[derive(Clone)]
struct Rules {
    serves: Serves,
    asker: Option<Arc<dyn Ask>>,
    /// How many connections are being answered: beyond `MAX_CONNECTIONS`, one is told busy.
    open: Arc<std::sync::atomic::AtomicUsize>,
}

/// Programs (this run of each) allowed a provider's tokens for a while, until then. Shared by
/// every agent of the process, and forgotten when the vault locks.
type Allowances = HashMap<((String, i32, u64), String), Instant>;

fn allowances() -> &'static Mutex<Allowances> {
    static ALLOWED: std::sync::OnceLock<Mutex<Allowances>> = std::sync::OnceLock::new();
    ALLOWED.get_or_init(Mutex::default)
}

/// Forgets every "allow for 8 hours" (the vault was locked).
pub fn forget_allowances() {
    allowances()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clear();
}

/// At most this many connections are answered at once; a flood beyond is told "busy".
const MAX_CONNECTIONS: usize = 32;

/// The agent's answer when its vault is locked.
const LOCKED: &str = "OAuth Desk's vault is locked: unlock it in its window (or from its tray)";

/// Starts answering on the vault's agent socket, unless another process does already. An
/// error (the agent is then off, the rest works) when its folder is not safe to use.
pub fn start(
    vault_path: &Path,
    vault: SharedVault,
    serves: Serves,
    asker: Option<Arc<dyn Ask>>,
) -> Result<()> {
    let Some(listener) = bind_private(&socket_path(vault_path, "agent"))? else {
        return Ok(());
    };
    let rules = Rules {
        serves,
        asker,
        open: Arc::default(),
    };
    std::thread::Builder::new()
        .name("token-agent".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                use std::sync::atomic::Ordering;
                if rules.open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                    rules.open.fetch_sub(1, Ordering::SeqCst);
                    busy(&stream);
                    continue;
                }
                let (vault, rules) = (vault.clone(), rules.clone());
                let spawned = std::thread::Builder::new()
                    .name("token-agent-answer".into())
                    .spawn(move || {
                        answer(stream, &vault, &rules);
                        rules.open.fetch_sub(1, Ordering::SeqCst);
                    });
                // No thread to be had: that connection goes unanswered, the agent goes on.
                if let Err(e) = spawned {
                    tracing::warn!("token agent: {e}");
                }
            }
        })
        .map_err(|e| Error::io("starting the token agent", e))?;
    Ok(())
}

/// Tells a connection beyond the limit that the agent is busy, without reading it.
fn busy(stream: &UnixStream) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let answer = Answer {
        token: None,
        code: Some("busy".into()),
        message: Some("the token agent is busy: try again".into()),
    };
    let mut text = serde_json::to_string(&answer).expect("answers serialize");
    text.push('\n');
    let _ = (&*stream).write_all(text.as_bytes());
}

fn answer(stream: UnixStream, vault: &SharedVault, rules: &Rules) {
    // Another user never learns a token, nor which providers and accounts there are.
    if let Err(e) = private::check_peer(&stream) {
        tracing::warn!("token agent: {e}");
        return;
    }
    // Who asks, read as soon as they connect (a program that execs another before writing
    // is named as the one that connected), and before the answer lets them go.
    let asker = Asker::of(&stream);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    // A request is two names: a longer line is dropped unread.
    let Ok(line) = private::read_line(&stream, oauth_desk_agent_client::ASK_LIMIT) else {
        return;
    };
    let ask = serde_json::from_str::<Request>(&line);
    let reply = match &ask {
        Ok(ask) => {
            allowed(ask, vault, rules, &asker).and_then(|()| token_for(ask, vault, rules.serves))
        }
        Err(_) => Err(Error::InvalidInput("not a token request".into())),
    };
    let handed = reply.is_ok();
    let answer = match reply {
        Ok(token) => Answer {
            token: Some(token.expose().clone()),
            code: None,
            message: None,
        },
        Err(Error::VaultNotOpen) => Answer {
            token: None,
            code: Some("locked".into()),
            message: Some(LOCKED.into()),
        },
        Err(e) => Answer {
            token: None,
            code: Some(e.code().into()),
            message: Some(e.to_string()),
        },
    };
    let mut text = serde_json::to_string(&answer).expect("answers serialize");
    text.push('\n');
    let _ = (&stream).write_all(text.as_bytes());
    // Logged once the answer is out: the caller does not wait for the vault's write.
    if let (true, Ok(ask)) = (handed, &ask) {
        log_handout(ask, vault, &asker);
    }
}

/// The program that asked, as the kernel and /proc name it: for the activity log and the
/// question, never trusted for more. The process on the socket is OAuth Desk's own command
/// (`oauth-desk`, the full command, the docker helper) run by somebody: the program named is
/// the first one up its parents that is not OAuth Desk's, the script or tool that ran it.
struct Asker {
    pid: Option<i32>,
    program: Option<String>,
    /// When that process started (clock ticks after boot): with the pid, this run of the
    /// program, which a later process reusing the pid is not.
    started: Option<u64>,
    /// The peer is the ssh client carrying another machine's requests (`ssh -R`).
    remote: bool,
}

/// OAuth Desk's own commands, which ask on somebody's behalf.
const OURS: &[&str] = &[
    "oauth-desk",
    "oauth-desk-cli",
    "docker-credential-oauth-desk",
];

fn exe_of(pid: i32) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .ok()
        .map(|exe| exe.display().to_string())
}

/// The parent pid and the start time of `pid`, from /proc/PID/stat.
fn stat_of(pid: i32) -> Option<(i32, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // After the command: state, ppid, ... starttime is the 20th.
    Some((fields.get(1)?.parse().ok()?, fields.get(19)?.parse().ok()?))
}

impl Asker {
    fn of(stream: &UnixStream) -> Asker {
        let mut pid = private::peer_pid(stream).ok().filter(|p| *p > 0);
        let mut exe = pid.and_then(exe_of);
        let name = |e: &Option<String>| {
            e.as_deref()
                .and_then(|p| p.rsplit('/').next())
                .unwrap_or_default()
                .to_owned()
        };
        let peer = name(&exe);
        let remote = matches!(peer.as_str(), "ssh" | "sshd") || peer.starts_with("sshd-");
        // Up past OAuth Desk's own commands, a few levels at most.
        for _ in 0..8 {
            if remote || !OURS.contains(&name(&exe).as_str()) {
                break;
            }
            let Some((parent, _)) = pid.and_then(stat_of).filter(|(pp, _)| *pp > 1) else {
                break;
            };
            pid = Some(parent);
            exe = exe_of(parent);
        }
        Asker {
            pid,
            started: pid.and_then(stat_of).map(|(_, started)| started),
            program: exe
                .map(|e| crate::text::visible(&e))
                .map(|p| p.chars().take(300).collect()),
            remote,
        }
    }

    fn remote(&self) -> bool {
        self.remote
    }

    /// What an allowance for 8 hours is tied to: this run of this program. None when the
    /// program cannot be told apart (its /proc entries unreadable): never allowed for long.
    fn identity(&self) -> Option<(String, i32, u64)> {
        Some((self.program.clone()?, self.pid?, self.started?))
    }

    fn describe(&self) -> String {
        let program = self.program.as_deref().unwrap_or("an unknown program");
        let pid = self.pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
        if self.remote() {
            format!("to another machine over SSH, through {program}{pid}")
        } else {
            format!("to {program}{pid}")
        }
    }
}

fn token_for(ask: &Request, vault: &SharedVault, serves: Serves) -> Result<Secret<String>> {
    vault.with(|v| {
        if serves == Serves::KeyringVaults && v.key_mode() != KeyMode::Keyring {
            return Err(Error::InvalidInput(
                "the agent serves keyring vaults only".into(),
            ));
        }
        crate::refresh::access_token(
            v,
            &ask.provider,
            ask.account.as_deref(),
            // A caller cannot make every request a refresh at the provider.
            ask.min_valid.clamp(0, 3600),
            &crate::http::Http::new,
            &crate::time::now,
        )
    })
}

/// Whether `asker` may have the token: yes, unless the provider asks first; then yes when the
/// person allowed this program for a while, or allows it now. A refusal is logged.
fn allowed(ask: &Request, vault: &SharedVault, rules: &Rules, asker: &Asker) -> Result<()> {
    let (asks_first, account) = vault.with(|v| {
        let p = crate::vault::provider_table::get(v.conn(), &ask.provider)?;
        let account = crate::refresh::resolve_account(v, &ask.provider, ask.account.as_deref())?;
        // A passphrase vault the window holds unlocked asks for every provider: its person
        // chose that a program must not take tokens on its own.
        let passphrase = rules.serves == Serves::WhileUnlocked && v.key_mode() != KeyMode::Keyring;
        Ok((p.ask_first || passphrase, account))
    })?;
    if !asks_first {
        return Ok(());
    }
    let program = asker
        .program
        .clone()
        .unwrap_or_else(|| "an unknown program".into());
    let key = asker.identity().map(|id| (id, ask.provider.clone()));
    if let Some(key) = &key {
        let mut allowed = allowances().lock().unwrap_or_else(|p| p.into_inner());
        allowed.retain(|_, until| *until > Instant::now());
        if allowed.contains_key(key) {
            return Ok(());
        }
    }
    let question = Question {
        provider: ask.provider.clone(),
        account: account.clone(),
        program,
        pid: asker.pid,
        remote: asker.remote(),
    };
    let verdict = match &rules.asker {
        Some(person) => person.ask(&question),
        // `serve` has nobody to ask.
        None => Verdict::Deny,
    };
    let refused = |code: &'static str, message: String, detail: &str| {
        let _ = vault.with(|v| {
            crate::vault::activity::record(
                v.conn(),
                crate::time::now(),
                "token refused",
                Some(&ask.provider),
                Some(&account),
                Some(&format!("{} {}", detail, asker.describe())),
            )
        });
        Err(Error::NotAllowed { code, message })
    };
    match verdict {
        Verdict::Once => Ok(()),
        Verdict::ForHours => {
            // A program that cannot be told apart is allowed this once only.
            if let Some(key) = key {
                let mut allowed = allowances().lock().unwrap_or_else(|p| p.into_inner());
                allowed.insert(key, Instant::now() + ALLOW_FOR);
            }
            Ok(())
        }
        Verdict::Deny if rules.asker.is_none() => refused(
            "denied",
            format!(
                "{} asks before handing out tokens, and only the OAuth Desk window can ask: open it",
                crate::text::shown(&ask.provider)
            ),
            "nobody to ask;",
        ),
        Verdict::Deny => refused(
            "denied",
            format!(
                "the token of {} at {} was denied to this program in OAuth Desk",
                crate::text::shown(&account),
                crate::text::shown(&ask.provider)
            ),
            "denied",
        ),
        Verdict::NoAnswer => refused(
            "not_answered",
            format!(
                "nobody answered OAuth Desk's question within {} seconds: the token of {} was not handed out",
                ASK_LIMIT.as_secs(),
                crate::text::shown(&ask.provider)
            ),
            "not answered in time;",
        ),
    }
}

/// Who got which account's token: the log says, the token it never holds. A log that cannot
/// be written is said, and the token was not withheld for it.
fn log_handout(ask: &Request, vault: &SharedVault, asker: &Asker) {
    let logged = vault.with(|v| {
        let account = crate::refresh::resolve_account(v, &ask.provider, ask.account.as_deref())?;
        crate::vault::activity::record(
            v.conn(),
            crate::time::now(),
            "token handed out",
            Some(&ask.provider),
            Some(&account),
            Some(&asker.describe()),
        )
    });
    if let Err(e) = logged {
        tracing::warn!("token agent: the hand-out was not logged: {e}");
    }
}

/// What asking the agent came to.
pub enum Asked {
    /// The agent's answer: a token, or an error about the token (needs sign-in, not found).
    Answer(Result<Secret<String>>),
    /// No agent answers, or it does not serve this vault: the caller opens the vault itself.
    NoAgent,
    /// Not asked, and why: the socket's folder is not a private folder of this user's, or
    /// another user answers on it. The caller can still open the vault itself.
    Unsafe(Error),
}

/// Asks a running agent for a fresh token.
pub fn ask(vault_path: &Path, provider: &str, account: Option<&str>, min_valid: i64) -> Asked {
    use oauth_desk_agent_client::Answer as Said;
    match oauth_desk_agent_client::try_ask(vault_path, provider, account, min_valid) {
        Err(e) if oauth_desk_agent_client::named_agent().is_some() => {
            Asked::Answer(Err(Error::InvalidInput(format!(
                "the token agent OAUTH_DESK_AGENT names does not answer ({e}); is the \
                 `ssh -R` forwarding of its socket up?"
            ))))
        }
        Err(e) => Asked::Unsafe(Error::Io {
            context: "not asking the token agent".into(),
            source: e,
        }),
        Ok(None) => Asked::NoAgent,
        Ok(Some(Said::Token(t))) => Asked::Answer(Ok(Secret::new(t))),
        Ok(Some(Said::Refused { code, message })) => match code.as_str() {
            "needs_signin" => Asked::Answer(Err(Error::NeedsSignin(message))),
            "locked" => Asked::Answer(Err(Error::AgentLocked(message))),
            "denied" => Asked::Answer(Err(Error::NotAllowed {
                code: "denied",
                message,
            })),
            "busy" => Asked::Answer(Err(Error::NotAllowed {
                code: "busy",
                message,
            })),
            "not_answered" => Asked::Answer(Err(Error::NotAllowed {
                code: "not_answered",
                message,
            })),
            "not_found" => Asked::Answer(Err(Error::NotFound(message))),
            _ => Asked::NoAgent,
        },
    }
}

/// `crate::fuzzing`: a request line read as `answer` reads it (without a vault to answer from).
pub(crate) fn fuzz_request(line: &[u8]) {
    let _ = serde_json::from_slice::<Request>(line);
}
