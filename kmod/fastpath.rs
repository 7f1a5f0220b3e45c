//! The packet path: receive on a port → flow key extraction → megaflow lookup → actions (the core executor over
//! [`Skb`]) → output, or an upcall to userspace on a miss; and `OVS_PACKET_CMD_EXECUTE`.
//!
//! Everything here runs inside an RCU read-side section with bottom halves disabled (rx_handler, internal device
//! transmit, or the execute command, which disables them itself), so datapath, vport and flow objects found through
//! the datapath stay valid for the whole call, and per-CPU lookup state is exclusively ours.

use kernel::prelude::*;

use crate::actions::{ActionList, Userspace};
use crate::dp::Datapath;
use crate::execute::{execute, ExecContext, ExecError, NetlinkActions};
use crate::extract::{extract, Metadata, TunnelMeta};
use crate::genl::{self, errno, fam, Msg, Request};
use crate::glue::{self, ffi, SkBuff};
use crate::key::FlowKey;
use crate::nla::{align, NLA_HDRLEN};
use crate::ovs::key_nl;
use crate::ovs::packet_nl::PacketAttrs;
use crate::ovs::validate_actions;
use crate::ovs_abi::*;
use crate::packet::Packet;
use crate::skb::Skb;
use crate::vport::{cmd_u8, Vport};

/// Bytes made linear before extraction (every header the key looks at fits).
const HEADER_PULL: usize = 256;
/// Maximum nesting of recirculation and internal-port loops.
const MAX_DEPTH: u32 = 4;
/// `ETH_HLEN`.
const ETH_HLEN: usize = 14;

/// The receive tunnel metadata a key carries (`OVS_KEY_ATTR_TUNNEL` of an executed packet), if any.
fn tunnel_of(k: &FlowKey) -> Option<TunnelMeta> {
    crate::ovs::tunnel_nl::family(k)?;
    Some(TunnelMeta {
        id: k.tun_id(),
        ipv4_src: k.tun_ipv4_src(),
        ipv4_dst: k.tun_ipv4_dst(),
        ipv6_src: k.tun_ipv6_src(),
        ipv6_dst: k.tun_ipv6_dst(),
        flags: k.tun_flags(),
        tos: k.tun_tos(),
        ttl: k.tun_ttl(),
        tp_src: k.tun_tp_src(),
        tp_dst: k.tun_tp_dst(),
    })
}

/// Extracts the key of `skb` received with metadata `md`; sets its header offsets. `None` for a runt.
fn extract_skb(skb: &mut Skb, md: &Metadata) -> Option<FlowKey> {
    skb.pull_headers(HEADER_PULL);
    let md = Metadata { hw_vlan: skb.hw_vlan(), ..*md };
    let (key, offs) = extract(skb.linear(), &md);
    let nh = usize::from(offs.network?);
    skb.set_headers_proto(Some(nh), offs.transport.map(usize::from), skb_protocol(&key, md.hw_vlan.is_some()));
    Some(key)
}

/// The `skb->protocol` a packet with key `key` must carry: the type of what follows the Ethernet addresses in the
/// data, i.e. the TPID of the first VLAN tag still in the data, else the ethertype. `skb_vlan_pop()` relies on it to
/// find an in-data tag. (Upstream's key_extract moves an in-data outer tag into the hw-accel slot first and then
/// names the inner tag or the ethertype; rvs leaves the data as it is and names what is there. Packets from
/// `OVS_PACKET_CMD_EXECUTE` arrive with their tags in the data.)
fn skb_protocol(key: &FlowKey, hw_tag: bool) -> u16 {
    let present = |tci: u16| tci & crate::key::VLAN_CFI != 0;
    if !hw_tag && present(key.vlan_tci()) {
        key.vlan_tpid()
    } else if present(key.cvlan_tci()) {
        key.cvlan_tpid()
    } else {
        key.eth_type()
    }
}

/// What the receive path learnt of a packet in its one C call, reused for the lookup and the flow statistics.
#[derive(Clone, Copy)]
struct RxStamp {
    hash: u32,
    len: usize,
    cpu: usize,
    now: usize,
}

