//! A bridge's OpenFlow port configuration bits (`OFPPC_*`, set by controllers' port-mods) and
//! what they mean to translation, as OpenFlow 1.0/1.3 and Open vSwitch define them:
//!
//! - `NO_RECV` (or, for 802.1D BPDUs, OpenFlow 1.0's `NO_RECV_STP`): packets received on the
//!   port are dropped after the table-0 lookup (the lookup still counts, as in Open vSwitch),
//!   and packets crossing a patch port into it are dropped at the crossing;
//! - `NO_FWD`: every output to the port is skipped (OpenFlow outputs, FLOOD/ALL, NORMAL);
//! - `NO_FLOOD` (OpenFlow 1.0 only; 1.3 peers neither set nor see it): FLOOD and NORMAL's
//!   flooding leave the port out, `ALL` does not;
//! - `NO_PACKET_IN`: table misses of packets received on the port send no packet-in.
//!   Open vSwitch 3.1 honours this bit only under an OpenFlow 1.1/1.2 table-miss configuration;
//!   rvs follows the specification for every miss (an OpenFlow 1.0 miss and a 1.3 table-miss
//!   entry alike).
//!
//! `PORT_DOWN` is the device's administrative state and lives there ([`crate::connmgr::ports`]);
//! `NO_STP` is stored and reported only (rvs runs no STP). [`PortConfigs`] belongs to the
//! [`crate::ofproto::Bridge`]; a change of a bit translation reads moves the bridge's generation
//! so the revalidator re-translates its megaflows.

use std::collections::BTreeMap;
use std::sync::RwLock;

use rvs_core::key::{field, FlowKey};
use rvs_openflow::msg::port_config as pc;
use rvs_openflow::Version;

use super::Xlate;

/// The bits OpenFlow 1.0 defines (`OFPPC10_ALL` in Open vSwitch).
pub const OF10_ALL: u32 = pc::PORT_DOWN | pc::NO_STP | pc::NO_RECV | pc::NO_RECV_STP | pc::NO_FLOOD | pc::NO_FWD | pc::NO_PACKET_IN;
/// The bits OpenFlow 1.1+ defines (`OFPPC11_ALL`).
pub const OF11_ALL: u32 = pc::PORT_DOWN | pc::NO_RECV | pc::NO_FWD | pc::NO_PACKET_IN;
/// The bits translation reads (changing one revalidates the bridge's flows).
pub const XLATE_BITS: u32 = pc::NO_RECV | pc::NO_RECV_STP | pc::NO_FLOOD | pc::NO_FWD | pc::NO_PACKET_IN;

/// The bits a peer of `version` may set or see.
pub fn version_bits(version: Version) -> u32 {
    if version == Version::OF10 {
        OF10_ALL
    } else {
        OF11_ALL
    }
}

/// The 802.1D BPDU destination.
const STP_DST: [u8; 6] = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x00];
/// The ethertype the flow key gives 802.2 LLC frames without SNAP (Open vSwitch's
/// `FLOW_DL_TYPE_NONE`).
const DL_TYPE_NONE: u16 = 0x05ff;

/// Port-mod bits of one bridge's ports, by OpenFlow port number (the bridge's numbering,
/// `0xfffe` for LOCAL). Ports without an entry have no bit set.
#[derive(Debug, Default)]
pub struct PortConfigs {
    bits: RwLock<BTreeMap<u32, u32>>,
}

impl PortConfigs {
    /// The bits of `ofport`.
    pub fn get(&self, ofport: u32) -> u32 {
        self.bits.read().unwrap_or_else(|p| p.into_inner()).get(&ofport).copied().unwrap_or(0)
    }

    /// Every port's bits.
    pub fn snapshot(&self) -> BTreeMap<u32, u32> {
        self.bits.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sets the bits of `ofport` selected by `mask` to those of `config`; returns the bits
    /// that changed.
    pub fn modify(&self, ofport: u32, config: u32, mask: u32) -> u32 {
        let mut g = self.bits.write().unwrap_or_else(|p| p.into_inner());
        let old = g.get(&ofport).copied().unwrap_or(0);
        let new = (old & !mask) | (config & mask);
        if new == 0 {
            g.remove(&ofport);
        } else {
            g.insert(ofport, new);
        }
        old ^ new
    }

    /// Forgets the ports `keep` rejects (they left the bridge: a port added again starts with
    /// no bit set, as a new port in Open vSwitch).
    pub fn retain(&self, keep: impl Fn(u32) -> bool) {
        self.bits.write().unwrap_or_else(|p| p.into_inner()).retain(|o, _| keep(*o));
    }
}

/// Whether `flow` is an 802.1D BPDU (consults the destination MAC: the decision depends on it).
fn is_stp(x: &mut Xlate, flow: &FlowKey) -> bool {
    x.consult(field::ETH_DST);
    flow.eth_type() == DL_TYPE_NONE && flow.eth_dst() == STP_DST
}

/// Whether a packet received on a port with configuration `bits` may be processed
/// (`NO_RECV`, or `NO_RECV_STP` for BPDUs, drop it). Consults what it reads.
pub fn may_receive(x: &mut Xlate, bits: u32) -> bool {
    if bits & (pc::NO_RECV | pc::NO_RECV_STP) == 0 {
        return true;
    }
    let flow = x.flow;
    let stp = is_stp(x, &flow);
    bits & if stp { pc::NO_RECV_STP } else { pc::NO_RECV } == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modify_and_forget() {
        let c = PortConfigs::default();
        assert_eq!(c.modify(1, pc::NO_FWD | pc::NO_FLOOD, pc::NO_FWD), pc::NO_FWD, "only masked bits change");
        assert_eq!(c.get(1), pc::NO_FWD);
        assert_eq!(c.modify(1, pc::NO_FWD, pc::NO_FWD), 0, "setting a set bit changes nothing");
        assert_eq!(c.modify(2, pc::NO_RECV, pc::NO_RECV | pc::NO_FWD), pc::NO_RECV);
        assert_eq!(c.modify(1, 0, pc::NO_FWD), pc::NO_FWD);
        assert_eq!(c.snapshot(), BTreeMap::from([(2, pc::NO_RECV)]), "ports back to no bit are dropped");
        c.retain(|o| o != 2);
        assert_eq!(c.get(2), 0);
    }

    #[test]
    fn receive_rules() {
        let mut k = FlowKey::ZERO;
        k.set_eth_type(0x0800);
        let mut x = Xlate::new(k, false, false);
        assert!(may_receive(&mut x, 0));
        assert_eq!(x.wc.eth_dst(), [0; 6], "nothing read without a receive bit");
        assert!(!may_receive(&mut x, pc::NO_RECV));
        assert!(may_receive(&mut x, pc::NO_RECV_STP), "NO_RECV_STP only drops BPDUs");
        assert_eq!(x.wc.eth_dst(), [0xff; 6], "the destination decides what a BPDU is");
        let mut bpdu = FlowKey::ZERO;
        bpdu.set_eth_type(DL_TYPE_NONE);
        bpdu.set_eth_dst(STP_DST);
        let mut x = Xlate::new(bpdu, false, false);
        assert!(may_receive(&mut x, pc::NO_RECV), "BPDUs are exempt from NO_RECV");
        assert!(!may_receive(&mut x, pc::NO_RECV_STP));
        assert_eq!(version_bits(Version::OF13) & pc::NO_FLOOD, 0);
        assert_eq!(version_bits(Version::OF10) & pc::NO_FLOOD, pc::NO_FLOOD);
    }
}
