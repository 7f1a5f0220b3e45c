//! [`KernelDpif`]: a datapath in the kernel (`rvs.ko` or `openvswitch.ko`) driven over generic
//! netlink.
//!
//! Opening resolves the `ovs_datapath`, `ovs_vport`, `ovs_flow`, `ovs_packet` (and, if
//! present, `ovs_meter`) family IDs and the `ovs_vport` multicast group. Creating or claiming a
//! datapath negotiates user features as `ovs-vswitchd` does: ask for
//! `OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS | OVS_DP_F_DISPATCH_UPCALL_PER_CPU`, and if the
//! datapath refuses, again without per-CPU dispatch. [`crate::Dpif::recv_set`] then opens one
//! socket per handler and points the datapath at them: per CPU (`OVS_DP_ATTR_PER_CPU_PIDS`)
//! when negotiated, else on every port (`OVS_VPORT_ATTR_UPCALL_PID` lists).

use neli::consts::nl::NlmF;

use super::msg::MsgError;
use super::notify::PortNotifier;
use super::transport::{GenlSocket, TransportError};
use super::upcall::{per_cpu_pids, possible_cpus, KernelUpcallHandler};
use super::{datapath, flow, meter, packet, vport};
use crate::error::{DpifError, Result};
use crate::types::*;
use crate::{Dpif, UpcallHandler};
use rvs_core::ovs_abi::*;

/// Features `ovs-vswitchd` asks for first.
pub const WANTED_FEATURES: u32 = OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS | OVS_DP_F_DISPATCH_UPCALL_PER_CPU;
/// Features asked for when the datapath refuses per-CPU dispatch.
pub const FALLBACK_FEATURES: u32 = OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS;

/// The resolved generic netlink family IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Families {
    /// `ovs_datapath`.
    pub datapath: u16,
    /// `ovs_vport`.
    pub vport: u16,
    /// `ovs_flow`.
    pub flow: u16,
    /// `ovs_packet`.
    pub packet: u16,
    /// `ovs_meter`, absent on old kernels.
    pub meter: Option<u16>,
    /// The `ovs_vport` multicast group.
    pub vport_mcgroup: Option<u32>,
}

impl Families {
    /// Resolves every family on `sock`; a missing `ovs_datapath` means no module is loaded.
    pub fn resolve(sock: &mut GenlSocket) -> Result<Self> {
        let mut get = |name: &str| match sock.resolve_family(name) {
            Ok(f) => Ok(Some(f)),
            Err(TransportError::Kernel { errno, .. }) if errno == libc::ENOENT => Ok(None),
            Err(e) => Err(DpifError::from_transport(format!("resolve {name}"), e)),
        };
        let dp = get(OVS_DATAPATH_FAMILY)?.ok_or(DpifError::NoModule)?;
        let vp = get(OVS_VPORT_FAMILY)?.ok_or(DpifError::NoModule)?;
        let fl = get(OVS_FLOW_FAMILY)?.ok_or(DpifError::NoModule)?;
        let pk = get(OVS_PACKET_FAMILY)?.ok_or(DpifError::NoModule)?;
        let me = get(OVS_METER_FAMILY)?;
        Ok(Self {
            datapath: dp.id,
            vport: vp.id,
            flow: fl.id,
            packet: pk.id,
            meter: me.map(|m| m.id),
            vport_mcgroup: vp.group(OVS_VPORT_MCGROUP),
        })
    }
}

/// Control-plane access to the kernel datapaths, before any is opened.
#[derive(Debug)]
pub struct KernelControl {
    sock: GenlSocket,
    fam: Families,
}

fn tr<T>(op: impl FnOnce() -> String, r: std::result::Result<T, TransportError>) -> Result<T> {
    r.map_err(|e| DpifError::from_transport(op(), e))
}

fn ms<T>(op: &str, r: std::result::Result<T, MsgError>) -> Result<T> {
    r.map_err(|e| DpifError::from_msg(op, e))
}

