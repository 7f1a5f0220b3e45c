//! sFlow v5 agent for one bridge (the `sFlow` table): packet sampling through the datapath's
//! `sample(probability, userspace(cookie))` action, which translation puts in front of every flow
//! of the bridge, and periodic generic interface counters of the bridge's ports, each sent as a
//! datagram to every UDP target.
//!
//! Interfaces are identified by their Linux ifindex, as Open vSwitch does. The agent address is
//! the `agent` column when it is an IPv4 address; otherwise (absent, or an interface name) it is
//! the address the host uses to reach the first collector.

use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::Mutex;

use rvs_core::actions::{Action, ActionList, Userspace};

use crate::odp::ActionBuf;
use crate::ofproto::BridgeConfig;

/// Default `sampling` (1 in N packets).
pub const DEFAULT_SAMPLING: u32 = 400;
/// Default `polling` (seconds between counter samples; 0 disables them).
pub const DEFAULT_POLLING_S: u64 = 30;
/// Default `header` (bytes of each sampled packet sent).
pub const DEFAULT_HEADER: usize = 128;
/// sFlow's "packet was dropped" output value.
pub const OUT_DISCARD: u32 = 0x4000_0000;
/// sFlow's "sent to several interfaces" flag (low bits: how many).
pub const OUT_MULTIPLE: u32 = 0x8000_0000;

/// An `sFlow` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SflowCfg {
    /// `targets` (`IP:PORT` or `HOST:PORT`).
    pub targets: Vec<String>,
    /// `sampling`.
    pub sampling: u32,
    /// `polling` (seconds).
    pub polling_s: u64,
    /// `header` (bytes).
    pub header: usize,
    /// `agent`.
    pub agent: Option<String>,
}

/// The `userspace` action's cookie for an sFlow sample; its value is the sFlow output interface value.
pub type Cookie = super::SampleCookie<b'S', b'F'>;

/// A device's ifindex (0 if unknown).
pub fn ifindex(dev: &str) -> u32 {
    sys_read(dev, "ifindex").unwrap_or(0) as u32
}

fn sys_read(dev: &str, what: &str) -> Option<u64> {
    if dev.contains('/') || dev.starts_with('.') {
        return None;
    }
    std::fs::read_to_string(format!("/sys/class/net/{dev}/{what}")).ok()?.trim().parse().ok()
}

/// The sFlow output value for a flow sending to `devs`.
pub fn output_ifindex(devs: &[&str]) -> u32 {
    match devs {
        [] => OUT_DISCARD,
        [d] => ifindex(d),
        many => OUT_MULTIPLE | u32::try_from(many.len()).unwrap_or(0),
    }
}

#[derive(Debug, Default)]
struct State {
    datagram_seq: u32,
    flow_seq: u32,
    counter_seq: u32,
    pool: u32,
    last_poll_ms: u64,
}

/// One bridge's agent.
#[derive(Debug)]
pub struct Agent {
    /// Configuration.
    pub cfg: SflowCfg,
    targets: Vec<SocketAddr>,
    sock: Option<UdpSocket>,
    agent_ip: Ipv4Addr,
    boot: std::time::Instant,
    state: Mutex<State>,
}

impl Agent {
    /// An agent for `cfg`, with the problems found (unresolvable targets...).
    pub fn new(cfg: SflowCfg) -> (Agent, Vec<String>) {
        let mut errors = Vec::new();
        let mut targets = Vec::new();
        for t in &cfg.targets {
            match t.to_socket_addrs().map(|mut a| a.find(SocketAddr::is_ipv4)) {
                Ok(Some(a)) => targets.push(a),
                Ok(None) => errors.push(format!("sflow target {t}: no IPv4 address")),
                Err(e) => errors.push(format!("sflow target {t}: {e}")),
            }
        }
        let sock = UdpSocket::bind("0.0.0.0:0").map_err(|e| errors.push(format!("sflow: opening a UDP socket: {e}"))).ok();
        let agent_ip = cfg.agent.as_deref().and_then(|a| a.parse().ok()).or_else(|| {
            let s = UdpSocket::bind("0.0.0.0:0").ok()?;
            s.connect(targets.first()?).ok()?;
            match s.local_addr().ok()? {
                SocketAddr::V4(a) => Some(*a.ip()),
                SocketAddr::V6(_) => None,
            }
        });
        let agent_ip = agent_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
        (Agent { cfg, targets, sock, agent_ip, boot: std::time::Instant::now(), state: Mutex::new(State::default()) }, errors)
    }

    /// Appends `sample(1/sampling, userspace(pid, cookie))` to `buf`.
    pub fn push_sample_action(&self, buf: &mut ActionBuf, pid: u32, output: u32) {
        let cookie = Cookie { output }.encode();
        let mut inner = ActionBuf::default();
        inner.push(&Action::Userspace(Userspace { pid, userdata: Some(&cookie), egress_tun_port: None, include_actions: false }));
        let probability = u32::MAX / self.cfg.sampling.max(1);
        buf.push(&Action::Sample { probability, actions: ActionList(inner.bytes()) });
    }

