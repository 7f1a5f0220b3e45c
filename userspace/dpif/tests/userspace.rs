//! The userspace datapath in-process, on real devices: two veth pairs in the host namespace
//! (needs root and /dev/net/tun; skipped with a message otherwise). Frames are injected and
//! captured with plain AF_PACKET sockets on the far ends of the pairs.
//!
//! Checks: a flow with MAC rewrite + VLAN push forwards byte-exact; a miss arrives as an upcall
//! with the frame and a key naming the input port; `execute` sends a frame out; flow counters.

#![allow(clippy::unwrap_used)]

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Command;
use std::time::{Duration, Instant};

use rvs_dpif::{Dpif, Execute, FlowId, FlowPut, PortSpec, PortType, PutFlags, UpcallKind, UserspaceDpif};

fn root() -> bool {
    // SAFETY: no preconditions.
    let uid = unsafe { libc::geteuid() };
    uid == 0 && std::path::Path::new("/dev/net/tun").exists()
}

fn sh(args: &[&str]) {
    let ok = Command::new("ip").args(args).status().map(|s| s.success()).unwrap_or(false);
    assert!(ok, "ip {args:?}");
}

struct Veths(Vec<String>);
impl Drop for Veths {
    fn drop(&mut self) {
        for v in &self.0 {
            let _ = Command::new("ip").args(["link", "del", v]).status();
        }
    }
}

fn veth(a: &str, b: &str) {
    let _ = Command::new("ip").args(["link", "del", a]).status();
    sh(&["link", "add", a, "type", "veth", "peer", "name", b]);
    sh(&["link", "set", a, "up"]);
    sh(&["link", "set", b, "up"]);
    for d in [a, b] {
        let _ = Command::new("sysctl").args(["-qw", &format!("net.ipv6.conf.{d}.disable_ipv6=1")]).status();
    }
}

/// A plain AF_PACKET socket on `dev` (sees what the device receives).
fn raw(dev: &str) -> OwnedFd {
    let idx = rvs_dpif::netdev::sys::ifindex(dev).unwrap();
    // SAFETY: socket(2); checked below.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, i32::from(0x0003u16.to_be())) };
    assert!(fd >= 0);
    // SAFETY: fresh fd.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: zeroed sockaddr_ll is valid.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = 0x0003u16.to_be();
    sll.sll_ifindex = idx;
    // SAFETY: valid address and length.
    let r = unsafe { libc::bind(fd.as_raw_fd(), (&sll as *const libc::sockaddr_ll).cast(), std::mem::size_of_val(&sll) as u32) };
    assert_eq!(r, 0);
    fd
}

fn send(fd: &OwnedFd, frame: &[u8]) {
    // SAFETY: sends the caller's buffer.
    let r = unsafe { libc::send(fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
    assert_eq!(r as usize, frame.len());
}

/// Receives frames until one satisfies `want` or 3 s pass.
fn recv_until(fd: &OwnedFd, want: impl Fn(&[u8]) -> bool) -> Option<Vec<u8>> {
    let end = Instant::now() + Duration::from_secs(3);
    let mut buf = vec![0u8; 2048];
    while Instant::now() < end {
        if !rvs_dpif::netdev::sys::poll_in(fd.as_raw_fd(), 100).unwrap() {
            continue;
        }
        // SAFETY: receives into `buf`.
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
        if n > 0 && want(&buf[..n as usize]) {
            return Some(buf[..n as usize].to_vec());
        }
    }
    None
}

fn udp_frame(marker: u8) -> Vec<u8> {
    let mut f = vec![0u8; 60];
    f[0..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x02]);
    f[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x01]);
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    let ip = [0x45, 0, 0, 46, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
    f[14..34].copy_from_slice(&ip);
    let c = rvs_core::csum::checksum(&f[14..34]);
    f[24..26].copy_from_slice(&c.to_be_bytes());
    f[34..42].copy_from_slice(&[0x30, 0x39, 0x00, 0x09, 0, 26, 0, 0]);
    f[42] = marker;
    f
}

fn attrs(text: &str) -> (Vec<u8>, Vec<u8>) {
    let mut buf = vec![0u8; 4096];
    let mut w = rvs_core::nla::Writer::new(&mut buf);
    rvs_core::text::key::text_to_attrs(text, &mut w).unwrap();
    let mut it = rvs_core::nla::Attrs::new(w.written()).map(|a| a.unwrap().payload.to_vec());
    (it.next().unwrap(), it.next().unwrap())
}

fn actions(text: &str) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let mut w = rvs_core::nla::Writer::new(&mut buf);
    rvs_core::text::actions::parse_actions(text, &mut w).unwrap();
    w.written().to_vec()
}

