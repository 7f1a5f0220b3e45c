//! A datapath's meters (upstream `struct dp_meter_table`) and the `ovs_meter` generic netlink commands
//! (FEATURES, SET, DEL, GET), plus the meter action of the fast path ([`MeterTable::execute`]).
//!
//! # Concurrency
//! The table is a fixed array of hash chains. Writers (every command that changes it) hold the writer lock, link
//! a fully built meter at a chain head with a Release store and unlink with plain stores of the successor; the
//! packet path walks the chains under RCU with Acquire loads. An unlinked meter is freed after `synchronize_rcu`.
//! Each meter's token buckets sit behind its own spinlock ([`MeterState`] from the core does the arithmetic); the
//! packet path takes it with bottom halves already disabled, process context disables them first (upstream's
//! `spin_lock` / `spin_lock_bh` split).

use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

use kernel::new_spinlock;
use kernel::prelude::*;
use kernel::sync::SpinLock;

use crate::genl::{self, errno, fam, Msg, Request};
use crate::glue;
use crate::meter::{BandConfig, MeterState, MAX_BANDS};
use crate::ovs::meter_nl::{Band, MeterAttrs};
use crate::ovs::msg::FlowStats;
use crate::ovs::CodecError;
use crate::ovs_abi::*;
use crate::registry::WriterLock;
use crate::vport::cmd_u8;

/// Hash chains per datapath.
const BUCKETS: usize = 1024;
/// Meters per datapath (reported as `OVS_METER_ATTR_MAX_METERS`).
pub(crate) const MAX_METERS: u32 = 65536;

/// One meter.
#[pin_data]
pub(crate) struct Meter {
    id: u32,
    next: AtomicPtr<Meter>,
    #[pin]
    state: SpinLock<MeterState>,
}

impl Meter {
    /// Runs `f` on the state with the meter's lock held, bottom halves disabled (process context).
    fn with_state<R>(&self, f: impl FnOnce(&mut MeterState) -> R) -> R {
        let _bh = glue::BhGuard::new();
        let mut g = self.state.lock();
        f(&mut g)
    }

    /// The meter's statistics as attributes (upstream `ovs_meter_cmd_reply_stats`).
    fn put_stats(&self, w: &mut crate::nla::Writer<'_>) -> core::result::Result<(), CodecError> {
        let (attrs, bands, n) = self.with_state(|s| {
            let mut bands = [Band::default(); MAX_BANDS];
            for (o, b) in bands.iter_mut().zip(s.bands()) {
                o.stats = Some(FlowStats { n_packets: b.packets, n_bytes: b.bytes });
            }
            let a = MeterAttrs {
                id: Some(self.id),
                stats: Some(FlowStats { n_packets: s.packets, n_bytes: s.bytes }),
                used: Some(s.used_ms),
                ..MeterAttrs::default()
            };
            (a, bands, s.bands().len())
        });
        attrs.emit(w, Some(bands.get(..n).unwrap_or(&[])))
    }
}

/// The meter table of one datapath.
///
/// # Invariants
///
/// `buckets` is a `kvzalloc` array of `BUCKETS` chain heads; every meter on a chain is a leaked pinned `KBox`
/// owned by the table.
pub(crate) struct MeterTable {
    buckets: *mut AtomicPtr<Meter>,
    count: AtomicU32,
}

fn bucket_of(id: u32) -> usize {
    usize::try_from(id).unwrap_or(0) % BUCKETS
}

impl MeterTable {
    /// An empty table.
    pub(crate) fn new() -> Result<Self> {
        let bytes = core::mem::size_of::<AtomicPtr<Meter>>().checked_mul(BUCKETS).ok_or(ENOMEM)?;
        let buckets = glue::kvzalloc(bytes).cast::<AtomicPtr<Meter>>();
        if buckets.is_null() {
            return Err(ENOMEM);
        }
        Ok(Self { buckets, count: AtomicU32::new(0) })
    }

    fn head(&self, id: u32) -> &AtomicPtr<Meter> {
        // SAFETY: `bucket_of` is below `BUCKETS` (type invariant: the array has that many heads).
        unsafe { &*self.buckets.add(bucket_of(id)) }
    }

    /// Meter `id` (caller under RCU or the writer lock).
    fn lookup(&self, id: u32) -> Option<&Meter> {
        let mut p = self.head(id).load(Ordering::Acquire);
        // SAFETY: Chain members stay valid until a grace period after they are unlinked, which outlasts the
        // caller's read-side section (or the writer lock excludes unlinking).
        while let Some(m) = unsafe { p.as_ref() } {
            if m.id == id {
                return Some(m);
            }
            p = m.next.load(Ordering::Acquire);
        }
        None
    }