impl KernelControl {
    /// Opens a netlink socket and resolves the families.
    pub fn open() -> Result<Self> {
        let mut sock = tr(|| "netlink socket".into(), GenlSocket::open())?;
        let fam = Families::resolve(&mut sock)?;
        Ok(Self { sock, fam })
    }

    /// The resolved families.
    pub fn families(&self) -> Families {
        self.fam
    }

    /// Every datapath.
    pub fn list(&mut self) -> Result<Vec<DpInfo>> {
        let req = ms("list datapaths", datapath::request(OVS_DP_CMD_GET, &datapath::DpRequest::default()))?;
        let entries = tr(|| "list datapaths".into(), self.sock.dump(self.fam.datapath, req))?;
        entries.iter().map(|p| ms("list datapaths", datapath::parse(p))).collect()
    }

    /// Looks a datapath up by name (no privilege needed).
    pub fn get(&mut self, name: &str) -> Result<DpInfo> {
        self.dp_transact("get datapath", OVS_DP_CMD_GET, &datapath::DpRequest { name: Some(name), ..Default::default() })
    }

    /// Deletes a datapath by name.
    pub fn delete(&mut self, name: &str) -> Result<()> {
        let req = ms("delete datapath", datapath::request(OVS_DP_CMD_DEL, &datapath::DpRequest { name: Some(name), ..Default::default() }))?;
        tr(|| format!("delete datapath {name}"), self.sock.transact(self.fam.datapath, NlmF::empty(), req))?;
        Ok(())
    }

    fn dp_transact(&mut self, op: &str, cmd: u16, req: &datapath::DpRequest<'_>) -> Result<DpInfo> {
        let flags = if cmd == OVS_DP_CMD_GET { NlmF::empty() } else { NlmF::ECHO };
        let bytes = ms(op, datapath::request(cmd, req))?;
        let name = req.name.unwrap_or("");
        let reply = tr(|| format!("{op} {name}"), self.sock.transact(self.fam.datapath, flags, bytes))?
            .ok_or_else(|| DpifError::from_msg(op, MsgError::Missing("datapath reply")))?;
        ms(op, datapath::parse(&reply))
    }

    /// Creates (`create`) or claims an existing datapath, negotiating user features like
    /// `ovs-vswitchd`; returns the datapath as the kernel then describes it.
    pub fn negotiate(&mut self, name: &str, create: bool) -> Result<DpInfo> {
        let (cmd, op) = if create { (OVS_DP_CMD_NEW, "create datapath") } else { (OVS_DP_CMD_SET, "open datapath") };
        let mut req = datapath::DpRequest {
            name: Some(name),
            upcall_pid: create.then_some(0),
            user_features: Some(WANTED_FEATURES),
            ..Default::default()
        };
        match self.dp_transact(op, cmd, &req) {
            Err(DpifError::Kernel { errno, .. }) if errno == libc::EOPNOTSUPP || errno == libc::EINVAL => {
                req.user_features = Some(FALLBACK_FEATURES);
                self.dp_transact(op, cmd, &req)
            }
            other => other,
        }
    }
}

/// An opened kernel datapath.
#[derive(Debug)]
pub struct KernelDpif {
    ctl: KernelControl,
    name: String,
    dp_ifindex: i32,
    user_features: u32,
    handler_pids: Vec<u32>,
}

impl KernelDpif {
    /// Creates a datapath and opens it (features negotiated).
    pub fn create(name: &str) -> Result<Self> {
        let mut ctl = KernelControl::open()?;
        let info = ctl.negotiate(name, true)?;
        Ok(Self::from_info(ctl, info))
    }

    /// Opens an existing datapath and claims it for packet processing: features are
    /// (re)negotiated, as `ovs-vswitchd` does on start. Needs `CAP_NET_ADMIN`.
    pub fn open_negotiate(name: &str) -> Result<Self> {
        let mut ctl = KernelControl::open()?;
        let info = ctl.negotiate(name, false)?;
        Ok(Self::from_info(ctl, info))
    }

    /// Opens an existing datapath read-mostly: nothing is changed (what `show` needs).
    pub fn open(name: &str) -> Result<Self> {
        let mut ctl = KernelControl::open()?;
        let info = ctl.get(name)?;
        Ok(Self::from_info(ctl, info))
    }

