//! The firewall's BGP speaker: `protocol bgp` of the virtual router that holds the tunnel's
//! interface (the legacy routing engine), as the vendor-neutral [`BgpIntent`] the lab's FRR
//! runs, with every element in the import report.
//!
//! What maps: `enable`, `router-id`, `local-as`; each enabled peer of an enabled `ebgp` or `ibgp`
//! peer group with its `peer-as`, `peer-address ip`, `local-address` (the update source; a
//! tunnel interface's address goes on the lab's tunnel, a loopback's as a /32 on the node's
//! loopback), `connection-options` (multihop, keepalive and hold time, `outgoing-bgp-connection
//! allow no` as passive) and `max-prefixes`; import and export rules as prefix filters per peer
//! group; `reject-default-route` as a refusal of 0.0.0.0/0 from every peer; the networks BGP
//! originates from `redist-rules` (a prefix, or a redistribution profile matched against the
//! virtual router's connected networks and static routes). PAN-OS has no `ebgp-requires-policy`:
//! an eBGP peer without rules exchanges routes ([`defaults::BGP_EBGP_POLICY`]).
//!
//! What does not: confederations, MD5 authentication, attribute changes (local preference, MED,
//! AS path, communities), matches on anything but the prefix, restricted TCP ports, BFD,
//! dampening, graceful restart, and `install-route no` (the lab's FRR installs what it learns;
//! the report and the notes say so). Defaults and their sources are in `defaults.rs`; where
//! a source could not be found the report says "unconfirmed".

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::addresses::{literal_net, Resolver};
use super::build::error;
use super::config::{At, Bgp, BgpPeer, InterfaceKind, NextHop, PanosConfig, PeerGroupType, PolicyRule, RedistProfile, VirtualRouter};
use super::defaults::{self, Fact};
use crate::bgp::{AddressOn, BgpIntent, Neighbor, Policy, PrefixRule, Timers};
use crate::device::{DeviceError, DeviceSource, ImportReport};

/// The names an engineer finds the first neighbor under, for fixes (`vocabulary.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BgpNames {
    pub virtual_router: String,
    pub peer_group: String,
    pub peer: String,
}

/// What the BGP import produced.
pub(super) struct Imported {
    pub intent: BgpIntent,
    pub names: BgpNames,
}

/// Where the import writes what it found.
pub(super) struct Out<'a> {
    pub report: &'a mut ImportReport,
    pub errors: &'a mut Vec<DeviceError>,
    pub notes: &'a mut Vec<String>,
}

/// The lab around the firewall: its tunnel interface and the lab's interfaces.
pub(super) struct Place<'a> {
    pub tunnel_interface: &'a str,
    pub source: &'a DeviceSource<'a>,
}

