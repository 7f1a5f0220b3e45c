//! Time-driven connection state, kept free of I/O so it can be tested with made-up clocks:
//! [`Keepalive`] (the inactivity probe: an echo request after `interval` without receiving
//! anything, disconnect when a further `interval` passes without anything) and [`Backoff`]
//! (exponential reconnect back-off capped at `max_backoff`).

use std::time::{Duration, Instant};

/// What the inactivity probe wants done now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeAction {
    /// Nothing to do.
    Idle,
    /// Send an echo request.
    SendProbe,
    /// The peer did not answer: disconnect.
    Dead,
}

/// The inactivity probe of one connection (OVS `inactivity_probe`).
#[derive(Debug, Clone)]
pub struct Keepalive {
    interval: Option<Duration>,
    last_rx: Instant,
    probe_sent: Option<Instant>,
}

impl Keepalive {
    /// A probe with `interval` (`None`: disabled), starting at `now`.
    pub fn new(interval: Option<Duration>, now: Instant) -> Self {
        Keepalive { interval: interval.filter(|d| !d.is_zero()), last_rx: now, probe_sent: None }
    }

    /// Something arrived from the peer.
    pub fn received(&mut self, now: Instant) {
        self.last_rx = now;
        self.probe_sent = None;
    }

    /// What to do at `now`; `SendProbe` is returned once per idle period (call
    /// [`Keepalive::probe_sent`] after sending).
    pub fn poll(&self, now: Instant) -> ProbeAction {
        let Some(iv) = self.interval else { return ProbeAction::Idle };
        match self.probe_sent {
            Some(t) if now.saturating_duration_since(t) >= iv => ProbeAction::Dead,
            Some(_) => ProbeAction::Idle,
            None if now.saturating_duration_since(self.last_rx) >= iv => ProbeAction::SendProbe,
            None => ProbeAction::Idle,
        }
    }

    /// An echo request was sent at `now`.
    pub fn probe_sent(&mut self, now: Instant) {
        self.probe_sent = Some(now);
    }

    /// When [`Keepalive::poll`] will next have something to do (`None`: never).
    pub fn next_deadline(&self) -> Option<Instant> {
        let iv = self.interval?;
        Some(self.probe_sent.unwrap_or(self.last_rx).checked_add(iv).unwrap_or(self.last_rx))
    }

    /// The interval (`None`: disabled).
    pub fn interval(&self) -> Option<Duration> {
        self.interval
    }
}

/// Exponential back-off between connection attempts: `min`, 2×, 4×... capped at `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// Back-off from `min` doubling up to `max` (OVS: 1 s to `max_backoff`, default 8 s).
    pub fn new(min: Duration, max: Duration) -> Self {
        let min = min.min(max);
        Backoff { min, max, next: min }
    }

    /// The delay before the next attempt (doubles the one after, up to the cap).
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        d
    }

    /// A connection succeeded: the next failure waits `min` again.
    pub fn reset(&mut self) {
        self.next = self.min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_then_disconnect() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut k = Keepalive::new(Some(s(5)), t0);
        assert_eq!(k.poll(t0 + s(4)), ProbeAction::Idle);
        assert_eq!(k.next_deadline(), Some(t0 + s(5)));
        k.received(t0 + s(3));
        assert_eq!(k.poll(t0 + s(7)), ProbeAction::Idle);
        assert_eq!(k.poll(t0 + s(8)), ProbeAction::SendProbe);
        k.probe_sent(t0 + s(8));
        assert_eq!(k.next_deadline(), Some(t0 + s(13)));
        assert_eq!(k.poll(t0 + s(12)), ProbeAction::Idle);
        assert_eq!(k.poll(t0 + s(13)), ProbeAction::Dead);
        // An answer in time clears the probe.
        k.received(t0 + s(12));
        assert_eq!(k.poll(t0 + s(13)), ProbeAction::Idle);
        assert_eq!(k.poll(t0 + s(17)), ProbeAction::SendProbe);
    }

    #[test]
    fn disabled_probe_never_fires() {
        let t0 = Instant::now();
        for iv in [None, Some(Duration::ZERO)] {
            let k = Keepalive::new(iv, t0);
            assert_eq!(k.poll(t0 + Duration::from_secs(1_000_000)), ProbeAction::Idle);
            assert_eq!(k.next_deadline(), None);
        }
    }

    #[test]
    fn backoff_doubles_to_cap_and_resets() {
        let ms = Duration::from_millis;
        let mut b = Backoff::new(ms(100), ms(700));
        let got: Vec<_> = (0..6).map(|_| b.next_delay()).collect();
        assert_eq!(got, [ms(100), ms(200), ms(400), ms(700), ms(700), ms(700)]);
        b.reset();
        assert_eq!(b.next_delay(), ms(100));
    }
}