    fn from_info(ctl: KernelControl, info: DpInfo) -> Self {
        Self { ctl, name: info.name, dp_ifindex: info.dp_ifindex, user_features: info.user_features, handler_pids: Vec::new() }
    }

    /// The resolved families.
    pub fn families(&self) -> Families {
        self.ctl.fam
    }

    /// Subscribes to this datapath's port notifications.
    pub fn port_notifier(&self) -> Result<PortNotifier> {
        let group = self
            .ctl
            .fam
            .vport_mcgroup
            .ok_or_else(|| DpifError::Unsupported("the ovs_vport family has no multicast group".into()))?;
        PortNotifier::open(self.ctl.fam.vport, group, self.dp_ifindex)
    }

    fn sock(&mut self) -> &mut GenlSocket {
        &mut self.ctl.sock
    }

    fn vport_transact(&mut self, op: &str, cmd: u16, req: &vport::VportRequest<'_>, flags: NlmF) -> Result<Option<PortInfo>> {
        let bytes = ms(op, vport::request(cmd, req))?;
        let fam = self.ctl.fam.vport;
        let reply = tr(|| op.to_string(), self.sock().transact(fam, flags, bytes))?;
        reply.map(|r| ms(op, vport::parse(&r))).transpose()
    }

    fn port_get_req(&mut self, op: &str, req: vport::VportRequest<'_>) -> Result<PortInfo> {
        self.vport_transact(op, OVS_VPORT_CMD_GET, &req, NlmF::empty())?
            .ok_or_else(|| DpifError::from_msg(op, MsgError::Missing("vport reply")))
    }

    fn flow_fam(&self) -> u16 {
        self.ctl.fam.flow
    }

    fn meter_fam(&self) -> Result<u16> {
        self.ctl.fam.meter.ok_or_else(|| DpifError::Unsupported("this datapath has no meter support (no ovs_meter family)".into()))
    }

    /// The upcall PIDs a new port gets: the handlers' with per-vport dispatch, else 0.
    fn port_upcall_pids(&self) -> Vec<u32> {
        if self.dispatch() == Some(Dispatch::PerVport) && !self.handler_pids.is_empty() {
            self.handler_pids.clone()
        } else {
            vec![0]
        }
    }
}

impl Dpif for KernelDpif {
    fn name(&self) -> &str {
        &self.name
    }

    fn dp_ifindex(&self) -> i32 {
        self.dp_ifindex
    }

    fn info(&mut self) -> Result<DpInfo> {
        let name = self.name.clone();
        let info = self.ctl.get(&name)?;
        self.user_features = info.user_features;
        Ok(info)
    }

    fn set_features(&mut self, features: u32) -> Result<u32> {
        let req = datapath::DpRequest { dp_ifindex: self.dp_ifindex, user_features: Some(features), ..Default::default() };
        let info = self.ctl.dp_transact("set features", OVS_DP_CMD_SET, &req)?;
        self.user_features = info.user_features;
        Ok(info.user_features)
    }

    fn dispatch(&self) -> Option<Dispatch> {
        if self.user_features & OVS_DP_F_DISPATCH_UPCALL_PER_CPU != 0 {
            Some(Dispatch::PerCpu)
        } else if self.user_features & OVS_DP_F_VPORT_PIDS != 0 {
            Some(Dispatch::PerVport)
        } else {
            None
        }
    }

    fn port_add(&mut self, spec: &PortSpec) -> Result<PortNo> {
        let pids = self.port_upcall_pids();
        let req = vport::VportRequest {
            dp_ifindex: self.dp_ifindex,
            port_no: spec.port_no,
            port_type: Some(spec.port_type),
            name: Some(&spec.name),
            upcall_pids: Some(&pids),
            dst_port: spec.dst_port,
        };
        let op = format!("add port {} to {}", spec.name, self.name);
        let info = self
            .vport_transact(&op, OVS_VPORT_CMD_NEW, &req, NlmF::ECHO)?
            .ok_or_else(|| DpifError::from_msg(op, MsgError::Missing("vport reply")))?;
        Ok(info.port_no)
    }

