//! [`UserspaceDpif`]: the userspace datapath. The same core as the kernel module (flow key
//! extraction, megaflow classifier with mask cache, action executor, netlink codec) runs in
//! this process on frames read from the ports:
//!
//! - netdev ports are AF_PACKET sockets bound to the device (batched `recvmmsg`/`sendmmsg`,
//!   `PACKET_VNET_HDR` so checksum-offload and GSO state survive, `PACKET_AUXDATA` for stripped
//!   VLAN tags); internal ports, and the local port named after the datapath, are taps;
//! - one poll thread per port ([`pmd`]); flows live in a lock-free-for-readers table
//!   ([`flow_table`]) with quiescent-state grace periods;
//! - misses and `userspace` actions go to in-process upcall handlers ([`upcall`]) through the
//!   same [`crate::Dpif::recv_set`]/[`crate::UpcallHandler`] API as the kernel datapath; or,
//!   with a [`miss::MissHandler`] registered, misses are translated, installed and executed in
//!   the poll thread itself ([`miss`]).
//!
//! A netdev port whose device disappears (a VM's tap when the VM exits) is detached by its own
//! poll thread, as the kernel datapath's netdevice notifier does; a device re-created under the
//! same name is a new device and needs a new `port_add`.
//!
//! The datapath lives as long as the [`UserspaceDpif`] that created it (or until `destroy`).
//! Other processes reach it through [`crate::remote`] (`rvs-dpctl --datapath-type=userspace`).
//! Meters live in [`meter`]. Not supported: tunnel ports, conntrack; GSO frames sent to userspace as upcalls are
//! not segmented first.

pub mod flow_table;
pub mod meter;
pub mod miss;
pub mod offload;
pub mod pmd;
pub mod port;
pub mod sys;
pub mod upcall;

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use rvs_core::classifier::{CpuCounters, MASK_CACHE_ENTRIES};
use rvs_core::key::FlowKey;
use rvs_core::ovs::key_nl;
use rvs_core::ovs_abi::*;

use crate::error::{DpifError, Result};
use crate::types::*;
use crate::{Dpif, UpcallHandler};
use flow_table::FlowTable;
use port::{Port, PortMap};
use upcall::UpcallSet;

/// Flow capacity of a userspace datapath.
pub const MAX_FLOWS: usize = 65536;
/// Mask capacity.
pub const MAX_MASKS: usize = 256;
/// Features the userspace datapath accepts.
pub const SUPPORTED_FEATURES: u32 = OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS | OVS_DP_F_DISPATCH_UPCALL_PER_CPU;

/// A userspace datapath's shared state (ports, flows, counters, upcall handlers).
#[derive(Debug)]
pub struct Datapath {
    name: String,
    dp_ifindex: AtomicI32,
    /// The flow table.
    pub flows: FlowTable,
    ports: RwLock<Arc<PortMap>>,
    /// Bumped whenever the port map changes.
    pub port_gen: AtomicU64,
    port_ctl: Mutex<()>,
    /// Lookup counters of every engine that ever ran.
    pub counters: Mutex<Vec<Arc<CpuCounters<'static>>>>,
    n_lost: AtomicU64,
    upcalls: RwLock<Arc<UpcallSet>>,
    features: AtomicU32,
    destroyed: AtomicBool,
    /// Meters (the `meter` action).
    pub meters: meter::MeterTable,
    /// The poll threads' miss handler, if any.
    pub miss: miss::MissSlot,
    /// Counters of inline miss handling.
    pub miss_stats: miss::MissStats,
}

impl Datapath {
    /// The current port map and its generation.
    pub fn port_snapshot(&self) -> (Arc<PortMap>, u64) {
        let g = self.port_gen.load(Ordering::Acquire);
        let m = self.ports.read().map_or_else(|p| p.into_inner().clone(), |m| m.clone());
        (m, g)
    }

    fn publish_ports(&self, m: PortMap) {
        match self.ports.write() {
            Ok(mut g) => *g = Arc::new(m),
            Err(p) => *p.into_inner() = Arc::new(m),
        }
        self.port_gen.fetch_add(1, Ordering::Release);
    }

