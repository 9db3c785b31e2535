//! `oauth-desk completions SHELL`, loaded into the real shells (bash, zsh, fish) and asked
//! what completes a partial command line, as pressing Tab would. The scripts call the command
//! back, so provider names and account labels come from the session's vault, opened through
//! its real keyring with no question asked.

use std::process::Command;

use oauth_desk_tests::bins;
use oauth_desk_tests::cli::{add_provider_by_hand, run};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::ok;

/// A keyring session whose vault has two providers and an account.
fn vault() -> Session {
    let s = Session::with_keyring();
    add_provider_by_hand(&s, &[], "work-idp", &[], "");
    add_provider_by_hand(&s, &[], "personal", &[], "");
    add_provider_by_hand(&s, &[], "Team IdP", &[], "");
    // A label is the provider's word: it must reach the line as text, never as commands.
    ok(run(
        &s,
        &[
            "token",
            "import",
            "Team IdP",
            "--account",
            "evil;touch pwned",
        ],
        &[],
        r#"{"access_token": "imported", "expires_in": 3600}"#,
    ));
    ok(run(
        &s,
        &[
            "token",
            "import",
            "work-idp",
            "--account",
            "alice@example.test",
        ],
        &[],
        r#"{"access_token": "imported", "expires_in": 3600}"#,
    ));
    s
}