/// A packet received on `vport` (from its device, or transmitted by the host on an internal port): one C call reads
/// everything about the skb (`rvs_skb_rx_info`), one sets its headers.
fn receive(vport: &Vport, mut skb: Skb) {
    if vport.is_detached() {
        return;
    }
    let Some(info) = skb.rx_info(HEADER_PULL) else { return };
    let hw_vlan = (info.has_vlan != 0).then_some((info.vlan_tpid, info.vlan_tci));
    let md = Metadata {
        in_port: vport.port_no,
        priority: info.priority,
        skb_mark: info.mark,
        tunnel: if info.has_tunnel != 0 { skb.tunnel() } else { None },
        hw_vlan,
        ..Metadata::default()
    };
    let (key, offs) = extract(skb.linear_of(&info), &md);
    let Some(nh) = offs.network else { return };
    skb.set_headers_proto(Some(usize::from(nh)), offs.transport.map(usize::from), skb_protocol(&key, hw_vlan.is_some()));
    let rx = RxStamp {
        hash: info.hash,
        len: usize::try_from(info.len).unwrap_or(0),
        cpu: usize::try_from(info.cpu).unwrap_or(0),
        now: usize::try_from(info.jiffies).unwrap_or(0),
    };
    process_rx(vport.dp(), Some(vport), skb, key, 0, Some(rx));
}

/// Key words the mask-cache hash covers: in_port and recirc_id, Ethernet/VLAN/IP/L4 fields, IPv4 and IPv6 addresses.
const CACHE_HASH_WORDS: [usize; 10] = [8, 10, 11, 12, 13, 14, 16, 17, 18, 19];

/// The mask-cache index of a packet that carries no hash yet: a hash of its extracted key. Computing the skb's
/// own hash (`skb_get_hash`) would dissect the packet a second time, which costs as much as the rest of the
/// lookup; the cache only needs some per-flow value (the skb's hash is still used where userspace sees it).
fn key_hash(key: &FlowKey) -> u32 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    for &i in CACHE_HASH_WORDS.iter() {
        h = (h ^ key.word(i)).wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 32;
    }
    u32::try_from(h & 0xffff_ffff).unwrap_or(0).max(1)
}

/// Looks `skb` up and runs its flow's actions, or sends it to userspace.
fn process(dp: &Datapath, input: Option<&Vport>, skb: Skb, key: FlowKey, depth: u32) {
    process_rx(dp, input, skb, key, depth, None);
}

/// [`process`], with what the receive path already read of the skb (`rx`), if it comes from there.
fn process_rx(dp: &Datapath, input: Option<&Vport>, mut skb: Skb, key: FlowKey, depth: u32, rx: Option<RxStamp>) {
    let rx = match rx {
        Some(rx) => rx,
        None => RxStamp { hash: skb.hash_raw(), len: skb.len(), cpu: glue::cpu_id(), now: glue::jiffies() },
    };
    let hash = match rx.hash {
        0 => key_hash(&key),
        h => h,
    };
    match dp.table.lookup(&key, hash) {
        Some(id) => {
            let Some(fd) = dp.table.flow(id) else { return };
            fd.hit_at(rx.cpu, dp.table.ncpu(), rx.len, key.tcp_flags(), rx.now);
            // A flow whose actions are one output (pre-decoded at installation) needs no executor.
            if let Some(port) = fd.single_output() {
                if depth <= MAX_DEPTH {
                    if let Some(vport) = dp.port(port) {
                        send(vport, skb);
                    }
                }
                return;
            }
            let (acts, tun_dst) = fd.actions_and_tun_dst();
            skb.set_tun_dst_hint(tun_dst);
            run_actions(dp, input, skb, key, acts, depth);
        }
        None => {
            let pid = if dp.features() & OVS_DP_F_DISPATCH_UPCALL_PER_CPU != 0 {
                dp.cpu_pid(glue::cpu_id())
            } else {
                input.map_or(0, |v| v.upcall_pid(skb.hash()))
            };
            let r = upcall(dp, &skb, &key, OVS_PACKET_CMD_MISS, pid, None, None, None);
            if let Some(v) = input {
                v.count_upcall(r.is_ok());
            }
            if r.is_err() {
                count_lost(dp);
            }
        }
    }
}

fn count_lost(dp: &Datapath) {
    // SAFETY: Packet path: bottom halves are disabled, the per-CPU entry is ours.
    let pc = unsafe { dp.table.this_cpu() };
    let n = pc.n_lost.load(core::sync::atomic::Ordering::Relaxed);
    pc.n_lost.store(n.wrapping_add(1), core::sync::atomic::Ordering::Relaxed);
}

