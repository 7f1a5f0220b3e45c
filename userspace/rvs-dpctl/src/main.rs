//! `rvs-dpctl`: datapath control tool, the `ovs-dpctl` equivalent (issue 5).
//!
//! Commands: `show`, `dump-dps`, `add-dp`, `del-dp`, `add-if`, `del-if`, `dump-flows [-m]`,
//! `add-flow`, `mod-flow`, `del-flow`, `del-flows`, `get-flow` (flows in ovs-dpctl's text form,
//! parsed and printed by the core), and `serve` (run a userspace datapath in the foreground).
//! `--datapath-type=userspace` reaches userspace datapaths through their owner process's unix
//! socket (`/run/rvs/DP.sock`); `add-dp` starts that process.

#![cfg_attr(test, allow(clippy::unwrap_used))]

use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand};
use rvs_dpif::{DatapathType, Dpif, DpInfo, DumpOptions, FlowId, FlowPut, PortInfo, PortSpec, PortType, PutFlags};

mod flows;
mod iface;

#[derive(Parser, Debug)]
#[command(name = "rvs-dpctl", version = version(), about = "Inspect and drive an rvs (or Open vSwitch) datapath")]
struct Cli {
    /// Datapath implementation: system (kernel) or userspace.
    #[arg(long, global = true, default_value = "system", value_parser = parse_dp_type)]
    datapath_type: DatapathType,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Show datapaths: statistics and ports (all datapaths if none named).
    Show {
        /// Print port statistics too.
        #[arg(short, long)]
        statistics: bool,
        /// Datapaths to show.
        dps: Vec<String>,
    },
    /// List datapath names.
    DumpDps,
    /// Create a datapath, optionally adding interfaces.
    AddDp {
        /// Datapath name.
        dp: String,
        /// Interfaces to add: IFACE[,type=TYPE][,port_no=N][,dst_port=P].
        ifaces: Vec<String>,
    },
    /// Delete a datapath.
    DelDp {
        /// Datapath name.
        dp: String,
    },
    /// Add interfaces to a datapath: IFACE[,type=system|internal|gre|vxlan|geneve][,port_no=N][,dst_port=P].
    AddIf {
        /// Datapath name.
        dp: String,
        /// Interfaces.
        #[arg(required = true)]
        ifaces: Vec<String>,
    },
    /// Remove interfaces from a datapath.
    DelIf {
        /// Datapath name.
        dp: String,
        /// Interface names.
        #[arg(required = true)]
        ifaces: Vec<String>,
    },
    /// Print every flow: MATCH, packets:N, bytes:N, used:Xs, actions:ACTIONS.
    DumpFlows {
        /// More detail: the flow's UFID.
        #[arg(short = 'm', long = "more")]
        more: bool,
        /// Datapath (optional when only one exists).
        dp: Option<String>,
    },
    /// Add a flow: [DP] FLOW ACTIONS (FLOW may start with ufid:UUID).
    AddFlow {
        /// Zero the statistics (with --may-create semantics of mod-flow only).
        #[arg(long)]
        clear: bool,
        /// [DP] FLOW ACTIONS.
        #[arg(required = true, num_args = 2..=3)]
        args: Vec<String>,
    },
    /// Change a flow's actions: [DP] FLOW ACTIONS.
    ModFlow {
        /// Zero the flow's statistics.
        #[arg(long)]
        clear: bool,
        /// Create the flow if it does not exist.
        #[arg(long)]
        may_create: bool,
        /// [DP] FLOW ACTIONS.
        #[arg(required = true, num_args = 2..=3)]
        args: Vec<String>,
    },
    /// Delete a flow: [DP] FLOW (or ufid:UUID).
    DelFlow {
        /// [DP] FLOW.
        #[arg(required = true, num_args = 1..=2)]
        args: Vec<String>,
    },
    /// Delete every flow of a datapath.
    DelFlows {
        /// Datapath (optional when only one exists).
        dp: Option<String>,
    },
    /// Print one flow: [DP] FLOW (or ufid:UUID).
    GetFlow {
        /// [DP] FLOW.
        #[arg(required = true, num_args = 1..=2)]
        args: Vec<String>,
    },
    /// Create a userspace datapath and serve it in the foreground on /run/rvs/DP.sock until
    /// del-dp or SIGTERM (with --datapath-type=userspace; add-dp starts this in the background).
    Serve {
        /// Datapath name.
        dp: String,
    },
}

fn version() -> &'static str {
    let v = format!(
        "{} (datapath ABI version {})",
        rvs_core::version::VERSION,
        rvs_core::version::OVS_DATAPATH_VERSION
    );
    // Parsed once per run: clap wants a 'static string.
    Box::leak(v.into_boxed_str())
}

