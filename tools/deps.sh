#!/usr/bin/env bash
# Install what rvs needs to build and test, idempotently and quietly: Debian packages, cargo tools.
# Safe to run on every `make test`: a second run only checks.
set -euo pipefail

apt_pkgs=(
    # kernel source and toolchain for the Rust-enabled test kernels
    linux-source-6.12 rustc-web rust-web-src clang lld llvm bc flex bison libelf-dev libssl-dev cpio kmod
    # running the test kernels
    qemu-system-x86 busybox-static
    # test tools inside the VMs (the host root is the guests' root)
    iproute2 iputils-ping tcpdump ethtool bridge-utils rsync
    # reference peer: upstream Open vSwitch userspace
    openvswitch-switch openvswitch-common
    # OpenFlow controllers driving rvs in tests/openflow (os-ken comes from PyPI below)
    openvswitch-testcontroller python3-venv
    python3
)
missing=()
for p in "${apt_pkgs[@]}"; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# os-ken (OpenFlow controller framework, PyPI) for tests/openflow/osken-host.sh, in its own venv.
osken_venv=$HOME/.cache/rvs/os-ken-venv
if ! "$osken_venv/bin/python3" -c 'import os_ken' 2>/dev/null; then
    echo "deps: installing os-ken into $osken_venv" >&2
    python3 -m venv "$osken_venv"
    "$osken_venv/bin/pip" install --quiet os-ken
fi

export PATH=$HOME/.cargo/bin:$PATH
if ! bindgen --version 2>/dev/null | grep -q '^bindgen 0\.71'; then
    echo "deps: installing bindgen-cli 0.71" >&2
    cargo install --locked --quiet bindgen-cli --version '^0.71'
fi
if ! cargo nextest --version >/dev/null 2>&1; then
    echo "deps: installing cargo-nextest" >&2
    cargo install --locked --quiet cargo-nextest
fi
