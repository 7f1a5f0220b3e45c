//! Connection tests against in-process peers over loopback TCP, Unix sockets and TLS: hello
//! negotiation, echo, inactivity probe, multipart reassembly, barriers with errors, and
//! reconnect back-off.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use rvs_ofconn::{ConnConfig, ConnError, Connection, Listener, Rconn, RconnConfig, RconnEvent, Target, TlsConfig};
use rvs_openflow::error::BadRequest;
use rvs_openflow::msg::{
    Desc, FlowMod, MultipartReply, MultipartReplyBody, MultipartRequestBody, Port, MULTIPART_MORE,
};
use rvs_openflow::{encode, error_reply, Message, OfMessage, Version};

fn cfg(versions: &[Version]) -> ConnConfig {
    ConnConfig {
        versions: versions.to_vec(),
        inactivity_probe: None,
        handshake_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(5),
    }
}

fn ptcp() -> Listener {
    Listener::bind(&Target::parse("ptcp:0:127.0.0.1").unwrap(), None).unwrap()
}

/// A switch that answers port-desc with three parts, barriers, and flow-mods with priority 7
/// with an error; it stops when the peer closes.
fn serve_switch(l: Listener, versions: Vec<Version>) -> thread::JoinHandle<Option<Version>> {
    thread::spawn(move || {
        let s = l.accept().unwrap();
        let mut c = match Connection::handshake(s, &cfg(&versions)) {
            Ok(c) => c,
            Err(_) => return None,
        };
        let v = c.version();
        while let Ok(Some(m)) = c.recv(None).or_else(|e| match e {
            ConnError::Decode { .. } => Ok(Some(OfMessage { version: v, xid: 0, msg: Message::BarrierReply })),
            e => Err(e),
        }) {
            let reply = |msg| OfMessage { version: v, xid: m.xid, msg };
            match &m.msg {
                Message::MultipartRequest(r) if r.body == MultipartRequestBody::PortDesc => {
                    for (i, more) in [(1, MULTIPART_MORE), (2, MULTIPART_MORE), (3, 0)] {
                        let port = Port { port_no: i, name: format!("p{i}"), ..Port::default() };
                        let body = MultipartReplyBody::PortDesc(vec![port]);
                        c.send_msg(&reply(Message::MultipartReply(MultipartReply { flags: more, body }))).unwrap();
                    }
                }
                Message::MultipartRequest(r) if r.body == MultipartRequestBody::Desc => {
                    // An unrelated asynchronous message first: it must be queued, not lost.
                    c.send(Message::EchoReply(b"async".to_vec())).unwrap();
                    let body = MultipartReplyBody::Desc(Desc { dp_desc: "fake".into(), ..Desc::default() });
                    c.send_msg(&reply(Message::MultipartReply(MultipartReply { flags: 0, body }))).unwrap();
                }
                Message::BarrierRequest => c.send_msg(&reply(Message::BarrierReply)).unwrap(),
                Message::FlowMod(fm) if fm.priority == 7 => {
                    let raw = encode(&m).unwrap();
                    c.send_msg(&error_reply(v, &raw, BadRequest::Eperm.into())).unwrap();
                }
                _ => {}
            }
        }
        Some(v)
    })
}

#[test]
fn negotiates_the_highest_common_version() {
    for (ours, theirs, want) in [
        (vec![Version::OF10, Version::OF13], vec![Version::OF10, Version::OF13], Some(Version::OF13)),
        (vec![Version::OF10], vec![Version::OF10, Version::OF13], Some(Version::OF10)),
        (vec![Version::OF13], vec![Version::OF10, Version::OF13], Some(Version::OF13)),
        (vec![Version::OF10, Version::OF13], vec![Version::OF10], Some(Version::OF10)),
        (vec![Version::OF10], vec![Version::OF13], None),
    ] {
        let l = ptcp();
        let t = l.connect_target();
        let srv = serve_switch(l, theirs.clone());
        let r = Connection::open(&t, None, &cfg(&ours));
        match want {
            Some(v) => {
                let c = r.unwrap_or_else(|e| panic!("{ours:?} vs {theirs:?}: {e}"));
                assert_eq!(c.version(), v);
                c.close();
                assert_eq!(srv.join().unwrap(), Some(v));
            }
            None => {
                assert!(matches!(r, Err(ConnError::Version { .. })), "{ours:?} vs {theirs:?}: {r:?}");
                assert_eq!(srv.join().unwrap(), None);
            }
        }
    }
}

