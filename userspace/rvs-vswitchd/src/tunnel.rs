//! GRE tunnel ports (`type=gre`, `options:remote_ip=`, `key=`, `local_ip=`) on the kernel
//! datapath, as Open vSwitch does them: every GRE interface of every bridge shares ONE datapath
//! port, [`GRE_DP_PORT_NAME`] (an `OVS_VPORT_TYPE_GRE` vport: a collect-metadata gretap device the
//! datapath creates). On receive the packet's tunnel metadata (key, outer source and destination)
//! tells which interface, hence which bridge, it came in on ([`bridge_for_key`], [`in_port`]:
//! the megaflow then matches those tunnel fields); on send, translation emits
//! `set(tunnel(tun_id=KEY,src=LOCAL,dst=REMOTE,ttl=64,flags(df|key)))` and an output to the shared
//! port ([`output`]).
//!
//! Not supported: the userspace datapath (no tunnel vports there), `key=flow`, `remote_ip=flow`,
//! IPv6 underlays, in/out key split (`in_key`/`out_key`) and the other tunnel types.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use rvs_core::actions::Action;
use rvs_core::key::{field, tun_flags, FlowKey};
use rvs_core::nla::Writer;
use rvs_dpif::DatapathType;

use crate::ofproto::{Bridge, BridgeConfig, OfPort, Switch};
use crate::xlate::Xlate;

/// The datapath port every GRE interface shares.
pub const GRE_DP_PORT_NAME: &str = "gre_sys";

/// Outer TTL of the packets rvs encapsulates.
pub const TUNNEL_TTL: u8 = 64;

/// One GRE interface's tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tunnel {
    /// `options:remote_ip`.
    pub remote: Ipv4Addr,
    /// `options:local_ip` (unset: any local address on receive, the routing table's on send).
    pub local: Option<Ipv4Addr>,
    /// `options:key` (unset: no key).
    pub key: Option<u64>,
}

impl Tunnel {
    /// Parses a GRE interface's `options`.
    pub fn from_options(o: &BTreeMap<String, String>) -> Result<Tunnel, String> {
        let ip = |k: &str| -> Result<Option<Ipv4Addr>, String> {
            match o.get(k).map(String::as_str) {
                None => Ok(None),
                Some("flow") => Err(format!("options:{k}=flow is not supported")),
                Some(v) => v.parse().map(Some).map_err(|_| format!("options:{k}: \"{v}\" is not an IPv4 address")),
            }
        };
        for k in o.keys() {
            if !matches!(k.as_str(), "remote_ip" | "local_ip" | "key" | "df_default") {
                return Err(format!("options:{k} is not supported on GRE ports"));
            }
        }
        let remote = ip("remote_ip")?.ok_or("GRE port needs options:remote_ip")?;
        if remote.is_unspecified() || remote.is_multicast() || remote.is_broadcast() {
            return Err(format!("options:remote_ip {remote} is not a unicast address"));
        }
        let key = match o.get("key").map(String::as_str) {
            None => None,
            Some("flow") => return Err("options:key=flow is not supported".into()),
            Some(v) => {
                let n = if let Some(h) = v.strip_prefix("0x") { u64::from_str_radix(h, 16) } else { v.parse() };
                Some(n.ok().filter(|n| *n <= u64::from(u32::MAX)).ok_or_else(|| format!("options:key: \"{v}\" is not a 32-bit number"))?)
            }
        };
        Ok(Tunnel { remote, local: ip("local_ip")?, key })
    }

    fn matches(&self, k: &FlowKey) -> bool {
        let has_key = k.tun_flags() & tun_flags::KEY != 0;
        k.tun_ipv4_src() == u32::from(self.remote)
            && self.local.is_none_or(|l| k.tun_ipv4_dst() == u32::from(l))
            && match self.key {
                Some(key) => has_key && k.tun_id() == key,
                None => !has_key || k.tun_id() == 0,
            }
    }
}

/// Whether `k` arrived through a tunnel.
pub fn from_tunnel(k: &FlowKey) -> bool {
    k.tun_ipv4_dst() != 0 || k.tun_ipv4_src() != 0
}

/// The GRE port of `cfg` that packet `k` came in on (consulting the tunnel fields in `x`).
pub fn in_port<'a>(x: &mut Xlate, cfg: &'a BridgeConfig, k: &FlowKey) -> Option<&'a OfPort> {
    if !from_tunnel(k) {
        return None;
    }
    x.consult(field::TUN_ID);
    x.consult(field::TUN_IPV4_SRC);
    x.consult(field::TUN_IPV4_DST);
    x.consult(field::TUN_FLAGS);
    cfg.tunnels.iter().find(|(_, t)| t.matches(k)).and_then(|(o, _)| cfg.ports.get(o))
}

