//! Datums: the value of one column in one row — a set of atoms or a map between atoms — with their JSON forms
//! (`atom`, `["set", [...]]`, `["map", [[k, v], ...]]`), constraint checks, set algebra and the element-wise
//! diffs used by `update2` notifications and diff-format journal records.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use uuid::Uuid;

use crate::atom::{Atom, SymbolTable};
use crate::error::{Error, Result};
use crate::types::{BaseType, Type};

/// The value of one column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Datum {
    /// A set (a scalar is a set of one).
    Set(BTreeSet<Atom>),
    /// A map.
    Map(BTreeMap<Atom, Atom>),
}

impl Datum {
    /// The empty value of a type.
    pub fn empty(ty: &Type) -> Datum {
        if ty.is_map() {
            Datum::Map(BTreeMap::new())
        } else {
            Datum::Set(BTreeSet::new())
        }
    }

    /// The default value of a column: empty, or the default atom when one element is required.
    pub fn default_for(ty: &Type) -> Datum {
        let mut d = Datum::empty(ty);
        if ty.min > 0 {
            let key = default_atom(&ty.key);
            match (&mut d, &ty.value) {
                (Datum::Map(m), Some(v)) => {
                    m.insert(key, default_atom(v));
                }
                (Datum::Set(s), _) => {
                    s.insert(key);
                }
                (Datum::Map(_), None) => {}
            }
        }
        d
    }

    /// A scalar.
    pub fn scalar(a: Atom) -> Datum {
        Datum::Set(BTreeSet::from([a]))
    }

    /// Parses the wire form for type `ty`, enforcing its element count (`"syntax error"`) but not its base-type
    /// constraints (see [`Datum::check_constraints`]).
    pub fn from_json(ty: &Type, v: &Value, symtab: Option<&mut SymbolTable>) -> Result<Datum> {
        let d = Self::from_json_relaxed(ty, v, symtab)?;
        d.check_count(ty).map_err(|e| Error::syntax(e.details))?;
        Ok(d)
    }

    /// Parses the wire form for type `ty` with any number of elements.
    pub fn from_json_relaxed(ty: &Type, v: &Value, mut symtab: Option<&mut SymbolTable>) -> Result<Datum> {
        if let Some(vt) = &ty.value {
            let pairs = match v.as_array().map(Vec::as_slice) {
                Some([tag, Value::Array(pairs)]) if tag == "map" => pairs,
                _ => return Err(Error::syntax(format!("expected [\"map\", [...]], got {v}"))),
            };
            let mut m = BTreeMap::new();
            for p in pairs {
                let (k, val) = match p.as_array().map(Vec::as_slice) {
                    Some([k, val]) => (k, val),
                    _ => return Err(Error::syntax(format!("map pair expected, got {p}"))),
                };
                let k = Atom::from_json(ty.key.atomic, k, symtab.as_deref_mut())?;
                let val = Atom::from_json(vt.atomic, val, symtab.as_deref_mut())?;
                if m.insert(k.clone(), val).is_some() {
                    return Err(Error::syntax(format!("map contains duplicate key {k}")));
                }
            }
            return Ok(Datum::Map(m));
        }
        let mut s = BTreeSet::new();
        match v.as_array().map(Vec::as_slice) {
            Some([tag, Value::Array(items)]) if tag == "set" => {
                for item in items {
                    let a = Atom::from_json(ty.key.atomic, item, symtab.as_deref_mut())?;
                    if !s.insert(a.clone()) {
                        return Err(Error::syntax(format!("set contains duplicate value {a}")));
                    }
                }
            }
            _ => {
                s.insert(Atom::from_json(ty.key.atomic, v, symtab)?);
            }
        }
        Ok(Datum::Set(s))
    }

    /// The wire form: a bare atom for a one-element set, else `["set", ...]` or `["map", ...]`.
    pub fn to_json(&self) -> Value {
        match self {
            Datum::Set(s) if s.len() == 1 => s.iter().next().map_or(Value::Null, Atom::to_json),
            Datum::Set(s) => json!(["set", s.iter().map(Atom::to_json).collect::<Vec<_>>()]),
            Datum::Map(m) => json!(["map", m.iter().map(|(k, v)| json!([k.to_json(), v.to_json()])).collect::<Vec<_>>()]),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Datum::Set(s) => s.len(),
            Datum::Map(m) => m.len(),
        }
    }

