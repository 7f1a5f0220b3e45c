//! Translation through the OpenFlow tables: [`xlate_pipeline`] runs a packet's flow through
//! tables 0..254 on the shared [`Xlate`] context and turns the instructions and actions it
//! meets into datapath actions.
//!
//! - Lookups consult exactly what the classifier examined (megaflows stay wide).
//! - Instructions run in the order OpenFlow 1.3 §5.9 fixes (meter, apply-actions,
//!   clear-actions, write-actions, write-metadata, goto-table); without goto-table the action
//!   set runs (§5.10 order: pop, push, TTL, set-field, queue, group — which wins over output).
//! - A table miss drops, or (with [`Pipeline::set_miss_to_controller`], OpenFlow 1.0
//!   controllers) sends a packet-in with reason no_match.
//! - `output:CONTROLLER`, table-miss packet-ins and `dec_ttl` on TTL ≤ 1 (reason
//!   invalid_ttl) are recorded in [`Xlate::controller`] and make the translation *slow path*:
//!   no megaflow is installed, so every such packet comes up and reaches the controller. Open
//!   vSwitch installs a `userspace()` action instead; rvs keeps the packet's own upcall because
//!   the handler then has the packet and the exact translation in hand and no second upcall
//!   kind is needed. The price is one upcall per packet for controller-bound flows — what a
//!   controller that wants every packet pays anyway.
//! - The meter instruction becomes the datapath `meter(ID)` action of the meter's datapath
//!   meter ([`super::meters`]), ahead of the rule's actions.
//! - The packet-in's data is the packet as the actions before `output:CONTROLLER` left it
//!   ([`super::packet_in`]).
//! - Port-mod bits ([`crate::xlate::portcfg`]): `NO_RECV` drops after the table-0 lookup,
//!   `NO_FWD` skips outputs to the port, `NO_FLOOD` leaves it out of FLOOD, `NO_PACKET_IN`
//!   suppresses the packet-ins of misses from it.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use rvs_core::key::{field, FlowKey, VLAN_CFI};
use rvs_openflow::action::Action;
use rvs_openflow::instruction::Instruction;
use rvs_openflow::msg::{GroupType, PacketInReason};
use rvs_openflow::oxm::Field;
use rvs_openflow::types::{group, port};

use super::classifier::ClsKey;
use super::fields::{flow_set, location};
use super::Pipeline;
use crate::ofproto::{Bridge, BridgeConfig, OFPP_LOCAL};
use crate::xlate::portcfg::may_receive;
use crate::xlate::{normal, ControllerOut, Xlate};
use rvs_openflow::msg::port_config as pc;

/// Deepest group chaining followed.
const MAX_DEPTH: u32 = 32;

struct Ctx<'a> {
    br: &'a Bridge,
    cfg: &'a BridgeConfig,
    pl: &'a Pipeline,
    in_ofport: u32,
    metadata: u64,
    table_id: u8,
    cookie: u64,
    depth: u32,
    /// The rule being run is a table-miss entry (priority 0, matches everything): its packet-ins say no_match.
    table_miss: bool,
    /// Port-mod bits by (configuration) port number.
    pcfg: BTreeMap<u32, u32>,
    /// The input port has `NO_RECV` (or `NO_RECV_STP` and this is a BPDU): drop after the first lookup.
    drop_input: bool,
}

