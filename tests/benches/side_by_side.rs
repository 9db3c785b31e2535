//! OAuth Desk side by side with what people use today, measured in one run and printed as one
//! table (`make bench`, release builds). Figures are reported, never asserted.
//!
//! 1. `oauth-desk token get` against oidc-agent's `oidc-token`, same provider (tests/idp), both
//!    printing a valid cached token: medians of 50 runs.
//! 2. `oauth-desk token refresh --all` over 1,000 accounts against the provider's raw
//!    token-endpoint rate for the same refresh request, measured with ApacheBench (`ab`): a
//!    vault whose key is in the keyring (the desktop's default) and one opened with a
//!    passphrase (one Argon2id derivation per command); medians of 7 turns each, taken in
//!    rotation after a warm-up, their ratio the median of each round's.
//! 3. Exec to a visible window, with 1,000 tokens in the vault, against an empty Tauri 2 app
//!    built with the same toolchain (bench/empty-app).
//! 4. Idle memory (RSS and PSS summed over the app and its WebKit processes), same pair; and
//!    the CPU time they use over 60 idle seconds, ours showing the token table of 1,000 tokens
//!    (its countdowns live): at rest, and with 900 of them due at a provider that is down. Ours
//!    turns WebKit's memory monitor off (src-tauri/src/webkit_env.rs), so the rest figure is
//!    also given against the empty app with it off.
//! 5. The token table's filtered query over 100,000 tokens: SQLCipher against plain SQLite.
//! 6. The size of the .deb.
//!
//! For a closer look at the idle rows: `BENCH_THREADS=1` lists the threads that used the most,
//! `BENCH_IDLE_ROUNDS=N` (1 to 9, 3 unless set) and `BENCH_SETTLE=S` (the seconds between the
//! window showing and the minute measured, up to 300, 10 unless set).

#[path = "../../src-tauri/crates/core/benches/support/fixture.rs"]
mod fixture;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use oauth_desk_core::vault::tokens;
use oauth_desk_core::vault::{Create, NoKeyring, OsKeyring, Unlock, Vault};
use oauth_desk_tests::desktop::Display;
use oauth_desk_tests::idp::{self, Idp, Options};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::{add_provider, login_as, share_account};
use oauth_desk_tests::{bins, cli};

struct Row {
    figure: &'static str,
    ours: String,
    peer: String,
    ratio: Option<f64>,
    target: &'static str,
    /// Whether the ratio (or our figure) meets the target, when it was measured.
    met: Option<bool>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn ms(d: f64) -> String {
    format!("{:.2} ms", d * 1000.0)
}

/// Median wall time of `runs` runs of a command that must succeed.
fn time_command(runs: usize, mut make: impl FnMut() -> Command) -> f64 {
    median(
        (0..runs)
            .map(|_| {
                let mut cmd = make();
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
                let t = Instant::now();
                let status = cmd.status().expect("the command runs");
                let took = t.elapsed().as_secs_f64();
                assert!(status.success(), "{cmd:?} failed");
                took
            })
            .collect(),
    )
}

fn main() {
    // `cargo bench --bench side_by_side -- bulk` runs the figures whose names hold "bulk".
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    let mut rows = Vec::new();
    // The display first, before this process takes on the scratch session's environment.
    let display = Display::start();
    // One keyring session for the whole run: the keyring library keeps its first D-Bus
    // connection, so this process can only reach one session's keyring.
    let desktop = Session::with_keyring();
    if wanted("token-get") {
        eprintln!("1/6 token get against oidc-token ...");
        rows.extend(token_get_against_oidc_token(&desktop));
    }
    if wanted("bulk-refresh") {
        eprintln!("2/6 bulk refresh against the raw token endpoint ...");
        rows.extend(bulk_refresh_against_raw_rate(&desktop));
    }
    if wanted("window-memory") || wanted("window-idle") {
        fill_window_vault(&desktop);
    }
    if wanted("window-memory") {
        eprintln!("3/6 start and memory against an empty Tauri app ...");
        rows.extend(window_against_empty_app(&desktop, &display));
    }
    if wanted("window-idle") {
        eprintln!("4/6 idle CPU against an empty Tauri app ...");
        rows.extend(idle_against_empty_app(&desktop, &display));
    }
    if wanted("filter") {
        eprintln!("5/6 filter query, SQLCipher against plain SQLite ...");
        rows.extend(filter_query());
    }
    if wanted("deb") {
        eprintln!("6/6 the .deb ...");
        rows.push(deb_size());
    }
    print_table(&rows);
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "{:<44} {:>16} {:>16} {:>8}  {:<18} met",
        "figure", "OAuth Desk", "peer", "ratio", "target"
    );
    for r in rows {
        let ratio = r.ratio.map(|x| format!("{x:.2}x")).unwrap_or_default();
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        println!(
            "{:<44} {:>16} {:>16} {:>8}  {:<18} {}",
            r.figure, r.ours, r.peer, ratio, r.target, met
        );
    }
}