/// The speaker of the virtual router that holds the tunnel's interface, if it runs BGP with at
/// least one peer the lab can run.
pub(super) fn import(config: &PanosConfig, place: &Place, resolver: &mut Resolver, out: &mut Out) -> Option<Imported> {
    let tif = place.tunnel_interface;
    // Routing is per virtual router: only the one that routes into the tunnel can peer over it.
    let holder = config.virtual_routers.iter().find(|vr| vr.interfaces.iter().any(|i| i.value == tif));
    for vr in config.virtual_routers.iter().filter(|vr| Some(vr.name.as_str()) != holder.map(|h| h.name.as_str())) {
        if let Some(b) = &vr.bgp {
            out.report.ignored(
                &b.path,
                b.line,
                format!("the BGP of virtual router {}, which does not hold {tif}: it cannot peer over the lab's tunnel", vr.name),
            );
        }
        for p in &vr.redist_profiles {
            out.report.ignored(&p.path, p.line, format!("a redistribution profile of virtual router {}, which does not hold {tif}", vr.name));
        }
    }
    let vr = holder?;
    let Some(bgp) = &vr.bgp else {
        for p in &vr.redist_profiles {
            out.report.ignored(&p.path, p.line, "no BGP in this virtual router redistributes through it");
        }
        return None;
    };
    let enabled = match &bgp.enable {
        Some(e) => {
            out.report.used(&e.path, e.line, if e.value { "yes" } else { "no" });
            e.value
        }
        None => defaulted_yes(out.report, format!("{} enable", bgp.path), defaults::BGP_ENABLE),
    };
    if !enabled {
        out.report.ignored(&bgp.path, bgp.line, "BGP is disabled (`enable no`): its peer groups, rules and redistribution do not run");
        for p in &vr.redist_profiles {
            out.report.ignored(&p.path, p.line, "BGP is disabled: nothing redistributes through it");
        }
        return None;
    }
    if !bgp.problems.is_empty() {
        out.errors.extend(bgp.problems.iter().cloned());
        return None;
    }
    let (asn, router_id) = identity(bgp, out)?;
    options(bgp, out);
    let reject_default = flag(out.report, &bgp.reject_default_route, &bgp.path, "reject-default-route", defaults::BGP_REJECT_DEFAULT, |on| {
        if on {
            "yes: a default route from a peer is refused (0.0.0.0/0 denied first on every peer's import)"
        } else {
            "no: a default route from a peer is accepted"
        }
    });
    let allow_default = flag(out.report, &bgp.allow_redist_default_route, &bgp.path, "allow-redist-default-route", defaults::BGP_ALLOW_REDIST_DEFAULT, |on| {
        if on {
            "yes: a default route may be redistributed"
        } else {
            "no: a default route is never redistributed"
        }
    });
    let imports = rules(&bgp.import_rules, "import", resolver, out);
    let exports = rules(&bgp.export_rules, "export", resolver, out);
    let mut neighbors: Vec<Neighbor> = Vec::new();
    let mut addresses: Vec<(AddressOn, Ipv4Net)> = Vec::new();
    let mut names: Option<BgpNames> = None;
    for g in &bgp.peer_groups {
        if !entry_enabled(out.report, &g.enable, &g.path) {
            out.report.ignored(&g.path, g.line, "a disabled peer group: its peers do not run");
            continue;
        }
        let kind = match &g.kind {
            Some(k) => {
                out.report.used(&k.path, k.line, k.value.keyword());
                k.value
            }
            None => {
                out.report.defaulted(format!("{} type", g.path), defaults::BGP_PEER_GROUP_TYPE.value, defaults::BGP_PEER_GROUP_TYPE.source);
                PeerGroupType::Ebgp
            }
        };
        if matches!(kind, PeerGroupType::EbgpConfed | PeerGroupType::IbgpConfed) {
            out.report.ignored(&g.path, g.line, format!("a {} peer group: confederations are not modelled", kind.keyword()));
            continue;
        }
        out.report.used(&g.path, g.line, format!("peer group {} ({})", g.name, kind.keyword()));
        for p in &g.peers {
            let policies = Policies {
                import: applying(&imports, &g.name, &p.name, reject_default.then(default_route)),
                export: applying(&exports, &g.name, &p.name, None),
            };
            let Some((n, at)) = neighbor(config, place, resolver, out, Peer { asn, kind, group: &g.name, peer: p }, policies) else { continue };
            if neighbors.iter().any(|x| x.address == n.address) {
                out.report.ignored(&p.path, p.line, format!("a second peer at {}: the first one runs", n.address));
                continue;
            }
            if let Some(a) = at.filter(|a| !addresses.contains(a)) {
                addresses.push(a);
            }
            names.get_or_insert_with(|| BgpNames { virtual_router: vr.name.clone(), peer_group: g.name.clone(), peer: p.name.clone() });
            neighbors.push(n);
        }
    }
    let networks = networks(config, vr, bgp, allow_default, resolver, out);
    out.report.defaulted(format!("{} (eBGP policy)", bgp.path), defaults::BGP_EBGP_POLICY.value, defaults::BGP_EBGP_POLICY.source);
    let Some(names) = names else {
        out.report.ignored(&bgp.path, bgp.line, "BGP is enabled but has no peer the lab can run: no speaker");
        out.notes.push(format!("BGP in virtual router {} has no peer the lab can run: the lab runs no BGP speaker", vr.name));
        return None;
    };
    let peers: Vec<String> = neighbors.iter().map(|n| format!("{} (AS {})", n.address, n.remote_asn)).collect();
    out.report.used(
        &bgp.path,
        bgp.line,
        format!("the BGP speaker of virtual router {}: AS {asn}, router-id {router_id}, peers {}, originates {}", vr.name, peers.join(", "), list(&networks)),
    );
    let install_routes = bgp.install_route.as_ref().is_some_and(|i| i.value);
    let intent = BgpIntent { asn, router_id, addresses, neighbors, networks, ebgp_requires_policy: false, timers: None, minimum_hold_s: None, install_routes };
    Some(Imported { intent, names })
}

/// `local-as` and `router-id`, both of which PAN-OS requires of an enabled BGP.
fn identity(bgp: &Bgp, out: &mut Out) -> Option<(u32, Ipv4Addr)> {
    let asn = match &bgp.local_as {
        Some(a) => match parse_asn(&a.value) {
            Some(n) => {
                out.report.used(&a.path, a.line, format!("AS {n}"));
                Some(n)
            }
            None => {
                out.errors.push(error(
                    a.line,
                    &a.path,
                    format!("`{}` is not an AS number", a.value),
                    "1 to 4294967295, or `high.low` (asdot) with routing-options as-format 4-byte",
                ));
                None
            }
        },
        None => {
            out.errors.push(error(bgp.line, &bgp.path, "BGP is enabled without a local AS", "`protocol bgp local-as 65010` (BGP > General > AS Number)"));
            None
        }
    };
    let router_id = match &bgp.router_id {
        Some(r) => match r.value.parse::<Ipv4Addr>() {
            Ok(a) => {
                out.report.used(&r.path, r.line, a.to_string());
                Some(a)
            }
            Err(_) => {
                out.errors.push(error(r.line, &r.path, format!("`{}` is not a router ID", r.value), "an IPv4 address, e.g. `router-id 10.10.0.1`"));
                None
            }
        },
        None => {
            out.errors.push(error(bgp.line, &bgp.path, "BGP is enabled without a router ID", "`protocol bgp router-id 10.10.0.1` (BGP > General > Router ID)"));
            None
        }
    };
    Some((asn?, router_id?))
}

