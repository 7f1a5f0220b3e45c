//! Bridge-level IPFIX export (RFC 7011) for one bridge (`Bridge.ipfix` → an `IPFIX` row):
//! packet sampling through the datapath's `sample(probability, userspace(cookie))` action, as
//! sFlow does, and for every sampled packet one data record (the packet's L2/L3/L4 keys, its
//! input and output OpenFlow ports, 1 packet / its bytes, the observation point) sent to every UDP
//! target, under observation domain `obs_domain_id`. The template ([`TEMPLATE_ID`]) goes with
//! the first message and again every [`TEMPLATE_RESEND_S`] seconds (UDP transport, §8.4).
//!
//! Unlike Open vSwitch, no flow cache aggregates samples into flows (`cache_active_timeout`,
//! `cache_max_flows` are not used): each sample is its own record with packetDeltaCount 1.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::Mutex;

use rvs_core::actions::{Action, ActionList, Userspace};

use crate::odp::ActionBuf;

/// Default `sampling` (1 in N packets), as Open vSwitch.
pub const DEFAULT_SAMPLING: u32 = 400;
/// The data template's ID.
pub const TEMPLATE_ID: u16 = 256;
/// How often the template is sent again.
pub const TEMPLATE_RESEND_S: u64 = 10;
/// Output port value for a packet that is dropped or sent to several ports.
pub const OUT_NONE: u32 = 0;

/// An `IPFIX` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpfixCfg {
    /// `targets` (`IP:PORT`).
    pub targets: Vec<String>,
    /// `sampling`.
    pub sampling: u32,
    /// `obs_domain_id`.
    pub obs_domain_id: u32,
    /// `obs_point_id`.
    pub obs_point_id: u32,
}

/// The `userspace` action's cookie for an IPFIX sample; its value is the output OpenFlow port ([`OUT_NONE`] if
/// none or several).
pub type Cookie = super::SampleCookie<b'I', b'X'>;

/// Template fields: (information element ID, length).
const FIELDS: &[(u16, u16)] = &[
    (138, 4), // observationPointId
    (10, 4),  // ingressInterface (OpenFlow port)
    (14, 4),  // egressInterface (OpenFlow port)
    (56, 6),  // sourceMacAddress
    (80, 6),  // destinationMacAddress
    (256, 2), // ethernetType
    (58, 2),  // vlanId
    (8, 4),   // sourceIPv4Address
    (12, 4),  // destinationIPv4Address
    (4, 1),   // protocolIdentifier
    (7, 2),   // sourceTransportPort
    (11, 2),  // destinationTransportPort
    (2, 8),   // packetDeltaCount
    (1, 8),   // octetDeltaCount
    (305, 4), // samplingPacketInterval
    (152, 8), // flowStartMilliseconds
];

/// The keys of one sampled packet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacketKeys {
    /// Source MAC.
    pub src_mac: [u8; 6],
    /// Destination MAC.
    pub dst_mac: [u8; 6],
    /// Ethertype after any 802.1Q tag.
    pub eth_type: u16,
    /// VLAN ID (0 untagged).
    pub vlan: u16,
    /// IPv4 source (zero if not IPv4).
    pub src_ip: [u8; 4],
    /// IPv4 destination.
    pub dst_ip: [u8; 4],
    /// IP protocol.
    pub proto: u8,
    /// TCP/UDP source port.
    pub src_port: u16,
    /// TCP/UDP destination port.
    pub dst_port: u16,
}

impl PacketKeys {
    /// Parses an Ethernet frame (as far as it is there).
    pub fn parse(p: &[u8]) -> PacketKeys {
        let mut k = PacketKeys::default();
        if p.len() < 14 {
            return k;
        }
        k.dst_mac.copy_from_slice(&p[0..6]);
        k.src_mac.copy_from_slice(&p[6..12]);
        let mut off = 12;
        let mut et = u16::from_be_bytes([p[12], p[13]]);
        if (et == 0x8100 || et == 0x88a8) && p.len() >= 18 {
            k.vlan = u16::from_be_bytes([p[14], p[15]]) & 0x0fff;
            et = u16::from_be_bytes([p[16], p[17]]);
            off = 16;
        }
        k.eth_type = et;
        let ip = off + 2;
        if et != 0x0800 || p.len() < ip + 20 || p[ip] >> 4 != 4 {
            return k;
        }
        let ihl = usize::from(p[ip] & 0x0f) * 4;
        k.proto = p[ip + 9];
        k.src_ip.copy_from_slice(&p[ip + 12..ip + 16]);
        k.dst_ip.copy_from_slice(&p[ip + 16..ip + 20]);
        let frag = u16::from_be_bytes([p[ip + 6], p[ip + 7]]) & 0x1fff;
        let l4 = ip + ihl;
        if frag == 0 && matches!(k.proto, 6 | 17 | 132) && p.len() >= l4 + 4 {
            k.src_port = u16::from_be_bytes([p[l4], p[l4 + 1]]);
            k.dst_port = u16::from_be_bytes([p[l4 + 2], p[l4 + 3]]);
        }
        k
    }
}

