//! Datapath actions: the typed view shared by the netlink codec, the text form and the executor.
//!
//! As upstream, a flow's actions are stored as validated `OVS_ACTION_ATTR_*` netlink bytes; an
//! [`Action`] borrows from those bytes, so nothing is allocated per packet. Nested action lists
//! (`sample`, `clone`) stay raw bytes ([`ActionList`]) and are decoded again when executed.
//! `set` and `set_masked` carry the raw nested `OVS_KEY_ATTR_*`; the key codec turns it into a
//! (key, mask) pair of [`crate::key::FlowKey`]s and the executor writes the masked fields.
//!
//! Ownership: this file holds the types only. Decoding/validation/encoding live in the netlink
//! codec, the text form beside it, execution in the executor module.

/// A list of `OVS_ACTION_ATTR_*` attributes as raw, validated netlink bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActionList<'a>(pub &'a [u8]);

/// One datapath action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action<'a> {
    /// `OVS_ACTION_ATTR_OUTPUT`: send a copy to this datapath port.
    Output(u32),
    /// `OVS_ACTION_ATTR_USERSPACE`: send a copy to userspace.
    Userspace(Userspace<'a>),
    /// `OVS_ACTION_ATTR_SET`: set a header or metadata field; the payload is one nested
    /// `OVS_KEY_ATTR_*` (for tunnels, `OVS_KEY_ATTR_TUNNEL`).
    Set(&'a [u8]),
    /// `OVS_ACTION_ATTR_SET_MASKED`: like `Set`, the payload holds the value then a same-sized mask.
    SetMasked(&'a [u8]),
    /// `OVS_ACTION_ATTR_PUSH_VLAN`: push a tag (`tci` has `VLAN_CFI` set).
    PushVlan {
        /// Tag protocol identifier (0x8100 / 0x88a8).
        tpid: u16,
        /// Tag control information.
        tci: u16,
    },
    /// `OVS_ACTION_ATTR_POP_VLAN`.
    PopVlan,
    /// `OVS_ACTION_ATTR_SAMPLE`: run `actions` with probability `probability / u32::MAX`.
    Sample {
        /// Probability in units of 1/`u32::MAX`.
        probability: u32,
        /// Actions to run on the sampled copy.
        actions: ActionList<'a>,
    },
    /// `OVS_ACTION_ATTR_CLONE`: run `actions` on a copy, then continue with the original.
    Clone(ActionList<'a>),
    /// `OVS_ACTION_ATTR_RECIRC`: look the packet up again with this recirculation ID.
    Recirc(u32),
    /// `OVS_ACTION_ATTR_HASH`: compute `dp_hash`.
    Hash {
        /// `OVS_HASH_ALG_*`.
        alg: u32,
        /// Hash basis.
        basis: u32,
    },
    /// `OVS_ACTION_ATTR_METER`: pass the packet through this meter; it may be dropped.
    Meter(u32),
    /// `OVS_ACTION_ATTR_TRUNC`: truncate to at most this many bytes on the next output.
    Trunc(u32),
}

/// The arguments of a userspace action (`OVS_USERSPACE_ATTR_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Userspace<'a> {
    /// Netlink port ID to send the upcall to.
    pub pid: u32,
    /// Opaque cookie returned in `OVS_PACKET_ATTR_USERDATA`.
    pub userdata: Option<&'a [u8]>,
    /// Tunnel output port whose egress tunnel info to include.
    pub egress_tun_port: Option<u32>,
    /// Whether to include the actions (`OVS_USERSPACE_ATTR_ACTIONS`).
    pub include_actions: bool,
}
