//! Bonds: a `Port` with several `Interface`s is one switch port ("bundle") to NORMAL. MACs are
//! learned on the bundle (its ID is the lowest member OpenFlow port, which `fdb/show` prints),
//! flooding sends one copy into the bond (never back into the bond it came from), and each output
//! picks one member:
//!
//! - `active-backup` (the default, as in Open vSwitch): everything goes out of the active member;
//!   frames received on other members are dropped. The active member stays active until it
//!   fails (sticky), then the first enabled member takes over.
//! - `balance-slb`: source MAC + VLAN hash over the enabled members; broadcast/multicast is only
//!   accepted on the active member, so a flood that the peer sends into every member comes in once.
//!
//! A member is enabled while its device is up with carrier (`other_config:bond-detect-mode`
//! `carrier`, the default; `miimon` reads the same state). The reconciler re-reads carriers on
//! every pass (every two seconds and after each database change) and publishes the new state, which
//! revalidates the flows. With `lacp=active|passive` a member is
//! also enabled only while LACP has it in sync with the partner ([`crate::lacp`]).
//! `balance-tcp` is not implemented and falls back to `balance-slb`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::bridge::Vswitchd;
use crate::config::PortCfg;
use crate::ofproto::BridgeConfig;
use crate::unixctl::Server;

/// How a bond spreads traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BondMode {
    /// One active member.
    #[default]
    ActiveBackup,
    /// Source MAC + VLAN load balancing.
    BalanceSlb,
}

impl BondMode {
    /// Parses `Port.bond_mode` (unset: active-backup); a value rvs does not implement falls
    /// back with a warning.
    pub fn parse(s: Option<&str>) -> (BondMode, Option<String>) {
        match s {
            None | Some("active-backup") => (BondMode::ActiveBackup, None),
            Some("balance-slb") => (BondMode::BalanceSlb, None),
            Some("balance-tcp") => (BondMode::BalanceSlb, Some("bond_mode balance-tcp is not implemented: using balance-slb".into())),
            Some(o) => (BondMode::ActiveBackup, Some(format!("unknown bond_mode \"{o}\": using active-backup"))),
        }
    }

    /// The database spelling.
    pub fn name(self) -> &'static str {
        match self {
            BondMode::ActiveBackup => "active-backup",
            BondMode::BalanceSlb => "balance-slb",
        }
    }
}

/// A bond as translation sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bond {
    /// The Port name.
    pub name: String,
    /// Mode.
    pub mode: BondMode,
    /// Members: (OpenFlow port, interface name), by name.
    pub members: Vec<(u32, String)>,
    /// Members usable now (OpenFlow ports).
    pub enabled: Vec<u32>,
    /// The active member.
    pub active: Option<u32>,
    /// Runs LACP: the partner knows the members form one link, so every enabled member takes
    /// every frame (as Open vSwitch admits them on LACP bonds).
    pub lacp: bool,
}

impl Bond {
    /// The bundle ID: the lowest member OpenFlow port.
    pub fn id(&self) -> u32 {
        self.members.iter().map(|(o, _)| *o).min().unwrap_or(0)
    }

    /// Whether a frame received on `member` is taken (`multicast`: its destination is).
    pub fn accepts(&self, member: u32, multicast: bool) -> bool {
        if !self.enabled.contains(&member) {
            return false;
        }
        if self.lacp {
            return true;
        }
        match self.mode {
            BondMode::ActiveBackup => self.active == Some(member),
            BondMode::BalanceSlb => !multicast || self.active == Some(member),
        }
    }

    /// The member a frame from `src` in `vlan` leaves by (`None`: no member is usable).
    pub fn output_member(&self, src: [u8; 6], vlan: u16) -> Option<u32> {
        match self.mode {
            BondMode::ActiveBackup => self.active,
            BondMode::BalanceSlb => {
                if self.enabled.is_empty() {
                    return None;
                }
                let mut h = std::collections::hash_map::DefaultHasher::new();
                (src, vlan).hash(&mut h);
                let i = usize::try_from(h.finish() % self.enabled.len() as u64).unwrap_or(0);
                self.enabled.get(i).copied()
            }
        }
    }

