//! OpenFlow 1.3 multipart requests and replies (`OFPMP_*` bodies).

use super::*;

pub(super) fn decode_flow_stats_request(r: &mut Reader<'_>) -> DecodeResult<FlowStatsRequest> {
    let table_id = r.u8()?;
    r.skip(3)?;
    let out_port = r.u32()?;
    let out_group = r.u32()?;
    r.skip(4)?;
    Ok(FlowStatsRequest {
        table_id,
        out_port,
        out_group,
        cookie: r.u64()?,
        cookie_mask: r.u64()?,
        match_: Match::decode_ofp13(r)?,
    })
}

pub(super) fn put_flow_stats_request(f: &FlowStatsRequest, out: &mut Vec<u8>) -> EncodeResult<()> {
    out.put_u8(f.table_id);
    out.put_zeros(3);
    out.put_u32(f.out_port);
    out.put_u32(f.out_group);
    out.put_zeros(4);
    out.put_u64(f.cookie);
    out.put_u64(f.cookie_mask);
    f.match_.put_ofp13(out)
}

pub(super) fn id_and_pad(r: &mut Reader<'_>) -> DecodeResult<u32> {
    let id = r.u32()?;
    r.skip(4)?;
    Ok(id)
}

pub(super) fn decode_mp_request(r: &mut Reader<'_>) -> DecodeResult<MultipartRequest> {
    let mtype = r.u16()?;
    let flags = r.u16()?;
    r.skip(4)?;
    use MultipartRequestBody as B;
    let body = match mtype {
        mp::DESC => B::Desc,
        mp::FLOW => B::Flow(decode_flow_stats_request(r)?),
        mp::AGGREGATE => B::Aggregate(decode_flow_stats_request(r)?),
        mp::TABLE => B::Table,
        mp::PORT_STATS => B::PortStats {
            port_no: id_and_pad(r)?,
        },
        mp::QUEUE => B::Queue {
            port_no: r.u32()?,
            queue_id: r.u32()?,
        },
        mp::GROUP => B::Group {
            group_id: id_and_pad(r)?,
        },
        mp::GROUP_DESC => B::GroupDesc,
        mp::GROUP_FEATURES => B::GroupFeatures,
        mp::METER => B::Meter {
            meter_id: id_and_pad(r)?,
        },
        mp::METER_CONFIG => B::MeterConfig {
            meter_id: id_and_pad(r)?,
        },
        mp::METER_FEATURES => B::MeterFeatures,
        mp::TABLE_FEATURES => B::TableFeatures(get_table_features(r.rest())?),
        mp::PORT_DESC => B::PortDesc,
        mp::EXPERIMENTER => B::Experimenter(decode_experimenter(V, r)?),
        _ => {
            return Err(DecodeError::new(
                BadRequest::BadMultipart,
                format!("multipart type {mtype}"),
            ))
        }
    };
    Ok(MultipartRequest { flags, body })
}

pub(super) fn encode_mp_request(m: &MultipartRequest, out: &mut Vec<u8>) -> EncodeResult<()> {
    use MultipartRequestBody as B;
    let mtype = match &m.body {
        B::Desc => mp::DESC,
        B::Flow(_) => mp::FLOW,
        B::Aggregate(_) => mp::AGGREGATE,
        B::Table => mp::TABLE,
        B::PortStats { .. } => mp::PORT_STATS,
        B::Queue { .. } => mp::QUEUE,
        B::Group { .. } => mp::GROUP,
        B::GroupDesc => mp::GROUP_DESC,
        B::GroupFeatures => mp::GROUP_FEATURES,
        B::Meter { .. } => mp::METER,
        B::MeterConfig { .. } => mp::METER_CONFIG,
        B::MeterFeatures => mp::METER_FEATURES,
        B::TableFeatures(_) => mp::TABLE_FEATURES,
        B::PortDesc => mp::PORT_DESC,
        B::Experimenter(_) => mp::EXPERIMENTER,
    };
    out.put_u16(mtype);
    out.put_u16(m.flags);
    out.put_zeros(4);
    match &m.body {
        B::Flow(f) | B::Aggregate(f) => put_flow_stats_request(f, out)?,
        B::PortStats { port_no: id }
        | B::Group { group_id: id }
        | B::Meter { meter_id: id }
        | B::MeterConfig { meter_id: id } => {
            out.put_u32(*id);
            out.put_zeros(4);
        }
        B::Queue { port_no, queue_id } => {
            out.put_u32(*port_no);
            out.put_u32(*queue_id);
        }
        B::TableFeatures(t) => put_table_features(t, out)?,
        B::Experimenter(e) => encode_experimenter(V, e, out),
        B::Desc | B::Table | B::GroupDesc | B::GroupFeatures | B::MeterFeatures | B::PortDesc => {}
    }
    Ok(())
}

