//! Meters: the token-bucket state of one datapath meter and its drop bands (upstream `struct dp_meter` and
//! `ovs_meter_execute`). This module owns the arithmetic only; the embedder owns the meter table, the locking
//! (one lock per meter around [`MeterState::execute`]) and the clock (milliseconds of a monotonic clock).
//!
//! Units follow upstream: a band's bucket holds bits for a kbps meter (kbps × ms = bits) and thousandths of a
//! packet for a packets-per-second meter (pkt/s × ms = 1/1000 packets). A packet costs `len × 8` bits or 1000
//! packet-thousandths. Every band refills by `elapsed_ms × rate` up to `burst × 1000`, starting full; the packet is
//! taken from every band that has enough tokens; among the bands that had not, the one with the highest rate counts
//! the packet and, if it is a drop band (the only type upstream advertises), drops it.

use core::fmt;

use crate::ovs_abi::OVS_METER_BAND_TYPE_DROP;

/// Most bands a meter may have (upstream `DP_MAX_BANDS` is 1; rvs evaluates several the same way).
pub const MAX_BANDS: usize = 4;

/// Why a meter configuration was refused (all `EINVAL` upstream).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeterError {
    /// More than [`MAX_BANDS`] bands.
    TooManyBands,
    /// A band with rate 0.
    ZeroRate,
}

impl fmt::Display for MeterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooManyBands => write!(f, "meter has more than {MAX_BANDS} bands"),
            Self::ZeroRate => f.write_str("meter band rate is zero"),
        }
    }
}

/// A band's configuration: `OVS_BAND_ATTR_TYPE`, `_RATE` (kbps or packets/s) and `_BURST` (kbits or packets).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BandConfig {
    /// `OVS_METER_BAND_TYPE_*`.
    pub ty: u32,
    /// Rate.
    pub rate: u32,
    /// Burst size.
    pub burst: u32,
}

/// One band: configuration, bucket and the packets it dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Band {
    /// Configuration.
    pub config: BandConfig,
    bucket: u64,
    /// Packets this band counted (dropped).
    pub packets: u64,
    /// Bytes this band counted.
    pub bytes: u64,
}

impl Band {
    fn capacity(&self) -> u64 {
        u64::from(self.config.burst).wrapping_mul(1000)
    }

    /// Tokens in the bucket (bucket units, see the module documentation).
    #[must_use]
    pub fn tokens(&self) -> u64 {
        self.bucket
    }
}

/// The state of one meter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeterState {
    /// Rates are in kbps (else packets per second).
    pub kbps: bool,
    /// Whether the statistics survive a replacement of the meter (no `OVS_METER_ATTR_CLEAR`).
    pub keep_stats: bool,
    /// Time of the last packet (or of creation), in ms.
    pub used_ms: u64,
    /// Packets that went through the meter.
    pub packets: u64,
    /// Bytes that went through the meter.
    pub bytes: u64,
    max_delta_ms: u32,
    bands: [Band; MAX_BANDS],
    n_bands: usize,
}

impl MeterState {
    /// A meter created at `now_ms` with full buckets (upstream `dp_meter_create`). A meter without bands counts
    /// packets and never drops.
    pub fn new(kbps: bool, bands: &[BandConfig], now_ms: u64) -> Result<Self, MeterError> {
        if bands.len() > MAX_BANDS {
            return Err(MeterError::TooManyBands);
        }
        let mut m = Self {
            kbps,
            keep_stats: true,
            used_ms: now_ms,
            packets: 0,
            bytes: 0,
            max_delta_ms: 0,
            bands: [Band::default(); MAX_BANDS],
            n_bands: bands.len(),
        };
        for (slot, cfg) in m.bands.iter_mut().zip(bands) {
            if cfg.rate == 0 {
                return Err(MeterError::ZeroRate);
            }
            *slot = Band { config: *cfg, bucket: 0, packets: 0, bytes: 0 };
            slot.bucket = slot.capacity();
            // The longest idle time that can matter: enough to fill this bucket from empty.
            let fill_ms = u32::try_from(slot.bucket.checked_div(u64::from(cfg.rate)).unwrap_or(0)).unwrap_or(u32::MAX);
            m.max_delta_ms = m.max_delta_ms.max(fill_ms);
        }
        Ok(m)
    }

    /// The bands.
    #[must_use]
    pub fn bands(&self) -> &[Band] {
        self.bands.get(..self.n_bands).unwrap_or(&[])
    }

    /// Passes a packet of `len` bytes arriving at `now_ms` through the meter. `true`: a drop band was exceeded,
    /// drop the packet.
    pub fn execute(&mut self, now_ms: u64, len: u32) -> bool {
        // A clock seen going backwards (racing CPUs) counts as no time elapsed.
        let elapsed = now_ms.saturating_sub(self.used_ms);
        let delta = u32::try_from(elapsed).unwrap_or(u32::MAX).min(self.max_delta_ms);
        self.used_ms = self.used_ms.max(now_ms);
        self.packets = self.packets.wrapping_add(1);
        self.bytes = self.bytes.wrapping_add(u64::from(len));
        let cost = if self.kbps { u64::from(len).wrapping_mul(8) } else { 1000 };
        let mut exceeded: Option<usize> = None;
        let mut exceeded_rate = 0u32;
        for (i, band) in self.bands.iter_mut().take(self.n_bands).enumerate() {
            let refill = u64::from(delta).wrapping_mul(u64::from(band.config.rate));
            band.bucket = band.bucket.saturating_add(refill).min(band.capacity());
            if band.bucket >= cost {
                band.bucket = band.bucket.wrapping_sub(cost);
            } else if band.config.rate > exceeded_rate {
                exceeded_rate = band.config.rate;
                exceeded = Some(i);
            }
        }
        let Some(band) = exceeded.and_then(|i| self.bands.get_mut(i)) else { return false };
        band.packets = band.packets.wrapping_add(1);
        band.bytes = band.bytes.wrapping_add(u64::from(len));
        band.config.ty == u32::from(OVS_METER_BAND_TYPE_DROP)
    }

