//! Group-mod, meter-mod and table-mod: the group table (all/select/indirect/fast-failover,
//! chaining without loops), the meter table (configuration and statistics; the datapath meters
//! that enforce them are [`super::meters`]'s), and table configuration. Deleting a group or meter removes the flows
//! that use it (their flow-removed messages wait in [`Pipeline::take_removed`]).

use std::time::Instant;

use rvs_openflow::action::Action;
use rvs_openflow::error::{GroupModFailed, MeterModFailed, OfpError, TableModFailed};
use rvs_openflow::msg::{meter_flags, FlowRemovedReason, GroupMod, GroupModCommand, GroupType, MeterModCommand, MeterMod, TableMod};
use rvs_openflow::types::{group, meter, port, table};

use super::{Group, Meter, Pipeline, RuleId};

impl Group {
    fn new(gm: &GroupMod, created: Instant) -> Group {
        Group { group_type: gm.group_type, buckets: gm.buckets.clone(), created, packets: 0, bytes: 0, bucket_stats: vec![(0, 0); gm.buckets.len()] }
    }
}

impl Pipeline {
    /// Whether group `from` reaches group `to` through group actions.
    fn group_reaches(&self, from: u32, to: u32, depth: u32) -> bool {
        if from == to {
            return true;
        }
        if depth > 32 {
            return true;
        }
        self.group(from).is_some_and(|g| {
            g.buckets.iter().flat_map(|b| b.actions.iter()).any(|a| matches!(a, Action::Group(n) if self.group_reaches(*n, to, depth + 1)))
        })
    }

    fn check_group(&self, gm: &GroupMod) -> Result<(), OfpError> {
        if gm.group_id > group::MAX {
            return Err(GroupModFailed::InvalidGroup.into());
        }
        if gm.group_type == GroupType::Indirect && gm.buckets.len() != 1 {
            return Err(GroupModFailed::InvalidGroup.into());
        }
        for b in &gm.buckets {
            if gm.group_type == GroupType::FastFailover && b.watch_port == port::ANY && b.watch_group == group::ANY {
                return Err(GroupModFailed::BadWatch.into());
            }
            if gm.group_type == GroupType::Select && b.weight == 0 && gm.buckets.len() > 1 {
                return Err(GroupModFailed::BadBucket.into());
            }
            for a in &b.actions {
                if let Action::Group(n) = a {
                    if self.group(*n).is_none() {
                        return Err(GroupModFailed::InvalidGroup.into());
                    }
                    if self.group_reaches(*n, gm.group_id, 0) {
                        return Err(GroupModFailed::Loop.into());
                    }
                }
            }
            self.check_actions(&b.actions, None).map_err(|e| match e {
                OfpError::BadAction(_) => e,
                _ => GroupModFailed::BadBucket.into(),
            })?;
        }
        Ok(())
    }

    /// Removes the rules `pred` selects, queueing flow-removed messages with `reason`.
    fn remove_rules_where(&mut self, pred: impl Fn(&super::Rule) -> bool, reason: FlowRemovedReason) {
        let now = Instant::now();
        let ids: Vec<RuleId> = self.rules.values().filter(|r| pred(r)).map(|r| r.id).collect();
        for id in ids {
            if let Some(r) = self.remove_rule(id) {
                if r.flags.send_flow_rem {
                    self.pending_removed.push(r.removed(reason, now));
                }
            }
        }
    }

