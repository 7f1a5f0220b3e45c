//! The revalidator: one thread per datapath backer that keeps the datapath's flows in line with
//! the configuration and the traffic.
//!
//! Every second (or at once after a configuration or MAC-table change, see
//! [`crate::mac_learning`]) it dumps the flows and, for each: deletes it when idle longer than
//! `max-idle` (default 10 s; 100 ms while the datapath holds more than `flow-limit` flows, see
//! [`crate::ofproto::Switch::flow_limit`]) or when its bridge or port is gone; credits the traffic it saw since
//! the last pass to the OpenFlow rules (and groups) its translation goes through, refreshing the
//! MAC-table entries it depends on; and re-translates it when it saw traffic or its bridge's
//! generation moved — modifying it when the actions changed, deleting it when it would now need
//! another mask (or goes to the slow path). OpenFlow rule timeouts are enforced on each pass
//! (flow-removed events published). Flows found in a restarted daemon's datapath go through the
//! same steps, so established traffic keeps flowing across a restart.
//!
//! Cost: the dump is terse (UFID and counters only) unless NetFlow wants whole flows; what the
//! revalidator remembers of a flow (its counters at the last pass, when it was first seen, its
//! bridge) lives in one map keyed by UFID. A flow that saw no traffic and whose bridge did not
//! change costs a map lookup; only flows that need a translation are fetched whole.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rvs_core::key::FlowKey;
use rvs_core::ovs::key_nl;
use rvs_dpif::{DatapathType, DumpOptions, Dpif, Flow, FlowId, FlowPut, PutFlags};

use crate::odp;
use crate::ofproto::Switch;
use crate::pipeline::OfEvent;
use crate::upcall::{translate, Counters, DEFAULT_MAX_IDLE_MS};

/// How a flow is named across passes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum FlowRef {
    /// By its UFID (every flow rvs installs has one).
    Ufid([u8; 16]),
    /// By its key (flows installed without UFID, e.g. by `ovs-dpctl add-flow`).
    Key(Vec<u8>),
}

impl FlowRef {
    fn of(f: &Flow) -> Self {
        match f.ufid {
            Some(u) => FlowRef::Ufid(u),
            None => FlowRef::Key(f.key.clone()),
        }
    }
}

/// What the revalidator remembers of a flow between passes.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    packets: u64,
    bytes: u64,
    first_seen: Instant,
    /// The bridge the flow belongs to, once known.
    bridge: Option<String>,
    /// The last pass that saw the flow.
    pass: u64,
}

impl Seen {
    pub(crate) fn new(now: Instant) -> Self {
        Self { packets: 0, bytes: 0, first_seen: now, bridge: None, pass: 0 }
    }
}

