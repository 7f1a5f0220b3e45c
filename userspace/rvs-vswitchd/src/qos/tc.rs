//! Traffic control over rtnetlink: a `NETLINK_ROUTE` socket (neli) that replaces a device's
//! root qdisc with HTB, adds its classes, and deletes the root qdisc; each request is
//! acknowledged and a kernel refusal comes back as [`TcError`] with the extended-ack text.
//! [`TcSocket::class_stats`] dumps a device's classes with their counters (`TCA_STATS2`), which
//! OpenFlow queue statistics report ([`super::queues`]).

use std::io::{self, Cursor};

use neli::consts::nl::NlmF;
use neli::consts::rtnl::{Rtm, Tca};
use neli::consts::socket::{Msg, NlFamily};
use neli::nl::{NlPayload, Nlmsghdr, NlmsghdrBuilder};
use neli::rtnl::{RtattrBuilder, TcmsgBuilder};
use neli::socket::NlSocket;
use neli::types::{Buffer, RtBuffer};
use neli::utils::Groups;
use neli::{FromBytes, ToBytes};

use super::htb::{self, HtbSpec, QDISC_HANDLE, ROOT_CLASS};

/// `TC_H_ROOT`.
const TC_H_ROOT: u32 = 0xffff_ffff;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWTCLASS: u16 = 40;
/// `struct tcmsg` size.
const TCMSG_LEN: usize = 20;
const TCA_KIND: u16 = 1;
const TCA_STATS2: u16 = 7;
const TCA_STATS_BASIC: u16 = 1;
const TCA_STATS_QUEUE: u16 = 3;
const TCA_STATS_PKT64: u16 = 8;

/// One tc class and its counters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClassStats {
    /// Device.
    pub ifindex: i32,
    /// `major:minor` handle.
    pub handle: u32,
    /// Parent handle.
    pub parent: u32,
    /// Qdisc kind (`htb`).
    pub kind: String,
    /// Bytes sent.
    pub bytes: u64,
    /// Packets sent.
    pub packets: u64,
    /// Packets dropped.
    pub drops: u64,
}

/// One netlink message of a received buffer.
struct RawMsg<'a> {
    ty: u16,
    seq: u32,
    payload: &'a [u8],
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(off..off + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(off..off + 8)?.try_into().ok()?))
}

/// The netlink messages in `data` (a truncated tail is ignored).
fn split_messages(data: &[u8]) -> Vec<RawMsg<'_>> {
    let mut out = Vec::new();
    let mut off = 0usize;
    while let (Some(len), Some(ty), Some(seq)) = (u32_at(data, off), u16_at(data, off + 4), u32_at(data, off + 8)) {
        let len = len as usize;
        let Some(payload) = data.get(off + 16..off + len.max(16)) else { break };
        out.push(RawMsg { ty, seq, payload });
        if len < 16 {
            break;
        }
        off += len.next_multiple_of(4);
    }
    out
}

/// The attributes of an attribute block: (type without flags, payload).
fn attrs(mut b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while let (Some(len), Some(ty)) = (u16_at(b, 0), u16_at(b, 2)) {
        let len = usize::from(len);
        let Some(p) = b.get(4..len.max(4)) else { break };
        out.push((ty & 0x3fff, p));
        b = b.get(len.max(4).next_multiple_of(4)..).unwrap_or_default();
    }
    out
}

