//! The JSON-RPC server (RFC 7047 §4): sessions over unix and tcp sockets (or in-process), request dispatch
//! (`list_dbs`, `get_schema`, `transact`, `cancel`, `monitor`, `monitor_cond`, `monitor_cond_since`,
//! `monitor_cond_change`, `monitor_cancel`, `lock`, `steal`, `unlock`, `echo`), durable commits, change
//! notifications and `wait` triggers.
//!
//! Threads: one accept thread per listener, and per session one reader thread (parses the byte stream into
//! JSON values and dispatches them) plus one writer thread (drains the session's outgoing queue). All database
//! state sits behind one mutex; a commit appends to the journal and fsyncs, queues the monitors' notifications,
//! and only then queues the reply, so a client sees the update of its own transaction before the reply.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use uuid::Uuid;

use crate::db::Database;
use crate::error::{tag, Error};
use crate::monitor::{Monitor, Version};
use crate::storage::Storage;
use crate::txn::{self, Outcome};

/// Identifies one client session.
pub type SessionId = u64;

/// An OVSDB server: databases, sessions, locks. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Server {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    next_session: AtomicU64,
    server_id: Uuid,
}

struct DbState {
    db: Database,
    storage: Option<Storage>,
    /// Monitors by (session, monitor id as JSON text).
    monitors: BTreeMap<(SessionId, String), Monitor>,
    last_txn_id: Uuid,
}

struct Trigger {
    session: SessionId,
    id: Value,
    db: String,
    ops: Vec<Value>,
    start: Instant,
    timeout_ms: Option<u64>,
}

#[derive(Default)]
struct State {
    dbs: BTreeMap<String, DbState>,
    sessions: HashMap<SessionId, Sender<Value>>,
    /// Per lock: the queue of sessions asking for it; the front one owns it.
    locks: HashMap<String, VecDeque<SessionId>>,
    triggers: Vec<Trigger>,
    /// Commit failures seen (for logging by the embedding program).
    io_errors: u64,
}

impl State {
    fn send(&self, session: SessionId, msg: Value) {
        if let Some(tx) = self.sessions.get(&session) {
            let _ = tx.send(msg);
        }
    }

    fn owns(&self, session: SessionId, lock: &str) -> bool {
        self.locks.get(lock).and_then(|q| q.front()) == Some(&session)
    }
}

fn reply(id: &Value, result: Value) -> Value {
    json!({"id": id, "result": result, "error": null})
}

fn error_reply(id: &Value, e: &Error) -> Value {
    json!({"id": id, "result": null, "error": e.to_json()})
}

fn notification(method: &str, params: Value) -> Value {
    json!({"id": null, "method": method, "params": params})
}

/// A byte stream a session runs over.
trait Conn: std::io::Read + Write + Send + 'static {
    fn clone_conn(&self) -> std::io::Result<Box<dyn Conn>>;
    fn shutdown_conn(&self);
}

impl Conn for UnixStream {
    fn clone_conn(&self) -> std::io::Result<Box<dyn Conn>> {
        Ok(Box::new(self.try_clone()?))
    }
    fn shutdown_conn(&self) {
        let _ = self.shutdown(std::net::Shutdown::Both);
    }
}

impl Conn for TcpStream {
    fn clone_conn(&self) -> std::io::Result<Box<dyn Conn>> {
        Ok(Box::new(self.try_clone()?))
    }
    fn shutdown_conn(&self) {
        let _ = self.shutdown(std::net::Shutdown::Both);
    }
}

