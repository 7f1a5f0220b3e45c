//! Upcall handler sockets: one generic netlink socket per handler thread. With per-CPU
//! dispatch the datapath maps each CPU to one of these sockets (`OVS_DP_ATTR_PER_CPU_PIDS`);
//! with per-vport dispatch every port lists all of them (`OVS_VPORT_ATTR_UPCALL_PID`) and the
//! kernel spreads packets by flow hash. Either way a handler drains its own socket in batches,
//! up to [`UPCALL_MMSG`] datagrams per `recvmmsg` call.

use std::os::fd::AsRawFd;

use super::packet::parse_upcall;
use super::transport::{decode_datagram, recv_many, wait_readable, GenlSocket, Received, TransportError};
use crate::error::{DpifError, Result};
use crate::types::Upcall;
use crate::UpcallHandler;

/// Receive buffer of a handler socket: a 64 KiB packet plus its key and attributes.
pub const UPCALL_BUF: usize = 128 * 1024;
/// Datagrams received per `recvmmsg` call.
pub const UPCALL_MMSG: usize = 32;
/// Socket receive queue requested for handler sockets.
pub const UPCALL_RCVBUF: usize = 4 * 1024 * 1024;

/// A kernel upcall handler: owns one netlink socket.
#[derive(Debug)]
pub struct KernelUpcallHandler {
    sock: GenlSocket,
    /// `recvmmsg` buffers, `UPCALL_BUF` each (only the pages a datagram fills are touched).
    bufs: Vec<Vec<u8>>,
    packet_family: u16,
    lost: u64,
    malformed: u64,
}

impl KernelUpcallHandler {
    /// Opens a handler socket for upcalls of the `ovs_packet` family `packet_family`.
    pub fn open(packet_family: u16) -> Result<Self> {
        let sock = GenlSocket::open().map_err(|e| DpifError::from_transport("upcall socket", e))?;
        sock.set_rcvbuf(UPCALL_RCVBUF);
        Ok(Self { sock, bufs: (0..UPCALL_MMSG).map(|_| vec![0; UPCALL_BUF]).collect(), packet_family, lost: 0, malformed: 0 })
    }

    /// Upcalls dropped because they could not be parsed.
    pub fn malformed(&self) -> u64 {
        self.malformed
    }
}

impl UpcallHandler for KernelUpcallHandler {
    fn pid(&self) -> u32 {
        self.sock.pid()
    }

    fn recv_batch(&mut self, max: usize, out: &mut Vec<Upcall>) -> Result<usize> {
        let mut n = 0;
        while n < max {
            let want = (max - n).min(self.bufs.len());
            let got = match recv_many(self.sock.as_raw_fd(), &mut self.bufs[..want]) {
                Ok(g) => g,
                // The socket queue overflowed: the kernel dropped upcalls (counted in n_lost).
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    self.lost += 1;
                    continue;
                }
                Err(e) => return Err(DpifError::from_transport("upcall receive", TransportError::Io(e))),
            };
            if got.is_empty() {
                break;
            }
            for (i, (len, truncated)) in got.into_iter().enumerate() {
                if truncated || len > self.bufs[i].len() {
                    self.malformed += 1;
                    continue;
                }
                let Ok(msgs) = decode_datagram(&self.bufs[i][..len]) else {
                    self.malformed += 1;
                    continue;
                };
                for m in msgs {
                    if let Received::Data { nl_type, payload, .. } = m {
                        if nl_type != self.packet_family {
                            continue;
                        }
                        match parse_upcall(&payload) {
                            Ok(u) => {
                                out.push(u);
                                n += 1;
                            }
                            Err(_) => self.malformed += 1,
                        }
                    }
                }
            }
        }
        Ok(n)
    }

    fn wait(&mut self, timeout_ms: i32) -> Result<bool> {
        let r = wait_readable(&[self.sock.as_raw_fd()], timeout_ms)
            .map_err(|e| DpifError::from_transport("upcall wait", TransportError::Io(e)))?;
        Ok(r.first().copied().unwrap_or(false))
    }

    fn overflows(&self) -> u64 {
        self.lost
    }
}

/// The per-CPU PID table: CPU `i` goes to handler `i % n`.
pub fn per_cpu_pids(handler_pids: &[u32], n_cpus: usize) -> Vec<u32> {
    if handler_pids.is_empty() {
        return vec![0; n_cpus];
    }
    (0..n_cpus).map(|cpu| handler_pids[cpu % handler_pids.len()]).collect()
}

/// Number of possible CPUs (the kernel's `nr_cpu_ids`), from
/// `/sys/devices/system/cpu/possible`, else the available parallelism.
pub fn possible_cpus() -> usize {
    std::fs::read_to_string("/sys/devices/system/cpu/possible")
        .ok()
        .and_then(|s| parse_cpu_list_max(s.trim()))
        .map(|m| m + 1)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// The highest CPU number in a list like `0-3,5,7-8`.
pub fn parse_cpu_list_max(s: &str) -> Option<usize> {
    s.split(',')
        .map(|part| part.rsplit('-').next().and_then(|n| n.trim().parse::<usize>().ok()))
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_to_handler_mapping() {
        assert_eq!(per_cpu_pids(&[10, 20], 5), vec![10, 20, 10, 20, 10]);
        assert_eq!(per_cpu_pids(&[10, 20, 30], 2), vec![10, 20]);
        assert_eq!(per_cpu_pids(&[], 2), vec![0, 0]);
    }

    #[test]
    fn cpu_list_parsing() {
        assert_eq!(parse_cpu_list_max("0"), Some(0));
        assert_eq!(parse_cpu_list_max("0-3"), Some(3));
        assert_eq!(parse_cpu_list_max("0-3,5,7-8"), Some(8));
        assert_eq!(parse_cpu_list_max("x"), None);
        assert!(possible_cpus() >= 1);
    }
}
