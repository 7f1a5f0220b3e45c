//! Multipart replies about the pipeline: flow, aggregate, table, group, group-desc,
//! group-features, meter, meter-config, meter-features and table-features. Long replies are
//! split into several messages (`MULTIPART_MORE` on all but the last) that each fit an
//! OpenFlow message. Port and description requests belong to the connection manager.

use std::sync::atomic::Ordering;
use std::time::Instant;

use rvs_openflow::action::at13;
use rvs_openflow::error::{BadRequest, OfpError, TableFeaturesFailed};
use rvs_openflow::instruction::it;
use rvs_openflow::msg::{
    AggregateStats, FlowStats, FlowStatsRequest, GroupDesc, GroupFeatures, GroupStats, MeterConfig, MeterFeatures, MeterStats,
    MultipartReply, MultipartReplyBody, MultipartRequest, MultipartRequestBody, TableFeatureProp, TableFeatures, TableStats,
    MULTIPART_MORE,
};
use rvs_openflow::msg::meter_flags;
use rvs_openflow::oxm::Field;
use rvs_openflow::types::{group, meter, table};

use super::fields::{location, settable};
use super::flow_mod::{check_match, Selector};
use super::{duration, Pipeline, Rule, LAST_TABLE, MAX_ENTRIES, N_TABLES};

/// Flow statistics per reply message.
const FLOWS_PER_REPLY: usize = 64;
/// Table-features entries per reply message.
const FEATURES_PER_REPLY: usize = 16;

fn chunked<T: Clone>(items: Vec<T>, per: usize, wrap: impl Fn(Vec<T>) -> MultipartReplyBody) -> Vec<MultipartReply> {
    if items.is_empty() {
        return vec![MultipartReply { flags: 0, body: wrap(Vec::new()) }];
    }
    let n = items.len().div_ceil(per);
    items
        .chunks(per)
        .enumerate()
        .map(|(i, c)| MultipartReply { flags: if i + 1 < n { MULTIPART_MORE } else { 0 }, body: wrap(c.to_vec()) })
        .collect()
}

fn one(body: MultipartReplyBody) -> Vec<MultipartReply> {
    vec![MultipartReply { flags: 0, body }]
}

impl Pipeline {
    fn selected(&self, req: &FlowStatsRequest) -> Result<Vec<&Rule>, OfpError> {
        let cls = check_match(&req.match_)?;
        if req.table_id != table::ALL && req.table_id > LAST_TABLE {
            return Err(BadRequest::BadTableId.into());
        }
        let sel = Selector {
            table_id: req.table_id,
            cls,
            strict: None,
            cookie: req.cookie,
            cookie_mask: req.cookie_mask,
            out_port: req.out_port,
            out_group: req.out_group,
        };
        let mut v: Vec<&Rule> = self.select(&sel).into_iter().filter_map(|id| self.rule(id)).collect();
        v.sort_by(|a, b| a.table_id.cmp(&b.table_id).then(b.priority.cmp(&a.priority)).then(a.id.cmp(&b.id)));
        Ok(v)
    }

