//! In-band control: the rules for a configuration, route and neighbour parsing, refreshes that
//! follow the host, and translation of hidden rules (above table 0, invisible to OpenFlow).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Instant;

use rvs_core::key::FlowKey;
use rvs_openflow::instruction::Instruction;
use rvs_openflow::msg::{FlowMod, FlowModCommand, FlowStatsRequest, MultipartReplyBody, MultipartRequest, MultipartRequestBody};

use super::*;
use crate::config::ControllerCfg;
use crate::mac_learning::MacTable;
use crate::ofproto::{Bridge, BridgeConfig, FailMode, OfPort, OFPP_LOCAL};
use crate::pipeline::xlate_pipeline;
use crate::vlan::PortVlan;
use crate::xlate::Xlate;

const LOCAL: Mac = [0x02, 0, 0, 0, 0, 0x64];
const CTL_MAC: Mac = [0x02, 0, 0, 0, 0, 0x01];
const GW_MAC: Mac = [0x02, 0, 0, 0, 0, 0xfe];

fn ctl(target: &str, out_of_band: bool) -> ControllerCfg {
    ControllerCfg { uuid: target.into(), target: target.into(), max_backoff_ms: 1000, inactivity_probe_ms: 0, out_of_band, enable_async: true, local_ip: None, local_netmask: None, local_gateway: None }
}

pub(crate) fn bridge_cfg(controllers: Vec<ControllerCfg>) -> BridgeCfg {
    BridgeCfg {
        uuid: "b".into(),
        name: "br0".into(),
        dp_type: rvs_dpif::DatapathType::Userspace,
        fail_mode: FailMode::Secure,
        has_controller: !controllers.is_empty(),
        controllers,
        protocols: vec![],
        other_config: BTreeMap::new(),
        ports: vec![],
        mirrors: vec![],
    }
}

#[test]
fn remotes_follow_connection_mode_and_disable_in_band() {
    let mut b = bridge_cfg(vec![
        ctl("tcp:10.0.0.1:6653", false),
        ctl("tcp:10.0.0.2", true),
        ctl("ptcp:6653", false),
        ctl("unix:/x", false),
        ctl("tcp:[::1]:6653", false),
        ctl("ssl:10.0.0.3:6654", false),
    ]);
    assert_eq!(remotes(&b), vec!["10.0.0.1:6653".parse().unwrap(), "10.0.0.3:6654".parse().unwrap()], "active IPv4 in-band controllers only");
    b.other_config.insert("disable-in-band".into(), "false".into());
    assert_eq!(remotes(&b).len(), 2);
    b.other_config.insert("disable-in-band".into(), "true".into());
    assert!(remotes(&b).is_empty());
}

fn texts(specs: &[HiddenSpec]) -> Vec<String> {
    specs.iter().map(ToString::to_string).collect()
}

#[test]
fn rules_as_open_vswitch() {
    let r = Remote { addr: "10.0.0.1:6653".parse().unwrap(), next_hop_mac: Some(CTL_MAC) };
    let t = texts(&rules(Some(LOCAL), std::slice::from_ref(&r)));
    let want = [
        "priority=180000,udp,in_port=LOCAL,dl_src=02:00:00:00:00:64,tp_src=68,tp_dst=67 actions=NORMAL",
        "priority=180001,arp,dl_dst=02:00:00:00:00:64,arp_op=2 actions=NORMAL",
        "priority=180002,arp,dl_src=02:00:00:00:00:64,arp_op=1 actions=NORMAL",
        "priority=180009,udp,dl_dst=02:00:00:00:00:64,tp_src=67,tp_dst=68 actions=NORMAL",
        "priority=180003,arp,dl_dst=02:00:00:00:00:01,arp_op=2 actions=NORMAL",
        "priority=180004,arp,dl_src=02:00:00:00:00:01,arp_op=1 actions=NORMAL",
        "priority=180005,arp,arp_tpa=10.0.0.1,arp_op=2 actions=NORMAL",
        "priority=180006,arp,arp_spa=10.0.0.1,arp_op=1 actions=NORMAL",
        "priority=180007,tcp,nw_dst=10.0.0.1,tp_dst=6653 actions=NORMAL",
        "priority=180008,tcp,nw_src=10.0.0.1,tp_src=6653 actions=NORMAL",
    ];
    assert_eq!(t, want);
    // Next hop unknown: no (d)/(e); local MAC unknown: no (a)/(b)/(c)/(j); no remotes: nothing.
    let r2 = Remote { next_hop_mac: None, ..r.clone() };
    assert_eq!(rules(Some(LOCAL), std::slice::from_ref(&r2)).len(), 8);
    assert_eq!(rules(None, std::slice::from_ref(&r)).len(), 6);
    assert!(rules(Some(LOCAL), &[]).is_empty());
}