    fn port_del(&mut self, port_no: PortNo) -> Result<()> {
        let req = vport::VportRequest { dp_ifindex: self.dp_ifindex, port_no: Some(port_no), ..Default::default() };
        let op = format!("delete port {port_no} from {}", self.name);
        self.vport_transact(&op, OVS_VPORT_CMD_DEL, &req, NlmF::empty())?;
        Ok(())
    }

    fn port_get(&mut self, port_no: PortNo) -> Result<PortInfo> {
        let req = vport::VportRequest { dp_ifindex: self.dp_ifindex, port_no: Some(port_no), ..Default::default() };
        self.port_get_req(&format!("get port {port_no}"), req)
    }

    fn port_get_by_name(&mut self, name: &str) -> Result<PortInfo> {
        let req = vport::VportRequest { dp_ifindex: self.dp_ifindex, name: Some(name), ..Default::default() };
        let p = self.port_get_req(&format!("get port {name}"), req)?;
        if p.dp_ifindex != self.dp_ifindex {
            return Err(DpifError::Kernel { op: format!("get port {name}"), errno: libc::ENODEV, extack: Some(format!("{name} belongs to another datapath")) });
        }
        Ok(p)
    }

    fn port_list(&mut self) -> Result<Vec<PortInfo>> {
        let req = vport::VportRequest { dp_ifindex: self.dp_ifindex, ..Default::default() };
        let bytes = ms("list ports", vport::request(OVS_VPORT_CMD_GET, &req))?;
        let fam = self.ctl.fam.vport;
        let r = self.ctl.sock.dump(fam, bytes);
        let entries = tr(|| format!("list ports of {}", self.name), r)?;
        let mut ports: Vec<PortInfo> = entries.iter().map(|p| ms("list ports", vport::parse(p))).collect::<Result<_>>()?;
        ports.sort_by_key(|p| p.port_no);
        Ok(ports)
    }

    fn flow_put(&mut self, put: &FlowPut<'_>) -> Result<()> {
        let (_, flags) = flow::put_command(put);
        let bytes = ms("flow put", flow::put_request(self.dp_ifindex, put))?;
        let fam = self.flow_fam();
        tr(|| "flow put".into(), self.sock().transact(fam, NlmF::from_bits_truncate(flags), bytes))?;
        Ok(())
    }

    fn flow_del(&mut self, id: FlowId<'_>) -> Result<Option<FlowStats>> {
        let bytes = ms("flow del", flow::del_request(self.dp_ifindex, Some(id)))?;
        let fam = self.flow_fam();
        let reply = tr(|| "flow del".into(), self.sock().transact(fam, NlmF::ECHO, bytes))?;
        reply.map(|r| ms("flow del", flow::parse_stats(&r))).transpose()
    }

    fn flow_get(&mut self, id: FlowId<'_>) -> Result<Flow> {
        let bytes = ms("flow get", flow::get_request(self.dp_ifindex, id, 0))?;
        let fam = self.flow_fam();
        let reply = tr(|| "flow get".into(), self.sock().transact(fam, NlmF::empty(), bytes))?
            .ok_or_else(|| DpifError::from_msg("flow get", MsgError::Missing("flow reply")))?;
        ms("flow get", flow::parse(&reply))
    }

    fn flow_dump(&mut self, opts: DumpOptions) -> Result<Vec<Flow>> {
        let bytes = ms("flow dump", flow::dump_request(self.dp_ifindex, opts.terse))?;
        let fam = self.flow_fam();
        let entries = tr(|| "flow dump".into(), self.sock().dump(fam, bytes))?;
        entries.iter().map(|e| ms("flow dump", flow::parse(e))).collect()
    }

    fn flow_flush(&mut self) -> Result<()> {
        let bytes = ms("flow flush", flow::del_request(self.dp_ifindex, None))?;
        let fam = self.flow_fam();
        tr(|| "flow flush".into(), self.sock().transact(fam, NlmF::empty(), bytes))?;
        Ok(())
    }

