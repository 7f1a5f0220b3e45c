//! `rvs-vswitchd`: the switch daemon. It turns the configuration database (OVSDB, rvs's
//! Open_vSwitch schema) into datapath state and handles every packet the datapath cannot.
//!
//! - [`dbsync`]: the database connection (embedded server or external), monitor replica;
//!   [`config`]: the typed desired configuration read from the replica.
//! - [`bridge`]: reconciliation — bridges onto datapaths (one per datapath type, `ovs-system`
//!   / `ovs-netdev`, as Open vSwitch), ports and interfaces onto datapath ports, status
//!   write-back and `cur_cfg`.
//! - [`ofproto`]: bridges' run-time state (ports, MAC tables) shared with translation;
//!   [`vlan`], [`mac_learning`]: the NORMAL pipeline's building blocks; [`bond`], [`mirror`],
//!   [`patch`], [`tunnel`]: bonded ports, port mirroring, patch ports and GRE ports.
//! - [`xlate`]: translation with wildcard tracking; [`xlate::normal`]: the NORMAL action.
//! - [`pipeline`]: the OpenFlow flow tables, groups and meters of each bridge, and their
//!   translation onto the same context.
//! - [`upcall`]: datapath backers, handler threads (miss → megaflow + execute), revalidator.
//! - [`connmgr`]: the OpenFlow side — controllers, the management socket, roles, fail mode.
//! - [`unixctl`], [`commands`]: the control socket and its commands; [`vlog`]: logging;
//!   [`daemon`]: detach, pidfile, signals; [`odp`]: datapath encodings and text forms;
//!   [`netdev`]: device status and tap devices.
//! - [`telemetry`]: NetFlow, sFlow and ingress policing.
//! - [`lacp`]: LACP (802.3ad) for bonds.
//! - [`qos`]: egress QoS (linux-htb queues programmed with tc over rtnetlink).
//! - [`brcompat`]: brctl compatibility, the daemon side of rvs.ko's `brcompat=1` relay.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod vlog;

pub mod bond;
pub mod bridge;
pub mod brcompat;
pub mod commands;
pub mod config;
pub mod connmgr;
pub mod daemon;
pub mod dbsync;
pub mod mac_learning;
pub mod netdev;
pub mod mirror;
pub mod odp;
pub mod ofproto;
pub mod patch;
pub mod pipeline;
pub mod tunnel;
pub mod unixctl;
pub mod lacp;
pub mod qos;
pub mod telemetry;
pub mod revalidator;
pub mod upcall;
pub mod vlan;
pub mod xlate;

/// Where the daemon's files go by default (`RVS_RUN_DIR` overrides).
pub fn run_dir() -> std::path::PathBuf {
    std::env::var_os("RVS_RUN_DIR").map_or_else(|| "/run/rvs".into(), Into::into)
}

/// The default control socket.
pub fn default_unixctl() -> std::path::PathBuf {
    run_dir().join("rvs-vswitchd.ctl")
}
