#!/bin/bash
# vm-test
# rvs.ko's brcompat relay against a scripted daemon (relay.py): answers of every kind reach the ioctl caller, bad
# answers and unprivileged senders are refused, a missing or silent daemon gives ENODEV / ETIMEDOUT.
#   tools/kmod.sh um && tools/vm/run tests/brcompat/relay.sh
. "$RVS_REPO/tests/lib.sh"
if [ ! -f "${RVS_KO:-}" ]; then fail "rvs.ko built for this kernel (${RVS_KO:-unset})"; finish; fi
check "insmod rvs.ko brcompat=1" insmod "$RVS_KO" brcompat=1
python3 "$RVS_REPO/tests/brcompat/relay.py" || RVS_FAILED=1
check "rmmod rvs" rmmod rvs
check "no malformed-reply warning for the accepted replies" sh -c "! dmesg | grep -q 'brcompat: malformed reply to op 1'"
finish
