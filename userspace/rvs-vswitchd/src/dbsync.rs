//! The daemon's database connection: either an EMBEDDED OVSDB server (the `ovsdb` crate, in this
//! process, persisted to one file and listening on `punix:` so `rvs-vsctl`/`ovs-vsctl` reach it)
//! or an external server (`unix:PATH` / `tcp:IP:PORT`, e.g. `rvs-ovsdb` or Debian's
//! `ovsdb-server` with rvs's schema).
//!
//! Either way the daemon talks RFC 7047 through one [`ovsdb::client::Client`]: a `monitor` of the
//! Open_vSwitch, Bridge, Port, Interface, Controller and Mirror tables keeps a [`Replica`] (rows as JSON objects);
//! [`Db::transact`] writes status back. A lost external connection is retried every second and
//! the monitor restarted (the replica is rebuilt from its initial contents).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use ovsdb::client::{Client, ClientError};
use ovsdb::server::Server;
use ovsdb::storage::{CompactPolicy, Storage};
use serde_json::{json, Map, Value};

/// Database name.
pub const DB: &str = "Open_vSwitch";
/// Tables the daemon monitors.
pub const TABLES: &[&str] = &["Open_vSwitch", "Bridge", "Port", "Interface", "Controller", "Mirror", "NetFlow", "sFlow", "IPFIX", "QoS", "Queue", "SSL"];
const MONITOR_ID: &str = "rvs-vswitchd";

/// One table: row UUID → columns.
pub type Table = BTreeMap<String, Map<String, Value>>;

/// The monitored rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replica {
    tables: BTreeMap<String, Table>,
}

impl Replica {
    /// A table.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// A row.
    pub fn row(&self, table: &str, uuid: &str) -> Option<&Map<String, Value>> {
        self.tables.get(table).and_then(|t| t.get(uuid))
    }

    /// Applies a V1 `<table-updates>` object (initial contents or an `update` notification).
    pub fn apply_update(&mut self, updates: &Value) {
        let Some(tables) = updates.as_object() else { return };
        for (tname, rows) in tables {
            let t = self.tables.entry(tname.clone()).or_default();
            for (uuid, u) in rows.as_object().into_iter().flatten() {
                match u.get("new").and_then(Value::as_object) {
                    Some(new) => {
                        let row = t.entry(uuid.clone()).or_default();
                        for (c, v) in new {
                            row.insert(c.clone(), v.clone());
                        }
                    }
                    None => {
                        t.remove(uuid);
                    }
                }
            }
        }
    }
}

/// Where the configuration comes from.
pub enum Source {
    /// The embedded server.
    Embedded(Server),
    /// An external server's address (`unix:PATH`, `tcp:IP:PORT`).
    Remote(String),
}

/// The connection and replica.
pub struct Db {
    source: Source,
    client: Option<Client>,
    /// The rows as last seen.
    pub replica: Replica,
    last_attempt: Option<Instant>,
    /// Set when the connection is (re)established (the caller then reapplies everything).
    pub reconnected: bool,
}

/// Starts the embedded server: opens (or creates) `db_file`, ensures it has an `Open_vSwitch`
/// row, listens on `remote` (`punix:PATH`).
pub fn start_embedded(db_file: &Path, remotes: &[String]) -> Result<Server, String> {
    if let Some(dir) = db_file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let schema = ovsdb::vswitch_schema();
    let (storage, db) = Storage::open_or_create(db_file, &schema, CompactPolicy::default())
        .map_err(|e| format!("opening database {}: {e}", db_file.display()))?;
    if storage.truncated() > 0 {
        crate::warn!("dbsync", "{}: dropped {} bytes of an incomplete transaction", db_file.display(), storage.truncated());
    }
    let server = Server::new();
    server.add_database(db, Some(storage));
    for r in remotes {
        if let Some(p) = r.strip_prefix("punix:").and_then(|p| Path::new(p).parent()) {
            let _ = std::fs::create_dir_all(p);
        }
        let l = server.listen(r).map_err(|e| format!("listening on {r}: {e}"))?;
        crate::info!("dbsync", "database server listening on {}", l.connect_address);
    }
    server.spawn_timer(Duration::from_millis(100)).map_err(|e| e.to_string())?;
    let c = Client::local(&server);
    let rows = c
        .transact(DB, &[json!({"op": "select", "table": "Open_vSwitch", "where": [], "columns": ["_uuid"]})])
        .map_err(|e| e.to_string())?;
    let empty = rows.first().and_then(|r| r.get("rows")).and_then(Value::as_array).is_none_or(Vec::is_empty);
    if empty {
        c.transact(DB, &[json!({"op": "insert", "table": "Open_vSwitch", "row": {}})]).map_err(|e| e.to_string())?;
        crate::info!("dbsync", "created the Open_vSwitch row in {}", db_file.display());
    }
    Ok(server)
}

