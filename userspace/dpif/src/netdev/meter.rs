//! The userspace datapath's meter table: meter ID → the core's token-bucket state
//! ([`rvs_core::meter::MeterState`], the same arithmetic rvs.ko runs), behind one lock per
//! datapath. Packets reach it through the `meter` action ([`MeterTable::execute`]); the
//! `OVS_METER_CMD_*` equivalents are [`MeterTable::set`], [`MeterTable::get`] and
//! [`MeterTable::del`], with the kernel's errno for the same mistakes.

use std::collections::HashMap;
use std::sync::Mutex;

use rvs_core::meter::{BandConfig, MeterState, MAX_BANDS};
use rvs_core::ovs_abi::OVS_METER_BAND_TYPE_DROP;

use crate::error::{DpifError, Result};
use crate::types::{MeterConfig, MeterFeatures, MeterStats};

/// Meter IDs the userspace datapath accepts (0..MAX_METERS).
pub const MAX_METERS: u32 = 4096;

/// The meters of one datapath.
#[derive(Debug, Default)]
pub struct MeterTable {
    meters: Mutex<HashMap<u32, MeterState>>,
}

fn err(op: &str, errno: i32, why: &str) -> DpifError {
    DpifError::Kernel { op: op.to_string(), errno, extack: Some(why.to_string()) }
}

fn stats(m: &MeterState) -> MeterStats {
    MeterStats { packets: m.packets, bytes: m.bytes, bands: m.bands().iter().map(|b| (b.packets, b.bytes)).collect() }
}

impl MeterTable {
    /// What the table supports.
    pub fn features() -> MeterFeatures {
        MeterFeatures { max_meters: MAX_METERS, max_bands: u32::try_from(MAX_BANDS).unwrap_or(1) }
    }

    /// Creates or replaces meter `m.id` (a replaced meter starts with full buckets, as upstream).
    pub fn set(&self, m: &MeterConfig, now_ms: u64) -> Result<()> {
        if m.id >= MAX_METERS {
            return Err(err("meter set", libc::EINVAL, "meter ID out of range"));
        }
        let bands: Vec<BandConfig> =
            m.bands.iter().map(|b| BandConfig { ty: u32::from(OVS_METER_BAND_TYPE_DROP), rate: b.rate, burst: b.burst }).collect();
        let state = MeterState::new(m.kbps, &bands, now_ms).map_err(|e| err("meter set", libc::EINVAL, &e.to_string()))?;
        self.meters.lock().unwrap_or_else(|p| p.into_inner()).insert(m.id, state);
        Ok(())
    }

    /// Meter `id`'s counters.
    pub fn get(&self, id: u32) -> Result<MeterStats> {
        let g = self.meters.lock().unwrap_or_else(|p| p.into_inner());
        g.get(&id).map(stats).ok_or_else(|| err("meter get", libc::ENOENT, "no such meter"))
    }

    /// Deletes meter `id`, returning its last counters.
    pub fn del(&self, id: u32) -> Result<MeterStats> {
        let mut g = self.meters.lock().unwrap_or_else(|p| p.into_inner());
        g.remove(&id).map(|m| stats(&m)).ok_or_else(|| err("meter del", libc::ENOENT, "no such meter"))
    }

    /// Passes a `len`-byte packet through meter `id`; `true`: drop it. A missing meter passes
    /// everything, as upstream.
    pub fn execute(&self, id: u32, len: u32, now_ms: u64) -> bool {
        let mut g = self.meters.lock().unwrap_or_else(|p| p.into_inner());
        g.get_mut(&id).is_some_and(|m| m.execute(now_ms, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::MeterBand;

    #[test]
    fn set_execute_get_del() {
        let t = MeterTable::default();
        let m = MeterConfig { id: 3, kbps: true, bands: vec![MeterBand { rate: 8, burst: 8 }] };
        t.set(&m, 1000).unwrap();
        // 8 kbit burst = 1000 bytes: the first 1000-byte packet passes, the next is dropped.
        assert!(!t.execute(3, 1000, 1000));
        assert!(t.execute(3, 1000, 1000));
        // 1 s at 8 kbit/s refills 1000 bytes.
        assert!(!t.execute(3, 1000, 2000));
        let s = t.get(3).unwrap();
        assert_eq!((s.packets, s.bands), (3, vec![(1, 1000)]));
        assert!(!t.execute(9, 1_000_000, 2000), "unknown meter passes");
        assert_eq!(t.del(3).unwrap().packets, 3);
        assert_eq!(t.get(3).unwrap_err().errno(), Some(libc::ENOENT));
        let bad = MeterConfig { id: MAX_METERS, kbps: true, bands: vec![MeterBand { rate: 8, burst: 8 }] };
        assert_eq!(t.set(&bad, 0).unwrap_err().errno(), Some(libc::EINVAL));
        let zero = MeterConfig { id: 1, kbps: true, bands: vec![MeterBand { rate: 0, burst: 8 }] };
        assert_eq!(t.set(&zero, 0).unwrap_err().errno(), Some(libc::EINVAL));
    }
}
