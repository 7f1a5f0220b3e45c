//! Command parsing (options, `--` chains, argument counts) and the generic database commands every OVS
//! `*-ctl` shares (`lib/db-ctl-base.c`): `list`, `find`, `get`, `set`, `add`, `remove`, `clear`, `create`,
//! `destroy`, `wait-until`, `comment`, with table and column name abbreviations and record lookup by name.

mod condition;
mod generic;
mod lookup;

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::model::Db;
use crate::table::Table;
use crate::value::Symtab;

pub use generic::{set_column, DB_COMMANDS};

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
