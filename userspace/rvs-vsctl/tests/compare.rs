//! rvs-vsctl against Debian's unmodified ovs-vsctl: the same long battery of commands runs on two fresh
//! rvs-ovsdb databases, one tool each; after every command the exit status, stdout (UUIDs normalised, and
//! order-normalised where ovs-vsctl's own order depends on UUIDs), the error message of failures and the
//! complete resulting database contents must be identical.
#![allow(clippy::unwrap_used)]

mod common;

use common::{ovs_tool, rvs_vsctl, strip_uuids, unordered, Server};

struct Pair {
    rvs: Server,
    ovs: Server,
    ovs_vsctl: String,
    rvs_vsctl: String,
    n: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Order {
    Strict,
    Unordered,
}

impl Pair {
    fn new() -> Pair {
        Pair { rvs: Server::start(), ovs: Server::start(), ovs_vsctl: ovs_tool("ovs-vsctl"), rvs_vsctl: rvs_vsctl(), n: 0 }
    }

    fn check(&mut self, args: &[&str], order: Order) -> (i32, String) {
        self.check_with(args, order, true)
    }

    fn check_with(&mut self, args: &[&str], order: Order, same_message: bool) -> (i32, String) {
        self.n += 1;
        let r = self.rvs.run(&self.rvs_vsctl, &["--no-wait", "--timeout=20"], args);
        let o = self.ovs.run(&self.ovs_vsctl, &["--no-wait", "--timeout=20"], args);
        let (rs, os) = (r.status.code().unwrap_or(-1), o.status.code().unwrap_or(-1));
        let (rout, oout) = (String::from_utf8_lossy(&r.stdout).into_owned(), String::from_utf8_lossy(&o.stdout).into_owned());
        let (rerr, oerr) = (String::from_utf8_lossy(&r.stderr).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned());
        let ctx = format!("#{} {args:?}\n--- rvs-vsctl ({rs}):\n{rout}{rerr}--- ovs-vsctl ({os}):\n{oout}{oerr}", self.n);
        assert_eq!(rs, os, "exit status differs: {ctx}");
        match order {
            Order::Strict => assert_eq!(strip_uuids(&rout), strip_uuids(&oout), "stdout differs: {ctx}"),
            Order::Unordered => assert_eq!(unordered(&rout), unordered(&oout), "stdout differs: {ctx}"),
        }
        if os != 0 && same_message {
            // ovs-vsctl also logs some errors through vlog ("<time>|<seq>|<module>|WARN|..."): ignore those lines.
            let norm = |s: &str| {
                let kept: Vec<&str> = s.lines().filter(|l| !l.contains("|WARN|") && !l.contains("|ERR|")).collect();
                strip_uuids(&kept.join("\n")).replace("rvs-vsctl: ", "").replace("ovs-vsctl: ", "")
            };
            assert_eq!(norm(&rerr), norm(&oerr), "error message differs: {ctx}");
        }
        common::assert_same_db(&self.rvs.dump(), &self.ovs.dump(), &ctx);
        (rs, rout)
    }

    fn ok(&mut self, args: &[&str]) -> String {
        let (s, out) = self.check(args, Order::Strict);
        assert_eq!(s, 0, "{args:?} failed");
        out
    }

    fn ok_unordered(&mut self, args: &[&str]) -> String {
        let (s, out) = self.check(args, Order::Unordered);
        assert_eq!(s, 0, "{args:?} failed");
        out
    }

    /// A failure whose message differs on purpose (rvs-vsctl reports it before contacting the server).
    fn err_own_message(&mut self, args: &[&str]) -> String {
        let (s, _) = self.check_with(args, Order::Strict, false);
        assert_ne!(s, 0, "{args:?} should fail");
        let r = self.rvs.run(&self.rvs_vsctl, &["--no-wait"], args);
        String::from_utf8_lossy(&r.stderr).into_owned()
    }

