//! Fuzzes every netlink decoder of the OVS codec: none may panic, and encoding a decoded key is
//! a fixed point (encode(decode(encode(decode(x)))) == encode(decode(x))).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rvs_core::actions::ActionList;
use rvs_core::key::FlowKey;
use rvs_core::nla::Writer;
use rvs_core::ovs::{self, dp_nl, flow_nl, key_nl, meter_nl, packet_nl, vport_nl};

fn encode(k: &FlowKey, buf: &mut [u8]) -> usize {
    let mut w = Writer::new(buf);
    key_nl::put_key_attrs(&mut w, k, k, false).expect("a key fits in 4 KiB");
    w.len()
}

fuzz_target!(|data: &[u8]| {
    // First byte selects a split point so key and mask come from one input.
    let (split, rest) = match data.split_first() {
        Some((&s, r)) => (usize::from(s).min(r.len()), r),
        None => return,
    };
    let (a, b) = rest.split_at(split);
    if let Ok(k) = ovs::decode_key(a) {
        let mut b1 = [0u8; 4096];
        let n1 = encode(&k, &mut b1);
        let k2 = ovs::decode_key(&b1[..n1]).expect("re-decode of an encoded key");
        let mut b2 = [0u8; 4096];
        let n2 = encode(&k2, &mut b2);
        assert_eq!(&b1[..n1], &b2[..n2]);
    }
    if let Ok(m) = ovs::decode_match(a, Some(b)) {
        let _ = ovs::validate_actions(b, &m.key.masked(&m.mask));
    }
    let _ = ovs::exact_mask(a);
    let _ = ovs::decode_metadata(a);
    let _ = ovs::decode_set(a, true);
    let _ = ovs::decode_set(a, false);
    let _ = ovs::validate_actions(rest, &FlowKey::ZERO);
    for _ in ActionList(rest).iter() {}
    let _ = flow_nl::FlowAttrs::parse(rest);
    let _ = packet_nl::PacketAttrs::parse(rest);
    let _ = vport_nl::VportAttrs::parse(rest);
    let _ = dp_nl::DpAttrs::parse(rest);
    if let Ok(m) = meter_nl::MeterAttrs::parse(rest) {
        let _ = m.validate_bands();
    }
});
