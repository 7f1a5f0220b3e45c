//! Debian's unmodified Open vSwitch tools against rvs-ovsdb: `ovs-vsctl --no-wait` (init, add-br, add-port,
//! set, get, list, show, del-port, del-br, `--id=@x create` chains, errors), `ovsdb-client dump` and
//! `ovsdb-client monitor`, and `ovsdb-tool` reading rvs's database file (and rvs reading ovsdb-tool's).
//! Needs the openvswitch-common package (tools/deps.sh installs it).
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    sock: PathBuf,
}

impl Server {
    fn start(dir: &Path, db: &Path) -> Server {
        let sock = dir.join("db.sock");
        let pidfile = dir.join("pid");
        let _ = std::fs::remove_file(&pidfile);
        let child = Command::new(env!("CARGO_BIN_EXE_rvs-ovsdb"))
            .arg("--db")
            .arg(db)
            .arg(format!("--remote=punix:{}", sock.display()))
            .arg("--pidfile")
            .arg(&pidfile)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while !pidfile.exists() {
            assert!(t0.elapsed() < Duration::from_secs(10), "rvs-ovsdb did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
        Server { child, sock }
    }

    fn remote(&self) -> String {
        format!("unix:{}", self.sock.display())
    }

    fn vsctl(&self, args: &[&str]) -> Output {
        Command::new(tool("ovs-vsctl"))
            .arg(format!("--db={}", self.remote()))
            .args(["--no-wait", "--timeout=10"])
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs ovs-vsctl, requires success without any warning, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let o = self.vsctl(args);
        let (out, err) = (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned());
        assert!(o.status.success(), "ovs-vsctl {args:?} failed: {err}");
        assert!(err.is_empty(), "ovs-vsctl {args:?} warned: {err}");
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tool(name: &str) -> String {
    let p = format!("/usr/bin/{name}");
    assert!(Path::new(&p).exists(), "{p} is missing: install Debian's openvswitch-common (tools/deps.sh does)");
    p
}

#[test]
fn ovs_vsctl_ovsdb_client_and_ovsdb_tool_work_against_rvs_ovsdb() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("conf.db");
    let s = Server::start(dir.path(), &db);

    s.ok(&["init"]);
    s.ok(&["add-br", "br0"]);
    s.ok(&["add-port", "br0", "p1"]);
    s.ok(&["set", "Interface", "p1", "type=internal"]);
    assert_eq!(s.ok(&["get", "Interface", "p1", "type"]).trim(), "internal");
    assert_eq!(s.ok(&["list-br"]).trim(), "br0");
    assert_eq!(s.ok(&["list-ports", "br0"]).trim(), "p1");
    assert_eq!(s.ok(&["port-to-br", "p1"]).trim(), "br0");
    let list = s.ok(&["list", "Bridge"]);
    assert!(list.contains("name                : br0"), "{list}");
    let show = s.ok(&["show"]);
    for want in ["Bridge br0", "Port p1", "Interface p1", "type: internal", "Port br0"] {
        assert!(show.contains(want), "show lacks {want:?}:\n{show}");
    }

    // One invocation, one transaction: a failing command changes nothing.
    let o = s.vsctl(&["add-br", "br0"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));
    s.ok(&["--may-exist", "add-br", "br0"]);
    let o = s.vsctl(&["add-br", "brX", "--", "add-port", "nosuchbr", "q"]);
    assert!(!o.status.success());
    assert_eq!(s.ok(&["list-br"]).trim(), "br0");

    // --id=@name chains.
    s.ok(&["--", "--id=@c", "create", "Controller", "target=\"tcp:192.0.2.1:6653\"", "--", "set", "Bridge", "br0", "controller=@c"]);
    assert_eq!(s.ok(&["get-controller", "br0"]).trim(), "tcp:192.0.2.1:6653");
    s.ok(&[
        "--", "set", "Port", "p1", "qos=@q",
        "--", "--id=@q", "create", "QoS", "type=linux-htb", "other-config:max-rate=1000000", "queues:0=@q0",
        "--", "--id=@q0", "create", "Queue", "other-config:min-rate=1000",
    ]);
    let qos = s.ok(&["get", "Port", "p1", "qos"]);
    assert_eq!(s.ok(&["get", "QoS", qos.trim(), "type"]).trim(), "linux-htb");
    assert!(s.ok(&["list", "Queue"]).contains("min-rate=\"1000\""));
    s.ok(&["set", "Bridge", "br0", "other-config:hwaddr=\"02:00:00:00:00:01\"", "fail_mode=secure"]);
    assert_eq!(s.ok(&["get", "Bridge", "br0", "fail_mode"]).trim(), "secure");
    assert_eq!(s.ok(&["get-fail-mode", "br0"]).trim(), "secure");

    // ovsdb-client dump.
    let dump = Command::new(tool("ovsdb-client")).args(["dump", &s.remote()]).output().unwrap();
    assert!(dump.status.success(), "{}", String::from_utf8_lossy(&dump.stderr));
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(dump.contains("Bridge table") && dump.contains("br0") && dump.contains("linux-htb"), "{dump}");

    // ovsdb-client monitor sees a later change.
    let mut mon = Command::new(tool("ovsdb-client"))
        .args(["monitor", &s.remote(), "Open_vSwitch", "Bridge", "name"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = mon.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |what: &str| {
        let t0 = Instant::now();
        loop {
            let line = rx.recv_timeout(Duration::from_secs(10)).unwrap_or_else(|_| panic!("monitor never showed {what}"));
            if line.contains(what) {
                return line;
            }
            assert!(t0.elapsed() < Duration::from_secs(10));
        }
    };
    assert!(wait_for("br0").contains("initial"));
    s.ok(&["add-br", "br1"]);
    assert!(wait_for("br1").contains("insert"));
    let _ = mon.kill();
    let _ = mon.wait();

    // Deleting ports and bridges garbage-collects their rows.
    s.ok(&["del-port", "br0", "p1"]);
    assert_eq!(s.ok(&["list-ports", "br0"]).trim(), "");
    let ifaces = s.ok(&["list", "Interface"]);
    assert!(!ifaces.contains(": p1"), "the non-root Interface row of p1 was collected:\n{ifaces}");
    assert!(s.ok(&["list", "QoS"]).contains("linux-htb"), "QoS is a root table: it outlives the port");
    s.ok(&["del-br", "br0"]);
    assert_eq!(s.ok(&["list-br"]).trim(), "br1");
    assert_eq!(s.ok(&["--if-exists", "del-br", "br0"]), "");

    // Persistence across a restart.
    drop(s);
    let s = Server::start(dir.path(), &db);
    assert_eq!(s.ok(&["list-br"]).trim(), "br1");
    drop(s);

    // Debian's ovsdb-tool reads rvs's file.
    let q = Command::new(tool("ovsdb-tool"))
        .arg("query")
        .arg(&db)
        .arg(r#"["Open_vSwitch",{"op":"select","table":"Bridge","where":[],"columns":["name"]}]"#)
        .output()
        .unwrap();
    assert!(q.status.success(), "{}", String::from_utf8_lossy(&q.stderr));
    assert_eq!(String::from_utf8_lossy(&q.stdout).trim(), r#"[{"rows":[{"name":"br1"}]}]"#);
    let log = Command::new(tool("ovsdb-tool")).arg("show-log").arg(&db).output().unwrap();
    assert!(log.status.success());
    assert!(String::from_utf8_lossy(&log.stdout).contains("add-br br1"), "ovs-vsctl's comment is in the journal");
}

#[test]
fn rvs_ovsdb_reads_a_database_written_by_ovsdb_tool() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tool.db");
    let schema = dir.path().join("vswitch.ovsschema");
    std::fs::write(&schema, ovsdb::VSWITCH_SCHEMA).unwrap();
    let st = Command::new(tool("ovsdb-tool")).arg("create").arg(&db).arg(&schema).status().unwrap();
    assert!(st.success());
    let txn = r#"["Open_vSwitch",
        {"op":"insert","table":"Open_vSwitch","row":{"bridges":["named-uuid","b"]}},
        {"op":"insert","table":"Bridge","uuid-name":"b","row":{"name":"tb","external_ids":["map",[["k","v"]]]}}]"#;
    let st = Command::new(tool("ovsdb-tool")).arg("transact").arg(&db).arg(txn).output().unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    // A second, diff-format record modifying the map.
    let txn = r#"["Open_vSwitch",{"op":"mutate","table":"Bridge","where":[],"mutations":[["external_ids","insert",["map",[["k2","v2"]]]]]}]"#;
    assert!(Command::new(tool("ovsdb-tool")).arg("transact").arg(&db).arg(txn).status().unwrap().success());
    let s = Server::start(dir.path(), &db);
    assert_eq!(s.ok(&["list-br"]).trim(), "tb");
    assert_eq!(s.ok(&["get", "Bridge", "tb", "external_ids"]).trim(), "{k=v, k2=v2}");
}
