//! Database schemas (`<database-schema>` of RFC 7047): tables, columns, root tables, indexes, maxRows.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::atom::AtomicType;
use crate::error::{Error, Result};
use crate::types::Type;

/// One column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSchema {
    /// Column name.
    pub name: String,
    /// Column type.
    pub ty: Type,
    /// Not persisted (the value is lost on restart).
    pub ephemeral: bool,
    /// May be changed by `update`/`mutate` after insertion.
    pub mutable: bool,
}

/// One table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSchema {
    /// Table name.
    pub name: String,
    /// Columns, including the implicit `_uuid` and `_version`.
    pub columns: BTreeMap<String, ColumnSchema>,
    /// Maximum number of rows.
    pub max_rows: Option<usize>,
    /// Rows of non-root tables without strong references are garbage-collected.
    pub is_root: bool,
    /// Sets of columns whose combined values must be unique.
    pub indexes: Vec<Vec<String>>,
}

impl TableSchema {
    /// The column called `name`, or `"unknown column"`.
    pub fn column(&self, name: &str) -> Result<&ColumnSchema> {
        self.columns.get(name).ok_or_else(|| {
            Error::new(crate::error::tag::UNKNOWN_COLUMN, format!("No column {name} in table {}.", self.name))
        })
    }

    /// The user columns (everything but `_uuid` and `_version`).
    pub fn user_columns(&self) -> impl Iterator<Item = &ColumnSchema> {
        self.columns.values().filter(|c| !c.name.starts_with('_'))
    }
}

/// A whole database schema.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseSchema {
    /// Database name.
    pub name: String,
    /// Schema version `x.y.z`.
    pub version: String,
    /// Optional checksum string.
    pub cksum: Option<String>,
    /// Tables by name.
    pub tables: BTreeMap<String, TableSchema>,
}

impl DatabaseSchema {
    /// Parses and validates a schema (names, types, references to existing tables, index columns).
    pub fn from_json(v: &Value) -> Result<Self> {
        let obj = v.as_object().ok_or_else(|| Error::syntax("schema must be an object"))?;
        let name = obj.get("name").and_then(Value::as_str).ok_or_else(|| Error::syntax("schema needs \"name\""))?;
        let version = obj.get("version").and_then(Value::as_str).unwrap_or("0.0.0").to_owned();
        let cksum = obj.get("cksum").and_then(Value::as_str).map(str::to_owned);
        let tables_json = obj.get("tables").and_then(Value::as_object).ok_or_else(|| Error::syntax("schema needs \"tables\""))?;
        let any_root_declared = tables_json.values().any(|t| t.get("isRoot").is_some());
        let mut tables = BTreeMap::new();
        for (tname, t) in tables_json {
            check_id(tname)?;
            let t = t.as_object().ok_or_else(|| Error::syntax(format!("table {tname} must be an object")))?;
            let mut columns = BTreeMap::new();
            for (id, ty) in [("_uuid", AtomicType::Uuid), ("_version", AtomicType::Uuid)] {
                columns.insert(id.to_owned(), ColumnSchema { name: id.to_owned(), ty: Type::scalar(ty), ephemeral: false, mutable: false });
            }
            let cols = t.get("columns").and_then(Value::as_object).ok_or_else(|| Error::syntax(format!("table {tname} needs \"columns\"")))?;
            for (cname, c) in cols {
                check_id(cname)?;
                if cname.starts_with('_') {
                    return Err(Error::syntax(format!("{tname}.{cname}: names beginning with \"_\" are reserved")));
                }
                let c = c.as_object().ok_or_else(|| Error::syntax(format!("column {cname} must be an object")))?;
                let ty = Type::from_json(c.get("type").ok_or_else(|| Error::syntax(format!("column {cname} needs \"type\"")))?)
                    .map_err(|e| Error::syntax(format!("{tname}.{cname}: {}", e.details)))?;
                let ephemeral = c.get("ephemeral").and_then(Value::as_bool).unwrap_or(false);
                let mutable = c.get("mutable").and_then(Value::as_bool).unwrap_or(true);
                columns.insert(cname.clone(), ColumnSchema { name: cname.clone(), ty, ephemeral, mutable });
            }
            let max_rows = match t.get("maxRows") {
                None => None,
                Some(m) => Some(m.as_u64().and_then(|n| usize::try_from(n).ok()).filter(|n| *n > 0).ok_or_else(|| Error::syntax("maxRows must be positive"))?),
            };
            let is_root = if any_root_declared { t.get("isRoot").and_then(Value::as_bool).unwrap_or(false) } else { true };
            let mut indexes = Vec::new();
            for idx in t.get("indexes").and_then(Value::as_array).into_iter().flatten() {
                let cols: Vec<String> = idx
                    .as_array()
                    .ok_or_else(|| Error::syntax("index must be an array"))?
                    .iter()
                    .map(|c| c.as_str().map(str::to_owned).ok_or_else(|| Error::syntax("index column must be a string")))
                    .collect::<Result<_>>()?;
                for c in &cols {
                    if !columns.contains_key(c) {
                        return Err(Error::syntax(format!("table {tname} index names unknown column {c}")));
                    }
                }
                indexes.push(cols);
            }
            tables.insert(tname.clone(), TableSchema { name: tname.clone(), columns, max_rows, is_root, indexes });
        }
        for t in tables.values() {
            for c in t.columns.values() {
                for b in std::iter::once(&c.ty.key).chain(c.ty.value.as_ref()) {
                    if let Some(r) = &b.ref_table {
                        if !tables.contains_key(r) {
                            return Err(Error::syntax(format!("{}.{} refers to undefined table {r}", t.name, c.name)));
                        }
                    }
                }
            }
        }
        Ok(DatabaseSchema { name: name.to_owned(), version, cksum, tables })
    }

