//! In-band control (Open vSwitch's `connection_mode=in-band`, the default): a switch whose
//! controller is reachable only through the bridge itself (its local port carries the switch's
//! own address) keeps that path open whatever the flow tables say. This module owns which
//! hidden rules ([`crate::pipeline::hidden`]) a bridge needs for it and keeping them current.
//!
//! The rules, all `actions=NORMAL`, above every OpenFlow rule (priorities as Open vSwitch's):
//! (a) DHCP requests from the local port, (b) ARP replies to the local port's MAC, (c) ARP
//! requests from it, (d)/(e) ARP replies to and requests from each controller's next-hop MAC
//! (the controller's own, or its gateway's), (f)/(g) ARP replies whose target and requests whose
//! sender is a controller's IP, (h)/(i) TCP to and from each controller's IP and port, and (j)
//! DHCP replies unicast to the local port's MAC (Open vSwitch also delivers broadcast replies
//! by their `chaddr`, which the datapath key does not carry).
//!
//! The remotes are the active `tcp:`/`ssl:` IPv4 controllers not in `connection_mode=out-of-band`
//! (none with `other_config:disable-in-band=true`); nothing is installed without them or while
//! the local port (the device named after the bridge) is missing. [`InBand::update`] re-reads
//! the local port's MAC, the next hop (`/proc/net/route`: longest prefix, then metric — the main
//! table, as Open vSwitch reads it) and the next hop's MAC (`/proc/net/arp`, complete entries on
//! the route's device) every second, so the rules follow address, route and neighbour changes.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use rvs_openflow::action::Action;
use rvs_openflow::oxm::{Field, Match};
use rvs_openflow::types::port;

use crate::config::BridgeCfg;
use crate::pipeline::hidden::HiddenSpec;

/// An Ethernet address.
pub type Mac = [u8; 6];

/// How often the local MAC, routes and neighbours are re-read.
const REFRESH: Duration = Duration::from_secs(1);

/// Rule priorities: (a) … (i) as Open vSwitch numbers them, (j) above.
const P_FROM_LOCAL_DHCP: u32 = 180_000;
const P_TO_LOCAL_ARP: u32 = 180_001;
const P_FROM_LOCAL_ARP: u32 = 180_002;
const P_TO_NEXT_HOP_ARP: u32 = 180_003;
const P_FROM_NEXT_HOP_ARP: u32 = 180_004;
const P_TO_REMOTE_ARP: u32 = 180_005;
const P_FROM_REMOTE_ARP: u32 = 180_006;
const P_TO_REMOTE_TCP: u32 = 180_007;
const P_FROM_REMOTE_TCP: u32 = 180_008;
const P_TO_LOCAL_DHCP: u32 = 180_009;

const ETH_IP: u128 = 0x0800;
const ETH_ARP: u128 = 0x0806;
const ARP_REQUEST: u128 = 1;
const ARP_REPLY: u128 = 2;
const IPPROTO_TCP: u128 = 6;
const IPPROTO_UDP: u128 = 17;
const DHCP_SERVER: u128 = 67;
const DHCP_CLIENT: u128 = 68;

pub mod local_ip;

/// Whether bridge `b` allows in-band control (`other_config:disable-in-band` is not `true`).
pub fn enabled(b: &BridgeCfg) -> bool {
    b.other_config.get("disable-in-band").map(String::as_str) != Some("true")
}

