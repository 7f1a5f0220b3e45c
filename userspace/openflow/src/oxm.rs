//! The version-neutral flow match ([`Match`]: a set of OXM fields with optional masks), the
//! OpenFlow 1.2+ OXM TLV codec (`ofp_match` of type `OFPMT_OXM`), and prerequisite checking.
//!
//! Field values are held as `u128` numbers of the field's width (a MAC address is a 48-bit
//! number, an IPv6 address 128 bits), so every field is handled by the same code. The
//! OpenFlow 1.0 `ofp_match` converts to and from this model in [`crate::of10`].


use crate::error::{BadAction, BadMatch, DecodeError, DecodeResult, EncodeError, EncodeResult};
use crate::wire::{pad8, Put, Reader};

/// `OFPXMC_OPENFLOW_BASIC`.
pub const OXM_CLASS_BASIC: u16 = 0x8000;
/// `OFPMT_OXM`.
pub const OFPMT_OXM: u16 = 1;
/// `OFPVID_PRESENT`: the VLAN_VID bit meaning "a VLAN tag is present".
pub const VID_PRESENT: u16 = 0x1000;

/// An OpenFlow basic-class OXM field (the discriminant is its OXM field number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum Field {
    InPort = 0,
    InPhyPort = 1,
    Metadata = 2,
    EthDst = 3,
    EthSrc = 4,
    EthType = 5,
    VlanVid = 6,
    VlanPcp = 7,
    IpDscp = 8,
    IpEcn = 9,
    IpProto = 10,
    Ipv4Src = 11,
    Ipv4Dst = 12,
    TcpSrc = 13,
    TcpDst = 14,
    UdpSrc = 15,
    UdpDst = 16,
    SctpSrc = 17,
    SctpDst = 18,
    Icmpv4Type = 19,
    Icmpv4Code = 20,
    ArpOp = 21,
    ArpSpa = 22,
    ArpTpa = 23,
    ArpSha = 24,
    ArpTha = 25,
    Ipv6Src = 26,
    Ipv6Dst = 27,
    Ipv6Flabel = 28,
    Icmpv6Type = 29,
    Icmpv6Code = 30,
    Ipv6NdTarget = 31,
    Ipv6NdSll = 32,
    Ipv6NdTll = 33,
    MplsLabel = 34,
    MplsTc = 35,
    MplsBos = 36,
    PbbIsid = 37,
    TunnelId = 38,
    Ipv6Exthdr = 39,
}

/// How a field's value is written in text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A port number or name.
    Port,
    /// Decimal.
    Decimal,
    /// Hexadecimal (`0x...`).
    Hex,
    /// Ethernet address.
    Mac,
    /// IPv4 address.
    Ipv4,
    /// IPv6 address.
    Ipv6,
}

/// Static facts about a field.
#[derive(Debug, Clone, Copy)]
pub struct FieldInfo {
    /// Wire width in bytes.
    pub bytes: u8,
    /// Number of valid low-order bits.
    pub bits: u8,
    /// Whether a mask may be given (as Open vSwitch accepts it).
    pub maskable: bool,
    /// The `ovs-ofctl` name.
    pub name: &'static str,
    /// Text format.
    pub format: Format,
}

const fn fi(bytes: u8, bits: u8, maskable: bool, name: &'static str, format: Format) -> FieldInfo {
    FieldInfo { bytes, bits, maskable, name, format }
}

impl Field {
    /// Every field, in OXM number order.
    pub const ALL: [Field; 40] = [
        Field::InPort,
        Field::InPhyPort,
        Field::Metadata,
        Field::EthDst,
        Field::EthSrc,
        Field::EthType,
        Field::VlanVid,
        Field::VlanPcp,
        Field::IpDscp,
        Field::IpEcn,
        Field::IpProto,
        Field::Ipv4Src,
        Field::Ipv4Dst,
        Field::TcpSrc,
        Field::TcpDst,
        Field::UdpSrc,
        Field::UdpDst,
        Field::SctpSrc,
        Field::SctpDst,
        Field::Icmpv4Type,
        Field::Icmpv4Code,
        Field::ArpOp,
        Field::ArpSpa,
        Field::ArpTpa,
        Field::ArpSha,
        Field::ArpTha,
        Field::Ipv6Src,
        Field::Ipv6Dst,
        Field::Ipv6Flabel,
        Field::Icmpv6Type,
        Field::Icmpv6Code,
        Field::Ipv6NdTarget,
        Field::Ipv6NdSll,
        Field::Ipv6NdTll,
        Field::MplsLabel,
        Field::MplsTc,
        Field::MplsBos,
        Field::PbbIsid,
        Field::TunnelId,
        Field::Ipv6Exthdr,
    ];

