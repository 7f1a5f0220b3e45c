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
        crate::warn!("xlate", "{bridge}: packet-out execute: {e}");
        OfpError::BadRequest(BadRequest::BadPacket)
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use rvs_openflow::action::Action;
    use rvs_openflow::msg::PacketInReason;

    use super::*;
    use crate::ofproto::{BridgeConfig, OfPort};
    use crate::pipeline::OfEvent;
    use crate::vlan::PortVlan;

    fn switch() -> Switch {
        let sw = Switch::new();
        let mut cfg = BridgeConfig { name: "br0".into(), ..Default::default() };
        for i in 1..=2u32 {
            let p = OfPort { ofport: i, name: format!("p{i}"), port_name: format!("p{i}"), dp_port: i + 10, iface_type: String::new(), vlan: PortVlan::from_columns(None, &[], None).0 };
            cfg.by_dp.insert(p.dp_port, i);
            cfg.ports.insert(i, p);
        }
        sw.publish(vec![cfg], &|_| (std::time::Duration::from_secs(300), 100));
        sw
    }

    fn frame() -> Vec<u8> {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x06]);
        f.extend_from_slice(&[0; 28]);
        f
    }

    fn po(in_port: u32, actions: Vec<Action>, data: Vec<u8>) -> PacketOut {
        PacketOut { buffer_id: None, in_port, actions, data }
    }

    #[test]
    fn errors() {
        let sw = switch();
        let out = |p| Action::Output { port: p, max_len: 0 };
        assert_eq!(packet_out(&sw, "nope", &po(1, vec![], frame())), Err(BadRequest::BadPort.into()));
        assert_eq!(packet_out(&sw, "br0", &PacketOut { buffer_id: Some(3), ..po(1, vec![], frame()) }), Err(BadRequest::BufferUnknown.into()));
        assert_eq!(packet_out(&sw, "br0", &po(1, vec![], vec![1, 2, 3])), Err(BadRequest::BadPacket.into()));
        assert_eq!(packet_out(&sw, "br0", &po(9, vec![out(2)], frame())), Err(BadRequest::BadPort.into()));
        assert_eq!(
            packet_out(&sw, "br0", &po(1, vec![Action::Group(4)], frame())),
            Err(rvs_openflow::error::BadAction::BadOutGroup.into())
        );
        // Nothing to execute: fine without a datapath.
        assert_eq!(packet_out(&sw, "br0", &po(port::CONTROLLER, vec![], frame())), Ok(()));
    }

    #[test]
    fn controller_output_and_table() {
        let sw = switch();
        let br = sw.bridge("br0").unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        br.events.subscribe(Box::new(move |e| g.lock().unwrap().push(e.clone())));
        packet_out(&sw, "br0", &po(1, vec![Action::Output { port: port::CONTROLLER, max_len: 10 }], frame())).unwrap();
        // output:TABLE runs the tables: with the miss going to the controller.
        br.pipeline.write().unwrap().set_default_normal(false);
        br.pipeline.write().unwrap().set_miss_to_controller(true);
        packet_out(&sw, "br0", &po(2, vec![Action::Output { port: port::TABLE, max_len: 0 }], frame())).unwrap();
        let ev = got.lock().unwrap();
        let pis: Vec<_> = ev.iter().filter_map(|e| if let OfEvent::PacketIn(p) = e { Some(p) } else { None }).collect();
        assert_eq!(pis.len(), 2);
        assert_eq!((pis[0].reason, pis[0].data.len(), pis[0].match_.exact(rvs_openflow::oxm::Field::InPort)), (PacketInReason::Action, 10, Some(1)));
        assert_eq!((pis[1].reason, pis[1].data.len()), (PacketInReason::NoMatch, 42));
    }
}
