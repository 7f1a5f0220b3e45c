//! A small cursor over flow/action text (`ovs-dpctl` syntax) and the value parsers it needs:
//! numbers (decimal or `0x` hex), MAC, IPv4 and IPv6 addresses. Errors carry the byte offset of
//! the offending token.

use core::fmt;

/// A text parse error: what was expected, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset of the offending token in the input.
    pub offset: usize,
    /// What was wrong or expected.
    pub msg: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.msg)
    }
}

/// Cursor over the input.
#[derive(Clone, Debug)]
pub struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

fn is_value_char(c: u8) -> bool {
    !matches!(c, b',' | b'(' | b')' | b'/' | b'=' | b' ' | b'\t' | b'\n')
}

impl<'a> Lexer<'a> {
    /// A cursor at the start of `s`.
    #[must_use]
    pub fn new(s: &'a str) -> Self {
        Self { s, pos: 0 }
    }

    /// Current byte offset.
    #[must_use]
    pub fn pos(&self) -> usize {
        self.pos
    }

    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    /// An error at the current position.
    #[must_use]
    pub fn err(&self, msg: &'static str) -> ParseError {
        ParseError { offset: self.pos, msg }
    }

    /// Skips blanks.
    pub fn skip_ws(&mut self) {
        let n = self.rest().len().saturating_sub(self.rest().trim_start().len());
        self.pos = self.pos.saturating_add(n);
    }

    /// Whether only blanks remain.
    #[must_use]
    pub fn at_end(&self) -> bool {
        self.rest().trim().is_empty()
    }

    /// Next byte without consuming it.
    #[must_use]
    pub fn peek(&self) -> Option<u8> {
        self.rest().as_bytes().first().copied()
    }

    /// Consumes `t` if the input continues with it.
    pub fn eat(&mut self, t: &str) -> bool {
        if self.rest().starts_with(t) {
            self.pos = self.pos.saturating_add(t.len());
            true
        } else {
            false
        }
    }

    /// Consumes `t` or fails with `msg`.
    pub fn expect(&mut self, t: &str, msg: &'static str) -> Result<(), ParseError> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(self.err(msg))
        }
    }

    /// Consumes an identifier (`[A-Za-z0-9_]+`); returns it and its offset.
    pub fn ident(&mut self) -> Result<(&'a str, usize), ParseError> {
        let start = self.pos;
        let n = self.rest().bytes().take_while(|c| c.is_ascii_alphanumeric() || *c == b'_').count();
        if n == 0 {
            return Err(self.err("expected a name"));
        }
        self.pos = self.pos.saturating_add(n);
        Ok((self.s.get(start..self.pos).unwrap_or(""), start))
    }

    /// Consumes a value token (up to `,`, `(`, `)`, `/`, `=`); returns it and its offset.
    pub fn value(&mut self) -> Result<(&'a str, usize), ParseError> {
        let start = self.pos;
        let n = self.rest().bytes().take_while(|c| is_value_char(*c)).count();
        if n == 0 {
            return Err(self.err("expected a value"));
        }
        self.pos = self.pos.saturating_add(n);
        Ok((self.s.get(start..self.pos).unwrap_or(""), start))
    }
}

/// Parses a decimal or `0x` hexadecimal number no larger than `max`.
pub fn parse_num(tok: &str, at: usize, max: u64) -> Result<u64, ParseError> {
    let e = ParseError { offset: at, msg: "bad number" };
    let (digits, radix) = match tok.strip_prefix("0x").or_else(|| tok.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None => (tok, 10),
    };
    if digits.is_empty() {
        return Err(e);
    }
    let mut v: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix).ok_or(e)?;
        v = v.checked_mul(u64::from(radix)).and_then(|v| v.checked_add(u64::from(d))).ok_or(e)?;
    }
    if v > max {
        return Err(ParseError { offset: at, msg: "number out of range" });
    }
    Ok(v)
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(tok: &str, at: usize) -> Result<[u8; 6], ParseError> {
    let e = ParseError { offset: at, msg: "bad MAC address" };
    let mut out = [0u8; 6];
    let mut parts = tok.split(':');
    for o in &mut out {
        let p = parts.next().ok_or(e)?;
        if p.is_empty() || p.len() > 2 {
            return Err(e);
        }
        *o = u8::from_str_radix(p, 16).map_err(|_| e)?;
    }
    if parts.next().is_some() {
        return Err(e);
    }
    Ok(out)
}

/// Parses dotted-quad IPv4 into its network-order bytes.
pub fn parse_ipv4(tok: &str, at: usize) -> Result<[u8; 4], ParseError> {
    let e = ParseError { offset: at, msg: "bad IPv4 address" };
    let mut out = [0u8; 4];
    let mut parts = tok.split('.');
    for o in &mut out {
        let p = parts.next().ok_or(e)?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return Err(e);
        }
        *o = p.parse().map_err(|_| e)?;
    }
    if parts.next().is_some() {
        return Err(e);
    }
    Ok(out)
}