    /// The OXM field number.
    pub fn oxm_field(self) -> u8 {
        self as u8
    }

    /// The field with OXM number `n`.
    pub fn from_oxm_field(n: u8) -> Option<Field> {
        Self::ALL.get(usize::from(n)).copied()
    }

    /// Static facts about the field.
    pub fn info(self) -> FieldInfo {
        use Format::*;
        match self {
            Field::InPort => fi(4, 32, false, "in_port", Port),
            Field::InPhyPort => fi(4, 32, false, "in_phy_port", Port),
            Field::Metadata => fi(8, 64, true, "metadata", Hex),
            Field::EthDst => fi(6, 48, true, "dl_dst", Mac),
            Field::EthSrc => fi(6, 48, true, "dl_src", Mac),
            Field::EthType => fi(2, 16, false, "dl_type", Hex),
            Field::VlanVid => fi(2, 13, true, "vlan_vid", Decimal),
            Field::VlanPcp => fi(1, 3, false, "dl_vlan_pcp", Decimal),
            Field::IpDscp => fi(1, 6, false, "ip_dscp", Decimal),
            Field::IpEcn => fi(1, 2, false, "nw_ecn", Decimal),
            Field::IpProto => fi(1, 8, false, "nw_proto", Decimal),
            Field::Ipv4Src => fi(4, 32, true, "nw_src", Ipv4),
            Field::Ipv4Dst => fi(4, 32, true, "nw_dst", Ipv4),
            Field::TcpSrc => fi(2, 16, true, "tcp_src", Decimal),
            Field::TcpDst => fi(2, 16, true, "tcp_dst", Decimal),
            Field::UdpSrc => fi(2, 16, true, "udp_src", Decimal),
            Field::UdpDst => fi(2, 16, true, "udp_dst", Decimal),
            Field::SctpSrc => fi(2, 16, true, "sctp_src", Decimal),
            Field::SctpDst => fi(2, 16, true, "sctp_dst", Decimal),
            Field::Icmpv4Type => fi(1, 8, false, "icmp_type", Decimal),
            Field::Icmpv4Code => fi(1, 8, false, "icmp_code", Decimal),
            Field::ArpOp => fi(2, 16, false, "arp_op", Decimal),
            Field::ArpSpa => fi(4, 32, true, "arp_spa", Ipv4),
            Field::ArpTpa => fi(4, 32, true, "arp_tpa", Ipv4),
            Field::ArpSha => fi(6, 48, true, "arp_sha", Mac),
            Field::ArpTha => fi(6, 48, true, "arp_tha", Mac),
            Field::Ipv6Src => fi(16, 128, true, "ipv6_src", Ipv6),
            Field::Ipv6Dst => fi(16, 128, true, "ipv6_dst", Ipv6),
            Field::Ipv6Flabel => fi(4, 20, true, "ipv6_label", Hex),
            Field::Icmpv6Type => fi(1, 8, false, "icmpv6_type", Decimal),
            Field::Icmpv6Code => fi(1, 8, false, "icmpv6_code", Decimal),
            Field::Ipv6NdTarget => fi(16, 128, true, "nd_target", Ipv6),
            Field::Ipv6NdSll => fi(6, 48, true, "nd_sll", Mac),
            Field::Ipv6NdTll => fi(6, 48, true, "nd_tll", Mac),
            Field::MplsLabel => fi(4, 20, false, "mpls_label", Decimal),
            Field::MplsTc => fi(1, 3, false, "mpls_tc", Decimal),
            Field::MplsBos => fi(1, 1, false, "mpls_bos", Decimal),
            Field::PbbIsid => fi(3, 24, true, "pbb_isid", Hex),
            Field::TunnelId => fi(8, 64, true, "tun_id", Hex),
            Field::Ipv6Exthdr => fi(2, 9, true, "ipv6_exthdr", Hex),
        }
    }

