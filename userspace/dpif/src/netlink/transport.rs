//! Generic netlink transport over `neli`: one socket, request/acknowledge with the kernel's
//! error and extended-ack message decoded, dumps, family and multicast group resolution, and
//! non-blocking receive for upcall and notification sockets.
//!
//! `neli` owns the socket layer (socket, bind, send, recv, membership, `NETLINK_EXT_ACK`) and
//! the `nlmsghdr` / `nlmsgerr` framing; the OVS payload inside each message is plain bytes
//! built by [`super::msg`].

use std::io::{self, Cursor};
use std::os::fd::{AsRawFd, RawFd};

use neli::consts::genl::{CtrlAttr, CtrlAttrMcastGrp, CtrlCmd, Index};
use neli::consts::nl::{NlmF, NlmsgerrAttr};
use neli::consts::socket::{Msg, NlFamily};
use neli::genl::{AttrTypeBuilder, Genlmsghdr, GenlmsghdrBuilder, NlattrBuilder, NoUserHeader};
use neli::nl::{NlPayload, Nlmsghdr, NlmsghdrBuilder};
use neli::socket::NlSocket;
use neli::types::{Buffer, GenlBuffer};
use neli::utils::Groups;
use neli::{FromBytes, FromBytesWithInput, ToBytes};

/// `GENL_ID_CTRL`.
const GENL_ID_CTRL: u16 = 0x10;
/// Receive buffer for request/reply sockets: the kernel sizes dump messages up to 32 KiB.
const CTRL_BUF: usize = 64 * 1024;

/// Transport errors.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The socket call failed.
    #[error("netlink socket: {0}")]
    Io(#[from] io::Error),
    /// The kernel rejected the request.
    #[error("{}", kernel_message(*errno, extack.as_deref()))]
    Kernel {
        /// Positive errno.
        errno: i32,
        /// The extended-ack message (`NLMSGERR_ATTR_MSG`), if the kernel gave one.
        extack: Option<String>,
    },
    /// A reply could not be decoded.
    #[error("malformed netlink reply: {0}")]
    Malformed(String),
    /// A message was longer than the receive buffer.
    #[error("netlink message truncated ({0} bytes)")]
    Truncated(usize),
}

impl TransportError {
    /// The errno of a kernel rejection or socket failure.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::Kernel { errno, .. } => Some(*errno),
            Self::Io(e) => e.raw_os_error(),
            _ => None,
        }
    }
}

fn kernel_message(errno: i32, extack: Option<&str>) -> String {
    let base = io::Error::from_raw_os_error(errno);
    match extack {
        Some(m) if !m.is_empty() => format!("{base} ({m})"),
        _ => base.to_string(),
    }
}

/// A resolved generic netlink family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    /// The numeric family ID (`nlmsghdr.nlmsg_type`).
    pub id: u16,
    /// Multicast groups: name and ID.
    pub mcast_groups: Vec<(String, u32)>,
}

impl Family {
    /// The ID of the multicast group `name`.
    pub fn group(&self, name: &str) -> Option<u32> {
        self.mcast_groups.iter().find(|(n, _)| n == name).map(|(_, id)| *id)
    }
}

/// One received netlink message, reduced to what the OVS layer needs.
#[derive(Debug)]
pub enum Received {
    /// A data message: its type (family), sequence and payload.
    Data {
        /// `nlmsg_type`.
        nl_type: u16,
        /// `nlmsg_seq`.
        seq: u32,
        /// Generic netlink payload.
        payload: Vec<u8>,
    },
    /// An acknowledgement (`NLMSG_ERROR` with 0) or end of dump.
    Done {
        /// `nlmsg_seq`.
        seq: u32,
    },
    /// A failure (`NLMSG_ERROR` < 0 or a dump's `NLMSG_DONE` carrying an error).
    Error {
        /// `nlmsg_seq`.
        seq: u32,
        /// The decoded error.
        err: TransportError,
    },
}

