//! The threads that carry a bridge's OpenFlow connections: a listener per passive target (the
//! management socket `punix:RUN_DIR/BRIDGE.mgmt`, `ptcp:`/`pssl:`/`punix:` controllers) with
//! one thread per accepted peer, and one thread per active controller (`tcp:`/`ssl:`/`unix:`)
//! that connects, serves, and reconnects with exponential back-off. Each connection thread
//! alternates between receiving (short timeouts) and sending the asynchronous messages queued
//! for it, so requests are answered in order and a barrier's reply follows every earlier reply.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rvs_ofconn::keepalive::Backoff;
use rvs_ofconn::{ConnConfig, ConnError, Connection, Listener, Stream, Target, TlsConfig};
use rvs_openflow::{OfMessage, Version};

use super::session;
use super::settings::ControllerSpec;
use super::shared::{ConnState, Kind, Shared};

/// How long a connection thread waits for a message before looking at its outbox.
const POLL: Duration = Duration::from_millis(10);
/// Most flow-mods applied together under one pipeline lock (bounds how long packet
/// translation waits for a bulk install).
const FLOW_MOD_RUN: usize = 64;
/// How long a listener waits for a peer before looking at its stop flag.
const ACCEPT_POLL: Duration = Duration::from_millis(200);

/// What one runner (listener or active connection) serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerSpec {
    /// The target.
    pub target: Target,
    /// The controller, `None` for the management socket.
    pub controller: Option<ControllerSpec>,
    /// Allowed versions.
    pub versions: Vec<Version>,
    /// TLS files.
    pub tls: Option<TlsConfig>,
}

impl RunnerSpec {
    fn kind(&self) -> Kind {
        if self.controller.is_some() {
            Kind::Primary
        } else {
            Kind::Service
        }
    }