/// The vault of `session` opened in this process, through the session's keyring.
/// The session's vault, created with its key in the keyring when no row before made it.
fn open_keyring_vault(session: &Session) -> Vault {
    for (k, v) in session.env() {
        std::env::set_var(k, v);
    }
    Vault::open(
        &session.default_vault(),
        Unlock::Keyring,
        &OsKeyring,
        Create::IfMissing,
    )
    .expect("the session's vault opens through its keyring")
}

// ---- 1. token get ------------------------------------------------------------------------

fn token_get_against_oidc_token(s: &Session) -> Vec<Row> {
    let figure = "token get, agent running (median of 50)";
    let idp = Idp::start();
    // offline_access, which oidc-gen asks for, is granted only with prompt=consent.
    let out = cli::run(
        s,
        &[
            "provider",
            "add",
            "bench",
            "--issuer",
            &idp.issuer,
            "--client-id",
            idp::BASIC.id,
            "--client-secret-stdin",
            "--scope",
            "openid offline_access",
            "--param",
            "prompt=consent",
        ],
        &[],
        &format!("{}\n", idp::BASIC.secret.unwrap()),
    );
    assert!(out.status.success(), "{}", cli::stderr(&out));
    let signed = login_as(s, &[], "bench", "alice");
    let account = signed["account"].as_str().unwrap().to_owned();
    let token_get = || {
        time_command(50, || {
            let mut c = bins::cli();
            s.apply(&mut c);
            c.args(["token", "get", "bench"]);
            c
        })
    };
    // Without a running OAuth Desk: the CLI opens the vault through the keyring itself.
    let cold = token_get();
    // With one (here `oauth-desk serve`; the window does the same), as oidc-token has oidc-agent.
    let mut serve = cli::Running::start(s, &["serve", "--port", "0"], &[]);
    assert!(serve.line().starts_with("listening on"));
    let ours = token_get();
    drop(serve);
    let cold_row = |peer: String, ratio: Option<f64>| Row {
        figure: "token get, no agent (keyring + vault open)",
        ours: ms(cold),
        peer,
        ratio,
        target: "(reported)",
        met: None,
    };
    let refresh_token = {
        let v = open_keyring_vault(s);
        let t = tokens::get(v.conn(), "bench", &account).unwrap();
        t.refresh_token.expect("a refresh token").expose().clone()
    };
    let peer = match oidc_token_median(&idp, s, &refresh_token) {
        Ok(p) => p,
        Err(why) => {
            return vec![
                Row {
                    figure,
                    ours: ms(ours),
                    peer: format!("n/a ({why})"),
                    ratio: None,
                    target: "<= 1.0x oidc-token",
                    met: None,
                },
                cold_row("-".into(), None),
            ]
        }
    };
    vec![
        Row {
            figure,
            ours: ms(ours),
            peer: ms(peer),
            ratio: Some(ours / peer),
            target: "<= 1.0x oidc-token",
            met: Some(ours <= peer),
        },
        cold_row(ms(peer), Some(cold / peer)),
    ]
}

