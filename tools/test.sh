#!/usr/bin/env bash
# The whole rvs test suite (`make test`), or the x86_64 QEMU tests (`make test-qemu`, i.e. --qemu).
#
# Steps: install missing dependencies; userspace lints and unit tests (cargo clippy, cargo nextest); release builds
# of the binaries the in-VM tests run; the Rust-enabled test kernel (cached after the first build); rvs.ko for it;
# every host test (tests/*/*.sh marked "# host-test": run as root on this machine, e.g. the userspace datapath over
# veths in network namespaces) and every in-VM test (marked "# vm-test") under User-Mode Linux. Each step prints its wall time; the run ends with "tests: N passed, N failed" over the VM tests
# and exits non-zero if anything failed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export PATH=$HOME/.cargo/bin:$PATH
variant=${KVARIANT:-release}
mode=${1:-all}

step() {
    local name=$1; shift
    local t0; t0=$(date +%s)
    echo "==> $name" >&2
    "$@"
    echo "<== $name: $(( $(date +%s) - t0 )) s" >&2
}

step "dependencies" tools/deps.sh

passed=0 failed=0 failures=""
vm_test() {
    local arch=$1 t=$2 timeout=${3:-300}
    if tools/vm/run --arch "$arch" --variant "$variant" --timeout "$timeout" "$t"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); failures="$failures $arch:$(basename "$t")"
    fi
}

host_test() {
    if timeout 600 "$1"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); failures="$failures host:$(basename "$1")"
    fi
}

# The runner's kernel-log check must be able to fail: a guest that logs a WARNING has to end with status 3.
harness_check() {
    local rc=0
    tools/vm/run --arch um --variant "$variant" tests/harness/kernel-warning.sh >/dev/null 2>&1 || rc=$?
    if [ "$rc" = 3 ]; then
        passed=$((passed + 1)); echo "PASS: runner fails a run whose kernel log has a WARNING" >&2
    else
        failed=$((failed + 1)); failures="$failures harness:kernel-warning(rc=$rc)"
    fi
}

case $mode in
all)
    step "userspace: clippy" bash -c 'cd userspace && cargo clippy --quiet --workspace --all-targets -- -D warnings'
    step "userspace: unit tests" bash -c 'cd userspace && cargo nextest run --workspace --no-fail-fast --status-level fail'
    step "userspace: release build" bash -c 'cd userspace && cargo build --quiet --release --workspace --bins --examples'
    step "kernel (um/$variant)" tools/kernel/kernel.sh build um "$variant" >/dev/null
    step "rvs.ko (um/$variant)" tools/kmod.sh um "$variant" >/dev/null
    for t in $(grep -l '^# host-test' tests/*/*.sh); do step "host test: $t" host_test "$t"; done
    step "vm harness: a kernel warning fails the run" harness_check
    for t in $(grep -l '^# vm-test' tests/*/*.sh); do step "vm test um: $t" vm_test um "$t"; done
    ;;
--qemu)
    step "kernel (x86_64/$variant)" tools/kernel/kernel.sh build x86_64 "$variant" >/dev/null
    step "rvs.ko (x86_64/$variant)" tools/kmod.sh x86_64 "$variant" >/dev/null
    step "userspace: release build" bash -c 'cd userspace && cargo build --quiet --release --workspace --bins --examples'
    # The guest has two CPUs: per-CPU upcall dispatch, per-CPU stats and ovs-vswitchd's handler threads run on both.
    # (UML runs every test; these are the ones that exercise SMP or the x86_64 build and fit TCG's speed.)
    for t in tests/kmod/smoke.sh tests/kmod/upcall.sh tests/kmod/actions.sh tests/kmod/meter.sh tests/kmod/vswitchd.sh; do
        step "vm test x86_64: $t" vm_test x86_64 "$t" 600
    done
    ;;
*) echo "usage: tools/test.sh [--qemu]" >&2; exit 2 ;;
esac

[ -z "$failures" ] || echo "failed:$failures" >&2
echo "tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
