//! The JSON-RPC server through its client: methods, monitors (update/update2/update3), locks, wait triggers,
//! cancel, and the tcp and unix transports.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use ovsdb::client::{Client, ClientError};
use ovsdb::db::Database;
use ovsdb::schema::DatabaseSchema;
use ovsdb::server::Server;
use serde_json::{json, Value};

fn server() -> Server {
    let schema = DatabaseSchema::from_json(&json!({"name": "S", "version": "1.0.0", "tables": {
        "R": {"isRoot": true, "columns": {
            "name": {"type": "string"},
            "tags": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
            "n": {"type": "integer"}
        }}
    }}))
    .unwrap();
    let s = Server::new();
    s.add_database(Database::new(schema), None);
    s
}

fn next_note(c: &Client) -> Value {
    c.notifications().recv_timeout(Duration::from_secs(5)).expect("notification")
}

fn no_note(c: &Client) {
    assert!(c.notifications().recv_timeout(Duration::from_millis(100)).is_err(), "unexpected notification");
}

fn insert(c: &Client, name: &str) -> String {
    let r = c.transact("S", &[json!({"op": "insert", "table": "R", "row": {"name": name, "tags": ["set", ["a", "b"]]}})]).unwrap();
    r[0]["uuid"][1].as_str().unwrap().to_owned()
}

#[test]
fn basic_methods() {
    let s = server();
    let c = Client::local(&s);
    assert_eq!(c.request("list_dbs", json!([])).unwrap(), json!(["S"]));
    assert_eq!(c.request("echo", json!(["x", 1])).unwrap(), json!(["x", 1]));
    let schema = c.request("get_schema", json!(["S"])).unwrap();
    assert_eq!(schema["name"], "S");
    assert!(schema["tables"]["R"]["columns"]["tags"].is_object());
    let Err(ClientError::Rpc(e)) = c.request("get_schema", json!(["_Server"])) else { panic!() };
    assert_eq!(e["error"], "unknown database");
    let Err(ClientError::Rpc(e)) = c.request("frob", json!([])) else { panic!() };
    assert_eq!(e["error"], "unknown method");
    let Err(ClientError::Rpc(e)) = c.transact("nope", &[]) else { panic!() };
    assert_eq!(e["error"], "unknown database");
}

#[test]
fn monitor_v1_reports_initial_insert_modify_delete() {
    let s = server();
    let c = Client::local(&s);
    let u0 = insert(&c, "first");
    let init = c.request("monitor", json!(["S", "m1", {"R": {"columns": ["name", "n"]}}])).unwrap();
    assert_eq!(init, json!({"R": {u0.clone(): {"new": {"name": "first", "n": 0}}}}));

    let u1 = insert(&c, "second");
    let n = next_note(&c);
    assert_eq!(n["method"], "update");
    assert_eq!(n["params"], json!(["m1", {"R": {u1.clone(): {"new": {"name": "second", "n": 0}}}}]));

    c.transact("S", &[json!({"op": "update", "table": "R", "where": [["name", "==", "second"]], "row": {"n": 7}})]).unwrap();
    let n = next_note(&c);
    assert_eq!(n["params"], json!(["m1", {"R": {u1.clone(): {"old": {"n": 0}, "new": {"name": "second", "n": 7}}}}]));

    // A change to an unmonitored column sends nothing.
    c.transact("S", &[json!({"op": "update", "table": "R", "where": [], "row": {"tags": "z"}})]).unwrap();
    no_note(&c);

    c.transact("S", &[json!({"op": "delete", "table": "R", "where": [["name", "==", "first"]]})]).unwrap();
    let n = next_note(&c);
    assert_eq!(n["params"], json!(["m1", {"R": {u0: {"old": {"name": "first", "n": 0}}}}]));

    let Err(ClientError::Rpc(e)) = c.request("monitor", json!(["S", "m1", {"R": {}}])) else { panic!() };
    assert!(e["details"].as_str().unwrap().contains("duplicate"));
    assert_eq!(c.request("monitor_cancel", json!(["m1"])).unwrap(), json!({}));
    insert(&c, "third");
    no_note(&c);
}

#[test]
fn monitor_cond_update2_with_conditions_and_diffs() {
    let s = server();
    let c = Client::local(&s);
    let ua = insert(&c, "a");
    let _ub = insert(&c, "b");
    let init = c.request("monitor_cond", json!(["S", ["x"], {"R": [{"columns": ["name", "tags", "n"], "where": [["name", "==", "a"]]}]}])).unwrap();
    assert_eq!(init, json!({"R": {ua.clone(): {"initial": {"name": "a", "tags": ["set", ["a", "b"]]}}}}), "defaults (n=0) are omitted");

    c.transact("S", &[json!({"op": "mutate", "table": "R", "where": [], "mutations": [["tags", "delete", "a"], ["tags", "insert", "c"], ["n", "+=", 1]]})]).unwrap();
    let n = next_note(&c);
    assert_eq!(n["method"], "update2");
    assert_eq!(n["params"], json!([["x"], {"R": {ua.clone(): {"modify": {"tags": ["set", ["a", "c"]], "n": 1}}}}]), "sets as diffs, scalars as new values; only rows matching the condition");

    // Renaming "a" out of the condition is a delete for this monitor; a row entering it is an insert.
    c.transact("S", &[json!({"op": "update", "table": "R", "where": [["name", "==", "a"]], "row": {"name": "z"}})]).unwrap();
    assert_eq!(next_note(&c)["params"], json!([["x"], {"R": {ua.clone(): {"delete": null}}}]));
    c.transact("S", &[json!({"op": "update", "table": "R", "where": [["name", "==", "z"]], "row": {"name": "a"}})]).unwrap();
    assert_eq!(next_note(&c)["params"][1]["R"][&ua]["insert"]["name"], "a");

    // monitor_cond_change: widen to every row, the other row arrives as an insert.
    assert_eq!(c.request("monitor_cond_change", json!([["x"], ["y"], {"R": [{"where": [true]}]}])).unwrap(), json!({}));
    let n = next_note(&c);
    assert_eq!(n["params"][0], json!(["y"]));
    assert_eq!(n["params"][1]["R"].as_object().unwrap().len(), 1);

    // monitor_cond_since answers [found, last-txn-id, updates] and notifies with update3.
    let r = c.request("monitor_cond_since", json!(["S", "since", {"R": [{"columns": ["name"]}]}, "00000000-0000-0000-0000-000000000000"])).unwrap();
    assert_eq!(r[0], json!(false));
    assert_eq!(r[2]["R"].as_object().unwrap().len(), 2);
    insert(&c, "q");
    let mut methods = vec![next_note(&c)["method"].clone(), next_note(&c)["method"].clone()];
    methods.sort_by_key(|m| m.to_string());
    assert_eq!(methods, vec![json!("update2"), json!("update3")]);
}

