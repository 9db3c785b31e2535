//! `oauth-desk completions SHELL`, loaded into the real shells (bash, zsh, fish) and asked
//! what completes a partial command line, as pressing Tab would.

use std::process::Command;

use oauth_desk_tests::bins;

/// The script, written to a file the shell sources.
fn script(shell: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let out = bins::cli()
        .args(["completions", shell])
        .output()
        .expect("the CLI runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("oauth-desk.{shell}"));
    std::fs::write(&path, &out.stdout).unwrap();
    (dir, path)
}

fn shell(name: &str, args: &[&str]) -> String {
    let out = Command::new(name).args(args).output().unwrap_or_else(|e| {
        panic!("{name} runs ({e}): `scripts/setup.sh test` installs it (make test does)")
    });
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn bash_completes_subcommands_and_flags() {
    let (_dir, path) = script("bash");
    let ask = |line: &str| {
        let words: Vec<&str> = line.split(' ').collect();
        shell(
            "bash",
            &[
                "-c",
                &format!(
                    // The function the script registered for the command, as bash would call it.
                    "source {}; f=$(complete -p oauth-desk | sed -E 's/.*-F ([^ ]+).*/\\1/'); COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; \"$f\" oauth-desk '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                    path.display(),
                    words.join(" "),
                    words.len() - 1,
                    words[words.len() - 1],
                    words[words.len() - 2],
                ),
            ],
        )
    };
    assert!(ask("oauth-desk tok").lines().any(|l| l == "token"), "token");
    let flags = ask("oauth-desk provider add Work --client-a");
    assert!(flags.lines().any(|l| l == "--client-auth"), "{flags}");
    let dpop = ask("oauth-desk token pro");
    assert!(dpop.lines().any(|l| l == "proof"), "{dpop}");
}

#[test]
fn zsh_registers_its_completion_function() {
    let (_dir, path) = script("zsh");
    let out = shell(
        "zsh",
        &[
            "-f",
            "-c",
            &format!(
                "autoload -U compinit; compinit -u -D; source {}; print -r -- ${{_comps[oauth-desk]}}; whence -w _oauth-desk; whence -f _oauth-desk _oauth-desk_commands",
                path.display()
            ),
        ],
    );
    assert_eq!(
        out.lines().next(),
        Some("_oauth-desk"),
        "compinit registered it for oauth-desk: {out}"
    );
    assert!(
        out.contains("_oauth-desk: function"),
        "the completion function is defined: {out}"
    );
    // What it offers: the subcommands and the provider flags built at run time.
    assert!(out.contains("'token:"), "{out}");
    assert!(out.contains("--client-auth"), "{out}");
}

#[test]
fn fish_completes_subcommands_and_flags() {
    let (_dir, path) = script("fish");
    let ask = |line: &str| {
        shell(
            "fish",
            &[
                "--no-config",
                "-c",
                &format!("source {}; complete -C '{line}'", path.display()),
            ],
        )
    };
    let subcommands = ask("oauth-desk tok");
    assert!(
        subcommands.lines().any(|l| l.starts_with("token")),
        "{subcommands}"
    );
    let flags = ask("oauth-desk provider add Work --dp");
    assert!(flags.lines().any(|l| l.starts_with("--dpop")), "{flags}");
}
