//! The `hash` action: a deterministic `dp_hash` computed from the flow key.
//!
//! Upstream hashes the skb (`skb_get_hash`, or `__skb_get_hash_symmetric` for `SYM_L4`) and then
//! mixes in the basis. rvs hashes the key instead, so both datapaths produce the same value for
//! the same flow: the ethertype, and for IPv4/IPv6 the addresses, the protocol and (TCP, UDP,
//! SCTP) the ports. `OVS_HASH_ALG_SYM_L4` orders the (address, port) endpoints first, so both
//! directions of a connection hash alike. The mix is 32-bit murmur3 (as OVS `lib/hash.h`), and
//! a zero result becomes 1, as upstream.

use super::set_field::{ETH_P_IP, ETH_P_IPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP};
use super::ExecError;
use crate::key::FlowKey;
use crate::ovs_abi::{OVS_HASH_ALG_L4, OVS_HASH_ALG_SYM_L4};

/// Murmur3 round.
fn add(hash: u32, data: u32) -> u32 {
    let d = data.wrapping_mul(0xcc9e_2d51).rotate_left(15).wrapping_mul(0x1b87_3593);
    (hash ^ d).rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64)
}

/// Murmur3 finalizer.
fn finish(mut h: u32, len: u32) -> u32 {
    h ^= len;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// Adds 16 bytes as four words.
fn add16(mut h: u32, bytes: &[u8; 16]) -> u32 {
    for w in bytes.chunks_exact(4) {
        if let &[a, b, c, d] = w {
            h = add(h, u32::from_be_bytes([a, b, c, d]));
        }
    }
    h
}

/// The `dp_hash` for `OVS_HASH_ALG_*` `alg` with `basis`; never zero.
///
/// # Errors
/// [`ExecError::Unsupported`] for an unknown algorithm (flow validation rejects them).
pub fn dp_hash(key: &FlowKey, alg: u32, basis: u32) -> Result<u32, ExecError> {
    let symmetric = match alg {
        a if a == u32::from(OVS_HASH_ALG_L4) => false,
        a if a == u32::from(OVS_HASH_ALG_SYM_L4) => true,
        _ => return Err(ExecError::Unsupported),
    };
    let eth_type = key.eth_type();
    let proto = key.ip_proto();
    let ports = matches!(proto, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP);
    let (mut sp, mut dp) = if ports { (key.tp_src(), key.tp_dst()) } else { (0, 0) };
    let mut h = add(basis, u32::from(eth_type));
    match eth_type {
        ETH_P_IP => {
            let (mut s, mut d) = (key.ipv4_src(), key.ipv4_dst());
            if symmetric && (s, sp) > (d, dp) {
                core::mem::swap(&mut s, &mut d);
                core::mem::swap(&mut sp, &mut dp);
            }
            h = add(add(h, s), d);
        }
        ETH_P_IPV6 => {
            let (mut s, mut d) = (key.ipv6_src(), key.ipv6_dst());
            if symmetric && (s, sp) > (d, dp) {
                core::mem::swap(&mut s, &mut d);
                core::mem::swap(&mut sp, &mut dp);
            }
            h = add16(add16(h, &s), &d);
        }
        _ => return Ok(nonzero(finish(h, 4))),
    }
    h = add(h, u32::from(proto));
    h = add(h, (u32::from(sp) << 16) | u32::from(dp));
    Ok(nonzero(finish(h, 16)))
}

/// Upstream never stores a zero hash (zero means "not computed").
fn nonzero(h: u32) -> u32 {
    if h == 0 {
        1
    } else {
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(src: u32, dst: u32, sp: u16, dp: u16, proto: u8) -> FlowKey {
        let mut k = FlowKey::ZERO;
        k.set_eth_type(ETH_P_IP);
        k.set_ip_proto(proto);
        k.set_ipv4_src(src);
        k.set_ipv4_dst(dst);
        k.set_tp_src(sp);
        k.set_tp_dst(dp);
        k
    }

    fn v6(src: [u8; 16], dst: [u8; 16], sp: u16, dp: u16) -> FlowKey {
        let mut k = FlowKey::ZERO;
        k.set_eth_type(ETH_P_IPV6);
        k.set_ip_proto(IPPROTO_UDP);
        k.set_ipv6_src(src);
        k.set_ipv6_dst(dst);
        k.set_tp_src(sp);
        k.set_tp_dst(dp);
        k
    }

    const L4: u32 = OVS_HASH_ALG_L4 as u32;
    const SYM: u32 = OVS_HASH_ALG_SYM_L4 as u32;

    #[test]
    fn deterministic_and_sensitive_to_the_five_tuple_and_basis() {
        let k = v4(0x0a00_0001, 0x0a00_0002, 1234, 80, IPPROTO_TCP);
        let h = dp_hash(&k, L4, 0).unwrap();
        assert_eq!(h, dp_hash(&k, L4, 0).unwrap());
        assert_ne!(h, dp_hash(&k, L4, 1).unwrap());
        assert_ne!(
            h,
            dp_hash(&v4(0x0a00_0001, 0x0a00_0002, 1235, 80, IPPROTO_TCP), L4, 0).unwrap()
        );
        assert_ne!(
            h,
            dp_hash(&v4(0x0a00_0001, 0x0a00_0003, 1234, 80, IPPROTO_TCP), L4, 0).unwrap()
        );
        assert_ne!(
            h,
            dp_hash(&v4(0x0a00_0001, 0x0a00_0002, 1234, 80, IPPROTO_UDP), L4, 0).unwrap()
        );
        // Fields outside the 5-tuple do not matter.
        let mut k2 = k;
        k2.set_eth_src([1, 2, 3, 4, 5, 6]);
        k2.set_ip_ttl(9);
        assert_eq!(h, dp_hash(&k2, L4, 0).unwrap());
    }

    #[test]
    fn symmetric_variant_is_symmetric_and_plain_one_is_not() {
        let a = v4(0x0a00_0001, 0x0a00_0002, 1234, 80, IPPROTO_TCP);
        let b = v4(0x0a00_0002, 0x0a00_0001, 80, 1234, IPPROTO_TCP);
        assert_eq!(dp_hash(&a, SYM, 7).unwrap(), dp_hash(&b, SYM, 7).unwrap());
        assert_ne!(dp_hash(&a, L4, 7).unwrap(), dp_hash(&b, L4, 7).unwrap());
        // Same addresses, ports decide the order.
        let c = v4(0x0a00_0001, 0x0a00_0001, 1, 2, IPPROTO_UDP);
        let d = v4(0x0a00_0001, 0x0a00_0001, 2, 1, IPPROTO_UDP);
        assert_eq!(dp_hash(&c, SYM, 0).unwrap(), dp_hash(&d, SYM, 0).unwrap());
        let s = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let mut t = s;
        t[15] = 2;
        assert_eq!(
            dp_hash(&v6(s, t, 5, 6), SYM, 0).unwrap(),
            dp_hash(&v6(t, s, 6, 5), SYM, 0).unwrap()
        );
        assert_ne!(
            dp_hash(&v6(s, t, 5, 6), L4, 0).unwrap(),
            dp_hash(&v6(t, s, 6, 5), L4, 0).unwrap()
        );
    }

    #[test]
    fn unknown_algorithm_is_rejected_and_result_is_never_zero() {
        assert_eq!(dp_hash(&FlowKey::ZERO, 2, 0), Err(ExecError::Unsupported));
        for basis in 0..2000 {
            assert_ne!(dp_hash(&FlowKey::ZERO, L4, basis).unwrap(), 0);
        }
    }
}
