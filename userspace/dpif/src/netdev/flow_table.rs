//! The userspace datapath's flow table: the core's megaflow classifier over owned memory, the
//! per-flow data it indexes (actions, counters, the flow as installed), and the quiescent-state
//! grace periods that let packet threads read it without locks.
//!
//! Readers (poll threads) wrap each batch in a read section ([`Qsbr::enter`]/[`Qsbr::leave`]);
//! the writer (the control path, under the table's mutex) removes flows, then waits until every
//! thread was seen outside a section since the removal ([`Qsbr::synchronize`]) before the core
//! hands the flow's id back for reuse (`grace_done`). Per-flow data slots are indexed by the
//! classifier's [`FlowId`] and reset only then.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use rvs_core::classifier::{
    self, Classifier, CpuCounters, Entry, FlowId as CoreFlowId, MaskSlot, Sizing, Storage, TableKind, Ufid, WriterState,
};
use rvs_core::key::FlowKey;
use rvs_core::mask::Mask;
use rvs_core::ovs::{action_nl, key_nl};

use crate::error::{DpifError, Result};
use crate::types::{Flow, FlowId, FlowPut, FlowStats, PutFlags};

/// Classifier memory owned by the datapath (fixed capacity).
#[derive(Debug)]
pub struct OwnedStorage {
    entries: Box<[Entry]>,
    masks: Box<[MaskSlot]>,
    order: [Box<[AtomicU32]>; 2],
    flow_buckets: [Box<[AtomicU64]>; 2],
    ufid_buckets: [Box<[AtomicU64]>; 2],
}

fn boxed<T>(n: usize, f: impl Fn() -> T) -> Box<[T]> {
    (0..n).map(|_| f()).collect()
}

impl OwnedStorage {
    fn new(s: Sizing) -> Self {
        Self {
            entries: boxed(s.entries, Entry::new),
            masks: boxed(s.masks, MaskSlot::new),
            order: [boxed(s.masks, || AtomicU32::new(0)), boxed(s.masks, || AtomicU32::new(0))],
            flow_buckets: [boxed(s.buckets, || AtomicU64::new(0)), boxed(s.buckets, || AtomicU64::new(0))],
            ufid_buckets: [boxed(s.buckets, || AtomicU64::new(0)), boxed(s.buckets, || AtomicU64::new(0))],
        }
    }
}

impl Storage for OwnedStorage {
    fn entries(&self) -> &[Entry] {
        &self.entries
    }
    fn masks(&self) -> &[MaskSlot] {
        &self.masks
    }
    fn order(&self, half: usize) -> &[AtomicU32] {
        self.order.get(half).map_or(&[], |b| b)
    }
    fn buckets(&self, table: TableKind, half: usize) -> &[AtomicU64] {
        let arr = match table {
            TableKind::Flow => &self.flow_buckets,
            TableKind::Ufid => &self.ufid_buckets,
        };
        arr.get(half).map_or(&[], |b| b)
    }
}

/// What packet threads read per flow: actions and counters.
#[derive(Debug, Default)]
pub struct FlowSlot {
    /// The validated `OVS_ACTION_ATTR_*` bytes.
    pub actions: RwLock<Arc<[u8]>>,
    packets: AtomicU64,
    bytes: AtomicU64,
    used: AtomicU64,
    tcp_flags: AtomicU8,
}

impl FlowSlot {
    /// Counts one packet of `len` bytes at `now_ms`.
    #[inline]
    pub fn hit(&self, len: usize, now_ms: u64, tcp_flags: u8) {
        self.packets.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(len as u64, Ordering::Relaxed);
        if self.used.load(Ordering::Relaxed) != now_ms {
            self.used.store(now_ms, Ordering::Relaxed);
        }
        if tcp_flags != 0 && self.tcp_flags.load(Ordering::Relaxed) & tcp_flags != tcp_flags {
            self.tcp_flags.fetch_or(tcp_flags, Ordering::Relaxed);
        }
    }

    fn stats(&self) -> FlowStats {
        FlowStats {
            n_packets: self.packets.load(Ordering::Relaxed),
            n_bytes: self.bytes.load(Ordering::Relaxed),
            used_ms: self.used.load(Ordering::Relaxed),
            tcp_flags: self.tcp_flags.load(Ordering::Relaxed),
        }
    }

