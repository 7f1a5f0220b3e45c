//! The system calls behind userspace datapath ports: AF_PACKET sockets bound to a device (with
//! `PACKET_VNET_HDR` and `PACKET_AUXDATA`), tap devices (`IFF_TAP | IFF_NO_PI | IFF_VNET_HDR`),
//! batched receive (`recvmmsg`) and transmit (`sendmmsg`), and interface index lookups. All the
//! `unsafe` of the userspace datapath lives here, each block next to the reason it is sound.

use std::io;
use std::sync::atomic::Ordering;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// `ETH_P_ALL`.
const ETH_P_ALL: u16 = 0x0003;
/// `SOL_PACKET` options (linux/if_packet.h).
const PACKET_ADD_MEMBERSHIP: libc::c_int = 1;
const PACKET_AUXDATA: libc::c_int = 8;
const PACKET_VNET_HDR: libc::c_int = 15;
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
const PACKET_MR_PROMISC: libc::c_ushort = 1;
/// `sll_pkttype` of frames this host sent.
pub const PACKET_OUTGOING: u8 = 4;
/// `tpacket_auxdata.tp_status` bits.
pub const TP_STATUS_CSUMNOTREADY: u32 = 1 << 3;
/// A VLAN tag was stripped into `tp_vlan_tci`.
pub const TP_STATUS_VLAN_VALID: u32 = 1 << 4;
/// `tp_vlan_tpid` is valid.
pub const TP_STATUS_VLAN_TPID_VALID: u32 = 1 << 6;
/// Length of `struct virtio_net_hdr`.
pub const VNET_HDR_LEN: usize = 10;

/// `struct packet_mreq`.
#[repr(C)]
struct PacketMreq {
    mr_ifindex: libc::c_int,
    mr_type: libc::c_ushort,
    mr_alen: libc::c_ushort,
    mr_address: [u8; 8],
}

/// `struct tpacket_auxdata`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Auxdata {
    /// `TP_STATUS_*`.
    pub tp_status: u32,
    /// Original length.
    pub tp_len: u32,
    /// Captured length.
    pub tp_snaplen: u32,
    /// MAC header offset.
    pub tp_mac: u16,
    /// Network header offset.
    pub tp_net: u16,
    /// Stripped VLAN TCI.
    pub tp_vlan_tci: u16,
    /// Stripped VLAN TPID.
    pub tp_vlan_tpid: u16,
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// `setsockopt` of an `int` option.
pub(crate) fn setsockopt_int(fd: RawFd, level: libc::c_int, opt: libc::c_int, v: libc::c_int) -> io::Result<()> {
    // SAFETY: `v` lives across the call and its size is passed.
    cvt(unsafe {
        libc::setsockopt(fd, level, opt, (&v as *const libc::c_int).cast(), std::mem::size_of::<libc::c_int>() as libc::socklen_t)
    })
    .map(|_| ())
}

/// The ifindex of device `name` (`ENODEV` if none, another error if it could not be asked).
pub fn ifindex(name: &str) -> io::Result<i32> {
    let c = std::ffi::CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `c` is a valid NUL-terminated string.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if i == 0 {
        // errno tells "no such device" (ENODEV) from a failure to ask (no socket available...).
        let e = io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(0) | None => io::Error::from_raw_os_error(libc::ENODEV),
            _ => e,
        });
    }
    i32::try_from(i).map_err(|_| io::Error::from_raw_os_error(libc::ERANGE))
}

