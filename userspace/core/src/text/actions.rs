//! Action lists in dpctl text form: `2,push_vlan(vid=10,pcp=0),set(ipv4(ttl=63)),
//! sample(sample=50.0%,actions(1)),clone(3),recirc(0x1),hash(l4(0)),meter(0),trunc(100)`, `drop`
//! for an empty list.
//!
//! `set(...)` prints the attribute's fields; a `set_masked` prints only significant fields, with
//! `/mask` where partial. Parsing `set(...)` gives `OVS_ACTION_ATTR_SET` when every field of the
//! attribute is given exactly, `OVS_ACTION_ATTR_SET_MASKED` otherwise (as ovs-dpctl does). The
//! sample probability prints with one decimal using integer arithmetic only (no floats in core).

use core::fmt::{self, Write};

use crate::actions::{Action, ActionList};
use crate::key::FlowKey;
use crate::nla::Writer;
use crate::ovs::key_nl::{apply_leaf, leaf_bytes};
use crate::ovs::tunnel_nl;
use crate::ovs::{encode_action, CodecError};
use crate::ovs_abi::*;

use super::key::{self as tk, TextError};
use super::lexer::{parse_num, Lexer, ParseError};

/// The key attribute types `set(...)` can name, with their text group.
fn set_group(ty: u16) -> Option<&'static tk::Group> {
    Some(match ty {
        OVS_KEY_ATTR_PRIORITY => &tk::PRIORITY,
        OVS_KEY_ATTR_SKB_MARK => &tk::SKB_MARK,
        OVS_KEY_ATTR_ETHERNET => &tk::ETH,
        OVS_KEY_ATTR_IPV4 => &tk::IPV4,
        OVS_KEY_ATTR_IPV6 => &tk::IPV6,
        OVS_KEY_ATTR_TCP => &tk::TCP,
        OVS_KEY_ATTR_UDP => &tk::UDP,
        OVS_KEY_ATTR_SCTP => &tk::SCTP,
        OVS_KEY_ATTR_TUNNEL => &tk::TUNNEL,
        _ => return None,
    })
}

const SET_TYPES: [u16; 9] = [
    OVS_KEY_ATTR_PRIORITY,
    OVS_KEY_ATTR_SKB_MARK,
    OVS_KEY_ATTR_ETHERNET,
    OVS_KEY_ATTR_IPV4,
    OVS_KEY_ATTR_IPV6,
    OVS_KEY_ATTR_TCP,
    OVS_KEY_ATTR_UDP,
    OVS_KEY_ATTR_SCTP,
    OVS_KEY_ATTR_TUNNEL,
];

/// Tenths of a percent for a probability in units of 1/`u32::MAX`, rounded.
#[must_use]
pub fn probability_tenths(p: u32) -> u64 {
    let max = u64::from(u32::MAX);
    u64::from(p).saturating_mul(1000).saturating_add(max / 2).checked_div(max).unwrap_or(0)
}

fn write_set(w: &mut impl Write, payload: &[u8], masked: bool) -> fmt::Result {
    let Ok(t) = crate::ovs::key_nl::split_set(payload, masked) else {
        return w.write_str("set(?)");
    };
    let Some(g) = set_group(t.ty) else { return w.write_str("set(?)") };
    let (mut v, mut m) = (FlowKey::ZERO, FlowKey::ZERO);
    if t.ty == OVS_KEY_ATTR_TUNNEL {
        if tunnel_nl::decode(t.value, &mut v, false).is_err() {
            return w.write_str("set(?)");
        }
        // Print the fields that are present (non-zero), the TTL always; the key flag is
        // implied by `tun_id`.
        v.set_tun_flags(v.tun_flags() & !crate::key::tun_flags::KEY);
        m = nonzero_fields(&v);
        m.set_tun_ttl(0xff);
    } else {
        apply_leaf(t.ty, t.value, &mut v);
        match t.mask {
            Some(mb) => {
                apply_leaf(t.ty, mb, &mut m);
            }
            None => {
                apply_leaf(t.ty, [0xff; 40].get(..t.value.len()).unwrap_or(&[]), &mut m);
            }
        }
    }
    w.write_str("set(")?;
    let mut sep = false;
    tk::write_group(w, g, &v, &m, &mut sep)?;
    if !sep {
        write!(w, "{}()", tk::group_name(g))?;
    }
    w.write_char(')')
}