    fn zero(&self) {
        self.packets.store(0, Ordering::Relaxed);
        self.bytes.store(0, Ordering::Relaxed);
        self.used.store(0, Ordering::Relaxed);
        self.tcp_flags.store(0, Ordering::Relaxed);
    }

    fn actions(&self) -> Arc<[u8]> {
        self.actions.read().map_or_else(|p| p.into_inner().clone(), |a| a.clone())
    }

    fn set_actions(&self, a: &[u8]) {
        let new: Arc<[u8]> = Arc::from(a);
        match self.actions.write() {
            Ok(mut g) => *g = new,
            Err(p) => *p.into_inner() = new,
        }
    }
}

/// Quiescent-state-based grace periods over the datapath's packet threads.
#[derive(Debug, Default)]
pub struct Qsbr {
    threads: Mutex<Vec<Arc<AtomicU64>>>,
}

/// One reader's state: odd while inside a read section.
#[derive(Debug, Clone)]
pub struct QsbrReader(Arc<AtomicU64>);

impl QsbrReader {
    /// Enters a read section.
    #[inline]
    pub fn enter(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    /// Leaves it.
    #[inline]
    pub fn leave(&self) {
        self.0.fetch_add(1, Ordering::Release);
    }
}

impl Qsbr {
    /// Registers a reader.
    pub fn register(&self) -> QsbrReader {
        let c = Arc::new(AtomicU64::new(0));
        if let Ok(mut t) = self.threads.lock() {
            t.push(c.clone());
        }
        QsbrReader(c)
    }

    /// Forgets a reader (which must be outside any section).
    pub fn unregister(&self, r: &QsbrReader) {
        if let Ok(mut t) = self.threads.lock() {
            t.retain(|c| !Arc::ptr_eq(c, &r.0));
        }
    }

    /// Waits until every reader that was inside a section when called has left it.
    pub fn synchronize(&self) {
        std::sync::atomic::fence(Ordering::SeqCst);
        let snap: Vec<(Arc<AtomicU64>, u64)> = match self.threads.lock() {
            Ok(t) => t.iter().map(|c| (c.clone(), c.load(Ordering::SeqCst))).collect(),
            Err(_) => return,
        };
        for (c, v) in snap {
            if v % 2 == 0 {
                continue;
            }
            let mut spins = 0u32;
            while c.load(Ordering::Acquire) == v {
                spins += 1;
                if spins < 100 {
                    std::hint::spin_loop();
                } else {
                    std::thread::sleep(std::time::Duration::from_micros(50));
                }
            }
        }
    }
}

/// Control-path data of an installed flow.
#[derive(Debug, Clone)]
struct FlowMeta {
    /// The key as installed (unmasked), to find the flow by key.
    key: FlowKey,
    /// The mask.
    mask: FlowKey,
    ufid: Option<[u8; 16]>,
}

/// Writer-side state, under the table mutex.
#[derive(Debug)]
struct Control {
    st: WriterState,
    meta: HashMap<u32, FlowMeta>,
}

/// The flow table. Packet threads use [`FlowTable::classifier`], [`FlowTable::slot`]; the
/// control path the `put`/`del`/`get`/`dump`/`flush` methods.
#[derive(Debug)]
pub struct FlowTable {
    cls: Classifier<OwnedStorage>,
    slots: Box<[FlowSlot]>,
    ctl: Mutex<Control>,
    /// Grace periods over the packet threads.
    pub qsbr: Qsbr,
    /// Flows the miss path may install (0: as many as fit).
    limit: std::sync::atomic::AtomicUsize,
}

fn err(op: &str, errno: i32, msg: impl Into<String>) -> DpifError {
    DpifError::Kernel { op: op.into(), errno, extack: Some(msg.into()) }
}

fn codec(op: &str, e: rvs_core::ovs::CodecError) -> DpifError {
    err(op, e.errno(), e.to_string())
}

fn cls_errno(e: classifier::Error) -> i32 {
    use classifier::Error as E;
    match e {
        E::Exists | E::UfidExists => libc::EEXIST,
        E::NotFound => libc::ENOENT,
        E::NoSpace | E::TooManyMasks => libc::E2BIG,
        E::Busy => libc::EBUSY,
    }
}

/// Encodes a key's attributes (no enclosing attribute).
pub fn encode_key(key: &FlowKey) -> Vec<u8> {
    encode(key, key, false)
}

fn encode(key: &FlowKey, out: &FlowKey, is_mask: bool) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let mut w = rvs_core::nla::Writer::new(&mut buf);
    if key_nl::put_key_attrs(&mut w, key, out, is_mask).is_err() {
        return Vec::new();
    }
    w.written().to_vec()
}

