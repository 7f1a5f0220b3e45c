#!/bin/sh
# Inside the demo VM: load rvs.ko and show what it reports.
set -e
echo "== modinfo rvs.ko"; modinfo "$RVS_KO" | grep -E '^(name|description|license|vermagic):'
echo "== insmod rvs.ko"; insmod "$RVS_KO"
echo "== kernel log"; dmesg | grep ' rvs: '
echo "== /proc/modules"; grep '^rvs ' /proc/modules
echo "== rmmod rvs"; rmmod rvs; dmesg | grep ' rvs: .*unloaded'
