//! OpenFlow errors: the version-neutral error model ([`OfpError`], named after the OpenFlow 1.3
//! `ofp_error_type`/code enums), its per-version wire encoding ([`WireError`]), and the Rust
//! error types of the codec ([`DecodeError`], [`EncodeError`]).
//!
//! Where OpenFlow 1.0 has no code for an error, the encoding follows Open vSwitch (Nicira
//! vendor errors, `NXET_VENDOR`), so `ovs-ofctl` prints the same names; the table was taken
//! from `ovs-ofctl print-error`.

use crate::types::Version;

macro_rules! codes {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $n:expr),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $v,)*
        }
        impl $name {
            /// Every code of this type.
            pub const ALL: &'static [$name] = &[$($name::$v,)*];
            /// The OpenFlow 1.3 numeric code.
            pub fn code(self) -> u16 {
                match self { $($name::$v => $n,)* }
            }
        }
    };
}

codes!(
    /// `OFPET_HELLO_FAILED` codes.
    HelloFailed {
        /// No compatible version.
        Incompatible = 0,
        /// Permissions error.
        Eperm = 1,
    }
);
codes!(
    /// `OFPET_BAD_REQUEST` codes.
    BadRequest {
        /// Header version not supported.
        BadVersion = 0,
        /// Message type not supported.
        BadType = 1,
        /// Multipart (stats) type not supported.
        BadMultipart = 2,
        /// Experimenter (vendor) id not supported.
        BadExperimenter = 3,
        /// Experimenter type not supported.
        BadExpType = 4,
        /// Permissions error.
        Eperm = 5,
        /// Wrong request length for type.
        BadLen = 6,
        /// Specified buffer has already been used.
        BufferEmpty = 7,
        /// Specified buffer does not exist.
        BufferUnknown = 8,
        /// Specified table-id invalid or does not exist.
        BadTableId = 9,
        /// Denied because controller is slave.
        IsSlave = 10,
        /// Invalid port.
        BadPort = 11,
        /// Invalid packet in packet-out.
        BadPacket = 12,
        /// Multipart request overflowed the assigned buffer.
        MultipartBufferOverflow = 13,
    }
);
codes!(
    /// `OFPET_BAD_ACTION` codes.
    BadAction {
        /// Unknown action type.
        BadType = 0,
        /// Length problem in actions.
        BadLen = 1,
        /// Unknown experimenter id.
        BadExperimenter = 2,
        /// Unknown action for experimenter id.
        BadExpType = 3,
        /// Problem validating output port.
        BadOutPort = 4,
        /// Bad action argument.
        BadArgument = 5,
        /// Permissions error.
        Eperm = 6,
        /// Can't handle this many actions.
        TooMany = 7,
        /// Problem validating output queue.
        BadQueue = 8,
        /// Invalid group id in forward action.
        BadOutGroup = 9,
        /// Action can't apply for this match, or set-field prerequisite missing.
        MatchInconsistent = 10,
        /// Action order is unsupported for the action list.
        UnsupportedOrder = 11,
        /// Actions uses an unsupported tag/encap.
        BadTag = 12,
        /// Unsupported type in set-field action.
        BadSetType = 13,
        /// Length problem in set-field action.
        BadSetLen = 14,
        /// Bad argument in set-field action.
        BadSetArgument = 15,
    }
);
codes!(
    /// `OFPET_BAD_INSTRUCTION` codes.
    BadInstruction {
        /// Unknown instruction.
        UnknownInst = 0,
        /// Switch or table does not support the instruction.
        UnsupInst = 1,
        /// Invalid table-id specified.
        BadTableId = 2,
        /// Metadata value unsupported by datapath.
        UnsupMetadata = 3,
        /// Metadata mask value unsupported by datapath.
        UnsupMetadataMask = 4,
        /// Unknown experimenter id specified.
        BadExperimenter = 5,
        /// Unknown instruction for experimenter id.
        BadExpType = 6,
        /// Length problem in instructions.
        BadLen = 7,
        /// Permissions error.
        Eperm = 8,
        /// Duplicate instruction (OpenFlow 1.4 code; an ONF extension in 1.3).
        DupInst = 9,
    }
);
codes!(
    /// `OFPET_BAD_MATCH` codes.
    BadMatch {
        /// Unsupported match type.
        BadType = 0,
        /// Length problem in match.
        BadLen = 1,
        /// Match uses an unsupported tag/encap.
        BadTag = 2,
        /// Unsupported datalink addr mask.
        BadDlAddrMask = 3,
        /// Unsupported network addr mask.
        BadNwAddrMask = 4,
        /// Unsupported combination of fields masked or omitted.
        BadWildcards = 5,
        /// Unsupported field type in the match.
        BadField = 6,
        /// Unsupported value in a match field.
        BadValue = 7,
        /// Unsupported mask specified in the match.
        BadMask = 8,
        /// A prerequisite was not met.
        BadPrereq = 9,
        /// A field type was duplicated.
        DupField = 10,
        /// Permissions error.
        Eperm = 11,
    }
);
codes!(
    /// `OFPET_FLOW_MOD_FAILED` codes.
    FlowModFailed {
        /// Unspecified error.
        Unknown = 0,
        /// Flow not added because table was full.
        TableFull = 1,
        /// Table does not exist.
        BadTableId = 2,
        /// Attempted to add overlapping flow with CHECK_OVERLAP set.
        Overlap = 3,
        /// Permissions error.
        Eperm = 4,
        /// Flow not added because of unsupported idle/hard timeout.
        BadTimeout = 5,
        /// Unsupported or unknown command.
        BadCommand = 6,
        /// Unsupported or unknown flags.
        BadFlags = 7,
    }
);
codes!(
    /// `OFPET_GROUP_MOD_FAILED` codes.
    GroupModFailed {
        /// Group not added because a group ADD attempted to replace an existing group.
        GroupExists = 0,
        /// Group not added because Group specified is invalid.
        InvalidGroup = 1,
        /// Switch does not support unequal load sharing with select groups.
        WeightUnsupported = 2,
        /// The group table is full.
        OutOfGroups = 3,
        /// The maximum number of action buckets for a group has been exceeded.
        OutOfBuckets = 4,
        /// Switch does not support groups that forward to groups.
        ChainingUnsupported = 5,
        /// This group cannot watch the watch_port or watch_group specified.
        WatchUnsupported = 6,
        /// Group entry would cause a loop.
        Loop = 7,
        /// Group not modified because a group MODIFY attempted to modify a non-existent group.
        UnknownGroup = 8,
        /// Group not deleted because another group is forwarding to it.
        ChainedGroup = 9,
        /// Unsupported or unknown group type.
        BadType = 10,
        /// Unsupported or unknown command.
        BadCommand = 11,
        /// Error in bucket.
        BadBucket = 12,
        /// Error in watch port/group.
        BadWatch = 13,
        /// Permissions error.
        Eperm = 14,
    }
);
codes!(
    /// `OFPET_PORT_MOD_FAILED` codes.
    PortModFailed {
        /// Specified port number does not exist.
        BadPort = 0,
        /// Specified hardware address does not match the port number.
        BadHwAddr = 1,
        /// Specified config is invalid.
        BadConfig = 2,
        /// Specified advertise is invalid.
        BadAdvertise = 3,
        /// Permissions error.
        Eperm = 4,
    }
);
codes!(
    /// `OFPET_TABLE_MOD_FAILED` codes.
    TableModFailed {
        /// Specified table does not exist.
        BadTable = 0,
        /// Specified config is invalid.
        BadConfig = 1,
        /// Permissions error.
        Eperm = 2,
    }
);
codes!(
    /// `OFPET_QUEUE_OP_FAILED` codes.
    QueueOpFailed {
        /// Invalid port (or port does not exist).
        BadPort = 0,
        /// Queue does not exist.
        BadQueue = 1,
        /// Permissions error.
        Eperm = 2,
    }
);
codes!(
    /// `OFPET_SWITCH_CONFIG_FAILED` codes.
    SwitchConfigFailed {
        /// Specified flags is invalid.
        BadFlags = 0,
        /// Specified len is invalid.
        BadLen = 1,
        /// Permissions error.
        Eperm = 2,
    }
);
codes!(
    /// `OFPET_ROLE_REQUEST_FAILED` codes.
    RoleRequestFailed {
        /// Stale message: old generation_id.
        Stale = 0,
        /// Controller role change unsupported.
        Unsup = 1,
        /// Invalid role.
        BadRole = 2,
    }
);
codes!(
    /// `OFPET_METER_MOD_FAILED` codes.
    MeterModFailed {
        /// Unspecified error.
        Unknown = 0,
        /// Meter not added because a Meter ADD attempted to replace an existing Meter.
        MeterExists = 1,
        /// Meter not added because Meter specified is invalid.
        InvalidMeter = 2,
        /// Meter not modified because a Meter MODIFY attempted to modify a non-existent Meter.
        UnknownMeter = 3,
        /// Unsupported or unknown command.
        BadCommand = 4,
        /// Flag configuration unsupported.
        BadFlags = 5,
        /// Rate unsupported.
        BadRate = 6,
        /// Burst size unsupported.
        BadBurst = 7,
        /// Band unsupported.
        BadBand = 8,
        /// Band value unsupported.
        BadBandValue = 9,
        /// No more meters available.
        OutOfMeters = 10,
        /// The maximum number of properties for a meter has been exceeded.
        OutOfBands = 11,
    }
);
codes!(
    /// `OFPET_TABLE_FEATURES_FAILED` codes.
    TableFeaturesFailed {
        /// Specified table does not exist.
        BadTable = 0,
        /// Invalid metadata mask.
        BadMetadata = 1,
        /// Unknown property type.
        BadType = 2,
        /// Length problem in properties.
        BadLen = 3,
        /// Unsupported property value.
        BadArgument = 4,
        /// Permissions error.
        Eperm = 5,
    }
);

