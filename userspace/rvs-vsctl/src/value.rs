//! The ovs-vsctl text syntax for OVSDB values: tokens (`ovsdb_token_parse`), atoms and datums parsed from
//! strings (`key=value` pairs, `[...]`/`{...}` delimiters, integer ranges, `@name` row references) with
//! ovs-vsctl's constraint messages, and the two text forms of a value: the parseable "string" form
//! (`[a, b]`, `{k=v}`, strings quoted when needed) and the "bare" form for scripts.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use ovsdb::atom::{Atom, AtomicType};
use ovsdb::datum::Datum;
use ovsdb::types::{BaseType, RefType, Type};
use uuid::Uuid;

/// Maximum number of integers one `A-B` range may expand to (ovs-vsctl's limit).
const MAX_RANGE: i64 = 4096;

/// One `@name` of an invocation: the UUID it stands for and how it was used.
#[derive(Debug, Clone)]
pub struct Symbol {
    /// The row's UUID (a temporary one for rows this invocation creates).
    pub uuid: Uuid,
    /// Defined by `--id=@name` on `create` or `get`.
    pub created: bool,
    /// Referenced from a strong reference column (or the row is a root row).
    pub strong_ref: bool,
    /// Referenced from a weak reference column.
    pub weak_ref: bool,
}

/// The `@name` symbols of one invocation.
#[derive(Debug, Default)]
pub struct Symtab {
    /// Symbols by name (including the `@`).
    pub symbols: BTreeMap<String, Symbol>,
}

impl Symtab {
    /// The symbol `name`, created (unset) on first use.
    pub fn insert(&mut self, name: &str) -> &mut Symbol {
        self.symbols.entry(name.to_owned()).or_insert_with(|| Symbol {
            uuid: Uuid::new_v4(),
            created: false,
            strong_ref: false,
            weak_ref: false,
        })
    }
}

/// Characters that end an unquoted token.
pub fn is_delim(c: char) -> bool {
    ":=, []{}!<>".contains(c)
}

/// Parses one token from the start of `s` (quotes keep delimiters, `\` escapes the next character); returns
/// the token and the rest of `s`.
pub fn token_parse(s: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut in_quotes = false;
    let mut it = s.char_indices().peekable();
    let mut end = s.len();
    while let Some((i, c)) = it.next() {
        if c == '\\' {
            if in_quotes {
                out.push('\\');
            }
            match it.next() {
                Some((_, n)) => out.push(n),
                None => return Err(format!("{s}: backslash at end of argument")),
            }
        } else if !in_quotes && is_delim(c) {
            end = i;
            break;
        } else {
            out.push(c);
            if c == '"' {
                in_quotes = !in_quotes;
            }
        }
    }
    if in_quotes {
        return Err(format!("{s}: quoted string extends past end of argument"));
    }
    Ok((out, &s[end..]))
}

fn parse_i64(s: &str) -> Option<i64> {
    if s.is_empty() || s.starts_with('+') && s.len() == 1 {
        return None;
    }
    s.parse::<i64>().ok()
}

/// `A-B` with optional signs on both ends.
fn parse_range(s: &str) -> Option<(i64, i64)> {
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate().skip(1) {
        if b == b'-' && bytes.get(i.wrapping_sub(1)).is_some_and(u8::is_ascii_digit) {
            let (a, rest) = s.split_at(i);
            let b = rest.get(1..)?;
            return Some((parse_i64(a)?, parse_i64(b)?));
        }
    }
    None
}

/// Unescapes the inside of a JSON string.
fn json_unescape(s: &str) -> Result<String, String> {
    match serde_json::from_str::<String>(&format!("\"{s}\"")) {
        Ok(v) => Ok(v),
        Err(e) => Err(e.to_string()),
    }
}

