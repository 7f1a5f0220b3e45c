//! Basic OpenFlow vocabulary shared by every version: protocol versions, reserved port, group,
//! meter, table and buffer numbers (in the 32-bit OpenFlow 1.1+ numbering the model uses), and
//! the OpenFlow 1.0 16-bit port mapping.

use std::fmt;

/// An OpenFlow protocol version (the header's `version` byte).
///
/// Any byte can be held (a peer's hello may announce a version this crate does not speak);
/// [`Version::is_supported`] says whether messages of that version can be encoded and decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u8);

impl Version {
    /// OpenFlow 1.0 (wire 0x01).
    pub const OF10: Version = Version(0x01);
    /// OpenFlow 1.3 (wire 0x04).
    pub const OF13: Version = Version(0x04);
    /// The versions this codec encodes and decodes, oldest first.
    pub const SUPPORTED: [Version; 2] = [Version::OF10, Version::OF13];

    /// Whether this codec speaks `self`.
    pub fn is_supported(self) -> bool {
        Self::SUPPORTED.contains(&self)
    }

    /// The name `ovs-ofctl -O` uses (`OpenFlow13`).
    pub fn ofctl_name(self) -> String {
        match self.0 {
            1..=6 => format!("OpenFlow1{}", self.0.wrapping_sub(1)),
            v => format!("OpenFlow-0x{v:02x}"),
        }
    }

    /// Parses `OpenFlow10`/`OpenFlow13`/`OF1.3`/`1.3`.
    pub fn parse(s: &str) -> Option<Version> {
        let t = s.trim_start_matches("OpenFlow").trim_start_matches("OF");
        match t {
            "10" | "1.0" => Some(Version::OF10),
            "13" | "1.3" => Some(Version::OF13),
            _ => None,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1..=6 => write!(f, "1.{}", self.0.wrapping_sub(1)),
            v => write!(f, "0x{v:02x}"),
        }
    }
}

/// Reserved port numbers (OpenFlow 1.1+ numbering, `ofp_port_no`).
pub mod port {
    /// Maximum number of physical and logical switch ports.
    pub const MAX: u32 = 0xffff_ff00;
    /// Send the packet out the input port.
    pub const IN_PORT: u32 = 0xffff_fff8;
    /// Submit the packet to the first flow table (packet-out only).
    pub const TABLE: u32 = 0xffff_fff9;
    /// Forward using non-OpenFlow pipeline.
    pub const NORMAL: u32 = 0xffff_fffa;
    /// Flood using non-OpenFlow pipeline.
    pub const FLOOD: u32 = 0xffff_fffb;
    /// All standard ports except input port.
    pub const ALL: u32 = 0xffff_fffc;
    /// Send to controller.
    pub const CONTROLLER: u32 = 0xffff_fffd;
    /// Local openflow "port".
    pub const LOCAL: u32 = 0xffff_fffe;
    /// Wildcard port used only for flow mod (delete) and flow stats requests (1.0: `OFPP_NONE`).
    pub const ANY: u32 = 0xffff_ffff;

    /// The `ovs-ofctl` name of a reserved port, if `p` is one.
    pub fn name(p: u32) -> Option<&'static str> {
        Some(match p {
            IN_PORT => "IN_PORT",
            TABLE => "TABLE",
            NORMAL => "NORMAL",
            FLOOD => "FLOOD",
            ALL => "ALL",
            CONTROLLER => "CONTROLLER",
            LOCAL => "LOCAL",
            ANY => "ANY",
            _ => return None,
        })
    }

    /// Parses a port name or number as `ovs-ofctl` does (`LOCAL`, `in_port`, `3`, `0xfffe`).
    pub fn parse(s: &str) -> Option<u32> {
        let up = s.to_ascii_uppercase();
        let named = match up.as_str() {
            "IN_PORT" => Some(IN_PORT),
            "TABLE" => Some(TABLE),
            "NORMAL" => Some(NORMAL),
            "FLOOD" => Some(FLOOD),
            "ALL" => Some(ALL),
            "CONTROLLER" => Some(CONTROLLER),
            "LOCAL" => Some(LOCAL),
            "ANY" | "NONE" => Some(ANY),
            _ => None,
        };
        named.or_else(|| crate::text::parse_u64(s).and_then(|v| u32::try_from(v).ok()))
    }

    /// OpenFlow 1.0 (16-bit) port number to the 32-bit model number.
    pub fn from_of10(p: u16) -> u32 {
        if p >= 0xff00 {
            u32::from(p) | 0xffff_0000
        } else {
            u32::from(p)
        }
    }

    /// Model port number to OpenFlow 1.0, if representable.
    pub fn to_of10(p: u32) -> Option<u16> {
        if p < 0xff00 {
            u16::try_from(p).ok()
        } else if p >= MAX {
            u16::try_from(p & 0xffff).ok()
        } else {
            None
        }
    }
}

