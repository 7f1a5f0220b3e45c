//! `rvs-vsctl`: changes and queries rvs's configuration database with ovs-vsctl's command syntax and output.
//!
//! One invocation is one OVSDB transaction: the whole database is read in one `transact`, every command of the
//! `--` chain runs against that local copy, and the result is committed with `wait` operations asserting that
//! everything the commands relied on is unchanged (retrying from a fresh read if another client got there
//! first). Unless `--no-wait` is given, a writing invocation increments `Open_vSwitch.next_cfg` in the same
//! transaction and then waits (monitoring `cur_cfg`) until the switch has applied it.

mod cmd;
mod model;
mod table;
mod value;
mod vswitch;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::time::Duration;

use ovsdb::client::Client;
use ovsdb::schema::DatabaseSchema;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::cmd::{Command, Ctx, Fail, Mode, Syntax};
use crate::model::{Commit, Db};
use crate::table::{CellFormat, Format, Style};
use crate::value::Symtab;

const PROGRAM: &str = "rvs-vsctl";

/// Global options.
struct Opts {
    db: String,
    wait: bool,
    dry_run: bool,
    oneline: bool,
    timeout: Option<u64>,
    verbose: bool,
    style: Style,
}

fn fatal(msg: &str) -> ! {
    eprintln!("{PROGRAM}: {msg}");
    std::process::exit(1);
}

fn default_db() -> String {
    let dir = std::env::var("RVS_RUN_DIR").unwrap_or_else(|_| "/run/rvs".into());
    format!("unix:{dir}/db.sock")
}

fn all_commands() -> Vec<&'static Syntax> {
    cmd::DB_COMMANDS.iter().chain(vswitch::VS_COMMANDS.iter()).collect()
}

fn usage() -> ! {
    println!(
        "{PROGRAM}: rvs configuration utility (ovs-vsctl syntax)
usage: {PROGRAM} [OPTIONS] COMMAND [ARG...] [-- [OPTIONS] COMMAND [ARG...]]...

Open vSwitch commands:
  init                        initialize database, if not yet initialized
  show                        print overview of database contents

Bridge commands:
  add-br BRIDGE [PARENT VLAN] create a new bridge (a VLAN bridge with PARENT, VLAN)
  del-br BRIDGE               delete BRIDGE and all of its ports
  list-br                     print the names of all the bridges
  br-exists BRIDGE            exit 2 if BRIDGE does not exist
  br-to-vlan BRIDGE           print the VLAN which BRIDGE is on
  br-to-parent BRIDGE         print the parent of BRIDGE
  br-set-external-id BRIDGE KEY VALUE  set KEY on BRIDGE to VALUE
  br-get-external-id BRIDGE [KEY]  print value of KEY on BRIDGE

Port commands:
  list-ports BRIDGE           print the names of all the ports on BRIDGE
  add-port BRIDGE PORT        add network device PORT to BRIDGE
  add-bond BRIDGE PORT IFACE...  add bonded port PORT in BRIDGE from IFACES
  add-bond-iface BOND IFACE   add IFACE as a new bond interface to BOND
  del-bond-iface [BOND] IFACE delete IFACE from BOND
  del-port [BRIDGE] PORT      delete PORT (which may be bonded) from BRIDGE
  port-to-br PORT             print name of bridge that contains PORT

Interface commands:
  list-ifaces BRIDGE          print the names of all interfaces on BRIDGE
  iface-to-br IFACE           print name of bridge that contains IFACE

Controller commands:
  get-controller BRIDGE       print the controllers for BRIDGE
  del-controller BRIDGE       delete the controllers for BRIDGE
  set-controller BRIDGE TARGET...  set the controllers for BRIDGE
  get-fail-mode BRIDGE        print the fail-mode for BRIDGE
  del-fail-mode BRIDGE        delete the fail-mode for BRIDGE
  set-fail-mode BRIDGE MODE   set the fail-mode for BRIDGE to MODE

Manager commands:
  get-manager                 print the managers
  del-manager                 delete the managers
  set-manager TARGET...       set the list of managers to TARGET...

Database commands:
  list TBL [REC]              list RECord (or all records) in TBL
  find TBL CONDITION...       list records satisfying CONDITION in TBL
  get TBL REC COL[:KEY]       print values of COLumns in RECord in TBL
  set TBL REC COL[:KEY]=VALUE set COLumn values in RECord in TBL
  add TBL REC COL [KEY=]VALUE add (KEY=)VALUE to COLumn in RECord in TBL
  remove TBL REC COL [KEY=]VALUE  remove (KEY=)VALUE from COLumn
  clear TBL REC COL           clear values from COLumn in RECord in TBL
  create TBL COL[:KEY]=VALUE  create and initialize new record
  destroy TBL REC             delete RECord from TBL
  wait-until TBL REC [COL[:KEY]=VALUE]  wait until condition is true
Potentially unsafe database commands require --force option.

Options:
  --db=DATABASE               connect to DATABASE (default: {})
  --no-wait                   do not wait for the switch to reconfigure
  -t, --timeout=SECS          wait at most SECS seconds for the switch
  --dry-run                   do not commit changes to database
  --oneline                   print exactly one line of output per command
  -f, --format=FORMAT         list/find output: list, table, csv, json, html
  -d, --data=FORMAT           cell data: string, bare, json
  --no-headings, --bare, --pretty, --max-column-width=N
  -v, --verbose               print the transactions sent
  -h, --help                  display this help message
  -V, --version               display version information",
        default_db()
    );
    std::process::exit(0);
}