/// Decodes every netlink message in one datagram.
///
/// With `OVS_DP_F_UNALIGNED` the kernel does not pad an upcall's last attribute (the packet),
/// so the datagram may end off a 4-byte boundary; `neli` expects the padding, so such a
/// datagram is decoded from a zero-padded copy.
pub fn decode_datagram(buf: &[u8]) -> Result<Vec<Received>, TransportError> {
    let padded;
    let buf = if buf.len() % 4 != 0 {
        let mut v = buf.to_vec();
        v.resize(buf.len().div_ceil(4) * 4, 0);
        padded = v;
        &padded[..]
    } else {
        buf
    };
    let mut cur = Cursor::new(buf);
    let mut out = Vec::new();
    while (cur.position() as usize) < buf.len() {
        let msg = Nlmsghdr::<u16, Buffer>::from_bytes(&mut cur)
            .map_err(|e| TransportError::Malformed(e.to_string()))?;
        let seq = *msg.nl_seq();
        let nl_type = *msg.nl_type();
        match msg.nl_payload() {
            NlPayload::Payload(p) => out.push(Received::Data { nl_type, seq, payload: p.as_ref().to_vec() }),
            NlPayload::Ack(_) | NlPayload::Empty => out.push(Received::Done { seq }),
            NlPayload::DumpExtAck(a) => {
                if *a.error() == 0 {
                    out.push(Received::Done { seq })
                } else {
                    let extack = extack_msg(a.ext_ack());
                    out.push(Received::Error { seq, err: TransportError::Kernel { errno: -*a.error(), extack } })
                }
            }
            NlPayload::Err(e) => {
                let extack = extack_msg(e.ext_ack());
                out.push(Received::Error { seq, err: TransportError::Kernel { errno: -*e.error(), extack } })
            }
        }
    }
    Ok(out)
}

fn extack_msg(attrs: &GenlBuffer<NlmsgerrAttr, Buffer>) -> Option<String> {
    attrs.iter().find(|a| *a.nla_type().nla_type() == NlmsgerrAttr::Msg).map(|a| {
        let b = a.nla_payload().as_ref();
        let b = b.split(|&c| c == 0).next().unwrap_or(&[]);
        String::from_utf8_lossy(b).into_owned()
    })
}

/// A generic netlink socket.
pub struct GenlSocket {
    sock: NlSocket,
    pid: u32,
    seq: u32,
    buf: Vec<u8>,
}

impl std::fmt::Debug for GenlSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenlSocket").field("pid", &self.pid).finish()
    }
}

impl GenlSocket {
    /// Opens a socket with a kernel-assigned port ID and extended acks enabled.
    pub fn open() -> Result<Self, TransportError> {
        Self::with_buffer(CTRL_BUF)
    }

    /// Opens a socket whose receive buffer holds messages of up to `buf_len` bytes.
    pub fn with_buffer(buf_len: usize) -> Result<Self, TransportError> {
        let sock = NlSocket::connect(NlFamily::Generic, None, Groups::empty())?;
        // Old kernels lack NETLINK_EXT_ACK; errors then simply carry no message.
        let _ = sock.enable_ext_ack(true);
        let pid = sock.pid()?;
        let seq = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(1);
        Ok(Self { sock, pid, seq, buf: vec![0; buf_len] })
    }