    fn flow_put_execute(&mut self, put: &FlowPut<'_>, exec: Option<&Execute<'_>>) -> Result<()> {
        let Some(e) = exec else { return self.flow_put(put) };
        let (_, flags) = flow::put_command(put);
        let put_bytes = ms("flow put", flow::put_request(self.dp_ifindex, put))?;
        let exec_bytes = ms("execute", packet::execute_request(self.dp_ifindex, e))?;
        let (flow_fam, packet_fam) = (self.flow_fam(), self.ctl.fam.packet);
        let reqs = [(flow_fam, NlmF::from_bits_truncate(flags) | NlmF::ACK, put_bytes.as_slice()), (packet_fam, NlmF::empty(), exec_bytes.as_slice())];
        let seqs = tr(|| "flow put + execute".into(), self.sock().send_many(&reqs))?;
        let seq = seqs.first().copied().unwrap_or(0);
        tr(|| "flow put".into(), self.sock().wait_ack(seq))?;
        Ok(())
    }

    fn flow_put_execute_batch(&mut self, ops: &[(FlowPut<'_>, Option<Execute<'_>>)]) -> Vec<Result<()>> {
        /// A datagram grows until it holds this much (or one request, whatever its size):
        /// well under the default socket send buffer.
        const DATAGRAM: usize = 64 * 1024;
        let mut results: Vec<Result<()>> = Vec::with_capacity(ops.len());
        let (flow_fam, packet_fam) = (self.flow_fam(), self.ctl.fam.packet);
        let mut i = 0;
        while i < ops.len() {
            // One datagram: encode requests until it is full (an encoding error fails only its op).
            let mut bufs: Vec<(usize, u16, NlmF, Vec<u8>)> = Vec::new();
            let mut size = 0;
            while i < ops.len() && (bufs.is_empty() || size < DATAGRAM) {
                let (put, exec) = &ops[i];
                let (_, flags) = flow::put_command(put);
                let put_bytes = ms("flow put", flow::put_request(self.dp_ifindex, put));
                let exec_bytes = exec.as_ref().map(|e| ms("execute", packet::execute_request(self.dp_ifindex, e))).transpose();
                match (put_bytes, exec_bytes) {
                    (Ok(p), Ok(e)) => {
                        size += p.len() + e.as_ref().map_or(0, Vec::len);
                        bufs.push((i, flow_fam, NlmF::from_bits_truncate(flags), p));
                        if let Some(e) = e {
                            bufs.push((i, packet_fam, NlmF::empty(), e));
                        }
                        results.push(Ok(()));
                    }
                    (Err(e), _) | (_, Err(e)) => results.push(Err(e)),
                }
                i += 1;
            }
            // Only the datagram's last put asks for an acknowledgement: the others answer only
            // if they fail, and the kernel handles them in order, before the last.
            let Some(last) = bufs.iter().rposition(|b| b.1 == flow_fam) else { continue };
            bufs[last].2 |= NlmF::ACK;
            let reqs: Vec<(u16, NlmF, &[u8])> = bufs.iter().map(|(_, t, f, b)| (*t, *f, b.as_slice())).collect();
            let sent = self.sock().send_many(&reqs).and_then(|seqs| {
                let puts: Vec<(usize, u32)> = bufs.iter().zip(seqs).filter(|(b, _)| b.1 == flow_fam).map(|(b, s)| (b.0, s)).collect();
                let seqs: Vec<u32> = puts.iter().map(|p| p.1).collect();
                Ok((puts, self.sock().wait_last_ack(&seqs)?))
            });
            match sent {
                Ok((puts, acks)) => {
                    for ((idx, _), r) in puts.iter().zip(acks) {
                        results[*idx] = r.map_err(|e| DpifError::from_transport("flow put", e));
                    }
                }
                Err(e) => {
                    let e = DpifError::from_transport("flow put + execute", e);
                    for (idx, t, _, _) in &bufs {
                        if *t == flow_fam {
                            results[*idx] = Err(DpifError::batch(&e));
                        }
                    }
                }
            }
        }
        results
    }

