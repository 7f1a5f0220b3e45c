//! Port mirroring (the `Mirror` table), as Open vSwitch: a mirror selects the packets NORMAL
//! handles by input bundle (`select_src_port`), by the bundles NORMAL sends them to
//! (`select_dst_port`), or all of them (`select_all`), optionally only in some VLANs
//! (`select_vlan`), and sends a copy either to one port (`output_port`; the port then takes no
//! part in normal switching: what arrives on it is dropped and nothing is flooded to it) or to
//! every port that carries `output_vlan` (tagged with that VLAN on trunks, untagged on access
//! ports). A copy never goes back to the input bundle; an `output_port` copy does not go to a
//! bundle that already got the packet (an `output_vlan` copy does: it is in another VLAN).
//!
//! Mirrors are resolved by the reconciler from Port row UUIDs to bundle IDs
//! ([`crate::bond::bundle_id`]); translation calls [`output_mirrors`] after NORMAL's outputs.
//! The selection reads only what NORMAL already consulted (input port, VLAN, destination MAC).

use std::collections::BTreeSet;

use crate::config::MirrorCfg;
use crate::ofproto::BridgeConfig;
use crate::xlate::normal::{self, Ctx};
use crate::xlate::Xlate;

/// A mirror as translation sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mirror {
    /// Name.
    pub name: String,
    /// Mirror every packet.
    pub select_all: bool,
    /// Input bundles selected.
    pub src: BTreeSet<u32>,
    /// Output bundles selected.
    pub dst: BTreeSet<u32>,
    /// VLANs selected (empty: all).
    pub vlans: BTreeSet<u16>,
    /// The output bundle.
    pub out_port: Option<u32>,
    /// The output VLAN.
    pub out_vlan: Option<u16>,
}

impl Mirror {
    /// Builds the mirror of `m`; `bundle(port_uuid)` gives the bundle of a Port row of the
    /// bridge. Returns an error for a mirror that cannot work (it is then left out).
    pub fn resolve(m: &MirrorCfg, bundle: &dyn Fn(&str) -> Option<u32>) -> Result<Mirror, String> {
        let set = |ports: &[String]| ports.iter().filter_map(|u| bundle(u)).collect::<BTreeSet<u32>>();
        let out_port = match &m.output_port {
            Some(u) => Some(bundle(u).ok_or_else(|| format!("mirror {}: output port is not a working port of this bridge", m.name))?),
            None => None,
        };
        if out_port.is_some() && m.output_vlan.is_some() {
            return Err(format!("mirror {}: output_port and output_vlan are both set", m.name));
        }
        if out_port.is_none() && m.output_vlan.is_none() {
            return Err(format!("mirror {}: no output_port or output_vlan", m.name));
        }
        if m.output_vlan.is_some_and(|v| !(1..=4095).contains(&v)) {
            return Err(format!("mirror {}: output_vlan must be 1..4095", m.name));
        }
        let mirror = Mirror {
            name: m.name.clone(),
            select_all: m.select_all,
            src: set(&m.select_src_port),
            dst: set(&m.select_dst_port),
            vlans: m.select_vlan.iter().copied().collect(),
            out_port,
            out_vlan: m.output_vlan,
        };
        if !mirror.select_all && mirror.src.is_empty() && mirror.dst.is_empty() {
            return Err(format!("mirror {}: selects no packets", m.name));
        }
        Ok(mirror)
    }

    /// Whether a packet from `in_bundle` in `vlan` sent to `outs` is selected.
    pub fn selects(&self, in_bundle: u32, outs: &[u32], vlan: u16) -> bool {
        (self.vlans.is_empty() || self.vlans.contains(&vlan))
            && (self.select_all || self.src.contains(&in_bundle) || outs.iter().any(|o| self.dst.contains(o)))
    }
}

/// Whether `bundle` is some mirror's output port (then NORMAL does not use it).
pub fn is_output(cfg: &BridgeConfig, bundle: u32) -> bool {
    cfg.mirrors.iter().any(|m| m.out_port == Some(bundle))
}

/// Sends the mirror copies of a packet NORMAL received on `in_bundle` in `vlan` and sent to
/// `outs`.
pub fn output_mirrors(x: &mut Xlate, ctx: &Ctx<'_>, in_bundle: u32, outs: &[u32], vlan: u16) {
    let cfg = ctx.cfg;
    let mut done: Vec<u32> = outs.to_vec();
    done.push(in_bundle);
    for m in &cfg.mirrors {
        if !m.selects(in_bundle, outs, vlan) {
            continue;
        }
        if let Some(b) = m.out_port {
            if !done.contains(&b) {
                x.note(|| format!("mirror {}: copy to port {b}", m.name));
                normal::output_bundle(x, ctx, b, vlan);
                done.push(b);
            }
        }
        if let Some(ov) = m.out_vlan {
            for p in cfg.ports.values() {
                let b = crate::bond::bundle_id(cfg, p.ofport);
                if b != p.ofport || b == in_bundle || !p.vlan.includes(ov) || is_output(cfg, b) || cfg.patches.contains_key(&b) {
                    continue;
                }
                x.note(|| format!("mirror {}: copy to port {b} in VLAN {ov}", m.name));
                normal::output_bundle(x, ctx, b, ov);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(name: &str) -> MirrorCfg {
        MirrorCfg { name: name.into(), ..Default::default() }
    }

    #[test]
    fn resolve_checks_the_row() {
        let bundle = |u: &str| match u {
            "p1" => Some(1),
            "p2" => Some(2),
            _ => None,
        };
        let mut m = cfg("m0");
        assert!(Mirror::resolve(&m, &bundle).unwrap_err().contains("no output"));
        m.output_port = Some("p9".into());
        assert!(Mirror::resolve(&m, &bundle).unwrap_err().contains("not a working port"));
        m.output_port = Some("p2".into());
        assert!(Mirror::resolve(&m, &bundle).unwrap_err().contains("selects no packets"));
        m.select_src_port = vec!["p1".into()];
        let r = Mirror::resolve(&m, &bundle).unwrap();
        assert_eq!((r.out_port, r.src.iter().copied().collect::<Vec<_>>()), (Some(2), vec![1]));
        m.output_vlan = Some(5);
        assert!(Mirror::resolve(&m, &bundle).is_err(), "both outputs");
    }

    #[test]
    fn selection() {
        let m = Mirror { src: [1].into(), dst: [3].into(), vlans: [10].into(), out_port: Some(9), ..Default::default() };
        assert!(m.selects(1, &[2], 10));
        assert!(m.selects(2, &[3], 10), "by destination");
        assert!(!m.selects(2, &[4], 10));
        assert!(!m.selects(1, &[2], 20), "other VLAN");
        let all = Mirror { select_all: true, out_port: Some(9), ..Default::default() };
        assert!(all.selects(5, &[], 0));
    }
}
