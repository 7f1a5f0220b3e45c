//! OpenFlow 1.3 `ofp_table_features` and their properties (`OFPTFPT_*`).

use super::*;

/// Table-feature property type numbers.
pub(super) mod tfpt {
    pub const INSTRUCTIONS: u16 = 0;
    pub const NEXT_TABLES: u16 = 2;
    pub const WRITE_ACTIONS: u16 = 4;
    pub const APPLY_ACTIONS: u16 = 6;
    pub const MATCH: u16 = 8;
    pub const WILDCARDS: u16 = 10;
    pub const WRITE_SETFIELD: u16 = 12;
    pub const APPLY_SETFIELD: u16 = 14;
    pub const EXPERIMENTER: u16 = 0xfffe;
}

/// Decodes a list of `ofp_table_features`.
pub(crate) fn get_table_features(buf: &[u8]) -> DecodeResult<Vec<TableFeatures>> {
    let bad_len = TableFeaturesFailed::BadLen;
    let mut r = Reader::new(buf, bad_len);
    let mut out = Vec::new();
    while !r.is_empty() {
        let mut e = take_entry(&mut r, bad_len, "table features", |len| {
            len >= 64 && len % 8 == 0
        })?;
        e.skip(2)?;
        let table_id = e.u8()?;
        e.skip(5)?;
        let mut tf = TableFeatures {
            table_id,
            name: e.string(32)?,
            metadata_match: e.u64()?,
            metadata_write: e.u64()?,
            config: e.u32()?,
            max_entries: e.u32()?,
            properties: Vec::new(),
        };
        while !e.is_empty() {
            let mut h = Reader::new(e.peek(4)?, bad_len);
            let ptype = h.u16()?;
            let plen = usize::from(h.u16()?);
            if plen < 4 || pad8(plen) > e.remaining() {
                return Err(DecodeError::new(
                    bad_len,
                    format!("table feature property length {plen}"),
                ));
            }
            let mut p = e.sub(plen, bad_len)?;
            e.skip(pad8(plen).saturating_sub(plen))?;
            p.skip(4)?;
            let miss = ptype & 1 == 1 && ptype != tfpt::EXPERIMENTER;
            let ids = |p: &mut Reader<'_>| -> DecodeResult<Vec<u16>> {
                let mut v = Vec::new();
                while !p.is_empty() {
                    let id = p.u16()?;
                    let l = usize::from(p.u16()?);
                    if l < 4 {
                        return Err(DecodeError::new(bad_len, "feature id length"));
                    }
                    p.skip(l.saturating_sub(4))?;
                    v.push(id);
                }
                Ok(v)
            };
            let oxms = |p: &mut Reader<'_>| -> DecodeResult<Vec<u32>> {
                let mut v = Vec::new();
                while !p.is_empty() {
                    v.push(p.u32()?);
                }
                Ok(v)
            };
            let prop = match ptype & !1 {
                _ if ptype >= tfpt::EXPERIMENTER => TableFeatureProp::Experimenter {
                    miss: ptype == 0xffff,
                    experimenter: p.u32()?,
                    exp_type: p.u32()?,
                    data: p.rest().to_vec(),
                },
                tfpt::INSTRUCTIONS => TableFeatureProp::Instructions {
                    miss,
                    ids: ids(&mut p)?,
                },
                tfpt::NEXT_TABLES => TableFeatureProp::NextTables {
                    miss,
                    tables: p.rest().to_vec(),
                },
                tfpt::WRITE_ACTIONS => TableFeatureProp::WriteActions {
                    miss,
                    ids: ids(&mut p)?,
                },
                tfpt::APPLY_ACTIONS => TableFeatureProp::ApplyActions {
                    miss,
                    ids: ids(&mut p)?,
                },
                tfpt::MATCH if !miss => TableFeatureProp::Match(oxms(&mut p)?),
                tfpt::WILDCARDS if !miss => TableFeatureProp::Wildcards(oxms(&mut p)?),
                tfpt::WRITE_SETFIELD => TableFeatureProp::WriteSetfield {
                    miss,
                    oxms: oxms(&mut p)?,
                },
                tfpt::APPLY_SETFIELD => TableFeatureProp::ApplySetfield {
                    miss,
                    oxms: oxms(&mut p)?,
                },
                _ => {
                    return Err(DecodeError::new(
                        TableFeaturesFailed::BadType,
                        format!("table feature property {ptype}"),
                    ))
                }
            };
            tf.properties.push(prop);
        }
        out.push(tf);
    }
    Ok(out)
}

/// Encodes a list of `ofp_table_features`.
pub(crate) fn put_table_features(v: &[TableFeatures], out: &mut Vec<u8>) -> EncodeResult<()> {
    for tf in v {
        let start = out.len();
        out.put_u16(0);
        out.put_u8(tf.table_id);
        out.put_zeros(5);
        out.put_string(&tf.name, 32);
        out.put_u64(tf.metadata_match);
        out.put_u64(tf.metadata_write);
        out.put_u32(tf.config);
        out.put_u32(tf.max_entries);
        for p in &tf.properties {
            let ps = out.len();
            let m = |miss: bool, t: u16| t | u16::from(miss);
            let ptype = match p {
                TableFeatureProp::Instructions { miss, .. } => m(*miss, tfpt::INSTRUCTIONS),
                TableFeatureProp::NextTables { miss, .. } => m(*miss, tfpt::NEXT_TABLES),
                TableFeatureProp::WriteActions { miss, .. } => m(*miss, tfpt::WRITE_ACTIONS),
                TableFeatureProp::ApplyActions { miss, .. } => m(*miss, tfpt::APPLY_ACTIONS),
                TableFeatureProp::Match(_) => tfpt::MATCH,
                TableFeatureProp::Wildcards(_) => tfpt::WILDCARDS,
                TableFeatureProp::WriteSetfield { miss, .. } => m(*miss, tfpt::WRITE_SETFIELD),
                TableFeatureProp::ApplySetfield { miss, .. } => m(*miss, tfpt::APPLY_SETFIELD),
                TableFeatureProp::Experimenter { miss, .. } => m(*miss, tfpt::EXPERIMENTER),
            };
            out.put_u16(ptype);
            out.put_u16(0);
            match p {
                TableFeatureProp::Instructions { ids, .. }
                | TableFeatureProp::WriteActions { ids, .. }
                | TableFeatureProp::ApplyActions { ids, .. } => {
                    for id in ids {
                        out.put_u16(*id);
                        out.put_u16(4);
                    }
                }
                TableFeatureProp::NextTables { tables, .. } => out.extend_from_slice(tables),
                TableFeatureProp::Match(o)
                | TableFeatureProp::Wildcards(o)
                | TableFeatureProp::WriteSetfield { oxms: o, .. }
                | TableFeatureProp::ApplySetfield { oxms: o, .. } => {
                    for h in o {
                        out.put_u32(*h);
                    }
                }
                TableFeatureProp::Experimenter {
                    experimenter,
                    exp_type,
                    data,
                    ..
                } => {
                    out.put_u32(*experimenter);
                    out.put_u32(*exp_type);
                    out.extend_from_slice(data);
                }
            }
            out.patch_u16(ps.saturating_add(2), out.len().saturating_sub(ps))?;
            out.pad8_from(ps);
        }
        out.patch_u16(start, out.len().saturating_sub(start))?;
    }
    Ok(())
}
