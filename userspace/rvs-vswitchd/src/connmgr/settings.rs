//! A bridge's OpenFlow settings, derived from its configuration: datapath id
//! (`other_config:datapath-id`, else from the bridge's MAC as Open vSwitch does), the
//! descriptions of the desc multipart (`other_config:dp-desc` and friends), the allowed
//! OpenFlow versions (`protocols`), fail mode, and each controller's connection settings.

use std::path::PathBuf;
use std::time::Duration;

use rvs_ofconn::{Target, TlsConfig};
use rvs_openflow::msg::Desc;
use rvs_openflow::Version;

use crate::config::{BridgeCfg, SslCfg};
use crate::ofproto::FailMode;

/// One configured controller (a `Controller` row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerSpec {
    /// The `Controller` row.
    pub uuid: String,
    /// The target as configured.
    pub target_text: String,
    /// The parsed target (`Err`: why it is unusable, written to its status).
    pub target: Result<Target, String>,
    /// Largest reconnect delay.
    pub max_backoff: Duration,
    /// Inactivity probe (`None`: disabled).
    pub probe: Option<Duration>,
    /// Whether asynchronous messages are sent to it.
    pub enable_async: bool,
}

/// Everything the connection manager needs to know about a bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Bridge name.
    pub bridge: String,
    /// Datapath id.
    pub datapath_id: u64,
    /// The desc multipart's strings.
    pub desc: Desc,
    /// Allowed OpenFlow versions.
    pub versions: Vec<Version>,
    /// Fail mode.
    pub fail_mode: FailMode,
    /// Controllers.
    pub controllers: Vec<ControllerSpec>,
    /// The management socket (`RUN_DIR/BRIDGE.mgmt`).
    pub mgmt: PathBuf,
    /// TLS files for `ssl:`/`pssl:` targets.
    pub tls: Option<TlsConfig>,
    /// Controllers reached in-band ([`super::inband::remotes`]).
    pub in_band_remotes: Vec<std::net::SocketAddrV4>,
    /// The local port's address for in-band control ([`super::inband::local_ip`]).
    pub in_band_local: Option<super::inband::local_ip::LocalAddr>,
    /// Problems to log.
    pub warnings: Vec<String>,
}

/// Parses `other_config:datapath-id`: exactly 16 hex digits (an optional `0x`), not zero.
pub fn parse_dpid(s: &str) -> Option<u64> {
    let h = s.strip_prefix("0x").unwrap_or(s);
    if h.len() != 16 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(h, 16).ok().filter(|d| *d != 0)
}

/// The datapath id a MAC address gives (its 48 bits; Open vSwitch's default).
pub fn dpid_from_mac(mac: &str) -> Option<u64> {
    let bytes: Vec<u8> = mac.split(':').map(|b| u8::from_str_radix(b, 16)).collect::<Result<_, _>>().ok()?;
    if bytes.len() != 6 {
        return None;
    }
    Some(bytes.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)))
}

/// Allowed versions from `protocols` (empty: 1.0 and 1.3). Versions rvs does not speak are
/// ignored with a warning.
pub fn versions(protocols: &[String], warnings: &mut Vec<String>) -> Vec<Version> {
    if protocols.is_empty() {
        return Version::SUPPORTED.to_vec();
    }
    let mut out = Vec::new();
    for p in protocols {
        match p.as_str() {
            "OpenFlow10" => out.push(Version::OF10),
            "OpenFlow13" => out.push(Version::OF13),
            other => warnings.push(format!("protocol {other} is not supported, ignored")),
        }
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        warnings.push("no supported protocol in protocols, using OpenFlow10 and OpenFlow13".into());
        return Version::SUPPORTED.to_vec();
    }
    out
}

