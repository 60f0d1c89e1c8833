//! Reads the typed model (`config.rs`) from the configuration tree, whichever format it came
//! from. Values are checked against PAN-OS's own vocabulary and ranges (pan-os-ipsec.md
//! §2–§4); a problem is kept with the object it belongs to, for the device to raise only when
//! it uses the object.

use std::net::Ipv4Addr;
use std::ops::RangeInclusive;

use super::config::*;
use super::names::{self, Profile};
use super::tree::{Element, Leaf};
use crate::device::DeviceError;
use crate::ike::proposal::Encryption;

/// Collects the problems of one object.
#[derive(Default)]
struct Check {
    problems: Vec<DeviceError>,
}

impl Check {
    fn problem(&mut self, leaf: &Leaf, message: String, hint: String) {
        self.problems.push(DeviceError { line: leaf.line, element: leaf.path.clone(), message, hint: Some(hint) });
    }

    fn text(&mut self, e: &Element, tags: &[&str]) -> Option<At<String>> {
        e.leaf_at(tags).map(|l| At::of(&l, l.text.clone()))
    }

    fn yes_no(&mut self, e: &Element, tags: &[&str]) -> Option<At<bool>> {
        let l = e.leaf_at(tags)?;
        match l.text.as_str() {
            "yes" => Some(At::of(&l, true)),
            "no" => Some(At::of(&l, false)),
            other => {
                self.problem(&l, format!("`{other}` is not yes or no"), "yes or no".into());
                None
            }
        }
    }

    fn number(&mut self, e: &Element, tags: &[&str], range: RangeInclusive<u64>, unit: &str) -> Option<At<u64>> {
        let l = e.leaf_at(tags)?;
        match l.text.parse::<u64>() {
            Ok(n) if range.contains(&n) => Some(At::of(&l, n)),
            _ => {
                self.problem(&l, format!("`{}` is not a number of {unit} PAN-OS accepts", l.text), format!("{} to {} {unit}", range.start(), range.end()));
                None
            }
        }
    }

    fn choice<T: Copy>(&mut self, e: &Element, tags: &[&str], table: &[(&str, T)], what: &str) -> Option<At<T>> {
        let l = e.leaf_at(tags)?;
        match table.iter().find(|(k, _)| *k == l.text) {
            Some((_, v)) => Some(At::of(&l, *v)),
            None => {
                let valid: Vec<&str> = table.iter().map(|(k, _)| *k).collect();
                self.problem(&l, format!("`{}` is not {what}", l.text), valid.join(", "));
                None
            }
        }
    }

    /// A lifetime in one of its units, in seconds (pan-os-ipsec.md §2.1).
    fn lifetime(&mut self, e: &Element) -> Option<At<u64>> {
        let l = e.child("lifetime")?;
        let units: [(&str, RangeInclusive<u64>, u64); 4] =
            [("seconds", 180..=65535, 1), ("minutes", 3..=65535, 60), ("hours", 1..=65535, 3600), ("days", 1..=365, 86400)];
        for (unit, range, factor) in units {
            if l.child(unit).is_some() {
                return self.number(l, &[unit], range, unit).map(|n| At { value: n.value * factor, ..n });
            }
        }
        l.mark();
        self.problems.push(DeviceError {
            line: l.line,
            element: l.path.clone(),
            message: "a lifetime without a value".into(),
            hint: Some("seconds (180-65535), minutes (3-65535), hours (1-65535) or days (1-365)".into()),
        });
        None
    }
}

