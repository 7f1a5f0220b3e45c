#!/bin/sh
# Harness self-test (run by tools/test.sh, expecting failure): the script itself succeeds but writes a kernel
# WARNING line to the log; tools/vm/run must then fail the run with exit status 3.
echo "WARNING: rvs harness self-test, this line must fail the run" > /dev/kmsg
echo "RESULT: PASS (the runner must still fail this run)"