/// A version-neutral OpenFlow error (type + code), named after OpenFlow 1.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfpError {
    /// `OFPET_HELLO_FAILED`.
    HelloFailed(HelloFailed),
    /// `OFPET_BAD_REQUEST`.
    BadRequest(BadRequest),
    /// `OFPET_BAD_ACTION`.
    BadAction(BadAction),
    /// `OFPET_BAD_INSTRUCTION`.
    BadInstruction(BadInstruction),
    /// `OFPET_BAD_MATCH`.
    BadMatch(BadMatch),
    /// `OFPET_FLOW_MOD_FAILED`.
    FlowModFailed(FlowModFailed),
    /// `OFPET_GROUP_MOD_FAILED`.
    GroupModFailed(GroupModFailed),
    /// `OFPET_PORT_MOD_FAILED`.
    PortModFailed(PortModFailed),
    /// `OFPET_TABLE_MOD_FAILED`.
    TableModFailed(TableModFailed),
    /// `OFPET_QUEUE_OP_FAILED`.
    QueueOpFailed(QueueOpFailed),
    /// `OFPET_SWITCH_CONFIG_FAILED`.
    SwitchConfigFailed(SwitchConfigFailed),
    /// `OFPET_ROLE_REQUEST_FAILED`.
    RoleRequestFailed(RoleRequestFailed),
    /// `OFPET_METER_MOD_FAILED`.
    MeterModFailed(MeterModFailed),
    /// `OFPET_TABLE_FEATURES_FAILED`.
    TableFeaturesFailed(TableFeaturesFailed),
}

