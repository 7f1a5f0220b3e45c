//! `mutate` mutations (RFC 7047 §5.1 `<mutation>`): arithmetic on integer/real columns and sets of them,
//! `insert`/`delete` on sets and maps, with the RFC's `"domain error"`, `"range error"` and
//! `"constraint violation"` outcomes.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::atom::{Atom, AtomicType, SymbolTable};
use crate::datum::Datum;
use crate::error::{tag, Error, Result};
use crate::schema::TableSchema;
use crate::types::Type;

/// A mutator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutator {
    /// `+=`
    Add,
    /// `-=`
    Sub,
    /// `*=`
    Mul,
    /// `/=`
    Div,
    /// `%=`
    Mod,
    /// `insert`
    Insert,
    /// `delete`
    Delete,
}

/// One `[column, mutator, value]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mutation {
    /// Column name.
    pub column: String,
    /// Mutator.
    pub mutator: Mutator,
    /// Argument.
    pub arg: Datum,
}

impl Mutation {
    /// Parses a JSON array of mutations for `table`.
    pub fn parse_list(table: &TableSchema, v: &Value, mut symtab: Option<&mut SymbolTable>) -> Result<Vec<Mutation>> {
        let arr = v.as_array().ok_or_else(|| Error::syntax("mutations must be an array"))?;
        arr.iter().map(|m| Self::from_json(table, m, symtab.as_deref_mut())).collect()
    }

    /// Parses one mutation.
    pub fn from_json(table: &TableSchema, v: &Value, mut symtab: Option<&mut SymbolTable>) -> Result<Mutation> {
        let (col, mutator, val) = match v.as_array().map(Vec::as_slice) {
            Some([Value::String(c), Value::String(m), val]) => (c, m, val),
            _ => return Err(Error::syntax(format!("mutation must be [column, mutator, value], got {v}"))),
        };
        let column = table.column(col)?;
        if !column.mutable {
            return Err(Error::constraint(format!("Cannot mutate immutable column {col} in table {}.", table.name)));
        }
        let ty = &column.ty;
        let mutator = match mutator.as_str() {
            "+=" => Mutator::Add,
            "-=" => Mutator::Sub,
            "*=" => Mutator::Mul,
            "/=" => Mutator::Div,
            "%=" => Mutator::Mod,
            "insert" => Mutator::Insert,
            "delete" => Mutator::Delete,
            m => return Err(Error::syntax(format!("unknown mutator \"{m}\""))),
        };
        let arg = match mutator {
            Mutator::Insert => {
                if ty.max == 1 && ty.min == 1 {
                    return Err(Error::syntax(format!("\"insert\" may not be applied to scalar column {col}")));
                }
                Datum::from_json_relaxed(&ty.relaxed(), val, symtab)?
            }
            Mutator::Delete => {
                if ty.max == 1 && ty.min == 1 {
                    return Err(Error::syntax(format!("\"delete\" may not be applied to scalar column {col}")));
                }
                match Datum::from_json_relaxed(&ty.relaxed(), val, symtab.as_deref_mut()) {
                    Ok(d) => d,
                    // A map column's keys may be deleted by a set of keys.
                    Err(_) if ty.is_map() => {
                        let keys = Type { key: ty.key.clone(), value: None, min: 0, max: usize::MAX };
                        Datum::from_json_relaxed(&keys, val, symtab)?
                    }
                    Err(e) => return Err(e),
                }
            }
            _ => {
                let numeric = matches!(ty.key.atomic, AtomicType::Integer | AtomicType::Real);
                if ty.is_map() || !numeric || (mutator == Mutator::Mod && ty.key.atomic != AtomicType::Integer) {
                    return Err(Error::syntax(format!("arithmetic mutator may not be applied to column {col}")));
                }
                let a = Atom::from_json(ty.key.atomic, val, None)?;
                Datum::scalar(a)
            }
        };
        Ok(Mutation { column: col.clone(), mutator, arg })
    }

