//! Wire logic that OpenFlow 1.0 and 1.3 share: the messages whose layout and type number
//! (0..=9) are the same in both versions, `ofp_desc_stats`, aggregate stats, the 12 port
//! counters, length-prefixed list entries, and the port checks both versions apply.

use crate::codec::{
    decode_error, decode_experimenter, decode_switch_config, encode_error, encode_experimenter,
    encode_switch_config,
};
use crate::error::{BadRequest, DecodeError, DecodeResult, EncodeError, OfpError, PortModFailed};
use crate::msg::{AggregateStats, Desc, Message, PortStats};
use crate::types::{port, Version, NO_BUFFER};
use crate::wire::{Put, Reader};

/// Type numbers that OpenFlow 1.0 and 1.3 share (`OFPT_HELLO` ..= `OFPT_SET_CONFIG`).
pub(crate) mod t {
    pub const HELLO: u8 = 0;
    pub const ERROR: u8 = 1;
    pub const ECHO_REQUEST: u8 = 2;
    pub const ECHO_REPLY: u8 = 3;
    pub const EXPERIMENTER: u8 = 4;
    pub const FEATURES_REQUEST: u8 = 5;
    pub const GET_CONFIG_REQUEST: u8 = 7;
    pub const GET_CONFIG_REPLY: u8 = 8;
    pub const SET_CONFIG: u8 = 9;
}

// The per-version tables must agree with the shared numbers.
const _: () = {
    assert!(crate::of10::t::ERROR == t::ERROR && crate::of13::t::ERROR == t::ERROR);
    assert!(
        crate::of10::t::ECHO_REQUEST == t::ECHO_REQUEST
            && crate::of13::t::ECHO_REQUEST == t::ECHO_REQUEST
    );
    assert!(
        crate::of10::t::ECHO_REPLY == t::ECHO_REPLY && crate::of13::t::ECHO_REPLY == t::ECHO_REPLY
    );
    assert!(
        crate::of10::t::VENDOR == t::EXPERIMENTER
            && crate::of13::t::EXPERIMENTER == t::EXPERIMENTER
    );
    assert!(crate::of10::t::FEATURES_REQUEST == t::FEATURES_REQUEST);
    assert!(crate::of13::t::FEATURES_REQUEST == t::FEATURES_REQUEST);
    assert!(crate::of10::t::GET_CONFIG_REQUEST == t::GET_CONFIG_REQUEST);
    assert!(crate::of13::t::GET_CONFIG_REQUEST == t::GET_CONFIG_REQUEST);
    assert!(crate::of10::t::GET_CONFIG_REPLY == t::GET_CONFIG_REPLY);
    assert!(crate::of13::t::GET_CONFIG_REPLY == t::GET_CONFIG_REPLY);
    assert!(
        crate::of10::t::SET_CONFIG == t::SET_CONFIG && crate::of13::t::SET_CONFIG == t::SET_CONFIG
    );
};

/// The "version cannot express this" encode error.
pub(crate) fn unsupported(version: Version, what: impl Into<String>) -> EncodeError {
    EncodeError::Unsupported {
        what: what.into(),
        version,
    }
}

/// A wire buffer id as the model's `Option` (`OFP_NO_BUFFER` is `None`).
pub(crate) fn buffer_in(b: u32) -> Option<u32> {
    (b != NO_BUFFER).then_some(b)
}

/// Encodes the messages whose body and type number every version shares; `None` for others.
pub(crate) fn encode_shared(v: Version, m: &Message, out: &mut Vec<u8>) -> Option<u8> {
    Some(match m {
        Message::Hello(_) => t::HELLO,
        Message::Error(e) => {
            encode_error(v, e, out);
            t::ERROR
        }
        Message::EchoRequest(d) => {
            out.extend_from_slice(d);
            t::ECHO_REQUEST
        }
        Message::EchoReply(d) => {
            out.extend_from_slice(d);
            t::ECHO_REPLY
        }
        Message::Experimenter(e) => {
            encode_experimenter(v, e, out);
            t::EXPERIMENTER
        }
        Message::FeaturesRequest => t::FEATURES_REQUEST,
        Message::GetConfigRequest => t::GET_CONFIG_REQUEST,
        Message::GetConfigReply(c) => {
            encode_switch_config(c, out);
            t::GET_CONFIG_REPLY
        }
        Message::SetConfig(c) => {
            encode_switch_config(c, out);
            t::SET_CONFIG
        }
        _ => return None,
    })
}

/// Decodes the message bodies every version shares (not `SET_CONFIG`, whose validation
/// differs); `None` for other types.
pub(crate) fn decode_shared(
    v: Version,
    msg_type: u8,
    r: &mut Reader<'_>,
) -> Option<DecodeResult<Message>> {
    Some(match msg_type {
        t::ERROR => decode_error(v, r).map(Message::Error),
        t::ECHO_REQUEST => Ok(Message::EchoRequest(r.rest().to_vec())),
        t::ECHO_REPLY => Ok(Message::EchoReply(r.rest().to_vec())),
        t::EXPERIMENTER => decode_experimenter(v, r).map(Message::Experimenter),
        t::FEATURES_REQUEST => Ok(Message::FeaturesRequest),
        t::GET_CONFIG_REQUEST => Ok(Message::GetConfigRequest),
        t::GET_CONFIG_REPLY => decode_switch_config(r).map(Message::GetConfigReply),
        _ => return None,
    })
}