/// Reads the model from a configuration tree.
pub fn read(root: &Element) -> PanosConfig {
    let mut config = PanosConfig::default();
    let ike = root.at(&["network", "ike"]);
    if let Some(profiles) = ike.and_then(|i| i.at(&["crypto-profiles", "ike-crypto-profiles"])) {
        config.ike_profiles = profiles.entries().map(ike_profile).collect();
    }
    if let Some(profiles) = ike.and_then(|i| i.at(&["crypto-profiles", "ipsec-crypto-profiles"])) {
        config.ipsec_profiles = profiles.entries().map(ipsec_profile).collect();
    }
    if let Some(gateways) = ike.and_then(|i| i.child("gateway")) {
        config.gateways = gateways.entries().map(gateway).collect();
    }
    config.tunnels = root.entries_at(&["network", "tunnel", "ipsec"]).into_iter().map(tunnel).collect();
    config.interfaces = interfaces(root);
    config.zones = root.entries_at(&["zone"]).into_iter().map(zone).collect();
    config.virtual_routers = root.entries_at(&["network", "virtual-router"]).into_iter().map(virtual_router).collect();
    for (place, base) in [
        (&["shared", "pre-rulebase"][..], Rulebase::SharedPre),
        (&["pre-rulebase"][..], Rulebase::Pre),
        (&["rulebase"][..], Rulebase::Local),
        (&["post-rulebase"][..], Rulebase::Post),
        (&["shared", "post-rulebase"][..], Rulebase::SharedPost),
    ] {
        if let Some(rules) = root.at(place).and_then(|r| r.at(&["security", "rules"])) {
            config.rules.extend(rules.entries().map(|r| rule(r, base)));
        }
    }
    if let Some(defaults) = root.at(&["rulebase", "default-security-rules", "rules"]) {
        let mut check = Check::default();
        for entry in defaults.entries() {
            entry.mark();
            let action = check.choice(entry, &["action"], RULE_ACTIONS, "a rule action");
            match entry.entry_name() {
                "intrazone-default" => config.intrazone_default = action,
                "interzone-default" => config.interzone_default = action,
                _ => {}
            }
        }
        config.problems.extend(check.problems);
    }
    for (place, shared) in [(&[][..], false), (&["shared"][..], true)] {
        let base = if shared { root.at(place) } else { Some(root) };
        let Some(base) = base else { continue };
        config.addresses.extend(base.entries_at(&["address"]).into_iter().map(address));
        config.address_groups.extend(base.entries_at(&["address-group"]).into_iter().map(address_group));
    }
    config.monitor_profiles = root.entries_at(&["network", "profiles", "monitor-profile"]).into_iter().map(monitor_profile).collect();
    config
}

fn ike_profile(e: &Element) -> IkeCryptoProfile {
    // The object itself is accounted for by the device; what in it is not read is reported.
    e.mark();
    let mut check = Check::default();
    let encryption = e
        .members("encryption")
        .into_iter()
        .filter_map(|l| match names::encryption(&l.text).filter(|x| *x != Encryption::Null) {
            Some(x) => Some(At::of(&l, x)),
            None => {
                check.problem(&l, format!("`{}` is not an IKE encryption of PAN-OS", l.text), names::encryption_names(Profile::Ike));
                None
            }
        })
        .collect();
    let hash = e
        .members("hash")
        .into_iter()
        .filter_map(|l| match names::integrity(&l.text, Profile::Ike) {
            Some(x) => Some(At::of(&l, x)),
            None => {
                check.problem(&l, format!("`{}` is not an IKE hash of PAN-OS", l.text), names::integrity_names(Profile::Ike));
                None
            }
        })
        .collect();
    let dh_groups = e
        .members("dh-group")
        .into_iter()
        .filter_map(|l| match names::group(&l.text) {
            Some(g) => Some(At::of(&l, g)),
            None => {
                check.problem(&l, format!("`{}` is not a DH group of PAN-OS", l.text), names::group_names());
                None
            }
        })
        .collect();
    let lifetime = check.lifetime(e);
    let authentication_multiple = check.number(e, &["authentication-multiple"], 0..=50, "lifetimes");
    IkeCryptoProfile {
        name: e.entry_name().to_string(),
        line: e.line,
        path: e.path.clone(),
        encryption,
        hash,
        dh_groups,
        lifetime,
        authentication_multiple,
        problems: check.problems,
    }
}

