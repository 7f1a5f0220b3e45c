#!/usr/bin/env bash
# rvs test kernels: build (or find in the cache) a Rust-enabled Linux 6.12 for User-Mode Linux or x86_64.
#
#   tools/kernel/kernel.sh build ARCH [VARIANT]   build if not cached; print the build directory
#   tools/kernel/kernel.sh dir   ARCH [VARIANT]   print the build directory (exit 1 if not built)
#   tools/kernel/kernel.sh make  ARCH [VARIANT] -- ARGS...   run the kernel's make with rvs's toolchain
#
# ARCH is `um` or `x86_64`; VARIANT is `release` (default) or `debug` (lockdep, kmemleak, KASAN on x86_64).
# Source: Debian's linux-source-6.12, unpacked once. Builds live in $RVS_CACHE (default ~/.cache/rvs) under a key
# made of the source version, the hash of the config fragments and a recipe version, so a changed config rebuilds
# and an unchanged one never does. The build directory is a complete O= tree: vmlinux/linux, rust/, Module.symvers, and
# modroot/ with `modules_install` output (for `modprobe -d`).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${RVS_CACHE:-$HOME/.cache/rvs}
cmd=${1:?usage: kernel.sh build|dir|make ARCH [VARIANT]}
arch=${2:?ARCH is um or x86_64}
variant=${3:-release}
case $arch in um|x86_64) ;; *) echo "kernel.sh: unknown ARCH '$arch' (um or x86_64)" >&2; exit 2 ;; esac
case $variant in release|debug) ;; *) echo "kernel.sh: unknown VARIANT '$variant' (release or debug)" >&2; exit 2 ;; esac

src_tar=/usr/src/linux-source-6.12.tar.xz
if ! [ -f "$src_tar" ]; then
    echo "kernel.sh: $src_tar missing; run tools/deps.sh first (package linux-source-6.12)" >&2
    exit 1
fi
src_ver=$(dpkg-query -W -f '${Version}' linux-source-6.12)
src=$cache/src/linux-source-$src_ver

fragments=("$here/config/common.config" "$here/config/$arch.config")
if [ "$variant" = debug ]; then
    fragments+=("$here/config/debug.config")
    [ -f "$here/config/debug-$arch.config" ] && fragments+=("$here/config/debug-$arch.config")
fi
# Bump when the build steps below change in a way that changes the result (not for comments or messages).
recipe=1
key=$( { echo "recipe $recipe"; cat "${fragments[@]}"; } | sha256sum | cut -c1-12)
out=$cache/kernel/$arch-$variant-$src_ver-$key

bindgen=$(command -v bindgen || echo "$HOME/.cargo/bin/bindgen")
kmake() {
    make -C "$src" O="$out" ARCH="$arch" LLVM=1 RUSTC=/usr/bin/rustc HOSTRUSTC=/usr/bin/rustc \
        BINDGEN="$bindgen" "$@"
}

case $cmd in
dir)
    [ -f "$out/.rvs-built" ] || { echo "kernel.sh: no $arch/$variant kernel built yet (run: $0 build $arch $variant)" >&2; exit 1; }
    echo "$out"; exit 0 ;;
make)
    shift 3; [ "${1:-}" = "--" ] && shift
    kmake "$@"; exit ;;
build) ;;
*) echo "kernel.sh: unknown command '$cmd'" >&2; exit 2 ;;
esac

# One builder per tree: a second caller waits for the first and then finds the kernel cached.
mkdir -p "$cache/kernel"
exec 9>"$out.lock"
flock 9
if [ -f "$out/.rvs-built" ]; then
    echo "kernel.sh: cached $arch/$variant kernel at $out" >&2
    echo "$out"; exit 0
fi

if ! [ -f "$src/Makefile" ]; then
    echo "kernel.sh: unpacking $src_tar" >&2
    mkdir -p "$cache/src"
    tmp=$(mktemp -d "$cache/src/.unpack.XXXXXX")
    tar -C "$tmp" -xf "$src_tar"
    rm -rf "$src"; mv "$tmp/linux-source-6.12" "$src"; rmdir "$tmp"
fi

mkdir -p "$out"
log=$out/build.log
echo "kernel.sh: building $arch/$variant kernel in $out (log: $log)" >&2
start=$(date +%s)
{
    if [ "$arch" = um ]; then
        kmake defconfig
    else
        kmake tinyconfig
        cat "$src/kernel/configs/kvm_guest.config" >> "$out/.config"
    fi
    # Merge the fragments: later lines win in olddefconfig's view only if we edit in place, so use merge_config.
    "$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${fragments[@]}"
    kmake olddefconfig
    kmake rustavailable
    # Fail early if Kconfig dropped an option we depend on.
    for opt in RUST MODULES MODULE_UNLOAD NET_NS VETH OPENVSWITCH; do
        grep -Eq "^CONFIG_$opt=[ym]" "$out/.config" || { echo "kernel.sh: CONFIG_$opt did not stick" >&2; exit 1; }
    done
    kmake -j"$(( $(nproc) + 1 ))"
    rm -rf "$out/modroot"
    kmake INSTALL_MOD_PATH="$out/modroot" modules_install
} > "$log" 2>&1 || { tail -n 40 "$log" >&2; echo "kernel.sh: build failed, see $log" >&2; exit 1; }
echo "$(( $(date +%s) - start ))" > "$out/.rvs-build-seconds"
touch "$out/.rvs-built"
echo "kernel.sh: built $arch/$variant in $(cat "$out/.rvs-build-seconds") s" >&2
echo "$out"