macro_rules! from_code {
    ($($t:ident),*) => {$(
        impl From<$t> for OfpError {
            fn from(c: $t) -> Self { OfpError::$t(c) }
        }
    )*};
}
from_code!(
    HelloFailed, BadRequest, BadAction, BadInstruction, BadMatch, FlowModFailed, GroupModFailed,
    PortModFailed, TableModFailed, QueueOpFailed, SwitchConfigFailed, RoleRequestFailed,
    MeterModFailed, TableFeaturesFailed
);

/// Nicira's vendor id (`NX_VENDOR_ID`), used by Open vSwitch for errors OpenFlow 1.0 lacks.
pub const NX_VENDOR_ID: u32 = 0x0000_2320;
/// The ONF experimenter id, used by Open vSwitch for `OFPBIC_DUP_INST` in OpenFlow 1.3.
pub const ONF_VENDOR_ID: u32 = 0x4f4e_4600;
/// `NXET_VENDOR`: the OpenFlow 1.0 error type that wraps a vendor error.
pub const NXET_VENDOR: u16 = 0xb0c2;
/// `OFPET_EXPERIMENTER` (OpenFlow 1.2+).
pub const OFPET_EXPERIMENTER: u16 = 0xffff;

/// One error as numbers, in the shape `ovs-ofctl print-error` shows: `vendor` 0 is a standard
/// error; any other vendor is carried in `NXET_VENDOR` (1.0) or `OFPET_EXPERIMENTER` (1.2+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WireError {
    /// 0 for a standard error, else the vendor/experimenter id.
    pub vendor: u32,
    /// Error type (the experimenter type for OpenFlow 1.2+ experimenter errors).
    pub etype: u16,
    /// Error code (0 for OpenFlow 1.2+ experimenter errors).
    pub code: u16,
}

