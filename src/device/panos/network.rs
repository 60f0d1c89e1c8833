//! The tunnel's place in the network: its proxy-IDs as children, the firewall's interfaces
//! mapped onto the lab node's by address (the tunnel's interface is the lab's tunnel), and the
//! static routes into the tunnel's interface.

use ipnet::Ipv4Net;

use super::addresses::Resolver;
use super::build::error;
use super::config::{self, At, IpsecTunnel, PanosConfig};
use super::defaults;
use super::policy::Ports;
use super::ChildPlan;
use crate::device::{DeviceError, DeviceSource, ImportReport};
use crate::ike::intent::Port;

/// One child per proxy-ID (named `tunnel:proxy-id`, as PAN-OS shows them), or one 0.0.0.0/0
/// child named after the tunnel.
pub(super) fn children(
    tunnel: &IpsecTunnel,
    resolver: &mut Resolver,
    report: &mut ImportReport,
    errors: &mut Vec<DeviceError>,
    notes: &mut Vec<String>,
) -> Vec<ChildPlan> {
    for v6 in &tunnel.proxy_ids_v6 {
        report.ignored(&v6.path, v6.line, "an IPv6 proxy-ID: the lab runs IPv4");
    }
    if tunnel.proxy_ids.is_empty() {
        report.defaulted(format!("{} auto-key proxy-id", tunnel.path), defaults::PROXY_ID.value, defaults::PROXY_ID.source);
        let any: Ipv4Net = Ipv4Net::default();
        return vec![ChildPlan { name: tunnel.name.clone(), proxy_id: None, local: any, remote: any }];
    }
    let mut out = Vec::new();
    for p in &tunnel.proxy_ids {
        let mut side = |value: &Option<At<String>>, which: &str| -> Option<Ipv4Net> {
            let Some(v) = value else {
                errors.push(error(
                    p.line,
                    &p.path,
                    format!("proxy-ID `{}` has no {which} address", p.name),
                    format!("`{which} 10.10.0.0/16` (an address or prefix)"),
                ));
                return None;
            };
            match resolver.one(&v.value) {
                Ok(net) => Some(net.trunc()),
                Err(problem) => {
                    errors.push(error(
                        v.line,
                        &v.path,
                        format!("proxy-ID `{}`: {problem}", p.name),
                        "an IPv4 prefix such as 10.10.0.0/16, or an ip-netmask address object",
                    ));
                    None
                }
            }
        };
        let (Some(local), Some(remote)) = (side(&p.local, "local"), side(&p.remote, "remote")) else { continue };
        match p.protocol.as_ref().map(|x| x.value) {
            None => report.defaulted(format!("{} protocol", p.path), defaults::PROXY_PROTOCOL.value, defaults::PROXY_PROTOCOL.source),
            Some(config::ProxyProtocol::Any) => {}
            Some(other) => {
                if let Some(x) = &p.protocol {
                    report.ignored(
                        &x.path,
                        x.line,
                        format!("{other:?}: the lab's selectors carry addresses only, so this child proposes and accepts any protocol"),
                    );
                }
                notes.push(format!("proxy-ID {} names a protocol; the lab runs it for any protocol", p.name));
            }
        }
        report.used(&p.path, p.line, format!("child {}:{}: {local} === {remote}", tunnel.name, p.name));
        out.push(ChildPlan { name: format!("{}:{}", tunnel.name, p.name), proxy_id: Some(p.name.clone()), local, remote });
    }
    if out.len() > 1 {
        notes.push(format!("{} proxy-IDs: the run starts the first one's SA; PAN-OS starts each when traffic for it arrives", out.len()));
    }
    out
}

/// The addresses of a PAN-OS interface, as prefixes with the interface's own address.
pub(super) fn interface_nets(config: &PanosConfig, name: &str, resolver: &mut Resolver) -> Vec<Ipv4Net> {
    config.interface(name).map(|i| i.addresses.iter().filter_map(|a| resolver.one(&a.value).ok()).collect()).unwrap_or_default()
}