    fn member_name(&self, ofport: u32) -> &str {
        self.members.iter().find(|(o, _)| *o == ofport).map_or("?", |(_, n)| n.as_str())
    }
}

/// The bundle a port belongs to (its own OpenFlow port unless it is a bond member).
pub fn bundle_id(cfg: &BridgeConfig, ofport: u32) -> u32 {
    cfg.bundle_of.get(&ofport).copied().unwrap_or(ofport)
}

/// What the reconciler remembers about bonds between passes: each bond's active member.
#[derive(Debug, Default)]
pub struct BondState {
    active: HashMap<(String, String), String>,
}

impl BondState {
    /// Builds the bond of port `port` on bridge `bridge` from its members (OpenFlow port,
    /// interface name) and `usable(name)` (device up with carrier). Returns it and warnings.
    pub fn build(&mut self, bridge: &str, port: &PortCfg, members: &[(u32, String)], usable: &dyn Fn(&str) -> bool) -> (Bond, Vec<String>) {
        let mut warnings = Vec::new();
        let (mode, w) = BondMode::parse(port.bond.mode.as_deref());
        warnings.extend(w);
        match port.bond.lacp.as_deref() {
            None | Some("off" | "active" | "passive") => {}
            Some(l) => warnings.push(format!("unknown lacp \"{l}\": the bond runs without LACP")),
        }
        if let Some(id) = port.bond.lacp_system_id.as_deref().filter(|s| crate::lacp::parse_mac(s).is_none()) {
            warnings.push(format!("lacp-system-id \"{id}\" is not a MAC address: using one derived from the bridge and port names"));
        }
        match port.bond.detect_mode.as_deref() {
            None | Some("carrier") | Some("miimon") => {}
            Some(o) => warnings.push(format!("unknown bond-detect-mode \"{o}\": using carrier")),
        }
        let mut members = members.to_vec();
        members.sort_by(|a, b| a.1.cmp(&b.1));
        let enabled: Vec<u32> = members.iter().filter(|(_, n)| usable(n)).map(|(o, _)| *o).collect();
        let key = (bridge.to_string(), port.name.clone());
        let prev = self.active.get(&key).and_then(|n| members.iter().find(|(_, m)| m == n)).map(|(o, _)| *o);
        let active = prev.filter(|o| enabled.contains(o)).or_else(|| enabled.first().copied());
        match active.and_then(|a| members.iter().find(|(o, _)| *o == a)) {
            Some((_, n)) => {
                if prev.is_some_and(|p| Some(p) != active) || (prev.is_none() && self.active.contains_key(&key)) {
                    crate::info!("bond", "{}: active member is now {n}", port.name);
                }
                self.active.insert(key, n.clone());
            }
            None => {
                if self.active.remove(&key).is_some() {
                    crate::warn!("bond", "{}: no usable member", port.name);
                }
            }
        }
        (Bond { name: port.name.clone(), mode, members, enabled, active, lacp: false }, warnings)
    }

    /// Forgets bonds not in `keep` (bridge, port).
    pub fn retain(&mut self, keep: &std::collections::BTreeSet<(String, String)>) {
        self.active.retain(|k, _| keep.contains(k));
    }
}

/// `bond/show [PORT]`: every bond (or one) with its members' state.
pub fn show(vs: &Vswitchd, which: Option<&str>) -> Result<String, String> {
    let mut out = String::new();
    let mut found = false;
    for b in vs.switch.bridges() {
        let cfg = b.config();
        for bond in cfg.bonds.values() {
            if which.is_some_and(|w| w != bond.name) {
                continue;
            }
            found = true;
            let _ = writeln!(out, "---- {} ----", bond.name);
            let _ = writeln!(out, "bridge: {}", cfg.name);
            let _ = writeln!(out, "bond_mode: {}", bond.mode.name());
            let _ = writeln!(out, "bond-detect-mode: carrier");
            let lacp = if vs.switch.lacp.has(&cfg.name, &bond.name) { "negotiated by LACP (lacp/show)" } else { "off" };
            let _ = writeln!(out, "lacp_status: {lacp}");
            match bond.active {
                Some(a) => {
                    let _ = writeln!(out, "active member: {}", bond.member_name(a));
                }
                None => out.push_str("active member: none\n"),
            }
            for (o, n) in &bond.members {
                let en = if bond.enabled.contains(o) { "enabled" } else { "disabled" };
                let _ = writeln!(out, "\nmember {n}: {en}");
                let _ = writeln!(out, "  ofport: {o}");
                if bond.active == Some(*o) {
                    out.push_str("  active member\n");
                }
            }
            out.push('\n');
        }
    }
    match (found, which) {
        (false, Some(w)) => Err(format!("no such bond {w}")),
        _ => Ok(out),
    }
}

