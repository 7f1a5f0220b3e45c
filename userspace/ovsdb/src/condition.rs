//! `where` clauses (RFC 7047 §5.1 `<condition>`, plus the `true`/`false` constants of `monitor_cond`):
//! parsing against a table schema and evaluation on rows.

use serde_json::Value;
use uuid::Uuid;

use crate::atom::{Atom, AtomicType, SymbolTable};
use crate::datum::Datum;
use crate::db::Row;
use crate::error::{Error, Result};
use crate::schema::TableSchema;

/// A comparison function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `includes`
    Includes,
    /// `excludes`
    Excludes,
}

impl Function {
    fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "<" => Function::Lt,
            "<=" => Function::Le,
            "==" => Function::Eq,
            "!=" => Function::Ne,
            ">=" => Function::Ge,
            ">" => Function::Gt,
            "includes" => Function::Includes,
            "excludes" => Function::Excludes,
            _ => return None,
        })
    }
}

/// One clause.
#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    /// `true` or `false` (monitor_cond).
    Const(bool),
    /// `[column, function, value]`.
    Compare {
        /// Column name.
        column: String,
        /// Function.
        function: Function,
        /// Argument.
        arg: Datum,
    },
}

/// A conjunction of clauses (an empty condition matches every row).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Condition {
    /// The clauses, all of which must hold.
    pub clauses: Vec<Clause>,
}

impl Condition {
    /// Parses a JSON array of clauses for `table`.
    pub fn from_json(table: &TableSchema, v: &Value, mut symtab: Option<&mut SymbolTable>) -> Result<Condition> {
        let arr = v.as_array().ok_or_else(|| Error::syntax(format!("condition must be an array, got {v}")))?;
        let mut clauses = Vec::with_capacity(arr.len());
        for c in arr {
            if let Some(b) = c.as_bool() {
                clauses.push(Clause::Const(b));
                continue;
            }
            let (col, func, val) = match c.as_array().map(Vec::as_slice) {
                Some([Value::String(col), Value::String(func), val]) => (col, func, val),
                _ => return Err(Error::syntax(format!("clause must be [column, function, value], got {c}"))),
            };
            let column = table.column(col)?;
            let function = Function::from_name(func).ok_or_else(|| Error::syntax(format!("unknown function \"{func}\"")))?;
            if matches!(function, Function::Lt | Function::Le | Function::Ge | Function::Gt)
                && (column.ty.is_map()
                    || column.ty.max != 1
                    || !matches!(column.ty.key.atomic, AtomicType::Integer | AtomicType::Real))
            {
                return Err(Error::syntax(format!("\"{func}\" may not be applied to column {col}")));
            }
            let arg = Datum::from_json_relaxed(&column.ty.unconstrained(), val, symtab.as_deref_mut())?;
            clauses.push(Clause::Compare { column: col.clone(), function, arg });
        }
        Ok(Condition { clauses })
    }

    /// Whether `row` satisfies every clause.
    pub fn matches(&self, row: &Row) -> bool {
        self.clauses.iter().all(|c| match c {
            Clause::Const(b) => *b,
            Clause::Compare { column, function, arg } => {
                let Some(field) = row.get(column) else { return false };
                eval(*function, &field, arg)
            }
        })
    }

    /// The UUID the condition pins the row to, when it has a `["_uuid", "==", UUID]` clause (fast path).
    pub fn uuid_eq(&self) -> Option<Uuid> {
        self.clauses.iter().find_map(|c| match c {
            Clause::Compare { column, function: Function::Eq, arg } if column == "_uuid" => arg.as_scalar().and_then(Atom::as_uuid),
            _ => None,
        })
    }
}

fn eval(f: Function, field: &Datum, arg: &Datum) -> bool {
    match f {
        Function::Eq => field == arg,
        Function::Ne => field != arg,
        Function::Includes => field.includes_all(arg),
        Function::Excludes => field.excludes_all(arg),
        Function::Lt | Function::Le | Function::Ge | Function::Gt => {
            let (Some(a), Some(b)) = (field.as_scalar(), arg.as_scalar()) else { return false };
            let ord = match (a, b) {
                (Atom::Integer(x), Atom::Integer(y)) => x.cmp(y),
                (Atom::Real(x), Atom::Real(y)) => x.total_cmp(y),
                _ => return false,
            };
            match f {
                Function::Lt => ord.is_lt(),
                Function::Le => ord.is_le(),
                Function::Ge => ord.is_ge(),
                _ => ord.is_gt(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::DatabaseSchema;
    use serde_json::json;

    fn table() -> TableSchema {
        let s = DatabaseSchema::from_json(&json!({"name": "T", "tables": {"A": {"columns": {
            "n": {"type": "integer"},
            "s": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
            "m": {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}}
        }}}}))
        .unwrap();
        s.tables["A"].clone()
    }

    #[test]
    fn functions() {
        let t = table();
        let mut row = Row::new(&t, Uuid::new_v4());
        row.data.insert("n".into(), Datum::scalar(Atom::Integer(5)));
        row.data.insert("s".into(), Datum::from_json(&t.columns["s"].ty, &json!(["set", ["a", "b"]]), None).unwrap());
        row.data.insert("m".into(), Datum::from_json(&t.columns["m"].ty, &json!(["map", [["k", "v"]]]), None).unwrap());
        let check = |c: Value| Condition::from_json(&t, &c, None).unwrap().matches(&row);
        assert!(check(json!([])));
        assert!(check(json!([["n", "==", 5]])));
        assert!(!check(json!([["n", "!=", 5]])));
        assert!(check(json!([["n", "<", 6], ["n", "<=", 5], ["n", ">", 4], ["n", ">=", 5]])));
        assert!(!check(json!([["n", "<", 5]])));
        assert!(check(json!([["s", "includes", "a"]])));
        assert!(check(json!([["s", "includes", ["set", ["a", "b"]]]])));
        assert!(!check(json!([["s", "includes", ["set", ["a", "c"]]]])));
        assert!(check(json!([["s", "excludes", ["set", ["c", "d"]]]])));
        assert!(check(json!([["s", "==", ["set", ["b", "a"]]]])));
        assert!(check(json!([["m", "includes", ["map", [["k", "v"]]]]])));
        assert!(check(json!([["m", "excludes", ["map", [["k", "w"]]]]])));
        assert!(!check(json!([false])));
        assert!(check(json!([true, ["_uuid", "==", ["uuid", row.uuid.to_string()]]])));
        assert_eq!(Condition::from_json(&t, &json!([["s", "<", 1]]), None).unwrap_err().tag, "syntax error");
        assert_eq!(Condition::from_json(&t, &json!([["x", "==", 1]]), None).unwrap_err().tag, "unknown column");
        assert_eq!(Condition::from_json(&t, &json!([["n", "~", 1]]), None).unwrap_err().tag, "syntax error");
    }
}
