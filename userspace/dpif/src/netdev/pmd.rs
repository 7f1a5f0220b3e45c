//! The packet path of the userspace datapath: one poll thread per port receives a batch
//! (`recvmmsg` on the AF_PACKET socket, `read` on a tap), and for each frame puts back a VLAN
//! tag the kernel stripped, runs the core's `extract`, looks the key up in the classifier
//! (through the thread's mask cache), and runs the flow's actions with the core's executor
//! over a `PacketBuf`; outputs are queued and sent per port at the end of the batch
//! (`sendmmsg`), misses and `userspace` actions become upcalls, `recirc` is looked up again
//! after the current packet. With a miss handler ([`super::miss`]) the batch's misses are
//! translated, installed and executed by the same thread after the batch's lookups.
//! Checksum-offload state rides along (see [`super::offload`]).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use rvs_core::actions::{ActionList, Userspace};
use rvs_core::classifier::{CpuCounters, MaskCache};
use rvs_core::execute::{execute, ExecContext, ExecError, NetlinkActions};
use rvs_core::extract::{extract, Metadata};
use rvs_core::key::FlowKey;
use rvs_core::packet::Packet;
use rvs_core::packet_buf::{CsumState, PacketBuf};

use super::flow_table::{encode_key, QsbrReader};
use super::miss::{MissHandler, MissReply};
use super::offload::{complete_csum, VnetHdr};
use super::port::{Port, PortMap, TxBatch};
use super::sys::{self, RxBatch, RxMeta};
use super::Datapath;
use crate::types::{PutFlags, Upcall, UpcallKind};

/// Frames per receive batch.
pub const BATCH: usize = 32;
/// Largest frame accepted (a GSO super-frame of 64 KiB plus headers).
pub const MAX_FRAME: usize = 65536 + 256;
/// Free bytes kept before each frame (VLAN pushes).
pub const HEADROOM: usize = 64;
/// Maximum recirculation depth.
const MAX_RECIRC: u32 = 4;
/// How often an idle netdev port checks that its device still exists (milliseconds).
const DEVICE_CHECK_MS: u64 = 200;
/// Nested `clone`/`sample` copies per packet.
const CLONES: usize = 8;

/// A packet to look up again (`recirc`).
#[derive(Debug)]
struct Pending {
    frame: Vec<u8>,
    key: FlowKey,
    hdr: VnetHdr,
    depth: u32,
}

/// A miss waiting for the batch's end: the frame (unchanged, at `HEADROOM` in `buf`, with
/// spare room after it), its key and offload header.
struct Miss {
    buf: Vec<u8>,
    len: usize,
    key: FlowKey,
    hdr: VnetHdr,
    depth: u32,
}

/// What to do with a received packet.
#[derive(Clone, Copy)]
pub enum Mode<'x> {
    /// Look it up in the flow table.
    Lookup,
    /// Run these actions (`OVS_PACKET_CMD_EXECUTE`).
    Actions(&'x [u8]),
}

/// Metadata of a key (what `recirc` and `update_key` keep).
fn metadata_of(k: &FlowKey) -> Metadata {
    Metadata {
        in_port: k.in_port(),
        priority: k.priority(),
        skb_mark: k.skb_mark(),
        recirc_id: k.recirc_id(),
        dp_hash: k.dp_hash(),
        tunnel: None,
        hw_vlan: None,
    }
}

/// A cheap flow hash for the mask cache (the role of the NIC's RSS hash / `skb_get_hash`).
#[inline]
fn packet_hash(k: &FlowKey) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for i in 8..15 {
        h = (h ^ k.word(i)).wrapping_mul(0x0000_0100_0000_01b3);
        h ^= h >> 29;
    }
    ((h ^ (h >> 32)) as u32) | 1
}

