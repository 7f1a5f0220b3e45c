//! A bridge's ports as OpenFlow describes them: `ofp_port` descriptions (port-desc, OpenFlow
//! 1.0 features reply, port-status) built from the bridge's ports and their devices, port
//! statistics from the datapath's port counters, queue statistics from the linux-htb classes of
//! their devices ([`crate::qos::queues`]), and the port-status messages that a change of the
//! port set calls for.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use rvs_dpif::{PortNo, VportStats};
use rvs_openflow::msg::{port_config, Port, PortReason, PortStats, PortStatus};
use rvs_openflow::types::MacAddr;
use rvs_openflow::Version;

use crate::netdev;
use crate::ofproto::BridgeConfig;

/// `OFPPS_LINK_DOWN` (both versions).
pub const STATE_LINK_DOWN: u32 = 1 << 0;
/// `OFPPS_LIVE` (1.1+).
pub const STATE_LIVE: u32 = 1 << 2;

/// `OFPPF_*` bits (OpenFlow 1.3 positions).
mod feature {
    pub const F10MB_FD: u32 = 1 << 1;
    pub const F100MB_FD: u32 = 1 << 3;
    pub const F1GB_FD: u32 = 1 << 5;
    pub const F10GB_FD: u32 = 1 << 6;
    pub const F40GB_FD: u32 = 1 << 7;
    pub const F100GB_FD: u32 = 1 << 8;
    pub const COPPER: u32 = 1 << 11;
}

fn parse_mac(s: &str) -> MacAddr {
    let mut m = [0u8; 6];
    for (i, b) in s.split(':').take(6).enumerate() {
        if let (Some(slot), Ok(v)) = (m.get_mut(i), u8::from_str_radix(b, 16)) {
            *slot = v;
        }
    }
    MacAddr(m)
}

/// Current features and speed (kbps) for a link speed in Mbit/s.
fn speed_features(mbps: Option<u64>) -> (u32, u32) {
    let Some(s) = mbps.filter(|s| *s > 0 && *s < 10_000_000) else { return (0, 0) };
    let bit = match s {
        s if s >= 100_000 => feature::F100GB_FD,
        s if s >= 40_000 => feature::F40GB_FD,
        s if s >= 10_000 => feature::F10GB_FD,
        s if s >= 1_000 => feature::F1GB_FD,
        s if s >= 100 => feature::F100MB_FD,
        _ => feature::F10MB_FD,
    };
    (bit | feature::COPPER, u32::try_from(s.saturating_mul(1000)).unwrap_or(u32::MAX))
}

fn link_speed(name: &str) -> Option<u64> {
    if name.contains('/') || name.is_empty() {
        return None;
    }
    std::fs::read_to_string(format!("/sys/class/net/{name}/speed")).ok()?.trim().parse().ok()
}

/// The 32-bit OpenFlow number of a bridge port (the bridge keeps OpenFlow 1.0's 16-bit
/// numbers: `0xfffe` for LOCAL).
pub fn to_of(ofport: u32) -> u32 {
    if (0xff00..=0xffff).contains(&ofport) {
        ofport | 0xffff_0000
    } else {
        ofport
    }
}

/// The bridge's number for a 32-bit OpenFlow port number.
pub fn from_of(port_no: u32) -> u32 {
    if port_no >= 0xffff_ff00 {
        port_no & 0xffff
    } else {
        port_no
    }
}