/// An AF_PACKET socket bound to `ifindex`, receiving every frame the device receives (not
/// those it sends), with a virtio-net header before each frame (checksum-offload and GSO state
/// in both directions) and `PACKET_AUXDATA` control messages (stripped VLAN tags). The device
/// is put in promiscuous mode for as long as the socket lives.
pub fn packet_socket(ifindex: i32) -> io::Result<OwnedFd> {
    let proto = ETH_P_ALL.to_be();
    // SAFETY: plain socket(2); the result is checked and owned immediately.
    let fd = cvt(unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::c_int::from(proto)) })?;
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let raw = fd.as_raw_fd();
    setsockopt_int(raw, libc::SOL_PACKET, PACKET_VNET_HDR, 1)?;
    setsockopt_int(raw, libc::SOL_PACKET, PACKET_AUXDATA, 1)?;
    // Best effort (Linux >= 4.20); frames we see as outgoing are skipped by type anyway.
    let _ = setsockopt_int(raw, libc::SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
    let _ = setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_RCVBUF, 4 << 20);
    let _ = setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_SNDBUF, 4 << 20);
    // SAFETY: an all-zero sockaddr_ll is valid; fields are set below.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as libc::c_ushort;
    sll.sll_protocol = proto;
    sll.sll_ifindex = ifindex;
    // SAFETY: `sll` is a valid sockaddr_ll of the given size.
    cvt(unsafe {
        libc::bind(raw, (&sll as *const libc::sockaddr_ll).cast(), std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t)
    })?;
    let mreq = PacketMreq { mr_ifindex: ifindex, mr_type: PACKET_MR_PROMISC, mr_alen: 0, mr_address: [0; 8] };
    // SAFETY: `mreq` is a valid packet_mreq of the given size.
    cvt(unsafe {
        libc::setsockopt(raw, libc::SOL_PACKET, PACKET_ADD_MEMBERSHIP, (&mreq as *const PacketMreq).cast(), std::mem::size_of::<PacketMreq>() as libc::socklen_t)
    })?;
    Ok(fd)
}

/// Creates (or attaches to) tap device `name` with a virtio-net header before each frame.
/// Returns the descriptor and the device's ifindex.
pub fn tap(name: &str) -> io::Result<(OwnedFd, i32)> {
    if name.is_empty() || name.len() >= libc::IFNAMSIZ {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let path = c"/dev/net/tun";
    // SAFETY: valid path; result checked and owned below.
    let fd = cvt(unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC | libc::O_NONBLOCK) })?;
    // SAFETY: fresh descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: an all-zero ifreq is valid.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
        *d = s as libc::c_char;
    }
    ifr.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI | libc::IFF_VNET_HDR) as libc::c_short;
    // SAFETY: TUNSETIFF reads and writes an ifreq, which `ifr` is.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF, &mut ifr as *mut libc::ifreq) })?;
    let sz: libc::c_int = VNET_HDR_LEN as libc::c_int;
    // SAFETY: TUNSETVNETHDRSZ reads an int.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETVNETHDRSZ, &sz as *const libc::c_int) })?;
    let idx = ifindex(name)?;
    Ok((fd, idx))
}

/// Sets device `name` administratively up or down.
pub fn set_link_up(name: &str, up: bool) -> io::Result<()> {
    // SAFETY: plain socket(2), owned immediately.
    let s = cvt(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: fresh descriptor.
    let s = unsafe { OwnedFd::from_raw_fd(s) };
    // SAFETY: zeroed ifreq is valid.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, c) in ifr.ifr_name.iter_mut().zip(name.bytes().take(libc::IFNAMSIZ - 1)) {
        *d = c as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS fills the flags of `ifr`.
    cvt(unsafe { libc::ioctl(s.as_raw_fd(), libc::SIOCGIFFLAGS, &mut ifr as *mut libc::ifreq) })?;
    // SAFETY: the union member just written by the kernel.
    let mut flags = unsafe { ifr.ifr_ifru.ifru_flags };
    if up {
        flags |= libc::IFF_UP as libc::c_short;
    } else {
        flags &= !(libc::IFF_UP as libc::c_short);
    }
    ifr.ifr_ifru.ifru_flags = flags;
    // SAFETY: SIOCSIFFLAGS reads `ifr`.
    cvt(unsafe { libc::ioctl(s.as_raw_fd(), libc::SIOCSIFFLAGS, &ifr as *const libc::ifreq) }).map(|_| ())
}

/// Waits until `fd` is readable or `timeout_ms` passes; returns whether it is readable.
pub fn poll_in(fd: RawFd, timeout_ms: i32) -> io::Result<bool> {
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut p, 1, timeout_ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.raw_os_error() == Some(libc::EINTR) { Ok(false) } else { Err(e) };
    }
    Ok(r > 0 && p.revents & (libc::POLLIN | libc::POLLERR | libc::POLLHUP) != 0)
}

