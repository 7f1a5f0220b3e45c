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
//! Bonds ([`crate::bond`]) are one port ("bundle") each: learning, the hairpin check and
//! flooding work on bundles, and each output into a bond picks one member. Mirrors
//! ([`crate::mirror`]) add copies after the outputs; a mirror's output port takes no part in
//! switching. An output to a patch port ([`crate::patch`]) continues translation in the peer
//! bridge as if received on the peer port, so one megaflow covers the whole path.
//!
//! Port-mod bits ([`super::portcfg`]) count here too, as in Open vSwitch: a bundle with a
//! `NO_FLOOD` member is not flooded to, and an output to a `NO_FWD` port is skipped.
//!
//! Consulted fields: the input port, the outer VID (and CFI), both MACs; plus what [`Xlate::new`]
//! always consults. Not implemented yet: IGMP/MLD snooping, `flood_vlans`, gratuitous-ARP MAC
//! locking, LACP.

use rvs_core::key::{field, VLAN_CFI};
use rvs_openflow::msg::port_config as pc;

use super::{Xlate, VLAN_VID_MASK};
use crate::bond::bundle_id;
use crate::mac_learning::{fmt_mac, Learned};
use crate::ofproto::{Bridge, BridgeConfig, FailMode, OfPort};
use crate::{mirror, patch};

fn is_multicast(mac: &[u8; 6]) -> bool {
    mac[0] & 1 != 0
}

fn is_reserved_multicast(mac: &[u8; 6]) -> bool {
    mac[..5] == [0x01, 0x80, 0xc2, 0x00, 0x00] && mac[5] & 0xf0 == 0
}

/// The bridge NORMAL runs on: the ingress bridge, or one reached through patch ports (`depth`
/// patch crossings so far).
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The bridge.
    pub br: &'a Bridge,
    /// Its configuration.
    pub cfg: &'a BridgeConfig,
    /// Patch crossings so far.
    pub depth: u32,
}

/// Translates NORMAL for the packet in `x` on bridge `br` (configuration `cfg`).
pub fn xlate_normal(x: &mut Xlate, br: &Bridge, cfg: &BridgeConfig) {
    let flow = x.flow;
    let in_dp = flow.in_port();
    let in_port = match crate::tunnel::in_port(x, cfg, &flow) {
        Some(p) => Some(p),
        None => cfg.port_by_dp(in_dp).filter(|p| !cfg.tunnels.contains_key(&p.ofport)),
    };
    let Some(in_port) = in_port else {
        x.note(|| format!("NORMAL: input port {in_dp} is not a port of bridge {}: drop", cfg.name));
        return;
    };
    x.consult_tci(VLAN_VID_MASK | VLAN_CFI);
    let tci = flow.vlan_tci();
    let vid = if tci & VLAN_CFI != 0 { tci & VLAN_VID_MASK } else { 0 };
    normal_from(x, &Ctx { br, cfg, depth: 0 }, in_port, vid);
}