fn parse_dp_type(s: &str) -> std::result::Result<DatapathType, String> {
    s.parse()
}

/// Strips an optional `TYPE@` prefix (`system@ovs-system`), checking it agrees with the type.
fn dp_name(ty: DatapathType, full: &str) -> Result<String> {
    match full.split_once('@') {
        None => Ok(full.to_string()),
        Some((t, name)) => {
            let prefix: DatapathType = t.parse().map_err(|e: String| anyhow!("{full}: {e}"))?;
            if prefix != ty {
                bail!("{full}: datapath type '{t}' differs from --datapath-type");
            }
            Ok(name.to_string())
        }
    }
}

fn type_prefix(ty: DatapathType) -> &'static str {
    match ty {
        DatapathType::System => "system",
        DatapathType::Userspace => "netdev",
    }
}

/// One `show` block, in the layout of `ovs-dpctl show`.
fn format_show(prefix: &str, info: &DpInfo, ports: &[PortInfo], statistics: bool) -> String {
    let mut s = format!("{prefix}@{}:\n", info.name);
    let st = info.stats;
    s += &format!("  lookups: hit:{} missed:{} lost:{}\n  flows: {}\n", st.n_hit, st.n_missed, st.n_lost, st.n_flows);
    if let Some(m) = info.megaflow {
        let pkts = st.n_hit.saturating_add(st.n_missed);
        let ratio = |x: u64| if pkts == 0 { 0.0 } else { x as f64 / pkts as f64 };
        s += &format!("  masks: hit:{} total:{} hit/pkt:{:.2}\n", m.n_mask_hit, m.n_masks, ratio(m.n_mask_hit));
        s += &format!("  cache: hit:{} hit-rate:{:.2}%\n", m.n_cache_hit, ratio(m.n_cache_hit) * 100.0);
    }
    if let Some(size) = info.masks_cache_size {
        s += &format!("  caches:\n    masks-cache: size:{size}\n");
    }
    for p in ports {
        s += &format!("  port {}: {}", p.port_no, p.name);
        match (p.port_type, p.dst_port) {
            (PortType::Netdev, _) => {}
            (t, Some(dp)) => s += &format!(" ({t}: dst_port={dp})"),
            (t, None) => s += &format!(" ({t})"),
        }
        s += "\n";
        if statistics {
            if let Some(v) = p.stats {
                s += &format!(
                    "    RX packets:{} errors:{} dropped:{}\n    TX packets:{} errors:{} dropped:{}\n    RX bytes:{}  TX bytes:{}\n",
                    v.rx_packets, v.rx_errors, v.rx_dropped, v.tx_packets, v.tx_errors, v.tx_dropped, v.rx_bytes, v.tx_bytes
                );
            }
        }
    }
    s
}

fn show(ty: DatapathType, dps: &[String], statistics: bool) -> Result<()> {
    let names: Vec<String> = if dps.is_empty() {
        let mut v: Vec<String> = rvs_dpif::list(ty)?.into_iter().map(|d| d.name).collect();
        v.sort();
        v
    } else {
        dps.iter().map(|d| dp_name(ty, d)).collect::<Result<_>>()?
    };
    for name in names {
        let mut dp = rvs_dpif::open(ty, &name).with_context(|| format!("opening datapath {name}"))?;
        let info = dp.info()?;
        let ports = dp.port_list()?;
        print!("{}", format_show(type_prefix(ty), &info, &ports, statistics));
    }
    Ok(())
}

fn add_ifaces(dp: &mut dyn Dpif, ifaces: &[String]) -> Result<()> {
    for arg in ifaces {
        let spec: PortSpec = iface::parse(arg)?;
        dp.port_add(&spec).with_context(|| format!("adding {} to {}", spec.name, dp.name()))?;
    }
    Ok(())
}

/// Starts `rvs-dpctl --datapath-type=userspace serve NAME` as a background process (its own
/// process group, output to `/run/rvs/NAME.log`) and connects to it once its socket is up.
fn spawn_userspace(name: &str) -> Result<Box<dyn Dpif>> {
    use std::os::unix::process::CommandExt;
    if rvs_dpif::open(DatapathType::Userspace, name).is_ok() {
        bail!("add-dp {name}: File exists (a userspace datapath {name} is running)");
    }
    let dir = rvs_dpif::remote::run_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("add-dp {name}: creating {}", dir.display()))?;
    let log_path = dir.join(format!("{name}.log"));
    let log = std::fs::File::create(&log_path).with_context(|| format!("add-dp {name}: {}", log_path.display()))?;
    let exe = std::env::current_exe().context("finding rvs-dpctl's own path")?;
    let mut child = std::process::Command::new(exe)
        .args(["--datapath-type=userspace", "serve", name])
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .with_context(|| format!("add-dp {name}: starting the datapath process"))?;
    for _ in 0..200 {
        if let Some(status) = child.try_wait()? {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let last = log.lines().last().unwrap_or("").trim_start_matches("rvs-dpctl: ");
            bail!("add-dp {name}: the datapath process exited ({status}): {last}");
        }
        match rvs_dpif::open(DatapathType::Userspace, name) {
            Ok(d) => return Ok(d),
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(25)),
        }
    }
    bail!("add-dp {name}: the datapath process did not open {} in 5 s", rvs_dpif::remote::socket_path(name).display())
}