const fn std_err(etype: u16, code: u16) -> WireError {
    WireError { vendor: 0, etype, code }
}
const fn nx_err(etype: u16, code: u16) -> WireError {
    WireError { vendor: NX_VENDOR_ID, etype, code }
}
/// `NXBRC_UNENCODABLE_ERROR` in OpenFlow 1.0 (what OVS sends when 1.0 has no code).
const OF10_UNENCODABLE: WireError = nx_err(1, 521);

impl OfpError {
    /// The OpenFlow 1.3 error type number.
    pub fn type_number(self) -> u16 {
        match self {
            OfpError::HelloFailed(_) => 0,
            OfpError::BadRequest(_) => 1,
            OfpError::BadAction(_) => 2,
            OfpError::BadInstruction(_) => 3,
            OfpError::BadMatch(_) => 4,
            OfpError::FlowModFailed(_) => 5,
            OfpError::GroupModFailed(_) => 6,
            OfpError::PortModFailed(_) => 7,
            OfpError::TableModFailed(_) => 8,
            OfpError::QueueOpFailed(_) => 9,
            OfpError::SwitchConfigFailed(_) => 10,
            OfpError::RoleRequestFailed(_) => 11,
            OfpError::MeterModFailed(_) => 12,
            OfpError::TableFeaturesFailed(_) => 13,
        }
    }

    /// The OpenFlow 1.3 code number.
    pub fn code_number(self) -> u16 {
        match self {
            OfpError::HelloFailed(c) => c.code(),
            OfpError::BadRequest(c) => c.code(),
            OfpError::BadAction(c) => c.code(),
            OfpError::BadInstruction(c) => c.code(),
            OfpError::BadMatch(c) => c.code(),
            OfpError::FlowModFailed(c) => c.code(),
            OfpError::GroupModFailed(c) => c.code(),
            OfpError::PortModFailed(c) => c.code(),
            OfpError::TableModFailed(c) => c.code(),
            OfpError::QueueOpFailed(c) => c.code(),
            OfpError::SwitchConfigFailed(c) => c.code(),
            OfpError::RoleRequestFailed(c) => c.code(),
            OfpError::MeterModFailed(c) => c.code(),
            OfpError::TableFeaturesFailed(c) => c.code(),
        }
    }

    /// Every error this model knows.
    pub fn all() -> Vec<OfpError> {
        let mut v: Vec<OfpError> = Vec::new();
        v.extend(HelloFailed::ALL.iter().map(|&c| OfpError::from(c)));
        v.extend(BadRequest::ALL.iter().map(|&c| OfpError::from(c)));
        v.extend(BadAction::ALL.iter().map(|&c| OfpError::from(c)));
        v.extend(BadInstruction::ALL.iter().map(|&c| OfpError::from(c)));
        v.extend(BadMatch::ALL.iter().map(|&c| OfpError::from(c)));
        v.extend(FlowModFailed::ALL.iter().map(|&c| OfpError::from(c)));
        v.extend(GroupModFailed::ALL.iter().map(|&c| OfpError::from(c)));
        v.extend(PortModFailed::ALL.iter().map(|&c| OfpError::from(c)));
        v.extend(TableModFailed::ALL.iter().map(|&c| OfpError::from(c)));
        v.extend(QueueOpFailed::ALL.iter().map(|&c| OfpError::from(c)));
        v.extend(SwitchConfigFailed::ALL.iter().map(|&c| OfpError::from(c)));
        v.extend(RoleRequestFailed::ALL.iter().map(|&c| OfpError::from(c)));
        v.extend(MeterModFailed::ALL.iter().map(|&c| OfpError::from(c)));
        v.extend(TableFeaturesFailed::ALL.iter().map(|&c| OfpError::from(c)));
        v
    }