/// Which lab port each PAN-OS interface is, by address; every interface in the report.
/// `tunnel_addressed`: the tunnel interface's address goes on the lab's tunnel (BGP peers from it).
pub(super) fn map_interfaces(
    config: &PanosConfig,
    tunnel_interface: &str,
    tunnel_addressed: bool,
    source: &DeviceSource,
    resolver: &mut Resolver,
    report: &mut ImportReport,
) -> Ports {
    let mut ports = Ports::new();
    ports.insert(tunnel_interface.to_string(), Port::Tunnel);
    for i in &config.interfaces {
        if i.name == tunnel_interface {
            let addrs: Vec<String> = i.addresses.iter().map(|a| a.value.clone()).collect();
            report.used(
                &i.path,
                i.line,
                format!(
                    "the tunnel's interface{}",
                    match (addrs.is_empty(), tunnel_addressed) {
                        (true, _) => String::new(),
                        (false, true) => format!(" ({}: on the lab's tunnel, for BGP)", addrs.join(", ")),
                        (false, false) => format!(" ({}; the lab's tunnel carries no address)", addrs.join(", ")),
                    }
                ),
            );
            continue;
        }
        if i.kind == config::InterfaceKind::Tunnel {
            let owner = config.tunnels.iter().find(|t| t.interface.as_ref().is_some_and(|x| x.value == i.name)).map(|t| t.name.clone());
            report.ignored(
                &i.path,
                i.line,
                match owner {
                    Some(t) => format!("the interface of tunnel {t}, which this lab does not run"),
                    None => "a tunnel interface of no IPsec tunnel".into(),
                },
            );
            continue;
        }
        let nets = interface_nets(config, &i.name, resolver);
        let lab = nets.iter().find_map(|n| source.interfaces.iter().find(|(_, a)| a.addr() == n.addr()).map(|(name, a)| (name.clone(), *a, *n)));
        match lab {
            Some((name, lab_net, net)) => {
                let prefix = if lab_net.prefix_len() == net.prefix_len() { String::new() } else { format!(" (the lab's prefix is /{})", lab_net.prefix_len()) };
                report.used(&i.path, i.line, format!("{net}: the lab interface {name}{prefix}"));
                ports.insert(i.name.clone(), Port::Interface(name));
            }
            None if nets.is_empty() => report.ignored(
                &i.path,
                i.line,
                if i.dhcp {
                    "a DHCP address: interfaces are mapped onto the lab's by address"
                } else {
                    "no IPv4 address: interfaces are mapped onto the lab's by address"
                },
            ),
            None => report.ignored(
                &i.path,
                i.line,
                format!("{}: no interface of this node in the lab has that address", nets.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
            ),
        }
    }
    ports
}

/// Static routes into the tunnel's interface, and the virtual router that holds it.
pub(super) fn routes(
    config: &PanosConfig,
    tunnel_interface: &str,
    resolver: &mut Resolver,
    report: &mut ImportReport,
    errors: &mut Vec<DeviceError>,
) -> (Vec<Ipv4Net>, Option<String>) {
    let mut out = Vec::new();
    // PAN-OS routes into an interface only from the virtual router that holds it [P19].
    let holder = config.virtual_routers.iter().find(|vr| vr.interfaces.iter().any(|i| i.value == tunnel_interface)).map(|vr| vr.name.clone());
    for vr in &config.virtual_routers {
        if let Some(first) = vr.interfaces.first() {
            report.used(format!("{} interface", vr.path), first.line, vr.interfaces.iter().map(|i| i.value.as_str()).collect::<Vec<_>>().join(", "));
        }
        for r in &vr.routes {
            if r.interface.as_ref().is_none_or(|i| i.value != tunnel_interface) {
                report.ignored(&r.path, r.line, "not into the tunnel: the lab's `gateway:` and `routes:` route the node's other traffic");
                continue;
            }
            if let Some(config::NextHop::Discard) = r.nexthop.as_ref().map(|n| &n.value) {
                report.ignored(&r.path, r.line, "a discard route");
                continue;
            }
            let Some(d) = &r.destination else {
                errors.push(error(r.line, &r.path, format!("static route `{}` has no destination", r.name), "`destination 10.20.0.0/16`"));
                continue;
            };
            match resolver.one(&d.value) {
                Ok(net) => {
                    report.used(&r.path, r.line, format!("{} into {tunnel_interface}: a route into the lab's tunnel", net.trunc()));
                    if !out.contains(&net.trunc()) {
                        out.push(net.trunc());
                    }
                }
                Err(problem) => errors.push(error(d.line, &d.path, format!("static route `{}`: {problem}", r.name), "a prefix such as 10.20.0.0/16")),
            }
        }
    }
    (out, holder)
}
