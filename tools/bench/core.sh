#!/usr/bin/env bash
# Core datapath benchmark (issue 3): extract + megaflow lookup per packet, 1 mask vs 20 masks × 100k flows, mask
# cache hot and cold; plus classifier-only lookups. Prints criterion's estimates and the ratios the targets name:
#   1 mask hot (extract+lookup) ≤ 60 ns;  20 masks hot / 1 mask hot ≤ 1.5.
# Usage: tools/bench/core.sh [criterion args]   (CRITERION_QUICK=1 for a shorter run)
set -euo pipefail
cd "$(dirname "$0")/../../userspace"
export PATH=$HOME/.cargo/bin:$PATH
extra=()
[ -n "${CRITERION_QUICK:-}" ] && extra=(--warm-up-time 1 --measurement-time 3)
cargo bench -p rvs-core --bench classifier -- "${extra[@]}" "$@" 2>&1 | tee /tmp/rvs-bench-core.txt |
    grep -E '^(classifier|extract_lookup)/|time:|masks probed'
est() { # median estimate in ns for a benchmark id
    awk -v id="$1" '$1==id {getline; for (i=1;i<=NF;i++) if ($i=="time:") { v=$(i+3); u=$(i+4); } \
        gsub(/\[/,"",v); if (u ~ /^µs/) v*=1000; print v; exit }' /tmp/rvs-bench-core.txt
}
one=$(est extract_lookup/1mask_cache_hot) twenty=$(est extract_lookup/20mask_cache_hot)
if [ -n "$one" ] && [ -n "$twenty" ]; then
    echo "extract+lookup, 1 mask hot: ${one} ns/packet (target <= 60)"
    echo "extract+lookup, 20 masks hot: ${twenty} ns/packet; ratio 20/1 = $(echo "scale=2; $twenty / $one" | bc) (target <= 1.5)"
fi