impl<'a> Ctx<'a> {
    fn new(x: &mut Xlate, br: &'a Bridge, cfg: &'a BridgeConfig, pl: &'a Pipeline, in_ofport: u32, cookie: u64) -> Ctx<'a> {
        let pcfg = br.port_config.snapshot();
        let in_bits = pcfg.get(&cfg_port(in_ofport)).copied().unwrap_or(0);
        let drop_input = !may_receive(x, in_bits);
        Ctx { br, cfg, pl, in_ofport, metadata: 0, table_id: 0, cookie, depth: 0, table_miss: false, pcfg, drop_input }
    }

    /// The port-mod bits of OpenFlow port `ofport`.
    fn bits(&self, ofport: u32) -> u32 {
        self.pcfg.get(&cfg_port(ofport)).copied().unwrap_or(0)
    }
}

/// Runs the OpenFlow tables of `br` for the packet in `x`.
pub fn xlate_pipeline(x: &mut Xlate, br: &Bridge, cfg: &BridgeConfig) {
    let pl = br.pipeline.read().unwrap_or_else(|p| p.into_inner());
    let in_dp = x.flow.in_port();
    let Some(in_ofport) = crate::tunnel::input_ofport(x, cfg).map(of_port) else {
        x.note(|| format!("input port {in_dp} is not a port of bridge {}: drop", cfg.name));
        return;
    };
    let mut c = Ctx::new(x, br, cfg, &pl, in_ofport, 0);
    run_tables(x, &mut c, 0);
}

/// Runs `actions` (a packet-out's list) for the packet in `x`, whose OpenFlow input port is
/// `in_ofport` (`port::CONTROLLER`/`ANY` when it has none).
pub fn xlate_actions(x: &mut Xlate, br: &Bridge, cfg: &BridgeConfig, in_ofport: u32, actions: &[Action]) {
    let pl = br.pipeline.read().unwrap_or_else(|p| p.into_inner());
    let mut c = Ctx::new(x, br, cfg, &pl, in_ofport, u64::MAX);
    if c.drop_input {
        x.note(|| format!("input port {in_ofport} has OFPPC_NO_RECV: drop"));
        return;
    }
    do_actions(x, &mut c, actions);
}

/// Runs the tables starting at table 0 for a packet-out's `output:TABLE`.
pub fn xlate_table(x: &mut Xlate, br: &Bridge, cfg: &BridgeConfig, in_ofport: u32) {
    let pl = br.pipeline.read().unwrap_or_else(|p| p.into_inner());
    let mut c = Ctx::new(x, br, cfg, &pl, in_ofport, 0);
    run_tables(x, &mut c, 0);
}

fn inst_rank(i: &Instruction) -> u8 {
    match i {
        Instruction::Meter(_) => 0,
        Instruction::ApplyActions(_) => 1,
        Instruction::ClearActions => 2,
        Instruction::WriteActions(_) => 3,
        Instruction::WriteMetadata { .. } => 4,
        Instruction::GotoTable(_) => 5,
        Instruction::Experimenter { .. } => 6,
    }
}

fn run_tables(x: &mut Xlate, c: &mut Ctx<'_>, start: u8) {
    // In-band control hook (connmgr/inband.rs): hidden rules outrank every rule of table 0.
    if start == 0 && hidden_rule(x, c) {
        return;
    }
    let mut table = start;
    let mut set = ActionSet::default();
    loop {
        let key = ClsKey::from_flow(&x.flow, c.metadata, c.in_ofport);
        let mut wc = ClsKey::ZERO;
        let hit = c.pl.table(table).and_then(|t| t.cls.lookup(&key, &mut wc));
        let fwc = wc.flow_part();
        for (w, m) in x.wc.as_bytes_mut().iter_mut().zip(fwc.as_bytes().iter()) {
            *w |= m;
        }
        if fwc.vlan_tci() != 0 {
            x.consult_tci(0);
        }
        if x.may_learn {
            c.pl.count_lookup(table, hit.is_some());
        }
        c.table_id = table;
        if c.drop_input {
            // As Open vSwitch: the first lookup happens (and counts), then the packet is dropped.
            if let Some(rule) = hit.and_then(|(id, _)| c.pl.rule(id)) {
                x.rules.push(rule.id);
            }
            x.note(|| format!("{table}. input port {} has OFPPC_NO_RECV: drop", c.in_ofport));
            return;
        }
        let Some(rule) = hit.and_then(|(id, _)| c.pl.rule(id)) else {
            if c.pl.miss_to_controller() && c.bits(c.in_ofport) & pc::NO_PACKET_IN != 0 {
                x.note(|| format!("{table}. No match; input port {} has OFPPC_NO_PACKET_IN: drop", c.in_ofport));
            } else if c.pl.miss_to_controller() {
                x.note(|| format!("{table}. No match: to the controller"));
                c.cookie = u64::MAX;
                controller(x, c, PacketInReason::NoMatch, 0xffff);
            } else {
                x.note(|| format!("{table}. No match: drop"));
            }
            return;
        };
        x.rules.push(rule.id);
        c.cookie = rule.cookie;
        c.table_miss = rule.priority == 0 && rule.match_.is_empty();
        x.note(|| {
            use rvs_openflow::text::{format_instructions, format_match};
            use rvs_openflow::types::Version;
            format!(
                "{table}. {}, cookie={:#x}, actions={}",
                format_match(&rule.match_, rule.priority),
                rule.cookie,
                format_instructions(&rule.instructions, Version::OF13)
            )
        });
        let mut insts: Vec<&Instruction> = rule.instructions.iter().collect();
        insts.sort_by_key(|i| inst_rank(i));
        let mut goto = None;
        for i in insts {
            match i {
                Instruction::Meter(m) => match c.pl.meter(*m).and_then(|mt| mt.dp_id) {
                    Some(dp) => {
                        x.actions.push(&rvs_core::actions::Action::Meter(dp));
                        x.note(|| format!("meter {m}: meter({dp})"));
                    }
                    None => x.note(|| format!("meter {m}: no datapath meter")),
                },
                Instruction::ApplyActions(a) => {
                    if !do_actions(x, c, a) {
                        return;
                    }
                }
                Instruction::ClearActions => set.clear(),
                Instruction::WriteActions(a) => set.write(a),
                Instruction::WriteMetadata { metadata, mask } => c.metadata = (c.metadata & !mask) | (metadata & mask),
                Instruction::GotoTable(t) => goto = Some(*t),
                Instruction::Experimenter { .. } => {}
            }
        }
        match goto {
            Some(t) if t > table => table = t,
            _ => {
                let acts = set.into_actions();
                if !acts.is_empty() {
                    x.note(|| format!("action set: {acts:?}"));
                }
                do_actions(x, c, &acts);
                return;
            }
        }
    }
}

/// Runs the hidden rule ([`super::hidden`], in-band control) matching the packet, if any; its
/// lookup's wildcards go into the megaflow either way. Hidden rules count in no table's
/// statistics and no OpenFlow rule's counters.
fn hidden_rule(x: &mut Xlate, c: &mut Ctx<'_>) -> bool {
    let pl = c.pl;
    if pl.hidden_rules().is_empty() {
        return false;
    }
    let key = ClsKey::from_flow(&x.flow, c.metadata, c.in_ofport);
    let mut wc = ClsKey::ZERO;
    let hit = pl.hidden_rules().lookup(&key, &mut wc);
    let fwc = wc.flow_part();
    for (w, m) in x.wc.as_bytes_mut().iter_mut().zip(fwc.as_bytes().iter()) {
        *w |= m;
    }
    if fwc.vlan_tci() != 0 {
        x.consult_tci(0);
    }
    let Some(rule) = hit else { return false };
    x.note(|| format!("hidden rule {}", rule.spec));
    if c.drop_input {
        // OFPPC_NO_RECV holds for hidden rules too (as Open vSwitch).
        x.note(|| format!("input port {} has OFPPC_NO_RECV: drop", c.in_ofport));
        return true;
    }
    c.cookie = 0;
    do_actions(x, c, &rule.spec.actions);
    true
}

/// The OpenFlow 1.3 action set: at most one action per kind, run in the spec's order.
#[derive(Debug, Default)]
struct ActionSet {
    slots: BTreeMap<(u8, u32), Action>,
}

impl ActionSet {
    fn clear(&mut self) {
        self.slots.clear();
    }

