//! `OVS_FLOW_ATTR_*`: the attributes of `OVS_FLOW_CMD_*` requests and replies, parsed into a
//! borrowing [`FlowAttrs`] (key, mask and actions stay raw nested bytes for
//! [`super::key_nl`] / [`super::action_nl`]) and emitted back in upstream order.

use crate::nla::Writer;
use crate::ovs_abi::*;

use super::error::{CodecError, ErrorKind};
use super::msg::{self, FlowStats};
use super::policy::{self, AttrPolicy, Len};

/// Longest UFID upstream accepts (`MAX_UFID_LENGTH`).
pub const MAX_UFID_LENGTH: usize = 16;

/// Policy of `OVS_FLOW_ATTR_*` (upstream `flow_policy`; reply-only attributes accepted too).
pub static FLOW_POLICY: [AttrPolicy; 12] = [
    AttrPolicy::invalid("OVS_FLOW_ATTR_UNSPEC"),
    AttrPolicy::new("OVS_FLOW_ATTR_KEY", Len::Nested),
    AttrPolicy::new("OVS_FLOW_ATTR_ACTIONS", Len::Nested),
    AttrPolicy::new("OVS_FLOW_ATTR_STATS", Len::Exact(16)),
    AttrPolicy::new("OVS_FLOW_ATTR_TCP_FLAGS", Len::Exact(1)),
    AttrPolicy::new("OVS_FLOW_ATTR_USED", Len::Exact(8)),
    AttrPolicy::new("OVS_FLOW_ATTR_CLEAR", Len::Flag),
    AttrPolicy::new("OVS_FLOW_ATTR_MASK", Len::Nested),
    AttrPolicy::new("OVS_FLOW_ATTR_PROBE", Len::Flag),
    AttrPolicy::new("OVS_FLOW_ATTR_UFID", Len::Range(1, MAX_UFID_LENGTH)),
    AttrPolicy::new("OVS_FLOW_ATTR_UFID_FLAGS", Len::Exact(4)),
    AttrPolicy::new("OVS_FLOW_ATTR_PAD", Len::Pad),
];

/// The attributes of a flow message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowAttrs<'a> {
    /// Nested `OVS_KEY_ATTR_*` (raw).
    pub key: Option<&'a [u8]>,
    /// Nested `OVS_KEY_ATTR_*` mask (raw).
    pub mask: Option<&'a [u8]>,
    /// Nested `OVS_ACTION_ATTR_*` (raw).
    pub actions: Option<&'a [u8]>,
    /// Packet/byte counters.
    pub stats: Option<FlowStats>,
    /// OR of TCP flags seen.
    pub tcp_flags: Option<u8>,
    /// Last use, in milliseconds of monotonic time.
    pub used: Option<u64>,
    /// Clear statistics (`OVS_FLOW_CMD_SET`).
    pub clear: bool,
    /// Feature probe: suppress error logging.
    pub probe: bool,
    /// Unique flow identifier (1..=16 bytes).
    pub ufid: Option<&'a [u8]>,
    /// `OVS_UFID_F_*`.
    pub ufid_flags: Option<u32>,
}

impl<'a> FlowAttrs<'a> {
    /// Parses and validates the attributes following the `ovs_header`.
    pub fn parse(buf: &'a [u8]) -> Result<Self, CodecError> {
        let p = policy::parse(buf, "OVS_FLOW_ATTR", &FLOW_POLICY)?;
        Ok(Self {
            key: p.get(OVS_FLOW_ATTR_KEY),
            mask: p.get(OVS_FLOW_ATTR_MASK),
            actions: p.get(OVS_FLOW_ATTR_ACTIONS),
            stats: p.get(OVS_FLOW_ATTR_STATS).map(FlowStats::from_bytes),
            tcp_flags: p.get(OVS_FLOW_ATTR_TCP_FLAGS).and_then(|b| b.first().copied()),
            used: p.u64(OVS_FLOW_ATTR_USED),
            clear: p.has(OVS_FLOW_ATTR_CLEAR),
            probe: p.has(OVS_FLOW_ATTR_PROBE),
            ufid: p.get(OVS_FLOW_ATTR_UFID),
            ufid_flags: p.u32(OVS_FLOW_ATTR_UFID_FLAGS),
        })
    }