    /// Unlinks meter `id`; the caller frees it after a grace period.
    fn unlink(&self, _w: &WriterLock, id: u32) -> Option<*mut Meter> {
        let mut link = self.head(id);
        loop {
            let p = link.load(Ordering::Acquire);
            // SAFETY: Chain members are valid under the writer lock.
            let m = unsafe { p.as_ref() }?;
            if m.id == id {
                link.store(m.next.load(Ordering::Acquire), Ordering::Release);
                self.count.fetch_sub(1, Ordering::Relaxed);
                return Some(p);
            }
            link = &m.next;
        }
    }

    /// Links `m` (fresh, not on any chain).
    fn link(&self, _w: &WriterLock, m: *mut Meter) -> Result {
        if self.count.load(Ordering::Relaxed) >= MAX_METERS {
            return Err(EFBIG);
        }
        // SAFETY: `m` is a valid fresh meter owned by the caller, handed to the table.
        let id = unsafe { (*m).id };
        let head = self.head(id);
        // SAFETY: As above; its `next` is set before it is published.
        unsafe { (*m).next.store(head.load(Ordering::Acquire), Ordering::Relaxed) };
        head.store(m, Ordering::Release);
        self.count.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The meter action (packet path: RCU held, bottom halves disabled). `true`: drop the packet. A missing meter
    /// drops nothing (upstream).
    pub(crate) fn execute(&self, id: u32, len: usize) -> bool {
        let Some(m) = self.lookup(id) else { return false };
        let now = glue::now_ms();
        let mut g = m.state.lock();
        g.execute(now, u32::try_from(len).unwrap_or(u32::MAX))
    }

    /// Frees every meter (no reader left: the datapath is being destroyed after a grace period).
    pub(crate) fn destroy(&mut self) {
        for i in 0..BUCKETS {
            // SAFETY: In bounds; no reader or writer is left.
            let mut p = unsafe { (*self.buckets.add(i)).swap(core::ptr::null_mut(), Ordering::AcqRel) };
            while !p.is_null() {
                // SAFETY: A meter leaked into the table, now unreachable.
                let next = unsafe { (*p).next.load(Ordering::Relaxed) };
                // SAFETY: As above: we own it.
                unsafe { free(p) };
                p = next;
            }
        }
    }
}

impl Drop for MeterTable {
    fn drop(&mut self) {
        self.destroy();
        // SAFETY: Our kvzalloc array (type invariant); no user is left.
        unsafe { glue::kvfree(self.buckets.cast()) };
    }
}

/// Frees a meter.
///
/// # Safety
///
/// `p` came from [`new_meter`], is on no chain, and no reader can still see it.
unsafe fn free(p: *mut Meter) {
    // SAFETY: By the function's safety contract we own the box; it is dropped in place (never moved).
    drop(unsafe { KBox::from_raw(p) });
}

fn new_meter(id: u32, state: MeterState) -> Result<*mut Meter> {
    let b = KBox::pin_init(
        pin_init!(Meter { id, next: AtomicPtr::new(core::ptr::null_mut()), state <- new_spinlock!(state, "rvs_meter") }),
        GFP_KERNEL,
    )?;
    // SAFETY: The meter is never moved out of its allocation: it is only used through the raw pointer and freed in
    // place by `free`.
    Ok(KBox::into_raw(unsafe { Pin::into_inner_unchecked(b) }))
}

/// Builds the state a meter-set request describes (upstream `dp_meter_create`).
fn parse_state(req: &Request<'_>, a: &MeterAttrs<'_>) -> Result<MeterState> {
    if a.bands_raw.is_none() {
        req.set_err_msg(format_args!("meter without OVS_METER_ATTR_BANDS"));
        return Err(EINVAL);
    }
    let mut cfg = [BandConfig::default(); MAX_BANDS];
    let mut n = 0usize;
    for b in a.bands() {
        let b = b.map_err(|e| req.codec_err(e))?;
        let (ty, rate, burst) = b.require_config().map_err(|e| req.codec_err(e))?;
        let slot = cfg.get_mut(n).ok_or_else(|| {
            req.set_err_msg(format_args!("meter has more than {} bands", MAX_BANDS));
            EINVAL
        })?;
        *slot = BandConfig { ty, rate, burst };
        n = n.wrapping_add(1);
    }
    let mut s = MeterState::new(a.kbps, cfg.get(..n).unwrap_or(&[]), glue::now_ms()).map_err(|e| {
        req.set_err_msg(format_args!("{}", e));
        EINVAL
    })?;
    s.keep_stats = !a.clear;
    if let (true, Some(st)) = (s.keep_stats, a.stats) {
        s.packets = st.n_packets;
        s.bytes = st.n_bytes;
    }
    Ok(s)
}

/// The `ovs_meter` commands.
pub(crate) fn doit(cmd: u16, req: &Request<'_>) -> Result {
    let a = MeterAttrs::parse(req.attrs).map_err(|e| req.codec_err(e))?;
    let reply = |req: &Request<'_>, dp_ifindex: i32| Msg::reply_to(req, 512, fam::METER, cmd_u8(cmd), dp_ifindex);
    match cmd {
        OVS_METER_CMD_FEATURES => {
            let w = WriterLock::lock();
            let dp = w.find(req.net(), req.dp_ifindex).ok_or(ENODEV)?;
            let mut m = reply(req, dp.ifindex())?;
            drop(w);
            m.fill(|wr| {
                let bands = [Band { ty: Some(u32::from(OVS_METER_BAND_TYPE_DROP)), ..Band::default() }];
                MeterAttrs {
                    max_meters: Some(MAX_METERS),
                    max_bands: Some(u32::try_from(MAX_BANDS).unwrap_or(1)),
                    ..MeterAttrs::default()
                }
                .emit(wr, Some(&bands))
            })?;
            m.reply(req)
        }
        OVS_METER_CMD_SET => {
            let id = a.id.ok_or(EINVAL)?;
            let state = parse_state(req, &a)?;
            let new = new_meter(id, state)?;
            let w = WriterLock::lock();
            let Some(dp) = w.find(req.net(), req.dp_ifindex) else {
                // SAFETY: Never published.
                unsafe { free(new) };
                return Err(ENODEV);
            };
            let mut m = match reply(req, dp.ifindex()) {
                Ok(m) => m,
                Err(e) => {
                    // SAFETY: Never published.
                    unsafe { free(new) };
                    return Err(e);
                }
            };
            let old = dp.meters.unlink(&w, id);
            if let Err(e) = dp.meters.link(&w, new) {
                // Upstream frees the old meter in this case too: the id is gone.
                // SAFETY: Never published.
                unsafe { free(new) };
                if let Some(o) = old {
                    glue::synchronize_rcu();
                    // SAFETY: Unlinked; a grace period passed.
                    unsafe { free(o) };
                }
                return Err(e);
            }
            drop(w);
            let r = match old {
                // SAFETY: Unlinked but not yet freed: only we can free it, below.
                Some(o) if unsafe { (*o).with_state(|s| s.keep_stats) } => {
                    // SAFETY: As above.
                    m.fill(|wr| unsafe { (*o).put_stats(wr) })
                }
                _ => m.fill(|wr| MeterAttrs { id: Some(id), ..MeterAttrs::default() }.emit(wr, None)),
            };
            if let Some(o) = old {
                glue::synchronize_rcu();
                // SAFETY: Unlinked; a grace period passed, no reader is left.
                unsafe { free(o) };
            }
            r?;
            m.reply(req)
        }
        OVS_METER_CMD_GET => {
            let id = a.id.ok_or(EINVAL)?;
            let w = WriterLock::lock();
            let dp = w.find(req.net(), req.dp_ifindex).ok_or(ENODEV)?;
            let meter = dp.meters.lookup(id).ok_or(ENOENT)?;
            let mut m = reply(req, dp.ifindex())?;
            m.fill(|wr| meter.put_stats(wr))?;
            drop(w);
            m.reply(req)
        }
        OVS_METER_CMD_DEL => {
            let id = a.id.ok_or(EINVAL)?;
            let w = WriterLock::lock();
            let dp = w.find(req.net(), req.dp_ifindex).ok_or(ENODEV)?;
            let mut m = reply(req, dp.ifindex())?;
            let old = dp.meters.unlink(&w, id);
            drop(w);
            let r = match old {
                // SAFETY: Unlinked, freed only below.
                Some(o) => m.fill(|wr| unsafe { (*o).put_stats(wr) }),
                None => Ok(()),
            };
            if let Some(o) = old {
                glue::synchronize_rcu();
                // SAFETY: Unlinked; a grace period passed.
                unsafe { free(o) };
            }
            r?;
            m.reply(req)
        }
        _ => Err(genl::err(errno::EOPNOTSUPP)),
    }
}