    /// No elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The keys (set elements or map keys), in order.
    pub fn keys(&self) -> Box<dyn Iterator<Item = &Atom> + '_> {
        match self {
            Datum::Set(s) => Box::new(s.iter()),
            Datum::Map(m) => Box::new(m.keys()),
        }
    }

    /// The single element of a scalar.
    pub fn as_scalar(&self) -> Option<&Atom> {
        match self {
            Datum::Set(s) if s.len() == 1 => s.iter().next(),
            _ => None,
        }
    }

    /// The map, if this is one.
    pub fn as_map(&self) -> Option<&BTreeMap<Atom, Atom>> {
        match self {
            Datum::Map(m) => Some(m),
            Datum::Set(_) => None,
        }
    }

    /// Checks the element count against `ty` (`"constraint violation"`).
    pub fn check_count(&self, ty: &Type) -> Result<()> {
        let n = self.len();
        if n < ty.min {
            return Err(Error::constraint(format!("{n} values when at least {} are required", ty.min)));
        }
        if n > ty.max {
            return Err(Error::constraint(format!("{n} values when at most {} are allowed", ty.max)));
        }
        Ok(())
    }

    /// Checks every key and value against the base-type constraints of `ty` (`"constraint violation"`).
    pub fn check_constraints(&self, ty: &Type) -> Result<()> {
        match self {
            Datum::Set(s) => s.iter().try_for_each(|a| ty.key.check(a)),
            Datum::Map(m) => {
                let vt = ty.value.as_ref().ok_or_else(|| Error::syntax("map value for a set column"))?;
                m.iter().try_for_each(|(k, v)| ty.key.check(k).and_then(|()| vt.check(v)))
            }
        }
    }

    /// Whether every element of `other` (key/value pair for maps) is in `self`.
    pub fn includes_all(&self, other: &Datum) -> bool {
        match (self, other) {
            (Datum::Set(a), Datum::Set(b)) => b.is_subset(a),
            (Datum::Map(a), Datum::Map(b)) => b.iter().all(|(k, v)| a.get(k) == Some(v)),
            _ => false,
        }
    }

    /// Whether no element of `other` (key/value pair for maps) is in `self`.
    pub fn excludes_all(&self, other: &Datum) -> bool {
        match (self, other) {
            (Datum::Set(a), Datum::Set(b)) => a.is_disjoint(b),
            (Datum::Map(a), Datum::Map(b)) => b.iter().all(|(k, v)| a.get(k) != Some(v)),
            _ => true,
        }
    }

    /// The `update2`/journal diff from `old` to `new`: the new value for non-composite types; otherwise the
    /// elements to toggle (sets), or removed pairs, added pairs and changed keys with their new value (maps).
    pub fn diff(old: &Datum, new: &Datum, ty: &Type) -> Datum {
        if !ty.is_composite() {
            return new.clone();
        }
        match (old, new) {
            (Datum::Set(a), Datum::Set(b)) => Datum::Set(a.symmetric_difference(b).cloned().collect()),
            (Datum::Map(a), Datum::Map(b)) => {
                let mut d = BTreeMap::new();
                for (k, v) in a {
                    if !b.contains_key(k) {
                        d.insert(k.clone(), v.clone());
                    }
                }
                for (k, v) in b {
                    if a.get(k) != Some(v) {
                        d.insert(k.clone(), v.clone());
                    }
                }
                Datum::Map(d)
            }
            _ => new.clone(),
        }
    }

    /// Applies a diff made by [`Datum::diff`].
    pub fn apply_diff(&mut self, diff: &Datum, ty: &Type) -> Result<()> {
        if !ty.is_composite() {
            *self = diff.clone();
            return Ok(());
        }
        match (self, diff) {
            (Datum::Set(a), Datum::Set(d)) => {
                for x in d {
                    if !a.remove(x) {
                        a.insert(x.clone());
                    }
                }
            }
            (Datum::Map(a), Datum::Map(d)) => {
                for (k, v) in d {
                    match a.get(k) {
                        Some(old) if old == v => {
                            a.remove(k);
                        }
                        _ => {
                            a.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            _ => return Err(Error::syntax("diff of the wrong kind")),
        }
        Ok(())
    }

    /// Every UUID held, with the base type (key or value) it belongs to.
    pub fn uuids<'t>(&self, ty: &'t Type) -> Vec<(Uuid, &'t BaseType)> {
        let mut out = Vec::new();
        match self {
            Datum::Set(s) => out.extend(s.iter().filter_map(|a| a.as_uuid().map(|u| (u, &ty.key)))),
            Datum::Map(m) => {
                for (k, v) in m {
                    if let Some(u) = k.as_uuid() {
                        out.push((u, &ty.key));
                    }
                    if let (Some(u), Some(vt)) = (v.as_uuid(), &ty.value) {
                        out.push((u, vt));
                    }
                }
            }
        }
        out
    }

    /// Removes elements (or pairs) whose key or value satisfies `drop`; returns whether any was removed.
    pub fn remove_atoms(&mut self, mut drop_key: impl FnMut(&Atom) -> bool, mut drop_value: impl FnMut(&Atom) -> bool) -> bool {
        let before = self.len();
        match self {
            Datum::Set(s) => s.retain(|a| !drop_key(a)),
            Datum::Map(m) => m.retain(|k, v| !drop_key(k) && !drop_value(v)),
        }
        self.len() != before
    }
}

fn default_atom(b: &BaseType) -> Atom {
    // The default of an enumerated type is its first value, as OVSDB does, so defaults satisfy constraints.
    if let Some(first) = b.enumeration.as_ref().and_then(|e| e.iter().next()) {
        return first.clone();
    }
    match b.atomic {
        crate::atom::AtomicType::Integer => Atom::Integer(b.min_integer.unwrap_or(0).max(0).min(b.max_integer.unwrap_or(i64::MAX))),
        t => Atom::default_for(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(v: Value) -> Type {
        Type::from_json(&v).unwrap()
    }

    #[test]
    fn json_forms() {
        let set = t(json!({"key": "integer", "min": 0, "max": "unlimited"}));
        let d = Datum::from_json(&set, &json!(["set", [3, 1, 2]]), None).unwrap();
        assert_eq!(d.to_json(), json!(["set", [1, 2, 3]]));
        assert_eq!(Datum::from_json(&set, &json!(7), None).unwrap().to_json(), json!(7));
        assert_eq!(Datum::from_json(&set, &json!(["set", []]), None).unwrap().len(), 0);
        assert!(Datum::from_json(&set, &json!(["set", [1, 1]]), None).is_err());

        let map = t(json!({"key": "string", "value": "string", "min": 0, "max": "unlimited"}));
        let d = Datum::from_json(&map, &json!(["map", [["b", "2"], ["a", "1"]]]), None).unwrap();
        assert_eq!(d.to_json(), json!(["map", [["a", "1"], ["b", "2"]]]));
        assert!(Datum::from_json(&map, &json!("a"), None).is_err());

        let scalar = t(json!("string"));
        let e = Datum::from_json(&scalar, &json!(["set", []]), None).unwrap_err();
        assert_eq!(e.tag, "syntax error");
        assert_eq!(Datum::default_for(&scalar).to_json(), json!(""));
        let opt = t(json!({"key": "string", "min": 0}));
        assert_eq!(Datum::default_for(&opt).to_json(), json!(["set", []]));
    }

    #[test]
    fn diff_round_trip() {
        let set = t(json!({"key": "integer", "min": 0, "max": "unlimited"}));
        let a = Datum::from_json(&set, &json!(["set", [1, 2, 3]]), None).unwrap();
        let b = Datum::from_json(&set, &json!(["set", [2, 3, 4]]), None).unwrap();
        let d = Datum::diff(&a, &b, &set);
        assert_eq!(d.to_json(), json!(["set", [1, 4]]));
        let mut x = a.clone();
        x.apply_diff(&d, &set).unwrap();
        assert_eq!(x, b);

        let map = t(json!({"key": "string", "value": "string", "min": 0, "max": "unlimited"}));
        let a = Datum::from_json(&map, &json!(["map", [["k1", "a"], ["k2", "b"]]]), None).unwrap();
        let b = Datum::from_json(&map, &json!(["map", [["k2", "c"], ["k3", "d"]]]), None).unwrap();
        let d = Datum::diff(&a, &b, &map);
        assert_eq!(d.to_json(), json!(["map", [["k1", "a"], ["k2", "c"], ["k3", "d"]]]));
        let mut x = a.clone();
        x.apply_diff(&d, &map).unwrap();
        assert_eq!(x, b);

        let scalar = t(json!("integer"));
        let d = Datum::diff(&Datum::scalar(Atom::Integer(1)), &Datum::scalar(Atom::Integer(2)), &scalar);
        assert_eq!(d.to_json(), json!(2));
    }

    #[test]
    fn includes_excludes() {
        let map = t(json!({"key": "string", "value": "string", "min": 0, "max": "unlimited"}));
        let a = Datum::from_json(&map, &json!(["map", [["k1", "a"], ["k2", "b"]]]), None).unwrap();
        let p = Datum::from_json(&map, &json!(["map", [["k1", "a"]]]), None).unwrap();
        let q = Datum::from_json(&map, &json!(["map", [["k1", "x"]]]), None).unwrap();
        assert!(a.includes_all(&p));
        assert!(!a.includes_all(&q));
        assert!(a.excludes_all(&q));
        assert!(!a.excludes_all(&p));
    }
}
