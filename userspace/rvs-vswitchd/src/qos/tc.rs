//! Traffic control over rtnetlink: a `NETLINK_ROUTE` socket (neli) that replaces a device's
//! root qdisc with HTB, adds its classes, and deletes the root qdisc; each request is
//! acknowledged and a kernel refusal comes back as [`TcError`] with the extended-ack text.

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
            .nl_flags(flags | NlmF::REQUEST | NlmF::ACK)
            .nl_seq(seq)
            .nl_payload(NlPayload::Payload(tcm))
            .build()
            .map_err(|e| bad(e.to_string()))?;
        let mut c = Cursor::new(Vec::new());
        msg.to_bytes(&mut c).map_err(|e| bad(e.to_string()))?;
        self.sock.send(c.get_ref(), Msg::empty())?;
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