    /// The socket's netlink port ID (what upcall PIDs name).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Asks the kernel for a bigger socket receive queue (best effort): `SO_RCVBUFFORCE`
    /// (with CAP_NET_ADMIN, past `net.core.rmem_max`, as Open vSwitch does for its upcall
    /// sockets: a burst of upcalls must not overflow while a handler is busy), else
    /// `SO_RCVBUF` (capped at `rmem_max`).
    pub fn set_rcvbuf(&self, bytes: usize) {
        let v = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
        let fd = self.sock.as_raw_fd();
        if crate::netdev::sys::setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, v).is_err() {
            let _ = self.sock.set_recv_buffer_size(bytes);
        }
    }

    /// Joins a multicast group.
    pub fn join_group(&self, group: u32) -> Result<(), TransportError> {
        self.sock.add_mcast_membership(Groups::new_groups(&[group]))?;
        Ok(())
    }

    fn send(&mut self, nl_type: u16, flags: NlmF, payload: Vec<u8>) -> Result<u32, TransportError> {
        let seqs = self.send_many(&[(nl_type, flags, payload.as_slice())])?;
        Ok(seqs.first().copied().unwrap_or(self.seq))
    }

    /// Sends several requests in one datagram (one `sendmsg`); the kernel handles them in order.
    /// Returns their sequence numbers.
    pub fn send_many(&mut self, reqs: &[(u16, NlmF, &[u8])]) -> Result<Vec<u32>, TransportError> {
        let mut c = Cursor::new(Vec::new());
        let mut seqs = Vec::with_capacity(reqs.len());
        for (nl_type, flags, payload) in reqs {
            self.seq = self.seq.wrapping_add(1);
            let msg = NlmsghdrBuilder::default()
                .nl_type(*nl_type)
                .nl_flags(*flags | NlmF::REQUEST)
                .nl_seq(self.seq)
                .nl_payload(NlPayload::Payload(Buffer::from(*payload)))
                .build()
                .map_err(|e| TransportError::Malformed(e.to_string()))?;
            msg.to_bytes(&mut c).map_err(|e| TransportError::Malformed(e.to_string()))?;
            seqs.push(self.seq);
        }
        self.sock.send(c.get_ref(), Msg::empty())?;
        Ok(seqs)
    }

    /// Waits for the acknowledgement of request `seq` (skipping stale messages, such as the
    /// error of an earlier request sent without `NLM_F_ACK`); returns its reply payload, if any.
    pub fn wait_ack(&mut self, seq: u32) -> Result<Option<Vec<u8>>, TransportError> {
        let mut reply = None;
        loop {
            for m in self.recv(false)?.unwrap_or_default() {
                match m {
                    Received::Data { seq: s, payload, .. } if s == seq => reply = Some(payload),
                    Received::Done { seq: s } if s == seq => return Ok(reply),
                    Received::Error { seq: s, err } if s == seq => return Err(err),
                    _ => {} // stale or unrelated
                }
            }
        }
    }

    /// Waits for the outcome of the requests `seqs`, sent in that order on this socket, of which
    /// only the last carried `NLM_F_ACK`: the kernel handles a socket's requests in order and
    /// answers one without `NLM_F_ACK` only when it fails, so every failure has arrived once the
    /// last request's acknowledgement has. Returns each one's outcome, in the order of `seqs`.
    /// Messages for other sequence numbers are skipped, as in [`GenlSocket::wait_ack`].
    pub fn wait_last_ack(&mut self, seqs: &[u32]) -> Result<Vec<Result<(), TransportError>>, TransportError> {
        let mut out: Vec<Result<(), TransportError>> = seqs.iter().map(|_| Ok(())).collect();
        let Some(&last) = seqs.last() else { return Ok(out) };
        loop {
            for m in self.recv(false)?.unwrap_or_default() {
                let (s, r) = match m {
                    Received::Done { seq } => (seq, Ok(())),
                    Received::Error { seq, err } => (seq, Err(err)),
                    Received::Data { .. } => continue,
                };
                if let Some(i) = seqs.iter().position(|&q| q == s) {
                    out[i] = r;
                }
                if s == last {
                    return Ok(out);
                }
            }
        }
    }

    /// Receives one datagram. `Ok(None)` if non-blocking and nothing is queued.
    pub fn recv(&mut self, nonblock: bool) -> Result<Option<Vec<Received>>, TransportError> {
        let flags = if nonblock { Msg::DONTWAIT | Msg::TRUNC } else { Msg::TRUNC };
        let n = match self.sock.recv(&mut self.buf[..], flags) {
            Ok((n, _)) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(Some(Vec::new())),
            Err(e) => return Err(e.into()),
        };
        if n > self.buf.len() {
            return Err(TransportError::Truncated(n));
        }
        decode_datagram(&self.buf[..n]).map(Some)
    }

    /// Sends a request with `NLM_F_ACK` and waits for its acknowledgement; returns the reply
    /// message's payload if the kernel sent one (requests with `NLM_F_ECHO`, or GETs).
    pub fn transact(&mut self, nl_type: u16, flags: NlmF, payload: Vec<u8>) -> Result<Option<Vec<u8>>, TransportError> {
        let seq = self.send(nl_type, flags | NlmF::ACK, payload)?;
        self.wait_ack(seq)
    }

    /// Runs a dump and returns every entry's payload.
    pub fn dump(&mut self, nl_type: u16, payload: Vec<u8>) -> Result<Vec<Vec<u8>>, TransportError> {
        let seq = self.send(nl_type, NlmF::DUMP | NlmF::ACK, payload)?;
        let mut out = Vec::new();
        loop {
            for m in self.recv(false)?.unwrap_or_default() {
                match m {
                    Received::Data { seq: s, payload, .. } if s == seq => out.push(payload),
                    Received::Done { seq: s } if s == seq => return Ok(out),
                    Received::Error { seq: s, err } if s == seq => return Err(err),
                    _ => {}
                }
            }
        }
    }

    /// Resolves a generic netlink family by name (`CTRL_CMD_GETFAMILY`). A missing family is
    /// `Kernel { errno: ENOENT }`.
    pub fn resolve_family(&mut self, name: &str) -> Result<Family, TransportError> {
        let reply = self
            .transact(GENL_ID_CTRL, NlmF::empty(), getfamily_request(name)?)?
            .ok_or_else(|| TransportError::Malformed(format!("no reply resolving {name}")))?;
        parse_family(&reply)
    }
}