impl FlowTable {
    /// A table for `flows` flows and `masks` masks.
    pub fn new(flows: usize, masks: usize) -> Result<Self> {
        let storage = OwnedStorage::new(Sizing::new(flows, masks));
        let (cls, st) = Classifier::new(storage).map_err(|e| err("create flow table", cls_errno(e), e.to_string()))?;
        Ok(Self {
            cls,
            slots: boxed(flows, FlowSlot::default),
            ctl: Mutex::new(Control { st, meta: HashMap::new() }),
            qsbr: Qsbr::default(),
            limit: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// The classifier (packet threads).
    #[inline]
    pub fn classifier(&self) -> &Classifier<OwnedStorage> {
        &self.cls
    }

    /// Per-flow data of `id` (packet threads).
    #[inline]
    pub fn slot(&self, id: CoreFlowId) -> Option<&FlowSlot> {
        self.slots.get(id.0 as usize)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Control> {
        self.ctl.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs a grace period and reclaims what was retired, resetting freed slots.
    fn grace(&self, c: &mut Control) {
        let mut w = self.cls.writer(&mut c.st);
        if !w.needs_grace() {
            return;
        }
        let token = w.grace_start();
        self.qsbr.synchronize();
        let slots = &self.slots;
        w.grace_done(token, |id| {
            if let Some(s) = slots.get(id.0 as usize) {
                s.zero();
                s.set_actions(&[]);
            }
        });
    }

    /// Finds a flow by UFID or by its installed (unmasked) key attributes.
    fn find(&self, c: &Control, id: FlowId<'_>, op: &str) -> Result<CoreFlowId> {
        match id {
            FlowId::Ufid(u) => {
                let uf = Ufid::new(u).ok_or_else(|| err(op, libc::EINVAL, "bad UFID"))?;
                self.cls.lookup_ufid(&uf).ok_or_else(|| err(op, libc::ENOENT, "no flow with this UFID"))
            }
            FlowId::Key(k) => {
                let key = key_nl::decode_key(k).map_err(|e| codec(op, e))?;
                c.meta
                    .iter()
                    .find(|(_, m)| m.key == key)
                    .map(|(i, _)| CoreFlowId(*i))
                    .ok_or_else(|| err(op, libc::ENOENT, "no flow with this key"))
            }
        }
    }

    /// Installs or modifies a flow (upstream `ovs_flow_cmd_new` semantics: create, modify,
    /// `EEXIST` when it exists and may not be modified, `ENOENT` when absent and may not be
    /// created).
    pub fn put(&self, put: &FlowPut<'_>) -> Result<()> {
        let op = "flow put";
        let m = key_nl::decode_match(put.key, put.mask).map_err(|e| codec(op, e))?;
        self.put_typed(&m.key, &m.mask, put.ufid, put.actions, put.flags)
    }

    /// [`FlowTable::put`] of a decoded key and mask (the miss path of the poll threads).
    pub fn put_typed(&self, key: &FlowKey, mask: &FlowKey, ufid: Option<&[u8; 16]>, actions: &[u8], flags: PutFlags) -> Result<()> {
        let op = "flow put";
        let masked = key.masked(mask);
        action_nl::validate_actions(actions, &masked).map_err(|e| codec(op, e))?;
        let cmask = Mask::new(*mask);
        let cufid = match ufid {
            Some(u) => Some(Ufid::new(u).ok_or_else(|| err(op, libc::EINVAL, "bad UFID"))?),
            None => None,
        };
        let mut c = self.lock();
        let existing = match &cufid {
            Some(u) => self.cls.lookup_ufid(u),
            None => None,
        }
        .or_else(|| self.cls.writer(&mut c.st).find_exact(key, &cmask));
        if let Some(id) = existing {
            if !flags.modify {
                return Err(err(op, libc::EEXIST, "flow exists"));
            }
            let slot = self.slot(id).ok_or_else(|| err(op, libc::ENOENT, "no such flow"))?;
            slot.set_actions(actions);
            if flags.zero_stats {
                slot.zero();
            }
            return Ok(());
        }
        if !flags.create {
            return Err(err(op, libc::ENOENT, "no such flow"));
        }
        let slots = &self.slots;
        let attempt = |c: &mut Control| {
            self.cls.writer(&mut c.st).insert_with(key, &cmask, cufid.as_ref(), |id| {
                if let Some(s) = slots.get(id.0 as usize) {
                    s.zero();
                    s.set_actions(actions);
                }
            })
        };
        let id = match attempt(&mut c) {
            Err(classifier::Error::Busy) => {
                self.grace(&mut c);
                attempt(&mut c)
            }
            r => r,
        }
        .map_err(|e| err(op, cls_errno(e), e.to_string()))?;
        c.meta.insert(id.0, FlowMeta { key: *key, mask: *mask, ufid: ufid.copied() });
        Ok(())
    }

    /// Whether the table holds as many flows as it can, or as its limit allows.
    #[inline]
    pub fn is_full(&self) -> bool {
        let cap = match self.limit.load(Ordering::Relaxed) {
            0 => self.slots.len(),
            n => n.min(self.slots.len()),
        };
        self.cls.flow_count() as usize >= cap
    }

    /// Limits the flows [`FlowTable::is_full`] allows (0: capacity); puts are not refused.
    pub fn set_limit(&self, n: usize) {
        self.limit.store(n, Ordering::Relaxed);
    }

    fn flow_of(&self, c: &Control, id: CoreFlowId) -> Flow {
        let meta = c.meta.get(&id.0);
        let slot = self.slot(id);
        let (key, mask, ufid) = match meta {
            Some(m) => (m.key.masked(&m.mask), m.mask, m.ufid),
            None => (FlowKey::ZERO, FlowKey::ZERO, None),
        };
        Flow {
            ufid,
            key: encode(&key, &key, false),
            mask: encode(&key, &mask, true),
            actions: slot.map(|s| s.actions().to_vec()).unwrap_or_default(),
            stats: slot.map(FlowSlot::stats).unwrap_or_default(),
        }
    }

    /// Deletes a flow, returning its last statistics.
    pub fn del(&self, id: FlowId<'_>) -> Result<FlowStats> {
        let mut c = self.lock();
        let fid = self.find(&c, id, "flow del")?;
        let stats = self.slot(fid).map(FlowSlot::stats).unwrap_or_default();
        self.cls.writer(&mut c.st).remove(fid).map_err(|e| err("flow del", cls_errno(e), e.to_string()))?;
        c.meta.remove(&fid.0);
        self.grace(&mut c);
        Ok(stats)
    }

    /// Reads one flow.
    pub fn get(&self, id: FlowId<'_>) -> Result<Flow> {
        let c = self.lock();
        let fid = self.find(&c, id, "flow get")?;
        Ok(self.flow_of(&c, fid))
    }

    /// Every flow; `terse` leaves key, mask and actions out (a flow without UFID then carries
    /// its installed key as its identifier, as the kernel datapath does).
    pub fn dump(&self, terse: bool) -> Vec<Flow> {
        let c = self.lock();
        let mut ids: Vec<u32> = c.meta.keys().copied().collect();
        ids.sort_unstable();
        ids.into_iter().map(|i| if terse { self.terse_flow_of(&c, CoreFlowId(i)) } else { self.flow_of(&c, CoreFlowId(i)) }).collect()
    }

    fn terse_flow_of(&self, c: &Control, id: CoreFlowId) -> Flow {
        let meta = c.meta.get(&id.0);
        let ufid = meta.and_then(|m| m.ufid);
        let key = match (ufid, meta) {
            (None, Some(m)) => encode_key(&m.key),
            _ => Vec::new(),
        };
        Flow { ufid, key, mask: Vec::new(), actions: Vec::new(), stats: self.slot(id).map(FlowSlot::stats).unwrap_or_default() }
    }

    /// Deletes every flow.
    pub fn flush(&self) {
        let mut c = self.lock();
        self.cls.writer(&mut c.st).flush(|_| {});
        c.meta.clear();
        self.grace(&mut c);
    }

    /// Number of flows.
    pub fn count(&self) -> u32 {
        self.cls.flow_count()
    }

    /// Lookup statistics over the given per-thread counters.
    pub fn stats<'c>(&self, counters: impl IntoIterator<Item = &'c CpuCounters<'c>>) -> classifier::Stats {
        self.cls.stats(counters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::PutFlags;

    fn attrs(text: &str) -> (Vec<u8>, Vec<u8>) {
        let mut buf = vec![0u8; 4096];
        let mut w = rvs_core::nla::Writer::new(&mut buf);
        rvs_core::text::key::text_to_attrs(text, &mut w).unwrap();
        let mut it = rvs_core::nla::Attrs::new(w.written()).map(|a| a.unwrap().payload.to_vec());
        (it.next().unwrap(), it.next().unwrap())
    }

    fn output(port: u32) -> Vec<u8> {
        let mut buf = vec![0u8; 64];
        let mut w = rvs_core::nla::Writer::new(&mut buf);
        w.put_u32(rvs_core::ovs_abi::OVS_ACTION_ATTR_OUTPUT, port).unwrap();
        w.written().to_vec()
    }

    /// Typed puts (the poll threads' miss path) fill the table until `is_full`; a terse dump
    /// names UFID-less flows by their key.
    #[test]
    fn typed_puts_until_full_and_terse_dump_identifiers() {
        let t = FlowTable::new(4, 4).unwrap();
        let create = PutFlags { create: true, ..Default::default() };
        let mut mask = FlowKey::ZERO;
        mask.set_in_port(u32::MAX);
        let a = output(2);
        for port in 1..=4u32 {
            assert!(!t.is_full());
            let mut k = FlowKey::ZERO;
            k.set_in_port(port);
            k.set_eth_type(0x0800);
            let ufid = (port != 4).then_some([port as u8; 16]);
            t.put_typed(&k, &mask, ufid.as_ref(), &a, create).unwrap();
        }
        assert!(t.is_full());
        t.set_limit(100);
        assert!(t.is_full(), "a limit above capacity changes nothing");
        t.set_limit(2);
        assert!(t.is_full());
        t.set_limit(0);
        let mut k = FlowKey::ZERO;
        k.set_in_port(9);
        assert_eq!(t.put_typed(&k, &mask, None, &a, create).unwrap_err().errno(), Some(libc::E2BIG));
        let terse = t.dump(true);
        assert_eq!(terse.len(), 4);
        assert!(terse.iter().all(|f| f.mask.is_empty() && f.actions.is_empty()));
        let keyed: Vec<&Flow> = terse.iter().filter(|f| f.ufid.is_none()).collect();
        assert_eq!(keyed.len(), 1);
        assert_eq!(key_nl::decode_key(&keyed[0].key).unwrap().in_port(), 4, "the key identifies it");
        assert_eq!(t.get(FlowId::Key(&keyed[0].key)).unwrap().actions, a);
        // Bad actions for the key are refused like a netlink put's.
        let mut bad = vec![0u8; 8];
        bad[0] = 8;
        bad[2] = 0xff;
        t.del(FlowId::Ufid(&[1u8; 16])).unwrap();
        assert!(t.put_typed(&k, &mask, None, &bad, create).is_err());
    }

    #[test]
    fn put_get_modify_delete_with_lookup() {
        let t = FlowTable::new(64, 8).unwrap();
        let (k, m) = attrs("in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.0.0.2)");
        let a = output(2);
        let ufid = [7u8; 16];
        let create = PutFlags { create: true, ..Default::default() };
        t.put(&FlowPut { key: &k, mask: Some(&m), actions: &a, ufid: Some(&ufid), flags: create }).unwrap();
        // Same flow again without modify: EEXIST.
        let e = t.put(&FlowPut { key: &k, mask: Some(&m), actions: &a, ufid: None, flags: create }).unwrap_err();
        assert_eq!(e.errno(), Some(libc::EEXIST));
        // Modify without create of an absent flow: ENOENT.
        let (k2, m2) = attrs("in_port(2),eth(),eth_type(0x0800),ipv4()");
        let modify = PutFlags { modify: true, ..Default::default() };
        let e = t.put(&FlowPut { key: &k2, mask: Some(&m2), actions: &a, ufid: None, flags: modify }).unwrap_err();
        assert_eq!(e.errno(), Some(libc::ENOENT));
        assert_eq!(t.count(), 1);

        // A packet key to 10.0.0.2 from port 1 hits; to 10.0.0.3 misses.
        let mut pk = FlowKey::ZERO;
        pk.set_in_port(1);
        pk.set_eth_type(0x0800);
        pk.set_ipv4_dst(u32::from_be_bytes([10, 0, 0, 2]));
        let ctr = CpuCounters::new(&[]);
        let id = t.classifier().lookup(&pk, &ctr).expect("hit");
        t.slot(id).unwrap().hit(100, 5, 0x02);
        pk.set_ipv4_dst(u32::from_be_bytes([10, 0, 0, 3]));
        assert!(t.classifier().lookup(&pk, &ctr).is_none());

        let f = t.get(FlowId::Ufid(&ufid)).unwrap();
        assert_eq!((f.stats.n_packets, f.stats.n_bytes, f.stats.used_ms, f.stats.tcp_flags), (1, 100, 5, 2));
        assert_eq!(f.actions, a);
        assert_eq!(t.get(FlowId::Key(&k)).unwrap().ufid, Some(ufid));

        // Modify actions and zero stats.
        let a3 = output(3);
        let md = PutFlags { modify: true, zero_stats: true, ..Default::default() };
        t.put(&FlowPut { key: &k, mask: Some(&m), actions: &a3, ufid: Some(&ufid), flags: md }).unwrap();
        let f = t.get(FlowId::Key(&k)).unwrap();
        assert_eq!((f.actions.clone(), f.stats.n_packets), (a3, 0));
        assert_eq!(t.dump(false).len(), 1);
        assert_eq!(t.dump(true)[0].key.len(), 0);

        let st = t.del(FlowId::Key(&k)).unwrap();
        assert_eq!(st.n_packets, 0);
        assert_eq!(t.count(), 0);
        assert_eq!(t.get(FlowId::Ufid(&ufid)).unwrap_err().errno(), Some(libc::ENOENT));
        pk.set_ipv4_dst(u32::from_be_bytes([10, 0, 0, 2]));
        assert!(t.classifier().lookup(&pk, &ctr).is_none());
    }

    #[test]
    fn flush_and_reuse_after_grace() {
        let t = FlowTable::new(4, 4).unwrap();
        let reader = t.qsbr.register();
        let create = PutFlags { create: true, ..Default::default() };
        for round in 0..3 {
            for p in 1..=4u32 {
                let (k, m) = attrs(&format!("in_port({p}),eth(),eth_type(0x0806)"));
                t.put(&FlowPut { key: &k, mask: Some(&m), actions: &[], ufid: None, flags: create })
                    .unwrap_or_else(|e| panic!("round {round} port {p}: {e}"));
            }
            assert_eq!(t.count(), 4);
            reader.enter();
            reader.leave();
            t.flush();
            assert_eq!(t.count(), 0);
        }
        t.qsbr.unregister(&reader);
    }

    #[test]
    fn bad_actions_are_refused() {
        let t = FlowTable::new(4, 4).unwrap();
        let (k, m) = attrs("in_port(1),eth(),eth_type(0x0806)");
        let bad = output(70000);
        let e = t
            .put(&FlowPut { key: &k, mask: Some(&m), actions: &bad, ufid: None, flags: PutFlags { create: true, ..Default::default() } })
            .unwrap_err();
        assert_eq!(e.errno(), Some(libc::EINVAL));
    }
}
