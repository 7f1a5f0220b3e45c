//! `push_vlan` / `pop_vlan`: tag operations plus the flow-key bookkeeping upstream does.
//!
//! As upstream `push_vlan`/`pop_vlan` (net/openvswitch/actions.c): pushing onto an untagged
//! frame and popping the only tag update the key's outer VLAN fields; pushing onto a tagged
//! frame or popping one of several tags leaves the key describing the old frame and marks it
//! invalid ([`KeyState::valid`] false), so that a later `recirc` re-extracts it. Once invalid,
//! the key's VLAN fields are never trusted again.

use super::{ExecError, KeyState};
use crate::key::VLAN_CFI;
use crate::packet::Packet;

/// Pushes a tag; `tci` is the action's TCI, with [`VLAN_CFI`] set (the key's "present" bit).
///
/// # Errors
/// [`ExecError::Packet`] if the packet cannot take the tag.
pub fn push_vlan<P: Packet>(
    pkt: &mut P,
    st: &mut KeyState<'_>,
    tpid: u16,
    tci: u16,
) -> Result<(), ExecError> {
    pkt.push_vlan(tpid, tci & !VLAN_CFI).map_err(ExecError::Packet)?;
    // An invalid key stays invalid: its VLAN fields no longer describe the frame.
    if !st.valid || st.key.vlan_tci() & VLAN_CFI != 0 {
        st.valid = false;
    } else {
        st.key.set_vlan_tci(tci | VLAN_CFI);
        st.key.set_vlan_tpid(tpid);
    }
    Ok(())
}

/// Pops the outermost tag; popping an untagged frame changes nothing, as upstream.
///
/// # Errors
/// [`ExecError::Packet`] if the frame announces a tag it is too short to hold.
pub fn pop_vlan<P: Packet>(pkt: &mut P, st: &mut KeyState<'_>) -> Result<(), ExecError> {
    pkt.pop_vlan().map_err(ExecError::Packet)?;
    if !st.valid || st.key.cvlan_tci() & VLAN_CFI != 0 {
        // Another tag became the outer one: the key no longer describes the frame.
        st.valid = false;
    } else {
        st.key.set_vlan_tci(0);
        st.key.set_vlan_tpid(0);
    }
    Ok(())
}