    fn conn_config(&self) -> ConnConfig {
        ConnConfig {
            versions: self.versions.clone(),
            inactivity_probe: self.controller.as_ref().and_then(|c| c.probe),
            handshake_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }

    fn uuid(&self) -> Option<&str> {
        self.controller.as_ref().map(|c| c.uuid.as_str())
    }
}

/// A running listener or active connection; stops when dropped.
#[derive(Debug)]
pub struct Runner {
    /// What it serves.
    pub spec: RunnerSpec,
    stop: Arc<AtomicBool>,
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

fn stopped(sh: &Shared, stop: &AtomicBool) -> bool {
    stop.load(Ordering::Acquire) || sh.stop.load(Ordering::Acquire)
}

/// Starts serving `spec` for `sh`.
pub fn start(sh: &Arc<Shared>, spec: RunnerSpec) -> Result<Runner, String> {
    let stop = Arc::new(AtomicBool::new(false));
    let (sh2, spec2, stop2) = (sh.clone(), spec.clone(), stop.clone());
    let name = format!("ofconn-{}", sh.name);
    if spec.target.is_passive() {
        if let Target::Punix(p) = &spec.target {
            if let Some(d) = p.parent() {
                let _ = std::fs::create_dir_all(d);
            }
        }
        let l = Listener::bind(&spec.target, spec.tls.as_ref()).map_err(|e| format!("{}: {e}", spec.target))?;
        if let Some(u) = spec.uuid() {
            sh.set_status(u, |s| {
                s.state = "LISTENING".into();
                s.last_error = None;
            });
        }
        std::thread::Builder::new().name(name).spawn(move || listen(&sh2, &l, &spec2, &stop2)).map_err(|e| e.to_string())?;
    } else {
        std::thread::Builder::new().name(name).spawn(move || active(&sh2, &spec2, &stop2)).map_err(|e| e.to_string())?;
    }
    Ok(Runner { spec, stop })
}

fn listen(sh: &Arc<Shared>, l: &Listener, spec: &RunnerSpec, stop: &Arc<AtomicBool>) {
    while !stopped(sh, stop) {
        match l.accept_timeout(Some(ACCEPT_POLL)) {
            Ok(Some(stream)) => {
                let (sh2, spec, stop) = (sh.clone(), spec.clone(), stop.clone());
                let r = std::thread::Builder::new().name(format!("ofconn-{}", sh.name)).spawn(move || {
                    accepted(&sh2, stream, &spec, &stop);
                });
                if let Err(e) = r {
                    crate::warn!("connmgr", "{}: cannot start a connection thread: {e}", sh.name);
                }
            }
            Ok(None) => {}
            Err(e) => {
                crate::warn!("connmgr", "{}: accepting on {}: {e}", sh.name, spec.target);
                std::thread::sleep(ACCEPT_POLL);
            }
        }
    }
}

fn accepted(sh: &Shared, stream: Stream, spec: &RunnerSpec, stop: &AtomicBool) {
    let peer = stream.peer_name();
    match Connection::handshake(stream, &spec.conn_config()) {
        Ok(mut c) => {
            crate::info!("connmgr", "{}: {} connected (OpenFlow {})", sh.name, describe_peer(spec, &peer), c.version());
            let why = serve(sh, &mut c, spec, stop);
            crate::info!("connmgr", "{}: {} disconnected: {why}", sh.name, describe_peer(spec, &peer));
            if let Some(u) = spec.uuid() {
                sh.set_status(u, |s| s.last_error = Some(why));
            }
        }
        Err(e) => {
            crate::info!("connmgr", "{}: {} handshake failed: {e}", sh.name, describe_peer(spec, &peer));
            if let Some(u) = spec.uuid() {
                sh.set_status(u, |s| s.last_error = Some(e.to_string()));
            }
        }
    }
}

fn describe_peer(spec: &RunnerSpec, peer: &str) -> String {
    if peer.is_empty() {
        spec.target.to_string()
    } else {
        format!("{} ({peer})", spec.target)
    }
}

fn sleep_until(sh: &Shared, stop: &AtomicBool, until: Instant) {
    while !stopped(sh, stop) {
        let now = Instant::now();
        if now >= until {
            return;
        }
        std::thread::sleep(until.saturating_duration_since(now).min(ACCEPT_POLL));
    }
}

fn active(sh: &Shared, spec: &RunnerSpec, stop: &AtomicBool) {
    let max = spec.controller.as_ref().map_or(Duration::from_secs(8), |c| c.max_backoff);
    let mut backoff = Backoff::new(Duration::from_secs(1), max);
    let uuid = spec.uuid().unwrap_or_default().to_string();
    while !stopped(sh, stop) {
        sh.set_status(&uuid, |s| s.state = "CONNECTING".into());
        match Connection::open(&spec.target, spec.tls.as_ref(), &spec.conn_config()) {
            Ok(mut c) => {
                backoff.reset();
                sh.set_status(&uuid, |s| {
                    s.state = "ACTIVE".into();
                    s.last_error = None;
                });
                crate::info!("connmgr", "{}: connected to {} (OpenFlow {})", sh.name, spec.target, c.version());
                let why = serve(sh, &mut c, spec, stop);
                crate::info!("connmgr", "{}: {} disconnected: {why}", sh.name, spec.target);
                sh.set_status(&uuid, |s| s.last_error = Some(why));
            }
            Err(e) => {
                crate::dbg_log!("connmgr", "{}: connecting to {}: {e}", sh.name, spec.target);
                sh.set_status(&uuid, |s| s.last_error = Some(e.to_string()));
            }
        }
        if stopped(sh, stop) {
            break;
        }
        sh.set_status(&uuid, |s| s.state = "BACKOFF".into());
        let d = backoff.next_delay();
        sleep_until(sh, stop, Instant::now() + d);
    }
}

/// Serves one established connection until it fails or the runner stops; returns why it
/// ended.
pub fn serve(sh: &Shared, c: &mut Connection, spec: &RunnerSpec, stop: &AtomicBool) -> String {
    let (tx, rx) = mpsc::channel();
    let enable_async = spec.controller.as_ref().is_none_or(|c| c.enable_async);
    let h = sh.register(ConnState::new(c.version(), spec.kind(), enable_async), spec.uuid().map(str::to_string), tx);
    let why = loop {
        if stopped(sh, stop) {
            break "stopped".to_string();
        }
        match c.recv(Some(POLL)) {
            Ok(Some(m)) => {
                let replies = if session::batchable(&m) {
                    // Flow-mods already received whole after this one are applied with it.
                    let mut run = vec![m];
                    while run.len() < FLOW_MOD_RUN {
                        match c.recv_buffered_if(session::batchable) {
                            Some(m) => run.push(m),
                            None => break,
                        }
                    }
                    session::handle_flow_mods(sh, &h, run)
                } else {
                    session::handle(sh, &h, m)
                };
                let mut failed = None;
                for r in replies {
                    if let Err(e) = send(sh, c, &r) {
                        failed = Some(e);
                        break;
                    }
                }
                if let Some(e) = failed {
                    break e;
                }
            }
            Ok(None) => {}
            // Answered with an OpenFlow error by the connection; it stays up.
            Err(ConnError::Decode { error, .. }) => {
                crate::dbg_log!("connmgr", "{}: {}: bad message: {error}", sh.name, c.peer());
            }
            Err(e) => break e.to_string(),
        }
        let mut failed = None;
        while let Ok(msg) = rx.try_recv() {
            if let Err(e) = send(sh, c, &OfMessage { version: c.version(), xid: 0, msg }) {
                failed = Some(e);
                break;
            }
        }
        if let Some(e) = failed {
            break e;
        }
    };
    sh.unregister(h.id);
    why
}

/// Sends `m`; a message the version cannot carry is logged and skipped, a socket error ends
/// the connection.
fn send(sh: &Shared, c: &mut Connection, m: &OfMessage) -> Result<(), String> {
    match c.send_msg(m) {
        Ok(()) => Ok(()),
        Err(ConnError::Encode(e)) => {
            crate::warn!("connmgr", "{}: cannot encode {} for OpenFlow {}: {e}", sh.name, m.msg.name(), m.version);
            if m.xid == 0 {
                return Ok(());
            }
            // A reply: the requester must not wait for ever.
            let err = rvs_openflow::msg::ErrorMsg {
                code: rvs_openflow::msg::ErrorCode::Known(rvs_openflow::error::BadRequest::Eperm.into()),
                data: Vec::new(),
            };
            c.send_msg(&OfMessage { version: m.version, xid: m.xid, msg: rvs_openflow::Message::Error(err) }).map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}