    fn write(&mut self, actions: &[Action]) {
        for a in actions {
            let key = match a {
                Action::PopVlan => (1, 0),
                Action::PushVlan(_) => (3, 0),
                Action::DecNwTtl | Action::SetNwTtl(_) => (5, 0),
                Action::SetField { field, .. } => (6, u32::from(field.oxm_field())),
                Action::SetVlanVid(_) => (6, 1000),
                Action::SetVlanPcp(_) => (6, 1001),
                Action::SetDlSrc(_) => (6, u32::from(Field::EthSrc.oxm_field())),
                Action::SetDlDst(_) => (6, u32::from(Field::EthDst.oxm_field())),
                Action::SetNwSrc(_) => (6, u32::from(Field::Ipv4Src.oxm_field())),
                Action::SetNwDst(_) => (6, u32::from(Field::Ipv4Dst.oxm_field())),
                Action::SetNwTos(_) => (6, u32::from(Field::IpDscp.oxm_field())),
                Action::SetTpSrc(_) => (6, 1002),
                Action::SetTpDst(_) => (6, 1003),
                Action::SetQueue(_) => (7, 0),
                Action::Group(_) => (8, 0),
                Action::Output { .. } | Action::Enqueue { .. } => (9, 0),
                _ => (10, 0),
            };
            self.slots.insert(key, a.clone());
        }
    }

