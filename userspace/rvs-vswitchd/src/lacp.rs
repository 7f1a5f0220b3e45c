//! LACP (IEEE 802.3ad / 802.1AX) for bonds with `Port.lacp=active|passive`: the LACPDU codec,
//! each member's actor/partner state, which members may carry traffic (selected for one
//! aggregator and in sync with the partner), when to transmit, and `lacp/show`.
//!
//! How LACPDUs travel: translation sends every slow-protocols frame (ethertype 0x8809) that
//! arrives on a LACP bond member to userspace with a `userspace(cookie "LA")` action (and no
//! output, so it is never switched); the handler hands it to [`Lacp::rx`]. The daemon's main loop
//! calls [`Lacp::run`], which returns the LACPDUs due (periodic, or after a state change) for the
//! daemon to execute out of the member's datapath port. The bond reconciler asks
//! [`Lacp::may_enable`] for each member.
//!
//! Simplifications against the standard's state machines, stated so nobody relies on them:
//! selection picks the aggregator of the first member (by name) that has a current partner and
//! takes every member whose partner reports the same system and key; there is no churn detection,
//! no `lacp-fallback-ab`, and members move to collecting+distributing together once in sync.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rvs_core::actions::{Action, Userspace};
use rvs_core::extract::{extract, Metadata};
use rvs_dpif::{DatapathType, Execute, Upcall};

use crate::bridge::Vswitchd;
use crate::config::{BridgeCfg, PortCfg};
use crate::ofproto::{BridgeConfig, Switch, NO_DP_PORT};
use crate::unixctl::Server;
use crate::xlate::Xlate;

/// The slow-protocols ethertype.
pub const ETH_TYPE_SLOW: u16 = 0x8809;
/// The LACP destination (slow protocols multicast).
pub const LACP_DST: [u8; 6] = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x02];
/// The `userspace` action cookie of LACP frames.
pub const COOKIE: [u8; 8] = *b"LA\0\0\0\0\0\0";
/// Length of a LACPDU after the Ethernet header.
const PDU_LEN: usize = 110;

/// Actor/partner state bits.
pub mod state {
    /// LACP_Activity: active.
    pub const ACTIVITY: u8 = 1 << 0;
    /// LACP_Timeout: short (fast) timeout.
    pub const TIMEOUT: u8 = 1 << 1;
    /// Aggregatable.
    pub const AGGREGATION: u8 = 1 << 2;
    /// In sync.
    pub const SYNC: u8 = 1 << 3;
    /// Collecting.
    pub const COLLECTING: u8 = 1 << 4;
    /// Distributing.
    pub const DISTRIBUTING: u8 = 1 << 5;
    /// Defaulted (no partner information received).
    pub const DEFAULTED: u8 = 1 << 6;
    /// Expired.
    pub const EXPIRED: u8 = 1 << 7;
}

/// One side's information in a LACPDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Info {
    /// System priority.
    pub sys_priority: u16,
    /// System ID (a MAC).
    pub sys_id: [u8; 6],
    /// Key (identifies the aggregation group).
    pub key: u16,
    /// Port priority.
    pub port_priority: u16,
    /// Port number.
    pub port: u16,
    /// State bits ([`state`]).
    pub state: u8,
}

impl Info {
    fn put(&self, ty: u8, out: &mut Vec<u8>) {
        out.extend_from_slice(&[ty, 20]);
        out.extend_from_slice(&self.sys_priority.to_be_bytes());
        out.extend_from_slice(&self.sys_id);
        out.extend_from_slice(&self.key.to_be_bytes());
        out.extend_from_slice(&self.port_priority.to_be_bytes());
        out.extend_from_slice(&self.port.to_be_bytes());
        out.push(self.state);
        out.extend_from_slice(&[0; 3]);
    }

    fn get(b: &[u8]) -> Info {
        let mut sys_id = [0; 6];
        sys_id.copy_from_slice(&b[2..8]);
        Info {
            sys_priority: u16::from_be_bytes([b[0], b[1]]),
            sys_id,
            key: u16::from_be_bytes([b[8], b[9]]),
            port_priority: u16::from_be_bytes([b[10], b[11]]),
            port: u16::from_be_bytes([b[12], b[13]]),
            state: b[14],
        }
    }