/// The script, written to `dir/file`.
fn script(shell: &str, dir: &std::path::Path, file: &str) -> std::path::PathBuf {
    let out = bins::cli()
        .args(["completions", shell])
        .output()
        .expect("the CLI runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = dir.join(file);
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

/// `name args...` in the session, with the built `oauth-desk` first on the PATH (the scripts
/// call it back by name, as an installed one is).
fn shell(s: &Session, name: &str, args: &[&str]) -> String {
    let mut cmd = Command::new(name);
    s.apply(&mut cmd);
    let path = format!(
        "{}:{}",
        bins::profile_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = cmd
        .args(args)
        .env("PATH", path)
        .output()
        .unwrap_or_else(|e| {
            panic!("{name} runs ({e}): `scripts/setup.sh test` installs it (make test does)")
        });
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn offers(out: &str, word: &str) -> bool {
    // bash: the word; fish: the word, a tab, its description; zsh: the word, a colon, its
    // description.
    out.lines().any(|l| {
        l.trim() == word
            || l.starts_with(&format!("{word}\t"))
            || l.starts_with(&format!("{word}:"))
    })
}

#[test]
fn bash_completes_commands_flags_and_the_vaults_names() {
    let s = vault();
    let path = script("bash", s.home(), "oauth-desk.bash");
    let ask = |line: &str| {
        let words: Vec<&str> = line.split(' ').collect();
        shell(
            &s,
            "bash",
            &[
                "-c",
                &format!(
                    // The function the script registered for the command, as bash would call it.
                    "source {}; f=$(complete -p oauth-desk | sed -E 's/.*-F ([^ ]+).*/\\1/'); COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; COMP_TYPE=9; \"$f\" oauth-desk '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                    path.display(),
                    words.join(" "),
                    words.len() - 1,
                    words[words.len() - 1],
                    words[words.len() - 2],
                ),
            ],
        )
    };
    assert!(offers(&ask("oauth-desk tok"), "token"), "token");
    let flags = ask("oauth-desk provider add Work --client-a");
    assert!(offers(&flags, "--client-auth"), "{flags}");
    let proof = ask("oauth-desk token pro");
    assert!(offers(&proof, "proof"), "{proof}");
    let names = ask("oauth-desk token get ");
    assert!(
        offers(&names, "work-idp") && offers(&names, "personal"),
        "{names}"
    );
    let names = ask("oauth-desk login wo");
    assert_eq!(names.trim(), "work-idp", "{names}");
    let accounts = ask("oauth-desk token get work-idp --account al");
    assert_eq!(accounts.trim(), "alice@example.test", "{accounts}");
    let quoted = ask("oauth-desk login Te");
    assert_eq!(quoted.trim(), "'Team IdP'", "one word: {quoted}");
    let quoted = ask("oauth-desk token get Team --account ev");
    assert_eq!(quoted.trim(), "'evil;touch pwned'", "inert: {quoted}");
    let new = ask("oauth-desk provider add wo");
    assert!(
        !offers(&new, "work-idp"),
        "a new provider's name is not offered: {new}"
    );
}

#[test]
fn zsh_completes_on_the_first_tab_whether_autoloaded_or_sourced() {
    let s = vault();
    let functions = s.home().join("zfunc");
    std::fs::create_dir_all(&functions).unwrap();
    let path = script("zsh", &functions, "_oauth-desk");
    // `_describe` is where zsh's completion system shows candidates: printed here instead.
    let describe = "_describe() { local n=${@[-1]}; print -rl -- ${(P)n}; }";
    let ask = |load: &str, line: &str| {
        let words: Vec<&str> = line.split(' ').collect();
        shell(
            &s,
            "zsh",
            &[
                "-f",
                "-c",
                &format!(
                    "{load}; {describe}; words=({}); CURRENT={}; print -r -- \"registered: ${{_comps[oauth-desk]}}\"; ${{_comps[oauth-desk]}}",
                    words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
                    words.len()
                ),
            ],
        )
    };
    // As packaged: the file on $fpath, found by compinit and autoloaded on the first Tab.
    let autoloaded = format!(
        "fpath=({} $fpath); autoload -U compinit; compinit -u -D",
        functions.display()
    );
    let out = ask(&autoloaded, "oauth-desk token get wo");
    assert!(out.contains("registered: _oauth-desk"), "{out}");
    assert!(offers(&out, "work-idp"), "the first Tab completes: {out}");
    // Sourced from a shell's startup file.
    let sourced = format!(
        "autoload -U compinit; compinit -u -D; source {}",
        path.display()
    );
    let out = ask(&sourced, "oauth-desk tok");
    assert!(
        out.contains("registered: _clap_dynamic_completer_oauth_desk"),
        "{out}"
    );
    assert!(offers(&out, "token"), "{out}");
    let out = ask(&sourced, "oauth-desk exec work-idp --account ");
    assert!(offers(&out, "alice@example.test"), "{out}");
}

#[test]
fn fish_completes_commands_flags_and_the_vaults_names() {
    let s = vault();
    let path = script("fish", s.home(), "oauth-desk.fish");
    let ask = |line: &str| {
        shell(
            &s,
            "fish",
            &[
                "--no-config",
                "-c",
                &format!("source {}; complete -C '{line}'", path.display()),
            ],
        )
    };
    let subcommands = ask("oauth-desk tok");
    assert!(offers(&subcommands, "token"), "{subcommands}");
    let flags = ask("oauth-desk provider add Work --dp");
    assert!(flags.lines().any(|l| l.starts_with("--dpop")), "{flags}");
    let names = ask("oauth-desk kube-credential pe");
    assert!(offers(&names, "personal"), "{names}");
}

#[test]
fn without_a_vault_to_open_completion_offers_commands_and_asks_nothing() {
    // No keyring, no passphrase: the names are left out, silently, at once.
    let s = Session::without_keyring();
    let path = script("bash", s.home(), "oauth-desk.bash");
    let out = shell(
        &s,
        "bash",
        &[
            "-c",
            &format!(
                "source {}; COMP_WORDS=(oauth-desk token get ''); COMP_CWORD=3; COMP_TYPE=9; _clap_complete_oauth_desk oauth-desk '' get; printf '%s\\n' \"${{COMPREPLY[@]}}\"; COMP_WORDS=(oauth-desk tok); COMP_CWORD=1; _clap_complete_oauth_desk oauth-desk tok oauth-desk; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                path.display()
            ),
        ],
    );
    assert!(offers(&out, "token"), "{out}");
    assert!(
        out.lines().all(|l| !l.contains(' ')),
        "nothing but candidates: {out}"
    );

    // The variable left exported by mistake does not turn a normal run into a completion.
    let out = bins::cli()
        .args(["--version"])
        .env("OAUTH_DESK_COMPLETE", "bash")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("oauth-desk {}", env!("CARGO_PKG_VERSION"))
    );
}
