//! 802.1Q port configuration and the NORMAL pipeline's VLAN rules, with Open vSwitch's semantics
//! (`Port.tag`, `Port.trunks`, `Port.vlan_mode`):
//!
//! | mode | accepts on input | VLAN of an input frame | carries VLAN v on output |
//! |---|---|---|---|
//! | access (tag N) | untagged (or VID 0) | N | v == N, untagged |
//! | trunk | VID in trunks (0 = untagged) | its VID | v in trunks, tagged (0 untagged) |
//! | native-tagged (tag N) | untagged, VID in trunks or N | VID, N if untagged | v == N or in trunks, tagged |
//! | native-untagged (tag N) | same | same | same, N untagged |
//!
//! Empty `trunks` means all VLANs. Without `vlan_mode`, a port with a tag is access and one
//! without is trunk (as OVS).

use std::collections::BTreeSet;

/// How a port treats VLANs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VlanMode {
    /// One VLAN, untagged frames only.
    Access,
    /// Tagged frames of the trunked VLANs.
    #[default]
    Trunk,
    /// Trunk whose untagged frames belong to the native VLAN; output always tagged.
    NativeTagged,
    /// Trunk whose native VLAN is sent untagged.
    NativeUntagged,
}

impl VlanMode {
    /// Parses `Port.vlan_mode`.
    pub fn parse(s: &str) -> Option<VlanMode> {
        Some(match s {
            "access" => VlanMode::Access,
            "trunk" => VlanMode::Trunk,
            "native-tagged" => VlanMode::NativeTagged,
            "native-untagged" => VlanMode::NativeUntagged,
            _ => return None,
        })
    }

    /// The database spelling.
    pub fn name(self) -> &'static str {
        match self {
            VlanMode::Access => "access",
            VlanMode::Trunk => "trunk",
            VlanMode::NativeTagged => "native-tagged",
            VlanMode::NativeUntagged => "native-untagged",
        }
    }
}

/// One port's VLAN configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PortVlan {
    /// The mode in force.
    pub mode: VlanMode,
    /// Access / native VLAN (0 when none).
    pub tag: u16,
    /// Trunked VLANs; empty means all.
    pub trunks: BTreeSet<u16>,
}

impl PortVlan {
    /// From the Port columns, as OVS's bridge.c resolves them (a bad combination falls back to
    /// something safe and is reported in the returned warning).
    pub fn from_columns(tag: Option<i64>, trunks: &[i64], mode: Option<&str>) -> (PortVlan, Option<String>) {
        let tag = tag.and_then(|t| u16::try_from(t).ok()).filter(|t| *t <= 4095);
        let trunks: BTreeSet<u16> = trunks.iter().filter_map(|t| u16::try_from(*t).ok()).filter(|t| *t <= 4095).collect();
        let mut warn = None;
        let mode = match mode.map(|m| (m, VlanMode::parse(m))) {
            Some((_, Some(m))) => m,
            Some((m, None)) => {
                warn = Some(format!("unknown vlan_mode \"{m}\", using the default"));
                if tag.is_some() { VlanMode::Access } else { VlanMode::Trunk }
            }
            None => {
                if tag.is_some() {
                    if !trunks.is_empty() {
                        warn = Some("ignoring trunks in favor of implicit vlan".into());
                    }
                    VlanMode::Access
                } else {
                    VlanMode::Trunk
                }
            }
        };
        let needs_tag = matches!(mode, VlanMode::Access | VlanMode::NativeTagged | VlanMode::NativeUntagged);
        let tag = match (needs_tag, tag) {
            (true, None) => {
                warn = Some(format!("vlan_mode {} needs a tag; using VLAN 0", mode.name()));
                0
            }
            (_, t) => t.unwrap_or(0),
        };
        let trunks = if mode == VlanMode::Access { BTreeSet::new() } else { trunks };
        (PortVlan { mode, tag, trunks }, warn)
    }

