//! The .deb and the .rpm that `make deb` builds (and `make test` builds first): each, unpacked
//! into a scratch root, holds the window, the `oauth-desk` command on the PATH with the full
//! command and docker's helper name beside it, a menu entry, icons in every size, a manual page
//! for every command, and completion scripts that load in the real bash, zsh and fish; with a
//! real description and the right dependencies.

use std::path::{Path, PathBuf};
use std::process::Command;

fn newest(kind: &str) -> PathBuf {
    let dir = oauth_desk_tests::bins::target_dir()
        .join("release/bundle")
        .join(kind);
    let mut found: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|_| {
            panic!(
                "no {} : build the packages with `make deb` (`make test` does)",
                dir.display()
            )
        })
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == kind))
        .collect();
    found.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    found
        .pop()
        .unwrap_or_else(|| panic!("a .{kind} in the bundle directory"))
}

fn output(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .expect("the tool runs (`make test` installs it)");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn deb_field(deb: &Path, name: &str) -> String {
    output(Command::new("dpkg-deb").arg("-f").arg(deb).arg(name))
}

fn rpm_tag(rpm: &Path, query: &[&str]) -> String {
    output(Command::new("rpm").arg("-qp").args(query).arg(rpm))
}

#[test]
fn the_deb_holds_everything_and_depends_on_what_it_links() {
    let deb = newest("deb");
    let root = tempfile::tempdir().unwrap();
    output(
        Command::new("dpkg-deb")
            .arg("-x")
            .arg(&deb)
            .arg(root.path()),
    );
    holds_everything(root.path(), "usr/share/zsh/vendor-completions");

    let depends = deb_field(&deb, "Depends");
    for dep in [
        "libwebkit2gtk-4.1-0",
        "libgtk-3-0",
        "libssl3",
        "libayatana-appindicator3-1",
    ] {
        assert!(depends.contains(dep), "Depends names {dep}: {depends}");
    }
    let description = deb_field(&deb, "Description");
    assert!(
        description.contains("OAuth") && description.len() > 60,
        "a real description: {description}"
    );
    assert_eq!(deb_field(&deb, "Package"), "oauth-desk");
}

#[test]
fn the_rpm_holds_the_same_and_requires_fedoras_names() {
    let rpm = newest("rpm");
    let root = tempfile::tempdir().unwrap();
    let cpio = Command::new("sh")
        .arg("-c")
        .arg("rpm2cpio \"$0\" | cpio -idm --quiet")
        .arg(&rpm)
        .current_dir(root.path())
        .status()
        .expect("sh runs");
    assert!(cpio.success(), "rpm2cpio | cpio {}", rpm.display());
    holds_everything(root.path(), "usr/share/zsh/site-functions");

    assert_eq!(rpm_tag(&rpm, &["--qf", "%{NAME}"]), "oauth-desk");
    assert_eq!(
        rpm_tag(&rpm, &["--qf", "%{VERSION}"]),
        env!("CARGO_PKG_VERSION")
    );
    let requires = rpm_tag(&rpm, &["--requires"]);
    for dep in [
        "webkit2gtk4.1",
        "gtk3",
        "openssl-libs",
        "libayatana-appindicator-gtk3",
    ] {
        assert!(
            requires.lines().any(|l| l.trim() == dep),
            "Requires names {dep}: {requires}"
        );
    }
    let description = rpm_tag(&rpm, &["--qf", "%{DESCRIPTION}"]);
    assert!(
        description.contains("OAuth") && description.len() > 60,
        "a real description: {description}"
    );
}

/// What both packages hold, unpacked at `r`; zsh's completion folder differs between the two
/// families.
fn holds_everything(r: &Path, zsh_dir: &str) {
    for bin in [
        "usr/bin/oauth-desk-app",
        "usr/bin/oauth-desk",
        "usr/bin/oauth-desk-cli",
        "usr/bin/docker-credential-oauth-desk",
    ] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(r.join(bin))
            .unwrap_or_else(|_| panic!("{bin} is in the package"))
            .permissions()
            .mode();
        assert!(mode & 0o111 != 0, "{bin} is executable");
    }
    let version = format!("oauth-desk {}", env!("CARGO_PKG_VERSION"));
    assert_eq!(
        output(Command::new(r.join("usr/bin/oauth-desk")).arg("--version")),
        version
    );
    // docker's name reaches the full command beside it.
    assert_eq!(
        output(Command::new(r.join("usr/bin/docker-credential-oauth-desk")).arg("version")),
        version
    );

    let desktop = std::fs::read_dir(r.join("usr/share/applications"))
        .expect("a menu entry directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "desktop"))
        .expect("a .desktop entry");
    let entry = std::fs::read_to_string(&desktop).unwrap();
    for line in ["Name=OAuth Desk", "Exec=oauth-desk-app", "Type=Application"] {
        assert!(
            entry.lines().any(|l| l.trim() == line),
            "{} has {line}:\n{entry}",
            desktop.display()
        );
    }
    assert!(entry.contains("Icon="), "{entry}");

    let sizes: Vec<String> = std::fs::read_dir(r.join("usr/share/icons/hicolor"))
        .expect("hicolor icons")
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.path()
                .join("apps")
                .read_dir()
                .is_ok_and(|mut d| d.next().is_some())
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for size in ["16x16", "32x32", "48x48", "128x128", "256x256", "512x512"] {
        assert!(
            sizes.iter().any(|s| s == size),
            "an icon at {size}: {sizes:?}"
        );
    }

    // A page per command, each a real manual page.
    let man = r.join("usr/share/man/man1");
    for page in [
        "oauth-desk",
        "oauth-desk-token-get",
        "oauth-desk-provider-add",
        "oauth-desk-git-credential",
        "oauth-desk-kube-credential",
        "oauth-desk-docker-setup",
        "oauth-desk-exec",
        "oauth-desk-completions",
    ] {
        let file = man.join(format!("{page}.1.gz"));
        let text = output(Command::new("gzip").arg("-dc").arg(&file));
        assert!(
            text.contains(&format!(".TH {page} 1")) && text.contains(".SH NAME"),
            "{} is a manual page:\n{}",
            file.display(),
            &text[..text.len().min(300)]
        );
    }
    let pages = std::fs::read_dir(&man).unwrap().count();
    assert!(pages > 40, "a page per command, not {pages}");

    // Each shell loads its script without a word on standard error, and registers it.
    let bash = r.join("usr/share/bash-completion/completions/oauth-desk");
    let registered = shell(
        r,
        "bash",
        &[
            "-c",
            &format!("source '{}' && complete -p oauth-desk", bash.display()),
        ],
    );
    assert!(registered.contains("oauth-desk"), "{registered}");
    let zsh = r.join(zsh_dir);
    let registered = shell(
        r,
        "zsh",
        &[
            "-f",
            "-c",
            &format!(
                "fpath=('{}' $fpath); autoload -U compinit; compinit -u -D; print -r -- ${{_comps[oauth-desk]}}",
                zsh.display()
            ),
        ],
    );
    assert_eq!(registered, "_oauth-desk");
    let fish = r.join("usr/share/fish/vendor_completions.d/oauth-desk.fish");
    let completed = shell(
        r,
        "fish",
        &[
            "--no-config",
            "-c",
            &format!("source '{}'; complete -C 'oauth-desk tok'", fish.display()),
        ],
    );
    assert!(completed.starts_with("token"), "{completed}");
}

/// `name args...` with the package's /usr/bin first on the PATH; nothing on standard error.
fn shell(r: &Path, name: &str, args: &[&str]) -> String {
    let path = format!(
        "{}:{}",
        r.join("usr/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(name)
        .args(args)
        .env("PATH", path)
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env_remove("OAUTH_DESK_VAULT")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .unwrap_or_else(|e| panic!("{name} runs ({e}): `make test` installs it"));
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
