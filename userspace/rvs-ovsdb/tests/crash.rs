//! kill -9 at random moments never corrupts the database file: a client commits transactions in a loop
//! against `rvs-ovsdb` (compacting every few transactions, so kills also land inside compactions); the server
//! is killed repeatedly; after each kill the file opens and holds exactly the transactions 0..=k for some k
//! between the last acknowledged one and the one in flight — never part of a transaction.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ovsdb::client::Client;
use ovsdb::storage::{CompactPolicy, Storage};
use serde_json::json;

const ROWS_PER_TXN: i64 = 3;
/// Transactions older than this are deleted by later ones, so the file sees deletes too.
const KEEP: i64 = 8;

fn schema() -> serde_json::Value {
    json!({"name": "Crash", "version": "1.0.0", "tables": {
        "Seq": {"isRoot": true, "columns": {"n": {"type": "integer"}, "part": {"type": "integer"}, "pad": {"type": "string"}}},
        "Counter": {"isRoot": true, "maxRows": 1, "columns": {"value": {"type": "integer"}}}
    }})
}

/// Kills the server if the test panics while it runs.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path) -> Guard {
    let sock = dir.join("sock");
    let pidfile = dir.join("pid");
    let _ = std::fs::remove_file(&pidfile);
    let child = Command::new(env!("CARGO_BIN_EXE_rvs-ovsdb"))
        .arg("--db")
        .arg(dir.join("crash.db"))
        .arg("--schema")
        .arg(dir.join("schema.json"))
        .arg(format!("--remote=punix:{}", sock.display()))
        .args(["--compact-min-records", "7", "--compact-min-bytes", "0"])
        .arg("--pidfile")
        .arg(&pidfile)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    // The pidfile is written once every socket listens.
    while !pidfile.exists() {
        assert!(t0.elapsed() < Duration::from_secs(10), "server did not start");
        std::thread::sleep(Duration::from_millis(5));
    }
    Guard(child)
}

/// Checks the file and returns the last complete transaction number (-1 if none).
fn verify(path: &Path) -> i64 {
    let (st, db) = Storage::open(path, CompactPolicy::default()).expect("database file opens after kill -9");
    eprintln!("truncated {} bytes, file {} bytes", st.truncated(), std::fs::metadata(path).unwrap().len());
    let mut parts: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for r in db.rows("Seq") {
        let n = r.data["n"].as_scalar().unwrap().as_integer().unwrap();
        let p = r.data["part"].as_scalar().unwrap().as_integer().unwrap();
        parts.entry(n).or_default().push(p);
    }
    let counter = db.rows("Counter").next().map_or(-1, |r| r.data["value"].as_scalar().unwrap().as_integer().unwrap());
    let Some((&last, _)) = parts.iter().next_back() else {
        assert_eq!(counter, -1, "counter without rows");
        return -1;
    };
    for (n, p) in &parts {
        assert_eq!(p.len() as i64, ROWS_PER_TXN, "transaction {n} is partial: parts {p:?}");
    }
    let expected: Vec<i64> = ((last - KEEP + 1).max(0)..=last).collect();
    assert_eq!(parts.keys().copied().collect::<Vec<_>>(), expected, "not a prefix of the committed transactions");
    assert_eq!(counter, last, "the counter row belongs to the same transactions");
    last
}

fn seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
}

#[test]
fn kill_9_never_corrupts_the_database() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.json"), schema().to_string()).unwrap();
    let db_path = dir.path().join("crash.db");
    let mut rng = seed();
    let mut next = 0i64;
    let mut total_acked = 0u64;
    let pad = "x".repeat(1500);
    for round in 0..25 {
        let mut child = start(dir.path());
        let client = Client::connect(&format!("unix:{}", dir.path().join("sock").display())).unwrap();
        let acked = Arc::new(AtomicI64::new(next - 1));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, s, p) = (acked.clone(), stop.clone(), pad.clone());
        let first = next;
        let writer = std::thread::spawn(move || {
            let mut n = first;
            while !s.load(Ordering::Relaxed) {
                let mut ops: Vec<_> = (0..ROWS_PER_TXN)
                    .map(|part| json!({"op": "insert", "table": "Seq", "row": {"n": n, "part": part, "pad": p}}))
                    .collect();
                ops.push(json!({"op": "delete", "table": "Seq", "where": [["n", "<=", n - KEEP]]}));
                if n == 0 {
                    ops.push(json!({"op": "insert", "table": "Counter", "row": {"value": 0}}));
                } else {
                    ops.push(json!({"op": "mutate", "table": "Counter", "where": [], "mutations": [["value", "+=", 1]]}));
                }
                match client.transact("Crash", &ops) {
                    Ok(r) => {
                        assert!(r.iter().all(|v| v.get("error").is_none()), "{r:?}");
                        a.store(n, Ordering::SeqCst);
                        n += 1;
                    }
                    Err(_) => break, // the server died
                }
            }
        });
        // xorshift
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(20 + rng % 150));
        child.0.kill().unwrap(); // SIGKILL
        child.0.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
        let last_acked = acked.load(Ordering::SeqCst);
        let k = verify(&db_path);
        eprintln!("round {round}: acked {last_acked} file {k}");
        assert!(k >= last_acked, "round {round}: acknowledged transaction {last_acked} lost (file ends at {k})");
        assert!(k <= last_acked + 1, "round {round}: file holds {k}, beyond the one in flight after {last_acked}");
        total_acked += u64::try_from(last_acked - next + 1).unwrap_or(0);
        next = k + 1;
    }
    assert!(total_acked > 50, "the writer made too little progress ({total_acked} transactions) to be meaningful");
    // Finally the file is also readable by a clean restart of the server.
    let child = start(dir.path());
    let client = Client::connect(&format!("unix:{}", dir.path().join("sock").display())).unwrap();
    let r = client.transact("Crash", &[json!({"op": "select", "table": "Counter", "where": []})]).unwrap();
    assert_eq!(r[0]["rows"][0]["value"], json!(next - 1));
    drop(child);
}