/// Registers `bond/show`.
pub fn register(s: &Server, vs: &Arc<Vswitchd>) {
    let v = vs.clone();
    s.register("bond/show", "[PORT]", 0, 1, move |a| show(&v, a.first().map(String::as_str)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BondCfg;

    fn port(mode: Option<&str>) -> PortCfg {
        PortCfg {
            uuid: "p".into(),
            name: "bond0".into(),
            vlan: Default::default(),
            vlan_warning: None,
            interfaces: vec![],
            bond: BondCfg { mode: mode.map(str::to_string), ..Default::default() },
        }
    }

    #[test]
    fn active_backup_is_sticky_and_fails_over() {
        let mut st = BondState::default();
        let m = [(3, "b".to_string()), (2, "a".to_string())];
        let (b, w) = st.build("br0", &port(None), &m, &|_| true);
        assert!(w.is_empty());
        assert_eq!(b.id(), 2);
        assert_eq!(b.active, Some(2), "first by name");
        assert!(b.accepts(2, true) && !b.accepts(3, false), "only the active member receives");
        assert_eq!(b.output_member([2, 0, 0, 0, 0, 1], 0), Some(2));
        let (b, _) = st.build("br0", &port(None), &m, &|n| n != "a");
        assert_eq!(b.active, Some(3), "failover");
        let (b, _) = st.build("br0", &port(None), &m, &|_| true);
        assert_eq!(b.active, Some(3), "sticky: a's return does not take over");
        let (mut b, _) = st.build("br0", &port(None), &m, &|n| n != "a");
        b.lacp = true;
        assert!(b.accepts(3, true) && !b.accepts(2, true), "LACP: every enabled member takes every frame, disabled ones none");
        let (b, _) = st.build("br0", &port(None), &m, &|_| false);
        assert_eq!((b.active, b.output_member([2; 6], 0)), (None, None));
        assert!(!b.accepts(3, false));
    }

    #[test]
    fn balance_slb_spreads_and_takes_floods_once() {
        let mut st = BondState::default();
        let m = [(1, "a".to_string()), (2, "b".to_string())];
        let (b, _) = st.build("br0", &port(Some("balance-slb")), &m, &|_| true);
        let mut used = std::collections::BTreeSet::new();
        for i in 0..64u8 {
            let o = b.output_member([2, 0, 0, 0, 0, i], 10).unwrap();
            assert_eq!(b.output_member([2, 0, 0, 0, 0, i], 10), Some(o), "stable per source");
            used.insert(o);
        }
        assert_eq!(used.len(), 2, "both members used");
        assert!(b.accepts(2, false) && !b.accepts(2, true) && b.accepts(1, true));
        let (b, _) = st.build("br0", &port(Some("balance-slb")), &m, &|n| n == "b");
        assert!((0..16u8).all(|i| b.output_member([2, 0, 0, 0, 0, i], 0) == Some(2)), "only the enabled member");
    }

    #[test]
    fn unsupported_settings_warn() {
        let mut st = BondState::default();
        let mut p = port(Some("balance-tcp"));
        p.bond.lacp = Some("sometimes".into());
        p.bond.lacp_system_id = Some("xx".into());
        let (b, w) = st.build("br0", &p, &[(1, "a".into())], &|_| true);
        assert_eq!(b.mode, BondMode::BalanceSlb);
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(BondMode::parse(Some("bogus")).1.is_some());
    }
}
