//! The action executor: runs a flow's actions on a [`Packet`], as upstream
//! `do_execute_actions` (net/openvswitch/actions.c).
//!
//! The core performs no I/O and allocates nothing. Decisions that leave the packet (output,
//! upcall, recirculation), packet copies, randomness and meters belong to the embedder, through
//! [`ExecContext`]. Decoding of the stored netlink action list and of `set` payloads belongs to
//! the codec, through [`ActionSource`]. What is here: the action loop, `trunc` bookkeeping,
//! `sample`/`clone` nesting (bounded by [`MAX_DEPTH`]), VLAN push/pop ([`vlan`]), header and
//! metadata rewrites ([`set_field`]), `hash` ([`hash`]), `check_pkt_len` (a nested list chosen
//! by length), `dec_ttl` ([`ttl`]) and `drop` (with its reason, [`Packet::set_drop_reason`]).
//!
//! Packet ownership follows upstream's "last action consumes the skb": every callback that may
//! consume the packet gets a `last` flag; when it is true the executor will not touch the packet
//! again, so the embedder may take it instead of copying it. A packet not consumed when
//! [`execute`] returns (error, meter drop, end of list) is the embedder's to free.
//!
//! Errors stop execution, as upstream (which then drops the packet): an error in a nested list
//! also stops the outer one.

pub mod crc32c;
pub mod hash;
pub mod netlink;
mod rewrite;
pub mod set_field;
mod ttl;
pub mod vlan;

#[cfg(test)]
mod test_util;
#[cfg(test)]
mod tests;

use core::fmt;

use crate::actions::{Action, ActionList, DropReason, Userspace};
use crate::key::FlowKey;
use crate::packet::{Packet, PacketError};

pub use netlink::NetlinkActions;
pub use set_field::apply_set;

/// Maximum nesting of `sample`/`clone` lists executed inline. Each level costs a flow key copy
/// on the stack; upstream executes about as many inline before deferring.
pub const MAX_DEPTH: usize = 4;

/// Why executing actions failed. The packet should then be dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecError {
    /// A packet operation failed (too short for the header to write, no memory).
    Packet(PacketError),
    /// A header the action needs lies (partly) outside the packet.
    Truncated,
    /// A rewrite needs the network header, and the packet has none.
    NoNetworkHeader,
    /// A rewrite needs the transport header, and the packet has none.
    NoTransportHeader,
    /// The executor wrote outside the writable prefix (an implementation bug, never a panic).
    NotWritable,
    /// The action asks for something the datapath cannot do (a field that cannot be set, a
    /// masked tunnel set, an unknown hash algorithm).
    Unsupported,
    /// The action list did not decode.
    BadActions,
    /// A `set`/`set_masked` payload did not decode.
    BadSet,
    /// `sample`/`clone` nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// The embedder could not re-extract an invalidated flow key.
    KeyUpdate,
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Packet(e) => write!(f, "packet: {e}"),
            Self::Truncated => f.write_str("header truncated"),
            Self::NoNetworkHeader => f.write_str("no network header"),
            Self::NoTransportHeader => f.write_str("no transport header"),
            Self::NotWritable => f.write_str("write outside the writable area"),
            Self::Unsupported => f.write_str("unsupported action"),
            Self::BadActions => f.write_str("malformed action list"),
            Self::BadSet => f.write_str("malformed set action"),
            Self::TooDeep => f.write_str("actions nested too deep"),
            Self::KeyUpdate => f.write_str("flow key re-extraction failed"),
        }
    }
}

/// Decodes stored action lists and `set` payloads: the seam to the netlink codec.
///
/// The merged tree implements it once over `crate::ovs` (the codec's `ActionList` iterator and
/// `key_nl::decode_set`); tests implement it over in-memory tables.
pub trait ActionSource {
    /// Decoding error (reported as [`ExecError::BadActions`] / [`ExecError::BadSet`]).
    type Error;
    /// Iterator over the actions of one list.
    type Iter<'a>: Iterator<Item = Result<Action<'a>, Self::Error>>
    where
        Self: 'a;

    /// The actions of `list`, in order.
    fn actions<'a>(&'a self, list: ActionList<'a>) -> Self::Iter<'a>;

    /// Decodes a `set` (`masked` false) or `set_masked` payload (one `OVS_KEY_ATTR_*`) into a
    /// (value, mask) pair; an unmasked set has an all-ones mask over its attribute's fields.
    ///
    /// # Errors
    /// When the payload does not decode.
    fn decode_set(&self, payload: &[u8], masked: bool) -> Result<(FlowKey, FlowKey), Self::Error>;
}

