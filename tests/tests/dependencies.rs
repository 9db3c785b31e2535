//! The dependencies as the lockfile pins them (issue 7): Tauri at or above 2.11.1 (the release
//! with the fixes the campaign requires) and still 2.x (the registry's 3.0 is an alpha).
//! Licences, bans and sources are checked by `scripts/deny.sh` (cargo-deny) in `make test`.

fn locked_version(lock: &str, name: &str) -> Option<(u64, u64, u64)> {
    let at = lock.find(&format!("\nname = \"{name}\"\n"))?;
    let version = lock[at..].lines().nth(2)?.strip_prefix("version = \"")?;
    let mut parts = version.trim_end_matches('"').split(['.', '-']);
    let mut next = || parts.next()?.parse().ok();
    Some((next()?, next()?, next()?))
}

#[test]
fn tauri_is_at_least_2_11_1_and_below_3() {
    let lock = std::fs::read_to_string(oauth_desk_tests::workspace_root().join("Cargo.lock"))
        .expect("the workspace has a lockfile");
    for name in ["tauri", "tauri-runtime-wry", "wry"] {
        assert!(
            locked_version(&lock, name).is_some(),
            "{name} is in the lockfile"
        );
    }
    let tauri = locked_version(&lock, "tauri").unwrap();
    assert!(tauri >= (2, 11, 1), "tauri {tauri:?} is older than 2.11.1");
    assert!(tauri < (3, 0, 0), "tauri {tauri:?}: stay on 2.x");
}

#[test]
fn the_lockfile_reader_reads_versions() {
    let lock = "\n[[package]]\nname = \"tauri\"\nversion = \"2.12.5\"\n";
    assert_eq!(locked_version(lock, "tauri"), Some((2, 12, 5)));
    assert_eq!(locked_version(lock, "wry"), None);
}
