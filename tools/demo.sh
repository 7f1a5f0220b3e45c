#!/usr/bin/env bash
# `make demo`: rvs's main job on an embedded default. Today: build the test kernel and rvs.ko, boot User-Mode
# Linux, load the module and show it working (version, self-test, module info), unload it. Later issues grow this
# into a switch forwarding between VMs.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
tools/deps.sh
echo "demo: building the Rust-enabled UML kernel (cached after the first time) and rvs.ko" >&2
tools/kernel/kernel.sh build um release >/dev/null
tools/kmod.sh um release >/dev/null
exec tools/vm/run --arch um tools/vm/demo-guest.sh
