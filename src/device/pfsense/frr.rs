//! The FRR package's BGP settings (Services > FRR BGP), read from `installedpackages` into the
//! device's [`BgpIntent`]: global (`frr`, `frrbgp`), neighbors (`frrbgpneighbors`), route
//! maps (`frrglobalroutemaps`) and prefix lists (`frrglobalprefixes`).
//!
//! The package writes FRR's own configuration, so FRR's defaults apply where pfSense writes
//! nothing: keepalive 60 and hold 180, and `ebgp-requires-policy` (FRR ≥ 7.4): an eBGP
//! neighbor without a route map or prefix filter in a direction exchanges nothing that way.
//! The package's password, communities, AS-path lists and advanced settings are reported as
//! ignored.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::derive::Vti;
use super::ifmap::Interfaces;
use super::xml::Element;
use crate::bgp::{AddressOn, BgpIntent, Neighbor, Policy, PrefixRule, Timers};
use crate::device::ImportReport;

/// The BGP speaker the FRR package configures, if FRR and its BGP are enabled.
pub fn bgp(packages: &[Element], ifaces: &Interfaces, vti: &[Vti], report: &mut ImportReport) -> Option<BgpIntent> {
    let section = |name: &str| packages.iter().find(|p| p.name == name);
    let configs = |name: &str| -> Vec<&Element> { section(name).map(|s| s.all("config").collect()).unwrap_or_default() };
    for p in packages {
        if !matches!(p.name.as_str(), "frr" | "frrbgp" | "frrbgpneighbors" | "frrglobalroutemaps" | "frrglobalprefixes") {
            report.ignored(format!("installedpackages/{}", p.name), Some(p.line), "not part of the BGP speaker the lab runs");
        }
    }
    let global = configs("frr").into_iter().next();
    let bgp = configs("frrbgp").into_iter().next();
    let (Some(global), Some(bgp)) = (global, bgp) else {
        for name in ["frr", "frrbgp", "frrbgpneighbors", "frrglobalroutemaps", "frrglobalprefixes"] {
            if let Some(s) = section(name) {
                report.ignored(format!("installedpackages/{name}"), Some(s.line), "FRR or its BGP is not configured: no speaker");
            }
        }
        return None;
    };
    if !global.has("enable") || !bgp.has("enable") {
        let which = if global.has("enable") { "frrbgp" } else { "frr" };
        report.used(format!("installedpackages/{which}/config/enable"), Some(global.line), "off: FRR's BGP does not run");
        return None;
    }
    report.used("installedpackages/frr/config/enable", Some(global.line), "on");
    if global.has("password") {
        report.ignored("installedpackages/frr/config/password", Some(global.line), "the vty password: the lab asks FRR over its socket");
    }
    let Some(asn) = bgp.value_of("asnum").and_then(|a| a.parse::<u32>().ok()) else {
        report.ignored("installedpackages/frrbgp/config/asnum", Some(bgp.line), "missing or not a number: FRR's BGP does not start");
        return None;
    };
    report.used("installedpackages/frrbgp/config/asnum", Some(bgp.line), format!("local AS {asn}"));
    let timers = match (num(bgp, "timers_keepalive"), num(bgp, "timers_holdtime")) {
        (Some(k), Some(h)) => {
            report.used("installedpackages/frrbgp/config/timers_holdtime", Some(bgp.line), format!("keepalive {k}, hold {h}"));
            Some(Timers { keepalive_s: k, hold_s: h })
        }
        _ => {
            report.defaulted(
                "installedpackages/frrbgp/config/timers_holdtime",
                "keepalive 60, hold 180",
                "FRR's traditional profile (the package writes no timers)",
            );
            None
        }
    };
    let mut networks: Vec<Ipv4Net> = Vec::new();
    for row in bgp.all("row") {
        if let Some(v) = row.value_of("distributeroutevalue") {
            match v.parse::<Ipv4Net>() {
                Ok(n) => {
                    report.used("installedpackages/frrbgp/config/row/distributeroutevalue", Some(row.line), format!("network {} advertised", n.trunc()));
                    networks.push(n.trunc());
                }
                Err(_) => report.ignored("installedpackages/frrbgp/config/row/distributeroutevalue", Some(row.line), format!("`{v}` is not a network")),
            }
        }
    }
    if bgp.has("redistributeconnected") {
        let connected: Vec<Ipv4Net> = ifaces
            .list
            .iter()
            .filter(|m| m.iface.enabled && m.iface.gateway.is_none() && m.iface.vti_device().is_none())
            .filter_map(|m| m.address())
            .map(|n| n.trunc())
            .collect();
        report.used("installedpackages/frrbgp/config/redistributeconnected", Some(bgp.line), format!("connected networks advertised: {}", list(&connected)));
        for n in connected {
            if !networks.contains(&n) {
                networks.push(n);
            }
        }
    }
    let router_id = bgp
        .value_of("routerid")
        .or(global.value_of("routerid"))
        .and_then(|r| r.parse::<Ipv4Addr>().ok())
        .or_else(|| ifaces.list.iter().filter_map(|m| m.address()).map(|n| n.addr()).max())
        .unwrap_or(Ipv4Addr::new(0, 0, 0, 1));

    let mut neighbors = Vec::new();
    for (i, n) in configs("frrbgpneighbors").into_iter().enumerate() {
        let path = format!("installedpackages/frrbgpneighbors/config[{}]", i + 1);
        let Some(address) = n.value_of("peer").and_then(|p| p.parse::<Ipv4Addr>().ok()) else {
            report.ignored(path, Some(n.line), "the peer is not an IPv4 address (peer groups are not modelled)");
            continue;
        };
        if n.has("shutdown") {
            report.used(path, Some(n.line), format!("neighbor {address}: shut down"));
            continue;
        }
        let remote_asn = match n.value_of("asnum") {
            Some("internal") => asn,
            Some(a) => match a.parse::<u32>() {
                Ok(a) => a,
                Err(_) => {
                    report.ignored(path, Some(n.line), format!("remote AS `{a}` is not a number"));
                    continue;
                }
            },
            None => {
                report.ignored(path, Some(n.line), "no remote AS: FRR refuses the neighbor");
                continue;
            }
        };
        let update_source = n.value_of("updatesource").and_then(|s| s.parse::<Ipv4Addr>().ok().or_else(|| ifaces.address(s).ok().map(|a| a.addr())));
        let ntimers = match (num(n, "timers_keepalive"), num(n, "timers_holdtime")) {
            (Some(k), Some(h)) => Some(Timers { keepalive_s: k, hold_s: h }),
            _ => None,
        };
        let import = policy(packages, n, "in", report);
        let export = policy(packages, n, "out", report);
        let mut parts = vec![format!("neighbor {address} remote-as {remote_asn}")];
        if let Some(s) = update_source {
            parts.push(format!("update-source {s}"));
        }
        let ebgp_multihop = num(n, "ebgpmultihop").map(|t| t.min(255) as u8);
        if let Some(t) = ebgp_multihop {
            parts.push(format!("ebgp-multihop {t}"));
        }
        if let Some(t) = ntimers {
            parts.push(format!("timers {} {}", t.keepalive_s, t.hold_s));
        }
        if n.has("passive") {
            parts.push("passive".into());
        }
        for (p, dir) in [(&import, "in"), (&export, "out")] {
            if *p == Policy::None {
                parts.push(format!("no policy {dir}"));
            }
        }
        report.used(path, Some(n.line), parts.join(", "));
        neighbors.push(Neighbor {
            address,
            remote_asn,
            passive: n.has("passive"),
            update_source,
            ebgp_multihop,
            timers: ntimers,
            max_prefix: num(n, "maximumprefix_num").map(u32::from),
            max_prefix_restart_min: None,
            import,
            export,
        });
    }
    // A routed phase 2's local tunnel address is on the VTI (pfSense assigns it there).
    let addresses = vti.iter().map(|v| (AddressOn::Tunnel, v.local)).collect();
    Some(BgpIntent { asn, router_id, addresses, neighbors, networks, ebgp_requires_policy: true, timers, minimum_hold_s: None, install_routes: true })
}