/// Speaker-wide options the lab cannot run as PAN-OS does.
fn options(bgp: &Bgp, out: &mut Out) {
    match &bgp.install_route {
        Some(i) if i.value => out.report.used(&i.path, i.line, "yes: learned routes go into the routing table"),
        Some(i) => {
            out.report.used(
                &i.path,
                i.line,
                "no: PAN-OS keeps learned routes out of its routing table; the lab's FRR exchanges them and installs none (a table-map that denies all)",
            );
            out.notes.push(install_route_note());
        }
        None => {
            out.report.defaulted(format!("{} install-route", bgp.path), defaults::BGP_INSTALL_ROUTE.value, defaults::BGP_INSTALL_ROUTE.source);
            out.notes.push(install_route_note());
        }
    }
}

fn install_route_note() -> String {
    "BGP install-route is off: the firewall learns routes and forwards by none of them, in the lab as on PAN-OS (set `install-route yes`)".into()
}

/// A yes/no setting with its PAN-OS default: used or defaulted, described.
fn flag(report: &mut ImportReport, value: &Option<At<bool>>, parent: &str, keyword: &str, default: Fact, describe: fn(bool) -> &'static str) -> bool {
    match value {
        Some(v) => {
            report.used(&v.path, v.line, describe(v.value));
            v.value
        }
        None => {
            let on = default.value == "yes";
            report.defaulted(format!("{parent} {keyword}"), describe(on), default.source);
            on
        }
    }
}

fn defaulted_yes(report: &mut ImportReport, element: String, fact: Fact) -> bool {
    report.defaulted(element, fact.value, fact.source);
    true
}

/// An entry's `enable` (a peer group, a peer, a rule): absent is taken as yes.
fn entry_enabled(report: &mut ImportReport, enable: &Option<At<bool>>, path: &str) -> bool {
    match enable {
        Some(e) => {
            report.used(&e.path, e.line, if e.value { "yes" } else { "no" });
            e.value
        }
        None => defaulted_yes(report, format!("{path} enable"), defaults::BGP_ENABLED_ENTRY),
    }
}

/// `65010`, or asdot `1.10` (65546).
fn parse_asn(text: &str) -> Option<u32> {
    if let Some((high, low)) = text.split_once('.') {
        let (high, low) = (high.parse::<u16>().ok()?, low.parse::<u16>().ok()?);
        return Some((u32::from(high) << 16) | u32::from(low)).filter(|n| *n > 0);
    }
    text.parse::<u32>().ok().filter(|n| *n > 0)
}

fn default_route() -> PrefixRule {
    PrefixRule { prefix: Ipv4Net::default(), or_longer: false, permit: false }
}

/// A rule as a prefix filter, with the peer groups (or peers) it is used by.
struct Rule {
    used_by: Vec<String>,
    prefixes: Vec<PrefixRule>,
}

