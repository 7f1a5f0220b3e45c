//! The transaction engine: executes the operations of one `transact` request (RFC 7047 §5.2) on a copy of the
//! database, then runs the commit checks — garbage collection of unreferenced non-root rows, referential
//! integrity of strong references, `maxRows`, removal of dangling weak references, element counts, index
//! uniqueness — and yields the per-operation results plus, on success, the new database and its change set.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::atom::{Atom, SymbolTable};
use crate::condition::Condition;
use crate::datum::Datum;
use crate::db::{Changes, Database, Row, RowChange};
use crate::error::{tag, Error, Result};
use crate::mutation::Mutation;
use crate::schema::{DatabaseSchema, TableSchema};
use crate::types::RefType;

/// A successful transaction's effect, to be made durable and then installed.
#[derive(Debug, Clone)]
pub struct Commit {
    /// The database after the transaction.
    pub db: Database,
    /// What changed (never empty).
    pub changes: Changes,
}

/// What executing a transaction produced.
#[derive(Debug)]
pub enum Outcome {
    /// The reply is ready: `results` is the `transact` result array. If `commit` is present the server must
    /// persist it, then install it, before replying (or append an `"I/O error"` to `results` if it cannot).
    Done {
        /// One result per operation (then `null` padding after a failed one, or one more for a commit error).
        results: Vec<Value>,
        /// The changes to commit, if the transaction succeeded and changed something.
        commit: Option<Commit>,
    },
    /// A `wait` operation is unsatisfied and its timeout (in ms since the transaction was first tried; `None`
    /// for no timeout) has not expired: run it again after the next commit.
    Pending {
        /// The `wait` timeout in ms, if any.
        timeout_ms: Option<u64>,
    },
}

/// Executes `ops` (the `transact` parameters after the database name) against `db`. `owns_lock` answers the
/// `assert` operation; `elapsed_ms` is the time since the request arrived (for `wait` timeouts).
pub fn execute(db: &Database, ops: &[Value], owns_lock: &dyn Fn(&str) -> bool, elapsed_ms: u64) -> Outcome {
    let mut txn = Txn {
        orig: db,
        db: db.clone(),
        schema: db.schema().clone(),
        touched: BTreeSet::new(),
        symtab: SymbolTable::default(),
        comments: Vec::new(),
        owns_lock,
        elapsed_ms,
        pending: None,
    };
    let mut results = Vec::with_capacity(ops.len() + 1);
    for op in ops {
        match txn.op(op) {
            Ok(r) => results.push(r),
            Err(e) => {
                if let Some(timeout_ms) = txn.pending {
                    return Outcome::Pending { timeout_ms };
                }
                results.push(e.to_json());
                results.resize(ops.len(), Value::Null);
                return Outcome::Done { results, commit: None };
            }
        }
    }
    match txn.precommit() {
        Ok(changes) if changes.is_empty() => Outcome::Done { results, commit: None },
        Ok(changes) => Outcome::Done { results, commit: Some(Commit { db: txn.db, changes }) },
        Err(e) => {
            results.push(e.to_json());
            Outcome::Done { results, commit: None }
        }
    }
}

/// Convenience for tests and embedded users: runs a whole `transact` params array (`[db-name, op...]`) and,
/// on success, installs the changes into `db`. Returns the result array.
pub fn transact_in_place(db: &mut Database, params: &Value) -> Result<(Vec<Value>, Option<Changes>)> {
    let arr = params.as_array().ok_or_else(|| Error::syntax("transact params must be an array"))?;
    match arr.first().and_then(Value::as_str) {
        Some(n) if n == db.name() => {}
        _ => return Err(Error::syntax("database name expected as first parameter")),
    }
    match execute(db, arr.get(1..).unwrap_or_default(), &|_| false, 0) {
        Outcome::Done { results, commit: Some(c) } => {
            *db = c.db;
            Ok((results, Some(c.changes)))
        }
        Outcome::Done { results, commit: None } => Ok((results, None)),
        Outcome::Pending { .. } => Ok((vec![Error::new(tag::TIMED_OUT, "\"wait\" timed out").to_json()], None)),
    }
}

struct Txn<'a> {
    orig: &'a Database,
    db: Database,
    schema: Arc<DatabaseSchema>,
    touched: BTreeSet<(String, Uuid)>,
    symtab: SymbolTable,
    comments: Vec<String>,
    owns_lock: &'a dyn Fn(&str) -> bool,
    elapsed_ms: u64,
    pending: Option<Option<u64>>,
}

fn member<'v>(op: &'v Map<String, Value>, name: &str) -> Result<&'v Value> {
    op.get(name).ok_or_else(|| Error::syntax(format!("Required '{name}' member is missing.")))
}

fn str_member<'v>(op: &'v Map<String, Value>, name: &str) -> Result<&'v str> {
    member(op, name)?.as_str().ok_or_else(|| Error::syntax(format!("'{name}' must be a string")))
}

