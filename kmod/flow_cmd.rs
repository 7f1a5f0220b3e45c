//! The `ovs_flow` generic netlink commands: NEW/SET/DEL/GET and dump, as upstream `ovs_flow_cmd_*`.

use kernel::prelude::*;

use crate::classifier::{Error as ClsError, FlowId, Ufid};
use crate::dp::Datapath;
use crate::genl::{self, errno, fam, DumpRequest, Msg, Request, NLM_F_CREATE, NLM_F_EXCL};
use crate::glue;
use crate::key::FlowKey;
use crate::mask::Mask;
use crate::nla::Writer;
use crate::ovs::flow_nl::FlowAttrs;
use crate::ovs::key_nl::{self, Match};
use crate::ovs::msg::{self, FlowStats};
use crate::ovs::{validate_actions, CodecError};
use crate::ovs_abi::*;
use crate::registry::WriterLock;
use crate::vport::cmd_u8;

/// Writes flow `id`'s attributes (upstream `ovs_flow_cmd_fill_info`).
fn fill(dp: &Datapath, w: &WriterLock, id: FlowId, ufid_flags: u32, out: &mut Writer<'_>) -> core::result::Result<(), CodecError> {
    let missing = CodecError::new("OVS_FLOW_ATTR_KEY", crate::ovs::ErrorKind::Missing);
    let info = dp.table.classifier().flow(id).ok_or(missing)?;
    let fd = dp.table.flow(id).ok_or(missing)?;
    match info.ufid {
        Some(u) => {
            msg::put(out, "OVS_FLOW_ATTR_UFID", OVS_FLOW_ATTR_UFID, u.as_bytes())?;
            if ufid_flags & OVS_UFID_F_OMIT_KEY == 0 {
                key_nl::put_key(out, OVS_FLOW_ATTR_KEY, &info.key)?;
            }
        }
        None => key_nl::put_key(out, OVS_FLOW_ATTR_KEY, &fd.key(w))?,
    }
    if ufid_flags & OVS_UFID_F_OMIT_MASK == 0 {
        key_nl::put_mask(out, OVS_FLOW_ATTR_MASK, &info.key, info.mask.key())?;
    }
    let s = fd.stats();
    if s.used != 0 {
        msg::put(out, "OVS_FLOW_ATTR_USED", OVS_FLOW_ATTR_USED, &glue::used_time_ms(s.used).to_ne_bytes())?;
    }
    if s.packets != 0 {
        FlowStats { n_packets: s.packets, n_bytes: s.bytes }.put(out, "OVS_FLOW_ATTR_STATS", OVS_FLOW_ATTR_STATS)?;
    }
    let flags = u8::try_from(s.tcp_flags & 0xff).unwrap_or(0);
    if flags != 0 {
        msg::put(out, "OVS_FLOW_ATTR_TCP_FLAGS", OVS_FLOW_ATTR_TCP_FLAGS, &[flags])?;
    }
    if ufid_flags & OVS_UFID_F_OMIT_ACTIONS == 0 {
        msg::put(out, "OVS_FLOW_ATTR_ACTIONS", OVS_FLOW_ATTR_ACTIONS, fd.actions())?;
    }
    Ok(())
}

fn message(dp: &Datapath, w: &WriterLock, id: FlowId, flags: u32, cmd: u16, req: &Request<'_>) -> Result<Msg> {
    let size = dp.table.flow(id).map_or(0, |f| f.actions().len()).saturating_add(2048);
    let mut m = Msg::reply_to(req, size, fam::FLOW, cmd_u8(cmd), dp.ifindex())?;
    m.fill(|out| fill(dp, w, id, flags, out))?;
    Ok(m)
}

fn ufid_of(a: &FlowAttrs<'_>) -> Option<Ufid> {
    a.ufid.and_then(Ufid::new)
}

