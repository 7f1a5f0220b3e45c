//! The NORMAL action: what a bridge without a controller does (`fail_mode=standalone`), an
//! 802.1Q learning switch with Open vSwitch's rules:
//!
//! 1. the input port's VLAN configuration decides the packet's VLAN or drops it;
//! 2. reserved multicast (01:80:c2:00:00:0x: STP, LACP, ...) is dropped unless `forward-bpdu`;
//! 3. the source MAC is learned on the input port in that VLAN (moves are noticed);
//! 4. a known unicast destination goes to its port, unless that is the input port (no hairpin);
//!    anything else floods to every other port that carries the VLAN;
//! 5. each output gets the VLAN tagging its port wants.
//!
//! Consulted fields: the input port, the outer VID (and CFI), both MACs; plus what [`Xlate::new`]
//! always consults. Not implemented yet: bonds, mirrors, IGMP/MLD snooping, `flood_vlans`,
//! gratuitous-ARP MAC locking, per-port `no-flood`.

use rvs_core::key::{field, VLAN_CFI};

use super::{Xlate, VLAN_VID_MASK};
use crate::mac_learning::{fmt_mac, Learned};
use crate::ofproto::{Bridge, BridgeConfig};

fn is_multicast(mac: &[u8; 6]) -> bool {
    mac[0] & 1 != 0
}

fn is_reserved_multicast(mac: &[u8; 6]) -> bool {
    mac[..5] == [0x01, 0x80, 0xc2, 0x00, 0x00] && mac[5] & 0xf0 == 0
}

