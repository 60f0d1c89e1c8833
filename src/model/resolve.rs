//! Resolution: raw lab file → validated [`Lab`]. Collects every problem it finds (not just
//! the first), each with its line, column, field path and what would be valid.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;
use std::path::Path;

use serde_saphyr::{Location, Spanned};

use super::error::{closest, LabError, LabErrors};
use super::lab::*;
use super::raw::*;
use crate::device::strongswan::{self as strongswan_device, StrongswanDevice};
use crate::device::{Device, DeviceSource, RunContext};
use crate::ike::intent::{Auth, Child, Connection, DpdAction, ForwardPolicy, IkeVersion, IpsecIntent, SelectorMatch, TunnelRule};
use crate::ike::{check_duration, Proposal, ProposalKind};

/// Node kinds and what each is for, shown when a kind is unknown.
const KIND_NAMES: &[&str] = &["host", "router", "nat-router", "dut", "azure-gateway"];
const KINDS: &str = "host (LAN PC, Azure VM), router (plain IP router), nat-router (home/branch router), dut (firewall under test), azure-gateway (simulated Azure VPN Gateway)";

/// Reads and validates a lab file. `path` may name the folder or the `lab.yaml` in it.
pub fn load(path: &Path) -> Result<Lab, LoadError> {
    let names_a_file = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
    let file = if path.is_dir() || !names_a_file { path.join("lab.yaml") } else { path.to_path_buf() };
    let source = std::fs::read_to_string(&file).map_err(|e| LoadError::Read { file: file.clone(), error: e })?;
    parse(&file, &source).map_err(LoadError::Invalid)
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read lab file {}: {error} (a lab is a folder with a lab.yaml, e.g. labs/azure-strongswan)", file.display())]
    Read { file: std::path::PathBuf, error: std::io::Error },
    #[error("{0}")]
    Invalid(LabErrors),
}

/// Parses lab text; `file` is used for messages and as the lab's source.
pub fn parse(file: &Path, source: &str) -> Result<Lab, LabErrors> {
    let raw: RawLab = serde_saphyr::from_str(source).map_err(|e| LabErrors::from_parse(file, source, &e))?;
    let mut r = Resolver {
        errors: Vec::new(),
        lab_dir: azure::lab_dir(file),
        dns: HashMap::new(),
        deferred_addresses: Vec::new(),
        iface_locs: HashMap::new(),
        all_addresses: HashSet::new(),
    };
    let lab = r.lab(file, raw);
    if r.errors.is_empty() {
        Ok(lab)
    } else {
        Err(LabErrors::new(file, source, r.errors))
    }
}

struct Resolver {
    errors: Vec<LabError>,
    /// The lab's folder: imports are relative to it.
    lab_dir: std::path::PathBuf,
    /// The lab's name records (lowercase name to address).
    dns: HashMap<String, Ipv4Addr>,
    /// Addresses that must exist somewhere in the lab, checked once every node is known:
    /// (where, export it came from, field, address).
    deferred_addresses: Vec<(Location, Option<std::path::PathBuf>, String, Ipv4Addr)>,
    /// Where each `node:interface` was declared, for errors found after resolution.
    iface_locs: HashMap<(String, String), Location>,
    /// Every interface address written in the lab, also of nodes that did not resolve (so
    /// that one bad node does not make the addresses that point at it look wrong too).
    all_addresses: HashSet<Ipv4Addr>,
}

fn valid_name(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
}

fn valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name != "lo"
        && !name.starts_with("ipsec")
}

impl Resolver {
    fn err(&mut self, loc: &Location, field: impl Into<String>, message: impl Into<String>, hint: Option<&str>) {
        let mut e = LabError::at(loc, field, message);
        if let Some(h) = hint {
            e = e.hint(h);
        }
        self.errors.push(e);
    }

