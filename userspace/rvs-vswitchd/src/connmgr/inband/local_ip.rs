//! The local port's own address for in-band control (the `Controller` columns `local_ip`,
//! `local_netmask`, `local_gateway`, as Open vSwitch): which address a bridge wants
//! ([`wanted`]) and putting it on the device ([`apply`]: IPv4 address and mask through
//! `SIOCSIFADDR`/`SIOCSIFNETMASK`, device up, and a default route through the gateway
//! (`SIOCADDRT`) unless one is there). Applying is idempotent: an address already in place is
//! left alone, so routes through the device survive.

use std::net::Ipv4Addr;

use crate::config::BridgeCfg;

/// The address a bridge's local port should carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAddr {
    /// Address.
    pub ip: Ipv4Addr,
    /// Network mask.
    pub mask: Ipv4Addr,
    /// Default gateway.
    pub gateway: Option<Ipv4Addr>,
}

/// The mask of `ip`'s address class (Open vSwitch's default for an unset `local_netmask`).
pub fn class_mask(ip: Ipv4Addr) -> Ipv4Addr {
    match ip.octets()[0] {
        0..=127 => Ipv4Addr::new(255, 0, 0, 0),
        128..=191 => Ipv4Addr::new(255, 255, 0, 0),
        _ => Ipv4Addr::new(255, 255, 255, 0),
    }
}

/// The local address the in-band controllers of `b` ask for (the first with `local_ip`); a
/// value that does not parse is left out with a warning in `warnings`.
pub fn wanted(b: &BridgeCfg, in_band: bool, warnings: &mut Vec<String>) -> Option<LocalAddr> {
    if !in_band {
        return None;
    }
    for c in b.controllers.iter().filter(|c| !c.out_of_band) {
        let Some(ip_text) = c.local_ip.as_deref() else { continue };
        let Ok(ip) = ip_text.parse::<Ipv4Addr>() else {
            warnings.push(format!("controller {}: local_ip \"{ip_text}\" is not an IPv4 address, ignored", c.target));
            continue;
        };
        let mask = match c.local_netmask.as_deref().map(|m| (m, m.parse::<Ipv4Addr>())) {
            None => class_mask(ip),
            Some((_, Ok(m))) if u32::from(m).leading_ones() + u32::from(m).trailing_zeros() == 32 => m,
            Some((m, _)) => {
                warnings.push(format!("controller {}: local_netmask \"{m}\" is not an IPv4 netmask, using {}", c.target, class_mask(ip)));
                class_mask(ip)
            }
        };
        let gateway = match c.local_gateway.as_deref().map(|g| (g, g.parse::<Ipv4Addr>())) {
            None => None,
            Some((_, Ok(g))) => Some(g),
            Some((g, Err(_))) => {
                warnings.push(format!("controller {}: local_gateway \"{g}\" is not an IPv4 address, ignored", c.target));
                None
            }
        };
        return Some(LocalAddr { ip, mask, gateway });
    }
    None
}

fn ifreq(dev: &str) -> Result<libc::ifreq, String> {
    if dev.is_empty() || dev.len() >= libc::IFNAMSIZ {
        return Err(format!("bad device name \"{dev}\""));
    }
    // SAFETY: `ifreq` is plain old data (a name and a union of integers, addresses and a
    // pointer), for which all-zero bytes are a valid value.
    let mut r: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in r.ifr_name.iter_mut().zip(dev.bytes()) {
        *d = s as libc::c_char;
    }
    Ok(r)
}

fn sockaddr(ip: Ipv4Addr) -> libc::sockaddr {
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(ip.octets()) },
        sin_zero: [0; 8],
    };
    // SAFETY: `sockaddr_in` and `sockaddr` are both 16 bytes of plain data; the kernel reads
    // an AF_INET `sockaddr` as a `sockaddr_in`.
    unsafe { std::mem::transmute::<libc::sockaddr_in, libc::sockaddr>(sin) }
}

fn ip_of(sa: &libc::sockaddr) -> Option<Ipv4Addr> {
    if i32::from(sa.sa_family) != libc::AF_INET {
        return None;
    }
    // SAFETY: an AF_INET `sockaddr` holds a `sockaddr_in` (same size, plain data).
    let sin = unsafe { std::mem::transmute::<libc::sockaddr, libc::sockaddr_in>(*sa) };
    Some(Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes()))
}

/// An `AF_INET` datagram socket for interface ioctls, closed on drop.
struct Sock(std::os::fd::OwnedFd);

impl Sock {
    fn open() -> Result<Sock, String> {
        // SAFETY: plain socket creation.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(format!("socket: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: `fd` was just opened and is owned by nobody else.
        Ok(Sock(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) }))
    }

    /// Runs interface ioctl `req` on `r`.
    fn ioctl<T>(&self, req: libc::c_ulong, r: &mut T) -> std::io::Result<()> {
        use std::os::fd::AsRawFd;
        // SAFETY: `r` is the structure `req` takes (`ifreq` or `rtentry`), valid for the call.
        if unsafe { libc::ioctl(self.0.as_raw_fd(), req, std::ptr::from_mut(r)) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}

/// The IPv4 address and mask of `dev` (`None`: it has none).
fn current(s: &Sock, dev: &str) -> Result<Option<(Ipv4Addr, Ipv4Addr)>, String> {
    let mut r = ifreq(dev)?;
    match s.ioctl(libc::SIOCGIFADDR, &mut r) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) => return Ok(None),
        Err(e) => return Err(format!("{dev}: reading its address: {e}")),
    }
    // SAFETY: SIOCGIFADDR filled the address member of the union.
    let ip = ip_of(unsafe { &r.ifr_ifru.ifru_addr });
    let mut r = ifreq(dev)?;
    s.ioctl(libc::SIOCGIFNETMASK, &mut r).map_err(|e| format!("{dev}: reading its netmask: {e}"))?;
    // SAFETY: SIOCGIFNETMASK filled the netmask member of the union.
    let mask = ip_of(unsafe { &r.ifr_ifru.ifru_netmask });
    Ok(ip.zip(mask))
}

