//! Name resolution shared by the database commands (`lib/db-ctl-base.c`): table and column names by unique
//! abbreviation, records by UUID, UUID prefix or the table's name column, and `column[:key]=value` arguments.

use ovsdb::atom::Atom;
use uuid::Uuid;

use crate::model::Db;
use crate::value::{parse_uuid, token_parse};

fn lower_underscore(c: char) -> char {
    if c == '-' {
        '_'
    } else {
        c.to_ascii_lowercase()
    }
}

/// How well user input `s` matches `name` (0: not at all; exact match best; then unique prefixes).
fn score_partial_match(name: &str, s: &str) -> u32 {
    if name == s {
        return u32::MAX;
    }
    let (n, sv): (Vec<char>, Vec<char>) = (name.chars().collect(), s.chars().collect());
    let mut score = 0u32;
    loop {
        let (a, b) = (n.get(score as usize).copied(), sv.get(score as usize).copied());
        match (a, b) {
            (None, None) => return u32::MAX - 1,
            (Some(a), Some(b)) if lower_underscore(a) == lower_underscore(b) => score = score.saturating_add(1),
            _ => return if b.is_none() { score } else { 0 },
        }
    }
}

fn best_match<'n>(names: impl Iterator<Item = &'n String>, s: &str) -> (Vec<&'n String>, u32) {
    let mut best: Vec<&String> = Vec::new();
    let mut best_score = 0;
    for n in names {
        let sc = score_partial_match(n, s);
        if sc > 0 && sc >= best_score {
            if sc > best_score {
                best.clear();
            }
            best.push(n);
            best_score = sc;
        }
    }
    best.sort();
    (best, best_score)
}

/// Resolves a (possibly abbreviated) table name.
pub fn get_table(db: &Db, s: &str) -> Result<String, String> {
    let (m, _) = best_match(db.schema.tables.keys(), s);
    match m.as_slice() {
        [] => Err(format!("unknown table \"{s}\"")),
        [one] => Ok((*one).clone()),
        many => Err(format!("\"{s}\" matches multiple table names: {}", many.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", "))),
    }
}

