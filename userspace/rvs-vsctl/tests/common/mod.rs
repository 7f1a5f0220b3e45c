//! Test support: an `rvs-ovsdb` server on a temporary unix socket, running rvs-vsctl and Debian's ovs-vsctl,
//! and a canonical, UUID-free form of a whole database and of command output for comparisons.
#![allow(clippy::unwrap_used, dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ovsdb::client::Client;
use serde_json::{json, Value};

/// The `rvs-ovsdb` binary of this workspace build (built on demand when this test runs alone).
pub fn rvs_ovsdb() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
        let bin = profile_dir.join("rvs-ovsdb");
        if !bin.exists() {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut c = Command::new(cargo);
            c.args(["build", "-p", "rvs-ovsdb"]).current_dir(env!("CARGO_MANIFEST_DIR"));
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                c.arg("--release");
            }
            assert!(c.status().unwrap().success(), "building rvs-ovsdb failed");
        }
        assert!(bin.exists(), "{} missing", bin.display());
        bin
    })
    .clone()
}

/// Debian's tool `name`.
pub fn ovs_tool(name: &str) -> String {
    let p = format!("/usr/bin/{name}");
    assert!(Path::new(&p).exists(), "{p} is missing: install Debian's openvswitch-common (tools/deps.sh does)");
    p
}

