//! The upstream Open vSwitch datapath netlink codec: `OVS_*_ATTR_*` attribute sets ↔ rvs types.
//!
//! This module owns decoding, validation (table-driven, see [`policy`]) and encoding of every
//! attribute set of `include/uapi/linux/openvswitch.h` that rvs speaks: flow keys and masks
//! ([`key_nl`], [`tunnel_nl`]), actions ([`action_nl`]) and the flow, packet, vport, datapath and
//! meter message attributes. Everything borrows from the caller's buffer and writes into a
//! caller-provided buffer: nothing allocates. Errors ([`CodecError`]) name the attribute and map
//! to the errno upstream returns.

pub mod action_nl;
pub mod dp_nl;
pub mod error;
pub mod flow_nl;
pub mod key_nl;
pub mod meter_nl;
pub mod msg;
pub mod packet_nl;
pub mod policy;
pub mod tunnel_nl;
pub mod vport_nl;

pub use action_nl::{decode_action, encode_action, validate_actions, ActionIter};
pub use error::{CodecError, ErrorKind};
pub use key_nl::{decode_key, decode_match, decode_metadata, decode_set, exact_mask, Match};

#[cfg(test)]
pub(crate) mod test_util;
