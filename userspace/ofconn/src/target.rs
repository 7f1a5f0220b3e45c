//! OpenFlow connection targets in Open vSwitch's syntax: active `tcp:IP[:PORT]`,
//! `ssl:IP[:PORT]`, `unix:FILE` and passive `ptcp:[PORT][:IP]`, `pssl:[PORT][:IP]`,
//! `punix:FILE`. The default port is 6653 (IANA); 6633, the pre-IANA port, is accepted like
//! any other port.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

/// The IANA OpenFlow port, used when a target gives none.
pub const DEFAULT_PORT: u16 = 6653;
/// The port OpenFlow used before IANA assigned 6653 (still used by older controllers).
pub const OLD_PORT: u16 = 6633;

/// Where to connect to, or where to listen.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// `tcp:IP[:PORT]`.
    Tcp(SocketAddr),
    /// `ssl:IP[:PORT]`.
    Ssl(SocketAddr),
    /// `unix:FILE`.
    Unix(PathBuf),
    /// `ptcp:[PORT][:IP]` (port 0: any free port).
    Ptcp(SocketAddr),
    /// `pssl:[PORT][:IP]`.
    Pssl(SocketAddr),
    /// `punix:FILE`.
    Punix(PathBuf),
}

/// A target string that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad OpenFlow target {target:?}: {why}")]
pub struct TargetError {
    /// The string given.
    pub target: String,
    /// What is wrong with it.
    pub why: String,
}

fn bad(target: &str, why: impl Into<String>) -> TargetError {
    TargetError { target: target.into(), why: why.into() }
}

/// Parses `HOST[:PORT]` (IPv6 in brackets: `[::1]:6653`); a host name is resolved.
fn parse_active(s: &str, whole: &str) -> Result<SocketAddr, TargetError> {
    if s.is_empty() {
        return Err(bad(whole, "missing address"));
    }
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, tail) = rest.split_once(']').ok_or_else(|| bad(whole, "unclosed '['"))?;
        let port = match tail.strip_prefix(':') {
            Some(p) => Some(p),
            None if tail.is_empty() => None,
            None => return Err(bad(whole, "junk after ']'")),
        };
        (h, port)
    } else if s.matches(':').count() > 1 {
        (s, None) // a bare IPv6 address
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = match port {
        Some(p) => p.parse::<u16>().map_err(|_| bad(whole, format!("bad port {p:?}")))?,
        None => DEFAULT_PORT,
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| bad(whole, format!("cannot resolve {host:?}")))
}

/// Parses `[PORT][:IP]` of a passive target (IP defaults to any IPv4 address).
fn parse_passive(s: &str, whole: &str) -> Result<SocketAddr, TargetError> {
    let (port, ip) = match s.split_once(':') {
        Some((p, ip)) => (p, Some(ip)),
        None => (s, None),
    };
    let port = if port.is_empty() {
        DEFAULT_PORT
    } else {
        port.parse::<u16>().map_err(|_| bad(whole, format!("bad port {port:?}")))?
    };
    let ip = match ip {
        None | Some("") => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Some(ip) => {
            let ip = ip.strip_prefix('[').and_then(|i| i.strip_suffix(']')).unwrap_or(ip);
            ip.parse::<IpAddr>().map_err(|_| bad(whole, format!("bad IP address {ip:?}")))?
        }
    };
    Ok(SocketAddr::new(ip, port))
}

impl Target {
    /// Parses a target string.
    pub fn parse(s: &str) -> Result<Target, TargetError> {
        let (method, rest) = s.split_once(':').ok_or_else(|| bad(s, "expected METHOD:ARGS"))?;
        let path = |rest: &str| {
            if rest.is_empty() {
                Err(bad(s, "missing file name"))
            } else {
                Ok(PathBuf::from(rest))
            }
        };
        Ok(match method {
            "tcp" => Target::Tcp(parse_active(rest, s)?),
            "ssl" => Target::Ssl(parse_active(rest, s)?),
            "unix" => Target::Unix(path(rest)?),
            "ptcp" => Target::Ptcp(parse_passive(rest, s)?),
            "pssl" => Target::Pssl(parse_passive(rest, s)?),
            "punix" => Target::Punix(path(rest)?),
            m => return Err(bad(s, format!("unknown connection method {m:?}"))),
        })
    }