fn ipsec_profile(e: &Element) -> IpsecCryptoProfile {
    e.mark();
    let mut check = Check::default();
    let esp = e.child("esp");
    let members = |tag: &str| esp.map(|x| x.members(tag)).unwrap_or_default();
    let encryption = members("encryption")
        .into_iter()
        .filter_map(|l| match names::encryption(&l.text) {
            Some(x) => Some(At::of(&l, x)),
            None => {
                check.problem(&l, format!("`{}` is not an ESP encryption of PAN-OS", l.text), names::encryption_names(Profile::Ipsec));
                None
            }
        })
        .collect();
    let authentication = members("authentication")
        .into_iter()
        .filter_map(|l| match names::integrity(&l.text, Profile::Ipsec) {
            Some(x) => Some(At::of(&l, x)),
            None => {
                check.problem(&l, format!("`{}` is not an ESP authentication of PAN-OS", l.text), names::integrity_names(Profile::Ipsec));
                None
            }
        })
        .collect();
    let ah = e.child("ah").map(|a| {
        a.mark_all();
        At { value: (), line: a.line, path: a.path.clone() }
    });
    let dh_group = e.leaf("dh-group").and_then(|l| {
        if l.text == "no-pfs" {
            return Some(At::of(&l, None));
        }
        match names::group(&l.text) {
            Some(g) => Some(At::of(&l, Some(g))),
            None => {
                check.problem(&l, format!("`{}` is not an IPsec DH group of PAN-OS", l.text), format!("no-pfs, {}", names::group_names()));
                None
            }
        }
    });
    let lifetime = check.lifetime(e);
    let lifesize_kb = e.child("lifesize").and_then(|s| {
        let units: [(&str, u64); 4] = [("kb", 1), ("mb", 1 << 10), ("gb", 1 << 20), ("tb", 1 << 30)];
        units
            .into_iter()
            .find(|(u, _)| s.child(u).is_some())
            .and_then(|(u, factor)| check.number(s, &[u], 1..=65535, u).map(|n| At { value: n.value * factor, ..n }))
    });
    IpsecCryptoProfile {
        name: e.entry_name().to_string(),
        line: e.line,
        path: e.path.clone(),
        encryption,
        authentication,
        ah,
        dh_group,
        lifetime,
        lifesize_kb,
        problems: check.problems,
    }
}

fn dpd(check: &mut Check, e: Option<&Element>) -> Dpd {
    let Some(e) = e else { return Dpd::default() };
    Dpd {
        enable: check.yes_no(e, &["enable"]),
        interval: check.number(e, &["interval"], 2..=100, "seconds"),
        retry: check.number(e, &["retry"], 2..=100, "retries"),
    }
}

const ID_TYPES: &[(&str, IdType)] =
    &[("ipaddr", IdType::Ipaddr), ("fqdn", IdType::Fqdn), ("ufqdn", IdType::Ufqdn), ("keyid", IdType::Keyid), ("dn", IdType::Dn)];

fn identity(check: &mut Check, e: Option<&Element>) -> Option<Identity> {
    let e = e?;
    let kind = check.choice(e, &["type"], ID_TYPES, "an identity type of PAN-OS");
    let id = check.text(e, &["id"]);
    let matching = check.text(e, &["matching"]);
    match (kind, id) {
        (Some(kind), Some(id)) => Some(Identity { kind, id, matching }),
        (None, Some(id)) => {
            check.problems.push(DeviceError {
                line: id.line,
                element: e.path.clone(),
                message: "an identity without its type".into(),
                hint: Some("type ipaddr, fqdn, ufqdn, keyid or dn, e.g. `type ipaddr id 203.0.113.10`".into()),
            });
            None
        }
        (Some(kind), None) => {
            check.problems.push(DeviceError {
                line: kind.line,
                element: e.path.clone(),
                message: "an identity type without its id".into(),
                hint: Some("e.g. `type ipaddr id 203.0.113.10`".into()),
            });
            None
        }
        (None, None) => None,
    }
}