/// Parses `s` as an atom of `base` (no constraint check), resolving `@name` through `symtab`.
fn atom_from_string_raw(base: &BaseType, s: &str, symtab: Option<&mut Symtab>) -> Result<Atom, String> {
    match base.atomic {
        AtomicType::Integer => parse_i64(s).map(Atom::Integer).ok_or_else(|| format!("\"{s}\" is not a valid integer or range")),
        AtomicType::Real => match s.trim_start().parse::<f64>() {
            Ok(r) if r.is_finite() && !s.is_empty() => Ok(Atom::Real(if r == 0.0 { 0.0 } else { r })),
            _ => Err(format!("\"{s}\" is not a valid real number")),
        },
        AtomicType::Boolean => match s {
            "true" | "yes" | "on" | "1" => Ok(Atom::Boolean(true)),
            "false" | "no" | "off" | "0" => Ok(Atom::Boolean(false)),
            _ => Err(format!("\"{s}\" is not a valid boolean (use \"true\" or \"false\")")),
        },
        AtomicType::String => {
            if s.is_empty() {
                Err("An empty string is not valid as input; use \"\" to represent the empty string".into())
            } else if let Some(rest) = s.strip_prefix('"') {
                match rest.strip_suffix('"') {
                    Some(inner) if !rest.is_empty() => json_unescape(inner).map(Atom::String).map_err(|e| format!("{s}: {e}")),
                    _ => Err(format!("{s}: missing quote at end of quoted string")),
                }
            } else {
                Ok(Atom::String(s.to_owned()))
            }
        }
        AtomicType::Uuid => {
            if s.starts_with('@') {
                if let Some(st) = symtab {
                    let sym = st.insert(s);
                    if base.ref_table.is_some() {
                        match base.ref_type {
                            RefType::Strong => sym.strong_ref = true,
                            RefType::Weak => sym.weak_ref = true,
                        }
                    }
                    return Ok(Atom::Uuid(sym.uuid));
                }
            }
            parse_uuid(s).map(Atom::Uuid).ok_or_else(|| format!("\"{s}\" is not a valid UUID"))
        }
    }
}

/// A UUID in RFC 4122 text form (exactly 36 characters).
pub fn parse_uuid(s: &str) -> Option<Uuid> {
    if s.len() != 36 {
        return None;
    }
    Uuid::parse_str(s).ok()
}

/// ovs-vsctl's `%.15g`.
pub fn fmt_real(x: f64) -> String {
    fmt_g(x, 15)
}

fn fmt_g(x: f64, prec: usize) -> String {
    if x == 0.0 {
        return if x.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let sci = format!("{:.*e}", prec.saturating_sub(1), x);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let strip = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s.to_owned()
        }
    };
    let p = i64::try_from(prec).unwrap_or(15);
    if exp < -4 || exp >= p {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", strip(mant), exp.unsigned_abs())
    } else {
        let decimals = usize::try_from(p.saturating_sub(1).saturating_sub(exp)).unwrap_or(0);
        strip(&format!("{x:.decimals$}"))
    }
}

/// The enumeration of `base` in string form, as constraint messages show it.
fn enum_string(base: &BaseType, e: &BTreeSet<Atom>) -> String {
    let ty = Type { key: BaseType::plain(base.atomic), value: None, min: 0, max: usize::MAX };
    datum_to_string(&Datum::Set(e.clone()), &ty)
}

/// Checks `a` against the constraints of `base`, with ovs-vsctl's messages.
pub fn check_constraints(a: &Atom, base: &BaseType) -> Result<(), String> {
    if let Some(e) = &base.enumeration {
        if !e.contains(a) {
            return Err(format!(
                "constraint violation: {} is not one of the allowed values ({})",
                atom_to_string(a),
                enum_string(base, e)
            ));
        }
    }
    match a {
        Atom::Integer(i) => {
            let (min, max) = (base.min_integer.unwrap_or(i64::MIN), base.max_integer.unwrap_or(i64::MAX));
            if *i >= min && *i <= max {
                Ok(())
            } else if min != i64::MIN && max != i64::MAX {
                Err(format!("constraint violation: {i} is not in the valid range {min} to {max} (inclusive)"))
            } else if min != i64::MIN {
                Err(format!("constraint violation: {i} is less than minimum allowed value {min}"))
            } else {
                Err(format!("constraint violation: {i} is greater than maximum allowed value {max}"))
            }
        }
        Atom::Real(r) => {
            let (min, max) = (base.min_real.unwrap_or(-f64::MAX), base.max_real.unwrap_or(f64::MAX));
            if *r >= min && *r <= max {
                Ok(())
            } else if min != -f64::MAX && max != f64::MAX {
                Err(format!(
                    "constraint violation: {} is not in the valid range {} to {} (inclusive)",
                    fmt_real(*r),
                    fmt_real(min),
                    fmt_real(max)
                ))
            } else if min != -f64::MAX {
                Err(format!("constraint violation: {} is less than minimum allowed value {}", fmt_real(*r), fmt_real(min)))
            } else {
                Err(format!("constraint violation: {} is greater than maximum allowed value {}", fmt_real(*r), fmt_real(max)))
            }
        }
        Atom::String(s) => {
            let n = u64::try_from(s.chars().count()).unwrap_or(u64::MAX);
            if let Some(min) = base.min_length.filter(|m| n < *m) {
                Err(format!("constraint violation: \"{s}\" length {n} is less than minimum allowed length {min}"))
            } else if let Some(max) = base.max_length.filter(|m| n > *m) {
                Err(format!("constraint violation: \"{s}\" length {n} is greater than maximum allowed length {max}"))
            } else {
                Ok(())
            }
        }
        Atom::Boolean(_) | Atom::Uuid(_) => Ok(()),
    }
}

