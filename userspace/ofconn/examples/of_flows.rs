//! Flow-installation benchmark client (tools/bench/of-flows.sh): connects to a switch as an
//! OpenFlow 1.3 controller, empties its tables, sends N distinct add flow-mods (ACL-like
//! 5-tuple matches in four mask families, several priorities) followed by one barrier, and
//! times from the first byte sent to the barrier reply; then asks for the aggregate flow count
//! and fails unless it is exactly N (nothing was dropped or merged).
//!
//! `cargo run --release -p rvs-ofconn --example of_flows -- TARGET [N]`
//!
//! The flow-mods are encoded before the clock starts (the switch is measured, not the client)
//! and written in one stream. The flows are laid out for the lookup half of the benchmark:
//! traffic UDP 10.66.0.1 -> 10.66.0.2 with destination ports 1..=N/4 hits family 1
//! (`output:2`), and family 0 (exact 5-tuples on the same addresses, other destination ports)
//! makes every lookup of such traffic examine both UDP ports, so each new source/destination
//! port pair is a new datapath flow (an upcall and a classifier lookup).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use rvs_ofconn::{ConnConfig, Connection, Target};
use rvs_openflow::instruction::Instruction;
use rvs_openflow::msg::{FlowMod, FlowModCommand, FlowStatsRequest, MultipartReplyBody, MultipartRequestBody};
use rvs_openflow::types::table;
use rvs_openflow::{encode, Action, Field, Match, Message, OfMessage, Version};

const ETH_IP: u128 = 0x0800;
const TCP: u128 = 6;
const UDP: u128 = 17;
/// 10.66.0.1 and 10.66.0.2: the lookup traffic's addresses.
const TRAFFIC_SRC: u128 = 0x0a42_0001;
const TRAFFIC_DST: u128 = 0x0a42_0002;

fn output(port: u32) -> Vec<Instruction> {
    vec![Instruction::ApplyActions(vec![Action::Output { port, max_len: 0 }])]
}

/// Flow `i` of `n`: family `i % 4`, a distinct match within its family.
fn flow(i: usize) -> FlowMod {
    let f = i % 4;
    let j = (i / 4) as u128;
    let (priority, match_, instructions) = match f {
        // Exact 5-tuples on the traffic's addresses, destination ports the traffic never uses.
        0 => (
            40_000 + (j % 8) as u16,
            Match::new()
                .with(Field::EthType, ETH_IP)
                .with(Field::IpProto, UDP)
                .with(Field::Ipv4Src, TRAFFIC_SRC)
                .with(Field::Ipv4Dst, TRAFFIC_DST)
                .with(Field::UdpSrc, 1024 + j % 60_000)
                .with(Field::UdpDst, 40_000 + j / 60_000),
            output(3),
        ),
        // Per-destination-port rules for the traffic's address pair: what the lookups hit.
        1 => (
            30_000,
            Match::new()
                .with(Field::EthType, ETH_IP)
                .with(Field::IpProto, UDP)
                .with(Field::Ipv4Src, TRAFFIC_SRC)
                .with(Field::Ipv4Dst, TRAFFIC_DST)
                .with(Field::UdpDst, 1 + j),
            output(2),
        ),
        // TCP service rules: source subnet /24, one server, port 80 or 443.
        2 => (
            20_000 + (j % 16) as u16,
            Match::new()
                .with(Field::EthType, ETH_IP)
                .with(Field::IpProto, TCP)
                .with_masked(Field::Ipv4Src, 0x0a00_0000 | (j << 8), 0xffff_ff00)
                .with(Field::Ipv4Dst, 0xac10_0001 + (j % 4))
                .with(Field::TcpDst, if j % 2 == 0 { 80 } else { 443 }),
            output(3),
        ),
        // Host block-list: one source host to a /16, various priorities, drop.
        _ => (
            10_000 + (j % 100) as u16,
            Match::new()
                .with(Field::EthType, ETH_IP)
                .with(Field::Ipv4Src, 0xc0a8_0000 | j)
                .with_masked(Field::Ipv4Dst, 0x0a42_0000, 0xffff_0000),
            Vec::new(),
        ),
    };
    FlowMod { command: FlowModCommand::Add, table_id: 0, priority, match_, instructions, ..Default::default() }
}

