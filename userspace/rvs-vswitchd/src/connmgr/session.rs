//! One connection's request handling: every controller-to-switch message of OpenFlow 1.0 and
//! 1.3 gets its reply, its effect, or the OpenFlow error the specification names — features,
//! switch config, barrier, roles (master election with generation ids, slaves refused
//! modifications), asynchronous configuration, desc/port/port-desc/queue statistics here, and
//! flow/group/meter/table mods, the pipeline's statistics and packet-out through the
//! [`super::backend::Backend`]. Nothing here touches a socket: [`handle`] maps one received
//! message to the messages to send back.

use std::time::Instant;

use rvs_openflow::error::{BadRequest, PortModFailed, QueueOpFailed, RoleRequestFailed, SwitchConfigFailed};
use rvs_openflow::msg::{
    ErrorCode, ErrorMsg, FeaturesReply, Message, MultipartReply, MultipartReplyBody, MultipartRequest, MultipartRequestBody,
    PortMod, Role, RoleMsg, SwitchConfig,
};
use rvs_openflow::types::port;
use rvs_openflow::{encode, OfMessage, OfpError, Version};

use super::ports;
use super::shared::{ConnHandle, Shared};

/// OpenFlow 1.0 capabilities: flow, table, port and queue stats, ARP match on IP.
const CAPS_OF10: u32 = 0x01 | 0x02 | 0x04 | 0x40 | 0x80;
/// OpenFlow 1.3 capabilities: flow, table, port, group and queue stats.
const CAPS_OF13: u32 = 0x01 | 0x02 | 0x04 | 0x08 | 0x40;
/// OpenFlow 1.0 actions bitmap: output through enqueue (all twelve 1.0 actions).
const ACTIONS_OF10: u32 = 0xfff;
/// `OFPC_FRAG_*` values accepted (normal, drop, reassemble).
const FRAG_MASK: u16 = 0x3;

fn error(req: &OfMessage, e: OfpError) -> OfMessage {
    let data = encode(req).map(|b| b.get(..b.len().min(64)).unwrap_or_default().to_vec()).unwrap_or_default();
    OfMessage { version: req.version, xid: req.xid, msg: Message::Error(ErrorMsg { code: ErrorCode::Known(e), data }) }
}

fn reply(req: &OfMessage, msg: Message) -> OfMessage {
    OfMessage { version: req.version, xid: req.xid, msg }
}

fn mp(req: &OfMessage, body: MultipartReplyBody) -> OfMessage {
    reply(req, Message::MultipartReply(MultipartReply { flags: 0, body }))
}

/// Whether a slave may not send this message.
fn is_modification(m: &Message) -> bool {
    matches!(
        m,
        Message::FlowMod(_) | Message::GroupMod(_) | Message::PortMod(_) | Message::TableMod(_) | Message::MeterMod(_) | Message::PacketOut(_)
    )
}

/// Handles one received message on connection `h`; returns what to send back (in order).
pub fn handle(sh: &Shared, h: &ConnHandle, m: OfMessage) -> Vec<OfMessage> {
    let now = Instant::now();
    let st = h.state();
    if st.role == Role::Slave && is_modification(&m.msg) {
        return vec![error(&m, BadRequest::IsSlave.into())];
    }
    match &m.msg {
        Message::Hello(_) | Message::EchoReply(_) => Vec::new(),
        Message::EchoRequest(d) => vec![reply(&m, Message::EchoReply(d.clone()))],
        Message::Error(e) => {
            crate::info!("connmgr", "{}: received {}", sh.name, rvs_ofconn::error_name(e));
            Vec::new()
        }
        Message::FeaturesRequest => vec![reply(&m, Message::FeaturesReply(features(sh, m.version)))],
        Message::GetConfigRequest => {
            vec![reply(&m, Message::GetConfigReply(SwitchConfig { flags: 0, miss_send_len: st.miss_send_len }))]
        }
        Message::SetConfig(c) => {
            if c.flags & !FRAG_MASK != 0 {
                return vec![error(&m, SwitchConfigFailed::BadFlags.into())];
            }
            h.state.lock().unwrap_or_else(|p| p.into_inner()).miss_send_len = c.miss_send_len;
            Vec::new()
        }
        Message::BarrierRequest => vec![reply(&m, Message::BarrierReply)],
        Message::RoleRequest(r) => role_request(sh, h, &m, *r),
        Message::GetAsyncRequest => vec![reply(&m, Message::GetAsyncReply(st.async_cfg))],
        Message::SetAsync(a) => {
            h.state.lock().unwrap_or_else(|p| p.into_inner()).async_cfg = *a;
            Vec::new()
        }
        Message::MultipartRequest(r) => multipart(sh, &m, r, now),
        Message::PortMod(pm) => match port_mod(sh, pm) {
            Ok(()) => Vec::new(),
            Err(e) => vec![error(&m, e)],
        },
        Message::FlowMod(fm) => match sh.backend.flow_mod(fm, now) {
            Ok(removed) => {
                for r in removed {
                    sh.broadcast(&Message::FlowRemoved(r));
                }
                Vec::new()
            }
            Err(e) => vec![error(&m, e)],
        },
        Message::GroupMod(g) => sh.backend.group_mod(g).err().map(|e| error(&m, e)).into_iter().collect(),
        Message::MeterMod(x) => sh.backend.meter_mod(x).err().map(|e| error(&m, e)).into_iter().collect(),
        Message::TableMod(t) => sh.backend.table_mod(t).err().map(|e| error(&m, e)).into_iter().collect(),
        Message::PacketOut(p) => sh.backend.packet_out(p).err().map(|e| error(&m, e)).into_iter().collect(),
        Message::Experimenter(_) => vec![error(&m, BadRequest::BadExperimenter.into())],
        // Switch-to-controller messages make no sense here.
        Message::FeaturesReply(_)
        | Message::GetConfigReply(_)
        | Message::PacketIn(_)
        | Message::FlowRemoved(_)
        | Message::PortStatus(_)
        | Message::MultipartReply(_)
        | Message::BarrierReply
        | Message::RoleReply(_)
        | Message::GetAsyncReply(_) => vec![error(&m, BadRequest::BadType.into())],
    }
}