fn gateway(e: &Element) -> IkeGateway {
    e.mark();
    let mut check = Check::default();
    let versions = [("ikev1", VersionSetting::Ikev1), ("ikev2", VersionSetting::Ikev2), ("ikev2-preferred", VersionSetting::Ikev2Preferred)];
    let version = check.choice(e, &["protocol", "version"], &versions, "an IKE version of PAN-OS");
    let v1 = e.at(&["protocol", "ikev1"]);
    let v2 = e.at(&["protocol", "ikev2"]);
    let psk = e.leaf_at(&["authentication", "pre-shared-key", "key"]).map(|l| At::of(&l, Psk(l.text.clone())));
    let certificate = e.at(&["authentication", "certificate"]).map(|c| {
        c.mark_all();
        At { value: (), line: c.line, path: c.path.clone() }
    });
    let peer = e.child("peer-address").and_then(|p| {
        if let Some(l) = p.leaf("ip") {
            return Some(At::of(&l, PeerAddress::Ip(l.text.clone())));
        }
        if let Some(l) = p.leaf("fqdn") {
            return Some(At::of(&l, PeerAddress::Fqdn(l.text.clone())));
        }
        p.flag("dynamic").map(|line| At { value: PeerAddress::Dynamic, line, path: format!("{} dynamic", p.path) })
    });
    IkeGateway {
        name: e.entry_name().to_string(),
        line: e.line,
        path: e.path.clone(),
        version,
        ikev1_profile: v1.and_then(|x| check.text(x, &["ike-crypto-profile"])),
        exchange_mode: v1.and_then(|x| check.text(x, &["exchange-mode"])),
        ikev1_dpd: dpd(&mut check, v1.and_then(|x| x.child("dpd"))),
        ikev2_profile: v2.and_then(|x| check.text(x, &["ike-crypto-profile"])),
        liveness: dpd(&mut check, v2.and_then(|x| x.child("dpd"))),
        psk,
        certificate,
        local_interface: check.text(e, &["local-address", "interface"]),
        local_ip: check.text(e, &["local-address", "ip"]),
        peer,
        local_id: identity(&mut check, e.child("local-id")),
        peer_id: identity(&mut check, e.child("peer-id")),
        nat_traversal: check.yes_no(e, &["protocol-common", "nat-traversal", "enable"]),
        passive: check.yes_no(e, &["protocol-common", "passive-mode"]),
        disabled: check.yes_no(e, &["disabled"]),
        problems: check.problems,
    }
}

fn port(check: &mut Check, e: &Element, tag: &str) -> u16 {
    check.number(e, &[tag], 0..=65535, "port").and_then(|n| u16::try_from(n.value).ok()).unwrap_or(0)
}

fn proxy_id(check: &mut Check, e: &Element) -> ProxyId {
    e.mark();
    let protocol = e.child("protocol").and_then(|p| {
        if let Some(line) = p.flag("any") {
            return Some(At { value: ProxyProtocol::Any, line, path: p.path.clone() });
        }
        if p.child("number").is_some() {
            return check.number(p, &["number"], 1..=254, "protocol number").map(|n| At {
                value: ProxyProtocol::Number(n.value as u8),
                line: n.line,
                path: n.path,
            });
        }
        for tcp in [true, false] {
            let tag = if tcp { "tcp" } else { "udp" };
            if let Some(x) = p.child(tag) {
                let (local_port, remote_port) = (port(check, x, "local-port"), port(check, x, "remote-port"));
                let value = if tcp { ProxyProtocol::Tcp { local_port, remote_port } } else { ProxyProtocol::Udp { local_port, remote_port } };
                x.mark();
                return Some(At { value, line: x.line, path: x.path.clone() });
            }
        }
        None
    });
    ProxyId {
        name: e.entry_name().to_string(),
        line: e.line,
        path: e.path.clone(),
        local: check.text(e, &["local"]),
        remote: check.text(e, &["remote"]),
        protocol,
    }
}

