//! OpenFlow 1.0 stats requests and replies (`OFPST_*` bodies).

use super::*;

pub(super) fn decode_flow_stats_request(r: &mut Reader<'_>) -> DecodeResult<FlowStatsRequest> {
    let match_ = decode_match(r)?;
    let table_id = r.u8()?;
    r.skip(1)?;
    Ok(FlowStatsRequest {
        table_id,
        out_port: port::from_of10(r.u16()?),
        match_,
        ..FlowStatsRequest::default()
    })
}

pub(super) fn decode_stats_request(r: &mut Reader<'_>) -> DecodeResult<MultipartRequest> {
    let stype = r.u16()?;
    let flags = r.u16()?;
    use MultipartRequestBody as B;
    let body = match stype {
        st::DESC => B::Desc,
        st::FLOW => B::Flow(decode_flow_stats_request(r)?),
        st::AGGREGATE => B::Aggregate(decode_flow_stats_request(r)?),
        st::TABLE => B::Table,
        st::PORT => {
            let port_no = port::from_of10(r.u16()?);
            r.skip(6)?;
            B::PortStats { port_no }
        }
        st::QUEUE => {
            let port_no = port::from_of10(r.u16()?);
            r.skip(2)?;
            B::Queue {
                port_no,
                queue_id: r.u32()?,
            }
        }
        st::PORT_DESC => B::PortDesc,
        st::VENDOR => B::Experimenter(decode_experimenter(V, r)?),
        _ => {
            return Err(DecodeError::new(
                BadRequest::BadMultipart,
                format!("stats type {stype}"),
            ))
        }
    };
    Ok(MultipartRequest { flags, body })
}

pub(super) fn encode_stats_request(m: &MultipartRequest, out: &mut Vec<u8>) -> EncodeResult<()> {
    use MultipartRequestBody as B;
    let stype = match &m.body {
        B::Desc => st::DESC,
        B::Flow(_) => st::FLOW,
        B::Aggregate(_) => st::AGGREGATE,
        B::Table => st::TABLE,
        B::PortStats { .. } => st::PORT,
        B::Queue { .. } => st::QUEUE,
        B::PortDesc => st::PORT_DESC,
        B::Experimenter(_) => st::VENDOR,
        _ => return Err(unsupported("this multipart request")),
    };
    out.put_u16(stype);
    out.put_u16(m.flags);
    match &m.body {
        B::Flow(f) | B::Aggregate(f) => {
            if f.cookie_mask != 0 || f.out_group != crate::types::group::ANY {
                return Err(unsupported("cookie or out_group filter"));
            }
            encode_match(&f.match_, out)?;
            out.put_u8(f.table_id);
            out.put_u8(0);
            out.put_u16(p10(f.out_port)?);
        }
        B::PortStats { port_no } => {
            out.put_u16(p10(*port_no)?);
            out.put_zeros(6);
        }
        B::Queue { port_no, queue_id } => {
            out.put_u16(p10(*port_no)?);
            out.put_zeros(2);
            out.put_u32(*queue_id);
        }
        B::Experimenter(e) => encode_experimenter(V, e, out),
        _ => {}
    }
    Ok(())
}