/// Whether `routes` (`/proc/net/route`) has a default route through `gw`.
fn has_default_via(routes: &str, gw: Ipv4Addr) -> bool {
    super::parse_routes(routes).iter().any(|r| r.dest.is_unspecified() && r.mask.is_unspecified() && r.gateway == gw)
}

/// Puts `want` on device `dev`; returns what it changed (empty: nothing to do).
pub fn apply(dev: &str, want: &LocalAddr) -> Result<Vec<String>, String> {
    let s = Sock::open()?;
    let mut done = Vec::new();
    if current(&s, dev)? != Some((want.ip, want.mask)) {
        let mut r = ifreq(dev)?;
        r.ifr_ifru.ifru_addr = sockaddr(want.ip);
        s.ioctl(libc::SIOCSIFADDR, &mut r).map_err(|e| format!("{dev}: setting address {}: {e}", want.ip))?;
        let mut r = ifreq(dev)?;
        r.ifr_ifru.ifru_netmask = sockaddr(want.mask);
        s.ioctl(libc::SIOCSIFNETMASK, &mut r).map_err(|e| format!("{dev}: setting netmask {}: {e}", want.mask))?;
        done.push(format!("address {}/{}", want.ip, u32::from(want.mask).leading_ones()));
    }
    if crate::netdev::status(dev).is_some_and(|d| !d.admin_up) {
        crate::netdev::set_up(dev)?;
        done.push("up".into());
    }
    if let Some(gw) = want.gateway {
        if !has_default_via(&std::fs::read_to_string("/proc/net/route").unwrap_or_default(), gw) {
            // SAFETY: `rtentry` is plain old data (addresses, integers and a device-name
            // pointer left null), for which all-zero bytes are a valid value.
            let mut rt: libc::rtentry = unsafe { std::mem::zeroed() };
            rt.rt_dst = sockaddr(Ipv4Addr::UNSPECIFIED);
            rt.rt_genmask = sockaddr(Ipv4Addr::UNSPECIFIED);
            rt.rt_gateway = sockaddr(gw);
            rt.rt_flags = libc::RTF_UP | libc::RTF_GATEWAY;
            match s.ioctl(libc::SIOCADDRT, &mut rt) {
                Ok(()) => done.push(format!("default route via {gw}")),
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
                Err(e) => return Err(format!("adding a default route via {gw}: {e}")),
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ControllerCfg;

    fn bridge(local: [Option<&str>; 3], out_of_band: bool) -> BridgeCfg {
        let mut b = crate::connmgr::inband::tests::bridge_cfg(vec![ControllerCfg {
            uuid: "c".into(),
            target: "tcp:10.0.0.1".into(),
            max_backoff_ms: 1000,
            inactivity_probe_ms: 0,
            out_of_band,
            enable_async: true,
            local_ip: local[0].map(str::to_string),
            local_netmask: local[1].map(str::to_string),
            local_gateway: local[2].map(str::to_string),
        }]);
        b.name = "br0".into();
        b
    }

    #[test]
    fn wanted_address() {
        let mut w = Vec::new();
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        let b = bridge([Some("10.0.0.100"), Some("255.255.255.0"), Some("10.0.0.254")], false);
        assert_eq!(wanted(&b, true, &mut w), Some(LocalAddr { ip: ip("10.0.0.100"), mask: ip("255.255.255.0"), gateway: Some(ip("10.0.0.254")) }));
        assert_eq!(wanted(&b, false, &mut w), None, "in-band control disabled");
        assert_eq!(wanted(&bridge([Some("10.0.0.100"), None, None], true), true, &mut w), None, "out-of-band controller");
        assert!(w.is_empty());
        let b = bridge([Some("172.16.1.2"), None, None], false);
        assert_eq!(wanted(&b, true, &mut w).map(|l| l.mask), Some(ip("255.255.0.0")), "class B");
        assert_eq!(class_mask(ip("192.168.1.1")), ip("255.255.255.0"));
        assert_eq!(class_mask(ip("10.1.1.1")), ip("255.0.0.0"));
        let b = bridge([Some("10.0.0.100"), Some("255.0.255.0"), Some("gw")], false);
        assert_eq!(wanted(&b, true, &mut w), Some(LocalAddr { ip: ip("10.0.0.100"), mask: ip("255.0.0.0"), gateway: None }));
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(wanted(&bridge([Some("nope"), None, None], false), true, &mut w), None);
        assert_eq!(w.len(), 3);
        assert_eq!(wanted(&bridge([None, None, None], false), true, &mut w), None);
    }

    #[test]
    fn default_route_detection() {
        let h = |a: [u8; 4]| format!("{:08X}", u32::from_ne_bytes(a));
        let t = format!("Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\nbr0\t{}\t{}\t0003\t0\t0\t0\t{}\t0\t0\t0\n", h([0; 4]), h([10, 0, 0, 254]), h([0; 4]));
        assert!(has_default_via(&t, Ipv4Addr::new(10, 0, 0, 254)));
        assert!(!has_default_via(&t, Ipv4Addr::new(10, 0, 0, 1)));
    }
}
