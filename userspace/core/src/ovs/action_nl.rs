//! `OVS_ACTION_ATTR_*` ↔ [`Action`]: decoding, validation (upstream `__ovs_nla_copy_actions`)
//! and encoding of datapath action lists.
//!
//! A flow's actions are kept as the validated netlink bytes userspace sent (upstream rewrites
//! `set` into `set_masked` internally and reverses it on dump; rvs keeps the original bytes, so
//! a dump returns them verbatim). [`validate_actions`] checks a list against the flow's (masked)
//! key once, at flow installation; [`ActionList::iter`] then decodes it lazily per packet.
//!
//! Payloads: `OUTPUT`, `RECIRC`, `METER`, `TRUNC` and the `struct ovs_action_hash` fields are
//! host-order `u32`s; `struct ovs_action_push_vlan` is two network-order `u16`s.

use crate::actions::{Action, ActionList, Userspace};
use crate::key::{FlowKey, VLAN_CFI};
use crate::nla::{Attr, Attrs, Writer};
use crate::ovs_abi::*;

use super::error::{CodecError, ErrorKind};
use super::key_nl::{self, ipproto, DP_MAX_PORTS, ETH_P_IP, ETH_P_IPV6};
use super::policy::{self, lookup, AttrPolicy, Len};

/// Upstream `OVS_COPY_ACTIONS_MAX_DEPTH`: nesting deeper than this is refused (`EOVERFLOW`).
pub const MAX_DEPTH: u32 = 16;
/// Minimum `trunc` length (upstream: `ETH_HLEN`).
pub const TRUNC_MIN: u32 = 14;

const SET: &str = "OVS_ACTION_ATTR";

/// Policy of `OVS_ACTION_ATTR_*` (upstream `action_lens`, plus what rvs implements).
pub static ACTION_POLICY: [AttrPolicy; 26] = [
    AttrPolicy::invalid("OVS_ACTION_ATTR_UNSPEC"),
    AttrPolicy::new("OVS_ACTION_ATTR_OUTPUT", Len::Exact(4)),
    AttrPolicy::new("OVS_ACTION_ATTR_USERSPACE", Len::Nested),
    AttrPolicy::new("OVS_ACTION_ATTR_SET", Len::Nested),
    AttrPolicy::new("OVS_ACTION_ATTR_PUSH_VLAN", Len::Exact(4)),
    AttrPolicy::new("OVS_ACTION_ATTR_POP_VLAN", Len::Flag),
    AttrPolicy::new("OVS_ACTION_ATTR_SAMPLE", Len::Nested),
    AttrPolicy::new("OVS_ACTION_ATTR_RECIRC", Len::Exact(4)),
    AttrPolicy::new("OVS_ACTION_ATTR_HASH", Len::Exact(8)),
    AttrPolicy::unsupported("OVS_ACTION_ATTR_PUSH_MPLS", Len::Exact(8)),
    AttrPolicy::unsupported("OVS_ACTION_ATTR_POP_MPLS", Len::Exact(2)),
    AttrPolicy::new("OVS_ACTION_ATTR_SET_MASKED", Len::Nested),
    AttrPolicy::unsupported("OVS_ACTION_ATTR_CT", Len::Nested),
    AttrPolicy::new("OVS_ACTION_ATTR_TRUNC", Len::Exact(4)),
    AttrPolicy::unsupported("OVS_ACTION_ATTR_PUSH_ETH", Len::Exact(12)),
    AttrPolicy::unsupported("OVS_ACTION_ATTR_POP_ETH", Len::Flag),
    AttrPolicy::unsupported("OVS_ACTION_ATTR_CT_CLEAR", Len::Flag),
    AttrPolicy::unsupported("OVS_ACTION_ATTR_PUSH_NSH", Len::Nested),
    AttrPolicy::unsupported("OVS_ACTION_ATTR_POP_NSH", Len::Flag),
    AttrPolicy::new("OVS_ACTION_ATTR_METER", Len::Exact(4)),
    AttrPolicy::new("OVS_ACTION_ATTR_CLONE", Len::Nested),
    AttrPolicy::new("OVS_ACTION_ATTR_CHECK_PKT_LEN", Len::Nested),
    AttrPolicy::unsupported("OVS_ACTION_ATTR_ADD_MPLS", Len::Exact(8)),
    AttrPolicy::new("OVS_ACTION_ATTR_DEC_TTL", Len::Nested),
    AttrPolicy::new("OVS_ACTION_ATTR_DROP", Len::Exact(4)),
    AttrPolicy::unsupported("OVS_ACTION_ATTR_PSAMPLE", Len::Nested),
];