/// A mask with every non-zero tunnel field of `k` exact.
fn nonzero_fields(k: &FlowKey) -> FlowKey {
    use crate::key::field;
    let mut m = FlowKey::ZERO;
    let ranges = [
        field::TUN_ID,
        field::TUN_IPV4_SRC,
        field::TUN_IPV4_DST,
        field::TUN_FLAGS,
        field::TUN_TOS..field::TUN_TOS + 1,
        field::TUN_TTL..field::TUN_TTL + 1,
        field::TUN_TP_SRC,
        field::TUN_TP_DST,
        field::TUN_IPV6_SRC,
        field::TUN_IPV6_DST,
    ];
    for r in ranges {
        if k.as_bytes().get(r.clone()).is_some_and(|b| b.iter().any(|&x| x != 0)) {
            let n = r.len();
            m.set_bytes(r, [0xff; 16].get(..n).unwrap_or(&[]));
        }
    }
    m.set_tun_flags(m.tun_flags() & 0x000f);
    m
}

/// Writes one action.
pub fn write_action(w: &mut impl Write, a: &Action<'_>) -> fmt::Result {
    match *a {
        Action::Output(p) => write!(w, "{p}"),
        Action::Userspace(u) => {
            write!(w, "userspace(pid={}", u.pid)?;
            if let Some(d) = u.userdata {
                w.write_str(",userdata(")?;
                for b in d {
                    write!(w, "{b:02x}")?;
                }
                w.write_char(')')?;
            }
            if let Some(p) = u.egress_tun_port {
                write!(w, ",tunnel_out_port={p}")?;
            }
            if u.include_actions {
                w.write_str(",actions")?;
            }
            w.write_char(')')
        }
        Action::Set(p) => write_set(w, p, false),
        Action::SetMasked(p) => write_set(w, p, true),
        Action::PushVlan { tpid, tci } => {
            w.write_str("push_vlan(")?;
            if tpid != 0x8100 {
                write!(w, "tpid={tpid:#06x},")?;
            }
            write!(w, "vid={},pcp={}", tci & 0x0fff, tci >> 13)?;
            if tci & crate::key::VLAN_CFI == 0 {
                w.write_str(",cfi=0")?;
            }
            w.write_char(')')
        }
        Action::PopVlan => w.write_str("pop_vlan"),
        Action::Sample { probability, actions } => {
            let t = probability_tenths(probability);
            write!(w, "sample(sample={}.{}%,actions(", t / 10, t % 10)?;
            write_list(w, actions, false)?;
            w.write_str("))")
        }
        Action::Clone(list) => {
            w.write_str("clone(")?;
            write_list(w, list, false)?;
            w.write_char(')')
        }
        Action::Recirc(id) => write!(w, "recirc({id:#x})"),
        Action::Hash { alg, basis } => match u16::try_from(alg) {
            Ok(OVS_HASH_ALG_L4) => write!(w, "hash(l4({basis}))"),
            Ok(OVS_HASH_ALG_SYM_L4) => write!(w, "hash(sym_l4({basis}))"),
            _ => write!(w, "hash(alg{alg}({basis}))"),
        },
        Action::Meter(m) => write!(w, "meter({m})"),
        Action::Trunc(n) => write!(w, "trunc({n})"),
        Action::CheckPktLen { pkt_len, greater, less_equal } => {
            write!(w, "check_pkt_len(size={pkt_len},gt(")?;
            write_list(w, greater, true)?;
            w.write_str("),le(")?;
            write_list(w, less_equal, true)?;
            w.write_str("))")
        }
        Action::DecTtl(list) => {
            w.write_str("dec_ttl(le_1(")?;
            write_list(w, list, true)?;
            w.write_str("))")
        }
        // As ovs-dpctl: the error code is not printed.
        Action::Drop(_) => w.write_str("drop"),
    }
}

