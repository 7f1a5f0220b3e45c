//! The `find` and `wait-until` conditions: `column[:key]<op>value` with OVSDB's scalar and set relational
//! operators (`=`, `!=`, `<` … `{in}`, `{not-in}`), evaluated against one record.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use ovsdb::datum::Datum;
use ovsdb::types::Type;
use uuid::Uuid;

use super::lookup::parse_column_key_value;
use crate::model::Db;
use crate::value::{atom_from_string, datum_from_string, Symtab};

const RELOPS: &[&str] = &["=", "!=", "<", ">", "<=", ">=", "{=}", "{!=}", "{<}", "{>}", "{<=}", "{>=}", "{in}", "{not-in}"];

fn compare_3way(a: &Datum, b: &Datum) -> Ordering {
    if a.len() != b.len() {
        return a.len().cmp(&b.len());
    }
    match (a, b) {
        (Datum::Set(x), Datum::Set(y)) => x.iter().cmp(y.iter()),
        (Datum::Map(x), Datum::Map(y)) => x.keys().cmp(y.keys()).then_with(|| x.values().cmp(y.values())),
        _ => Ordering::Equal,
    }
}

/// Every element of `a` is in `b`.
fn includes_all(a: &Datum, b: &Datum) -> bool {
    match (a, b) {
        (Datum::Set(x), Datum::Set(y)) => x.iter().all(|e| y.contains(e)),
        (Datum::Map(x), Datum::Map(y)) => x.iter().all(|(k, v)| y.get(k) == Some(v)),
        _ => false,
    }
}

/// No element of `a` is in `b`.
fn excludes_all(a: &Datum, b: &Datum) -> bool {
    match (a, b) {
        (Datum::Set(x), Datum::Set(y)) => x.iter().all(|e| !y.contains(e)),
        (Datum::Map(x), Datum::Map(y)) => x.iter().all(|(k, v)| y.get(k) != Some(v)),
        _ => true,
    }
}

fn evaluate_relop(a: &Datum, b: &Datum, op: usize) -> bool {
    match RELOPS[op] {
        "=" | "{=}" => compare_3way(a, b) == Ordering::Equal,
        "!=" | "{!=}" => compare_3way(a, b) != Ordering::Equal,
        "<" => compare_3way(a, b) == Ordering::Less,
        ">" => compare_3way(a, b) == Ordering::Greater,
        "<=" => compare_3way(a, b) != Ordering::Greater,
        ">=" => compare_3way(a, b) != Ordering::Less,
        "{<}" => b.len() > a.len() && includes_all(a, b),
        "{>}" => a.len() > b.len() && includes_all(b, a),
        "{<=}" | "{in}" => includes_all(a, b),
        "{>=}" => includes_all(b, a),
        "{not-in}" => excludes_all(a, b),
        _ => false,
    }
}

fn is_set_operator(op: usize) -> bool {
    RELOPS[op].starts_with('{')
}

/// Evaluates one `COLUMN[:KEY]OP VALUE` condition on `row`.
pub(super) fn check_condition(db: &Db, symtab: &mut Symtab, table: &str, row: &Uuid, arg: &str) -> Result<bool, String> {
    let ckv = parse_column_key_value(db, table, arg, Some(RELOPS))?;
    let Some((op, value)) = ckv.value else { return Err(format!("{arg}: missing value")) };
    let ty = db.col_type(table, &ckv.column).clone();
    let have = db.get(table, row, &ckv.column);
    match ckv.key {
        Some(key) => {
            let Some(vt) = &ty.value else {
                return Err(format!("cannot specify key to check for non-map column {}", ckv.column));
            };
            let want_key = atom_from_string(&ty.key, &key, Some(symtab))?;
            let vty = Type { key: vt.clone(), value: None, min: ty.min, max: usize::MAX };
            let b = datum_from_string(&vty, &value, Some(symtab))?;
            let found = have.as_map().and_then(|m| m.get(&want_key));
            if found.is_none() && !is_set_operator(op) {
                return Ok(false);
            }
            let a = Datum::Set(found.cloned().into_iter().collect::<BTreeSet<_>>());
            Ok(evaluate_relop(&a, &b, op))
        }
        None => {
            let want = datum_from_string(&ty, &value, Some(symtab))?;
            Ok(evaluate_relop(&have, &want, op))
        }
    }
}

#[cfg(test)]
mod tests {
    use ovsdb::atom::Atom;

    use super::*;

    #[test]
    fn relops_follow_ovs_semantics() {
        let s = |v: &[i64]| Datum::Set(v.iter().map(|i| Atom::Integer(*i)).collect());
        let idx = |o: &str| RELOPS.iter().position(|x| *x == o).unwrap_or(0);
        assert!(evaluate_relop(&s(&[1, 2]), &s(&[1, 2]), idx("=")));
        assert!(evaluate_relop(&s(&[1]), &s(&[1, 2]), idx("{<}")));
        assert!(evaluate_relop(&s(&[1]), &s(&[1, 2]), idx("{in}")));
        assert!(!evaluate_relop(&s(&[3]), &s(&[1, 2]), idx("{in}")));
        assert!(evaluate_relop(&s(&[3]), &s(&[1, 2]), idx("{not-in}")));
        assert!(evaluate_relop(&s(&[5]), &s(&[1, 2]), idx("<")), "fewer elements compare lower");
    }
}