    fn trunks_vlan(&self, vlan: u16) -> bool {
        self.mode != VlanMode::Access && (self.trunks.is_empty() || self.trunks.contains(&vlan))
    }

    /// Whether the port carries VLAN `vlan`.
    pub fn includes(&self, vlan: u16) -> bool {
        match self.mode {
            VlanMode::Access => vlan == self.tag,
            VlanMode::Trunk => self.trunks_vlan(vlan),
            VlanMode::NativeTagged | VlanMode::NativeUntagged => vlan == self.tag || self.trunks_vlan(vlan),
        }
    }

    /// The VLAN a frame received with VID `vid` (0: untagged) belongs to, or `None` if the port
    /// drops it.
    pub fn input_vlan(&self, vid: u16) -> Option<u16> {
        match self.mode {
            VlanMode::Access => (vid == 0).then_some(self.tag),
            VlanMode::Trunk => self.includes(vid).then_some(vid),
            VlanMode::NativeTagged | VlanMode::NativeUntagged => {
                if vid == 0 {
                    Some(self.tag)
                } else {
                    self.includes(vid).then_some(vid)
                }
            }
        }
    }

    /// The VID a frame of `vlan` leaves this port with (0: untagged).
    pub fn output_vid(&self, vlan: u16) -> u16 {
        match self.mode {
            VlanMode::Access => 0,
            VlanMode::Trunk | VlanMode::NativeTagged => vlan,
            VlanMode::NativeUntagged => {
                if vlan == self.tag {
                    0
                } else {
                    vlan
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_port() {
        let (p, w) = PortVlan::from_columns(Some(10), &[], None);
        assert!(w.is_none());
        assert_eq!(p.mode, VlanMode::Access);
        assert_eq!(p.input_vlan(0), Some(10));
        assert_eq!(p.input_vlan(10), None, "tagged frames are dropped on access ports");
        assert!(p.includes(10) && !p.includes(20) && !p.includes(0));
        assert_eq!(p.output_vid(10), 0);
    }

    #[test]
    fn trunk_port() {
        let (p, _) = PortVlan::from_columns(None, &[10, 20], None);
        assert_eq!(p.mode, VlanMode::Trunk);
        assert_eq!(p.input_vlan(10), Some(10));
        assert_eq!(p.input_vlan(30), None);
        assert_eq!(p.input_vlan(0), None, "VLAN 0 not trunked");
        assert_eq!(p.output_vid(20), 20);
        let (all, _) = PortVlan::from_columns(None, &[], None);
        assert!(all.includes(0) && all.includes(4095));
        assert_eq!(all.input_vlan(0), Some(0));
        assert_eq!(all.output_vid(0), 0);
    }

    #[test]
    fn native_modes() {
        let (t, _) = PortVlan::from_columns(Some(5), &[10], Some("native-tagged"));
        assert_eq!(t.input_vlan(0), Some(5));
        assert_eq!(t.input_vlan(10), Some(10));
        assert_eq!(t.input_vlan(5), Some(5));
        assert_eq!(t.input_vlan(11), None);
        assert_eq!(t.output_vid(5), 5);
        let (u, _) = PortVlan::from_columns(Some(5), &[10], Some("native-untagged"));
        assert_eq!(u.output_vid(5), 0);
        assert_eq!(u.output_vid(10), 10);
    }

    #[test]
    fn odd_configurations_warn() {
        let (p, w) = PortVlan::from_columns(Some(10), &[20], None);
        assert_eq!(p.mode, VlanMode::Access);
        assert!(p.trunks.is_empty());
        assert!(w.unwrap().contains("ignoring trunks"));
        let (p, w) = PortVlan::from_columns(None, &[], Some("access"));
        assert_eq!(p.tag, 0);
        assert!(w.is_some());
        let (_, w) = PortVlan::from_columns(None, &[], Some("bogus"));
        assert!(w.unwrap().contains("bogus"));
    }
}