    /// Zeroes the meter's and its bands' counters (buckets are kept).
    pub fn clear_stats(&mut self) {
        self.packets = 0;
        self.bytes = 0;
        for b in self.bands.iter_mut() {
            b.packets = 0;
            b.bytes = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DROP: u32 = OVS_METER_BAND_TYPE_DROP as u32;

    fn pktps(rate: u32, burst: u32) -> MeterState {
        MeterState::new(false, &[BandConfig { ty: DROP, rate, burst }], 1_000).unwrap()
    }

    #[test]
    fn packet_rate_burst_then_drops_then_refills() {
        let mut m = pktps(10, 5);
        // The bucket starts full: a burst of 5 passes at the same instant, the 6th is dropped.
        let passed = (0..8).filter(|_| !m.execute(1_000, 64)).count();
        assert_eq!(passed, 5);
        assert_eq!((m.packets, m.bands()[0].packets), (8, 3));
        // 10 packets/s: after 100 ms exactly one more token.
        assert!(!m.execute(1_100, 64));
        assert!(m.execute(1_100, 64));
        // After a long idle time the bucket is full again, not more.
        let passed = (0..10).filter(|_| !m.execute(100_000, 64)).count();
        assert_eq!(passed, 5);
    }

    #[test]
    fn kbps_charges_bits() {
        // 8 kbps, burst 8 kbit = 8000 bits: one 1000-byte packet fits, the second does not.
        let mut m = MeterState::new(true, &[BandConfig { ty: DROP, rate: 8, burst: 8 }], 0).unwrap();
        assert!(!m.execute(0, 1000));
        assert!(m.execute(0, 1000));
        // 500 ms later: 4000 bits, enough for 500 bytes but not 501.
        assert!(m.execute(500, 501));
        assert!(!m.execute(500, 500));
        assert_eq!(m.bytes, 3001);
        assert_eq!(m.bands()[0].bytes, 1501);
    }

    #[test]
    fn highest_rate_exceeded_band_counts() {
        let bands = [BandConfig { ty: DROP, rate: 5, burst: 1 }, BandConfig { ty: DROP, rate: 20, burst: 2 }];
        let mut m = MeterState::new(false, &bands, 0).unwrap();
        assert!(!m.execute(0, 1));
        // Band 0 is empty now, band 1 still has a token: dropped by band 0.
        assert!(m.execute(0, 1));
        assert_eq!((m.bands()[0].packets, m.bands()[1].packets), (1, 0));
        // Both empty: the higher-rate band counts the drop.
        assert!(m.execute(0, 1));
        assert_eq!((m.bands()[0].packets, m.bands()[1].packets), (1, 1));
    }

    #[test]
    fn clock_going_backwards_and_extremes_do_not_overflow() {
        let mut m = MeterState::new(true, &[BandConfig { ty: DROP, rate: u32::MAX, burst: u32::MAX }], u64::MAX).unwrap();
        assert!(!m.execute(0, u32::MAX));
        assert!(!m.execute(u64::MAX, u32::MAX));
        assert_eq!(m.used_ms, u64::MAX);
    }

    #[test]
    fn bad_configurations() {
        let ok = BandConfig { ty: DROP, rate: 1, burst: 1 };
        let mut none = MeterState::new(false, &[], 0).unwrap();
        assert!(!none.execute(0, 1) && !none.execute(0, 1));
        assert_eq!(none.packets, 2);
        assert_eq!(MeterState::new(false, &[ok; MAX_BANDS + 1], 0).unwrap_err(), MeterError::TooManyBands);
        assert_eq!(MeterState::new(false, &[BandConfig { rate: 0, ..ok }], 0).unwrap_err(), MeterError::ZeroRate);
        // Upstream stores other band types; such a band counts packets but never drops them.
        let mut other = MeterState::new(false, &[BandConfig { ty: 2, ..ok }], 0).unwrap();
        assert!(!other.execute(0, 1));
        assert!(!other.execute(0, 1));
        assert_eq!(other.bands()[0].packets, 1);
        assert_eq!(MeterState::new(false, &[ok; MAX_BANDS], 0).unwrap().bands().len(), MAX_BANDS);
    }

    #[test]
    fn clear_stats_resets_counters_only() {
        let mut m = pktps(1, 1);
        m.execute(1_000, 10);
        m.execute(1_000, 10);
        let tokens = m.bands()[0].tokens();
        m.clear_stats();
        assert_eq!((m.packets, m.bytes, m.bands()[0].packets), (0, 0, 0));
        assert_eq!(m.bands()[0].tokens(), tokens);
    }
}