/// What to do with a flow.
#[derive(Debug)]
pub(crate) enum Verdict {
    Keep,
    Delete(&'static str),
    Modify(Vec<u8>),
}

/// The revalidator thread's loop.
pub(crate) fn run(ty: DatapathType, mut dpif: Box<dyn Dpif>, sw: &Switch, stop: &AtomicBool, c: &Counters, kick: &AtomicBool) {
    let mut seen_gen: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    let mut last = Instant::now();
    let mut flows_seen: HashMap<FlowRef, Seen> = HashMap::new();
    let mut pass = 0u64;
    while !stop.load(Ordering::Acquire) {
        std::thread::sleep(Duration::from_millis(50));
        let now = Instant::now();
        for b in sw.bridges() {
            let max_idle = max_idle_ms(b.config().max_idle_ms);
            let mut m = b.macs.lock().unwrap_or_else(|p| p.into_inner());
            // A flow that looked a MAC up lives at most max-idle without being re-translated
            // (active flows are re-translated every pass, at least once a second).
            m.watch_ttl = Duration::from_millis(max_idle) + Duration::from_secs(5);
            m.expire(now);
        }
        let gens: BTreeMap<String, (u64, u64, u64)> = sw.bridges().iter().map(|b| (b.name.clone(), b.generation())).collect();
        let kicked = kick.swap(false, Ordering::AcqRel);
        if gens == seen_gen && !kicked && last.elapsed() < Duration::from_secs(1) {
            continue;
        }
        // OpenFlow rule timeouts (second granularity, after the last pass credited traffic).
        for b in sw.bridges() {
            if b.config().dp_type.0 == ty {
                let removed = b.pipeline.write().unwrap_or_else(|p| p.into_inner()).expire(now);
                for r in removed {
                    b.events.publish(OfEvent::FlowRemoved(r));
                }
            }
        }
        let changed: Vec<String> = gens.iter().filter(|(n, g)| seen_gen.get(*n) != Some(*g)).map(|(n, _)| n.clone()).collect();
        seen_gen = gens;
        last = now;
        let full = sw.telemetry.wants_full_dumps();
        let flows = match dpif.flow_dump(DumpOptions { terse: !full }) {
            Ok(f) => f,
            Err(e) => {
                crate::warn!("revalidator", "dumping flows: {e}");
                continue;
            }
        };
        c.n_flows.store(u64::try_from(flows.len()).unwrap_or(u64::MAX), Ordering::Relaxed);
        let idle_limits = idle_limits(sw, flows.len());
        let now_ms = rvs_dpif::monotonic_ms();
        pass += 1;
        for f in &flows {
            let seen = flows_seen.entry(FlowRef::of(f)).or_insert_with(|| Seen::new(now));
            seen.pass = pass;
            let fid = match &f.ufid {
                Some(u) => FlowId::Ufid(u),
                None => FlowId::Key(&f.key),
            };
            let mut whole: Option<Cow<'_, Flow>> = full.then_some(Cow::Borrowed(f));
            let mut fetch = || -> Option<Flow> {
                let got = dpif.flow_get(fid).ok()?;
                Some(Flow { stats: f.stats, ..got })
            };
            let verdict = revalidate_one(ty, sw, f, &mut whole, &mut fetch, seen, &changed, &idle_limits, now, now_ms);
            if let Some(w) = &whole {
                sw.telemetry.flow_dumped(ty, sw, w, matches!(verdict, Verdict::Delete(_)), now_ms);
            }
            match verdict {
                Verdict::Keep => {}
                Verdict::Delete(why) => {
                    crate::dbg_log!("revalidator", "deleting flow ({why}): {}", whole.as_deref().map_or_else(|| format!("{:?}", f.ufid), |w| odp::format_flow(w, false, now_ms)));
                    if why == "idle" {
                        c.idle_removed.fetch_add(1, Ordering::Relaxed);
                    } else {
                        c.revalidated.fetch_add(1, Ordering::Relaxed);
                    }
                    if let Err(e) = dpif.flow_del(fid) {
                        crate::dbg_log!("revalidator", "deleting flow: {e}");
                    }
                }
                Verdict::Modify(actions) => {
                    c.revalidated.fetch_add(1, Ordering::Relaxed);
                    let Some(w) = &whole else { continue };
                    let put = FlowPut {
                        key: &w.key,
                        mask: (!w.mask.is_empty()).then_some(w.mask.as_slice()),
                        actions: &actions,
                        ufid: w.ufid.as_ref(),
                        flags: PutFlags { modify: true, ..Default::default() },
                    };
                    if let Err(e) = dpif.flow_put(&put) {
                        crate::dbg_log!("revalidator", "modifying flow: {e}");
                    }
                }
            }
        }
        sw.telemetry.dump_done(ty, sw);
        flows_seen.retain(|_, s| s.pass == pass);
    }
}

/// Each bridge's idle limit for a pass that dumped `n_flows` flows: `max-idle`, or 100 ms when
/// the datapath holds more than `flow-limit` flows (as in Open vSwitch).
fn idle_limits(sw: &Switch, n_flows: usize) -> HashMap<String, u64> {
    let over_limit = u64::try_from(n_flows).unwrap_or(u64::MAX) > sw.flow_limit();
    sw.bridges()
        .iter()
        .map(|b| {
            let m = max_idle_ms(b.config().max_idle_ms);
            (b.name.clone(), if over_limit { m.min(OVER_LIMIT_IDLE_MS) } else { m })
        })
        .collect()
}

/// The idle time after which flows go while the datapath holds more than `flow-limit` flows.
pub const OVER_LIMIT_IDLE_MS: u64 = 100;

fn max_idle_ms(configured: u64) -> u64 {
    if configured == 0 {
        DEFAULT_MAX_IDLE_MS
    } else {
        configured
    }
}

/// Decides about dumped flow `f` (perhaps terse): `whole` is the whole flow once known, `fetch`
/// gets it from the datapath; `seen` is what the last passes learned of it (updated here).
#[allow(clippy::too_many_arguments)]
pub(crate) fn revalidate_one<'f>(
    ty: DatapathType,
    sw: &Switch,
    f: &'f Flow,
    whole: &mut Option<Cow<'f, Flow>>,
    fetch: &mut dyn FnMut() -> Option<Flow>,
    seen: &mut Seen,
    changed: &[String],
    idle_limits: &HashMap<String, u64>,
    now: Instant,
    now_ms: u64,
) -> Verdict {
    if seen.bridge.is_none() {
        let Some(w) = whole_flow(whole, fetch) else { return Verdict::Keep };
        let Ok((key, mask)) = odp::decode_flow(w) else { return Verdict::Delete("undecodable") };
        let Some(br) = crate::tunnel::bridge_for_key(sw, ty, &key.masked(&mask)) else { return Verdict::Delete("no bridge") };
        seen.bridge = Some(br.name.clone());
    }
    // Borrowed, not cloned: this runs for every flow on every pass.
    let bridge = seen.bridge.as_deref().unwrap_or_default();
    let Some(&max_idle) = idle_limits.get(bridge) else { return Verdict::Delete("no bridge") };
    let bridge_changed = changed.iter().any(|c| c == bridge);
    let idle_ms = if f.stats.used_ms == 0 {
        u64::try_from(now.saturating_duration_since(seen.first_seen).as_millis()).unwrap_or(u64::MAX)
    } else {
        now_ms.saturating_sub(f.stats.used_ms)
    };
    if idle_ms > max_idle {
        return Verdict::Delete("idle");
    }
    let (prev_p, prev_b) = (seen.packets, seen.bytes);
    (seen.packets, seen.bytes) = (f.stats.n_packets, f.stats.n_bytes);
    let active = f.stats.n_packets > prev_p;
    if !active && !bridge_changed {
        return Verdict::Keep;
    }
    let Some(w) = whole_flow(whole, fetch) else { return Verdict::Keep };
    let Ok((key, mask)) = odp::decode_flow(w) else { return Verdict::Delete("undecodable") };
    let mkey = key.masked(&mask);
    // Traffic on the flow refreshes the MAC entries it depends on (may_learn).
    let Some((x, br)) = translate(ty, sw, mkey, active, false) else { return Verdict::Delete("no bridge") };
    if seen.bridge.as_deref() != Some(br.name.as_str()) {
        seen.bridge = Some(br.name.clone());
    }
    if active && !x.rules.is_empty() {
        // The flow's new traffic goes to the rules it (now) goes through.
        let used = now.checked_sub(Duration::from_millis(now_ms.saturating_sub(f.stats.used_ms))).unwrap_or(now);
        let (dp, db) = (f.stats.n_packets.saturating_sub(prev_p), f.stats.n_bytes.saturating_sub(prev_b));
        let mut pl = br.pipeline.write().unwrap_or_else(|p| p.into_inner());
        pl.credit(&x.rules, dp, db, used);
        pl.credit_groups(&x.buckets, dp, db);
    }
    if x.slow_path {
        return Verdict::Delete("slow path");
    }
    let (nkey, nmask) = x.megaflow();
    if canonical_mask(&nkey, &nmask).is_none_or(|m| m != mask) {
        return Verdict::Delete("mask changed");
    }
    if x.actions.bytes() != w.actions.as_slice() {
        return Verdict::Modify(x.actions.bytes().to_vec());
    }
    Verdict::Keep
}