/// The datapath a flow command addresses: the one named, or the only one there is.
fn pick_dp(ty: DatapathType, dp: Option<&str>) -> Result<Box<dyn Dpif>> {
    let name = match dp {
        Some(d) => dp_name(ty, d)?,
        None => {
            let v = rvs_dpif::list(ty)?;
            match v.as_slice() {
                [one] => one.name.clone(),
                [] => bail!("no datapaths exist"),
                _ => bail!("multiple datapaths exist: name one"),
            }
        }
    };
    rvs_dpif::open(ty, &name).with_context(|| format!("opening datapath {name}"))
}

/// Splits `[DP] A [B]` arguments: `n` trailing arguments after an optional datapath.
fn split_dp(args: &[String], n: usize) -> (Option<&str>, &[String]) {
    if args.len() > n {
        (Some(args[0].as_str()), &args[1..])
    } else {
        (None, args)
    }
}

fn put_flow(ty: DatapathType, args: &[String], flags: PutFlags) -> Result<()> {
    let (dp, rest) = split_dp(args, 2);
    let f = flows::parse_flow(&rest[0])?;
    let actions = flows::parse_actions(&rest[1])?;
    let mut d = pick_dp(ty, dp)?;
    let put = FlowPut {
        key: &f.key,
        mask: Some(&f.mask),
        actions: &actions,
        ufid: f.ufid.as_ref(),
        flags,
    };
    d.flow_put(&put).with_context(|| format!("{}: {}", if flags.create && !flags.modify { "add-flow" } else { "mod-flow" }, rest[0]))?;
    Ok(())
}

/// The flow a del-flow/get-flow argument names: by UFID when it has a `ufid:` prefix, else by key.
enum FlowRef {
    Ufid([u8; 16]),
    Key(Vec<u8>),
}

impl FlowRef {
    fn parse(s: &str) -> Result<Self> {
        if let Some((u, n)) = flows::parse_ufid_prefix(s)? {
            if !s[n..].trim().is_empty() {
                flows::parse_flow(s)?; // the rest must still be valid
            }
            return Ok(Self::Ufid(u));
        }
        Ok(Self::Key(flows::parse_flow(s)?.key))
    }