/// Import or export rules as prefix filters; every rule in the report.
fn rules(list: &[PolicyRule], dir: &str, resolver: &mut Resolver, out: &mut Out) -> Vec<Rule> {
    let mut rules = Vec::new();
    for r in list {
        if !entry_enabled(out.report, &r.enable, &r.path) {
            out.report.ignored(&r.path, r.line, format!("a disabled {dir} rule"));
            continue;
        }
        if r.used_by.is_empty() {
            out.report.ignored(&r.path, r.line, format!("an {dir} rule used by no peer group: it applies to none (unconfirmed)"));
            continue;
        }
        if !r.other_matches.is_empty() {
            let what: Vec<&str> = r.other_matches.iter().map(|m| m.value.as_str()).collect();
            out.report.ignored(
                &r.path,
                r.line,
                format!("matches on {}, which the lab's prefix filters cannot express: the rule is left out, so what it would stop passes", what.join(", ")),
            );
            out.notes.push(format!("BGP {dir} rule {} matches on {}: left out of the lab's filters", r.name, what.join(", ")));
            continue;
        }
        let Some(action) = &r.allow else {
            out.report.ignored(&r.path, r.line, format!("an {dir} rule without an action: PAN-OS refuses to commit it"));
            continue;
        };
        if let Some(u) = &r.updates {
            out.report.ignored(
                &u.path,
                u.line,
                "attribute changes (local preference, MED, next hop, origin, AS path, communities) are not modelled: the route passes unchanged",
            );
        }
        let mut prefixes = Vec::new();
        for p in &r.prefixes {
            let exact = match &p.exact {
                Some(e) => e.value,
                None => {
                    out.report.defaulted(format!("{} exact", p.path), defaults::BGP_EXACT.value, defaults::BGP_EXACT.source);
                    false
                }
            };
            match resolver.one(&p.prefix) {
                Ok(net) => prefixes.push(PrefixRule { prefix: net.trunc(), or_longer: !exact, permit: action.value }),
                Err(problem) => out.errors.push(error(p.line, &p.path, format!("{dir} rule `{}`: {problem}", r.name), "a prefix such as 10.20.0.0/16")),
            }
        }
        // A rule with no prefix matches every route.
        if r.prefixes.is_empty() {
            prefixes.push(PrefixRule { prefix: Ipv4Net::default(), or_longer: true, permit: action.value });
        }
        let used_by: Vec<String> = r.used_by.iter().map(|u| u.value.clone()).collect();
        let what: Vec<String> = prefixes.iter().map(|p| format!("{}{}", p.prefix, if p.or_longer { " or longer" } else { "" })).collect();
        out.report.used(&r.path, r.line, format!("{dir} rule for {}: {} {}", used_by.join(", "), if action.value { "allow" } else { "deny" }, what.join(", ")));
        rules.push(Rule { used_by, prefixes });
    }
    rules
}

/// The filter of the rules a peer's group (or the peer itself) uses, first match decides, with
/// `first` ahead of them; none at all is no policy. A route no rule matches passes, as it
/// would with no rules (unconfirmed: no source says what PAN-OS does with it).
fn applying(rules: &[Rule], group: &str, peer: &str, first: Option<PrefixRule>) -> Policy {
    let mut list: Vec<PrefixRule> = first.into_iter().collect();
    for r in rules.iter().filter(|r| r.used_by.iter().any(|u| u == group || u == peer)) {
        list.extend(r.prefixes.iter().copied());
    }
    if list.is_empty() {
        Policy::None
    } else {
        Policy::Filter { rules: list, otherwise_permit: true }
    }
}

/// The policies of one peer.
struct Policies {
    import: Policy,
    export: Policy,
}

/// One peer and what it belongs to.
struct Peer<'a> {
    asn: u32,
    kind: PeerGroupType,
    group: &'a str,
    peer: &'a BgpPeer,
}