    /// The wire numbers of this error in `version`.
    pub fn wire(self, version: Version) -> WireError {
        if version == Version::OF10 {
            return self.wire_of10();
        }
        if self == OfpError::BadInstruction(BadInstruction::DupInst) && version.0 < 5 {
            return WireError { vendor: ONF_VENDOR_ID, etype: 2600, code: 0 };
        }
        std_err(self.type_number(), self.code_number())
    }

    fn wire_of10(self) -> WireError {
        let code = self.code_number();
        match self {
            OfpError::HelloFailed(_) => std_err(0, code),
            OfpError::BadRequest(c) => match c {
                BadRequest::BadTableId => nx_err(1, 512),
                BadRequest::BadPort => nx_err(1, 514),
                _ if code <= 8 => std_err(1, code),
                _ => OF10_UNENCODABLE,
            },
            OfpError::BadAction(c) => match c {
                BadAction::BadOutGroup => nx_err(2, 9),
                BadAction::MatchInconsistent => nx_err(1, 522),
                BadAction::BadSetType => nx_err(1, 523),
                BadAction::BadSetLen => nx_err(1, 524),
                BadAction::BadSetArgument => nx_err(1, 525),
                _ if code <= 8 => std_err(2, code),
                _ => OF10_UNENCODABLE,
            },
            OfpError::BadInstruction(BadInstruction::UnsupInst) => nx_err(2, 257),
            OfpError::BadMatch(c) => match c {
                BadMatch::BadWildcards => nx_err(1, 262),
                BadMatch::BadField => nx_err(0, 263),
                BadMatch::BadValue => nx_err(1, 258),
                BadMatch::BadMask => nx_err(1, 259),
                BadMatch::BadPrereq => nx_err(1, 260),
                BadMatch::DupField => nx_err(1, 261),
                _ => OF10_UNENCODABLE,
            },
            OfpError::FlowModFailed(c) => match c {
                FlowModFailed::TableFull => std_err(3, 0),
                FlowModFailed::Overlap => std_err(3, 1),
                FlowModFailed::Eperm => std_err(3, 2),
                FlowModFailed::BadCommand => std_err(3, 4),
                FlowModFailed::BadFlags => nx_err(3, 258),
                _ => OF10_UNENCODABLE,
            },
            OfpError::GroupModFailed(_) => nx_err(6, code),
            OfpError::PortModFailed(PortModFailed::BadPort) => std_err(4, 0),
            OfpError::PortModFailed(PortModFailed::BadHwAddr) => std_err(4, 1),
            OfpError::QueueOpFailed(_) => std_err(5, code),
            OfpError::RoleRequestFailed(RoleRequestFailed::BadRole) => nx_err(1, 513),
            _ => OF10_UNENCODABLE,
        }
    }

    /// The error these wire numbers stand for in `version`, if this model knows it.
    pub fn from_wire(version: Version, w: WireError) -> Option<OfpError> {
        Self::all().into_iter().find(|e| e.wire(version) == w && w != OF10_UNENCODABLE)
    }
}