/// What the executor asks of its embedder (kernel module or userspace datapath).
///
/// `key` arguments are the flow key as the actions left it so far. `max_len` is the pending
/// `trunc` length: the embedder sends at most that many bytes (upstream never cuts below the
/// Ethernet header, `max(max_len, ETH_HLEN)`). `last`: see the module documentation.
pub trait ExecContext<P: Packet> {
    /// `output`: send the packet (a copy unless `last`) to datapath port `port`.
    fn output(&mut self, pkt: &mut P, key: &FlowKey, port: u32, max_len: Option<u32>, last: bool);

    /// `userspace`: queue an upcall (`OVS_PACKET_CMD_ACTION`) with `args`; `actions` is the list
    /// being executed, for `OVS_USERSPACE_ATTR_ACTIONS`.
    fn userspace(
        &mut self,
        pkt: &mut P,
        key: &FlowKey,
        args: &Userspace<'_>,
        actions: ActionList<'_>,
        max_len: Option<u32>,
        last: bool,
    );

    /// `recirc`: look the packet (a copy unless `last`) up again with `key`, whose `recirc_id`
    /// is already set. The embedder may defer this.
    fn recirc(&mut self, pkt: &mut P, key: &FlowKey, last: bool);

    /// A private copy of `pkt` for a nested list, or `None` (out of memory: the nested list is
    /// skipped, as upstream).
    fn clone_packet(&mut self, pkt: &P) -> Option<P>;

    /// A uniformly distributed random number (for `sample`).
    fn random_u32(&mut self) -> u32;

    /// Passes the packet through meter `meter_id`; `true` means "drop" (execution stops).
    fn meter(&mut self, pkt: &P, key: &FlowKey, meter_id: u32) -> bool;

    /// Re-extracts `key` from `pkt` (keeping its metadata) after a VLAN operation invalidated
    /// it, before a `recirc` (upstream `ovs_flow_key_update`).
    ///
    /// # Errors
    /// When the packet cannot be parsed ([`ExecError::KeyUpdate`] is the natural choice).
    fn update_key(&mut self, pkt: &P, key: &mut FlowKey) -> Result<(), ExecError>;
}

/// The flow key being executed against, and whether it still describes the packet.
#[derive(Debug)]
pub struct KeyState<'k> {
    /// The key.
    pub key: &'k mut FlowKey,
    /// False after an action changed the packet in a way the key cannot follow.
    pub valid: bool,
}

/// Per-list execution state.
struct Exec<'s, 'k, A, C> {
    src: &'s A,
    ctx: &'s mut C,
    key: KeyState<'k>,
    /// Pending `trunc` length (upstream `OVS_CB(skb)->cutlen`).
    cutlen: Option<u32>,
}

/// Runs `actions` on `pkt`, whose flow key is `key`. See the module documentation.
///
/// # Errors
/// The first failing action's error; the packet should be dropped.
pub fn execute<P: Packet, A: ActionSource, C: ExecContext<P>>(
    pkt: &mut P,
    key: &mut FlowKey,
    actions: ActionList<'_>,
    src: &A,
    ctx: &mut C,
) -> Result<(), ExecError> {
    let mut ex = Exec { src, ctx, key: KeyState { key, valid: true }, cutlen: None };
    ex.run(pkt, actions, 0, true)
}