    /// Applies the mutation to `d`, a value of a column of type `ty`, and checks the result against `ty`.
    pub fn apply(&self, d: &mut Datum, ty: &Type) -> Result<()> {
        match self.mutator {
            Mutator::Insert => match (&mut *d, &self.arg) {
                (Datum::Set(s), Datum::Set(a)) => s.extend(a.iter().cloned()),
                (Datum::Map(m), Datum::Map(a)) => {
                    for (k, v) in a {
                        m.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                _ => return Err(Error::syntax("mutation argument of the wrong kind")),
            },
            Mutator::Delete => match (&mut *d, &self.arg) {
                (Datum::Set(s), Datum::Set(a)) => s.retain(|x| !a.contains(x)),
                (Datum::Map(m), Datum::Map(a)) => m.retain(|k, v| a.get(k) != Some(v)),
                (Datum::Map(m), Datum::Set(keys)) => m.retain(|k, _| !keys.contains(k)),
                _ => return Err(Error::syntax("mutation argument of the wrong kind")),
            },
            op => {
                let (Datum::Set(s), Some(arg)) = (&*d, self.arg.as_scalar()) else {
                    return Err(Error::syntax("arithmetic on a map"));
                };
                let mut out = BTreeSet::new();
                for x in s {
                    let r = arith(op, x, arg)?;
                    if !out.insert(r) {
                        return Err(Error::constraint(format!("Result of \"{}\" operation contains duplicates.", self.column)));
                    }
                }
                *d = Datum::Set(out);
            }
        }
        d.check_count(ty)?;
        d.check_constraints(ty)
    }
}

fn arith(op: Mutator, x: &Atom, y: &Atom) -> Result<Atom> {
    let range = || Error::new(tag::RANGE_ERROR, "Result of arithmetic mutation is out of range.");
    let domain = || Error::new(tag::DOMAIN_ERROR, "Division by zero.");
    match (x, y) {
        (Atom::Integer(a), Atom::Integer(b)) => {
            if matches!(op, Mutator::Div | Mutator::Mod) && *b == 0 {
                return Err(domain());
            }
            let r = match op {
                Mutator::Add => a.checked_add(*b),
                Mutator::Sub => a.checked_sub(*b),
                Mutator::Mul => a.checked_mul(*b),
                Mutator::Div => a.checked_div(*b),
                _ => a.checked_rem(*b),
            };
            r.map(Atom::Integer).ok_or_else(range)
        }
        (Atom::Real(a), Atom::Real(b)) => {
            if op == Mutator::Div && *b == 0.0 {
                return Err(domain());
            }
            let r = match op {
                Mutator::Add => a + b,
                Mutator::Sub => a - b,
                Mutator::Mul => a * b,
                Mutator::Div => a / b,
                _ => return Err(Error::syntax("%= on a real")),
            };
            if r.is_finite() {
                Ok(Atom::Real(r))
            } else {
                Err(range())
            }
        }
        _ => Err(Error::syntax("arithmetic on mismatched types")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::DatabaseSchema;
    use serde_json::json;

    fn table() -> TableSchema {
        DatabaseSchema::from_json(&json!({"name": "T", "tables": {"A": {"columns": {
            "n": {"type": {"key": {"type": "integer", "maxInteger": 100}}},
            "r": {"type": "real"},
            "s": {"type": {"key": "integer", "min": 0, "max": 3}},
            "m": {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
            "fixed": {"type": "integer", "mutable": false}
        }}}}))
        .unwrap()
        .tables["A"]
        .clone()
    }

    fn run(col: &str, m: Value, start: Value) -> Result<Value> {
        let t = table();
        let ty = &t.columns[col].ty;
        let mut d = Datum::from_json(ty, &start, None)?;
        let mu = Mutation::from_json(&t, &m, None)?;
        mu.apply(&mut d, ty)?;
        Ok(d.to_json())
    }

    #[test]
    fn arithmetic() {
        assert_eq!(run("n", json!(["n", "+=", 5]), json!(1)).unwrap(), json!(6));
        assert_eq!(run("n", json!(["n", "-=", 5]), json!(1)).unwrap(), json!(-4));
        assert_eq!(run("n", json!(["n", "*=", 3]), json!(7)).unwrap(), json!(21));
        assert_eq!(run("n", json!(["n", "/=", 2]), json!(7)).unwrap(), json!(3));
        assert_eq!(run("n", json!(["n", "%=", 4]), json!(7)).unwrap(), json!(3));
        assert_eq!(run("n", json!(["n", "/=", 0]), json!(7)).unwrap_err().tag, "domain error");
        assert_eq!(run("n", json!(["n", "%=", 0]), json!(7)).unwrap_err().tag, "domain error");
        assert_eq!(run("n", json!(["n", "-=", i64::MAX]), json!(-2)).unwrap_err().tag, "range error");
        assert_eq!(run("n", json!(["n", "+=", 100]), json!(1)).unwrap_err().tag, "constraint violation");
        assert_eq!(run("r", json!(["r", "*=", 1e308]), json!(1e308)).unwrap_err().tag, "range error");
        assert_eq!(run("r", json!(["r", "/=", 2]), json!(3.0)).unwrap(), json!(1.5));
        assert_eq!(run("s", json!(["s", "+=", 1]), json!(["set", [1, 2]])).unwrap(), json!(["set", [2, 3]]));
        assert_eq!(run("s", json!(["s", "*=", 0]), json!(["set", [1, 2]])).unwrap_err().tag, "constraint violation");
    }

    #[test]
    fn insert_delete() {
        assert_eq!(run("s", json!(["s", "insert", ["set", [2, 3]]]), json!(["set", [1, 2]])).unwrap(), json!(["set", [1, 2, 3]]));
        assert_eq!(run("s", json!(["s", "insert", ["set", [4, 5]]]), json!(["set", [1, 2]])).unwrap_err().tag, "constraint violation");
        assert_eq!(run("s", json!(["s", "delete", 1]), json!(["set", [1, 2]])).unwrap(), json!(2));
        let m = json!(["map", [["a", "1"], ["b", "2"]]]);
        assert_eq!(run("m", json!(["m", "insert", ["map", [["a", "9"], ["c", "3"]]]]), m.clone()).unwrap(), json!(["map", [["a", "1"], ["b", "2"], ["c", "3"]]]));
        assert_eq!(run("m", json!(["m", "delete", ["map", [["a", "9"], ["b", "2"]]]]), m.clone()).unwrap(), json!(["map", [["a", "1"]]]));
        assert_eq!(run("m", json!(["m", "delete", ["set", ["a"]]]), m.clone()).unwrap(), json!(["map", [["b", "2"]]]));
        assert_eq!(run("m", json!(["m", "delete", "b"]), m).unwrap(), json!(["map", [["a", "1"]]]));
        assert_eq!(run("fixed", json!(["fixed", "+=", 1]), json!(1)).unwrap_err().tag, "constraint violation");
        assert_eq!(run("n", json!(["n", "insert", 1]), json!(1)).unwrap_err().tag, "syntax error");
        assert_eq!(run("m", json!(["m", "+=", 1]), json!(["map", []])).unwrap_err().tag, "syntax error");
    }
}
