//! A small blocking JSON-RPC client for OVSDB servers, over `unix:PATH`, `tcp:IP:PORT` or an in-process
//! [`Server`] session. Requests wait for their reply; notifications (`update`, `update2`, `update3`, `locked`,
//! `stolen`) arrive in order on [`Client::notifications`].

use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::server::{LocalSession, Server};

/// Client errors.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Connecting or writing failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The server answered with a JSON-RPC error.
    #[error("server error: {0}")]
    Rpc(Value),
    /// The connection closed before the reply arrived.
    #[error("connection closed")]
    Disconnected,
    /// No reply within the timeout.
    #[error("timed out waiting for a reply")]
    Timeout,
}

type Pending = Arc<Mutex<HashMap<u64, Sender<Value>>>>;

enum Transport {
    Local(LocalSession),
    Remote(Mutex<Box<dyn Write + Send>>, Box<dyn Fn() + Send + Sync>),
}

/// A connection to an OVSDB server.
pub struct Client {
    transport: Transport,
    pending: Pending,
    next_id: AtomicU64,
    notifications: Receiver<Value>,
    timeout: Duration,
}

fn route(msg: Value, pending: &Pending, notes: &Sender<Value>) {
    if msg.get("method").and_then(Value::as_str).is_some() {
        let _ = notes.send(msg);
        return;
    }
    if let Some(id) = msg.get("id").and_then(Value::as_u64) {
        let tx = pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
        if let Some(tx) = tx {
            let _ = tx.send(msg);
        }
    }
}

impl Client {
    /// Connects to `unix:PATH` or `tcp:HOST:PORT`.
    pub fn connect(remote: &str) -> Result<Client, ClientError> {
        if let Some(path) = remote.strip_prefix("unix:") {
            let s = UnixStream::connect(path)?;
            let r = s.try_clone()?;
            let closer = s.try_clone()?;
            Ok(Self::remote(Box::new(s), Box::new(r), Box::new(move || {
                let _ = closer.shutdown(std::net::Shutdown::Both);
            })))
        } else if let Some(addr) = remote.strip_prefix("tcp:") {
            let s = TcpStream::connect(addr)?;
            s.set_nodelay(true)?;
            let r = s.try_clone()?;
            let closer = s.try_clone()?;
            Ok(Self::remote(Box::new(s), Box::new(r), Box::new(move || {
                let _ = closer.shutdown(std::net::Shutdown::Both);
            })))
        } else {
            Err(ClientError::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("bad remote {remote:?}"))))
        }
    }

    fn remote(w: Box<dyn Write + Send>, r: Box<dyn std::io::Read + Send>, closer: Box<dyn Fn() + Send + Sync>) -> Client {
        let pending: Pending = Arc::default();
        let (ntx, nrx) = channel();
        let p = pending.clone();
        std::thread::spawn(move || {
            for msg in serde_json::Deserializer::from_reader(BufReader::new(r)).into_iter::<Value>() {
                match msg {
                    Ok(m) => route(m, &p, &ntx),
                    Err(_) => break,
                }
            }
            // Dropping the senders wakes every waiting request with Disconnected.
            p.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
        });
        Client { transport: Transport::Remote(Mutex::new(w), closer), pending, next_id: AtomicU64::new(1), notifications: nrx, timeout: Duration::from_secs(60) }
    }

    /// An in-process client of `server`.
    pub fn local(server: &Server) -> Client {
        let mut session = server.connect_local();
        let incoming = session.incoming();
        let pending: Pending = Arc::default();
        let (ntx, nrx) = channel();
        let p = pending.clone();
        if let Some(incoming) = incoming {
            std::thread::spawn(move || {
                for m in incoming {
                    route(m, &p, &ntx);
                }
            });
        }
        Client { transport: Transport::Local(session), pending, next_id: AtomicU64::new(1), notifications: nrx, timeout: Duration::from_secs(60) }
    }

    /// Sets how long [`Client::request`] waits for a reply (default 60 s).
    pub fn set_timeout(&mut self, t: Duration) {
        self.timeout = t;
    }

    fn send(&self, msg: Value) -> Result<(), ClientError> {
        match &self.transport {
            Transport::Local(s) => {
                s.send(msg);
                Ok(())
            }
            Transport::Remote(w, _) => {
                let mut w = w.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let mut bytes = msg.to_string().into_bytes();
                bytes.push(b'\n');
                w.write_all(&bytes)?;
                w.flush()?;
                Ok(())
            }
        }
    }

    /// Sends a request and waits for its result (`ClientError::Rpc` if the reply carries an error).
    pub fn request(&self, method: &str, params: Value) -> Result<Value, ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = channel();
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id, tx);
        self.send(json!({"id": id, "method": method, "params": params}))?;
        let reply = rx.recv_timeout(self.timeout).map_err(|e| match e {
            std::sync::mpsc::RecvTimeoutError::Timeout => ClientError::Timeout,
            std::sync::mpsc::RecvTimeoutError::Disconnected => ClientError::Disconnected,
        })?;
        match reply.get("error") {
            Some(e) if !e.is_null() => Err(ClientError::Rpc(e.clone())),
            _ => Ok(reply.get("result").cloned().unwrap_or(Value::Null)),
        }
    }

    /// Sends a notification (no reply), e.g. `cancel`.
    pub fn notify(&self, method: &str, params: Value) -> Result<(), ClientError> {
        self.send(json!({"id": null, "method": method, "params": params}))
    }

    /// `transact`: runs `ops` on database `db`; returns the result array.
    pub fn transact(&self, db: &str, ops: &[Value]) -> Result<Vec<Value>, ClientError> {
        let mut params = vec![Value::from(db)];
        params.extend(ops.iter().cloned());
        match self.request("transact", Value::from(params))? {
            Value::Array(a) => Ok(a),
            other => Err(ClientError::Rpc(other)),
        }
    }

    /// Notifications from the server, in arrival order.
    pub fn notifications(&self) -> &Receiver<Value> {
        &self.notifications
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Transport::Remote(_, closer) = &self.transport {
            closer();
        }
    }
}
