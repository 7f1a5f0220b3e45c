//! The datapath interface (dpif): one API through which rvs's userspace drives a datapath.
//!
//! Implementations: [`netlink::KernelDpif`], the kernel datapath (`rvs.ko` or the upstream
//! `openvswitch.ko`) over generic netlink; [`netdev::UserspaceDpif`], the userspace datapath
//! (the core running in this process on AF_PACKET/tap ports), and [`remote::RemoteDpif`], a
//! userspace datapath owned by another process reached over its unix socket. [`open`],
//! [`create`] and [`list`] pick by [`DatapathType`]: for `Userspace`, `create` makes an
//! in-process datapath, `open`/`list` reach served ones (`/run/rvs/DP.sock`).
//!
//! Flow keys, masks and actions cross this API as encoded `OVS_KEY_ATTR_*` /
//! `OVS_ACTION_ATTR_*` attribute bytes (see [`types`]); the core's typed codec produces and
//! reads them.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod error;
pub mod netdev;
pub mod netlink;
pub mod text;
pub mod remote;
pub mod types;

pub use error::{DpifError, Result};
pub use netlink::kernel::{Families, KernelControl, FALLBACK_FEATURES, WANTED_FEATURES};
pub use netlink::notify::{PortChange, PortNotifier};
pub use netdev::UserspaceDpif;
pub use netlink::KernelDpif;
pub use netdev::sys::monotonic_ms;
pub use types::*;

/// One upcall handler: a socket the datapath sends packets to, drained by one thread.
pub trait UpcallHandler: Send + std::fmt::Debug {
    /// The netlink port ID the datapath addresses.
    fn pid(&self) -> u32;
    /// Receives up to `max` queued upcalls without blocking, appending to `out`; returns how
    /// many were appended.
    fn recv_batch(&mut self, max: usize, out: &mut Vec<Upcall>) -> Result<usize>;
    /// Waits until an upcall is queued or `timeout_ms` passes (-1: forever).
    fn wait(&mut self, timeout_ms: i32) -> Result<bool>;
    /// Times the socket queue overflowed (upcalls the kernel then counted as lost).
    fn overflows(&self) -> u64;
}

/// Operations on one opened datapath.
pub trait Dpif: Send + std::fmt::Debug {
    /// The datapath's name.
    fn name(&self) -> &str;
    /// The datapath's index (`ovs_header.dp_ifindex`).
    fn dp_ifindex(&self) -> i32;
    /// Fresh description and statistics.
    fn info(&mut self) -> Result<DpInfo>;
    /// Sets the `OVS_DP_F_*` user features; returns those in force afterwards.
    fn set_features(&mut self, features: u32) -> Result<u32>;
    /// How upcalls are dispatched to handlers, per the negotiated features.
    fn dispatch(&self) -> Option<Dispatch>;

    /// Adds a port; returns its number.
    fn port_add(&mut self, spec: &PortSpec) -> Result<PortNo>;
    /// Removes a port.
    fn port_del(&mut self, port_no: PortNo) -> Result<()>;
    /// Describes a port by number.
    fn port_get(&mut self, port_no: PortNo) -> Result<PortInfo>;
    /// Describes a port by device name.
    fn port_get_by_name(&mut self, name: &str) -> Result<PortInfo>;
    /// All ports, by number.
    fn port_list(&mut self) -> Result<Vec<PortInfo>>;

