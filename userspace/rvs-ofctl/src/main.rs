//! `rvs-ofctl`: administers OpenFlow switches with `ovs-ofctl`'s commands and output shapes.
//!
//! ```text
//! rvs-ofctl [-O OpenFlow10|OpenFlow13] [--strict] [--timeout=SECS] COMMAND SWITCH [ARG...]
//! ```
//!
//! SWITCH is a target (`tcp:IP[:PORT]`, `ssl:IP[:PORT]`, `unix:FILE`) or a bridge name, which
//! means the bridge's management socket: `$RVS_RUN_DIR/BRIDGE.mgmt` (default `/run/rvs`,
//! served by rvs-vswitchd), else Open vSwitch's `$OVS_RUNDIR/BRIDGE.mgmt` (default
//! `/var/run/openvswitch`). Only standard OpenFlow messages are used (no Nicira extensions, no
//! table-features probe), so any OpenFlow 1.0/1.3 switch can be driven. For `ssl:`, the
//! `--private-key`, `--certificate` and `--ca-cert` PEM files are required.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod parse;
mod print;

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rvs_ofconn::{error_name, ConnConfig, ConnError, Connection, Target, TlsConfig};
use rvs_openflow::msg::{
    FlowMod, FlowModCommand, FlowStats, FlowStatsRequest, GroupModCommand, MultipartReplyBody, MultipartRequest,
    MultipartRequestBody, SwitchConfig,
};
use rvs_openflow::text::{format_flow_stats, parse_flow_mod};
use rvs_openflow::types::{group, port};
use rvs_openflow::{Message, Version};

const USAGE: &str = "usage: rvs-ofctl [-O OpenFlow10|OpenFlow13] [--strict] [--timeout=SECS]
                 [--private-key=FILE --certificate=FILE --ca-cert=FILE] COMMAND SWITCH [ARG...]
commands:
  show SWITCH                      features, ports and configuration
  dump-desc SWITCH                 switch description
  dump-tables SWITCH               table statistics
  dump-ports SWITCH [PORT]         port statistics
  dump-ports-desc SWITCH           port descriptions
  dump-flows SWITCH [FLOW]         flows (FLOW: table=N, match fields, cookie=C/M, out_port=P)
  dump-aggregate SWITCH [FLOW]     aggregate flow statistics
  add-flow SWITCH FLOW             add a flow
  add-flows SWITCH FILE|-          add the flows in FILE (or stdin), one per line
  mod-flows SWITCH FLOW            modify actions of matching flows
  del-flows SWITCH [FLOW]          delete matching flows (all without FLOW)
  replace-flows SWITCH FILE|-      make the switch's flows those of FILE
  dump-groups SWITCH               group descriptions (OpenFlow 1.1+)
  dump-group-stats SWITCH          group statistics (OpenFlow 1.1+)
  add-group SWITCH GROUP           add a group (group_id=N,type=all|select|indirect|ff,bucket=...)
  mod-group SWITCH GROUP           modify a group
  del-groups SWITCH [group_id=N]   delete a group (all without argument)
  packet-out SWITCH in_port=P packet=HEX actions=A
  monitor SWITCH [MISS-LEN]        print asynchronous messages (packet-in, port-status...)
  probe SWITCH                     echo round trip";

struct Opts {
    versions: Vec<Version>,
    strict: bool,
    timeout: Option<Duration>,
    tls: Option<TlsConfig>,
}

type Res<T> = Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rvs-ofctl: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_versions(s: &str) -> Res<Vec<Version>> {
    s.split(',')
        .map(|v| Version::parse(v.trim()).ok_or_else(|| format!("unknown OpenFlow version {v:?} (use OpenFlow10 or OpenFlow13)")))
        .collect()
}