/// A neighbor's policy in one direction: its route map (`routemap_in`), else its prefix filter
/// (`prefixfilter_in`), else none.
fn policy(packages: &[Element], n: &Element, dir: &str, report: &mut ImportReport) -> Policy {
    let prefix_list = |name: &str, report: &mut ImportReport| -> Option<Vec<PrefixRule>> {
        let list = packages.iter().filter(|p| p.name == "frrglobalprefixes").flat_map(|p| p.all("config")).find(|c| c.value_of("name") == Some(name))?;
        let mut rules = Vec::new();
        let mut rows: Vec<&Element> = list.all("row").collect();
        rows.sort_by_key(|r| r.value_of("seq").and_then(|s| s.parse::<u32>().ok()).unwrap_or(0));
        for r in rows {
            let permit = r.value_of("action") == Some("permit");
            let prefix = if r.has("any") || r.value_of("source") == Some("any") {
                Some(Ipv4Net::default())
            } else {
                r.value_of("source").and_then(|s| s.parse::<Ipv4Net>().ok())
            };
            match prefix {
                Some(prefix) => rules.push(PrefixRule { prefix: prefix.trunc(), or_longer: r.has("any") || r.value_of("le").is_some(), permit }),
                None => {
                    report.ignored(format!("installedpackages/frrglobalprefixes/config[name={name}]/row"), Some(r.line), "the source is not an IPv4 network")
                }
            }
        }
        Some(rules)
    };
    if let Some(map) = n.value_of(&format!("routemap_{dir}")) {
        let entry = packages.iter().filter(|p| p.name == "frrglobalroutemaps").flat_map(|p| p.all("config")).find(|c| c.value_of("name") == Some(map));
        return match entry {
            None => {
                report.ignored(format!("route map {map}"), Some(n.line), "named by a neighbor but not defined: FRR denies everything through it");
                Policy::Filter { rules: Vec::new(), otherwise_permit: false }
            }
            Some(m) => {
                let permit = m.value_of("action") != Some("deny");
                let rules = m.value_of("prefix_match").and_then(|pl| prefix_list(pl, report));
                report.used(format!("installedpackages/frrglobalroutemaps/config[name={map}]"), Some(m.line), format!("route map {map} ({dir})"));
                match rules {
                    // A prefix list decides within a permit entry; the route map's implicit deny after it.
                    Some(rules) if permit => Policy::Filter { rules: rules.into_iter().filter(|r| r.permit).collect(), otherwise_permit: false },
                    _ => Policy::Filter { rules: Vec::new(), otherwise_permit: permit },
                }
            }
        };
    }
    if let Some(pl) = n.value_of(&format!("prefixfilter_{dir}")) {
        return match prefix_list(pl, report) {
            Some(rules) => Policy::Filter { rules, otherwise_permit: false },
            None => {
                report.ignored(format!("prefix list {pl}"), Some(n.line), "named by a neighbor but not defined: FRR denies everything through it");
                Policy::Filter { rules: Vec::new(), otherwise_permit: false }
            }
        };
    }
    Policy::None
}

fn num(el: &Element, name: &str) -> Option<u16> {
    el.value_of(name).and_then(|v| v.parse().ok())
}

fn list(nets: &[Ipv4Net]) -> String {
    if nets.is_empty() {
        "none".into()
    } else {
        nets.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }
}