    /// Queues an upcall; counts it lost when no handler takes it.
    #[allow(clippy::too_many_arguments)]
    pub fn upcall(
        &self,
        kind: UpcallKind,
        packet: Vec<u8>,
        key: &FlowKey,
        userdata: Option<Vec<u8>>,
        actions: Option<Vec<u8>>,
        pid: Option<u32>,
        hash: u32,
    ) {
        let set = self.upcalls.read().map_or_else(|p| p.into_inner().clone(), |s| s.clone());
        let u = pmd::make_upcall(kind, self.dp_ifindex.load(Ordering::Relaxed), packet, key, userdata, actions, hash);
        if !set.deliver(u, pid, hash) {
            self.n_lost.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn add_port(self: &Arc<Self>, spec: &PortSpec) -> Result<PortNo> {
        let _g = self.port_ctl.lock().unwrap_or_else(|p| p.into_inner());
        let (map, _) = self.port_snapshot();
        let op = format!("add port {} to {}", spec.name, self.name);
        if map.iter().any(|p| p.name == spec.name) {
            return Err(DpifError::Kernel { op, errno: libc::EEXIST, extack: Some(format!("{} is already a port", spec.name)) });
        }
        let no = match spec.port_no {
            Some(n) if map.get(n).is_some() => {
                return Err(DpifError::Kernel { op, errno: libc::EBUSY, extack: Some(format!("port {n} is in use")) })
            }
            Some(n) if n >= key_nl::DP_MAX_PORTS => {
                return Err(DpifError::Kernel { op, errno: libc::EFBIG, extack: None })
            }
            Some(n) => n,
            None => map.free_no(),
        };
        let port = Arc::new(Port::open(no, &spec.name, spec.port_type)?);
        self.publish_ports(map.with(port.clone()));
        let (dp, p) = (self.clone(), port.clone());
        let t = std::thread::Builder::new()
            .name(format!("rvs-pmd-{}", spec.name))
            .spawn(move || pmd::poll_port(dp, p))
            .map_err(|e| DpifError::Kernel { op: "spawn poll thread".into(), errno: e.raw_os_error().unwrap_or(libc::EAGAIN), extack: None })?;
        *port.thread.lock().unwrap_or_else(|p| p.into_inner()) = Some(t);
        Ok(no)
    }

    fn del_port(&self, no: PortNo) -> Result<()> {
        let _g = self.port_ctl.lock().unwrap_or_else(|p| p.into_inner());
        let (map, _) = self.port_snapshot();
        let p = map.get(no).cloned().ok_or_else(|| DpifError::Kernel {
            op: format!("delete port {no} from {}", self.name),
            errno: libc::ENOENT,
            extack: None,
        })?;
        self.publish_ports(map.without(no));
        p.shutdown();
        Ok(())
    }

    /// Removes `port` because its device disappeared (called by the port's own poll thread); a
    /// no-op if the port was already deleted or its number now belongs to another port.
    pub fn detach_gone(&self, port: &Arc<Port>) {
        // Not a blocking lock: `del_port`/`shutdown` hold `port_ctl` while they join this very
        // thread; they set `stop` first, so waiting for either the lock or `stop` cannot deadlock.
        let _g = loop {
            if port.stop.load(Ordering::Acquire) {
                return;
            }
            match self.port_ctl.try_lock() {
                Ok(g) => break g,
                Err(std::sync::TryLockError::Poisoned(p)) => break p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => std::thread::sleep(std::time::Duration::from_millis(1)),
            }
        };
        let (map, _) = self.port_snapshot();
        if !map.get(port.no).is_some_and(|p| Arc::ptr_eq(p, port)) {
            return;
        }
        self.publish_ports(map.without(port.no));
        port.shutdown();
    }

    fn port_info(&self, p: &Port) -> PortInfo {
        let set = self.upcalls.read().map_or_else(|p| p.into_inner().clone(), |s| s.clone());
        PortInfo {
            dp_ifindex: self.dp_ifindex.load(Ordering::Relaxed),
            port_no: p.no,
            port_type: p.ty,
            name: p.name.clone(),
            upcall_pids: set.pids(),
            stats: Some(p.stats.snapshot()),
            ifindex: Some(p.ifindex),
            dst_port: None,
            upcall_stats: None,
        }
    }

    fn shutdown(&self) {
        if self.destroyed.swap(true, Ordering::AcqRel) {
            return;
        }
        let _g = self.port_ctl.lock().unwrap_or_else(|p| p.into_inner());
        let (map, _) = self.port_snapshot();
        self.publish_ports(PortMap::default());
        for p in map.iter() {
            p.shutdown();
        }
        self.flows.flush();
    }
}

/// A handle on a userspace datapath in this process. The handle that created the datapath owns
/// it: dropping that handle destroys the datapath (ports closed, the local tap removed).
#[derive(Debug)]
pub struct UserspaceDpif {
    dp: Arc<Datapath>,
    owner: bool,
}

impl UserspaceDpif {
    /// Creates datapath `name` with its local port (a tap named `name`).
    pub fn create(name: &str) -> Result<Self> {
        let flows = FlowTable::new(MAX_FLOWS, MAX_MASKS)?;
        let dp = Arc::new(Datapath {
            name: name.to_string(),
            dp_ifindex: AtomicI32::new(0),
            flows,
            ports: RwLock::new(Arc::new(PortMap::default())),
            port_gen: AtomicU64::new(0),
            port_ctl: Mutex::new(()),
            counters: Mutex::new(Vec::new()),
            n_lost: AtomicU64::new(0),
            upcalls: RwLock::new(Arc::new(UpcallSet::default())),
            features: AtomicU32::new(0),
            destroyed: AtomicBool::new(false),
            meters: meter::MeterTable::default(),
            miss: miss::MissSlot::default(),
            miss_stats: miss::MissStats::default(),
        });
        let spec = PortSpec { name: name.to_string(), port_type: PortType::Internal, port_no: Some(LOCAL_PORT), dst_port: None };
        dp.add_port(&spec).map_err(|e| match e {
            DpifError::Kernel { errno, extack, .. } => DpifError::Kernel { op: format!("create datapath {name}"), errno, extack },
            e => e,
        })?;
        let ifindex = dp.port_snapshot().0.get(LOCAL_PORT).map_or(0, |p| p.ifindex);
        dp.dp_ifindex.store(ifindex, Ordering::Relaxed);
        Ok(Self { dp, owner: true })
    }

    /// Another (non-owning) handle on the same datapath.
    pub fn handle(&self) -> Self {
        Self { dp: self.dp.clone(), owner: false }
    }

    /// The shared state.
    pub fn datapath(&self) -> &Arc<Datapath> {
        &self.dp
    }

    /// Has the poll threads translate misses with `h` (see [`miss`]) instead of queueing upcalls;
    /// `None` goes back to upcalls.
    pub fn set_miss_handler(&self, h: Option<Arc<dyn miss::MissHandler>>) {
        self.dp.miss.set(h);
    }

    /// Flows the poll threads' miss path installs at most (0: the table's capacity,
    /// [`MAX_FLOWS`]); above it misses are executed without a flow.
    pub fn set_flow_limit(&self, n: usize) {
        self.dp.flows.set_limit(n);
    }

    /// Counters of inline miss handling.
    pub fn miss_counts(&self) -> miss::MissCounts {
        self.dp.miss_stats.snapshot()
    }

    fn check_live(&self) -> Result<()> {
        if self.dp.destroyed.load(Ordering::Acquire) {
            return Err(DpifError::Kernel { op: format!("datapath {}", self.dp.name), errno: libc::ENODEV, extack: Some("destroyed".into()) });
        }
        Ok(())
    }
}

impl Drop for UserspaceDpif {
    fn drop(&mut self) {
        if self.owner {
            self.dp.shutdown();
        }
    }
}

impl Dpif for UserspaceDpif {
    fn name(&self) -> &str {
        &self.dp.name
    }

    fn dp_ifindex(&self) -> i32 {
        self.dp.dp_ifindex.load(Ordering::Relaxed)
    }

    fn info(&mut self) -> Result<DpInfo> {
        self.check_live()?;
        let counters = self.dp.counters.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let s = self.dp.flows.stats(counters.iter().map(|c| &**c));
        Ok(DpInfo {
            name: self.dp.name.clone(),
            dp_ifindex: self.dp_ifindex(),
            stats: DpStats {
                n_hit: s.hits,
                n_missed: s.misses,
                n_lost: self.dp.n_lost.load(Ordering::Relaxed),
                n_flows: u64::from(s.flows),
            },
            megaflow: Some(MegaflowStats { n_mask_hit: s.masks_probed, n_masks: s.masks, n_cache_hit: s.cache_hits }),
            user_features: self.dp.features.load(Ordering::Relaxed),
            masks_cache_size: Some(MASK_CACHE_ENTRIES as u32),
            per_cpu_pids: Vec::new(),
        })
    }

    fn set_features(&mut self, features: u32) -> Result<u32> {
        let f = features & SUPPORTED_FEATURES;
        if f != features {
            return Err(DpifError::Kernel { op: "set features".into(), errno: libc::EOPNOTSUPP, extack: None });
        }
        self.dp.features.store(f, Ordering::Relaxed);
        Ok(f)
    }

    fn dispatch(&self) -> Option<Dispatch> {
        let f = self.dp.features.load(Ordering::Relaxed);
        if f & OVS_DP_F_DISPATCH_UPCALL_PER_CPU != 0 {
            Some(Dispatch::PerCpu)
        } else if f & OVS_DP_F_VPORT_PIDS != 0 {
            Some(Dispatch::PerVport)
        } else {
            None
        }
    }

    fn port_add(&mut self, spec: &PortSpec) -> Result<PortNo> {
        self.check_live()?;
        self.dp.add_port(spec)
    }

    fn port_del(&mut self, port_no: PortNo) -> Result<()> {
        self.check_live()?;
        if port_no == LOCAL_PORT {
            return Err(DpifError::Kernel { op: "delete port 0".into(), errno: libc::EINVAL, extack: Some("the local port goes with the datapath".into()) });
        }
        self.dp.del_port(port_no)
    }

    fn port_get(&mut self, port_no: PortNo) -> Result<PortInfo> {
        let (m, _) = self.dp.port_snapshot();
        m.get(port_no)
            .map(|p| self.dp.port_info(p))
            .ok_or_else(|| DpifError::Kernel { op: format!("get port {port_no}"), errno: libc::ENOENT, extack: None })
    }

    fn port_get_by_name(&mut self, name: &str) -> Result<PortInfo> {
        let (m, _) = self.dp.port_snapshot();
        let found = m.iter().find(|p| p.name == name).map(|p| self.dp.port_info(p));
        found.ok_or_else(|| DpifError::Kernel { op: format!("get port {name}"), errno: libc::ENODEV, extack: None })
    }

    fn port_list(&mut self) -> Result<Vec<PortInfo>> {
        let (m, _) = self.dp.port_snapshot();
        Ok(m.iter().map(|p| self.dp.port_info(p)).collect())
    }

    fn flow_put(&mut self, put: &FlowPut<'_>) -> Result<()> {
        self.check_live()?;
        self.dp.flows.put(put)
    }

    fn flow_del(&mut self, id: FlowId<'_>) -> Result<Option<FlowStats>> {
        self.dp.flows.del(id).map(Some)
    }

    fn flow_get(&mut self, id: FlowId<'_>) -> Result<Flow> {
        self.dp.flows.get(id)
    }

    fn flow_dump(&mut self, opts: DumpOptions) -> Result<Vec<Flow>> {
        Ok(self.dp.flows.dump(opts.terse))
    }

    fn flow_flush(&mut self) -> Result<()> {
        self.dp.flows.flush();
        Ok(())
    }

    fn execute(&mut self, e: &Execute<'_>) -> Result<()> {
        self.check_live()?;
        let md_key = key_nl::decode_metadata(e.key)
            .map_err(|c| DpifError::Kernel { op: "execute".into(), errno: c.errno(), extack: Some(c.to_string()) })?;
        let (k, _) = rvs_core::extract::extract(e.packet, &pmd_metadata(&md_key));
        rvs_core::ovs::validate_actions(e.actions, &k)
            .map_err(|c| DpifError::Kernel { op: "execute".into(), errno: c.errno(), extack: Some(c.to_string()) })?;
        if e.packet.len() < 14 {
            return Err(DpifError::Kernel { op: "execute".into(), errno: libc::EINVAL, extack: Some("packet shorter than an Ethernet header".into()) });
        }
        let reader = self.dp.flows.qsbr.register();
        let mut eng = pmd::Engine::new(self.dp.clone());
        reader.enter();
        eng.execute(e.packet, pmd_metadata(&md_key), e.actions);
        reader.leave();
        self.dp.flows.qsbr.unregister(&reader);
        Ok(())
    }

    fn recv_set(&mut self, n_handlers: usize) -> Result<Vec<Box<dyn UpcallHandler>>> {
        let set = UpcallSet::new(n_handlers.max(1));
        let handlers = set.handlers();
        match self.dp.upcalls.write() {
            Ok(mut g) => *g = Arc::new(set),
            Err(p) => *p.into_inner() = Arc::new(set),
        }
        Ok(handlers)
    }

    fn meter_features(&mut self) -> Result<MeterFeatures> {
        Ok(meter::MeterTable::features())
    }

    fn meter_set(&mut self, m: &MeterConfig) -> Result<()> {
        self.check_live()?;
        self.dp.meters.set(m, sys::monotonic_ms())
    }

    fn meter_get(&mut self, id: u32) -> Result<MeterStats> {
        self.dp.meters.get(id)
    }

    fn meter_del(&mut self, id: u32) -> Result<MeterStats> {
        self.dp.meters.del(id)
    }

    fn destroy(&mut self) -> Result<()> {
        self.check_live()?;
        self.dp.shutdown();
        Ok(())
    }
}

/// The extraction metadata a decoded metadata key describes.
fn pmd_metadata(k: &FlowKey) -> rvs_core::extract::Metadata {
    rvs_core::extract::Metadata {
        in_port: k.in_port(),
        priority: k.priority(),
        skb_mark: k.skb_mark(),
        recirc_id: k.recirc_id(),
        dp_hash: k.dp_hash(),
        tunnel: None,
        hw_vlan: None,
    }
}