/// Parses the global options and splits the commands; fatal on bad input.
fn parse_args(argv: &[String]) -> (Opts, Vec<Command>) {
    let commands = all_commands();
    let locals = cmd::all_local_options(&commands);
    let mut o = Opts { db: default_db(), wait: true, dry_run: false, oneline: false, timeout: None, verbose: false, style: Style::default() };
    let mut local: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut i = 0;
    while i < argv.len() {
        let a = &argv[i];
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') || a == "-" {
            break;
        }
        let (name, inline): (String, Option<String>) = if let Some(long) = a.strip_prefix("--") {
            match long.split_once('=') {
                Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
                None => (long.to_owned(), None),
            }
        } else {
            let (flag, rest) = a[1..].split_at(1.min(a.len() - 1));
            let long = match flag {
                "t" => "timeout",
                "f" => "format",
                "d" => "data",
                "h" => "help",
                "V" => "version",
                "v" => "verbose",
                _ => fatal(&format!("invalid option -- '{flag}'")),
            };
            (long.to_owned(), if rest.is_empty() { None } else { Some(rest.to_owned()) })
        };
        i += 1;
        let required = |inline: Option<String>, i: &mut usize| -> String {
            match inline {
                Some(v) => v,
                None => match argv.get(*i) {
                    Some(v) => {
                        *i += 1;
                        v.clone()
                    }
                    None => fatal(&format!("option '--{name}' requires an argument")),
                },
            }
        };
        match name.as_str() {
            "db" => o.db = required(inline, &mut i),
            "no-wait" => o.wait = false,
            "dry-run" => o.dry_run = true,
            "oneline" => o.oneline = true,
            "retry" | "no-syslog" | "leader-only" | "no-leader-only" | "shuffle-remotes" | "no-shuffle-remotes" => {}
            "timeout" => {
                let v = required(inline, &mut i);
                match v.parse::<u64>() {
                    Ok(n) if n > 0 => o.timeout = Some(n),
                    _ => fatal(&format!("value {v} on -t or --timeout is invalid")),
                }
            }
            "verbose" => o.verbose = true,
            "help" => usage(),
            "version" => {
                println!("{PROGRAM} (rvs) {}", env!("CARGO_PKG_VERSION"));
                println!("DB Schema {}", ovsdb::vswitch_schema().version);
                std::process::exit(0);
            }
            "format" => {
                o.style.format = match required(inline, &mut i).as_str() {
                    "list" => Format::List,
                    "table" => Format::Table,
                    "csv" => Format::Csv,
                    "json" => Format::Json,
                    "html" => Format::Html,
                    other => fatal(&format!("unknown output format \"{other}\"")),
                }
            }
            "data" => {
                o.style.cell = match required(inline, &mut i).as_str() {
                    "string" => CellFormat::String,
                    "bare" => CellFormat::Bare,
                    "json" => CellFormat::Json,
                    other => fatal(&format!("unknown data format \"{other}\"")),
                }
            }
            "no-headings" => o.style.headings = false,
            "pretty" => o.style.pretty = true,
            "bare" => {
                o.style.format = Format::List;
                o.style.cell = CellFormat::Bare;
                o.style.headings = false;
            }
            "max-column-width" => o.style.max_width = required(inline, &mut i).parse().unwrap_or(0),
            other => match locals.get(&format!("--{other}")) {
                Some(takes_arg) => {
                    let key = format!("--{other}");
                    if local.contains_key(&key) {
                        fatal(&format!("'{other}' option specified multiple times"));
                    }
                    let v = if *takes_arg { Some(required(inline, &mut i)) } else { inline };
                    local.insert(key, v);
                }
                None => fatal(&format!("unrecognized option '{a}'")),
            },
        }
    }
    // The rest: commands separated by "--"; options given before the first command belong to it.
    let rest = &argv[i..];
    let mut cmds = Vec::new();
    let mut start = 0;
    let mut pending_local = Some(local);
    for j in 0..=rest.len() {
        if j == rest.len() || rest[j] == "--" {
            if j > start {
                let l = pending_local.take().unwrap_or_default();
                match cmd::parse_command(&rest[start..j], l, &commands) {
                    Ok(c) => cmds.push(c),
                    Err(e) => fatal(&e),
                }
            } else if pending_local.as_ref().is_some_and(|l| !l.is_empty()) {
                fatal("missing command name (use --help for help)");
            }
            start = j + 1;
        }
    }
    if cmds.is_empty() {
        fatal("missing command name (use --help for help)");
    }
    (o, cmds)
}