pub(super) fn decode_mp_reply(r: &mut Reader<'_>) -> DecodeResult<MultipartReply> {
    let mtype = r.u16()?;
    let flags = r.u16()?;
    r.skip(4)?;
    use MultipartReplyBody as B;
    let body = match mtype {
        mp::DESC => B::Desc(get_desc(r)?),
        mp::FLOW => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let mut e = take_entry(r, BadRequest::BadLen, "flow stats", |len| len >= 56)?;
                e.skip(2)?;
                let table_id = e.u8()?;
                e.skip(1)?;
                let duration_sec = e.u32()?;
                let duration_nsec = e.u32()?;
                let priority = e.u16()?;
                let idle_timeout = e.u16()?;
                let hard_timeout = e.u16()?;
                let flags = flags_from_wire(e.u16()?);
                e.skip(4)?;
                v.push(FlowStats {
                    table_id,
                    duration_sec,
                    duration_nsec,
                    priority,
                    idle_timeout,
                    hard_timeout,
                    flags,
                    importance: 0,
                    cookie: e.u64()?,
                    packet_count: e.u64()?,
                    byte_count: e.u64()?,
                    match_: Match::decode_ofp13(&mut e)?,
                    instructions: decode_instructions(V, e.rest())?,
                });
            }
            B::Flow(v)
        }
        mp::AGGREGATE => B::Aggregate(get_aggregate(r)?),
        mp::TABLE => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let table_id = r.u8()?;
                r.skip(3)?;
                v.push(TableStats {
                    table_id,
                    active_count: r.u32()?,
                    lookup_count: r.u64()?,
                    matched_count: r.u64()?,
                    ..TableStats::default()
                });
            }
            B::Table(v)
        }
        mp::PORT_STATS => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let port_no = id_and_pad(r)?;
                let c = get_port_counters(r)?;
                v.push(port_stats_from(port_no, c, r.u32()?, r.u32()?));
            }
            B::PortStats(v)
        }
        mp::QUEUE => {
            let mut v = Vec::new();
            while !r.is_empty() {
                v.push(QueueStats {
                    port_no: r.u32()?,
                    queue_id: r.u32()?,
                    tx_bytes: r.u64()?,
                    tx_packets: r.u64()?,
                    tx_errors: r.u64()?,
                    duration_sec: r.u32()?,
                    duration_nsec: r.u32()?,
                });
            }
            B::Queue(v)
        }
        mp::GROUP => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let mut e = take_entry(r, BadRequest::BadLen, "group stats", |len| {
                    len >= 40 && (len - 40) % 16 == 0
                })?;
                e.skip(4)?;
                let group_id = e.u32()?;
                let ref_count = e.u32()?;
                e.skip(4)?;
                let mut g = GroupStats {
                    group_id,
                    ref_count,
                    packet_count: e.u64()?,
                    byte_count: e.u64()?,
                    duration_sec: e.u32()?,
                    duration_nsec: e.u32()?,
                    bucket_stats: Vec::new(),
                };
                while !e.is_empty() {
                    g.bucket_stats.push((e.u64()?, e.u64()?));
                }
                v.push(g);
            }
            B::Group(v)
        }
        mp::GROUP_DESC => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let mut e = take_entry(r, BadRequest::BadLen, "group desc", |len| len >= 8)?;
                e.skip(2)?;
                let gt = e.u8()?;
                e.skip(1)?;
                let group_type = GroupType::from_number(gt).ok_or_else(|| {
                    DecodeError::new(GroupModFailed::BadType, format!("group type {gt}"))
                })?;
                v.push(GroupDesc {
                    group_type,
                    group_id: e.u32()?,
                    buckets: get_buckets(e.rest())?,
                });
            }
            B::GroupDesc(v)
        }
        mp::GROUP_FEATURES => {
            let mut g = GroupFeatures {
                types: r.u32()?,
                capabilities: r.u32()?,
                ..Default::default()
            };
            for x in g.max_groups.iter_mut().chain(g.actions.iter_mut()) {
                *x = r.u32()?;
            }
            B::GroupFeatures(g)
        }
        mp::METER => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let mut h = Reader::new(r.peek(6)?, BadRequest::BadLen);
                h.skip(4)?;
                let len = usize::from(h.u16()?);
                if len < 40 || (len - 40) % 16 != 0 || len > r.remaining() {
                    return Err(DecodeError::new(
                        BadRequest::BadLen,
                        format!("meter stats length {len}"),
                    ));
                }
                let mut e = r.sub(len, BadRequest::BadLen)?;
                let meter_id = e.u32()?;
                e.skip(8)?;
                let mut m = MeterStats {
                    meter_id,
                    flow_count: e.u32()?,
                    packet_in_count: e.u64()?,
                    byte_in_count: e.u64()?,
                    duration_sec: e.u32()?,
                    duration_nsec: e.u32()?,
                    band_stats: Vec::new(),
                };
                while !e.is_empty() {
                    m.band_stats.push((e.u64()?, e.u64()?));
                }
                v.push(m);
            }
            B::Meter(v)
        }
        mp::METER_CONFIG => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let mut e = take_entry(r, BadRequest::BadLen, "meter config", |len| len >= 8)?;
                e.skip(2)?;
                v.push(MeterConfig {
                    flags: e.u16()?,
                    meter_id: e.u32()?,
                    bands: get_bands(e.rest())?,
                });
            }
            B::MeterConfig(v)
        }
        mp::METER_FEATURES => {
            let m = MeterFeatures {
                max_meter: r.u32()?,
                band_types: r.u32()?,
                capabilities: r.u32()?,
                max_bands: r.u8()?,
                max_color: r.u8()?,
            };
            r.skip(2)?;
            B::MeterFeatures(m)
        }
        mp::TABLE_FEATURES => B::TableFeatures(get_table_features(r.rest())?),
        mp::PORT_DESC => B::PortDesc(get_all(r, get_port)?),
        mp::EXPERIMENTER => B::Experimenter(decode_experimenter(V, r)?),
        _ => {
            return Err(DecodeError::new(
                BadRequest::BadMultipart,
                format!("multipart type {mtype}"),
            ))
        }
    };
    Ok(MultipartReply { flags, body })
}