/// Starts oidc-agent in the session, gives it an account for the same provider and client
/// (from the refresh token), and times `oidc-token`.
fn oidc_token_median(idp: &Idp, s: &Session, refresh_token: &str) -> Result<f64, String> {
    if Command::new("oidc-token")
        .arg("--version")
        .output()
        .is_err()
    {
        return Err("oidc-agent-cli is not installed".into());
    }
    let mut agent = Command::new("oidc-agent");
    s.apply(&mut agent);
    let out = agent
        .args(["--no-autoload", "--no-webserver"])
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let var = |name: &str| {
        text.split(';').find_map(|p| {
            p.trim()
                .strip_prefix(&format!("{name}="))
                .map(str::to_owned)
        })
    };
    let sock = var("OIDC_SOCK").ok_or(format!("oidc-agent said {text:?}"))?;
    let pid = var("OIDCD_PID");
    let _kill = KillOnDrop(pid);
    let env = |c: &mut Command| {
        s.apply(c);
        c.env("OIDC_SOCK", &sock)
            .env("OIDC_ENCRYPTION_PW", "bench encryption password");
    };
    let mut gen = Command::new("oidc-gen");
    env(&mut gen);
    let out = gen
        .arg("bench")
        .arg(format!("--issuer={}", idp.issuer))
        .arg(format!("--client-id={}", idp::BASIC.id))
        .arg(format!("--client-secret={}", idp::BASIC.secret.unwrap()))
        .arg("--redirect-uri=http://localhost:4242/callback")
        .arg("--scope=openid offline_access")
        .arg(format!("--rt={refresh_token}"))
        .args(["--pw-env", "--confirm-default", "--no-url-call"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "oidc-gen failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    // The first call may fetch a token; the timed ones print the cached one.
    let mut warm = Command::new("oidc-token");
    env(&mut warm);
    let ok = warm.arg("bench").output().map_err(|e| e.to_string())?;
    if !ok.status.success() {
        return Err(format!(
            "oidc-token failed: {}",
            String::from_utf8_lossy(&ok.stderr).trim()
        ));
    }
    Ok(time_command(50, || {
        let mut c = Command::new("oidc-token");
        env(&mut c);
        c.arg("bench");
        c
    }))
}

struct KillOnDrop(Option<String>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = &self.0 {
            let _ = Command::new("kill").arg(pid).status();
        }
    }
}

// ---- 2. bulk refresh ---------------------------------------------------------------------

const BULK: usize = 1000;
/// Turns of each bulk-refresh contender.
const ROUNDS: usize = 7;

/// A vault of the bulk refresh: its session, its file, and its passphrase, if it has one
/// (else its key is in the session's keyring, the desktop's default).
struct BulkVault<'a> {
    session: &'a Session,
    path: PathBuf,
    passphrase: Option<&'static str>,
}

impl BulkVault<'_> {
    /// What the CLI is told.
    fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![("OAUTH_DESK_VAULT", self.path.display().to_string())];
        env.extend(
            self.passphrase
                .map(|p| ("OAUTH_DESK_PASSPHRASE", p.to_owned())),
        );
        env
    }
}

