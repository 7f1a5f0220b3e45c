//! Command parsing (options, `--` chains, argument counts) and the generic database commands every OVS
//! `*-ctl` shares (`lib/db-ctl-base.c`): `list`, `find`, `get`, `set`, `add`, `remove`, `clear`, `create`,
//! `destroy`, `wait-until`, `comment`, with table and column name abbreviations and record lookup by name.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use ovsdb::atom::{Atom, AtomicType};
use ovsdb::datum::Datum;
use ovsdb::types::{BaseType, Type};
use uuid::Uuid;

use crate::model::Db;
use crate::table::Table;
use crate::value::{atom_from_string, atom_to_string, datum_from_string, datum_to_string, parse_uuid, token_parse, Symtab};

/// Why a command stopped the invocation.
#[derive(Debug)]
pub enum Fail {
    /// An error message; the invocation exits with status 1 and changes nothing.
    Msg(String),
    /// Exit silently with this status (`br-exists` uses 2).
    Exit(i32),
}

impl From<String> for Fail {
    fn from(s: String) -> Self {
        Fail::Msg(s)
    }
}

/// Result of running one command.
pub type CmdResult = Result<(), Fail>;

/// Shorthand for a failing command.
pub fn fail<T>(msg: impl Into<String>) -> Result<T, Fail> {
    Err(Fail::Msg(msg.into()))
}

/// Whether a command only reads or may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Read-only.
    Ro,
    /// May write.
    Rw,
}

/// A command's syntax: name, argument count bounds, accepted options (`--x` flag, `--x=` with argument).
pub struct Syntax {
    /// Command name.
    pub name: &'static str,
    /// Minimum number of arguments.
    pub min_args: usize,
    /// Maximum number of arguments.
    pub max_args: usize,
    /// Comma-separated options, `=` suffix when they take an argument.
    pub options: &'static str,
    /// Read-only or read-write.
    pub mode: Mode,
    /// The implementation.
    pub run: fn(&mut Ctx) -> CmdResult,
}

/// One parsed command of the chain.
pub struct Command {
    /// Its syntax entry.
    pub syntax: &'static Syntax,
    /// Command name and arguments (`argv[0]` is the name).
    pub argv: Vec<String>,
    /// Options given to it (`--if-exists` → None, `--id=@x` → Some("@x")).
    pub options: BTreeMap<String, Option<String>>,
}

/// What a running command sees.
pub struct Ctx<'a> {
    /// The database.
    pub db: &'a mut Db,
    /// `@name` symbols.
    pub symtab: &'a mut Symtab,
    /// The `Open_vSwitch` row.
    pub ovs: Uuid,
    /// Command name and arguments.
    pub argv: &'a [String],
    /// The command's options.
    pub options: &'a BTreeMap<String, Option<String>>,
    /// Text output.
    pub out: String,
    /// Table output (list/find).
    pub table: Option<Table>,
    /// Set by `wait-until` when the condition does not hold yet.
    pub try_again: bool,
    /// Warnings for stderr.
    pub warnings: Vec<String>,
}

impl Ctx<'_> {
    /// Whether option `name` was given.
    pub fn has(&self, name: &str) -> bool {
        self.options.contains_key(name)
    }

    /// The argument of option `name`.
    pub fn opt(&self, name: &str) -> Option<&str> {
        self.options.get(name).and_then(|v| v.as_deref())
    }
}