fn run_actions(dp: &Datapath, input: Option<&Vport>, mut skb: Skb, mut key: FlowKey, acts: &[u8], depth: u32) {
    let mut ctx = Ctx { dp, input, depth };
    let _: core::result::Result<(), ExecError> = execute(&mut skb, &mut key, ActionList(acts), &NetlinkActions, &mut ctx);
    // Whatever was not consumed is dropped with `skb`.
}

/// The executor's embedder callbacks.
struct Ctx<'a> {
    dp: &'a Datapath,
    input: Option<&'a Vport>,
    depth: u32,
}

/// Sends `skb` out of `vport`.
fn send(vport: &Vport, skb: Skb) {
    if vport.is_detached() {
        return;
    }
    let dev = vport.dev();
    if vport.kind == OVS_VPORT_TYPE_INTERNAL {
        // SAFETY: We own the skb; the device is alive (our reference, RCU).
        unsafe { ffi::rvs_skb_internal_recv(skb.into_raw(), dev) };
        return;
    }
    // One C call: the MTU check (upstream `packet_length`, counted as a tx error), then transmission.
    // SAFETY: We own the skb; the device is alive (our reference, RCU).
    unsafe { ffi::rvs_skb_output(skb.into_raw(), dev) };
}

impl ExecContext<Skb> for Ctx<'_> {
    fn output(&mut self, pkt: &mut Skb, _key: &FlowKey, port: u32, max_len: Option<u32>, last: bool) {
        let Some(vport) = self.dp.port(port) else { return };
        let mut out = if last {
            pkt.take()
        } else {
            match pkt.clone_skb() {
                Some(c) => c,
                None => return,
            }
        };
        if let Some(m) = max_len {
            let keep = usize::try_from(m).unwrap_or(usize::MAX).max(ETH_HLEN);
            out.truncate(keep);
        }
        if self.depth > MAX_DEPTH {
            return;
        }
        send(vport, out);
    }

    fn userspace(
        &mut self,
        pkt: &mut Skb,
        key: &FlowKey,
        args: &Userspace<'_>,
        actions: ActionList<'_>,
        max_len: Option<u32>,
        _last: bool,
    ) {
        let acts = args.include_actions.then_some(actions.0);
        let r = upcall(self.dp, pkt, key, OVS_PACKET_CMD_ACTION, args.pid, args.userdata, acts, max_len);
        if let Some(v) = self.input {
            v.count_upcall(r.is_ok());
        }
        if r.is_err() {
            count_lost(self.dp);
        }
    }

    fn recirc(&mut self, pkt: &mut Skb, key: &FlowKey, last: bool) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        let p = if last { pkt.take() } else {
            match pkt.clone_skb() {
                Some(c) => c,
                None => return,
            }
        };
        process(self.dp, self.input, p, *key, self.depth.wrapping_add(1));
    }

    fn clone_packet(&mut self, pkt: &Skb) -> Option<Skb> {
        pkt.clone_skb()
    }

    fn random_u32(&mut self) -> u32 {
        glue::random_u32()
    }

    fn meter(&mut self, pkt: &Skb, _key: &FlowKey, meter_id: u32) -> bool {
        self.dp.meters.execute(meter_id, pkt.len())
    }

    fn update_key(&mut self, pkt: &Skb, key: &mut FlowKey) -> core::result::Result<(), ExecError> {
        let md = Metadata {
            in_port: key.in_port(),
            priority: key.priority(),
            skb_mark: key.skb_mark(),
            recirc_id: key.recirc_id(),
            dp_hash: key.dp_hash(),
            // The receive tunnel metadata stays what it was (upstream keeps `key->tun_key` across re-extraction).
            tunnel: tunnel_of(key),
            hw_vlan: pkt.hw_vlan(),
        };
        let (k, offs) = extract(pkt.linear(), &md);
        if offs.network.is_none() {
            return Err(ExecError::KeyUpdate);
        }
        *key = k;
        Ok(())
    }
}

