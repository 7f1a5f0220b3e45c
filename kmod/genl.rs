//! Generic netlink plumbing: the request being handled ([`Request`], [`DumpRequest`]), outgoing messages built
//! with the core's attribute writer directly in the skb's tail room ([`Msg`]), and the errno values rvs returns.

use core::ffi::c_void;
use core::fmt::Write;

use kernel::prelude::*;

use crate::glue::{ffi, GenlInfo, Net, NetlinkCallback, SkBuff};
use crate::nla::Writer;
use crate::ovs::CodecError;

/// Family indexes (`enum rvs_family` in `rvs_glue.h`).
pub(crate) mod fam {
    pub(crate) const DP: i32 = 0;
    pub(crate) const VPORT: i32 = 1;
    pub(crate) const FLOW: i32 = 2;
    pub(crate) const PACKET: i32 = 3;
    pub(crate) const METER: i32 = 4;
    /// rvs's brctl relay (`brcompat.rs`).
    pub(crate) const BRC: i32 = 5;
}

/// Errno values the kernel crate does not name.
pub(crate) mod errno {
    pub(crate) const EOPNOTSUPP: i32 = 95;
    pub(crate) const EAFNOSUPPORT: i32 = 97;
    pub(crate) const EMSGSIZE: i32 = 90;
    pub(crate) const ENOTCONN: i32 = 107;
}

/// `NLM_F_ECHO` and friends.
pub(crate) const NLM_F_MULTI: i32 = 0x2;
/// `NLM_F_EXCL`.
pub(crate) const NLM_F_EXCL: u16 = 0x200;
/// `NLM_F_CREATE`.
pub(crate) const NLM_F_CREATE: u16 = 0x400;

/// An `Error` from a positive errno.
pub(crate) fn err(e: i32) -> Error {
    Error::from_errno(e.wrapping_neg())
}

/// Size of `struct ovs_header`.
pub(crate) const OVS_HDRLEN: usize = 4;

/// Splits a request payload into the `ovs_header`'s `dp_ifindex` and the attributes.
fn split_payload(p: &[u8]) -> (i32, &[u8]) {
    let ifindex = p.get(..4).and_then(|b| b.try_into().ok()).map(i32::from_ne_bytes).unwrap_or(0);
    (ifindex, p.get(OVS_HDRLEN..).unwrap_or(&[]))
}

/// A `doit` request.
///
/// # Invariants
///
/// `info` is the valid `genl_info` of the request being handled, alive for `'a`.
pub(crate) struct Request<'a> {
    info: *mut GenlInfo,
    /// `ovs_header.dp_ifindex`.
    pub(crate) dp_ifindex: i32,
    /// The attributes after the `ovs_header`.
    pub(crate) attrs: &'a [u8],
}

impl<'a> Request<'a> {
    /// Wraps the request being handled.
    ///
    /// # Safety
    ///
    /// `info` is valid for `'a` (the duration of the `doit` callback).
    pub(crate) unsafe fn new(info: *mut GenlInfo) -> Self {
        let mut len = 0usize;
        // SAFETY: By the function's safety contract; genl checked the message holds at least the headers.
        let payload = unsafe {
            let p = ffi::rvs_info_payload(info, &mut len);
            core::slice::from_raw_parts(p, len)
        };
        let (dp_ifindex, attrs) = split_payload(payload);
        Self { info, dp_ifindex, attrs }
    }

    /// The raw info pointer.
    pub(crate) fn info(&self) -> *mut GenlInfo {
        self.info
    }

    /// The sender's port id.
    pub(crate) fn portid(&self) -> u32 {
        // SAFETY: Valid info by the type invariant.
        unsafe { ffi::rvs_info_portid(self.info) }
    }

    /// The request's sequence number.
    pub(crate) fn seq(&self) -> u32 {
        // SAFETY: Valid info by the type invariant.
        unsafe { ffi::rvs_info_seq(self.info) }
    }

    /// `nlmsg_flags`.
    pub(crate) fn nlflags(&self) -> u16 {
        // SAFETY: Valid info by the type invariant.
        unsafe { ffi::rvs_info_nlflags(self.info) }
    }

    /// The sender's network namespace.
    pub(crate) fn net(&self) -> *mut Net {
        // SAFETY: Valid info by the type invariant.
        unsafe { ffi::rvs_info_net(self.info) }
    }

    /// Sets the extended-ack message.
    pub(crate) fn set_err_msg(&self, args: core::fmt::Arguments<'_>) {
        let mut buf = MsgBuf { buf: [0; 80], len: 0 };
        let _ = buf.write_fmt(args);
        // SAFETY: Valid info; the message is copied (formatted) into the extack's own buffer.
        unsafe { ffi::rvs_info_set_err(self.info, buf.buf.as_ptr(), buf.len) };
    }

    /// Reports a codec error as extended ack and returns its errno.
    pub(crate) fn codec_err(&self, e: CodecError) -> Error {
        self.set_err_msg(format_args!("{}", e));
        err(e.errno())
    }