#[test]
fn locks_steal_and_release_on_disconnect() {
    let s = server();
    let a = Client::local(&s);
    let b = Client::local(&s);
    assert_eq!(a.request("lock", json!(["L"])).unwrap(), json!({"locked": true}));
    assert_eq!(b.request("lock", json!(["L"])).unwrap(), json!({"locked": false}));
    let assert_op = [json!({"op": "assert", "lock": "L"})];
    assert_eq!(a.transact("S", &assert_op).unwrap(), vec![json!({})]);
    assert_eq!(b.transact("S", &assert_op).unwrap()[0]["error"], "not owner");
    assert_eq!(a.request("unlock", json!(["L"])).unwrap(), json!({}));
    assert_eq!(next_note(&b), json!({"id": null, "method": "locked", "params": ["L"]}));
    // a steals it back; b is told.
    assert_eq!(a.request("steal", json!(["L"])).unwrap(), json!({"locked": true}));
    assert_eq!(next_note(&b)["method"], "stolen");
    assert_eq!(b.transact("S", &assert_op).unwrap()[0]["error"], "not owner");
    // When a goes away, b (still queued) gets the lock again.
    drop(a);
    assert_eq!(next_note(&b)["method"], "locked");
    assert_eq!(b.transact("S", &assert_op).unwrap(), vec![json!({})]);
}

#[test]
fn wait_trigger_completes_after_a_commit_or_times_out_or_is_canceled() {
    let s = server();
    s.spawn_timer(Duration::from_millis(20)).unwrap();
    let waiter = Client::local(&s);
    let writer = Client::local(&s);
    let wait = json!({"op": "wait", "timeout": 5000, "table": "R", "where": [], "columns": ["name"], "until": "==", "rows": [{"name": "go"}]});
    let h = std::thread::spawn(move || {
        let r = waiter.transact("S", &[wait, json!({"op": "insert", "table": "R", "row": {"name": "after"}})]);
        (r, waiter)
    });
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(s.database("S").unwrap().tables["R"].rows.len(), 0, "the waiting transaction has not run");
    insert(&writer, "go");
    let (r, waiter) = h.join().unwrap();
    let r = r.unwrap();
    assert_eq!(r[0], json!({}));
    assert!(r[1]["uuid"].is_array());

    let short = json!({"op": "wait", "timeout": 100, "table": "R", "where": [], "columns": ["name"], "until": "==", "rows": []});
    let t0 = std::time::Instant::now();
    let r = waiter.transact("S", &[short]).unwrap();
    assert_eq!(r[0]["error"], "timed out");
    assert!(t0.elapsed() >= Duration::from_millis(100));

}

#[test]
fn cancel_answers_the_pending_request() {
    let s = server();
    let mut session = s.connect_local();
    let rx = session.incoming().unwrap();
    session.send(json!({"id": 9, "method": "transact", "params": ["S", {"op": "wait", "table": "R", "where": [], "columns": ["name"], "until": "!=", "rows": []}]}));
    assert!(rx.recv_timeout(Duration::from_millis(100)).is_err(), "pending");
    // A cancel from another session does not touch it.
    let other = s.connect_local();
    other.send(json!({"id": null, "method": "cancel", "params": [9]}));
    assert!(rx.recv_timeout(Duration::from_millis(100)).is_err(), "still pending");
    session.send(json!({"id": null, "method": "cancel", "params": [9]}));
    let m = rx.recv_timeout(Duration::from_secs(1)).unwrap();
    assert_eq!(m["id"], 9);
    assert_eq!(m["error"]["error"], "canceled");
}

#[test]
fn unix_and_tcp_transports() {
    let s = server();
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("sock");
    let l1 = s.listen(&format!("punix:{}", sock.display())).unwrap();
    let l2 = s.listen("ptcp:0:127.0.0.1").unwrap();
    let a = Client::connect(&l1.connect_address).unwrap();
    let b = Client::connect(&l2.connect_address).unwrap();
    b.request("monitor", json!(["S", null, {"R": {"columns": ["name"]}}])).unwrap();
    let u = insert(&a, "over-unix");
    let n = next_note(&b);
    assert_eq!(n["params"], json!([null, {"R": {u: {"new": {"name": "over-unix"}}}}]));
    drop(b);
    // The server notices the disconnect and keeps serving others.
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(a.request("echo", json!([])).unwrap(), json!([]));
}
