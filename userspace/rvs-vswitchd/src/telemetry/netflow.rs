//! NetFlow v5 export for one bridge (the `NetFlow` table): per datapath flow it remembers what
//! was already reported, and turns the revalidator's flow dumps into v5 records — one when a flow
//! is deleted (expired), and one every `active_timeout` seconds for a flow that keeps seeing
//! traffic — sent in datagrams of at most 30 records to every UDP target.
//!
//! NetFlow v5 describes IPv4 flows by their 5-tuple and ToS, so a bridge with NetFlow makes
//! translation match those fields exactly on IPv4 flows ([`Exporter::mask_fields`]), as Open
//! vSwitch does: one datapath flow is then one NetFlow flow.

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use rvs_core::key::{field, FlowKey};
use rvs_core::ovs::key_nl::ETH_P_IP;

/// Records per datagram (the v5 maximum).
pub const MAX_RECORDS: usize = 30;
/// `active_timeout` 0 means this many seconds.
pub const DEFAULT_ACTIVE_TIMEOUT_S: u64 = 600;
/// Output interface of a flow that floods / outputs to several ports / drops.
pub const OUT_FLOOD: u16 = 0xffff;
/// See [`OUT_FLOOD`].
pub const OUT_MULTI: u16 = 0xfffe;
/// See [`OUT_FLOOD`].
pub const OUT_DROP: u16 = 0xfffd;

/// A `NetFlow` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetflowCfg {
    /// `targets` (`IP:PORT` or `HOST:PORT`).
    pub targets: Vec<String>,
    /// `engine_type` (default 0).
    pub engine_type: u8,
    /// `engine_id` (default 0).
    pub engine_id: u8,
    /// `add_id_to_interface`.
    pub add_id_to_interface: bool,
    /// Active timeout in seconds (`None`: disabled, `active_timeout` = -1).
    pub active_timeout_s: Option<u64>,
}

/// The fields of one v5 record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Record {
    /// Source IPv4 address.
    pub src: u32,
    /// Destination IPv4 address.
    pub dst: u32,
    /// Input interface (OpenFlow port).
    pub input: u16,
    /// Output interface (OpenFlow port or one of the `OUT_*` values).
    pub output: u16,
    /// Packets.
    pub packets: u32,
    /// Bytes.
    pub bytes: u32,
    /// System uptime (ms) at the first packet.
    pub first: u32,
    /// System uptime (ms) at the last packet.
    pub last: u32,
    /// Transport source port (ICMP: type).
    pub src_port: u16,
    /// Transport destination port (ICMP: code).
    pub dst_port: u16,
    /// OR of the TCP flags.
    pub tcp_flags: u8,
    /// IP protocol.
    pub proto: u8,
    /// IP ToS.
    pub tos: u8,
}

/// A flow as the revalidator reports it.
#[derive(Debug, Clone, Copy)]
pub struct FlowReport<'a> {
    /// Flow identity (UFID or key bytes).
    pub id: &'a [u8],
    /// The flow's (unmasked-by-us) key as dumped.
    pub key: &'a FlowKey,
    /// Input OpenFlow port.
    pub in_ofport: u32,
    /// Output OpenFlow port or an `OUT_*` value.
    pub out_ofport: u16,
    /// Cumulative counters.
    pub packets: u64,
    /// Cumulative bytes.
    pub bytes: u64,
    /// TCP flags seen.
    pub tcp_flags: u8,
    /// Last use (datapath monotonic ms, 0 = never).
    pub used_ms: u64,
    /// Now (datapath monotonic ms).
    pub now_ms: u64,
    /// The flow is being deleted.
    pub deleted: bool,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    /// Packets and bytes of misses executed by the handlers (not in the datapath's counters).
    extra_packets: u64,
    extra_bytes: u64,
    first_ms: u64,
    reported_packets: u64,
    reported_bytes: u64,
    last_report_ms: u64,
    epoch: u64,
}

#[derive(Debug, Default)]
struct State {
    flows: HashMap<Vec<u8>, Seen>,
    pending: Vec<Record>,
    sequence: u32,
    epoch: u64,
}