#[test]
fn forwards_rewrites_upcalls_and_executes_on_veths() {
    if !root() {
        eprintln!("skipped: needs root and /dev/net/tun");
        return;
    }
    let pid = std::process::id() % 10000;
    let (a0, a1, b0, b1) = (format!("rvta{pid}"), format!("rvtA{pid}"), format!("rvtb{pid}"), format!("rvtB{pid}"));
    let _guard = Veths(vec![a0.clone(), b0.clone()]);
    veth(&a0, &a1);
    veth(&b0, &b1);
    let dpname = format!("rvtd{pid}");
    let mut dp = UserspaceDpif::create(&dpname).unwrap();
    let pa = dp.port_add(&PortSpec { name: a0.clone(), port_type: PortType::Netdev, port_no: None, dst_port: None }).unwrap();
    let pb = dp.port_add(&PortSpec { name: b0.clone(), port_type: PortType::Netdev, port_no: None, dst_port: None }).unwrap();
    assert_eq!((pa, pb), (1, 2));
    let inject = raw(&a1);
    let capture = raw(&b1);
    let mut handlers = dp.recv_set(1).unwrap();

    // A miss becomes an upcall carrying the frame and a key with in_port(1).
    send(&inject, &udp_frame(0x11));
    assert!(handlers[0].wait(3000).unwrap(), "miss upcall arrives");
    let mut ups = Vec::new();
    handlers[0].recv_batch(16, &mut ups).unwrap();
    let u = ups.iter().find(|u| u.packet.get(42) == Some(&0x11)).expect("our frame");
    assert_eq!(u.kind, UpcallKind::Miss);
    let k = rvs_core::ovs::decode_key(&u.key).unwrap();
    assert_eq!(k.in_port(), 1);
    assert_eq!(k.eth_type(), 0x0800);

    // A flow: rewrite the source MAC, push VLAN 10 pcp 3, out port 2.
    let (key, mask) = attrs("in_port(1),eth(),eth_type(0x0800),ipv4()");
    let acts = actions("set(eth(src=02:aa:bb:cc:dd:01,dst=02:00:00:00:00:02)),push_vlan(vid=10,pcp=3),2");
    let ufid = [9u8; 16];
    dp.flow_put(&FlowPut { key: &key, mask: Some(&mask), actions: &acts, ufid: Some(&ufid), flags: PutFlags { create: true, ..Default::default() } })
        .unwrap();
    let sent = udp_frame(0x22);
    send(&inject, &sent);
    let got = recv_until(&capture, |f| (f.len() >= 47 && f[46] == 0x22) || (f.len() == 60 && f[42] == 0x22)).expect("forwarded frame");
    let mut want = Vec::new();
    want.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x02, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01]);
    want.extend_from_slice(&[0x81, 0x00, 0x60, 0x0a]); // TPID, pcp 3 vid 10
    want.extend_from_slice(&sent[12..]);
    // The capture socket may see the tag in-band or stripped (auxdata); accept the in-band form
    // or the stripped one with the rest intact.
    if got.len() == want.len() {
        assert_eq!(got, want, "byte-exact: rewritten MAC, tag, untouched payload");
    } else {
        assert_eq!(&got[..6], &want[..6]);
        assert_eq!(&got[6..12], &want[6..12]);
        assert_eq!(&got[12..], &sent[12..]);
    }
    let f = dp.flow_get(FlowId::Ufid(&ufid)).unwrap();
    assert!(f.stats.n_packets >= 1 && f.stats.n_bytes >= 60, "{:?}", f.stats);
    let info = dp.info().unwrap();
    assert!(info.stats.n_hit >= 1 && info.stats.n_missed >= 1, "{:?}", info.stats);

    // execute: a frame from userspace, out port 2 untouched.
    let exec_frame = udp_frame(0x33);
    let md = {
        let mut b = vec![0u8; 64];
        let mut w = rvs_core::nla::Writer::new(&mut b);
        w.put_u32(rvs_core::ovs_abi::OVS_KEY_ATTR_IN_PORT, 1).unwrap();
        w.written().to_vec()
    };
    dp.execute(&Execute { packet: &exec_frame, key: &md, actions: &actions("2"), mru: None, probe: false }).unwrap();
    let got = recv_until(&capture, |f| f.len() >= 43 && f[42] == 0x33).expect("executed frame");
    assert_eq!(got, exec_frame);

    // Deleting the flow stops forwarding.
    dp.flow_del(FlowId::Ufid(&ufid)).unwrap();
    send(&inject, &udp_frame(0x44));
    assert!(recv_until(&capture, |f| (f.len() >= 43 && f[42] == 0x44) || (f.len() >= 47 && f[46] == 0x44)).is_none());
    dp.destroy().unwrap();
    drop(dp);
    let gone = Command::new("ip").args(["link", "show", &dpname]).output().unwrap();
    assert!(!gone.status.success(), "local tap removed");
}