/// A peer as a neighbor, with the address the node must hold for it.
fn neighbor(
    config: &PanosConfig,
    place: &Place,
    resolver: &mut Resolver,
    out: &mut Out,
    at: Peer,
    policies: Policies,
) -> Option<(Neighbor, Option<(AddressOn, Ipv4Net)>)> {
    let p = at.peer;
    if !entry_enabled(out.report, &p.enable, &p.path) {
        out.report.ignored(&p.path, p.line, "a disabled peer");
        return None;
    }
    if !p.problems.is_empty() {
        out.errors.extend(p.problems.iter().cloned());
        return None;
    }
    let address = match (&p.peer_ip, &p.peer_fqdn) {
        (Some(ip), _) => match resolver.one(&ip.value) {
            Ok(net) => {
                out.report.used(&ip.path, ip.line, net.addr().to_string());
                net.addr()
            }
            Err(problem) => {
                out.errors.push(error(
                    ip.line,
                    &ip.path,
                    format!("BGP peer `{}`: {problem}", p.name),
                    "the peer's address, e.g. `peer-address ip 169.254.21.1`",
                ));
                return None;
            }
        },
        (None, Some(f)) => {
            out.report.ignored(&f.path, f.line, "an FQDN peer address: the lab's speaker peers with addresses");
            out.report.ignored(&p.path, p.line, "no peer address the lab's speaker can use");
            return None;
        }
        (None, None) => {
            out.errors.push(error(
                p.line,
                &p.path,
                format!("BGP peer `{}` has no peer address", p.name),
                "`peer-address ip 169.254.21.1` (BGP > Peer Group > Peer > Addressing)",
            ));
            return None;
        }
    };
    let remote_asn = match &p.peer_as {
        Some(a) => match parse_asn(&a.value) {
            Some(n) => {
                out.report.used(&a.path, a.line, format!("AS {n}"));
                n
            }
            None => {
                out.errors.push(error(a.line, &a.path, format!("`{}` is not an AS number", a.value), "the peer's AS, e.g. `peer-as 65515` (Azure's default)"));
                return None;
            }
        },
        None if at.kind == PeerGroupType::Ibgp => {
            out.report.defaulted(format!("{} peer-as", p.path), format!("{} (the firewall's own)", at.asn), "an ibgp peer group's peer is in the local AS");
            at.asn
        }
        None => {
            out.errors.push(error(p.line, &p.path, format!("BGP peer `{}` has no peer AS", p.name), "`peer-as 65515` (BGP > Peer Group > Peer > Peer AS)"));
            return None;
        }
    };
    let ebgp = remote_asn != at.asn;
    if ebgp != (at.kind == PeerGroupType::Ebgp) {
        out.notes.push(format!(
            "BGP peer {} is in an {} peer group but {} the firewall's AS: the lab runs it as {}",
            p.name,
            at.kind.keyword(),
            if ebgp { "not in" } else { "in" },
            if ebgp { "eBGP" } else { "iBGP" }
        ));
    }
    let (update_source, placed) = local_address(config, place, resolver, out, p);
    let ebgp_multihop = multihop(out.report, p, ebgp);
    let keepalive =
        option_or(out.report, &p.keepalive, &p.path, "connection-options keep-alive-interval", defaults::BGP_KEEPALIVE, u64::from(defaults::BGP_KEEPALIVE_S));
    let hold = option_or(out.report, &p.hold, &p.path, "connection-options hold-time", defaults::BGP_HOLD, u64::from(defaults::BGP_HOLD_S));
    // The ranges read.rs checked (0-1200, 3-3600) fit.
    let timers = Timers { keepalive_s: u16::try_from(keepalive).unwrap_or(u16::MAX), hold_s: u16::try_from(hold).unwrap_or(u16::MAX) };
    let passive = !opens_session(out, p);
    let max_prefix = max_prefixes(out, p)?;
    if let Some(a) = &p.authentication {
        out.report.ignored(&a.path, a.line, format!("MD5 authentication (auth profile {}): the lab's sessions run without it", a.value));
        out.notes.push(format!("BGP peer {} authenticates with MD5; the lab's session runs without it", p.name));
    }
    let mut parts = vec![format!("neighbor {address} remote-as {remote_asn}")];
    if let Some(s) = update_source {
        parts.push(format!("update-source {s}"));
    }
    if let Some(t) = ebgp_multihop {
        parts.push(format!("ebgp-multihop {t}"));
    }
    parts.push(format!("timers {} {}", timers.keepalive_s, timers.hold_s));
    if passive {
        parts.push("passive".into());
    }
    if let Some(m) = max_prefix {
        parts.push(format!("maximum-prefix {m}"));
    }
    for (policy, dir) in [(&policies.import, "import"), (&policies.export, "export")] {
        parts.push(match policy {
            Policy::None => format!("no {dir} rule: everything passes"),
            Policy::Filter { rules, .. } => format!("{dir}: {} prefix rule(s)", rules.len()),
        });
    }
    out.report.used(&p.path, p.line, format!("peer {} of group {}: {}", p.name, at.group, parts.join(", ")));
    let n = Neighbor {
        address,
        remote_asn,
        passive,
        update_source,
        ebgp_multihop,
        timers: Some(timers),
        max_prefix,
        max_prefix_restart_min: None,
        import: policies.import,
        export: policies.export,
    };
    Some((n, placed))
}

/// The session's source address and where the node must hold it: on the lab's tunnel (the
/// tunnel interface's address, e.g. APIPA 169.254.21.2/30), on the loopback (a loopback
/// unit's, as a /32), or already on a lab interface.
fn local_address(config: &PanosConfig, place: &Place, resolver: &mut Resolver, out: &mut Out, p: &BgpPeer) -> (Option<Ipv4Addr>, Option<(AddressOn, Ipv4Net)>) {
    let interface = p.local_interface.as_ref();
    if let Some(i) = interface {
        out.report.used(&i.path, i.line, i.value.clone());
    }
    let net = match (&p.local_ip, interface) {
        (Some(ip), _) => match resolver.one(&ip.value) {
            Ok(net) => Some((net, ip.path.clone(), ip.line)),
            Err(problem) => {
                out.errors.push(error(
                    ip.line,
                    &ip.path,
                    format!("BGP peer `{}`: {problem}", p.name),
                    "an address of the interface, e.g. `ip 169.254.21.2/30`",
                ));
                return (None, None);
            }
        },
        // The interface's own (first) address.
        (None, Some(i)) => config
            .interface(&i.value)
            .and_then(|x| x.addresses.first())
            .and_then(|a| resolver.one(&a.value).ok())
            .map(|net| (net, format!("{} local-address ip", p.path), None)),
        (None, None) => None,
    };
    let Some((net, path, line)) = net else {
        out.report.defaulted(
            format!("{} local-address", p.path),
            "none: the address of the interface that routes to the peer",
            "help, BGP Peer Group Tab > Addressing: Local Address—Interface and IP name no default (unconfirmed)",
        );
        return (None, None);
    };
    let addr = net.addr();
    // The interface that holds it: the one named, else the one the configuration gives it to.
    let holder = interface.map(|i| i.value.clone()).or_else(|| {
        config.interfaces.iter().find(|x| x.addresses.iter().any(|a| literal_net(&a.value).is_some_and(|n| n.addr() == addr))).map(|x| x.name.clone())
    });
    let kind = holder.as_deref().and_then(|h| config.interface(h)).map(|x| x.kind);
    let on_lab = place.source.interfaces.iter().find(|(_, a)| a.addr() == addr).map(|(name, _)| name.clone());
    let (what, placed) = if holder.as_deref() == Some(place.tunnel_interface) {
        (format!("{addr} on {}: the session's source, put on the lab's tunnel as {net}", place.tunnel_interface), Some((AddressOn::Tunnel, net)))
    } else if kind == Some(InterfaceKind::Loopback) {
        let host = Ipv4Net::from(addr);
        (format!("{addr} on {}: the session's source, put on the node's loopback as {host}", holder.unwrap_or_default()), Some((AddressOn::Loopback, host)))
    } else if let Some(name) = on_lab {
        (format!("{addr}: the session's source, the lab interface {name}"), None)
    } else {
        out.report.ignored(path, line, format!("{addr}: no interface of this node in the lab has that address, so the session's source is left to the route"));
        out.notes.push(format!("BGP peer {}'s source {addr} is on no lab interface: FRR picks the source address", p.name));
        return (None, None);
    };
    out.report.used(path, line, what);
    (Some(addr), placed)
}

