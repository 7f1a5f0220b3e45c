//! `rvs-vswitchd`: see the library documentation. This file parses the command line, applies the
//! daemon conventions and runs the main loop (database changes → reconciliation → status).

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use rvs_vswitchd::bridge::{status_ops, Vswitchd};
use rvs_vswitchd::config::Config;
use rvs_vswitchd::connmgr::{self, ConnMgrs};
use rvs_vswitchd::dbsync::{self, Db, Source};
use rvs_vswitchd::{brcompat, commands, daemon, err, info, unixctl, vlog, warn};

#[derive(Parser, Debug)]
#[command(name = "rvs-vswitchd", version, about = "rvs switch daemon")]
struct Args {
    /// External database (unix:PATH or tcp:IP:PORT). Without it, an embedded database server
    /// runs in the daemon (see --db-file and --remote).
    #[arg(long)]
    db: Option<String>,
    /// Database file of the embedded server.
    #[arg(long, default_value = "/var/lib/rvs/conf.db")]
    db_file: PathBuf,
    /// Where the embedded server listens (repeatable); default punix:RUN_DIR/db.sock.
    #[arg(long = "remote")]
    remotes: Vec<String>,
    /// Run in the background once ready.
    #[arg(long)]
    detach: bool,
    /// Write the pid to FILE (default RUN_DIR/rvs-vswitchd.pid).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "@default")]
    pidfile: Option<PathBuf>,
    /// Log to FILE as well (default /var/log/rvs/rvs-vswitchd.log).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "@default")]
    log_file: Option<PathBuf>,
    /// Control socket.
    #[arg(long)]
    unixctl: Option<PathBuf>,
    /// Log levels (vlog/set syntax, repeatable), e.g. -v upcall:dbg.
    #[arg(short, long = "verbose")]
    verbose: Vec<String>,
    /// Upcall handler threads per datapath (default: one per CPU).
    #[arg(long)]
    n_handlers: Option<usize>,
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf())
    }
}

/// The `Controller` status and `Bridge.datapath_id` updates.
fn of_status_ops(ofmgrs: &ConnMgrs, cfg: &Config, db: &Db) -> Vec<serde_json::Value> {
    let mut ctl = std::collections::HashMap::new();
    let mut dpids = Vec::new();
    for b in &cfg.bridges {
        if let Some(sh) = ofmgrs.shared(&b.name) {
            ctl.extend(sh.statuses());
            dpids.push((b.uuid.clone(), sh.settings().datapath_id));
        }
    }
    connmgr::status::ops(&db.replica, &ctl, &dpids)
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(args) {
        err!("vswitchd", "{e}");
        eprintln!("rvs-vswitchd: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), String> {
    let run_dir = absolute(&rvs_vswitchd::run_dir());
    let db_file = absolute(&args.db_file);
    let pidfile = args.pidfile.as_ref().map(|p| if p.as_os_str() == "@default" { run_dir.join("rvs-vswitchd.pid") } else { absolute(p) });
    let log_file = args.log_file.as_ref().map(|p| if p.as_os_str() == "@default" { PathBuf::from("/var/log/rvs/rvs-vswitchd.log") } else { absolute(p) });
    let ctl = absolute(&args.unixctl.clone().unwrap_or_else(rvs_vswitchd::default_unixctl));
    let remotes: Vec<String> = if args.remotes.is_empty() {
        vec![format!("punix:{}", run_dir.join("db.sock").display())]
    } else {
        args.remotes.iter().map(|r| match r.strip_prefix("punix:") {
            Some(p) => format!("punix:{}", absolute(Path::new(p)).display()),
            None => r.clone(),
        }).collect()
    };
    for v in &args.verbose {
        vlog::set(v)?;
    }
    // Fork before any thread exists.
    let mut detached = if args.detach { daemon::detach().map_err(|e| format!("detach: {e}"))? } else { daemon::Detached::none() };
    daemon::block_signals();
    if let Some(f) = &log_file {
        if let Some(d) = f.parent() {
            let _ = std::fs::create_dir_all(d);
        }
        vlog::set_log_file(f).map_err(|e| format!("{}: {e}", f.display()))?;
    }
    let _pid = pidfile.as_deref().map(daemon::PidFile::create).transpose()?;
    info!("vswitchd", "{} starting", commands::version());

    let (source, brc_db) = match &args.db {
        Some(remote) => (Source::Remote(remote.clone()), brcompat::DbAccess::Remote(remote.clone())),
        None => {
            let server = dbsync::start_embedded(&db_file, &remotes)?;
            let local = brcompat::DbAccess::Local(server.clone());
            (Source::Embedded(server), local)
        }
    };
    let mut db = Db::new(source);
    let n_handlers = args.n_handlers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let vs = Arc::new(Vswitchd::new(n_handlers));

    let ofmgrs = ConnMgrs::new(&vs, run_dir.clone());

    let ctl_server = unixctl::Server::new();
    commands::register(&ctl_server, &vs);
    ctl_server.listen(&ctl).map_err(|e| format!("control socket {}: {e}", ctl.display()))?;
    let v = vs.clone();
    daemon::spawn_signal_thread(move |sig| {
        info!("vswitchd", "caught signal {sig}, exiting");
        v.exiting.store(true, Ordering::Release);
    })
    .map_err(|e| e.to_string())?;
    let brc = brcompat::spawn(brc_db, vs.clone()).map_err(|e| format!("brcompat thread: {e}"))?;
    detached.ready();
    info!("vswitchd", "control socket {}", ctl.display());

    let mut last = Instant::now() - Duration::from_secs(10);
    let mut last_cfg: Option<Config> = None;
    let mut qos = rvs_vswitchd::qos::QosManager::new(vs.switch.queues.clone());
    while !vs.exiting.load(Ordering::Acquire) {
        let changed = db.run(Duration::from_millis(200));
        rvs_vswitchd::lacp::tick(&vs);
        let reconnected = std::mem::take(&mut db.reconnected);
        ofmgrs.tick();
        if !db.connected() {
            continue;
        }
        if !changed && !reconnected && last.elapsed() < Duration::from_secs(2) {
            continue;
        }
        last = Instant::now();
        let cfg = Config::from_replica(&db.replica);
        if last_cfg.as_ref() != Some(&cfg) {
            for w in &cfg.warnings {
                warn!("bridge", "{w}");
            }
        }
        let status = vs.reconcile(&cfg);
        for e in rvs_vswitchd::telemetry::reconfigure(&vs, &db.replica, &cfg) {
            warn!("telemetry", "{e}");
        }
        for e in qos.reconcile(&db.replica, &cfg) {
            warn!("qos", "{e}");
        }
        ofmgrs.reconcile(&cfg);
        let mut ops = status_ops(&cfg, &db.replica, &status);
        ops.extend(of_status_ops(&ofmgrs, &cfg, &db));
        if !ops.is_empty() {
            if let Err(e) = db.transact(&ops) {
                warn!("dbsync", "writing status: {e}");
            }
        }
        last_cfg = Some(cfg);
    }
    info!("vswitchd", "shutting down");
    ofmgrs.shutdown();
    vs.shutdown();
    let _ = brc.join();
    ctl_server.close();
    Ok(())
}
