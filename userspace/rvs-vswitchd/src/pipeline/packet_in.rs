//! Packet-in data: the packet as the actions before the controller output left it (set-field,
//! VLAN push/pop, TTL changes), obtained by running that prefix of the datapath actions on a
//! copy of the packet with the datapath's own executor, outputs ignored.

use rvs_core::actions::{ActionList, Userspace};
use rvs_core::execute::{execute, ExecContext, ExecError, NetlinkActions};
use rvs_core::extract::{extract, Metadata};
use rvs_core::key::FlowKey;
use rvs_core::packet_buf::PacketBuf;

/// Runs actions for their effect on the packet only.
struct EffectsOnly;

impl<'a> ExecContext<PacketBuf<'a>> for EffectsOnly {
    fn output(&mut self, _: &mut PacketBuf<'a>, _: &FlowKey, _: u32, _: Option<u32>, _: bool) {}
    fn userspace(&mut self, _: &mut PacketBuf<'a>, _: &FlowKey, _: &Userspace<'_>, _: ActionList<'_>, _: Option<u32>, _: bool) {}
    fn recirc(&mut self, _: &mut PacketBuf<'a>, _: &FlowKey, _: bool) {}
    fn clone_packet(&mut self, _: &PacketBuf<'a>) -> Option<PacketBuf<'a>> {
        None
    }
    fn random_u32(&mut self) -> u32 {
        0
    }
    fn meter(&mut self, _: &PacketBuf<'a>, _: &FlowKey, _: u32) -> bool {
        false
    }
    fn update_key(&mut self, pkt: &PacketBuf<'a>, key: &mut FlowKey) -> Result<(), ExecError> {
        let md = Metadata { in_port: key.in_port(), ..Default::default() };
        *key = extract(pkt.data(), &md).0;
        Ok(())
    }
}

/// `packet` (received on datapath port `in_port`) after `actions`; `None` if they cannot run.
pub fn apply_effects(packet: &[u8], in_port: u32, actions: &[u8]) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; packet.len() + 256];
    let mut pkt = PacketBuf::with_frame(&mut buf, 128, packet).ok()?;
    let md = Metadata { in_port, ..Default::default() };
    let (mut key, off) = extract(packet, &md);
    pkt.set_network_offset(off.network.map(usize::from));
    pkt.set_transport_offset(off.transport.map(usize::from));
    execute(&mut pkt, &mut key, ActionList(actions), &NetlinkActions, &mut EffectsOnly).ok()?;
    Some(pkt.data().to_vec())
}