/// The features reply for a peer of `version`.
pub fn features(sh: &Shared, version: Version) -> FeaturesReply {
    let s = sh.settings();
    let of10 = version == Version::OF10;
    FeaturesReply {
        datapath_id: s.datapath_id,
        n_buffers: 0,
        n_tables: sh.backend.n_tables(),
        auxiliary_id: 0,
        capabilities: if of10 { CAPS_OF10 } else { CAPS_OF13 },
        actions: if of10 { ACTIONS_OF10 } else { 0 },
        ports: if of10 { sh.ports().iter().map(|p| ports::for_version(p, version)).collect() } else { Vec::new() },
    }
}

fn role_request(sh: &Shared, h: &ConnHandle, m: &OfMessage, r: RoleMsg) -> Vec<OfMessage> {
    if h.controller.is_none() && r.role != Role::NoChange {
        // Service connections (the management socket) have no role to change, as in OVS.
        return vec![error(m, RoleRequestFailed::Unsup.into())];
    }
    if matches!(r.role, Role::Master | Role::Slave) {
        let mut g = sh.generation.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(cur) = *g {
            // Generation ids compare as a wrapping sequence (OpenFlow 1.3 §6.3.5).
            if (r.generation_id.wrapping_sub(cur) as i64) < 0 {
                return vec![error(m, RoleRequestFailed::Stale.into())];
            }
        }
        *g = Some(r.generation_id);
    }
    if r.role != Role::NoChange {
        h.state.lock().unwrap_or_else(|p| p.into_inner()).role = r.role;
        if r.role == Role::Master {
            sh.demote_other_masters(h.id);
        }
    }
    let role = h.state().role;
    let generation_id = sh.generation.lock().unwrap_or_else(|p| p.into_inner()).unwrap_or(u64::MAX);
    vec![reply(m, Message::RoleReply(RoleMsg { role, generation_id }))]
}

fn multipart(sh: &Shared, m: &OfMessage, r: &MultipartRequest, now: Instant) -> Vec<OfMessage> {
    match &r.body {
        MultipartRequestBody::Desc => vec![mp(m, MultipartReplyBody::Desc(sh.settings().desc.clone()))],
        MultipartRequestBody::PortDesc => {
            vec![mp(m, MultipartReplyBody::PortDesc(sh.ports().iter().map(|p| ports::for_version(p, m.version)).collect()))]
        }
        MultipartRequestBody::PortStats { port_no } => {
            let cfg = sh.bridge_config();
            let since = sh.port_since.lock().unwrap_or_else(|p| p.into_inner()).clone();
            match ports::stats(&cfg, *port_no, &(sh.dp_stats)(), &since, now) {
                Some(s) => vec![mp(m, MultipartReplyBody::PortStats(s))],
                None => vec![error(m, BadRequest::BadPort.into())],
            }
        }
        MultipartRequestBody::Queue { port_no, queue_id } => {
            // No port has queues configured.
            let known = *port_no == port::ANY || *port_no == port::ALL || sh.bridge_config().ports.contains_key(port_no);
            if !known {
                vec![error(m, QueueOpFailed::BadPort.into())]
            } else if *queue_id != 0xffff_ffff {
                vec![error(m, QueueOpFailed::BadQueue.into())]
            } else {
                vec![mp(m, MultipartReplyBody::Queue(Vec::new()))]
            }
        }
        MultipartRequestBody::Experimenter(_) => vec![error(m, BadRequest::BadExperimenter.into())],
        _ => match sh.backend.stats(r, now) {
            Ok(replies) => replies.into_iter().map(|x| reply(m, Message::MultipartReply(x))).collect(),
            Err(e) => vec![error(m, e)],
        },
    }
}

fn port_mod(sh: &Shared, pm: &PortMod) -> Result<(), OfpError> {
    let Some(p) = sh.ports().into_iter().find(|p| p.port_no == pm.port_no) else {
        return Err(PortModFailed::BadPort.into());
    };
    if p.hw_addr != pm.hw_addr {
        return Err(PortModFailed::BadHwAddr.into());
    }
    {
        let mut cfg = sh.port_config.lock().unwrap_or_else(|p| p.into_inner());
        let c = cfg.entry(pm.port_no).or_insert(0);
        *c = (*c & !pm.mask) | (pm.config & pm.mask);
    }
    if pm.mask & rvs_openflow::msg::port_config::PORT_DOWN != 0 {
        let up = pm.config & rvs_openflow::msg::port_config::PORT_DOWN == 0;
        let r = ports::set_admin_state(&p.name, up);
        if let Err(e) = r {
            crate::warn!("connmgr", "{}: port-mod on {}: {e}", sh.name, p.name);
            return Err(PortModFailed::Eperm.into());
        }
    }
    sh.refresh_ports();
    Ok(())
}