    /// Same system, key and port (what a partner echoes back), state aside.
    fn same_port(&self, o: &Info) -> bool {
        (self.sys_priority, self.sys_id, self.key, self.port_priority, self.port) == (o.sys_priority, o.sys_id, o.key, o.port_priority, o.port)
    }
}

/// A decoded LACPDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pdu {
    /// The sender.
    pub actor: Info,
    /// What the sender knows of us.
    pub partner: Info,
}

/// Why a frame is not a LACPDU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PduError {
    /// Not ethertype 0x8809 subtype 1.
    #[error("not a LACPDU")]
    NotLacp,
    /// Too short or with wrong TLVs.
    #[error("malformed LACPDU: {0}")]
    Malformed(&'static str),
}

impl Pdu {
    /// The whole Ethernet frame from `src`.
    pub fn encode(&self, src: [u8; 6]) -> Vec<u8> {
        let mut f = Vec::with_capacity(14 + PDU_LEN);
        f.extend_from_slice(&LACP_DST);
        f.extend_from_slice(&src);
        f.extend_from_slice(&ETH_TYPE_SLOW.to_be_bytes());
        f.extend_from_slice(&[1, 1]); // subtype LACP, version 1
        self.actor.put(1, &mut f);
        self.partner.put(2, &mut f);
        f.extend_from_slice(&[3, 16]);
        f.extend_from_slice(&0u16.to_be_bytes()); // collector max delay
        f.extend_from_slice(&[0; 12]);
        f.extend_from_slice(&[0, 0]); // terminator
        f.extend_from_slice(&[0; 50]);
        f
    }

    /// Parses an Ethernet frame (untagged).
    pub fn decode(f: &[u8]) -> Result<Pdu, PduError> {
        if f.len() < 16 || u16::from_be_bytes([f[12], f[13]]) != ETH_TYPE_SLOW || f[14] != 1 {
            return Err(PduError::NotLacp);
        }
        let p = &f[14..];
        // Subtype, version, then 20-byte actor and partner TLVs (type, length, 18 bytes).
        if p.len() < 2 + 20 + 20 {
            return Err(PduError::Malformed("too short"));
        }
        if p[2] != 1 || p[3] != 20 {
            return Err(PduError::Malformed("no actor TLV"));
        }
        if p[22] != 2 || p[23] != 20 {
            return Err(PduError::Malformed("no partner TLV"));
        }
        Ok(Pdu { actor: Info::get(&p[4..22]), partner: Info::get(&p[24..42]) })
    }
}

/// `Port.lacp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Sends LACPDUs on its own.
    Active,
    /// Only answers.
    Passive,
}

/// The LACP settings of one bond.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BondLacpCfg {
    /// Active or passive.
    pub mode: Mode,
    /// `other_config:lacp-time=fast` (1 s transmit, 3 s timeout) or slow (30 s / 90 s).
    pub fast: bool,
    /// System ID (`other_config:lacp-system-id` or derived from bridge and port names).
    pub sys_id: [u8; 6],
    /// `other_config:lacp-system-priority` (default 65534... as Open vSwitch: 65535).
    pub sys_priority: u16,
    /// Key: the bond's bundle ID.
    pub key: u16,
    /// Members: OpenFlow port → (name, datapath port).
    pub members: BTreeMap<u32, (String, u32)>,
}

impl BondLacpCfg {
    fn period(&self) -> Duration {
        Duration::from_secs(if self.fast { 1 } else { 30 })
    }
}