    fn uptime(&self) -> u32 {
        u32::try_from(self.boot.elapsed().as_millis()).unwrap_or(u32::MAX)
    }

    fn send(&self, st: &mut State, samples: &[Vec<u8>]) {
        st.datagram_seq = st.datagram_seq.wrapping_add(1);
        let d = datagram(self.agent_ip, st.datagram_seq, self.uptime(), samples);
        if let Some(s) = &self.sock {
            for t in &self.targets {
                if let Err(e) = s.send_to(&d, t) {
                    crate::dbg_log!("sflow", "sending to {t}: {e}");
                }
            }
        }
    }

    /// Sends a flow sample for a sampled packet that came in on `in_if`.
    pub fn packet_sample(&self, packet: &[u8], orig_len: Option<u32>, in_if: u32, out_if: u32) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.flow_seq = st.flow_seq.wrapping_add(1);
        st.pool = st.pool.wrapping_add(self.cfg.sampling);
        let frame_len = orig_len.unwrap_or(u32::try_from(packet.len()).unwrap_or(u32::MAX));
        let hdr = &packet[..packet.len().min(self.cfg.header)];
        let s = flow_sample(st.flow_seq, in_if, self.cfg.sampling, st.pool, in_if, out_if, frame_len, hdr);
        self.send(&mut st, &[s]);
    }

    /// Sends the bridge's interface counters if `polling` seconds passed since the last time.
    pub fn poll_counters(&self, cfg: &BridgeConfig, now_ms: u64) {
        if self.cfg.polling_s == 0 {
            return;
        }
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.last_poll_ms != 0 && now_ms.saturating_sub(st.last_poll_ms) < self.cfg.polling_s * 1000 {
            return;
        }
        st.last_poll_ms = now_ms;
        let mut samples = Vec::new();
        for p in cfg.ports.values() {
            let c = IfCounters::read(&p.name);
            if c.ifindex == 0 {
                continue;
            }
            st.counter_seq = st.counter_seq.wrapping_add(1);
            samples.push(counter_sample(st.counter_seq, &c));
        }
        for chunk in samples.chunks(8) {
            self.send(&mut st, chunk);
        }
    }
}

fn put32(d: &mut Vec<u8>, v: u32) {
    d.extend_from_slice(&v.to_be_bytes());
}

fn put64(d: &mut Vec<u8>, v: u64) {
    d.extend_from_slice(&v.to_be_bytes());
}

/// An sFlow v5 datagram with `samples` (each a complete sample record).
pub fn datagram(agent: Ipv4Addr, seq: u32, uptime_ms: u32, samples: &[Vec<u8>]) -> Vec<u8> {
    let mut d = Vec::new();
    put32(&mut d, 5);
    put32(&mut d, 1); // IPv4 agent address
    d.extend_from_slice(&agent.octets());
    put32(&mut d, 0); // sub-agent
    put32(&mut d, seq);
    put32(&mut d, uptime_ms);
    put32(&mut d, u32::try_from(samples.len()).unwrap_or(0));
    for s in samples {
        d.extend_from_slice(s);
    }
    d
}

fn record(format: u32, body: &[u8]) -> Vec<u8> {
    let mut d = Vec::with_capacity(8 + body.len());
    put32(&mut d, format);
    put32(&mut d, u32::try_from(body.len()).unwrap_or(0));
    d.extend_from_slice(body);
    d
}

/// A flow sample (format 1) holding one raw packet header record (format 1).
#[allow(clippy::too_many_arguments)]
pub fn flow_sample(seq: u32, source: u32, rate: u32, pool: u32, input: u32, output: u32, frame_len: u32, header: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    put32(&mut h, 1); // header protocol: Ethernet
    put32(&mut h, frame_len);
    put32(&mut h, 0); // stripped
    put32(&mut h, u32::try_from(header.len()).unwrap_or(0));
    h.extend_from_slice(header);
    while h.len() % 4 != 0 {
        h.push(0);
    }
    let mut s = Vec::new();
    put32(&mut s, seq);
    put32(&mut s, source & 0x00ff_ffff);
    put32(&mut s, rate);
    put32(&mut s, pool);
    put32(&mut s, 0); // drops
    put32(&mut s, input);
    put32(&mut s, output);
    put32(&mut s, 1);
    s.extend_from_slice(&record(1, &h));
    record(1, &s)
}

/// Generic interface counters of one device.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IfCounters {
    /// ifIndex.
    pub ifindex: u32,
    /// Speed in bits per second (0 unknown).
    pub speed: u64,
    /// Administratively up (bit 0) / link up (bit 1).
    pub status: u32,
    /// Received bytes.
    pub in_octets: u64,
    /// Received unicast packets (all received packets minus multicast).
    pub in_ucast: u32,
    /// Received multicast packets.
    pub in_mcast: u32,
    /// Receive drops.
    pub in_discards: u32,
    /// Receive errors.
    pub in_errors: u32,
    /// Sent bytes.
    pub out_octets: u64,
    /// Sent packets.
    pub out_ucast: u32,
    /// Send drops.
    pub out_discards: u32,
    /// Send errors.
    pub out_errors: u32,
}

