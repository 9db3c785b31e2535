//! The .deb that `make deb` builds (and `make test` builds first): unpacked into a scratch
//! root, it holds the window, the `oauth-desk` command on the PATH, a menu entry, icons in
//! every size, a real description and the right dependencies.

use std::path::PathBuf;
use std::process::Command;

fn newest_deb() -> PathBuf {
    let dir = oauth_desk_tests::bins::target_dir().join("release/bundle/deb");
    let mut debs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|_| {
            panic!(
                "no {} : build the package with `make deb` (`make test` does)",
                dir.display()
            )
        })
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    debs.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    debs.pop().expect("a .deb in the bundle directory")
}

fn field(deb: &PathBuf, name: &str) -> String {
    let out = Command::new("dpkg-deb")
        .args(["-f"])
        .arg(deb)
        .arg(name)
        .output()
        .expect("dpkg-deb runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn the_deb_holds_the_window_the_command_a_menu_entry_and_icons() {
    let deb = newest_deb();
    let root = tempfile::tempdir().unwrap();
    let status = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(root.path())
        .status()
        .unwrap();
    assert!(status.success(), "dpkg-deb -x {}", deb.display());
    let r = root.path();

    for bin in [
        "usr/bin/oauth-desk-app",
        "usr/bin/oauth-desk",
        "usr/bin/oauth-desk-cli",
    ] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(r.join(bin))
            .unwrap_or_else(|_| panic!("{bin} is in the package"))
            .permissions()
            .mode();
        assert!(mode & 0o111 != 0, "{bin} is executable");
    }
    let version = Command::new(r.join("usr/bin/oauth-desk"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("oauth-desk {}", env!("CARGO_PKG_VERSION"))
    );

    let apps = r.join("usr/share/applications");
    let desktop = std::fs::read_dir(&apps)
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

    let depends = field(&deb, "Depends");
    for dep in ["libwebkit2gtk-4.1-0", "libgtk-3-0", "libssl3"] {
        assert!(depends.contains(dep), "Depends names {dep}: {depends}");
    }
    let description = field(&deb, "Description");
    assert!(
        description.contains("OAuth") && description.len() > 60,
        "a real description: {description}"
    );
    assert_eq!(field(&deb, "Package"), "oauth-desk");
}