    /// Whether a notification must be built for a change (`NLM_F_ECHO` or listeners on the family's group).
    pub(crate) fn must_notify(&self, family: i32) -> bool {
        // SAFETY: Valid info.
        unsafe { ffi::rvs_genl_must_notify(family, self.info) }
    }
}

/// A fixed buffer for extended-ack text (truncated silently).
struct MsgBuf {
    buf: [u8; 80],
    len: usize,
}

impl Write for MsgBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &b in s.as_bytes() {
            if let Some(d) = self.buf.get_mut(self.len) {
                *d = b;
                self.len = self.len.wrapping_add(1);
            }
        }
        Ok(())
    }
}

/// A `dumpit` request.
///
/// # Invariants
///
/// `cb` and `skb` are the valid callback and output skb of the dump call being handled.
pub(crate) struct DumpRequest<'a> {
    cb: *mut NetlinkCallback,
    skb: *mut SkBuff,
    /// `ovs_header.dp_ifindex` of the request.
    pub(crate) dp_ifindex: i32,
    /// The request's attributes.
    pub(crate) attrs: &'a [u8],
}

impl<'a> DumpRequest<'a> {
    /// Wraps a dump call.
    ///
    /// # Safety
    ///
    /// `cb` and `skb` are valid for `'a`.
    pub(crate) unsafe fn new(skb: *mut SkBuff, cb: *mut NetlinkCallback) -> Self {
        let mut len = 0usize;
        // SAFETY: By the function's safety contract.
        let payload = unsafe {
            let p = ffi::rvs_cb_payload(cb, &mut len);
            core::slice::from_raw_parts(p, len)
        };
        let (dp_ifindex, attrs) = split_payload(payload);
        Self { cb, skb, dp_ifindex, attrs }
    }

    /// The dump's state words (`cb->args`, zero at the start of a dump).
    pub(crate) fn args(&mut self) -> &mut [core::ffi::c_long; 6] {
        // SAFETY: `cb->args` is an array of 6 longs in the valid callback, exclusively ours during the call.
        unsafe { &mut *ffi::rvs_cb_args(self.cb).cast::<[core::ffi::c_long; 6]>() }
    }

    /// The requester's namespace.
    pub(crate) fn net(&self) -> *mut Net {
        // SAFETY: Valid callback.
        unsafe { ffi::rvs_cb_net(self.cb) }
    }

