//! The in-memory database: rows (copy-on-write behind `Arc`), tables, and the change sets that transactions
//! produce and that storage and monitors consume.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::atom::Atom;
use crate::datum::Datum;
use crate::schema::{DatabaseSchema, TableSchema};

/// One row: its UUID, its version (a new UUID each time it changes) and one datum per user column.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `_uuid`.
    pub uuid: Uuid,
    /// `_version`.
    pub version: Uuid,
    /// Every user column of the table, by name.
    pub data: BTreeMap<String, Datum>,
}

impl Row {
    /// A row of `table` with every column at its default value.
    pub fn new(table: &TableSchema, uuid: Uuid) -> Row {
        let data = table.user_columns().map(|c| (c.name.clone(), Datum::default_for(&c.ty))).collect();
        Row { uuid, version: Uuid::new_v4(), data }
    }

    /// The value of a column, including `_uuid` and `_version`.
    pub fn get(&self, column: &str) -> Option<Cow<'_, Datum>> {
        match column {
            "_uuid" => Some(Cow::Owned(Datum::scalar(Atom::Uuid(self.uuid)))),
            "_version" => Some(Cow::Owned(Datum::scalar(Atom::Uuid(self.version)))),
            c => self.data.get(c).map(Cow::Borrowed),
        }
    }

    /// The `<row>` JSON object holding `columns` (all columns, `_uuid` and `_version` included, when `None`).
    pub fn to_json(&self, columns: Option<&[String]>) -> Value {
        let mut m = Map::new();
        match columns {
            Some(cols) => {
                for c in cols {
                    if let Some(d) = self.get(c) {
                        m.insert(c.clone(), d.to_json());
                    }
                }
            }
            None => {
                m.insert("_uuid".into(), Atom::Uuid(self.uuid).to_json());
                m.insert("_version".into(), Atom::Uuid(self.version).to_json());
                for (c, d) in &self.data {
                    m.insert(c.clone(), d.to_json());
                }
            }
        }
        Value::Object(m)
    }
}

/// The rows of one table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Rows by UUID.
    pub rows: BTreeMap<Uuid, Arc<Row>>,
}

/// A database: a schema and its tables.
#[derive(Debug, Clone, PartialEq)]
pub struct Database {
    schema: Arc<DatabaseSchema>,
    /// Tables by name (one per schema table).
    pub tables: BTreeMap<String, Table>,
}

impl Database {
    /// An empty database for `schema`.
    pub fn new(schema: DatabaseSchema) -> Database {
        let tables = schema.tables.keys().map(|t| (t.clone(), Table::default())).collect();
        Database { schema: Arc::new(schema), tables }
    }

    /// The schema.
    pub fn schema(&self) -> &Arc<DatabaseSchema> {
        &self.schema
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.schema.name
    }

    /// A row by table and UUID.
    pub fn row(&self, table: &str, uuid: &Uuid) -> Option<&Arc<Row>> {
        self.tables.get(table)?.rows.get(uuid)
    }

    /// The rows of a table (empty for unknown tables).
    pub fn rows(&self, table: &str) -> impl Iterator<Item = &Arc<Row>> {
        self.tables.get(table).into_iter().flat_map(|t| t.rows.values())
    }

    /// Applies a change set (as produced by a transaction on this database or read from storage).
    pub fn apply(&mut self, changes: &Changes) {
        for (tname, rows) in &changes.tables {
            let table = self.tables.entry(tname.clone()).or_default();
            for (uuid, ch) in rows {
                match &ch.new {
                    Some(r) => {
                        table.rows.insert(*uuid, r.clone());
                    }
                    None => {
                        table.rows.remove(uuid);
                    }
                }
            }
        }
    }
}

/// How one row changed: `old` is absent for inserts, `new` for deletes.
#[derive(Debug, Clone, PartialEq)]
pub struct RowChange {
    /// The row before.
    pub old: Option<Arc<Row>>,
    /// The row after.
    pub new: Option<Arc<Row>>,
}

/// What one committed transaction changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// Changed rows per table.
    pub tables: BTreeMap<String, BTreeMap<Uuid, RowChange>>,
    /// Text of the transaction's `comment` operations.
    pub comments: Vec<String>,
}

impl Changes {
    /// No row changed.
    pub fn is_empty(&self) -> bool {
        self.tables.values().all(BTreeMap::is_empty)
    }

    /// Number of changed rows.
    pub fn len(&self) -> usize {
        self.tables.values().map(BTreeMap::len).sum()
    }
}
