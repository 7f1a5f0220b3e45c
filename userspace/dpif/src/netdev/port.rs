//! Ports of the userspace datapath: an AF_PACKET socket bound to an existing device (netdev
//! ports) or a tap device the datapath creates (internal ports, the local port), their counters,
//! the published port map packet threads read, and transmit batches.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::sys;
use crate::error::{DpifError, Result};
use crate::types::{PortNo, PortType, VportStats};

/// Per-port counters.
#[derive(Debug, Default)]
pub struct PortCounters {
    /// Frames received.
    pub rx_packets: AtomicU64,
    /// Bytes received.
    pub rx_bytes: AtomicU64,
    /// Received frames dropped (runts, truncated).
    pub rx_dropped: AtomicU64,
    /// Receive errors.
    pub rx_errors: AtomicU64,
    /// Frames sent.
    pub tx_packets: AtomicU64,
    /// Bytes sent.
    pub tx_bytes: AtomicU64,
    /// Frames the device refused.
    pub tx_dropped: AtomicU64,
}

impl PortCounters {
    /// A snapshot in the dpif's form.
    pub fn snapshot(&self) -> VportStats {
        let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
        VportStats {
            rx_packets: l(&self.rx_packets),
            tx_packets: l(&self.tx_packets),
            rx_bytes: l(&self.rx_bytes),
            tx_bytes: l(&self.tx_bytes),
            rx_errors: l(&self.rx_errors),
            tx_errors: 0,
            rx_dropped: l(&self.rx_dropped),
            tx_dropped: l(&self.tx_dropped),
        }
    }
}

/// One port.
#[derive(Debug)]
pub struct Port {
    /// Port number.
    pub no: PortNo,
    /// Device name.
    pub name: String,
    /// Netdev or internal.
    pub ty: PortType,
    /// The device's ifindex.
    pub ifindex: i32,
    fd: OwnedFd,
    /// Whether `fd` is a tap (else an AF_PACKET socket).
    pub is_tap: bool,
    /// Counters.
    pub stats: PortCounters,
    /// Asks the port's poll thread to stop.
    pub stop: AtomicBool,
    /// The poll thread.
    pub thread: Mutex<Option<JoinHandle<()>>>,
}

impl Port {
    /// Opens port `no` on device `name`.
    pub fn open(no: PortNo, name: &str, ty: PortType) -> Result<Self> {
        let op = || format!("add port {name}");
        let io = |e: std::io::Error| match e.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => DpifError::Permission { op: op() },
            errno => DpifError::Kernel { op: op(), errno: errno.unwrap_or(libc::EIO), extack: None },
        };
        let (fd, ifindex, is_tap) = match ty {
            PortType::Netdev => {
                let idx = sys::ifindex(name).map_err(io)?;
                (sys::packet_socket(idx).map_err(io)?, idx, false)
            }
            PortType::Internal => {
                let (fd, idx) = sys::tap(name).map_err(io)?;
                (fd, idx, true)
            }
            other => {
                return Err(DpifError::Kernel {
                    op: op(),
                    errno: libc::EOPNOTSUPP,
                    extack: Some(format!("the userspace datapath has no {other} ports")),
                })
            }
        };
        Ok(Self {
            no,
            name: name.to_string(),
            ty,
            ifindex,
            fd,
            is_tap,
            stats: PortCounters::default(),
            stop: AtomicBool::new(false),
            thread: Mutex::new(None),
        })
    }

    /// The descriptor.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Whether the device this port was opened on still exists: its name still resolves to the
    /// same ifindex (a device re-created under the same name is a new device, with a new index,
    /// that this port's socket is not bound to).
    pub fn device_present(&self) -> bool {
        match sys::ifindex(&self.name) {
            Ok(i) => i == self.ifindex,
            // Only a definite "no such device" means gone (not, say, running out of descriptors).
            Err(e) => e.raw_os_error() != Some(libc::ENODEV),
        }
    }

    /// Stops the poll thread and waits for it to end, for at most [`JOIN_WAIT_MS`]: a poll
    /// thread translating a miss may be waiting for a lock our caller holds (see
    /// [`super::miss`]); it then ends by itself once that lock is released.
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::Release);
        let t = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(t) = t else { return };
        if t.thread().id() == std::thread::current().id() {
            return;
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(JOIN_WAIT_MS);
        while !t.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        if t.is_finished() {
            let _ = t.join();
        }
    }
}