/// Reserved group numbers.
pub mod group {
    /// Last usable group number.
    pub const MAX: u32 = 0xffff_ff00;
    /// Represents all groups for group delete commands.
    pub const ALL: u32 = 0xffff_fffc;
    /// Wildcard group used only for flow stats requests and flow mod delete.
    pub const ANY: u32 = 0xffff_ffff;
}

/// Reserved meter numbers.
pub mod meter {
    /// Last usable meter.
    pub const MAX: u32 = 0xffff_0000;
    /// Meter for slow datapath.
    pub const SLOWPATH: u32 = 0xffff_fffd;
    /// Meter for controller connection.
    pub const CONTROLLER: u32 = 0xffff_fffe;
    /// Represents all meters for stat requests commands.
    pub const ALL: u32 = 0xffff_ffff;
}

/// Reserved table numbers.
pub mod table {
    /// Last usable table number.
    pub const MAX: u8 = 0xfe;
    /// Wildcard table used for table config, flow stats and flow deletes.
    pub const ALL: u8 = 0xff;
}

/// `OFP_NO_BUFFER`: the packet is not buffered on the switch.
pub const NO_BUFFER: u32 = 0xffff_ffff;
/// `OFPCML_NO_BUFFER`: send the whole packet to the controller, unbuffered.
pub const CML_NO_BUFFER: u16 = 0xffff;
/// The OpenFlow flow priority used when none is given.
pub const DEFAULT_PRIORITY: u16 = 0x8000;
/// The OpenFlow default `miss_send_len`.
pub const DEFAULT_MISS_SEND_LEN: u16 = 128;

/// An Ethernet address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// The address as a 48-bit number.
    pub fn to_u64(self) -> u64 {
        self.0.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    }
    /// The address from the low 48 bits of `v`.
    pub fn from_u64(v: u64) -> MacAddr {
        let b = v.to_be_bytes();
        let mut m = [0u8; 6];
        m.copy_from_slice(b.get(2..8).unwrap_or(&[0; 6]));
        MacAddr(m)
    }
    /// Parses `aa:bb:cc:dd:ee:ff`.
    pub fn parse(s: &str) -> Option<MacAddr> {
        let mut m = [0u8; 6];
        let mut parts = s.split(':');
        for b in m.iter_mut() {
            *b = u8::from_str_radix(parts.next()?, 16).ok()?;
        }
        parts.next().is_none().then_some(MacAddr(m))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn of10_port_mapping() {
        assert_eq!(port::from_of10(0xfffe), port::LOCAL);
        assert_eq!(port::from_of10(0xffff), port::ANY);
        assert_eq!(port::from_of10(7), 7);
        assert_eq!(port::to_of10(port::CONTROLLER), Some(0xfffd));
        assert_eq!(port::to_of10(0x1_0000), None);
        assert_eq!(port::to_of10(0xfeff), Some(0xfeff));
    }

    #[test]
    fn mac_parse_print() {
        let m = MacAddr::parse("00:0a:Fb:01:02:ff").unwrap();
        assert_eq!(m.to_string(), "00:0a:fb:01:02:ff");
        assert_eq!(MacAddr::from_u64(m.to_u64()), m);
        assert!(MacAddr::parse("00:0a:fb:01:02").is_none());
        assert!(MacAddr::parse("00:0a:fb:01:02:03:04").is_none());
    }

    #[test]
    fn version_names() {
        assert_eq!(Version::OF13.ofctl_name(), "OpenFlow13");
        assert_eq!(Version::OF10.to_string(), "1.0");
        assert_eq!(Version::parse("OpenFlow13"), Some(Version::OF13));
    }
}