/// The whole flow, fetched once if the dump was terse; `None` if it vanished meanwhile.
fn whole_flow<'w, 'f>(whole: &'w mut Option<Cow<'f, Flow>>, fetch: &mut dyn FnMut() -> Option<Flow>) -> Option<&'w Flow> {
    if whole.is_none() {
        *whole = Some(Cow::Owned(fetch()?));
    }
    whole.as_deref()
}

/// The key and mask as the datapath codec reads them back (what a dump returns).
pub(crate) fn canonical_match(key: &FlowKey, mask: &FlowKey) -> Option<(FlowKey, FlowKey)> {
    let kb = odp::encode_key(key).ok()?;
    let mb = odp::encode_mask(key, mask).ok()?;
    key_nl::decode_match(&kb, Some(&mb)).ok().map(|m| (m.key, m.mask))
}

/// The mask as the datapath codec reads it back.
fn canonical_mask(key: &FlowKey, mask: &FlowKey) -> Option<FlowKey> {
    canonical_match(key, mask).map(|(_, m)| m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ofproto::{BridgeConfig, DatapathTypeEq, OfPort};
    use crate::vlan::PortVlan;
    use rvs_openflow::action::Action;
    use rvs_openflow::instruction::Instruction;
    use rvs_openflow::msg::{FlowMod, FlowModCommand};
    use rvs_openflow::oxm::{Field, Match};

    use crate::upcall::translate;

    const TY: DatapathType = DatapathType::Userspace;

    /// Revalidates whole flow `f` with what `seen` remembers.
    fn rv(sw: &Switch, f: &rvs_dpif::Flow, seen: &mut Seen, changed: &[String], now: Instant) -> Verdict {
        let limits: HashMap<String, u64> = sw.bridges().iter().map(|b| (b.name.clone(), max_idle_ms(b.config().max_idle_ms))).collect();
        let mut whole = Some(Cow::Borrowed(f));
        revalidate_one(TY, sw, f, &mut whole, &mut || None, seen, changed, &limits, now, rvs_dpif::monotonic_ms())
    }

    fn switch() -> Switch {
        let sw = Switch::new();
        let mut cfg = BridgeConfig { name: "br0".into(), dp_type: DatapathTypeEq(TY), fail_mode: crate::ofproto::FailMode::Secure, ..Default::default() };
        for i in 1..=2u32 {
            let p = OfPort { ofport: i, name: format!("p{i}"), port_name: format!("p{i}"), dp_port: i + 10, iface_type: String::new(), vlan: PortVlan::from_columns(None, &[], None).0 };
            cfg.by_dp.insert(p.dp_port, i);
            cfg.ports.insert(i, p);
        }
        sw.publish(vec![cfg], &|_| (Duration::from_secs(300), 100));
        sw
    }

    fn add(sw: &Switch, port: u32) {
        let fm = FlowMod {
            command: FlowModCommand::Add,
            priority: 5,
            match_: Match::new().with(Field::InPort, 1),
            instructions: vec![Instruction::ApplyActions(vec![Action::Output { port, max_len: 0 }])],
            ..Default::default()
        };
        sw.bridge("br0").unwrap().pipeline.write().unwrap().flow_mod(&fm, Instant::now()).unwrap();
    }

    /// The datapath flow of a packet from port 1, as a dump returns it.
    fn dp_flow(sw: &Switch, n_packets: u64, n_bytes: u64) -> rvs_dpif::Flow {
        let mut k = FlowKey::ZERO;
        k.set_in_port(11);
        k.set_eth_type(0x0800);
        let (x, _) = translate(TY, sw, k, false, false).unwrap();
        let (mk, m) = x.megaflow();
        rvs_dpif::Flow {
            ufid: Some(odp::ufid(&mk, &m)),
            key: odp::encode_key(&mk).unwrap(),
            mask: odp::encode_mask(&mk, &m).unwrap(),
            actions: x.actions.bytes().to_vec(),
            stats: rvs_dpif::FlowStats { n_packets, n_bytes, used_ms: rvs_dpif::monotonic_ms(), ..Default::default() },
        }
    }

    /// A NORMAL bridge: learning a source address nobody looked up leaves its megaflows alone;
    /// learning the destination a flooding megaflow looked up makes the revalidator narrow it.
    #[test]
    fn only_mac_changes_a_flow_looked_up_revalidate_it() {
        let sw = Switch::new();
        let mut cfg = BridgeConfig { name: "br0".into(), dp_type: DatapathTypeEq(TY), fail_mode: crate::ofproto::FailMode::Standalone, ..Default::default() };
        for i in 1..=3u32 {
            let p = OfPort { ofport: i, name: format!("p{i}"), port_name: format!("p{i}"), dp_port: i + 10, iface_type: String::new(), vlan: PortVlan::from_columns(None, &[], None).0 };
            cfg.by_dp.insert(p.dp_port, i);
            cfg.ports.insert(i, p);
        }
        sw.publish(vec![cfg], &|_| (Duration::from_secs(300), 100));
        let br = sw.bridge("br0").unwrap();
        let pkt = |in_dp: u32, src: [u8; 6], dst: [u8; 6]| {
            let mut k = FlowKey::ZERO;
            k.set_in_port(in_dp);
            k.set_eth_src(src);
            k.set_eth_dst(dst);
            k.set_eth_type(0x0800);
            k
        };
        let (h1, h2, h3) = ([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 3]);
        // h2 on p1 sends to the unknown h1: flooded to p2 and p3.
        let (x, _) = translate(TY, &sw, pkt(11, h2, h1), true, false).unwrap();
        assert_eq!(odp::format_actions(x.actions.bytes()), "12,13");
        let (mk, m) = x.megaflow();
        let f = rvs_dpif::Flow {
            ufid: Some(odp::ufid(&mk, &m)),
            key: odp::encode_key(&mk).unwrap(),
            mask: odp::encode_mask(&mk, &m).unwrap(),
            actions: x.actions.bytes().to_vec(),
            stats: rvs_dpif::FlowStats { used_ms: rvs_dpif::monotonic_ms(), ..Default::default() },
        };
        let g = br.generation();
        // h3 appears on p2 (to the broadcast address): nobody looked h3 up.
        translate(TY, &sw, pkt(12, h3, [0xff; 6]), true, false).unwrap();
        assert_eq!(br.generation(), g, "a new source address revalidates nothing");
        // h1 appears on p3: the flooding flow looked h1 up.
        translate(TY, &sw, pkt(13, h1, [0xff; 6]), true, false).unwrap();
        assert_ne!(br.generation(), g);
        let mut seen = Seen::new(Instant::now());
        let v = rv(&sw, &f, &mut seen, &["br0".to_string()], Instant::now());
        assert!(matches!(v, Verdict::Modify(ref a) if odp::format_actions(a) == "13"), "now forwarded to h1's port only");
    }

    /// Datapath traffic reaches the OpenFlow rule; a flow-mod that sends the traffic to the
    /// controller removes the megaflow; one that changes the output modifies it.
    #[test]
    fn revalidation_credits_rules_and_follows_flow_mods() {
        let sw = switch();
        add(&sw, 2);
        let br = sw.bridge("br0").unwrap();
        let now = Instant::now();
        let mut seen = Seen::new(now);
        let f = dp_flow(&sw, 5, 500);
        let v = rv(&sw, &f, &mut seen, &[], now);
        assert!(matches!(v, Verdict::Keep));
        let r = |br: &crate::ofproto::Bridge| br.pipeline.read().unwrap().rules_sorted().iter().map(|r| (r.packets, r.bytes)).next().unwrap();
        assert_eq!(r(&br), (5, 500));
        let f2 = rvs_dpif::Flow { stats: rvs_dpif::FlowStats { n_packets: 7, n_bytes: 700, ..f.stats }, ..f.clone() };
        rv(&sw, &f2, &mut seen, &[], now);
        assert_eq!(r(&br), (7, 700), "only the delta is credited");
        // Same packets again: idle, no credit, nothing to do.
        let v = rv(&sw, &f2, &mut seen, &[], now);
        assert!(matches!(v, Verdict::Keep));
        assert_eq!(r(&br), (7, 700));
        // The rule now outputs elsewhere: same mask, new actions.
        add(&sw, 7);
        let changed = vec!["br0".to_string()];
        let v = rv(&sw, &f2, &mut seen, &changed, now);
        assert!(matches!(v, Verdict::Modify(ref a) if odp::format_actions(a) == "drop"), "output to a port that does not exist");
        add(&sw, rvs_openflow::types::port::CONTROLLER);
        let v = rv(&sw, &f2, &mut seen, &changed, now);
        assert!(matches!(v, Verdict::Delete("slow path")));
    }

    /// A terse dump costs a fetch only for flows that need a translation: first sight (bridge
    /// unknown), traffic; an unchanged flow is kept and an idle one deleted without one.
    #[test]
    fn terse_flows_are_fetched_only_when_they_need_a_translation() {
        let sw = switch();
        add(&sw, 2);
        let br = sw.bridge("br0").unwrap();
        let now = Instant::now();
        let limits: HashMap<String, u64> = [("br0".to_string(), DEFAULT_MAX_IDLE_MS)].into();
        let full = dp_flow(&sw, 5, 500);
        let terse = |p: u64, b: u64, used_ms: u64| rvs_dpif::Flow {
            key: vec![],
            mask: vec![],
            actions: vec![],
            stats: rvs_dpif::FlowStats { n_packets: p, n_bytes: b, used_ms, ..Default::default() },
            ..full.clone()
        };
        let fetches = std::cell::Cell::new(0);
        let mut fetch = || {
            fetches.set(fetches.get() + 1);
            Some(full.clone())
        };
        let mut seen = Seen::new(now);
        let ms = rvs_dpif::monotonic_ms();
        let mut go = |f: &rvs_dpif::Flow, seen: &mut Seen| {
            let mut whole = None;
            revalidate_one(TY, &sw, f, &mut whole, &mut fetch, seen, &[], &limits, now, ms)
        };
        assert!(matches!(go(&terse(5, 500, ms), &mut seen), Verdict::Keep));
        assert_eq!(fetches.get(), 1, "first sight: fetched to learn its bridge and translate it");
        assert_eq!(seen.bridge.as_deref(), Some("br0"));
        assert!(matches!(go(&terse(5, 500, ms), &mut seen), Verdict::Keep));
        assert_eq!(fetches.get(), 1, "no traffic, bridge unchanged: no fetch");
        assert!(matches!(go(&terse(7, 700, ms), &mut seen), Verdict::Keep));
        assert_eq!(fetches.get(), 2, "traffic: fetched and re-translated");
        let r = br.pipeline.read().unwrap().rules_sorted().iter().map(|r| (r.packets, r.bytes)).next().unwrap();
        assert_eq!(r, (7, 700), "the rule got the flow's traffic");
        let old = ms.saturating_sub(DEFAULT_MAX_IDLE_MS + 1000);
        assert!(matches!(go(&terse(7, 700, old.max(1)), &mut seen), Verdict::Delete("idle")));
        assert_eq!(fetches.get(), 2, "idle: deleted without a fetch");
    }

    #[test]
    fn over_the_flow_limit_flows_idle_for_100_ms_go() {
        let sw = switch();
        assert_eq!(sw.flow_limit(), crate::ofproto::DEFAULT_FLOW_LIMIT);
        assert_eq!(idle_limits(&sw, 1000)["br0"], DEFAULT_MAX_IDLE_MS);
        sw.set_flow_limit(500);
        assert_eq!(idle_limits(&sw, 500)["br0"], DEFAULT_MAX_IDLE_MS, "at the limit: not over it");
        assert_eq!(idle_limits(&sw, 501)["br0"], OVER_LIMIT_IDLE_MS);
        sw.set_flow_limit(0);
        assert_eq!(idle_limits(&sw, 501)["br0"], DEFAULT_MAX_IDLE_MS, "0 is the default limit");
    }
}