/// The bridge a packet with key `k` belongs to: by its tunnel metadata when it came through a
/// tunnel, else by its input port.
pub fn bridge_for_key(sw: &Switch, ty: DatapathType, k: &FlowKey) -> Option<Arc<Bridge>> {
    if !from_tunnel(k) {
        return sw.bridge_of(ty, k.in_port());
    }
    sw.bridges().into_iter().find(|b| {
        let c = b.config();
        c.dp_type.0 == ty && c.tunnels.iter().any(|(o, t)| t.matches(k) && c.ports.get(o).is_some_and(|p| p.dp_port == k.in_port()))
    })
}

/// Encapsulates towards `t` and outputs to the shared GRE datapath port `dp` with VID `vid`.
pub fn output(x: &mut Xlate, t: &Tunnel, dp: u32, vid: u16) {
    if set_tunnel(x, t) {
        x.output(dp, vid);
    }
}

/// The OpenFlow input port of the packet in `x`: its GRE port when it came through a tunnel
/// (consulting the tunnel fields), else the port of its datapath input port.
pub fn input_ofport(x: &mut Xlate, cfg: &BridgeConfig) -> Option<u32> {
    let flow = x.flow;
    match in_port(x, cfg, &flow) {
        Some(p) => Some(p.ofport),
        None => cfg.by_dp.get(&flow.in_port()).copied().filter(|o| !cfg.tunnels.contains_key(o)),
    }
}

/// Emits the `set(tunnel(...))` that sends the packet towards `t` on the next output to the
/// GRE datapath port; false if it cannot be encoded (nothing emitted).
pub fn set_tunnel(x: &mut Xlate, t: &Tunnel) -> bool {
    let mut tk = FlowKey::ZERO;
    tk.set_tun_ipv4_dst(u32::from(t.remote));
    if let Some(l) = t.local {
        tk.set_tun_ipv4_src(u32::from(l));
    }
    let mut flags = tun_flags::DONT_FRAGMENT;
    if let Some(k) = t.key {
        tk.set_tun_id(k);
        flags |= tun_flags::KEY;
    }
    tk.set_tun_flags(flags);
    tk.set_tun_ttl(TUNNEL_TTL);
    let mut buf = [0u8; 128];
    let mut w = Writer::new(&mut buf);
    if rvs_core::ovs::tunnel_nl::put(&mut w, &tk, &tk).is_err() {
        x.note(|| "    cannot encode the tunnel: drop".into());
        return false;
    }
    let payload = w.written().to_vec();
    x.actions.push(&Action::Set(&payload));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn options() {
        let t = Tunnel::from_options(&opts(&[("remote_ip", "192.168.1.2"), ("key", "5")])).unwrap();
        assert_eq!((t.remote, t.local, t.key), (Ipv4Addr::new(192, 168, 1, 2), None, Some(5)));
        assert_eq!(Tunnel::from_options(&opts(&[("remote_ip", "1.2.3.4"), ("key", "0x10")])).unwrap().key, Some(16));
        for bad in [
            opts(&[]),
            opts(&[("remote_ip", "nope")]),
            opts(&[("remote_ip", "flow")]),
            opts(&[("remote_ip", "1.2.3.4"), ("key", "flow")]),
            opts(&[("remote_ip", "1.2.3.4"), ("key", "99999999999")]),
            opts(&[("remote_ip", "1.2.3.4"), ("csum", "true")]),
            opts(&[("remote_ip", "224.0.0.1")]),
        ] {
            assert!(Tunnel::from_options(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn receive_matching() {
        let t = Tunnel { remote: Ipv4Addr::new(10, 0, 0, 2), local: None, key: Some(5) };
        let mut k = FlowKey::ZERO;
        k.set_tun_ipv4_src(0x0a00_0002);
        k.set_tun_ipv4_dst(0x0a00_0001);
        k.set_tun_id(5);
        k.set_tun_flags(tun_flags::KEY);
        assert!(from_tunnel(&k) && t.matches(&k));
        k.set_tun_id(6);
        assert!(!t.matches(&k), "other key");
        k.set_tun_id(5);
        k.set_tun_ipv4_src(0x0a00_0003);
        assert!(!t.matches(&k), "other remote");
        let nokey = Tunnel { key: None, ..t };
        k.set_tun_ipv4_src(0x0a00_0002);
        assert!(!nokey.matches(&k), "keyed packet, keyless port");
        let local = Tunnel { local: Some(Ipv4Addr::new(10, 0, 0, 9)), ..t };
        assert!(!local.matches(&k), "other local address");
    }

    #[test]
    fn output_sets_the_tunnel() {
        let t = Tunnel { remote: Ipv4Addr::new(192, 168, 100, 2), local: None, key: Some(5) };
        let mut x = Xlate::new(FlowKey::ZERO, false, false);
        output(&mut x, &t, 7, 0);
        let text = crate::odp::format_actions(x.actions.bytes());
        assert!(text.starts_with("set(tunnel(tun_id=0x5,dst=192.168.100.2,ttl=64"), "{text}");
        assert!(text.ends_with("),7"), "{text}");
    }
}