    /// The key, or an error naming `OVS_FLOW_ATTR_KEY` (required by `OVS_FLOW_CMD_NEW`).
    pub fn require_key(&self) -> Result<&'a [u8], CodecError> {
        self.key.ok_or(CodecError::new("OVS_FLOW_ATTR_KEY", ErrorKind::Missing))
    }

    /// Emits the attributes in upstream reply order (UFID, KEY, MASK, USED, STATS, TCP_FLAGS,
    /// ACTIONS), then the request-only ones.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        if let Some(u) = self.ufid {
            msg::put(w, "OVS_FLOW_ATTR_UFID", OVS_FLOW_ATTR_UFID, u)?;
        }
        if let Some(k) = self.key {
            msg::put(w, "OVS_FLOW_ATTR_KEY", OVS_FLOW_ATTR_KEY, k)?;
        }
        if let Some(m) = self.mask {
            msg::put(w, "OVS_FLOW_ATTR_MASK", OVS_FLOW_ATTR_MASK, m)?;
        }
        if let Some(u) = self.used {
            msg::put(w, "OVS_FLOW_ATTR_USED", OVS_FLOW_ATTR_USED, &u.to_ne_bytes())?;
        }
        if let Some(s) = self.stats {
            s.put(w, "OVS_FLOW_ATTR_STATS", OVS_FLOW_ATTR_STATS)?;
        }
        if let Some(f) = self.tcp_flags {
            msg::put(w, "OVS_FLOW_ATTR_TCP_FLAGS", OVS_FLOW_ATTR_TCP_FLAGS, &[f])?;
        }
        if let Some(a) = self.actions {
            msg::put(w, "OVS_FLOW_ATTR_ACTIONS", OVS_FLOW_ATTR_ACTIONS, a)?;
        }
        if let Some(f) = self.ufid_flags {
            msg::put_u32(w, "OVS_FLOW_ATTR_UFID_FLAGS", OVS_FLOW_ATTR_UFID_FLAGS, f)?;
        }
        msg::put_flag(w, "OVS_FLOW_ATTR_CLEAR", OVS_FLOW_ATTR_CLEAR, self.clear)?;
        msg::put_flag(w, "OVS_FLOW_ATTR_PROBE", OVS_FLOW_ATTR_PROBE, self.probe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovs::test_util::{attr, nest, u32a, written};

    #[test]
    fn flow_new_round_trip() {
        let key = nest(OVS_FLOW_ATTR_KEY, &[u32a(OVS_KEY_ATTR_IN_PORT, 1)]);
        let mut stats = std::vec::Vec::new();
        stats.extend_from_slice(&5u64.to_ne_bytes());
        stats.extend_from_slice(&600u64.to_ne_bytes());
        let wire = [
            attr(OVS_FLOW_ATTR_UFID, &[0xaa; 16]),
            key,
            nest(OVS_FLOW_ATTR_MASK, &[u32a(OVS_KEY_ATTR_IN_PORT, u32::MAX)]),
            attr(OVS_FLOW_ATTR_USED, &1234u64.to_ne_bytes()),
            attr(OVS_FLOW_ATTR_STATS, &stats),
            attr(OVS_FLOW_ATTR_TCP_FLAGS, &[0x12]),
            nest(OVS_FLOW_ATTR_ACTIONS, &[u32a(OVS_ACTION_ATTR_OUTPUT, 2)]),
            u32a(OVS_FLOW_ATTR_UFID_FLAGS, 7),
            attr(OVS_FLOW_ATTR_CLEAR, &[]),
            attr(OVS_FLOW_ATTR_PROBE, &[]),
        ]
        .concat();
        let f = FlowAttrs::parse(&wire).unwrap();
        assert_eq!(f.ufid, Some(&[0xaa; 16][..]));
        assert_eq!(f.stats, Some(FlowStats { n_packets: 5, n_bytes: 600 }));
        assert_eq!((f.tcp_flags, f.used, f.ufid_flags), (Some(0x12), Some(1234), Some(7)));
        assert!(f.clear && f.probe);
        assert_eq!(crate::ovs::decode_key(f.require_key().unwrap()).unwrap_err().attr, "OVS_KEY_ATTR_ETHERNET");
        assert_eq!(written(|w| f.emit(w).unwrap()), wire);
    }

    #[test]
    fn flow_errors() {
        assert_eq!(
            FlowAttrs::parse(&attr(OVS_FLOW_ATTR_UFID, &[0; 17])).unwrap_err(),
            CodecError::new("OVS_FLOW_ATTR_UFID", ErrorKind::TooLong { got: 17, max: 16 })
        );
        assert_eq!(
            FlowAttrs::parse(&attr(OVS_FLOW_ATTR_UFID, &[])).unwrap_err(),
            CodecError::new("OVS_FLOW_ATTR_UFID", ErrorKind::TooShort { got: 0, min: 1 })
        );
        assert_eq!(
            FlowAttrs::parse(&attr(OVS_FLOW_ATTR_STATS, &[0; 8])).unwrap_err(),
            CodecError::new("OVS_FLOW_ATTR_STATS", ErrorKind::BadLength { got: 8, want: 16 })
        );
        let dup = [attr(OVS_FLOW_ATTR_PROBE, &[]), attr(OVS_FLOW_ATTR_PROBE, &[])].concat();
        assert_eq!(FlowAttrs::parse(&dup).unwrap_err(), CodecError::new("OVS_FLOW_ATTR_PROBE", ErrorKind::Duplicate));
        assert_eq!(FlowAttrs::parse(&attr(12, &[])).unwrap_err().kind, ErrorKind::Unknown { ty: 12 });
        assert_eq!(FlowAttrs::parse(&[]).unwrap().require_key().unwrap_err().kind, ErrorKind::Missing);
        // PAD is accepted and dropped.
        assert_eq!(FlowAttrs::parse(&attr(OVS_FLOW_ATTR_PAD, &[0; 4])).unwrap(), FlowAttrs::default());
    }
}
