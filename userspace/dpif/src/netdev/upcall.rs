//! Upcall queues of the userspace datapath: the in-process equivalent of the kernel's netlink
//! upcall sockets. Each handler owns one bounded queue with a "netlink port ID" of its own;
//! misses are spread over the queues by packet hash, `userspace(pid=N)` actions go to the
//! handler whose ID is N (or by hash when none has it). A full queue drops the upcall and
//! counts it (the datapath's `lost`, the handler's overflows).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::types::Upcall;
use crate::UpcallHandler;

/// Upcalls a queue holds before dropping.
pub const QUEUE_CAP: usize = 4096;

static NEXT_PID: AtomicU32 = AtomicU32::new(0x1000);

/// One handler's queue.
#[derive(Debug)]
pub struct UpcallQueue {
    pid: u32,
    q: Mutex<VecDeque<Upcall>>,
    cv: Condvar,
    overflows: AtomicU64,
}

impl UpcallQueue {
    /// A new queue with a fresh ID.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            pid: NEXT_PID.fetch_add(1, Ordering::Relaxed),
            q: Mutex::new(VecDeque::new()),
            cv: Condvar::new(),
            overflows: AtomicU64::new(0),
        })
    }

    /// The queue's ID.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Queues `u`; false (and an overflow counted) if full.
    pub fn push(&self, u: Upcall) -> bool {
        let mut q = self.q.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() >= QUEUE_CAP {
            self.overflows.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        q.push_back(u);
        drop(q);
        self.cv.notify_one();
        true
    }
}

/// A set of handler queues, as `recv_set` made them.
#[derive(Debug, Default)]
pub struct UpcallSet {
    queues: Vec<Arc<UpcallQueue>>,
}

impl UpcallSet {
    /// `n` fresh queues.
    pub fn new(n: usize) -> Self {
        Self { queues: (0..n).map(|_| UpcallQueue::new()).collect() }
    }

    /// The queues' IDs.
    pub fn pids(&self) -> Vec<u32> {
        self.queues.iter().map(|q| q.pid).collect()
    }

    /// Handlers over the queues.
    pub fn handlers(&self) -> Vec<Box<dyn UpcallHandler>> {
        self.queues.iter().map(|q| Box::new(UserspaceUpcallHandler { q: q.clone() }) as Box<dyn UpcallHandler>).collect()
    }

    /// Delivers `u` to the handler `pid` names, else by `hash`; false if it was dropped.
    pub fn deliver(&self, u: Upcall, pid: Option<u32>, hash: u32) -> bool {
        if self.queues.is_empty() {
            return false;
        }
        let q = pid
            .and_then(|p| self.queues.iter().find(|q| q.pid == p))
            .unwrap_or_else(|| &self.queues[hash as usize % self.queues.len()]);
        q.push(u)
    }
}

/// A handler reading one queue.
#[derive(Debug)]
pub struct UserspaceUpcallHandler {
    q: Arc<UpcallQueue>,
}

impl UpcallHandler for UserspaceUpcallHandler {
    fn pid(&self) -> u32 {
        self.q.pid
    }

    fn recv_batch(&mut self, max: usize, out: &mut Vec<Upcall>) -> Result<usize> {
        let mut q = self.q.q.lock().unwrap_or_else(|p| p.into_inner());
        let n = max.min(q.len());
        out.extend(q.drain(..n));
        Ok(n)
    }

    fn wait(&mut self, timeout_ms: i32) -> Result<bool> {
        let deadline = (timeout_ms >= 0).then(|| Instant::now() + Duration::from_millis(timeout_ms as u64));
        let mut q = self.q.q.lock().unwrap_or_else(|p| p.into_inner());
        while q.is_empty() {
            match deadline {
                None => q = self.q.cv.wait(q).unwrap_or_else(|p| p.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Ok(false);
                    }
                    q = self.q.cv.wait_timeout(q, d - now).unwrap_or_else(|p| p.into_inner()).0;
                }
            }
        }
        Ok(true)
    }

    fn overflows(&self) -> u64 {
        self.q.overflows.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::UpcallKind;

    fn up(n: u8) -> Upcall {
        Upcall {
            kind: UpcallKind::Miss,
            dp_ifindex: 1,
            packet: vec![n],
            key: vec![],
            userdata: None,
            egress_tun_key: None,
            actions: None,
            mru: None,
            len: None,
            hash: None,
        }
    }

    #[test]
    fn delivery_by_pid_and_hash_and_overflow() {
        let s = UpcallSet::new(2);
        let pids = s.pids();
        assert_ne!(pids[0], pids[1]);
        let mut hs = s.handlers();
        assert!(s.deliver(up(1), Some(pids[1]), 0));
        assert!(s.deliver(up(2), None, 0));
        let mut out = Vec::new();
        assert!(hs[1].wait(0).unwrap());
        assert_eq!(hs[1].recv_batch(10, &mut out).unwrap(), 1);
        assert_eq!(out[0].packet, vec![1]);
        assert_eq!(hs[0].recv_batch(10, &mut out).unwrap(), 1);
        assert!(!hs[0].wait(10).unwrap(), "empty queue times out");
        for i in 0..QUEUE_CAP {
            assert!(s.deliver(up(i as u8), Some(pids[0]), 0));
        }
        assert!(!s.deliver(up(0), Some(pids[0]), 0));
        assert_eq!(hs[0].overflows(), 1);
        assert!(!UpcallSet::new(0).deliver(up(0), None, 0));
    }
}