/// The shared database commands.
pub static DB_COMMANDS: &[Syntax] = &[
    Syntax { name: "comment", min_args: 0, max_args: usize::MAX, options: "", mode: Mode::Ro, run: cmd_comment },
    Syntax { name: "get", min_args: 2, max_args: usize::MAX, options: "--if-exists,--id=", mode: Mode::Ro, run: cmd_get },
    Syntax { name: "list", min_args: 1, max_args: usize::MAX, options: "--if-exists,--columns=", mode: Mode::Ro, run: cmd_list },
    Syntax { name: "find", min_args: 1, max_args: usize::MAX, options: "--columns=", mode: Mode::Ro, run: cmd_find },
    Syntax { name: "set", min_args: 3, max_args: usize::MAX, options: "--if-exists", mode: Mode::Rw, run: cmd_set },
    Syntax { name: "add", min_args: 4, max_args: usize::MAX, options: "--if-exists", mode: Mode::Rw, run: cmd_add },
    Syntax { name: "remove", min_args: 4, max_args: usize::MAX, options: "--if-exists", mode: Mode::Rw, run: cmd_remove },
    Syntax { name: "clear", min_args: 3, max_args: usize::MAX, options: "--if-exists", mode: Mode::Rw, run: cmd_clear },
    Syntax { name: "create", min_args: 2, max_args: usize::MAX, options: "--id=", mode: Mode::Rw, run: cmd_create },
    Syntax { name: "destroy", min_args: 1, max_args: usize::MAX, options: "--if-exists,--all", mode: Mode::Rw, run: cmd_destroy },
    Syntax { name: "wait-until", min_args: 2, max_args: usize::MAX, options: "", mode: Mode::Ro, run: cmd_wait_until },
];

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

fn check_mutable(db: &Db, table: &str, row: &Uuid, column: &str) -> Result<(), String> {
    let c = &db.table_schema(table).columns[column];
    if !c.mutable && !db.is_inserted(row) {
        return Err(format!("cannot modify read-only column {column} in table {table}"));
    }
    Ok(())
}

fn map_key_type(ty: &Type) -> Type {
    Type { key: ty.key.clone(), value: None, min: ty.min, max: ty.max }
}

/// Union for `add`: the elements of `b` join `a`; for a key both maps hold, `b`'s value replaces `a`'s (as
/// ovs-vsctl 3.1 does).
fn datum_union(a: &mut Datum, b: &Datum) {
    match (a, b) {
        (Datum::Set(a), Datum::Set(b)) => a.extend(b.iter().cloned()),
        (Datum::Map(a), Datum::Map(b)) => a.extend(b.iter().map(|(k, v)| (k.clone(), v.clone()))),
        _ => {}
    }
}

/// Removes from `a` the elements of `b` (for maps: keys, or key=value pairs when `b` is a map).
fn datum_subtract(a: &mut Datum, b: &Datum) {
    match (a, b) {
        (Datum::Set(a), Datum::Set(b)) => a.retain(|x| !b.contains(x)),
        (Datum::Map(a), Datum::Map(b)) => a.retain(|k, v| b.get(k) != Some(v)),
        (Datum::Map(a), Datum::Set(b)) => a.retain(|k, _| !b.contains(k)),
        _ => {}
    }
}

/// Sets one `COLUMN[:KEY]=VALUE` on `row`.
pub fn set_column(db: &mut Db, symtab: &mut Symtab, table: &str, row: &Uuid, arg: &str) -> Result<(), String> {
    let ckv = parse_column_key_value(db, table, arg, Some(&["="]))?;
    let Some((_, value)) = ckv.value else { return Err(format!("{arg}: missing value")) };
    check_mutable(db, table, row, &ckv.column)?;
    let ty = db.col_type(table, &ckv.column).clone();
    match ckv.key {
        Some(key) => {
            let Some(vt) = &ty.value else {
                return Err(format!("cannot specify key to set for non-map column {}", ckv.column));
            };
            let k = atom_from_string(&ty.key, &key, Some(symtab))?;
            let v = atom_from_string(vt, &value, Some(symtab))?;
            let mut d = db.get(table, row, &ckv.column);
            if let Datum::Map(m) = &mut d {
                m.insert(k, v);
            }
            db.verify(table, row, &ckv.column);
            db.write(table, row, &ckv.column, d);
        }
        None => {
            let d = datum_from_string(&ty, &value, Some(symtab))?;
            db.write(table, row, &ckv.column, d);
        }
    }
    Ok(())
}

fn cmd_comment(_: &mut Ctx) -> CmdResult {
    Ok(())
}