fn tunnel(e: &Element) -> IpsecTunnel {
    e.mark();
    let mut check = Check::default();
    let auto_key = e.child("auto-key");
    let gateways = auto_key.map(|a| a.members("ike-gateway").into_iter().map(|l| At::of(&l, l.text.clone())).collect()).unwrap_or_default();
    let proxy_ids = auto_key.map(|a| a.entries_at(&["proxy-id"]).into_iter().map(|p| proxy_id(&mut check, p)).collect()).unwrap_or_default();
    let proxy_ids_v6 = auto_key
        .map(|a| {
            a.entries_at(&["proxy-id-v6"])
                .into_iter()
                .map(|p| {
                    p.mark_all();
                    At { value: p.entry_name().to_string(), line: p.line, path: p.path.clone() }
                })
                .collect()
        })
        .unwrap_or_default();
    let other_type = ["manual-key", "global-protect-satellite"].into_iter().find_map(|t| {
        e.child(t).map(|x| {
            x.mark_all();
            At { value: t.to_string(), line: x.line, path: x.path.clone() }
        })
    });
    let monitor = e.child("tunnel-monitor").map(|m| {
        let destination = m.leaf("destination-ip").and_then(|l| match l.text.parse::<Ipv4Addr>() {
            Ok(a) => Some(At::of(&l, a)),
            Err(_) => {
                check.problem(&l, format!("`{}` is not an IPv4 address", l.text), "the address the firewall pings through the tunnel, e.g. 10.20.0.4".into());
                None
            }
        });
        TunnelMonitor {
            line: m.line,
            path: m.path.clone(),
            enable: check.yes_no(m, &["enable"]),
            destination,
            profile: check.text(m, &["tunnel-monitor-profile"]),
        }
    });
    IpsecTunnel {
        name: e.entry_name().to_string(),
        line: e.line,
        path: e.path.clone(),
        interface: check.text(e, &["tunnel-interface"]),
        gateways,
        ipsec_profile: auto_key.and_then(|a| check.text(a, &["ipsec-crypto-profile"])),
        proxy_ids,
        proxy_ids_v6,
        other_type,
        monitor,
        disabled: check.yes_no(e, &["disabled"]),
        problems: check.problems,
    }
}

fn addresses_of(e: &Element) -> Vec<At<String>> {
    e.members("ip").into_iter().map(|l| At::of(&l, l.text.clone())).collect()
}

fn interfaces(root: &Element) -> Vec<Interface> {
    let mut out = Vec::new();
    let unit = |u: &Element, kind: InterfaceKind| {
        u.mark();
        let dhcp = u.child("dhcp-client").is_some_and(|d| d.leaf("enable").is_none_or(|l| l.text == "yes"));
        Interface { name: u.entry_name().to_string(), line: u.line, path: u.path.clone(), kind, addresses: addresses_of(u), dhcp }
    };
    for (list, kind) in [("ethernet", InterfaceKind::Ethernet), ("aggregate-ethernet", InterfaceKind::Aggregate)] {
        for e in root.entries_at(&["network", "interface", list]) {
            e.mark();
            let Some(l3) = e.child("layer3") else {
                // Not a layer-3 interface: reported as not read.
                continue;
            };
            l3.mark();
            out.push(unit(l3, kind));
            if let Some(last) = out.last_mut() {
                last.name = e.entry_name().to_string();
                last.line = e.line;
                last.path.clone_from(&e.path);
            }
            for u in l3.entries_at(&["units"]) {
                out.push(unit(u, InterfaceKind::Subinterface));
            }
        }
    }
    for (list, kind) in [("tunnel", InterfaceKind::Tunnel), ("loopback", InterfaceKind::Loopback), ("vlan", InterfaceKind::Vlan)] {
        for u in root.entries_at(&["network", "interface", list, "units"]) {
            out.push(unit(u, kind));
        }
    }
    out
}

fn zone(e: &Element) -> Zone {
    e.mark();
    let network = e.child("network");
    let layer3 = network.map(|n| n.members("layer3").into_iter().map(|l| At::of(&l, l.text.clone())).collect()).unwrap_or_default();
    let other_type = network.and_then(|n| {
        ["layer2", "virtual-wire", "tap", "external", "tunnel"].into_iter().find_map(|t| {
            n.child(t).map(|x| {
                x.mark_all();
                At { value: t.to_string(), line: x.line, path: x.path.clone() }
            })
        })
    });
    Zone { name: e.entry_name().to_string(), line: e.line, path: e.path.clone(), layer3, other_type }
}

