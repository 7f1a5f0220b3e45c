//! Network devices as the daemon sees them: status read from sysfs for the Interface columns
//! (`ifindex`, `mac_in_use`, `admin_state`, `link_state`, `mtu`), and persistent tap devices for
//! `type=tap` interfaces (created through `/dev/net/tun`, brought up, deleted with the port).

use std::os::fd::AsRawFd;

/// A device's status.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DevStatus {
    /// Interface index.
    pub ifindex: i64,
    /// MAC address text.
    pub mac: String,
    /// Administratively up.
    pub admin_up: bool,
    /// Carrier present.
    pub link_up: bool,
    /// MTU.
    pub mtu: i64,
}

fn sys(name: &str, attr: &str) -> Option<String> {
    if name.contains('/') || name.is_empty() {
        return None;
    }
    std::fs::read_to_string(format!("/sys/class/net/{name}/{attr}")).ok().map(|s| s.trim().to_string())
}

/// Whether device `name` exists.
pub fn exists(name: &str) -> bool {
    sys(name, "ifindex").is_some()
}

/// Reads the status of `name`.
pub fn status(name: &str) -> Option<DevStatus> {
    let ifindex = sys(name, "ifindex")?.parse().ok()?;
    let flags = sys(name, "flags").and_then(|f| i64::from_str_radix(f.trim_start_matches("0x"), 16).ok()).unwrap_or(0);
    Some(DevStatus {
        ifindex,
        mac: sys(name, "address").unwrap_or_default(),
        admin_up: flags & 1 != 0,
        link_up: sys(name, "carrier").as_deref() == Some("1"),
        mtu: sys(name, "mtu").and_then(|m| m.parse().ok()).unwrap_or(0),
    })
}

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const TUNSETPERSIST: libc::c_ulong = 0x4004_54cb;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_NO_PI: libc::c_short = 0x1000;

fn ifreq(name: &str, flags: libc::c_short) -> Result<[u8; 40], String> {
    let mut r = [0u8; 40];
    if name.is_empty() || name.len() >= libc::IFNAMSIZ {
        return Err(format!("bad device name \"{name}\""));
    }
    r[..name.len()].copy_from_slice(name.as_bytes());
    r[16..18].copy_from_slice(&flags.to_ne_bytes());
    Ok(r)
}

fn tun_ioctl(name: &str, persist: bool) -> Result<(), String> {
    let f = std::fs::OpenOptions::new().read(true).write(true).open("/dev/net/tun").map_err(|e| format!("/dev/net/tun: {e}"))?;
    let mut r = ifreq(name, IFF_TAP | IFF_NO_PI)?;
    // SAFETY: `r` is a 40-byte `struct ifreq` that outlives the call; the fd is open.
    if unsafe { libc::ioctl(f.as_raw_fd(), TUNSETIFF, r.as_mut_ptr()) } < 0 {
        return Err(format!("creating tap {name}: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: TUNSETPERSIST takes an integer argument.
    if unsafe { libc::ioctl(f.as_raw_fd(), TUNSETPERSIST, libc::c_ulong::from(persist)) } < 0 {
        return Err(format!("tap {name} persistence: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Sets `name` administratively up.
pub fn set_up(name: &str) -> Result<(), String> {
    // SAFETY: plain socket creation.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    // SAFETY: `fd` was just returned by socket() and is owned here.
    let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let mut r = ifreq(name, 0)?;
    // SAFETY: `r` is a valid ifreq for the duration of both calls.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, r.as_mut_ptr()) < 0 {
            return Err(format!("{name}: {}", std::io::Error::last_os_error()));
        }
        let flags = libc::c_short::from_ne_bytes([r[16], r[17]]) | libc::IFF_UP as libc::c_short;
        r[16..18].copy_from_slice(&flags.to_ne_bytes());
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, r.as_mut_ptr()) < 0 {
            return Err(format!("{name}: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// Creates a persistent tap `name` (if missing) and brings it up.
pub fn create_tap(name: &str) -> Result<(), String> {
    if !exists(name) {
        tun_ioctl(name, true)?;
    }
    set_up(name)
}

/// Deletes a persistent tap.
pub fn delete_tap(name: &str) -> Result<(), String> {
    if exists(name) {
        tun_ioctl(name, false)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_status_and_bad_names() {
        let lo = status("lo").unwrap();
        assert!(lo.ifindex >= 1);
        assert!(lo.admin_up);
        assert!(status("no-such-dev0").is_none());
        assert!(status("../lo").is_none());
        assert!(ifreq("a-name-that-is-far-too-long", 0).is_err());
    }
}