fn uuid_type() -> Type {
    Type { key: BaseType::plain(AtomicType::Uuid), value: None, min: 1, max: 1 }
}

fn cmd_get(ctx: &mut Ctx) -> CmdResult {
    let id = ctx.opt("--id").map(str::to_owned);
    let must_exist = !ctx.has("--if-exists");
    if id.is_some() && !must_exist {
        return fail("--if-exists and --id may not be specified together");
    }
    let table = get_table(ctx.db, &ctx.argv[1])?;
    for a in &ctx.argv[3..] {
        if !a.eq_ignore_ascii_case("_uuid") && !a.eq_ignore_ascii_case("-uuid") {
            let (col, _) = token_parse(a)?;
            if col.is_empty() {
                return fail(format!("{a}: missing column name"));
            }
            get_column(ctx.db, &table, &col)?;
        }
    }
    let record = ctx.argv[2].clone();
    let Some(row) = get_row(ctx.db, &table, &record, must_exist)? else { return Ok(()) };
    if let Some(id) = id {
        if !id.starts_with('@') {
            return fail(format!("row id \"{id}\" does not begin with \"@\""));
        }
        let new = !ctx.symtab.symbols.contains_key(&id);
        let sym = ctx.symtab.insert(&id);
        if sym.created {
            return fail(format!("row id \"{id}\" may only be specified on one --id option"));
        }
        sym.created = true;
        if !new {
            return fail(format!("row id \"{id}\" specified on \"get\" command was used before it was defined"));
        }
        sym.uuid = row;
        sym.strong_ref = true;
    }
    for a in ctx.argv[3..].iter() {
        if a.eq_ignore_ascii_case("_uuid") || a.eq_ignore_ascii_case("-uuid") {
            ctx.out.push_str(&format!("{row}\n"));
            continue;
        }
        let ckv = parse_column_key_value(ctx.db, &table, a, None)?;
        ctx.db.verify(&table, &row, &ckv.column);
        let d = ctx.db.get(&table, &row, &ckv.column);
        let ty = ctx.db.col_type(&table, &ckv.column).clone();
        match ckv.key {
            Some(key) => {
                if ty.value.is_none() {
                    return fail(format!("cannot specify key to get for non-map column {}", ckv.column));
                }
                let k = atom_from_string(&ty.key, &key, Some(ctx.symtab))?;
                match d.as_map().and_then(|m| m.get(&k)) {
                    Some(v) => ctx.out.push_str(&atom_to_string(v)),
                    None if must_exist => {
                        return fail(format!("no key \"{key}\" in {table} record \"{record}\" column {}", ckv.column));
                    }
                    None => {}
                }
            }
            None => ctx.out.push_str(&datum_to_string(&d, &ty)),
        }
        ctx.out.push('\n');
    }
    Ok(())
}

/// The columns of `--columns` (None: `_uuid` then every column).
fn parse_column_names(db: &Db, table: &str, names: Option<&str>) -> Result<Vec<Option<String>>, String> {
    match names {
        None => {
            let mut v = vec![None];
            v.extend(db.table_schema(table).user_columns().map(|c| Some(c.name.clone())));
            Ok(v)
        }
        Some(s) => {
            let mut v = Vec::new();
            for n in s.split([',', ' ']).filter(|n| !n.is_empty()) {
                if n.eq_ignore_ascii_case("_uuid") {
                    v.push(None);
                } else {
                    v.push(Some(get_column(db, table, n)?));
                }
            }
            if v.is_empty() {
                return Err("must specify at least one column name".into());
            }
            Ok(v)
        }
    }
}

fn list_make_table(columns: &[Option<String>]) -> Table {
    Table { headings: columns.iter().map(|c| c.clone().unwrap_or_else(|| "_uuid".into())).collect(), rows: Vec::new() }
}