/// The payload of a `CTRL_CMD_GETFAMILY` request for `name`.
fn getfamily_request(name: &str) -> Result<Vec<u8>, TransportError> {
    let attr = NlattrBuilder::default()
        .nla_type(AttrTypeBuilder::default().nla_type(CtrlAttr::FamilyName).build().map_err(malformed)?)
        .nla_payload(name)
        .build()
        .map_err(malformed)?;
    let genl = GenlmsghdrBuilder::<CtrlCmd, CtrlAttr, NoUserHeader>::default()
        .cmd(CtrlCmd::Getfamily)
        .version(2)
        .attrs(std::iter::once(attr).collect::<GenlBuffer<_, _>>())
        .build()
        .map_err(malformed)?;
    let mut c = Cursor::new(Vec::new());
    genl.to_bytes(&mut c).map_err(malformed)?;
    Ok(c.into_inner())
}

fn malformed(e: impl std::fmt::Display) -> TransportError {
    TransportError::Malformed(e.to_string())
}

/// Parses a `CTRL_CMD_NEWFAMILY` reply payload.
pub fn parse_family(payload: &[u8]) -> Result<Family, TransportError> {
    let genl = Genlmsghdr::<CtrlCmd, CtrlAttr>::from_bytes_with_input(&mut Cursor::new(payload), payload.len())
        .map_err(malformed)?;
    let handle = genl.attrs().get_attr_handle();
    let id = handle.get_attr_payload_as::<u16>(CtrlAttr::FamilyId).map_err(malformed)?;
    let mut mcast_groups = Vec::new();
    if let Ok(groups) = handle.get_nested_attributes::<Index>(CtrlAttr::McastGroups) {
        for g in groups.iter() {
            let Ok(ga) = g.get_attr_handle::<CtrlAttrMcastGrp>() else { continue };
            let name = ga.get_attr_payload_as_with_len::<String>(CtrlAttrMcastGrp::Name);
            let gid = ga.get_attr_payload_as::<u32>(CtrlAttrMcastGrp::Id);
            if let (Ok(n), Ok(i)) = (name, gid) {
                mcast_groups.push((n, i));
            }
        }
    }
    Ok(Family { id, mcast_groups })
}

impl AsRawFd for GenlSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

