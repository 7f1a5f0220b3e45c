//! One connection's request handling: every controller-to-switch message of OpenFlow 1.0 and
//! 1.3 gets its reply, its effect, or the OpenFlow error the specification names — features,
//! switch config, barrier, roles (master election with generation ids, slaves refused
//! modifications), asynchronous configuration, desc/port/port-desc/queue statistics here, and
//! flow/group/meter/table mods, the pipeline's statistics and packet-out through the
//! [`super::backend::Backend`]. Nothing here touches a socket: [`handle`] maps one received
//! message to the messages to send back.

use std::time::Instant;

use rvs_openflow::error::{BadRequest, PortModFailed, RoleRequestFailed, SwitchConfigFailed};
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
        Message::PortMod(pm) => match port_mod(sh, m.version, pm) {
            Ok(()) => Vec::new(),
            Err(e) => vec![error(&m, e)],
        },
        Message::FlowMod(fm) => match sh.backend.flow_mod(&of10_semantics(m.version, fm), now) {
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

/// Whether `m` may join a run of flow-mods handled by [`handle_flow_mods`]: a flow-mod of a
/// version whose flow-mods need no rewriting (not OpenFlow 1.0).
pub fn batchable(m: &OfMessage) -> bool {
    m.version != Version::OF10 && matches!(m.msg, Message::FlowMod(_))
}

/// Handles a run of [`batchable`] flow-mods received together on connection `h`, exactly as
/// [`handle`] on each in turn would (the same errors in the same order, the same flow
/// removals), but applied by the backend together (one lock, one revalidation kick).
pub fn handle_flow_mods(sh: &Shared, h: &ConnHandle, msgs: Vec<OfMessage>) -> Vec<OfMessage> {
    if h.state().role == Role::Slave || msgs.iter().any(|m| !batchable(m)) {
        return msgs.into_iter().flat_map(|m| handle(sh, h, m)).collect();
    }
    let mut heads = Vec::with_capacity(msgs.len());
    let mut fms = Vec::with_capacity(msgs.len());
    for m in msgs {
        if let Message::FlowMod(fm) = m.msg {
            heads.push((m.version, m.xid));
            fms.push(fm);
        }
    }
    let results = sh.backend.flow_mods(&mut fms, Instant::now());
    let mut out = Vec::new();
    for (((version, xid), fm), r) in heads.into_iter().zip(fms).zip(results) {
        match r {
            Ok(removed) => {
                for r in removed {
                    sh.broadcast(&Message::FlowRemoved(r));
                }
            }
            // A failed flow-mod was left as received: its error carries it.
            Err(e) => out.push(error(&OfMessage { version, xid, msg: Message::FlowMod(fm) }, e)),
        }
    }
    out
}

/// OpenFlow 1.0 flow-mods as Open vSwitch reads them: they carry no table id, so deletes
/// apply to every table, and added flows reset their counters when replaced (`reset_counts`).
fn of10_semantics(version: Version, fm: &rvs_openflow::msg::FlowMod) -> std::borrow::Cow<'_, rvs_openflow::msg::FlowMod> {
    use rvs_openflow::msg::FlowModCommand as C;
    if version != Version::OF10 {
        return std::borrow::Cow::Borrowed(fm);
    }
    let mut f = fm.clone();
    match f.command {
        C::Delete | C::DeleteStrict => f.table_id = rvs_openflow::types::table::ALL,
        C::Add => f.flags.reset_counts = true,
        C::Modify | C::ModifyStrict => {}
    }
    std::borrow::Cow::Owned(f)
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
            // OpenFlow 1.0 says ALL where 1.3 says ANY (Open vSwitch reads both so for 1.0).
            let any = *port_no == port::ANY || (m.version == Version::OF10 && *port_no == port::ALL);
            let qports = ports::queue_ports(&sh.bridge_config());
            match ports::queue_stats(&sh.switch.queues, &qports, (!any).then_some(*port_no), *queue_id, now) {
                Ok(v) => vec![mp(m, MultipartReplyBody::Queue(v))],
                Err(e) => vec![error(m, e)],
            }
        }
        MultipartRequestBody::Experimenter(_) => vec![error(m, BadRequest::BadExperimenter.into())],
        _ => match sh.backend.stats(r, now) {
            Ok(replies) => replies.into_iter().map(|x| reply(m, Message::MultipartReply(x))).collect(),
            Err(e) => vec![error(m, e)],
        },
    }
}