fn run(args: Vec<String>) -> Res<()> {
    let mut opts = Opts { versions: vec![Version::OF10], strict: false, timeout: None, tls: None };
    let (mut key, mut cert, mut ca) = (None, None, None);
    let mut pos = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if a.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut val = |inline: Option<String>| inline.or_else(|| it.next()).ok_or_else(|| format!("{name} needs a value"));
        match name.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            "-O" | "--protocols" => opts.versions = parse_versions(&val(inline)?)?,
            "--strict" => opts.strict = true,
            "-t" | "--timeout" => {
                let s: u64 = val(inline)?.parse().map_err(|_| "bad --timeout".to_string())?;
                opts.timeout = Some(Duration::from_secs(s));
            }
            "-p" | "--private-key" => key = Some(PathBuf::from(val(inline)?)),
            "-c" | "--certificate" => cert = Some(PathBuf::from(val(inline)?)),
            "-C" | "--ca-cert" => ca = Some(PathBuf::from(val(inline)?)),
            s if s.starts_with('-') && s.len() > 1 => return Err(format!("unknown option {s}\n{USAGE}")),
            _ => pos.push(a),
        }
    }
    if let (Some(private_key), Some(certificate), Some(ca_cert)) = (key, cert, ca) {
        opts.tls = Some(TlsConfig { private_key, certificate, ca_cert });
    }
    let (Some(cmd), Some(switch)) = (pos.first(), pos.get(1)) else { return Err(USAGE.into()) };
    let rest = pos.get(2..).unwrap_or_default();
    let target = resolve_switch(switch)?;
    command(cmd, &target, rest, &opts)
}

/// A target string or a bridge name (its management socket).
fn resolve_switch(s: &str) -> Res<Target> {
    if s.contains(':') {
        return Target::parse(s).map_err(|e| e.to_string());
    }
    if s.contains('/') {
        return Ok(Target::Unix(PathBuf::from(s)));
    }
    let rvs = std::env::var_os("RVS_RUN_DIR").map_or_else(|| PathBuf::from("/run/rvs"), PathBuf::from);
    let ovs = std::env::var_os("OVS_RUNDIR").map_or_else(|| PathBuf::from("/var/run/openvswitch"), PathBuf::from);
    let candidates = [rvs.join(format!("{s}.mgmt")), ovs.join(format!("{s}.mgmt"))];
    candidates
        .iter()
        .find(|p| p.exists())
        .map(|p| Target::Unix(p.clone()))
        .ok_or_else(|| format!("{s} is not a bridge or a target ({} not found)", show_paths(&candidates)))
}

fn show_paths(p: &[PathBuf]) -> String {
    p.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

fn open(target: &Target, opts: &Opts) -> Res<Connection> {
    let mut cfg = ConnConfig { versions: opts.versions.clone(), inactivity_probe: None, ..ConnConfig::default() };
    if let Some(t) = opts.timeout {
        cfg.handshake_timeout = t;
        cfg.request_timeout = t;
    }
    Connection::open(target, opts.tls.as_ref(), &cfg).map_err(|e| format!("{target}: {}", conn_err(&e)))
}

fn conn_err(e: &ConnError) -> String {
    match e {
        ConnError::Ofp { xid, error } => format!("OFPT_ERROR (xid={xid:#x}): {}", error_name(error)),
        e => e.to_string(),
    }
}

fn ce(e: ConnError) -> String {
    conn_err(&e)
}

fn flow_filter(arg: Option<&String>) -> Res<FlowStatsRequest> {
    let Some(a) = arg else { return Ok(FlowStatsRequest::default()) };
    let fm = parse_flow_mod(a, FlowModCommand::Delete).map_err(|e| e.to_string())?;
    Ok(FlowStatsRequest {
        table_id: fm.table_id,
        out_port: fm.out_port,
        out_group: fm.out_group,
        cookie: fm.cookie,
        cookie_mask: fm.cookie_mask,
        match_: fm.match_,
    })
}

/// Prints every reply message of a multipart request with its own header, as ovs-ofctl does.
fn dump(c: &mut Connection, body: MultipartRequestBody, each: impl Fn(&MultipartReplyBody, Version) -> String) -> Res<()> {
    let replies = c.transact(Message::MultipartRequest(MultipartRequest { flags: 0, body })).map_err(ce)?;
    for m in replies {
        let Message::MultipartReply(r) = &m.msg else { return Err(format!("unexpected {}", m.msg.name())) };
        println!("{}{}", print::header(print::multipart_reply_name(&m.msg), m.version, m.xid), each(&r.body, m.version));
    }
    Ok(())
}

fn flow_lines(b: &MultipartReplyBody, v: Version) -> String {
    match b {
        MultipartReplyBody::Flow(fs) => fs.iter().map(|f| format!("\n{}", format_flow_stats(f, v))).collect(),
        _ => String::new(),
    }
}

fn read_lines(file: &str) -> Res<Vec<String>> {
    let text = if file == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| e.to_string())?;
        s
    } else {
        std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?
    };
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect())
}