fn bulk_refresh_against_raw_rate(desktop: &Session) -> Vec<Row> {
    // Refresh tokens are kept, so one can be given to every account and to the load generator.
    let idp = Idp::start_with(Options {
        keep_refresh_tokens: true,
        ..Default::default()
    });
    let keyring = BulkVault {
        session: desktop,
        path: desktop.home().join("bulk.db"),
        passphrase: None,
    };
    let passphrase_session = Session::without_keyring();
    let passphrase = BulkVault {
        session: &passphrase_session,
        path: passphrase_session.default_vault(),
        passphrase: Some("bench passphrase"),
    };
    let refresh_token = fill_bulk_vault(&keyring, &idp, "alice");
    fill_bulk_vault(&passphrase, &idp, "bob");

    // The same request, as fast as the provider answers it, measured with ab.
    let body = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        body.path(),
        format!("grant_type=refresh_token&refresh_token={refresh_token}"),
    )
    .unwrap();
    let raw = |concurrency: usize| -> Result<f64, String> {
        let out = Command::new("ab")
            .args([
                "-q",
                "-n",
                &BULK.to_string(),
                "-c",
                &concurrency.to_string(),
            ])
            .args(["-T", "application/x-www-form-urlencoded"])
            .arg("-A")
            .arg(format!("{}:{}", idp::BASIC.id, idp::BASIC.secret.unwrap()))
            .arg("-p")
            .arg(body.path())
            .arg(idp.endpoint("token_endpoint"))
            .output()
            .map_err(|e| format!("ab: {e} (apt package apache2-utils)"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let failed = text
            .lines()
            .find_map(|l| l.strip_prefix("Non-2xx responses:"))
            .map(|n| n.trim().to_owned());
        if let Some(n) = failed {
            return Err(format!("{n} non-2xx answers"));
        }
        text.lines()
            .find_map(|l| l.strip_prefix("Requests per second:"))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("no rate in ab's output: {text}"))
    };
    // Node's JIT speeds the provider up over its first thousands of requests: warm it up, then
    // take turns (ab at 4 at once, as `refresh --all` sends them; then each vault; the order
    // rotating, so that none always follows the same one).
    // The provider's CPU time per request says how hard each kept it busy.
    let _ = raw(4);
    let _ = raw(4);
    refresh_all_rate(&keyring);
    refresh_all_rate(&passphrase);
    let (mut four, mut ours, mut ours_passphrase) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        for turn in 0..3 {
            let before = idp.cpu_time();
            let (who, rate) = match (round + turn) % 3 {
                0 => {
                    four.push(raw(4));
                    ("ab, 4 at once", four.last().unwrap().clone())
                }
                1 => {
                    ours.push(refresh_all_rate(&keyring));
                    ("refresh --all, keyring vault", Ok(*ours.last().unwrap()))
                }
                _ => {
                    ours_passphrase.push(refresh_all_rate(&passphrase));
                    (
                        "refresh --all, passphrase vault",
                        Ok(*ours_passphrase.last().unwrap()),
                    )
                }
            };
            let cpu = (idp.cpu_time() - before).as_secs_f64() * 1000.0 / BULK as f64;
            match rate {
                Ok(rate) => {
                    eprintln!("  {who:<32} {rate:>6.0}/s   provider CPU {cpu:.2} ms a request")
                }
                Err(e) => eprintln!("  {who:<32} {e}"),
            }
        }
    }
    let four = four.into_iter().collect::<Result<Vec<_>, _>>();
    let one = raw(1);
    // The ratio is the median of each round's own ratio: the machine's speed drifts between
    // rounds, and a round's three turns ran back to back.
    let row = |figure, ours: &[f64]| match (&four, &one) {
        (Ok(four), Ok(one)) => {
            let ratio = median(ours.iter().zip(four).map(|(o, f)| o / f).collect());
            Row {
                figure,
                ours: format!("{:.0}/s", median(ours.to_vec())),
                peer: format!("{:.0}/s at c=4 (c=1 {one:.0})", median(four.clone())),
                ratio: Some(ratio),
                target: ">= 0.8x raw rate",
                met: Some(ratio >= 0.8),
            }
        }
        (Err(e), _) | (_, Err(e)) => Row {
            figure,
            ours: format!("{:.0}/s", median(ours.to_vec())),
            peer: format!("n/a ({e})"),
            ratio: None,
            target: ">= 0.8x raw rate",
            met: None,
        },
    };
    // The target is the desktop's default, the keyring. A passphrase vault runs one Argon2id
    // derivation per command on top (its cost is its purpose): reported beside it.
    let mut passphrase_row = row("refresh 1,000 tokens/s, passphrase vault", &ours_passphrase);
    passphrase_row.target = "(reported: + KDF)";
    passphrase_row.met = None;
    vec![
        row("refresh 1,000 tokens/s, keyring vault", &ours),
        passphrase_row,
    ]
}

/// Signs in once on `idp` as `who` and gives the tokens to 999 more accounts: the refresh
/// token.
fn fill_bulk_vault(vault: &BulkVault, idp: &Idp, who: &str) -> String {
    let owned = vault.env();
    let env: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    add_provider(vault.session, &env, idp, "bulk", &idp::BASIC);
    login_as(vault.session, &env, "bulk", who);
    let unlock = match vault.passphrase {
        None => {
            // This process reaches the session's keyring through its environment.
            for (k, v) in vault.session.env() {
                std::env::set_var(k, v);
            }
            Unlock::Keyring
        }
        Some(p) => Unlock::Passphrase(p.to_string().into()),
    };
    let v = Vault::open(&vault.path, unlock, &OsKeyring, Create::Never).unwrap();
    let account = format!("{who}@example.test");
    share_account(v.conn(), "bulk", &account, BULK - 1);
    let t = tokens::get(v.conn(), "bulk", &account).unwrap();
    let refresh_token = t.refresh_token.expect("a refresh token");
    refresh_token.expose().clone()
}

/// `oauth-desk token refresh --all` over the 1,000 accounts: tokens per second.
fn refresh_all_rate(vault: &BulkVault) -> f64 {
    let mut refresh_all = bins::cli();
    vault.session.apply(&mut refresh_all);
    refresh_all
        .args(["token", "refresh", "--all", "--json"])
        .envs(vault.env())
        .stdout(Stdio::null());
    let t = Instant::now();
    let status = refresh_all.status().expect("the CLI runs");
    let secs = t.elapsed().as_secs_f64();
    assert!(status.success(), "refresh --all failed");
    BULK as f64 / secs
}

// ---- 3 and 4. the window -----------------------------------------------------------------

struct Launched {
    exec_to_visible: f64,
    rss_kib: u64,
    pss_kib: u64,
}

fn empty_app_path() -> PathBuf {
    bins::profile_dir().join("oauth-desk-bench-empty")
}