/// Policy of `OVS_USERSPACE_ATTR_*`.
pub static USERSPACE_POLICY: [AttrPolicy; 5] = [
    AttrPolicy::invalid("OVS_USERSPACE_ATTR_UNSPEC"),
    AttrPolicy::new("OVS_USERSPACE_ATTR_PID", Len::Exact(4)),
    AttrPolicy::new("OVS_USERSPACE_ATTR_USERDATA", Len::Any),
    AttrPolicy::new("OVS_USERSPACE_ATTR_EGRESS_TUN_PORT", Len::Exact(4)),
    AttrPolicy::new("OVS_USERSPACE_ATTR_ACTIONS", Len::Flag),
];

/// Policy of `OVS_SAMPLE_ATTR_*`.
pub static SAMPLE_POLICY: [AttrPolicy; 3] = [
    AttrPolicy::invalid("OVS_SAMPLE_ATTR_UNSPEC"),
    AttrPolicy::new("OVS_SAMPLE_ATTR_PROBABILITY", Len::Exact(4)),
    AttrPolicy::new("OVS_SAMPLE_ATTR_ACTIONS", Len::Nested),
];

/// Policy of `OVS_CHECK_PKT_LEN_ATTR_*`.
pub static CHECK_PKT_LEN_POLICY: [AttrPolicy; 4] = [
    AttrPolicy::invalid("OVS_CHECK_PKT_LEN_ATTR_UNSPEC"),
    AttrPolicy::new("OVS_CHECK_PKT_LEN_ATTR_PKT_LEN", Len::Exact(2)),
    AttrPolicy::new("OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER", Len::Nested),
    AttrPolicy::new("OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL", Len::Nested),
];

/// Policy of `OVS_DEC_TTL_ATTR_*`.
pub static DEC_TTL_POLICY: [AttrPolicy; 2] = [
    AttrPolicy::invalid("OVS_DEC_TTL_ATTR_UNSPEC"),
    AttrPolicy::new("OVS_DEC_TTL_ATTR_ACTION", Len::Nested),
];

/// Upstream name of action type `ty`.
#[must_use]
pub fn action_name(ty: u16) -> &'static str {
    lookup(SET, &ACTION_POLICY, ty).name
}

fn ne32(p: &[u8]) -> u32 {
    p.try_into().map(u32::from_ne_bytes).unwrap_or(0)
}

fn be16_at(p: &[u8], i: usize) -> u16 {
    match (p.get(i), p.get(i.saturating_add(1))) {
        (Some(&a), Some(&b)) => u16::from_be_bytes([a, b]),
        _ => 0,
    }
}

/// A nested action list must be empty or hold at least one attribute header.
fn check_nested_list(name: &'static str, p: &[u8]) -> Result<(), CodecError> {
    if !p.is_empty() && p.len() < crate::nla::NLA_HDRLEN {
        return Err(CodecError::new(name, ErrorKind::Truncated));
    }
    Ok(())
}