impl Settings {
    /// The settings of `b`; `mac` is the MAC address of the bridge's local port (if it exists),
    /// `run_dir` where the management socket goes.
    pub fn new(b: &BridgeCfg, mac: Option<&str>, ssl: Option<&SslCfg>, run_dir: &std::path::Path) -> Settings {
        let mut warnings = Vec::new();
        let configured = b.other_config.get("datapath-id");
        let dpid = match configured.map(|s| (s, parse_dpid(s))) {
            Some((_, Some(d))) => d,
            Some((s, None)) => {
                warnings.push(format!("other_config:datapath-id \"{s}\" is not 16 hex digits, using the default"));
                mac.and_then(dpid_from_mac).unwrap_or(0)
            }
            None => mac.and_then(dpid_from_mac).unwrap_or(0),
        };
        let oc = |k: &str, d: &str| b.other_config.get(k).cloned().unwrap_or_else(|| d.to_string());
        let desc = Desc {
            mfr_desc: oc("mfr-desc", "rvs"),
            hw_desc: oc("hw-desc", "rvs virtual switch"),
            sw_desc: oc("sw-desc", env!("CARGO_PKG_VERSION")),
            serial_num: oc("serial-desc", "None"),
            dp_desc: oc("dp-desc", "None"),
        };
        let versions = versions(&b.protocols, &mut warnings);
        let tls = ssl.map(|s| TlsConfig {
            private_key: s.private_key.clone().into(),
            certificate: s.certificate.clone().into(),
            ca_cert: s.ca_cert.clone().into(),
        });
        let controllers = b
            .controllers
            .iter()
            .map(|c| {
                let target = Target::parse(&c.target).map_err(|e| e.to_string()).and_then(|t| {
                    if t.is_tls() && tls.is_none() {
                        Err(format!("{}: TLS target but no SSL row (private key, certificate, CA) is configured", c.target))
                    } else {
                        Ok(t)
                    }
                });
                ControllerSpec {
                    uuid: c.uuid.clone(),
                    target_text: c.target.clone(),
                    target,
                    max_backoff: Duration::from_millis(c.max_backoff_ms),
                    probe: (c.inactivity_probe_ms > 0).then(|| Duration::from_millis(c.inactivity_probe_ms)),
                    enable_async: c.enable_async,
                }
            })
            .collect();
        let in_band_remotes = super::inband::remotes(b);
        let in_band_local = super::inband::local_ip::wanted(b, super::inband::enabled(b), &mut warnings);
        Settings {
            bridge: b.name.clone(),
            datapath_id: dpid,
            desc,
            versions,
            fail_mode: b.fail_mode,
            controllers,
            mgmt: run_dir.join(format!("{}.mgmt", b.name)),
            tls,
            in_band_remotes,
            in_band_local,
            warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ControllerCfg;
    use std::collections::BTreeMap;

    fn bridge() -> BridgeCfg {
        BridgeCfg {
            uuid: "b".into(),
            name: "br0".into(),
            dp_type: rvs_dpif::DatapathType::Userspace,
            fail_mode: FailMode::Secure,
            has_controller: true,
            controllers: vec![
                ControllerCfg { uuid: "c1".into(), target: "tcp:127.0.0.1:6653".into(), max_backoff_ms: 8000, inactivity_probe_ms: 0, out_of_band: false, enable_async: true, local_ip: None, local_netmask: None, local_gateway: None },
                ControllerCfg { uuid: "c2".into(), target: "ssl:127.0.0.1".into(), max_backoff_ms: 8000, inactivity_probe_ms: 5000, out_of_band: false, enable_async: true, local_ip: None, local_netmask: None, local_gateway: None },
                ControllerCfg { uuid: "c3".into(), target: "bogus".into(), max_backoff_ms: 8000, inactivity_probe_ms: 5000, out_of_band: false, enable_async: true, local_ip: None, local_netmask: None, local_gateway: None },
            ],
            protocols: vec![],
            other_config: BTreeMap::new(),
            ports: vec![],
            mirrors: vec![],
        }
    }

    #[test]
    fn dpid_parsing() {
        assert_eq!(parse_dpid("00000000000000ab"), Some(0xab));
        assert_eq!(parse_dpid("0x00000000000000ab"), Some(0xab));
        for bad in ["ab", "0000000000000000", "00000000000000xz", "000000000000000ab"] {
            assert_eq!(parse_dpid(bad), None, "{bad}");
        }
        assert_eq!(dpid_from_mac("52:54:00:12:34:56"), Some(0x5254_0012_3456));
        assert_eq!(dpid_from_mac("52:54:00"), None);
    }

    #[test]
    fn settings_from_bridge() {
        let mut b = bridge();
        let s = Settings::new(&b, Some("02:00:00:00:00:01"), None, std::path::Path::new("/r"));
        assert_eq!(s.datapath_id, 0x0200_0000_0001, "from the MAC");
        assert_eq!(s.mgmt, PathBuf::from("/r/br0.mgmt"));
        assert_eq!(s.versions, Version::SUPPORTED.to_vec());
        assert_eq!(s.controllers[0].probe, None, "0 disables the probe");
        assert!(s.controllers[1].target.as_ref().unwrap_err().contains("SSL"), "ssl: needs the SSL row");
        assert!(s.controllers[2].target.is_err());
        b.other_config.insert("datapath-id".into(), "0000000000000042".into());
        b.other_config.insert("dp-desc".into(), "my bridge".into());
        b.protocols = vec!["OpenFlow13".into(), "OpenFlow15".into()];
        let s = Settings::new(&b, Some("02:00:00:00:00:01"), None, std::path::Path::new("/r"));
        assert_eq!(s.datapath_id, 0x42);
        assert_eq!(s.desc.dp_desc, "my bridge");
        assert_eq!(s.versions, vec![Version::OF13]);
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        b.other_config.insert("datapath-id".into(), "nope".into());
        let s = Settings::new(&b, None, None, std::path::Path::new("/r"));
        assert_eq!(s.datapath_id, 0);
        assert!(s.warnings.iter().any(|w| w.contains("datapath-id")));
    }
}
