//! Parsing `add-if` interface arguments: `IFACE[,type=TYPE][,port_no=N][,dst_port=P]`, as
//! `ovs-dpctl` takes them. Errors name the offending token.

use anyhow::{anyhow, bail, Result};
use rvs_dpif::{PortSpec, PortType};

/// Parses one interface argument.
pub fn parse(arg: &str) -> Result<PortSpec> {
    let mut parts = arg.split(',');
    let name = parts.next().unwrap_or_default().trim();
    if name.is_empty() {
        bail!("{arg}: missing interface name");
    }
    if name.len() >= 16 {
        bail!("{arg}: interface name '{name}' is longer than 15 bytes");
    }
    let mut spec = PortSpec { name: name.to_string(), port_type: PortType::Netdev, port_no: None, dst_port: None };
    for tok in parts {
        let (k, v) = tok.split_once('=').ok_or_else(|| anyhow!("{arg}: '{tok}': expected KEY=VALUE"))?;
        match k {
            "type" => {
                spec.port_type = PortType::parse(v).ok_or_else(|| {
                    anyhow!("{arg}: '{tok}': unknown port type '{v}' (system, internal, gre, vxlan, geneve)")
                })?
            }
            "port_no" => {
                spec.port_no =
                    Some(v.parse().map_err(|_| anyhow!("{arg}: '{tok}': port_no must be a number"))?)
            }
            "dst_port" => {
                spec.dst_port =
                    Some(v.parse().map_err(|_| anyhow!("{arg}: '{tok}': dst_port must be a UDP port number"))?)
            }
            _ => bail!("{arg}: '{tok}': unknown option '{k}' (type, port_no, dst_port)"),
        }
    }
    if spec.dst_port.is_some() && !matches!(spec.port_type, PortType::Vxlan | PortType::Geneve) {
        bail!("{arg}: dst_port only applies to vxlan and geneve ports");
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_typed() {
        let s = parse("v1").unwrap();
        assert_eq!((s.name.as_str(), s.port_type, s.port_no), ("v1", PortType::Netdev, None));
        let s = parse("br-int,type=internal,port_no=7").unwrap();
        assert_eq!((s.name.as_str(), s.port_type, s.port_no), ("br-int", PortType::Internal, Some(7)));
        let s = parse("vx0,type=vxlan,dst_port=4789").unwrap();
        assert_eq!(s.dst_port, Some(4789));
        assert_eq!(parse("g0,type=gre").unwrap().port_type, PortType::Gre);
    }

    #[test]
    fn errors_point_at_the_token() {
        let e = parse("v1,type=bogus").unwrap_err().to_string();
        assert!(e.contains("'type=bogus'") && e.contains("unknown port type"), "{e}");
        let e = parse("v1,colour=red").unwrap_err().to_string();
        assert!(e.contains("'colour=red'"), "{e}");
        let e = parse("v1,port_no=x").unwrap_err().to_string();
        assert!(e.contains("'port_no=x'"), "{e}");
        assert!(parse(",type=gre").is_err());
        assert!(parse("v1,dst_port=4789").is_err());
        assert!(parse("abcdefghijklmnopq").is_err());
    }
}