/// `multihop`: 0 (the default) is a TTL of 1 for eBGP; FRR's `ebgp-multihop` from 2 on.
fn multihop(report: &mut ImportReport, p: &BgpPeer, ebgp: bool) -> Option<u8> {
    let Some(m) = &p.multihop else {
        report.defaulted(format!("{} connection-options multihop", p.path), defaults::BGP_MULTIHOP.value, defaults::BGP_MULTIHOP.source);
        return None;
    };
    match (m.value, ebgp) {
        (_, false) => {
            report.used(&m.path, m.line, format!("{}: an iBGP session (FRR's TTL 255 either way)", m.value));
            None
        }
        (0 | 1, true) => {
            report.used(&m.path, m.line, format!("{}: a TTL of 1, the peer must be on a connected network", m.value));
            None
        }
        (n, true) => {
            report.used(&m.path, m.line, format!("{n}: ebgp-multihop {n}"));
            Some(u8::try_from(n).unwrap_or(u8::MAX))
        }
    }
}

/// A number of the connection options, or its default.
fn option_or(report: &mut ImportReport, value: &Option<At<u64>>, path: &str, keyword: &str, default: Fact, fallback: u64) -> u64 {
    match value {
        Some(v) => {
            report.used(&v.path, v.line, format!("{} s", v.value));
            v.value
        }
        None => {
            report.defaulted(format!("{path} {keyword}"), format!("{} s", default.value), default.source);
            fallback
        }
    }
}

/// Incoming and outgoing connections: whether the firewall opens the session (not passive).
fn opens_session(out: &mut Out, p: &BgpPeer) -> bool {
    let allow = |out: &mut Out, value: &Option<At<bool>>, keyword: &str| -> bool {
        match value {
            Some(v) => v.value,
            None => defaulted_yes(out.report, format!("{} connection-options {keyword} allow", p.path), defaults::BGP_CONNECTION_ALLOW),
        }
    };
    let incoming = allow(out, &p.incoming_allow, "incoming-bgp-connection");
    let outgoing = allow(out, &p.outgoing_allow, "outgoing-bgp-connection");
    if let Some(v) = &p.outgoing_allow {
        out.report.used(
            &v.path,
            v.line,
            if v.value { "yes: the firewall opens the session" } else { "no: the firewall never opens the session, it waits for the peer (passive)" },
        );
    }
    if let Some(v) = &p.incoming_allow {
        if v.value {
            out.report.used(&v.path, v.line, "yes: the peer may open the session");
        } else {
            out.report.ignored(&v.path, v.line, "no: FRR cannot refuse a peer's connection; the lab accepts it (not modelled)");
            out.notes.push(format!("BGP peer {} refuses incoming connections on PAN-OS; the lab's speaker accepts them", p.name));
        }
    }
    if !incoming && !outgoing {
        out.notes
            .push(format!("BGP peer {} allows neither incoming nor outgoing connections: PAN-OS never establishes it; the lab waits for the peer", p.name));
    }
    for (port, what) in [(&p.incoming_remote_port, "the peer's source port"), (&p.outgoing_local_port, "the firewall's source port")] {
        match port {
            Some(v) if v.value == 0 => out.report.used(&v.path, v.line, "0: any port"),
            Some(v) => out.report.ignored(&v.path, v.line, format!("{}: FRR cannot restrict {what}; any is used", v.value)),
            None => {}
        }
    }
    outgoing
}