fn virtual_router(e: &Element) -> VirtualRouter {
    e.mark();
    let mut check = Check::default();
    let routes = e
        .entries_at(&["routing-table", "ip", "static-route"])
        .into_iter()
        .map(|r| {
            r.mark();
            let nexthop = r.child("nexthop").and_then(|n| {
                for (tag, make) in [("ip-address", NextHop::Ip as fn(String) -> NextHop), ("next-vr", NextHop::NextVr), ("fqdn", NextHop::Fqdn)] {
                    if let Some(l) = n.leaf(tag) {
                        return Some(At::of(&l, make(l.text.clone())));
                    }
                }
                for (tag, value) in [("discard", NextHop::Discard), ("receive", NextHop::Receive)] {
                    if let Some(line) = n.flag(tag) {
                        return Some(At { value, line, path: format!("{} {tag}", n.path) });
                    }
                }
                None
            });
            StaticRoute {
                name: r.entry_name().to_string(),
                line: r.line,
                path: r.path.clone(),
                destination: check.text(r, &["destination"]),
                interface: check.text(r, &["interface"]),
                nexthop,
            }
        })
        .collect();
    let protocol = e.child("protocol");
    if let Some(p) = protocol {
        p.mark();
    }
    VirtualRouter {
        name: e.entry_name().to_string(),
        line: e.line,
        path: e.path.clone(),
        interfaces: e.members("interface").into_iter().map(|l| At::of(&l, l.text.clone())).collect(),
        routes,
        bgp: protocol.and_then(|p| p.child("bgp")).map(bgp),
        redist_profiles: protocol.map(|p| p.entries_at(&["redist-profile"]).into_iter().map(redist_profile).collect()).unwrap_or_default(),
    }
}

const PEER_GROUP_TYPES: &[(&str, PeerGroupType)] =
    &[("ebgp", PeerGroupType::Ebgp), ("ibgp", PeerGroupType::Ibgp), ("ebgp-confed", PeerGroupType::EbgpConfed), ("ibgp-confed", PeerGroupType::IbgpConfed)];

/// `protocol bgp`: what the lab's speaker can run. Settings it cannot run stay unread, and the
/// report says why (`report.rs`).
fn bgp(e: &Element) -> Bgp {
    e.mark();
    let mut check = Check::default();
    let peer_groups = e.entries_at(&["peer-group"]).into_iter().map(|g| peer_group(&mut check, g)).collect();
    let rules =
        |dir: &str, check: &mut Check| -> Vec<PolicyRule> { e.entries_at(&["policy", dir, "rules"]).into_iter().map(|r| policy_rule(check, r)).collect() };
    let import_rules = rules("import", &mut check);
    let export_rules = rules("export", &mut check);
    let redist_rules = e
        .entries_at(&["redist-rules"])
        .into_iter()
        .map(|r| {
            r.mark();
            RedistRule {
                name: r.entry_name().to_string(),
                line: r.line,
                path: r.path.clone(),
                enable: check.yes_no(r, &["enable"]),
                family: check.text(r, &["address-family-identifier"]),
                route_table: check.text(r, &["route-table"]),
            }
        })
        .collect();
    Bgp {
        line: e.line,
        path: e.path.clone(),
        enable: check.yes_no(e, &["enable"]),
        router_id: check.text(e, &["router-id"]),
        local_as: check.text(e, &["local-as"]),
        install_route: check.yes_no(e, &["install-route"]),
        reject_default_route: check.yes_no(e, &["reject-default-route"]),
        allow_redist_default_route: check.yes_no(e, &["allow-redist-default-route"]),
        peer_groups,
        import_rules,
        export_rules,
        redist_rules,
        problems: check.problems,
    }
}

fn peer_group(check: &mut Check, e: &Element) -> PeerGroup {
    e.mark();
    // The type is a choice of one element (`<type><ebgp>...</ebgp></type>`); its options stay
    // unread for the report.
    let kind = e.child("type").and_then(|t| {
        t.mark();
        PEER_GROUP_TYPES.iter().find_map(|(word, kind)| {
            t.child(word).map(|x| {
                x.mark();
                At { value: *kind, line: x.line, path: x.path.clone() }
            })
        })
    });
    PeerGroup {
        name: e.entry_name().to_string(),
        line: e.line,
        path: e.path.clone(),
        enable: check.yes_no(e, &["enable"]),
        kind,
        peers: e.entries_at(&["peer"]).into_iter().map(bgp_peer).collect(),
    }
}