/// A miss handler for the test: forwards to port 2 and installs an in_port+eth_type megaflow,
/// recording the marker byte of every packet it sees.
struct ToPort2 {
    seen: std::sync::Mutex<Vec<(u32, u8)>>,
}

impl rvs_dpif::netdev::miss::MissHandler for ToPort2 {
    fn miss(&self, key: &rvs_core::key::FlowKey, packet: &[u8], reply: &mut rvs_dpif::netdev::miss::MissReply) {
        self.seen.lock().unwrap().push((key.in_port(), packet.get(42).copied().unwrap_or(0)));
        reply.actions = actions("2");
        let mut mask = rvs_core::key::FlowKey::ZERO;
        mask.set_in_port(u32::MAX);
        mask.set_eth_type(u16::MAX);
        reply.install = Some(rvs_dpif::netdev::miss::Megaflow { key: *key, mask, ufid: [7u8; 16] });
    }
}

/// With a miss handler the poll thread translates, installs and executes a miss itself: the
/// frame goes out at once, the next one hits the installed flow, no upcall is queued.
#[test]
fn inline_misses_install_and_execute_in_the_poll_thread() {
    if !root() {
        eprintln!("skipped: needs root and /dev/net/tun");
        return;
    }
    let pid = std::process::id() % 10000;
    let (a0, a1, b0, b1) = (format!("rvia{pid}"), format!("rviA{pid}"), format!("rvib{pid}"), format!("rviB{pid}"));
    let _guard = Veths(vec![a0.clone(), b0.clone()]);
    veth(&a0, &a1);
    veth(&b0, &b1);
    let mut dp = UserspaceDpif::create(&format!("rvid{pid}")).unwrap();
    dp.port_add(&PortSpec { name: a0.clone(), port_type: PortType::Netdev, port_no: Some(1), dst_port: None }).unwrap();
    dp.port_add(&PortSpec { name: b0.clone(), port_type: PortType::Netdev, port_no: Some(2), dst_port: None }).unwrap();
    let (inject, capture) = (raw(&a1), raw(&b1));
    let mut handlers = dp.recv_set(1).unwrap();
    let h = std::sync::Arc::new(ToPort2 { seen: std::sync::Mutex::new(Vec::new()) });
    dp.set_miss_handler(Some(h.clone()));

    send(&inject, &udp_frame(0x51));
    let got = recv_until(&capture, |f| f.len() >= 43 && f[42] == 0x51).expect("the miss is executed");
    assert_eq!(got, udp_frame(0x51));
    assert_eq!(h.seen.lock().unwrap().iter().filter(|(_, m)| *m == 0x51).count(), 1);
    assert!(h.seen.lock().unwrap().iter().all(|(p, _)| *p == 1), "key names the input port");
    let f = dp.flow_get(FlowId::Ufid(&[7u8; 16])).expect("megaflow installed");
    assert_eq!(f.actions, actions("2"));

    send(&inject, &udp_frame(0x52));
    recv_until(&capture, |f| f.len() >= 43 && f[42] == 0x52).expect("forwarded by the flow");
    assert!(!h.seen.lock().unwrap().iter().any(|(_, m)| *m == 0x52), "a hit does not reach the handler");
    let c = dp.miss_counts();
    assert!(c.handled >= 1 && c.installed == 1 && c.put_errors == 0, "{c:?}");
    assert!(!handlers[0].wait(200).unwrap(), "no upcall was queued");

    // Without the handler, misses are upcalls again.
    dp.set_miss_handler(None);
    dp.flow_flush().unwrap();
    send(&inject, &udp_frame(0x53));
    assert!(handlers[0].wait(3000).unwrap(), "miss upcall arrives");
    dp.destroy().unwrap();
}