fn write_list(w: &mut impl Write, list: ActionList<'_>, drop_if_empty: bool) -> fmt::Result {
    if list.is_empty() && drop_if_empty {
        return w.write_str("drop");
    }
    for (i, a) in list.iter().enumerate() {
        if i != 0 {
            w.write_char(',')?;
        }
        match a {
            Ok(a) => write_action(w, &a)?,
            Err(_) => w.write_str("<invalid>")?,
        }
    }
    Ok(())
}

/// Writes an action list (`drop` when empty).
pub fn write_actions(w: &mut impl Write, list: ActionList<'_>) -> fmt::Result {
    write_list(w, list, true)
}

fn codec(e: CodecError) -> TextError {
    TextError::Codec(e)
}

fn perr(e: ParseError) -> TextError {
    TextError::Parse(e)
}

fn parse_probability(l: &mut Lexer<'_>) -> Result<u32, ParseError> {
    let (tok, at) = l.value()?;
    let bad = ParseError { offset: at, msg: "bad percentage" };
    let tok = tok.strip_suffix('%').ok_or(bad)?;
    let (int, frac) = tok.split_once('.').unwrap_or((tok, ""));
    if frac.len() > 7 || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad);
    }
    let whole = parse_num(int, at, 100).map_err(|_| bad)?;
    let mut f = 0u64;
    for i in 0..7 {
        let d = frac.as_bytes().get(i).map_or(0, |c| u64::from(c.wrapping_sub(b'0')));
        f = f.saturating_mul(10).saturating_add(d);
    }
    // Percentage in units of 1e-7 %, at most 1e9.
    let e7 = whole.saturating_mul(10_000_000).saturating_add(f);
    if e7 > 1_000_000_000 {
        return Err(bad);
    }
    let p = e7.saturating_mul(u64::from(u32::MAX)).saturating_add(500_000_000) / 1_000_000_000;
    Ok(u32::try_from(p).unwrap_or(u32::MAX))
}

fn parse_set(l: &mut Lexer<'_>, w: &mut Writer<'_>) -> Result<(), TextError> {
    let (name, at) = l.ident().map_err(perr)?;
    let ty = SET_TYPES
        .iter()
        .copied()
        .find(|&t| set_group(t).is_some_and(|g| tk::group_name(g) == name))
        .ok_or(TextError::Parse(ParseError { offset: at, msg: "not a settable field" }))?;
    let g = set_group(ty).ok_or(TextError::Parse(ParseError { offset: at, msg: "not a settable field" }))?;
    l.expect("(", "expected (").map_err(perr)?;
    let (mut v, mut m) = (FlowKey::ZERO, FlowKey::ZERO);
    tk::parse_group_body(l, g, &mut v, &mut m).map_err(perr)?;
    let e = |e| CodecError::from_nla("OVS_ACTION_ATTR_SET", e);
    if ty == OVS_KEY_ATTR_TUNNEL {
        if v.tun_id() != 0 {
            v.set_tun_flags(v.tun_flags() | crate::key::tun_flags::KEY);
        }
        let n = w.begin_nest_noflag(OVS_ACTION_ATTR_SET).map_err(e).map_err(codec)?;
        tunnel_nl::put(w, &v, &v).map_err(codec)?;
        return w.end_nest(n).map_err(e).map_err(codec);
    }
    let mut vb = [0u8; 40];
    let mut mb = [0u8; 40];
    let len = leaf_bytes(ty, &v, &mut vb);
    leaf_bytes(ty, &m, &mut mb);
    let (vb, mb) = (vb.get(..len).unwrap_or(&[]), mb.get(..len).unwrap_or(&[]));
    let exact = mb.iter().all(|&b| b == 0xff);
    let mut payload = [0u8; 80];
    let (kind, plen) = if exact { (OVS_ACTION_ATTR_SET, len) } else { (OVS_ACTION_ATTR_SET_MASKED, len.saturating_mul(2)) };
    if let Some(d) = payload.get_mut(..len) {
        d.copy_from_slice(vb);
    }
    if !exact {
        if let Some(d) = payload.get_mut(len..len.saturating_mul(2)) {
            d.copy_from_slice(mb);
        }
    }
    let n = w.begin_nest_noflag(kind).map_err(e).map_err(codec)?;
    w.put(ty, payload.get(..plen).unwrap_or(&[])).map_err(e).map_err(codec)?;
    w.end_nest(n).map_err(e).map_err(codec)
}

