#!/usr/bin/env bash
# Benchmarks (figures, not pass/fail): the token table with 100,000 tokens, and the time of
# `oauth-desk token get` as a script sees it, in the default keyring mode, release build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"

echo "== core: token table and fresh token (cargo bench, release)"
cargo bench --locked -p oauth-desk-core --bench tokens 2>/dev/null | grep -v '^$' || cargo bench --locked -p oauth-desk-core --bench tokens

echo "== CLI: oauth-desk token get, 50 runs (release, keyring mode, private D-Bus + gnome-keyring)"
cargo build --release --locked -p oauth-desk >/dev/null 2>&1
cli="$target/release/oauth-desk"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/run"
HOME="$scratch" XDG_DATA_HOME="$scratch/data" XDG_RUNTIME_DIR="$scratch/run" \
dbus-run-session -- bash -c '
  set -euo pipefail
  cli="$1"
  echo -n bench | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  "$cli" vault init >/dev/null
  "$cli" provider add Bench --token-url https://idp.example/token --client-id bench >/dev/null
  echo "{\"access_token\":\"bench-token\",\"expires_in\":86400}" | "$cli" token import Bench --account bench >/dev/null
  for i in $(seq 50); do
    s=$(date +%s%N); "$cli" token get Bench >/dev/null; e=$(date +%s%N)
    echo $(( (e - s) / 1000 ))
  done | sort -n | awk "{a[NR]=\$1} END {printf \"token get: median %.2f ms, min %.2f ms, max %.2f ms (%d runs)\\n\", a[int((NR+1)/2)]/1000, a[1]/1000, a[NR]/1000, NR}"
' _ "$cli" 2>/dev/null
echo "CLI binary: $(stat -c %s "$cli") bytes, $(ldd "$cli" | wc -l) shared libraries"
