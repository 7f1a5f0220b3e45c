//! A reliable connection (OVS `rconn`): keeps one OpenFlow connection to a target up,
//! reconnecting with exponential back-off (1 s doubling to `max_backoff` by default) when it
//! fails, drops, or stops answering the inactivity probe. For a passive target it waits for
//! the next peer to connect instead.
//!
//! It is driven by [`Rconn::poll`], which returns [`RconnEvent`]s; a switch runs one per
//! configured controller (each in its own thread, or polled in turn with short timeouts), a
//! controller runs one per listening target.

use std::time::{Duration, Instant};

use rvs_openflow::{Message, OfMessage, Version};

use crate::conn::{ConnConfig, Connection};
use crate::keepalive::Backoff;
use crate::stream::{connect, Listener};
use crate::target::Target;
use crate::tls::TlsConfig;
use crate::ConnError;

/// Settings of a reliable connection.
#[derive(Debug, Clone)]
pub struct RconnConfig {
    /// Where to connect (or listen).
    pub target: Target,
    /// TLS files, needed for `ssl:`/`pssl:`.
    pub tls: Option<TlsConfig>,
    /// Connection settings (versions, inactivity probe).
    pub conn: ConnConfig,
    /// First reconnect delay.
    pub min_backoff: Duration,
    /// Largest reconnect delay (OVS `max_backoff`, default 8 s).
    pub max_backoff: Duration,
}

impl RconnConfig {
    /// Defaults for `target` (OVS: probe 5 s, back-off 1 s to 8 s).
    pub fn new(target: Target) -> Self {
        RconnConfig {
            target,
            tls: None,
            conn: ConnConfig::default(),
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(8),
        }
    }
}

/// Something that happened on a reliable connection.
#[derive(Debug)]
pub enum RconnEvent {
    /// A connection is up (hello exchanged).
    Connected {
        /// Negotiated version.
        version: Version,
        /// The peer.
        peer: String,
    },
    /// A message arrived.
    Message(OfMessage),
    /// A message did not decode (it was answered with an OpenFlow error).
    BadMessage(ConnError),
    /// The connection went down (or an attempt failed); the next attempt is after `retry_in`.
    Disconnected {
        /// Why.
        reason: String,
        /// Back-off before the next attempt.
        retry_in: Duration,
    },
}

/// A connection that is kept up.
#[derive(Debug)]
pub struct Rconn {
    cfg: RconnConfig,
    listener: Option<Listener>,
    conn: Option<Connection>,
    backoff: Backoff,
    next_attempt: Instant,
    attempts: u64,
    connects: u64,
}

impl Rconn {
    /// Creates it (binding the listener of a passive target now); the first attempt happens
    /// at the first [`Rconn::poll`].
    pub fn new(cfg: RconnConfig) -> Result<Rconn, ConnError> {
        let listener = if cfg.target.is_passive() { Some(Listener::bind(&cfg.target, cfg.tls.as_ref())?) } else { None };
        let backoff = Backoff::new(cfg.min_backoff, cfg.max_backoff);
        Ok(Rconn { cfg, listener, conn: None, backoff, next_attempt: Instant::now(), attempts: 0, connects: 0 })
    }

    /// The listener of a passive target.
    pub fn listener(&self) -> Option<&Listener> {
        self.listener.as_ref()
    }

    /// Whether a connection is up.
    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// The live connection, if any.
    pub fn connection(&mut self) -> Option<&mut Connection> {
        self.conn.as_mut()
    }

    /// Connection attempts made so far, and how many succeeded.
    pub fn stats(&self) -> (u64, u64) {
        (self.attempts, self.connects)
    }

    /// Sends a message on the live connection.
    pub fn send(&mut self, msg: Message) -> Result<u32, ConnError> {
        let c = self.conn.as_mut().ok_or(ConnError::NotConnected)?;
        match c.send(msg) {
            Ok(x) => Ok(x),
            Err(e) => {
                self.drop_conn();
                Err(e)
            }
        }
    }

    /// Drops the live connection (the next attempt follows the back-off).
    pub fn disconnect(&mut self) -> Duration {
        self.drop_conn()
    }

    fn drop_conn(&mut self) -> Duration {
        if let Some(c) = self.conn.take() {
            c.close();
        }
        let d = self.backoff.next_delay();
        self.next_attempt = Instant::now().checked_add(d).unwrap_or_else(Instant::now);
        d
    }

    /// Does the work due within `timeout`: connects (or accepts) when the back-off allows,
    /// receives, probes. Returns the first event, or `None` if nothing happened in time.
    pub fn poll(&mut self, timeout: Duration) -> Option<RconnEvent> {
        let deadline = Instant::now().checked_add(timeout).unwrap_or_else(Instant::now);
        if let Some(c) = self.conn.as_mut() {
            let left = deadline.saturating_duration_since(Instant::now());
            return match c.recv(Some(left)) {
                Ok(Some(m)) => Some(RconnEvent::Message(m)),
                Ok(None) => None,
                Err(e @ ConnError::Decode { .. }) => Some(RconnEvent::BadMessage(e)),
                Err(e) => {
                    let retry_in = self.drop_conn();
                    Some(RconnEvent::Disconnected { reason: e.to_string(), retry_in })
                }
            };
        }
        let now = Instant::now();
        if now < self.next_attempt {
            if self.next_attempt >= deadline {
                std::thread::sleep(deadline.saturating_duration_since(now));
                return None;
            }
            std::thread::sleep(self.next_attempt.saturating_duration_since(now));
        }
        match self.attempt(deadline) {
            Ok(Some(c)) => {
                self.backoff.reset();
                self.connects = self.connects.saturating_add(1);
                let ev = RconnEvent::Connected { version: c.version(), peer: c.peer().to_string() };
                self.conn = Some(c);
                Some(ev)
            }
            Ok(None) => None,
            Err(e) => {
                let retry_in = self.drop_conn();
                Some(RconnEvent::Disconnected { reason: e.to_string(), retry_in })
            }
        }
    }

    fn attempt(&mut self, deadline: Instant) -> Result<Option<Connection>, ConnError> {
        let stream = match &self.listener {
            Some(l) => match l.accept_timeout(Some(deadline.saturating_duration_since(Instant::now())))? {
                Some(s) => s,
                None => return Ok(None),
            },
            None => connect(&self.cfg.target, self.cfg.tls.as_ref(), self.cfg.conn.handshake_timeout)?,
        };
        self.attempts = self.attempts.saturating_add(1);
        Connection::handshake(stream, &self.cfg.conn).map(Some)
    }
}