/// One bridge's exporter.
#[derive(Debug)]
pub struct Exporter {
    /// Configuration.
    pub cfg: NetflowCfg,
    targets: Vec<SocketAddr>,
    sock: Option<UdpSocket>,
    boot_ms: u64,
    state: Mutex<State>,
}

impl Exporter {
    /// An exporter for `cfg`; targets that do not resolve are reported in the error list
    /// (the others still work).
    pub fn new(cfg: NetflowCfg, now_ms: u64) -> (Exporter, Vec<String>) {
        let mut errors = Vec::new();
        let mut targets = Vec::new();
        for t in &cfg.targets {
            match t.to_socket_addrs().map(|mut a| a.find(SocketAddr::is_ipv4)) {
                Ok(Some(a)) => targets.push(a),
                Ok(None) => errors.push(format!("netflow target {t}: no IPv4 address")),
                Err(e) => errors.push(format!("netflow target {t}: {e}")),
            }
        }
        let sock = match UdpSocket::bind("0.0.0.0:0") {
            Ok(s) => Some(s),
            Err(e) => {
                errors.push(format!("netflow: opening a UDP socket: {e}"));
                None
            }
        };
        (Exporter { cfg, targets, sock, boot_ms: now_ms, state: Mutex::new(State::default()) }, errors)
    }

    /// Makes translation match what a v5 record reports (IPv4 flows only).
    pub fn mask_fields(wc: &mut FlowKey, flow: &FlowKey) {
        if flow.eth_type() != ETH_P_IP {
            return;
        }
        for r in [field::IPV4_SRC, field::IPV4_DST, field::TP_SRC, field::TP_DST] {
            let len = r.len();
            wc.set_bytes(r, &vec![0xff; len]);
        }
        let b = wc.as_bytes_mut();
        b[field::IP_PROTO] = 0xff;
        b[field::IP_TOS] = 0xff;
    }

    fn uptime(&self, ms: u64) -> u32 {
        u32::try_from(ms.saturating_sub(self.boot_ms)).unwrap_or(u32::MAX)
    }

    fn iface(&self, port: u32) -> u16 {
        let p = u16::try_from(port).unwrap_or(OUT_MULTI);
        if self.cfg.add_id_to_interface && !matches!(p, OUT_FLOOD | OUT_MULTI | OUT_DROP) {
            (u16::from(self.cfg.engine_id & 0x7f) << 9) | (p & 0x1ff)
        } else {
            p
        }
    }

    /// Adds the packet of a miss on flow `id` (executed by the handler).
    pub fn miss_packet(&self, key: &FlowKey, id: &[u8], len: u64, now_ms: u64) {
        if key.eth_type() != ETH_P_IP {
            return;
        }
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let epoch = st.epoch;
        let s = st.flows.entry(id.to_vec()).or_insert(Seen {
            extra_packets: 0,
            extra_bytes: 0,
            first_ms: now_ms,
            reported_packets: 0,
            reported_bytes: 0,
            last_report_ms: now_ms,
            epoch,
        });
        s.extra_packets += 1;
        s.extra_bytes += len;
    }