/// The window's workload: 1,000 tokens in `s`'s vault, spread from ten minutes expired to
/// almost two hours left.
fn fill_window_vault(s: &Session) {
    let v = open_keyring_vault(s);
    fixture::fill(v.conn(), BULK, oauth_desk_core::time::now());
}

fn window_against_empty_app(s: &Session, display: &Display) -> Vec<Row> {
    let others = webkit_elsewhere();
    if others > 0 {
        eprintln!(
            "  warning: {others} WebKit or OAuth Desk processes already run (a test's \
             WebKitWebDriver left behind?): they share the apps' library pages, so both PSS \
             figures read low and their ratio high"
        );
    }
    let ours = measure_window(s, display, &bins::gui_path(), "^OAuth Desk$");
    let empty_path = empty_app_path();
    if !empty_path.is_file() {
        let missing = || format!("n/a (build {})", empty_path.display());
        return vec![
            Row {
                figure: "exec to visible window (median of 9)",
                ours: ms(ours.exec_to_visible),
                peer: missing(),
                ratio: None,
                target: "<= 1.3x empty app",
                met: None,
            },
            Row {
                figure: "idle PSS, app + WebKit processes",
                ours: format!("{:.1} MiB", ours.pss_kib as f64 / 1024.0),
                peer: missing(),
                ratio: None,
                target: "<= 1.2x empty app",
                met: None,
            },
        ];
    }
    let empty = measure_window(s, display, &empty_path, "^Empty Tauri$");
    let ratio = |a: f64, b: f64| a / b;
    let start = ratio(ours.exec_to_visible, empty.exec_to_visible);
    let pss = ratio(ours.pss_kib as f64, empty.pss_kib as f64);
    let rss = ratio(ours.rss_kib as f64, empty.rss_kib as f64);
    let mib = |k: u64| format!("{:.1} MiB", k as f64 / 1024.0);
    vec![
        Row {
            figure: "exec to visible window (median of 9)",
            ours: ms(ours.exec_to_visible),
            peer: ms(empty.exec_to_visible),
            ratio: Some(start),
            target: "<= 1.3x empty app",
            met: Some(start <= 1.3),
        },
        Row {
            figure: "idle PSS, app + WebKit processes",
            ours: mib(ours.pss_kib),
            peer: mib(empty.pss_kib),
            ratio: Some(pss),
            target: "<= 1.2x empty app",
            met: Some(pss <= 1.2),
        },
        Row {
            figure: "idle RSS, app + WebKit processes",
            ours: mib(ours.rss_kib),
            peer: mib(empty.rss_kib),
            ratio: Some(rss),
            target: "(reported)",
            met: None,
        },
    ]
}

