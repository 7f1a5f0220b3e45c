//! Column types: `<base-type>` (an atomic type plus constraints: enum, integer/real range, string length,
//! reference table and strength) and `<type>` (key, optional value, element count bounds).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::atom::{Atom, AtomicType};
use crate::error::{Error, Result};

/// Strength of a UUID reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefType {
    /// The referenced row must exist; references keep non-root rows alive.
    Strong,
    /// References to deleted rows silently disappear.
    Weak,
}

/// `<base-type>`.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseType {
    /// The atomic type.
    pub atomic: AtomicType,
    /// Allowed values, if restricted.
    pub enumeration: Option<BTreeSet<Atom>>,
    /// Inclusive integer bounds.
    pub min_integer: Option<i64>,
    /// Inclusive integer bounds.
    pub max_integer: Option<i64>,
    /// Inclusive real bounds.
    pub min_real: Option<f64>,
    /// Inclusive real bounds.
    pub max_real: Option<f64>,
    /// Bounds on string length in Unicode scalar values.
    pub min_length: Option<u64>,
    /// Bounds on string length in Unicode scalar values.
    pub max_length: Option<u64>,
    /// For UUIDs: the table referenced.
    pub ref_table: Option<String>,
    /// For UUIDs with `ref_table`: strong or weak.
    pub ref_type: RefType,
}

impl BaseType {
    /// An unconstrained base type.
    pub fn plain(atomic: AtomicType) -> Self {
        BaseType {
            atomic,
            enumeration: None,
            min_integer: None,
            max_integer: None,
            min_real: None,
            max_real: None,
            min_length: None,
            max_length: None,
            ref_table: None,
            ref_type: RefType::Strong,
        }
    }

    /// Parses `<base-type>`: a type name or an object with `"type"` and constraints.
    pub fn from_json(v: &Value) -> Result<Self> {
        if let Some(name) = v.as_str() {
            let atomic = AtomicType::from_name(name).ok_or_else(|| Error::syntax(format!("unknown type \"{name}\"")))?;
            return Ok(Self::plain(atomic));
        }
        let obj = v.as_object().ok_or_else(|| Error::syntax(format!("<base-type> expected, got {v}")))?;
        let name = obj.get("type").and_then(Value::as_str).ok_or_else(|| Error::syntax("<base-type> needs \"type\""))?;
        let atomic = AtomicType::from_name(name).ok_or_else(|| Error::syntax(format!("unknown type \"{name}\"")))?;
        let mut b = Self::plain(atomic);
        if let Some(e) = obj.get("enum") {
            let set_type = Type { key: Self::plain(atomic), value: None, min: 1, max: usize::MAX };
            let d = crate::datum::Datum::from_json(&set_type, e, None)?;
            b.enumeration = Some(d.keys().cloned().collect());
        }
        let int = |k: &str| -> Result<Option<i64>> {
            obj.get(k).map(|x| x.as_i64().ok_or_else(|| Error::syntax(format!("{k} must be an integer")))).transpose()
        };
        let real = |k: &str| -> Result<Option<f64>> {
            obj.get(k).map(|x| x.as_f64().ok_or_else(|| Error::syntax(format!("{k} must be a number")))).transpose()
        };
        let len = |k: &str| -> Result<Option<u64>> {
            obj.get(k).map(|x| x.as_u64().ok_or_else(|| Error::syntax(format!("{k} must be a non-negative integer")))).transpose()
        };
        match atomic {
            AtomicType::Integer => {
                b.min_integer = int("minInteger")?;
                b.max_integer = int("maxInteger")?;
            }
            AtomicType::Real => {
                b.min_real = real("minReal")?;
                b.max_real = real("maxReal")?;
            }
            AtomicType::String => {
                b.min_length = len("minLength")?;
                b.max_length = len("maxLength")?;
            }
            AtomicType::Uuid => {
                if let Some(t) = obj.get("refTable") {
                    b.ref_table = Some(t.as_str().ok_or_else(|| Error::syntax("refTable must be a string"))?.to_owned());
                }
                b.ref_type = match obj.get("refType").and_then(Value::as_str) {
                    None | Some("strong") => RefType::Strong,
                    Some("weak") => RefType::Weak,
                    Some(other) => return Err(Error::syntax(format!("refType \"{other}\""))),
                };
            }
            AtomicType::Boolean => {}
        }
        Ok(b)
    }