/// Parses `s` as one atom of `base` and checks its constraints (`ovsdb_atom_from_string`).
pub fn atom_from_string(base: &BaseType, s: &str, symtab: Option<&mut Symtab>) -> Result<Atom, String> {
    let a = atom_from_string_raw(base, s, symtab)?;
    check_constraints(&a, base)?;
    Ok(a)
}

/// Parses a key atom that may be an integer range `A-B`; returns every atom.
fn key_atoms_from_string(base: &BaseType, s: &str, symtab: Option<&mut Symtab>) -> Result<Vec<Atom>, String> {
    if base.atomic == AtomicType::Integer && parse_i64(s).is_none() {
        if let Some((a, b)) = parse_range(s) {
            if b < a {
                return Err(format!("\"{s}\" is not a valid range. Range end cannot be before start."));
            }
            check_constraints(&Atom::Integer(a), base)?;
            check_constraints(&Atom::Integer(b), base)?;
            if b.wrapping_sub(a) as u64 >= MAX_RANGE as u64 {
                return Err(format!(
                    "constraint violation: Range \"{a}-{b}\" is too big. Maximum allowed size is {MAX_RANGE}."
                ));
            }
            let all: Vec<Atom> = (a..=b).map(Atom::Integer).collect();
            for x in &all {
                check_constraints(x, base)?;
            }
            return Ok(all);
        }
    }
    atom_from_string(base, s, symtab).map(|a| vec![a])
}

/// An English description of a type (`ovsdb_type_to_english`), e.g. "set of up to 1 integers".
fn type_to_english(ty: &Type) -> String {
    let key = ty.key.atomic.name();
    if ty.value.is_none() && ty.min == 1 && ty.max == 1 {
        return key.to_owned();
    }
    let mut s = String::from(if ty.value.is_none() { "set" } else { "map" });
    if ty.max == usize::MAX {
        if ty.min > 0 {
            s.push_str(&format!(" of {} or more", ty.min));
        } else {
            s.push_str(" of");
        }
    } else if ty.min > 0 {
        s.push_str(&format!(" of {} to {}", ty.min, ty.max));
    } else {
        s.push_str(&format!(" of up to {}", ty.max));
    }
    match &ty.value {
        None => s.push_str(&format!(" {key}s")),
        Some(v) => s.push_str(&format!(" ({key}, {}) pairs", v.atomic.name())),
    }
    s
}