/// `max-prefixes`: a number, or `unlimited`. `None` when the value is broken (an error).
fn max_prefixes(out: &mut Out, p: &BgpPeer) -> Option<Option<u32>> {
    let Some(m) = &p.max_prefixes else {
        out.report.defaulted(format!("{} max-prefixes", p.path), defaults::BGP_MAX_PREFIXES.value, defaults::BGP_MAX_PREFIXES.source);
        return Some(Some(defaults::BGP_MAX_PREFIXES_N));
    };
    if m.value == "unlimited" {
        out.report.used(&m.path, m.line, "unlimited");
        return Some(None);
    }
    match m.value.parse::<u32>() {
        Ok(n) if (1..=100_000).contains(&n) => {
            out.report.used(&m.path, m.line, format!("{n}: the session drops when the peer sends more (FRR maximum-prefix; PAN-OS's action is unconfirmed)"));
            Some(Some(n))
        }
        _ => {
            out.errors.push(error(m.line, &m.path, format!("`{}` is not a prefix limit PAN-OS accepts", m.value), "1 to 100000, or unlimited"));
            None
        }
    }
}

/// A route of the virtual router's table that a redistribution profile may take.
struct Candidate {
    prefix: Ipv4Net,
    /// `connect` or `static`, as a profile's `filter type` names them.
    kind: &'static str,
    interface: Option<String>,
    nexthop: Option<Ipv4Addr>,
    /// What it is, for the report.
    what: String,
}

/// The prefixes BGP originates: redistribution rules naming a prefix, or a redistribution
/// profile matched against the virtual router's connected networks and static routes.
fn networks(config: &PanosConfig, vr: &VirtualRouter, bgp: &Bgp, allow_default: bool, resolver: &mut Resolver, out: &mut Out) -> Vec<Ipv4Net> {
    let mut networks: Vec<Ipv4Net> = Vec::new();
    let mut profiles: Vec<&RedistProfile> = Vec::new();
    for r in &bgp.redist_rules {
        if !entry_enabled(out.report, &r.enable, &r.path) {
            out.report.ignored(&r.path, r.line, "a disabled redistribution rule");
            continue;
        }
        match &r.family {
            Some(f) if f.value != "ipv4" => {
                out.report.ignored(&r.path, r.line, format!("address family {}: the lab runs IPv4", f.value));
                continue;
            }
            Some(f) => out.report.used(&f.path, f.line, "ipv4"),
            None => {}
        }
        match &r.route_table {
            Some(t) if t.value == "multicast" => {
                out.report.ignored(&r.path, r.line, "into the multicast table: the lab's speaker has unicast only");
                continue;
            }
            Some(t) => out.report.used(&t.path, t.line, format!("{}: the unicast table", t.value)),
            None => {}
        }
        if let Some(net) = literal_net(&r.name) {
            out.report.used(
                &r.path,
                r.line,
                format!("originates {}: a network statement (unconfirmed: PAN-OS may advertise it only while its table holds a route to it)", net.trunc()),
            );
            push(&mut networks, net.trunc());
            continue;
        }
        match vr.redist_profiles.iter().find(|p| p.name == r.name) {
            Some(p) => {
                out.report.used(&r.path, r.line, format!("redistributes through profile {}", p.name));
                if !profiles.iter().any(|x| x.name == p.name) {
                    profiles.push(p);
                }
            }
            None => out.report.ignored(&r.path, r.line, "names neither a prefix nor a redistribution profile of this virtual router: it redistributes nothing"),
        }
    }
    for p in vr.redist_profiles.iter().filter(|p| !profiles.iter().any(|x| x.name == p.name)) {
        out.report.ignored(&p.path, p.line, "no redistribution rule of BGP names this profile");
    }
    if profiles.is_empty() {
        if networks.is_empty() {
            out.notes.push("BGP redistributes nothing: the firewall originates no prefix (add redistribution rules)".into());
        }
        return networks;
    }
    for p in &profiles {
        if !p.problems.is_empty() {
            out.errors.extend(p.problems.iter().cloned());
        }
    }
    // Profiles are matched in priority order, the lowest number first (unconfirmed); one
    // without a priority last.
    profiles.sort_by_key(|p| p.priority.as_ref().map(|x| x.value).unwrap_or(u64::MAX));
    let candidates = candidates(config, vr, resolver);
    let mut taken: Vec<Vec<String>> = vec![Vec::new(); profiles.len()];
    for c in &candidates {
        let Some(i) = profiles.iter().position(|p| matches(p, c, resolver)) else { continue };
        let redist = profiles[i].redist.as_ref().is_none_or(|r| r.value);
        if !redist {
            taken[i].push(format!("withholds {}", c.what));
            continue;
        }
        if c.prefix.prefix_len() == 0 && !allow_default {
            taken[i].push(format!("withholds {} (allow-redist-default-route no)", c.what));
            continue;
        }
        taken[i].push(c.what.clone());
        push(&mut networks, c.prefix);
    }
    for (p, taken) in profiles.iter().zip(taken) {
        if let Some(f) = &p.protocol_filter {
            out.report.ignored(&f.path, f.line, format!("{} attributes: the lab's virtual router has connected and static routes only", f.value));
        }
        if p.redist.is_none() {
            out.report.defaulted(format!("{} action", p.path), "redist", "assumed: no schema default (pan-os-codegen [P3]; unconfirmed)");
        }
        let what = if taken.is_empty() { "matches no connected network or static route of the virtual router".to_string() } else { taken.join("; ") };
        out.report.used(&p.path, p.line, format!("redistribution profile {}: {what}", p.name));
    }
    networks
}