/// Sends `skb` (not consumed) to userspace as `cmd` (upstream `ovs_dp_upcall`): a GSO packet is segmented in
/// software first and each segment goes up on its own (upstream `queue_gso_packets`), so userspace never sees a
/// packet larger than the MTU it came with.
#[allow(clippy::too_many_arguments)]
fn upcall(
    dp: &Datapath,
    skb: &Skb,
    key: &FlowKey,
    cmd: u16,
    portid: u32,
    userdata: Option<&[u8]>,
    actions: Option<&[u8]>,
    max_len: Option<u32>,
) -> Result {
    if !skb.is_gso() {
        return upcall_one(dp, skb, key, cmd, portid, userdata, actions, max_len);
    }
    if portid == 0 {
        return Err(genl::err(errno::ENOTCONN));
    }
    let (mut udp, mut e) = (false, 0);
    // SAFETY: `skb` is a valid skb we own; the segments (new skbs) are ours.
    let mut segs = unsafe { ffi::rvs_skb_gso_segment(skb.as_ptr(), &mut udp, &mut e) };
    if segs.is_null() {
        return Err(Error::from_errno(if e < 0 { e } else { -22 }));
    }
    let mut later = *key;
    later.set_ip_frag(crate::key::frag::LATER);
    let mut first = true;
    let mut r = Ok(());
    loop {
        // SAFETY: `segs` is our list; each popped segment is handed to an owning `Skb`.
        let seg = unsafe { ffi::rvs_skb_list_pop(&mut segs) };
        if seg.is_null() {
            break;
        }
        // SAFETY: A segment we own, data at the Ethernet header (segmentation keeps the mac header at data).
        let seg = unsafe { Skb::from_raw(seg) };
        if r.is_ok() {
            let k = if udp && !first { &later } else { key };
            r = upcall_one(dp, &seg, k, cmd, portid, userdata, actions, max_len);
        }
        first = false;
    }
    r
}

/// Sends one (non-GSO) packet `skb` (not consumed) to userspace (upstream `queue_userspace_packet`).
#[allow(clippy::too_many_arguments)]
fn upcall_one(
    dp: &Datapath,
    skb: &Skb,
    key: &FlowKey,
    cmd: u16,
    portid: u32,
    userdata: Option<&[u8]>,
    actions: Option<&[u8]>,
    max_len: Option<u32>,
) -> Result {
    if portid == 0 {
        return Err(genl::err(errno::ENOTCONN));
    }
    let ifindex = dp.ifindex();
    if ifindex == 0 {
        return Err(ENODEV);
    }
    let mut e = 0;
    // SAFETY: `skb` is a valid skb we own; the result is `skb` itself or a new clone we must free.
    let src = unsafe { ffi::rvs_skb_upcall_prepare(skb.as_ptr(), &mut e) };
    if src.is_null() {
        return Err(Error::from_errno(if e < 0 { e } else { -12 }));
    }
    let clone = (!core::ptr::eq(src, skb.as_ptr())).then(|| {
        // SAFETY: A clone returned to us.
        unsafe { Skb::from_raw(src) }
    });
    // SAFETY: `src` is valid (ours or `skb`).
    let len = usize::try_from(unsafe { ffi::rvs_skb_len(src) }).unwrap_or(0);
    let plen = max_len.map_or(len, |m| len.min(usize::try_from(m).unwrap_or(usize::MAX)));
    if align(NLA_HDRLEN.saturating_add(plen)) > usize::from(u16::MAX) {
        return Err(EFBIG);
    }
    let size = 1024usize
        .saturating_add(userdata.map_or(0, |u| u.len()))
        .saturating_add(actions.map_or(0, |a| a.len()))
        .saturating_add(align(NLA_HDRLEN.saturating_add(plen)));
    let mut m = Msg::new(size, fam::PACKET, cmd_u8(cmd), 0, 0, 0, ifindex, true)?;
    // SAFETY: Valid skb.
    let hash = unsafe { ffi::rvs_skb_upcall_hash(src) };
    m.fill(|w| {
        key_nl::put_key(w, OVS_PACKET_ATTR_KEY, key)?;
        let nla = |n| move |e| crate::ovs::CodecError::from_nla(n, e);
        if let Some(u) = userdata {
            w.put(OVS_PACKET_ATTR_USERDATA, u).map_err(nla("OVS_PACKET_ATTR_USERDATA"))?;
        }
        if let Some(a) = actions {
            w.put(OVS_PACKET_ATTR_ACTIONS, a).map_err(nla("OVS_PACKET_ATTR_ACTIONS"))?;
        }
        if plen < len {
            w.put_u32(OVS_PACKET_ATTR_LEN, u32::try_from(len).unwrap_or(u32::MAX))
                .map_err(nla("OVS_PACKET_ATTR_LEN"))?;
        }
        w.put(OVS_PACKET_ATTR_HASH, &hash.to_ne_bytes()).map_err(nla("OVS_PACKET_ATTR_HASH"))
    })?;
    let total = NLA_HDRLEN.saturating_add(plen);
    let buf = m.append(align(total))?;
    let (hdr, rest) = buf.split_at_mut(NLA_HDRLEN.min(buf.len()));
    let nla_len = u16::try_from(total).map_err(|_| EFBIG)?;
    hdr.get_mut(..2).ok_or(EINVAL)?.copy_from_slice(&nla_len.to_ne_bytes());
    hdr.get_mut(2..4).ok_or(EINVAL)?.copy_from_slice(&OVS_PACKET_ATTR_PACKET.to_ne_bytes());
    rest.fill(0);
    let n = i32::try_from(plen).map_err(|_| EFBIG)?;
    // SAFETY: `rest` has room for `plen` bytes (`append` reserved the aligned total); `src` is valid.
    let r = unsafe { ffi::rvs_skb_copy_bits(src, 0, rest.as_mut_ptr().cast(), n) };
    drop(clone);
    if r != 0 {
        return Err(EINVAL);
    }
    m.unicast(dp.net(), portid)
}