/// Applies a port-mod: `PORT_DOWN` sets the device's administrative state, the other bits (those
/// the peer's version defines; others are ignored, as in Open vSwitch) go to the bridge's
/// [`crate::xlate::portcfg::PortConfigs`], and a change translation reads revalidates the
/// bridge's datapath flows. The port-status that follows shows the new bits.
fn port_mod(sh: &Shared, version: Version, pm: &PortMod) -> Result<(), OfpError> {
    use crate::xlate::portcfg::{version_bits, XLATE_BITS};
    use rvs_openflow::msg::port_config::PORT_DOWN;
    let Some(p) = sh.ports().into_iter().find(|p| p.port_no == pm.port_no) else {
        return Err(PortModFailed::BadPort.into());
    };
    if p.hw_addr != pm.hw_addr {
        return Err(PortModFailed::BadHwAddr.into());
    }
    let Some(br) = sh.switch.bridge(&sh.name) else {
        return Err(PortModFailed::Eperm.into());
    };
    let allowed = version_bits(version);
    let (config, mask) = (pm.config & allowed, pm.mask & allowed);
    if mask & PORT_DOWN != 0 && (config ^ p.config) & PORT_DOWN != 0 {
        let up = config & PORT_DOWN == 0;
        if let Err(e) = ports::set_admin_state(&p.name, up) {
            crate::warn!("connmgr", "{}: port-mod on {}: {e}", sh.name, p.name);
            return Err(PortModFailed::Eperm.into());
        }
    }
    let changed = br.port_config.modify(ports::from_of(pm.port_no), config & !PORT_DOWN, mask & !PORT_DOWN);
    if changed & XLATE_BITS != 0 {
        crate::info!("connmgr", "{}: port {} config now {:#x}: revalidating", sh.name, p.name, br.port_config.get(ports::from_of(pm.port_no)));
        br.bump_generation();
        if let Some(bk) = sh.switch.backer(br.config().dp_type.0) {
            bk.kick();
        }
    }
    sh.refresh_ports();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::mpsc::{self, Receiver};
    use std::sync::Arc;

    use rvs_openflow::msg::{
        AsyncConfig, FlowMod, PacketIn, PacketInReason, PacketOut, PortStatus, MultipartRequestBody as B,
    };
    use rvs_openflow::Match;

    use crate::connmgr::backend::fake::Fake;
    use crate::connmgr::backend::OfEvent;
    use crate::connmgr::settings::Settings;
    use crate::connmgr::shared::{ConnState, Kind};
    use crate::ofproto::{BridgeConfig, OfPort, Switch};

    struct Env {
        sh: Arc<Shared>,
        fake: Arc<Fake>,
    }

    fn env() -> Env {
        let switch = Arc::new(Switch::new());
        let mut bc = BridgeConfig { name: "tbr0".into(), ..Default::default() };
        for (of, dp) in [(1u32, 3u32), (2, 4)] {
            bc.ports.insert(
                of,
                OfPort { ofport: of, name: format!("rvs-nodev{of}"), port_name: format!("p{of}"), dp_port: dp, iface_type: String::new(), vlan: Default::default() },
            );
            bc.by_dp.insert(dp, of);
        }
        switch.publish(vec![bc], &|_| (std::time::Duration::from_secs(300), 100));
        let b = crate::config::BridgeCfg {
            uuid: "b".into(),
            name: "tbr0".into(),
            dp_type: rvs_dpif::DatapathType::Userspace,
            fail_mode: Default::default(),
            has_controller: false,
            controllers: vec![],
            protocols: vec![],
            other_config: [("datapath-id".to_string(), "00000000000000aa".to_string())].into(),
            ports: vec![],
            mirrors: vec![],
        };
        let settings = Settings::new(&b, None, None, std::path::Path::new("/nonexistent"));
        let fake = Arc::new(Fake::default());
        let stats = Box::new(|| {
            HashMap::from([(3u32, rvs_dpif::VportStats { rx_packets: 7, tx_bytes: 99, ..Default::default() })])
        });
        let sh = Shared::new(switch, fake.clone(), settings, stats);
        sh.refresh_ports();
        Env { sh, fake }
    }

    fn conn(e: &Env, version: Version, kind: Kind) -> (Arc<ConnHandle>, Receiver<Message>) {
        let (tx, rx) = mpsc::channel();
        let ctl = (kind == Kind::Primary).then(|| "c1".to_string());
        (e.sh.register(ConnState::new(version, kind, true), ctl, tx), rx)
    }

    fn req(version: Version, xid: u32, msg: Message) -> OfMessage {
        OfMessage { version, xid, msg }
    }

    fn one(e: &Env, h: &ConnHandle, version: Version, xid: u32, msg: Message) -> OfMessage {
        let mut r = handle(&e.sh, h, req(version, xid, msg));
        assert_eq!(r.len(), 1, "{r:?}");
        let r = r.remove(0);
        assert_eq!((r.xid, r.version), (xid, version), "replies carry the request's xid and version");
        r
    }

    fn err_of(m: &OfMessage) -> OfpError {
        match &m.msg {
            Message::Error(ErrorMsg { code: ErrorCode::Known(k), data }) => {
                assert!(!data.is_empty(), "error carries the request");
                *k
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn features_per_version() {
        let e = env();
        let (h10, _r) = conn(&e, Version::OF10, Kind::Primary);
        let Message::FeaturesReply(f) = one(&e, &h10, Version::OF10, 5, Message::FeaturesRequest).msg else { panic!() };
        assert_eq!((f.datapath_id, f.n_tables, f.n_buffers), (0xaa, 4, 0));
        assert_eq!(f.ports.iter().map(|p| p.port_no).collect::<Vec<_>>(), vec![1, 2], "1.0 lists the ports");
        assert_eq!(f.capabilities, CAPS_OF10);
        let (h13, _r) = conn(&e, Version::OF13, Kind::Primary);
        let Message::FeaturesReply(f) = one(&e, &h13, Version::OF13, 6, Message::FeaturesRequest).msg else { panic!() };
        assert!(f.ports.is_empty(), "1.3 has port-desc instead");
        let Message::MultipartReply(r) = one(&e, &h13, Version::OF13, 7, Message::MultipartRequest(MultipartRequest { flags: 0, body: B::PortDesc })).msg else { panic!() };
        assert!(matches!(r.body, MultipartReplyBody::PortDesc(ref p) if p.len() == 2));
        let Message::MultipartReply(r) = one(&e, &h13, Version::OF13, 8, Message::MultipartRequest(MultipartRequest { flags: 0, body: B::Desc })).msg else { panic!() };
        assert!(matches!(r.body, MultipartReplyBody::Desc(ref d) if d.mfr_desc == "rvs" && d.dp_desc == "None"));
    }

    #[test]
    fn port_mod_bits_per_version() {
        use rvs_openflow::msg::port_config as pc;
        let e = env();
        let br = e.sh.switch.bridge("tbr0").unwrap();
        let (h10, r10) = conn(&e, Version::OF10, Kind::Primary);
        let (h13, r13) = conn(&e, Version::OF13, Kind::Primary);
        let pm = |port_no, config, mask| Message::PortMod(PortMod { port_no, hw_addr: Default::default(), config, mask, advertise: 0 });
        let gen = br.generation();
        assert!(handle(&e.sh, &h10, req(Version::OF10, 1, pm(1, pc::NO_FLOOD | pc::NO_FWD, pc::NO_FLOOD | pc::NO_FWD))).is_empty());
        assert_eq!(br.port_config.get(1), pc::NO_FLOOD | pc::NO_FWD);
        assert_ne!(br.generation(), gen, "a translation bit moved the generation (revalidation)");
        // Port-status for the change, as each version describes the port.
        let st = |rx: &Receiver<Message>| loop {
            match rx.try_recv() {
                Ok(Message::PortStatus(s)) => break s,
                Ok(_) => continue,
                Err(_) => panic!("no port-status"),
            }
        };
        assert_eq!(st(&r10).port.config, pc::NO_FLOOD | pc::NO_FWD);
        assert_eq!(st(&r13).port.config, pc::NO_FWD, "1.3 has no NO_FLOOD bit");
        // OpenFlow 1.3 cannot set or clear NO_FLOOD (bit 4 is not defined there), as in Open vSwitch.
        assert!(handle(&e.sh, &h13, req(Version::OF13, 2, pm(1, pc::NO_RECV, pc::NO_RECV | pc::NO_FLOOD | pc::NO_FWD))).is_empty());
        assert_eq!(br.port_config.get(1), pc::NO_FLOOD | pc::NO_RECV);
        let desc = |h: &ConnHandle, v| {
            let Message::MultipartReply(r) = one(&e, h, v, 3, Message::MultipartRequest(MultipartRequest { flags: 0, body: B::PortDesc })).msg else { panic!() };
            let MultipartReplyBody::PortDesc(p) = r.body else { panic!() };
            p.iter().find(|p| p.port_no == 1).unwrap().config
        };
        assert_eq!(desc(&h10, Version::OF10), pc::NO_FLOOD | pc::NO_RECV);
        assert_eq!(desc(&h13, Version::OF13), pc::NO_RECV);
        // Unchanged bits do not revalidate; unknown ports and wrong addresses are refused.
        let gen = br.generation();
        handle(&e.sh, &h13, req(Version::OF13, 4, pm(1, pc::NO_RECV, pc::NO_RECV)));
        assert_eq!(br.generation(), gen);
        assert_eq!(err_of(&one(&e, &h13, Version::OF13, 5, pm(9, 0, pc::NO_RECV))), PortModFailed::BadPort.into());
        let bad_hw = Message::PortMod(PortMod { port_no: 1, hw_addr: rvs_openflow::types::MacAddr([2, 0, 0, 0, 0, 1]), config: 0, mask: pc::NO_RECV, advertise: 0 });
        assert_eq!(err_of(&one(&e, &h13, Version::OF13, 6, bad_hw)), PortModFailed::BadHwAddr.into());
        assert_eq!(br.port_config.get(1), pc::NO_FLOOD | pc::NO_RECV, "refused port-mods change nothing");
    }

    #[test]
    fn config_barrier_and_errors() {
        let e = env();
        let (h, _r) = conn(&e, Version::OF13, Kind::Primary);
        assert!(handle(&e.sh, &h, req(Version::OF13, 1, Message::SetConfig(SwitchConfig { flags: 0, miss_send_len: 0xffff }))).is_empty());
        let r = one(&e, &h, Version::OF13, 2, Message::GetConfigRequest);
        assert_eq!(r.msg, Message::GetConfigReply(SwitchConfig { flags: 0, miss_send_len: 0xffff }));
        let r = one(&e, &h, Version::OF13, 3, Message::SetConfig(SwitchConfig { flags: 0x10, miss_send_len: 1 }));
        assert_eq!(err_of(&r), SwitchConfigFailed::BadFlags.into());
        let bad = FlowMod { table_id: 9, ..Default::default() };
        assert_eq!(err_of(&one(&e, &h, Version::OF13, 4, Message::FlowMod(bad))), rvs_openflow::error::FlowModFailed::BadTableId.into());
        assert!(handle(&e.sh, &h, req(Version::OF13, 5, Message::FlowMod(FlowMod::default()))).is_empty());
        assert_eq!(e.fake.flow_mods.lock().unwrap().len(), 1, "the flow-mod reached the pipeline");
        assert_eq!(one(&e, &h, Version::OF13, 6, Message::BarrierRequest).msg, Message::BarrierReply);
        // OpenFlow 1.0: deletes span every table, adds reset counters (as Open vSwitch).
        let (h10, _r) = conn(&e, Version::OF10, Kind::Primary);
        let del = FlowMod { command: rvs_openflow::msg::FlowModCommand::Delete, ..Default::default() };
        assert!(handle(&e.sh, &h10, req(Version::OF10, 9, Message::FlowMod(del))).is_empty());
        assert!(handle(&e.sh, &h10, req(Version::OF10, 10, Message::FlowMod(FlowMod::default()))).is_empty());
        let fms = e.fake.flow_mods.lock().unwrap().clone();
        assert_eq!(fms[1].table_id, rvs_openflow::types::table::ALL);
        assert!(fms[2].flags.reset_counts && !fms[0].flags.reset_counts);
        assert_eq!(err_of(&one(&e, &h, Version::OF13, 7, Message::BarrierReply)), BadRequest::BadType.into());
        assert_eq!(one(&e, &h, Version::OF13, 8, Message::EchoRequest(vec![1, 2])).msg, Message::EchoReply(vec![1, 2]));
    }

    #[test]
    fn flow_mod_runs_answer_like_single_messages() {
        let e = env();
        let (h, _r) = conn(&e, Version::OF13, Kind::Primary);
        let fm = |xid, table_id| req(Version::OF13, xid, Message::FlowMod(FlowMod { table_id, priority: xid as u16, ..Default::default() }));
        let run = vec![fm(1, 0), fm(2, 9), fm(3, 1), fm(4, 7)];
        assert!(run.iter().all(batchable));
        let out = handle_flow_mods(&e.sh, &h, run);
        assert_eq!(out.iter().map(|m| m.xid).collect::<Vec<_>>(), vec![2, 4], "one error per refused flow-mod, in order");
        assert!(out.iter().all(|m| err_of(m) == rvs_openflow::error::FlowModFailed::BadTableId.into()));
        let Message::Error(ErrorMsg { data, .. }) = &out[0].msg else { panic!() };
        assert_eq!(data.get(..8), encode(&fm(2, 9)).unwrap().get(..8), "the error carries the refused request");
        assert_eq!(e.fake.flow_mods.lock().unwrap().iter().map(|f| f.priority).collect::<Vec<_>>(), vec![1, 3]);
        // OpenFlow 1.0 flow-mods are not run together (they are rewritten first); a slave's
        // run is refused message by message.
        assert!(!batchable(&req(Version::OF10, 5, Message::FlowMod(FlowMod::default()))));
        assert!(!batchable(&req(Version::OF13, 5, Message::BarrierRequest)));
        one(&e, &h, Version::OF13, 6, Message::RoleRequest(RoleMsg { role: Role::Slave, generation_id: 1 }));
        let out = handle_flow_mods(&e.sh, &h, vec![fm(7, 0), fm(8, 0)]);
        assert_eq!(out.iter().map(|m| (m.xid, err_of(m))).collect::<Vec<_>>(), vec![(7, BadRequest::IsSlave.into()), (8, BadRequest::IsSlave.into())]);
        assert_eq!(e.fake.flow_mods.lock().unwrap().len(), 2);
    }

    #[test]
    fn port_statistics() {
        let e = env();
        let (h, _r) = conn(&e, Version::OF13, Kind::Primary);
        let r = one(&e, &h, Version::OF13, 1, Message::MultipartRequest(MultipartRequest { flags: 0, body: B::PortStats { port_no: port::ANY } }));
        let Message::MultipartReply(MultipartReply { body: MultipartReplyBody::PortStats(s), .. }) = r.msg else { panic!() };
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].port_no, s[0].rx_packets, s[0].tx_bytes), (1, 7, 99), "datapath port 3 is OpenFlow port 1");
        assert_eq!(s[1].rx_packets, 0);
        let r = one(&e, &h, Version::OF13, 2, Message::MultipartRequest(MultipartRequest { flags: 0, body: B::PortStats { port_no: 77 } }));
        assert_eq!(err_of(&r), BadRequest::BadPort.into());
        let r = one(&e, &h, Version::OF13, 3, Message::MultipartRequest(MultipartRequest { flags: 0, body: B::Queue { port_no: 77, queue_id: 0xffff_ffff } }));
        assert_eq!(err_of(&r), rvs_openflow::error::QueueOpFailed::BadPort.into());
        // No QoS anywhere: every port, every queue is an empty reply; a named queue does not exist.
        let q = |v, xid, port_no, queue_id| one(&e, &h, v, xid, Message::MultipartRequest(MultipartRequest { flags: 0, body: B::Queue { port_no, queue_id } }));
        assert!(matches!(q(Version::OF13, 4, port::ANY, 0xffff_ffff).msg, Message::MultipartReply(MultipartReply { body: MultipartReplyBody::Queue(ref v), .. }) if v.is_empty()));
        assert_eq!(err_of(&q(Version::OF13, 5, 1, 0)), rvs_openflow::error::QueueOpFailed::BadQueue.into());
        let (h10, _r10) = conn(&e, Version::OF10, Kind::Primary);
        let r = one(&e, &h10, Version::OF10, 6, Message::MultipartRequest(MultipartRequest { flags: 0, body: B::Queue { port_no: port::ALL, queue_id: 0xffff_ffff } }));
        assert!(matches!(r.msg, Message::MultipartReply(_)), "OpenFlow 1.0 says ALL for every port");
        assert_eq!(err_of(&q(Version::OF13, 7, port::ALL, 0xffff_ffff)), rvs_openflow::error::QueueOpFailed::BadPort.into(), "1.3 says ANY");
    }

    #[test]
    fn roles_and_generations() {
        let e = env();
        let (a, _ra) = conn(&e, Version::OF13, Kind::Primary);
        let (b, _rb) = conn(&e, Version::OF13, Kind::Primary);
        let role = |h: &ConnHandle, xid, role, generation_id| one(&e, h, Version::OF13, xid, Message::RoleRequest(RoleMsg { role, generation_id }));
        assert_eq!(role(&a, 1, Role::Master, 10).msg, Message::RoleReply(RoleMsg { role: Role::Master, generation_id: 10 }));
        assert_eq!(role(&b, 2, Role::Master, 11).msg, Message::RoleReply(RoleMsg { role: Role::Master, generation_id: 11 }));
        assert_eq!(a.state().role, Role::Slave, "the old master was demoted");
        assert_eq!(err_of(&role(&a, 3, Role::Master, 10)), RoleRequestFailed::Stale.into());
        assert_eq!(a.state().role, Role::Slave, "a stale request changes nothing");
        // Slaves may not modify the switch.
        let po = PacketOut { buffer_id: None, in_port: port::CONTROLLER, actions: vec![], data: vec![0; 60] };
        assert_eq!(err_of(&one(&e, &a, Version::OF13, 4, Message::PacketOut(po.clone()))), BadRequest::IsSlave.into());
        assert!(handle(&e.sh, &b, req(Version::OF13, 5, Message::PacketOut(po))).is_empty());
        assert_eq!(e.fake.packet_outs.lock().unwrap().len(), 1);
        // A generation id that wrapped around is newer.
        assert_eq!(role(&a, 6, Role::Slave, 11).msg, Message::RoleReply(RoleMsg { role: Role::Slave, generation_id: 11 }));
        // Equal needs no generation id; no-change just reports.
        assert_eq!(role(&a, 7, Role::Equal, 0).msg, Message::RoleReply(RoleMsg { role: Role::Equal, generation_id: 11 }));
        assert_eq!(role(&b, 8, Role::NoChange, 0).msg, Message::RoleReply(RoleMsg { role: Role::Master, generation_id: 11 }));
        // The management socket has no role.
        let (s, _rs) = conn(&e, Version::OF13, Kind::Service);
        assert_eq!(err_of(&role(&s, 9, Role::Master, 12)), RoleRequestFailed::Unsup.into());
    }

    fn packet_in(reason: PacketInReason) -> OfEvent {
        OfEvent::PacketIn(PacketIn { buffer_id: None, total_len: 60, reason, table_id: 0, cookie: !0, match_: Match::new(), data: vec![0; 60] })
    }

    #[test]
    fn async_messages_follow_roles_and_masks() {
        let e = env();
        let (m, rm) = conn(&e, Version::OF13, Kind::Primary);
        let (s, rs) = conn(&e, Version::OF13, Kind::Primary);
        let (svc, rsvc) = conn(&e, Version::OF13, Kind::Service);
        one(&e, &m, Version::OF13, 1, Message::RoleRequest(RoleMsg { role: Role::Master, generation_id: 1 }));
        one(&e, &s, Version::OF13, 2, Message::RoleRequest(RoleMsg { role: Role::Slave, generation_id: 1 }));
        e.fake.raise(&packet_in(PacketInReason::NoMatch));
        assert!(matches!(rm.try_recv(), Ok(Message::PacketIn(_))), "the master gets packet-ins");
        assert!(rs.try_recv().is_err(), "a slave does not");
        assert!(rsvc.try_recv().is_err(), "nor a service connection with miss_send_len 0");
        handle(&e.sh, &svc, req(Version::OF13, 3, Message::SetConfig(SwitchConfig { flags: 0, miss_send_len: 128 })));
        e.fake.raise(&packet_in(PacketInReason::Action));
        assert!(rsvc.try_recv().is_ok(), "after set-config it does");
        // The master turns off no-match packet-ins.
        let mut a = one(&e, &m, Version::OF13, 4, Message::GetAsyncRequest);
        let Message::GetAsyncReply(cfg) = &mut a.msg else { panic!() };
        let cfg = AsyncConfig { packet_in_mask: [cfg.packet_in_mask[0] & !1, 0], ..*cfg };
        handle(&e.sh, &m, req(Version::OF13, 5, Message::SetAsync(cfg)));
        while rm.try_recv().is_ok() {}
        e.fake.raise(&packet_in(PacketInReason::NoMatch));
        assert!(rm.try_recv().is_err());
        e.fake.raise(&packet_in(PacketInReason::Action));
        assert!(rm.try_recv().is_ok());
        // Port status goes to slaves too.
        e.sh.broadcast(&Message::PortStatus(PortStatus { reason: rvs_openflow::msg::PortReason::Add, port: Default::default() }));
        assert!(matches!(rs.try_recv(), Ok(Message::PortStatus(_))));
        assert!(matches!(rm.try_recv(), Ok(Message::PortStatus(_))));
        e.sh.unregister(m.id);
        e.fake.raise(&packet_in(PacketInReason::Action));
        assert!(rm.try_recv().is_err(), "closed connections are forgotten");
    }
}
