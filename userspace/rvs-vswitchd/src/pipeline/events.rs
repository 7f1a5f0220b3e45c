//! Asynchronous OpenFlow events of a bridge (packet-ins, flow removals) and their
//! subscribers: translation and expiry publish, the controller connection manager subscribes.

use std::sync::RwLock;

use rvs_openflow::msg::{FlowRemoved, PacketIn};

/// An event for controllers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfEvent {
    /// A packet for the controller.
    PacketIn(PacketIn),
    /// A flow was removed (timeout or delete) and asked to be reported.
    FlowRemoved(FlowRemoved),
}

type Subscriber = Box<dyn Fn(&OfEvent) + Send + Sync>;

/// The subscribers of one bridge's events.
#[derive(Default)]
pub struct Events {
    subs: RwLock<Vec<Subscriber>>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Events({} subscribers)", self.subs.read().unwrap_or_else(|p| p.into_inner()).len())
    }
}

impl Events {
    /// No subscribers.
    pub fn new() -> Events {
        Events::default()
    }

    /// Calls `f` for every later event (from whatever thread publishes it).
    pub fn subscribe(&self, f: Box<dyn Fn(&OfEvent) + Send + Sync>) {
        self.subs.write().unwrap_or_else(|p| p.into_inner()).push(f);
    }

    /// Hands `e` to every subscriber.
    pub fn publish(&self, e: OfEvent) {
        for s in self.subs.read().unwrap_or_else(|p| p.into_inner()).iter() {
            s(&e);
        }
    }

    /// Number of subscribers.
    pub fn len(&self) -> usize {
        self.subs.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether nobody listens.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn publish_reaches_every_subscriber() {
        let ev = Events::new();
        let n = Arc::new(AtomicUsize::new(0));
        for _ in 0..2 {
            let n = n.clone();
            ev.subscribe(Box::new(move |e| {
                if matches!(e, OfEvent::FlowRemoved(_)) {
                    n.fetch_add(1, Ordering::SeqCst);
                }
            }));
        }
        ev.publish(OfEvent::FlowRemoved(FlowRemoved {
            cookie: 1,
            priority: 2,
            reason: rvs_openflow::msg::FlowRemovedReason::Delete,
            table_id: 0,
            duration_sec: 0,
            duration_nsec: 0,
            idle_timeout: 0,
            hard_timeout: 0,
            packet_count: 0,
            byte_count: 0,
            match_: Default::default(),
        }));
        assert_eq!(n.load(Ordering::SeqCst), 2);
        assert_eq!(ev.len(), 2);
    }
}