/// A fresh, in-memory rvs-ovsdb with rvs's schema.
pub struct Server {
    child: Child,
    pub sock: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("db.sock");
        let pidfile = dir.path().join("pid");
        let child = Command::new(rvs_ovsdb())
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
        Server { child, sock, _dir: dir }
    }

    pub fn remote(&self) -> String {
        format!("unix:{}", self.sock.display())
    }

    pub fn client(&self) -> Client {
        Client::connect(&self.remote()).unwrap()
    }

    /// Runs `tool` (a path) with `--db` and `args`.
    pub fn run(&self, tool: &str, pre: &[&str], args: &[&str]) -> Output {
        Command::new(tool).arg(format!("--db={}", self.remote())).args(pre).args(args).output().unwrap()
    }

    /// A canonical dump of the whole database.
    pub fn dump(&self) -> BTreeMap<String, Vec<String>> {
        canonical_dump(&self.client())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn rvs_vsctl() -> String {
    env!("CARGO_BIN_EXE_rvs-vsctl").to_owned()
}

/// Replaces every UUID with `<uuid>`.
pub fn strip_uuids(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < s.len() {
        if i + 36 <= s.len() && s.is_char_boundary(i) && s.is_char_boundary(i + 36) && uuid::Uuid::parse_str(&s[i..i + 36]).is_ok() && s[i..i + 36].chars().filter(|c| *c == '-').count() == 4 {
            out.push_str("<uuid>");
            i += 36;
        } else {
            let c = s[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
            let _ = b;
        }
    }
    out
}

/// Order-insensitive form of `show`/`list`/`find` output: UUIDs removed, sibling subtrees (by indentation) and
/// blank-line-separated records sorted.
pub fn unordered(s: &str) -> String {
    fn indent(l: &str) -> usize {
        l.len() - l.trim_start().len()
    }
    fn tree(lines: &[&str]) -> Vec<String> {
        let mut items: Vec<String> = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let base = indent(lines[i]);
            let mut j = i + 1;
            while j < lines.len() && indent(lines[j]) > base {
                j += 1;
            }
            let mut children = tree(&lines[i + 1..j]);
            children.sort();
            items.push(format!("{}\n{}", lines[i], children.join("")));
            i = j;
        }
        items
    }
    let s = strip_uuids(s);
    let mut paras: Vec<String> = s
        .split("\n\n")
        .map(|p| {
            let lines: Vec<&str> = p.lines().collect();
            let mut t = tree(&lines);
            t.sort();
            t.concat()
        })
        .collect();
    paras.sort();
    paras.join("\n--\n")
}

fn sort_json(v: &mut Value) {
    match v {
        Value::Array(a) => {
            for x in a.iter_mut() {
                sort_json(x);
            }
            if a.len() == 2 && (a[0] == "set" || a[0] == "map") {
                if let Some(items) = a[1].as_array_mut() {
                    items.sort_by_key(|x| x.to_string());
                }
            }
        }
        Value::Object(m) => {
            for x in m.values_mut() {
                sort_json(x);
            }
        }
        _ => {}
    }
}

/// Every table's rows, each row in a UUID-free form: references are replaced by the referenced row's own
/// canonical form (recursively), so two databases built by different clients compare equal iff they hold the
/// same rows and the same reference graph.
pub fn canonical_dump(c: &Client) -> BTreeMap<String, Vec<String>> {
    let schema = c.request("get_schema", json!(["Open_vSwitch"])).unwrap();
    let tables: Vec<String> = schema["tables"].as_object().unwrap().keys().cloned().collect();
    let ops: Vec<Value> = tables.iter().map(|t| json!({"op": "select", "table": t, "where": []})).collect();
    let res = c.transact("Open_vSwitch", &ops).unwrap();
    let mut rows: BTreeMap<String, (String, Value)> = BTreeMap::new();
    for (t, r) in tables.iter().zip(res.iter()) {
        for row in r["rows"].as_array().unwrap() {
            let u = row["_uuid"][1].as_str().unwrap().to_owned();
            let mut row = row.clone();
            let m = row.as_object_mut().unwrap();
            m.remove("_uuid");
            m.remove("_version");
            rows.insert(u, (t.clone(), row));
        }
    }
    fn label(u: &str, rows: &BTreeMap<String, (String, Value)>, depth: usize) -> String {
        let Some((t, row)) = rows.get(u) else { return "<dangling>".into() };
        if depth > 8 {
            return format!("{t}<deep>");
        }
        let mut v = row.clone();
        subst(&mut v, rows, depth);
        sort_json(&mut v);
        let m = v.as_object().unwrap();
        let keys: BTreeSet<&String> = m.keys().collect();
        let body: Vec<String> = keys.iter().map(|k| format!("{k}={}", m[*k])).collect();
        format!("{t}{{{}}}", body.join(" "))
    }
    fn subst(v: &mut Value, rows: &BTreeMap<String, (String, Value)>, depth: usize) {
        match v {
            Value::Array(a) => {
                if a.len() == 2 && a[0] == "uuid" {
                    let l = label(a[1].as_str().unwrap(), rows, depth + 1);
                    *v = Value::String(l);
                    return;
                }
                for x in a {
                    subst(x, rows, depth);
                }
            }
            Value::Object(m) => {
                for x in m.values_mut() {
                    subst(x, rows, depth);
                }
            }
            _ => {}
        }
    }
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (u, (t, _)) in &rows {
        out.entry(t.clone()).or_default().push(label(u, &rows, 0));
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

/// Panics with the rows that differ (per table) unless the two canonical dumps are equal.
pub fn assert_same_db(a: &BTreeMap<String, Vec<String>>, b: &BTreeMap<String, Vec<String>>, ctx: &str) {
    if a == b {
        return;
    }
    let cut = |s: &String| s.chars().take(1500).collect::<String>();
    let mut msg = String::new();
    let tables: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for t in tables {
        let (ra, rb) = (a.get(t).cloned().unwrap_or_default(), b.get(t).cloned().unwrap_or_default());
        for r in ra.iter().filter(|r| !rb.contains(r)) {
            msg.push_str(&format!("only in rvs-vsctl's database: {}\n", cut(r)));
        }
        for r in rb.iter().filter(|r| !ra.contains(r)) {
            msg.push_str(&format!("only in ovs-vsctl's database: {}\n", cut(r)));
        }
    }
    panic!("database contents differ after {ctx}\n{msg}");
}
