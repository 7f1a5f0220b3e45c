//! `rvs-ovsdb`: rvs's configuration database server. Serves one OVSDB database (by default rvs's
//! `Open_vSwitch` schema) over RFC 7047 JSON-RPC on unix and tcp sockets, persisted crash-safely to one file.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use ovsdb::db::Database;
use ovsdb::schema::DatabaseSchema;
use ovsdb::server::Server;
use ovsdb::storage::{CompactPolicy, Storage};

#[derive(Parser, Debug)]
#[command(version, about = "rvs configuration database server (OVSDB, RFC 7047)")]
struct Args {
    /// Database file; created from the schema if missing. Without it the database lives in memory only.
    #[arg(long)]
    db: Option<PathBuf>,
    /// Schema for a new database (default: rvs's built-in Open_vSwitch schema).
    #[arg(long)]
    schema: Option<PathBuf>,
    /// Where to listen: punix:PATH or ptcp:PORT[:IP]. Repeatable.
    #[arg(long = "remote", required = true)]
    remotes: Vec<String>,
    /// Compact once this many transactions follow the last snapshot...
    #[arg(long, default_value_t = 1000)]
    compact_min_records: usize,
    /// ...and they take at least this many bytes.
    #[arg(long, default_value_t = 1 << 20)]
    compact_min_bytes: u64,
    /// Write the process id to this file once listening.
    #[arg(long)]
    pidfile: Option<PathBuf>,
}

fn load_schema(path: Option<&PathBuf>) -> Result<DatabaseSchema> {
    match path {
        None => Ok(ovsdb::vswitch_schema()),
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            let v: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))?;
            DatabaseSchema::from_json(&v).with_context(|| format!("schema {}", p.display()))
        }
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let schema = load_schema(args.schema.as_ref())?;
    let server = Server::new();
    match &args.db {
        Some(path) => {
            let policy = CompactPolicy { min_records: args.compact_min_records, min_bytes: args.compact_min_bytes };
            let (storage, db) = Storage::open_or_create(path, &schema, policy).with_context(|| format!("opening {}", path.display()))?;
            if storage.truncated() > 0 {
                eprintln!("rvs-ovsdb: {}: removed {} bytes of incomplete transaction at the end of the file", path.display(), storage.truncated());
            }
            server.add_database(db, Some(storage));
        }
        None => server.add_database(Database::new(schema), None),
    }
    for r in &args.remotes {
        let l = server.listen(r).with_context(|| format!("listening on {r}"))?;
        eprintln!("rvs-ovsdb: listening on {}", l.connect_address);
    }
    if let Some(p) = &args.pidfile {
        std::fs::write(p, format!("{}\n", std::process::id())).with_context(|| format!("writing {}", p.display()))?;
    }
    server.spawn_timer(Duration::from_millis(100))?;
    loop {
        std::thread::park();
    }
}
