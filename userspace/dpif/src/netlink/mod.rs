//! The kernel datapath over generic netlink: the upstream Open vSwitch datapath ABI, so the
//! same code drives `rvs.ko` and `openvswitch.ko`.
//!
//! - [`transport`]: the socket (via `neli`), acks/errors/extack, dumps, family resolution;
//! - [`msg`]: the OVS message payload (genl + ovs headers, attributes via `rvs_core::nla`);
//! - [`datapath`], [`vport`], [`flow`], [`packet`], [`meter`]: per-family request builders and
//!   reply parsers (pure functions, unit-tested on the host);
//! - [`kernel`]: [`KernelDpif`], the [`crate::Dpif`] implementation, feature negotiation and
//!   upcall socket setup;
//! - [`upcall`]: handler sockets and batched upcall receive; [`notify`]: port notifications.

pub mod datapath;
pub mod flow;
pub mod kernel;
pub mod meter;
pub mod msg;
pub mod notify;
pub mod packet;
pub mod transport;
pub mod upcall;
pub mod vport;

pub use kernel::KernelDpif;
