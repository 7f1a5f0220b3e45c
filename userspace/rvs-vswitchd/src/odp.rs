//! Datapath ("ODP") encodings the daemon needs around the core's codec: megaflow key/mask
//! attribute bytes from [`FlowKey`]s, action lists, UFIDs, and the `ovs-dpctl` text forms of
//! flows, matches and actions (for `dpif/dump-flows` and `ofproto/trace`).

use std::hash::{Hash, Hasher};

use rvs_core::actions::Action;
use rvs_core::key::FlowKey;
use rvs_core::nla::Writer;
use rvs_core::ovs::key_nl;
pub use rvs_dpif::text::{decode_flow, format_actions, format_flow, format_match, format_stats, format_ufid};

const BUF: usize = 4096;

/// `OVS_KEY_ATTR_*` bytes of `key` (as a megaflow key: pass the masked key).
pub fn encode_key(key: &FlowKey) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; BUF];
    let mut w = Writer::new(&mut buf);
    key_nl::put_key_attrs(&mut w, key, key, false).map_err(|e| format!("encoding key: {e}"))?;
    Ok(w.written().to_vec())
}

/// `OVS_KEY_ATTR_*` mask bytes of `mask` for `key`.
pub fn encode_mask(key: &FlowKey, mask: &FlowKey) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; BUF];
    let mut w = Writer::new(&mut buf);
    key_nl::put_key_attrs(&mut w, key, mask, true).map_err(|e| format!("encoding mask: {e}"))?;
    Ok(w.written().to_vec())
}

/// Builds an `OVS_ACTION_ATTR_*` list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionBuf {
    bytes: Vec<u8>,
}

impl ActionBuf {
    /// Appends one action.
    pub fn push(&mut self, a: &Action<'_>) {
        let mut buf = [0u8; 256];
        let mut w = Writer::new(&mut buf);
        // Only fixed-size actions are pushed here (the largest, an IPv6 set_masked, is 88
        // bytes); 256 bytes always fit them.
        if rvs_core::ovs::action_nl::encode_action(&mut w, a).is_ok() {
            self.bytes.extend_from_slice(w.written());
        }
    }

    /// Puts already encoded actions in front of the list.
    pub fn prepend(&mut self, encoded: &[u8]) {
        self.bytes.splice(0..0, encoded.iter().copied());
    }

    /// The encoded list (empty = drop).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// A 128-bit flow ID derived from the megaflow (masked key + mask), so every handler that
/// translates the same megaflow picks the same ID.
pub fn ufid(key: &FlowKey, mask: &FlowKey) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (i as u64 ^ 0x7276_732d_7566_6964).hash(&mut h);
        key.as_bytes().hash(&mut h);
        mask.as_bytes().hash(&mut h);
        chunk.copy_from_slice(&h.finish().to_ne_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvs_core::key::{field, VLAN_CFI};

    fn ip_key() -> FlowKey {
        let mut k = FlowKey::ZERO;
        k.set_in_port(2);
        k.set_eth_src([0, 0, 0, 0, 0, 1]);
        k.set_eth_dst([0, 0, 0, 0, 0, 2]);
        k.set_eth_type(0x0800);
        k.set_ip_proto(6);
        k.set_ip_ttl(64);
        k.set_ipv4_src(0x0a00_0001);
        k.set_ipv4_dst(0x0a00_0002);
        k.set_tp_src(1234);
        k.set_tp_dst(80);
        k
    }

    /// A NORMAL-style megaflow (in_port, MACs, ethertype, frag) survives the codec both ways
    /// with its wildcards: the mask the datapath decodes is the one we meant.
    #[test]
    fn megaflow_round_trips_through_the_codec() {
        let k = ip_key();
        let mut m = FlowKey::ZERO;
        for r in [field::IN_PORT, field::ETH_SRC, field::ETH_DST, field::ETH_TYPE, field::RECIRC_ID] {
            let len = r.len();
            m.set_bytes(r, &vec![0xff; len]);
        }
        m.as_bytes_mut()[field::IP_FRAG] = 0xff;
        let mk = k.masked(&m);
        let kb = encode_key(&mk).unwrap();
        let mb = encode_mask(&mk, &m).unwrap();
        let back = key_nl::decode_match(&kb, Some(&mb)).unwrap();
        assert_eq!(back.mask.eth_src(), [0xff; 6]);
        assert_eq!(back.mask.ip_proto(), 0, "L4 stays wildcarded");
        assert_eq!(back.mask.tp_dst(), 0);
        assert_eq!(back.key.masked(&back.mask), mk.masked(&back.mask));
        let text = format_match(&back.key, &back.mask);
        assert!(text.contains("eth_type(0x0800)") && text.contains("ipv4(frag=no)"), "{text}");
        assert!(!text.contains("tcp("), "{text}");
    }

    #[test]
    fn tagged_megaflow_and_actions() {
        let mut k = ip_key();
        k.set_vlan_tci(VLAN_CFI | 10);
        k.set_vlan_tpid(0x8100);
        let mut m = FlowKey::ZERO;
        m.set_in_port(u32::MAX);
        m.set_eth_type(0xffff);
        m.set_vlan_tci(0x1fff);
        m.set_vlan_tpid(0xffff);
        let mk = k.masked(&m);
        let back = key_nl::decode_match(&encode_key(&mk).unwrap(), Some(&encode_mask(&mk, &m).unwrap())).unwrap();
        assert_eq!(back.key.vlan_tci() & 0xfff, 10);
        let mut a = ActionBuf::default();
        a.push(&Action::PopVlan);
        a.push(&Action::Output(3));
        a.push(&Action::PushVlan { tpid: 0x8100, tci: VLAN_CFI | 20 });
        a.push(&Action::Output(4));
        assert_eq!(format_actions(a.bytes()), "pop_vlan,3,push_vlan(vid=20,pcp=0),4");
        assert_eq!(format_actions(&[]), "drop");
    }

    #[test]
    fn ufids_are_per_megaflow() {
        let k = ip_key();
        let m = FlowKey::EXACT;
        assert_eq!(ufid(&k, &m), ufid(&k, &m));
        assert_ne!(ufid(&k, &m), ufid(&k, &FlowKey::ZERO));
        let u = [0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        assert!(format_ufid(&u).starts_with("ufid:12345678-0000-"), "{}", format_ufid(&u));
    }
}
