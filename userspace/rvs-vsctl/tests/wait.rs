//! The `next_cfg`/`cur_cfg` handshake (without `--no-wait`): a test thread plays the switch and bumps
//! `cur_cfg`; rvs-vsctl and ovs-vsctl both return only once it did, both die by SIGALRM when `--timeout`
//! expires first (after committing), read-only commands never wait. Also: concurrent writers never lose
//! each other's changes (the verify/`wait` operations make rvs-vsctl retry).
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{ovs_tool, rvs_vsctl, Server};
use serde_json::{json, Value};

/// (next_cfg, cur_cfg) of the Open_vSwitch row.
fn cfgs(s: &Server) -> (i64, i64) {
    let r = s.client().transact("Open_vSwitch", &[json!({"op": "select", "table": "Open_vSwitch", "where": []})]).unwrap();
    let row = &r[0]["rows"][0];
    (row["next_cfg"].as_i64().unwrap(), row["cur_cfg"].as_i64().unwrap())
}

/// A fake switch: `delay` after it sees next_cfg > cur_cfg, it sets cur_cfg = next_cfg.
struct Switch {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Switch {
    fn start(s: &Server, delay: Duration) -> Switch {
        let client = s.client();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                let r = client
                    .transact("Open_vSwitch", &[json!({"op": "select", "table": "Open_vSwitch", "where": [], "columns": ["_uuid", "next_cfg", "cur_cfg"]})])
                    .unwrap();
                if let Some(row) = r[0]["rows"].get(0) {
                    let (next, cur) = (row["next_cfg"].as_i64().unwrap(), row["cur_cfg"].as_i64().unwrap());
                    if next > cur {
                        std::thread::sleep(delay);
                        let uuid = row["_uuid"].clone();
                        let res = client
                            .transact(
                                "Open_vSwitch",
                                &[json!({"op": "update", "table": "Open_vSwitch", "where": [["_uuid", "==", uuid]], "row": {"cur_cfg": next}})],
                            )
                            .unwrap();
                        assert!(res[0].get("error").is_none(), "{res:?}");
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Switch { stop, thread: Some(thread) }
    }
}

impl Drop for Switch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn both_tools_wait_for_cur_cfg() {
    let s = Server::start();
    let _switch = Switch::start(&s, Duration::from_millis(400));
    for (n, tool) in [(1, rvs_vsctl()), (2, ovs_tool("ovs-vsctl"))] {
        let t0 = Instant::now();
        let o = s.run(&tool, &["--timeout=20"], &["add-br", &format!("br{n}")]);
        assert!(o.status.success(), "{tool}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(t0.elapsed() >= Duration::from_millis(350), "{tool} returned before the switch applied the change");
        assert_eq!(cfgs(&s), (n, n), "{tool} incremented next_cfg once and the switch caught up");
    }
    // Read-only commands and unchanged databases do not touch next_cfg.
    let o = s.run(&rvs_vsctl(), &[], &["list-br"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "br1\nbr2\n");
    s.run(&rvs_vsctl(), &[], &["--may-exist", "add-br", "br1"]);
    assert_eq!(cfgs(&s), (2, 2));
}

#[test]
fn timeout_expires_after_commit_like_ovs_vsctl() {
    let s = Server::start();
    s.run(&rvs_vsctl(), &["--no-wait"], &["init"]);
    for (n, tool) in [(1, rvs_vsctl()), (2, ovs_tool("ovs-vsctl"))] {
        let t0 = Instant::now();
        let o = s.run(&tool, &["--timeout=1"], &["add-br", &format!("br{n}")]);
        assert_eq!(o.status.signal(), Some(libc_sigalrm()), "{tool}: {:?}", o.status);
        assert!(t0.elapsed() >= Duration::from_millis(900) && t0.elapsed() < Duration::from_secs(10));
        assert_eq!(cfgs(&s), (n, 0), "{tool} committed before waiting");
    }
    let o = s.run(&rvs_vsctl(), &[], &["list-br"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "br1\nbr2\n");
    // A read-only invocation returns at once even though the switch never catches up.
    let t0 = Instant::now();
    let o = s.run(&rvs_vsctl(), &["--timeout=5"], &["br-exists", "br1"]);
    assert!(o.status.success() && t0.elapsed() < Duration::from_secs(3));
    // --dry-run validates and changes nothing.
    let o = s.run(&rvs_vsctl(), &["--timeout=5"], &["--dry-run", "add-br", "br3"]);
    assert!(o.status.success());
    assert_eq!(cfgs(&s), (2, 0));
    let o = s.run(&rvs_vsctl(), &[], &["br-exists", "br3"]);
    assert_eq!(o.status.code(), Some(2));
    // Bad --timeout values.
    let o = s.run(&rvs_vsctl(), &["--timeout=0"], &["list-br"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("value 0 on -t or --timeout is invalid"));
}

fn libc_sigalrm() -> i32 {
    14
}

#[test]
fn concurrent_writers_do_not_lose_updates() {
    let s = Server::start();
    assert!(s.run(&rvs_vsctl(), &["--no-wait"], &["add-br", "br0"]).status.success());
    let remote = s.remote();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let remote = remote.clone();
            std::thread::spawn(move || {
                for j in 0..3 {
                    let o = std::process::Command::new(rvs_vsctl())
                        .arg(format!("--db={remote}"))
                        .args(["--no-wait", "add-port", "br0", &format!("p{i}_{j}"), "--", "add", "Bridge", "br0", "other_config", &format!("k{i}_{j}=v")])
                        .output()
                        .unwrap();
                    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let o = s.run(&rvs_vsctl(), &["--no-wait"], &["list-ports", "br0"]);
    let ports: Vec<String> = String::from_utf8_lossy(&o.stdout).lines().map(str::to_owned).collect();
    assert_eq!(ports.len(), 24, "{ports:?}");
    let o = s.run(&rvs_vsctl(), &["--no-wait"], &["get", "Bridge", "br0", "other_config"]);
    let v: Value = json!(String::from_utf8_lossy(&o.stdout));
    for i in 0..8 {
        for j in 0..3 {
            assert!(v.as_str().unwrap().contains(&format!("k{i}_{j}=v")), "{v}");
        }
    }
}
