//! Packet-out: the controller's packet, run through its action list (or, for `output:TABLE`,
//! the flow tables) as if it had arrived on its `in_port`, executed on the bridge's datapath.
//! Packet-ins the actions produce are published like those of real traffic.

use rvs_core::extract::{extract, Metadata};
use rvs_dpif::Execute;
use rvs_openflow::error::{BadRequest, OfpError};
use rvs_openflow::msg::PacketOut;
use rvs_openflow::types::port;

use super::xlate::xlate_actions;
use crate::ofproto::{Switch, OFPP_LOCAL};
use crate::xlate::Xlate;

/// Sends `po` on bridge `bridge`: `BadRequest::BadPort` for an unknown bridge or input port,
/// `BufferUnknown` for a buffer id (rvs buffers nothing), `BadPacket` for an empty or
/// non-Ethernet packet, action errors as a flow-mod would give them.
pub fn packet_out(sw: &Switch, bridge: &str, po: &PacketOut) -> Result<(), OfpError> {
    let br = sw.bridge(bridge).ok_or(BadRequest::BadPort)?;
    if po.buffer_id.is_some() {
        return Err(BadRequest::BufferUnknown.into());
    }
    if po.data.len() < 14 {
        return Err(BadRequest::BadPacket.into());
    }
    br.pipeline.read().unwrap_or_else(|p| p.into_inner()).check_packet_out_actions(&po.actions)?;
    let cfg = br.config();
    // The datapath port the packet pretends to come from; a packet from the controller
    // (`CONTROLLER`/`ANY`) uses the bridge's local port, which is never an output of FLOOD
    // from itself since its OpenFlow number differs.
    let (in_ofport, cfg_port) = match po.in_port {
        port::CONTROLLER | port::ANY => (po.in_port, OFPP_LOCAL),
        port::LOCAL => (port::LOCAL, OFPP_LOCAL),
        p => (p, p),
    };
    let in_dp = match cfg.ports.get(&cfg_port) {
        Some(p) => p.dp_port,
        None if matches!(po.in_port, port::CONTROLLER | port::ANY) => 0,
        None => return Err(BadRequest::BadPort.into()),
    };
    let md = Metadata { in_port: in_dp, ..Default::default() };
    let (key, _) = extract(&po.data, &md);
    let mut x = Xlate::new(key, false, false);
    xlate_actions(&mut x, &br, &cfg, in_ofport, &po.actions);
    super::xlate::publish_packet_ins(&br, &x, &po.data);
    if x.actions.bytes().is_empty() {
        return Ok(());
    }
    let key_bytes = crate::odp::encode_key(&key).map_err(|_| BadRequest::BadPacket)?;
    let Some(backer) = sw.backer(cfg.dp_type.0) else {
        return Err(BadRequest::BadPort.into());
    };
    let e = Execute { packet: &po.data, key: &key_bytes, actions: x.actions.bytes(), mru: None, probe: false };
    let mut d = backer.dpif.lock().unwrap_or_else(|p| p.into_inner());
    d.execute(&e).map_err(|e| {
        crate::warn!("ofproto", "{bridge}: packet-out execute: {e}");
        OfpError::BadRequest(BadRequest::BadPacket)
    })
}
