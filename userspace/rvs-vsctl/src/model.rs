//! The local view of the database one invocation works on: a snapshot of every table read in one `transact`
//! (so it is consistent), changed in place by the commands, then turned into ONE transaction — `wait`
//! operations asserting that every value the commands relied on is unchanged (ovs-vsctl's "verify"), then the
//! inserts, updates and deletes, the `next_cfg` increment, a comment — exactly as Open vSwitch's IDL does.

use std::collections::{BTreeMap, BTreeSet};

use ovsdb::client::{Client, ClientError};
use ovsdb::datum::Datum;
use ovsdb::schema::{DatabaseSchema, TableSchema};
use ovsdb::types::Type;
use serde_json::{json, Value};
use uuid::Uuid;

/// One row: user column → value (absent columns have their default value).
pub type Row = BTreeMap<String, Datum>;

/// The database as this invocation sees it.
pub struct Db {
    /// The schema the server reported.
    pub schema: DatabaseSchema,
    cur: BTreeMap<String, BTreeMap<Uuid, Row>>,
    orig: BTreeMap<String, BTreeMap<Uuid, Row>>,
    /// Rows created by this invocation (temporary UUIDs).
    inserted: BTreeSet<Uuid>,
    written: BTreeMap<Uuid, BTreeSet<String>>,
    prereqs: BTreeMap<(String, Uuid), BTreeSet<String>>,
}

/// What the commit produced.
pub enum Commit {
    /// Nothing to write: no transaction was sent.
    Unchanged,
    /// Committed: temporary → permanent UUIDs of inserted rows, and the new `next_cfg` if it was incremented.
    Success { uuids: BTreeMap<Uuid, Uuid>, next_cfg: Option<i64> },
    /// A verified value changed meanwhile: read again and rerun the commands.
    TryAgain,
    /// The server refused the transaction (message for the user).
    Error(String),
}

/// `row<uuid with underscores>`, the `uuid-name` of an inserted row.
fn row_name(u: &Uuid) -> String {
    format!("row{}", u.to_string().replace('-', "_"))
}

fn where_uuid(u: &Uuid, named: bool) -> Value {
    if named {
        json!([["_uuid", "==", ["named-uuid", row_name(u)]]])
    } else {
        json!([["_uuid", "==", ["uuid", u.to_string()]]])
    }
}

impl Db {
    /// Reads every table of database `db` in one `transact`.
    pub fn load(client: &Client, schema: DatabaseSchema) -> Result<Db, String> {
        let names: Vec<String> = schema.tables.keys().cloned().collect();
        let ops: Vec<Value> = names.iter().map(|t| json!({"op": "select", "table": t, "where": []})).collect();
        let res = client.transact(&schema.name, &ops).map_err(|e| format!("reading the database failed: {e}"))?;
        let mut cur = BTreeMap::new();
        for (t, r) in names.iter().zip(res.iter()) {
            let ts = &schema.tables[t];
            let mut rows = BTreeMap::new();
            let Some(list) = r.get("rows").and_then(Value::as_array) else {
                return Err(format!("reading table {t} failed: {r}"));
            };
            for row in list {
                let uuid = row
                    .get("_uuid")
                    .and_then(|u| u.get(1))
                    .and_then(Value::as_str)
                    .and_then(|s| Uuid::parse_str(s).ok())
                    .ok_or_else(|| format!("row of {t} without _uuid"))?;
                let mut data = Row::new();
                for c in ts.user_columns() {
                    if let Some(v) = row.get(&c.name) {
                        let d = Datum::from_json_relaxed(&c.ty, v, None).map_err(|e| format!("{t}.{}: {e}", c.name))?;
                        data.insert(c.name.clone(), d);
                    }
                }
                rows.insert(uuid, data);
            }
            cur.insert(t.clone(), rows);
        }
        Ok(Db {
            schema,
            orig: cur.clone(),
            cur,
            inserted: BTreeSet::new(),
            written: BTreeMap::new(),
            prereqs: BTreeMap::new(),
        })
    }

    /// The schema of `table` (which must exist).
    pub fn table_schema(&self, table: &str) -> &TableSchema {
        &self.schema.tables[table]
    }

    /// The type of `table.column`.
    pub fn col_type(&self, table: &str, column: &str) -> &Type {
        &self.schema.tables[table].columns[column].ty
    }

    /// Rows of `table` in UUID order.
    pub fn rows(&self, table: &str) -> Vec<Uuid> {
        self.cur.get(table).map(|m| m.keys().copied().collect()).unwrap_or_default()
    }

    /// Whether `table` currently has row `u`.
    pub fn exists(&self, table: &str, u: &Uuid) -> bool {
        self.cur.get(table).is_some_and(|m| m.contains_key(u))
    }