    fn execute(&mut self, e: &Execute<'_>) -> Result<()> {
        let bytes = ms("execute", packet::execute_request(self.dp_ifindex, e))?;
        let fam = self.ctl.fam.packet;
        tr(|| "execute".into(), self.sock().transact(fam, NlmF::empty(), bytes))?;
        Ok(())
    }

    fn recv_set(&mut self, n_handlers: usize) -> Result<Vec<Box<dyn UpcallHandler>>> {
        let handlers: Vec<KernelUpcallHandler> =
            (0..n_handlers.max(1)).map(|_| KernelUpcallHandler::open(self.ctl.fam.packet)).collect::<Result<_>>()?;
        let pids: Vec<u32> = handlers.iter().map(|h| h.pid()).collect();
        match self.dispatch() {
            Some(Dispatch::PerCpu) => {
                let table = per_cpu_pids(&pids, possible_cpus());
                let req = datapath::DpRequest {
                    dp_ifindex: self.dp_ifindex,
                    user_features: Some(self.user_features),
                    per_cpu_pids: Some(&table),
                    ..Default::default()
                };
                let info = self.ctl.dp_transact("set per-CPU upcall PIDs", OVS_DP_CMD_SET, &req)?;
                self.user_features = info.user_features;
            }
            _ => {
                for p in self.port_list()? {
                    let req = vport::VportRequest {
                        dp_ifindex: self.dp_ifindex,
                        port_no: Some(p.port_no),
                        upcall_pids: Some(&pids),
                        ..Default::default()
                    };
                    let op = format!("set upcall PIDs of port {}", p.port_no);
                    self.vport_transact(&op, OVS_VPORT_CMD_SET, &req, NlmF::empty())?;
                }
            }
        }
        self.handler_pids = pids;
        Ok(handlers.into_iter().map(|h| Box::new(h) as Box<dyn UpcallHandler>).collect())
    }

    fn meter_features(&mut self) -> Result<MeterFeatures> {
        let fam = self.meter_fam()?;
        let bytes = ms("meter features", meter::features_request(self.dp_ifindex))?;
        let reply = tr(|| "meter features".into(), self.sock().transact(fam, NlmF::empty(), bytes))?
            .ok_or_else(|| DpifError::from_msg("meter features", MsgError::Missing("meter reply")))?;
        ms("meter features", meter::parse_features(&reply))
    }

    fn meter_set(&mut self, m: &MeterConfig) -> Result<()> {
        let fam = self.meter_fam()?;
        let bytes = ms("meter set", meter::set_request(self.dp_ifindex, m))?;
        tr(|| format!("meter set {}", m.id), self.sock().transact(fam, NlmF::empty(), bytes))?;
        Ok(())
    }

    fn meter_get(&mut self, id: u32) -> Result<MeterStats> {
        self.meter_id_op(OVS_METER_CMD_GET, "meter get", id)
    }

    fn meter_del(&mut self, id: u32) -> Result<MeterStats> {
        self.meter_id_op(OVS_METER_CMD_DEL, "meter del", id)
    }

    fn destroy(&mut self) -> Result<()> {
        let req = datapath::DpRequest { dp_ifindex: self.dp_ifindex, ..Default::default() };
        let bytes = ms("delete datapath", datapath::request(OVS_DP_CMD_DEL, &req))?;
        let fam = self.ctl.fam.datapath;
        let name = self.name.clone();
        tr(|| format!("delete datapath {name}"), self.sock().transact(fam, NlmF::empty(), bytes))?;
        Ok(())
    }
}

impl KernelDpif {
    fn meter_id_op(&mut self, cmd: u16, op: &str, id: u32) -> Result<MeterStats> {
        let fam = self.meter_fam()?;
        let bytes = ms(op, meter::id_request(cmd, self.dp_ifindex, id))?;
        let reply = tr(|| format!("{op} {id}"), self.sock().transact(fam, NlmF::empty(), bytes))?
            .ok_or_else(|| DpifError::from_msg(op, MsgError::Missing("meter reply")))?;
        ms(op, meter::parse_stats(&reply))
    }
}