    /// Serializes back to `<base-type>` (a bare name when unconstrained).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), self.atomic.name().into());
        if let Some(e) = &self.enumeration {
            let items: Vec<Value> = e.iter().map(Atom::to_json).collect();
            m.insert("enum".into(), if items.len() == 1 { items[0].clone() } else { Value::from(vec![Value::from("set"), Value::from(items)]) });
        }
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.into(), v);
            }
        };
        put("minInteger", self.min_integer.map(Value::from));
        put("maxInteger", self.max_integer.map(Value::from));
        put("minReal", self.min_real.map(Value::from));
        put("maxReal", self.max_real.map(Value::from));
        put("minLength", self.min_length.map(Value::from));
        put("maxLength", self.max_length.map(Value::from));
        put("refTable", self.ref_table.clone().map(Value::from));
        if self.ref_table.is_some() && self.ref_type == RefType::Weak {
            m.insert("refType".into(), "weak".into());
        }
        if m.len() == 1 {
            Value::from(self.atomic.name())
        } else {
            Value::Object(m)
        }
    }

    /// Checks the constraints of this base type (`"constraint violation"`).
    pub fn check(&self, a: &Atom) -> Result<()> {
        if a.atomic_type() != self.atomic {
            return Err(Error::syntax(format!("expected {}, got {a}", self.atomic)));
        }
        if let Some(e) = &self.enumeration {
            if !e.contains(a) {
                return Err(Error::constraint(format!("{a} is not one of the allowed values")));
            }
        }
        match a {
            Atom::Integer(i) => {
                if self.min_integer.is_some_and(|m| *i < m) || self.max_integer.is_some_and(|m| *i > m) {
                    return Err(Error::constraint(format!(
                        "{i} is not in the valid range {}..{}",
                        self.min_integer.unwrap_or(i64::MIN),
                        self.max_integer.unwrap_or(i64::MAX)
                    )));
                }
            }
            Atom::Real(r) => {
                if self.min_real.is_some_and(|m| *r < m) || self.max_real.is_some_and(|m| *r > m) {
                    return Err(Error::constraint(format!("{r} is not in the valid range")));
                }
            }
            Atom::String(s) => {
                let n = s.chars().count() as u64;
                if self.min_length.is_some_and(|m| n < m) || self.max_length.is_some_and(|m| n > m) {
                    return Err(Error::constraint(format!("\"{s}\" length {n} is not in the valid range")));
                }
            }
            Atom::Boolean(_) | Atom::Uuid(_) => {}
        }
        Ok(())
    }
}

/// `<type>`: key type, optional value type (then the column is a map), and count bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Type {
    /// Type of keys (set elements).
    pub key: BaseType,
    /// Type of values, for maps.
    pub value: Option<BaseType>,
    /// Minimum number of elements (0 or 1).
    pub min: usize,
    /// Maximum number of elements (`usize::MAX` = unlimited).
    pub max: usize,
}

impl Type {
    /// A scalar of an unconstrained atomic type (used for `_uuid` and `_version`).
    pub fn scalar(atomic: AtomicType) -> Self {
        Type { key: BaseType::plain(atomic), value: None, min: 1, max: 1 }
    }