/// Internal device transmit (the host sent a packet into the bridge). Called under rcu_read_lock_bh.
#[no_mangle]
pub(crate) extern "C" fn rvs_rust_internal_xmit(vport: *mut core::ffi::c_void, skb: *mut SkBuff) -> i32 {
    // SAFETY: The device's transmit hands us its skb reference, data at the Ethernet header.
    let skb = unsafe { Skb::from_raw(skb) };
    if vport.is_null() {
        return -19;
    }
    // SAFETY: The vport outlives its device's registration (freed after unregistration and a grace period).
    let v = unsafe { &*vport.cast::<Vport>() };
    receive(v, skb);
    0
}

/// rx_handler of netdev ports (under RCU in the receive path); `skb->data` is at the Ethernet header.
#[no_mangle]
pub(crate) extern "C" fn rvs_rust_netdev_rx(vport: *mut core::ffi::c_void, skb: *mut SkBuff) {
    // SAFETY: The rx_handler hands us its (unshared) skb reference.
    let skb = unsafe { Skb::from_raw(skb) };
    if vport.is_null() {
        return;
    }
    // SAFETY: rx_handler data is a vport that stays valid while the handler is registered plus a grace period.
    let v = unsafe { &*vport.cast::<Vport>() };
    receive(v, skb);
}

/// `OVS_PACKET_CMD_EXECUTE` (upstream `ovs_packet_cmd_execute`).
pub(crate) fn execute_cmd(req: &Request<'_>) -> Result {
    let a = PacketAttrs::parse(req.attrs).map_err(|e| req.codec_err(e))?;
    let ex = a.require_execute().map_err(|e| req.codec_err(e))?;
    let mut skb = Skb::from_data(ex.packet).ok_or(ENOMEM)?;
    let md_key = key_nl::decode_metadata(ex.key).map_err(|e| req.codec_err(e))?;
    let md = Metadata {
        in_port: md_key.in_port(),
        priority: md_key.priority(),
        skb_mark: md_key.skb_mark(),
        recirc_id: md_key.recirc_id(),
        dp_hash: md_key.dp_hash(),
        tunnel: tunnel_of(&md_key),
        hw_vlan: None,
    };
    let key = extract_skb(&mut skb, &md).ok_or(EINVAL)?;
    validate_actions(ex.actions, &key).map_err(|e| req.codec_err(e))?;
    skb.set_priority(md.priority);
    skb.set_mark(md.skb_mark);

    // No global lock (upstream takes none either): RCU keeps the datapath and its ports alive, bottom halves are
    // off as on the receive path (per-CPU state, meters).
    let rcu = glue::RcuReadGuard::new();
    let _bh = glue::BhGuard::new();
    let dp = crate::registry::find_rcu(&rcu, req.net(), req.dp_ifindex).ok_or(ENODEV)?;
    let input = dp.port(md.in_port).or_else(|| dp.port(0));
    if let Some(v) = input {
        skb.set_dev(v.dev());
    }
    run_actions(dp, input, skb, key, ex.actions, 0);
    Ok(())
}