pub(super) fn encode_mp_reply(m: &MultipartReply, out: &mut Vec<u8>) -> EncodeResult<()> {
    use MultipartReplyBody as B;
    let mtype = match &m.body {
        B::Desc(_) => mp::DESC,
        B::Flow(_) => mp::FLOW,
        B::Aggregate(_) => mp::AGGREGATE,
        B::Table(_) => mp::TABLE,
        B::PortStats(_) => mp::PORT_STATS,
        B::Queue(_) => mp::QUEUE,
        B::Group(_) => mp::GROUP,
        B::GroupDesc(_) => mp::GROUP_DESC,
        B::GroupFeatures(_) => mp::GROUP_FEATURES,
        B::Meter(_) => mp::METER,
        B::MeterConfig(_) => mp::METER_CONFIG,
        B::MeterFeatures(_) => mp::METER_FEATURES,
        B::TableFeatures(_) => mp::TABLE_FEATURES,
        B::PortDesc(_) => mp::PORT_DESC,
        B::Experimenter(_) => mp::EXPERIMENTER,
    };
    out.put_u16(mtype);
    out.put_u16(m.flags);
    out.put_zeros(4);
    match &m.body {
        B::Desc(d) => put_desc(d, out),
        B::Flow(v) => {
            for f in v {
                let start = out.len();
                out.put_u16(0);
                out.put_u8(f.table_id);
                out.put_u8(0);
                out.put_u32(f.duration_sec);
                out.put_u32(f.duration_nsec);
                out.put_u16(f.priority);
                out.put_u16(f.idle_timeout);
                out.put_u16(f.hard_timeout);
                out.put_u16(flags_to_wire(&f.flags));
                out.put_zeros(4);
                out.put_u64(f.cookie);
                out.put_u64(f.packet_count);
                out.put_u64(f.byte_count);
                f.match_.put_ofp13(out)?;
                encode_instructions(V, &f.instructions, out)?;
                out.patch_u16(start, out.len().saturating_sub(start))?;
            }
        }
        B::Aggregate(a) => put_aggregate(a, out),
        B::Table(v) => {
            for t in v {
                out.put_u8(t.table_id);
                out.put_zeros(3);
                out.put_u32(t.active_count);
                out.put_u64(t.lookup_count);
                out.put_u64(t.matched_count);
            }
        }
        B::PortStats(v) => {
            for p in v {
                out.put_u32(p.port_no);
                out.put_zeros(4);
                put_port_counters(p, out);
                out.put_u32(p.duration_sec);
                out.put_u32(p.duration_nsec);
            }
        }
        B::Queue(v) => {
            for q in v {
                out.put_u32(q.port_no);
                out.put_u32(q.queue_id);
                out.put_u64(q.tx_bytes);
                out.put_u64(q.tx_packets);
                out.put_u64(q.tx_errors);
                out.put_u32(q.duration_sec);
                out.put_u32(q.duration_nsec);
            }
        }
        B::Group(v) => {
            for g in v {
                let start = out.len();
                out.put_u16(0);
                out.put_zeros(2);
                out.put_u32(g.group_id);
                out.put_u32(g.ref_count);
                out.put_zeros(4);
                out.put_u64(g.packet_count);
                out.put_u64(g.byte_count);
                out.put_u32(g.duration_sec);
                out.put_u32(g.duration_nsec);
                for (p, b) in &g.bucket_stats {
                    out.put_u64(*p);
                    out.put_u64(*b);
                }
                out.patch_u16(start, out.len().saturating_sub(start))?;
            }
        }
        B::GroupDesc(v) => {
            for g in v {
                let start = out.len();
                out.put_u16(0);
                out.put_u8(g.group_type.number());
                out.put_u8(0);
                out.put_u32(g.group_id);
                put_buckets(&g.buckets, out)?;
                out.patch_u16(start, out.len().saturating_sub(start))?;
            }
        }
        B::GroupFeatures(g) => {
            out.put_u32(g.types);
            out.put_u32(g.capabilities);
            for x in g.max_groups.iter().chain(&g.actions) {
                out.put_u32(*x);
            }
        }
        B::Meter(v) => {
            for m in v {
                let start = out.len();
                out.put_u32(m.meter_id);
                out.put_u16(0);
                out.put_zeros(6);
                out.put_u32(m.flow_count);
                out.put_u64(m.packet_in_count);
                out.put_u64(m.byte_in_count);
                out.put_u32(m.duration_sec);
                out.put_u32(m.duration_nsec);
                for (p, b) in &m.band_stats {
                    out.put_u64(*p);
                    out.put_u64(*b);
                }
                out.patch_u16(start.saturating_add(4), out.len().saturating_sub(start))?;
            }
        }
        B::MeterConfig(v) => {
            for m in v {
                let start = out.len();
                out.put_u16(0);
                out.put_u16(m.flags);
                out.put_u32(m.meter_id);
                put_bands(&m.bands, out);
                out.patch_u16(start, out.len().saturating_sub(start))?;
            }
        }
        B::MeterFeatures(m) => {
            out.put_u32(m.max_meter);
            out.put_u32(m.band_types);
            out.put_u32(m.capabilities);
            out.put_u8(m.max_bands);
            out.put_u8(m.max_color);
            out.put_zeros(2);
        }
        B::TableFeatures(t) => put_table_features(t, out)?,
        B::PortDesc(v) => {
            for p in v {
                put_port(p, out);
            }
        }
        B::Experimenter(e) => encode_experimenter(V, e, out),
    }
    Ok(())
}