/// A class from an `RTM_NEWTCLASS` payload (`struct tcmsg` + attributes).
fn parse_class(p: &[u8]) -> Option<ClassStats> {
    let mut c = ClassStats {
        ifindex: i32::from_ne_bytes(p.get(4..8)?.try_into().ok()?),
        handle: u32_at(p, 8)?,
        parent: u32_at(p, 12)?,
        ..Default::default()
    };
    for (ty, v) in attrs(p.get(TCMSG_LEN..)?) {
        match ty {
            TCA_KIND => c.kind = String::from_utf8_lossy(v.split(|&b| b == 0).next().unwrap_or_default()).into_owned(),
            TCA_STATS2 => {
                let mut pkt64 = None;
                for (sty, sv) in attrs(v) {
                    match sty {
                        // struct gnet_stats_basic { u64 bytes; u32 packets; }
                        TCA_STATS_BASIC => {
                            c.bytes = u64_at(sv, 0).unwrap_or(0);
                            c.packets = u64::from(u32_at(sv, 8).unwrap_or(0));
                        }
                        // struct gnet_stats_queue { qlen, backlog, drops, requeues, overlimits }
                        TCA_STATS_QUEUE => c.drops = u64::from(u32_at(sv, 8).unwrap_or(0)),
                        TCA_STATS_PKT64 => pkt64 = u64_at(sv, 0),
                        _ => {}
                    }
                }
                if let Some(p) = pkt64 {
                    c.packets = p;
                }
            }
            _ => {}
        }
    }
    Some(c)
}

/// Traffic-control failures.
#[derive(Debug, thiserror::Error)]
pub enum TcError {
    /// The socket failed.
    #[error("rtnetlink socket: {0}")]
    Io(#[from] io::Error),
    /// The kernel refused a request.
    #[error("{what}: {}{}", io::Error::from_raw_os_error(*errno), extack.as_ref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Kernel {
        /// What was asked.
        what: String,
        /// Positive errno.
        errno: i32,
        /// The kernel's extended-ack message.
        extack: Option<String>,
    },
    /// A message could not be built or decoded.
    #[error("rtnetlink message: {0}")]
    Malformed(String),
}

impl TcError {
    /// The errno of a kernel refusal.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::Kernel { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

/// One qdisc or class of a request: its handle, its parent, and (to create it) its kind and
/// `TCA_OPTIONS` payload.
struct Obj {
    handle: u32,
    parent: u32,
    kind: Option<&'static str>,
    options: Option<Vec<u8>>,
}

/// An rtnetlink socket for tc requests.
pub struct TcSocket {
    sock: NlSocket,
    seq: u32,
    buf: Vec<u8>,
}

impl std::fmt::Debug for TcSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcSocket").field("seq", &self.seq).finish()
    }
}

impl TcSocket {
    /// Opens the socket.
    pub fn open() -> Result<TcSocket, TcError> {
        let sock = NlSocket::connect(NlFamily::Route, None, Groups::empty())?;
        let _ = sock.enable_ext_ack(true);
        Ok(TcSocket { sock, seq: 1, buf: vec![0; 32 * 1024] })
    }

    fn request(&mut self, what: &str, ty: Rtm, flags: NlmF, ifindex: i32, obj: Obj) -> Result<(), TcError> {
        let seq = self.send(ty, flags | NlmF::ACK, ifindex, obj)?;
        let bad = |e: String| TcError::Malformed(e);
        loop {
            let (n, _) = self.sock.recv(&mut self.buf[..], Msg::empty())?;
            let data = &self.buf[..n.min(self.buf.len())];
            let mut cur = Cursor::new(data);
            while (cur.position() as usize) < data.len() {
                let m = Nlmsghdr::<u16, Buffer>::from_bytes(&mut cur).map_err(|e| bad(e.to_string()))?;
                if *m.nl_seq() != seq {
                    continue;
                }
                match m.nl_payload() {
                    NlPayload::Err(e) => {
                        let extack = e.ext_ack().iter().find(|a| *a.nla_type().nla_type() == neli::consts::nl::NlmsgerrAttr::Msg).map(|a| {
                            let b = a.nla_payload().as_ref();
                            String::from_utf8_lossy(b.split(|&c| c == 0).next().unwrap_or(&[])).into_owned()
                        });
                        return Err(TcError::Kernel { what: what.to_string(), errno: -*e.error(), extack });
                    }
                    NlPayload::Ack(_) | NlPayload::Empty => return Ok(()),
                    _ => {}
                }
            }
        }
    }

