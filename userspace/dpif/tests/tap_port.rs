//! A VM's tap as a netdev port of the userspace datapath: the tap is created the way QEMU
//! creates it (`/dev/net/tun`, `IFF_TAP | IFF_NO_PI`, not persistent), attached with
//! `port_add`; when its descriptor closes (the VM exits) the device disappears and the datapath
//! detaches the port by itself; a tap re-created under the same name attaches again. Needs root
//! and /dev/net/tun (skipped with a message otherwise); the device is named `tapdp0`.

#![allow(clippy::unwrap_used)]

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use rvs_dpif::{Dpif, PortSpec, PortType, UserspaceDpif};

fn root() -> bool {
    // SAFETY: no preconditions.
    let uid = unsafe { libc::geteuid() };
    uid == 0 && std::path::Path::new("/dev/net/tun").exists()
}

/// A non-persistent tap `name`, as QEMU opens it; the device lives as long as the descriptor.
fn qemu_tap(name: &str) -> OwnedFd {
    // SAFETY: valid path; checked below.
    let fd = unsafe { libc::open(c"/dev/net/tun".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
    assert!(fd >= 0, "open /dev/net/tun");
    // SAFETY: fresh descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: an all-zero ifreq is valid.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
        *d = s as libc::c_char;
    }
    ifr.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
    // SAFETY: TUNSETIFF reads and writes an ifreq.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF, &mut ifr as *mut libc::ifreq) };
    assert_eq!(r, 0, "TUNSETIFF {name}: {}", std::io::Error::last_os_error());
    rvs_dpif::netdev::sys::set_link_up(name, true).unwrap();
    fd
}

fn listed(dp: &mut UserspaceDpif, name: &str) -> bool {
    dp.port_list().unwrap().iter().any(|p| p.name == name)
}

fn wait_until(mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

#[test]
fn vm_tap_detaches_when_it_disappears_and_reattaches() {
    if !root() {
        eprintln!("skipped: needs root and /dev/net/tun");
        return;
    }
    let name = "tapdp0";
    let mut dp = UserspaceDpif::create("tapdp-dp").unwrap();
    let spec = PortSpec { name: name.into(), port_type: PortType::Netdev, port_no: None, dst_port: None };

    let vm = qemu_tap(name);
    let first = rvs_dpif::netdev::sys::ifindex(name).unwrap();
    let no = dp.port_add(&spec).unwrap();
    assert_eq!(dp.port_get(no).unwrap().ifindex, Some(first));
    std::thread::sleep(Duration::from_millis(500));
    assert!(listed(&mut dp, name), "a live tap stays attached while idle");

    drop(vm);
    assert!(rvs_dpif::netdev::sys::ifindex(name).is_err(), "the tap went with its descriptor");
    assert!(wait_until(|| !listed(&mut dp, name)), "the port is detached when the device disappears");
    assert!(dp.port_del(no).is_err(), "nothing left to delete");

    // A quick reboot: the tap is re-created while the old port may still be listed; the new
    // device is a new port.
    let vm = qemu_tap(name);
    let second = rvs_dpif::netdev::sys::ifindex(name).unwrap();
    assert_ne!(first, second);
    assert!(wait_until(|| !listed(&mut dp, name)));
    let no2 = dp.port_add(&spec).unwrap();
    assert_eq!(dp.port_get(no2).unwrap().ifindex, Some(second));
    std::thread::sleep(Duration::from_millis(500));
    assert!(listed(&mut dp, name));
    dp.port_del(no2).unwrap();
    drop(vm);
    dp.destroy().unwrap();
}
