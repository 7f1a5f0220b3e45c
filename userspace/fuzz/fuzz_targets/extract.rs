//! Fuzzes flow key extraction: any frame, with or without an offloaded VLAN tag, must extract
//! without panicking, deterministically, with offsets inside the frame.
//!
//! The whole input is the frame (so the seeds in `corpus/extract/` are plain Ethernet frames).
//! It is extracted twice: without metadata, and with an offloaded VLAN tag whose TPID and TCI are
//! derived from the frame's first bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rvs_core::extract::{extract, Metadata, Offsets};
use rvs_core::key::FlowKey;

fn check(frame: &[u8], md: &Metadata) -> (FlowKey, Offsets) {
    let (key, offsets) = extract(frame, md);
    assert_eq!(extract(frame, md), (key, offsets));
    for off in [offsets.network, offsets.transport].into_iter().flatten() {
        assert!(usize::from(off) <= frame.len());
    }
    if let (Some(n), Some(t)) = (offsets.network, offsets.transport) {
        assert!(n < t);
    }
    assert_eq!(key.in_port(), md.in_port);
    (key, offsets)
}

fuzz_target!(|frame: &[u8]| {
    let (plain, plain_off) = check(frame, &Metadata::default());
    let (b0, b1) = (
        frame.first().copied().unwrap_or(0),
        frame.get(1).copied().unwrap_or(0),
    );
    let tpid = if b0 & 1 == 0 { 0x8100 } else { 0x88a8 };
    let md = Metadata {
        in_port: 1,
        hw_vlan: Some((tpid, u16::from_be_bytes([b0, b1]))),
        ..Metadata::default()
    };
    let (tagged, tagged_off) = check(frame, &md);
    if plain_off.network.is_some() {
        // The offloaded tag is always the outer one; MAC addresses do not depend on it.
        assert_eq!(tagged.vlan_tpid(), tpid);
        assert_ne!(tagged.vlan_tci(), 0);
        assert_eq!(
            (tagged.eth_src(), tagged.eth_dst()),
            (plain.eth_src(), plain.eth_dst())
        );
    } else {
        assert_eq!(tagged_off, plain_off);
    }
});