fn parse_one(l: &mut Lexer<'_>, w: &mut Writer<'_>, depth: u32) -> Result<(), TextError> {
    let start = l.pos();
    if l.peek().is_some_and(|c| c.is_ascii_digit()) {
        let (tok, at) = l.value().map_err(perr)?;
        let p = parse_num(tok, at, u64::from(u32::MAX)).map_err(perr)?;
        return encode_action(w, &Action::Output(u32::try_from(p).unwrap_or(0))).map_err(codec);
    }
    let (name, at) = l.ident().map_err(perr)?;
    let num = |l: &mut Lexer<'_>| -> Result<u32, TextError> {
        l.expect("(", "expected (").map_err(perr)?;
        let (tok, at) = l.value().map_err(perr)?;
        let v = parse_num(tok, at, u64::from(u32::MAX)).map_err(perr)?;
        l.expect(")", "expected )").map_err(perr)?;
        Ok(u32::try_from(v).unwrap_or(0))
    };
    let a = match name {
        // A list that is just "drop" is the empty list; elsewhere "drop" is the explicit action.
        "drop" if depth == 0 && start == 0 && l.at_end() => return Ok(()),
        "drop" => Action::Drop(0),
        "pop_vlan" => Action::PopVlan,
        "recirc" => Action::Recirc(num(l)?),
        "meter" => Action::Meter(num(l)?),
        "trunc" => Action::Trunc(num(l)?),
        "set" => {
            l.expect("(", "expected (").map_err(perr)?;
            parse_set(l, w)?;
            return l.expect(")", "expected )").map_err(perr);
        }
        "push_vlan" => {
            l.expect("(", "expected (").map_err(perr)?;
            let (mut tpid, mut vid, mut pcp, mut cfi) = (0x8100u64, 0u64, 0u64, 1u64);
            loop {
                let (f, fat) = l.ident().map_err(perr)?;
                l.expect("=", "expected =").map_err(perr)?;
                let (tok, vat) = l.value().map_err(perr)?;
                let (slot, max) = match f {
                    "tpid" => (&mut tpid, 0xffff),
                    "vid" => (&mut vid, 0x0fff),
                    "pcp" => (&mut pcp, 7),
                    "cfi" => (&mut cfi, 1),
                    _ => return Err(perr(ParseError { offset: fat, msg: "unknown push_vlan field" })),
                };
                *slot = parse_num(tok, vat, max).map_err(perr)?;
                if l.eat(")") {
                    break;
                }
                l.expect(",", "expected , or )").map_err(perr)?;
            }
            let tci = (pcp << 13) | (cfi << 12) | vid;
            Action::PushVlan { tpid: u16::try_from(tpid).unwrap_or(0), tci: u16::try_from(tci).unwrap_or(0) }
        }
        "hash" => {
            l.expect("(", "expected (").map_err(perr)?;
            let (alg, aat) = l.ident().map_err(perr)?;
            let alg = match alg {
                "l4" => OVS_HASH_ALG_L4,
                "sym_l4" => OVS_HASH_ALG_SYM_L4,
                _ => return Err(perr(ParseError { offset: aat, msg: "unknown hash algorithm" })),
            };
            let basis = num(l)?;
            l.expect(")", "expected )").map_err(perr)?;
            Action::Hash { alg: u32::from(alg), basis }
        }
        "userspace" => {
            l.expect("(", "expected (").map_err(perr)?;
            let e = |e| CodecError::from_nla("OVS_ACTION_ATTR_USERSPACE", e);
            let n = w.begin_nest_noflag(OVS_ACTION_ATTR_USERSPACE).map_err(e).map_err(codec)?;
            loop {
                let (f, fat) = l.ident().map_err(perr)?;
                match f {
                    "pid" | "tunnel_out_port" => {
                        l.expect("=", "expected =").map_err(perr)?;
                        let (tok, vat) = l.value().map_err(perr)?;
                        let v = u32::try_from(parse_num(tok, vat, u64::from(u32::MAX)).map_err(perr)?).unwrap_or(0);
                        let ty = if f == "pid" { OVS_USERSPACE_ATTR_PID } else { OVS_USERSPACE_ATTR_EGRESS_TUN_PORT };
                        w.put_u32(ty, v).map_err(e).map_err(codec)?;
                    }
                    "userdata" => {
                        l.expect("(", "expected (").map_err(perr)?;
                        let (tok, vat) = l.value().map_err(perr)?;
                        let mut buf = [0u8; 256];
                        let hex = tok.as_bytes();
                        if hex.len() % 2 != 0 || hex.len() > 512 {
                            return Err(perr(ParseError { offset: vat, msg: "bad userdata" }));
                        }
                        for (i, o) in buf.iter_mut().take(hex.len() / 2).enumerate() {
                            let j = i.saturating_mul(2);
                            let s = tok.get(j..j.saturating_add(2)).unwrap_or("");
                            *o = u8::from_str_radix(s, 16).map_err(|_| perr(ParseError { offset: vat, msg: "bad userdata" }))?;
                        }
                        w.put(OVS_USERSPACE_ATTR_USERDATA, buf.get(..hex.len() / 2).unwrap_or(&[])).map_err(e).map_err(codec)?;
                        l.expect(")", "expected )").map_err(perr)?;
                    }
                    "actions" => w.put_flag(OVS_USERSPACE_ATTR_ACTIONS).map_err(e).map_err(codec)?,
                    _ => return Err(perr(ParseError { offset: fat, msg: "unknown userspace field" })),
                }
                if l.eat(")") {
                    break;
                }
                l.expect(",", "expected , or )").map_err(perr)?;
            }
            return w.end_nest(n).map_err(e).map_err(codec);
        }
        "clone" => {
            l.expect("(", "expected (").map_err(perr)?;
            let e = |e| CodecError::from_nla("OVS_ACTION_ATTR_CLONE", e);
            let n = w.begin_nest_noflag(OVS_ACTION_ATTR_CLONE).map_err(e).map_err(codec)?;
            parse_list(l, w, depth.saturating_add(1))?;
            l.expect(")", "expected )").map_err(perr)?;
            return w.end_nest(n).map_err(e).map_err(codec);
        }
        "check_pkt_len" => {
            l.expect("(size=", "expected (size=").map_err(perr)?;
            let (tok, vat) = l.value().map_err(perr)?;
            let size = u16::try_from(parse_num(tok, vat, 0xffff).map_err(perr)?).unwrap_or(0);
            let e = |e| CodecError::from_nla("OVS_ACTION_ATTR_CHECK_PKT_LEN", e);
            let n = w.begin_nest_noflag(OVS_ACTION_ATTR_CHECK_PKT_LEN).map_err(e).map_err(codec)?;
            w.put(OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, &size.to_ne_bytes()).map_err(e).map_err(codec)?;
            for (prefix, ty) in [
                (",gt(", OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER),
                ("),le(", OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL),
            ] {
                l.expect(prefix, "expected gt(...),le(...)").map_err(perr)?;
                let inner = w.begin_nest_noflag(ty).map_err(e).map_err(codec)?;
                parse_nested_list(l, w, depth.saturating_add(1))?;
                w.end_nest(inner).map_err(e).map_err(codec)?;
            }
            l.expect("))", "expected ))").map_err(perr)?;
            return w.end_nest(n).map_err(e).map_err(codec);
        }
        "dec_ttl" => {
            l.expect("(le_1(", "expected (le_1(").map_err(perr)?;
            let e = |e| CodecError::from_nla("OVS_ACTION_ATTR_DEC_TTL", e);
            let n = w.begin_nest_noflag(OVS_ACTION_ATTR_DEC_TTL).map_err(e).map_err(codec)?;
            let inner = w.begin_nest_noflag(OVS_DEC_TTL_ATTR_ACTION).map_err(e).map_err(codec)?;
            parse_nested_list(l, w, depth.saturating_add(1))?;
            w.end_nest(inner).map_err(e).map_err(codec)?;
            l.expect("))", "expected ))").map_err(perr)?;
            return w.end_nest(n).map_err(e).map_err(codec);
        }
        "sample" => {
            l.expect("(sample=", "expected (sample=").map_err(perr)?;
            let p = parse_probability(l).map_err(perr)?;
            l.expect(",actions(", "expected ,actions(").map_err(perr)?;
            let e = |e| CodecError::from_nla("OVS_ACTION_ATTR_SAMPLE", e);
            let n = w.begin_nest_noflag(OVS_ACTION_ATTR_SAMPLE).map_err(e).map_err(codec)?;
            w.put_u32(OVS_SAMPLE_ATTR_PROBABILITY, p).map_err(e).map_err(codec)?;
            let inner = w.begin_nest_noflag(OVS_SAMPLE_ATTR_ACTIONS).map_err(e).map_err(codec)?;
            parse_list(l, w, depth.saturating_add(1))?;
            l.expect("))", "expected ))").map_err(perr)?;
            w.end_nest(inner).map_err(e).map_err(codec)?;
            return w.end_nest(n).map_err(e).map_err(codec);
        }
        _ => return Err(perr(ParseError { offset: at, msg: "unknown action" })),
    };
    encode_action(w, &a).map_err(codec)
}