fn list_record(db: &Db, table: &str, row: &Uuid, columns: &[Option<String>], out: &mut Table) {
    let cells = columns
        .iter()
        .map(|c| match c {
            None => (Datum::scalar(Atom::Uuid(*row)), uuid_type()),
            Some(c) => (db.get(table, row, c), db.col_type(table, c).clone()),
        })
        .collect();
    out.rows.push(cells);
}

fn cmd_list(ctx: &mut Ctx) -> CmdResult {
    let must_exist = !ctx.has("--if-exists");
    let table = get_table(ctx.db, &ctx.argv[1])?;
    let columns = parse_column_names(ctx.db, &table, ctx.opt("--columns"))?;
    let mut out = list_make_table(&columns);
    if ctx.argv.len() > 2 {
        for r in ctx.argv[2..].iter() {
            if let Some(row) = get_row(ctx.db, &table, r, must_exist)? {
                list_record(ctx.db, &table, &row, &columns, &mut out);
            }
        }
    } else {
        for row in ctx.db.rows(&table) {
            list_record(ctx.db, &table, &row, &columns, &mut out);
        }
    }
    ctx.table = Some(out);
    Ok(())
}

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
fn check_condition(db: &Db, symtab: &mut Symtab, table: &str, row: &Uuid, arg: &str) -> Result<bool, String> {
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

fn cmd_find(ctx: &mut Ctx) -> CmdResult {
    let table = get_table(ctx.db, &ctx.argv[1])?;
    let columns = parse_column_names(ctx.db, &table, ctx.opt("--columns"))?;
    for a in &ctx.argv[2..] {
        let (col, _) = token_parse(a)?;
        if col.is_empty() {
            return fail(format!("{a}: missing column name"));
        }
        get_column(ctx.db, &table, &col)?;
    }
    let mut out = list_make_table(&columns);
    'rows: for row in ctx.db.rows(&table) {
        for a in &ctx.argv[2..] {
            if !check_condition(ctx.db, ctx.symtab, &table, &row, a)? {
                continue 'rows;
            }
        }
        list_record(ctx.db, &table, &row, &columns, &mut out);
    }
    ctx.table = Some(out);
    Ok(())
}

fn pre_columns(ctx: &Ctx, table: &str, args: &[String]) -> CmdResult {
    for a in args {
        let (col, _) = token_parse(a)?;
        if col.is_empty() {
            return fail(format!("{a}: missing column name"));
        }
        get_column(ctx.db, table, &col)?;
    }
    Ok(())
}

fn cmd_set(ctx: &mut Ctx) -> CmdResult {
    let must_exist = !ctx.has("--if-exists");
    let table = get_table(ctx.db, &ctx.argv[1])?;
    pre_columns(ctx, &table, &ctx.argv[3..])?;
    let Some(row) = get_row(ctx.db, &table, &ctx.argv[2], must_exist)? else { return Ok(()) };
    for a in &ctx.argv[3..] {
        set_column(ctx.db, ctx.symtab, &table, &row, a)?;
    }
    Ok(())
}

fn cmd_add(ctx: &mut Ctx) -> CmdResult {
    let must_exist = !ctx.has("--if-exists");
    let table = get_table(ctx.db, &ctx.argv[1])?;
    let column = get_column(ctx.db, &table, &ctx.argv[3])?;
    let Some(row) = get_row(ctx.db, &table, &ctx.argv[2], must_exist)? else { return Ok(()) };
    check_mutable(ctx.db, &table, &row, &column)?;
    let ty = ctx.db.col_type(&table, &column).clone();
    let add_ty = Type { min: 1, max: usize::MAX, ..ty.clone() };
    let mut old = ctx.db.get(&table, &row, &column);
    for a in &ctx.argv[4..] {
        let add = datum_from_string(&add_ty, a, Some(ctx.symtab))?;
        datum_union(&mut old, &add);
    }
    if old.len() > ty.max {
        return fail(format!(
            "\"add\" operation would put {} {} in column {column} of table {table} but the maximum number is {}",
            old.len(),
            if ty.is_map() { "pairs" } else { "values" },
            ty.max
        ));
    }
    ctx.db.verify(&table, &row, &column);
    ctx.db.write(&table, &row, &column, old);
    Ok(())
}

