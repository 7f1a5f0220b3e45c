#!/usr/bin/env python3
"""Raw generic netlink client for tests/kmod/gre.sh: adds an OVS_VPORT_TYPE_GRE port named NAME to datapath DP (the
datapath module creates the collect_md gretap device itself, as upstream vport-gre.c), checks the echoed port and
the device, then deletes the port (unless a third argument "keep" is given). Prints PASS/FAIL lines; exits non-zero on failure."""
import struct, subprocess, sys

from genl import NLM_F_ECHO, Checks, Genl, attrs, ifindex_hdr, nla

dp, name = sys.argv[1], sys.argv[2]
keep = len(sys.argv) > 3 and sys.argv[3] == "keep"
nl = Genl()
check = Checks()

hdr, ifindex = ifindex_hdr(dp)
fvport = nl.family("ovs_vport")
# OVS_VPORT_CMD_NEW: name, type GRE, upcall PID 0.
err, reply = nl.transact(fvport, 1, hdr + nla(3, name.encode() + b"\0") + nla(2, struct.pack("I", 3))
                      + nla(5, struct.pack("I", 0)), NLM_F_ECHO)
check("OVS_VPORT_CMD_NEW type GRE accepted", err == 0, f"error {err}")
if reply:
    a = attrs(reply[8:])
    check("the echoed port has type GRE (3)", struct.unpack("I", a.get(2, b"\0\0\0\0"))[0] == 3, repr(a.get(2)))
    check("the echoed port has the name", a.get(3, b"").rstrip(b"\0") == name.encode(), repr(a.get(3)))
else:
    check("OVS_VPORT_CMD_NEW echoes the port", False, "no reply")
link = subprocess.run(["ip", "-d", "link", "show", name], capture_output=True, text=True).stdout
check("the port's device is a collect_md gretap device, up", "gretap external" in link and ",UP" in link, link)
show = subprocess.run(["ovs-dpctl", "show", dp], capture_output=True, text=True).stdout
check("ovs-dpctl show lists it as a gre port", f"{name} (gre" in show, show)
if keep:
    sys.exit(check.status())
err, _ = nl.transact(fvport, 2, hdr + nla(3, name.encode() + b"\0"))
check("OVS_VPORT_CMD_DEL of the GRE port", err == 0, f"error {err}")
sys.exit(check.status())