/// One thread's packet-processing state.
pub struct Engine {
    dp: Arc<Datapath>,
    cache: MaskCache,
    counters: Arc<CpuCounters<'static>>,
    ports: Arc<PortMap>,
    gen: u64,
    tx: TxBatch,
    pool: Vec<Vec<u8>>,
    pending: Vec<Pending>,
    rng: u64,
    now: u64,
    /// Whether this engine handles misses itself when the datapath has a handler (poll threads).
    inline: bool,
    handler: Option<Arc<dyn MissHandler>>,
    misses: Vec<Miss>,
    reply: MissReply,
}

impl Engine {
    /// A fresh engine for `dp` (registers its lookup counters with the datapath).
    pub fn new(dp: Arc<Datapath>) -> Self {
        let counters = Arc::new(CpuCounters::new(&[]));
        dp.counters.lock().unwrap_or_else(|p| p.into_inner()).push(counters.clone());
        let (ports, gen) = dp.port_snapshot();
        Self {
            dp,
            cache: MaskCache::new(),
            counters,
            ports,
            gen,
            tx: TxBatch::default(),
            pool: (0..CLONES).map(|_| Vec::new()).collect(),
            pending: Vec::new(),
            rng: 0x2545_f491_4f6c_dd1d ^ sys::monotonic_ms(),
            now: 0,
            inline: false,
            handler: None,
            misses: Vec::new(),
            reply: MissReply::default(),
        }
    }

    /// An engine for a poll thread: misses go to the datapath's miss handler when it has one.
    pub fn for_poll_thread(dp: Arc<Datapath>) -> Self {
        Self { inline: true, ..Self::new(dp) }
    }

    /// Starts a batch: refreshes the port map if it changed, reads the clock.
    pub fn begin_batch(&mut self) {
        if self.dp.port_gen.load(Ordering::Acquire) != self.gen {
            (self.ports, self.gen) = self.dp.port_snapshot();
        }
        self.now = sys::monotonic_ms();
        if self.inline {
            self.handler = self.dp.miss.get();
        }
    }

    /// Handles the misses the batch collected (outside any read section: installing a flow may
    /// wait for a grace period): each is translated by the handler, its megaflow installed unless
    /// the table is full, and the packet executed. Misses of recirculated packets join the queue.
    pub fn handle_misses(&mut self, reader: &QsbrReader) {
        let Some(h) = self.handler.clone() else { return };
        let mut reply = std::mem::take(&mut self.reply);
        while let Some(mut m) = self.misses.pop() {
            let frame = &mut m.buf[HEADROOM..HEADROOM + m.len];
            reply.clear();
            if m.hdr.needs_csum() {
                let mut done = frame.to_vec();
                complete_csum(&mut done, usize::from(m.hdr.csum_start), usize::from(m.hdr.csum_offset));
                h.miss(&m.key, &done, &mut reply);
            } else {
                h.miss(&m.key, frame, &mut reply);
            }
            let st = &self.dp.miss_stats;
            st.handled.fetch_add(1, Ordering::Relaxed);
            if let Some(mf) = &reply.install {
                if self.dp.flows.is_full() {
                    st.not_installed.fetch_add(1, Ordering::Relaxed);
                } else {
                    let flags = PutFlags { create: true, ..Default::default() };
                    match self.dp.flows.put_typed(&mf.key, &mf.mask, Some(&mf.ufid), &reply.actions, flags) {
                        Ok(()) => st.installed.fetch_add(1, Ordering::Relaxed),
                        Err(e) if e.errno() == Some(libc::EEXIST) => 0,
                        Err(e) if e.errno() == Some(libc::E2BIG) => st.not_installed.fetch_add(1, Ordering::Relaxed),
                        Err(_) => st.put_errors.fetch_add(1, Ordering::Relaxed),
                    };
                }
            }
            if reply.actions.is_empty() {
                continue;
            }
            reader.enter();
            let md = metadata_of(&m.key);
            self.input(&mut m.buf, HEADROOM, m.len, m.hdr, None, md, Mode::Actions(&reply.actions), m.depth);
            self.drain_recirc();
            reader.leave();
        }
        self.reply = reply;
    }

    /// Sends what the batch produced.
    pub fn flush(&mut self) {
        self.tx.flush(&self.ports);
    }