/// A system ID derived from names (locally administered, stable across restarts).
pub fn derived_sys_id(bridge: &str, port: &str) -> [u8; 6] {
    // FNV-1a over "bridge/port".
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bridge.bytes().chain(std::iter::once(b'/')).chain(port.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let b = h.to_be_bytes();
    [0x02, b[1], b[2], b[3], b[4], b[5]]
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let v: Vec<u8> = s.split(':').map(|x| u8::from_str_radix(x, 16)).collect::<Result<_, _>>().ok()?;
    v.try_into().ok()
}

#[derive(Debug, Clone, Default)]
struct Member {
    partner: Option<(Info, Info, Instant)>, // (partner's actor info, its view of us, received at)
    actor_state: u8,
    last_tx: Option<Instant>,
    rx_count: u64,
    tx_count: u64,
}

#[derive(Debug)]
struct BondLacp {
    cfg: BondLacpCfg,
    members: HashMap<u32, Member>,
}

/// LACPDUs to send: (bridge, datapath port, frame).
pub type Tx = Vec<(String, u32, Vec<u8>)>;

/// All LACP bonds, by (bridge, port name).
#[derive(Debug, Default)]
pub struct Lacp {
    bonds: Mutex<BTreeMap<(String, String), BondLacp>>,
}

impl BondLacp {
    fn actor(&self, ofport: u32, st: u8) -> Info {
        Info { sys_priority: self.cfg.sys_priority, sys_id: self.cfg.sys_id, key: self.cfg.key, port_priority: 255, port: u16::try_from(ofport).unwrap_or(u16::MAX), state: st }
    }

    fn timeout(&self) -> Duration {
        self.cfg.period() * 3
    }

    /// The partner (system priority, system, key) of the aggregator, if any member has one.
    fn aggregator(&self, now: Instant) -> Option<(u16, [u8; 6], u16)> {
        let mut by_name: Vec<_> = self.cfg.members.iter().collect();
        by_name.sort_by(|a, b| a.1 .0.cmp(&b.1 .0));
        by_name.into_iter().find_map(|(o, _)| {
            let (p, _, at) = self.members.get(o)?.partner?;
            (now.duration_since(at) < self.timeout() && p.state & state::AGGREGATION != 0).then_some((p.sys_priority, p.sys_id, p.key))
        })
    }

    fn selected(&self, ofport: u32, now: Instant) -> bool {
        let Some(agg) = self.aggregator(now) else { return false };
        self.members.get(&ofport).and_then(|m| m.partner).is_some_and(|(p, _, at)| {
            now.duration_since(at) < self.timeout() && (p.sys_priority, p.sys_id, p.key) == agg
        })
    }

    /// Selected and the partner is in sync with what we sent it.
    fn in_sync(&self, ofport: u32, now: Instant) -> bool {
        if !self.selected(ofport, now) {
            return false;
        }
        let Some(m) = self.members.get(&ofport) else { return false };
        let Some((p, seen, _)) = m.partner else { return false };
        p.state & state::SYNC != 0 && seen.same_port(&self.actor(ofport, 0))
    }

    fn actor_state(&self, ofport: u32, now: Instant) -> u8 {
        let mut s = state::AGGREGATION;
        if self.cfg.mode == Mode::Active {
            s |= state::ACTIVITY;
        }
        if self.cfg.fast {
            s |= state::TIMEOUT;
        }
        match self.members.get(&ofport).and_then(|m| m.partner) {
            Some((_, _, at)) if now.duration_since(at) < self.timeout() => {}
            Some(_) => s |= state::EXPIRED | state::DEFAULTED,
            None => s |= state::DEFAULTED,
        }
        if self.selected(ofport, now) {
            s |= state::SYNC;
            if self.in_sync(ofport, now) {
                s |= state::COLLECTING | state::DISTRIBUTING;
            }
        }
        s
    }
}

impl Lacp {
    /// Installs the LACP bonds of the configuration (others are forgotten); the state of a bond
    /// whose settings did not change is kept.
    pub fn configure(&self, wanted: BTreeMap<(String, String), BondLacpCfg>) {
        let keep = wanted.keys().cloned().collect();
        for (k, cfg) in wanted {
            self.set(k, cfg);
        }
        self.retain(&keep);
    }

    /// Forgets the bonds not in `keep` (bridge, port).
    pub fn retain(&self, keep: &BTreeSet<(String, String)>) {
        self.bonds.lock().unwrap_or_else(|p| p.into_inner()).retain(|k, _| keep.contains(k));
    }

    /// Installs (or updates) one LACP bond.
    pub fn set(&self, k: (String, String), cfg: BondLacpCfg) {
        let mut g = self.bonds.lock().unwrap_or_else(|p| p.into_inner());
        {
            match g.get_mut(&k) {
                Some(b) if b.cfg == cfg => {}
                Some(b) => {
                    b.members.retain(|o, _| cfg.members.contains_key(o));
                    b.cfg = cfg;
                }
                None => {
                    crate::info!("lacp", "{}: LACP {} ({})", k.1, if cfg.mode == Mode::Active { "active" } else { "passive" }, if cfg.fast { "fast" } else { "slow" });
                    g.insert(k, BondLacp { cfg, members: HashMap::new() });
                }
            }
        }
    }

    /// Stops LACP on bond `port` of `bridge`.
    pub fn remove(&self, bridge: &str, port: &str) {
        if self.bonds.lock().unwrap_or_else(|p| p.into_inner()).remove(&(bridge.to_string(), port.to_string())).is_some() {
            crate::info!("lacp", "{port}: LACP off");
        }
    }

    /// Whether bond `port` of `bridge` runs LACP.
    pub fn has(&self, bridge: &str, port: &str) -> bool {
        self.bonds.lock().unwrap_or_else(|p| p.into_inner()).contains_key(&(bridge.to_string(), port.to_string()))
    }

    /// Whether member `ofport` of LACP bond `port` may carry traffic (`true` for a bond without
    /// LACP).
    pub fn may_enable(&self, bridge: &str, port: &str, ofport: u32) -> bool {
        let g = self.bonds.lock().unwrap_or_else(|p| p.into_inner());
        match g.get(&(bridge.to_string(), port.to_string())) {
            Some(b) => b.in_sync(ofport, Instant::now()),
            None => true,
        }
    }

    /// The bond (bridge, port) whose member is datapath port `dp_port`, if it runs LACP.
    pub fn bond_of_dp(&self, bridge: &str, dp_port: u32) -> Option<(String, u32)> {
        let g = self.bonds.lock().unwrap_or_else(|p| p.into_inner());
        g.iter().filter(|(k, _)| k.0 == bridge).find_map(|(k, b)| {
            b.cfg.members.iter().find(|(_, (_, d))| *d == dp_port).map(|(o, _)| (k.1.clone(), *o))
        })
    }

    /// A frame received on member `ofport` of bond `port`. Returns whether the member's
    /// enablement may have changed (the bond should be reconciled).
    pub fn rx(&self, bridge: &str, port: &str, ofport: u32, frame: &[u8]) -> Result<bool, PduError> {
        let pdu = Pdu::decode(frame)?;
        let now = Instant::now();
        let mut g = self.bonds.lock().unwrap_or_else(|p| p.into_inner());
        let Some(b) = g.get_mut(&(bridge.to_string(), port.to_string())) else { return Ok(false) };
        let before = b.in_sync(ofport, now);
        let m = b.members.entry(ofport).or_default();
        m.rx_count += 1;
        let new_partner = m.partner.is_none_or(|(p, s, _)| !p.same_port(&pdu.actor) || p.state != pdu.actor.state || s != pdu.partner);
        m.partner = Some((pdu.actor, pdu.partner, now));
        if new_partner {
            // Answer at once (a passive member speaks only when spoken to).
            m.last_tx = None;
        }
        Ok(before != b.in_sync(ofport, now))
    }

    /// The LACPDUs due now, with `changed` set when a member's state changed (expiry, sync).
    pub fn run(&self) -> (Tx, bool) {
        let now = Instant::now();
        let mut out = Vec::new();
        let mut changed = false;
        let mut g = self.bonds.lock().unwrap_or_else(|p| p.into_inner());
        for ((bridge, _), b) in g.iter_mut() {
            let members: Vec<(u32, u32)> = b.cfg.members.iter().map(|(o, (_, d))| (*o, *d)).collect();
            for (o, dp) in members {
                let st = b.actor_state(o, now);
                let m = b.members.entry(o).or_default();
                let old = m.actor_state;
                if st != old {
                    changed = true;
                    m.last_tx = None;
                }
                m.actor_state = st;
                let partner_active = m.partner.is_some_and(|(p, _, at)| p.state & state::ACTIVITY != 0 && now.duration_since(at) < b.cfg.period() * 3);
                let due = m.last_tx.is_none_or(|t| now.duration_since(t) >= b.cfg.period());
                if due && (b.cfg.mode == Mode::Active || partner_active) {
                    let partner = m.partner.filter(|(_, _, at)| now.duration_since(*at) < b.cfg.period() * 3).map(|(p, _, _)| p).unwrap_or_default();
                    let m = b.members.get_mut(&o).expect("member just inserted");
                    m.last_tx = Some(now);
                    m.tx_count += 1;
                    let actor = b.actor(o, st);
                    out.push((bridge.clone(), dp, Pdu { actor, partner }.encode(b.cfg.sys_id)));
                }
            }
        }
        (out, changed)
    }

    /// `lacp/show [PORT]`.
    pub fn show(&self, which: Option<&str>) -> Result<String, String> {
        let now = Instant::now();
        let g = self.bonds.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        let mut found = false;
        let mac = |m: &[u8; 6]| m.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":");
        for ((bridge, port), b) in g.iter() {
            if which.is_some_and(|w| w != port) {
                continue;
            }
            found = true;
            let _ = writeln!(out, "---- {port} ----");
            let _ = writeln!(out, "  bridge: {bridge}");
            let _ = writeln!(out, "  status: {} {}", if b.cfg.mode == Mode::Active { "active" } else { "passive" }, if b.aggregator(now).is_some() { "negotiated" } else { "not negotiated" });
            let _ = writeln!(out, "  sys_id: {}", mac(&b.cfg.sys_id));
            let _ = writeln!(out, "  sys_priority: {}", b.cfg.sys_priority);
            let _ = writeln!(out, "  aggregation key: {}", b.cfg.key);
            let _ = writeln!(out, "  lacp_time: {}", if b.cfg.fast { "fast" } else { "slow" });
            for (o, (name, _)) in &b.cfg.members {
                let m = b.members.get(o).cloned().unwrap_or_default();
                let status = if b.in_sync(*o, now) {
                    "current attached (in sync)"
                } else if b.selected(*o, now) {
                    "current attached (partner not in sync)"
                } else if m.partner.is_some_and(|(_, _, at)| now.duration_since(at) < b.timeout()) {
                    "current detached"
                } else if m.partner.is_some() {
                    "expired"
                } else {
                    "defaulted"
                };
                let _ = writeln!(out, "\nmember: {name}: {status}");
                let _ = writeln!(out, "  port_id: {o}");
                let _ = writeln!(out, "  actor state: {}", flags(b.actor_state(*o, now)));
                match m.partner {
                    Some((p, _, _)) => {
                        let _ = writeln!(out, "  partner sys_id: {}", mac(&p.sys_id));
                        let _ = writeln!(out, "  partner sys_priority: {}", p.sys_priority);
                        let _ = writeln!(out, "  partner port_id: {}", p.port);
                        let _ = writeln!(out, "  partner key: {}", p.key);
                        let _ = writeln!(out, "  partner state: {}", flags(p.state));
                    }
                    None => out.push_str("  partner: none\n"),
                }
                let _ = writeln!(out, "  rx: {} tx: {}", m.rx_count, m.tx_count);
            }
            out.push('\n');
        }
        match (found, which) {
            (false, Some(w)) => Err(format!("no such LACP bond {w}")),
            _ => Ok(out),
        }
    }
}

