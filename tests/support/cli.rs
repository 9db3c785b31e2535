//! Running the `oauth-desk` command in a test session and reading what it printed.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::bins;
use crate::session::Session;

/// Runs the CLI in `session` with `args`, feeding `stdin`; gives up after 60 s, so that a hang
/// fails the test instead of the whole run.
pub fn run(session: &Session, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut cmd: Command = bins::cli();
    session.apply(&mut cmd);
    cmd.args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the CLI starts");
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        let _ = input.write_all(stdin.as_bytes());
    }
    // Read both pipes while waiting: output beyond a pipe's 64 KB would otherwise block the
    // CLI on its write until the time limit (a long `provider list`).
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("oauth-desk {args:?} hung for 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

pub fn error_code(o: &Output) -> String {
    let v: Value = serde_json::from_str(stderr(o).trim())
        .unwrap_or_else(|e| panic!("stderr is not JSON ({e}): {}", stderr(o)));
    v["code"].as_str().unwrap().to_owned()
}

pub fn sha(path: &std::path::Path) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}

/// The CLI running in the background (a sign-in waiting for its redirect): read its standard
/// output line by line, then collect the rest when it exits.
pub struct Running {
    child: std::process::Child,
    out: std::io::BufReader<std::process::ChildStdout>,
    pub lines: Vec<String>,
}

impl Running {
    pub fn start(session: &Session, args: &[&str], env: &[(&str, &str)]) -> Running {
        let mut cmd: Command = bins::cli();
        session.apply(&mut cmd);
        cmd.args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the CLI starts");
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        Running {
            child,
            out,
            lines: Vec::new(),
        }
    }

    /// The process id (the front's, which the full command carries on in after its exec).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next line of standard output (without its newline); panics if the CLI ends first.
    pub fn line(&mut self) -> String {
        use std::io::BufRead;
        let mut line = String::new();
        let n = self.out.read_line(&mut line).unwrap();
        if n == 0 {
            let status = self.child.wait().unwrap();
            let mut err = String::new();
            use std::io::Read;
            let _ = self.child.stderr.take().unwrap().read_to_string(&mut err);
            panic!("the CLI ended ({status}) before printing a line: {err}");
        }
        let line = line.trim_end().to_owned();
        self.lines.push(line.clone());
        line
    }

    /// Waits (at most 60 s) for the CLI to end; returns all it printed.
    pub fn finish(mut self) -> Output {
        use std::io::Read;
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the CLI did not end within 60 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut rest = Vec::new();
        let _ = self.out.read_to_end(&mut rest);
        let mut stdout = self.lines.join("\n").into_bytes();
        if !self.lines.is_empty() {
            stdout.push(b'\n');
        }
        stdout.extend(rest);
        let mut stderr = Vec::new();
        let _ = self.child.stderr.take().unwrap().read_to_end(&mut stderr);
        Output {
            status: self.child.wait().unwrap(),
            stdout,
            stderr,
        }
    }
}

impl Running {
    /// Ends a CLI that runs until stopped (`serve`); returns all it printed.
    pub fn stop(mut self) -> Output {
        let _ = self.child.kill();
        self.finish()
    }
}

impl Drop for Running {
    /// A CLI left running (a server, a sign-in that never got its redirect) ends with its test.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Adds a provider typed by hand (endpoints on idp.example, nothing fetched), with `extra`
/// flags; panics if the CLI refuses it.
pub fn add_provider_by_hand(
    session: &Session,
    env: &[(&str, &str)],
    name: &str,
    extra: &[&str],
    stdin: &str,
) {
    let mut args = vec![
        "provider",
        "add",
        name,
        "--client-id",
        "cid",
        "--auth-url",
        "https://idp.example/auth",
        "--token-url",
        "https://idp.example/token",
    ];
    args.extend_from_slice(extra);
    let out = run(session, &args, env, stdin);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
