//! The vault file under damage and odd placements: each damage gets its own error and the file
//! is left as it was; odd placements (a symlink, loose modes, a full disk) keep working or fail
//! clearly without losing anything.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use oauth_desk_core::vault::{Create, NoKeyring, Unlock, Vault};
use oauth_desk_tests::bins;
use oauth_desk_tests::cli::{sha, stderr, stdout};
use serde_json::Value;

use crate::common::*;

/// The damaged copy `damage` makes of a good vault must be refused by `args` with `code`
/// and left byte for byte as it was.
fn damaged(
    name: &str,
    args: &'static [&'static str],
    code: &'static str,
    damage: impl Fn(&mut Vec<u8>) + Send + Sync + 'static,
) -> Case {
    case(
        "storage",
        name.to_owned(),
        format!("{code}; the file is left as it was"),
        move || {
            let d = Desk::with_existing()?;
            let mut bytes = std::fs::read(d.vault()).unwrap();
            damage(&mut bytes);
            std::fs::write(d.vault(), &bytes).unwrap();
            let before = sha(&d.vault());
            let out = d.run(args, "");
            let seen = refused(&out, 1, code, "")?;
            ensure(sha(&d.vault()) == before, || {
                "the damaged file was changed".into()
            })?;
            Ok(seen)
        },
    )
}

fn open(path: &Path) -> Result<Vault, String> {
    Vault::open(
        path,
        Unlock::Passphrase(PASSPHRASE.into()),
        &NoKeyring,
        Create::Never,
    )
    .map_err(|e| e.to_string())
}

/// The client id of "Existing" as `provider show` prints it.
fn client_id(d: &Desk) -> Result<String, String> {
    let out = d.ok(&["provider", "show", "Existing", "--json"], "")?;
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    Ok(v["client_id"].as_str().unwrap_or_default().to_owned())
}

/// A vault as a crash leaves it: an update committed to the WAL, not yet checkpointed.
fn crashed_with_wal(flip: bool) -> Result<(Desk, String), String> {
    let d = Desk::with_existing()?;
    let copy = Desk::new();
    std::fs::create_dir_all(copy.vault().parent().unwrap()).unwrap();
    {
        let v = open(&d.vault())?;
        v.conn()
            .execute_batch(
                "PRAGMA wal_autocheckpoint = 0;
                 UPDATE providers SET client_id = 'after-crash' WHERE name = 'Existing';",
            )
            .map_err(|e| e.to_string())?;
        std::fs::copy(d.vault(), copy.vault()).unwrap();
        let wal = format!("{}-wal", copy.vault().display());
        std::fs::copy(format!("{}-wal", d.vault().display()), &wal).unwrap();
        if flip {
            // The first frame's page: 32 bytes of WAL header, 24 of frame header.
            let mut bytes = std::fs::read(&wal).unwrap();
            bytes[32 + 24 + 200] ^= 0x55;
            std::fs::write(&wal, bytes).unwrap();
        }
        drop(v);
    }
    let id = client_id(&copy)?;
    copy.ok(&["vault", "check", "--json"], "")?;
    Ok((copy, id))
}