/// Translates NORMAL for the packet in `x` on bridge `br` (configuration `cfg`).
pub fn xlate_normal(x: &mut Xlate, br: &Bridge, cfg: &BridgeConfig) {
    let flow = x.flow;
    let in_dp = flow.in_port();
    let Some(in_port) = cfg.port_by_dp(in_dp) else {
        x.note(|| format!("NORMAL: input port {in_dp} is not a port of bridge {}: drop", cfg.name));
        return;
    };
    x.consult_tci(VLAN_VID_MASK | VLAN_CFI);
    let tci = flow.vlan_tci();
    let vid = if tci & VLAN_CFI != 0 { tci & VLAN_VID_MASK } else { 0 };
    let Some(vlan) = in_port.vlan.input_vlan(vid) else {
        x.note(|| {
            format!(
                "NORMAL: dropping VLAN {vid} packet received on port {} configured as {} (tag {}, trunks {:?})",
                in_port.name,
                in_port.vlan.mode.name(),
                in_port.vlan.tag,
                in_port.vlan.trunks
            )
        });
        return;
    };
    x.consult(field::ETH_DST);
    let dst = flow.eth_dst();
    if is_reserved_multicast(&dst) && !cfg.forward_bpdu {
        x.note(|| format!("NORMAL: dropping packet with reserved multicast destination {}", fmt_mac(&dst)));
        return;
    }
    x.consult(field::ETH_SRC);
    let src = flow.eth_src();
    let mut macs = br.macs.lock().unwrap_or_else(|p| p.into_inner());
    if !is_multicast(&src) && x.may_learn {
        match macs.learn(vlan, src, in_port.ofport, x.now) {
            Learned::New => {
                x.learned = true;
                crate::dbg_log!("xlate", "{}: learned {} on port {} in VLAN {vlan}", cfg.name, fmt_mac(&src), in_port.name);
            }
            Learned::Moved(old) => {
                x.learned = true;
                crate::info!("xlate", "{}: {} moved from port {old} to port {} in VLAN {vlan}", cfg.name, fmt_mac(&src), in_port.ofport);
            }
            Learned::Refreshed => {}
        }
    }
    let known = if is_multicast(&dst) { None } else { macs.lookup(vlan, dst, x.now) };
    drop(macs);
    match known {
        Some(ofp) if ofp == in_port.ofport => {
            x.note(|| format!("NORMAL: learned {} on the input port {}, VLAN {vlan}: drop (no hairpin)", fmt_mac(&dst), in_port.name));
        }
        Some(ofp) => match cfg.ports.get(&ofp).filter(|p| p.vlan.includes(vlan)) {
            Some(p) => {
                x.note(|| format!("NORMAL: forwarding to learned port {} ({}) in VLAN {vlan}", p.ofport, p.name));
                x.output(p.dp_port, p.vlan.output_vid(vlan));
            }
            None => x.note(|| format!("NORMAL: learned port {ofp} is gone or not in VLAN {vlan}: drop")),
        },
        None => {
            x.note(|| {
                format!(
                    "NORMAL: {} destination {}: flooding in VLAN {vlan}",
                    if is_multicast(&dst) { "multicast" } else { "no learned MAC for" },
                    fmt_mac(&dst)
                )
            });
            for p in cfg.ports.values() {
                if p.ofport != in_port.ofport && p.vlan.includes(vlan) {
                    x.note(|| format!("  -> port {} ({})", p.ofport, p.name));
                    x.output(p.dp_port, p.vlan.output_vid(vlan));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mac_learning::MacTable;
    use crate::odp::format_actions;
    use crate::ofproto::OfPort;
    use crate::vlan::PortVlan;
    use rvs_core::key::FlowKey;

    const H1: [u8; 6] = [0x02, 0, 0, 0, 0, 1];
    const H2: [u8; 6] = [0x02, 0, 0, 0, 0, 2];
    const BCAST: [u8; 6] = [0xff; 6];

    /// Ports 1..=4 on datapath ports 11..=14: 1 and 2 access VLAN 10, 3 access VLAN 20, 4 trunk.
    fn bridge() -> (Bridge, BridgeConfig) {
        let mut cfg = BridgeConfig { name: "br0".into(), max_idle_ms: 10_000, ..Default::default() };
        let vl = [PortVlan::from_columns(Some(10), &[], None).0, PortVlan::from_columns(Some(10), &[], None).0,
            PortVlan::from_columns(Some(20), &[], None).0, PortVlan::from_columns(None, &[], None).0];
        for (i, v) in vl.into_iter().enumerate() {
            let ofport = i as u32 + 1;
            let p = OfPort { ofport, name: format!("p{ofport}"), port_name: format!("p{ofport}"), dp_port: ofport + 10, iface_type: String::new(), vlan: v };
            cfg.by_dp.insert(p.dp_port, ofport);
            cfg.ports.insert(ofport, p);
        }
        (Bridge::new(cfg.clone(), MacTable::default()), cfg)
    }

    fn pkt(in_dp: u32, src: [u8; 6], dst: [u8; 6], vid: Option<u16>) -> FlowKey {
        let mut k = FlowKey::ZERO;
        k.set_in_port(in_dp);
        k.set_eth_src(src);
        k.set_eth_dst(dst);
        k.set_eth_type(0x0800);
        k.set_ip_proto(1);
        k.set_ipv4_src(0x0a000001);
        if let Some(v) = vid {
            k.set_vlan_tci(VLAN_CFI | v);
            k.set_vlan_tpid(0x8100);
        }
        k
    }

    fn run(br: &Bridge, cfg: &BridgeConfig, k: FlowKey) -> (String, Xlate) {
        let mut x = Xlate::new(k, true, true);
        xlate_normal(&mut x, br, cfg);
        (format_actions(x.actions.bytes()), x)
    }

    #[test]
    fn flood_learn_forward_within_vlan() {
        let (br, cfg) = bridge();
        let (a, x) = run(&br, &cfg, pkt(11, H1, BCAST, None));
        assert_eq!(a, "12,push_vlan(vid=10,pcp=0),14", "flood: other VLAN-10 access port and the trunk, tagged");
        assert!(x.learned);
        assert_eq!(x.wc.eth_src(), [0xff; 6]);
        assert_eq!(x.wc.ipv4_src(), 0, "L3 addresses stay wildcarded");
        assert_eq!(x.wc.ip_proto(), 0);
        // Reply from H2 on port 2 goes straight to port 1.
        let (a, _) = run(&br, &cfg, pkt(12, H2, H1, None));
        assert_eq!(a, "11");
        // From the trunk, tagged VLAN 10, to H2: popped and delivered.
        let (a, _) = run(&br, &cfg, pkt(14, [2, 0, 0, 0, 0, 9], H2, Some(10)));
        assert_eq!(a, "pop_vlan,12");
        // VLAN 20 does not see VLAN 10's MACs: flood to the trunk only (port 3 is the input).
        let (a, _) = run(&br, &cfg, pkt(13, [2, 0, 0, 0, 0, 3], H1, None));
        assert_eq!(a, "push_vlan(vid=20,pcp=0),14");
    }

    #[test]
    fn drops() {
        let (br, cfg) = bridge();
        let (a, x) = run(&br, &cfg, pkt(11, H1, H2, Some(10)));
        assert_eq!(a, "drop", "tagged frame on an access port");
        assert!(x.trace.unwrap().iter().any(|l| l.contains("dropping VLAN 10")));
        let (a, _) = run(&br, &cfg, pkt(11, H1, [0x01, 0x80, 0xc2, 0, 0, 0], None));
        assert_eq!(a, "drop", "STP BPDU");
        let (a, _) = run(&br, &cfg, pkt(99, H1, H2, None));
        assert_eq!(a, "drop", "unknown port");
        run(&br, &cfg, pkt(11, H1, BCAST, None));
        let (a, _) = run(&br, &cfg, pkt(11, H2, H1, None));
        assert_eq!(a, "drop", "destination learned on the input port: no hairpin");
    }

    #[test]
    fn mac_move_and_no_learning_in_traces() {
        let (br, cfg) = bridge();
        run(&br, &cfg, pkt(11, H1, BCAST, None));
        let g = br.generation();
        let (_, x) = run(&br, &cfg, pkt(12, H1, BCAST, None));
        assert!(x.learned, "move noticed");
        assert_ne!(br.generation(), g);
        assert_eq!(run(&br, &cfg, pkt(14, H2, H1, Some(10))).0, "pop_vlan,12");
        let mut x = Xlate::new(pkt(13, [2, 9, 9, 9, 9, 9], BCAST, None), false, false);
        xlate_normal(&mut x, &br, &cfg);
        assert!(!x.learned);
        assert_eq!(br.macs.lock().unwrap().len(), 2);
    }
}