/// The in-band remotes of bridge `b`: its active IPv4 controllers in in-band mode, sorted.
pub fn remotes(b: &BridgeCfg) -> Vec<SocketAddrV4> {
    if !enabled(b) {
        return Vec::new();
    }
    let mut out: Vec<SocketAddrV4> = b
        .controllers
        .iter()
        .filter(|c| !c.out_of_band)
        .filter_map(|c| match rvs_ofconn::Target::parse(&c.target) {
            Ok(rvs_ofconn::Target::Tcp(SocketAddr::V4(a)) | rvs_ofconn::Target::Ssl(SocketAddr::V4(a))) => Some(a),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn mac_value(m: &Mac) -> u128 {
    m.iter().fold(0u128, |a, b| (a << 8) | u128::from(*b))
}

fn ip_value(a: Ipv4Addr) -> u128 {
    u128::from(u32::from(a))
}

fn spec(priority: u32, fields: &[(Field, u128)]) -> HiddenSpec {
    let mut m = Match::new();
    for (f, v) in fields {
        m.set(*f, *v);
    }
    HiddenSpec { priority, match_: m, actions: vec![Action::Output { port: port::NORMAL, max_len: 0 }] }
}

/// One remote as the rules need it: its address and its next hop's MAC, once known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// Controller IP and port.
    pub addr: SocketAddrV4,
    /// MAC of the next hop towards it (itself or its gateway).
    pub next_hop_mac: Option<Mac>,
}

/// The hidden rules for local MAC `local` (`None`: unknown) and `remotes`.
pub fn rules(local: Option<Mac>, remotes: &[Remote]) -> Vec<HiddenSpec> {
    use Field::*;
    let mut out = Vec::new();
    if remotes.is_empty() {
        return out;
    }
    if let Some(l) = local.filter(|m| *m != [0; 6]) {
        let l = mac_value(&l);
        out.push(spec(
            P_FROM_LOCAL_DHCP,
            &[(InPort, u128::from(port::LOCAL)), (EthSrc, l), (EthType, ETH_IP), (IpProto, IPPROTO_UDP), (UdpSrc, DHCP_CLIENT), (UdpDst, DHCP_SERVER)],
        ));
        out.push(spec(P_TO_LOCAL_ARP, &[(EthDst, l), (EthType, ETH_ARP), (ArpOp, ARP_REPLY)]));
        out.push(spec(P_FROM_LOCAL_ARP, &[(EthSrc, l), (EthType, ETH_ARP), (ArpOp, ARP_REQUEST)]));
        out.push(spec(P_TO_LOCAL_DHCP, &[(EthDst, l), (EthType, ETH_IP), (IpProto, IPPROTO_UDP), (UdpSrc, DHCP_SERVER), (UdpDst, DHCP_CLIENT)]));
    }
    for r in remotes {
        if let Some(h) = r.next_hop_mac.filter(|m| *m != [0; 6]) {
            let h = mac_value(&h);
            out.push(spec(P_TO_NEXT_HOP_ARP, &[(EthDst, h), (EthType, ETH_ARP), (ArpOp, ARP_REPLY)]));
            out.push(spec(P_FROM_NEXT_HOP_ARP, &[(EthSrc, h), (EthType, ETH_ARP), (ArpOp, ARP_REQUEST)]));
        }
    }
    for r in remotes {
        let ip = ip_value(*r.addr.ip());
        let p = u128::from(r.addr.port());
        out.push(spec(P_TO_REMOTE_ARP, &[(EthType, ETH_ARP), (ArpOp, ARP_REPLY), (ArpTpa, ip)]));
        out.push(spec(P_FROM_REMOTE_ARP, &[(EthType, ETH_ARP), (ArpOp, ARP_REQUEST), (ArpSpa, ip)]));
        out.push(spec(P_TO_REMOTE_TCP, &[(EthType, ETH_IP), (IpProto, IPPROTO_TCP), (Ipv4Dst, ip), (TcpDst, p)]));
        out.push(spec(P_FROM_REMOTE_TCP, &[(EthType, ETH_IP), (IpProto, IPPROTO_TCP), (Ipv4Src, ip), (TcpSrc, p)]));
    }
    out
}

/// One IPv4 route of `/proc/net/route`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Output device.
    pub dev: String,
    /// Destination network.
    pub dest: Ipv4Addr,
    /// Gateway (`0.0.0.0`: directly connected).
    pub gateway: Ipv4Addr,
    /// Network mask.
    pub mask: Ipv4Addr,
    /// Metric.
    pub metric: u32,
}

/// An address as `/proc/net/route` prints it: the 32-bit network-order value in host order, hex.
fn proc_ip(s: &str) -> Option<Ipv4Addr> {
    let v = u32::from_str_radix(s, 16).ok()?;
    Some(Ipv4Addr::from(v.to_ne_bytes()))
}

/// The usable (up) routes of a `/proc/net/route` text; malformed lines are skipped.
pub fn parse_routes(text: &str) -> Vec<Route> {
    const RTF_UP: u32 = 0x1;
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 8 {
                return None;
            }
            let flags = u32::from_str_radix(f[3], 16).ok()?;
            if flags & RTF_UP == 0 {
                return None;
            }
            Some(Route { dev: f[0].to_string(), dest: proc_ip(f[1])?, gateway: proc_ip(f[2])?, mask: proc_ip(f[7])?, metric: f[6].parse().ok()? })
        })
        .collect()
}

