//! Test helpers: hand-building netlink attribute bytes the way upstream structs lay them out.
#![allow(missing_docs)]

use std::vec::Vec;

/// One attribute: type, payload (already padded by `attr`).
pub fn attr(ty: u16, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(4 + payload.len()).unwrap();
    let mut v = Vec::new();
    v.extend_from_slice(&len.to_ne_bytes());
    v.extend_from_slice(&ty.to_ne_bytes());
    v.extend_from_slice(payload);
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

/// A host-order u32 attribute.
pub fn u32a(ty: u16, v: u32) -> Vec<u8> {
    attr(ty, &v.to_ne_bytes())
}

/// A network-order u16 attribute.
pub fn be16a(ty: u16, v: u16) -> Vec<u8> {
    attr(ty, &v.to_be_bytes())
}

/// A nested attribute (no NLA_F_NESTED, as upstream OVS emits).
pub fn nest(ty: u16, parts: &[Vec<u8>]) -> Vec<u8> {
    attr(ty, &parts.concat())
}

/// Runs `f` on a writer over a large buffer and returns what it wrote.
pub fn written(f: impl FnOnce(&mut crate::nla::Writer<'_>)) -> Vec<u8> {
    let mut buf = std::vec![0u8; 65536];
    let mut w = crate::nla::Writer::new(&mut buf);
    f(&mut w);
    let n = w.len();
    buf.truncate(n);
    buf
}