/// Receives up to `bufs.len()` datagrams in one `recvmmsg` call without blocking: returns
/// each one's length and whether it was truncated (longer than its buffer), in order; an empty
/// vector if none is queued.
pub fn recv_many(fd: RawFd, bufs: &mut [Vec<u8>]) -> io::Result<Vec<(usize, bool)>> {
    let mut iovs: Vec<libc::iovec> =
        bufs.iter_mut().map(|b| libc::iovec { iov_base: b.as_mut_ptr().cast(), iov_len: b.len() }).collect();
    // SAFETY: an all-zero mmsghdr is valid (null name and control, no iovecs).
    let mut msgs: Vec<libc::mmsghdr> = iovs.iter_mut().map(|_| unsafe { std::mem::zeroed() }).collect();
    for (m, iov) in msgs.iter_mut().zip(iovs.iter_mut()) {
        m.msg_hdr.msg_iov = iov;
        m.msg_hdr.msg_iovlen = 1;
    }
    let vlen = libc::c_uint::try_from(msgs.len()).unwrap_or(libc::c_uint::MAX);
    // SAFETY: `msgs` holds `vlen` headers, each pointing at one iovec of `iovs` that describes
    // an exclusively borrowed buffer of `bufs` of that length; all outlive the call, and a null
    // timeout is allowed.
    let r = unsafe { libc::recvmmsg(fd, msgs.as_mut_ptr(), vlen, libc::MSG_DONTWAIT, std::ptr::null_mut()) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted { Ok(Vec::new()) } else { Err(e) };
    }
    let n = usize::try_from(r).unwrap_or(0);
    Ok(msgs[..n]
        .iter()
        .map(|m| (m.msg_len as usize, m.msg_hdr.msg_flags & libc::MSG_TRUNC != 0))
        .collect())
}

