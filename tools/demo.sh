#!/usr/bin/env bash
# `make demo`: rvs's main job on an embedded default: build the Rust-enabled UML test kernel (cached), rvs.ko and
# the userspace tools, boot User-Mode Linux, and inside it run rvs as a switch between two "VMs" (network namespaces):
# rvs.ko as the datapath, rvs-vswitchd with its embedded config database, configured with rvs-vsctl
# (tools/vm/demo-guest.sh).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
tools/deps.sh
echo "demo: building the Rust-enabled UML kernel (cached after the first time) and rvs.ko" >&2
tools/kernel/kernel.sh build um release >/dev/null
tools/kmod.sh um release >/dev/null
echo "demo: building rvs's userspace tools (release)" >&2
(cd userspace && cargo build --quiet --release -p rvs-vswitchd -p rvs-vsctl -p rvs-appctl -p rvs-dpctl)
exec tools/vm/run --arch um tools/vm/demo-guest.sh