    /// The table called `name`, or `"unknown table"`.
    pub fn table(&self, name: &str) -> Result<&TableSchema> {
        self.tables
            .get(name)
            .ok_or_else(|| Error::new(crate::error::tag::UNKNOWN_TABLE, format!("No table named {name}.")))
    }

    /// Serializes to `<database-schema>` (as returned by `get_schema` and stored in the database file).
    pub fn to_json(&self) -> Value {
        let mut tables = Map::new();
        let all_root = self.tables.values().all(|t| t.is_root);
        for t in self.tables.values() {
            let mut cols = Map::new();
            for c in t.user_columns() {
                let mut cm = Map::new();
                cm.insert("type".into(), c.ty.to_json());
                if c.ephemeral {
                    cm.insert("ephemeral".into(), true.into());
                }
                if !c.mutable {
                    cm.insert("mutable".into(), false.into());
                }
                cols.insert(c.name.clone(), Value::Object(cm));
            }
            let mut tm = Map::new();
            tm.insert("columns".into(), Value::Object(cols));
            if let Some(m) = t.max_rows {
                tm.insert("maxRows".into(), m.into());
            }
            if !all_root {
                tm.insert("isRoot".into(), t.is_root.into());
            }
            if !t.indexes.is_empty() {
                tm.insert("indexes".into(), t.indexes.iter().map(|i| Value::from(i.clone())).collect::<Vec<_>>().into());
            }
            tables.insert(t.name.clone(), Value::Object(tm));
        }
        let mut m = Map::new();
        m.insert("name".into(), self.name.clone().into());
        m.insert("version".into(), self.version.clone().into());
        if let Some(c) = &self.cksum {
            m.insert("cksum".into(), c.clone().into());
        }
        m.insert("tables".into(), Value::Object(tables));
        Value::Object(m)
    }
}

fn check_id(s: &str) -> Result<()> {
    let ok = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::syntax(format!("\"{s}\" is not a valid identifier")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_and_round_trip() {
        let v = json!({"name": "T", "version": "1.0.0", "tables": {
            "A": {"columns": {"b": {"type": {"key": {"type": "uuid", "refTable": "B"}, "min": 0, "max": "unlimited"}}}, "isRoot": true},
            "B": {"columns": {"n": {"type": "string", "mutable": false}}, "indexes": [["n"]], "maxRows": 5}
        }});
        let s = DatabaseSchema::from_json(&v).unwrap();
        assert!(s.tables["A"].is_root);
        assert!(!s.tables["B"].is_root);
        assert_eq!(s.tables["B"].indexes, vec![vec!["n".to_owned()]]);
        assert!(s.tables["B"].columns.contains_key("_uuid"));
        assert_eq!(DatabaseSchema::from_json(&s.to_json()).unwrap(), s);
        assert_eq!(s.table("C").unwrap_err().tag, "unknown table");
        assert_eq!(s.tables["A"].column("x").unwrap_err().tag, "unknown column");
    }

    #[test]
    fn rejects_bad_schemas() {
        let bad_ref = json!({"name": "T", "tables": {"A": {"columns": {"b": {"type": {"key": {"type": "uuid", "refTable": "Z"}}}}}}});
        assert!(DatabaseSchema::from_json(&bad_ref).is_err());
        let reserved = json!({"name": "T", "tables": {"A": {"columns": {"_x": {"type": "string"}}}}});
        assert!(DatabaseSchema::from_json(&reserved).is_err());
        // No isRoot anywhere: every table is a root (backward compatibility).
        let s = DatabaseSchema::from_json(&json!({"name": "T", "tables": {"A": {"columns": {}}}})).unwrap();
        assert!(s.tables["A"].is_root);
    }
}
