//! Static routes into a VTI (System > Routing > Static Routes): with a routed phase 2 the
//! routing table, not the IPsec policies, steers traffic into the tunnel, so the lab routes
//! into the tunnel the networks of static routes whose gateway is on the VTI.
//!
//! A VTI's gateway is the one pfSense creates for its assigned interface, named after the
//! interface's description with `_VTIV4` (`IPSECVTI_VTIV4`, `OPT1_VTIV4`), or a gateway entry
//! on that interface or at the VTI's remote tunnel address.

use ipnet::Ipv4Net;

use super::config::Config;
use super::derive::Vti;
use super::filter::address_entry;
use super::ifmap::Interfaces;
use crate::device::ImportReport;

/// The networks routed into the VTIs, and the name of the (first) VTI gateway, for fixes.
pub fn vti_routes(cfg: &Config, vti: &[Vti], ifaces: &Interfaces, report: &mut ImportReport) -> (Vec<Ipv4Net>, Option<String>) {
    let mut names: Vec<String> = Vec::new();
    for v in vti {
        match ifaces.list.iter().find(|m| m.iface.vti_device() == Some(v.interface.as_str())) {
            Some(m) => {
                names.push(format!("{}_VTIV4", m.iface.friendly()));
                for g in &cfg.gateways {
                    let on_vti = g.interface.as_deref() == Some(m.iface.key.as_str()) || g.address.as_deref() == Some(v.remote.to_string().as_str());
                    if on_vti && !names.contains(&g.name) {
                        names.push(g.name.clone());
                    }
                }
            }
            None => report.ignored(
                format!("VTI {}", v.interface),
                None,
                "not assigned under Interfaces > Assignments: pfSense creates it, but no gateway, static route or rule can name it",
            ),
        }
    }
    let mut routes = Vec::new();
    let mut used_gateways: Vec<String> = Vec::new();
    let mut aliases_used = Vec::new();
    for r in &cfg.routes {
        if r.disabled {
            report.ignored(r.path(), Some(r.line), "disabled");
            continue;
        }
        let via_vti = names.iter().find(|n| n.eq_ignore_ascii_case(&r.gateway));
        let Some(gateway) = via_vti else {
            report.ignored(r.path(), Some(r.line), format!("{} via {}: not into the tunnel; the lab file sets the node's other routes", r.network, r.gateway));
            continue;
        };
        match address_entry(&r.network, cfg, &mut aliases_used, 0) {
            Ok(nets) => {
                for n in &nets {
                    if !routes.contains(n) {
                        routes.push(*n);
                    }
                }
                let list: Vec<String> = nets.iter().map(ToString::to_string).collect();
                let descr = r.descr.as_deref().map(|d| format!(" \"{d}\"")).unwrap_or_default();
                report.used(r.path(), Some(r.line), format!("{}{descr} via {gateway} (the VTI): routed into the lab's tunnel", list.join(", ")));
                used_gateways.push(gateway.clone());
            }
            Err(why) => report.ignored(r.path(), Some(r.line), format!("destination {}: {why}", r.network)),
        }
    }
    for g in &cfg.gateways {
        let path = format!("gateways/gateway_item[name={}]", g.name);
        if used_gateways.iter().any(|u| u.eq_ignore_ascii_case(&g.name)) {
            report.used(path, Some(g.line), "the VTI's gateway of a static route");
        } else {
            report.ignored(path, Some(g.line), "the lab file sets the node's default gateway and its other routes");
        }
    }
    (routes, names.into_iter().next())
}
