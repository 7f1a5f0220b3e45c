//! Load-time self-test: runs shared-core code on built-in input inside the kernel, so a module whose core was
//! miscompiled for the kernel (or behaves differently there) refuses to load instead of forwarding wrongly.

use kernel::prelude::*;

use crate::extract::{extract, Metadata};
use crate::key::FlowKey;
use crate::nla::Writer;
use crate::ovs::key_nl;
use crate::{csum, key};

/// An IPv4 header (UDP, 192.168.0.1 → 192.168.0.199) with a zero checksum field; its checksum is 0xb861.
const IPV4_HEADER: [u8; 20] = [
    0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
    0x00, 0xc7,
];

/// An 802.1Q-tagged (VID 10) IPv4 TCP SYN, 10.0.0.1:1234 → 10.0.0.2:80, TTL 64.
const TCP_FRAME: [u8; 58] = [
    0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x81, 0x00, 0x00, 0x0a, 0x08, 0x00, // eth + 802.1Q
    0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 10, 0, 0, 1, 10, 0, 0, 2, // IPv4
    0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, // TCP SYN
];

fn expect(what: &str, ok: bool) -> Result {
    if ok {
        Ok(())
    } else {
        pr_err!("self-test failed: {}\n", what);
        Err(EINVAL)
    }
}

/// Runs every self-test; logs and returns `EINVAL` on the first failure.
pub(crate) fn run() -> Result {
    expect("IPv4 header checksum", csum::checksum(&IPV4_HEADER) == 0xb861)?;

    let (k, offs) = extract(&TCP_FRAME, &Metadata { in_port: 3, ..Metadata::default() });
    expect("extracted in_port", k.in_port() == 3)?;
    expect("extracted VLAN", k.vlan_tci() == (key::VLAN_CFI | 10) && k.vlan_tpid() == 0x8100)?;
    expect("extracted IPv4", k.eth_type() == 0x0800 && k.ipv4_src() == 0x0a00_0001 && k.ip_ttl() == 64)?;
    expect("extracted TCP", k.ip_proto() == 6 && k.tp_src() == 1234 && k.tp_dst() == 80 && k.tcp_flags() == 0x002)?;
    expect("header offsets", offs.network == Some(18) && offs.transport == Some(38))?;

    // The key survives the OVS_KEY_ATTR_* codec unchanged.
    let mut buf = [0u8; 256];
    let mut w = Writer::new(&mut buf);
    expect("key encodes", key_nl::put_key_attrs(&mut w, &k, &k, false).is_ok())?;
    let len = w.len();
    let decoded: core::result::Result<FlowKey, _> = key_nl::decode_key(buf.get(..len).unwrap_or(&[]));
    expect("key round-trips through netlink", decoded.as_ref().map_or(false, |d| *d == k))?;

    pr_info!("self-test passed (checksum, flow key extraction, key netlink codec)\n");
    Ok(())
}