    /// Handles frame `i` of a receive batch from `port`.
    pub fn receive(&mut self, port: &Port, buf: &mut [u8], headroom: usize, m: &RxMeta) {
        let hl = VnetHdr::LEN;
        if m.pkttype == sys::PACKET_OUTGOING {
            return;
        }
        if m.truncated || m.len < hl + 14 {
            port.stats.rx_dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let len = m.len - hl;
        port.stats.rx_packets.fetch_add(1, Ordering::Relaxed);
        port.stats.rx_bytes.fetch_add(len as u64, Ordering::Relaxed);
        let hdr = VnetHdr::parse(&buf[headroom..headroom + hl]);
        let vlan = m.aux.filter(|a| a.tp_status & sys::TP_STATUS_VLAN_VALID != 0).map(|a| {
            let tpid = if a.tp_status & sys::TP_STATUS_VLAN_TPID_VALID != 0 && a.tp_vlan_tpid != 0 { a.tp_vlan_tpid } else { 0x8100 };
            (tpid, a.tp_vlan_tci)
        });
        let md = Metadata { in_port: port.no, ..Default::default() };
        self.input(buf, headroom + hl, len, hdr, vlan, md, Mode::Lookup, 0);
        self.drain_recirc();
    }

    /// Runs `actions` on `frame` with the metadata of `md` (userspace `execute`).
    pub fn execute(&mut self, frame: &[u8], md: Metadata, actions: &[u8]) {
        let mut buf = vec![0u8; HEADROOM + frame.len() + 64];
        buf[HEADROOM..HEADROOM + frame.len()].copy_from_slice(frame);
        self.begin_batch();
        self.input(&mut buf, HEADROOM, frame.len(), VnetHdr::default(), None, md, Mode::Actions(actions), 0);
        self.drain_recirc();
        self.flush();
    }

    fn drain_recirc(&mut self) {
        while let Some(p) = self.pending.pop() {
            if p.depth >= MAX_RECIRC {
                continue;
            }
            let mut buf = vec![0u8; HEADROOM + p.frame.len() + 64];
            buf[HEADROOM..HEADROOM + p.frame.len()].copy_from_slice(&p.frame);
            self.input(&mut buf, HEADROOM, p.frame.len(), p.hdr, None, metadata_of(&p.key), Mode::Lookup, p.depth + 1);
        }
    }

    /// The per-packet path: frame in `buf[start..start + len]`.
    #[allow(clippy::too_many_arguments)]
    fn input(
        &mut self,
        buf: &mut [u8],
        start: usize,
        len: usize,
        hdr: VnetHdr,
        vlan: Option<(u16, u16)>,
        md: Metadata,
        mode: Mode<'_>,
        depth: u32,
    ) {
        let Self { dp, cache, counters, tx, pool, pending, rng, now, handler, misses, .. } = self;
        let Ok(mut pkt) = PacketBuf::new(buf, start, len) else { return };
        let mut base = hdr;
        if let Some((tpid, tci)) = vlan {
            if pkt.push_vlan(tpid, tci).is_err() {
                return;
            }
            let Some(b) = base.shifted(4) else { return };
            base = b;
        }
        let (key, off) = extract(pkt.data(), &md);
        let Some(nh) = off.network else { return };
        pkt.set_network_offset(Some(usize::from(nh)));
        pkt.set_transport_offset(off.transport.map(usize::from));
        if base.needs_csum() {
            pkt.set_csum_partial();
        }
        let hash = packet_hash(&key);
        let actions: Arc<[u8]> = match mode {
            Mode::Actions(a) => Arc::from(a),
            Mode::Lookup => {
                let cls = dp.flows.classifier();
                match cls.lookup_cached(&key, hash, cache, counters) {
                    Some(id) => match dp.flows.slot(id) {
                        Some(slot) => {
                            slot.hit(len, *now, key.tcp_flags() as u8);
                            slot.actions.read().map_or_else(|p| p.into_inner().clone(), |a| a.clone())
                        }
                        None => return,
                    },
                    None if handler.is_some() => {
                        let data = pkt.data();
                        let mut buf = vec![0u8; HEADROOM + data.len() + 64];
                        buf[HEADROOM..HEADROOM + data.len()].copy_from_slice(data);
                        misses.push(Miss { buf, len: data.len(), key, hdr: base, depth });
                        return;
                    }
                    None => {
                        let frame = finished_copy(&pkt, &base);
                        dp.upcall(UpcallKind::Miss, frame, &key, None, None, None, hash);
                        return;
                    }
                }
            }
        };
        let mut k = key;
        let mut ctx = Ctx { dp, tx, pool: &mut pool[..], base, orig_len: pkt.len(), pending, rng, depth, hash };
        let _ = execute(&mut pkt, &mut k, ActionList(&actions), &NetlinkActions, &mut ctx);
    }
}

/// A copy of the (unchanged) frame with any partial checksum completed (for userspace, which
/// gets no offload header).
fn finished_copy(pkt: &PacketBuf<'_>, base: &VnetHdr) -> Vec<u8> {
    let mut v = pkt.data().to_vec();
    if base.needs_csum() {
        complete_csum(&mut v, usize::from(base.csum_start), usize::from(base.csum_offset));
    }
    v
}

/// The executor's view of the datapath for one packet.
struct Ctx<'a, 'b> {
    dp: &'b Arc<Datapath>,
    tx: &'b mut TxBatch,
    pool: &'a mut [Vec<u8>],
    /// The offload header as the packet arrived (after VLAN reinsertion).
    base: VnetHdr,
    /// The frame length `base` describes.
    orig_len: usize,
    pending: &'b mut Vec<Pending>,
    rng: &'b mut u64,
    depth: u32,
    hash: u32,
}

impl Ctx<'_, '_> {
    /// The offload header for the packet as it is now (`None`: offsets no longer valid), and
    /// the length to send given a pending `trunc`.
    fn hdr_now(&self, pkt: &PacketBuf<'_>, max_len: Option<u32>) -> (Option<VnetHdr>, usize) {
        let len = pkt.len();
        let n = max_len.map_or(len, |m| len.min((m as usize).max(14)));
        if n < len {
            return (Some(VnetHdr::default()), n);
        }
        let delta = len as isize - self.orig_len as isize;
        let mut h = match self.base.shifted(delta) {
            Some(h) => h,
            None => return (None, n),
        };
        if pkt.csum_state() != CsumState::Partial {
            h.flags = 0;
            h.csum_start = 0;
            h.csum_offset = 0;
        }
        (Some(h), n)
    }