impl Txn<'_> {
    fn op(&mut self, op: &Value) -> Result<Value> {
        let o = op.as_object().ok_or_else(|| Error::syntax(format!("operation must be an object, got {op}")))?;
        let name = str_member(o, "op")?;
        match name {
            "insert" => self.insert(o),
            "select" => self.select(o),
            "update" => self.update(o),
            "mutate" => self.mutate(o),
            "delete" => self.delete(o),
            "wait" => self.wait(o),
            "commit" => {
                member(o, "durable")?.as_bool().ok_or_else(|| Error::syntax("'durable' must be a boolean"))?;
                Ok(json!({}))
            }
            "abort" => Err(Error::new(tag::ABORTED, "aborted by request")),
            "comment" => {
                self.comments.push(str_member(o, "comment")?.to_owned());
                Ok(json!({}))
            }
            "assert" => {
                let lock = str_member(o, "lock")?;
                if (self.owns_lock)(lock) {
                    Ok(json!({}))
                } else {
                    Err(Error::new(tag::NOT_OWNER, format!("Asserted lock {lock} not held.")))
                }
            }
            other => Err(Error::syntax(format!("No operation \"{other}\""))),
        }
    }

    fn table(&self, o: &Map<String, Value>) -> Result<Arc<DatabaseSchema>> {
        let t = str_member(o, "table")?;
        self.schema.table(t)?;
        Ok(self.schema.clone())
    }

    fn condition(&mut self, t: &TableSchema, o: &Map<String, Value>) -> Result<Condition> {
        Condition::from_json(t, member(o, "where")?, Some(&mut self.symtab))
    }

    fn matching(&self, table: &str, cond: &Condition) -> Vec<Uuid> {
        let Some(t) = self.db.tables.get(table) else { return Vec::new() };
        if let Some(u) = cond.uuid_eq() {
            return t.rows.get(&u).filter(|r| cond.matches(r)).map(|r| vec![r.uuid]).unwrap_or_default();
        }
        t.rows.values().filter(|r| cond.matches(r)).map(|r| r.uuid).collect()
    }

    fn columns(t: &TableSchema, o: &Map<String, Value>) -> Result<Option<Vec<String>>> {
        let Some(cols) = o.get("columns") else { return Ok(None) };
        let arr = cols.as_array().ok_or_else(|| Error::syntax("'columns' must be an array"))?;
        let mut out = Vec::with_capacity(arr.len());
        for c in arr {
            let c = c.as_str().ok_or_else(|| Error::syntax("column names must be strings"))?;
            t.column(c)?;
            out.push(c.to_owned());
        }
        Ok(Some(out))
    }

    /// Parses a `<row>` for insert/update: every named column must exist and be writable.
    fn parse_row(&mut self, t: &TableSchema, v: &Value, updating: bool) -> Result<Vec<(String, Datum)>> {
        let obj = v.as_object().ok_or_else(|| Error::syntax("'row' must be an object"))?;
        let mut out = Vec::with_capacity(obj.len());
        for (c, val) in obj {
            let col = t.column(c)?;
            if c.starts_with('_') {
                return Err(if updating {
                    Error::constraint(format!("Cannot update immutable column {c} in table {}.", t.name))
                } else {
                    Error::syntax(format!("Column {c} cannot be written."))
                });
            }
            if updating && !col.mutable {
                return Err(Error::constraint(format!("Cannot update immutable column {c} in table {}.", t.name)));
            }
            let d = Datum::from_json(&col.ty, val, Some(&mut self.symtab))
                .map_err(|e| Error::new(e.tag, format!("{}.{c}: {}", t.name, e.details)))?;
            d.check_constraints(&col.ty).map_err(|e| Error::new(e.tag, format!("{}.{c}: {}", t.name, e.details)))?;
            out.push((c.clone(), d));
        }
        Ok(out)
    }

    fn insert(&mut self, o: &Map<String, Value>) -> Result<Value> {
        let schema = self.table(o)?;
        let t = schema.table(str_member(o, "table")?)?;
        let explicit = match o.get("uuid") {
            None => None,
            Some(v) => {
                let s = v.as_str().ok_or_else(|| Error::syntax("'uuid' must be a string"))?;
                Some(Uuid::parse_str(s).map_err(|_| Error::syntax(format!("bad uuid {s}")))?)
            }
        };
        let uuid = match o.get("uuid-name") {
            Some(n) => {
                let n = n.as_str().ok_or_else(|| Error::syntax("'uuid-name' must be a string"))?;
                self.symtab.create_with(n, explicit)?
            }
            None => explicit.unwrap_or_else(Uuid::new_v4),
        };
        if self.db.row(&t.name, &uuid).is_some() || self.orig.row(&t.name, &uuid).is_some() {
            return Err(Error::new(tag::DUPLICATE_UUID, format!("This UUID would duplicate a UUID already present within the table or deleted within the same transaction: {uuid}")));
        }
        let mut row = Row::new(t, uuid);
        if let Some(v) = o.get("row") {
            for (c, d) in self.parse_row(t, v, false)? {
                row.data.insert(c, d);
            }
        }
        self.db.tables.entry(t.name.clone()).or_default().rows.insert(uuid, Arc::new(row));
        self.touched.insert((t.name.clone(), uuid));
        Ok(json!({"uuid": ["uuid", uuid.to_string()]}))
    }

    fn select(&mut self, o: &Map<String, Value>) -> Result<Value> {
        let schema = self.table(o)?;
        let t = schema.table(str_member(o, "table")?)?;
        let cond = self.condition(t, o)?;
        let cols = Self::columns(t, o)?;
        let rows: Vec<Value> = self
            .matching(&t.name, &cond)
            .iter()
            .filter_map(|u| self.db.row(&t.name, u))
            .map(|r| r.to_json(cols.as_deref()))
            .collect();
        Ok(json!({ "rows": rows }))
    }

    fn update(&mut self, o: &Map<String, Value>) -> Result<Value> {
        let schema = self.table(o)?;
        let t = schema.table(str_member(o, "table")?)?;
        let cond = self.condition(t, o)?;
        let values = self.parse_row(t, member(o, "row")?, true)?;
        let uuids = self.matching(&t.name, &cond);
        let table = self.db.tables.entry(t.name.clone()).or_default();
        for u in &uuids {
            if let Some(r) = table.rows.get_mut(u) {
                let r = Arc::make_mut(r);
                for (c, d) in &values {
                    r.data.insert(c.clone(), d.clone());
                }
                self.touched.insert((t.name.clone(), *u));
            }
        }
        Ok(json!({ "count": uuids.len() }))
    }

    fn mutate(&mut self, o: &Map<String, Value>) -> Result<Value> {
        let schema = self.table(o)?;
        let t = schema.table(str_member(o, "table")?)?;
        let cond = self.condition(t, o)?;
        let mutations = Mutation::parse_list(t, member(o, "mutations")?, Some(&mut self.symtab))?;
        let uuids = self.matching(&t.name, &cond);
        let table = self.db.tables.entry(t.name.clone()).or_default();
        for u in &uuids {
            let Some(r) = table.rows.get_mut(u) else { continue };
            let r = Arc::make_mut(r);
            for m in &mutations {
                let col = t.column(&m.column)?;
                let d = r.data.entry(m.column.clone()).or_insert_with(|| Datum::default_for(&col.ty));
                m.apply(d, &col.ty).map_err(|e| Error::new(e.tag, format!("{}.{}: {}", t.name, m.column, e.details)))?;
            }
            self.touched.insert((t.name.clone(), *u));
        }
        Ok(json!({ "count": uuids.len() }))
    }

    fn delete(&mut self, o: &Map<String, Value>) -> Result<Value> {
        let schema = self.table(o)?;
        let t = schema.table(str_member(o, "table")?)?;
        let cond = self.condition(t, o)?;
        let uuids = self.matching(&t.name, &cond);
        let table = self.db.tables.entry(t.name.clone()).or_default();
        for u in &uuids {
            table.rows.remove(u);
            self.touched.insert((t.name.clone(), *u));
        }
        Ok(json!({ "count": uuids.len() }))
    }

    fn wait(&mut self, o: &Map<String, Value>) -> Result<Value> {
        let schema = self.table(o)?;
        let t = schema.table(str_member(o, "table")?)?;
        let timeout = match o.get("timeout") {
            None => None,
            Some(v) => Some(v.as_u64().ok_or_else(|| Error::syntax("'timeout' must be a non-negative integer"))?),
        };
        let cond = self.condition(t, o)?;
        let cols = match Self::columns(t, o)? {
            Some(c) => c,
            None => t.user_columns().map(|c| c.name.clone()).collect(),
        };
        let until_eq = match str_member(o, "until")? {
            "==" => true,
            "!=" => false,
            u => return Err(Error::syntax(format!("'until' must be \"==\" or \"!=\", not \"{u}\""))),
        };
        let rows = member(o, "rows")?.as_array().ok_or_else(|| Error::syntax("'rows' must be an array"))?;
        let mut expected: BTreeSet<Vec<Datum>> = BTreeSet::new();
        for r in rows {
            let obj = r.as_object().ok_or_else(|| Error::syntax("'rows' must hold objects"))?;
            let mut proj = Vec::with_capacity(cols.len());
            for c in &cols {
                let col = t.column(c)?;
                let d = match obj.get(c) {
                    Some(v) => Datum::from_json(&col.ty, v, Some(&mut self.symtab))?,
                    None => Datum::default_for(&col.ty),
                };
                proj.push(d);
            }
            expected.insert(proj);
        }
        let actual: BTreeSet<Vec<Datum>> = self
            .matching(&t.name, &cond)
            .iter()
            .filter_map(|u| self.db.row(&t.name, u))
            .map(|r| cols.iter().map(|c| r.get(c).map(|d| d.into_owned()).unwrap_or_else(|| Datum::Set(BTreeSet::new()))).collect())
            .collect();
        if (actual == expected) == until_eq {
            return Ok(json!({}));
        }
        match timeout {
            Some(ms) if self.elapsed_ms >= ms => {
                let details = if self.elapsed_ms > 0 {
                    format!("\"wait\" timed out after {} ms", self.elapsed_ms)
                } else {
                    "\"where\" clause test failed".to_owned()
                };
                Err(Error::new(tag::TIMED_OUT, details))
            }
            t => {
                self.pending = Some(t);
                Err(Error::new(tag::NOT_SUPPORTED, "wait pending"))
            }
        }
    }

    /// Commit-time checks and bookkeeping; returns the change set.
    fn precommit(&mut self) -> Result<Changes> {
        if self.touched.is_empty() {
            return Ok(Changes::default());
        }
        self.collect_garbage_and_check_references()?;
        self.check_max_rows()?;
        self.remove_dangling_weak_references();
        self.check_counts()?;
        self.check_indexes()?;
        Ok(self.changes())
    }

    /// Strong references of every row, as (referenced table, uuid).
    fn strong_refs<'r>(schema: &'r DatabaseSchema, table: &str, row: &Row) -> Vec<(&'r str, Uuid)> {
        let Some(t) = schema.tables.get(table) else { return Vec::new() };
        let mut out = Vec::new();
        for c in t.user_columns() {
            let has_strong = [Some(&c.ty.key), c.ty.value.as_ref()]
                .into_iter()
                .flatten()
                .any(|b| b.ref_table.is_some() && b.ref_type == RefType::Strong);
            if !has_strong {
                continue;
            }
            if let Some(d) = row.data.get(&c.name) {
                for (u, b) in d.uuids(&c.ty) {
                    if let (Some(rt), RefType::Strong) = (&b.ref_table, b.ref_type) {
                        out.push((rt.as_str(), u));
                    }
                }
            }
        }
        out
    }

    fn collect_garbage_and_check_references(&mut self) -> Result<()> {
        let schema = self.schema.clone();
        let mut counts: HashMap<(&str, Uuid), usize> = HashMap::new();
        for (tname, table) in &self.db.tables {
            for row in table.rows.values() {
                for r in Self::strong_refs(&schema, tname, row) {
                    *counts.entry(r).or_default() += 1;
                }
            }
        }
        // Garbage collection: delete non-root rows nobody references, transitively.
        let mut work: Vec<(String, Uuid)> = Vec::new();
        for (tname, table) in &self.db.tables {
            if schema.tables.get(tname).is_some_and(|t| !t.is_root) {
                for u in table.rows.keys() {
                    if counts.get(&(tname.as_str(), *u)).copied().unwrap_or(0) == 0 {
                        work.push((tname.clone(), *u));
                    }
                }
            }
        }
        while let Some((tname, u)) = work.pop() {
            let Some(row) = self.db.tables.get_mut(&tname).and_then(|t| t.rows.remove(&u)) else { continue };
            self.touched.insert((tname.clone(), u));
            for (rt, ru) in Self::strong_refs(&schema, &tname, &row) {
                if let Some(n) = counts.get_mut(&(rt, ru)) {
                    *n = n.saturating_sub(1);
                    let collectable = schema.tables.get(rt).is_some_and(|t| !t.is_root);
                    if *n == 0 && collectable && self.db.row(rt, &ru).is_some() {
                        work.push((rt.to_owned(), ru));
                    }
                }
            }
        }
        // Referential integrity: every remaining strong reference must point to an existing row.
        let mut dangling: Vec<((&str, Uuid), usize)> =
            counts.into_iter().filter(|((t, u), n)| *n > 0 && self.db.row(t, u).is_none()).collect();
        dangling.sort();
        if let Some(((t, u), n)) = dangling.first() {
            let details = if self.orig.row(t, u).is_some() {
                format!("cannot delete {t} row {u} because of {n} remaining reference(s)")
            } else {
                format!("reference to nonexistent row {u} in table {t}")
            };
            return Err(Error::new(tag::REFERENTIAL_INTEGRITY_VIOLATION, details));
        }
        Ok(())
    }

    fn check_max_rows(&self) -> Result<()> {
        for t in self.schema.tables.values() {
            if let Some(max) = t.max_rows {
                let n = self.db.tables.get(&t.name).map_or(0, |t| t.rows.len());
                if n > max {
                    return Err(Error::constraint(format!(
                        "Transaction causes \"{}\" table to contain {n} rows, greater than the schema-defined limit of {max} row(s).",
                        t.name
                    )));
                }
            }
        }
        Ok(())
    }

    fn remove_dangling_weak_references(&mut self) {
        let schema = self.schema.clone();
        for t in schema.tables.values() {
            let weak_cols: Vec<_> = t
                .user_columns()
                .filter(|c| {
                    [Some(&c.ty.key), c.ty.value.as_ref()].into_iter().flatten().any(|b| b.ref_table.is_some() && b.ref_type == RefType::Weak)
                })
                .collect();
            if weak_cols.is_empty() {
                continue;
            }
            let mut edits: Vec<(Uuid, String, Datum)> = Vec::new();
            for row in self.db.rows(&t.name) {
                for c in &weak_cols {
                    let Some(d) = row.data.get(&c.name) else { continue };
                    let dangling = |b: &crate::types::BaseType, a: &Atom| match (&b.ref_table, b.ref_type, a.as_uuid()) {
                        (Some(rt), RefType::Weak, Some(u)) => self.db.row(rt, &u).is_none(),
                        _ => false,
                    };
                    let mut nd = d.clone();
                    let vt = c.ty.value.clone();
                    if nd.remove_atoms(|k| dangling(&c.ty.key, k), |v| vt.as_ref().is_some_and(|vt| dangling(vt, v))) {
                        edits.push((row.uuid, c.name.clone(), nd));
                    }
                }
            }
            for (u, c, d) in edits {
                if let Some(r) = self.db.tables.get_mut(&t.name).and_then(|tb| tb.rows.get_mut(&u)) {
                    Arc::make_mut(r).data.insert(c, d);
                    self.touched.insert((t.name.clone(), u));
                }
            }
        }
    }

    fn check_counts(&self) -> Result<()> {
        for (tname, u) in &self.touched {
            let (Some(row), Some(t)) = (self.db.row(tname, u), self.schema.tables.get(tname)) else { continue };
            for c in t.user_columns() {
                if let Some(d) = row.data.get(&c.name) {
                    d.check_count(&c.ty).map_err(|e| Error::constraint(format!("{tname}.{} of row {u}: {}", c.name, e.details)))?;
                }
            }
        }
        Ok(())
    }

    fn check_indexes(&self) -> Result<()> {
        let touched_tables: BTreeSet<&str> = self.touched.iter().map(|(t, _)| t.as_str()).collect();
        for tname in touched_tables {
            let Some(t) = self.schema.tables.get(tname) else { continue };
            for idx in &t.indexes {
                let mut seen: std::collections::BTreeMap<Vec<Datum>, Uuid> = std::collections::BTreeMap::new();
                for row in self.db.rows(tname) {
                    let key: Vec<Datum> = idx.iter().map(|c| row.get(c).map(|d| d.into_owned()).unwrap_or_else(|| Datum::Set(BTreeSet::new()))).collect();
                    if let Some(first) = seen.insert(key.clone(), row.uuid) {
                        let vals: Vec<String> = key.iter().map(|d| d.to_json().to_string()).collect();
                        return Err(Error::constraint(format!(
                            "Transaction causes multiple rows in \"{tname}\" table to have identical values ({}) for index on columns {}. First row, with UUID {first}, and second row, with UUID {}.",
                            vals.join(", "),
                            idx.join(", "),
                            row.uuid
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    fn changes(&mut self) -> Changes {
        let mut changes = Changes { comments: std::mem::take(&mut self.comments), ..Changes::default() };
        for (tname, u) in std::mem::take(&mut self.touched) {
            let old = self.orig.row(&tname, &u).cloned();
            let Some(table) = self.db.tables.get_mut(&tname) else { continue };
            let new = match (&old, table.rows.get_mut(&u)) {
                (None, None) => continue,
                (Some(o), Some(n)) => {
                    if o.data == n.data {
                        *n = o.clone();
                        continue;
                    }
                    Arc::make_mut(n).version = Uuid::new_v4();
                    Some(n.clone())
                }
                (_, n) => n.cloned(),
            };
            changes.tables.entry(tname).or_default().insert(u, RowChange { old, new });
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> DatabaseSchema {
        DatabaseSchema::from_json(&json!({"name": "S", "version": "1.0.0", "tables": {
            "Root": {"isRoot": true, "maxRows": 2, "columns": {
                "name": {"type": "string"},
                "kids": {"type": {"key": {"type": "uuid", "refTable": "Kid"}, "min": 0, "max": "unlimited"}},
                "fav": {"type": {"key": {"type": "uuid", "refTable": "Kid", "refType": "weak"}, "min": 0, "max": "unlimited"}},
                "one_weak": {"type": {"key": {"type": "uuid", "refTable": "Kid", "refType": "weak"}}},
                "n": {"type": {"key": {"type": "integer", "minInteger": 0, "maxInteger": 10}}},
                "mode": {"type": {"key": {"type": "string", "enum": ["set", ["a", "b"]]}, "min": 0, "max": 1}},
                "fixed": {"type": "string", "mutable": false}
            }},
            "Kid": {"columns": {
                "name": {"type": "string"},
                "toys": {"type": {"key": {"type": "uuid", "refTable": "Toy"}, "min": 0, "max": "unlimited"}}
            }, "indexes": [["name"]]},
            "Toy": {"columns": {"color": {"type": "string"}}},
            "Free": {"isRoot": true, "columns": {"v": {"type": {"key": "string", "value": "integer", "min": 0, "max": "unlimited"}}}}
        }}))
        .unwrap()
    }

    fn run(db: &mut Database, ops: Value) -> Vec<Value> {
        let mut params = vec![json!("S")];
        params.extend(ops.as_array().unwrap().iter().cloned());
        transact_in_place(db, &Value::from(params)).unwrap().0
    }

    fn err(r: &[Value]) -> Option<&str> {
        r.iter().find_map(|v| v.get("error").and_then(Value::as_str))
    }

    fn count(db: &Database, t: &str) -> usize {
        db.tables[t].rows.len()
    }

    /// A root row with one kid holding one toy.
    fn populated() -> (Database, Uuid) {
        let mut db = Database::new(schema());
        let r = run(&mut db, json!([
            {"op": "insert", "table": "Toy", "row": {"color": "red"}, "uuid-name": "toy"},
            {"op": "insert", "table": "Kid", "row": {"name": "k1", "toys": ["named-uuid", "toy"]}, "uuid-name": "kid"},
            {"op": "insert", "table": "Root", "row": {"name": "r", "kids": ["named-uuid", "kid"], "one_weak": ["named-uuid", "kid"]}, "uuid-name": "root"}
        ]));
        assert_eq!(err(&r), None, "{r:?}");
        let root = Uuid::parse_str(r[2]["uuid"][1].as_str().unwrap()).unwrap();
        (db, root)
    }

    #[test]
    fn insert_select_with_named_uuids_and_forward_references() {
        let mut db = Database::new(schema());
        // The Root insert references the kid before the kid's insert (as ovs-vsctl may order them).
        let r = run(&mut db, json!([
            {"op": "insert", "table": "Root", "row": {"name": "r", "kids": ["set", [["named-uuid", "k"]]], "one_weak": ["named-uuid", "k"]}},
            {"op": "insert", "table": "Kid", "row": {"name": "k"}, "uuid-name": "k"},
            {"op": "select", "table": "Root", "where": [["name", "==", "r"]], "columns": ["kids"]}
        ]));
        assert_eq!(err(&r), None, "{r:?}");
        let kid = r[1]["uuid"].clone();
        assert_eq!(r[2]["rows"], json!([{"kids": kid}]));
        let sel = run(&mut db, json!([{"op": "select", "table": "Kid", "where": []}]));
        let row = &sel[0]["rows"][0];
        assert_eq!(row["_uuid"], kid);
        assert!(row["_version"][1].is_string());
        assert_eq!(row["toys"], json!(["set", []]), "defaults are filled in");
    }

    #[test]
    fn insert_errors() {
        let mut db = Database::new(schema());
        let r = run(&mut db, json!([
            {"op": "insert", "table": "Free", "uuid-name": "x"},
            {"op": "insert", "table": "Free", "uuid-name": "x"}
        ]));
        assert_eq!(err(&r), Some("duplicate uuid-name"));
        assert_eq!(r.len(), 2);
        assert!(r[0].get("uuid").is_some(), "results before the failure are kept");
        assert_eq!(count(&db, "Free"), 0, "nothing committed");

        let r = run(&mut db, json!([{"op": "insert", "table": "Root", "row": {"n": 11}}]));
        assert_eq!(err(&r), Some("constraint violation"));
        let r = run(&mut db, json!([{"op": "insert", "table": "Root", "row": {"mode": "c"}}]));
        assert_eq!(err(&r), Some("constraint violation"));
        let r = run(&mut db, json!([{"op": "insert", "table": "Root", "row": {"n": "x"}}]));
        assert_eq!(err(&r), Some("syntax error"));
        let r = run(&mut db, json!([{"op": "insert", "table": "Nope"}]));
        assert_eq!(err(&r), Some("unknown table"));
        let r = run(&mut db, json!([{"op": "insert", "table": "Root", "row": {"zzz": 1}}]));
        assert_eq!(err(&r), Some("unknown column"));
        let r = run(&mut db, json!([{"op": "frobnicate"}, {"op": "comment", "comment": "x"}]));
        assert_eq!(err(&r), Some("syntax error"));
        assert_eq!(r, vec![r[0].clone(), Value::Null], "padded with null after the failed operation");

        let u = Uuid::new_v4().to_string();
        let r = run(&mut db, json!([{"op": "insert", "table": "Free", "uuid": u}]));
        assert_eq!(r[0]["uuid"][1], json!(u), "explicit uuid honoured");
        let r = run(&mut db, json!([{"op": "insert", "table": "Free", "uuid": u}]));
        assert_eq!(err(&r), Some("duplicate uuid"));
    }

    #[test]
    fn update_mutate_delete_counts_and_errors() {
        let (mut db, root) = populated();
        let w = json!([["_uuid", "==", ["uuid", root.to_string()]]]);
        let r = run(&mut db, json!([
            {"op": "update", "table": "Root", "where": w, "row": {"n": 3, "mode": "b"}},
            {"op": "mutate", "table": "Root", "where": w, "mutations": [["n", "+=", 2]]},
            {"op": "select", "table": "Root", "where": w, "columns": ["n", "mode"]}
        ]));
        assert_eq!(r[0], json!({"count": 1}));
        assert_eq!(r[1], json!({"count": 1}));
        assert_eq!(r[2]["rows"], json!([{"n": 5, "mode": "b"}]));
        let r = run(&mut db, json!([{"op": "update", "table": "Root", "where": [["n", "==", 99]], "row": {"n": 1}}]));
        assert_eq!(r[0], json!({"count": 0}));

        let r = run(&mut db, json!([{"op": "update", "table": "Root", "where": [], "row": {"fixed": "x"}}]));
        assert_eq!(err(&r), Some("constraint violation"), "immutable column");
        let r = run(&mut db, json!([{"op": "update", "table": "Root", "where": [], "row": {"_uuid": ["uuid", root.to_string()]}}]));
        assert_eq!(err(&r), Some("constraint violation"));
        let r = run(&mut db, json!([{"op": "mutate", "table": "Root", "where": [], "mutations": [["n", "+=", 6]]}]));
        assert_eq!(err(&r), Some("constraint violation"), "maxInteger 10");
        let r = run(&mut db, json!([{"op": "mutate", "table": "Root", "where": [], "mutations": [["n", "/=", 0]]}]));
        assert_eq!(err(&r), Some("domain error"));
        let r = run(&mut db, json!([{"op": "select", "table": "Root", "where": [], "columns": ["n"]}]));
        assert_eq!(r[0]["rows"], json!([{"n": 5}]), "failed transactions change nothing");

        let r = run(&mut db, json!([{"op": "insert", "table": "Free", "row": {"v": ["map", [["a", 1]]]}}]));
        assert_eq!(err(&r), None);
        let r = run(&mut db, json!([{"op": "delete", "table": "Free", "where": [["v", "includes", ["map", [["a", 1]]]]]}]));
        assert_eq!(r[0], json!({"count": 1}));
        assert_eq!(count(&db, "Free"), 0);
    }

    #[test]
    fn referential_integrity_and_garbage_collection() {
        let (mut db, root) = populated();
        // Deleting a strongly referenced row fails.
        let r = run(&mut db, json!([{"op": "delete", "table": "Kid", "where": []}]));
        assert_eq!(err(&r), Some("referential integrity violation"));
        assert_eq!(r.len(), 2, "commit errors are appended after the operation results");
        // A reference to a row that does not exist fails.
        let r = run(&mut db, json!([{"op": "mutate", "table": "Root", "where": [], "mutations": [["kids", "insert", ["uuid", Uuid::new_v4().to_string()]]]}]));
        assert_eq!(err(&r), Some("referential integrity violation"));
        // An unreferenced non-root row is collected as soon as it is inserted.
        let r = run(&mut db, json!([{"op": "insert", "table": "Toy", "row": {"color": "blue"}}]));
        assert_eq!(err(&r), None);
        assert_eq!(count(&db, "Toy"), 1);
        // Dropping the root's reference collects the kid, and transitively its toy; the weak reference to the
        // kid in a scalar (min 1) column then violates its constraint.
        let w = json!([["_uuid", "==", ["uuid", root.to_string()]]]);
        let r = run(&mut db, json!([{"op": "update", "table": "Root", "where": w, "row": {"kids": ["set", []]}}]));
        assert_eq!(err(&r), Some("constraint violation"), "{r:?}");
        assert_eq!(count(&db, "Kid"), 1);
        let r = run(&mut db, json!([{"op": "delete", "table": "Root", "where": w}]));
        assert_eq!(err(&r), None, "{r:?}");
        assert_eq!((count(&db, "Root"), count(&db, "Kid"), count(&db, "Toy")), (0, 0, 0));
    }

    #[test]
    fn weak_references_disappear() {
        let mut db = Database::new(schema());
        let r = run(&mut db, json!([
            {"op": "insert", "table": "Kid", "row": {"name": "a"}, "uuid-name": "a"},
            {"op": "insert", "table": "Kid", "row": {"name": "b"}, "uuid-name": "b"},
            {"op": "insert", "table": "Root", "row": {"name": "r", "kids": ["set", [["named-uuid", "a"], ["named-uuid", "b"]]],
                "fav": ["set", [["named-uuid", "a"], ["named-uuid", "b"]]], "one_weak": ["named-uuid", "a"]}}
        ]));
        assert_eq!(err(&r), None, "{r:?}");
        let (a, b) = (r[0]["uuid"].clone(), r[1]["uuid"].clone());
        let r = run(&mut db, json!([{"op": "mutate", "table": "Root", "where": [], "mutations": [["kids", "delete", b]]}]));
        assert_eq!(err(&r), None, "{r:?}");
        let r = run(&mut db, json!([{"op": "select", "table": "Root", "where": [], "columns": ["fav"]}]));
        assert_eq!(r[0]["rows"][0]["fav"], a, "the weak reference to the collected kid b is gone");
        assert_eq!(count(&db, "Kid"), 1);
    }

    #[test]
    fn indexes_and_max_rows() {
        let mut db = Database::new(schema());
        let r = run(&mut db, json!([
            {"op": "insert", "table": "Kid", "row": {"name": "same"}, "uuid-name": "a"},
            {"op": "insert", "table": "Kid", "row": {"name": "same"}, "uuid-name": "b"},
            {"op": "insert", "table": "Root", "row": {"kids": ["set", [["named-uuid", "a"], ["named-uuid", "b"]]], "one_weak": ["named-uuid", "a"]}}
        ]));
        assert_eq!(err(&r), Some("constraint violation"));
        assert!(r[3]["details"].as_str().unwrap().contains("index"));
        let r = run(&mut db, json!([
            {"op": "insert", "table": "Kid", "row": {"name": "k"}, "uuid-name": "k"},
            {"op": "insert", "table": "Root", "row": {"one_weak": ["named-uuid", "k"], "kids": ["named-uuid", "k"]}},
            {"op": "insert", "table": "Root", "row": {"one_weak": ["named-uuid", "k"]}},
            {"op": "insert", "table": "Root", "row": {"one_weak": ["named-uuid", "k"]}}
        ]));
        assert_eq!(err(&r), Some("constraint violation"));
        assert!(r[4]["details"].as_str().unwrap().contains("limit of 2"));
    }

    #[test]
    fn wait_commit_abort_comment_assert() {
        let (mut db, _) = populated();
        let ok = run(&mut db, json!([
            {"op": "wait", "timeout": 0, "table": "Root", "where": [], "columns": ["name"], "until": "==", "rows": [{"name": "r"}]},
            {"op": "wait", "timeout": 0, "table": "Root", "where": [], "columns": ["name"], "until": "!=", "rows": [{"name": "x"}]},
            {"op": "commit", "durable": true},
            {"op": "comment", "comment": "hello"}
        ]));
        assert_eq!(err(&ok), None);
        let r = run(&mut db, json!([{"op": "wait", "timeout": 0, "table": "Root", "where": [], "columns": ["name"], "until": "==", "rows": []}]));
        assert_eq!(err(&r), Some("timed out"));
        let r = run(&mut db, json!([{"op": "insert", "table": "Free"}, {"op": "abort"}]));
        assert_eq!(err(&r), Some("aborted"));
        assert_eq!(count(&db, "Free"), 0);

        // A wait without timeout stays pending; assert consults the lock owner.
        let ops = vec![json!({"op": "wait", "table": "Root", "where": [], "columns": ["name"], "until": "==", "rows": []})];
        assert!(matches!(execute(&db, &ops, &|_| false, 5), Outcome::Pending { timeout_ms: None }));
        let ops = vec![json!({"op": "wait", "timeout": 100, "table": "Root", "where": [], "columns": ["name"], "until": "==", "rows": []})];
        assert!(matches!(execute(&db, &ops, &|_| false, 5), Outcome::Pending { timeout_ms: Some(100) }));
        let Outcome::Done { results, .. } = execute(&db, &ops, &|_| false, 100) else { panic!("expected timeout") };
        assert_eq!(err(&results), Some("timed out"));
        let ops = vec![json!({"op": "assert", "lock": "L"})];
        let Outcome::Done { results, .. } = execute(&db, &ops, &|l| l == "L", 0) else { panic!() };
        assert_eq!(results, vec![json!({})]);
        let Outcome::Done { results, .. } = execute(&db, &ops, &|_| false, 0) else { panic!() };
        assert_eq!(err(&results), Some("not owner"));

        // Comments travel with the change set.
        let ops = vec![json!({"op": "insert", "table": "Free"}), json!({"op": "comment", "comment": "why"})];
        let Outcome::Done { commit: Some(c), .. } = execute(&db, &ops, &|_| false, 0) else { panic!() };
        assert_eq!(c.changes.comments, vec!["why".to_owned()]);
        assert_eq!(c.changes.len(), 1);
    }

    #[test]
    fn changes_and_versions() {
        let (db, root) = populated();
        let old_version = db.row("Root", &root).unwrap().version;
        // A no-op update produces no change and keeps the version.
        let ops = vec![json!({"op": "update", "table": "Root", "where": [], "row": {"name": "r"}})];
        let Outcome::Done { commit, .. } = execute(&db, &ops, &|_| false, 0) else { panic!() };
        assert!(commit.is_none());
        let ops = vec![json!({"op": "update", "table": "Root", "where": [], "row": {"name": "s"}})];
        let Outcome::Done { commit: Some(c), .. } = execute(&db, &ops, &|_| false, 0) else { panic!() };
        let ch = &c.changes.tables["Root"][&root];
        assert_eq!(ch.old.as_ref().unwrap().version, old_version);
        assert_ne!(ch.new.as_ref().unwrap().version, old_version, "_version changes with the row");
        // Read-only transactions commit nothing.
        let ops = vec![json!({"op": "select", "table": "Root", "where": []})];
        assert!(matches!(execute(&db, &ops, &|_| false, 0), Outcome::Done { commit: None, .. }));
    }
}
