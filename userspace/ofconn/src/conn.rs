//! One OpenFlow connection over a [`Stream`]: the hello exchange and version negotiation,
//! sending and receiving decoded messages, automatic echo replies, the inactivity probe, and
//! request/reply helpers (xid matching, multipart reassembly, barriers).
//!
//! The same type serves both ends: a controller-side client (rvs-ofctl, test controllers)
//! and the switch side (each controller connection of rvs-vswitchd). Messages that arrive
//! while a request waits for its reply are queued and returned by later [`Connection::recv`]
//! calls, in order.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use rvs_openflow::error::HelloFailed;
use rvs_openflow::msg::{Hello, MultipartReplyBody, MultipartRequest, MultipartRequestBody, MULTIPART_MORE};
use rvs_openflow::{decode, encode, error_reply, negotiate, Message, OfMessage, Version};

use crate::frame::FrameBuf;
use crate::keepalive::{Keepalive, ProbeAction};
use crate::stream::{connect, Stream};
use crate::target::Target;
use crate::tls::TlsConfig;
use crate::ConnError;

/// Settings of a connection.
#[derive(Debug, Clone)]
pub struct ConnConfig {
    /// Versions we are willing to speak (`-O`, the bridge's `protocols`).
    pub versions: Vec<Version>,
    /// Send an echo request after this long without receiving anything; disconnect after
    /// twice that (`None`: no probing).
    pub inactivity_probe: Option<Duration>,
    /// How long connecting and the hello exchange may take.
    pub handshake_timeout: Duration,
    /// How long a request waits for its reply.
    pub request_timeout: Duration,
}