    fn copy_for_userspace(&self, pkt: &PacketBuf<'_>, max_len: Option<u32>) -> Vec<u8> {
        let (h, n) = self.hdr_now(pkt, max_len);
        let mut v = pkt.data()[..n].to_vec();
        if let Some(h) = h {
            if h.needs_csum() {
                complete_csum(&mut v, usize::from(h.csum_start), usize::from(h.csum_offset));
            }
        }
        v
    }
}

impl<'a> ExecContext<PacketBuf<'a>> for Ctx<'a, '_> {
    fn output(&mut self, pkt: &mut PacketBuf<'a>, _key: &FlowKey, port: u32, max_len: Option<u32>, _last: bool) {
        let (h, n) = self.hdr_now(pkt, max_len);
        match h {
            Some(h) => self.tx.push(port, h.bytes(), &pkt.data()[..n], pkt.priority()),
            None => {
                if let Some(p) = self.dp.port_snapshot().0.get(port) {
                    p.stats.tx_dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    fn userspace(
        &mut self,
        pkt: &mut PacketBuf<'a>,
        key: &FlowKey,
        args: &Userspace<'_>,
        actions: ActionList<'_>,
        max_len: Option<u32>,
        _last: bool,
    ) {
        let frame = self.copy_for_userspace(pkt, max_len);
        let userdata = args.userdata.map(<[u8]>::to_vec);
        let acts = args.include_actions.then(|| actions.0.to_vec());
        self.dp.upcall(UpcallKind::Action, frame, key, userdata, acts, Some(args.pid), self.hash);
    }

    fn recirc(&mut self, pkt: &mut PacketBuf<'a>, key: &FlowKey, _last: bool) {
        let (h, _) = self.hdr_now(pkt, None);
        let Some(hdr) = h else { return };
        self.pending.push(Pending { frame: pkt.data().to_vec(), key: *key, hdr, depth: self.depth });
    }

    fn clone_packet(&mut self, pkt: &PacketBuf<'a>) -> Option<PacketBuf<'a>> {
        let pool = std::mem::take(&mut self.pool);
        let (first, rest) = pool.split_first_mut()?;
        self.pool = rest;
        let need = pkt.headroom() + pkt.len() + HEADROOM;
        if first.len() < need {
            first.resize(need, 0);
        }
        pkt.copy_into(first.as_mut_slice()).ok()
    }

    fn random_u32(&mut self) -> u32 {
        let mut x = *self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *self.rng = x;
        (x >> 32) as u32
    }

    fn meter(&mut self, pkt: &PacketBuf<'a>, _key: &FlowKey, meter_id: u32) -> bool {
        let len = u32::try_from(pkt.data().len()).unwrap_or(u32::MAX);
        self.dp.meters.execute(meter_id, len, super::sys::monotonic_ms())
    }

    fn update_key(&mut self, pkt: &PacketBuf<'a>, key: &mut FlowKey) -> Result<(), ExecError> {
        let (k, off) = extract(pkt.data(), &metadata_of(key));
        if off.network.is_none() {
            return Err(ExecError::KeyUpdate);
        }
        *key = k;
        Ok(())
    }
}

/// A port's poll thread: receive, process, transmit, until the port is told to stop.
pub fn poll_port(dp: Arc<Datapath>, port: Arc<Port>) {
    let reader = dp.flows.qsbr.register();
    let mut eng = Engine::for_poll_thread(dp.clone());
    let mut rx = RxBatch::new(if port.is_tap { 8 } else { BATCH }, MAX_FRAME, HEADROOM);
    let mut meta = Vec::with_capacity(BATCH);
    let mut last_check = sys::monotonic_ms();
    while !port.stop.load(Ordering::Acquire) {
        let r = if port.is_tap { rx.read_tap(port.fd(), &mut meta) } else { rx.recv(port.fd(), &mut meta) };
        let n = match r {
            Ok(n) => n,
            Err(_) => {
                port.stats.rx_errors.fetch_add(1, Ordering::Relaxed);
                last_check = 0;
                std::thread::sleep(std::time::Duration::from_millis(10));
                0
            }
        };
        if n == 0 {
            // An idle (or failing) netdev port: is its device still there? A socket bound to a
            // device that was unregistered receives nothing ever again (the device of a VM's tap
            // goes when the VM exits), so the port is detached, as the kernel datapath does.
            let now = sys::monotonic_ms();
            if !port.is_tap && now.saturating_sub(last_check) >= DEVICE_CHECK_MS {
                last_check = now;
                if !port.device_present() {
                    dp.detach_gone(&port);
                    break;
                }
            }
            let _ = sys::poll_in(port.fd(), 100);
            continue;
        }
        eng.begin_batch();
        reader.enter();
        let headroom = rx.headroom;
        for (m, buf) in meta.iter().zip(rx.bufs.iter_mut()) {
            eng.receive(&port, buf, headroom, m);
        }
        reader.leave();
        eng.handle_misses(&reader);
        eng.flush();
    }
    dp.flows.qsbr.unregister(&reader);
}

/// Builds an upcall message.
pub fn make_upcall(kind: UpcallKind, dp_ifindex: i32, packet: Vec<u8>, key: &FlowKey, userdata: Option<Vec<u8>>, actions: Option<Vec<u8>>, hash: u32) -> Upcall {
    Upcall {
        kind,
        dp_ifindex,
        packet,
        key: encode_key(key),
        userdata,
        egress_tun_key: None,
        actions,
        mru: None,
        len: None,
        hash: Some(u64::from(hash)),
    }
}