    /// Parses `<type>`.
    pub fn from_json(v: &Value) -> Result<Self> {
        if v.is_string() {
            return Ok(Type { key: BaseType::from_json(v)?, value: None, min: 1, max: 1 });
        }
        let obj = v.as_object().ok_or_else(|| Error::syntax(format!("<type> expected, got {v}")))?;
        let key = BaseType::from_json(obj.get("key").ok_or_else(|| Error::syntax("<type> needs \"key\""))?)?;
        let value = obj.get("value").map(BaseType::from_json).transpose()?;
        let min = match obj.get("min") {
            None => 1,
            Some(m) => match m.as_u64() {
                Some(0) => 0,
                Some(1) => 1,
                _ => return Err(Error::syntax("\"min\" must be 0 or 1")),
            },
        };
        let max = match obj.get("max") {
            None => 1,
            Some(Value::String(s)) if s == "unlimited" => usize::MAX,
            Some(m) => match m.as_u64().and_then(|n| usize::try_from(n).ok()) {
                Some(n) if n >= 1 => n,
                _ => return Err(Error::syntax("\"max\" must be a positive integer or \"unlimited\"")),
            },
        };
        if min > max {
            return Err(Error::syntax("\"min\" exceeds \"max\""));
        }
        Ok(Type { key, value, min, max })
    }

    /// Serializes back to `<type>`.
    pub fn to_json(&self) -> Value {
        let key = self.key.to_json();
        if self.value.is_none() && self.min == 1 && self.max == 1 && key.is_string() {
            return key;
        }
        let mut m = Map::new();
        m.insert("key".into(), key);
        if let Some(v) = &self.value {
            m.insert("value".into(), v.to_json());
        }
        if self.min != 1 {
            m.insert("min".into(), self.min.into());
        }
        if self.max == usize::MAX {
            m.insert("max".into(), "unlimited".into());
        } else if self.max != 1 {
            m.insert("max".into(), self.max.into());
        }
        Value::Object(m)
    }

    /// A map column.
    pub fn is_map(&self) -> bool {
        self.value.is_some()
    }

    /// Exactly one non-map value.
    pub fn is_scalar(&self) -> bool {
        self.value.is_none() && self.min == 1 && self.max == 1
    }

    /// More than one element allowed (monitor diffs are element-wise).
    pub fn is_composite(&self) -> bool {
        self.max > 1
    }

    /// The same key/value types with any number of elements (mutation and condition arguments).
    pub fn relaxed(&self) -> Type {
        Type { key: self.key.clone(), value: self.value.clone(), min: 0, max: usize::MAX }
    }

    /// The same types, unconstrained (arithmetic mutation arguments).
    pub fn unconstrained(&self) -> Type {
        Type { key: BaseType::plain(self.key.atomic), value: self.value.as_ref().map(|v| BaseType::plain(v.atomic)), min: 0, max: usize::MAX }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_types() {
        let t = Type::from_json(&json!({"key": {"type": "string", "enum": ["set", ["a", "b"]]}, "min": 0, "max": "unlimited"})).unwrap();
        assert_eq!(t.min, 0);
        assert_eq!(t.max, usize::MAX);
        assert!(t.key.check(&Atom::String("a".into())).is_ok());
        assert_eq!(t.key.check(&Atom::String("c".into())).unwrap_err().tag, "constraint violation");
        assert_eq!(Type::from_json(&t.to_json()).unwrap(), t);

        let t = Type::from_json(&json!({"key": {"type": "integer", "minInteger": 1, "maxInteger": 4095}})).unwrap();
        assert!(t.is_scalar());
        assert_eq!(t.key.check(&Atom::Integer(0)).unwrap_err().tag, "constraint violation");
        assert!(t.key.check(&Atom::Integer(4095)).is_ok());

        let t = Type::from_json(&json!({"key": {"type": "uuid", "refTable": "Port", "refType": "weak"}, "min": 0, "max": 1})).unwrap();
        assert_eq!(t.key.ref_type, RefType::Weak);
        assert_eq!(t.key.ref_table.as_deref(), Some("Port"));
        assert_eq!(Type::from_json(&t.to_json()).unwrap(), t);

        let t = Type::from_json(&json!({"key": {"type": "string", "maxLength": 2}})).unwrap();
        assert_eq!(t.key.check(&Atom::String("abc".into())).unwrap_err().tag, "constraint violation");

        assert!(Type::from_json(&json!({"key": "string", "min": 2})).is_err());
        assert!(Type::from_json(&json!({"key": "strin"})).is_err());
        assert!(Type::from_json(&json!({"key": "string", "max": 0})).is_err());
    }
}