/// Decodes one action attribute (structure and lengths only; see [`validate_actions`] for the
/// checks that need the flow).
pub fn decode_action(a: Attr<'_>) -> Result<Action<'_>, CodecError> {
    let pol = lookup(SET, &ACTION_POLICY, a.kind);
    pol.check(a.kind, a.payload)?;
    let p = a.payload;
    Ok(match a.kind {
        OVS_ACTION_ATTR_OUTPUT => Action::Output(ne32(p)),
        OVS_ACTION_ATTR_USERSPACE => {
            let u = policy::parse(p, "OVS_USERSPACE_ATTR", &USERSPACE_POLICY)?;
            let pid = u
                .u32(OVS_USERSPACE_ATTR_PID)
                .ok_or(CodecError::new("OVS_USERSPACE_ATTR_PID", ErrorKind::Missing))?;
            Action::Userspace(Userspace {
                pid,
                userdata: u.get(OVS_USERSPACE_ATTR_USERDATA),
                egress_tun_port: u.u32(OVS_USERSPACE_ATTR_EGRESS_TUN_PORT),
                include_actions: u.has(OVS_USERSPACE_ATTR_ACTIONS),
            })
        }
        OVS_ACTION_ATTR_SET => Action::Set(p),
        OVS_ACTION_ATTR_SET_MASKED => Action::SetMasked(p),
        OVS_ACTION_ATTR_PUSH_VLAN => Action::PushVlan { tpid: be16_at(p, 0), tci: be16_at(p, 2) },
        OVS_ACTION_ATTR_POP_VLAN => Action::PopVlan,
        OVS_ACTION_ATTR_SAMPLE => {
            let s = policy::parse(p, "OVS_SAMPLE_ATTR", &SAMPLE_POLICY)?;
            let probability = s
                .u32(OVS_SAMPLE_ATTR_PROBABILITY)
                .ok_or(CodecError::new("OVS_SAMPLE_ATTR_PROBABILITY", ErrorKind::Missing))?;
            let actions = s
                .get(OVS_SAMPLE_ATTR_ACTIONS)
                .ok_or(CodecError::new("OVS_SAMPLE_ATTR_ACTIONS", ErrorKind::Missing))?;
            check_nested_list("OVS_SAMPLE_ATTR_ACTIONS", actions)?;
            Action::Sample { probability, actions: ActionList(actions) }
        }
        OVS_ACTION_ATTR_CLONE => {
            check_nested_list("OVS_ACTION_ATTR_CLONE", p)?;
            Action::Clone(ActionList(p))
        }
        OVS_ACTION_ATTR_RECIRC => Action::Recirc(ne32(p)),
        OVS_ACTION_ATTR_HASH => Action::Hash { alg: ne32(p.get(..4).unwrap_or(&[])), basis: ne32(p.get(4..).unwrap_or(&[])) },
        OVS_ACTION_ATTR_METER => Action::Meter(ne32(p)),
        OVS_ACTION_ATTR_TRUNC => Action::Trunc(ne32(p)),
        OVS_ACTION_ATTR_CHECK_PKT_LEN => {
            let c = policy::parse(p, "OVS_CHECK_PKT_LEN_ATTR", &CHECK_PKT_LEN_POLICY)?;
            let missing = |n| CodecError::new(n, ErrorKind::Missing);
            let len = c.get(OVS_CHECK_PKT_LEN_ATTR_PKT_LEN).ok_or(missing("OVS_CHECK_PKT_LEN_ATTR_PKT_LEN"))?;
            let pkt_len = len.try_into().map(u16::from_ne_bytes).unwrap_or(0);
            let greater = c
                .get(OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER)
                .ok_or(missing("OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER"))?;
            let less_equal = c
                .get(OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL)
                .ok_or(missing("OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL"))?;
            check_nested_list("OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER", greater)?;
            check_nested_list("OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL", less_equal)?;
            Action::CheckPktLen { pkt_len, greater: ActionList(greater), less_equal: ActionList(less_equal) }
        }
        OVS_ACTION_ATTR_DEC_TTL => {
            let d = policy::parse(p, "OVS_DEC_TTL_ATTR", &DEC_TTL_POLICY)?;
            let list = d
                .get(OVS_DEC_TTL_ATTR_ACTION)
                .ok_or(CodecError::new("OVS_DEC_TTL_ATTR_ACTION", ErrorKind::Missing))?;
            check_nested_list("OVS_DEC_TTL_ATTR_ACTION", list)?;
            Action::DecTtl(ActionList(list))
        }
        OVS_ACTION_ATTR_DROP => Action::Drop(ne32(p)),
        // Everything else failed the policy check (unknown or unsupported).
        ty => return Err(CodecError::new(pol.name, ErrorKind::Unknown { ty })),
    })
}

/// Iterator over the actions of a list: yields each decoded [`Action`], or one error and stops.
#[derive(Clone, Debug)]
pub struct ActionIter<'a> {
    attrs: Attrs<'a>,
    done: bool,
}

impl<'a> Iterator for ActionIter<'a> {
    type Item = Result<Action<'a>, CodecError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = match self.attrs.next()? {
            Ok(a) => decode_action(a),
            Err(e) => Err(CodecError::from_nla(SET, e)),
        };
        if item.is_err() {
            self.done = true;
        }
        Some(item)
    }
}

impl<'a> ActionList<'a> {
    /// Iterates over the actions (for a list checked by [`validate_actions`], every item is `Ok`).
    #[must_use]
    pub fn iter(&self) -> ActionIter<'a> {
        ActionIter { attrs: Attrs::new(self.0), done: false }
    }

    /// Whether the list is empty (the `drop` action list).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Flow context the validation tracks through the list (upstream passes `eth_type`/`vlan_tci`).
#[derive(Clone, Copy)]
struct Ctx<'k> {
    key: &'k FlowKey,
    eth_type: u16,
}

/// Validates an action list for a flow whose masked key is `key`, as upstream
/// `ovs_nla_copy_actions`: lengths, required nested attributes, port/length/algorithm ranges,
/// `set`/`set_masked` targets against the flow's protocol, nesting depth, unknown and unsupported
/// actions.
pub fn validate_actions(actions: &[u8], key: &FlowKey) -> Result<(), CodecError> {
    validate_list(actions, Ctx { key, eth_type: key.eth_type() }, 0)
}