#[test]
fn requests_replies_multipart_and_barrier() {
    for v in Version::SUPPORTED {
        let l = ptcp();
        let t = l.connect_target();
        let srv = serve_switch(l, vec![v]);
        let mut c = Connection::open(&t, None, &cfg(&[v])).unwrap();
        // Multipart reassembly: three parts, in order.
        let bodies = c.multipart(MultipartRequestBody::PortDesc).unwrap();
        let names: Vec<String> = bodies
            .iter()
            .flat_map(|b| match b {
                MultipartReplyBody::PortDesc(p) => p.iter().map(|p| p.name.clone()).collect(),
                _ => vec![],
            })
            .collect();
        assert_eq!(names, ["p1", "p2", "p3"]);
        // A reply arriving after an unrelated message: the other message is kept for recv().
        let d = c.multipart(MultipartRequestBody::Desc).unwrap();
        assert!(matches!(&d[..], [MultipartReplyBody::Desc(d)] if d.dp_desc == "fake"));
        let queued = c.recv(Some(Duration::from_secs(1))).unwrap().unwrap();
        assert_eq!(queued.msg, Message::EchoReply(b"async".to_vec()));
        // Echo: the peer's Connection answers by itself.
        let r = c.transact(Message::EchoRequest(b"ping".to_vec())).unwrap();
        assert_eq!(r[0].msg, Message::EchoReply(b"ping".to_vec()));
        c.barrier().unwrap();
        // Flow-mods with a barrier: success, then an error attributed to the failing request.
        c.send_with_barrier(vec![Message::FlowMod(FlowMod::default())]).unwrap();
        let bad = FlowMod { priority: 7, ..FlowMod::default() };
        let err = c.send_with_barrier(vec![Message::FlowMod(FlowMod::default()), Message::FlowMod(bad)]);
        match err {
            Err(ConnError::Ofp { xid, error }) => {
                assert_eq!(error.code, rvs_openflow::msg::ErrorCode::Known(BadRequest::Eperm.into()));
                assert_eq!(rvs_openflow::Header::parse(&error.data).unwrap().xid, xid);
            }
            other => panic!("expected an OpenFlow error, got {other:?}"),
        }
        c.close();
        assert_eq!(srv.join().unwrap(), Some(v));
    }
}

#[test]
fn undecodable_message_is_answered_with_an_error() {
    let l = ptcp();
    let t = l.connect_target();
    let peer = thread::spawn(move || {
        let mut s = l.accept().unwrap();
        s.write_all(&[4, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0, 8, 0, 0, 0, 0x10]).unwrap();
        let mut hello = [0u8; 16];
        s.read_exact(&mut hello).unwrap();
        // Message type 200 does not exist.
        s.write_all(&[4, 200, 0, 8, 0, 0, 0, 9]).unwrap();
        let mut err = [0u8; 12];
        s.read_exact(&mut err).unwrap();
        err
    });
    let mut c = Connection::open(&t, None, &cfg(&[Version::OF13])).unwrap();
    let e = c.recv(Some(Duration::from_secs(5)));
    assert!(matches!(e, Err(ConnError::Decode { .. })), "{e:?}");
    let err = peer.join().unwrap();
    // OFPT_ERROR, xid 9, OFPET_BAD_REQUEST / OFPBRC_BAD_TYPE.
    assert_eq!(err, [4, 1, 0, 20, 0, 0, 0, 9, 0, 1, 0, 1]);
}

#[test]
fn inactivity_probe_sends_echo_then_disconnects() {
    let l = ptcp();
    let t = l.connect_target();
    // A peer that completes the hello, then reads without ever answering.
    let peer = thread::spawn(move || {
        let mut s = l.accept().unwrap();
        s.write_all(&[4, 0, 0, 8, 0, 0, 0, 1]).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        got
    });
    let probe = Duration::from_millis(200);
    let c = ConnConfig { inactivity_probe: Some(probe), ..cfg(&[Version::OF13]) };
    let mut conn = Connection::open(&t, None, &c).unwrap();
    let t0 = Instant::now();
    let r = conn.recv(None);
    let took = t0.elapsed();
    assert!(matches!(r, Err(ConnError::ProbeTimeout)), "{r:?}");
    assert!(took >= probe * 2 && took < probe * 4, "disconnected after {took:?}");
    conn.close();
    let got = peer.join().unwrap();
    // Our hello (16 bytes), then one echo request (type 2) and nothing else.
    assert_eq!(got.len(), 24, "{got:02x?}");
    assert_eq!(got[16..18], [4, 2]);
}