    fn lab(&mut self, file: &Path, raw: RawLab) -> Lab {
        if !valid_name(&raw.name.value, 32) {
            self.err(
                &raw.name.referenced,
                "name",
                format!("`{}` is not a valid lab name", raw.name.value),
                Some("1 to 32 characters: lowercase letters, digits and '-', starting with a letter"),
            );
        }
        if raw.nodes.0.is_empty() {
            self.err(&raw.name.referenced, "nodes", "the lab has no nodes", Some("at least a dut and an azure-gateway"));
        }
        let time_scale = match &raw.time_scale {
            None => 1.0,
            Some(t) if t.value >= 1.0 && t.value <= 1_000_000.0 => t.value,
            Some(t) => {
                self.err(
                    &t.referenced,
                    "time_scale",
                    format!("{} is not a usable time scale", t.value),
                    Some("a factor from 1 (real time) to 1000000; 100 makes Azure's 27,000 s CHILD SA lifetime last 270 s"),
                );
                1.0
            }
        };
        let dns_records: Vec<(String, Ipv4Addr)> =
            raw.dns.as_ref().map(|d| d.records.0.iter().map(|(n, a)| (n.value.to_ascii_lowercase(), a.value.0)).collect()).unwrap_or_default();
        for (name, addr) in &dns_records {
            self.dns.insert(name.clone(), *addr);
        }
        let declared: HashSet<String> = raw.nodes.0.iter().map(|(k, _)| k.value.clone()).collect();
        let mut nodes = Vec::new();
        for (name, raw_node) in raw.nodes.0 {
            if let Some(node) = self.node(&name, raw_node) {
                nodes.push(node);
            }
        }
        let links = self.links(&raw.links, &nodes, &declared);
        self.addresses(&nodes);
        self.check_deferred_addresses();
        let plan = self.plan(raw.run, &nodes, &declared);
        let mut notes = finish(&mut nodes, &plan, time_scale);
        let dns = raw.dns.map(|d| {
            let server = d.server.map(|s| {
                match nodes.iter().find(|n| n.name == s.value) {
                    None if declared.contains(&s.value) => {}
                    None => {
                        self.err(&s.referenced, "dns.server", format!("no node `{}`", s.value), Some("the node that answers DNS, e.g. the internet router"))
                    }
                    Some(n) if n.interfaces.is_empty() => self.err(&s.referenced, "dns.server", format!("`{}` has no address to answer on", s.value), None),
                    Some(_) => {}
                }
                s.value
            });
            Dns { server, records: dns_records }
        });
        let uses_fqdn = nodes.iter().any(|n| n.intent().is_some_and(|i| i.clock.iter().any(|t| matches!(t, crate::ike::intent::Timed::ReresolvePeer { .. }))));
        if uses_fqdn && dns.as_ref().is_none_or(|d| d.server.is_none()) {
            notes.push("dns: no `server:` node, so the gateway resolves its local network gateway's fqdn once, when the lab is built".into());
        }
        Lab { name: raw.name.value, description: raw.description, source: file.to_path_buf(), nodes, links, plan, time_scale, notes, dns }
    }