fn flow_mods(lines: &[String], command: FlowModCommand) -> Res<Vec<Message>> {
    lines
        .iter()
        .map(|l| parse_flow_mod(l, command).map(Message::FlowMod).map_err(|e| format!("{l}: {e}")))
        .collect()
}

fn need<'a>(rest: &'a [String], what: &str) -> Res<&'a String> {
    rest.first().ok_or_else(|| format!("missing {what}"))
}

fn command(cmd: &str, target: &Target, rest: &[String], opts: &Opts) -> Res<()> {
    let mut c = open(target, opts)?;
    let v = c.version();
    let strict = opts.strict;
    match cmd {
        "show" => {
            let r = c.transact(Message::FeaturesRequest).map_err(ce)?;
            for m in &r {
                if let Message::FeaturesReply(f) = &m.msg {
                    print!("{}{}", print::header(m.msg.name(), m.version, m.xid), print::format_features(f, v));
                }
            }
            if v != Version::OF10 {
                dump(&mut c, MultipartRequestBody::PortDesc, |b, v| match b {
                    MultipartReplyBody::PortDesc(p) => format!("\n{}", print::format_ports(p, v).trim_end_matches('\n')),
                    _ => String::new(),
                })?;
            }
            let r = c.transact(Message::GetConfigRequest).map_err(ce)?;
            for m in &r {
                if let Message::GetConfigReply(cfg) = &m.msg {
                    println!("{}{}", print::header(m.msg.name(), m.version, m.xid), print::format_switch_config(cfg));
                }
            }
        }
        "dump-desc" => dump(&mut c, MultipartRequestBody::Desc, |b, _| match b {
            MultipartReplyBody::Desc(d) => format!(
                "\nManufacturer: {}\nHardware: {}\nSoftware: {}\nSerial Num: {}\nDP Description: {}",
                d.mfr_desc, d.hw_desc, d.sw_desc, d.serial_num, d.dp_desc
            ),
            _ => String::new(),
        })?,
        "dump-tables" => dump(&mut c, MultipartRequestBody::Table, |b, v| match b {
            MultipartReplyBody::Table(t) => print::format_table_stats(t, v).trim_end_matches('\n').to_string(),
            _ => String::new(),
        })?,
        "dump-ports" => {
            let port_no = match rest.first() {
                Some(p) => port::parse(p).ok_or_else(|| format!("bad port {p}"))?,
                None => port::ANY,
            };
            dump(&mut c, MultipartRequestBody::PortStats { port_no }, |b, v| match b {
                MultipartReplyBody::PortStats(ps) => {
                    let n = ps.len();
                    let body: String = ps.iter().map(|p| print::format_port_stats(p, v)).collect();
                    format!(" {n} ports\n{}", body.trim_end_matches('\n'))
                }
                _ => String::new(),
            })?
        }
        "dump-ports-desc" => {
            if v == Version::OF10 {
                // OpenFlow 1.0 has no port-desc multipart in the base spec; the ports are in the
                // features reply.
                let r = c.transact(Message::FeaturesRequest).map_err(ce)?;
                for m in r {
                    if let Message::FeaturesReply(f) = &m.msg {
                        println!("{}\n{}", print::header("OFPST_PORT_DESC reply", m.version, m.xid), print::format_ports(&f.ports, v).trim_end_matches('\n'));
                    }
                }
            } else {
                dump(&mut c, MultipartRequestBody::PortDesc, |b, v| match b {
                    MultipartReplyBody::PortDesc(p) => format!("\n{}", print::format_ports(p, v).trim_end_matches('\n')),
                    _ => String::new(),
                })?
            }
        }
        "dump-flows" => dump(&mut c, MultipartRequestBody::Flow(flow_filter(rest.first())?), flow_lines)?,
        "dump-aggregate" => dump(&mut c, MultipartRequestBody::Aggregate(flow_filter(rest.first())?), |b, _| match b {
            MultipartReplyBody::Aggregate(a) => {
                format!(" packet_count={} byte_count={} flow_count={}", a.packet_count, a.byte_count, a.flow_count)
            }
            _ => String::new(),
        })?,
        "add-flow" => c.send_with_barrier(flow_mods(&[need(rest, "flow")?.clone()], FlowModCommand::Add)?).map_err(ce)?,
        "add-flows" => c.send_with_barrier(flow_mods(&read_lines(need(rest, "file")?)?, FlowModCommand::Add)?).map_err(ce)?,
        "mod-flows" => {
            let cmd = if strict { FlowModCommand::ModifyStrict } else { FlowModCommand::Modify };
            c.send_with_barrier(flow_mods(&[need(rest, "flow")?.clone()], cmd)?).map_err(ce)?
        }
        "del-flows" => {
            let cmd = if strict { FlowModCommand::DeleteStrict } else { FlowModCommand::Delete };
            let fm = match rest.first() {
                Some(f) => parse_flow_mod(f, cmd).map_err(|e| e.to_string())?,
                None => FlowMod { command: cmd, table_id: rvs_openflow::types::table::ALL, ..FlowMod::default() },
            };
            c.send_with_barrier(vec![Message::FlowMod(fm)]).map_err(ce)?
        }
        "replace-flows" => replace_flows(&mut c, &read_lines(need(rest, "file")?)?)?,
        "dump-groups" => dump(&mut c, MultipartRequestBody::GroupDesc, |b, v| match b {
            MultipartReplyBody::GroupDesc(gs) => gs.iter().map(|g| format!("\n {}", print::format_group(g, v))).collect(),
            _ => String::new(),
        })?,
        "dump-group-stats" => dump(&mut c, MultipartRequestBody::Group { group_id: group::ALL }, |b, _| match b {
            MultipartReplyBody::Group(gs) => gs
                .iter()
                .map(|g| {
                    let mut s = format!(
                        "\n group_id={},duration={},ref_count={},packet_count={},byte_count={}",
                        g.group_id,
                        rvs_openflow::text::format_duration(g.duration_sec, g.duration_nsec),
                        g.ref_count,
                        g.packet_count,
                        g.byte_count
                    );
                    for (i, (p, b)) in g.bucket_stats.iter().enumerate() {
                        s.push_str(&format!(",bucket{i}:packet_count={p},byte_count={b}"));
                    }
                    s
                })
                .collect(),
            _ => String::new(),
        })?,
        "add-group" | "mod-group" | "del-groups" => {
            let gcmd = match cmd {
                "add-group" => GroupModCommand::Add,
                "mod-group" => GroupModCommand::Modify,
                _ => GroupModCommand::Delete,
            };
            let text = rest.first().map_or("group_id=all", String::as_str);
            let gm = parse::parse_group_mod(text, gcmd).map_err(|e| e.to_string())?;
            c.send_with_barrier(vec![Message::GroupMod(gm)]).map_err(ce)?
        }
        "packet-out" => {
            let pos = parse::parse_packet_out(rest).map_err(|e| e.to_string())?;
            c.send_with_barrier(pos.into_iter().map(Message::PacketOut).collect()).map_err(ce)?
        }
        "probe" => {
            let t0 = Instant::now();
            c.transact(Message::EchoRequest(Vec::new())).map_err(ce)?;
            println!("echo reply in {:.3} ms", t0.elapsed().as_secs_f64() * 1000.0);
        }
        "monitor" => monitor(&mut c, rest, opts)?,
        other => return Err(format!("unknown command {other:?}\n{USAGE}")),
    }
    c.close();
    Ok(())
}