fn validate_list(actions: &[u8], ctx: Ctx<'_>, depth: u32) -> Result<(), CodecError> {
    if depth > MAX_DEPTH {
        return Err(CodecError::new(SET, ErrorKind::TooDeep));
    }
    let mut dropped = false;
    for a in Attrs::new(actions) {
        let a = a.map_err(|e| CodecError::from_nla(SET, e))?;
        let name = action_name(a.kind);
        let bad = |kind| Err(CodecError::new(name, kind));
        // Upstream: "drop" must be the last action of its list (EINVAL otherwise).
        if dropped {
            return Err(CodecError::new("OVS_ACTION_ATTR_DROP", ErrorKind::BadValue));
        }
        match decode_action(a)? {
            Action::Output(port) if port >= DP_MAX_PORTS => return bad(ErrorKind::BadValue),
            Action::Userspace(u) if u.pid == 0 => {
                return Err(CodecError::new("OVS_USERSPACE_ATTR_PID", ErrorKind::BadValue))
            }
            Action::Trunc(len) if len < TRUNC_MIN => return bad(ErrorKind::BadValue),
            Action::Hash { alg, .. }
                if alg != u32::from(OVS_HASH_ALG_L4) && alg != u32::from(OVS_HASH_ALG_SYM_L4) =>
            {
                return bad(ErrorKind::BadValue)
            }
            Action::PushVlan { tpid, tci } if !key_nl::eth_type_vlan(tpid) || tci & VLAN_CFI == 0 => {
                return bad(ErrorKind::BadValue)
            }
            Action::Set(p) => validate_set(p, false, ctx)?,
            Action::SetMasked(p) => validate_set(p, true, ctx)?,
            Action::Sample { actions, .. } => validate_list(actions.0, ctx, depth.saturating_add(1))?,
            Action::Clone(list) => validate_list(list.0, ctx, depth.saturating_add(1))?,
            Action::CheckPktLen { greater, less_equal, .. } => {
                validate_list(greater.0, ctx, depth.saturating_add(1))?;
                validate_list(less_equal.0, ctx, depth.saturating_add(1))?;
            }
            Action::DecTtl(list) => validate_list(list.0, ctx, depth.saturating_add(1))?,
            Action::Drop(_) => dropped = true,
            _ => {}
        }
    }
    Ok(())
}

/// Upstream `validate_set`, the flow-dependent part (structure is checked by
/// [`key_nl::split_set`]).
fn validate_set(payload: &[u8], masked: bool, ctx: Ctx<'_>) -> Result<(), CodecError> {
    let t = key_nl::split_set(payload, masked)?;
    let name = key_nl::key_attr_name(t.ty);
    let not_allowed = Err(CodecError::new(name, ErrorKind::NotAllowed));
    let is_ip = ctx.eth_type == ETH_P_IP || ctx.eth_type == ETH_P_IPV6;
    let byte = |i: usize| t.value.get(i).copied().unwrap_or(0);
    match t.ty {
        OVS_KEY_ATTR_IPV4 | OVS_KEY_ATTR_IPV6 => {
            let (want, proto_at) = if t.ty == OVS_KEY_ATTR_IPV4 { (ETH_P_IP, 8) } else { (ETH_P_IPV6, 36) };
            if ctx.eth_type != want {
                return not_allowed;
            }
            if !masked
                && (byte(proto_at) != ctx.key.ip_proto()
                    || byte(proto_at.saturating_add(3)) != ctx.key.ip_frag())
            {
                return Err(CodecError::new(name, ErrorKind::BadValue));
            }
        }
        OVS_KEY_ATTR_TCP if !(is_ip && ctx.key.ip_proto() == ipproto::TCP) => return not_allowed,
        OVS_KEY_ATTR_UDP if !(is_ip && ctx.key.ip_proto() == ipproto::UDP) => return not_allowed,
        OVS_KEY_ATTR_SCTP if !(is_ip && ctx.key.ip_proto() == ipproto::SCTP) => return not_allowed,
        _ => {}
    }
    // Value checks (tunnel key requirements, IPv6 label range, masked non-writable fields).
    key_nl::decode_set(payload, masked).map(|_| ())
}

fn nla(name: &'static str) -> impl Fn(crate::nla::NlaError) -> CodecError {
    move |e| CodecError::from_nla(name, e)
}