    fn node(&mut self, name: &Spanned<String>, mut raw: RawNode) -> Option<Node> {
        let path = format!("nodes.{}", name.value);
        if !valid_name(&name.value, 24) {
            self.err(
                &name.referenced,
                &path,
                format!("`{}` is not a valid node name", name.value),
                Some("1 to 24 characters: lowercase letters, digits and '-', starting with a letter (it becomes part of a namespace name)"),
            );
        }
        let mut interfaces = Vec::new();
        for (ifname, addr) in &raw.interfaces.0 {
            self.iface_locs.insert((name.value.clone(), ifname.value.clone()), addr.referenced);
            let field = format!("{path}.interfaces.{}", ifname.value);
            if !valid_ifname(&ifname.value) {
                self.err(
                    &ifname.referenced,
                    &field,
                    format!("`{}` is not a usable interface name", ifname.value),
                    Some("1 to 15 characters of letters, digits, '_' or '-'; not `lo`, not starting with `ipsec` (reserved for the tunnel)"),
                );
            }
            let a = addr.value.0;
            self.all_addresses.insert(a.addr());
            if a.prefix_len() < 31 && (a.addr() == a.network() || a.addr() == a.broadcast()) {
                self.err(
                    &addr.referenced,
                    &field,
                    format!("{a} is the network or broadcast address of its prefix, not a host address"),
                    Some("a host address with its prefix length, e.g. 10.10.0.1/16"),
                );
            }
            interfaces.push(Interface { name: ifname.value.clone(), address: a });
        }
        let gateway = raw.gateway.as_ref().map(|g| g.value.0);
        if let Some(g) = &raw.gateway {
            if !interfaces.iter().any(|i| i.address.contains(&g.value.0) && i.address.addr() != g.value.0) {
                self.err(
                    &g.referenced,
                    format!("{path}.gateway"),
                    format!("gateway {} is not on a subnet of any interface of `{}`", g.value.0, name.value),
                    Some("an address in one of the node's interface subnets"),
                );
            }
        }
        let mut routes = Vec::new();
        for r in &raw.routes {
            let field = format!("{path}.routes");
            let via = if r.value.via == "tunnel" {
                NextHop::Tunnel
            } else if let Ok(addr) = r.value.via.parse::<Ipv4Addr>() {
                if !interfaces.iter().any(|i| i.address.contains(&addr)) {
                    self.err(
                        &r.referenced,
                        &field,
                        format!("next hop {addr} is not on a subnet of any interface of `{}`", name.value),
                        Some("an address in one of the node's interface subnets, or `tunnel`"),
                    );
                }
                NextHop::Address(addr)
            } else {
                self.err(
                    &r.referenced,
                    &field,
                    format!("`via: {}` is neither an IPv4 address nor `tunnel`", r.value.via),
                    Some("a next-hop address, or `tunnel` for the IPsec tunnel interface"),
                );
                continue;
            };
            routes.push(Route { to: r.value.to.0.trunc(), via });
        }

        let kind_loc = &name.referenced;
        let k = raw.kind.value.as_str();
        if !KIND_NAMES.contains(&k) {
            // One error: the sections cannot be judged against a kind that does not exist.
            let message = match closest(k, KIND_NAMES.iter().copied()) {
                Some(near) => format!("unknown node kind `{k}`; did you mean `{near}`?"),
                None => format!("unknown node kind `{k}`"),
            };
            self.err(&raw.kind.referenced, format!("{path}.kind"), message, Some(KINDS));
            return None;
        }
        let section = |present: bool, section: &str, owner: &str, this: &mut Resolver| {
            if present && k != owner {
                this.err(
                    kind_loc,
                    format!("{path}.{section}"),
                    format!("`{section}` belongs to kind {owner}, but `{}` is a {k}", name.value),
                    Some(&format!("remove `{section}`, or set `kind: {owner}`")),
                );
            }
        };
        section(raw.nat.is_some(), "nat", "nat-router", self);
        section(raw.strongswan.is_some(), "strongswan", "dut", self);
        section(raw.frr.is_some(), "frr", "dut", self);
        section(raw.device.is_some(), "device", "dut", self);
        section(raw.config.is_some(), "config", "dut", self);
        section(raw.tunnel.is_some(), "tunnel", "dut", self);
        section(raw.phase1.is_some(), "phase1", "dut", self);
        section(raw.psk_file.is_some(), "psk_file", "dut", self);
        section(raw.tunnel_rules.is_some(), "tunnel_rules", "dut", self);
        section(raw.exact_proxy_id.is_some(), "exact_proxy_id", "dut", self);
        section(raw.choices.is_some(), "choices", "dut", self);
        section(raw.azure.is_some(), "azure", "azure-gateway", self);

        let kind = match k {
            "host" => NodeKind::Host,
            "router" => NodeKind::Router,
            "nat-router" => match raw.nat {
                Some(nat) => NodeKind::NatRouter(self.nat(&path, nat, &interfaces)),
                None => {
                    self.err(&raw.kind.referenced, &path, "a nat-router needs a `nat:` section", Some("nat: { masquerade: wan }"));
                    return None;
                }
            },
            "dut" => {
                let kind_loc = raw.kind.referenced;
                let device = self.dut_device(&path, &name.referenced, &kind_loc, &mut raw, &interfaces)?;
                // The device's own routes into the tunnel (a PAN-OS static route to tunnel.1) are
                // the node's, unless the lab already names them.
                for prefix in device.tunnel_routes() {
                    if !routes.iter().any(|r| r.to == prefix && r.via == NextHop::Tunnel) {
                        routes.push(Route { to: prefix, via: NextHop::Tunnel });
                    }
                }
                ipsec_node(device)
            }
            "azure-gateway" => match raw.azure {
                Some(az) => {
                    let site = self.azure(&format!("{path}.azure"), &name.referenced, az, &interfaces, gateway)?;
                    // Azure installs the local network gateway's prefixes as static routes into
                    // the connection [S13] §5.2: the route-based tunnel's routing.
                    for p in &site.local_gateway.prefixes {
                        routes.push(Route { to: *p, via: NextHop::Tunnel });
                    }
                    // With BGP, Azure routes the peer's BGP IP into the tunnel itself (rule
                    // bgp-lng-address-space).
                    if let Some(n) = site.bgp_intent().and_then(|b| b.neighbors.first().cloned()) {
                        let host = ipnet::Ipv4Net::new(n.address, 32).expect("a /32");
                        if !routes.iter().any(|r| r.to == host) {
                            routes.push(Route { to: host, via: NextHop::Tunnel });
                        }
                    }
                    ipsec_node(Box::new(site))
                }
                None => {
                    self.err(
                        &raw.kind.referenced,
                        &path,
                        "an azure-gateway needs an `azure:` section",
                        Some("virtualNetworkGateway, virtualNetwork, localNetworkGateway and connection"),
                    );
                    return None;
                }
            },
            other => {
                self.err(&raw.kind.referenced, format!("{path}.kind"), format!("unknown node kind `{other}`"), Some(KINDS));
                return None;
            }
        };
        if routes.iter().any(|r| r.via == NextHop::Tunnel) && !matches!(kind, NodeKind::Ipsec(_)) {
            self.err(
                &name.referenced,
                format!("{path}.routes"),
                format!("`via: tunnel` needs an IPsec node, but `{}` is a {}", name.value, kind.name()),
                Some("use `via: tunnel` on a dut or azure-gateway"),
            );
        }
        Some(Node { name: name.value.clone(), kind, interfaces, gateway, routes })
    }

