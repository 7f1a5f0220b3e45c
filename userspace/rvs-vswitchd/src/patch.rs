//! Patch ports (`type=patch`, `options:peer=NAME`): a pair of interfaces that joins two bridges
//! of the same datapath type without any datapath port, as in Open vSwitch. An output to a patch
//! port continues translation in the peer bridge as if the packet had been received on the peer
//! interface (with the VLAN tagging the patch port gives it), so the datapath sees one megaflow
//! from the real input port to the real outputs, wildcarded by what both bridges consulted.
//!
//! This module owns: checking the configuration of patch pairs ([`resolve`]: each side must name
//! the other, both on bridges of the same datapath type), linking bridges to their peers
//! ([`link`], called when bridges are published), and the translation step ([`output`], with a
//! depth limit against patch loops). A bridge's flow generation includes its peers' (see
//! [`crate::ofproto::Bridge::generation`]), so flows crossing a patch are revalidated when the
//! peer bridge learns or is reconfigured.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::Config;
use crate::ofproto::{Bridge, OfPort};
use crate::xlate::normal::{normal_from, Ctx};
use crate::xlate::{Xlate, VLAN_VID_MASK};

/// How many patch crossings one translation may make.
pub const MAX_DEPTH: u32 = 8;

/// Where a patch port leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchPeer {
    /// The peer bridge.
    pub bridge: String,
    /// The peer interface.
    pub iface: String,
}

/// Checks every patch interface of `cfg`: returns, by Interface row UUID, its peer or why it
/// cannot work.
pub fn resolve(cfg: &Config) -> BTreeMap<String, Result<PatchPeer, String>> {
    // name → (bridge, datapath type, options:peer)
    let mut all = BTreeMap::new();
    for b in &cfg.bridges {
        for p in &b.ports {
            for i in p.interfaces.iter().filter(|i| i.ty == "patch") {
                all.insert(i.name.clone(), (b.name.clone(), b.dp_type, i.options.get("peer").cloned()));
            }
        }
    }
    let mut out = BTreeMap::new();
    for b in &cfg.bridges {
        for p in &b.ports {
            for i in p.interfaces.iter().filter(|i| i.ty == "patch") {
                let r = match i.options.get("peer") {
                    None => Err(format!("{}: patch port needs options:peer", i.name)),
                    Some(peer) if *peer == i.name => Err(format!("{}: a patch port cannot be its own peer", i.name)),
                    Some(peer) => match all.get(peer) {
                        None => Err(format!("{}: peer {peer} does not exist or is not a patch port", i.name)),
                        Some((_, _, back)) if back.as_deref() != Some(i.name.as_str()) => {
                            Err(format!("{}: peer {peer} has options:peer={}, not {}", i.name, back.as_deref().unwrap_or(""), i.name))
                        }
                        Some((_, ty, _)) if *ty != b.dp_type => Err(format!("{}: peer {peer} is on a bridge of another datapath type", i.name)),
                        Some((pb, _, _)) => Ok(PatchPeer { bridge: pb.clone(), iface: peer.clone() }),
                    },
                };
                out.insert(i.uuid.clone(), r);
            }
        }
    }
    out
}

/// Points each bridge's `patch_peers` at the bridges its patch ports lead to.
pub fn link(bridges: &BTreeMap<String, Arc<Bridge>>) {
    for b in bridges.values() {
        let cfg = b.config();
        let peers = cfg.patches.iter().filter_map(|(ofp, p)| Some((*ofp, Arc::downgrade(bridges.get(&p.bridge)?)))).collect();
        *b.patch_peers.write().unwrap_or_else(|p| p.into_inner()) = peers;
    }
}

/// The bridges `b`'s patch ports lead to (other than `b`).
pub fn peers(b: &Bridge) -> Vec<Arc<Bridge>> {
    let mut out: Vec<Arc<Bridge>> = Vec::new();
    for w in b.patch_peers.read().unwrap_or_else(|p| p.into_inner()).values() {
        if let Some(p) = w.upgrade() {
            if !std::ptr::eq(Arc::as_ptr(&p), b) && !out.iter().any(|o| Arc::ptr_eq(o, &p)) {
                out.push(p);
            }
        }
    }
    out
}