/// Waits until `fd` is readable or `timeout_ms` passes (-1: forever). Returns readability.
pub fn wait_readable(fds: &[RawFd], timeout_ms: i32) -> io::Result<Vec<bool>> {
    let mut pfds: Vec<libc::pollfd> =
        fds.iter().map(|&fd| libc::pollfd { fd, events: libc::POLLIN, revents: 0 }).collect();
    // SAFETY: `pfds` is a valid, exclusively borrowed array of `pfds.len()` pollfd structs for
    // the duration of the call.
    let r = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(vec![false; fds.len()]);
        }
        return Err(e);
    }
    Ok(pfds.iter().map(|p| p.revents & (libc::POLLIN | libc::POLLERR) != 0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Requests without `NLM_F_ACK` answer only their failures, all before the last request's
    /// acknowledgement (the generic netlink controller of the host kernel answers).
    #[test]
    fn wait_last_ack_reports_each_failure() {
        let mut s = GenlSocket::open().unwrap();
        let (bad, good) = (getfamily_request("rvs_no_such_family").unwrap(), getfamily_request("nlctrl").unwrap());
        let reqs = [
            (GENL_ID_CTRL, NlmF::empty(), bad.as_slice()),
            (GENL_ID_CTRL, NlmF::empty(), good.as_slice()),
            (GENL_ID_CTRL, NlmF::empty(), bad.as_slice()),
            (GENL_ID_CTRL, NlmF::ACK, good.as_slice()),
        ];
        let seqs = s.send_many(&reqs).unwrap();
        let r = s.wait_last_ack(&seqs).unwrap();
        // (Linux says ENOENT for an unknown family; some sandboxes say EINVAL.)
        let failed: Vec<bool> = r.iter().map(|r| r.as_ref().is_err_and(|e| e.errno().is_some_and(|n| n > 0))).collect();
        assert_eq!(failed, vec![true, false, true, false]);
        // Nothing is left over for the next request.
        assert!(s.recv(true).unwrap().is_none());
        assert_eq!(s.wait_last_ack(&[]).unwrap().len(), 0);
    }

    #[test]
    fn recv_many_reads_several_datagrams_and_flags_truncation() {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors socketpair writes.
        assert_eq!(unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_DGRAM, 0, fds.as_mut_ptr()) }, 0);
        let mut bufs = vec![vec![0u8; 8]; 4];
        assert!(recv_many(fds[0], &mut bufs).unwrap().is_empty(), "nothing queued: no blocking");
        for d in [&b"abc"[..], b"0123456789", b"xy"] {
            // SAFETY: `d` is a valid buffer of `d.len()` bytes.
            assert_eq!(unsafe { libc::send(fds[1], d.as_ptr().cast(), d.len(), 0) }, d.len() as isize);
        }
        let got = recv_many(fds[0], &mut bufs).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], (3, false));
        assert!(got[1].1, "10 bytes in an 8-byte buffer");
        assert_eq!(got[2], (2, false));
        assert_eq!(&bufs[0][..3], b"abc");
        assert_eq!(&bufs[2][..2], b"xy");
        for fd in fds {
            // SAFETY: `fd` came from socketpair and is closed once.
            unsafe { libc::close(fd) };
        }
    }

    fn nlmsg(ty: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let len = 16 + payload.len() as u32;
        let mut v = Vec::new();
        v.extend_from_slice(&len.to_ne_bytes());
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(payload);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    #[test]
    fn decodes_data_ack_and_error_with_extack() {
        let mut dgram = nlmsg(0x20, 0, 7, &[1, 2, 0, 0, 0, 0, 0, 0]);
        // ACK: error 0 + the request's header.
        let mut ack = 0i32.to_ne_bytes().to_vec();
        ack.extend_from_slice(&nlmsg(0x20, 5, 7, &[])[..16]);
        dgram.extend(nlmsg(2, 0x100, 7, &ack));
        // Error -EEXIST echoing the 8-byte request payload, then NLMSGERR_ATTR_MSG "exists".
        let mut err = (-17i32).to_ne_bytes().to_vec();
        err.extend_from_slice(&nlmsg(0x20, 5, 8, &[9; 8]));
        err.extend_from_slice(&[11, 0, 1, 0]);
        err.extend_from_slice(b"exists\0\0");
        dgram.extend(nlmsg(2, 0x300, 8, &err));
        let got = decode_datagram(&dgram).unwrap();
        assert_eq!(got.len(), 3);
        assert!(matches!(&got[0], Received::Data { nl_type: 0x20, seq: 7, payload } if payload.len() == 8));
        assert!(matches!(got[1], Received::Done { seq: 7 }));
        match &got[2] {
            Received::Error { seq: 8, err } => {
                assert_eq!(err.errno(), Some(17));
                assert!(matches!(err, TransportError::Kernel { extack: Some(m), .. } if m == "exists"));
                assert!(err.to_string().contains("(exists)"), "{err}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn decodes_unaligned_last_message() {
        // An upcall whose 5-byte packet attribute ends the datagram unpadded (nl_len 16+8+9).
        let mut m = Vec::new();
        m.extend_from_slice(&33u32.to_ne_bytes());
        m.extend_from_slice(&0x21u16.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
        m.extend_from_slice(&[9, 0, 1, 0, 1, 2, 3, 4, 5]);
        assert_eq!(m.len(), 33);
        match &decode_datagram(&m).unwrap()[..] {
            [Received::Data { nl_type: 0x21, payload, .. }] => assert_eq!(&payload[8..], &[9, 0, 1, 0, 1, 2, 3, 4, 5]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn decodes_dump_done_with_error() {
        let done_ok = nlmsg(3, 2, 4, &0i32.to_ne_bytes());
        assert!(matches!(decode_datagram(&done_ok).unwrap()[0], Received::Done { seq: 4 }));
        let done_err = nlmsg(3, 2, 4, &(-22i32).to_ne_bytes());
        match &decode_datagram(&done_err).unwrap()[0] {
            Received::Error { err, .. } => assert_eq!(err.errno(), Some(22)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        assert!(matches!(decode_datagram(&[0xff, 0, 0, 0, 1]), Err(TransportError::Malformed(_))));
    }

    #[test]
    fn parses_ctrl_family_reply() {
        use rvs_core::nla::Writer;
        // genlmsghdr {NEWFAMILY, v2} + FAMILY_NAME + FAMILY_ID + MCAST_GROUPS{ [1]{NAME, ID} }
        let mut attrs = vec![0u8; 256];
        let mut w = Writer::new(&mut attrs);
        w.put(2, b"ovs_vport\0").unwrap();
        w.put(1, &0x22u16.to_ne_bytes()).unwrap();
        let groups = w.begin_nest(7).unwrap();
        let one = w.begin_nest(1).unwrap();
        w.put(1, b"ovs_vport\0").unwrap();
        w.put_u32(2, 9).unwrap();
        w.end_nest(one).unwrap();
        w.end_nest(groups).unwrap();
        let n = w.len();
        let mut p = vec![1u8, 2, 0, 0];
        p.extend_from_slice(&attrs[..n]);
        let f = parse_family(&p).unwrap();
        assert_eq!(f.id, 0x22);
        assert_eq!(f.group("ovs_vport"), Some(9));
        assert_eq!(f.group("nope"), None);
    }
}