    /// The device under test: a strongSwan gateway written in the lab (`strongswan:`), or a
    /// vendor's firewall read from its configuration file (`device:` and `config:`).
    fn dut_device(&mut self, path: &str, name_loc: &Location, kind_loc: &Location, raw: &mut RawNode, interfaces: &[Interface]) -> Option<Box<dyn Device>> {
        let families: Vec<&str> = crate::device::FAMILIES.iter().map(|(f, _)| *f).collect();
        let family = match (&raw.device, &raw.strongswan) {
            (Some(d), _) if !families.contains(&d.value.as_str()) => {
                let near = closest(&d.value, families.iter().copied()).map(|n| format!("; did you mean `{n}`?")).unwrap_or_default();
                let valid: Vec<String> = crate::device::FAMILIES.iter().map(|(f, what)| format!("{f} ({what})")).collect();
                self.err(&d.referenced, format!("{path}.device"), format!("unknown device `{}`{near}", d.value), Some(&valid.join("; ")));
                return None;
            }
            (Some(d), _) => d.value.clone(),
            (None, Some(_)) => "strongswan".to_string(),
            (None, None) => {
                self.err(
                    kind_loc,
                    path,
                    "a dut needs a device",
                    Some("`device: pan-os` or `device: pfsense` with `config:` (the firewall's own configuration file), or a `strongswan:` section (swanctl.conf's connections and secrets)"),
                );
                return None;
            }
        };
        // Keys that belong to one family only.
        let only = |present: Option<&Location>, key: &str, owner: &str, this: &mut Resolver| {
            if let (Some(loc), false) = (present, family == owner) {
                this.err(
                    loc,
                    format!("{path}.{key}"),
                    format!("`{key}` belongs to `device: {owner}`, but this dut is `{family}`"),
                    Some(&format!("remove `{key}`")),
                );
            }
        };
        only(raw.tunnel.as_ref().map(|t| &t.referenced), "tunnel", "pan-os", self);
        only(raw.psk_file.as_ref().map(|t| &t.referenced), "psk_file", "pan-os", self);
        only(raw.phase1.as_ref().map(|t| &t.referenced), "phase1", "pfsense", self);
        if family == "strongswan" {
            let Some(sw) = raw.strongswan.take() else {
                self.err(kind_loc, path, "a strongSwan device needs a `strongswan:` section", Some("connections and secrets, as in swanctl.conf"));
                return None;
            };
            if let Some(c) = &raw.config {
                self.err(
                    &c.referenced,
                    format!("{path}.config"),
                    "a strongSwan device is written in the lab's `strongswan:` section, not read from a file",
                    Some("remove `config:`, or set `device: pan-os` or `device: pfsense`"),
                );
            }
            // A strongSwan device has no importer defaults: any `choices:` is refused here.
            self.device_choices(path, &family, raw.choices.as_ref())?;
            let mut config = self.strongswan(&format!("{path}.strongswan"), name_loc, sw);
            if raw.exact_proxy_id == Some(true) {
                for c in &mut config.connections {
                    c.selector_match = SelectorMatch::Exact;
                }
            }
            config.forward = raw.tunnel_rules.as_ref().map(|rules| {
                let rules: Vec<TunnelRule> = rules.iter().map(|r| TunnelRule { from: r.value.from.0.trunc(), to: r.value.to.0.trunc() }).collect();
                ForwardPolicy::from_tunnel_rules(&rules)
            });
            let device = StrongswanDevice::new(config);
            // A speaker with errors is left out and the node kept, so that nothing else about the
            // node is reported as an echo of them.
            let bgp = raw.frr.take().and_then(|frr| self.frr(&format!("{path}.frr"), frr, interfaces));
            return Some(Box::new(match bgp {
                Some(bgp) => device.with_bgp(bgp),
                None => device,
            }));
        }
        // A vendor's firewall: its behaviour comes from its configuration, not from lab keys.
        if raw.strongswan.is_some() {
            self.err(
                name_loc,
                format!("{path}.strongswan"),
                format!("a `{family}` device is read from its configuration file; `strongswan:` describes a strongSwan device"),
                Some("remove `strongswan:`, or remove `device:`"),
            );
        }
        if let Some(frr) = &raw.frr {
            let own_config = match family.as_str() {
                "pfsense" => "its config.xml (the FRR package: Services > FRR BGP)",
                "pan-os" => "its own configuration (the virtual router's `protocol bgp`)",
                _ => "its own configuration file",
            };
            self.err(
                &frr.referenced,
                format!("{path}.frr"),
                format!("a `{family}` device takes its BGP speaker from {own_config}, not from the lab file; `frr:` describes a strongSwan device's speaker"),
                Some("remove `frr:` and configure BGP in the device's configuration file, or describe a strongSwan device (`strongswan:` without `device:`)"),
            );
        }
        for (present, key) in [(raw.exact_proxy_id.is_some(), "exact_proxy_id"), (raw.tunnel_rules.is_some(), "tunnel_rules")] {
            if present {
                self.err(
                    name_loc,
                    format!("{path}.{key}"),
                    format!("`{key}` describes a strongSwan device; a `{family}` device takes it from its configuration"),
                    Some(&format!("remove `{key}`")),
                );
            }
        }
        let Some(config) = raw.config.as_ref() else {
            self.err(
                kind_loc,
                path,
                format!("a `{family}` device needs `config:`, its configuration file"),
                Some("e.g. `config: dut/running-config.xml` (PAN-OS) or `config: dut/config.xml` (pfSense), relative to the lab's folder"),
            );
            return None;
        };
        let file = self.lab_file(&format!("{path}.config"), config)?;
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                self.err(&config.referenced, format!("{path}.config"), format!("cannot read {}: {e}", file.display()), Some("a file in the lab's folder"));
                return None;
            }
        };
        let psk = match &raw.psk_file {
            Some(p) => {
                let psk_path = self.lab_file(&format!("{path}.psk_file"), p)?;
                match std::fs::read_to_string(&psk_path) {
                    // A file ends in a newline; the key is what comes before it. Anything else
                    // (a space, a second newline) is part of the key, as the device would take it.
                    Ok(t) => Some(t.strip_suffix('\n').map(|k| k.strip_suffix('\r').unwrap_or(k)).unwrap_or(&t).to_string()),
                    Err(e) => {
                        self.err(
                            &p.referenced,
                            format!("{path}.psk_file"),
                            format!("cannot read {}: {e}", psk_path.display()),
                            Some("a file in the lab's folder holding the pre-shared key"),
                        );
                        return None;
                    }
                }
            }
            None => None,
        };
        let choices = self.device_choices(path, &family, raw.choices.as_ref())?;
        let select = raw.tunnel.as_ref().map(|t| t.value.clone()).or_else(|| raw.phase1.as_ref().map(|p| p.value.to_string()));
        let ifaces: Vec<(String, ipnet::Ipv4Net)> = interfaces.iter().map(|i| (i.name.clone(), i.address)).collect();
        let source = DeviceSource { file: &file, text: &text, select: select.as_deref(), psk: psk.as_deref(), interfaces: &ifaces, choices: &choices };
        match crate::device::load(&family, &source) {
            Ok(device) => Some(device),
            Err(errors) => {
                for e in errors {
                    let mut le = LabError::at(&config.referenced, if e.element.is_empty() { format!("{path}.config") } else { e.element.clone() }, e.message);
                    le.file = Some(file.clone());
                    le.file_line = Some(e.line.unwrap_or(0) as u64);
                    if let Some(h) = e.hint {
                        le = le.hint(h);
                    }
                    self.errors.push(le);
                }
                None
            }
        }
    }

    /// A dut's `choices:`, checked against its family's table: each name one the importer offers,
    /// each value one it takes.
    fn device_choices(&mut self, path: &str, family: &str, raw: Option<&OrderedMap<Spanned<String>>>) -> Option<Vec<(String, String)>> {
        let table = crate::device::choices(family);
        let mut out = Vec::new();
        let mut ok = true;
        for (name, value) in raw.map(|m| m.0.as_slice()).unwrap_or_default() {
            let field = format!("{path}.choices.{}", name.value);
            let Some(choice) = table.iter().find(|c| c.name == name.value) else {
                let valid = if table.is_empty() {
                    format!("a `{family}` device has no choices; remove `choices:`")
                } else {
                    table.iter().map(|c| format!("{} ({})", c.name, c.values.join(" | "))).collect::<Vec<_>>().join("; ")
                };
                let near = closest(&name.value, table.iter().map(|c| c.name)).map(|n| format!("; did you mean `{n}`?")).unwrap_or_default();
                self.err(&name.referenced, field, format!("unknown choice `{}`{near}", name.value), Some(&valid));
                ok = false;
                continue;
            };
            if !choice.values.contains(&value.value.as_str()) {
                let valid = format!("{} (vpnlab's default: {}; {})", choice.values.join(", "), choice.default, choice.about);
                self.err(&value.referenced, field, format!("`{}` is not a value of this choice", value.value), Some(&valid));
                ok = false;
                continue;
            }
            out.push((choice.name.to_string(), value.value.clone()));
        }
        ok.then_some(out)
    }

    /// A file a lab key names, relative to the lab's folder and inside it.
    fn lab_file(&mut self, field: &str, name: &Spanned<String>) -> Option<std::path::PathBuf> {
        match azure::confined(&self.lab_dir, &name.value) {
            Ok(full) => Some(full),
            Err(problem) => {
                self.err(
                    &name.referenced,
                    field,
                    format!("`{}` {problem}", name.value),
                    Some("a path relative to the lab's folder and inside it, e.g. `config: dut/running-config.xml`"),
                );
                None
            }
        }
    }

    fn protocol(&mut self, loc: &Location, field: &str, text: &str) -> Protocol {
        match text {
            "udp" => Protocol::Udp,
            "tcp" => Protocol::Tcp,
            other => {
                self.err(loc, field, format!("unknown protocol `{other}`"), Some("udp or tcp"));
                Protocol::Udp
            }
        }
    }

    fn nat(&mut self, path: &str, raw: RawNat, interfaces: &[Interface]) -> Nat {
        if !interfaces.iter().any(|i| i.name == raw.masquerade.value) {
            let names: Vec<&str> = interfaces.iter().map(|i| i.name.as_str()).collect();
            self.err(
                &raw.masquerade.referenced,
                format!("{path}.nat.masquerade"),
                format!("no interface `{}` on this node", raw.masquerade.value),
                Some(&format!("one of: {}", names.join(", "))),
            );
        }
        let mut port_forwards = Vec::new();
        for pf in &raw.port_forwards {
            let field = format!("{path}.nat.port_forwards");
            let protocol = self.protocol(&pf.referenced, &field, &pf.value.protocol);
            if !interfaces.iter().any(|i| i.address.contains(&pf.value.to.0)) {
                self.err(
                    &pf.referenced,
                    &field,
                    format!("forward target {} is not on a subnet of this router", pf.value.to.0),
                    Some("an address on one of the router's LAN subnets"),
                );
            }
            port_forwards.push(PortForward { protocol, port: pf.value.port, to: pf.value.to.0, to_port: pf.value.to_port.unwrap_or(pf.value.port) });
        }
        let mut drops = Vec::new();
        for d in &raw.drop {
            let field = format!("{path}.nat.drop");
            let protocol = self.protocol(&d.referenced, &field, &d.value.protocol);
            if d.value.port.is_none() && d.value.sport.is_none() {
                self.err(&d.referenced, &field, "a drop rule needs `port` or `sport`", Some("e.g. { protocol: udp, port: 4500 }"));
            }
            drops.push(DropRule { protocol, dport: d.value.port, sport: d.value.sport });
        }
        Nat { masquerade: raw.masquerade.value, port_forwards, drops }
    }

    /// A duration in seconds; a bad one is reported and read as unset.
    fn duration(&mut self, field: &str, d: &Option<Spanned<String>>) -> Option<u64> {
        let d = d.as_ref()?;
        match check_duration(&d.value) {
            Ok(s) => Some(s),
            Err(e) => {
                self.err(&d.referenced, field, e, None);
                None
            }
        }
    }

    fn proposals(&mut self, field: &str, list: &[Spanned<String>], kind: ProposalKind) -> Vec<Proposal> {
        let mut out = Vec::new();
        for p in list {
            match Proposal::parse(&p.value, kind) {
                Ok(parsed) => out.push(parsed),
                Err(e) => self.err(&p.referenced, field, e, None),
            }
        }
        out
    }

    /// The `strongswan:` section: swanctl.conf's connections and secrets, as a strongSwan
    /// device's configuration.
    fn strongswan(&mut self, path: &str, loc: &Location, raw: RawStrongswan) -> IpsecIntent {
        let mut connections = Vec::new();
        if raw.connections.0.is_empty() {
            self.err(loc, format!("{path}.connections"), "the profile has no connections", Some("one connection towards the Azure gateway"));
        }
        for (name, c) in raw.connections.0 {
            let cpath = format!("{path}.connections.{}", name.value);
            let conn_loc = c.referenced;
            let c = c.value;
            let version = match c.version.as_ref().map(|v| v.value) {
                None | Some(0) => IkeVersion::Any,
                Some(1) => IkeVersion::V1,
                Some(2) => IkeVersion::V2,
                Some(n) => {
                    let loc = &c.version.as_ref().expect("checked").referenced;
                    self.err(loc, format!("{cpath}.version"), format!("IKE version {n} does not exist"), Some("1 (IKEv1), 2 (IKEv2) or 0 (either)"));
                    IkeVersion::Any
                }
            };
            for a in [&c.local, &c.remote] {
                if a.auth.value != "psk" {
                    self.err(
                        &a.auth.referenced,
                        format!("{cpath}.auth"),
                        format!("authentication `{}` is not supported", a.auth.value),
                        Some("psk (Azure site-to-site uses pre-shared keys only)"),
                    );
                }
            }
            if c.remote_addrs.is_empty() {
                self.err(
                    &conn_loc,
                    format!("{cpath}.remote_addrs"),
                    "the connection has no remote address",
                    Some("the Azure gateway's public IP, e.g. remote_addrs: [198.51.100.20]"),
                );
            }
            let proposals = self.proposals(&format!("{cpath}.proposals"), &c.proposals, ProposalKind::Ike);
            let dpd_delay = self.duration(&format!("{cpath}.dpd_delay"), &c.dpd_delay);
            let rekey_time = self.duration(&format!("{cpath}.rekey_time"), &c.rekey_time);
            let mut children = Vec::new();
            if c.children.0.is_empty() {
                self.err(
                    &conn_loc,
                    format!("{cpath}.children"),
                    "the connection has no children (Phase 2 / proxy-IDs)",
                    Some("children: { azure: { local_ts: [0.0.0.0/0], remote_ts: [0.0.0.0/0] } }"),
                );
            }
            for (child_name, ch) in c.children.0 {
                let chpath = format!("{cpath}.children.{}", child_name.value);
                let ch = ch.value;
                let esp = self.proposals(&format!("{chpath}.esp_proposals"), &ch.esp_proposals, ProposalKind::Esp);
                let rekey = self.duration(&format!("{chpath}.rekey_time"), &ch.rekey_time);
                let life = self.duration(&format!("{chpath}.life_time"), &ch.life_time);
                let start_action = ch.start_action.as_ref().and_then(|sa| {
                    let parsed = strongswan_device::start_action(&sa.value);
                    if parsed.is_none() {
                        self.err(
                            &sa.referenced,
                            format!("{chpath}.start_action"),
                            format!("start_action `{}` is not supported", sa.value),
                            Some("none (vpnlab initiates when the run says so) or start; `trap` does not work with the kernel-libipsec data path"),
                        );
                    }
                    parsed
                });
                let dpd_action = ch.dpd_action.as_ref().and_then(|a| {
                    let parsed = match a.value.as_str() {
                        "clear" => Some(DpdAction::Clear),
                        "restart" => Some(DpdAction::Restart),
                        "trap" => Some(DpdAction::Trap),
                        _ => None,
                    };
                    if parsed.is_none() {
                        self.err(
                            &a.referenced,
                            format!("{chpath}.dpd_action"),
                            format!("dpd_action `{}` does not exist", a.value),
                            Some("clear, restart or trap"),
                        );
                    }
                    parsed
                });
                children.push(Child {
                    // Deterministic rekeying when the profile sets a rekey time (lab notes,
                    // Surprises 1: life_time alone yields a negative rekey time).
                    rand_time_s: rekey.map(|_| 0),
                    rekey_time_s: rekey,
                    life_time_s: life,
                    dpd_action,
                    start_action,
                    ..Child::new(
                        child_name.value,
                        ch.local_ts.iter().map(|t| t.value.0.trunc()).collect(),
                        ch.remote_ts.iter().map(|t| t.value.0.trunc()).collect(),
                        esp,
                    )
                });
            }
            connections.push(Connection {
                name: name.value,
                version,
                local_addrs: c.local_addrs,
                remote_addrs: c.remote_addrs,
                proposals,
                dpd_delay_s: dpd_delay,
                dpd_timeout_s: None,
                mobike: c.mobike,
                encap: c.encap,
                rekey_time_s: rekey_time,
                reauth_time_s: None,
                over_time_s: None,
                local: Auth::psk(c.local.id),
                remote: Auth::psk(c.remote.id),
                children,
                selector_match: SelectorMatch::Narrowing,
                fallback_child: None,
                version_fallback: None,
                start_every_child: false,
            });
        }
        let secrets = raw.secrets.into_iter().map(|s| crate::ike::intent::Secret { ids: s.value.ids, secret: s.value.secret }).collect();
        IpsecIntent { connections, secrets, ..IpsecIntent::default() }
    }

    /// Links join two declared interfaces on the same subnet; every interface is used once.
    fn links(&mut self, raw: &[Spanned<RawLink>], nodes: &[Node], declared: &HashSet<String>) -> Vec<Link> {
        let errors_before = self.errors.len();
        let by_name: HashMap<&str, &Node> = nodes.iter().map(|n| (n.name.as_str(), n)).collect();
        let mut used: HashMap<(String, String), usize> = HashMap::new();
        let mut links = Vec::new();
        for (i, l) in raw.iter().enumerate() {
            let field = format!("links[{i}]");
            if l.value.endpoints.len() != 2 {
                self.err(
                    &l.referenced,
                    &field,
                    format!("a link has exactly two endpoints, this one has {}", l.value.endpoints.len()),
                    Some("endpoints: [node-a:interface, node-b:interface]"),
                );
                continue;
            }
            let mut ends = Vec::new();
            for ep in &l.value.endpoints {
                let Some((node, iface)) = ep.value.split_once(':') else {
                    self.err(&ep.referenced, &field, format!("`{}` is not an endpoint", ep.value), Some("node:interface, e.g. firewall:wan"));
                    continue;
                };
                let Some(n) = by_name.get(node) else {
                    if declared.contains(node) {
                        // Declared but invalid: its own error has been reported already.
                        continue;
                    }
                    let mut names: Vec<&str> = declared.iter().map(String::as_str).collect();
                    names.sort();
                    let near = closest(node, names.iter().copied()).map(|n| format!("; did you mean `{n}`?")).unwrap_or_default();
                    self.err(
                        &ep.referenced,
                        &field,
                        format!("link to a missing node `{node}`{near}"),
                        Some(&format!("one of the lab's nodes: {}", names.join(", "))),
                    );
                    continue;
                };
                let Some(ifc) = n.interfaces.iter().find(|x| x.name == iface) else {
                    let names: Vec<&str> = n.interfaces.iter().map(|x| x.name.as_str()).collect();
                    self.err(
                        &ep.referenced,
                        &field,
                        format!("node `{node}` has no interface `{iface}`"),
                        Some(&format!("declare it under nodes.{node}.interfaces, or use one of: {}", names.join(", "))),
                    );
                    continue;
                };
                if let Some(prev) = used.insert((node.to_string(), iface.to_string()), i) {
                    self.err(
                        &ep.referenced,
                        &field,
                        format!("{node}:{iface} is already used by links[{prev}]"),
                        Some("each interface is one end of exactly one link"),
                    );
                }
                ends.push((Endpoint { node: node.to_string(), interface: iface.to_string() }, ifc.address));
            }
            if let [(a, aa), (b, ba)] = &ends[..] {
                if a.node == b.node {
                    self.err(&l.referenced, &field, format!("both ends are on node `{}`", a.node), Some("a link joins two different nodes"));
                } else if aa.trunc() != ba.trunc() {
                    self.err(
                        &l.referenced,
                        &field,
                        format!("{}:{} ({aa}) and {}:{} ({ba}) are not on the same subnet", a.node, a.interface, b.node, b.interface),
                        Some("give both ends addresses in one prefix, e.g. 172.16.0.1/30 and 172.16.0.2/30"),
                    );
                }
                links.push(Link { a: a.clone(), b: b.clone() });
            }
        }
        // An unconnected interface is usually the echo of a broken link; report it only when
        // the links themselves are fine.
        let links_ok = self.errors.len() == errors_before;
        for n in nodes.iter().filter(|_| links_ok) {
            for ifc in &n.interfaces {
                let key = (n.name.clone(), ifc.name.clone());
                if !used.contains_key(&key) {
                    let loc = self.iface_locs.get(&key).copied().unwrap_or(Location::UNKNOWN);
                    let hint = format!("add `- endpoints: [{}:{}, other-node:interface]` under links", n.name, ifc.name);
                    self.err(
                        &loc,
                        format!("nodes.{}.interfaces.{}", n.name, ifc.name),
                        format!("interface {}:{} is not connected by any link", n.name, ifc.name),
                        Some(&hint),
                    );
                }
            }
        }
        links
    }

    /// Addresses named by Azure resources (the local network gateway's) must exist in the lab,
    /// or Azure would never hear from that peer.
    fn check_deferred_addresses(&mut self) {
        for (loc, origin, field, addr) in std::mem::take(&mut self.deferred_addresses) {
            if !self.all_addresses.contains(&addr) {
                let hint = "the on-premises public address in this lab (e.g. the NAT router's WAN address); set it next to import: to map an exported address into the lab";
                self.err_from(
                    &origin,
                    &loc,
                    field,
                    format!("{addr} is not an address in this lab, so the gateway could never hear from that peer"),
                    Some(hint),
                );
            }
        }
    }

    /// No address is used twice in the lab.
    fn addresses(&mut self, nodes: &[Node]) {
        let mut seen: BTreeMap<Ipv4Addr, String> = BTreeMap::new();
        for n in nodes {
            for i in &n.interfaces {
                let here = format!("{}:{}", n.name, i.name);
                if let Some(prev) = seen.insert(i.address.addr(), here.clone()) {
                    let loc = self.iface_locs.get(&(n.name.clone(), i.name.clone())).copied().unwrap_or(Location::UNKNOWN);
                    self.err(
                        &loc,
                        format!("nodes.{}.interfaces.{}", n.name, i.name),
                        format!("address {} is used by both {prev} and {here}", i.address.addr()),
                        Some("every interface needs its own address"),
                    );
                }
            }
        }
    }

    /// `declared` holds every node name written, also of nodes that did not resolve: their own
    /// error has been reported, so a reference to them is not one more.
    fn plan(&mut self, raw: Option<RawRun>, nodes: &[Node], declared: &HashSet<String>) -> RunPlan {
        let Some(raw) = raw else {
            let initiator = nodes.iter().find(|n| n.ipsec().is_some_and(|i| i.device.under_test())).or_else(|| nodes.iter().find(|n| n.ipsec().is_some()));
            return RunPlan { initiator: initiator.map(|n| n.name.clone()).unwrap_or_default(), probes: Vec::new(), tcp: Vec::new() };
        };
        let init = &raw.initiator;
        // `none`: nobody is told to initiate (both ends waiting); unless a node is called so.
        let nobody = init.value == "none" && !declared.contains("none");
        match nodes.iter().find(|n| n.name == init.value) {
            None if nobody => {}
            None if declared.contains(&init.value) => {}
            None => self.err(
                &init.referenced,
                "run.initiator",
                format!("no node `{}`", init.value),
                Some("the name of the dut or the azure-gateway node, or `none` (nobody initiates)"),
            ),
            Some(n) => match n.ipsec() {
                Some(i) if !i.device.initiation().may_initiate() => {
                    let (message, hint) = if i.azure().is_some() {
                        (
                            format!("`{}` is an Azure connection in ResponderOnly mode, which never initiates", init.value),
                            "the dut, or connectionMode Default / InitiatorOnly",
                        )
                    } else {
                        (format!("`{}` is configured never to initiate", init.value), "the other IPsec node, or let this one initiate")
                    };
                    let hint = format!("{hint}; or `initiator: none` to watch both ends wait");
                    self.err(&init.referenced, "run.initiator", message, Some(&hint));
                }
                Some(_) => {}
                None => self.err(
                    &init.referenced,
                    "run.initiator",
                    format!("`{}` is a {} and runs no IKE daemon", init.value, n.kind.name()),
                    Some("the dut or the azure-gateway node"),
                ),
            },
        }
        let (probes, tcp) = self.probes(&raw.probes, nodes, declared);
        RunPlan { initiator: if nobody { String::new() } else { init.value.clone() }, probes, tcp }
    }
}

mod azure;
mod frr;
mod probes;
#[cfg(test)]
mod tests;

/// An IPsec node whose intent is built once the run plan is known ([`finish`]).
fn ipsec_node(device: Box<dyn crate::device::Device>) -> NodeKind {
    NodeKind::Ipsec(IpsecNode { device, intent: IpsecIntent::default(), bgp: None })
}

/// After validation: every device learns from the run plan whether it starts the first exchange
/// and the lab's clock, and builds its intent; the notes of every device are collected.
fn finish(nodes: &mut [Node], plan: &RunPlan, time_scale: f64) -> Vec<String> {
    let mut notes = Vec::new();
    for node in nodes.iter_mut() {
        if let NodeKind::Ipsec(ipsec) = &mut node.kind {
            let run = RunContext { starts_first: plan.initiator == node.name, time_scale };
            ipsec.intent = ipsec.device.intent(run);
            ipsec.bgp = ipsec.device.bgp();
            notes.extend(ipsec.device.notes().iter().map(|n| format!("{}: {n}", node.name)));
        }
    }
    notes
}