pub(super) fn decode_stats_reply(r: &mut Reader<'_>) -> DecodeResult<MultipartReply> {
    let stype = r.u16()?;
    let flags = r.u16()?;
    use MultipartReplyBody as B;
    let body = match stype {
        st::DESC => B::Desc(get_desc(r)?),
        st::FLOW => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let mut e = take_entry(r, BadRequest::BadLen, "flow stats", |len| len >= 88)?;
                e.skip(2)?;
                let table_id = e.u8()?;
                e.skip(1)?;
                let match_ = decode_match(&mut e)?;
                let duration_sec = e.u32()?;
                let duration_nsec = e.u32()?;
                let priority = e.u16()?;
                let idle_timeout = e.u16()?;
                let hard_timeout = e.u16()?;
                e.skip(6)?;
                v.push(FlowStats {
                    table_id,
                    duration_sec,
                    duration_nsec,
                    priority,
                    idle_timeout,
                    hard_timeout,
                    flags: FlowModFlags::default(),
                    importance: 0,
                    cookie: e.u64()?,
                    packet_count: e.u64()?,
                    byte_count: e.u64()?,
                    match_,
                    instructions: apply(decode_actions(V, e.rest())?),
                });
            }
            B::Flow(v)
        }
        st::AGGREGATE => B::Aggregate(get_aggregate(r)?),
        st::TABLE => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let table_id = r.u8()?;
                r.skip(3)?;
                v.push(TableStats {
                    table_id,
                    name: r.string(32)?,
                    wildcards: r.u32()?,
                    max_entries: r.u32()?,
                    active_count: r.u32()?,
                    lookup_count: r.u64()?,
                    matched_count: r.u64()?,
                });
            }
            B::Table(v)
        }
        st::PORT => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let port_no = port::from_of10(r.u16()?);
                r.skip(6)?;
                v.push(port_stats_from(port_no, get_port_counters(r)?, 0, 0));
            }
            B::PortStats(v)
        }
        st::QUEUE => {
            let mut v = Vec::new();
            while !r.is_empty() {
                let port_no = port::from_of10(r.u16()?);
                r.skip(2)?;
                v.push(QueueStats {
                    port_no,
                    queue_id: r.u32()?,
                    tx_bytes: r.u64()?,
                    tx_packets: r.u64()?,
                    tx_errors: r.u64()?,
                    duration_sec: 0,
                    duration_nsec: 0,
                });
            }
            B::Queue(v)
        }
        st::PORT_DESC => B::PortDesc(get_all(r, get_port)?),
        st::VENDOR => B::Experimenter(decode_experimenter(V, r)?),
        _ => {
            return Err(DecodeError::new(
                BadRequest::BadMultipart,
                format!("stats type {stype}"),
            ))
        }
    };
    Ok(MultipartReply { flags, body })
}

pub(super) fn encode_stats_reply(m: &MultipartReply, out: &mut Vec<u8>) -> EncodeResult<()> {
    use MultipartReplyBody as B;
    let stype = match &m.body {
        B::Desc(_) => st::DESC,
        B::Flow(_) => st::FLOW,
        B::Aggregate(_) => st::AGGREGATE,
        B::Table(_) => st::TABLE,
        B::PortStats(_) => st::PORT,
        B::Queue(_) => st::QUEUE,
        B::PortDesc(_) => st::PORT_DESC,
        B::Experimenter(_) => st::VENDOR,
        _ => return Err(unsupported("this multipart reply")),
    };
    out.put_u16(stype);
    out.put_u16(m.flags);
    match &m.body {
        B::Desc(d) => put_desc(d, out),
        B::Flow(v) => {
            for f in v {
                let start = out.len();
                out.put_u16(0);
                out.put_u8(f.table_id);
                out.put_u8(0);
                encode_match(&f.match_, out)?;
                out.put_u32(f.duration_sec);
                out.put_u32(f.duration_nsec);
                out.put_u16(f.priority);
                out.put_u16(f.idle_timeout);
                out.put_u16(f.hard_timeout);
                out.put_zeros(6);
                out.put_u64(f.cookie);
                out.put_u64(f.packet_count);
                out.put_u64(f.byte_count);
                encode_actions(V, actions_of(&f.instructions)?, out)?;
                out.patch_u16(start, out.len().saturating_sub(start))?;
            }
        }
        B::Aggregate(a) => put_aggregate(a, out),
        B::Table(v) => {
            for t in v {
                out.put_u8(t.table_id);
                out.put_zeros(3);
                out.put_string(&t.name, 32);
                out.put_u32(t.wildcards);
                out.put_u32(t.max_entries);
                out.put_u32(t.active_count);
                out.put_u64(t.lookup_count);
                out.put_u64(t.matched_count);
            }
        }
        B::PortStats(v) => {
            for p in v {
                out.put_u16(p10(p.port_no)?);
                out.put_zeros(6);
                put_port_counters(p, out);
            }
        }
        B::Queue(v) => {
            for q in v {
                out.put_u16(p10(q.port_no)?);
                out.put_zeros(2);
                out.put_u32(q.queue_id);
                out.put_u64(q.tx_bytes);
                out.put_u64(q.tx_packets);
                out.put_u64(q.tx_errors);
            }
        }
        B::PortDesc(v) => {
            for p in v {
                put_port(p, out)?;
            }
        }
        B::Experimenter(e) => encode_experimenter(V, e, out),
        _ => {}
    }
    Ok(())
}
