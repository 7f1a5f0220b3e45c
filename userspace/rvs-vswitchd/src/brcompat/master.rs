//! Keeps each kernel port linked under its bridge's device (`ip -d link show tap0` → `master br0`): after every
//! reconciliation (a new `cur_cfg`), and every few seconds for devices that appeared meanwhile, it sends rvs.ko a
//! SET_MASTER per attached system port of a kernel-datapath bridge ([`super::ops::masters`]). The kernel ignores a
//! request for a link that is already there; moving a port back to `ovs-system` when it leaves its bridge needs no
//! request (the port leaves the datapath). It runs on its own thread and socket: SET_MASTER takes rtnl, which an
//! `ip link set master` relayed to the request thread may hold while it waits for that thread's answer.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use neli::consts::nl::NlmF;
use ovsdb::client::Client;
use rvs_dpif::netlink::transport::GenlSocket;

use super::{ops, wire};

/// How often `cur_cfg` is checked.
const TICK: Duration = Duration::from_millis(250);
/// How often everything is re-sent without a configuration change.
const RESYNC: Duration = Duration::from_secs(5);

/// Runs until `stop`'s sender is dropped.
pub(super) fn run(client: &Client, sock: &mut GenlSocket, family: u16, stop: &Receiver<()>) {
    let mut last_cfg = None;
    let mut last_sync: Option<Instant> = None;
    // The last outcome per port (ifindex → (bridge ifindex, errno)), to log changes only.
    let mut state: HashMap<u32, (u32, i32)> = HashMap::new();
    loop {
        match stop.recv_timeout(TICK) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        let cfg = match ops::cur_cfg(client) {
            Ok(c) => c,
            Err(f) => {
                crate::dbg_log!("brcompat", "port masters: {}", f.msg);
                continue;
            }
        };
        if last_cfg == Some(cfg) && last_sync.is_some_and(|t| t.elapsed() < RESYNC) {
            continue;
        }
        last_cfg = Some(cfg);
        last_sync = Some(Instant::now());
        let wanted = match ops::masters(client) {
            Ok(w) => w,
            Err(f) => {
                crate::warn!("brcompat", "port masters: {}", f.msg);
                continue;
            }
        };
        state.retain(|p, _| wanted.iter().any(|m| m.port_ifindex == *p));
        for m in wanted {
            let errno = match wire::set_master(m.port_ifindex, m.bridge_ifindex)
                .map_err(|e| e.to_string())
                .and_then(|msg| sock.transact(family, NlmF::empty(), msg).map_err(|e| e.to_string()))
            {
                Ok(_) => 0,
                Err(e) => {
                    if state.get(&m.port_ifindex) != Some(&(m.bridge_ifindex, -1)) {
                        crate::warn!("brcompat", "linking {} under {}: {e}", m.port, m.bridge);
                    }
                    -1
                }
            };
            let before = state.insert(m.port_ifindex, (m.bridge_ifindex, errno));
            if errno == 0 && before != Some((m.bridge_ifindex, 0)) {
                crate::dbg_log!("brcompat", "{} is linked under {}", m.port, m.bridge);
            }
        }
    }
}