/// The virtual router's connected networks and static routes.
fn candidates(config: &PanosConfig, vr: &VirtualRouter, resolver: &mut Resolver) -> Vec<Candidate> {
    let mut out = Vec::new();
    for i in &vr.interfaces {
        let Some(iface) = config.interface(&i.value) else { continue };
        for a in &iface.addresses {
            if let Ok(net) = resolver.one(&a.value) {
                out.push(Candidate {
                    prefix: net.trunc(),
                    kind: "connect",
                    interface: Some(iface.name.clone()),
                    nexthop: None,
                    what: format!("{} (connected, {})", net.trunc(), iface.name),
                });
            }
        }
    }
    for r in &vr.routes {
        let Some(d) = &r.destination else { continue };
        let Ok(net) = resolver.one(&d.value) else { continue };
        let nexthop = match r.nexthop.as_ref().map(|n| &n.value) {
            Some(NextHop::Ip(text)) => text.parse::<Ipv4Addr>().ok(),
            _ => None,
        };
        out.push(Candidate {
            prefix: net.trunc(),
            kind: "static",
            interface: r.interface.as_ref().map(|i| i.value.clone()),
            nexthop,
            what: format!("{} (static route {})", net.trunc(), r.name),
        });
    }
    out
}

/// Whether a profile's filter takes a route: every list it has must hold the route's value (an
/// empty list takes any); a destination or next hop matches when it lies inside a listed one.
fn matches(p: &RedistProfile, c: &Candidate, resolver: &mut Resolver) -> bool {
    let inside =
        |list: &[At<String>], resolver: &mut Resolver, net: Ipv4Net| list.iter().any(|d| resolver.one(&d.value).is_ok_and(|x| x.trunc().contains(&net)));
    (p.types.is_empty() || p.types.iter().any(|t| t.value == c.kind))
        && (p.interfaces.is_empty() || c.interface.as_ref().is_some_and(|i| p.interfaces.iter().any(|x| x.value == *i)))
        && (p.destinations.is_empty() || inside(&p.destinations, resolver, c.prefix))
        && (p.nexthops.is_empty() || c.nexthop.is_some_and(|n| inside(&p.nexthops, resolver, Ipv4Net::from(n))))
}

fn push(list: &mut Vec<Ipv4Net>, net: Ipv4Net) {
    if !list.contains(&net) {
        list.push(net);
    }
}

fn list(nets: &[Ipv4Net]) -> String {
    if nets.is_empty() {
        "nothing".into()
    } else {
        nets.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_numbers_as_pan_os_writes_them() {
        assert_eq!(parse_asn("65010"), Some(65010));
        assert_eq!(parse_asn("4200000000"), Some(4_200_000_000));
        // asdot, with routing-options as-format 4-byte.
        assert_eq!(parse_asn("1.10"), Some(65546));
        assert_eq!(parse_asn("0"), None);
        assert_eq!(parse_asn("AS65010"), None);
        assert_eq!(parse_asn("1.70000"), None);
    }

    #[test]
    fn a_rule_a_peer_group_uses_decides_before_everything_else_passes() {
        let rules = vec![
            Rule { used_by: vec!["azure".into()], prefixes: vec![PrefixRule { prefix: "10.10.0.0/16".parse().unwrap(), or_longer: true, permit: false }] },
            Rule { used_by: vec!["other".into()], prefixes: vec![PrefixRule { prefix: "0.0.0.0/0".parse().unwrap(), or_longer: true, permit: false }] },
        ];
        let policy = applying(&rules, "azure", "azure-vpngw", None);
        assert!(!policy.passes("10.10.1.0/24".parse().unwrap()));
        assert!(policy.passes("192.168.0.0/24".parse().unwrap()), "a prefix no rule matches passes");
        assert_eq!(applying(&rules, "nobody", "nobody", None), Policy::None);
        let by_peer = applying(&rules, "group", "other", Some(default_route()));
        assert!(!by_peer.passes("0.0.0.0/0".parse().unwrap()) && !by_peer.passes("10.1.0.0/16".parse().unwrap()));
    }
}
