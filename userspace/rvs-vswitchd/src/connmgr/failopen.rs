//! Fail mode (Open vSwitch `fail-open`): whether a bridge's default `priority=0
//! actions=NORMAL` flow should be in place. A `standalone` bridge without controllers always
//! has it; with controllers it gets it once no controller has been connected for three times
//! the longest inactivity probe (15 s when probes are off), and loses it when one connects. A
//! `secure` bridge never has it: it keeps the flows installed and drops misses.

use std::time::{Duration, Instant};

use super::settings::Settings;
use crate::ofproto::FailMode;

/// Probe interval assumed when every controller disables the probe.
const DEFAULT_PROBE: Duration = Duration::from_secs(5);

/// The fail-open state of one bridge.
#[derive(Debug, Clone)]
pub struct FailOpen {
    last_connected: Instant,
    on: Option<bool>,
    mode: Option<FailMode>,
}

/// How long without any controller before a standalone bridge fails open.
pub fn trigger(s: &Settings) -> Duration {
    let probe = s.controllers.iter().filter_map(|c| c.probe).max().unwrap_or(DEFAULT_PROBE);
    probe.saturating_mul(3)
}

impl FailOpen {
    /// State of a bridge that appeared at `now` (counting as last connected then).
    pub fn new(now: Instant) -> FailOpen {
        FailOpen { last_connected: now, on: None, mode: None }
    }

    /// Whether the default flow is wanted now; `Some` when that changed.
    pub fn update(&mut self, s: &Settings, connected: bool, now: Instant) -> Option<bool> {
        if connected {
            self.last_connected = now;
        }
        if self.mode != Some(s.fail_mode) {
            // The bridge resets its default flow when its fail mode changes: decide afresh.
            self.mode = Some(s.fail_mode);
            self.on = None;
        }
        let want = match s.fail_mode {
            FailMode::Secure => false,
            FailMode::Standalone if s.controllers.is_empty() => true,
            FailMode::Standalone => !connected && now.saturating_duration_since(self.last_connected) >= trigger(s),
        };
        if self.on == Some(want) {
            return None;
        }
        self.on = Some(want);
        Some(want)
    }

    /// The current decision.
    pub fn is_on(&self) -> bool {
        self.on == Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{BridgeCfg, ControllerCfg};

    fn settings(mode: FailMode, controllers: usize, probe_ms: u64) -> Settings {
        let b = BridgeCfg {
            uuid: "b".into(),
            name: "br0".into(),
            dp_type: rvs_dpif::DatapathType::Userspace,
            fail_mode: mode,
            has_controller: controllers > 0,
            controllers: (0..controllers)
                .map(|i| ControllerCfg {
                    uuid: format!("c{i}"),
                    target: "tcp:127.0.0.1".into(),
                    max_backoff_ms: 8000,
                    inactivity_probe_ms: probe_ms,
                    out_of_band: false,
                    enable_async: true,
                    local_ip: None,
                    local_netmask: None,
                    local_gateway: None,
                })
                .collect(),
            protocols: vec![],
            other_config: Default::default(),
            ports: vec![],
            mirrors: vec![],
        };
        Settings::new(&b, None, None, std::path::Path::new("/r"))
    }

    #[test]
    fn standalone_without_controllers_is_normal() {
        let t = Instant::now();
        let mut f = FailOpen::new(t);
        assert_eq!(f.update(&settings(FailMode::Standalone, 0, 0), false, t), Some(true));
        assert_eq!(f.update(&settings(FailMode::Standalone, 0, 0), false, t), None, "reported once");
        assert_eq!(f.update(&settings(FailMode::Secure, 0, 0), false, t), Some(false));
        assert_eq!(f.update(&settings(FailMode::Secure, 1, 0), false, t), None);
        // Back to standalone with a controller connected: the decision is reported again.
        assert_eq!(f.update(&settings(FailMode::Standalone, 1, 0), true, t), Some(false));
    }

    #[test]
    fn standalone_fails_open_after_three_probes() {
        let s = settings(FailMode::Standalone, 1, 1000);
        assert_eq!(trigger(&s), Duration::from_secs(3));
        let t = Instant::now();
        let mut f = FailOpen::new(t);
        assert_eq!(f.update(&s, false, t), Some(false));
        assert_eq!(f.update(&s, true, t + Duration::from_secs(1)), None);
        assert_eq!(f.update(&s, false, t + Duration::from_secs(3)), None, "2 s since the last connection");
        assert_eq!(f.update(&s, false, t + Duration::from_secs(4)), Some(true));
        assert!(f.is_on());
        assert_eq!(f.update(&s, true, t + Duration::from_secs(5)), Some(false), "a controller is back");
    }

    #[test]
    fn secure_never_fails_open() {
        let s = settings(FailMode::Secure, 1, 1000);
        let t = Instant::now();
        let mut f = FailOpen::new(t);
        assert_eq!(f.update(&s, false, t), Some(false));
        assert_eq!(f.update(&s, false, t + Duration::from_secs(3600)), None);
        assert_eq!(trigger(&settings(FailMode::Secure, 1, 0)), Duration::from_secs(15));
    }
}