    /// All-ones value of the field's valid bits.
    pub fn max_value(self) -> u128 {
        let bits = self.info().bits;
        if bits >= 128 {
            u128::MAX
        } else {
            (1u128 << bits).wrapping_sub(1)
        }
    }

    /// The field's OXM header (class, field, has-mask, length).
    pub fn oxm_header(self, masked: bool) -> u32 {
        let len = u32::from(self.info().bytes) * if masked { 2 } else { 1 };
        (u32::from(OXM_CLASS_BASIC) << 16)
            | (u32::from(self.oxm_field()) << 9)
            | (u32::from(masked) << 8)
            | len
    }

    /// Whether `set_field` may write this field.
    pub fn is_settable(self) -> bool {
        !matches!(self, Field::InPhyPort | Field::Ipv6Exthdr)
    }
}

/// One field's match: a value and, if not exact, a mask (1-bits must match).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldMatch {
    /// The value (bits outside the mask are zero).
    pub value: u128,
    /// `None` for an exact match.
    pub mask: Option<u128>,
}

impl FieldMatch {
    /// The effective mask (all ones of the field for an exact match).
    pub fn mask_or_exact(&self, f: Field) -> u128 {
        self.mask.unwrap_or_else(|| f.max_value())
    }
}

/// A flow match: the set of matched fields (absent = wildcarded), ordered by OXM number.
///
/// Kept as a vector of packed entries sorted by field (a match has a handful of fields): one
/// small allocation per match, which matters when a flow table holds 100k of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Match {
    fields: Vec<Entry>,
}

/// One matched field, packed: 40 bytes where `(Field, FieldMatch)` takes 64 (`u128`'s
/// 16-byte alignment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Entry {
    field: Field,
    masked: bool,
    value: [u64; 2],
    /// Zero unless `masked`.
    mask: [u64; 2],
}

fn split(v: u128) -> [u64; 2] {
    [(v >> 64) as u64, v as u64]
}

fn join(v: [u64; 2]) -> u128 {
    (u128::from(v[0]) << 64) | u128::from(v[1])
}

impl Entry {
    fn new(field: Field, m: FieldMatch) -> Entry {
        Entry { field, masked: m.mask.is_some(), value: split(m.value), mask: split(m.mask.unwrap_or(0)) }
    }

    fn get(&self) -> (Field, FieldMatch) {
        (self.field, FieldMatch { value: join(self.value), mask: self.masked.then(|| join(self.mask)) })
    }
}

fn read_be(b: &[u8]) -> u128 {
    b.iter().fold(0u128, |acc, &x| (acc << 8) | u128::from(x))
}

fn put_be(out: &mut Vec<u8>, v: u128, bytes: u8) {
    let all = v.to_be_bytes();
    let start = 16usize.saturating_sub(usize::from(bytes));
    out.extend_from_slice(all.get(start..).unwrap_or_default());
}

impl Match {
    /// The match-everything match.
    pub fn new() -> Self {
        Self::default()
    }

    /// Matches `field` exactly (value truncated to the field's width).
    pub fn set(&mut self, field: Field, value: u128) -> &mut Self {
        self.insert(field, FieldMatch { value: value & field.max_value(), mask: None });
        self
    }

    fn insert(&mut self, field: Field, m: FieldMatch) {
        match self.fields.binary_search_by_key(&field, |e| e.field) {
            Ok(i) => {
                if let Some(e) = self.fields.get_mut(i) {
                    *e = Entry::new(field, m);
                }
            }
            Err(i) => self.fields.insert(i, Entry::new(field, m)),
        }
    }

    /// Matches `field` under `mask`: a full mask is an exact match, a zero mask removes the
    /// field; the value is masked.
    pub fn set_masked(&mut self, field: Field, value: u128, mask: u128) -> &mut Self {
        let mask = mask & field.max_value();
        if mask == field.max_value() {
            return self.set(field, value);
        }
        if mask == 0 {
            self.remove(field);
        } else {
            self.insert(field, FieldMatch { value: value & mask, mask: Some(mask) });
        }
        self
    }

