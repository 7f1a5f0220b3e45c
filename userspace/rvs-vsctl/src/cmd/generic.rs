//! The generic database commands every OVS `*-ctl` shares (`lib/db-ctl-base.c`): `list`, `find`, `get`,
//! `set`, `add`, `remove`, `clear`, `create`, `destroy`, `wait-until` and `comment`.

use ovsdb::atom::{Atom, AtomicType};
use ovsdb::datum::Datum;
use ovsdb::types::{BaseType, Type};
use uuid::Uuid;

use super::condition::check_condition;
use super::lookup::{check_mutable, get_column, get_row, get_table, parse_column_key_value};
use super::{fail, CmdResult, Ctx, Mode, Syntax};
use crate::model::Db;
use crate::table::Table;
use crate::value::{atom_from_string, atom_to_string, datum_from_string, datum_to_string, parse_uuid, token_parse, Symtab};

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

/// Which way `add` or `remove` edits a column, and so which of its bounds the result may cross.
#[derive(Clone, Copy)]
enum Edit {
    /// `add`: joins the arguments to the column (may exceed its maximum).
    Add,
    /// `remove`: takes them out (may fall below its minimum).
    Remove,
}

/// `add` and `remove`: merges each value argument into the column, then refuses a result outside the column's
/// bounds (the maximum for `add`, the minimum for `remove`).
fn edit_column(ctx: &mut Ctx, edit: Edit) -> CmdResult {
    let must_exist = !ctx.has("--if-exists");
    let table = get_table(ctx.db, &ctx.argv[1])?;
    let column = get_column(ctx.db, &table, &ctx.argv[3])?;
    let Some(row) = get_row(ctx.db, &table, &ctx.argv[2], must_exist)? else { return Ok(()) };
    check_mutable(ctx.db, &table, &row, &column)?;
    let ty = ctx.db.col_type(&table, &column).clone();
    let arg_ty = Type { min: 1, max: usize::MAX, ..ty.clone() };
    let mut old = ctx.db.get(&table, &row, &column);
    for a in &ctx.argv[4..] {
        match edit {
            Edit::Add => datum_union(&mut old, &datum_from_string(&arg_ty, a, Some(ctx.symtab))?),
            Edit::Remove => {
                let rm = match datum_from_string(&arg_ty, a, Some(ctx.symtab)) {
                    Ok(d) => d,
                    Err(e) => {
                        if arg_ty.is_map() {
                            datum_from_string(&map_key_type(&arg_ty), a, Some(ctx.symtab))?
                        } else {
                            return fail(e);
                        }
                    }
                };
                datum_subtract(&mut old, &rm);
            }
        }
    }
    let (name, crossed, which, bound) = match edit {
        Edit::Add => ("add", old.len() > ty.max, "maximum", ty.max),
        Edit::Remove => ("remove", old.len() < ty.min, "minimum", ty.min),
    };
    if crossed {
        return fail(format!(
            "\"{name}\" operation would put {} {} in column {column} of table {table} but the {which} number is {bound}",
            old.len(),
            if ty.is_map() { "pairs" } else { "values" },
        ));
    }
    ctx.db.verify(&table, &row, &column);
    ctx.db.write(&table, &row, &column, old);
    Ok(())
}

fn cmd_add(ctx: &mut Ctx) -> CmdResult {
    edit_column(ctx, Edit::Add)
}

fn cmd_remove(ctx: &mut Ctx) -> CmdResult {
    edit_column(ctx, Edit::Remove)
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