fn cls_err(e: ClsError) -> Error {
    match e {
        ClsError::Exists | ClsError::UfidExists => EEXIST,
        ClsError::NotFound => ENOENT,
        ClsError::NoSpace | ClsError::TooManyMasks => E2BIG,
        ClsError::Busy => EAGAIN,
    }
}

/// `ovs_flow` doit.
pub(crate) fn doit(cmd: u16, req: &Request<'_>) -> Result {
    let a = FlowAttrs::parse(req.attrs).map_err(|e| req.codec_err(e))?;
    match cmd {
        OVS_FLOW_CMD_NEW => new(req, &a),
        OVS_FLOW_CMD_SET => set(req, &a),
        OVS_FLOW_CMD_DEL => del(req, &a),
        OVS_FLOW_CMD_GET => get(req, &a),
        _ => Err(genl::err(errno::EOPNOTSUPP)),
    }
}

fn decode(req: &Request<'_>, key: &[u8], mask: Option<&[u8]>) -> Result<Match> {
    key_nl::decode_match(key, mask).map_err(|e| req.codec_err(e))
}

fn new(req: &Request<'_>, a: &FlowAttrs<'_>) -> Result {
    let key = a.key.ok_or_else(|| {
        req.set_err_msg(format_args!("Flow key attr not present in new flow."));
        EINVAL
    })?;
    let m = decode(req, key, a.mask)?;
    let actions = a.actions.ok_or_else(|| {
        req.set_err_msg(format_args!("Flow actions attr not present in new flow."));
        EINVAL
    })?;
    let masked = m.key.masked(&m.mask);
    validate_actions(actions, &masked).map_err(|e| req.codec_err(e))?;
    let ufid = ufid_of(a);
    let flags = a.ufid_flags.unwrap_or(0);
    let mask = Mask::new(m.mask);

    let w = WriterLock::lock();
    let dp = w.find(req.net(), req.dp_ifindex).ok_or(ENODEV)?;
    let existing = ufid
        .as_ref()
        .and_then(|u| dp.table.classifier().lookup_ufid(u))
        .or_else(|| dp.table.lookup_any(&m.key));
    let (id, cmd) = match existing {
        None => {
            let id = dp.table.insert(&w, &m.key, &mask, ufid.as_ref(), actions).map_err(cls_err)?;
            (id, OVS_FLOW_CMD_NEW)
        }
        Some(found) => {
            // Upstream accepts NLM_F_CREATE in place of NLM_F_EXCL (generic netlink treats EXCL as a dump flag).
            if req.nlflags() & (NLM_F_CREATE | NLM_F_EXCL) != 0 {
                return Err(EEXIST);
            }
            // The identifier must be the same for updates.
            let info = dp.table.classifier().flow(found).ok_or(ENOENT)?;
            let same = info.mask == mask && info.key == masked;
            let target = if same {
                found
            } else if info.ufid.is_none() {
                dp.table.lookup_exact(&w, &m.key).ok_or(ENOENT)?
            } else {
                return Err(ENOENT);
            };
            dp.table.set_actions(&w, target, actions)?;
            (target, OVS_FLOW_CMD_NEW)
        }
    };
    let reply = if req.must_notify(fam::FLOW) { Some(message(dp, &w, id, flags, cmd, req)?) } else { None };
    drop(w);
    if let Some(r) = reply {
        r.notify(fam::FLOW, req);
    }
    Ok(())
}

/// Finds the flow a SET/DEL/GET names: by UFID if given, else by unmasked key.
fn find(w: &WriterLock, dp: &Datapath, ufid: Option<&Ufid>, key: Option<&FlowKey>) -> Result<FlowId> {
    if let Some(u) = ufid {
        return dp.table.classifier().lookup_ufid(u).ok_or(ENOENT);
    }
    let k = key.ok_or(EINVAL)?;
    dp.table.lookup_exact(w, k).ok_or(ENOENT)
}

