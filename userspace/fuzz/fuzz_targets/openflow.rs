//! Fuzzes the OpenFlow codec (rvs-openflow): decoding any bytes never panics, and a decoded
//! message re-encodes to bytes that decode to the same model (a fixed point). Also feeds the
//! match, action and instruction decoders and the ovs-ofctl flow text parser directly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rvs_openflow::{action, instruction, text, Match, Version};

fuzz_target!(|data: &[u8]| {
    // Make the header length agree with the input so the body decoders are reached.
    let mut msg = data.to_vec();
    if let (Ok(len), true) = (u16::try_from(msg.len()), msg.len() >= 8) {
        msg[2..4].copy_from_slice(&len.to_be_bytes());
    }
    if let Ok(m) = rvs_openflow::decode(&msg) {
        let bytes = rvs_openflow::encode(&m).expect("a decoded message re-encodes");
        let m2 = rvs_openflow::decode(&bytes).expect("re-encoded message decodes");
        assert_eq!(m, m2);
    }
    let _ = rvs_openflow::decode(data);
    let _ = Match::decode_oxms(data);
    for v in [Version::OF10, Version::OF13] {
        let _ = action::decode_actions(v, data);
        let _ = instruction::decode_instructions(v, data);
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(fm) = text::parse_flow_mod(s, rvs_openflow::msg::FlowModCommand::Add) {
            let printed = text::format_flow_mod(&fm);
            let again = text::parse_flow_mod(&printed, rvs_openflow::msg::FlowModCommand::Add)
                .expect("printed flow parses");
            assert_eq!(text::format_flow_mod(&again), printed);
        }
    }
});