    /// Installs or modifies a flow.
    fn flow_put(&mut self, put: &FlowPut<'_>) -> Result<()>;
    /// Deletes a flow; returns its final statistics when the datapath reports them.
    fn flow_del(&mut self, id: FlowId<'_>) -> Result<Option<FlowStats>>;
    /// Reads one flow.
    fn flow_get(&mut self, id: FlowId<'_>) -> Result<Flow>;
    /// Reads every flow.
    fn flow_dump(&mut self, opts: DumpOptions) -> Result<Vec<Flow>>;
    /// Deletes every flow.
    fn flow_flush(&mut self) -> Result<()>;

    /// Runs actions on a packet.
    fn execute(&mut self, e: &Execute<'_>) -> Result<()>;
    /// Installs a flow, then runs `exec` (a miss's packet, typically with the flow's actions),
    /// as cheaply as the datapath allows: the kernel datapath sends both requests in one
    /// `sendmsg` and waits only for the put's acknowledgement, so an `exec` failure is not
    /// reported. Returns the put's result.
    fn flow_put_execute(&mut self, put: &FlowPut<'_>, exec: Option<&Execute<'_>>) -> Result<()> {
        let r = self.flow_put(put);
        if let Some(e) = exec {
            let _ = self.execute(e);
        }
        r
    }
    /// [`Dpif::flow_put_execute`] for a batch of misses: the kernel datapath sends all of them
    /// in as few `sendmsg` calls as its socket buffer allows and then collects the puts'
    /// acknowledgements. Returns each put's result, in order.
    fn flow_put_execute_batch(&mut self, ops: &[(FlowPut<'_>, Option<Execute<'_>>)]) -> Vec<Result<()>> {
        ops.iter().map(|(p, e)| self.flow_put_execute(p, e.as_ref())).collect()
    }
    /// Opens `n_handlers` upcall handlers and directs the datapath's upcalls to them
    /// (replacing any previous set).
    fn recv_set(&mut self, n_handlers: usize) -> Result<Vec<Box<dyn UpcallHandler>>>;

    /// Meter capabilities.
    fn meter_features(&mut self) -> Result<MeterFeatures>;
    /// Installs or replaces a meter.
    fn meter_set(&mut self, m: &MeterConfig) -> Result<()>;
    /// Reads a meter's statistics.
    fn meter_get(&mut self, id: u32) -> Result<MeterStats>;
    /// Deletes a meter, returning its last statistics.
    fn meter_del(&mut self, id: u32) -> Result<MeterStats>;

    /// Deletes the datapath itself.
    fn destroy(&mut self) -> Result<()>;
}

/// Which datapath implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DatapathType {
    /// The kernel datapath (`rvs.ko` / `openvswitch.ko`).
    #[default]
    System,
    /// The userspace datapath.
    Userspace,
}

impl std::str::FromStr for DatapathType {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "system" => Ok(Self::System),
            "userspace" | "netdev" => Ok(Self::Userspace),
            _ => Err(format!("unknown datapath type '{s}' (expected system or userspace)")),
        }
    }
}

/// Opens datapath `name` of `ty` without changing it (a userspace datapath through its owner's
/// socket).
pub fn open(ty: DatapathType, name: &str) -> Result<Box<dyn Dpif>> {
    match ty {
        DatapathType::System => Ok(Box::new(KernelDpif::open(name)?)),
        DatapathType::Userspace => Ok(Box::new(remote::RemoteDpif::connect(name)?)),
    }
}

/// Creates datapath `name` of `ty` (negotiating features) and opens it. A userspace datapath is
/// created in this process and lives as long as the returned handle (see [`remote::serve`] to
/// make it reachable from others).
pub fn create(ty: DatapathType, name: &str) -> Result<Box<dyn Dpif>> {
    match ty {
        DatapathType::System => Ok(Box::new(KernelDpif::create(name)?)),
        DatapathType::Userspace => Ok(Box::new(UserspaceDpif::create(name)?)),
    }
}

/// Lists the datapaths of `ty` (userspace: those served on this machine).
pub fn list(ty: DatapathType) -> Result<Vec<DpInfo>> {
    match ty {
        DatapathType::System => KernelControl::open()?.list(),
        DatapathType::Userspace => remote::list(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datapath_type_parsing() {
        assert_eq!("system".parse::<DatapathType>(), Ok(DatapathType::System));
        assert_eq!("userspace".parse::<DatapathType>(), Ok(DatapathType::Userspace));
        assert!("xdp".parse::<DatapathType>().is_err());
        assert!("netdev".parse::<DatapathType>() == Ok(DatapathType::Userspace));
    }

    #[test]
    fn negotiation_feature_sets() {
        use rvs_core::ovs_abi::*;
        assert_eq!(WANTED_FEATURES, OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS | OVS_DP_F_DISPATCH_UPCALL_PER_CPU);
        assert_eq!(FALLBACK_FEATURES & OVS_DP_F_DISPATCH_UPCALL_PER_CPU, 0);
    }
}