    /// The value of `table.column` in row `u` (the default if unset or the row is missing).
    pub fn get(&self, table: &str, u: &Uuid, column: &str) -> Datum {
        match self.cur.get(table).and_then(|m| m.get(u)).and_then(|r| r.get(column)) {
            Some(d) => d.clone(),
            None => Datum::default_for(self.col_type(table, column)),
        }
    }

    /// The string value of a scalar string column, if set.
    pub fn get_str(&self, table: &str, u: &Uuid, column: &str) -> Option<String> {
        self.get(table, u, column).as_scalar().and_then(|a| a.as_str().map(str::to_owned))
    }

    /// The UUIDs in a reference column.
    pub fn get_uuids(&self, table: &str, u: &Uuid, column: &str) -> Vec<Uuid> {
        self.get(table, u, column).keys().filter_map(|a| a.as_uuid()).collect()
    }

    /// Sets `table.column` of row `u`.
    pub fn write(&mut self, table: &str, u: &Uuid, column: &str, d: Datum) {
        if let Some(r) = self.cur.get_mut(table).and_then(|m| m.get_mut(u)) {
            r.insert(column.to_owned(), d);
            self.written.entry(*u).or_default().insert(column.to_owned());
        }
    }

    /// Asserts at commit time that `table.column` of row `u` still has the value read now.
    pub fn verify(&mut self, table: &str, u: &Uuid, column: &str) {
        if self.orig.get(table).is_some_and(|m| m.contains_key(u)) {
            self.prereqs.entry((table.to_owned(), *u)).or_default().insert(column.to_owned());
        }
    }

    /// Inserts a new row with default values under `uuid` (temporary until commit).
    pub fn insert(&mut self, table: &str, uuid: Uuid) {
        self.cur.entry(table.to_owned()).or_default().insert(uuid, Row::new());
        self.inserted.insert(uuid);
    }

    /// Deletes row `u` (references to it are left alone, as ovs-vsctl does).
    pub fn delete(&mut self, table: &str, u: &Uuid) {
        if let Some(m) = self.cur.get_mut(table) {
            m.remove(u);
        }
    }

    /// Whether row `u` was created by this invocation.
    pub fn is_inserted(&self, u: &Uuid) -> bool {
        self.inserted.contains(u)
    }

    fn datum_json(&self, d: &Datum) -> Value {
        let mut v = d.to_json();
        self.substitute(&mut v);
        v
    }

    /// Rewrites references to inserted rows as `["named-uuid", ...]`.
    fn substitute(&self, v: &mut Value) {
        match v {
            Value::Array(a) => {
                if a.len() == 2 && a[0] == "uuid" {
                    if let Some(u) = a[1].as_str().and_then(|s| Uuid::parse_str(s).ok()) {
                        if self.inserted.contains(&u) {
                            *v = json!(["named-uuid", row_name(&u)]);
                        }
                    }
                    return;
                }
                for x in a {
                    self.substitute(x);
                }
            }
            Value::Object(m) => {
                for x in m.values_mut() {
                    self.substitute(x);
                }
            }
            _ => {}
        }
    }

