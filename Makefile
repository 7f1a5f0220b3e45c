# rvs — a virtual switch for Linux hypervisors, in Rust.
#
#   make            build userspace (release) and rvs.ko for KDIR
#   make test       install what is missing, run every test (userspace + rvs.ko in User-Mode Linux)
#   make test-qemu  rvs.ko tests in an x86_64 QEMU guest (2 CPUs)
#   make demo       the main job on an embedded default (see README.md)
#   make kernel     build (or reuse) the cached test kernel for KARCH/KVARIANT
#   make fuzz-smoke run each fuzz target briefly
#
# KDIR: kernel build tree to build rvs.ko against. Default: rvs's cached test kernel for KARCH (um|x86_64) and
# KVARIANT (release|debug). On a hypervisor: make KDIR=/lib/modules/$(uname -r)/build (needs CONFIG_RUST=y).

KARCH ?= um
KVARIANT ?= release
export KVARIANT

.PHONY: all userspace kmod kernel test test-qemu demo deps fuzz-smoke clean

all: userspace kmod

deps:
	tools/deps.sh

userspace:
	cd userspace && cargo build --release --workspace

kernel:
	tools/kernel/kernel.sh build $(KARCH) $(KVARIANT)

ifeq ($(KDIR),)
kmod: kernel
	tools/kmod.sh $(KARCH) $(KVARIANT)
else
kmod:
	KDIR=$(KDIR) tools/kmod.sh
endif

test:
	tools/test.sh

test-qemu:
	tools/test.sh --qemu

demo:
	tools/demo.sh

fuzz-smoke:
	tools/fuzz-smoke.sh

clean:
	rm -rf build
	cd userspace && cargo clean