/// Reads bond `p`'s LACP settings and installs them in `l`; returns whether the bond runs LACP.
pub fn configure_bond(l: &Lacp, b: &BridgeCfg, p: &PortCfg, bc: &BridgeConfig, members: &[(u32, String)]) -> bool {
    let mode = match p.bond.lacp.as_deref() {
        Some("active") => Mode::Active,
        Some("passive") => Mode::Passive,
        _ => {
            l.remove(&b.name, &p.name);
            return false;
        }
    };
    let sys_id = p.bond.lacp_system_id.as_deref().and_then(parse_mac).unwrap_or_else(|| derived_sys_id(&b.name, &p.name));
    let sys_priority = p.bond.lacp_system_priority.as_deref().and_then(|s| s.parse().ok()).unwrap_or(65535);
    let key = u16::try_from(members.iter().map(|(o, _)| *o).min().unwrap_or(0)).unwrap_or(u16::MAX);
    let members = members
        .iter()
        .filter_map(|(o, n)| bc.ports.get(o).filter(|op| op.dp_port != NO_DP_PORT).map(|op| (*o, (n.clone(), op.dp_port))))
        .collect();
    let fast = p.bond.lacp_time.as_deref() == Some("fast");
    l.set((b.name.clone(), p.name.clone()), BondLacpCfg { mode, fast, sys_id, sys_priority, key, members });
    true
}