/// Resolves a (possibly abbreviated) column name of `table`.
pub fn get_column(db: &Db, table: &str, s: &str) -> Result<String, String> {
    let names: Vec<String> = db.table_schema(table).user_columns().map(|c| c.name.clone()).collect();
    let (m, _) = best_match(names.iter(), s);
    match m.as_slice() {
        [] => Err(format!("{table} does not contain a column whose name matches \"{s}\"")),
        [one] => Ok((*one).clone()),
        many => Err(format!(
            "{table} contains more than one column whose name matches \"{s}\": {}",
            many.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// How rows of a table can be named (ovs-vsctl's `ctl_table_class.row_ids`): by `name_column` of
/// `name_table`, optionally following `uuid_column` of that row to the actual row.
fn row_id(table: &str) -> Option<(&'static str, &'static str, Option<&'static str>)> {
    Some(match table {
        "Bridge" => ("Bridge", "name", None),
        "Controller" => ("Bridge", "name", Some("controller")),
        "Interface" => ("Interface", "name", None),
        "Mirror" => ("Mirror", "name", None),
        "Manager" => ("Manager", "target", None),
        "NetFlow" => ("Bridge", "name", Some("netflow")),
        "Port" => ("Port", "name", None),
        "QoS" => ("Port", "name", Some("qos")),
        "sFlow" => ("Bridge", "name", Some("sflow")),
        "Flow_Table" => ("Flow_Table", "name", None),
        "IPFIX" => ("Bridge", "name", Some("ipfix")),
        "AutoAttach" => ("Bridge", "name", Some("auto_attach")),
        _ => return None,
    })
}

/// How many leading characters of `s` could begin a UUID (hex digits, dashes in the right places).
fn uuid_partial_len(s: &str) -> usize {
    const DASHES: [usize; 4] = [8, 13, 18, 23];
    for (i, c) in s.chars().enumerate() {
        let ok = if DASHES.contains(&i) { c == '-' } else { c.is_ascii_hexdigit() };
        if !ok || i >= 36 {
            return 0;
        }
    }
    s.len()
}

fn record_id_equals(name: &Atom, record_id: &str) -> bool {
    match name {
        Atom::String(s) => s == record_id || (record_id.len() >= 4 && parse_uuid(s).is_some() && s.starts_with(record_id)),
        Atom::Uuid(u) => parse_uuid(record_id) == Some(*u),
        Atom::Integer(i) => {
            !record_id.is_empty() && record_id.bytes().all(|b| b.is_ascii_digit()) && record_id.parse::<i64>().ok() == Some(*i)
        }
        _ => false,
    }
}

/// Finds the row `record_id` of `table`: a UUID, `.` for the only row, a name (see [`row_id`]) or a UUID
/// prefix of at least 4 characters.
pub fn get_row(db: &mut Db, table: &str, record_id: &str, must_exist: bool) -> Result<Option<Uuid>, String> {
    let mut row = parse_uuid(record_id).filter(|u| db.exists(table, u));
    if row.is_none() && record_id == "." {
        let rows = db.rows(table);
        if rows.len() == 1 {
            row = rows.first().copied();
        }
    }
    if row.is_none() {
        if let Some((name_table, name_col, uuid_col)) = row_id(table) {
            if db.schema.tables.contains_key(name_table) {
                let mut referrer = None;
                for u in db.rows(name_table) {
                    let d = db.get(name_table, &u, name_col);
                    let Some(name) = d.as_scalar() else { continue };
                    if record_id_equals(name, record_id) {
                        if referrer.is_some() {
                            return Err(format!("multiple rows in {name_table} match \"{record_id}\""));
                        }
                        referrer = Some(u);
                    }
                }
                if let Some(r) = referrer {
                    row = match uuid_col {
                        None => Some(r),
                        Some(c) => {
                            db.verify(name_table, &r, c);
                            let refs = db.get_uuids(name_table, &r, c);
                            match refs.as_slice() {
                                [one] if db.exists(table, one) => Some(*one),
                                _ => None,
                            }
                        }
                    };
                }
            }
        }
    }
    if row.is_none() && uuid_partial_len(record_id) >= 4 {
        let lower = record_id.to_ascii_lowercase();
        for u in db.rows(table) {
            if u.to_string().starts_with(&lower) {
                if let Some(first) = row {
                    return Err(format!(
                        "{table} contains 2 or more rows whose UUIDs begin with {record_id}: at least {first} and {u}"
                    ));
                }
                row = Some(u);
            }
        }
    }
    if must_exist && row.is_none() {
        return Err(format!("no row \"{record_id}\" in table {table}"));
    }
    Ok(row)
}

/// `COLUMN[:KEY][OP VALUE]` split apart: column, key and, when `ops` is given, the operator index and value.
pub struct ColumnKeyValue {
    /// The resolved column name.
    pub column: String,
    /// The key token, if any.
    pub key: Option<String>,
    /// Operator index and value string.
    pub value: Option<(usize, String)>,
}

/// Parses `arg` as `COLUMN[:KEY]` followed (if `ops` is Some) by one of `ops` and a non-empty value.
pub fn parse_column_key_value(db: &Db, table: &str, arg: &str, ops: Option<&[&str]>) -> Result<ColumnKeyValue, String> {
    let (col, mut p) = token_parse(arg)?;
    if col.is_empty() {
        return Err(format!("{arg}: missing column name"));
    }
    let column = get_column(db, table, &col)?;
    let mut key = None;
    if let Some(rest) = p.strip_prefix(':') {
        let (k, rest) = token_parse(rest)?;
        key = Some(k);
        p = rest;
    }
    let value = match ops {
        Some(ops) => {
            let mut best: Option<(usize, usize)> = None;
            for (i, op) in ops.iter().enumerate() {
                if op.len() > best.map_or(0, |b| b.1) && p.starts_with(op) && p.len() > op.len() {
                    best = Some((i, op.len()));
                }
            }
            let Some((i, len)) = best else {
                let quoted: Vec<String> = ops.iter().map(|o| format!("\"{o}\"")).collect();
                let list = match quoted.as_slice() {
                    [one] => one.clone(),
                    [a, b] => format!("{a} or {b}"),
                    [init @ .., last] => format!("{}, or {last}", init.join(", ")),
                    [] => String::new(),
                };
                return Err(format!("{arg}: argument does not end in {list} followed by a value."));
            };
            Some((i, p[len..].to_owned()))
        }
        None => {
            if !p.is_empty() {
                return Err(format!("{arg}: trailing garbage \"{p}\" in argument"));
            }
            None
        }
    };
    Ok(ColumnKeyValue { column, key, value })
}

pub(super) fn check_mutable(db: &Db, table: &str, row: &Uuid, column: &str) -> Result<(), String> {
    let c = &db.table_schema(table).columns[column];
    if !c.mutable && !db.is_inserted(row) {
        return Err(format!("cannot modify read-only column {column} in table {table}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_matches_score_like_ovs() {
        assert_eq!(score_partial_match("Bridge", "Bridge"), u32::MAX);
        assert_eq!(score_partial_match("Bridge", "bridge"), u32::MAX - 1);
        assert_eq!(score_partial_match("Bridge", "br"), 2);
        assert_eq!(score_partial_match("other_config", "other-config"), u32::MAX - 1);
        assert_eq!(score_partial_match("Bridge", "bx"), 0);
        assert_eq!(uuid_partial_len("0123-"), 0);
        assert_eq!(uuid_partial_len("0123abcd-"), 9);
    }
}
