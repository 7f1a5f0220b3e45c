//! `dec_ttl`: decrements the IPv4 TTL or IPv6 hop limit in the packet and the flow key, keeping
//! checksums right (through the `set` machinery of [`super::set_field`]), as upstream
//! `execute_dec_ttl`.

use super::{apply_set, ExecError};
use crate::key::FlowKey;
use crate::packet::Packet;

const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;

/// Decrements the TTL / hop limit. Returns `Ok(false)` when it is already ≤ 1 (the packet is
/// unchanged: the caller runs the exception actions), `Ok(true)` otherwise (non-IP packets are
/// left alone, as upstream).
///
/// # Errors
/// When the packet lacks the network header the key says it has.
pub(crate) fn dec_ttl<P: Packet>(pkt: &mut P, key: &mut FlowKey) -> Result<bool, ExecError> {
    let ttl_at = match key.eth_type() {
        ETH_P_IP => 8,
        ETH_P_IPV6 => 7,
        _ => return Ok(true),
    };
    let nh = pkt.network_offset().ok_or(ExecError::NoNetworkHeader)?;
    let at = nh.checked_add(ttl_at).ok_or(ExecError::Truncated)?;
    let ttl = pkt
        .bytes(at..at.saturating_add(1))
        .and_then(|b| b.first().copied())
        .ok_or(ExecError::Truncated)?;
    if ttl <= 1 {
        return Ok(false);
    }
    let (mut value, mut mask) = (FlowKey::ZERO, FlowKey::ZERO);
    value.set_ip_ttl(ttl.wrapping_sub(1));
    mask.set_ip_ttl(0xff);
    apply_set(pkt, key, &value, &mask)?;
    Ok(true)
}