fn set(id: u16, body: &[u8]) -> Vec<u8> {
    let mut s = Vec::with_capacity(4 + body.len());
    s.extend_from_slice(&id.to_be_bytes());
    s.extend_from_slice(&u16::try_from(4 + body.len()).unwrap_or(u16::MAX).to_be_bytes());
    s.extend_from_slice(body);
    s
}

/// The template set (set ID 2) describing [`TEMPLATE_ID`].
pub fn template_set() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&TEMPLATE_ID.to_be_bytes());
    b.extend_from_slice(&u16::try_from(FIELDS.len()).unwrap_or(0).to_be_bytes());
    for (id, len) in FIELDS {
        b.extend_from_slice(&id.to_be_bytes());
        b.extend_from_slice(&len.to_be_bytes());
    }
    set(2, &b)
}

/// One data record of [`TEMPLATE_ID`].
pub fn data_record(cfg: &IpfixCfg, k: &PacketKeys, in_port: u32, out_port: u32, bytes: u64, now_ms: u64) -> Vec<u8> {
    let mut r = Vec::with_capacity(80);
    r.extend_from_slice(&cfg.obs_point_id.to_be_bytes());
    r.extend_from_slice(&in_port.to_be_bytes());
    r.extend_from_slice(&out_port.to_be_bytes());
    r.extend_from_slice(&k.src_mac);
    r.extend_from_slice(&k.dst_mac);
    r.extend_from_slice(&k.eth_type.to_be_bytes());
    r.extend_from_slice(&k.vlan.to_be_bytes());
    r.extend_from_slice(&k.src_ip);
    r.extend_from_slice(&k.dst_ip);
    r.push(k.proto);
    r.extend_from_slice(&k.src_port.to_be_bytes());
    r.extend_from_slice(&k.dst_port.to_be_bytes());
    r.extend_from_slice(&1u64.to_be_bytes());
    r.extend_from_slice(&bytes.to_be_bytes());
    r.extend_from_slice(&cfg.sampling.to_be_bytes());
    r.extend_from_slice(&now_ms.to_be_bytes());
    r
}

/// An IPFIX message (version 10) with `sets`.
pub fn message(export_time: u32, seq: u32, domain: u32, sets: &[Vec<u8>]) -> Vec<u8> {
    let len: usize = 16 + sets.iter().map(Vec::len).sum::<usize>();
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&10u16.to_be_bytes());
    m.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
    m.extend_from_slice(&export_time.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&domain.to_be_bytes());
    for s in sets {
        m.extend_from_slice(s);
    }
    m
}

#[derive(Debug, Default)]
struct State {
    /// Data records sent so far (the message sequence number, §3.1).
    records: u32,
    /// When the template was last sent (`None`: never).
    template_at: Option<std::time::Instant>,
}

/// One bridge's exporter.
#[derive(Debug)]
pub struct Exporter {
    /// Configuration.
    pub cfg: IpfixCfg,
    targets: Vec<SocketAddr>,
    sock: Option<UdpSocket>,
    state: Mutex<State>,
}

fn wall_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0))
}

impl Exporter {
    /// An exporter for `cfg`, with the problems found (unresolvable targets...).
    pub fn new(cfg: IpfixCfg) -> (Exporter, Vec<String>) {
        let mut errors = Vec::new();
        let mut targets = Vec::new();
        for t in &cfg.targets {
            match t.to_socket_addrs().map(|mut a| a.find(SocketAddr::is_ipv4)) {
                Ok(Some(a)) => targets.push(a),
                Ok(None) => errors.push(format!("ipfix target {t}: no IPv4 address")),
                Err(e) => errors.push(format!("ipfix target {t}: {e}")),
            }
        }
        let sock = UdpSocket::bind("0.0.0.0:0").map_err(|e| errors.push(format!("ipfix: opening a UDP socket: {e}"))).ok();
        (Exporter { cfg, targets, sock, state: Mutex::new(State::default()) }, errors)
    }