    /// Sends one tc request (`NLM_F_REQUEST` added to `flags`); returns its sequence number.
    fn send(&mut self, ty: Rtm, flags: NlmF, ifindex: i32, obj: Obj) -> Result<u32, TcError> {
        let bad = |e: String| TcError::Malformed(e);
        let Obj { handle, parent, kind, options } = obj;
        let mut attrs = RtBuffer::new();
        if let Some(k) = kind {
            let mut b = k.as_bytes().to_vec();
            b.push(0);
            attrs.push(RtattrBuilder::default().rta_type(Tca::Kind).rta_payload(Buffer::from(b)).build().map_err(|e| bad(e.to_string()))?);
        }
        if let Some(o) = options {
            attrs.push(RtattrBuilder::default().rta_type(Tca::Options).rta_payload(Buffer::from(o)).build().map_err(|e| bad(e.to_string()))?);
        }
        let tcm = TcmsgBuilder::default()
            .tcm_family(libc::AF_UNSPEC as u8)
            .tcm_ifindex(ifindex)
            .tcm_handle(handle)
            .tcm_parent(parent)
            .tcm_info(0)
            .rtattrs(attrs)
            .build()
            .map_err(|e| bad(e.to_string()))?;
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let msg = NlmsghdrBuilder::default()
            .nl_type(ty)
            .nl_flags(flags | NlmF::REQUEST)
            .nl_seq(seq)
            .nl_payload(NlPayload::Payload(tcm))
            .build()
            .map_err(|e| bad(e.to_string()))?;
        let mut c = Cursor::new(Vec::new());
        msg.to_bytes(&mut c).map_err(|e| bad(e.to_string()))?;
        self.sock.send(c.get_ref(), Msg::empty())?;
        Ok(seq)
    }

