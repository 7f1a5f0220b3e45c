//! Monitors: `monitor` (RFC 7047 §4.1.5, `update` notifications), `monitor_cond` and `monitor_cond_since`
//! (ovsdb-server(7): `update2`/`update3` with `initial`/`insert`/`delete`/`modify` and element-wise diffs),
//! their request parsing and the composition of initial contents and change notifications.

use serde_json::{Map, Value};

use crate::condition::Condition;
use crate::datum::Datum;
use crate::db::{Changes, Database, Row};
use crate::error::{Error, Result};
use crate::schema::{DatabaseSchema, TableSchema};

/// Which protocol flavour a monitor speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `monitor` / `update`.
    V1,
    /// `monitor_cond` / `update2`.
    V2,
    /// `monitor_cond_since` / `update3`.
    V3,
}

/// Which kinds of change a monitor reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Select {
    /// Rows present when the monitor starts.
    pub initial: bool,
    /// Inserted rows.
    pub insert: bool,
    /// Deleted rows.
    pub delete: bool,
    /// Modified rows.
    pub modify: bool,
}

impl Select {
    const ALL: Select = Select { initial: true, insert: true, delete: true, modify: true };

    fn from_json(v: Option<&Value>) -> Result<Select> {
        let Some(v) = v else { return Ok(Select::ALL) };
        let o = v.as_object().ok_or_else(|| Error::syntax("'select' must be an object"))?;
        let flag = |k: &str| o.get(k).map_or(Ok(true), |b| b.as_bool().ok_or_else(|| Error::syntax(format!("'{k}' must be a boolean"))));
        Ok(Select { initial: flag("initial")?, insert: flag("insert")?, delete: flag("delete")?, modify: flag("modify")? })
    }

    fn union(self, o: Select) -> Select {
        Select { initial: self.initial || o.initial, insert: self.insert || o.insert, delete: self.delete || o.delete, modify: self.modify || o.modify }
    }
}

/// What a monitor watches in one table.
#[derive(Debug, Clone)]
pub struct TableMonitor {
    /// Table name.
    pub table: String,
    /// Monitored columns.
    pub columns: Vec<String>,
    /// Reported change kinds.
    pub select: Select,
    /// Row filter (`monitor_cond`); `None` = every row.
    pub condition: Option<Condition>,
}

/// One monitor of one session.
#[derive(Debug, Clone)]
pub struct Monitor {
    /// Protocol flavour.
    pub version: Version,
    /// The client's monitor id (any JSON).
    pub id: Value,
    /// Watched tables.
    pub tables: Vec<TableMonitor>,
}

impl Monitor {
    /// Parses `<monitor-requests>` (or `<monitor-cond-requests>` for V2/V3) against `schema`.
    pub fn parse(schema: &DatabaseSchema, version: Version, id: Value, requests: &Value) -> Result<Monitor> {
        let reqs = requests.as_object().ok_or_else(|| Error::syntax("monitor requests must be an object"))?;
        let mut tables = Vec::new();
        for (tname, req) in reqs {
            let t = schema.table(tname)?;
            let list: Vec<&Value> = match req {
                Value::Array(a) => a.iter().collect(),
                v => vec![v],
            };
            let mut columns: Vec<String> = Vec::new();
            let mut select: Option<Select> = None;
            let mut condition = None;
            for r in list {
                let o = r.as_object().ok_or_else(|| Error::syntax("monitor request must be an object"))?;
                let cols: Vec<String> = match o.get("columns") {
                    Some(c) => {
                        let arr = c.as_array().ok_or_else(|| Error::syntax("'columns' must be an array"))?;
                        let mut v = Vec::new();
                        for c in arr {
                            let c = c.as_str().ok_or_else(|| Error::syntax("column names must be strings"))?;
                            t.column(c)?;
                            v.push(c.to_owned());
                        }
                        v
                    }
                    None => t.user_columns().map(|c| c.name.clone()).collect(),
                };
                for c in cols {
                    if !columns.contains(&c) {
                        columns.push(c);
                    }
                }
                let s = Select::from_json(o.get("select"))?;
                select = Some(select.map_or(s, |x| x.union(s)));
                if version != Version::V1 {
                    if let Some(w) = o.get("where") {
                        condition = Some(Condition::from_json(t, w, None)?);
                    }
                }
            }
            tables.push(TableMonitor { table: tname.clone(), columns, select: select.unwrap_or(Select::ALL), condition });
        }
        Ok(Monitor { version, id, tables })
    }

    /// The `<table-updates>` (V1) or `<table-updates2>` (V2/V3) of the monitor's initial reply.
    pub fn initial(&self, db: &Database) -> Value {
        let mut out = Map::new();
        for tm in &self.tables {
            if !tm.select.initial {
                continue;
            }
            let Some(t) = db.schema().tables.get(&tm.table) else { continue };
            let mut rows = Map::new();
            for row in db.rows(&tm.table) {
                if tm.condition.as_ref().is_some_and(|c| !c.matches(row)) {
                    continue;
                }
                let v = match self.version {
                    Version::V1 => wrap("new", columns_json(row, &tm.columns)),
                    _ => wrap("initial", non_default_json(t, row, &tm.columns)),
                };
                rows.insert(row.uuid.to_string(), v);
            }
            if !rows.is_empty() {
                out.insert(tm.table.clone(), Value::Object(rows));
            }
        }
        Value::Object(out)
    }

