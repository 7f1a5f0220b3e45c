//! Atoms: the scalar values of OVSDB (integer, real, boolean, string, uuid), their JSON forms and ordering,
//! and the symbol table that resolves `["named-uuid", NAME]` within one transaction.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::{Error, Result};

/// The five atomic types of RFC 7047.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AtomicType {
    /// 64-bit signed integer.
    Integer,
    /// IEEE double.
    Real,
    /// `true`/`false`.
    Boolean,
    /// UTF-8 string.
    String,
    /// 128-bit UUID (row reference).
    Uuid,
}

impl AtomicType {
    /// Parses a schema type name (`"integer"`, ...).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "integer" => AtomicType::Integer,
            "real" => AtomicType::Real,
            "boolean" => AtomicType::Boolean,
            "string" => AtomicType::String,
            "uuid" => AtomicType::Uuid,
            _ => return None,
        })
    }

    /// The schema name of the type.
    pub fn name(self) -> &'static str {
        match self {
            AtomicType::Integer => "integer",
            AtomicType::Real => "real",
            AtomicType::Boolean => "boolean",
            AtomicType::String => "string",
            AtomicType::Uuid => "uuid",
        }
    }
}

impl fmt::Display for AtomicType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One scalar value.
#[derive(Debug, Clone)]
pub enum Atom {
    /// An integer.
    Integer(i64),
    /// A real (never NaN: JSON cannot carry one).
    Real(f64),
    /// A boolean.
    Boolean(bool),
    /// A string.
    String(String),
    /// A UUID.
    Uuid(Uuid),
}

impl Atom {
    /// The type of this atom.
    pub fn atomic_type(&self) -> AtomicType {
        match self {
            Atom::Integer(_) => AtomicType::Integer,
            Atom::Real(_) => AtomicType::Real,
            Atom::Boolean(_) => AtomicType::Boolean,
            Atom::String(_) => AtomicType::String,
            Atom::Uuid(_) => AtomicType::Uuid,
        }
    }

    /// The default value of a type: 0, 0.0, false, "", or the all-zero UUID.
    pub fn default_for(ty: AtomicType) -> Atom {
        match ty {
            AtomicType::Integer => Atom::Integer(0),
            AtomicType::Real => Atom::Real(0.0),
            AtomicType::Boolean => Atom::Boolean(false),
            AtomicType::String => Atom::String(String::new()),
            AtomicType::Uuid => Atom::Uuid(Uuid::nil()),
        }
    }

    /// The UUID, if this is a UUID atom.
    pub fn as_uuid(&self) -> Option<Uuid> {
        match self {
            Atom::Uuid(u) => Some(*u),
            _ => None,
        }
    }

    /// The string, if this is a string atom.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Atom::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is an integer atom.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Atom::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The wire form: a JSON number, boolean or string, or `["uuid", "..."]`.
    pub fn to_json(&self) -> Value {
        match self {
            Atom::Integer(i) => json!(i),
            Atom::Real(r) => serde_json::Number::from_f64(*r).map_or(Value::Null, Value::Number),
            Atom::Boolean(b) => json!(b),
            Atom::String(s) => json!(s),
            Atom::Uuid(u) => json!(["uuid", u.to_string()]),
        }
    }

    /// Parses the wire form of an atom of type `ty`. `["named-uuid", NAME]` is accepted only with a symbol
    /// table (inside a transaction); it resolves to the UUID the table assigns to NAME.
    pub fn from_json(ty: AtomicType, v: &Value, symtab: Option<&mut SymbolTable>) -> Result<Atom> {
        let bad = || Error::syntax(format!("expected {ty}, got {v}"));
        match ty {
            AtomicType::Integer => v.as_i64().map(Atom::Integer).ok_or_else(bad),
            AtomicType::Real => {
                let r = v.as_f64().ok_or_else(bad)?;
                if r.is_finite() {
                    Ok(Atom::Real(r))
                } else {
                    Err(bad())
                }
            }
            AtomicType::Boolean => v.as_bool().map(Atom::Boolean).ok_or_else(bad),
            AtomicType::String => v.as_str().map(|s| Atom::String(s.to_owned())).ok_or_else(bad),
            AtomicType::Uuid => {
                let arr = v.as_array().ok_or_else(bad)?;
                match (arr.first().and_then(Value::as_str), arr.get(1).and_then(Value::as_str), arr.len()) {
                    (Some("uuid"), Some(s), 2) => Uuid::parse_str(s)
                        .map(Atom::Uuid)
                        .map_err(|_| Error::syntax(format!("\"{s}\" is not a valid UUID"))),
                    (Some("named-uuid"), Some(name), 2) => match symtab {
                        Some(st) => Ok(Atom::Uuid(st.reference(name))),
                        None => Err(Error::syntax(format!(
                            "named-uuid \"{name}\" is only allowed within a transaction"
                        ))),
                    },
                    _ => Err(bad()),
                }
            }
        }
    }
}