/// Parses a whole value (`ovsdb_datum_from_string`): atoms or `k=v` pairs separated by spaces or commas,
/// optionally in `[]` (sets) or `{}` (maps), checked against the element count of `ty`.
pub fn datum_from_string(ty: &Type, s: &str, mut symtab: Option<&mut Symtab>) -> Result<Datum, String> {
    let is_map = ty.is_map();
    let (open, close) = if is_map { ('{', '}') } else { ('[', ']') };
    let mut p = s.trim_start();
    let end_delim = if let Some(rest) = p.strip_prefix(open) {
        p = rest.trim_start();
        Some(close)
    } else if p.is_empty() {
        return Err(if is_map { "use \"{}\" to specify the empty map".into() } else { "use \"[]\" to specify the empty set".into() });
    } else {
        None
    };
    let mut keys: Vec<Atom> = Vec::new();
    let mut pairs: Vec<(Atom, Atom)> = Vec::new();
    let mut n = 0usize;
    loop {
        let c = p.chars().next();
        if c.is_none() || c == end_delim {
            break;
        }
        let c = c.unwrap_or(' ');
        if is_delim(c) {
            return Err(format!("{s}: unexpected \"{c}\" parsing {}", type_to_english(ty)));
        }
        let start = p;
        let (tok, rest) = token_parse(p)?;
        p = rest;
        let ks = key_atoms_from_string(&ty.key, &tok, symtab.as_deref_mut())?;
        if let Some(vt) = &ty.value {
            p = p.trim_start();
            if let Some(rest) = p.strip_prefix('=') {
                p = rest.trim_start();
                let (vtok, rest) = token_parse(p)?;
                p = rest;
                let v = atom_from_string(vt, &vtok, symtab.as_deref_mut())?;
                for k in ks {
                    pairs.push((k, v.clone()));
                    n = n.saturating_add(1);
                }
            } else {
                let c = p.chars().next().map_or(String::new(), String::from);
                return Err(format!("{start}: syntax error at \"{c}\" expecting \"=\""));
            }
        } else {
            n = n.saturating_add(ks.len());
            keys.extend(ks);
        }
        p = p.trim_start();
        if let Some(rest) = p.strip_prefix(',') {
            p = rest.trim_start();
        }
    }
    match end_delim {
        Some(d) => {
            let Some(rest) = p.strip_prefix(d) else {
                return Err(format!("{s}: missing \"{d}\" at end of data"));
            };
            if !rest.trim_start().is_empty() {
                return Err(format!("{s}: trailing garbage after \"{d}\""));
            }
        }
        None => {
            if !p.is_empty() {
                let c = p.chars().next().unwrap_or(' ');
                return Err(format!("{s}: missing \"{c}\" at end of data"));
            }
        }
    }
    let what = if is_map { "pair(s)" } else { "value(s)" };
    if n < ty.min {
        return Err(format!("{s}: {n} {what} specified but the minimum number is {}", ty.min));
    }
    if n > ty.max {
        return Err(format!("{s}: {n} {what} specified but the maximum number is {}", ty.max));
    }
    if is_map {
        let mut m = BTreeMap::new();
        for (k, v) in pairs {
            if m.insert(k, v).is_some() {
                return Err(format!("{s}: map contains duplicate key"));
            }
        }
        Ok(Datum::Map(m))
    } else {
        let mut set = BTreeSet::new();
        for k in keys {
            if !set.insert(k) {
                return Err(format!("{s}: set contains duplicate value"));
            }
        }
        Ok(Datum::Set(set))
    }
}

/// Whether a string atom must be quoted to parse back as the same string.
fn string_needs_quotes(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return true,
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.') {
        return true;
    }
    s == "true" || s == "false" || parse_uuid(s).is_some()
}

/// A JSON string literal as OVS writes it.
pub fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The string form of an atom.
pub fn atom_to_string(a: &Atom) -> String {
    match a {
        Atom::Integer(i) => i.to_string(),
        Atom::Real(r) => fmt_real(*r),
        Atom::Boolean(b) => b.to_string(),
        Atom::String(s) if string_needs_quotes(s) => json_string(s),
        Atom::String(s) => s.clone(),
        Atom::Uuid(u) => u.to_string(),
    }
}

/// The bare form of an atom (strings unquoted).
pub fn atom_to_bare(a: &Atom) -> String {
    match a {
        Atom::String(s) => s.clone(),
        other => atom_to_string(other),
    }
}

/// The string form of a datum of type `ty`: `[...]`/`{...}` unless it is a single value of a scalar column.
pub fn datum_to_string(d: &Datum, ty: &Type) -> String {
    let brackets = ty.max > 1 || d.is_empty();
    let mut out = String::new();
    if brackets {
        out.push(if ty.is_map() { '{' } else { '[' });
    }
    match d {
        Datum::Set(s) => {
            for (i, a) in s.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&atom_to_string(a));
            }
        }
        Datum::Map(m) => {
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&atom_to_string(k));
                out.push('=');
                out.push_str(&atom_to_string(v));
            }
        }
    }
    if brackets {
        out.push(if ty.is_map() { '}' } else { ']' });
    }
    out
}

/// The bare form of a datum: elements separated by spaces, `k=v` for maps, nothing for empty.
pub fn datum_to_bare(d: &Datum) -> String {
    match d {
        Datum::Set(s) => s.iter().map(atom_to_bare).collect::<Vec<_>>().join(" "),
        Datum::Map(m) => m.iter().map(|(k, v)| format!("{}={}", atom_to_bare(k), atom_to_bare(v))).collect::<Vec<_>>().join(" "),
    }
}