/// The CPU time used over 60 idle seconds against the empty app's on its page (medians of
/// `idle_rounds`, taken in turn). Ours shows the token table of 1,000 tokens, countdowns live:
/// - at rest, the target: every token has twenty minutes or more left as the round starts, so
///   the refresher has nothing due;
/// - reported beside it, the fixture as it is: 900 tokens due at a provider that cannot be
///   reached (idp.example), so the refresher tries and backs off (`retry`) and the table
///   shows the failures as they come.
fn idle_against_empty_app(s: &Session, display: &Display) -> Vec<Row> {
    let ours_env = [("OAUTH_DESK_START_VIEW", "tokens")];
    let ours = || idle_cpu(s, display, &bins::gui_path(), "^OAuth Desk$", &ours_env);
    let empty_path = empty_app_path();
    // Moves every expiry by the same amount; by how much in all, to move them back.
    let shifted = std::cell::Cell::new(0i64);
    let shift = |secs: i64| {
        let v = open_keyring_vault(s);
        v.conn()
            .execute("UPDATE tokens SET expires_at = expires_at + ?1", [secs])
            .unwrap();
        shifted.set(shifted.get() + secs);
    };
    // At each round's start the first token has twenty minutes left: none comes within its
    // last ten minutes, nor the refresh window (five), while ours is measured.
    const REST: i64 = 1200;
    let rest = || {
        let v = open_keyring_vault(s);
        let first: i64 = v
            .conn()
            .query_row("SELECT MIN(expires_at) FROM tokens", [], |r| r.get(0))
            .unwrap();
        drop(v);
        shift(oauth_desk_core::time::now() + REST - first);
    };
    // Ours turns WebKit's memory monitor off (webkit_env.rs); the stock empty app keeps it. The
    // same empty app with it off too shows what is left once that difference is taken out.
    let quiet = [("WEBKIT_DISABLE_MEMORY_PRESSURE_MONITOR", "1")];
    let (mut at_rest, mut empty, mut empty_quiet) = (Vec::new(), Vec::new(), Vec::new());
    let rounds = idle_rounds();
    for round in 1..=rounds {
        eprintln!("  at rest, round {round}/{rounds}");
        rest();
        at_rest.push(ours());
        if empty_path.is_file() {
            empty.push(idle_cpu(s, display, &empty_path, "^Empty Tauri$", &[]));
            empty_quiet.push(idle_cpu(s, display, &empty_path, "^Empty Tauri$", &quiet));
        }
    }
    shift(-shifted.get());
    eprintln!("  due at a provider that is down ...");
    let due = ours();
    eprintln!(
        "  at rest {at_rest:.4?} s, due {due:.4} s, the empty app {empty:.4?} s, \
         monitor off {empty_quiet:.4?} s"
    );
    let at_rest = median(at_rest);
    let row = |figure, ours: f64, empty: &[f64], target, goal: Option<f64>| {
        let peer = (!empty.is_empty()).then(|| median(empty.to_vec()));
        let ratio = peer.map(|p| ours / p.max(1e-6));
        Row {
            figure,
            ours: ms(ours),
            peer: peer.map_or_else(|| format!("n/a (build {})", empty_path.display()), ms),
            ratio,
            target,
            met: goal.and_then(|g| ratio.map(|r| r <= g)),
        }
    };
    vec![
        row(
            "CPU over 60 s idle, 1,000 tokens at rest",
            at_rest,
            &empty,
            "<= 1.2x empty app",
            Some(1.2),
        ),
        row(
            "the same, the empty app's memory monitor off",
            at_rest,
            &empty_quiet,
            "(reported)",
            None,
        ),
        row(
            "CPU over 60 s, 900 due at a provider down",
            due,
            &empty,
            "(reported)",
            None,
        ),
    ]
}

/// How many WebKit or OAuth Desk processes already run (a test's WebKitWebDriver, a window left
/// open): PSS splits each shared page among all that map it, and these map the same libraries.
fn webkit_elsewhere() -> usize {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|p| std::fs::read_link(p.path().join("exe")).ok())
                .filter(|exe| {
                    exe.file_name()
                        .map(|n| n.to_string_lossy())
                        .is_some_and(|n| n.starts_with("WebKit") || n.starts_with("oauth-desk"))
                })
                .count()
        })
        .unwrap_or(0)
}

/// Rounds of each idle figure (BENCH_IDLE_ROUNDS, 1 to 9).
fn idle_rounds() -> usize {
    knob("BENCH_IDLE_ROUNDS", 1..=9, 3) as usize
}

/// A bench setting from the environment: `default` when unset; a value that is not a whole
/// number within `range` is said, not silently replaced.
fn knob(name: &str, range: std::ops::RangeInclusive<u64>, default: u64) -> u64 {
    let Ok(text) = std::env::var(name) else {
        return default;
    };
    match text.trim().parse() {
        Ok(v) if range.contains(&v) => v,
        _ => {
            eprintln!(
                "  warning: {name}={text:?} is not a whole number from {} to {}: {default} is used",
                range.start(),
                range.end()
            );
            default
        }
    }
}