    fn id(&self) -> FlowId<'_> {
        match self {
            Self::Ufid(u) => FlowId::Ufid(u),
            Self::Key(k) => FlowId::Key(k),
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let ty = cli.datapath_type;
    match cli.cmd {
        Cmd::Show { statistics, dps } => show(ty, &dps, statistics),
        Cmd::DumpDps => {
            let mut v = rvs_dpif::list(ty)?;
            v.sort_by(|a, b| a.name.cmp(&b.name));
            for d in v {
                println!("{}@{}", type_prefix(ty), d.name);
            }
            Ok(())
        }
        Cmd::AddDp { dp, ifaces } => {
            let name = dp_name(ty, &dp)?;
            // Validate every interface argument before changing anything.
            for i in &ifaces {
                iface::parse(i)?;
            }
            let mut d = match ty {
                DatapathType::System => rvs_dpif::create(ty, &name)?,
                DatapathType::Userspace => spawn_userspace(&name)?,
            };
            add_ifaces(d.as_mut(), &ifaces)
        }
        Cmd::DelDp { dp } => {
            let name = dp_name(ty, &dp)?;
            let mut d = rvs_dpif::open(ty, &name)?;
            Ok(d.destroy()?)
        }
        Cmd::AddIf { dp, ifaces } => {
            let name = dp_name(ty, &dp)?;
            for i in &ifaces {
                iface::parse(i)?;
            }
            let mut d = rvs_dpif::open(ty, &name)?;
            add_ifaces(d.as_mut(), &ifaces)
        }
        Cmd::DelIf { dp, ifaces } => {
            let name = dp_name(ty, &dp)?;
            let mut d = rvs_dpif::open(ty, &name)?;
            for i in &ifaces {
                let p = d.port_get_by_name(i).with_context(|| format!("{i}: no such port in {name}"))?;
                d.port_del(p.port_no)?;
            }
            Ok(())
        }
        Cmd::DumpFlows { more, dp } => {
            let mut d = pick_dp(ty, dp.as_deref())?;
            let mut v = d.flow_dump(DumpOptions::default())?;
            // Stable output: by match text, as a reader would sort it.
            let now = flows::monotonic_ms();
            let mut lines: Vec<String> = v.drain(..).map(|f| flows::format_flow(&f, more, now)).collect();
            lines.sort();
            for l in lines {
                println!("{l}");
            }
            Ok(())
        }
        Cmd::AddFlow { clear, args } => {
            put_flow(ty, &args, PutFlags { create: true, zero_stats: clear, ..Default::default() })
        }
        Cmd::ModFlow { clear, may_create, args } => {
            put_flow(ty, &args, PutFlags { create: may_create, modify: true, zero_stats: clear, ..Default::default() })
        }
        Cmd::DelFlow { args } => {
            let (dp, rest) = split_dp(&args, 1);
            let r = FlowRef::parse(&rest[0])?;
            let mut d = pick_dp(ty, dp)?;
            d.flow_del(r.id()).with_context(|| format!("del-flow: {}", rest[0]))?;
            Ok(())
        }
        Cmd::DelFlows { dp } => {
            let mut d = pick_dp(ty, dp.as_deref())?;
            Ok(d.flow_flush()?)
        }
        Cmd::GetFlow { args } => {
            let (dp, rest) = split_dp(&args, 1);
            let r = FlowRef::parse(&rest[0])?;
            let mut d = pick_dp(ty, dp)?;
            let f = d.flow_get(r.id()).with_context(|| format!("get-flow: {}", rest[0]))?;
            println!("{}", flows::format_flow(&f, true, flows::monotonic_ms()));
            Ok(())
        }
        Cmd::Serve { dp } => {
            if ty != DatapathType::Userspace {
                bail!("serve runs a userspace datapath: use --datapath-type=userspace");
            }
            let name = dp_name(ty, &dp)?;
            rvs_dpif::remote::serve(&name)?;
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rvs-dpctl: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvs_dpif::{DpStats, MegaflowStats};

    #[test]
    fn show_matches_ovs_dpctl_layout() {
        let info = DpInfo {
            name: "br0".into(),
            dp_ifindex: 3,
            stats: DpStats { n_hit: 3, n_missed: 1, n_lost: 0, n_flows: 2 },
            megaflow: Some(MegaflowStats { n_mask_hit: 6, n_masks: 1, n_cache_hit: 2 }),
            user_features: 0,
            masks_cache_size: Some(256),
            per_cpu_pids: vec![],
        };
        let port = |n, name: &str, t| PortInfo {
            dp_ifindex: 3,
            port_no: n,
            port_type: t,
            name: name.into(),
            upcall_pids: vec![],
            stats: None,
            ifindex: None,
            dst_port: None,
            upcall_stats: None,
        };
        let ports = [port(0, "br0", PortType::Internal), port(1, "v1", PortType::Netdev), port(2, "gre0", PortType::Gre)];
        let out = format_show("system", &info, &ports, false);
        assert_eq!(
            out,
            "system@br0:\n  lookups: hit:3 missed:1 lost:0\n  flows: 2\n  masks: hit:6 total:1 hit/pkt:1.50\n  \
             cache: hit:2 hit-rate:50.00%\n  caches:\n    masks-cache: size:256\n  port 0: br0 (internal)\n  \
             port 1: v1\n  port 2: gre0 (gre)\n"
        );
    }

    #[test]
    fn dp_names_accept_type_prefix() {
        assert_eq!(dp_name(DatapathType::System, "system@br0").unwrap(), "br0");
        assert_eq!(dp_name(DatapathType::System, "br0").unwrap(), "br0");
        assert!(dp_name(DatapathType::System, "netdev@br0").is_err());
        assert!(dp_name(DatapathType::System, "bogus@br0").is_err());
    }

    #[test]
    fn cli_parses() {
        let c = Cli::try_parse_from(["rvs-dpctl", "--datapath-type=system", "add-if", "dp0", "v1", "v2,type=internal"]).unwrap();
        assert!(matches!(c.cmd, Cmd::AddIf { ref ifaces, .. } if ifaces.len() == 2));
        assert!(Cli::try_parse_from(["rvs-dpctl", "--datapath-type=xdp", "show"]).is_err());
        assert!(Cli::try_parse_from(["rvs-dpctl", "del-if", "dp0"]).is_err());
    }
}