/// Sorted-key, compact JSON text (OVS's `JSSF_SORT`).
pub fn json_sorted(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let inner: Vec<String> = keys.iter().map(|k| format!("{}:{}", json_string(k), json_sorted(&m[*k]))).collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(json_sorted).collect::<Vec<_>>().join(",")),
        Value::String(s) => json_string(s),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ty(key: AtomicType, value: Option<AtomicType>, min: usize, max: usize) -> Type {
        Type { key: BaseType::plain(key), value: value.map(BaseType::plain), min, max }
    }

    #[test]
    fn tokens_quotes_and_escapes() {
        assert_eq!(token_parse("abc:def").unwrap(), ("abc".into(), ":def"));
        assert_eq!(token_parse("\"a:b\"=c").unwrap(), ("\"a:b\"".into(), "=c"));
        assert_eq!(token_parse("a\\:b").unwrap(), ("a:b".into(), ""));
        assert!(token_parse("\"abc").is_err());
        assert!(token_parse("abc\\").is_err());
    }

    #[test]
    fn datums_parse_like_ovs_vsctl() {
        let map = ty(AtomicType::String, Some(AtomicType::String), 0, usize::MAX);
        let d = datum_from_string(&map, "{a=1, b=\"x y\"}", None).unwrap();
        assert_eq!(datum_to_string(&d, &map), "{a=\"1\", b=\"x y\"}");
        assert_eq!(datum_to_bare(&d), "a=1 b=x y");
        assert!(datum_from_string(&map, "", None).unwrap_err().contains("{}"));
        assert!(datum_from_string(&map, "a", None).unwrap_err().contains("expecting \"=\""));
        let ints = ty(AtomicType::Integer, None, 0, 4096);
        let d = datum_from_string(&ints, "1-3,7", None).unwrap();
        assert_eq!(datum_to_string(&d, &ints), "[1, 2, 3, 7]");
        assert!(datum_from_string(&ints, "[1 1]", None).unwrap_err().contains("duplicate"));
        assert!(datum_from_string(&ints, "x", None).unwrap_err().contains("not a valid integer"));
        let opt = ty(AtomicType::Integer, None, 0, 1);
        assert!(datum_from_string(&opt, "1 2", None).unwrap_err().contains("maximum number is 1"));
        assert_eq!(datum_to_string(&datum_from_string(&opt, "5", None).unwrap(), &opt), "5");
        assert_eq!(datum_to_string(&datum_from_string(&opt, "[]", None).unwrap(), &opt), "[]");
    }

    #[test]
    fn quoting_and_reals() {
        for (s, q) in [("br0", false), ("0br", true), ("a b", true), ("true", true), ("", true), ("a-b.c_d", false)] {
            assert_eq!(string_needs_quotes(s), q, "{s}");
        }
        assert_eq!(fmt_real(1.5), "1.5");
        assert_eq!(fmt_real(100.0), "100");
        assert_eq!(fmt_real(1e20), "1e+20");
        assert_eq!(fmt_real(0.0001), "0.0001");
        assert_eq!(fmt_real(0.1), "0.1");
    }

    #[test]
    fn constraints_use_ovs_messages() {
        let mut b = BaseType::plain(AtomicType::Integer);
        b.min_integer = Some(0);
        b.max_integer = Some(4095);
        assert_eq!(
            atom_from_string(&b, "5000", None).unwrap_err(),
            "constraint violation: 5000 is not in the valid range 0 to 4095 (inclusive)"
        );
        let mut s = BaseType::plain(AtomicType::String);
        s.enumeration = Some(BTreeSet::from([Atom::String("secure".into()), Atom::String("standalone".into())]));
        assert_eq!(
            atom_from_string(&s, "bogus", None).unwrap_err(),
            "constraint violation: bogus is not one of the allowed values ([secure, standalone])"
        );
    }

    #[test]
    fn symbols_resolve_and_record_references() {
        let mut b = BaseType::plain(AtomicType::Uuid);
        b.ref_table = Some("Port".into());
        let mut st = Symtab::default();
        let a = atom_from_string(&b, "@p", Some(&mut st)).unwrap();
        assert_eq!(a, Atom::Uuid(st.symbols["@p"].uuid));
        assert!(st.symbols["@p"].strong_ref && !st.symbols["@p"].created);
        assert!(atom_from_string(&b, "nope", Some(&mut st)).is_err());
    }
}