/// The next hop towards `ip` (the gateway, or `ip` itself on a connected network) and the
/// device it is reached through: the longest matching prefix, then the lowest metric.
pub fn next_hop(routes: &[Route], ip: Ipv4Addr) -> Option<(Ipv4Addr, String)> {
    let best = routes
        .iter()
        .filter(|r| u32::from(ip) & u32::from(r.mask) == u32::from(r.dest) & u32::from(r.mask))
        .min_by_key(|r| (std::cmp::Reverse(u32::from(r.mask).count_ones()), r.metric))?;
    let hop = if best.gateway.is_unspecified() { ip } else { best.gateway };
    Some((hop, best.dev.clone()))
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Option<Mac> {
    let v: Vec<u8> = s.split(':').map(|b| u8::from_str_radix(b, 16)).collect::<Result<_, _>>().ok()?;
    v.try_into().ok()
}

/// The MAC of `ip` on `dev` in a `/proc/net/arp` text (complete entries only).
pub fn arp_lookup(text: &str, ip: Ipv4Addr, dev: &str) -> Option<Mac> {
    const ATF_COM: u32 = 0x2;
    text.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 6 || f[0].parse::<Ipv4Addr>().ok()? != ip || f[5] != dev {
            return None;
        }
        let flags = u32::from_str_radix(f[2].trim_start_matches("0x"), 16).ok()?;
        (flags & ATF_COM != 0).then(|| parse_mac(f[3])).flatten().filter(|m| *m != [0; 6])
    })
}

/// Where the host's addresses, routes and neighbours are read from (the real system, or a
/// test's fixture).
pub trait HostView {
    /// MAC of device `dev`, `None` if it does not exist.
    fn mac(&self, dev: &str) -> Option<Mac>;
    /// `/proc/net/route`.
    fn routes(&self) -> String;
    /// `/proc/net/arp`.
    fn neighbours(&self) -> String;
}

/// The system this daemon runs on (its network namespace).
#[derive(Debug, Clone, Copy, Default)]
pub struct System;

impl HostView for System {
    fn mac(&self, dev: &str) -> Option<Mac> {
        crate::netdev::status(dev).and_then(|s| parse_mac(&s.mac))
    }
    fn routes(&self) -> String {
        std::fs::read_to_string("/proc/net/route").unwrap_or_default()
    }
    fn neighbours(&self) -> String {
        std::fs::read_to_string("/proc/net/arp").unwrap_or_default()
    }
}

/// A bridge's in-band state.
#[derive(Debug, Clone)]
pub struct InBand {
    local_dev: String,
    remotes: Vec<SocketAddrV4>,
    next_refresh: Option<Instant>,
    /// What the last refresh found: local MAC and each remote's next-hop MAC.
    seen: Option<(Option<Mac>, Vec<Remote>)>,
    /// When the local port's address is next checked, and the last outcome logged.
    next_local: Option<Instant>,
    local_outcome: Option<Result<(), String>>,
}