impl<A: ActionSource, C> Exec<'_, '_, A, C> {
    /// Runs one list. `owner`: the list may consume `pkt` (it is the tail of the packet's life).
    fn run<P: Packet>(
        &mut self,
        pkt: &mut P,
        list: ActionList<'_>,
        depth: usize,
        owner: bool,
    ) -> Result<(), ExecError>
    where
        C: ExecContext<P>,
    {
        let mut iter = self.src.actions(list).peekable();
        while let Some(action) = iter.next() {
            let action = action.map_err(|_| ExecError::BadActions)?;
            let last = owner && iter.peek().is_none();
            match action {
                Action::Output(port) => {
                    self.ctx.output(pkt, self.key.key, port, self.cutlen, last);
                    if last {
                        return Ok(());
                    }
                    self.cutlen = None;
                }
                Action::Userspace(args) => {
                    self.ctx.userspace(pkt, self.key.key, &args, list, self.cutlen, last);
                    if last {
                        return Ok(());
                    }
                    self.cutlen = None;
                }
                Action::Set(payload) => {
                    // The raw OVS_KEY_ATTR_* -> (value, mask) step: ActionSource::decode_set.
                    let (value, mask) =
                        self.src.decode_set(payload, false).map_err(|_| ExecError::BadSet)?;
                    apply_set(pkt, self.key.key, &value, &mask)?;
                }
                Action::SetMasked(payload) => {
                    let (value, mask) =
                        self.src.decode_set(payload, true).map_err(|_| ExecError::BadSet)?;
                    // Masked tunnel sets are not supported (upstream validate_set).
                    if mask.as_bytes().get(0..56).is_some_and(|t| t.iter().any(|&b| b != 0)) {
                        return Err(ExecError::Unsupported);
                    }
                    apply_set(pkt, self.key.key, &value, &mask)?;
                }
                Action::PushVlan { tpid, tci } => vlan::push_vlan(pkt, &mut self.key, tpid, tci)?,
                Action::PopVlan => vlan::pop_vlan(pkt, &mut self.key)?,
                Action::Sample { probability, actions } => {
                    // As upstream: `probability` is out of u32::MAX; 0 never, MAX always.
                    let taken = probability == u32::MAX
                        || (probability != 0 && self.ctx.random_u32() <= probability);
                    if taken {
                        self.nested(pkt, actions, depth, last)?;
                    }
                    if last {
                        return Ok(());
                    }
                }
                Action::Clone(actions) => {
                    self.nested(pkt, actions, depth, last)?;
                    if last {
                        return Ok(());
                    }
                }
                Action::Recirc(id) => {
                    if !self.key.valid {
                        self.ctx.update_key(pkt, self.key.key)?;
                        self.key.valid = true;
                    }
                    let mut key = *self.key.key;
                    key.set_recirc_id(id);
                    self.ctx.recirc(pkt, &key, last);
                    if last {
                        return Ok(());
                    }
                }
                Action::Hash { alg, basis } => {
                    let h = hash::dp_hash(self.key.key, alg, basis)?;
                    self.key.key.set_dp_hash(h);
                }
                Action::Meter(id) => {
                    if self.ctx.meter(pkt, self.key.key, id) {
                        return Ok(());
                    }
                }
                Action::Trunc(max_len) => self.cutlen = Some(max_len),
                Action::CheckPktLen { pkt_len, greater, less_equal } => {
                    // As upstream: the chosen list runs as a clone (on the packet itself if last).
                    let list = if pkt.fits_len(usize::from(pkt_len)) { less_equal } else { greater };
                    self.nested(pkt, list, depth, last)?;
                    if last {
                        return Ok(());
                    }
                }
                Action::DecTtl(expired) => {
                    if !ttl::dec_ttl(pkt, self.key.key)? {
                        // TTL ≤ 1: the exception list takes the packet and execution stops here
                        // (upstream `dec_ttl_exception_handler`); no list means drop.
                        if self.src.actions(expired).next().is_none() {
                            pkt.set_drop_reason(DropReason::IpTtl);
                            return Ok(());
                        }
                        return self.nested(pkt, expired, depth, owner);
                    }
                }
                Action::Drop(err) => {
                    pkt.set_drop_reason(if err == 0 { DropReason::Explicit } else { DropReason::ExplicitWithError });
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Runs a nested list on a copy of the flow key, and on a copy of the packet unless the
    /// nesting action is the last one (upstream `clone_execute`).
    fn nested<P: Packet>(
        &mut self,
        pkt: &mut P,
        list: ActionList<'_>,
        depth: usize,
        last: bool,
    ) -> Result<(), ExecError>
    where
        C: ExecContext<P>,
    {
        let depth = depth.checked_add(1).ok_or(ExecError::TooDeep)?;
        if depth > MAX_DEPTH {
            return Err(ExecError::TooDeep);
        }
        let mut key = *self.key.key;
        let mut inner = Exec {
            src: self.src,
            ctx: &mut *self.ctx,
            key: KeyState { key: &mut key, valid: self.key.valid },
            cutlen: self.cutlen,
        };
        if last {
            return inner.run(pkt, list, depth, true);
        }
        match inner.ctx.clone_packet(pkt) {
            Some(mut copy) => inner.run(&mut copy, list, depth, true),
            None => Ok(()),
        }
    }
}