    /// The table updates for one committed change set, or `None` if the monitor sees nothing of it.
    pub fn updates(&self, schema: &DatabaseSchema, changes: &Changes) -> Option<Value> {
        let mut out = Map::new();
        for tm in &self.tables {
            let (Some(rows), Some(t)) = (changes.tables.get(&tm.table), schema.tables.get(&tm.table)) else { continue };
            let mut tu = Map::new();
            for (uuid, ch) in rows {
                let matches = |r: &Option<std::sync::Arc<Row>>| r.as_ref().is_some_and(|r| tm.condition.as_ref().is_none_or(|c| c.matches(r)));
                let (old, new) = (matches(&ch.old).then_some(ch.old.as_ref()).flatten(), matches(&ch.new).then_some(ch.new.as_ref()).flatten());
                let v = match (old, new) {
                    (None, None) => continue,
                    (None, Some(n)) => {
                        if !tm.select.insert {
                            continue;
                        }
                        match self.version {
                            Version::V1 => wrap("new", columns_json(n, &tm.columns)),
                            _ => wrap("insert", non_default_json(t, n, &tm.columns)),
                        }
                    }
                    (Some(o), None) => {
                        if !tm.select.delete {
                            continue;
                        }
                        match self.version {
                            Version::V1 => wrap("old", columns_json(o, &tm.columns)),
                            _ => wrap("delete", Value::Null),
                        }
                    }
                    (Some(o), Some(n)) => {
                        if !tm.select.modify {
                            continue;
                        }
                        let changed: Vec<&String> = tm.columns.iter().filter(|c| o.get(c) != n.get(c)).collect();
                        if changed.is_empty() {
                            continue;
                        }
                        match self.version {
                            Version::V1 => {
                                let mut old_cols = Map::new();
                                for c in &changed {
                                    if let Some(d) = o.get(c) {
                                        old_cols.insert((*c).clone(), d.to_json());
                                    }
                                }
                                let mut m = Map::new();
                                m.insert("old".into(), Value::Object(old_cols));
                                m.insert("new".into(), columns_json(n, &tm.columns));
                                Value::Object(m)
                            }
                            _ => {
                                let mut diff = Map::new();
                                for c in changed {
                                    let (Some(od), Some(nd), Ok(col)) = (o.get(c), n.get(c), t.column(c)) else { continue };
                                    diff.insert(c.clone(), Datum::diff(&od, &nd, &col.ty).to_json());
                                }
                                wrap("modify", Value::Object(diff))
                            }
                        }
                    }
                };
                tu.insert(uuid.to_string(), v);
            }
            if !tu.is_empty() {
                out.insert(tm.table.clone(), Value::Object(tu));
            }
        }
        (!out.is_empty()).then_some(Value::Object(out))
    }

    /// Replaces the conditions of the tables named in `requests` (`monitor_cond_change`) and returns the
    /// `update2` contents that bring the client from the old filter to the new one.
    pub fn change_conditions(&mut self, db: &Database, requests: &Value) -> Result<Option<Value>> {
        let reqs = requests.as_object().ok_or_else(|| Error::syntax("monitor_cond_change requests must be an object"))?;
        let mut out = Map::new();
        for (tname, req) in reqs {
            let t: &TableSchema = db.schema().table(tname)?;
            let tm = self.tables.iter_mut().find(|tm| &tm.table == tname).ok_or_else(|| Error::syntax(format!("table {tname} is not monitored")))?;
            let first = match req {
                Value::Array(a) => a.first().cloned().unwrap_or(Value::Null),
                v => v.clone(),
            };
            let Some(w) = first.get("where") else { continue };
            let new_cond = Condition::from_json(t, w, None)?;
            let mut rows = Map::new();
            for row in db.rows(tname) {
                let was = tm.condition.as_ref().is_none_or(|c| c.matches(row));
                let is = new_cond.matches(row);
                if was && !is {
                    rows.insert(row.uuid.to_string(), wrap("delete", Value::Null));
                } else if !was && is {
                    rows.insert(row.uuid.to_string(), wrap("insert", non_default_json(t, row, &tm.columns)));
                }
            }
            tm.condition = Some(new_cond);
            if !rows.is_empty() {
                out.insert(tname.clone(), Value::Object(rows));
            }
        }
        Ok((!out.is_empty()).then_some(Value::Object(out)))
    }
}

fn wrap(k: &str, v: Value) -> Value {
    let mut m = Map::new();
    m.insert(k.into(), v);
    Value::Object(m)
}

fn columns_json(row: &Row, cols: &[String]) -> Value {
    let mut m = Map::new();
    for c in cols {
        if let Some(d) = row.get(c) {
            m.insert(c.clone(), d.to_json());
        }
    }
    Value::Object(m)
}

fn non_default_json(t: &TableSchema, row: &Row, cols: &[String]) -> Value {
    let mut m = Map::new();
    for c in cols {
        let (Some(d), Ok(col)) = (row.get(c), t.column(c)) else { continue };
        if c.starts_with('_') || *d != Datum::default_for(&col.ty) {
            m.insert(c.clone(), d.to_json());
        }
    }
    Value::Object(m)
}