#[test]
fn inactivity_probe_keeps_a_live_connection() {
    let l = ptcp();
    let t = l.connect_target();
    let srv = serve_switch(l, vec![Version::OF13]);
    let c = ConnConfig { inactivity_probe: Some(Duration::from_millis(100)), ..cfg(&[Version::OF13]) };
    let mut conn = Connection::open(&t, None, &c).unwrap();
    // Several probe periods pass; the peer answers every echo, so nothing is reported.
    assert!(conn.recv(Some(Duration::from_millis(700))).unwrap().is_none());
    conn.barrier().unwrap();
    conn.close();
    srv.join().unwrap();
}

#[test]
fn unix_socket_target() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("br0.mgmt");
    let l = Listener::bind(&Target::Punix(path.clone()), None).unwrap();
    assert_eq!(l.connect_target(), Target::Unix(path.clone()));
    let srv = serve_switch(l, vec![Version::OF10, Version::OF13]);
    let mut c = Connection::open(&Target::Unix(path.clone()), None, &cfg(&[Version::OF13])).unwrap();
    c.barrier().unwrap();
    c.close();
    srv.join().unwrap();
    assert!(!path.exists(), "the listener removes its socket file");
}

#[test]
fn rconn_reconnects_with_exponential_backoff() {
    // A port nobody listens on (yet).
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let target = Target::parse(&format!("tcp:127.0.0.1:{port}")).unwrap();
    let mut rc = RconnConfig::new(target);
    rc.conn = cfg(&[Version::OF13]);
    rc.min_backoff = Duration::from_millis(20);
    rc.max_backoff = Duration::from_millis(160);
    let mut r = Rconn::new(rc).unwrap();
    let mut delays = Vec::new();
    let t0 = Instant::now();
    while delays.len() < 6 {
        if let Some(RconnEvent::Disconnected { retry_in, .. }) = r.poll(Duration::from_secs(1)) {
            delays.push(retry_in.as_millis());
        }
    }
    assert_eq!(delays, [20, 40, 80, 160, 160, 160]);
    assert!(t0.elapsed() >= Duration::from_millis(20 + 40 + 80 + 160 + 160));
    // The switch comes up: the next attempt connects and the back-off resets.
    let l = Listener::bind(&Target::parse(&format!("ptcp:{port}:127.0.0.1")).unwrap(), None).unwrap();
    let srv = serve_switch(l, vec![Version::OF13]);
    let ev = loop {
        match r.poll(Duration::from_secs(2)) {
            Some(RconnEvent::Connected { version, .. }) => break version,
            Some(RconnEvent::Disconnected { .. }) | None => continue,
            Some(e) => panic!("unexpected {e:?}"),
        }
    };
    assert_eq!(ev, Version::OF13);
    assert!(r.is_connected());
    r.connection().unwrap().barrier().unwrap();
    assert_eq!(r.disconnect(), Duration::from_millis(20), "back-off restarts from the minimum");
    srv.join().unwrap();
    assert_eq!(r.stats().1, 1);
}

#[test]
fn rconn_passive_accepts_the_next_peer_after_a_drop() {
    let rc = RconnConfig { conn: cfg(&[Version::OF13]), ..RconnConfig::new(Target::parse("ptcp:0:127.0.0.1").unwrap()) };
    let mut r = Rconn::new(RconnConfig { min_backoff: Duration::ZERO, ..rc }).unwrap();
    let t = r.listener().unwrap().connect_target();
    for round in 0..2 {
        let t2 = t.clone();
        let peer = thread::spawn(move || {
            let mut c = Connection::open(&t2, None, &cfg(&[Version::OF10, Version::OF13])).unwrap();
            c.send(Message::BarrierRequest).unwrap();
            c.close();
        });
        assert!(matches!(r.poll(Duration::from_secs(5)), Some(RconnEvent::Connected { .. })), "round {round}");
        assert!(matches!(r.poll(Duration::from_secs(5)), Some(RconnEvent::Message(m)) if m.msg == Message::BarrierRequest));
        assert!(matches!(r.poll(Duration::from_secs(5)), Some(RconnEvent::Disconnected { .. })));
        peer.join().unwrap();
    }
}