/// How long [`Port::shutdown`] waits for the poll thread (it notices `stop` within 100 ms).
pub const JOIN_WAIT_MS: u64 = 2000;

/// The ports by number, as published to packet threads.
#[derive(Debug, Default, Clone)]
pub struct PortMap {
    by_no: Vec<Option<Arc<Port>>>,
}

impl PortMap {
    /// The port numbered `no`.
    #[inline]
    pub fn get(&self, no: PortNo) -> Option<&Arc<Port>> {
        self.by_no.get(no as usize).and_then(Option::as_ref)
    }

    /// Every port, by number.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Port>> {
        self.by_no.iter().flatten()
    }

    /// A copy with `p` added.
    pub fn with(&self, p: Arc<Port>) -> Self {
        let mut m = self.clone();
        let i = p.no as usize;
        if m.by_no.len() <= i {
            m.by_no.resize(i + 1, None);
        }
        m.by_no[i] = Some(p);
        m
    }

    /// A copy without port `no`.
    pub fn without(&self, no: PortNo) -> Self {
        let mut m = self.clone();
        if let Some(s) = m.by_no.get_mut(no as usize) {
            *s = None;
        }
        while matches!(m.by_no.last(), Some(None)) {
            m.by_no.pop();
        }
        m
    }

    /// The lowest free number ≥ 1.
    pub fn free_no(&self) -> PortNo {
        (1..).find(|&n| self.get(n).is_none()).unwrap_or(PortNo::MAX)
    }
}

/// Frames waiting to be sent at the end of a batch: copies in one arena, each with its port
/// and virtio-net header.
#[derive(Debug, Default)]
pub struct TxBatch {
    arena: Vec<u8>,
    items: Vec<(PortNo, [u8; sys::VNET_HDR_LEN], usize, usize, u32)>,
}

impl TxBatch {
    /// Queues `frame` for port `no`, to leave with skb priority `priority` (the
    /// `set(skb_priority)` of QoS queues; see [`sys::send_batch`]).
    pub fn push(&mut self, no: PortNo, hdr: [u8; sys::VNET_HDR_LEN], frame: &[u8], priority: u32) {
        let at = self.arena.len();
        self.arena.extend_from_slice(frame);
        self.items.push((no, hdr, at, frame.len(), priority));
    }

    /// Number of queued frames.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Sends everything on the ports of `ports` (unknown ports: dropped), then empties.
    pub fn flush(&mut self, ports: &PortMap) {
        if self.items.is_empty() {
            return;
        }
        self.items.sort_by_key(|i| i.0);
        let mut group: Vec<sys::TxFrame<'_>> = Vec::with_capacity(self.items.len());
        let mut i = 0;
        while i < self.items.len() {
            let no = self.items[i].0;
            let mut j = i;
            group.clear();
            let mut bytes = 0u64;
            while j < self.items.len() && self.items[j].0 == no {
                let (_, ref h, at, len, priority) = self.items[j];
                group.push(sys::TxFrame { hdr: h, frame: &self.arena[at..at + len], priority });
                bytes += len as u64;
                j += 1;
            }
            if let Some(p) = ports.get(no) {
                let (sent, dropped) = if p.is_tap {
                    let mut s = 0;
                    for f in &group {
                        if sys::tap_write(p.fd(), f.hdr, f.frame).is_ok() {
                            s += 1;
                        }
                    }
                    (s, group.len() - s)
                } else {
                    sys::send_batch(p.fd(), &group)
                };
                p.stats.tx_packets.fetch_add(sent as u64, Ordering::Relaxed);
                if dropped == 0 {
                    p.stats.tx_bytes.fetch_add(bytes, Ordering::Relaxed);
                } else {
                    let ok: u64 = group.iter().take(sent).map(|f| f.frame.len() as u64).sum();
                    p.stats.tx_bytes.fetch_add(ok, Ordering::Relaxed);
                    p.stats.tx_dropped.fetch_add(dropped as u64, Ordering::Relaxed);
                }
            }
            i = j;
        }
        self.items.clear();
        self.arena.clear();
    }
}
