//! Helpers shared by the message attribute sets: fixed-layout stats structs (host-order `u64`s,
//! as in `struct ovs_flow_stats` and friends) and error-mapping writer shortcuts.

use crate::nla::Writer;

use super::error::{CodecError, ErrorKind};

/// Reads `N` host-order `u64`s from a payload whose length the policy has already checked.
#[must_use]
pub fn u64s<const N: usize>(p: &[u8]) -> [u64; N] {
    let mut out = [0u64; N];
    for (o, c) in out.iter_mut().zip(p.chunks_exact(8)) {
        *o = c.try_into().map(u64::from_ne_bytes).unwrap_or(0);
    }
    out
}

/// Writes `N` host-order `u64`s as one attribute.
pub fn put_u64s<const N: usize>(w: &mut Writer<'_>, name: &'static str, ty: u16, v: [u64; N]) -> Result<(), CodecError> {
    let mut buf = [0u8; 64];
    let mut n = 0usize;
    for x in v {
        let end = n.saturating_add(8);
        let dst = buf.get_mut(n..end).ok_or(CodecError::new(name, ErrorKind::NoSpace))?;
        dst.copy_from_slice(&x.to_ne_bytes());
        n = end;
    }
    w.put(ty, buf.get(..n).unwrap_or(&[])).map_err(|e| CodecError::from_nla(name, e))
}

/// Writes an attribute, naming it on failure.
pub fn put(w: &mut Writer<'_>, name: &'static str, ty: u16, p: &[u8]) -> Result<(), CodecError> {
    w.put(ty, p).map_err(|e| CodecError::from_nla(name, e))
}

/// Writes a host-order `u32` attribute, naming it on failure.
pub fn put_u32(w: &mut Writer<'_>, name: &'static str, ty: u16, v: u32) -> Result<(), CodecError> {
    w.put_u32(ty, v).map_err(|e| CodecError::from_nla(name, e))
}

/// Writes a flag attribute if `set`.
pub fn put_flag(w: &mut Writer<'_>, name: &'static str, ty: u16, set: bool) -> Result<(), CodecError> {
    if set {
        w.put_flag(ty).map_err(|e| CodecError::from_nla(name, e))?;
    }
    Ok(())
}

/// Writes a NUL-terminated string attribute.
pub fn put_str(w: &mut Writer<'_>, name: &'static str, ty: u16, s: &str) -> Result<(), CodecError> {
    let mut buf = [0u8; 256];
    let b = s.as_bytes();
    let dst = buf.get_mut(..b.len()).ok_or(CodecError::new(name, ErrorKind::TooLong { got: b.len(), max: 255 }))?;
    dst.copy_from_slice(b);
    put(w, name, ty, buf.get(..b.len().saturating_add(1)).unwrap_or(&[]))
}

/// `struct ovs_flow_stats` (also used by meters and meter bands).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Packets.
    pub n_packets: u64,
    /// Bytes.
    pub n_bytes: u64,
}

impl FlowStats {
    /// Reads the struct from a 16-byte payload.
    #[must_use]
    pub fn from_bytes(p: &[u8]) -> Self {
        let [n_packets, n_bytes] = u64s::<2>(p);
        Self { n_packets, n_bytes }
    }

    /// Writes the struct as attribute `ty`.
    pub fn put(&self, w: &mut Writer<'_>, name: &'static str, ty: u16) -> Result<(), CodecError> {
        put_u64s(w, name, ty, [self.n_packets, self.n_bytes])
    }
}