/// Receive buffers for one `recvmmsg` batch: per slot a buffer whose bytes from `headroom` hold
/// the virtio-net header then the frame, a source address and a control buffer.
pub struct RxBatch {
    /// Frame buffers.
    pub bufs: Vec<Vec<u8>>,
    /// Bytes before the virtio-net header kept free for pushing VLAN tags.
    pub headroom: usize,
    addrs: Vec<libc::sockaddr_ll>,
    ctrl: Vec<[u64; 8]>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

// SAFETY: the raw pointers inside `iovs`/`hdrs` only ever point into this struct's own vectors and
// are rebuilt before each use; the struct is moved between threads as a whole.
unsafe impl Send for RxBatch {}

/// One received frame's metadata.
#[derive(Clone, Copy, Debug, Default)]
pub struct RxMeta {
    /// Bytes received (virtio-net header included).
    pub len: usize,
    /// `sll_pkttype`.
    pub pkttype: u8,
    /// The frame did not fit.
    pub truncated: bool,
    /// `PACKET_AUXDATA`, when present.
    pub aux: Option<Auxdata>,
}

impl RxBatch {
    /// `n` slots of `size` bytes (after `headroom`).
    pub fn new(n: usize, size: usize, headroom: usize) -> Self {
        Self {
            bufs: (0..n).map(|_| vec![0u8; headroom + size]).collect(),
            headroom,
            // SAFETY: all-zero sockaddr_ll is valid.
            addrs: vec![unsafe { std::mem::zeroed() }; n],
            ctrl: vec![[0u64; 8]; n],
            iovs: Vec::with_capacity(n),
            // SAFETY: all-zero mmsghdr is valid.
            hdrs: vec![unsafe { std::mem::zeroed() }; n],
        }
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.bufs.len()
    }

    /// Receives up to `capacity` frames without blocking; fills `meta` (cleared first).
    pub fn recv(&mut self, fd: RawFd, meta: &mut Vec<RxMeta>) -> io::Result<usize> {
        meta.clear();
        let n = self.bufs.len();
        self.iovs.clear();
        for b in &mut self.bufs {
            let len = b.len() - self.headroom;
            // SAFETY: in bounds: headroom < len of the buffer.
            let base = unsafe { b.as_mut_ptr().add(self.headroom) };
            self.iovs.push(libc::iovec { iov_base: base.cast(), iov_len: len });
        }
        for i in 0..n {
            let h = &mut self.hdrs[i].msg_hdr;
            h.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_ll).cast();
            h.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            h.msg_iov = &mut self.iovs[i];
            h.msg_iovlen = 1;
            h.msg_control = self.ctrl[i].as_mut_ptr().cast();
            h.msg_controllen = std::mem::size_of::<[u64; 8]>();
            h.msg_flags = 0;
            self.hdrs[i].msg_len = 0;
        }
        // SAFETY: every header points at live buffers of the sizes given, owned by `self`.
        let r = unsafe {
            libc::recvmmsg(fd, self.hdrs.as_mut_ptr(), n as libc::c_uint, libc::MSG_DONTWAIT, std::ptr::null_mut())
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::EINTR) => Ok(0),
                _ => Err(e),
            };
        }
        let r = r as usize;
        for i in 0..r {
            let h = &self.hdrs[i];
            let mut m = RxMeta {
                len: h.msg_len as usize,
                pkttype: self.addrs[i].sll_pkttype,
                truncated: h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
                aux: None,
            };
            // SAFETY: CMSG_* walk the control buffer the kernel filled, within msg_controllen.
            unsafe {
                let mut c = libc::CMSG_FIRSTHDR(&h.msg_hdr);
                while !c.is_null() {
                    if (*c).cmsg_level == libc::SOL_PACKET && (*c).cmsg_type == PACKET_AUXDATA {
                        let p = libc::CMSG_DATA(c).cast::<Auxdata>();
                        m.aux = Some(std::ptr::read_unaligned(p));
                    }
                    c = libc::CMSG_NXTHDR(&h.msg_hdr, c);
                }
            }
            meta.push(m);
        }
        Ok(r)
    }
}