/// Packets of class 1:2 that `tc` counted on `dev`.
fn tc_class_packets(dev: &str, class: &str) -> u64 {
    let out = Command::new("tc").args(["-s", "class", "show", "dev", dev]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if l.contains(&format!("class htb {class} ")) {
            for l in lines.by_ref() {
                if let Some(rest) = l.trim().strip_prefix("Sent ") {
                    let pk = rest.split_whitespace().nth(2).unwrap_or("0");
                    return pk.parse().unwrap_or(0);
                }
            }
        }
    }
    0
}

/// `set(skb_priority)` reaches the output device (per-packet `SO_PRIORITY`, Linux 6.14+): an htb
/// qdisc on the output port classifies by it, as with the kernel datapath's QoS queues.
#[test]
fn skb_priority_selects_the_tc_class_on_output() {
    if !root() {
        eprintln!("skipped: needs root and /dev/net/tun");
        return;
    }
    let pid = std::process::id() % 10000;
    let (a0, a1, b0, b1) = (format!("rvqa{pid}"), format!("rvqA{pid}"), format!("rvqb{pid}"), format!("rvqB{pid}"));
    let _guard = Veths(vec![a0.clone(), b0.clone()]);
    veth(&a0, &a1);
    veth(&b0, &b1);
    let tc = |args: &[&str]| assert!(Command::new("tc").args(args).status().unwrap().success(), "tc {args:?}");
    tc(&["qdisc", "add", "dev", &b0, "root", "handle", "1:", "htb", "default", "1"]);
    tc(&["class", "add", "dev", &b0, "parent", "1:", "classid", "1:1", "htb", "rate", "1gbit"]);
    tc(&["class", "add", "dev", &b0, "parent", "1:", "classid", "1:2", "htb", "rate", "1gbit"]);
    let mut dp = UserspaceDpif::create(&format!("rvqd{pid}")).unwrap();
    dp.port_add(&PortSpec { name: a0.clone(), port_type: PortType::Netdev, port_no: Some(1), dst_port: None }).unwrap();
    dp.port_add(&PortSpec { name: b0.clone(), port_type: PortType::Netdev, port_no: Some(2), dst_port: None }).unwrap();
    let (inject, capture) = (raw(&a1), raw(&b1));
    let (key, mask) = attrs("in_port(1),eth(),eth_type(0x0800),ipv4()");
    let acts = actions("set(skb_priority(0x10002)),2");
    dp.flow_put(&FlowPut { key: &key, mask: Some(&mask), actions: &acts, ufid: Some(&[3u8; 16]), flags: PutFlags { create: true, ..Default::default() } })
        .unwrap();
    let before = tc_class_packets(&b0, "1:2");
    for i in 0..20u8 {
        send(&inject, &udp_frame(0x60 + i));
    }
    recv_until(&capture, |f| f.len() >= 43 && f[42] == 0x60 + 19).expect("forwarded");
    let after = tc_class_packets(&b0, "1:2");
    if rvs_dpif::netdev::sys::per_packet_priority() {
        assert!(after >= before + 20, "class 1:2 counted the frames: {before} -> {after}");
    } else {
        eprintln!("this kernel refuses per-packet SO_PRIORITY (before 6.14): frames left in the default class");
        assert_eq!(after, before);
    }
    dp.destroy().unwrap();
}