fn monitor(c: &mut Connection, rest: &[String], opts: &Opts) -> Res<()> {
    if let Some(len) = rest.first() {
        let miss_send_len: u16 = len.parse().map_err(|_| format!("bad miss-len {len}"))?;
        c.send(Message::SetConfig(SwitchConfig { flags: 0, miss_send_len })).map_err(ce)?;
        c.barrier().map_err(ce)?;
    }
    let end = opts.timeout.and_then(|t| Instant::now().checked_add(t));
    loop {
        let left = end.map(|e| e.saturating_duration_since(Instant::now()));
        if left.is_some_and(|l| l.is_zero()) {
            return Ok(());
        }
        match c.recv(left) {
            Ok(Some(m)) => println!("{}", print::format_async(&m)),
            Ok(None) => return Ok(()),
            Err(ConnError::Decode { error, .. }) => println!("(undecodable message: {error})"),
            Err(ConnError::Closed) => return Ok(()),
            Err(e) => return Err(ce(e)),
        }
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
    }
}

/// The identity of a flow in a table: table, priority and match.
fn flow_key(table: u8, priority: u16, m: &rvs_openflow::Match) -> String {
    format!("{table}/{}", rvs_openflow::text::format_match(m, priority))
}

/// `replace-flows`: deletes (strictly) the switch's flows that the file lacks and adds those
/// that are new or differ in cookie, timeouts or actions.
fn replace_flows(c: &mut Connection, lines: &[String]) -> Res<()> {
    let wanted = flow_mods(lines, FlowModCommand::Add)?;
    let bodies = c.multipart(MultipartRequestBody::Flow(FlowStatsRequest::default())).map_err(ce)?;
    let have: Vec<FlowStats> = bodies
        .into_iter()
        .flat_map(|b| match b {
            MultipartReplyBody::Flow(f) => f,
            _ => Vec::new(),
        })
        .collect();
    let mut msgs = Vec::new();
    let mut wanted_keys = std::collections::HashMap::new();
    for m in &wanted {
        if let Message::FlowMod(fm) = m {
            wanted_keys.insert(flow_key(fm.table_id, fm.priority, &fm.match_), fm);
        }
    }
    let mut have_keys = std::collections::HashMap::new();
    for f in &have {
        let k = flow_key(f.table_id, f.priority, &f.match_);
        if !wanted_keys.contains_key(&k) {
            msgs.push(Message::FlowMod(FlowMod {
                command: FlowModCommand::DeleteStrict,
                table_id: f.table_id,
                priority: f.priority,
                match_: f.match_.clone(),
                ..FlowMod::default()
            }));
        }
        have_keys.insert(k, f);
    }
    for m in wanted {
        let Message::FlowMod(fm) = &m else { continue };
        let same = have_keys.get(&flow_key(fm.table_id, fm.priority, &fm.match_)).is_some_and(|f| {
            f.cookie == fm.cookie
                && f.idle_timeout == fm.idle_timeout
                && f.hard_timeout == fm.hard_timeout
                && f.instructions == fm.instructions
        });
        if !same {
            msgs.push(m);
        }
    }
    if msgs.is_empty() {
        return Ok(());
    }
    c.send_with_barrier(msgs).map_err(ce)
}
