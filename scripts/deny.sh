#!/usr/bin/env bash
# The dependencies as Cargo.lock pins them, checked offline with cargo-deny: licences, bans
# (no Tauri 3 alpha, no wildcard versions) and sources (crates.io only). Known vulnerabilities
# (advisories) need the RustSec database, cloned from GitHub; it is checked when a copy exists
# (`cargo deny fetch` where GitHub is reachable) and said to be skipped otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo deny --offline --log-level error check bans licenses sources
echo "cargo-deny: bans, licences and sources ok"

db="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
# A copy is a directory of its own; a lock file alone (left by a fetch that failed) is none.
if compgen -G "$db/*/" >/dev/null; then
    cargo deny --offline --log-level error check advisories
    echo "cargo-deny: advisories ok (database in $db)"
else
    echo "cargo-deny: advisories skipped: no RustSec database in $db and no network to fetch it"
fi