/// Translation hook: a slow-protocols frame that arrived on a LACP bond member goes to userspace
/// (cookie [`COOKIE`]) and nowhere else. Returns whether it handled the packet.
pub fn xlate(sw: &Switch, ty: DatapathType, cfg: &BridgeConfig, x: &mut Xlate) -> bool {
    if x.flow.eth_type() != ETH_TYPE_SLOW {
        return false;
    }
    let Some((port, _)) = sw.lacp.bond_of_dp(&cfg.name, x.flow.in_port()) else { return false };
    // Xlate::new already matches in_port and eth_type exactly: the megaflow is exactly this.
    match sw.telemetry.upcall_pid(ty) {
        Some(pid) => {
            x.actions.push(&Action::Userspace(Userspace { pid, userdata: Some(&COOKIE), egress_tun_port: None, include_actions: false }));
            x.note(|| format!("LACP: slow-protocols frame on a member of bond {port}: to userspace"));
        }
        None => x.note(|| format!("LACP: slow-protocols frame on a member of bond {port}: no upcall socket yet, drop")),
    }
    true
}

/// Upcall hook: takes a `userspace` action upcall carrying [`COOKIE`] (a LACPDU); returns
/// whether it was one.
pub fn action_upcall(ty: DatapathType, sw: &Switch, up: &Upcall) -> bool {
    if up.userdata.as_deref() != Some(&COOKIE[..]) {
        return false;
    }
    let Ok(key) = rvs_core::ovs::key_nl::decode_key(&up.key) else { return true };
    let Some(br) = sw.bridge_of(ty, key.in_port()) else { return true };
    if let Some((port, ofport)) = sw.lacp.bond_of_dp(&br.name, key.in_port()) {
        if let Err(e) = sw.lacp.rx(&br.name, &port, ofport, &up.packet) {
            crate::dbg_log!("lacp", "{port}: member {ofport}: {e}");
        }
    }
    true
}