    /// The classes of device `ifindex` with their counters (`RTM_GETTCLASS` dump).
    pub fn class_stats(&mut self, ifindex: i32) -> Result<Vec<ClassStats>, TcError> {
        let seq = self.send(Rtm::Gettclass, NlmF::DUMP, ifindex, Obj { handle: 0, parent: 0, kind: None, options: None })?;
        let mut out = Vec::new();
        loop {
            let (n, _) = self.sock.recv(&mut self.buf[..], Msg::empty())?;
            let data = self.buf.get(..n).unwrap_or_default();
            if data.is_empty() {
                return Err(TcError::Malformed("class dump: connection closed".into()));
            }
            for m in split_messages(data) {
                if m.seq != seq {
                    continue;
                }
                match m.ty {
                    NLMSG_DONE => return Ok(out),
                    NLMSG_ERROR => {
                        let errno = m.payload.get(..4).map_or(0, |b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                        if errno != 0 {
                            return Err(TcError::Kernel { what: "dumping classes".into(), errno: -errno, extack: None });
                        }
                    }
                    RTM_NEWTCLASS => {
                        if let Some(c) = parse_class(m.payload).filter(|c| c.ifindex == ifindex) {
                            out.push(c);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Deletes the root qdisc of `ifindex` (back to the device's default); a device without
    /// one is not an error.
    pub fn del_root(&mut self, ifindex: i32) -> Result<(), TcError> {
        match self.request("deleting the root qdisc", Rtm::Delqdisc, NlmF::empty(), ifindex, Obj { handle: 0, parent: TC_H_ROOT, kind: None, options: None }) {
            Err(e) if matches!(e.errno(), Some(libc::ENOENT | libc::EINVAL | libc::ENODEV)) => Ok(()),
            r => r,
        }
    }

    /// Replaces whatever root qdisc `ifindex` has with the HTB tree of `spec`; if any part is
    /// refused, the device is left with its default qdisc rather than half a tree.
    pub fn install_htb(&mut self, ifindex: i32, spec: &HtbSpec) -> Result<(), TcError> {
        self.del_root(ifindex)?;
        let r = self.build_htb(ifindex, spec);
        if r.is_err() {
            let _ = self.del_root(ifindex);
        }
        r
    }

    fn build_htb(&mut self, ifindex: i32, spec: &HtbSpec) -> Result<(), TcError> {
        self.request("adding the htb root qdisc", Rtm::Newqdisc, NlmF::CREATE | NlmF::EXCL, ifindex, Obj { handle: QDISC_HANDLE, parent: TC_H_ROOT, kind: Some("htb"), options: Some(htb::qdisc_options()) })?;
        self.request("adding htb class 1:fffe", Rtm::Newtclass, NlmF::CREATE | NlmF::EXCL, ifindex, Obj { handle: ROOT_CLASS, parent: QDISC_HANDLE, kind: Some("htb"), options: Some(htb::class_options(&spec.root)) })?;
        for (q, c) in &spec.queues {
            let h = HtbSpec::queue_handle(*q);
            self.request(&format!("adding htb class 1:{:x} (queue {q})", h & 0xffff), Rtm::Newtclass, NlmF::CREATE | NlmF::EXCL, ifindex, Obj { handle: h, parent: ROOT_CLASS, kind: Some("htb"), options: Some(htb::class_options(c)) })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nla(ty: u16, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&((4 + payload.len()) as u16).to_ne_bytes());
        out.extend_from_slice(&ty.to_ne_bytes());
        out.extend_from_slice(payload);
        out.resize(out.len().next_multiple_of(4), 0);
        out
    }

    #[test]
    fn parses_a_class_dump_message() {
        let mut basic = 123_456u64.to_ne_bytes().to_vec();
        basic.extend_from_slice(&789u32.to_ne_bytes());
        basic.extend_from_slice(&[0; 4]);
        let mut queue = Vec::new();
        for v in [0u32, 0, 5, 0, 9] {
            queue.extend_from_slice(&v.to_ne_bytes());
        }
        let stats2 = [nla(TCA_STATS_BASIC, &basic), nla(TCA_STATS_QUEUE, &queue)].concat();
        let mut tcm = vec![0u8; 4];
        tcm.extend_from_slice(&7i32.to_ne_bytes());
        tcm.extend_from_slice(&0x0001_0002u32.to_ne_bytes());
        tcm.extend_from_slice(&0x0001_fffeu32.to_ne_bytes());
        tcm.extend_from_slice(&0u32.to_ne_bytes());
        let payload = [tcm, nla(TCA_KIND, b"htb\0"), nla(TCA_STATS2, &stats2)].concat();
        let mut msg = Vec::new();
        msg.extend_from_slice(&((16 + payload.len()) as u32).to_ne_bytes());
        msg.extend_from_slice(&RTM_NEWTCLASS.to_ne_bytes());
        msg.extend_from_slice(&2u16.to_ne_bytes());
        msg.extend_from_slice(&42u32.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(&payload);
        let done = [20u32.to_ne_bytes().to_vec(), NLMSG_DONE.to_ne_bytes().to_vec(), vec![2, 0], 42u32.to_ne_bytes().to_vec(), vec![0; 8]].concat();
        let buf = [msg, done].concat();
        let ms = split_messages(&buf);
        assert_eq!(ms.iter().map(|m| (m.ty, m.seq)).collect::<Vec<_>>(), vec![(RTM_NEWTCLASS, 42), (NLMSG_DONE, 42)]);
        let c = parse_class(ms[0].payload).unwrap();
        assert_eq!(c, ClassStats { ifindex: 7, handle: 0x1_0002, parent: 0x1_fffe, kind: "htb".into(), bytes: 123_456, packets: 789, drops: 5 });
        assert!(parse_class(&[0; 8]).is_none(), "a short message is refused, not read past");
        assert!(split_messages(&[1, 0, 0]).is_empty());
    }
}
