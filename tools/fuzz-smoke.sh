#!/usr/bin/env bash
# `make fuzz-smoke`: run every cargo-fuzz target in userspace/fuzz for FUZZ_SECONDS (default 30) each, starting
# from its committed seed corpus. Uses the stable toolchain with RUSTC_BOOTSTRAP=1 (cargo-fuzz needs -Z flags).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH=$HOME/.cargo/bin:$PATH RUSTC_BOOTSTRAP=1
secs=${FUZZ_SECONDS:-30}
cargo fuzz --version >/dev/null 2>&1 || cargo install --locked --quiet cargo-fuzz
cd "$repo/userspace"
targets=$(cargo fuzz list)
[ -n "$targets" ] || { echo "fuzz-smoke: no fuzz targets found" >&2; exit 1; }
for t in $targets; do
    echo "==> fuzz $t for ${secs}s" >&2
    scratch=$(mktemp -d)
    # New inputs go to a scratch dir; the committed corpus is read-only seed material.
    log=$scratch.log
    if ! cargo fuzz run "$t" "$scratch" "fuzz/corpus/$t" -- -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        echo "fuzz-smoke: $t FAILED (crash input saved under userspace/fuzz/artifacts/$t/)" >&2
        exit 1
    fi
    grep -E '^(stat::number_of_executed_units|stat::new_units_added)' "$log"
    rm -rf "$scratch" "$log"
done