impl Default for ConnConfig {
    fn default() -> Self {
        ConnConfig {
            versions: Version::SUPPORTED.to_vec(),
            inactivity_probe: Some(Duration::from_secs(5)),
            handshake_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// An established OpenFlow connection (the hello exchange is done).
#[derive(Debug)]
pub struct Connection {
    stream: Stream,
    rx: FrameBuf,
    version: Version,
    next_xid: u32,
    keepalive: Keepalive,
    probe_xid: Option<u32>,
    pending: VecDeque<OfMessage>,
    peer: String,
    request_timeout: Duration,
    /// Something arrived since the keepalive last heard of it (told lazily, when the
    /// receive buffer runs dry: one clock read per read, not per message).
    rx_seen: bool,
}

/// How long [`Connection::recv_wire`] may wait for bytes.
#[derive(Debug, Clone, Copy)]
enum Wait {
    Forever,
    Until(Instant),
    /// From the first time it has to wait (no clock read while messages are buffered).
    For(Duration),
}

impl Wait {
    fn deadline(opt: Option<Instant>) -> Wait {
        opt.map_or(Wait::Forever, Wait::Until)
    }
}

fn hello_for(versions: &[Version]) -> Result<OfMessage, ConnError> {
    let max = versions.iter().copied().max().ok_or_else(|| ConnError::Config("no OpenFlow version allowed".into()))?;
    // A bitmap is needed only when the versions are not "everything up to max"; OpenFlow 1.0
    // peers predate bitmaps, so a 1.0-only hello carries none.
    let hello = if max == Version::OF10 { Hello::default() } else { Hello::with_versions(versions) };
    Ok(OfMessage { version: max, xid: 0, msg: Message::Hello(hello) })
}

impl Connection {
    /// Connects to an active target and runs the hello exchange.
    pub fn open(target: &Target, tls: Option<&TlsConfig>, cfg: &ConnConfig) -> Result<Connection, ConnError> {
        let stream = connect(target, tls, cfg.handshake_timeout)?;
        let mut c = Connection::handshake(stream, cfg)?;
        c.peer = target.to_string();
        Ok(c)
    }

    /// Runs the hello exchange on a fresh stream (either side: both send hello first).
    pub fn handshake(mut stream: Stream, cfg: &ConnConfig) -> Result<Connection, ConnError> {
        let mut next_xid = 1u32;
        let mut hello = hello_for(&cfg.versions)?;
        hello.xid = next_xid;
        next_xid = next_xid.wrapping_add(1);
        stream.write_all(&encode(&hello)?)?;
        stream.flush()?;
        let deadline = Instant::now().checked_add(cfg.handshake_timeout);
        let mut rx = FrameBuf::new();
        let frame = loop {
            if let Some(f) = rx.next_frame()? {
                break f;
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left.is_some_and(|l| l.is_zero()) {
                return Err(ConnError::Timeout("hello"));
            }
            stream.set_read_timeout(left)?;
            match rx.fill(&mut stream) {
                Ok(0) => return Err(ConnError::Closed),
                Ok(_) => {}
                Err(e) if is_timeout(&e) => {}
                Err(e) => return Err(e.into()),
            }
        };
        let peer_hello = match decode(&frame) {
            Ok(m @ OfMessage { msg: Message::Hello(_), .. }) => m,
            Ok(m) => {
                return Err(ConnError::Protocol(format!("expected hello, received {}", m.msg.name())));
            }
            Err(e) => return Err(ConnError::Protocol(format!("bad hello: {e}"))),
        };
        let Some(version) = negotiate(&cfg.versions, &peer_hello) else {
            let err = error_reply(hello.version, &frame, HelloFailed::Incompatible.into());
            let _ = encode(&err).map(|b| stream.write_all(&b));
            return Err(ConnError::Version { ours: cfg.versions.clone(), peer: peer_hello.version });
        };
        let peer = stream.peer_name();
        Ok(Connection {
            stream,
            rx,
            version,
            next_xid,
            keepalive: Keepalive::new(cfg.inactivity_probe, Instant::now()),
            probe_xid: None,
            pending: VecDeque::new(),
            peer,
            request_timeout: cfg.request_timeout,
            rx_seen: false,
        })
    }

    /// The negotiated version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// A name of the peer, for messages.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// Allocates a transaction id.
    pub fn next_xid(&mut self) -> u32 {
        let x = self.next_xid;
        self.next_xid = self.next_xid.wrapping_add(1).max(1);
        x
    }

    /// Sends `msg` in the negotiated version with a fresh xid; returns the xid.
    pub fn send(&mut self, msg: Message) -> Result<u32, ConnError> {
        let xid = self.next_xid();
        self.send_msg(&OfMessage { version: self.version, xid, msg })?;
        Ok(xid)
    }

    /// Sends a message as given (its version and xid are kept).
    pub fn send_msg(&mut self, m: &OfMessage) -> Result<(), ConnError> {
        let bytes = encode(m)?;
        self.send_raw(&bytes)
    }

    /// Sends bytes that already form whole messages.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), ConnError> {
        self.stream.write_all(bytes)?;
        self.stream.flush()?;
        Ok(())
    }

    /// Receives the next message, waiting up to `timeout` (`None`: forever); `Ok(None)` when
    /// the time is up. Echo requests are answered and the probe's echo replies consumed here;
    /// the inactivity probe runs while waiting. A message that does not decode is answered
    /// with the OpenFlow error it deserves and reported as [`ConnError::Decode`] (the
    /// connection stays usable).
    pub fn recv(&mut self, timeout: Option<Duration>) -> Result<Option<OfMessage>, ConnError> {
        if let Some(m) = self.pending.pop_front() {
            return Ok(Some(m));
        }
        self.recv_wire(timeout.map_or(Wait::Forever, Wait::For))
    }

    fn recv_wire(&mut self, mut wait: Wait) -> Result<Option<OfMessage>, ConnError> {
        loop {
            if let Some(decoded) = self.rx.next_frame_with(|f| decode(f).map_err(|e| (e, f.to_vec())))? {
                if let Some(m) = self.handle_frame(decoded)? {
                    return Ok(Some(m));
                }
                continue;
            }
            let now = Instant::now();
            if std::mem::take(&mut self.rx_seen) {
                self.keepalive.received(now);
            }
            let deadline = match wait {
                Wait::Forever => None,
                Wait::Until(d) => Some(d),
                Wait::For(t) => {
                    let d = now.checked_add(t);
                    wait = Wait::deadline(d);
                    d
                }
            };
            match self.keepalive.poll(now) {
                ProbeAction::Dead => return Err(ConnError::ProbeTimeout),
                ProbeAction::SendProbe => {
                    let xid = self.send(Message::EchoRequest(Vec::new()))?;
                    self.probe_xid = Some(xid);
                    self.keepalive.probe_sent(now);
                    continue;
                }
                ProbeAction::Idle => {}
            }
            if deadline.is_some_and(|d| now >= d) {
                return Ok(None);
            }
            let wake = match (deadline, self.keepalive.next_deadline()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let wait = wake.map(|w| w.saturating_duration_since(now).max(Duration::from_millis(1)));
            self.stream.set_read_timeout(wait)?;
            match self.rx.fill(&mut self.stream) {
                Ok(0) => return Err(ConnError::Closed),
                Ok(_) => {}
                Err(e) if is_timeout(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The next message if it has already been received whole, decodes, and `want`s it;
    /// otherwise `None` and nothing is consumed (no read, no wait, no error reply: the next
    /// [`Connection::recv`] handles it). Echo messages are never taken here. This lets a
    /// server handle a run of buffered requests together (one lock for many flow-mods).
    pub fn recv_buffered_if(&mut self, want: impl Fn(&OfMessage) -> bool) -> Option<OfMessage> {
        if let Some(m) = self.pending.front() {
            return if want(m) { self.pending.pop_front() } else { None };
        }
        let m = self.rx.next_frame_if(|f| {
            decode(f).ok().filter(|m| !matches!(m.msg, Message::EchoRequest(_) | Message::EchoReply(_)) && want(m))
        })?;
        self.rx_seen = true;
        Some(m)
    }

    /// Handles one received frame (decoded, or the decode error and the raw frame); `Some` if
    /// it is for the caller.
    fn handle_frame(&mut self, decoded: Result<OfMessage, (rvs_openflow::DecodeError, Vec<u8>)>) -> Result<Option<OfMessage>, ConnError> {
        self.rx_seen = true;
        let m = match decoded {
            Ok(m) => m,
            Err((e, frame)) => {
                let reply = error_reply(self.version, &frame, e.error);
                self.send_msg(&reply)?;
                return Err(ConnError::Decode { error: e, raw: frame });
            }
        };
        match &m.msg {
            Message::EchoRequest(data) => {
                let reply = OfMessage { version: self.version, xid: m.xid, msg: Message::EchoReply(data.clone()) };
                self.send_msg(&reply)?;
                Ok(None)
            }
            Message::EchoReply(_) if self.probe_xid == Some(m.xid) => {
                self.probe_xid = None;
                Ok(None)
            }
            _ => Ok(Some(m)),
        }
    }

    /// Waits for the replies with `xid` (queueing anything else) until a reply that is not a
    /// multipart reply with the MORE flag arrives. An OpenFlow error with `xid` becomes
    /// [`ConnError::Ofp`].
    pub fn wait_reply(&mut self, xid: u32) -> Result<Vec<OfMessage>, ConnError> {
        let deadline = Instant::now().checked_add(self.request_timeout);
        let mut out = Vec::new();
        loop {
            let m = match self.recv_wire(Wait::deadline(deadline)) {
                Ok(Some(m)) => m,
                Ok(None) => return Err(ConnError::Timeout("reply")),
                Err(ConnError::Decode { error, raw }) if rvs_openflow::Header::parse(&raw).is_some_and(|h| h.xid == xid) => {
                    return Err(ConnError::Decode { error, raw });
                }
                Err(ConnError::Decode { .. }) => continue,
                Err(e) => return Err(e),
            };
            if m.xid != xid {
                self.pending.push_back(m);
                continue;
            }
            if let Message::Error(e) = m.msg {
                return Err(ConnError::Ofp { xid, error: e });
            }
            let more = matches!(&m.msg, Message::MultipartReply(r) if r.flags & MULTIPART_MORE != 0);
            out.push(m);
            if !more {
                return Ok(out);
            }
        }
    }

    /// Sends a request and returns its reply messages (several for a multipart reply).
    pub fn transact(&mut self, msg: Message) -> Result<Vec<OfMessage>, ConnError> {
        let xid = self.send(msg)?;
        self.wait_reply(xid)
    }

    /// Runs a multipart (stats) request and returns the reply bodies in order.
    pub fn multipart(&mut self, body: MultipartRequestBody) -> Result<Vec<MultipartReplyBody>, ConnError> {
        let replies = self.transact(Message::MultipartRequest(MultipartRequest { flags: 0, body }))?;
        replies
            .into_iter()
            .map(|m| match m.msg {
                Message::MultipartReply(r) => Ok(r.body),
                other => Err(ConnError::Protocol(format!("expected a multipart reply, received {}", other.name()))),
            })
            .collect()
    }

    /// Sends a barrier request and waits for its reply.
    pub fn barrier(&mut self) -> Result<(), ConnError> {
        let replies = self.transact(Message::BarrierRequest)?;
        match replies.first().map(|m| &m.msg) {
            Some(Message::BarrierReply) => Ok(()),
            Some(other) => Err(ConnError::Protocol(format!("expected a barrier reply, received {}", other.name()))),
            None => Err(ConnError::Protocol("no barrier reply".into())),
        }
    }

    /// Sends `msgs` (requests without replies: flow-mods, group-mods, packet-outs) followed by
    /// a barrier; fails with the first OpenFlow error the switch returned for any of them.
    pub fn send_with_barrier(&mut self, msgs: Vec<Message>) -> Result<(), ConnError> {
        let mut xids = Vec::with_capacity(msgs.len());
        for m in msgs {
            xids.push(self.send(m)?);
        }
        let bxid = self.send(Message::BarrierRequest)?;
        let deadline = Instant::now().checked_add(self.request_timeout);
        let mut first_err = None;
        loop {
            let m = match self.recv_wire(Wait::deadline(deadline))? {
                Some(m) => m,
                None => return Err(ConnError::Timeout("barrier reply")),
            };
            match m.msg {
                Message::Error(e) if xids.contains(&m.xid) || m.xid == bxid => {
                    first_err.get_or_insert(ConnError::Ofp { xid: m.xid, error: e });
                    if m.xid == bxid {
                        break;
                    }
                }
                Message::BarrierReply if m.xid == bxid => break,
                _ => self.pending.push_back(m),
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Closes the connection.
    pub fn close(mut self) {
        self.stream.shutdown();
    }

    /// The underlying stream (for `poll`-based callers).
    pub fn stream(&self) -> &Stream {
        &self.stream
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted)
}
