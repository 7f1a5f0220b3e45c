#!/usr/bin/env bash
# Build rvs.ko against a kernel tree and print the path of the module.
#
#   tools/kmod.sh [ARCH [VARIANT]]     against rvs's cached test kernel (ARCH um|x86_64, VARIANT release|debug)
#   KDIR=/lib/modules/$(uname -r)/build tools/kmod.sh     against any Rust-enabled kernel tree
#
# The module sources (Kbuild, kmod/, and the shared core in userspace/core/src, which kmod #[path]-includes) are
# staged into build/kmod/<target>/ with their relative layout kept, so one checkout builds for several kernels
# without their objects colliding. Extra kernel make arguments can be passed in KMAKEFLAGS.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
arch=${1:-um}
variant=${2:-release}
if [ -n "${KDIR:-}" ]; then
    kdir=$KDIR
    target=custom-$(printf '%s' "$kdir" | sha256sum | cut -c1-8)
    archflag=()
else
    kdir=$("$repo/tools/kernel/kernel.sh" dir "$arch" "$variant")
    target=$arch-$variant
    archflag=(ARCH="$arch")
fi

cfg=$kdir/.config
[ -f "$cfg" ] || cfg=$kdir/include/config/auto.conf
if ! [ -f "$cfg" ]; then
    echo "kmod: $kdir is not a configured kernel build tree (no .config)" >&2; exit 1
fi
if ! grep -q '^CONFIG_RUST=y' "$cfg"; then
    echo "kmod: the kernel in $kdir has no Rust support (CONFIG_RUST is not set); rvs.ko needs a kernel built" \
         "with CONFIG_RUST=y (see README.md)" >&2
    exit 1
fi
if ! [ -f "$kdir/rust/libkernel.rmeta" ] && ! [ -f "$kdir/rust/kernel.o" ]; then
    echo "kmod: $kdir has CONFIG_RUST=y but no built rust/ (run 'make modules_prepare' or build the kernel)" >&2
    exit 1
fi

stage=$repo/build/kmod/$target
mkdir -p "$stage/userspace/core"
rsync -a --delete "$repo/kmod/" "$stage/kmod/" --exclude '*.o' --exclude '*.ko' --exclude '.*.cmd'
rsync -a --delete "$repo/userspace/core/src/" "$stage/userspace/core/src/"
cp -p "$repo/Kbuild" "$stage/Kbuild"

rustc_bin=/usr/bin/rustc
[ -x "$rustc_bin" ] || rustc_bin=rustc
# shellcheck disable=SC2086
make -C "$kdir" M="$stage" "${archflag[@]}" LLVM=1 RUSTC="$rustc_bin" HOSTRUSTC="$rustc_bin" \
    ${KMAKEFLAGS:-} modules >&2
echo "$stage/kmod/rvs.ko"