pub fn cases() -> Vec<Case> {
    let status: &'static [&'static str] = &["vault", "status", "--json"];
    let check: &'static [&'static str] = &["vault", "check", "--json"];
    let mut cases = vec![
        damaged("truncated by a page", status, "vault_truncated", |b| {
            b.truncate(b.len() - 4096)
        }),
        damaged(
            "cut in the middle of a page",
            status,
            "vault_truncated",
            |b| b.truncate(b.len() - 1000),
        ),
        damaged("zero-length file", status, "vault_truncated", |b| b.clear()),
        damaged("byte flipped on page 1", status, "vault_corrupt", |b| {
            b[100] ^= 0xff
        }),
        damaged("salt flipped (first bytes)", status, "wrong_key", |b| {
            b[3] ^= 0x01
        }),
        damaged("byte flipped mid-file", check, "vault_corrupt", |b| {
            let mid = b.len() / 2 + 123;
            b[mid] ^= 0xff
        }),
        damaged("last page zeroed", check, "vault_corrupt", |b| {
            let n = b.len();
            b[n - 4096..].fill(0)
        }),
        damaged(
            "plain SQLite file at the path",
            status,
            "vault_not_encrypted",
            |b| {
                *b = b"SQLite format 3\0".to_vec();
                b.resize(4096, 0)
            },
        ),
        damaged("a PNG at the path", status, "", |b| {
            *b = b"\x89PNG\r\n\x1a\n".to_vec();
            b.resize(4096 * 3, 7)
        }),
    ];
    cases.push(case(
        "storage",
        "WAL left by a crash after a commit",
        "opens with the committed change; check passes",
        || {
            let (_, id) = crashed_with_wal(false)?;
            ensure(id == "after-crash", || format!("client id {id:?}"))?;
            Ok("client id after-crash, vault check ok".into())
        },
    ));
    cases.push(case(
        "storage",
        "WAL with a byte flipped in its frame",
        "torn frame dropped as after a crash; opens with the last whole state; check passes",
        || {
            let (_, id) = crashed_with_wal(true)?;
            ensure(id == "catalogue-client", || format!("client id {id:?}"))?;
            Ok(
                "the client id from before (the torn transaction is dropped), vault check ok"
                    .into(),
            )
        },
    ));
    cases.push(case(
        "storage",
        "schema from a newer OAuth Desk",
        "schema_too_new; the file is left as it was",
        || {
            let d = Desk::with_existing()?;
            {
                let v = open(&d.vault())?;
                v.conn()
                    .execute_batch("PRAGMA user_version = 99")
                    .map_err(|e| e.to_string())?;
            }
            let before = sha(&d.vault());
            let out = d.run(&["provider", "list", "--json"], "");
            let seen = refused(&out, 1, "schema_too_new", "99")?;
            ensure(sha(&d.vault()) == before, || "the file changed".into())?;
            Ok(seen)
        },
    ));
    cases.push(case(
        "storage",
        "vault reached through a symlink, then its key rotated",
        "works; the link stays a link and its target is the re-encrypted vault",
        || {
            let d = Desk::with_existing()?;
            let elsewhere = d.s.home().join("synced/vault.db");
            std::fs::create_dir_all(elsewhere.parent().unwrap()).unwrap();
            std::fs::rename(d.vault(), &elsewhere).unwrap();
            std::os::unix::fs::symlink(&elsewhere, d.vault()).unwrap();
            d.ok(&["provider", "list"], "")?;
            d.ok(&["vault", "rotate-key"], "")?;
            let meta = std::fs::symlink_metadata(d.vault()).unwrap();
            ensure(meta.file_type().is_symlink(), || {
                "the link was replaced by a file".into()
            })?;
            ensure(client_id(&d)? == "catalogue-client", || {
                "the provider is gone".into()
            })?;
            d.ok(&["vault", "check"], "")?;
            Ok("link kept; provider there after rotation".into())
        },
    ));
    cases.push(case(
        "storage",
        "dangling symlink at the path",
        "clear error naming the link; nothing created",
        || {
            let d = Desk::new();
            let target = d.s.home().join("gone/vault.db");
            std::fs::create_dir_all(d.vault().parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(&target, d.vault()).unwrap();
            let out = d.add_json("X");
            let seen = refused(&out, 1, "", "vault.db")?;
            ensure(!target.exists(), || {
                "a vault was created at the link's target".into()
            })?;
            ensure(
                std::fs::symlink_metadata(d.vault())
                    .unwrap()
                    .file_type()
                    .is_symlink(),
                || "the link was replaced".into(),
            )?;
            Ok(seen)
        },
    ));
    cases.push(case(
        "storage",
        "vault file with mode 0644",
        "opens; made 0600 again",
        || {
            let d = Desk::with_existing()?;
            std::fs::set_permissions(d.vault(), std::fs::Permissions::from_mode(0o644)).unwrap();
            d.ok(&["provider", "list"], "")?;
            let mode = std::fs::metadata(d.vault()).unwrap().permissions().mode() & 0o777;
            ensure(mode == 0o600, || format!("mode {mode:o}"))?;
            Ok(format!("mode {mode:o}"))
        },
    ));
    cases.push(case(
        "storage",
        "vault file read-only (0400)",
        "reads work; a write fails clearly; nothing lost",
        || {
            let d = Desk::with_existing()?;
            std::fs::set_permissions(d.vault(), std::fs::Permissions::from_mode(0o400)).unwrap();
            let out = d.add_json("New");
            std::fs::set_permissions(d.vault(), std::fs::Permissions::from_mode(0o600)).unwrap();
            if unsafe_is_root() && out.status.success() {
                // root writes through 0400; nothing to refuse.
                return Ok("root: the write went through the mode, as the kernel allows".into());
            }
            let seen = refused(&out, 1, "", "")?;
            ensure(client_id(&d)? == "catalogue-client", || {
                "the provider is gone".into()
            })?;
            Ok(seen)
        },
    ));
    cases.push(case(
        "storage",
        "full disk while saving a provider",
        "storage error saying the disk is full; after space returns the vault opens, unchanged",
        full_disk,
    ));
    cases
}

fn unsafe_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// A 512 KiB tmpfs in a private mount namespace (`unshare -m`, as root or with user
/// namespaces), filled to the last block before the CLI saves a provider.
fn full_disk() -> Check {
    let d = Desk::with_existing()?;
    let mnt: PathBuf = d.s.home().join("small-disk");
    std::fs::create_dir_all(&mnt).unwrap();
    let cli = bins::cli_path();
    let script = r#"
        set -u
        mount -t tmpfs -o size=512k tmpfs "$MNT" || { echo "MOUNT FAILED"; exit 97; }
        cp "$VAULT" "$MNT/vault.db"
        dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null
        "$CLI" --vault "$MNT/vault.db" provider add Big --client-id c --token-url https://idp.example/t --json
        echo "ADD EXIT $?" >&2
        rm -f "$MNT/fill"
        "$CLI" --vault "$MNT/vault.db" vault check --json >/dev/null || echo "CHECK FAILED" >&2
        "$CLI" --vault "$MNT/vault.db" provider list --json
    "#;
    let mut cmd = std::process::Command::new("unshare");
    d.s.apply(&mut cmd);
    let out = cmd
        .args(["-m", "sh", "-c", script])
        .env("MNT", &mnt)
        .env("VAULT", d.vault())
        .env("CLI", &cli)
        .env(PASS.0, PASS.1)
        .output()
        .map_err(|e| format!("unshare: {e}"))?;
    let err = stderr(&out);
    let list = stdout(&out);
    ensure(!list.contains("MOUNT FAILED"), || {
        format!("cannot mount a small tmpfs here: {err}")
    })?;
    ensure(err.contains("ADD EXIT 1"), || {
        format!("the save did not fail with exit 1: {err}")
    })?;
    ensure(!err.contains("CHECK FAILED"), || {
        format!("the vault did not pass its check afterwards: {err}")
    })?;
    ensure(list.contains("Existing") && !list.contains("Big"), || {
        format!("providers afterwards: {list}")
    })?;
    let message = err
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_default()
        .to_owned();
    ensure(
        message.to_lowercase().contains("full") || message.contains("space"),
        || format!("the error does not say the disk is full: {message}"),
    )?;
    Ok(short(&message))
}