impl std::fmt::Display for OfpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OfpError::HelloFailed(c) => write!(f, "OFPET_HELLO_FAILED/{c:?}"),
            OfpError::BadRequest(c) => write!(f, "OFPET_BAD_REQUEST/{c:?}"),
            OfpError::BadAction(c) => write!(f, "OFPET_BAD_ACTION/{c:?}"),
            OfpError::BadInstruction(c) => write!(f, "OFPET_BAD_INSTRUCTION/{c:?}"),
            OfpError::BadMatch(c) => write!(f, "OFPET_BAD_MATCH/{c:?}"),
            OfpError::FlowModFailed(c) => write!(f, "OFPET_FLOW_MOD_FAILED/{c:?}"),
            OfpError::GroupModFailed(c) => write!(f, "OFPET_GROUP_MOD_FAILED/{c:?}"),
            OfpError::PortModFailed(c) => write!(f, "OFPET_PORT_MOD_FAILED/{c:?}"),
            OfpError::TableModFailed(c) => write!(f, "OFPET_TABLE_MOD_FAILED/{c:?}"),
            OfpError::QueueOpFailed(c) => write!(f, "OFPET_QUEUE_OP_FAILED/{c:?}"),
            OfpError::SwitchConfigFailed(c) => write!(f, "OFPET_SWITCH_CONFIG_FAILED/{c:?}"),
            OfpError::RoleRequestFailed(c) => write!(f, "OFPET_ROLE_REQUEST_FAILED/{c:?}"),
            OfpError::MeterModFailed(c) => write!(f, "OFPET_METER_MOD_FAILED/{c:?}"),
            OfpError::TableFeaturesFailed(c) => write!(f, "OFPET_TABLE_FEATURES_FAILED/{c:?}"),
        }
    }
}

/// A message that could not be decoded: the OpenFlow error to answer with, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {detail}")]
pub struct DecodeError {
    /// The error the peer must receive.
    pub error: OfpError,
    /// A human-readable reason (for logs).
    pub detail: String,
}

impl DecodeError {
    /// A decode error carrying `error`.
    pub fn new(error: impl Into<OfpError>, detail: impl Into<String>) -> Self {
        DecodeError { error: error.into(), detail: detail.into() }
    }
}

/// A message model that cannot be put on the wire in the requested version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The version has no encoding for this message, action, field or option.
    #[error("{what} cannot be encoded in OpenFlow {version}")]
    Unsupported {
        /// What could not be encoded.
        what: String,
        /// The version asked for.
        version: Version,
    },
    /// A value does not fit its wire field.
    #[error("{0} does not fit its wire field")]
    TooLong(String),
    /// The model itself is invalid (e.g. a field value out of range).
    #[error("invalid message: {0}")]
    Invalid(String),
}

/// Shorthand for decoder results.
pub type DecodeResult<T> = Result<T, DecodeError>;
/// Shorthand for encoder results.
pub type EncodeResult<T> = Result<T, EncodeError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_numbers_match_ovs_print_error() {
        let v13 = Version::OF13;
        let v10 = Version::OF10;
        assert_eq!(OfpError::from(BadMatch::BadPrereq).wire(v13), std_err(4, 9));
        assert_eq!(OfpError::from(BadMatch::BadPrereq).wire(v10), nx_err(1, 260));
        assert_eq!(OfpError::from(BadMatch::BadField).wire(v10), nx_err(0, 263));
        assert_eq!(OfpError::from(FlowModFailed::BadCommand).wire(v10), std_err(3, 4));
        assert_eq!(OfpError::from(FlowModFailed::BadCommand).wire(v13), std_err(5, 6));
        assert_eq!(OfpError::from(PortModFailed::BadPort).wire(v13), std_err(7, 0));
        assert_eq!(OfpError::from(PortModFailed::BadPort).wire(v10), std_err(4, 0));
        assert_eq!(
            OfpError::from(BadInstruction::DupInst).wire(v13),
            WireError { vendor: ONF_VENDOR_ID, etype: 2600, code: 0 }
        );
        assert_eq!(OfpError::from(MeterModFailed::BadBand).wire(v13), std_err(12, 8));
        assert_eq!(OfpError::from(MeterModFailed::BadBand).wire(v10), OF10_UNENCODABLE);
    }

    #[test]
    fn wire_roundtrip_is_unique() {
        for v in [Version::OF10, Version::OF13] {
            for e in OfpError::all() {
                let w = e.wire(v);
                if w == OF10_UNENCODABLE {
                    continue;
                }
                assert_eq!(OfpError::from_wire(v, w), Some(e), "{e} in {v}");
            }
        }
    }
}
