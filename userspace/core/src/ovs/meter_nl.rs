//! `OVS_METER_ATTR_*` and the nested `OVS_BAND_ATTR_*`: meter messages parsed into a borrowing
//! [`MeterAttrs`] (bands iterated lazily with [`MeterAttrs::bands`]) and emitted in upstream
//! reply order.

use crate::nla::{Attrs, Writer};
use crate::ovs_abi::*;

use super::error::{CodecError, ErrorKind};
use super::msg::{self, FlowStats};
use super::policy::{self, AttrPolicy, Len};

/// Policy of `OVS_METER_ATTR_*` (upstream `meter_policy`).
pub static METER_POLICY: [AttrPolicy; 10] = [
    AttrPolicy::invalid("OVS_METER_ATTR_UNSPEC"),
    AttrPolicy::new("OVS_METER_ATTR_ID", Len::Exact(4)),
    AttrPolicy::new("OVS_METER_ATTR_KBPS", Len::Flag),
    AttrPolicy::new("OVS_METER_ATTR_STATS", Len::Exact(16)),
    AttrPolicy::new("OVS_METER_ATTR_BANDS", Len::Nested),
    AttrPolicy::new("OVS_METER_ATTR_USED", Len::Exact(8)),
    AttrPolicy::new("OVS_METER_ATTR_CLEAR", Len::Flag),
    AttrPolicy::new("OVS_METER_ATTR_MAX_METERS", Len::Exact(4)),
    AttrPolicy::new("OVS_METER_ATTR_MAX_BANDS", Len::Exact(4)),
    AttrPolicy::new("OVS_METER_ATTR_PAD", Len::Pad),
];

/// Policy of `OVS_BAND_ATTR_*` (upstream `band_policy`).
pub static BAND_POLICY: [AttrPolicy; 5] = [
    AttrPolicy::invalid("OVS_BAND_ATTR_UNSPEC"),
    AttrPolicy::new("OVS_BAND_ATTR_TYPE", Len::Exact(4)),
    AttrPolicy::new("OVS_BAND_ATTR_RATE", Len::Exact(4)),
    AttrPolicy::new("OVS_BAND_ATTR_BURST", Len::Exact(4)),
    AttrPolicy::new("OVS_BAND_ATTR_STATS", Len::Exact(16)),
];

/// One meter band. In requests `ty`, `rate` and `burst` are required (upstream
/// `dp_meter_create`); replies may carry only stats, so they default to 0 there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Band {
    /// `OVS_METER_BAND_TYPE_*`.
    pub ty: Option<u32>,
    /// Rate, in kbps or packets per second.
    pub rate: Option<u32>,
    /// Burst size.
    pub burst: Option<u32>,
    /// Band counters.
    pub stats: Option<FlowStats>,
}

impl Band {
    /// Checks that type, rate and burst are present, as a meter-set request needs.
    pub fn require_config(&self) -> Result<(u32, u32, u32), CodecError> {
        let m = |n| CodecError::new(n, ErrorKind::Missing);
        Ok((
            self.ty.ok_or(m("OVS_BAND_ATTR_TYPE"))?,
            self.rate.ok_or(m("OVS_BAND_ATTR_RATE"))?,
            self.burst.ok_or(m("OVS_BAND_ATTR_BURST"))?,
        ))
    }

    fn emit(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        let e = |e| CodecError::from_nla("OVS_METER_ATTR_BANDS", e);
        let n = w.begin_nest_noflag(OVS_BAND_ATTR_UNSPEC).map_err(e)?;
        if let Some(v) = self.ty {
            msg::put_u32(w, "OVS_BAND_ATTR_TYPE", OVS_BAND_ATTR_TYPE, v)?;
        }
        if let Some(v) = self.rate {
            msg::put_u32(w, "OVS_BAND_ATTR_RATE", OVS_BAND_ATTR_RATE, v)?;
        }
        if let Some(v) = self.burst {
            msg::put_u32(w, "OVS_BAND_ATTR_BURST", OVS_BAND_ATTR_BURST, v)?;
        }
        if let Some(s) = self.stats {
            s.put(w, "OVS_BAND_ATTR_STATS", OVS_BAND_ATTR_STATS)?;
        }
        w.end_nest(n).map_err(e)
    }
}