/// `/proc/net/route` of this host's byte order: default via 10.0.0.254 on br0 (metric 0) and
/// via 192.0.2.1 on eth0 (metric 100), 10.0.0.0/24 on br0, 10.0.5.0/24 down.
fn route_text() -> String {
    let h = |a: [u8; 4]| format!("{:08X}", u32::from_ne_bytes(a));
    let mut s = String::from("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n");
    for (dev, dst, gw, flags, metric, mask) in [
        ("eth0", [0, 0, 0, 0], [192, 0, 2, 1], "0003", 100, [0, 0, 0, 0]),
        ("br0", [0, 0, 0, 0], [10, 0, 0, 254], "0003", 0, [0, 0, 0, 0]),
        ("br0", [10, 0, 0, 0], [0, 0, 0, 0], "0001", 0, [255, 255, 255, 0]),
        ("br9", [10, 0, 5, 0], [0, 0, 0, 0], "0000", 0, [255, 255, 255, 0]),
    ] {
        s += &format!("{dev}\t{}\t{}\t{flags}\t0\t0\t{metric}\t{}\t0\t0\t0\n", h(dst), h(gw), h(mask));
    }
    s += "garbage line\n";
    s
}

#[test]
fn next_hop_is_longest_prefix_then_metric() {
    let routes = parse_routes(&route_text());
    assert_eq!(routes.len(), 3, "the down route and the garbage line are skipped");
    let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
    assert_eq!(next_hop(&routes, ip("10.0.0.1")), Some((ip("10.0.0.1"), "br0".into())), "connected: the address itself");
    assert_eq!(next_hop(&routes, ip("172.16.0.1")), Some((ip("10.0.0.254"), "br0".into())), "default route of lowest metric");
    assert_eq!(next_hop(&routes, ip("10.0.5.1")), Some((ip("10.0.0.254"), "br0".into())), "a down route is not used");
    assert_eq!(next_hop(&[], ip("10.0.0.1")), None);
}

const ARP: &str = "IP address       HW type     Flags       HW address            Mask     Device
10.0.0.1         0x1         0x2         02:00:00:00:00:01     *        br0
10.0.0.254       0x1         0x0         00:00:00:00:00:00     *        br0
10.0.0.9         0x1         0x2         02:00:00:00:00:09     *        eth0
";

#[test]
fn arp_lookup_wants_a_complete_entry_on_the_device() {
    let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
    assert_eq!(arp_lookup(ARP, ip("10.0.0.1"), "br0"), Some(CTL_MAC));
    assert_eq!(arp_lookup(ARP, ip("10.0.0.254"), "br0"), None, "incomplete");
    assert_eq!(arp_lookup(ARP, ip("10.0.0.9"), "br0"), None, "other device");
    assert_eq!(parse_mac("02:00:00:00:00:0g"), None);
}

struct Fake {
    mac: Option<Mac>,
    routes: String,
    arp: RefCell<String>,
}

impl HostView for Fake {
    fn mac(&self, dev: &str) -> Option<Mac> {
        assert_eq!(dev, "br0");
        self.mac
    }
    fn routes(&self) -> String {
        self.routes.clone()
    }
    fn neighbours(&self) -> String {
        self.arp.borrow().clone()
    }
}