impl Db {
    /// A connection to `source` (made by [`Db::run`]).
    pub fn new(source: Source) -> Db {
        Db { source, client: None, replica: Replica::default(), last_attempt: None, reconnected: false }
    }

    /// Whether the connection is up.
    pub fn connected(&self) -> bool {
        self.client.is_some()
    }

    fn connect(&mut self) -> Result<(), String> {
        let client = match &self.source {
            Source::Embedded(s) => Client::local(s),
            Source::Remote(addr) => Client::connect(addr).map_err(|e| format!("{addr}: {e}"))?,
        };
        let mut req = Map::new();
        for t in TABLES {
            req.insert((*t).to_string(), json!({}));
        }
        let initial = client.request("monitor", json!([DB, MONITOR_ID, Value::Object(req)])).map_err(|e| format!("monitor: {e}"))?;
        let mut replica = Replica::default();
        replica.apply_update(&initial);
        self.replica = replica;
        self.client = Some(client);
        self.reconnected = true;
        Ok(())
    }

    /// Waits up to `timeout` for changes and applies them; connects (or reconnects, at most once
    /// a second) first if needed. Returns whether the replica may have changed.
    pub fn run(&mut self, timeout: Duration) -> bool {
        if self.client.is_none() {
            if self.last_attempt.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
                std::thread::sleep(timeout);
                return false;
            }
            self.last_attempt = Some(Instant::now());
            match self.connect() {
                Ok(()) => {
                    crate::info!("dbsync", "connected to the database");
                    return true;
                }
                Err(e) => {
                    crate::warn!("dbsync", "database connection failed: {e} (retrying)");
                    std::thread::sleep(timeout);
                    return false;
                }
            }
        }
        let mut changed = false;
        let mut wait = timeout;
        loop {
            let Some(client) = self.client.as_ref() else { return changed };
            match client.notifications().recv_timeout(wait) {
                Ok(n) => {
                    if n.get("method").and_then(Value::as_str) == Some("update") {
                        if let Some(u) = n.get("params").and_then(|p| p.get(1)) {
                            self.replica.apply_update(u);
                            changed = true;
                        }
                    }
                    wait = Duration::ZERO;
                }
                Err(RecvTimeoutError::Timeout) => return changed,
                Err(RecvTimeoutError::Disconnected) => {
                    crate::warn!("dbsync", "database connection lost");
                    self.client = None;
                    return changed;
                }
            }
        }
    }

    /// Runs a transaction; an error in any operation fails the whole call.
    pub fn transact(&mut self, ops: &[Value]) -> Result<Vec<Value>, String> {
        let client = self.client.as_ref().ok_or("not connected to the database")?;
        match client.transact(DB, ops) {
            Ok(r) => {
                if let Some(e) = r.iter().find(|x| x.get("error").is_some_and(|e| !e.is_null())) {
                    return Err(format!("transaction failed: {e}"));
                }
                Ok(r)
            }
            Err(ClientError::Disconnected) => {
                self.client = None;
                Err("database connection lost".into())
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_server_monitor_and_write_back() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("db.sock");
        let server = start_embedded(&dir.path().join("conf.db"), &[format!("punix:{}", sock.display())]).unwrap();
        let mut db = Db::new(Source::Embedded(server));
        assert!(db.run(Duration::from_millis(10)));
        let root = db.replica.table("Open_vSwitch").unwrap().keys().next().unwrap().clone();
        // A remote client (like ovs-vsctl) changes the configuration; the monitor sees it.
        let remote = Client::connect(&format!("unix:{}", sock.display())).unwrap();
        remote
            .transact(DB, &[
                json!({"op": "insert", "table": "Bridge", "row": {"name": "br0"}, "uuid-name": "b"}),
                json!({"op": "mutate", "table": "Open_vSwitch", "where": [], "mutations": [["bridges", "insert", ["named-uuid", "b"]], ["next_cfg", "+=", 1]]}),
            ])
            .unwrap();
        let mut seen = false;
        for _ in 0..50 {
            db.run(Duration::from_millis(20));
            if crate::config::Config::from_replica(&db.replica).bridges.len() == 1 {
                seen = true;
                break;
            }
        }
        assert!(seen, "bridge insert arrives through the monitor");
        let c = crate::config::Config::from_replica(&db.replica);
        assert_eq!(c.next_cfg, 1);
        db.transact(&[json!({"op": "update", "table": "Open_vSwitch", "where": [["_uuid", "==", ["uuid", root]]], "row": {"cur_cfg": 1}})])
            .unwrap();
        let r = remote.transact(DB, &[json!({"op": "select", "table": "Open_vSwitch", "where": [], "columns": ["cur_cfg"]})]).unwrap();
        assert_eq!(r[0]["rows"][0]["cur_cfg"], 1);
        assert!(db.transact(&[json!({"op": "bogus"})]).is_err());
    }
}