/// Main-loop hook: sends the LACPDUs that are due out of their members.
pub fn tick(vs: &Vswitchd) {
    let (tx, _) = vs.switch.lacp.run();
    for (bridge, dp, frame) in tx {
        let Some(br) = vs.switch.bridge(&bridge) else { continue };
        let Some(bk) = vs.backer(br.config().dp_type.0) else { continue };
        let (key, _) = extract(&frame, &Metadata { in_port: 0, ..Default::default() });
        let Ok(key_bytes) = crate::odp::encode_key(&key) else { continue };
        let mut actions = crate::odp::ActionBuf::default();
        actions.push(&Action::Output(dp));
        let e = Execute { packet: &frame, key: &key_bytes, actions: actions.bytes(), mru: None, probe: false };
        let mut d = bk.dpif.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = d.execute(&e) {
            crate::dbg_log!("lacp", "{bridge}: sending a LACPDU to datapath port {dp}: {e}");
        }
    }
}

/// Registers `lacp/show`.
pub fn register(s: &Server, vs: &Arc<Vswitchd>) {
    let v = vs.clone();
    s.register("lacp/show", "[PORT]", 0, 1, move |a| v.switch.lacp.show(a.first().map(String::as_str)));
}

/// The state bits in Open vSwitch's words.
fn flags(s: u8) -> String {
    let names = [(state::ACTIVITY, "activity"), (state::TIMEOUT, "timeout"), (state::AGGREGATION, "aggregation"), (state::SYNC, "synchronized"), (state::COLLECTING, "collecting"), (state::DISTRIBUTING, "distributing"), (state::DEFAULTED, "defaulted"), (state::EXPIRED, "expired")];
    names.iter().filter(|(b, _)| s & b != 0).map(|(_, n)| *n).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(sys: u8, mode: Mode, members: &[(u32, &str, u32)]) -> BondLacpCfg {
        BondLacpCfg {
            mode,
            fast: true,
            sys_id: [2, 0, 0, 0, 0, sys],
            sys_priority: 65535,
            key: 1,
            members: members.iter().map(|(o, n, d)| (*o, (n.to_string(), *d))).collect(),
        }
    }

    #[test]
    fn pdu_round_trip() {
        let p = Pdu {
            actor: Info { sys_priority: 7, sys_id: [2, 1, 2, 3, 4, 5], key: 9, port_priority: 255, port: 3, state: state::ACTIVITY | state::SYNC },
            partner: Info::default(),
        };
        let f = p.encode([2, 9, 9, 9, 9, 9]);
        assert_eq!(f.len(), 14 + PDU_LEN);
        assert_eq!(&f[..6], &LACP_DST);
        assert_eq!(Pdu::decode(&f), Ok(p));
        assert_eq!(Pdu::decode(&f[..30]), Err(PduError::Malformed("too short")));
        let mut bad = f.clone();
        bad[16] = 5;
        assert_eq!(Pdu::decode(&bad), Err(PduError::Malformed("no actor TLV")));
        let mut other = f;
        other[14] = 2; // marker protocol
        assert_eq!(Pdu::decode(&other), Err(PduError::NotLacp));
    }

    /// Two bonds of two members wired a1-b1, a2-b2 exchange LACPDUs until both sides are in sync.
    fn exchange(a: &Lacp, b: &Lacp, rounds: usize) {
        let wire = |dp: u32| match dp {
            11 => ("b", 1),
            12 => ("b", 2),
            21 => ("a", 1),
            22 => ("a", 2),
            _ => unreachable!(),
        };
        for _ in 0..rounds {
            for (from, l) in [("a", a), ("b", b)] {
                let (tx, _) = l.run();
                for (_, dp, f) in tx {
                    let (to, of) = wire(dp);
                    assert_ne!(to, from);
                    let dst = if to == "a" { a } else { b };
                    dst.rx("br", to, of, &f).unwrap();
                }
            }
        }
    }

    fn setup(ma: Mode, mb: Mode) -> (Lacp, Lacp) {
        let a = Lacp::default();
        a.configure(BTreeMap::from([(("br".into(), "a".into()), cfg(1, ma, &[(1, "a1", 11), (2, "a2", 12)]))]));
        let b = Lacp::default();
        b.configure(BTreeMap::from([(("br".into(), "b".into()), cfg(2, mb, &[(1, "b1", 21), (2, "b2", 22)]))]));
        (a, b)
    }

    #[test]
    fn active_passive_negotiate() {
        let (a, b) = setup(Mode::Active, Mode::Passive);
        assert!(!a.may_enable("br", "a", 1), "nothing before negotiation");
        assert!(b.run().0.is_empty(), "passive does not speak first");
        exchange(&a, &b, 4);
        for o in [1, 2] {
            assert!(a.may_enable("br", "a", o) && b.may_enable("br", "b", o), "member {o} in sync");
        }
        assert!(a.may_enable("br", "other", 1), "a bond without LACP is not gated");
        let s = a.show(Some("a")).unwrap();
        assert!(s.contains("partner sys_id: 02:00:00:00:00:02") && s.contains("current attached (in sync)"), "{s}");
        assert!(a.show(Some("zz")).is_err());
    }

    #[test]
    fn passive_pair_never_negotiates() {
        let (a, b) = setup(Mode::Passive, Mode::Passive);
        exchange(&a, &b, 4);
        assert!(!a.may_enable("br", "a", 1) && !b.may_enable("br", "b", 1));
    }

    #[test]
    fn different_partners_only_one_aggregator() {
        let a = Lacp::default();
        a.configure(BTreeMap::from([(("br".into(), "a".into()), cfg(1, Mode::Active, &[(1, "a1", 11), (2, "a2", 12)]))]));
        let p1 = Info { sys_priority: 1, sys_id: [2, 0, 0, 0, 0, 8], key: 5, port_priority: 1, port: 1, state: state::ACTIVITY | state::AGGREGATION | state::SYNC };
        let p2 = Info { sys_id: [2, 0, 0, 0, 0, 9], ..p1 };
        // Partners that have already seen us (echo our actor info).
        let us = |o: u32| Info { sys_priority: 65535, sys_id: [2, 0, 0, 0, 0, 1], key: 1, port_priority: 255, port: o as u16, state: 0 };
        a.rx("br", "a", 1, &Pdu { actor: p1, partner: us(1) }.encode([2; 6])).unwrap();
        a.rx("br", "a", 2, &Pdu { actor: p2, partner: us(2) }.encode([2; 6])).unwrap();
        assert!(a.may_enable("br", "a", 1), "a1's partner is the aggregator (first by name)");
        assert!(!a.may_enable("br", "a", 2), "a2 goes to another system");
    }

    #[test]
    fn sys_ids() {
        assert_eq!(derived_sys_id("br0", "bond0"), derived_sys_id("br0", "bond0"));
        assert_ne!(derived_sys_id("br0", "bond0"), derived_sys_id("br1", "bond0"));
        assert_eq!(derived_sys_id("x", "y")[0], 2);
        assert_eq!(parse_mac("02:00:00:00:00:0a"), Some([2, 0, 0, 0, 0, 10]));
        assert_eq!(parse_mac("nope"), None);
    }
}