#[test]
fn update_follows_remotes_and_neighbours() {
    let t = Instant::now();
    let header = "IP address       HW type     Flags       HW address            Mask     Device\n";
    let host = Fake { mac: Some(LOCAL), routes: route_text(), arp: RefCell::new(header.into()) };
    let mut ib = InBand::new("br0");
    let remote: SocketAddrV4 = "172.16.0.1:6653".parse().unwrap();
    assert_eq!(ib.update(&[], t, &host), Some(Vec::new()), "first call: nothing in-band");
    assert_eq!(ib.update(&[], t, &host), None, "not due");
    let r = ib.update(&[remote], t, &host).expect("remotes changed: refreshed at once");
    assert_eq!(r.len(), 8, "gateway MAC not known yet: {:?}", texts(&r));
    *host.arp.borrow_mut() = format!("{header}10.0.0.254       0x1         0x2         02:00:00:00:00:fe     *        br0\n");
    assert_eq!(ib.update(&[remote], t + Duration::from_millis(500), &host), None);
    let r = ib.update(&[remote], t + Duration::from_secs(1), &host).unwrap();
    assert_eq!(r, rules(Some(LOCAL), &[Remote { addr: remote, next_hop_mac: Some(GW_MAC) }]), "the gateway's MAC, learned");
    let t2 = texts(&r);
    assert!(t2.contains(&"priority=180003,arp,dl_dst=02:00:00:00:00:fe,arp_op=2 actions=NORMAL".to_string()), "{t2:?}");
    assert!(t2.contains(&"priority=180007,tcp,nw_dst=172.16.0.1,tp_dst=6653 actions=NORMAL".to_string()), "{t2:?}");
    assert!(ib.update(&[], t + Duration::from_secs(1), &host).unwrap().is_empty(), "out-of-band: rules withdrawn at once");
    let gone = Fake { mac: None, routes: route_text(), arp: RefCell::new(header.into()) };
    assert!(ib.update(&[remote], t + Duration::from_secs(2), &gone).unwrap().is_empty(), "no local port: no rules");
}

/// A secure bridge with ports 1 and 2 (datapath ports 11, 12) and its local port (datapath 0).
fn bridge() -> (Bridge, BridgeConfig) {
    let mut cfg = BridgeConfig { name: "br0".into(), max_idle_ms: 10_000, fail_mode: FailMode::Secure, ..Default::default() };
    for (of, dp) in [(1u32, 11u32), (2, 12), (OFPP_LOCAL, 0)] {
        let p = OfPort { ofport: of, name: format!("p{of}"), port_name: format!("p{of}"), dp_port: dp, iface_type: String::new(), vlan: PortVlan::from_columns(None, &[], None).0 };
        cfg.by_dp.insert(p.dp_port, of);
        cfg.ports.insert(of, p);
    }
    (Bridge::new(cfg.clone(), MacTable::default()), cfg)
}

fn tcp(in_dp: u32, src: u32, dst: u32, sport: u16, dport: u16) -> FlowKey {
    let mut k = FlowKey::ZERO;
    k.set_in_port(in_dp);
    k.set_eth_src([2, 0, 0, 0, 0, 0x64]);
    k.set_eth_dst([2, 0, 0, 0, 0, 1]);
    k.set_eth_type(0x0800);
    k.set_ip_proto(6);
    k.set_ip_ttl(64);
    k.set_ipv4_src(src);
    k.set_ipv4_dst(dst);
    k.set_tp_src(sport);
    k.set_tp_dst(dport);
    k
}

fn run(br: &Bridge, cfg: &BridgeConfig, k: FlowKey) -> (String, Xlate) {
    let mut x = Xlate::new(k, true, true);
    xlate_pipeline(&mut x, br, cfg);
    (crate::odp::format_actions(x.actions.bytes()), x)
}