struct Pki {
    _dir: tempfile::TempDir,
    switch: TlsConfig,
    controller: TlsConfig,
    stranger: TlsConfig,
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let dir = tempfile::tempdir().unwrap();
    let ca = |cn: &str| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, cn);
        (p.self_signed(&key).unwrap(), key)
    };
    let (ca_cert, ca_key) = ca("rvs test CA");
    let (other_ca, other_key) = ca("another CA");
    let write = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let ca_path = write("cacert.pem", ca_cert.pem());
    let other_path = write("othercert.pem", other_ca.pem());
    let leaf = |name: &str, issuer: &rcgen::Certificate, issuer_key: &KeyPair, ca: &std::path::Path| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(vec![format!("{name}.example")]).unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        let cert = p.signed_by(&key, issuer, issuer_key).unwrap();
        TlsConfig {
            private_key: write(&format!("{name}-privkey.pem"), key.serialize_pem()),
            certificate: write(&format!("{name}-cert.pem"), cert.pem()),
            ca_cert: ca.to_path_buf(),
        }
    };
    let switch = leaf("switch", &ca_cert, &ca_key, &ca_path);
    let controller = leaf("controller", &ca_cert, &ca_key, &ca_path);
    let stranger = leaf("stranger", &other_ca, &other_key, &other_path);
    Pki { _dir: dir, switch, controller, stranger }
}

#[test]
fn tls_mutual_authentication() {
    let pki = pki();
    let l = Listener::bind(&Target::parse("pssl:0:127.0.0.1").unwrap(), Some(&pki.controller)).unwrap();
    let t = l.connect_target();
    assert!(matches!(t, Target::Ssl(_)));
    let srv = serve_switch(l, vec![Version::OF13]);
    let mut c = Connection::open(&t, Some(&pki.switch), &cfg(&[Version::OF13])).unwrap();
    assert_eq!(c.version(), Version::OF13);
    let r = c.transact(Message::EchoRequest(b"over tls".to_vec())).unwrap();
    assert_eq!(r[0].msg, Message::EchoReply(b"over tls".to_vec()));
    c.close();
    assert_eq!(srv.join().unwrap(), Some(Version::OF13));

    // A peer whose certificate another CA signed is refused (by either side).
    let l = Listener::bind(&Target::parse("pssl:0:127.0.0.1").unwrap(), Some(&pki.controller)).unwrap();
    let t = l.connect_target();
    let srv = serve_switch(l, vec![Version::OF13]);
    assert!(Connection::open(&t, Some(&pki.stranger), &cfg(&[Version::OF13])).is_err());
    assert_eq!(srv.join().unwrap(), None);
    // ssl: without TLS files is a configuration error.
    assert!(matches!(Connection::open(&t, None, &cfg(&[Version::OF13])), Err(ConnError::Config(_))));
}

#[test]
fn buffered_messages_are_taken_only_when_wanted() {
    let l = ptcp();
    let addr = l.connect_target();
    let peer = thread::spawn(move || {
        let mut c = Connection::open(&addr, None, &cfg(&[Version::OF13])).unwrap();
        // Two flow-mods, an echo request and a barrier in one write.
        let mut bytes = Vec::new();
        for (xid, msg) in [
            (11, Message::FlowMod(FlowMod { priority: 1, ..FlowMod::default() })),
            (12, Message::FlowMod(FlowMod { priority: 2, ..FlowMod::default() })),
            (13, Message::EchoRequest(b"e".to_vec())),
            (14, Message::BarrierRequest),
        ] {
            bytes.extend(encode(&OfMessage { version: Version::OF13, xid, msg }).unwrap());
        }
        c.send_raw(&bytes).unwrap();
        let m = c.recv(Some(Duration::from_secs(5))).unwrap().unwrap();
        assert_eq!((m.xid, m.msg), (13, Message::EchoReply(b"e".to_vec())));
    });
    let mut c = Connection::handshake(l.accept().unwrap(), &cfg(&[Version::OF13])).unwrap();
    // Let the whole write arrive, so the first read takes all of it.
    thread::sleep(Duration::from_millis(200));
    let first = c.recv(Some(Duration::from_secs(5))).unwrap().unwrap();
    assert_eq!(first.xid, 11);
    // The rest arrived in the same read (one write, well under a read's size).
    let is_flow_mod = |m: &OfMessage| matches!(m.msg, Message::FlowMod(_));
    assert_eq!(c.recv_buffered_if(is_flow_mod).map(|m| m.xid), Some(12));
    assert!(c.recv_buffered_if(|_| true).is_none(), "echo requests are left to recv");
    // recv answers the echo, then returns the barrier.
    assert_eq!(c.recv(Some(Duration::from_secs(5))).unwrap().map(|m| m.xid), Some(14));
    assert!(c.recv_buffered_if(|_| true).is_none());
    peer.join().unwrap();
}