/// Appends one action in upstream wire form.
pub fn encode_action(w: &mut Writer<'_>, a: &Action<'_>) -> Result<(), CodecError> {
    match *a {
        Action::Output(p) => w.put_u32(OVS_ACTION_ATTR_OUTPUT, p).map_err(nla("OVS_ACTION_ATTR_OUTPUT")),
        Action::Userspace(u) => {
            let e = nla("OVS_ACTION_ATTR_USERSPACE");
            let n = w.begin_nest_noflag(OVS_ACTION_ATTR_USERSPACE).map_err(&e)?;
            w.put_u32(OVS_USERSPACE_ATTR_PID, u.pid).map_err(&e)?;
            if let Some(d) = u.userdata {
                w.put(OVS_USERSPACE_ATTR_USERDATA, d).map_err(&e)?;
            }
            if let Some(p) = u.egress_tun_port {
                w.put_u32(OVS_USERSPACE_ATTR_EGRESS_TUN_PORT, p).map_err(&e)?;
            }
            if u.include_actions {
                w.put_flag(OVS_USERSPACE_ATTR_ACTIONS).map_err(&e)?;
            }
            w.end_nest(n).map_err(&e)
        }
        Action::Set(p) => w.put(OVS_ACTION_ATTR_SET, p).map_err(nla("OVS_ACTION_ATTR_SET")),
        Action::SetMasked(p) => w.put(OVS_ACTION_ATTR_SET_MASKED, p).map_err(nla("OVS_ACTION_ATTR_SET_MASKED")),
        Action::PushVlan { tpid, tci } => {
            let mut b = [0u8; 4];
            b[..2].copy_from_slice(&tpid.to_be_bytes());
            b[2..].copy_from_slice(&tci.to_be_bytes());
            w.put(OVS_ACTION_ATTR_PUSH_VLAN, &b).map_err(nla("OVS_ACTION_ATTR_PUSH_VLAN"))
        }
        Action::PopVlan => w.put_flag(OVS_ACTION_ATTR_POP_VLAN).map_err(nla("OVS_ACTION_ATTR_POP_VLAN")),
        Action::Sample { probability, actions } => {
            let e = nla("OVS_ACTION_ATTR_SAMPLE");
            let n = w.begin_nest_noflag(OVS_ACTION_ATTR_SAMPLE).map_err(&e)?;
            w.put_u32(OVS_SAMPLE_ATTR_PROBABILITY, probability).map_err(&e)?;
            w.put(OVS_SAMPLE_ATTR_ACTIONS, actions.0).map_err(&e)?;
            w.end_nest(n).map_err(&e)
        }
        Action::Clone(list) => w.put(OVS_ACTION_ATTR_CLONE, list.0).map_err(nla("OVS_ACTION_ATTR_CLONE")),
        Action::Recirc(id) => w.put_u32(OVS_ACTION_ATTR_RECIRC, id).map_err(nla("OVS_ACTION_ATTR_RECIRC")),
        Action::Hash { alg, basis } => {
            let mut b = [0u8; 8];
            b[..4].copy_from_slice(&alg.to_ne_bytes());
            b[4..].copy_from_slice(&basis.to_ne_bytes());
            w.put(OVS_ACTION_ATTR_HASH, &b).map_err(nla("OVS_ACTION_ATTR_HASH"))
        }
        Action::Meter(m) => w.put_u32(OVS_ACTION_ATTR_METER, m).map_err(nla("OVS_ACTION_ATTR_METER")),
        Action::Trunc(n) => w.put_u32(OVS_ACTION_ATTR_TRUNC, n).map_err(nla("OVS_ACTION_ATTR_TRUNC")),
        Action::CheckPktLen { pkt_len, greater, less_equal } => {
            // Upstream's dump order: length, less-or-equal list, greater list.
            let e = nla("OVS_ACTION_ATTR_CHECK_PKT_LEN");
            let n = w.begin_nest_noflag(OVS_ACTION_ATTR_CHECK_PKT_LEN).map_err(&e)?;
            w.put(OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, &pkt_len.to_ne_bytes()).map_err(&e)?;
            w.put(OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL, less_equal.0).map_err(&e)?;
            w.put(OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER, greater.0).map_err(&e)?;
            w.end_nest(n).map_err(&e)
        }
        Action::DecTtl(list) => {
            let e = nla("OVS_ACTION_ATTR_DEC_TTL");
            let n = w.begin_nest_noflag(OVS_ACTION_ATTR_DEC_TTL).map_err(&e)?;
            w.put(OVS_DEC_TTL_ATTR_ACTION, list.0).map_err(&e)?;
            w.end_nest(n).map_err(&e)
        }
        Action::Drop(err) => w.put_u32(OVS_ACTION_ATTR_DROP, err).map_err(nla("OVS_ACTION_ATTR_DROP")),
    }
}

#[cfg(test)]
#[path = "action_nl_tests.rs"]
mod tests;
