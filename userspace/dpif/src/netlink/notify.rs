//! Port change notifications: a socket joined to the `ovs_vport` multicast group, reporting
//! ports added, removed or changed on one datapath (what `ovs-vswitchd` polls to notice
//! ports deleted behind its back).

use std::os::fd::AsRawFd;

use super::transport::{wait_readable, GenlSocket, Received, TransportError};
use super::vport;
use crate::error::{DpifError, Result};
use crate::types::PortInfo;
use rvs_core::ovs_abi::*;

/// What happened to a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortChange {
    /// Added.
    New(PortInfo),
    /// Removed.
    Del(PortInfo),
    /// Changed (upcall PIDs, options).
    Set(PortInfo),
    /// The socket overflowed: some notifications were lost, rescan the ports.
    Overflow,
}

/// A subscription to port notifications of one datapath.
#[derive(Debug)]
pub struct PortNotifier {
    sock: GenlSocket,
    vport_family: u16,
    dp_ifindex: i32,
}

impl PortNotifier {
    /// Joins `group` of the `ovs_vport` family `vport_family`, filtering on `dp_ifindex`.
    pub fn open(vport_family: u16, group: u32, dp_ifindex: i32) -> Result<Self> {
        let sock = GenlSocket::open().map_err(|e| DpifError::from_transport("port notifier", e))?;
        sock.join_group(group).map_err(|e| DpifError::from_transport("join ovs_vport group", e))?;
        Ok(Self { sock, vport_family, dp_ifindex })
    }

    /// Waits up to `timeout_ms` (-1: forever) for a notification.
    pub fn wait(&self, timeout_ms: i32) -> Result<bool> {
        let r = wait_readable(&[self.sock.as_raw_fd()], timeout_ms)
            .map_err(|e| DpifError::from_transport("port notifier wait", TransportError::Io(e)))?;
        Ok(r.first().copied().unwrap_or(false))
    }

    /// Returns the notifications queued now, without blocking.
    pub fn poll(&mut self) -> Result<Vec<PortChange>> {
        let mut out = Vec::new();
        loop {
            match self.sock.recv(true) {
                Ok(None) => return Ok(out),
                Ok(Some(msgs)) => {
                    for m in msgs {
                        let Received::Data { nl_type, payload, .. } = m else { continue };
                        if nl_type != self.vport_family {
                            continue;
                        }
                        let Ok(info) = vport::parse(&payload) else { continue };
                        if info.dp_ifindex != self.dp_ifindex {
                            continue;
                        }
                        match u16::from(payload[0]) {
                            OVS_VPORT_CMD_NEW => out.push(PortChange::New(info)),
                            OVS_VPORT_CMD_DEL => out.push(PortChange::Del(info)),
                            _ => out.push(PortChange::Set(info)),
                        }
                    }
                }
                Err(TransportError::Io(e)) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    out.push(PortChange::Overflow)
                }
                Err(e) => return Err(DpifError::from_transport("port notifier", e)),
            }
        }
    }
}
