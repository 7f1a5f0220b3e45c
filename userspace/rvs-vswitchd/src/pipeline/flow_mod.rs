//! Flow-mod semantics (OpenFlow 1.3 §6.4, with Open vSwitch's choices where the spec leaves
//! room) and the validation of matches, instructions and actions.
//!
//! - add: replaces a rule with the same match and priority (keeping its counters unless
//!   `reset_counts`); `check_overlap` refuses a rule that some packet could match together with
//!   an existing rule of the same priority.
//! - modify / modify-strict: new instructions for the selected rules (cookie under
//!   `cookie_mask`; with `cookie_mask` 0 the cookie is replaced too); selecting nothing adds
//!   the flow when `cookie_mask` is 0 (OpenFlow 1.0 semantics, which Open vSwitch keeps).
//! - delete / delete-strict: `table::ALL`, cookie, `out_port` and `out_group` filters; rules
//!   with `send_flow_rem` produce flow-removed messages.

use std::time::Instant;

use rvs_openflow::action::Action;
use rvs_openflow::error::{BadAction, BadInstruction, BadMatch, FlowModFailed, MeterModFailed, OfpError};
use rvs_openflow::instruction::Instruction;
use rvs_openflow::msg::{FlowMod, FlowModCommand, FlowRemoved, FlowRemovedReason};
use rvs_openflow::oxm::{Field, Match};
use rvs_openflow::types::{group, port, table};

use super::classifier::ClsMatch;
use super::fields::{match_to_cls, settable};
use super::{Pipeline, Rule, RuleId, LAST_TABLE};

/// A selection of rules for modify, delete and statistics.
#[derive(Debug, Clone)]
pub struct Selector {
    /// Table or `table::ALL`.
    pub table_id: u8,
    /// The match (loose: rules at least as specific; strict: exactly this match).
    pub cls: ClsMatch,
    /// Strict selection at this priority.
    pub strict: Option<u16>,
    /// Cookie filter value.
    pub cookie: u64,
    /// Cookie filter mask (0: none).
    pub cookie_mask: u64,
    /// Output port filter (`port::ANY`: none).
    pub out_port: u32,
    /// Output group filter (`group::ANY`: none).
    pub out_group: u32,
}

/// Checks a match for flow tables: supported fields and prerequisites.
pub fn check_match(m: &Match) -> Result<ClsMatch, OfpError> {
    let c = match_to_cls(m)?;
    m.check_prereqs().map_err(|_| OfpError::BadMatch(BadMatch::BadPrereq))?;
    Ok(c)
}

impl Pipeline {
    /// The rules `s` selects, by id (ascending).
    pub fn select(&self, s: &Selector) -> Vec<RuleId> {
        let tables: Vec<u8> = if s.table_id == table::ALL { (0..=LAST_TABLE).collect() } else { vec![s.table_id] };
        let mut out = Vec::new();
        for t in tables {
            let Some(tab) = self.table(t) else { continue };
            let ids: Vec<RuleId> = match s.strict {
                Some(p) => tab.cls.find_exact(&s.cls, p).into_iter().collect(),
                None => tab.cls.iter_within(&s.cls).map(|(_, _, id)| id).collect(),
            };
            out.extend(ids.into_iter().filter(|id| {
                self.rule(*id).is_some_and(|r| {
                    (r.cookie ^ s.cookie) & s.cookie_mask == 0 && r.outputs_to(s.out_port) && r.uses_group(s.out_group)
                })
            }));
        }
        out.sort();
        out
    }