#[test]
fn hidden_rules_forward_the_controller_connection_and_stay_invisible() {
    let (br, cfg) = bridge();
    let r = Remote { addr: "10.0.0.1:6653".parse().unwrap(), next_hop_mac: Some(CTL_MAC) };
    let specs = rules(Some(LOCAL), &[r]);
    let v0 = br.pipeline.read().unwrap().version();
    assert_eq!(br.pipeline.write().unwrap().set_hidden_rules(specs.clone()), Ok(true));
    let v1 = br.pipeline.read().unwrap().version();
    assert_ne!(v0, v1, "installing hidden rules revalidates");
    assert_eq!(br.pipeline.write().unwrap().set_hidden_rules(specs.clone()), Ok(false));
    assert_eq!(br.pipeline.read().unwrap().version(), v1, "the same set again changes nothing");

    // A controller flow that drops everything at the highest OpenFlow priority.
    let fm = FlowMod { command: FlowModCommand::Add, table_id: 0, priority: 0xffff, instructions: vec![Instruction::ApplyActions(vec![])], ..Default::default() };
    br.pipeline.write().unwrap().flow_mod(&fm, Instant::now()).unwrap();

    // Local port -> controller: NORMAL floods (nothing learned yet), from LOCAL to ports 1, 2.
    let (a, x) = run(&br, &cfg, tcp(0, 0x0a00_0064, 0x0a00_0001, 40000, 6653));
    assert_eq!(a, "11,12", "{:?}", x.trace);
    assert!(x.rules.is_empty(), "no OpenFlow rule credited");
    assert_eq!(x.wc.tp_dst(), 0xffff, "the hidden lookup's fields are in the megaflow");
    // Controller -> local port.
    let mut k = tcp(11, 0x0a00_0001, 0x0a00_0064, 6653, 40000);
    k.set_eth_src(CTL_MAC);
    k.set_eth_dst(LOCAL);
    let (a, _) = run(&br, &cfg, k);
    assert_eq!(a, "0", "NORMAL learned the local MAC on the local port");
    // Other traffic meets the controller's drop flow.
    let (a, x) = run(&br, &cfg, tcp(11, 0x0a00_0002, 0x0a00_0003, 1000, 80));
    assert_eq!(a, "drop");
    assert_eq!(x.rules.len(), 1);
    assert_eq!(x.wc.eth_type(), 0xffff, "a miss in the hidden rules still narrows the megaflow");

    // OpenFlow sees only its own flow.
    let pl = br.pipeline.read().unwrap();
    let req = MultipartRequest { flags: 0, body: MultipartRequestBody::Flow(FlowStatsRequest::default()) };
    let flows: usize = pl.stats(&req, Instant::now()).unwrap().into_iter().map(|r| match r.body {
        MultipartReplyBody::Flow(v) => v.len(),
        _ => 0,
    }).sum();
    assert_eq!(flows, 1);
    assert_eq!(pl.table(0).unwrap().cls.len(), 1, "table 0's active count leaves hidden rules out");
    assert_eq!(pl.hidden_rules().len(), specs.len());
    drop(pl);

    // OFPPC_NO_RECV on the controller's port holds for hidden rules too.
    br.port_config.modify(1, rvs_openflow::msg::port_config::NO_RECV, rvs_openflow::msg::port_config::NO_RECV);
    let (a, _) = run(&br, &cfg, k);
    assert_eq!(a, "drop", "NO_RECV");
    br.port_config.modify(1, 0, rvs_openflow::msg::port_config::NO_RECV);
    assert_eq!(run(&br, &cfg, k).0, "0");

    // Withdrawn (out-of-band): the controller's traffic is dropped like the rest.
    assert_eq!(br.pipeline.write().unwrap().set_hidden_rules(Vec::new()), Ok(true));
    let (a, _) = run(&br, &cfg, tcp(0, 0x0a00_0064, 0x0a00_0001, 40000, 6653));
    assert_eq!(a, "drop");
}