    /// Answers a pipeline multipart request.
    pub fn stats(&self, req: &MultipartRequest, now: Instant) -> Result<Vec<MultipartReply>, OfpError> {
        Ok(match &req.body {
            MultipartRequestBody::Flow(f) => {
                let flows: Vec<FlowStats> = self
                    .selected(f)?
                    .into_iter()
                    .map(|r| {
                        let (sec, nsec) = duration(r.created, now);
                        FlowStats {
                            table_id: r.table_id,
                            duration_sec: sec,
                            duration_nsec: nsec,
                            priority: r.priority,
                            idle_timeout: r.idle_timeout,
                            hard_timeout: r.hard_timeout,
                            flags: r.flags,
                            importance: r.importance,
                            cookie: r.cookie,
                            packet_count: r.packets,
                            byte_count: r.bytes,
                            match_: r.match_.clone(),
                            instructions: r.instructions.clone(),
                        }
                    })
                    .collect();
                chunked(flows, FLOWS_PER_REPLY, MultipartReplyBody::Flow)
            }
            MultipartRequestBody::Aggregate(f) => {
                let sel = self.selected(f)?;
                let agg = AggregateStats {
                    packet_count: sel.iter().map(|r| r.packets).fold(0, u64::saturating_add),
                    byte_count: sel.iter().map(|r| r.bytes).fold(0, u64::saturating_add),
                    flow_count: u32::try_from(sel.len()).unwrap_or(u32::MAX),
                };
                one(MultipartReplyBody::Aggregate(agg))
            }
            MultipartRequestBody::Table => {
                let v = self
                    .tables
                    .iter()
                    .enumerate()
                    .map(|(i, t)| TableStats {
                        table_id: u8::try_from(i).unwrap_or(LAST_TABLE),
                        name: format!("table{i}"),
                        wildcards: 0x003f_ffff,
                        max_entries: u32::try_from(t.max_entries).unwrap_or(u32::MAX),
                        active_count: u32::try_from(t.cls.len()).unwrap_or(u32::MAX),
                        lookup_count: t.lookups.load(Ordering::Relaxed),
                        matched_count: t.matches.load(Ordering::Relaxed),
                    })
                    .collect();
                one(MultipartReplyBody::Table(v))
            }
            MultipartRequestBody::Group { group_id } => {
                let v = self
                    .groups()
                    .filter(|(id, _)| *group_id == group::ALL || id == group_id)
                    .map(|(id, g)| {
                        let (sec, nsec) = duration(g.created, now);
                        let refs = self.rules.values().filter(|r| r.uses_group(id)).count();
                        GroupStats {
                            group_id: id,
                            ref_count: u32::try_from(refs).unwrap_or(u32::MAX),
                            packet_count: g.packets,
                            byte_count: g.bytes,
                            duration_sec: sec,
                            duration_nsec: nsec,
                            bucket_stats: g.bucket_stats.clone(),
                        }
                    })
                    .collect();
                one(MultipartReplyBody::Group(v))
            }
            MultipartRequestBody::GroupDesc => {
                let v = self.groups().map(|(id, g)| GroupDesc { group_type: g.group_type, group_id: id, buckets: g.buckets.clone() }).collect();
                one(MultipartReplyBody::GroupDesc(v))
            }
            MultipartRequestBody::GroupFeatures => {
                let acts = action_bitmap();
                one(MultipartReplyBody::GroupFeatures(GroupFeatures {
                    types: 0b1111,
                    // OFPGFC_SELECT_WEIGHT | OFPGFC_SELECT_LIVENESS | OFPGFC_CHAINING.
                    capabilities: 1 | 2 | 4,
                    max_groups: [group::MAX; 4],
                    actions: [acts; 4],
                }))
            }
            MultipartRequestBody::Meter { meter_id } => {
                let v = self
                    .meters()
                    .filter(|(id, _)| *meter_id == meter::ALL || id == meter_id)
                    .map(|(id, m)| {
                        let (sec, nsec) = duration(m.created, now);
                        let flows = self.rules.values().filter(|r| r.uses_meter(id)).count();
                        MeterStats {
                            meter_id: id,
                            flow_count: u32::try_from(flows).unwrap_or(u32::MAX),
                            packet_in_count: 0,
                            byte_in_count: 0,
                            duration_sec: sec,
                            duration_nsec: nsec,
                            band_stats: vec![(0, 0); m.bands.len()],
                        }
                    })
                    .collect();
                one(MultipartReplyBody::Meter(v))
            }
            MultipartRequestBody::MeterConfig { meter_id } => {
                let v = self
                    .meters()
                    .filter(|(id, _)| *meter_id == meter::ALL || id == meter_id)
                    .map(|(id, m)| MeterConfig { flags: m.flags, meter_id: id, bands: m.bands.clone() })
                    .collect();
                one(MultipartReplyBody::MeterConfig(v))
            }
            MultipartRequestBody::MeterFeatures => one(MultipartReplyBody::MeterFeatures(MeterFeatures {
                max_meter: 65536,
                // OFPMBT_DROP, OFPMBT_DSCP_REMARK.
                band_types: (1 << 1) | (1 << 2),
                capabilities: u32::from(meter_flags::KBPS | meter_flags::PKTPS | meter_flags::BURST | meter_flags::STATS),
                max_bands: 8,
                max_color: 0,
            })),
            MultipartRequestBody::TableFeatures(set) => {
                if !set.is_empty() {
                    // Changing table features is not supported (as Open vSwitch).
                    return Err(TableFeaturesFailed::Eperm.into());
                }
                let v: Vec<TableFeatures> = (0..N_TABLES).map(|i| self.table_features(u8::try_from(i).unwrap_or(LAST_TABLE))).collect();
                chunked(v, FEATURES_PER_REPLY, MultipartReplyBody::TableFeatures)
            }
            _ => return Err(BadRequest::BadMultipart.into()),
        })
    }

    /// The features of table `t`.
    pub fn table_features(&self, t: u8) -> TableFeatures {
        let insts = vec![it::GOTO_TABLE, it::WRITE_METADATA, it::WRITE_ACTIONS, it::APPLY_ACTIONS, it::CLEAR_ACTIONS, it::METER];
        let next: Vec<u8> = (t.saturating_add(1)..=LAST_TABLE).filter(|n| *n > t).collect();
        let acts = supported_actions();
        let matchable: Vec<u32> = Field::ALL.iter().filter(|f| location(**f).is_some()).map(|f| f.oxm_header(false)).collect();
        let wild: Vec<u32> = Field::ALL.iter().filter(|f| location(**f).is_some() && **f != Field::InPort).map(|f| f.oxm_header(false)).collect();
        let setf: Vec<u32> = Field::ALL.iter().filter(|f| settable(**f) && **f != Field::InPort).map(|f| f.oxm_header(false)).collect();
        let mut props = Vec::new();
        for miss in [false, true] {
            props.push(TableFeatureProp::Instructions { miss, ids: insts.clone() });
            props.push(TableFeatureProp::NextTables { miss, tables: next.clone() });
            props.push(TableFeatureProp::WriteActions { miss, ids: acts.clone() });
            props.push(TableFeatureProp::ApplyActions { miss, ids: acts.clone() });
            props.push(TableFeatureProp::WriteSetfield { miss, oxms: setf.clone() });
            props.push(TableFeatureProp::ApplySetfield { miss, oxms: setf.clone() });
        }
        props.push(TableFeatureProp::Match(matchable));
        props.push(TableFeatureProp::Wildcards(wild));
        TableFeatures {
            table_id: t,
            name: format!("table{t}"),
            metadata_match: u64::MAX,
            metadata_write: u64::MAX,
            config: self.table(t).map_or(0, |x| x.config),
            max_entries: u32::try_from(self.table(t).map_or(MAX_ENTRIES, |x| x.max_entries)).unwrap_or(u32::MAX),
            properties: props,
        }
    }
}

/// OpenFlow 1.3 action types the pipeline executes.
fn supported_actions() -> Vec<u16> {
    vec![at13::OUTPUT, at13::PUSH_VLAN, at13::POP_VLAN, at13::SET_QUEUE, at13::GROUP, at13::SET_NW_TTL, at13::DEC_NW_TTL, at13::SET_FIELD]
}

fn action_bitmap() -> u32 {
    supported_actions().iter().fold(0u32, |acc, a| acc | 1u32.checked_shl(u32::from(*a)).unwrap_or(0))
}