/// Iterator over the bands of `OVS_METER_ATTR_BANDS`; yields one error and stops on bad input.
#[derive(Clone, Debug)]
pub struct BandIter<'a> {
    attrs: Attrs<'a>,
    done: bool,
}

impl Iterator for BandIter<'_> {
    type Item = Result<Band, CodecError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.attrs.next()?.map_err(|e| CodecError::from_nla("OVS_METER_ATTR_BANDS", e)).and_then(|a| {
            let p = policy::parse(a.payload, "OVS_BAND_ATTR", &BAND_POLICY)?;
            Ok(Band {
                ty: p.u32(OVS_BAND_ATTR_TYPE),
                rate: p.u32(OVS_BAND_ATTR_RATE),
                burst: p.u32(OVS_BAND_ATTR_BURST),
                stats: p.get(OVS_BAND_ATTR_STATS).map(FlowStats::from_bytes),
            })
        });
        self.done = item.is_err();
        Some(item)
    }
}

/// The attributes of a meter message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MeterAttrs<'a> {
    /// Meter ID.
    pub id: Option<u32>,
    /// Rates are in kbps (else packets per second).
    pub kbps: bool,
    /// Meter counters.
    pub stats: Option<FlowStats>,
    /// Nested bands (raw; iterate with [`Self::bands`]).
    pub bands_raw: Option<&'a [u8]>,
    /// Last use, in milliseconds.
    pub used: Option<u64>,
    /// Reset counters.
    pub clear: bool,
    /// Features reply: maximum number of meters.
    pub max_meters: Option<u32>,
    /// Features reply: maximum bands per meter.
    pub max_bands: Option<u32>,
}

impl<'a> MeterAttrs<'a> {
    /// Parses and validates the attributes following the `ovs_header` (bands are validated as
    /// they are iterated; [`Self::validate_bands`] does it eagerly).
    pub fn parse(buf: &'a [u8]) -> Result<Self, CodecError> {
        let p = policy::parse(buf, "OVS_METER_ATTR", &METER_POLICY)?;
        Ok(Self {
            id: p.u32(OVS_METER_ATTR_ID),
            kbps: p.has(OVS_METER_ATTR_KBPS),
            stats: p.get(OVS_METER_ATTR_STATS).map(FlowStats::from_bytes),
            bands_raw: p.get(OVS_METER_ATTR_BANDS),
            used: p.u64(OVS_METER_ATTR_USED),
            clear: p.has(OVS_METER_ATTR_CLEAR),
            max_meters: p.u32(OVS_METER_ATTR_MAX_METERS),
            max_bands: p.u32(OVS_METER_ATTR_MAX_BANDS),
        })
    }