impl IfCounters {
    /// Reads `dev`'s counters from sysfs (ifindex 0 if the device is gone).
    pub fn read(dev: &str) -> IfCounters {
        let s = |w: &str| sys_read(dev, &format!("statistics/{w}")).unwrap_or(0);
        let lo = |v: u64| v as u32; // sFlow's 32-bit counters wrap
        let flags = std::fs::read_to_string(format!("/sys/class/net/{dev}/flags")).ok().and_then(|f| u32::from_str_radix(f.trim().trim_start_matches("0x"), 16).ok()).unwrap_or(0);
        let oper_up = std::fs::read_to_string(format!("/sys/class/net/{dev}/operstate")).is_ok_and(|o| o.trim() == "up");
        IfCounters {
            ifindex: ifindex(dev),
            speed: sys_read(dev, "speed").map_or(0, |m| m.saturating_mul(1_000_000)),
            status: (flags & 1) | (u32::from(oper_up) << 1),
            in_octets: s("rx_bytes"),
            in_ucast: lo(s("rx_packets").saturating_sub(s("multicast"))),
            in_mcast: lo(s("multicast")),
            in_discards: lo(s("rx_dropped")),
            in_errors: lo(s("rx_errors")),
            out_octets: s("tx_bytes"),
            out_ucast: lo(s("tx_packets")),
            out_discards: lo(s("tx_dropped")),
            out_errors: lo(s("tx_errors")),
        }
    }
}

/// A counter sample (format 2) with one generic interface counters record (format 1, 88 bytes).
pub fn counter_sample(seq: u32, c: &IfCounters) -> Vec<u8> {
    let mut g = Vec::with_capacity(88);
    put32(&mut g, c.ifindex);
    put32(&mut g, 6); // ethernetCsmacd
    put64(&mut g, c.speed);
    put32(&mut g, 1); // full duplex
    put32(&mut g, c.status);
    put64(&mut g, c.in_octets);
    for v in [c.in_ucast, c.in_mcast, 0, c.in_discards, c.in_errors, 0] {
        put32(&mut g, v);
    }
    put64(&mut g, c.out_octets);
    for v in [c.out_ucast, 0, 0, c.out_discards, c.out_errors, 0] {
        put32(&mut g, v);
    }
    let mut s = Vec::new();
    put32(&mut s, seq);
    put32(&mut s, c.ifindex & 0x00ff_ffff);
    put32(&mut s, 1);
    s.extend_from_slice(&record(1, &g));
    record(2, &s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_round_trip() {
        let c = Cookie { output: 0x8000_0002 };
        assert_eq!(Cookie::decode(&c.encode()), Some(c));
        assert_eq!(Cookie::decode(b"XX\0\0\0\0\0\0"), None);
        assert_eq!(Cookie::decode(b"SF"), None);
    }

    #[test]
    fn layouts() {
        let c = IfCounters { ifindex: 7, in_octets: 1000, ..Default::default() };
        let cs = counter_sample(3, &c);
        assert_eq!(cs.len(), 8 + 12 + 8 + 88);
        assert_eq!(&cs[0..4], &2u32.to_be_bytes());
        assert_eq!(&cs[28..32], &7u32.to_be_bytes(), "ifIndex");
        let fs = flow_sample(1, 4, 400, 400, 4, 5, 98, &[0xaa; 14]);
        // sample header 8 + 32 + record header 8 + 16 + 14 padded to 16
        assert_eq!(fs.len(), 8 + 32 + 8 + 16 + 16);
        assert_eq!(&fs[8 + 20..8 + 28], &[0, 0, 0, 4, 0, 0, 0, 5]);
        let d = datagram(Ipv4Addr::new(10, 0, 0, 9), 1, 5, &[fs.clone(), cs]);
        assert_eq!(&d[8..12], &[10, 0, 0, 9]);
        assert_eq!(&d[24..28], &2u32.to_be_bytes());
        assert_eq!(&d[28..28 + fs.len()], fs.as_slice());
    }

    #[test]
    fn sample_action_encodes() {
        let cfg = SflowCfg { targets: vec![], sampling: 4, polling_s: 0, header: 64, agent: Some("10.0.0.1".into()) };
        let (a, errs) = Agent::new(cfg);
        assert!(errs.is_empty());
        let mut b = ActionBuf::default();
        a.push_sample_action(&mut b, 77, 3);
        let acts: Vec<_> = ActionList(b.bytes()).iter().collect::<Result<_, _>>().unwrap();
        match acts.as_slice() {
            [Action::Sample { probability, actions }] => {
                assert_eq!(*probability, u32::MAX / 4);
                let inner: Vec<_> = actions.iter().collect::<Result<_, _>>().unwrap();
                match inner.as_slice() {
                    [Action::Userspace(u)] => {
                        assert_eq!(u.pid, 77);
                        assert_eq!(u.userdata.and_then(Cookie::decode), Some(Cookie { output: 3 }));
                    }
                    o => panic!("{o:?}"),
                }
            }
            o => panic!("{o:?}"),
        }
    }
}