/// Output to patch port `port` of `ctx`'s bridge with VID `vid` (0: untagged): NORMAL in the
/// peer bridge, received on the peer port.
pub fn output(x: &mut Xlate, ctx: &Ctx<'_>, port: &OfPort, vid: u16) {
    let Some(peer) = ctx.cfg.patches.get(&port.ofport) else { return };
    if ctx.depth + 1 >= MAX_DEPTH {
        x.note(|| format!("    patch {}: more than {MAX_DEPTH} patch crossings: drop", port.name));
        return;
    }
    let br = ctx.br.patch_peers.read().unwrap_or_else(|p| p.into_inner()).get(&port.ofport).and_then(std::sync::Weak::upgrade);
    let Some(br) = br else {
        x.note(|| format!("    patch {}: peer bridge {} is gone", port.name, peer.bridge));
        return;
    };
    let cfg = br.config();
    let Some(in_port) = cfg.ports.values().find(|p| p.name == peer.iface) else {
        x.note(|| format!("    patch {}: peer {} is not a port of {}", port.name, peer.iface, peer.bridge));
        return;
    };
    x.note(|| format!("    patch {} -> {}: bridge(\"{}\")", port.name, peer.iface, cfg.name));
    normal_from(x, &Ctx { br: &br, cfg: &cfg, depth: ctx.depth + 1 }, in_port, vid & VLAN_VID_MASK);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{BridgeCfg, IfaceCfg, PortCfg};
    use rvs_dpif::DatapathType;

    fn patch_iface(name: &str, peer: Option<&str>) -> PortCfg {
        let mut options = BTreeMap::new();
        if let Some(p) = peer {
            options.insert("peer".to_string(), p.to_string());
        }
        PortCfg {
            uuid: name.into(),
            name: name.into(),
            vlan: Default::default(),
            vlan_warning: None,
            interfaces: vec![IfaceCfg { uuid: name.into(), name: name.into(), ty: "patch".into(), ofport_request: None, ofport_db: None, options }],
            bond: Default::default(),
        }
    }

    fn bridge(name: &str, ty: DatapathType, ports: Vec<PortCfg>) -> BridgeCfg {
        BridgeCfg {
            uuid: name.into(),
            name: name.into(),
            dp_type: ty,
            fail_mode: Default::default(),
            has_controller: false,
            controllers: vec![],
            protocols: vec![],
            other_config: BTreeMap::new(),
            ports,
            mirrors: vec![],
        }
    }

    #[test]
    fn pairs_must_agree() {
        let cfg = Config {
            bridges: vec![
                bridge("br0", DatapathType::System, vec![patch_iface("p0", Some("p1")), patch_iface("lonely", None), patch_iface("self", Some("self"))]),
                bridge("br1", DatapathType::System, vec![patch_iface("p1", Some("p0")), patch_iface("q1", Some("p0"))]),
                bridge("br2", DatapathType::Userspace, vec![patch_iface("u", Some("x")), patch_iface("x", Some("u")), patch_iface("w", Some("y"))]),
                bridge("br3", DatapathType::System, vec![patch_iface("y", Some("w"))]),
            ],
            ..Default::default()
        };
        let r = resolve(&cfg);
        assert_eq!(r["p0"], Ok(PatchPeer { bridge: "br1".into(), iface: "p1".into() }));
        assert_eq!(r["p1"], Ok(PatchPeer { bridge: "br0".into(), iface: "p0".into() }));
        assert!(r["lonely"].as_ref().unwrap_err().contains("needs options:peer"));
        assert!(r["self"].as_ref().unwrap_err().contains("own peer"));
        assert!(r["q1"].as_ref().unwrap_err().contains("not q1"), "{:?}", r["q1"]);
        assert_eq!(r["u"], Ok(PatchPeer { bridge: "br2".into(), iface: "x".into() }), "both ends on one bridge is allowed");
        assert!(r["w"].as_ref().unwrap_err().contains("another datapath type"));
    }
}