impl PartialEq for Atom {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Atom {}

impl PartialOrd for Atom {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Atom {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Atom::Integer(a), Atom::Integer(b)) => a.cmp(b),
            (Atom::Real(a), Atom::Real(b)) => a.total_cmp(b),
            (Atom::Boolean(a), Atom::Boolean(b)) => a.cmp(b),
            (Atom::String(a), Atom::String(b)) => a.cmp(b),
            (Atom::Uuid(a), Atom::Uuid(b)) => a.cmp(b),
            _ => rank(self).cmp(&rank(other)),
        }
    }
}

fn rank(a: &Atom) -> u8 {
    match a {
        Atom::Integer(_) => 0,
        Atom::Real(_) => 1,
        Atom::Boolean(_) => 2,
        Atom::String(_) => 3,
        Atom::Uuid(_) => 4,
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Atom::Integer(i) => write!(f, "{i}"),
            Atom::Real(r) => write!(f, "{r}"),
            Atom::Boolean(b) => write!(f, "{b}"),
            Atom::String(s) => write!(f, "{s:?}"),
            Atom::Uuid(u) => write!(f, "{u}"),
        }
    }
}

/// A `uuid-name` of one transaction.
#[derive(Debug, Clone, Copy)]
pub struct Symbol {
    /// The UUID the name stands for.
    pub uuid: Uuid,
    /// Whether an `insert` created a row under this name.
    pub created: bool,
}

/// Maps `uuid-name`s to UUIDs. A name used before its `insert` gets its UUID on first use (forward references
/// are allowed, as ovs-vsctl emits operations in no particular order); an `insert` then creates the row with it.
#[derive(Debug, Default)]
pub struct SymbolTable {
    symbols: HashMap<String, Symbol>,
}

impl SymbolTable {
    /// The UUID of `name`, assigning a fresh one on first use.
    pub fn reference(&mut self, name: &str) -> Uuid {
        self.symbols
            .entry(name.to_owned())
            .or_insert_with(|| Symbol { uuid: Uuid::new_v4(), created: false })
            .uuid
    }

    /// Marks `name` as created by an insert and returns its UUID; `"duplicate uuid-name"` on reuse.
    pub fn create(&mut self, name: &str) -> Result<Uuid> {
        self.create_with(name, None)
    }

    /// Like [`SymbolTable::create`], for an insert that also names its row's UUID explicitly.
    pub fn create_with(&mut self, name: &str, explicit: Option<Uuid>) -> Result<Uuid> {
        let sym = self
            .symbols
            .entry(name.to_owned())
            .or_insert_with(|| Symbol { uuid: explicit.unwrap_or_else(Uuid::new_v4), created: false });
        if sym.created {
            return Err(Error::new(
                crate::error::tag::DUPLICATE_UUID_NAME,
                format!("This \"uuid-name\" appeared on an earlier \"insert\" operation: {name}"),
            ));
        }
        if explicit.is_some_and(|u| u != sym.uuid) {
            return Err(Error::syntax(format!("\"{name}\" was referenced before its insert gave it an explicit uuid")));
        }
        sym.created = true;
        Ok(sym.uuid)
    }

    /// The symbol called `name`, if it was used.
    pub fn get(&self, name: &str) -> Option<Symbol> {
        self.symbols.get(name).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_types() {
        let u = Uuid::new_v4();
        for (ty, v) in [
            (AtomicType::Integer, json!(-5)),
            (AtomicType::Real, json!(2.5)),
            (AtomicType::Boolean, json!(true)),
            (AtomicType::String, json!("x")),
            (AtomicType::Uuid, json!(["uuid", u.to_string()])),
        ] {
            let a = Atom::from_json(ty, &v, None).unwrap();
            assert_eq!(a.atomic_type(), ty);
            assert_eq!(a.to_json(), v);
        }
        assert!(Atom::from_json(AtomicType::Integer, &json!(1.5), None).is_err());
        assert!(Atom::from_json(AtomicType::Integer, &json!("1"), None).is_err());
        assert!(Atom::from_json(AtomicType::Uuid, &json!(["uuid", "nope"]), None).is_err());
        // Integers are valid reals.
        assert_eq!(Atom::from_json(AtomicType::Real, &json!(3), None).unwrap(), Atom::Real(3.0));
    }

    #[test]
    fn named_uuid_needs_symtab_and_duplicates_are_refused() {
        let v = json!(["named-uuid", "row1"]);
        assert!(Atom::from_json(AtomicType::Uuid, &v, None).is_err());
        let mut st = SymbolTable::default();
        let a = Atom::from_json(AtomicType::Uuid, &v, Some(&mut st)).unwrap();
        let created = st.create("row1").unwrap();
        assert_eq!(a, Atom::Uuid(created), "forward reference resolves to the inserted row");
        let e = st.create("row1").unwrap_err();
        assert_eq!(e.tag, "duplicate uuid-name");
    }

    #[test]
    fn ordering_is_total() {
        assert!(Atom::Integer(1) < Atom::Integer(2));
        assert!(Atom::Real(-1.0) < Atom::Real(0.5));
        assert!(Atom::String("a".into()) < Atom::String("b".into()));
        assert_eq!(Atom::Real(1.0), Atom::Real(1.0));
    }
}