/// The CPU time (seconds, user and system, the app and its WebKit processes) `binary` uses
/// over 60 s once its window has shown and settled for 10 s (`BENCH_SETTLE`).
fn idle_cpu(
    s: &Session,
    display: &Display,
    binary: &Path,
    title: &str,
    env: &[(&str, &str)],
) -> f64 {
    let (x, _) = x11rb::connect(Some(&display.name)).expect("connect to Xvfb");
    let mut cmd = Command::new(binary);
    s.apply(&mut cmd);
    cmd.env("DISPLAY", &display.name)
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("the window starts");
    let started = Instant::now();
    while !visible_window(&x, title) {
        assert!(started.elapsed() < Duration::from_secs(60), "no window");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Ours is measured within settle + 70 s of its round's rest, well inside its ten minutes.
    // Read once, so that a bad value is said once.
    static SETTLE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let settle = *SETTLE.get_or_init(|| knob("BENCH_SETTLE", 0..=300, 10));
    std::thread::sleep(Duration::from_secs(settle));
    // Each process's CPU clock (nanoseconds, every thread, those that ended too; /proc's utime
    // and stime come in 10 ms ticks, as coarse as the whole figure).
    let processes = tree(child.id());
    let before: Vec<Option<u64>> = processes.iter().map(|p| process_cpu_ns(*p)).collect();
    // Per thread (schedstat, read each second), only to say where the time went.
    let mut first = std::collections::HashMap::new();
    let mut last = std::collections::HashMap::new();
    let mut names = std::collections::HashMap::new();
    for second in 0..=60 {
        if second > 0 {
            std::thread::sleep(Duration::from_secs(1));
        }
        for (tid, ns) in thread_runtimes(child.id()) {
            // A thread born in the minute counts from nothing.
            first.entry(tid).or_insert(if second == 0 { ns } else { 0 });
            last.insert(tid, ns);
            names.entry(tid).or_insert_with(|| {
                let comm = |f: String| {
                    std::fs::read_to_string(f)
                        .unwrap_or_default()
                        .trim()
                        .to_owned()
                };
                format!(
                    "{} {}",
                    comm(format!("/proc/{}/comm", tid.0)),
                    comm(format!("/proc/{}/task/{}/comm", tid.0, tid.1))
                )
            });
        }
    }
    let after: Vec<Option<u64>> = processes.iter().map(|p| process_cpu_ns(*p)).collect();
    stop(&mut child);
    let used: u64 = before
        .iter()
        .zip(&after)
        .map(|(b, a)| match (b, a) {
            (Some(b), Some(a)) => a.saturating_sub(*b),
            _ => panic!("a process of the app ended while it was idle"),
        })
        .sum();
    // BENCH_THREADS=1: which threads used it, to see where an idle app spends its time.
    if std::env::var_os("BENCH_THREADS").is_some() {
        let mut by: Vec<_> = last
            .iter()
            .map(|(tid, ns)| (ns.saturating_sub(first[tid]), *tid))
            .collect();
        by.sort();
        for (ns, (p, t)) in by.iter().rev().take(12) {
            eprintln!(
                "    {:>8.2} ms  {p}/{t} {}",
                *ns as f64 / 1e6,
                names.get(&(*p, *t)).cloned().unwrap_or_default()
            );
        }
    }
    used as f64 / 1e9
}

/// The CPU time `pid` has used (ns): all its threads, ended ones too.
fn process_cpu_ns(pid: u32) -> Option<u64> {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: both calls only write the out-parameters given.
    if unsafe { libc::clock_getcpuclockid(pid as libc::pid_t, &mut clock) } != 0 {
        return None;
    }
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    if unsafe { libc::clock_gettime(clock, &mut t) } != 0 {
        return None;
    }
    Some(t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64)
}

/// (thread, nanoseconds it has run) for every thread of `pid` and of the processes below it.
fn thread_runtimes(pid: u32) -> Vec<((u32, u32), u64)> {
    let mut out = Vec::new();
    for p in tree(pid) {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let Ok(tid) = t.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            // schedstat: time on the CPU, time waiting, timeslices (the first in ns).
            let ns = std::fs::read_to_string(t.path().join("schedstat"))
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse().ok());
            if let Some(ns) = ns {
                out.push(((p, tid), ns));
            }
        }
    }
    out
}

/// Starts `binary` RUNS times on `display`; the median time until its window is mapped, and
/// the memory of the last start after 5 s idle.
const RUNS: usize = 9;

