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
    /// `OVS_ACTION_ATTR_CHECK_PKT_LEN`: run `greater` if the packet is longer than `pkt_len`
    /// bytes (Ethernet header included; for GSO packets, if a segment would be), `less_equal`
    /// otherwise, as a clone (then continue with the next action).
    CheckPktLen {
        /// The length limit.
        pkt_len: u16,
        /// Actions for longer packets.
        greater: ActionList<'a>,
        /// Actions for packets of at most `pkt_len` bytes.
        less_equal: ActionList<'a>,
    },
    /// `OVS_ACTION_ATTR_DEC_TTL`: decrement the IPv4 TTL / IPv6 hop limit (non-IP packets pass
    /// unchanged); when it would reach 0 (TTL ≤ 1) run these actions on the packet instead and
    /// stop, or drop it (`DropReason::IpTtl`) if the list is empty.
    DecTtl(ActionList<'a>),
    /// `OVS_ACTION_ATTR_DROP`: drop the packet (must be the last action); a non-zero value is an
    /// error code from userspace's translation (`DropReason::ExplicitWithError`).
    Drop(u32),
}

/// Why a packet was dropped by its actions, as upstream's `enum ovs_drop_reason` (the kernel
/// module frees the packet with the matching `SKB_DROP_REASON_SUBSYS_OPENVSWITCH` reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// An explicit `drop` action (`OVS_DROP_EXPLICIT`).
    Explicit,
    /// An explicit `drop` action with a non-zero error (`OVS_DROP_EXPLICIT_WITH_ERROR`).
    ExplicitWithError,
    /// `dec_ttl` found TTL ≤ 1 and had no actions for it (`OVS_DROP_IP_TTL`).
    IpTtl,
}

impl DropReason {
    /// Upstream's value: `SKB_DROP_REASON_SUBSYS_OPENVSWITCH << 16 | index` (Linux 6.12
    /// `net/openvswitch/drop.h`: LAST_ACTION = 1, ACTION_ERROR, EXPLICIT, EXPLICIT_WITH_ERROR,
    /// METER, RECURSION_LIMIT, DEFERRED_LIMIT, FRAG_L2_TOO_LONG, FRAG_INVALID_PROTO, CONNTRACK,
    /// IP_TTL = 11).
    #[must_use]
    pub const fn kernel_code(self) -> u32 {
        const SUBSYS: u32 = 3 << 16;
        SUBSYS
            | match self {
                Self::Explicit => 3,
                Self::ExplicitWithError => 4,
                Self::IpTtl => 11,
            }
    }

    /// Upstream's name (as drop monitors print it).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Explicit => "OVS_DROP_EXPLICIT",
            Self::ExplicitWithError => "OVS_DROP_EXPLICIT_WITH_ERROR",
            Self::IpTtl => "OVS_DROP_IP_TTL",
        }
    }
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