fn bgp_peer(e: &Element) -> BgpPeer {
    e.mark();
    let mut check = Check::default();
    let options = e.child("connection-options");
    let option = |check: &mut Check, tags: &[&str], range: RangeInclusive<u64>, unit: &str| options.and_then(|o| check.number(o, tags, range, unit));
    // Ranges as the web interface help gives them (BGP Peer Group Tab, Connection Options).
    let multihop = option(&mut check, &["multihop"], 0..=255, "hops");
    let keepalive = option(&mut check, &["keep-alive-interval"], 0..=1200, "seconds");
    let hold = option(&mut check, &["hold-time"], 3..=3600, "seconds");
    let incoming_remote_port = option(&mut check, &["incoming-bgp-connection", "remote-port"], 0..=65535, "port");
    let outgoing_local_port = option(&mut check, &["outgoing-bgp-connection", "local-port"], 0..=65535, "port");
    let incoming_allow = options.and_then(|o| check.yes_no(o, &["incoming-bgp-connection", "allow"]));
    let outgoing_allow = options.and_then(|o| check.yes_no(o, &["outgoing-bgp-connection", "allow"]));
    let authentication = options.and_then(|o| check.text(o, &["authentication"]));
    BgpPeer {
        name: e.entry_name().to_string(),
        line: e.line,
        path: e.path.clone(),
        enable: check.yes_no(e, &["enable"]),
        peer_as: check.text(e, &["peer-as"]),
        peer_ip: check.text(e, &["peer-address", "ip"]),
        peer_fqdn: check.text(e, &["peer-address", "fqdn"]),
        local_interface: check.text(e, &["local-address", "interface"]),
        local_ip: check.text(e, &["local-address", "ip"]),
        multihop,
        keepalive,
        hold,
        incoming_allow,
        incoming_remote_port,
        outgoing_allow,
        outgoing_local_port,
        max_prefixes: check.text(e, &["max-prefixes"]),
        authentication,
        problems: check.problems,
    }
}

fn policy_rule(check: &mut Check, e: &Element) -> PolicyRule {
    e.mark();
    let used_by = e.members("used-by").into_iter().map(|l| At::of(&l, l.text.clone())).collect();
    let mut prefixes = Vec::new();
    let mut other_matches = Vec::new();
    if let Some(m) = e.child("match") {
        m.mark();
        for p in m.entries_at(&["address-prefix"]) {
            p.mark();
            prefixes.push(PrefixMatch { prefix: p.entry_name().to_string(), line: p.line, path: p.path.clone(), exact: check.yes_no(p, &["exact"]) });
        }
        if let Some(list) = m.child("address-prefix") {
            list.mark();
        }
        for c in m.children.iter().filter(|c| c.tag != "address-prefix") {
            // `route-table unicast` (or `both`) is what every IPv4 unicast route matches.
            if c.tag == "route-table" && matches!(c.text.as_deref(), Some("unicast" | "both")) {
                c.mark_all();
                continue;
            }
            c.mark_all();
            other_matches.push(At { value: c.tag.clone(), line: c.line, path: c.path.clone() });
        }
    }
    let mut updates = None;
    let allow = e.child("action").and_then(|a| {
        a.mark();
        if let Some(line) = a.flag("deny") {
            return Some(At { value: false, line, path: format!("{} deny", a.path) });
        }
        a.child("allow").map(|x| {
            x.mark();
            if let Some(u) = x.child("update") {
                u.mark_all();
                updates = Some(At { value: (), line: u.line, path: u.path.clone() });
            }
            At { value: true, line: x.line, path: x.path.clone() }
        })
    });
    PolicyRule {
        name: e.entry_name().to_string(),
        line: e.line,
        path: e.path.clone(),
        enable: check.yes_no(e, &["enable"]),
        used_by,
        prefixes,
        other_matches,
        allow,
        updates,
    }
}