    /// Validates an action list: output ports, groups, set-field types and prerequisites,
    /// actions the datapath cannot do. `m` is the rule's match (`None` for group buckets and
    /// packet-out, which have no prerequisites to check).
    pub fn check_actions(&self, actions: &[Action], m: Option<&Match>) -> Result<(), OfpError> {
        let mut vlan_pushed = false;
        for a in actions {
            match a {
                Action::Output { port: p, .. } | Action::Enqueue { port: p, .. } => {
                    let reserved = matches!(*p, port::IN_PORT | port::NORMAL | port::FLOOD | port::ALL | port::CONTROLLER | port::LOCAL);
                    if *p == 0 || (*p > port::MAX && !reserved) {
                        return Err(BadAction::BadOutPort.into());
                    }
                }
                Action::Group(g) => {
                    if self.group(*g).is_none() {
                        return Err(BadAction::BadOutGroup.into());
                    }
                }
                Action::SetField { field, value } => {
                    if !settable(*field) || *field == Field::InPort {
                        return Err(BadAction::BadSetType.into());
                    }
                    if *value > field.max_value() {
                        return Err(BadAction::BadSetArgument.into());
                    }
                    let vlan_field = matches!(field, Field::VlanVid | Field::VlanPcp);
                    if let Some(m) = m {
                        if !(m.prereq_met(*field) || vlan_field && vlan_pushed) {
                            return Err(BadAction::MatchInconsistent.into());
                        }
                    }
                }
                Action::PushVlan(tpid) => {
                    if *tpid != 0x8100 && *tpid != 0x88a8 {
                        return Err(BadAction::BadArgument.into());
                    }
                    vlan_pushed = true;
                }
                Action::SetVlanVid(_) | Action::SetVlanPcp(_) => vlan_pushed = true,
                Action::PopVlan
                | Action::SetQueue(_)
                | Action::DecNwTtl
                | Action::SetNwTtl(_)
                | Action::SetDlSrc(_)
                | Action::SetDlDst(_)
                | Action::SetNwSrc(_)
                | Action::SetNwDst(_)
                | Action::SetNwTos(_)
                | Action::SetTpSrc(_)
                | Action::SetTpDst(_) => {}
                // Nicira pop_queue is the one experimenter action translation knows (ovs-ofctl's
                // OpenFlow 1.3 `enqueue` is set_queue, output, pop_queue).
                a @ Action::Experimenter { .. } if *a == Action::pop_queue() => {}
                Action::Experimenter { .. } => return Err(BadAction::BadExperimenter.into()),
                // MPLS and TTL copies: the datapath key carries no MPLS fields.
                Action::PushMpls(_) | Action::PopMpls(_) | Action::CopyTtlOut | Action::CopyTtlIn | Action::SetMplsTtl(_) | Action::DecMplsTtl => {
                    return Err(BadAction::BadType.into())
                }
            }
        }
        Ok(())
    }

    /// Validates a packet-out's actions (which, unlike a flow's, may output to `TABLE`).
    pub fn check_packet_out_actions(&self, actions: &[Action]) -> Result<(), OfpError> {
        let table_free: Vec<Action> = actions
            .iter()
            .map(|a| match a {
                Action::Output { port: port::TABLE, max_len } => Action::Output { port: port::IN_PORT, max_len: *max_len },
                a => a.clone(),
            })
            .collect();
        self.check_actions(&table_free, None)
    }

    /// Validates a rule's instructions for table `table_id`.
    pub fn check_instructions(&self, table_id: u8, insts: &[Instruction], m: &Match) -> Result<(), OfpError> {
        // Instruction types are 1..=6 and experimenter (0xffff, bit 31 here).
        let mut seen = 0u32;
        for i in insts {
            let bit = 1u32 << i.type_number().min(31);
            if seen & bit != 0 {
                return Err(BadInstruction::DupInst.into());
            }
            seen |= bit;
            match i {
                Instruction::GotoTable(t) => {
                    if *t <= table_id || *t > LAST_TABLE {
                        return Err(BadInstruction::BadTableId.into());
                    }
                }
                Instruction::Meter(id) => {
                    if self.meter(*id).is_none() {
                        return Err(MeterModFailed::UnknownMeter.into());
                    }
                }
                Instruction::ApplyActions(a) | Instruction::WriteActions(a) => self.check_actions(a, Some(m))?,
                Instruction::WriteMetadata { .. } | Instruction::ClearActions => {}
                Instruction::Experimenter { .. } => return Err(BadInstruction::BadExperimenter.into()),
            }
        }
        Ok(())
    }

    /// Applies a flow-mod; returns the flow-removed messages it caused (deletes of rules with
    /// `send_flow_rem`). Nothing changes when an error is returned.
    pub fn flow_mod(&mut self, fm: &FlowMod, now: Instant) -> Result<Vec<FlowRemoved>, OfpError> {
        self.flow_mod_owned(&mut fm.clone(), now)
    }