/// Checks a packet-out input port (`OFPBRC_BAD_PORT`).
pub(crate) fn check_in_port(p: u32) -> DecodeResult<()> {
    if p > port::MAX && !matches!(p, port::CONTROLLER | port::LOCAL | port::ANY) {
        return Err(DecodeError::new(
            BadRequest::BadPort,
            format!("packet-out in_port {p:#x}"),
        ));
    }
    Ok(())
}

/// Checks a port-mod port number (`OFPPMFC_BAD_PORT`).
pub(crate) fn check_port_mod_port(port_no: u32) -> DecodeResult<()> {
    if port_no == 0 || (port_no > port::MAX && port_no != port::LOCAL) {
        return Err(DecodeError::new(
            PortModFailed::BadPort,
            format!("port {port_no:#x}"),
        ));
    }
    Ok(())
}

/// Takes one entry of a list whose entries start with their own 16-bit length: the length
/// must pass `valid` and fit in what remains, else `err` with "`what` length N".
pub(crate) fn take_entry<'a, E: Into<OfpError> + Copy>(
    r: &mut Reader<'a>,
    err: E,
    what: &str,
    valid: impl Fn(usize) -> bool,
) -> DecodeResult<Reader<'a>> {
    let len = usize::from(Reader::new(r.peek(2)?, err).u16()?);
    if !valid(len) || len > r.remaining() {
        return Err(DecodeError::new(err, format!("{what} length {len}")));
    }
    r.sub(len, err)
}

/// Decodes items with `get` until the reader is empty.
pub(crate) fn get_all<'a, T>(
    r: &mut Reader<'a>,
    mut get: impl FnMut(&mut Reader<'a>) -> DecodeResult<T>,
) -> DecodeResult<Vec<T>> {
    let mut v = Vec::new();
    while !r.is_empty() {
        v.push(get(r)?);
    }
    Ok(v)
}

/// Decodes `ofp_desc_stats` (same in every version).
pub(crate) fn get_desc(r: &mut Reader<'_>) -> DecodeResult<Desc> {
    Ok(Desc {
        mfr_desc: r.string(256)?,
        hw_desc: r.string(256)?,
        sw_desc: r.string(256)?,
        serial_num: r.string(32)?,
        dp_desc: r.string(256)?,
    })
}

/// Encodes `ofp_desc_stats`.
pub(crate) fn put_desc(d: &Desc, out: &mut Vec<u8>) {
    out.put_string(&d.mfr_desc, 256);
    out.put_string(&d.hw_desc, 256);
    out.put_string(&d.sw_desc, 256);
    out.put_string(&d.serial_num, 32);
    out.put_string(&d.dp_desc, 256);
}

/// Decodes `ofp_aggregate_stats_reply` (same in every version).
pub(crate) fn get_aggregate(r: &mut Reader<'_>) -> DecodeResult<AggregateStats> {
    let a = AggregateStats {
        packet_count: r.u64()?,
        byte_count: r.u64()?,
        flow_count: r.u32()?,
    };
    r.skip(4)?;
    Ok(a)
}

/// Encodes `ofp_aggregate_stats_reply`.
pub(crate) fn put_aggregate(a: &AggregateStats, out: &mut Vec<u8>) {
    out.put_u64(a.packet_count);
    out.put_u64(a.byte_count);
    out.put_u32(a.flow_count);
    out.put_zeros(4);
}

/// Builds a [`PortStats`] from the 12 counters in wire order.
pub(crate) fn port_stats_from(
    port_no: u32,
    c: [u64; 12],
    duration_sec: u32,
    duration_nsec: u32,
) -> PortStats {
    let [rx_packets, tx_packets, rx_bytes, tx_bytes, rx_dropped, tx_dropped, rx_errors, tx_errors, rx_frame_err, rx_over_err, rx_crc_err, collisions] =
        c;
    PortStats {
        port_no,
        rx_packets,
        tx_packets,
        rx_bytes,
        tx_bytes,
        rx_dropped,
        tx_dropped,
        rx_errors,
        tx_errors,
        rx_frame_err,
        rx_over_err,
        rx_crc_err,
        collisions,
        duration_sec,
        duration_nsec,
    }
}

/// The 12 counters of a [`PortStats`] in wire order.
pub(crate) fn port_counters(p: &PortStats) -> [u64; 12] {
    [
        p.rx_packets,
        p.tx_packets,
        p.rx_bytes,
        p.tx_bytes,
        p.rx_dropped,
        p.tx_dropped,
        p.rx_errors,
        p.tx_errors,
        p.rx_frame_err,
        p.rx_over_err,
        p.rx_crc_err,
        p.collisions,
    ]
}

/// Reads the 12 port counters in wire order.
pub(crate) fn get_port_counters(r: &mut Reader<'_>) -> DecodeResult<[u64; 12]> {
    let mut c = [0u64; 12];
    for x in c.iter_mut() {
        *x = r.u64()?;
    }
    Ok(c)
}

/// Writes the 12 port counters of `p` in wire order.
pub(crate) fn put_port_counters(p: &PortStats, out: &mut Vec<u8>) {
    for c in port_counters(p) {
        out.put_u64(c);
    }
}