fn redist_profile(e: &Element) -> RedistProfile {
    e.mark();
    let mut check = Check::default();
    let filter = e.child("filter");
    if let Some(f) = filter {
        f.mark();
    }
    let list = |tag: &str| filter.map(|f| f.members(tag).into_iter().map(|l| At::of(&l, l.text.clone())).collect()).unwrap_or_default();
    let protocol_filter = filter.and_then(|f| {
        ["ospf", "bgp"].into_iter().find_map(|t| {
            f.child(t).map(|x| {
                x.mark_all();
                At { value: t.to_string(), line: x.line, path: x.path.clone() }
            })
        })
    });
    let redist = e.child("action").and_then(|a| {
        a.mark();
        for (tag, value) in [("redist", true), ("no-redist", false)] {
            if let Some(line) = a.flag(tag) {
                return Some(At { value, line, path: format!("{} {tag}", a.path) });
            }
        }
        None
    });
    RedistProfile {
        name: e.entry_name().to_string(),
        line: e.line,
        path: e.path.clone(),
        priority: check.number(e, &["priority"], 1..=255, "priority"),
        types: list("type"),
        interfaces: list("interface"),
        destinations: list("destination"),
        nexthops: list("nexthop"),
        protocol_filter,
        redist,
        problems: check.problems,
    }
}

fn rule(e: &Element, rulebase: Rulebase) -> SecurityRule {
    e.mark();
    let mut check = Check::default();
    let list = |tag: &str| e.members(tag).into_iter().map(|l| At::of(&l, l.text.clone())).collect::<Vec<_>>();
    let types = [("universal", RuleType::Universal), ("intrazone", RuleType::Intrazone), ("interzone", RuleType::Interzone)];
    SecurityRule {
        name: e.entry_name().to_string(),
        line: e.line,
        path: e.path.clone(),
        rulebase,
        from: list("from"),
        to: list("to"),
        source: list("source"),
        destination: list("destination"),
        application: list("application"),
        service: list("service"),
        action: check.choice(e, &["action"], RULE_ACTIONS, "a rule action of PAN-OS"),
        rule_type: check.choice(e, &["rule-type"], &types, "a rule type of PAN-OS"),
        disabled: check.yes_no(e, &["disabled"]),
        negate_source: check.yes_no(e, &["negate-source"]),
        negate_destination: check.yes_no(e, &["negate-destination"]),
        problems: check.problems,
    }
}

fn address(e: &Element) -> AddressObject {
    e.mark();
    let value = ["ip-netmask", "ip-range", "ip-wildcard", "fqdn"].into_iter().find_map(|tag| {
        e.leaf(tag).map(|l| {
            let text = l.text.clone();
            let value = match tag {
                "ip-netmask" => AddressValue::Netmask(text),
                "ip-range" => AddressValue::Range(text),
                "ip-wildcard" => AddressValue::Wildcard(text),
                _ => AddressValue::Fqdn(text),
            };
            At::of(&l, value)
        })
    });
    AddressObject { name: e.entry_name().to_string(), line: e.line, path: e.path.clone(), value }
}

fn address_group(e: &Element) -> AddressGroup {
    e.mark();
    let dynamic = e.child("dynamic").map(|d| {
        d.mark_all();
        At { value: d.leaf("filter").map(|l| l.text).unwrap_or_default(), line: d.line, path: d.path.clone() }
    });
    AddressGroup {
        name: e.entry_name().to_string(),
        line: e.line,
        path: e.path.clone(),
        members: e.members("static").into_iter().map(|l| At::of(&l, l.text.clone())).collect(),
        dynamic,
    }
}

fn monitor_profile(e: &Element) -> MonitorProfile {
    e.mark();
    let mut check = Check::default();
    let actions = [("wait-recover", MonitorAction::WaitRecover), ("fail-over", MonitorAction::FailOver)];
    MonitorProfile {
        name: e.entry_name().to_string(),
        line: e.line,
        path: e.path.clone(),
        interval: check.number(e, &["interval"], 2..=10, "seconds"),
        threshold: check.number(e, &["threshold"], 2..=100, "probes"),
        action: check.choice(e, &["action"], &actions, "a monitor action of PAN-OS"),
        problems: check.problems,
    }
}