    /// [`Pipeline::flow_mod`] that may move the match and instructions out of `fm` into the
    /// new rule instead of copying them (`fm` is left unchanged when an error is returned).
    pub fn flow_mod_owned(&mut self, fm: &mut FlowMod, now: Instant) -> Result<Vec<FlowRemoved>, OfpError> {
        let cls = check_match(&fm.match_)?;
        let is_delete = matches!(fm.command, FlowModCommand::Delete | FlowModCommand::DeleteStrict);
        if !is_delete {
            if fm.table_id > LAST_TABLE {
                return Err(FlowModFailed::BadTableId.into());
            }
            self.check_instructions(fm.table_id, &fm.instructions, &fm.match_)?;
        }
        let strict = matches!(fm.command, FlowModCommand::ModifyStrict | FlowModCommand::DeleteStrict).then_some(fm.priority);
        let sel = |out_port, out_group| Selector {
            table_id: fm.table_id,
            cls,
            strict,
            cookie: fm.cookie,
            cookie_mask: fm.cookie_mask,
            out_port,
            out_group,
        };
        match fm.command {
            FlowModCommand::Add => {
                self.add(fm, cls, now)?;
                Ok(Vec::new())
            }
            FlowModCommand::Modify | FlowModCommand::ModifyStrict => {
                let ids = self.select(&sel(port::ANY, group::ANY));
                if ids.is_empty() {
                    if fm.cookie_mask == 0 {
                        self.add(fm, cls, now)?;
                    }
                    return Ok(Vec::new());
                }
                for id in ids {
                    if let Some(r) = self.rules.get_mut(&id) {
                        r.instructions = fm.instructions.clone();
                        if fm.cookie_mask == 0 {
                            r.cookie = fm.cookie;
                        }
                        if fm.flags.reset_counts {
                            r.packets = 0;
                            r.bytes = 0;
                        }
                    }
                }
                self.bump();
                Ok(Vec::new())
            }
            FlowModCommand::Delete | FlowModCommand::DeleteStrict => {
                let ids = self.select(&sel(fm.out_port, fm.out_group));
                let mut out = Vec::new();
                for id in ids {
                    if let Some(r) = self.remove_rule(id) {
                        if r.flags.send_flow_rem {
                            out.push(r.removed(FlowRemovedReason::Delete, now));
                        }
                    }
                }
                Ok(out)
            }
        }
    }

    /// Adds the rule `fm` describes; its match and instructions move into the rule once every
    /// check passed (so `fm` is unchanged on error).
    fn add(&mut self, fm: &mut FlowMod, cls: ClsMatch, now: Instant) -> Result<(), OfpError> {
        let t = self.table(fm.table_id).ok_or(FlowModFailed::BadTableId)?;
        if fm.flags.check_overlap && t.cls.iter_priority(fm.priority).any(|(m, _)| m.overlaps(&cls)) {
            return Err(FlowModFailed::Overlap.into());
        }
        if t.cls.len() >= t.max_entries && t.cls.find_exact(&cls, fm.priority).is_none() {
            // Full: evict if the table allows it and some rule may go, else refuse.
            let victim = if t.config & super::OFPTC_EVICTION != 0 { self.eviction_victim(fm.table_id, now) } else { None };
            let Some(v) = victim else { return Err(FlowModFailed::TableFull.into()) };
            if let Some(r) = self.remove_rule(v) {
                if r.flags.send_flow_rem {
                    // OpenFlow 1.4's OFPRR_EVICTION (3 in 1.3 is group delete): reported with
                    // the number Open vSwitch uses for it in 1.3, "delete".
                    self.pending_removed.push(r.removed(FlowRemovedReason::Delete, now));
                }
            }
        }
        let id = self.alloc_id();
        self.insert_rule(Rule {
            id,
            table_id: fm.table_id,
            priority: fm.priority,
            cookie: fm.cookie,
            match_: std::mem::take(&mut fm.match_),
            instructions: std::mem::take(&mut fm.instructions),
            idle_timeout: fm.idle_timeout,
            hard_timeout: fm.hard_timeout,
            flags: fm.flags,
            importance: fm.importance,
            created: now,
            used: now,
            packets: 0,
            bytes: 0,
        }, &cls);
        Ok(())
    }
}