    /// Builder form of [`Match::set`].
    pub fn with(mut self, field: Field, value: u128) -> Self {
        self.set(field, value);
        self
    }

    /// Builder form of [`Match::set_masked`].
    pub fn with_masked(mut self, field: Field, value: u128, mask: u128) -> Self {
        self.set_masked(field, value, mask);
        self
    }

    /// Wildcards `field`.
    pub fn remove(&mut self, field: Field) -> Option<FieldMatch> {
        let i = self.fields.binary_search_by_key(&field, |e| e.field).ok()?;
        Some(self.fields.remove(i).get().1)
    }

    /// The match on `field`, if any.
    pub fn get(&self, field: Field) -> Option<FieldMatch> {
        let i = self.fields.binary_search_by_key(&field, |e| e.field).ok()?;
        self.fields.get(i).map(|e| e.get().1)
    }

    /// The exact value matched on `field`, if the field is matched exactly.
    pub fn exact(&self, field: Field) -> Option<u128> {
        self.get(field).filter(|m| m.mask.is_none()).map(|m| m.value)
    }

    /// Whether the field is matched exactly to `value`.
    pub fn is_exact(&self, field: Field, value: u128) -> bool {
        self.exact(field) == Some(value)
    }

    /// Matched fields in OXM order.
    pub fn iter(&self) -> impl Iterator<Item = (Field, FieldMatch)> + '_ {
        self.fields.iter().map(Entry::get)
    }

    /// Number of matched fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether every field is wildcarded.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    fn eth_type_is(&self, types: &[u16]) -> bool {
        types.iter().any(|&t| self.is_exact(Field::EthType, u128::from(t)))
    }

    fn is_ip(&self) -> bool {
        self.eth_type_is(&[0x0800, 0x86dd])
    }

    /// Whether the prerequisites of `field` (OpenFlow 1.3 §7.2.3.8) hold in this match.
    pub fn prereq_met(&self, field: Field) -> bool {
        use Field::*;
        let proto = |p: u128| self.is_ip() && self.is_exact(IpProto, p);
        match field {
            InPhyPort => self.get(InPort).is_some(),
            VlanPcp => self.get(VlanVid).is_some_and(|m| {
                let p = u128::from(VID_PRESENT);
                m.value & p != 0 && m.mask_or_exact(VlanVid) & p != 0
            }),
            IpDscp | IpEcn | IpProto => self.is_ip(),
            Ipv4Src | Ipv4Dst => self.eth_type_is(&[0x0800]),
            TcpSrc | TcpDst => proto(6),
            UdpSrc | UdpDst => proto(17),
            SctpSrc | SctpDst => proto(132),
            Icmpv4Type | Icmpv4Code => self.eth_type_is(&[0x0800]) && proto(1),
            ArpOp | ArpSpa | ArpTpa | ArpSha | ArpTha => self.eth_type_is(&[0x0806, 0x8035]),
            Ipv6Src | Ipv6Dst | Ipv6Flabel | Ipv6Exthdr => self.eth_type_is(&[0x86dd]),
            Icmpv6Type | Icmpv6Code => self.eth_type_is(&[0x86dd]) && proto(58),
            Ipv6NdTarget => {
                self.prereq_met(Icmpv6Type)
                    && (self.is_exact(Icmpv6Type, 135) || self.is_exact(Icmpv6Type, 136))
            }
            Ipv6NdSll => self.prereq_met(Icmpv6Type) && self.is_exact(Icmpv6Type, 135),
            Ipv6NdTll => self.prereq_met(Icmpv6Type) && self.is_exact(Icmpv6Type, 136),
            MplsLabel | MplsTc | MplsBos => self.eth_type_is(&[0x8847, 0x8848]),
            PbbIsid => self.eth_type_is(&[0x88e7]),
            InPort | Metadata | EthDst | EthSrc | EthType | VlanVid | TunnelId => true,
        }
    }

    /// Checks every field's prerequisites (`OFPBMC_BAD_PREREQ`).
    pub fn check_prereqs(&self) -> DecodeResult<()> {
        for f in self.fields.iter().map(|e| e.field) {
            if !self.prereq_met(f) {
                return Err(DecodeError::new(
                    BadMatch::BadPrereq,
                    format!("{} without its prerequisite", f.info().name),
                ));
            }
        }
        Ok(())
    }

    /// Appends the match's OXM TLVs (no `ofp_match` header).
    pub fn put_oxms(&self, out: &mut Vec<u8>) {
        for (f, m) in self.iter() {
            let bytes = f.info().bytes;
            out.put_u32(f.oxm_header(m.mask.is_some()));
            put_be(out, m.value, bytes);
            if let Some(mask) = m.mask {
                put_be(out, mask, bytes);
            }
        }
    }

    /// Appends an OpenFlow 1.2+ `ofp_match` (type OXM, padded to 8 bytes).
    pub fn put_ofp13(&self, out: &mut Vec<u8>) -> EncodeResult<()> {
        let start = out.len();
        out.put_u16(OFPMT_OXM);
        out.put_u16(0);
        self.put_oxms(out);
        let len = out.len().saturating_sub(start);
        out.patch_u16(start.saturating_add(2), len)?;
        out.pad8_from(start);
        Ok(())
    }

    /// Decodes an OpenFlow 1.2+ `ofp_match` (including its padding) from `r`, checking
    /// lengths, duplicates, values, masks and prerequisites.
    pub fn decode_ofp13(r: &mut Reader<'_>) -> DecodeResult<Match> {
        let mut hdr = Reader::new(r.peek(4)?, BadMatch::BadLen);
        let mtype = hdr.u16()?;
        let len = usize::from(hdr.u16()?);
        if mtype != OFPMT_OXM {
            return Err(DecodeError::new(BadMatch::BadType, format!("match type {mtype}")));
        }
        if len < 4 || pad8(len) > r.remaining() {
            return Err(DecodeError::new(BadMatch::BadLen, format!("match length {len}")));
        }
        r.skip(4)?;
        let body = r.bytes(len.saturating_sub(4))?;
        r.skip(pad8(len).saturating_sub(len))?;
        let m = Match::decode_oxms(body)?;
        m.check_prereqs()?;
        Ok(m)
    }

    /// Decodes a sequence of OXM TLVs (no header, no prerequisite check).
    pub fn decode_oxms(buf: &[u8]) -> DecodeResult<Match> {
        let mut r = Reader::new(buf, BadMatch::BadLen);
        // Every OXM TLV takes at least 5 bytes; most here take 6 or more.
        let mut m = Match { fields: Vec::with_capacity((buf.len() / 6).min(40)) };
        while !r.is_empty() {
            let (f, fm) = decode_oxm(&mut r, OxmUse::Match)?;
            match m.fields.binary_search_by_key(&f, |e| e.field) {
                Ok(_) => {
                    return Err(DecodeError::new(
                        BadMatch::DupField,
                        format!("duplicate {}", f.info().name),
                    ))
                }
                Err(i) => m.fields.insert(i, Entry::new(f, fm)),
            }
        }
        // A flow table keeps the match as decoded: no spare capacity.
        m.fields.shrink_to_fit();
        Ok(m)
    }
}