/// Parses an IPv6 address (with optional `::` compression; no embedded IPv4).
pub fn parse_ipv6(tok: &str, at: usize) -> Result<[u8; 16], ParseError> {
    let e = ParseError { offset: at, msg: "bad IPv6 address" };
    let mut words = [0u16; 8];
    let (head, tail) = match tok.find("::") {
        Some(i) => (tok.get(..i).unwrap_or(""), Some(tok.get(i.saturating_add(2)..).unwrap_or(""))),
        None => (tok, None),
    };
    let parse_groups = |s: &str, out: &mut [u16; 8]| -> Result<usize, ParseError> {
        if s.is_empty() {
            return Ok(0);
        }
        let mut n = 0usize;
        for g in s.split(':') {
            if g.is_empty() || g.len() > 4 {
                return Err(e);
            }
            let slot = out.get_mut(n).ok_or(e)?;
            *slot = u16::from_str_radix(g, 16).map_err(|_| e)?;
            n = n.saturating_add(1);
        }
        Ok(n)
    };
    let nh = parse_groups(head, &mut words)?;
    match tail {
        None if nh != 8 => return Err(e),
        None => {}
        Some(t) => {
            let mut tw = [0u16; 8];
            let nt = parse_groups(t, &mut tw)?;
            if nh.saturating_add(nt) > 7 {
                return Err(e);
            }
            let off = 8usize.saturating_sub(nt);
            for (i, w) in tw.iter().take(nt).enumerate() {
                if let Some(d) = words.get_mut(off.saturating_add(i)) {
                    *d = *w;
                }
            }
        }
    }
    let mut out = [0u8; 16];
    for (c, w) in out.chunks_exact_mut(2).zip(words) {
        c.copy_from_slice(&w.to_be_bytes());
    }
    Ok(out)
}

/// Writes an IPv6 address in RFC 5952 form (longest zero run compressed).
pub fn write_ipv6(w: &mut impl fmt::Write, a: &[u8; 16]) -> fmt::Result {
    let mut words = [0u16; 8];
    for (d, c) in words.iter_mut().zip(a.chunks_exact(2)) {
        *d = c.try_into().map(u16::from_be_bytes).unwrap_or(0);
    }
    let (mut best, mut best_len, mut cur, mut cur_len) = (8usize, 0usize, 0usize, 0usize);
    for (i, &x) in words.iter().enumerate() {
        if x == 0 {
            if cur_len == 0 {
                cur = i;
            }
            cur_len = cur_len.saturating_add(1);
            if cur_len > best_len {
                best = cur;
                best_len = cur_len;
            }
        } else {
            cur_len = 0;
        }
    }
    if best_len < 2 {
        best = 8;
    }
    let mut i = 0usize;
    while i < 8 {
        if i == best {
            w.write_str("::")?;
            i = i.saturating_add(best_len);
            continue;
        }
        if i != 0 && i != best.saturating_add(best_len) {
            w.write_str(":")?;
        }
        write!(w, "{:x}", words.get(i).copied().unwrap_or(0))?;
        i = i.saturating_add(1);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    #[test]
    fn numbers_and_addresses() {
        assert_eq!(parse_num("0x10", 0, 255), Ok(16));
        assert_eq!(parse_num("300", 5, 255), Err(ParseError { offset: 5, msg: "number out of range" }));
        assert_eq!(parse_num("99999999999999999999", 0, u64::MAX).unwrap_err().msg, "bad number");
        assert_eq!(parse_mac("00:01:02:0a:0B:ff", 0), Ok([0, 1, 2, 10, 11, 255]));
        assert!(parse_mac("00:01:02:03:04", 3).is_err());
        assert_eq!(parse_ipv4("10.0.0.1", 0), Ok([10, 0, 0, 1]));
        assert_eq!(parse_ipv4("10.0.0.256", 7).unwrap_err().offset, 7);
        let a = parse_ipv6("fe80::1", 0).unwrap();
        assert_eq!(a[0..2], [0xfe, 0x80]);
        assert_eq!(a[15], 1);
        assert_eq!(parse_ipv6("::", 0), Ok([0; 16]));
        assert!(parse_ipv6("1:2:3:4:5:6:7:8:9", 0).is_err());
        assert!(parse_ipv6("1::2::3", 0).is_err());
        for s in ["fe80::1", "::", "2001:db8::ff00:42:8329", "1:2:3:4:5:6:7:8", "::1", "1::"] {
            let mut out = String::new();
            write_ipv6(&mut out, &parse_ipv6(s, 0).unwrap()).unwrap();
            assert_eq!(out, s);
        }
    }

    #[test]
    fn cursor() {
        let mut l = Lexer::new("eth(src=00:01:02:03:04:05/ff:ff:ff:ff:ff:ff)");
        assert_eq!(l.ident().unwrap(), ("eth", 0));
        assert!(l.eat("("));
        assert_eq!(l.ident().unwrap().0, "src");
        l.expect("=", "=").unwrap();
        assert_eq!(l.value().unwrap(), ("00:01:02:03:04:05", 8));
        assert!(l.eat("/"));
        assert_eq!(l.value().unwrap().1, 26);
        assert!(l.eat(")"));
        assert!(l.at_end());
        assert_eq!(l.expect(",", "expected ,").unwrap_err(), ParseError { offset: 44, msg: "expected ," });
    }
}
