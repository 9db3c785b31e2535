#!/usr/bin/env bash
# Fuzzes every parser that reads outside input (tests/fuzz, cargo-fuzz + libFuzzer) for a
# bounded time each, then prints one row per target: executions, executions per second, corpus
# size and findings. A crash is copied into tests/fuzz/regressions/TARGET/, where
# `cargo test -p oauth-desk-core --test fuzz_regressions` replays it on every test run.
# Like `make bench`, this is not part of CI: it takes minutes and needs the nightly toolchain.
#
#   scripts/fuzz.sh                 60 s per target
#   scripts/fuzz.sh 300 agent_line  300 s for the named targets only
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz="$root/tests/fuzz"
secs="${1:-60}"
shift || true
[[ "$secs" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: the time per target is a number of seconds, not '$secs'" >&2; exit 2; }

say() { printf '\033[1mfuzz:\033[0m %s\n' "$*" >&2; }

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz.sh: cargo-fuzz needs the nightly toolchain (rustup toolchain install nightly)" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    say "installing cargo-fuzz"
    cargo install cargo-fuzz --locked --quiet
fi

targets=("$@")
if ((${#targets[@]} == 0)); then
    mapfile -t targets < <(cd "$fuzz/fuzz_targets" && ls -- *.rs | sed 's/\.rs$//')
fi
# Its own build directory: sanitizer builds share nothing with the product's.
target_dir="${CARGO_TARGET_DIR:-$root/target}/fuzz"
logs="$target_dir/logs"
mkdir -p "$logs"

say "building the fuzz targets (nightly, AddressSanitizer)"
(cd "$root" && cargo +nightly fuzz build --fuzz-dir "$fuzz" --target-dir "$target_dir" >"$logs/build.log" 2>&1) \
    || { tail -n 30 "$logs/build.log" >&2; exit 1; }

found=0
rows=()
for t in "${targets[@]}"; do
    corpus="$fuzz/corpus/$t"
    artifacts="$fuzz/artifacts/$t/"
    mkdir -p "$corpus" "$artifacts"
    say "$t: ${secs} s"
    status=0
    # -timeout: an input that takes 10 s is a hang; -rss_limit_mb: one that grows without bound.
    (cd "$root" && cargo +nightly fuzz run --fuzz-dir "$fuzz" --target-dir "$target_dir" "$t" \
        "$corpus" "$fuzz/seeds/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$artifacts") >"$logs/$t.log" 2>&1 || status=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$logs/$t.log" | grep -o '[0-9]*$' | tail -n 1)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$logs/$t.log" | grep -o '[0-9]*$' | tail -n 1)
    size=$(find "$corpus" -type f | wc -l)
    crashes=0
    for a in "$artifacts"*; do
        [[ -f "$a" ]] || continue
        mkdir -p "$fuzz/regressions/$t"
        cp "$a" "$fuzz/regressions/$t/"
        crashes=$((crashes + 1))
    done
    if ((status != 0 && crashes == 0)); then
        crashes="run failed (rc $status), see $logs/$t.log"
    fi
    [[ "$crashes" == 0 ]] || found=1
    rows+=("$(printf '%-20s %12s %10s %8s  %s' "$t" "${runs:-?}" "${rate:-?}" "$size" "$crashes")")
done

printf '\n%-20s %12s %10s %8s  %s\n' TARGET EXECUTIONS EXEC/S CORPUS FINDINGS
printf '%s\n' "${rows[@]}"
if ((found)); then
    echo
    echo "Findings were copied to tests/fuzz/regressions/; fix them, then keep them as regression inputs."
    exit 1
fi