    /// Whether this is a listening (`p...`) target.
    pub fn is_passive(&self) -> bool {
        matches!(self, Target::Ptcp(_) | Target::Pssl(_) | Target::Punix(_))
    }

    /// Whether the connection uses TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self, Target::Ssl(_) | Target::Pssl(_))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let passive = |f: &mut fmt::Formatter<'_>, m: &str, a: &SocketAddr| match a.ip() {
            IpAddr::V6(ip) => write!(f, "{m}:{}:[{ip}]", a.port()),
            IpAddr::V4(ip) => write!(f, "{m}:{}:{ip}", a.port()),
        };
        match self {
            Target::Tcp(a) => write!(f, "tcp:{a}"),
            Target::Ssl(a) => write!(f, "ssl:{a}"),
            Target::Unix(p) => write!(f, "unix:{}", p.display()),
            Target::Ptcp(a) => passive(f, "ptcp", a),
            Target::Pssl(a) => passive(f, "pssl", a),
            Target::Punix(p) => write!(f, "punix:{}", p.display()),
        }
    }
}

impl std::str::FromStr for Target {
    type Err = TargetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Target {
        Target::parse(s).unwrap()
    }

    #[test]
    fn active_targets() {
        assert_eq!(p("tcp:127.0.0.1"), Target::Tcp("127.0.0.1:6653".parse().unwrap()));
        assert_eq!(p("tcp:10.0.0.1:6633"), Target::Tcp("10.0.0.1:6633".parse().unwrap()));
        assert_eq!(p("ssl:[::1]:7000"), Target::Ssl("[::1]:7000".parse().unwrap()));
        assert_eq!(p("tcp:[::1]"), Target::Tcp("[::1]:6653".parse().unwrap()));
        assert_eq!(p("tcp:::1"), Target::Tcp("[::1]:6653".parse().unwrap()));
        assert_eq!(p("unix:/run/rvs/br0.mgmt"), Target::Unix("/run/rvs/br0.mgmt".into()));
        assert!(!p("tcp:1.2.3.4").is_passive());
        assert!(p("ssl:1.2.3.4").is_tls());
    }

    #[test]
    fn passive_targets() {
        assert_eq!(p("ptcp:"), Target::Ptcp("0.0.0.0:6653".parse().unwrap()));
        assert_eq!(p("ptcp:6634"), Target::Ptcp("0.0.0.0:6634".parse().unwrap()));
        assert_eq!(p("ptcp:6634:127.0.0.1"), Target::Ptcp("127.0.0.1:6634".parse().unwrap()));
        assert_eq!(p("ptcp::127.0.0.1"), Target::Ptcp("127.0.0.1:6653".parse().unwrap()));
        assert_eq!(p("pssl:0:[::1]"), Target::Pssl("[::1]:0".parse().unwrap()));
        assert_eq!(p("punix:/tmp/x.sock"), Target::Punix("/tmp/x.sock".into()));
        assert!(p("ptcp:").is_passive() && p("punix:/x").is_passive());
    }

    #[test]
    fn errors_and_display() {
        for s in ["tcp", "tcp:", "tcp:1.2.3.4:99999", "udp:1.2.3.4", "unix:", "ptcp:x", "ptcp:1:bad", "tcp:[::1"] {
            assert!(Target::parse(s).is_err(), "{s} should not parse");
        }
        for s in ["tcp:127.0.0.1:6653", "ptcp:6653:0.0.0.0", "pssl:1:[::1]", "unix:/a/b", "punix:/c"] {
            assert_eq!(p(s).to_string(), s);
            assert_eq!(p(&p(s).to_string()), p(s));
        }
    }
}