impl RxBatch {
    /// Reads up to `capacity` frames from a tap descriptor without blocking (same layout and
    /// metadata as [`RxBatch::recv`]).
    pub fn read_tap(&mut self, fd: RawFd, meta: &mut Vec<RxMeta>) -> io::Result<usize> {
        meta.clear();
        let h = self.headroom;
        for b in &mut self.bufs {
            let n = tap_read(fd, &mut b[h..])?;
            if n == 0 {
                break;
            }
            meta.push(RxMeta { len: n, pkttype: 0, truncated: false, aux: None });
        }
        Ok(meta.len())
    }
}

/// Sends `frames` (each a virtio-net header and a frame, as two slices) on a packet socket with
/// `sendmmsg`; returns how many were sent, and how many were dropped by errors. A frame with a
/// priority carries it as a per-packet `SO_PRIORITY` control message, so QoS queues (tc classes
/// selected by skb priority) work as on the kernel datapath; kernels before 6.14 refuse that
/// message, and frames then leave with the socket's priority.
pub fn send_batch(fd: RawFd, frames: &[TxFrame<'_>]) -> (usize, usize) {
    let mut iovs: Vec<[libc::iovec; 2]> = frames
        .iter()
        .map(|f| {
            [
                libc::iovec { iov_base: f.hdr.as_ptr() as *mut libc::c_void, iov_len: f.hdr.len() },
                libc::iovec { iov_base: f.frame.as_ptr() as *mut libc::c_void, iov_len: f.frame.len() },
            ]
        })
        .collect();
    let with_priority = PRIORITY_CMSG.load(Ordering::Relaxed);
    let mut controls: Vec<PriorityCmsg> =
        frames.iter().map(|f| PriorityCmsg::new(if with_priority { f.priority } else { 0 })).collect();
    // SAFETY: all-zero mmsghdr is valid.
    let mut hdrs: Vec<libc::mmsghdr> = vec![unsafe { std::mem::zeroed() }; frames.len()];
    for ((h, iov), c) in hdrs.iter_mut().zip(iovs.iter_mut()).zip(controls.iter_mut()) {
        h.msg_hdr.msg_iov = iov.as_mut_ptr();
        h.msg_hdr.msg_iovlen = 2;
        c.attach(&mut h.msg_hdr);
    }
    let (mut sent, mut dropped, mut at) = (0, 0, 0);
    while at < hdrs.len() {
        let rest = &mut hdrs[at..];
        // SAFETY: headers point at `iovs` and `controls`, which point at live buffers (only read).
        let r = unsafe { libc::sendmmsg(fd, rest.as_mut_ptr(), rest.len() as libc::c_uint, libc::MSG_DONTWAIT) };
        if r <= 0 {
            let einval = io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL);
            if einval && rest.first().is_some_and(|h| h.msg_hdr.msg_controllen != 0) {
                // A kernel before 6.14 has no per-packet SO_PRIORITY: send without it from now on.
                PRIORITY_CMSG.store(false, Ordering::Relaxed);
                for h in rest.iter_mut() {
                    PriorityCmsg::detach(&mut h.msg_hdr);
                }
                continue;
            }
            // The first message failed: drop it and go on with the rest.
            dropped += 1;
            at += 1;
        } else {
            sent += r as usize;
            at += r as usize;
        }
    }
    (sent, dropped)
}