/// Where an OXM TLV is being decoded (selects the error codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OxmUse {
    /// In a match: `OFPET_BAD_MATCH` errors.
    Match,
    /// In a set-field action: `OFPBAC_BAD_SET_*` errors, no mask allowed.
    SetField,
}

/// Decodes one OXM TLV.
pub fn decode_oxm(r: &mut Reader<'_>, usage: OxmUse) -> DecodeResult<(Field, FieldMatch)> {
    let (bad_field, bad_len, bad_value, bad_mask): (
        crate::error::OfpError,
        crate::error::OfpError,
        crate::error::OfpError,
        crate::error::OfpError,
    ) = match usage {
        OxmUse::Match => (
            BadMatch::BadField.into(),
            BadMatch::BadLen.into(),
            BadMatch::BadValue.into(),
            BadMatch::BadMask.into(),
        ),
        OxmUse::SetField => (
            BadAction::BadSetType.into(),
            BadAction::BadSetLen.into(),
            BadAction::BadSetArgument.into(),
            BadAction::BadSetArgument.into(),
        ),
    };
    let hdr = Reader::new(r.peek(4).map_err(|e| DecodeError::new(bad_len, e.detail))?, bad_len)
        .u32()?;
    let class = u16::try_from(hdr >> 16).unwrap_or(0);
    let fnum = u8::try_from((hdr >> 9) & 0x7f).unwrap_or(0);
    let has_mask = hdr & 0x100 != 0;
    let len = usize::try_from(hdr & 0xff).unwrap_or(0);
    let mut body = Reader::new(
        r.bytes(len.saturating_add(4))
            .map_err(|_| DecodeError::new(bad_len, format!("OXM 0x{hdr:08x} truncated")))?
            .get(4..)
            .unwrap_or_default(),
        bad_len,
    );
    let field = (class == OXM_CLASS_BASIC)
        .then(|| Field::from_oxm_field(fnum))
        .flatten()
        .ok_or_else(|| DecodeError::new(bad_field, format!("unknown OXM 0x{hdr:08x}")))?;
    let info = field.info();
    let width = usize::from(info.bytes);
    if len != width * if has_mask { 2 } else { 1 } {
        return Err(DecodeError::new(bad_len, format!("{} length {len}", info.name)));
    }
    let value = read_be(body.bytes(width)?);
    let max = field.max_value();
    if value & !max != 0 {
        return Err(DecodeError::new(bad_value, format!("{} value out of range", info.name)));
    }
    let mask = if has_mask {
        if usage == OxmUse::SetField || !info.maskable {
            return Err(DecodeError::new(bad_mask, format!("{} may not be masked", info.name)));
        }
        let mask = read_be(body.bytes(width)?);
        if mask & !max != 0 {
            return Err(DecodeError::new(bad_mask, format!("{} mask out of range", info.name)));
        }
        if value & !mask != 0 {
            return Err(DecodeError::new(
                BadMatch::BadWildcards,
                format!("{} value has bits outside its mask", info.name),
            ));
        }
        (mask != max).then_some(mask)
    } else {
        None
    };
    Ok((field, FieldMatch { value, mask }))
}

