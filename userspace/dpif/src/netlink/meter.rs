//! `ovs_meter` family messages: features, set, get and delete.

use super::msg::{attr_u32, build, collect_attrs, u64s, MsgError, OvsMsg};
use crate::types::{MeterConfig, MeterFeatures, MeterStats};
use rvs_core::ovs_abi::*;

/// Family version sent in `genlmsghdr.version`.
pub const VERSION: u8 = 1; // OVS_METER_VERSION

/// Builds an `OVS_METER_CMD_FEATURES` request.
pub fn features_request(dp_ifindex: i32) -> Result<Vec<u8>, MsgError> {
    build(OVS_METER_CMD_FEATURES as u8, VERSION, dp_ifindex, 8, |_| Ok(()))
}

/// Builds an `OVS_METER_CMD_SET` request.
pub fn set_request(dp_ifindex: i32, m: &MeterConfig) -> Result<Vec<u8>, MsgError> {
    build(OVS_METER_CMD_SET as u8, VERSION, dp_ifindex, 64 + 32 * m.bands.len(), |w| {
        w.put_u32(OVS_METER_ATTR_ID, m.id)?;
        if m.kbps {
            w.put_flag(OVS_METER_ATTR_KBPS)?;
        }
        let bands = w.begin_nest(OVS_METER_ATTR_BANDS)?;
        for b in &m.bands {
            let band = w.begin_nest(OVS_BAND_ATTR_UNSPEC)?;
            w.put_u32(OVS_BAND_ATTR_TYPE, u32::from(OVS_METER_BAND_TYPE_DROP))?;
            w.put_u32(OVS_BAND_ATTR_RATE, b.rate)?;
            w.put_u32(OVS_BAND_ATTR_BURST, b.burst)?;
            w.end_nest(band)?;
        }
        w.end_nest(bands)
    })
}

/// Builds an `OVS_METER_CMD_GET` or `_DEL` request for one meter.
pub fn id_request(cmd: u16, dp_ifindex: i32, id: u32) -> Result<Vec<u8>, MsgError> {
    build(cmd as u8, VERSION, dp_ifindex, 16, |w| w.put_u32(OVS_METER_ATTR_ID, id))
}

/// Parses a features reply.
pub fn parse_features(payload: &[u8]) -> Result<MeterFeatures, MsgError> {
    let m = OvsMsg::parse(payload)?;
    let mut f = MeterFeatures::default();
    for a in m.attrs("meter features")? {
        match a.kind {
            OVS_METER_ATTR_MAX_METERS => f.max_meters = attr_u32(&a, "OVS_METER_ATTR_MAX_METERS")?,
            OVS_METER_ATTR_MAX_BANDS => f.max_bands = attr_u32(&a, "OVS_METER_ATTR_MAX_BANDS")?,
            _ => {}
        }
    }
    Ok(f)
}

/// Parses the statistics of a get/del reply.
pub fn parse_stats(payload: &[u8]) -> Result<MeterStats, MsgError> {
    let m = OvsMsg::parse(payload)?;
    let mut s = MeterStats::default();
    for a in m.attrs("meter")? {
        match a.kind {
            OVS_METER_ATTR_STATS => {
                let [p, b] = u64s::<2>(a.payload, "OVS_METER_ATTR_STATS")?;
                s.packets = p;
                s.bytes = b;
            }
            OVS_METER_ATTR_BANDS => {
                for band in collect_attrs(a.payload, "OVS_METER_ATTR_BANDS")? {
                    let mut st = (0, 0);
                    for ba in collect_attrs(band.payload, "band")? {
                        if ba.kind == OVS_BAND_ATTR_STATS {
                            let [p, b] = u64s::<2>(ba.payload, "OVS_BAND_ATTR_STATS")?;
                            st = (p, b);
                        }
                    }
                    s.bands.push(st);
                }
            }
            _ => {}
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::MeterBand;
    use rvs_core::nla::Writer;

    #[test]
    fn set_request_nests_bands() {
        let b = set_request(
            1,
            &MeterConfig { id: 4, kbps: true, bands: vec![MeterBand { rate: 1000, burst: 100 }, MeterBand { rate: 5, burst: 1 }] },
        )
        .unwrap();
        let m = OvsMsg::parse(&b).unwrap();
        let attrs = m.attrs("t").unwrap();
        assert_eq!(attrs[0].u32_ne(), Some(4));
        assert_eq!(attrs[1].kind, OVS_METER_ATTR_KBPS);
        let bands = collect_attrs(attrs[2].payload, "b").unwrap();
        assert_eq!(bands.len(), 2);
        let b0 = collect_attrs(bands[0].payload, "b0").unwrap();
        assert_eq!(b0.iter().map(|a| a.u32_ne().unwrap()).collect::<Vec<_>>(), vec![1, 1000, 100]);
    }

    #[test]
    fn parses_stats_and_features() {
        let mut attrs = vec![0u8; 256];
        let mut w = Writer::new(&mut attrs);
        w.put_u32(OVS_METER_ATTR_ID, 4).unwrap();
        let st: Vec<u8> = [10u64, 1000].iter().flat_map(|v| v.to_ne_bytes()).collect();
        w.put(OVS_METER_ATTR_STATS, &st).unwrap();
        let n = w.begin_nest(OVS_METER_ATTR_BANDS).unwrap();
        let b = w.begin_nest(OVS_BAND_ATTR_UNSPEC).unwrap();
        let bs: Vec<u8> = [3u64, 300].iter().flat_map(|v| v.to_ne_bytes()).collect();
        w.put(OVS_BAND_ATTR_STATS, &bs).unwrap();
        w.end_nest(b).unwrap();
        w.end_nest(n).unwrap();
        w.put_u32(OVS_METER_ATTR_MAX_METERS, 200).unwrap();
        w.put_u32(OVS_METER_ATTR_MAX_BANDS, 1).unwrap();
        let len = w.len();
        let mut p = vec![OVS_METER_CMD_GET as u8, 1, 0, 0, 0, 0, 0, 0];
        p.extend_from_slice(&attrs[..len]);
        let s = parse_stats(&p).unwrap();
        assert_eq!((s.packets, s.bytes, s.bands.clone()), (10, 1000, vec![(3, 300)]));
        assert_eq!(parse_features(&p).unwrap(), MeterFeatures { max_meters: 200, max_bands: 1 });
    }
}