    /// Applies a group-mod.
    pub fn group_mod(&mut self, gm: &GroupMod) -> Result<(), OfpError> {
        match gm.command {
            GroupModCommand::Add => {
                if self.groups.contains_key(&gm.group_id) {
                    return Err(GroupModFailed::GroupExists.into());
                }
                self.check_group(gm)?;
                self.groups.insert(gm.group_id, Group::new(gm, Instant::now()));
            }
            GroupModCommand::Modify => {
                if !self.groups.contains_key(&gm.group_id) {
                    return Err(GroupModFailed::UnknownGroup.into());
                }
                self.check_group(gm)?;
                let created = self.groups.get(&gm.group_id).map_or_else(Instant::now, |g| g.created);
                // Modifying a group keeps its age; its counters restart with the new buckets.
                self.groups.insert(gm.group_id, Group::new(gm, created));
            }
            GroupModCommand::Delete => {
                let ids: Vec<u32> = if gm.group_id == group::ALL {
                    self.groups.keys().copied().collect()
                } else if self.groups.contains_key(&gm.group_id) {
                    vec![gm.group_id]
                } else {
                    Vec::new()
                };
                // A group another group still chains to cannot go alone.
                if gm.group_id != group::ALL {
                    let chained = self.groups.iter().any(|(gid, g)| {
                        *gid != gm.group_id && g.buckets.iter().flat_map(|b| b.actions.iter()).any(|a| matches!(a, Action::Group(n) if *n == gm.group_id))
                    });
                    if chained {
                        return Err(GroupModFailed::ChainedGroup.into());
                    }
                }
                for id in &ids {
                    self.groups.remove(id);
                }
                let ids2 = ids.clone();
                self.remove_rules_where(move |r| ids2.iter().any(|g| r.uses_group(*g)), FlowRemovedReason::GroupDelete);
            }
        }
        self.bump();
        Ok(())
    }

    /// Applies a meter-mod.
    pub fn meter_mod(&mut self, mm: &MeterMod) -> Result<(), OfpError> {
        let check = |mm: &MeterMod| -> Result<(), OfpError> {
            if mm.meter_id == 0 || mm.meter_id > meter::MAX {
                return Err(MeterModFailed::InvalidMeter.into());
            }
            let known = meter_flags::KBPS | meter_flags::PKTPS | meter_flags::BURST | meter_flags::STATS;
            if mm.flags & !known != 0 || (mm.flags & meter_flags::KBPS != 0 && mm.flags & meter_flags::PKTPS != 0) {
                return Err(MeterModFailed::BadFlags.into());
            }
            if mm.bands.is_empty() {
                return Err(MeterModFailed::BadBand.into());
            }
            if mm.bands.iter().any(|b| b.rate == 0) {
                return Err(MeterModFailed::BadRate.into());
            }
            Ok(())
        };
        match mm.command {
            MeterModCommand::Add => {
                if self.meters.contains_key(&mm.meter_id) {
                    return Err(MeterModFailed::MeterExists.into());
                }
                check(mm)?;
                self.meters.insert(mm.meter_id, Meter { flags: mm.flags, bands: mm.bands.clone(), created: Instant::now(), dp_id: None });
            }
            MeterModCommand::Modify => {
                if !self.meters.contains_key(&mm.meter_id) {
                    return Err(MeterModFailed::UnknownMeter.into());
                }
                check(mm)?;
                let (created, dp_id) = self.meters.get(&mm.meter_id).map_or_else(|| (Instant::now(), None), |m| (m.created, m.dp_id));
                self.meters.insert(mm.meter_id, Meter { flags: mm.flags, bands: mm.bands.clone(), created, dp_id });
            }
            MeterModCommand::Delete => {
                let ids: Vec<u32> = if mm.meter_id == meter::ALL {
                    self.meters.keys().copied().collect()
                } else {
                    self.meters.contains_key(&mm.meter_id).then_some(mm.meter_id).into_iter().collect()
                };
                for id in &ids {
                    self.meters.remove(id);
                }
                self.remove_rules_where(move |r| ids.iter().any(|m| r.uses_meter(*m)), FlowRemovedReason::Delete);
            }
        }
        self.bump();
        Ok(())
    }

    /// Applies a table-mod (the configuration bits are stored and reported).
    pub fn table_mod(&mut self, tm: &TableMod) -> Result<(), OfpError> {
        if tm.table_id == table::ALL {
            for t in &mut self.tables {
                t.config = tm.config;
            }
        } else {
            // Table 254 does not exist (N_TABLES), so it is refused here too.
            let t = self.tables.get_mut(usize::from(tm.table_id)).ok_or(TableModFailed::BadTable)?;
            t.config = tm.config;
        }
        Ok(())
    }

    /// Every group, by id.
    pub fn groups(&self) -> impl Iterator<Item = (u32, &Group)> {
        self.groups.iter().map(|(k, v)| (*k, v))
    }

    /// Every meter, by id.
    pub fn meters(&self) -> impl Iterator<Item = (u32, &Meter)> {
        self.meters.iter().map(|(k, v)| (*k, v))
    }
}