/// A nested list as printed by [`write_list`] with `drop` for the empty list: `drop` alone is
/// the empty list here too.
fn parse_nested_list(l: &mut Lexer<'_>, w: &mut Writer<'_>, depth: u32) -> Result<(), TextError> {
    l.skip_ws();
    if l.eat("drop") {
        l.skip_ws();
        if l.peek() == Some(b')') {
            return Ok(());
        }
        return Err(perr(l.err("expected ) after drop")));
    }
    parse_list(l, w, depth)
}

fn parse_list(l: &mut Lexer<'_>, w: &mut Writer<'_>, depth: u32) -> Result<(), TextError> {
    if depth > crate::ovs::action_nl::MAX_DEPTH {
        return Err(perr(l.err("actions nested too deeply")));
    }
    loop {
        l.skip_ws();
        if l.at_end() || l.peek() == Some(b')') {
            return Ok(());
        }
        parse_one(l, w, depth)?;
        l.skip_ws();
        if !l.eat(",") {
            return Ok(());
        }
    }
}

/// Parses an action list and encodes it as `OVS_ACTION_ATTR_*` attributes into `w` (the caller
/// wraps them in `OVS_FLOW_ATTR_ACTIONS` if needed). The result is not validated against a flow:
/// run [`crate::ovs::validate_actions`] for that.
pub fn parse_actions(s: &str, w: &mut Writer<'_>) -> Result<(), TextError> {
    let mut l = Lexer::new(s);
    parse_list(&mut l, w, 0)?;
    l.skip_ws();
    if !l.at_end() {
        return Err(perr(l.err("unexpected text")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovs::test_util::written;
    use std::string::String;

    fn round(text: &str) -> String {
        let wire = written(|w| parse_actions(text, w).unwrap());
        let mut s = String::new();
        write_actions(&mut s, ActionList(&wire)).unwrap();
        s
    }

    #[test]
    fn actions_text_round_trip() {
        for t in [
            "drop",
            "2",
            "push_vlan(vid=10,pcp=0),3",
            "push_vlan(tpid=0x88a8,vid=4095,pcp=7)",
            "pop_vlan,1",
            "set(eth(src=00:01:02:03:04:05,dst=10:11:12:13:14:15))",
            "set(ipv4(ttl=63))",
            "set(ipv4(src=10.0.0.0/255.0.0.0))",
            "set(ipv4(src=1.2.3.4,dst=5.6.7.8,proto=6,tos=0,ttl=63,frag=no))",
            "set(tcp(dst=8080))",
            "set(skb_mark(0x10))",
            "set(tunnel(tun_id=0x5,dst=192.168.0.1,ttl=64))",
            "userspace(pid=4000)",
            "userspace(pid=1,userdata(0a0b0c),tunnel_out_port=3,actions)",
            "sample(sample=50.0%,actions(1,2))",
            "sample(sample=0.1%,actions())",
            "clone(pop_vlan,2),3",
            "recirc(0x1)",
            "hash(l4(0)),hash(sym_l4(42))",
            "meter(0),trunc(100)",
            "check_pkt_len(size=200,gt(4),le(5)),6",
            "check_pkt_len(size=1500,gt(drop),le(set(ipv4(ttl=63)),2))",
            "dec_ttl(le_1(userspace(pid=7))),2",
            "dec_ttl(le_1(drop)),2",
            "2,drop",
        ] {
            assert_eq!(round(t), t);
        }
        // `drop` inside a list is the explicit action; alone it is the empty list.
        let wire = written(|w| parse_actions("2,drop", w).unwrap());
        let acts: std::vec::Vec<_> = ActionList(&wire).iter().map(Result::unwrap).collect();
        assert_eq!(acts, [Action::Output(2), Action::Drop(0)]);
        assert!(written(|w| parse_actions("drop", w).unwrap()).is_empty());
        let wire = written(|w| parse_actions("check_pkt_len(size=100,gt(1),le(drop))", w).unwrap());
        match ActionList(&wire).iter().next().unwrap().unwrap() {
            Action::CheckPktLen { pkt_len, greater, less_equal } => {
                assert_eq!(pkt_len, 100);
                assert_eq!(greater.iter().map(Result::unwrap).collect::<std::vec::Vec<_>>(), [Action::Output(1)]);
                assert!(less_equal.is_empty());
            }
            a => panic!("{a:?}"),
        }
        crate::ovs::validate_actions(&wire, &FlowKey::ZERO).unwrap();
        // sample=100% and the rounding of odd probabilities.
        assert_eq!(round("sample(sample=100%,actions(1))"), "sample(sample=100.0%,actions(1))");
        assert_eq!(round("sample(sample=33.33333%,actions(1))"), "sample(sample=33.3%,actions(1))");
        assert_eq!(probability_tenths(u32::MAX), 1000);
        assert_eq!(probability_tenths(0), 0);
    }

    #[test]
    fn set_vs_set_masked() {
        let exact = written(|w| parse_actions("set(tcp(src=1,dst=2))", w).unwrap());
        assert_eq!(ActionList(&exact).iter().next().unwrap().unwrap(), Action::Set(&exact[4..]));
        let partial = written(|w| parse_actions("set(tcp(dst=2))", w).unwrap());
        assert!(matches!(ActionList(&partial).iter().next().unwrap().unwrap(), Action::SetMasked(_)));
        let (v, m) = crate::ovs::decode_set(&partial[4..], true).unwrap();
        assert_eq!((v.tp_dst(), m.tp_dst(), m.tp_src()), (2, 0xffff, 0));
    }

    #[test]
    fn parsed_actions_validate() {
        let wire = written(|w| parse_actions("push_vlan(vid=1,pcp=0),sample(sample=10.0%,actions(userspace(pid=9))),2", w).unwrap());
        crate::ovs::validate_actions(&wire, &FlowKey::ZERO).unwrap();
    }

    #[test]
    fn action_parse_errors() {
        let cases = [
            ("foo", 0, "unknown action"),
            ("1,bar(1)", 2, "unknown action"),
            ("push_vlan(vid=5000)", 14, "number out of range"),
            ("set(in_port(1))", 4, "not a settable field"),
            ("sample(sample=101%,actions())", 14, "bad percentage"),
            ("hash(md5(0))", 5, "unknown hash algorithm"),
            ("2 x", 2, "unexpected text"),
            ("userspace(pid=1,userdata(abc))", 25, "bad userdata"),
        ];
        for (t, off, msg) in cases {
            let mut buf = [0u8; 256];
            let mut w = Writer::new(&mut buf);
            assert_eq!(parse_actions(t, &mut w).unwrap_err(), TextError::Parse(ParseError { offset: off, msg }), "{t}");
        }
        let mut small = [0u8; 4];
        let mut w = Writer::new(&mut small);
        assert!(matches!(parse_actions("1", &mut w), Err(TextError::Codec(_))));
    }
}
