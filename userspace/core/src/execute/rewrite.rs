//! Byte-level rewrite primitives shared by the header-rewriting actions.
//!
//! Every write to packet data goes through [`store`], which also reports the change of the
//! data's one's-complement sum to [`Packet::csum_complete_add`], so a `CHECKSUM_COMPLETE` sum
//! stays exact whatever is rewritten. [`l4_replace`] and [`udp_replace`] patch an L4 checksum
//! field the way upstream `inet_proto_csum_replace*` does, including the `CHECKSUM_PARTIAL`
//! case and UDP's "zero means no checksum" rule.

use core::ops::Range;

use super::ExecError;
use crate::csum;
use crate::packet::Packet;

/// UDP checksum value sent instead of a computed zero (upstream `CSUM_MANGLED_0`).
const CSUM_MANGLED_0: u16 = 0xffff;

/// `off..off + len`, without overflow.
pub(crate) fn span(off: usize, len: usize) -> Result<Range<usize>, ExecError> {
    Ok(off..off.checked_add(len).ok_or(ExecError::Truncated)?)
}

/// Reads `N` bytes at `off`.
pub(crate) fn read<const N: usize, P: Packet>(pkt: &P, off: usize) -> Result<[u8; N], ExecError> {
    let mut out = [0u8; N];
    out.copy_from_slice(pkt.bytes(span(off, N)?).ok_or(ExecError::Truncated)?);
    Ok(out)
}

/// Reads a big-endian `u16` at `off`.
pub(crate) fn read_u16<P: Packet>(pkt: &P, off: usize) -> Result<u16, ExecError> {
    Ok(u16::from_be_bytes(read(pkt, off)?))
}

/// Makes `off + len` bytes writable, mapping the error.
pub(crate) fn writable<P: Packet>(pkt: &mut P, off: usize, len: usize) -> Result<(), ExecError> {
    let end = span(off, len)?.end;
    pkt.ensure_writable(end).map_err(ExecError::Packet)
}

/// The one's-complement change of a sum when `old` bytes become `new` (both at the same,
/// even, position).
fn sum_delta(old: &[u8], new: &[u8]) -> u16 {
    // finish(x) is -x in one's complement, so this is fold(new - old).
    !csum::finish(csum::add32(
        csum::partial(new, 0),
        u32::from(csum::finish(csum::partial(old, 0))),
    ))
}

/// Writes `new` at `off` (which must be writable) and reports the sum change to the packet.
pub(crate) fn store<P: Packet>(pkt: &mut P, off: usize, new: &[u8]) -> Result<(), ExecError> {
    let dst = pkt.bytes_mut(span(off, new.len())?).ok_or(ExecError::NotWritable)?;
    let delta = sum_delta(dst, new);
    dst.copy_from_slice(new);
    // A byte at an odd offset is the low half of its 16-bit word.
    pkt.csum_complete_add(if off % 2 == 1 { delta.swap_bytes() } else { delta });
    Ok(())
}

/// RFC 1624 for any number of 16-bit words: the checksum `check` after `old` became `new`.
pub(crate) fn replace(check: u16, old: &[u8], new: &[u8]) -> u16 {
    csum::finish(csum::add32(u32::from(!check), u32::from(sum_delta(old, new))))
}

/// Patches the L4 checksum at `check_off` for a field change from `old` to `new`, as upstream
/// `inet_proto_csum_replace*`: with `CHECKSUM_PARTIAL` the field holds the uncomplemented
/// pseudo-header sum, which only pseudo-header (`pseudo`) changes affect. Returns the new
/// checksum value.
pub(crate) fn l4_replace<P: Packet>(
    pkt: &mut P,
    check_off: usize,
    old: &[u8],
    new: &[u8],
    pseudo: bool,
) -> Result<u16, ExecError> {
    let check = read_u16(pkt, check_off)?;
    let updated = if !pkt.csum_partial() {
        replace(check, old, new)
    } else if pseudo {
        !replace(!check, old, new)
    } else {
        return Ok(check);
    };
    store(pkt, check_off, &updated.to_be_bytes())?;
    Ok(updated)
}

/// [`l4_replace`] for a UDP checksum on a pseudo-header change (an address): a zero checksum
/// means "none" and stays zero, and a computed zero is sent as `0xffff` (upstream
/// `update_ip_l4_checksum`).
pub(crate) fn udp_replace_pseudo<P: Packet>(
    pkt: &mut P,
    check_off: usize,
    old: &[u8],
    new: &[u8],
) -> Result<(), ExecError> {
    let check = read_u16(pkt, check_off)?;
    if check != 0 || pkt.csum_partial() {
        let updated = l4_replace(pkt, check_off, old, new, true)?;
        if updated == 0 {
            store(pkt, check_off, &CSUM_MANGLED_0.to_be_bytes())?;
        }
    }
    Ok(())
}

/// The UDP rule after port rewrites by [`l4_replace`]: a computed zero is sent as `0xffff`.
pub(crate) fn udp_unmangle<P: Packet>(pkt: &mut P, check_off: usize) -> Result<(), ExecError> {
    if read_u16(pkt, check_off)? == 0 {
        store(pkt, check_off, &CSUM_MANGLED_0.to_be_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_matches_recompute_for_long_fields() {
        let mut data = [0u8; 40];
        for (i, b) in data.iter_mut().enumerate() {
            *b = (i * 37 + 11) as u8;
        }
        let c0 = csum::checksum(&data);
        let old: [u8; 16] = data[8..24].try_into().unwrap();
        let new = [0xfe; 16];
        data[8..24].copy_from_slice(&new);
        assert_eq!(replace(c0, &old, &new), csum::checksum(&data));
    }

    #[test]
    fn sum_delta_is_new_minus_old() {
        let old = [0x12, 0x34];
        let new = [0x56, 0x78];
        let base = csum::partial(&[0xab, 0xcd, 0x12, 0x34], 0);
        let moved = csum::add32(base, u32::from(sum_delta(&old, &new)));
        assert_eq!(csum::finish(moved), csum::checksum(&[0xab, 0xcd, 0x56, 0x78]));
    }
}
