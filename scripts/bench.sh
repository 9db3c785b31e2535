#!/usr/bin/env bash
# Benchmarks (figures, not pass/fail), release builds: the token table at 100,000 tokens, then
# one table of OAuth Desk side by side with its peers (tests/benches/side_by_side.rs).
# Arguments pick rows of that table: token-get, bulk-refresh, window-memory,
# window-idle, filter, deb.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

echo "== building the release app, the CLI and the empty Tauri app to compare with" >&2
cargo build --release --locked -p oauth-desk-cli -p oauth-desk -p oauth-desk-app
cargo build --release --locked --manifest-path bench/empty-app/Cargo.toml

echo "== core: the token table and a fresh token in-process"
cargo bench --locked -p oauth-desk-core --bench tokens 2>/dev/null | grep -v '^$'

echo "== side by side"
cargo bench --locked -p oauth-desk-tests --bench side_by_side -- "$@"