    /// Notes one dumped flow; queues a record if it expired or its active timeout passed.
    pub fn flow(&self, f: &FlowReport<'_>) {
        if f.key.eth_type() != ETH_P_IP {
            return;
        }
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let epoch = st.epoch;
        let seen = st.flows.entry(f.id.to_vec()).or_insert(Seen {
            extra_packets: 0,
            extra_bytes: 0,
            first_ms: if f.used_ms != 0 { f.used_ms.min(f.now_ms) } else { f.now_ms },
            reported_packets: 0,
            reported_bytes: 0,
            last_report_ms: f.now_ms,
            epoch,
        });
        seen.epoch = epoch;
        let timed_out = self.cfg.active_timeout_s.is_some_and(|t| f.now_ms.saturating_sub(seen.last_report_ms) >= t * 1000);
        if !f.deleted && !timed_out {
            return;
        }
        let s = *seen;
        let (total_packets, total_bytes) = (f.packets + s.extra_packets, f.bytes + s.extra_bytes);
        if f.deleted {
            st.flows.remove(f.id);
        } else if let Some(x) = st.flows.get_mut(f.id) {
            x.reported_packets = total_packets.max(s.reported_packets);
            x.reported_bytes = total_bytes.max(s.reported_bytes);
            x.last_report_ms = f.now_ms;
            x.first_ms = f.now_ms;
        }
        let packets = total_packets.saturating_sub(s.reported_packets);
        if packets == 0 {
            return;
        }
        let last = if f.used_ms != 0 { f.used_ms } else { f.now_ms };
        let k = f.key;
        st.pending.push(Record {
            src: k.ipv4_src(),
            dst: k.ipv4_dst(),
            input: self.iface(f.in_ofport),
            output: if matches!(f.out_ofport, OUT_FLOOD | OUT_MULTI | OUT_DROP) { f.out_ofport } else { self.iface(u32::from(f.out_ofport)) },
            packets: u32::try_from(packets).unwrap_or(u32::MAX),
            bytes: u32::try_from(total_bytes.saturating_sub(s.reported_bytes)).unwrap_or(u32::MAX),
            first: self.uptime(s.first_ms),
            last: self.uptime(last),
            src_port: k.tp_src(),
            dst_port: k.tp_dst(),
            tcp_flags: f.tcp_flags,
            proto: k.ip_proto(),
            tos: k.ip_tos(),
        });
        if st.pending.len() >= MAX_RECORDS {
            self.flush_locked(&mut st, f.now_ms);
        }
    }

    /// Ends one dump: flows not seen in it are gone (deleted elsewhere) and forgotten; the
    /// queued records are sent.
    pub fn dump_done(&self, now_ms: u64) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let epoch = st.epoch;
        st.flows.retain(|_, s| s.epoch == epoch);
        st.epoch += 1;
        self.flush_locked(&mut st, now_ms);
    }

    fn flush_locked(&self, st: &mut State, now_ms: u64) {
        while !st.pending.is_empty() {
            let n = st.pending.len().min(MAX_RECORDS);
            let recs: Vec<Record> = st.pending.drain(..n).collect();
            let d = datagram(&recs, self.uptime(now_ms), SystemTime::now(), st.sequence, self.cfg.engine_type, self.cfg.engine_id);
            st.sequence = st.sequence.wrapping_add(u32::try_from(n).unwrap_or(0));
            if let Some(s) = &self.sock {
                for t in &self.targets {
                    if let Err(e) = s.send_to(&d, t) {
                        crate::dbg_log!("netflow", "sending to {t}: {e}");
                    }
                }
            }
        }
    }
}