    fn into_actions(self) -> Vec<Action> {
        let has_group = self.slots.keys().any(|k| k.0 == 8);
        self.slots.into_iter().filter(|(k, _)| !(has_group && k.0 == 9)).map(|(_, a)| a).collect()
    }
}

fn controller(x: &mut Xlate, c: &Ctx<'_>, reason: PacketInReason, max_len: u16) {
    x.slow_path = true;
    // The controller gets the packet as modified so far.
    x.commit();
    x.sync_vlan();
    let actions_len = x.actions.bytes().len();
    x.controller.push(ControllerOut { reason, table_id: c.table_id, cookie: c.cookie, max_len, in_port: c.in_ofport, metadata: c.metadata, actions_len });
}

/// OpenFlow port number (model numbering) → the configuration's number (which names the
/// local port [`OFPP_LOCAL`]).
fn cfg_port(p: u32) -> u32 {
    if p == port::LOCAL {
        OFPP_LOCAL
    } else {
        p
    }
}

/// The configuration's port number → OpenFlow (model) numbering.
pub fn of_port(p: u32) -> u32 {
    if p == OFPP_LOCAL {
        port::LOCAL
    } else {
        p
    }
}

fn out_ofport(x: &mut Xlate, c: &Ctx<'_>, ofport: u32) {
    match c.cfg.ports.get(&cfg_port(ofport)) {
        Some(p) if c.cfg.patches.contains_key(&p.ofport) => {
            x.note(|| format!("output to patch port {} ({}): only NORMAL crosses patch ports so far, skipped", p.ofport, p.name));
        }
        Some(p) if c.pcfg.get(&p.ofport).is_some_and(|b| b & pc::NO_FWD != 0) => {
            x.note(|| format!("output to port {} ({}): OFPPC_NO_FWD set, skipped", p.ofport, p.name));
        }
        Some(p) => {
            x.note(|| format!("output to port {} ({})", p.ofport, p.name));
            if let Some(t) = c.cfg.tunnels.get(&p.ofport) {
                if !crate::tunnel::set_tunnel(x, t) {
                    return;
                }
            }
            x.output_flow_vlan(p.dp_port);
        }
        None => x.note(|| format!("output to nonexistent port {ofport}: skipped")),
    }
}

fn field_mask(f: Field) -> FlowKey {
    let mut m = FlowKey::ZERO;
    let _ = flow_set(&mut m, f, f.max_value());
    m
}

fn set_field(x: &mut Xlate, f: Field, value: u128) {
    if flow_set(&mut x.flow, f, value).is_ok() {
        x.wrote(&field_mask(f));
    }
}

fn set_tci(x: &mut Xlate, tci: u16) {
    x.flow.set_vlan_tci(tci);
    let mut m = FlowKey::ZERO;
    m.set_vlan_tci(0xffff);
    x.wrote(&m);
}

/// Runs one action list; false when translation must stop (invalid TTL).
fn do_actions(x: &mut Xlate, c: &mut Ctx<'_>, actions: &[Action]) -> bool {
    for a in actions {
        match a {
            Action::Output { port: p, max_len } => output(x, c, *p, *max_len),
            Action::Enqueue { port: p, queue_id } => {
                // As Open vSwitch: the queue holds for this output only.
                let saved = x.flow.priority();
                let queued = set_queue(x, *queue_id);
                output(x, c, *p, 0);
                if queued {
                    set_priority(x, saved);
                }
            }
            Action::SetField { field: Field::Metadata, value } => c.metadata = u64::try_from(*value).unwrap_or(u64::MAX),
            Action::SetField { field: Field::VlanVid, value } => {
                x.consult_tci(VLAN_CFI);
                let tci = x.flow.vlan_tci();
                if tci & VLAN_CFI != 0 {
                    set_tci(x, (tci & !0x0fff) | (u16::try_from(*value).unwrap_or(0) & 0x0fff));
                }
            }
            Action::SetField { field: Field::VlanPcp, value } => {
                x.consult_tci(VLAN_CFI);
                let tci = x.flow.vlan_tci();
                if tci & VLAN_CFI != 0 {
                    set_tci(x, (tci & 0x1fff) | ((u16::try_from(*value).unwrap_or(0) & 7) << 13));
                }
            }
            Action::SetField { field, value } => set_field(x, *field, *value),
            Action::PushVlan(tpid) => {
                x.consult_tci(VLAN_CFI);
                let tci = x.flow.vlan_tci();
                if tci & VLAN_CFI != 0 {
                    x.note(|| "push_vlan on a tagged packet: double tagging is not supported, ignored".into());
                } else {
                    x.flow.set_vlan_tpid(*tpid);
                    set_tci(x, VLAN_CFI);
                }
            }
            Action::PopVlan => {
                x.consult_tci(VLAN_CFI);
                if x.flow.vlan_tci() & VLAN_CFI != 0 {
                    set_tci(x, 0);
                }
            }
            Action::SetVlanVid(vid) => {
                x.consult_tci(VLAN_CFI);
                let tci = x.flow.vlan_tci();
                let base = if tci & VLAN_CFI != 0 { tci & 0xe000 } else { 0 };
                set_tci(x, base | VLAN_CFI | (vid & 0x0fff));
            }
            Action::SetVlanPcp(pcp) => {
                x.consult_tci(VLAN_CFI);
                let tci = x.flow.vlan_tci();
                let base = if tci & VLAN_CFI != 0 { tci & 0x0fff } else { 0 };
                set_tci(x, base | VLAN_CFI | (u16::from(pcp & 7) << 13));
            }
            Action::SetDlSrc(m) => set_field(x, Field::EthSrc, u128::from(m.to_u64())),
            Action::SetDlDst(m) => set_field(x, Field::EthDst, u128::from(m.to_u64())),
            Action::SetNwSrc(a) if x.flow.eth_type() == 0x0800 => set_field(x, Field::Ipv4Src, u128::from(*a)),
            Action::SetNwDst(a) if x.flow.eth_type() == 0x0800 => set_field(x, Field::Ipv4Dst, u128::from(*a)),
            Action::SetNwTos(t) if matches!(x.flow.eth_type(), 0x0800 | 0x86dd) => set_field(x, Field::IpDscp, u128::from(t >> 2)),
            Action::SetTpSrc(p) | Action::SetTpDst(p) if matches!(x.flow.eth_type(), 0x0800 | 0x86dd) => {
                x.consult_byte(field::IP_PROTO);
                if matches!(x.flow.ip_proto(), 6 | 17 | 132) {
                    let f = if matches!(a, Action::SetTpSrc(_)) { Field::TcpSrc } else { Field::TcpDst };
                    set_field(x, f, u128::from(*p));
                }
            }
            Action::SetNwSrc(_) | Action::SetNwDst(_) | Action::SetNwTos(_) | Action::SetTpSrc(_) | Action::SetTpDst(_) => {}
            Action::SetQueue(q) => {
                set_queue(x, *q);
            }
            _ if *a == Action::pop_queue() => {
                let p = x.orig.priority();
                x.note(|| format!("pop_queue: priority back to {p:#x}"));
                set_priority(x, p);
            }
            Action::DecNwTtl => {
                if matches!(x.flow.eth_type(), 0x0800 | 0x86dd) {
                    x.consult_byte(field::IP_TTL);
                    let ttl = x.flow.ip_ttl();
                    if ttl <= 1 {
                        x.note(|| "dec_ttl: TTL expired: to the controller (invalid_ttl)".into());
                        controller(x, c, PacketInReason::InvalidTtl, 0xffff);
                        return false;
                    }
                    let mut m = FlowKey::ZERO;
                    m.as_bytes_mut()[field::IP_TTL] = 0xff;
                    x.flow.set_ip_ttl(ttl - 1);
                    x.wrote(&m);
                }
            }
            Action::SetNwTtl(t) => {
                if matches!(x.flow.eth_type(), 0x0800 | 0x86dd) {
                    let mut m = FlowKey::ZERO;
                    m.as_bytes_mut()[field::IP_TTL] = 0xff;
                    x.flow.set_ip_ttl(*t);
                    x.wrote(&m);
                }
            }
            Action::Group(g) => do_group(x, c, *g),
            Action::PushMpls(_) | Action::PopMpls(_) | Action::CopyTtlOut | Action::CopyTtlIn | Action::SetMplsTtl(_) | Action::DecMplsTtl | Action::Experimenter { .. } => {
                x.note(|| format!("{a:?}: not supported, skipped"));
            }
        }
    }
    true
}

/// Queues above this have no tc class (Open vSwitch's limit for the Linux datapaths).
const MAX_QUEUE_ID: u32 = 0xf000;

/// Selects queue `q`: skb priority `1:(q+1)`, the linux-htb class of queue `q`
/// ([`crate::qos::htb`]), as Open vSwitch maps queues on Linux. Returns false (and changes
/// nothing) for a queue that has no such class.
fn set_queue(x: &mut Xlate, q: u32) -> bool {
    if q >= MAX_QUEUE_ID {
        x.note(|| format!("set_queue:{q}: queue ids stop below {MAX_QUEUE_ID:#x}: ignored"));
        return false;
    }
    set_priority(x, 0x0001_0000 | (q + 1));
    true
}

fn set_priority(x: &mut Xlate, prio: u32) {
    x.flow.set_priority(prio);
    let mut m = FlowKey::ZERO;
    m.set_priority(u32::MAX);
    x.wrote(&m);
}

fn output(x: &mut Xlate, c: &mut Ctx<'_>, p: u32, max_len: u16) {
    match p {
        port::CONTROLLER => {
            x.note(|| format!("output to the controller (max_len {max_len})"));
            // OpenFlow 1.3 §5.4: packets sent by a table-miss flow entry carry reason no_match.
            let reason = if c.table_miss { PacketInReason::NoMatch } else { PacketInReason::Action };
            if reason == PacketInReason::NoMatch && c.bits(c.in_ofport) & pc::NO_PACKET_IN != 0 {
                x.note(|| format!("table miss from port {} with OFPPC_NO_PACKET_IN: no packet-in", c.in_ofport));
                return;
            }
            controller(x, c, reason, max_len);
        }
        port::NORMAL => normal::xlate_normal(x, c.br, c.cfg),
        port::FLOOD | port::ALL => {
            // FLOOD leaves out ports with OFPPC_NO_FLOOD; ALL does not.
            let ports: Vec<u32> = c
                .cfg
                .ports
                .keys()
                .map(|o| of_port(*o))
                .filter(|o| *o != c.in_ofport && (p == port::ALL || c.bits(*o) & pc::NO_FLOOD == 0))
                .collect();
            x.note(|| format!("{}: {} port(s)", port::name(p).unwrap_or("?"), ports.len()));
            for o in ports {
                out_ofport(x, c, o);
            }
        }
        port::IN_PORT => {
            let inp = c.in_ofport;
            out_ofport(x, c, inp);
        }
        port::LOCAL => out_ofport(x, c, port::LOCAL),
        // Packet-out only (flows cannot output to TABLE).
        port::TABLE if c.depth == 0 => {
            c.depth = MAX_DEPTH;
            run_tables(x, c, 0);
        }
        p if p == c.in_ofport => x.note(|| format!("output to the input port {p}: skipped (use IN_PORT)")),
        p => out_ofport(x, c, p),
    }
}

fn port_live(cfg: &BridgeConfig, p: u32) -> bool {
    p == port::ANY || cfg.ports.contains_key(&cfg_port(p))
}

/// Publishes the packet-ins translation `x` recorded for `packet` on `br`'s events.
pub fn publish_packet_ins(br: &Bridge, x: &Xlate, packet: &[u8]) {
    for c in &x.controller {
        let modified = match x.actions.bytes().get(..c.actions_len) {
            Some(a) if !a.is_empty() => super::packet_in::apply_effects(packet, x.orig.in_port(), a),
            _ => None,
        };
        let packet = modified.as_deref().unwrap_or(packet);
        let mut m = rvs_openflow::oxm::Match::new();
        m.set(Field::InPort, u128::from(c.in_port));
        if c.metadata != 0 {
            m.set(Field::Metadata, u128::from(c.metadata));
        }
        let len = if c.max_len == rvs_openflow::types::CML_NO_BUFFER { packet.len() } else { packet.len().min(usize::from(c.max_len)) };
        let pi = rvs_openflow::msg::PacketIn {
            buffer_id: None,
            total_len: u16::try_from(packet.len()).unwrap_or(u16::MAX),
            reason: c.reason,
            table_id: c.table_id,
            cookie: c.cookie,
            match_: m,
            data: packet.get(..len).unwrap_or(packet).to_vec(),
        };
        br.events.publish(super::OfEvent::PacketIn(pi));
    }
}

fn do_group(x: &mut Xlate, c: &mut Ctx<'_>, gid: u32) {
    let Some(g) = c.pl.group(gid) else {
        x.note(|| format!("group {gid} does not exist: drop"));
        return;
    };
    if c.depth >= MAX_DEPTH {
        x.note(|| format!("group {gid}: chained too deep: drop"));
        return;
    }
    c.depth += 1;
    let saved_flow = x.flow;
    let saved_md = c.metadata;
    let buckets: Vec<(usize, &rvs_openflow::msg::Bucket)> = match g.group_type {
        GroupType::All => g.buckets.iter().enumerate().collect(),
        GroupType::Indirect => g.buckets.iter().enumerate().take(1).collect(),
        GroupType::FastFailover => g
            .buckets
            .iter()
            .enumerate()
            .find(|(_, b)| port_live(c.cfg, b.watch_port) && (b.watch_group == group::ANY || c.pl.group(b.watch_group).is_some()))
            .into_iter()
            .collect(),
        GroupType::Select => select_bucket(x, &g.buckets).into_iter().collect(),
    };
    x.note(|| format!("group {gid} ({:?}): {} bucket(s)", g.group_type, buckets.len()));
    if buckets.is_empty() {
        x.buckets.push((gid, usize::MAX));
    }
    for (i, b) in buckets {
        x.buckets.push((gid, i));
        do_actions(x, c, &b.actions);
        // Each bucket works on its own copy of the packet.
        x.flow = saved_flow;
        c.metadata = saved_md;
    }
    c.depth -= 1;
}

/// Picks a select group's bucket by a hash of the flow's addresses and ports (consulted),
/// weighted.
fn select_bucket<'b>(x: &mut Xlate, buckets: &'b [rvs_openflow::msg::Bucket]) -> Option<(usize, &'b rvs_openflow::msg::Bucket)> {
    let total: u64 = buckets.iter().map(|b| u64::from(b.weight.max(1))).sum();
    if total == 0 {
        return None;
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    x.consult(field::ETH_SRC);
    x.consult(field::ETH_DST);
    let f = x.flow;
    (f.eth_src(), f.eth_dst()).hash(&mut h);
    let ip = matches!(f.eth_type(), 0x0800 | 0x86dd);
    if ip {
        for fl in [Field::Ipv4Src, Field::Ipv4Dst, Field::Ipv6Src, Field::Ipv6Dst] {
            if let Some(l) = location(fl) {
                if (fl == Field::Ipv4Src || fl == Field::Ipv4Dst) == (f.eth_type() == 0x0800) {
                    x.consult(l.bytes.clone());
                    f.as_bytes().get(l.bytes).hash(&mut h);
                }
            }
        }
        x.consult_byte(field::IP_PROTO);
        f.ip_proto().hash(&mut h);
        if matches!(f.ip_proto(), 6 | 17 | 132) {
            x.consult(field::TP_SRC);
            x.consult(field::TP_DST);
            (f.tp_src(), f.tp_dst()).hash(&mut h);
        }
    }
    let mut pick = h.finish() % total;
    for (i, b) in buckets.iter().enumerate() {
        let w = u64::from(b.weight.max(1));
        if pick < w {
            return Some((i, b));
        }
        pick -= w;
    }
    buckets.len().checked_sub(1).and_then(|i| buckets.get(i).map(|b| (i, b)))
}

#[cfg(test)]
#[path = "xlate_tests.rs"]
mod tests;