fn set(req: &Request<'_>, a: &FlowAttrs<'_>) -> Result {
    let key = a.key.ok_or_else(|| {
        req.set_err_msg(format_args!("Flow key attribute not present in set flow."));
        EINVAL
    })?;
    let m = decode(req, key, a.mask)?;
    if let Some(acts) = a.actions {
        validate_actions(acts, &m.key.masked(&m.mask)).map_err(|e| req.codec_err(e))?;
    }
    let ufid = ufid_of(a);
    let flags = a.ufid_flags.unwrap_or(0);
    let w = WriterLock::lock();
    let dp = w.find(req.net(), req.dp_ifindex).ok_or(ENODEV)?;
    let id = find(&w, dp, ufid.as_ref(), Some(&m.key))?;
    if let Some(acts) = a.actions {
        dp.table.set_actions(&w, id, acts)?;
    }
    let reply = if req.must_notify(fam::FLOW) {
        Some(message(dp, &w, id, flags, OVS_FLOW_CMD_SET, req)?)
    } else {
        None
    };
    if a.clear {
        dp.table.clear_stats(&w, id);
    }
    drop(w);
    if let Some(r) = reply {
        r.notify(fam::FLOW, req);
    }
    Ok(())
}

fn key_only(req: &Request<'_>, a: &FlowAttrs<'_>) -> Result<Option<FlowKey>> {
    match a.key {
        Some(k) => Ok(Some(decode(req, k, None)?.key)),
        None => Ok(None),
    }
}

fn del(req: &Request<'_>, a: &FlowAttrs<'_>) -> Result {
    let ufid = ufid_of(a);
    let key = key_only(req, a)?;
    let flags = a.ufid_flags.unwrap_or(0);
    let w = WriterLock::lock();
    let dp = w.find(req.net(), req.dp_ifindex).ok_or(ENODEV)?;
    if key.is_none() && ufid.is_none() {
        dp.table.flush(&w);
        return Ok(());
    }
    let id = find(&w, dp, ufid.as_ref(), key.as_ref())?;
    let reply = if req.must_notify(fam::FLOW) { Some(message(dp, &w, id, flags, OVS_FLOW_CMD_DEL, req)?) } else { None };
    dp.table.remove(&w, id)?;
    drop(w);
    if let Some(r) = reply {
        r.notify(fam::FLOW, req);
    }
    Ok(())
}

fn get(req: &Request<'_>, a: &FlowAttrs<'_>) -> Result {
    let ufid = ufid_of(a);
    let key = key_only(req, a)?;
    if key.is_none() && ufid.is_none() {
        req.set_err_msg(format_args!("Flow get message rejected, Key attribute missing."));
        return Err(EINVAL);
    }
    let flags = a.ufid_flags.unwrap_or(0);
    let w = WriterLock::lock();
    let dp = w.find(req.net(), req.dp_ifindex).ok_or(ENODEV)?;
    let id = find(&w, dp, ufid.as_ref(), key.as_ref())?;
    let m = message(dp, &w, id, flags, OVS_FLOW_CMD_GET, req)?;
    drop(w);
    m.reply(req)
}

/// `ovs_flow` dump of the datapath named by `dp_ifindex`, resumed at flow slot `args[0]`.
pub(crate) fn dump(d: &mut DumpRequest<'_>) -> Result<i32> {
    let flags = FlowAttrs::parse(d.attrs).ok().and_then(|a| a.ufid_flags).unwrap_or(0);
    let w = WriterLock::lock();
    let dp = w.find(d.net(), d.dp_ifindex).ok_or(ENODEV)?;
    let mut cursor = crate::classifier::DumpCursor(u32::try_from(d.args()[0]).unwrap_or(0));
    loop {
        let before = cursor;
        let Some(id) = dp.table.classifier().dump_next(&mut cursor) else { break };
        if d.put(fam::FLOW, cmd_u8(OVS_FLOW_CMD_GET), dp.ifindex(), |out| fill(dp, &w, id, flags, out)).is_err() {
            cursor = before;
            break;
        }
    }
    d.args()[0] = core::ffi::c_long::from(cursor.0);
    Ok(d.result())
}