/// Sets device `name` administratively up or down (port-mod `OFPPC_PORT_DOWN`).
pub fn set_admin_state(name: &str, up: bool) -> Result<(), String> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    if name.is_empty() || name.len() >= libc::IFNAMSIZ {
        return Err(format!("bad device name \"{name}\""));
    }
    // SAFETY: plain socket creation.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    // SAFETY: `fd` was just returned by socket() and nothing else owns it.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut r = [0u8; 40];
    if let Some(dst) = r.get_mut(..name.len()) {
        dst.copy_from_slice(name.as_bytes());
    }
    // SAFETY: `r` is a 40-byte ifreq (name, then flags at offset 16) valid for both calls.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, r.as_mut_ptr()) < 0 {
            return Err(format!("{name}: {}", std::io::Error::last_os_error()));
        }
        let mut flags = libc::c_short::from_ne_bytes([r[16], r[17]]);
        let upf = libc::IFF_UP as libc::c_short;
        flags = if up { flags | upf } else { flags & !upf };
        r[16..18].copy_from_slice(&flags.to_ne_bytes());
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, r.as_mut_ptr()) < 0 {
            return Err(format!("{name}: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// Describes the ports of `cfg`; `config` holds the bits set by port-mods (by the bridge's
/// port number); `PORT_DOWN` comes from the device.
pub fn describe(cfg: &BridgeConfig, config: &BTreeMap<u32, u32>) -> Vec<Port> {
    cfg.ports
        .values()
        .map(|p| {
            let dev = netdev::status(&p.name);
            let (curr, curr_speed) = speed_features(link_speed(&p.name));
            let mut c = config.get(&p.ofport).copied().unwrap_or(0) & !port_config::PORT_DOWN;
            if dev.as_ref().is_some_and(|d| !d.admin_up) {
                c |= port_config::PORT_DOWN;
            }
            let up = dev.as_ref().is_some_and(|d| d.link_up && d.admin_up);
            Port {
                port_no: to_of(p.ofport),
                hw_addr: dev.as_ref().map(|d| parse_mac(&d.mac)).unwrap_or_default(),
                name: p.name.chars().take(15).collect(),
                config: c,
                state: if up { STATE_LIVE } else { STATE_LINK_DOWN },
                curr,
                advertised: 0,
                supported: 0,
                peer: 0,
                curr_speed,
                max_speed: 0,
            }
        })
        .collect()
}

/// The port as sent to a peer of `version` (1.0 has no LIVE bit; 1.1+ has no `NO_STP`,
/// `NO_RECV_STP` or `NO_FLOOD` config bit).
pub fn for_version(p: &Port, version: Version) -> Port {
    let mut p = p.clone();
    if version == Version::OF10 {
        p.state &= !STATE_LIVE;
    }
    p.config &= crate::xlate::portcfg::version_bits(version);
    p
}

/// The port-status messages that turn `old` into `new`.
pub fn changes(old: &[Port], new: &[Port]) -> Vec<PortStatus> {
    let o: BTreeMap<u32, &Port> = old.iter().map(|p| (p.port_no, p)).collect();
    let n: BTreeMap<u32, &Port> = new.iter().map(|p| (p.port_no, p)).collect();
    let mut out = Vec::new();
    for (no, p) in &o {
        match n.get(no) {
            None => out.push(PortStatus { reason: PortReason::Delete, port: (*p).clone() }),
            Some(q) if q.name != p.name => {
                out.push(PortStatus { reason: PortReason::Delete, port: (*p).clone() });
                out.push(PortStatus { reason: PortReason::Add, port: (*q).clone() });
            }
            Some(q) if q != p => out.push(PortStatus { reason: PortReason::Modify, port: (*q).clone() }),
            Some(_) => {}
        }
    }
    for (no, p) in &n {
        if !o.contains_key(no) {
            out.push(PortStatus { reason: PortReason::Add, port: (*p).clone() });
        }
    }
    out
}

/// The ports of `cfg` that have a device (queues live on devices).
pub fn queue_ports(cfg: &BridgeConfig) -> Vec<crate::qos::queues::QueuePort> {
    cfg.ports
        .values()
        .filter(|p| !cfg.patches.contains_key(&p.ofport) && !cfg.tunnels.contains_key(&p.ofport))
        .map(|p| crate::qos::queues::QueuePort { port_no: to_of(p.ofport), dev: p.name.clone() })
        .collect()
}

/// Queue statistics of `ports` for `port_no` (`None`: every port) and `queue_id`, with the
/// kernel's class counters (see [`crate::qos::queues::queue_stats`]).
pub fn queue_stats(
    table: &crate::qos::queues::QueueTable,
    ports: &[crate::qos::queues::QueuePort],
    port_no: Option<u32>,
    queue_id: u32,
    now: Instant,
) -> Result<Vec<rvs_openflow::msg::QueueStats>, rvs_openflow::OfpError> {
    let mut sock: Option<crate::qos::tc::TcSocket> = None;
    let mut classes = |dev: &str, ifindex: i32| {
        if sock.is_none() {
            sock = crate::qos::tc::TcSocket::open().inspect_err(|e| crate::warn!("connmgr", "queue statistics: {e}")).ok();
        }
        match sock.as_mut().map(|s| s.class_stats(ifindex)) {
            Some(Ok(v)) => v,
            Some(Err(e)) => {
                crate::warn!("connmgr", "queue statistics of {dev}: {e}");
                Vec::new()
            }
            None => Vec::new(),
        }
    };
    crate::qos::queues::queue_stats(table, ports, port_no, queue_id, now, &mut classes)
}

/// Port statistics for `port_no` (`ANY`: all ports) from the datapath's counters; `since`
/// gives when each port was first seen. `None` if the port does not exist.
pub fn stats(
    cfg: &BridgeConfig,
    port_no: u32,
    dp_stats: &HashMap<PortNo, VportStats>,
    since: &HashMap<u32, Instant>,
    now: Instant,
) -> Option<Vec<PortStats>> {
    let any = port_no == rvs_openflow::types::port::ANY;
    let want = from_of(port_no);
    if !any && !cfg.ports.contains_key(&want) {
        return None;
    }
    Some(
        cfg.ports
            .values()
            .filter(|p| any || p.ofport == want)
            .map(|p| {
                let s = dp_stats.get(&p.dp_port).cloned().unwrap_or_default();
                let age = since.get(&p.ofport).map(|t| now.saturating_duration_since(*t)).unwrap_or_default();
                PortStats {
                    port_no: to_of(p.ofport),
                    rx_packets: s.rx_packets,
                    tx_packets: s.tx_packets,
                    rx_bytes: s.rx_bytes,
                    tx_bytes: s.tx_bytes,
                    rx_dropped: s.rx_dropped,
                    tx_dropped: s.tx_dropped,
                    rx_errors: s.rx_errors,
                    tx_errors: s.tx_errors,
                    duration_sec: u32::try_from(age.as_secs()).unwrap_or(u32::MAX),
                    duration_nsec: age.subsec_nanos(),
                    ..Default::default()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(no: u32, name: &str, state: u32) -> Port {
        Port { port_no: no, name: name.into(), state, ..Default::default() }
    }

    #[test]
    fn port_status_changes() {
        let old = vec![port(1, "a", STATE_LIVE), port(2, "b", STATE_LIVE), port(3, "c", STATE_LIVE)];
        let new = vec![port(1, "a", STATE_LIVE), port(2, "b", STATE_LINK_DOWN), port(3, "x", STATE_LIVE), port(4, "d", STATE_LIVE)];
        let got: Vec<(u8, u32, String)> = changes(&old, &new).into_iter().map(|s| (s.reason.number(), s.port.port_no, s.port.name)).collect();
        assert_eq!(got, vec![(2, 2, "b".into()), (1, 3, "c".into()), (0, 3, "x".into()), (0, 4, "d".into())]);
        assert!(changes(&new, &new).is_empty());
    }

    #[test]
    fn local_port_numbers() {
        assert_eq!(to_of(crate::ofproto::OFPP_LOCAL), rvs_openflow::types::port::LOCAL);
        assert_eq!(from_of(rvs_openflow::types::port::LOCAL), crate::ofproto::OFPP_LOCAL);
        assert_eq!((to_of(7), from_of(7)), (7, 7));
    }

    #[test]
    fn speeds_and_macs() {
        assert_eq!(speed_features(Some(10_000)), (feature::F10GB_FD | feature::COPPER, 10_000_000));
        assert_eq!(speed_features(Some(1000)).0 & feature::F1GB_FD, feature::F1GB_FD);
        assert_eq!(speed_features(None), (0, 0));
        assert_eq!(parse_mac("02:00:00:00:00:0a"), MacAddr([2, 0, 0, 0, 0, 10]));
        let p = port(1, "a", STATE_LIVE);
        assert_eq!(for_version(&p, Version::OF10).state, 0);
        assert_eq!(for_version(&p, Version::OF13).state, STATE_LIVE);
    }
}