    fn err(&mut self, args: &[&str]) {
        let (s, _) = self.check(args, Order::Strict);
        assert_ne!(s, 0, "{args:?} should fail");
    }
}

#[test]
fn battery_matches_ovs_vsctl() {
    let mut p = Pair::new();
    // Bridges.
    p.ok(&["init"]);
    p.ok(&["add-br", "br0"]);
    p.ok(&["add-br", "br1"]);
    p.ok(&["--may-exist", "add-br", "br0"]);
    p.err(&["add-br", "br0"]);
    p.err(&["add-br", ""]);
    p.err(&["add-br", "br2", "br0"]);
    assert_eq!(p.ok(&["list-br"]), "br0\nbr1\n");
    p.ok(&["br-exists", "br0"]);
    assert_eq!(p.check(&["br-exists", "nosuch"], Order::Strict).0, 2);
    p.ok(&["br-to-vlan", "br0"]);
    p.ok(&["br-to-parent", "br0"]);
    p.err(&["br-to-vlan", "nosuch"]);

    // Ports, bonds, interfaces.
    p.ok(&["add-port", "br0", "p1"]);
    p.ok(&["add-port", "br0", "p2", "tag=10", "--", "set", "Interface", "p2", "type=internal"]);
    p.err(&["add-port", "br0", "p1"]);
    p.err(&["add-port", "br1", "br0"]);
    p.err(&["add-port", "nosuch", "p3"]);
    p.ok(&["--may-exist", "add-port", "br0", "p1"]);
    p.err(&["--may-exist", "add-port", "br1", "p1"]);
    p.ok(&["add-bond", "br0", "bond0", "e1", "e2", "lacp=active", "bond_mode=balance-tcp"]);
    p.err(&["add-bond", "br0", "bond1", "e3", "lacp=active"]);
    p.err(&["add-bond", "br0", "bond1", "e1", "e4"]);
    p.ok(&["add-bond-iface", "bond0", "e3"]);
    p.ok(&["del-bond-iface", "bond0", "e3"]);
    assert_eq!(p.ok(&["list-ports", "br0"]), "bond0\np1\np2\n");
    assert_eq!(p.ok(&["list-ifaces", "br0"]), "e1\ne2\np1\np2\n");
    p.ok(&["port-to-br", "p2"]);
    p.ok(&["iface-to-br", "e2"]);
    p.err(&["port-to-br", "e2"]);
    p.err(&["iface-to-br", "nosuch"]);
    p.err(&["list-ports", "nosuch"]);

    // VLAN (fake) bridges.
    p.ok(&["add-br", "vlan10", "br0", "10"]);
    p.err(&["add-br", "vlan11", "br0", "10"]);
    p.err(&["add-br", "vlan12", "br0", "5000"]);
    p.err(&["add-br", "vlan12", "vlan10", "12"]);
    p.ok(&["--may-exist", "add-br", "vlan10", "br0", "10"]);
    p.err(&["--may-exist", "add-br", "vlan10", "br0", "11"]);
    p.ok(&["add-port", "vlan10", "fp1"]);
    p.ok(&["list-ports", "vlan10"]);
    p.ok(&["list-ports", "br0"]);
    p.ok(&["br-to-vlan", "vlan10"]);
    p.ok(&["br-to-parent", "vlan10"]);
    p.ok(&["--fake", "list-br"]);
    p.ok(&["--real", "list-br"]);
    p.ok(&["port-to-br", "fp1"]);
    p.err(&["del-port", "br0", "fp1"]);
    p.ok(&["br-set-external-id", "vlan10", "k", "v"]);
    p.ok(&["br-get-external-id", "vlan10"]);
    p.ok(&["br-set-external-id", "br0", "owner", "test"]);
    p.ok(&["br-get-external-id", "br0", "owner"]);

    // Generic set/get/add/remove/clear with column[:key]=value.
    p.ok(&["set", "Bridge", "br0", "other_config:hwaddr=\"02:00:00:00:00:01\"", "external_ids:x=y", "stp_enable=true"]);
    p.ok(&["get", "Bridge", "br0", "name", "stp_enable", "other_config:hwaddr", "external_ids", "other-config"]);
    p.ok(&["get", "bri", "br0", "datapath_t", "fail"]);
    p.err(&["get", "Bridge", "br0", "datapath"]);
    p.err(&["set", "Bridge", "br0", "nosuchcol=1"]);
    p.err(&["set", "Port", "p2", "tag=abc"]);
    p.err(&["set", "Port", "p2", "tag=5000"]);
    p.err(&["set", "Bridge", "br0", "fail_mode=bogus"]);
    p.err(&["set", "Bridge", "br0", "name"]);
    p.err(&["set", "Bridge", "br0", "stp_enable=maybe"]);
    p.err(&["set", "Bridge", "nosuch", "stp_enable=true"]);
    p.ok(&["--if-exists", "set", "Bridge", "nosuch", "stp_enable=true"]);
    p.err(&["set", "Nosuchtable", "br0", "a=b"]);
    p.err(&["list", "Q"]);
    p.err(&["get", "Bridge", "br0", "other_config:nokey"]);
    p.ok(&["--if-exists", "get", "Bridge", "br0", "other_config:nokey"]);
    p.err(&["get", "Bridge", "br0", "name:key"]);
    p.ok(&["add", "Port", "p2", "trunks", "1", "2", "3"]);
    p.ok(&["add", "Port", "p2", "trunks", "4-6,9"]);
    p.ok(&["remove", "Port", "p2", "trunks", "2", "5"]);
    assert_eq!(p.ok(&["get", "Port", "p2", "trunks"]), "[1, 3, 4, 6, 9]\n");
    p.ok(&["add", "Bridge", "br0", "other_config", "a=1", "b=2"]);
    p.ok(&["add", "Bridge", "br0", "other_config", "a=5"]);
    p.ok(&["remove", "Bridge", "br0", "other_config", "a", "b=3"]);
    p.ok(&["get", "Bridge", "br0", "other_config"]);
    p.ok(&["remove", "Bridge", "br0", "other_config", "b=2"]);
    p.ok(&["clear", "Port", "p2", "trunks"]);
    p.err(&["clear", "Bridge", "br0", "name"]);
    let e = p.err_own_message(&["add", "Port", "p2", "tag", "1", "2"]);
    assert!(e.contains("would put 3 values in column tag of table Port but the maximum number is 1"), "{e}");
    p.ok(&["set", "Interface", "e1", "options:remote_ip=192.0.2.1", "options:key=flow", "mtu_request=1400"]);
    p.ok(&["set", "Port", "p1", "vlan_mode=trunk", "trunks=[10,20]"]);
    p.ok(&["set", "Bridge", "br1", "protocols=OpenFlow10,OpenFlow13"]);

    // list / find and output formats.
    p.ok(&["list", "Bridge", "br1"]);
    p.ok(&["list", "Port", "p2"]);
    p.ok(&["list", "Interface", "e1", "p2"]);
    p.ok_unordered(&["list", "Port"]);
    p.ok(&["--columns=name,tag,trunks", "list", "Port", "p1", "p2"]);
    p.ok(&["--format=table", "--columns=name,tag,trunks,vlan_mode", "list", "Port", "p1", "p2"]);
    p.ok(&["--format=csv", "--columns=name,stp_enable,other_config", "list", "Bridge", "br0"]);
    p.ok(&["--bare", "--columns=name,trunks", "list", "Port", "p1"]);
    p.ok(&["--format=list", "--data=bare", "--columns=name,external_ids", "list", "Bridge", "br0"]);
    p.ok(&["--no-headings", "--format=table", "--columns=name", "list", "Bridge", "br0"]);
    p.ok(&["--if-exists", "list", "Bridge", "nosuch"]);
    p.err(&["list", "Bridge", "nosuch"]);
    p.ok(&["list", "Open_vSwitch", "."]);
    p.ok_unordered(&["--columns=name", "find", "Port", "tag=10"]);
    p.ok_unordered(&["--columns=name", "find", "Interface", "type=internal"]);
    p.ok_unordered(&["--bare", "--columns=name", "find", "Port", "trunks{>=}10"]);
    p.ok_unordered(&["--columns=name", "find", "Port", "tag!=10"]);
    p.ok(&["--columns=name", "find", "Interface", "options:remote_ip=192.0.2.1"]);
    p.err(&["--columns=name", "find", "Interface", "name{in}[e1,e2,zz]"]);
    p.ok_unordered(&["--columns=name", "find", "Port", "trunks{in}[10,20,30]"]);
    p.ok_unordered(&["--columns=name", "find", "Port", "trunks{not-in}[20]", "tag{=}[]"]);
    p.err(&["find", "Port", "tag"]);
    p.err(&["find", "Port", "tag==1"]);
    p.ok(&["--columns=name", "list", "Port", "p1", "--", "--columns=name", "list", "Bridge", "br1"]);

    // --id=@name chains, create/destroy.
    p.ok(&["--", "--id=@c", "create", "Controller", "target=\"tcp:192.0.2.1:6653\"", "--", "set", "Bridge", "br0", "controller=@c"]);
    assert_eq!(p.ok(&["get-controller", "br0"]), "tcp:192.0.2.1:6653\n");
    p.ok(&["get", "Controller", "br0", "target"]);
    p.ok(&[
        "--", "set", "Port", "p1", "qos=@q",
        "--", "--id=@q", "create", "QoS", "type=linux-htb", "other-config:max-rate=1000000", "queues:0=@q0", "queues:1=@q1",
        "--", "--id=@q0", "create", "Queue", "other-config:min-rate=1000",
        "--", "--id=@q1", "create", "Queue", "other-config:min-rate=2000", "dscp=5",
    ]);
    p.ok(&["get", "QoS", "p1", "type", "other_config"]);
    p.ok_unordered(&["--columns=other_config,dscp", "list", "Queue"]);
    p.err(&["set", "Bridge", "br0", "mirrors=@nope"]);
    p.err(&["--", "--id=@x", "create", "Queue", "--", "--id=@x", "create", "Queue"]);
    p.err(&["--", "--id=x", "create", "Queue"]);
    p.ok(&["--", "--id=@b", "get", "Bridge", "br1", "--", "add", "Open_vSwitch", ".", "bridges", "@b"]);
    p.ok(&["--", "--id=@b0", "get", "Bridge", "br0", "--", "remove", "Open_vSwitch", ".", "bridges", "@b0", "--", "add", "Open_vSwitch", ".", "bridges", "@b0"]);
    p.err(&["--", "--id=@b0", "get", "Bridge", "br0", "--", "--id=@b0", "get", "Bridge", "br1"]);
    p.ok(&["list-br"]);
    p.ok(&["--", "--id=@m", "create", "Mirror", "name=m0", "select_all=true", "--", "add", "Bridge", "br0", "mirrors", "@m"]);
    p.ok(&["list", "Mirror", "m0"]);
    p.ok(&["create", "Manager", "target=\"ptcp:6641\""]);
    p.ok(&["--columns=target", "list", "Manager"]);
    p.err(&["destroy", "QoS", "p1"]);
    p.ok(&["clear", "Port", "p1", "qos", "--", "--all", "destroy", "QoS"]);
    p.ok(&["--all", "destroy", "Manager"]);
    p.err(&["--all", "destroy", "Queue", "nosuch"]);
    p.ok(&["--if-exists", "destroy", "Queue", "nosuch"]);
    p.err(&["destroy", "Queue", "nosuch"]);

    // Controllers, fail mode, managers.
    p.ok(&["set-controller", "br1", "tcp:192.0.2.2:6653", "ptcp:6654"]);
    assert_eq!(p.ok(&["get-controller", "br1"]), "ptcp:6654\ntcp:192.0.2.2:6653\n");
    p.ok(&["--inactivity-probe=3000", "set-controller", "br1", "tcp:192.0.2.3:6653"]);
    p.ok(&["get", "Controller", "br1", "target", "inactivity_probe"]);
    p.err(&["set-controller", "vlan10", "tcp:192.0.2.3:6653"]);
    p.ok(&["del-controller", "br1"]);
    p.ok(&["get-controller", "br1"]);
    p.ok(&["set-fail-mode", "br0", "secure"]);
    assert_eq!(p.ok(&["get-fail-mode", "br0"]), "secure\n");
    p.ok(&["get-fail-mode", "vlan10"]);
    p.err(&["set-fail-mode", "br0", "bogus"]);
    p.ok(&["del-fail-mode", "br0"]);
    p.ok(&["get-fail-mode", "br0"]);
    p.ok(&["set-manager", "ptcp:6640", "tcp:192.0.2.9:6640"]);
    assert_eq!(p.ok(&["get-manager"]), "ptcp:6640\ntcp:192.0.2.9:6640\n");
    p.ok_unordered(&["show"]);
    p.ok(&["del-manager"]);
    p.ok(&["get-manager"]);

    // Command-line errors.
    p.err(&["frobnicate"]);
    p.err(&["add-br"]);
    p.err(&["list-br", "extra"]);
    p.err(&["--if-exists", "add-br", "brx"]);
    p.err(&["--id=@a", "list-br"]);
    p.err(&["--columns", "list-br"]);
    p.err(&["--"]);
    p.err(&["--may-exist"]);
    p.err(&["add-br", "brx", "--", "add-port", "nosuch", "q"]);
    p.err(&["add-br", "brx", "--", "set", "Bridge", "brx", "fail_mode=bogus"]);
    p.ok(&["comment", "hello"]);
    p.ok(&["wait-until", "Bridge", "br0", "name=br0"]);
    p.ok(&["--dry-run", "add-br", "br9"]);
    p.ok(&["--oneline", "list-br", "--", "get", "Bridge", "br0", "name"]);

    // Deletions.
    p.ok_unordered(&["show"]);
    p.err(&["del-port", "br0", "nosuch"]);
    p.ok(&["--if-exists", "del-port", "nosuch"]);
    p.err(&["del-port", "br1", "p2"]);
    p.err(&["del-port", "br0", "br0"]);
    p.ok(&["--if-exists", "del-port", "br0"]);
    p.err(&["del-port", "br0", "p2"]);
    p.ok(&["del-port", "vlan10", "p2"]);
    p.ok(&["--with-iface", "del-port", "e1"]);
    p.err(&["del-port", "e2"]);
    p.ok(&["del-port", "p1"]);
    p.ok(&["del-br", "vlan10"]);
    p.ok(&["list-ports", "br0"]);
    p.err(&["del-br", "nosuch"]);
    p.ok(&["--if-exists", "del-br", "nosuch"]);
    p.ok(&["add-br", "vlan20", "br0", "20", "--", "add-port", "vlan20", "x1", "--", "del-br", "br0"]);
    p.ok(&["list-br"]);
    p.ok_unordered(&["show"]);
    p.ok(&["del-br", "br1", "--", "list-br"]);
}

#[test]
fn a_failing_chain_changes_nothing() {
    let mut p = Pair::new();
    p.ok(&["add-br", "br0", "--", "add-port", "br0", "p1"]);
    let before = p.rvs.dump();
    for bad in [
        &["add-port", "br0", "p2", "--", "add-port", "br0", "p1"][..],
        &["del-br", "br0", "--", "set", "Bridge", "br0", "stp_enable=true"],
        &["set", "Bridge", "br0", "stp_enable=true", "--", "get", "Bridge", "br0", "nosuch"],
        &["add-br", "br1", "--", "--id=@q", "create", "QoS", "type=x", "--", "set", "Port", "p1", "qos=@q", "tag=9999"],
    ] {
        p.err(bad);
        assert_eq!(p.rvs.dump(), before, "{bad:?} changed the database");
    }
}