/// Encodes one v5 datagram: the 24-byte header then 48 bytes per record.
pub fn datagram(recs: &[Record], uptime_ms: u32, now: SystemTime, sequence: u32, engine_type: u8, engine_id: u8) -> Vec<u8> {
    let t = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let mut d = Vec::with_capacity(24 + 48 * recs.len());
    d.extend_from_slice(&5u16.to_be_bytes());
    d.extend_from_slice(&u16::try_from(recs.len()).unwrap_or(0).to_be_bytes());
    d.extend_from_slice(&uptime_ms.to_be_bytes());
    d.extend_from_slice(&u32::try_from(t.as_secs()).unwrap_or(u32::MAX).to_be_bytes());
    d.extend_from_slice(&t.subsec_nanos().to_be_bytes());
    d.extend_from_slice(&sequence.to_be_bytes());
    d.push(engine_type);
    d.push(engine_id);
    d.extend_from_slice(&0u16.to_be_bytes()); // sampling interval: every packet
    for r in recs {
        d.extend_from_slice(&r.src.to_be_bytes());
        d.extend_from_slice(&r.dst.to_be_bytes());
        d.extend_from_slice(&0u32.to_be_bytes()); // next hop
        d.extend_from_slice(&r.input.to_be_bytes());
        d.extend_from_slice(&r.output.to_be_bytes());
        d.extend_from_slice(&r.packets.to_be_bytes());
        d.extend_from_slice(&r.bytes.to_be_bytes());
        d.extend_from_slice(&r.first.to_be_bytes());
        d.extend_from_slice(&r.last.to_be_bytes());
        d.extend_from_slice(&r.src_port.to_be_bytes());
        d.extend_from_slice(&r.dst_port.to_be_bytes());
        d.push(0);
        d.push(r.tcp_flags);
        d.push(r.proto);
        d.push(r.tos);
        d.extend_from_slice(&[0; 8]); // src/dst AS, src/dst mask, pad
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> FlowKey {
        let mut k = FlowKey::ZERO;
        k.set_eth_type(ETH_P_IP);
        k.set_ipv4_src(0x0a00_0001);
        k.set_ipv4_dst(0x0a00_0002);
        k.set_ip_proto(1);
        k.set_tp_src(8);
        k
    }

    fn cfg(active: Option<u64>) -> NetflowCfg {
        NetflowCfg { targets: vec![], engine_type: 3, engine_id: 5, add_id_to_interface: false, active_timeout_s: active }
    }

    fn report<'a>(k: &'a FlowKey, packets: u64, now_ms: u64, deleted: bool) -> FlowReport<'a> {
        FlowReport { id: b"f1", key: k, in_ofport: 1, out_ofport: 2, packets, bytes: packets * 98, tcp_flags: 0, used_ms: now_ms, now_ms, deleted }
    }

    #[test]
    fn datagram_layout() {
        let r = Record { src: 0x0a000001, dst: 0x0a000002, input: 1, output: 2, packets: 3, bytes: 294, proto: 1, ..Default::default() };
        let d = datagram(&[r, r], 1000, UNIX_EPOCH + std::time::Duration::from_secs(7), 42, 3, 5);
        assert_eq!(d.len(), 24 + 96);
        assert_eq!(&d[0..4], &[0, 5, 0, 2]);
        assert_eq!(&d[8..12], &7u32.to_be_bytes());
        assert_eq!(&d[16..22], &[0, 0, 0, 42, 3, 5]);
        assert_eq!(&d[24..28], &[10, 0, 0, 1]);
        assert_eq!(&d[36..40], &[0, 1, 0, 2]);
        assert_eq!(&d[40..44], &3u32.to_be_bytes());
        assert_eq!(d[24 + 38], 1, "protocol");
    }

    #[test]
    fn expiry_and_active_timeout() {
        let k = key();
        let (e, errs) = Exporter::new(cfg(Some(2)), 0);
        assert!(errs.is_empty());
        e.flow(&report(&k, 5, 1000, false));
        assert!(e.state.lock().unwrap().pending.is_empty(), "young flow: nothing yet");
        e.flow(&report(&k, 8, 3500, false));
        {
            let st = e.state.lock().unwrap();
            assert_eq!(st.pending.len(), 1, "active timeout");
            assert_eq!(st.pending[0].packets, 8);
        }
        e.dump_done(3500);
        e.flow(&report(&k, 11, 4000, true));
        let st = e.state.lock().unwrap();
        assert_eq!(st.pending.len(), 1);
        assert_eq!(st.pending[0].packets, 3, "only what was not reported yet");
        assert!(st.flows.is_empty());
    }

    #[test]
    fn miss_packets_count() {
        let k = key();
        let (e, _) = Exporter::new(cfg(None), 0);
        e.miss_packet(&k, b"f1", 98, 500);
        e.flow(&report(&k, 4, 1000, true));
        let st = e.state.lock().unwrap();
        assert_eq!((st.pending[0].packets, st.pending[0].bytes), (5, 490));
        assert_eq!(st.pending[0].first, 500);
    }

    #[test]
    fn non_ip_ignored_and_mask() {
        let mut k = key();
        k.set_eth_type(0x0806);
        let (e, _) = Exporter::new(cfg(None), 0);
        e.flow(&report(&k, 5, 1000, true));
        assert!(e.state.lock().unwrap().pending.is_empty());
        let mut wc = FlowKey::ZERO;
        Exporter::mask_fields(&mut wc, &key());
        assert_eq!((wc.ipv4_src(), wc.tp_dst(), wc.ip_proto(), wc.ip_ttl()), (u32::MAX, 0xffff, 0xff, 0));
    }

    #[test]
    fn interface_ids() {
        let mut c = cfg(None);
        c.add_id_to_interface = true;
        let (e, _) = Exporter::new(c, 0);
        assert_eq!(e.iface(3), (5 << 9) | 3);
        assert_eq!(e.iface(u32::from(OUT_FLOOD)), OUT_FLOOD);
    }
}
