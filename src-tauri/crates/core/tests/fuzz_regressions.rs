//! Replays every input the fuzzers found (`tests/fuzz/regressions/TARGET/`) and every seed
//! they start from (`tests/fuzz/seeds/TARGET/`) through the same entry points, so a parser that
//! panicked once is checked on every test run, without nightly or libFuzzer.

use std::path::{Path, PathBuf};

use oauth_desk_core::fuzzing::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fuzz")
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.flatten().map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn every_target_has_its_fuzz_binary_and_seeds() {
    let dir = fuzz_dir();
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("the fuzz crate exists");
    for (name, _) in TARGETS {
        assert!(
            dir.join("fuzz_targets")
                .join(format!("{name}.rs"))
                .is_file()
                && manifest.contains(&format!("name = \"{name}\"")),
            "the fuzzing entry {name} has no fuzz target: scripts/fuzz.sh would never run it"
        );
        assert!(
            !inputs(&dir.join("seeds").join(name)).is_empty(),
            "the fuzz target {name} has no seed input to start from"
        );
    }
    let targets = inputs(&dir.join("fuzz_targets"));
    assert_eq!(
        targets.len(),
        TARGETS.len(),
        "a fuzz target that is not in fuzzing::TARGETS is never replayed here"
    );
}

#[test]
fn every_seed_and_found_input_runs_without_a_panic() {
    let dir = fuzz_dir();
    let mut ran = 0;
    for (name, run) in TARGETS {
        for kind in ["seeds", "regressions"] {
            for path in inputs(&dir.join(kind).join(name)) {
                let data = std::fs::read(&path).expect("the input is readable");
                let outcome = std::panic::catch_unwind(|| run(&data));
                assert!(
                    outcome.is_ok(),
                    "{} panicked {name}: a parser of outside input must refuse it with an error",
                    path.display()
                );
                ran += 1;
            }
        }
    }
    assert!(ran >= TARGETS.len(), "the inputs were found ({ran} ran)");
}