    /// Appends `sample(1/sampling, userspace(pid, cookie))` to `buf`.
    pub fn push_sample_action(&self, buf: &mut ActionBuf, pid: u32, output: u32) {
        let cookie = Cookie { output }.encode();
        let mut inner = ActionBuf::default();
        inner.push(&Action::Userspace(Userspace { pid, userdata: Some(&cookie), egress_tun_port: None, include_actions: false }));
        let probability = u32::MAX / self.cfg.sampling.max(1);
        buf.push(&Action::Sample { probability, actions: ActionList(inner.bytes()) });
    }

    /// Exports one sampled packet that came in on OpenFlow port `in_port`.
    pub fn packet_sample(&self, packet: &[u8], orig_len: Option<u32>, in_port: u32, out_port: u32) {
        let now = wall_ms();
        let bytes = orig_len.map_or(packet.len() as u64, u64::from);
        let rec = data_record(&self.cfg, &PacketKeys::parse(packet), in_port, out_port, bytes, now);
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut sets = Vec::with_capacity(2);
        if st.template_at.is_none_or(|t| t.elapsed().as_secs() >= TEMPLATE_RESEND_S) {
            sets.push(template_set());
            st.template_at = Some(std::time::Instant::now());
        }
        sets.push(set(TEMPLATE_ID, &rec));
        let m = message(u32::try_from(now / 1000).unwrap_or(u32::MAX), st.records, self.cfg.obs_domain_id, &sets);
        st.records = st.records.wrapping_add(1);
        if let Some(s) = &self.sock {
            for t in &self.targets {
                if let Err(e) = s.send_to(&m, t) {
                    crate::dbg_log!("ipfix", "sending to {t}: {e}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udp_frame() -> Vec<u8> {
        let mut p = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
        p.extend_from_slice(&[0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        p.extend_from_slice(&[0x30, 0x39, 0, 9, 0, 8, 0, 0]);
        p
    }

    #[test]
    fn cookie_round_trip() {
        let c = Cookie { output: 7 };
        assert_eq!(Cookie::decode(&c.encode()), Some(c));
        assert_eq!(Cookie::decode(b"SF\0\0\0\0\0\x07"), None);
    }

    #[test]
    fn parses_keys() {
        let k = PacketKeys::parse(&udp_frame());
        assert_eq!(k.src_mac, [2, 0, 0, 0, 0, 1]);
        assert_eq!((k.eth_type, k.proto, k.src_ip, k.dst_ip, k.src_port, k.dst_port), (0x0800, 17, [10, 0, 0, 1], [10, 0, 0, 2], 12345, 9));
        let mut tagged = udp_frame();
        tagged.splice(12..12, [0x81, 0x00, 0x00, 0x0a]);
        let t = PacketKeys::parse(&tagged);
        assert_eq!((t.vlan, t.dst_port), (10, 9));
        assert_eq!(PacketKeys::parse(&[1, 2, 3]), PacketKeys::default());
    }

    #[test]
    fn record_matches_template() {
        let cfg = IpfixCfg { targets: vec![], sampling: 3, obs_domain_id: 5, obs_point_id: 6 };
        let r = data_record(&cfg, &PacketKeys::parse(&udp_frame()), 1, 2, 42, 1000);
        let want: usize = FIELDS.iter().map(|(_, l)| usize::from(*l)).sum();
        assert_eq!(r.len(), want);
        let t = template_set();
        assert_eq!(u16::from_be_bytes([t[0], t[1]]), 2);
        assert_eq!(usize::from(u16::from_be_bytes([t[2], t[3]])), t.len());
        assert_eq!(u16::from_be_bytes([t[6], t[7]]) as usize, FIELDS.len());
        let m = message(9, 4, 5, &[t.clone(), set(TEMPLATE_ID, &r)]);
        assert_eq!(u16::from_be_bytes([m[0], m[1]]), 10);
        assert_eq!(usize::from(u16::from_be_bytes([m[2], m[3]])), m.len());
        assert_eq!(u32::from_be_bytes(m[12..16].try_into().unwrap()), 5, "observation domain");
    }
}