/// NORMAL for a packet received on `in_port` with VID `vid` (0: untagged), as far as this
/// bridge decides: the outer TCI is already consulted by the caller.
pub fn normal_from(x: &mut Xlate, ctx: &Ctx<'_>, in_port: &OfPort, vid: u16) {
    let (br, cfg) = (ctx.br, ctx.cfg);
    if cfg.fail_mode == FailMode::Secure && ctx.depth > 0 {
        x.note(|| format!("bridge {}: fail_mode=secure and no OpenFlow flows: drop", cfg.name));
        return;
    }
    if ctx.depth > 0 && !super::portcfg::may_receive(x, br.port_config.get(in_port.ofport)) {
        // Entered through a patch port whose peer has OFPPC_NO_RECV, as Open vSwitch checks it.
        x.note(|| format!("bridge {}: patch port {} has OFPPC_NO_RECV: drop", cfg.name, in_port.name));
        return;
    }
    let flow = x.flow;
    let in_bundle = bundle_id(cfg, in_port.ofport);
    if mirror::is_output(cfg, in_bundle) {
        x.note(|| format!("NORMAL: dropping packet received on mirror output port {}", in_port.name));
        return;
    }
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
    if let Some(bond) = cfg.bonds.get(&in_bundle) {
        if !bond.accepts(in_port.ofport, is_multicast(&dst)) {
            x.note(|| format!("NORMAL: bond {}: member {} does not take this packet: drop", bond.name, in_port.name));
            return;
        }
    }
    x.consult(field::ETH_SRC);
    let src = flow.eth_src();
    let mut macs = br.macs.lock().unwrap_or_else(|p| p.into_inner());
    if !is_multicast(&src) && x.may_learn {
        match macs.learn(vlan, src, in_bundle, x.now) {
            Learned::New => {
                x.learned = true;
                crate::dbg_log!("xlate", "{}: learned {} on port {} in VLAN {vlan}", cfg.name, fmt_mac(&src), in_port.name);
            }
            Learned::Moved(old) => {
                x.learned = true;
                crate::info!("xlate", "{}: {} moved from port {old} to port {in_bundle} in VLAN {vlan}", cfg.name, fmt_mac(&src));
            }
            Learned::Refreshed => {}
        }
    }
    let known = if is_multicast(&dst) { None } else { macs.lookup(vlan, dst, x.now) };
    drop(macs);
    let mut outs = Vec::new();
    match known {
        Some(b) if b == in_bundle => {
            x.note(|| format!("NORMAL: learned {} on the input port {}, VLAN {vlan}: drop (no hairpin)", fmt_mac(&dst), in_port.name));
        }
        Some(b) => match cfg.ports.get(&b).filter(|p| p.vlan.includes(vlan) && !mirror::is_output(cfg, b)) {
            Some(p) => {
                x.note(|| format!("NORMAL: forwarding to learned port {} ({}) in VLAN {vlan}", p.ofport, p.port_name));
                output_bundle(x, ctx, b, vlan);
                outs.push(b);
            }
            None => x.note(|| format!("NORMAL: learned port {b} is gone or not in VLAN {vlan}: drop")),
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
                let b = bundle_id(cfg, p.ofport);
                if b == p.ofport && b != in_bundle && p.vlan.includes(vlan) && !mirror::is_output(cfg, b) && floodable(ctx, b) {
                    x.note(|| format!("  -> port {} ({})", p.ofport, p.port_name));
                    output_bundle(x, ctx, b, vlan);
                    outs.push(b);
                }
            }
        }
    }
    if !cfg.mirrors.is_empty() {
        mirror::output_mirrors(x, ctx, in_bundle, &outs, vlan);
    }
}

/// Whether bundle `b` takes flooded packets: none of its ports has `OFPPC_NO_FLOOD`.
fn floodable(ctx: &Ctx<'_>, b: u32) -> bool {
    if !ctx.cfg.bonds.contains_key(&b) {
        return ctx.br.port_config.get(b) & pc::NO_FLOOD == 0;
    }
    let mut members = ctx.cfg.ports.keys().filter(|o| bundle_id(ctx.cfg, **o) == b);
    members.all(|o| ctx.br.port_config.get(*o) & pc::NO_FLOOD == 0)
}