/// Appends one unmasked OXM TLV (as in a set-field action).
pub fn put_oxm(out: &mut Vec<u8>, field: Field, value: u128) {
    out.put_u32(field.oxm_header(false));
    put_be(out, value, field.info().bytes);
}

/// Checks that a value fits its field (for encoders).
pub fn check_value(field: Field, value: u128) -> EncodeResult<()> {
    if value & !field.max_value() != 0 {
        return Err(EncodeError::Invalid(format!("{} value out of range", field.info().name)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OfpError;

    fn roundtrip(m: &Match) -> Match {
        let mut v = Vec::new();
        m.put_ofp13(&mut v).unwrap();
        assert_eq!(v.len() % 8, 0);
        let mut r = Reader::new(&v, BadMatch::BadLen);
        let d = Match::decode_ofp13(&mut r).unwrap();
        assert!(r.is_empty());
        d
    }

    fn tcp() -> Match {
        Match::new().with(Field::EthType, 0x0800).with(Field::IpProto, 6)
    }

    #[test]
    fn encode_known_bytes() {
        // in_port=1: the canonical example of OpenFlow 1.3 §7.2.3.
        let m = Match::new().with(Field::InPort, 1);
        let mut v = Vec::new();
        m.put_ofp13(&mut v).unwrap();
        assert_eq!(v, [0, 1, 0, 0x0c, 0x80, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn roundtrips_masks_and_all_fields() {
        let m = tcp()
            .with(Field::InPort, 3)
            .with_masked(Field::Ipv4Src, 0x0a00_0000, 0xff00_0000)
            .with(Field::TcpDst, 80)
            .with_masked(Field::Metadata, 0x12, 0xff)
            .with_masked(Field::EthDst, 0x0100_0000_0000, 0x0100_0000_0000)
            .with(Field::TunnelId, 42);
        assert_eq!(roundtrip(&m), m);
        let v6 = Match::new()
            .with(Field::EthType, 0x86dd)
            .with(Field::IpProto, 58)
            .with(Field::Icmpv6Type, 135)
            .with(Field::Ipv6NdTarget, 0xfe80 << 112)
            .with(Field::Ipv6NdSll, 0x0000_0000_0001)
            .with_masked(Field::Ipv6Flabel, 0x12345, 0xfffff);
        assert_eq!(roundtrip(&v6), v6);
    }

    #[test]
    fn full_mask_is_exact_zero_mask_is_wildcard() {
        let m = Match::new().with_masked(Field::Ipv4Src, 5, 0xffff_ffff);
        assert_eq!(m.get(Field::Ipv4Src).unwrap().mask, None);
        let m = m.with_masked(Field::Ipv4Src, 5, 0);
        assert!(m.is_empty());
    }

    #[test]
    fn prerequisites() {
        let bad = Match::new().with(Field::TcpDst, 80);
        assert_eq!(bad.check_prereqs().unwrap_err().error, BadMatch::BadPrereq.into());
        assert!(tcp().with(Field::TcpDst, 80).check_prereqs().is_ok());
        let udp_port_on_tcp = tcp().with(Field::UdpDst, 53);
        assert!(udp_port_on_tcp.check_prereqs().is_err());
        let pcp_no_vid = Match::new().with(Field::VlanPcp, 3);
        assert!(pcp_no_vid.check_prereqs().is_err());
        let pcp_vid = Match::new()
            .with_masked(Field::VlanVid, 0x1000, 0x1000)
            .with(Field::VlanPcp, 3);
        assert!(pcp_vid.check_prereqs().is_ok());
        let sll_on_na = Match::new()
            .with(Field::EthType, 0x86dd)
            .with(Field::IpProto, 58)
            .with(Field::Icmpv6Type, 136)
            .with(Field::Ipv6NdSll, 1);
        assert!(sll_on_na.check_prereqs().is_err());
        let phy = Match::new().with(Field::InPhyPort, 1);
        assert!(phy.check_prereqs().is_err());
    }

    fn decode_err(bytes: &[u8]) -> OfpError {
        let mut r = Reader::new(bytes, BadMatch::BadLen);
        Match::decode_ofp13(&mut r).unwrap_err().error
    }

    #[test]
    fn malformed_oxm_errors() {
        // Wrong match type.
        assert_eq!(decode_err(&[0, 0, 0, 4, 0, 0, 0, 0]), BadMatch::BadType.into());
        // Length beyond the buffer.
        assert_eq!(decode_err(&[0, 1, 0, 0x20, 0, 0, 0, 0]), BadMatch::BadLen.into());
        // in_port with length 2.
        assert_eq!(
            decode_err(&[0, 1, 0, 0x0a, 0x80, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0]),
            BadMatch::BadLen.into()
        );
        // Unknown field 100.
        assert_eq!(
            decode_err(&[0, 1, 0, 0x0a, 0x80, 0, 200, 2, 0, 1, 0, 0, 0, 0, 0, 0]),
            BadMatch::BadField.into()
        );
        // Masked in_port.
        let mut v = vec![0, 1, 0, 0x10, 0x80, 0, 1, 8, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(decode_err(&v), BadMatch::BadMask.into());
        // vlan_pcp 9.
        v = vec![0, 1, 0, 0x09, 0x80, 0, 0x0e, 1, 9, 0, 0, 0];
        v.resize(16, 0);
        v[3] = 0x09;
        assert_eq!(decode_err(&v), BadMatch::BadValue.into());
        // Duplicate in_port.
        let dup = [0, 1, 0, 0x14, 0x80, 0, 0, 4, 0, 0, 0, 1, 0x80, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 0];
        assert_eq!(decode_err(&dup), BadMatch::DupField.into());
        // Value bits outside the mask (metadata 0x3/0x1).
        let mut w = vec![0u8, 1, 0, 0x18, 0x80, 0, 0x05, 0x10];
        w.extend_from_slice(&3u64.to_be_bytes());
        w.extend_from_slice(&1u64.to_be_bytes());
        assert_eq!(decode_err(&w), BadMatch::BadWildcards.into());
        // Prerequisite missing (tcp_dst alone).
        assert_eq!(
            decode_err(&[0, 1, 0, 0x0a, 0x80, 0, 0x1c, 2, 0, 80, 0, 0, 0, 0, 0, 0]),
            BadMatch::BadPrereq.into()
        );
        // Header truncated.
        assert_eq!(decode_err(&[0, 1]), BadMatch::BadLen.into());
    }
}