    /// The bands.
    #[must_use]
    pub fn bands(&self) -> BandIter<'a> {
        BandIter { attrs: Attrs::new(self.bands_raw.unwrap_or(&[])), done: false }
    }

    /// Validates every band and returns how many there are.
    pub fn validate_bands(&self) -> Result<usize, CodecError> {
        let mut n = 0usize;
        for b in self.bands() {
            b?;
            n = n.saturating_add(1);
        }
        Ok(n)
    }

    /// Emits in upstream reply order (ID, STATS, USED, BANDS, MAX_METERS, MAX_BANDS), then the
    /// request-only KBPS and CLEAR. `bands` replaces `bands_raw` when given.
    pub fn emit(&self, w: &mut Writer<'_>, bands: Option<&[Band]>) -> Result<(), CodecError> {
        if let Some(v) = self.id {
            msg::put_u32(w, "OVS_METER_ATTR_ID", OVS_METER_ATTR_ID, v)?;
        }
        if let Some(s) = self.stats {
            s.put(w, "OVS_METER_ATTR_STATS", OVS_METER_ATTR_STATS)?;
        }
        if let Some(u) = self.used {
            msg::put(w, "OVS_METER_ATTR_USED", OVS_METER_ATTR_USED, &u.to_ne_bytes())?;
        }
        match (bands, self.bands_raw) {
            (Some(list), _) => {
                let e = |e| CodecError::from_nla("OVS_METER_ATTR_BANDS", e);
                let n = w.begin_nest_noflag(OVS_METER_ATTR_BANDS).map_err(e)?;
                for b in list {
                    b.emit(w)?;
                }
                w.end_nest(n).map_err(e)?;
            }
            (None, Some(raw)) => msg::put(w, "OVS_METER_ATTR_BANDS", OVS_METER_ATTR_BANDS, raw)?,
            (None, None) => {}
        }
        if let Some(v) = self.max_meters {
            msg::put_u32(w, "OVS_METER_ATTR_MAX_METERS", OVS_METER_ATTR_MAX_METERS, v)?;
        }
        if let Some(v) = self.max_bands {
            msg::put_u32(w, "OVS_METER_ATTR_MAX_BANDS", OVS_METER_ATTR_MAX_BANDS, v)?;
        }
        msg::put_flag(w, "OVS_METER_ATTR_KBPS", OVS_METER_ATTR_KBPS, self.kbps)?;
        msg::put_flag(w, "OVS_METER_ATTR_CLEAR", OVS_METER_ATTR_CLEAR, self.clear)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovs::test_util::{attr, nest, u32a, written};

    #[test]
    fn meter_set_round_trip() {
        let band = |rate| nest(OVS_BAND_ATTR_UNSPEC, &[u32a(OVS_BAND_ATTR_TYPE, 1), u32a(OVS_BAND_ATTR_RATE, rate), u32a(OVS_BAND_ATTR_BURST, 64)]);
        let wire = [
            u32a(OVS_METER_ATTR_ID, 4),
            attr(OVS_METER_ATTR_USED, &77u64.to_ne_bytes()),
            nest(OVS_METER_ATTR_BANDS, &[band(1000), band(2000)]),
            attr(OVS_METER_ATTR_KBPS, &[]),
        ]
        .concat();
        let m = MeterAttrs::parse(&wire).unwrap();
        assert_eq!((m.id, m.used, m.kbps), (Some(4), Some(77), true));
        let bands: std::vec::Vec<Band> = m.bands().collect::<Result<_, _>>().unwrap();
        assert_eq!(bands.len(), 2);
        assert_eq!(bands[1].require_config().unwrap(), (1, 2000, 64));
        assert_eq!(m.validate_bands().unwrap(), 2);
        assert_eq!(written(|w| m.emit(w, None).unwrap()), wire);
        assert_eq!(written(|w| m.emit(w, Some(&bands)).unwrap()), wire);
    }

    #[test]
    fn meter_errors() {
        let no_burst = nest(OVS_METER_ATTR_BANDS, &[nest(0, &[u32a(OVS_BAND_ATTR_TYPE, 1), u32a(OVS_BAND_ATTR_RATE, 1)])]);
        let m = MeterAttrs::parse(&no_burst).unwrap();
        let b = m.bands().next().unwrap().unwrap();
        assert_eq!(b.require_config().unwrap_err(), CodecError::new("OVS_BAND_ATTR_BURST", ErrorKind::Missing));
        let bad_band = nest(OVS_METER_ATTR_BANDS, &[nest(0, &[attr(OVS_BAND_ATTR_RATE, &[0; 2])])]);
        assert_eq!(
            MeterAttrs::parse(&bad_band).unwrap().validate_bands().unwrap_err(),
            CodecError::new("OVS_BAND_ATTR_RATE", ErrorKind::BadLength { got: 2, want: 4 })
        );
        assert_eq!(MeterAttrs::parse(&attr(OVS_METER_ATTR_KBPS, &[1])).unwrap_err().attr, "OVS_METER_ATTR_KBPS");
        assert_eq!(MeterAttrs::parse(&attr(11, &[])).unwrap_err().kind, ErrorKind::Unknown { ty: 11 });
    }
}