    /// Builds the transaction; returns the operations, whether anything changes, the index of each insert
    /// (temporary UUID, operation index) and the index of the `next_cfg` select.
    #[allow(clippy::type_complexity)]
    fn build(&self, increment: Option<(&str, Uuid, &str)>, comment: &str, dry_run: bool) -> (Vec<Value>, bool, Vec<(Uuid, usize)>, Option<usize>) {
        let mut ops = Vec::new();
        for ((t, u), cols) in &self.prereqs {
            let Some(orow) = self.orig.get(t).and_then(|m| m.get(u)) else { continue };
            let mut row = serde_json::Map::new();
            for c in cols {
                let d = orow.get(c).cloned().unwrap_or_else(|| Datum::default_for(self.col_type(t, c)));
                row.insert(c.clone(), d.to_json());
            }
            ops.push(json!({"op": "wait", "table": t, "timeout": 0, "where": where_uuid(u, false), "until": "==",
                "columns": cols.iter().collect::<Vec<_>>(), "rows": [Value::Object(row)]}));
        }
        let mut any = false;
        // Singleton tables: an insert asserts the table is still empty.
        for (t, ts) in &self.schema.tables {
            if ts.max_rows == Some(1) {
                let initial = self.orig.get(t).map_or(0, BTreeMap::len);
                let fin = self.cur.get(t).map_or(0, BTreeMap::len);
                if initial == 0 && fin == 1 {
                    ops.push(json!({"op": "wait", "table": t, "where": [], "timeout": 0, "until": "==", "rows": []}));
                }
            }
        }
        let mut inserts = Vec::new();
        for (t, rows) in &self.orig {
            for u in rows.keys() {
                if !self.exists(t, u) && self.schema.tables[t].is_root {
                    ops.push(json!({"op": "delete", "table": t, "where": where_uuid(u, false)}));
                    any = true;
                }
            }
        }
        for (t, rows) in &self.cur {
            for (u, row) in rows {
                let written = self.written.get(u);
                if self.inserted.contains(u) {
                    let mut data = serde_json::Map::new();
                    for c in written.into_iter().flatten() {
                        let d = row.get(c).cloned().unwrap_or_else(|| Datum::default_for(self.col_type(t, c)));
                        if d != Datum::default_for(self.col_type(t, c)) {
                            data.insert(c.clone(), self.datum_json(&d));
                        }
                    }
                    inserts.push((*u, ops.len()));
                    ops.push(json!({"op": "insert", "table": t, "uuid-name": row_name(u), "row": Value::Object(data)}));
                    any = true;
                } else if let Some(cols) = written {
                    let orow = &self.orig[t][u];
                    let mut data = serde_json::Map::new();
                    for c in cols {
                        let def = Datum::default_for(self.col_type(t, c));
                        let new = row.get(c).unwrap_or(&def);
                        let old = orow.get(c).unwrap_or(&def);
                        if new != old {
                            any = true;
                        }
                        data.insert(c.clone(), self.datum_json(new));
                    }
                    if !data.is_empty() {
                        ops.push(json!({"op": "update", "table": t, "where": where_uuid(u, false), "row": Value::Object(data)}));
                    }
                }
            }
        }
        let mut inc_index = None;
        if let Some((t, u, c)) = increment {
            if any {
                let named = self.inserted.contains(&u);
                ops.push(json!({"op": "mutate", "table": t, "where": where_uuid(&u, named), "mutations": [[c, "+=", 1]]}));
                inc_index = Some(ops.len());
                ops.push(json!({"op": "select", "table": t, "where": where_uuid(&u, named), "columns": [c]}));
            }
        }
        ops.push(json!({"op": "comment", "comment": comment}));
        if dry_run {
            ops.push(json!({"op": "abort"}));
        }
        (ops, any, inserts, inc_index)
    }

    /// Sends the transaction (unless nothing changes) and interprets the reply like Open vSwitch's IDL.
    pub fn commit(
        &self,
        client: &Client,
        increment: Option<(&str, Uuid, &str)>,
        comment: &str,
        dry_run: bool,
        verbose: bool,
    ) -> Result<Commit, ClientError> {
        let (ops, any, inserts, inc_index) = self.build(increment, comment, dry_run);
        if !any {
            return Ok(Commit::Unchanged);
        }
        if verbose {
            let mut params = vec![Value::from(self.schema.name.clone())];
            params.extend(ops.iter().cloned());
            eprintln!("rvs-vsctl: transact {}", Value::from(params));
        }
        let res = match client.transact(&self.schema.name, &ops) {
            Ok(r) => r,
            Err(ClientError::Rpc(e)) => return Ok(Commit::Error(crate::value::json_sorted(&e))),
            Err(e) => return Err(e),
        };
        if verbose {
            eprintln!("rvs-vsctl: reply {}", Value::from(res.clone()));
        }
        let (mut hard, mut soft) = (None, false);
        for r in &res {
            match r {
                Value::Null => soft = true,
                Value::Object(m) => match m.get("error") {
                    Some(Value::String(e)) if e == "timed out" => soft = true,
                    Some(Value::String(e)) if e == "aborted" => {}
                    Some(_) if hard.is_none() => hard = Some(crate::value::json_sorted(r)),
                    Some(_) => {}
                    None => {}
                },
                other => hard = Some(crate::value::json_sorted(other)),
            }
        }
        if let Some(h) = hard {
            return Ok(Commit::Error(h));
        }
        if soft {
            return Ok(Commit::TryAgain);
        }
        let mut uuids = BTreeMap::new();
        for (tmp, i) in inserts {
            if let Some(real) = res.get(i).and_then(|r| r.get("uuid")).and_then(|u| u.get(1)).and_then(Value::as_str) {
                if let Ok(real) = Uuid::parse_str(real) {
                    uuids.insert(tmp, real);
                }
            }
        }
        let next_cfg = inc_index.and_then(|i| res.get(i)).and_then(|r| r.get("rows")).and_then(|r| r.get(0)).and_then(|r| {
            let (_, v) = r.as_object()?.iter().next()?;
            v.as_i64()
        });
        let next_cfg = match (increment, next_cfg) {
            (Some(_), None) if dry_run => None,
            (Some(_), None) if inc_index.is_some() => return Ok(Commit::Error("increment reply missing".into())),
            (_, n) => n,
        };
        Ok(Commit::Success { uuids, next_cfg })
    }
}