fn flow_count(c: &mut Connection) -> Result<u32, String> {
    let body = MultipartRequestBody::Aggregate(FlowStatsRequest { table_id: table::ALL, ..Default::default() });
    match c.multipart(body).map_err(|e| format!("aggregate stats: {e}"))?.first() {
        Some(MultipartReplyBody::Aggregate(a)) => Ok(a.flow_count),
        other => Err(format!("unexpected aggregate reply {other:?}")),
    }
}

fn run(target: &str, n: usize) -> Result<(), String> {
    let target = Target::parse(target).map_err(|e| format!("{target}: {e}"))?;
    let cfg = ConnConfig {
        versions: vec![Version::OF13],
        inactivity_probe: None,
        handshake_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(300),
    };
    let mut c = Connection::open(&target, None, &cfg).map_err(|e| format!("{target}: {e}"))?;
    // A switch that stops reading must not hang the benchmark.
    c.stream().set_write_timeout(Some(Duration::from_secs(300))).map_err(|e| e.to_string())?;
    let del = FlowMod { command: FlowModCommand::Delete, table_id: table::ALL, ..Default::default() };
    c.send_with_barrier(vec![Message::FlowMod(del)]).map_err(|e| format!("delete all flows: {e}"))?;
    let before = flow_count(&mut c)?;
    if before != 0 {
        return Err(format!("{before} flows left after deleting all"));
    }
    let t = Instant::now();
    let mut bytes = Vec::with_capacity(n * 112);
    for (xid, i) in (0x1000_0001u32..).zip(0..n) {
        let m = OfMessage { version: Version::OF13, xid, msg: Message::FlowMod(flow(i)) };
        bytes.extend_from_slice(&encode(&m).map_err(|e| format!("encode flow {i}: {e}"))?);
    }
    let enc = t.elapsed();
    let t = Instant::now();
    for chunk in bytes.chunks(256 * 1024) {
        c.send_raw(chunk).map_err(|e| format!("sending flow-mods: {e}"))?;
    }
    let sent = t.elapsed();
    let barrier = c.barrier();
    let took = t.elapsed();
    // Errors for the flow-mods arrived before the barrier reply (queued by the connection).
    let mut errors = 0usize;
    let mut first_error = None;
    while let Ok(Some(m)) = c.recv(Some(Duration::ZERO)) {
        if let Message::Error(e) = m.msg {
            errors += 1;
            first_error.get_or_insert(rvs_ofconn::error_name(&e));
        }
    }
    barrier.map_err(|e| format!("barrier: {e}"))?;
    let count = flow_count(&mut c)?;
    println!(
        "flows {n} bytes {} encode_s {:.3} send_s {:.3} install_s {:.3} flows_per_s {:.0} errors {errors} count {count}",
        bytes.len(),
        enc.as_secs_f64(),
        sent.as_secs_f64(),
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
    if let Some(e) = first_error {
        return Err(format!("{errors} flow-mods refused, first: {e}"));
    }
    if count as usize != n {
        return Err(format!("the switch holds {count} flows, {n} were sent"));
    }
    c.close();
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(target) = args.first() else {
        eprintln!("usage: of_flows TARGET [N_FLOWS]");
        return ExitCode::from(2);
    };
    let n = match args.get(1).map(|s| s.parse::<usize>()) {
        None => 100_000,
        Some(Ok(n)) if n > 0 && n <= 240_000 => n,
        Some(_) => {
            eprintln!("of_flows: N_FLOWS must be 1..=240000");
            return ExitCode::from(2);
        }
    };
    match run(target, n) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("of_flows: {e}");
            ExitCode::FAILURE
        }
    }
}