impl InBand {
    /// In-band state of the bridge whose local port is device `local_dev`.
    pub fn new(local_dev: &str) -> InBand {
        InBand { local_dev: local_dev.to_string(), remotes: Vec::new(), next_refresh: None, seen: None, next_local: None, local_outcome: None }
    }

    /// Re-reads what the rules depend on when due (every second, or at once when the remotes
    /// changed) and returns the rules then wanted (the caller installs them; installing an
    /// unchanged set costs nothing). `None` when nothing was re-read.
    pub fn update(&mut self, remotes: &[SocketAddrV4], now: Instant, host: &dyn HostView) -> Option<Vec<HiddenSpec>> {
        if remotes != self.remotes.as_slice() {
            self.remotes = remotes.to_vec();
            self.next_refresh = None;
        }
        if self.next_refresh.is_some_and(|t| now < t) {
            return None;
        }
        self.next_refresh = Some(now + REFRESH);
        let local = if self.remotes.is_empty() { None } else { host.mac(&self.local_dev) };
        let found: Vec<Remote> = if local.is_none() {
            // No local port: no in-band control (as Open vSwitch, which cannot open it then).
            Vec::new()
        } else {
            let routes = parse_routes(&host.routes());
            let neigh = host.neighbours();
            self.remotes
                .iter()
                .map(|a| {
                    let mac = next_hop(&routes, *a.ip()).and_then(|(hop, dev)| arp_lookup(&neigh, hop, &dev));
                    Remote { addr: *a, next_hop_mac: mac }
                })
                .collect()
        };
        let now_seen = (local, found);
        if self.seen.as_ref() != Some(&now_seen) {
            self.log_change(&now_seen);
        }
        let r = rules(now_seen.0, &now_seen.1);
        self.seen = Some(now_seen);
        Some(r)
    }

    /// Puts the address the in-band controllers ask for (`local_ip` and friends) on the local
    /// port when due (every second); changes and failures are logged once.
    pub fn configure_local(&mut self, want: Option<&local_ip::LocalAddr>, now: Instant) {
        let Some(want) = want else {
            self.local_outcome = None;
            return;
        };
        if self.next_local.is_some_and(|t| now < t) {
            return;
        }
        self.next_local = Some(now + REFRESH);
        if !crate::netdev::exists(&self.local_dev) {
            return;
        }
        let outcome = match local_ip::apply(&self.local_dev, want) {
            Ok(done) => {
                if !done.is_empty() {
                    crate::info!("connmgr", "{}: in-band control: local port {}", self.local_dev, done.join(", "));
                }
                Ok(())
            }
            Err(e) => Err(e),
        };
        if let Err(e) = &outcome {
            if self.local_outcome.as_ref() != Some(&outcome) {
                crate::warn!("connmgr", "{}: in-band control: configuring the local port: {e}", self.local_dev);
            }
        }
        self.local_outcome = Some(outcome);
    }

    fn log_change(&self, (local, remotes): &(Option<Mac>, Vec<Remote>)) {
        let fmt = |m: &Mac| m.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":");
        if self.remotes.is_empty() {
            if self.seen.as_ref().is_some_and(|(_, r)| !r.is_empty()) {
                crate::info!("connmgr", "{}: in-band control off (no in-band controller)", self.local_dev);
            }
            return;
        }
        match local {
            None => crate::warn!("connmgr", "{}: in-band control inactive: the local port {} does not exist", self.local_dev, self.local_dev),
            Some(l) => {
                let hops: Vec<String> = remotes
                    .iter()
                    .map(|r| format!("{} (next hop MAC {})", r.addr, r.next_hop_mac.as_ref().map_or_else(|| "unknown".to_string(), fmt)))
                    .collect();
                crate::info!("connmgr", "{}: in-band control: local MAC {}, controllers {}", self.local_dev, fmt(l), hops.join(", "));
            }
        }
    }
}

#[cfg(test)]
mod tests;