/// Sends the packet, in `vlan`, out of bundle `b`: a bond picks a member, a patch port
/// continues in its peer bridge, anything else is a datapath output with the port's tagging.
pub fn output_bundle(x: &mut Xlate, ctx: &Ctx<'_>, b: u32, vlan: u16) {
    let cfg = ctx.cfg;
    let member = match cfg.bonds.get(&b) {
        Some(bond) => match bond.output_member(x.flow.eth_src(), vlan) {
            Some(m) => m,
            None => {
                x.note(|| format!("    bond {}: no usable member: no output", bond.name));
                return;
            }
        },
        None => b,
    };
    let Some(p) = cfg.ports.get(&member) else { return };
    if ctx.br.port_config.get(member) & pc::NO_FWD != 0 {
        x.note(|| format!("    port {} ({}): OFPPC_NO_FWD set, skipping output", p.ofport, p.name));
        return;
    }
    let vid = p.vlan.output_vid(vlan);
    if cfg.patches.contains_key(&p.ofport) {
        patch::output(x, ctx, p, vid);
    } else if let Some(t) = cfg.tunnels.get(&p.ofport) {
        crate::tunnel::output(x, t, p.dp_port, vid);
    } else {
        x.output(p.dp_port, vid);
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
    use std::time::Instant;

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
        assert_eq!(br.generation(), g, "no translation looked H1 up: nothing to revalidate");
        // A flow towards H1 depends on where H1 is: its move now moves the generation.
        run(&br, &cfg, pkt(14, H2, H1, Some(10)));
        let g = br.generation();
        let (_, x) = run(&br, &cfg, pkt(11, H1, BCAST, None));
        assert!(x.learned, "move noticed");
        assert_ne!(br.generation(), g);
        run(&br, &cfg, pkt(12, H1, BCAST, None));
        assert_eq!(run(&br, &cfg, pkt(14, H2, H1, Some(10))).0, "pop_vlan,12");
        let mut x = Xlate::new(pkt(13, [2, 9, 9, 9, 9, 9], BCAST, None), false, false);
        xlate_normal(&mut x, &br, &cfg);
        assert!(!x.learned);
        assert_eq!(br.macs.lock().unwrap().len(), 2);
    }

    /// br0 of `bridge()` plus a bond "bond0" of ports 5 (a) and 6 (b) on datapath ports 15, 16
    /// (trunk), in `mode`, with member `enabled`.
    fn bonded(mode: Option<&str>, enabled: &[u32]) -> (Bridge, BridgeConfig) {
        let (_, mut cfg) = bridge();
        let mut members = Vec::new();
        for (ofport, n) in [(5u32, "a"), (6, "b")] {
            let p = OfPort { ofport, name: n.into(), port_name: "bond0".into(), dp_port: ofport + 10, iface_type: String::new(), vlan: PortVlan::default() };
            cfg.by_dp.insert(p.dp_port, ofport);
            cfg.ports.insert(ofport, p);
            members.push((ofport, n.to_string()));
        }
        let port = crate::config::PortCfg {
            uuid: "b".into(),
            name: "bond0".into(),
            vlan: PortVlan::default(),
            vlan_warning: None,
            interfaces: vec![],
            bond: crate::config::BondCfg { mode: mode.map(str::to_string), ..Default::default() },
        };
        let (bond, w) = crate::bond::BondState::default().build("br0", &port, &members, &|n| enabled.contains(&if n == "a" { 5 } else { 6 }));
        assert!(w.is_empty());
        cfg.bundle_of.insert(5, 5);
        cfg.bundle_of.insert(6, 5);
        cfg.bonds.insert(5, bond);
        (Bridge::new(cfg.clone(), MacTable::default()), cfg)
    }

    #[test]
    fn bond_is_one_port() {
        let (br, cfg) = bonded(None, &[5, 6]);
        // A flood from an access port goes into the bond once, by the active member (a).
        let (a, _) = run(&br, &cfg, pkt(11, H1, BCAST, None));
        assert_eq!(a, "12,push_vlan(vid=10,pcp=0),14,15");
        // The flood coming back in on the backup member is dropped; on the active one it is taken
        // and not flooded back into the bond.
        assert_eq!(run(&br, &cfg, pkt(16, H2, BCAST, Some(10))).0, "drop");
        assert_eq!(run(&br, &cfg, pkt(15, H2, BCAST, Some(10))).0, "pop_vlan,11,12,push_vlan(vid=10,pcp=0),14");
        // H2 is learned on the bond (bundle 5): unicast to it leaves by the active member.
        assert_eq!(br.macs.lock().unwrap().peek(10, H2, Instant::now()), Some(5));
        assert_eq!(run(&br, &cfg, pkt(11, H1, H2, None)).0, "push_vlan(vid=10,pcp=0),15");
        // Failover: with a down, b carries it.
        let (br, cfg) = bonded(None, &[6]);
        run(&br, &cfg, pkt(16, H2, BCAST, Some(10)));
        assert_eq!(run(&br, &cfg, pkt(11, H1, H2, None)).0, "push_vlan(vid=10,pcp=0),16");
        assert_eq!(run(&br, &cfg, pkt(15, H2, H1, Some(10))).0, "drop", "the disabled member receives nothing");
        // No member: nothing goes into the bond.
        let (br, cfg) = bonded(None, &[]);
        assert_eq!(run(&br, &cfg, pkt(11, H1, BCAST, None)).0, "12,push_vlan(vid=10,pcp=0),14");
    }

    #[test]
    fn balance_slb_hashes_by_source() {
        let (br, cfg) = bonded(Some("balance-slb"), &[5, 6]);
        let mut seen = std::collections::BTreeSet::new();
        for i in 1..40u8 {
            let (a, x) = run(&br, &cfg, pkt(11, [2, 0, 0, 0, 1, i], BCAST, None));
            assert!(a.ends_with(",15") || a.ends_with(",16"), "{a}");
            assert_eq!(x.wc.eth_src(), [0xff; 6], "the member choice depends on the source MAC");
            seen.insert(a);
        }
        assert_eq!(seen.len(), 2, "both members carry traffic");
        // Unicast is accepted on either member, broadcast only on the active one.
        assert_ne!(run(&br, &cfg, pkt(16, H2, H1, Some(10))).0, "drop");
        assert_eq!(run(&br, &cfg, pkt(16, H2, BCAST, Some(10))).0, "drop");
    }

    #[test]
    fn mirrors_copy_selected_packets() {
        let (_, mut cfg) = bridge();
        // Port 5 (datapath 15): a trunk used as a mirror output; VLAN-20 port 3 mirrored by source.
        cfg.ports.insert(5, OfPort { ofport: 5, name: "span".into(), port_name: "span".into(), dp_port: 15, iface_type: String::new(), vlan: PortVlan::default() });
        cfg.by_dp.insert(15, 5);
        cfg.mirrors.push(crate::mirror::Mirror { name: "m".into(), src: [3].into(), dst: [1].into(), out_port: Some(5), ..Default::default() });
        let br = Bridge::new(cfg.clone(), MacTable::default());
        // Selected by source: from port 3, flooded to the trunk; the copy goes to span tagged.
        assert_eq!(run(&br, &cfg, pkt(13, H1, BCAST, None)).0, "push_vlan(vid=20,pcp=0),14,15");
        // Not selected: trunk to port 3 only; span is never flooded to.
        assert_eq!(run(&br, &cfg, pkt(14, H2, BCAST, Some(20))).0, "pop_vlan,13");
        // Selected by destination: port 2 -> learned port 1.
        run(&br, &cfg, pkt(11, [2, 0, 0, 0, 0, 7], BCAST, None));
        assert_eq!(run(&br, &cfg, pkt(12, H2, [2, 0, 0, 0, 0, 7], None)).0, "11,push_vlan(vid=10,pcp=0),15");
        // What arrives on the mirror output is dropped.
        assert_eq!(run(&br, &cfg, pkt(15, H2, BCAST, Some(10))).0, "drop");
        // output_vlan (span now an ordinary trunk): copies to the ports carrying VLAN 99 (the
        // trunks), tagged 99, besides the VLAN-10 originals.
        let mut cfg2 = cfg.clone();
        cfg2.mirrors = vec![crate::mirror::Mirror { name: "r".into(), select_all: true, out_vlan: Some(99), ..Default::default() }];
        let br2 = Bridge::new(cfg2.clone(), MacTable::default());
        assert_eq!(run(&br2, &cfg2, pkt(11, H1, BCAST, None)).0, "12,push_vlan(vid=10,pcp=0),14,15,pop_vlan,push_vlan(vid=99,pcp=0),14,15");
    }

    #[test]
    fn patch_ports_continue_in_the_peer() {
        // br0: port 1 (dp 11) access VLAN 10, patch port 2 "pa" (trunk). br1: patch "pb" (port 1,
        // access VLAN 10), port 2 (dp 21).
        let mut c0 = BridgeConfig { name: "br0".into(), ..Default::default() };
        let mut c1 = BridgeConfig { name: "br1".into(), ..Default::default() };
        let access = PortVlan::from_columns(Some(10), &[], None).0;
        c0.ports.insert(1, OfPort { ofport: 1, name: "h1".into(), port_name: "h1".into(), dp_port: 11, iface_type: String::new(), vlan: access.clone() });
        c0.by_dp.insert(11, 1);
        c0.ports.insert(2, OfPort { ofport: 2, name: "pa".into(), port_name: "pa".into(), dp_port: crate::ofproto::NO_DP_PORT, iface_type: "patch".into(), vlan: PortVlan::default() });
        c0.patches.insert(2, crate::patch::PatchPeer { bridge: "br1".into(), iface: "pb".into() });
        c1.ports.insert(1, OfPort { ofport: 1, name: "pb".into(), port_name: "pb".into(), dp_port: crate::ofproto::NO_DP_PORT, iface_type: "patch".into(), vlan: PortVlan::from_columns(None, &[10], None).0 });
        c1.patches.insert(1, crate::patch::PatchPeer { bridge: "br0".into(), iface: "pa".into() });
        c1.ports.insert(2, OfPort { ofport: 2, name: "h2".into(), port_name: "h2".into(), dp_port: 21, iface_type: String::new(), vlan: access });
        c1.by_dp.insert(21, 2);
        let sw = crate::ofproto::Switch::new();
        sw.publish(vec![c0, c1], &|_| (std::time::Duration::from_secs(300), 100));
        let (b0, b1) = (sw.bridge("br0").unwrap(), sw.bridge("br1").unwrap());
        // A translation (say, of a flow from h2's side) looked H1 up in br1 and flooded.
        assert_eq!(b1.macs.lock().unwrap().lookup(10, H1, Instant::now()), None);
        let g1 = b0.generation();
        // Flood from h1 crosses the patch tagged 10 (pa is a trunk), br1 takes it on pb (trunk
        // of 10) and delivers it untagged to h2: one datapath action list, no patch port in it.
        let (a, _) = run(&b0, &b0.config(), pkt(11, H1, BCAST, None));
        assert_eq!(a, "21");
        assert_eq!(b1.macs.lock().unwrap().peek(10, H1, Instant::now()), Some(1), "br1 learned H1 on its patch port");
        assert_ne!(b0.generation(), g1, "br0's flows depend on br1's MAC table");
        // Reply from h2 crosses back and is unicast to h1.
        let (a, _) = run(&b1, &b1.config(), pkt(21, H2, H1, None));
        assert_eq!(a, "11");
        assert_eq!(b0.macs.lock().unwrap().peek(10, H2, Instant::now()), Some(2));
        // Port-mod bits on the patch ports: NO_RECV on the peer drops at the crossing, NO_FWD on
        // the local patch port skips it.
        b1.port_config.modify(1, rvs_openflow::msg::port_config::NO_RECV, rvs_openflow::msg::port_config::NO_RECV);
        assert_eq!(run(&b0, &b0.config(), pkt(11, H1, BCAST, None)).0, "drop");
        b1.port_config.modify(1, 0, u32::MAX);
        b0.port_config.modify(2, rvs_openflow::msg::port_config::NO_FWD, rvs_openflow::msg::port_config::NO_FWD);
        assert_eq!(run(&b0, &b0.config(), pkt(11, H1, BCAST, None)).0, "drop");
        b0.port_config.modify(2, 0, u32::MAX);
        assert_eq!(run(&b0, &b0.config(), pkt(11, H1, BCAST, None)).0, "21");
    }
}