/// `--timeout`: after `secs`, terminate with SIGALRM like ovs-vsctl.
fn arm_timeout(secs: u64) {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(secs));
        eprintln!("{PROGRAM}: timed out after {secs} seconds, terminating with signal 14 (Alarm clock)");
        let _ = std::io::stdout().flush();
        // SAFETY: restoring the default disposition of SIGALRM and raising it only affects this process, which
        // is meant to terminate here; no Rust state is touched by the default action.
        unsafe {
            libc::signal(libc::SIGALRM, libc::SIG_DFL);
            libc::raise(libc::SIGALRM);
        }
        std::process::exit(142);
    });
}

fn io_reason(e: &ovsdb::client::ClientError) -> String {
    match e {
        ovsdb::client::ClientError::Io(io) => {
            let s = io.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_owned(),
                None => s,
            }
        }
        other => other.to_string(),
    }
}

/// ovs-vsctl's rendering of its arguments for the transaction comment.
fn quoted_args(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "\"'\\$`*?[](){}<>|&;".contains(c)) {
                format!("\"{}\"", a.replace('\\', "\\\\").replace('"', "\\\""))
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The outcome of running the command chain once.
enum Run {
    Done { outputs: Vec<(String, Option<table::Table>)>, status: Commit },
    Retry,
}

fn run_once(client: &Client, schema: &DatabaseSchema, cmds: &[Command], o: &Opts, comment: &str) -> Run {
    let mut db = match Db::load(client, schema.clone()) {
        Ok(db) => db,
        Err(e) => fatal(&e),
    };
    let ovs = match db.rows("Open_vSwitch").first() {
        Some(u) => *u,
        None => {
            let u = Uuid::new_v4();
            db.insert("Open_vSwitch", u);
            u
        }
    };
    let mut symtab = Symtab::default();
    let mut outputs = Vec::new();
    for c in cmds {
        let mut ctx = Ctx {
            db: &mut db,
            symtab: &mut symtab,
            ovs,
            argv: &c.argv,
            options: &c.options,
            out: String::new(),
            table: None,
            try_again: false,
            warnings: Vec::new(),
        };
        let r = (c.syntax.run)(&mut ctx);
        for w in &ctx.warnings {
            eprintln!("{PROGRAM}: warning: {w}");
        }
        match r {
            Ok(()) => {}
            Err(Fail::Msg(m)) => fatal(&m),
            Err(Fail::Exit(code)) => std::process::exit(code),
        }
        if ctx.try_again {
            std::thread::sleep(Duration::from_millis(100));
            return Run::Retry;
        }
        outputs.push((ctx.out, ctx.table));
    }
    for (name, sym) in &symtab.symbols {
        if !sym.created {
            fatal(&format!("row id \"{name}\" is referenced but never created (e.g. with \"-- --id={name} create ...\")"));
        }
        if !sym.strong_ref {
            if sym.weak_ref {
                eprintln!("{PROGRAM}: warning: row id \"{name}\" was created but only a weak reference to it was inserted, so it will not actually appear in the database");
            } else {
                eprintln!("{PROGRAM}: warning: row id \"{name}\" was created but no reference to it was inserted, so it will not actually appear in the database");
            }
        }
    }
    let increment = if o.wait { Some(("Open_vSwitch", ovs, "next_cfg")) } else { None };
    match db.commit(client, increment, comment, o.dry_run, o.verbose) {
        Ok(Commit::TryAgain) => Run::Retry,
        Ok(Commit::Error(e)) => fatal(&format!("transaction error: {e}")),
        Ok(status) => Run::Done { outputs, status },
        Err(e) => fatal(&format!("{}: database connection failed ({})", o.db, io_reason(&e))),
    }
}

/// Waits until some `Open_vSwitch.cur_cfg` reaches `next_cfg`.
fn wait_for_cur_cfg(client: &Client, db: &str, next_cfg: i64) -> Result<(), String> {
    let reached = |updates: &Value| -> bool {
        updates.get("Open_vSwitch").and_then(Value::as_object).is_some_and(|rows| {
            rows.values().any(|r| r.get("new").and_then(|n| n.get("cur_cfg")).and_then(Value::as_i64).is_some_and(|c| c >= next_cfg))
        })
    };
    let initial = client
        .request("monitor", json!([db, "rvs-vsctl-wait", {"Open_vSwitch": {"columns": ["cur_cfg"]}}]))
        .map_err(|e| format!("monitoring the database failed: {e}"))?;
    if reached(&initial) {
        return Ok(());
    }
    loop {
        let note = client.notifications().recv().map_err(|_| "database connection closed while waiting for the switch".to_owned())?;
        if note.get("method").and_then(Value::as_str) == Some("update") {
            if let Some(u) = note.get("params").and_then(|p| p.get(1)) {
                if reached(u) {
                    return Ok(());
                }
            }
        }
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let (o, cmds) = parse_args(&argv);
    if let Some(t) = o.timeout {
        arm_timeout(t);
    }
    let client = match Client::connect(&o.db) {
        Ok(c) => c,
        Err(e) => fatal(&format!("{}: database connection failed ({})", o.db, io_reason(&e))),
    };
    let schema = match client.request("get_schema", json!(["Open_vSwitch"])) {
        Ok(v) => match DatabaseSchema::from_json(&v) {
            Ok(s) => s,
            Err(e) => fatal(&format!("{}: bad schema: {e}", o.db)),
        },
        Err(e) => fatal(&format!("{}: database connection failed ({})", o.db, io_reason(&e))),
    };
    let comment = format!("{PROGRAM}: {}", quoted_args(&argv));
    if o.verbose {
        let rw = if cmds.iter().any(|c| c.syntax.mode == Mode::Rw) { "read-write" } else { "read-only" };
        eprintln!("{PROGRAM}: called as {} ({rw})", quoted_args(&argv));
    }
    let (outputs, status) = loop {
        match run_once(&client, &schema, &cmds, &o, &comment) {
            Run::Retry => continue,
            Run::Done { outputs, status } => break (outputs, status),
        }
    };
    let (uuids, next_cfg) = match &status {
        Commit::Success { uuids, next_cfg } => (uuids.clone(), *next_cfg),
        _ => (BTreeMap::new(), None),
    };
    let fix = |s: String| -> String {
        let mut s = s;
        for (tmp, real) in &uuids {
            s = s.replace(&tmp.to_string(), &real.to_string());
        }
        s
    };
    let mut stdout = String::new();
    let mut first_table = true;
    for (text, tbl) in outputs {
        if let Some(t) = tbl {
            stdout.push_str(&fix(t.format(&o.style, first_table)));
            first_table = false;
        } else if o.oneline {
            let t = fix(text);
            let t = t.strip_suffix('\n').unwrap_or(&t);
            stdout.push_str(&t.replace('\\', "\\\\").replace('\n', "\\n"));
            stdout.push('\n');
        } else {
            stdout.push_str(&fix(text));
        }
    }
    print!("{stdout}");
    let _ = std::io::stdout().flush();
    if let (true, false, Some(n)) = (o.wait, o.dry_run, next_cfg) {
        if let Err(e) = wait_for_cur_cfg(&client, &schema.name, n) {
            fatal(&e);
        }
    }
}