fn cmd_remove(ctx: &mut Ctx) -> CmdResult {
    let must_exist = !ctx.has("--if-exists");
    let table = get_table(ctx.db, &ctx.argv[1])?;
    let column = get_column(ctx.db, &table, &ctx.argv[3])?;
    let Some(row) = get_row(ctx.db, &table, &ctx.argv[2], must_exist)? else { return Ok(()) };
    check_mutable(ctx.db, &table, &row, &column)?;
    let ty = ctx.db.col_type(&table, &column).clone();
    let rm_ty = Type { min: 1, max: usize::MAX, ..ty.clone() };
    let mut old = ctx.db.get(&table, &row, &column);
    for a in &ctx.argv[4..] {
        let rm = match datum_from_string(&rm_ty, a, Some(ctx.symtab)) {
            Ok(d) => d,
            Err(e) => {
                if rm_ty.is_map() {
                    datum_from_string(&map_key_type(&rm_ty), a, Some(ctx.symtab))?
                } else {
                    return fail(e);
                }
            }
        };
        datum_subtract(&mut old, &rm);
    }
    if old.len() < ty.min {
        return fail(format!(
            "\"remove\" operation would put {} {} in column {column} of table {table} but the minimum number is {}",
            old.len(),
            if ty.is_map() { "pairs" } else { "values" },
            ty.min
        ));
    }
    ctx.db.verify(&table, &row, &column);
    ctx.db.write(&table, &row, &column, old);
    Ok(())
}

fn cmd_clear(ctx: &mut Ctx) -> CmdResult {
    let must_exist = !ctx.has("--if-exists");
    let table = get_table(ctx.db, &ctx.argv[1])?;
    for a in &ctx.argv[3..] {
        get_column(ctx.db, &table, a)?;
    }
    let Some(row) = get_row(ctx.db, &table, &ctx.argv[2], must_exist)? else { return Ok(()) };
    for a in &ctx.argv[3..] {
        let column = get_column(ctx.db, &table, a)?;
        check_mutable(ctx.db, &table, &row, &column)?;
        let ty = ctx.db.col_type(&table, &column).clone();
        if ty.min > 0 {
            return fail(format!(
                "\"clear\" operation cannot be applied to column {column} of table {table}, which is not allowed to be empty"
            ));
        }
        ctx.db.write(&table, &row, &column, Datum::empty(&ty));
    }
    Ok(())
}

fn cmd_create(ctx: &mut Ctx) -> CmdResult {
    let id = ctx.opt("--id").map(str::to_owned);
    let table = get_table(ctx.db, &ctx.argv[1])?;
    let is_root = ctx.db.table_schema(&table).is_root;
    if id.is_none() && !is_root {
        ctx.warnings.push(format!("applying \"create\" command to table {table} without --id option will have no effect"));
    }
    let uuid = match &id {
        None => Uuid::new_v4(),
        Some(id) if parse_uuid(id).is_some() => {
            return fail(format!("--id={id}: creating a row with a given UUID is not supported"));
        }
        Some(id) => {
            if !id.starts_with('@') {
                return fail(format!("row id \"{id}\" does not begin with \"@\""));
            }
            let sym = ctx.symtab.insert(id);
            if sym.created {
                return fail(format!("row id \"{id}\" may only be specified on one --id option"));
            }
            sym.created = true;
            if is_root {
                sym.strong_ref = true;
            }
            sym.uuid
        }
    };
    ctx.db.insert(&table, uuid);
    for a in &ctx.argv[2..] {
        set_column(ctx.db, ctx.symtab, &table, &uuid, a)?;
    }
    ctx.out.push_str(&format!("{uuid}\n"));
    Ok(())
}