/// A bound listening socket; see [`Server::listen`].
#[derive(Debug)]
pub struct Listener {
    /// The address clients connect to (`unix:PATH` or `tcp:IP:PORT`).
    pub connect_address: String,
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl Server {
    /// A server with no databases.
    pub fn new() -> Server {
        Server {
            shared: Arc::new(Shared { state: Mutex::new(State::default()), next_session: AtomicU64::new(1), server_id: Uuid::new_v4() }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic in another thread must not take the database down with it: the state is only mutated
        // through complete assignments.
        self.shared.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Serves `db`, persisted to `storage` if given. Replaces a database of the same name.
    pub fn add_database(&self, db: Database, storage: Option<Storage>) {
        let name = db.name().to_owned();
        self.state().dbs.insert(name, DbState { db, storage, monitors: BTreeMap::new(), last_txn_id: Uuid::nil() });
    }

    /// A snapshot of a served database.
    pub fn database(&self, name: &str) -> Option<Database> {
        self.state().dbs.get(name).map(|d| d.db.clone())
    }

    /// How many commits failed to reach the disk (and were therefore not committed).
    pub fn io_errors(&self) -> u64 {
        self.state().io_errors
    }

    /// Listens on `remote`: `punix:PATH` (a stale socket file is replaced) or `ptcp:PORT[:IP]` (port 0 picks a
    /// free port). Accepts connections on a background thread.
    pub fn listen(&self, remote: &str) -> std::io::Result<Listener> {
        let bad = || std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("bad remote {remote:?}: expected punix:PATH or ptcp:PORT[:IP]"));
        if let Some(path) = remote.strip_prefix("punix:") {
            let _ = std::fs::remove_file(path);
            let l = UnixListener::bind(path)?;
            let server = self.clone();
            std::thread::Builder::new().name("ovsdb-accept".into()).spawn(move || {
                for s in l.incoming().flatten() {
                    server.spawn_session(Box::new(s));
                }
            })?;
            Ok(Listener { connect_address: format!("unix:{path}") })
        } else if let Some(spec) = remote.strip_prefix("ptcp:") {
            let (port, ip) = match spec.split_once(':') {
                Some((p, ip)) => (p, ip),
                None => (spec, "0.0.0.0"),
            };
            let port: u16 = port.parse().map_err(|_| bad())?;
            let ip = ip.trim_start_matches('[').trim_end_matches(']');
            let l = TcpListener::bind((ip, port))?;
            let addr = l.local_addr()?;
            let server = self.clone();
            std::thread::Builder::new().name("ovsdb-accept".into()).spawn(move || {
                for s in l.incoming().flatten() {
                    let _ = s.set_nodelay(true);
                    server.spawn_session(Box::new(s));
                }
            })?;
            Ok(Listener { connect_address: format!("tcp:{addr}") })
        } else {
            Err(bad())
        }
    }

    fn new_session(&self) -> (SessionId, Receiver<Value>) {
        let id = self.shared.next_session.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = channel();
        self.state().sessions.insert(id, tx);
        (id, rx)
    }

    fn spawn_session(&self, conn: Box<dyn Conn>) {
        let Ok(mut wconn) = conn.clone_conn() else { return };
        let (sid, rx) = self.new_session();
        let writer = std::thread::Builder::new().name("ovsdb-writer".into()).spawn(move || {
            for msg in rx {
                let mut bytes = msg.to_string().into_bytes();
                bytes.push(b'\n');
                if wconn.write_all(&bytes).and_then(|()| wconn.flush()).is_err() {
                    break;
                }
            }
            wconn.shutdown_conn();
        });
        if writer.is_err() {
            self.disconnect(sid);
            return;
        }
        let server = self.clone();
        let reader = std::thread::Builder::new().name("ovsdb-reader".into()).spawn(move || {
            let stream = serde_json::Deserializer::from_reader(BufReader::new(conn)).into_iter::<Value>();
            for msg in stream {
                match msg {
                    Ok(m) => server.handle(sid, m),
                    Err(_) => break,
                }
            }
            server.disconnect(sid);
        });
        if reader.is_err() {
            self.disconnect(sid);
        }
    }

    /// Opens an in-process session: messages given to [`LocalSession::send`] are handled as if they came
    /// from a socket, and everything the server sends to the session arrives on [`LocalSession::incoming`].
    pub fn connect_local(&self) -> LocalSession {
        let (id, incoming) = self.new_session();
        LocalSession { server: self.clone(), id, incoming: Some(incoming) }
    }

    /// Ends a session: cancels its monitors and triggers and releases its locks.
    pub fn disconnect(&self, session: SessionId) {
        let mut st = self.state();
        st.sessions.remove(&session);
        for d in st.dbs.values_mut() {
            d.monitors.retain(|(s, _), _| *s != session);
        }
        st.triggers.retain(|t| t.session != session);
        let names: Vec<String> = st.locks.keys().cloned().collect();
        for name in names {
            release_lock(&mut st, session, &name);
        }
    }

    /// Handles one message from `session`.
    pub fn handle(&self, session: SessionId, msg: Value) {
        let Some(method) = msg.get("method").and_then(Value::as_str) else {
            return; // A reply (e.g. to an echo we never send) or garbage: ignore.
        };
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let params = msg.get("params").cloned().unwrap_or(Value::Array(Vec::new()));
        let mut st = self.state();
        let result = match method {
            "echo" => Ok(params),
            "list_dbs" => Ok(Value::from(st.dbs.keys().cloned().collect::<Vec<_>>())),
            "get_schema" => db_name(&params).and_then(|n| st.dbs.get(n).map(|d| d.db.schema().to_json()).ok_or_else(|| unknown_db(n))),
            "get_server_id" => Ok(Value::from(self.shared.server_id.to_string())),
            "set_db_change_aware" => Ok(json!({})),
            "transact" => {
                match start_transact(&mut st, session, &id, &params) {
                    Ok(()) => return,
                    Err(e) => Err(e),
                }
            }
            "cancel" => {
                if let Some(target) = params.as_array().and_then(|a| a.first()) {
                    if let Some(pos) = st.triggers.iter().position(|t| t.session == session && &t.id == target) {
                        let t = st.triggers.remove(pos);
                        st.send(session, error_reply(&t.id, &Error::new(tag::CANCELED, "canceled")));
                    }
                }
                return;
            }
            "monitor" => add_monitor(&mut st, session, &params, Version::V1),
            "monitor_cond" => add_monitor(&mut st, session, &params, Version::V2),
            "monitor_cond_since" => add_monitor(&mut st, session, &params, Version::V3),
            "monitor_cond_change" => change_monitor(&mut st, session, &params),
            "monitor_cancel" => {
                let key = params.as_array().and_then(|a| a.first()).map(Value::to_string).unwrap_or_default();
                let mut found = false;
                for d in st.dbs.values_mut() {
                    found |= d.monitors.remove(&(session, key.clone())).is_some();
                }
                if found {
                    Ok(json!({}))
                } else {
                    Err(Error::syntax("unknown monitor"))
                }
            }
            "lock" | "steal" | "unlock" => lock_request(&mut st, session, method, &params),
            _ => Err(Error::new(tag::UNKNOWN_METHOD, format!("unknown method {method}"))),
        };
        if id.is_null() {
            return; // A notification gets no reply.
        }
        let msg = match result {
            Ok(r) => reply(&id, r),
            Err(e) => error_reply(&id, &e),
        };
        st.send(session, msg);
    }

    /// Re-runs `wait` transactions whose timeout expired. Call periodically (the listener program does so
    /// every 100 ms via [`Server::spawn_timer`]).
    pub fn run_timers(&self) {
        let mut st = self.state();
        run_triggers(&mut st);
    }

    /// Starts a background thread calling [`Server::run_timers`] every `period`.
    pub fn spawn_timer(&self, period: Duration) -> std::io::Result<()> {
        let server = self.clone();
        std::thread::Builder::new().name("ovsdb-timer".into()).spawn(move || loop {
            std::thread::sleep(period);
            server.run_timers();
        })?;
        Ok(())
    }
}

fn unknown_db(name: &str) -> Error {
    Error::new(tag::UNKNOWN_DATABASE, format!("{name} is not a database served by this server"))
}

fn db_name(params: &Value) -> Result<&str, Error> {
    params.as_array().and_then(|a| a.first()).and_then(Value::as_str).ok_or_else(|| Error::syntax("database name expected as first parameter"))
}

fn start_transact(st: &mut State, session: SessionId, id: &Value, params: &Value) -> Result<(), Error> {
    let name = db_name(params)?;
    if !st.dbs.contains_key(name) {
        return Err(unknown_db(name));
    }
    let ops = params.as_array().map(|a| a.iter().skip(1).cloned().collect()).unwrap_or_default();
    let t = Trigger { session, id: id.clone(), db: name.to_owned(), ops, start: Instant::now(), timeout_ms: None };
    if let Some(t) = try_trigger(st, t) {
        st.triggers.push(t);
    } else {
        run_triggers(st);
    }
    Ok(())
}

/// Executes a (possibly re-tried) transaction. Returns it back if it must wait; otherwise replies.
fn try_trigger(st: &mut State, mut t: Trigger) -> Option<Trigger> {
    let elapsed = u64::try_from(t.start.elapsed().as_millis()).unwrap_or(u64::MAX);
    let outcome = {
        let Some(d) = st.dbs.get(&t.db) else {
            st.send(t.session, error_reply(&t.id, &unknown_db(&t.db)));
            return None;
        };
        let locks = &st.locks;
        let owns = |l: &str| locks.get(l).and_then(|q| q.front()) == Some(&t.session);
        txn::execute(&d.db, &t.ops, &owns, elapsed)
    };
    match outcome {
        Outcome::Pending { timeout_ms } => {
            t.timeout_ms = timeout_ms;
            Some(t)
        }
        Outcome::Done { mut results, commit } => {
            if let Some(c) = commit {
                if let Err(e) = commit_changes(st, &t.db, c) {
                    results.push(e.to_json());
                }
            }
            st.send(t.session, reply(&t.id, Value::from(results)));
            None
        }
    }
}

/// Makes a transaction durable, installs it and notifies monitors.
fn commit_changes(st: &mut State, name: &str, c: txn::Commit) -> Result<(), Error> {
    let Some(d) = st.dbs.get_mut(name) else { return Err(unknown_db(name)) };
    if let Some(storage) = &mut d.storage {
        if let Err(e) = storage.commit(c.db.schema(), &c.changes) {
            st.io_errors += 1;
            return Err(Error::new(tag::IO_ERROR, e.to_string()));
        }
    }
    d.db = c.db;
    d.last_txn_id = Uuid::new_v4();
    let mut out = Vec::new();
    for ((session, _), m) in &d.monitors {
        if let Some(u) = m.updates(d.db.schema(), &c.changes) {
            let msg = match m.version {
                Version::V1 => notification("update", json!([m.id, u])),
                Version::V2 => notification("update2", json!([m.id, u])),
                Version::V3 => notification("update3", json!([m.id, d.last_txn_id.to_string(), u])),
            };
            out.push((*session, msg));
        }
    }
    if let Some(storage) = &mut d.storage {
        if storage.wants_compaction() {
            // A failed compaction leaves the old file intact; the journal keeps growing and compaction is
            // tried again after the next commit.
            let _ = storage.compact(&d.db);
        }
    }
    for (s, msg) in out {
        st.send(s, msg);
    }
    Ok(())
}

/// Re-runs pending `wait` transactions until none makes progress.
fn run_triggers(st: &mut State) {
    loop {
        let pending = std::mem::take(&mut st.triggers);
        let before = pending.len();
        let mut left = Vec::new();
        for t in pending {
            if let Some(t) = try_trigger(st, t) {
                left.push(t);
            }
        }
        let progressed = left.len() < before;
        left.append(&mut st.triggers);
        st.triggers = left;
        if !progressed {
            break;
        }
    }
}

fn add_monitor(st: &mut State, session: SessionId, params: &Value, version: Version) -> Result<Value, Error> {
    let arr = params.as_array().ok_or_else(|| Error::syntax("monitor params must be an array"))?;
    let name = db_name(params)?;
    let (Some(id), Some(reqs)) = (arr.get(1), arr.get(2)) else { return Err(Error::syntax("monitor needs [db, id, requests]")) };
    let d = st.dbs.get_mut(name).ok_or_else(|| unknown_db(name))?;
    let key = (session, id.to_string());
    if d.monitors.contains_key(&key) {
        return Err(Error::syntax("duplicate monitor ID"));
    }
    let m = Monitor::parse(d.db.schema(), version, id.clone(), reqs)?;
    let initial = m.initial(&d.db);
    d.monitors.insert(key, m);
    Ok(match version {
        Version::V3 => json!([false, d.last_txn_id.to_string(), initial]),
        _ => initial,
    })
}

fn change_monitor(st: &mut State, session: SessionId, params: &Value) -> Result<Value, Error> {
    let arr = params.as_array().ok_or_else(|| Error::syntax("monitor_cond_change params must be an array"))?;
    let (Some(old_id), Some(new_id), Some(reqs)) = (arr.first(), arr.get(1), arr.get(2)) else {
        return Err(Error::syntax("monitor_cond_change needs [id, new-id, requests]"));
    };
    let key = (session, old_id.to_string());
    let mut sends = Vec::new();
    let mut found = false;
    for d in st.dbs.values_mut() {
        let Some(mut m) = d.monitors.remove(&key) else { continue };
        found = true;
        let res = m.change_conditions(&d.db, reqs);
        m.id = new_id.clone();
        let version = m.version;
        d.monitors.insert((session, new_id.to_string()), m);
        if let Some(u) = res? {
            sends.push(match version {
                Version::V3 => notification("update3", json!([new_id, d.last_txn_id.to_string(), u])),
                _ => notification("update2", json!([new_id, u])),
            });
        }
    }
    if !found {
        return Err(Error::syntax("unknown monitor"));
    }
    for s in sends {
        st.send(session, s);
    }
    Ok(json!({}))
}

fn lock_request(st: &mut State, session: SessionId, method: &str, params: &Value) -> Result<Value, Error> {
    let name = params.as_array().and_then(|a| a.first()).and_then(Value::as_str).ok_or_else(|| Error::syntax("lock name expected"))?.to_owned();
    match method {
        "unlock" => {
            release_lock(st, session, &name);
            Ok(json!({}))
        }
        _ => {
            let q = st.locks.entry(name.clone()).or_default();
            if q.contains(&session) {
                return Err(Error::syntax(format!("must issue \"unlock\" before re-requesting lock {name}")));
            }
            if method == "lock" {
                q.push_back(session);
                let locked = q.front() == Some(&session);
                Ok(json!({"locked": locked}))
            } else {
                let victim = q.front().copied();
                q.push_front(session);
                if let Some(v) = victim {
                    st.send(v, notification("stolen", json!([name])));
                }
                Ok(json!({"locked": true}))
            }
        }
    }
}

fn release_lock(st: &mut State, session: SessionId, name: &str) {
    let Some(q) = st.locks.get_mut(name) else { return };
    let was_owner = q.front() == Some(&session);
    q.retain(|s| *s != session);
    let next = q.front().copied();
    if q.is_empty() {
        st.locks.remove(name);
    }
    if let (true, Some(n)) = (was_owner, next) {
        st.send(n, notification("locked", json!([name])));
    }
}

/// An in-process session (see [`Server::connect_local`]); dropping it ends the session.
pub struct LocalSession {
    server: Server,
    id: SessionId,
    incoming: Option<Receiver<Value>>,
}

impl LocalSession {
    /// Hands one JSON-RPC message to the server.
    pub fn send(&self, msg: Value) {
        self.server.handle(self.id, msg);
    }

    /// Takes the receiver of messages from the server (replies and notifications, in order).
    pub fn incoming(&mut self) -> Option<Receiver<Value>> {
        self.incoming.take()
    }

    /// The session's id.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// Whether this session owns lock `name`.
    pub fn owns_lock(&self, name: &str) -> bool {
        self.server.state().owns(self.id, name)
    }
}

impl Drop for LocalSession {
    fn drop(&mut self) {
        self.server.disconnect(self.id);
    }
}