fn measure_window(s: &Session, display: &Display, binary: &Path, title: &str) -> Launched {
    // One X connection polled every 5 ms: a new client each time (xdotool) filled the X
    // server's accept queue while a window was starting, and the app's own connection failed.
    let (x, _) = x11rb::connect(Some(&display.name)).expect("connect to Xvfb");
    let mut times = Vec::new();
    let mut memory = (0, 0);
    for run in 0..RUNS {
        let mut cmd = Command::new(binary);
        s.apply(&mut cmd);
        let log = bins::target_dir().join("bench-window.log");
        cmd.env("DISPLAY", &display.name)
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        let started = Instant::now();
        let mut child = cmd.spawn().expect("the window starts");
        loop {
            if visible_window(&x, title) {
                break;
            }
            if started.elapsed() > Duration::from_secs(60) || child.try_wait().unwrap().is_some() {
                panic!(
                    "{} (start {run}) showed no window on {}: {}",
                    binary.display(),
                    display.name,
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        times.push(started.elapsed().as_secs_f64());
        if run == RUNS - 1 {
            std::thread::sleep(Duration::from_secs(5));
            memory = tree_memory(child.id());
        }
        stop(&mut child);
    }
    Launched {
        exec_to_visible: median(times),
        rss_kib: memory.0,
        pss_kib: memory.1,
    }
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
    std::thread::sleep(Duration::from_millis(300));
}

/// RSS and PSS (KiB) summed over `pid` and every process below it (WebKit's web and network
/// processes are the app's children).
fn tree_memory(pid: u32) -> (u64, u64) {
    let all = tree(pid);
    let mut rss = 0;
    let mut pss = 0;
    for p in all {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")) else {
            continue;
        };
        for line in text.lines() {
            let kib = || {
                line.split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            if line.starts_with("Rss:") {
                rss += kib();
            } else if line.starts_with("Pss:") {
                pss += kib();
            }
        }
    }
    (rss, pss)
}

/// `pid` and every process below it.
fn tree(pid: u32) -> Vec<u32> {
    let mut all = vec![pid];
    let mut i = 0;
    while i < all.len() {
        let parent = all[i];
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
                continue;
            };
            // The parent pid is the second field after the command in parentheses.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|f| f.parse::<u32>().ok());
            if ppid == Some(parent) && !all.contains(&p) {
                all.push(p);
            }
        }
        i += 1;
    }
    all
}

// ---- 5. the filter query -----------------------------------------------------------------

fn filter_query() -> Vec<Row> {
    const N: usize = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let now = oauth_desk_core::time::now();
    let vault = Vault::open(
        &dir.path().join("vault.db"),
        Unlock::Passphrase("bench passphrase".into()),
        &NoKeyring,
        Create::IfMissing,
    )
    .unwrap();
    fixture::fill(vault.conn(), N, now);
    let plain = fixture::plain_sqlite(&dir.path().join("plain.db"));
    fixture::fill(&plain, N, now);
    let time = |conn: &rusqlite::Connection| {
        median(
            (0..20)
                .map(|_| {
                    let t = Instant::now();
                    std::hint::black_box(
                        tokens::query(conn, &fixture::filter_query(), now).unwrap(),
                    );
                    t.elapsed().as_secs_f64()
                })
                .collect(),
        )
    };
    let encrypted = time(vault.conn());
    let clear = time(&plain);
    vec![
        Row {
            figure: "filtered table query, 100,000 tokens",
            ours: ms(encrypted),
            peer: "-".into(),
            ratio: None,
            target: "<= 50 ms",
            met: Some(encrypted <= 0.050),
        },
        Row {
            figure: "the same, SQLCipher vs plain SQLite",
            ours: ms(encrypted),
            peer: ms(clear),
            ratio: Some(encrypted / clear),
            target: "<= 1.3x plain",
            met: Some(encrypted / clear <= 1.3),
        },
    ]
}

// ---- 6. the .deb -------------------------------------------------------------------------

fn deb_size() -> Row {
    let dir = bins::target_dir().join("release/bundle/deb");
    let newest = std::fs::read_dir(&dir).ok().and_then(|d| {
        d.flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "deb"))
            .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
    });
    match newest {
        Some(e) => {
            let bytes = e.metadata().unwrap().len();
            let mib = bytes as f64 / 1048576.0;
            Row {
                figure: ".deb size",
                ours: format!("{mib:.2} MiB"),
                peer: "-".into(),
                ratio: None,
                target: "<= 8 MiB",
                met: Some(mib <= 8.0),
            }
        }
        None => Row {
            figure: ".deb size",
            ours: format!("n/a (run make deb; none in {})", dir.display()),
            peer: "-".into(),
            ratio: None,
            target: "<= 8 MiB",
            met: None,
        },
    }
}

/// Whether a viewable top-level window titled exactly `title` (a `^...$` pattern) exists.
fn visible_window(x: &impl x11rb::connection::Connection, title: &str) -> bool {
    use x11rb::protocol::xproto::{AtomEnum, ConnectionExt, MapState};
    let want = title
        .trim_start_matches('^')
        .trim_end_matches('$')
        .as_bytes();
    let root = x.setup().roots[0].root;
    let Ok(Ok(tree)) = x.query_tree(root).map(|c| c.reply()) else {
        return false;
    };
    tree.children.iter().any(|&w| {
        let viewable = x
            .get_window_attributes(w)
            .ok()
            .and_then(|c| c.reply().ok())
            .is_some_and(|a| a.map_state == MapState::VIEWABLE);
        viewable
            && x.get_property(false, w, AtomEnum::WM_NAME, AtomEnum::ANY, 0, 256)
                .ok()
                .and_then(|c| c.reply().ok())
                .is_some_and(|p| p.value == want)
    })
}