fn cmd_destroy(ctx: &mut Ctx) -> CmdResult {
    let must_exist = !ctx.has("--if-exists");
    let all = ctx.has("--all");
    let table = get_table(ctx.db, &ctx.argv[1])?;
    if all && ctx.argv.len() > 2 {
        return fail("--all and records argument should not be specified together");
    }
    if all && !must_exist {
        return fail("--all and --if-exists should not be specified together");
    }
    if !all && ctx.argv.len() == 2 {
        ctx.warnings.push("either --all or records argument should be specified".into());
        return Ok(());
    }
    if all {
        for row in ctx.db.rows(&table) {
            ctx.db.delete(&table, &row);
        }
    } else {
        for r in ctx.argv[2..].iter() {
            if let Some(row) = get_row(ctx.db, &table, r, must_exist)? {
                ctx.db.delete(&table, &row);
            }
        }
    }
    Ok(())
}

fn cmd_wait_until(ctx: &mut Ctx) -> CmdResult {
    let table = get_table(ctx.db, &ctx.argv[1])?;
    pre_columns(ctx, &table, &ctx.argv[3..])?;
    let Some(row) = get_row(ctx.db, &table, &ctx.argv[2], false)? else {
        ctx.try_again = true;
        return Ok(());
    };
    for a in &ctx.argv[3..] {
        if !check_condition(ctx.db, ctx.symtab, &table, &row, a)? {
            ctx.try_again = true;
            return Ok(());
        }
    }
    Ok(())
}

/// Splits an option spec list (`"--if-exists,--id="`) into (name, takes-argument).
fn option_specs(spec: &str) -> impl Iterator<Item = (&str, bool)> {
    spec.split(',').filter(|s| !s.is_empty()).map(|s| match s.strip_suffix('=') {
        Some(n) => (n, true),
        None => (s, false),
    })
}

/// Every command option of every command: name → takes an argument.
pub fn all_local_options(commands: &[&'static Syntax]) -> BTreeMap<String, bool> {
    let mut m = BTreeMap::new();
    for c in commands {
        for (n, arg) in option_specs(c.options) {
            m.insert(n.to_owned(), arg);
        }
    }
    m
}

/// Parses one command (its leading options, name and arguments); `local` holds options given before it.
pub fn parse_command(
    args: &[String],
    mut local: BTreeMap<String, Option<String>>,
    commands: &[&'static Syntax],
) -> Result<Command, String> {
    let mut i = 0;
    while i < args.len() && args[i].starts_with('-') {
        let (k, v) = match args[i].split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
            None => (args[i].clone(), None),
        };
        if local.contains_key(&k) {
            return Err(format!("'{}' option specified multiple times", args[i]));
        }
        local.insert(k, v);
        i += 1;
    }
    let Some(name) = args.get(i) else {
        return Err("missing command name (use --help for help)".into());
    };
    let Some(syntax) = commands.iter().find(|c| c.name == name.as_str()) else {
        return Err(format!("unknown command '{name}'; use --help for help"));
    };
    let specs: BTreeMap<&str, bool> = option_specs(syntax.options).collect();
    for (k, v) in &local {
        match specs.get(k.as_str()) {
            None => return Err(format!("'{name}' command has no '{k}' option")),
            Some(true) if v.is_none() => return Err(format!("missing argument to '{k}' option on '{name}' command")),
            Some(false) if v.is_some() => return Err(format!("'{k}' option on '{name}' does not accept an argument")),
            _ => {}
        }
    }
    let n_args = args.len() - i - 1;
    if n_args < syntax.min_args {
        return Err(format!("'{}' command requires at least {} arguments", syntax.name, syntax.min_args));
    }
    if n_args > syntax.max_args {
        if args[i + 1..].iter().any(|a| a.starts_with('-')) {
            return Err(format!(
                "'{}' command takes at most {} arguments (note that options must precede command names and follow a \"--\" argument)",
                syntax.name, syntax.max_args
            ));
        }
        return Err(format!("'{}' command takes at most {} arguments", syntax.name, syntax.max_args));
    }
    Ok(Command { syntax, argv: args[i..].to_vec(), options: local })
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