    /// Appends one message (`cmd`, `NLM_F_MULTI`) whose attributes `fill` writes. `Err(EMSGSIZE)` if it did not
    /// fit (nothing was added).
    pub(crate) fn put(
        &mut self,
        family: i32,
        cmd: u8,
        dp_ifindex: i32,
        fill: impl FnOnce(&mut Writer<'_>) -> core::result::Result<(), CodecError>,
    ) -> Result {
        // SAFETY: Valid callback and skb by the type invariant.
        let (portid, seq) = unsafe { (ffi::rvs_cb_portid(self.cb), ffi::rvs_cb_seq(self.cb)) };
        // SAFETY: Valid skb.
        let hdr = unsafe { ffi::rvs_genlmsg_put(self.skb, portid, seq, family, NLM_F_MULTI, cmd) };
        if hdr.is_null() {
            return Err(err(errno::EMSGSIZE));
        }
        // SAFETY: `hdr` points to the reserved `ovs_header` in the skb.
        unsafe { core::ptr::write_unaligned(hdr.cast::<i32>(), dp_ifindex) };
        match fill_tail(self.skb, fill) {
            Ok(()) => {
                // SAFETY: `hdr` is the open message's header.
                unsafe { ffi::rvs_genlmsg_end(self.skb, hdr) };
                Ok(())
            }
            Err(e) => {
                // SAFETY: As above; cancel trims the skb back.
                unsafe { ffi::rvs_genlmsg_cancel(self.skb, hdr) };
                Err(e)
            }
        }
    }

    /// The dump's return value: the output length (0 ends the dump).
    pub(crate) fn result(&self) -> i32 {
        // SAFETY: Valid skb.
        i32::try_from(unsafe { ffi::rvs_skb_len(self.skb) }).unwrap_or(i32::MAX)
    }
}

/// Runs `fill` with a writer over the tail room of `skb` and commits what it wrote.
fn fill_tail(
    skb: *mut SkBuff,
    fill: impl FnOnce(&mut Writer<'_>) -> core::result::Result<(), CodecError>,
) -> Result {
    let mut room = 0usize;
    // SAFETY: `skb` is a valid skb being built by us; its tail room is writable and unused.
    let tail = unsafe { core::slice::from_raw_parts_mut(ffi::rvs_skb_tail(skb, &mut room), room) };
    let mut w = Writer::new(tail);
    fill(&mut w).map_err(|e| err(e.errno()))?;
    let n = w.len();
    // SAFETY: `n` bytes of the tail room were written.
    unsafe { ffi::rvs_skb_put(skb, n) };
    Ok(())
}

/// An outgoing generic netlink message being built.
///
/// # Invariants
///
/// `skb` is a valid skb owned by this value (until sent), `hdr` its open genl message's user header.
pub(crate) struct Msg {
    skb: *mut SkBuff,
    hdr: *mut c_void,
}

impl Msg {
    /// A message of `family`/`cmd` with room for `payload` attribute bytes, its `ovs_header` set to `dp_ifindex`.
    pub(crate) fn new(
        payload: usize,
        family: i32,
        cmd: u8,
        portid: u32,
        seq: u32,
        flags: i32,
        dp_ifindex: i32,
        atomic: bool,
    ) -> Result<Self> {
        // SAFETY: Allocation; null on failure.
        let skb = unsafe { ffi::rvs_genlmsg_new(payload.saturating_add(OVS_HDRLEN), atomic) };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: Fresh skb with room for the headers.
        let hdr = unsafe { ffi::rvs_genlmsg_put(skb, portid, seq, family, flags, cmd) };
        if hdr.is_null() {
            // SAFETY: We own the fresh skb.
            unsafe { ffi::rvs_kfree_skb(skb) };
            return Err(err(errno::EMSGSIZE));
        }
        // SAFETY: `hdr` points to the reserved `ovs_header`.
        unsafe { core::ptr::write_unaligned(hdr.cast::<i32>(), dp_ifindex) };
        Ok(Self { skb, hdr })
    }

    /// A reply to `req` (its port id and sequence number).
    pub(crate) fn reply_to(req: &Request<'_>, payload: usize, family: i32, cmd: u8, dp_ifindex: i32) -> Result<Self> {
        Self::new(payload, family, cmd, req.portid(), req.seq(), 0, dp_ifindex, false)
    }

    /// Appends attributes written by `fill`.
    pub(crate) fn fill(
        &mut self,
        fill: impl FnOnce(&mut Writer<'_>) -> core::result::Result<(), CodecError>,
    ) -> Result {
        fill_tail(self.skb, fill)
    }

    /// Appends raw bytes (already formatted attributes) reserved with [`Self::reserve`]-like semantics: returns the
    /// writable slice of `len` bytes at the tail, committed immediately.
    pub(crate) fn append(&mut self, len: usize) -> Result<&mut [u8]> {
        let mut room = 0usize;
        // SAFETY: Our skb; the tail room is ours.
        let tail = unsafe { ffi::rvs_skb_tail(self.skb, &mut room) };
        if room < len {
            return Err(err(errno::EMSGSIZE));
        }
        // SAFETY: `len` bytes of tail room exist; `skb_put` commits them; the slice borrows `self`.
        unsafe {
            ffi::rvs_skb_put(self.skb, len);
            Ok(core::slice::from_raw_parts_mut(tail, len))
        }
    }

    /// Finishes the message and hands out the skb.
    fn finish(self) -> *mut SkBuff {
        let me = core::mem::ManuallyDrop::new(self);
        // SAFETY: `hdr` is the open message's header in our skb.
        unsafe { ffi::rvs_genlmsg_end(me.skb, me.hdr) };
        me.skb
    }

    /// Sends the message as the reply to `req`.
    pub(crate) fn reply(self, req: &Request<'_>) -> Result {
        let skb = self.finish();
        // SAFETY: The reply consumes the skb.
        let r = unsafe { ffi::rvs_genlmsg_reply(skb, req.info()) };
        if r < 0 { Err(Error::from_errno(r)) } else { Ok(()) }
    }

    /// Sends the message as a notification of `req`'s change (multicast on the family's group, unicast to the
    /// sender with `NLM_F_ECHO`).
    pub(crate) fn notify(self, family: i32, req: &Request<'_>) {
        let skb = self.finish();
        // SAFETY: `genl_notify` consumes the skb.
        unsafe { ffi::rvs_genl_notify(family, skb, req.info()) };
    }

    /// Multicasts the message on `family`'s group in `net`.
    pub(crate) fn multicast(self, family: i32, net: *mut Net) {
        let skb = self.finish();
        // SAFETY: Consumes the skb; `net` is alive (the caller holds the datapath, which lives in it).
        let _ = unsafe { ffi::rvs_genl_multicast(family, net, skb) };
    }

    /// Unicasts the message to `portid` in `net` (upcalls).
    pub(crate) fn unicast(self, net: *mut Net, portid: u32) -> Result {
        let skb = self.finish();
        // SAFETY: Consumes the skb; `net` is alive.
        let r = unsafe { ffi::rvs_genlmsg_unicast(net, skb, portid) };
        if r < 0 { Err(Error::from_errno(r)) } else { Ok(()) }
    }
}

impl Drop for Msg {
    fn drop(&mut self) {
        // SAFETY: An unsent message: we still own the skb.
        unsafe { ffi::rvs_kfree_skb(self.skb) };
    }
}