/// One frame for [`send_batch`]: its virtio-net header, bytes and skb priority.
#[derive(Debug, Clone, Copy)]
pub struct TxFrame<'a> {
    /// The virtio-net header.
    pub hdr: &'a [u8],
    /// The frame.
    pub frame: &'a [u8],
    /// skb priority (`SO_PRIORITY`) the frame leaves with; 0: the socket's.
    pub priority: u32,
}

/// Whether sends may carry a per-packet `SO_PRIORITY` control message (Linux 6.14+); cleared
/// at the first kernel that refuses one.
static PRIORITY_CMSG: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Whether this kernel took per-packet priorities so far (false once one was refused).
pub fn per_packet_priority() -> bool {
    PRIORITY_CMSG.load(Ordering::Relaxed)
}

/// Room for one `SOL_SOCKET`/`SO_PRIORITY` control message (a `u32`), 8-byte aligned.
#[derive(Debug, Clone, Copy)]
struct PriorityCmsg {
    buf: [u64; 4],
    priority: u32,
}

impl PriorityCmsg {
    fn new(priority: u32) -> Self {
        Self { buf: [0; 4], priority }
    }

    /// Points `m`'s control buffer at this message, if the priority is not 0.
    fn attach(&mut self, m: &mut libc::msghdr) {
        if self.priority == 0 {
            return;
        }
        let payload = std::mem::size_of::<u32>() as u32;
        // SAFETY: CMSG_SPACE is arithmetic.
        let space = unsafe { libc::CMSG_SPACE(payload) } as usize;
        if space > std::mem::size_of_val(&self.buf) {
            return;
        }
        m.msg_control = self.buf.as_mut_ptr().cast();
        m.msg_controllen = space as _;
        // SAFETY: `m` has a control buffer of `space` bytes, room for one header and a u32 (checked
        // above); CMSG_FIRSTHDR returns a pointer into it, aligned since the buffer is u64s.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(m);
            if c.is_null() {
                m.msg_control = std::ptr::null_mut();
                m.msg_controllen = 0;
                return;
            }
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SO_PRIORITY;
            (*c).cmsg_len = libc::CMSG_LEN(payload) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<u32>(), self.priority);
        }
    }

    fn detach(m: &mut libc::msghdr) {
        m.msg_control = std::ptr::null_mut();
        m.msg_controllen = 0;
    }
}

/// Writes a virtio-net header and a frame to a tap descriptor.
pub fn tap_write(fd: RawFd, hdr: &[u8], frame: &[u8]) -> io::Result<()> {
    let iov = [
        libc::iovec { iov_base: hdr.as_ptr() as *mut libc::c_void, iov_len: hdr.len() },
        libc::iovec { iov_base: frame.as_ptr() as *mut libc::c_void, iov_len: frame.len() },
    ];
    // SAFETY: two iovecs over live slices, only read.
    let r = unsafe { libc::writev(fd, iov.as_ptr(), 2) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Reads one virtio-net header and frame from a tap descriptor into `buf` (non-blocking: 0 when
/// nothing is queued).
pub fn tap_read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: reads into the caller's buffer of the given length.
    let r = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::EAGAIN) | Some(libc::EINTR) | Some(libc::EIO) => Ok(0),
            _ => Err(e),
        };
    }
    Ok(r as usize)
}

/// `CLOCK_MONOTONIC` in milliseconds (the clock of flows' `used` times, as the kernel's).
pub fn monotonic_ms() -> u64 {
    // SAFETY: an all-zero timespec is valid and clock_gettime fills it.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64).saturating_mul(1000).saturating_add(ts.tv_nsec as u64 / 1_000_000)
}
