//! The typed model of what a pfSense config.xml says about IPsec and the forwarding path:
//! `<interfaces>`, `<ipsec><phase1>`/`<phase2>` (repeated siblings tied by `ikeid`), the
//! `<filter><rule>` list, `<aliases>`, `<gateways>` and `<staticroutes>`.
//!
//! Phase 1 and phase 2 entries keep their element: the derivation (`derive.rs`) reads each
//! field and reports what became of it, so nothing is dropped silently. The rest is typed here.
//! A problem that makes an entry unreadable (a phase 1 without `ikeid`, an address that is not
//! one) is a [`DeviceError`] naming the element and its line.

use std::net::Ipv4Addr;

use super::xml::Element;
use crate::device::DeviceError;

/// Everything the importer reads from config.xml.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `<version>`: the config schema version (24.5 for current releases).
    pub version: Option<(String, usize)>,
    /// `system/webgui/noantilockout`: the anti-lockout rule is off.
    pub antilockout_disabled: bool,
    pub interfaces: Vec<Interface>,
    /// The `<ipsec>` element, for its global settings (children other than phase 1/2).
    pub ipsec: Option<Element>,
    pub phase1: Vec<Phase1>,
    pub phase2: Vec<Phase2>,
    pub rules: Vec<Rule>,
    pub aliases: Vec<Alias>,
    pub gateways: Vec<Gateway>,
    pub routes: Vec<StaticRoute>,
    /// Top-level sections and `installedpackages` children this importer does not read.
    pub other_sections: Vec<(String, usize)>,
    /// The FRR package's sections (`installedpackages/frr*`).
    pub packages: Vec<Element>,
}

/// An interface's IPv4 configuration type (`<ipaddr>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfAddr {
    Static(Ipv4Addr),
    /// `dhcp`, `pppoe`, ...: the address is learnt at run time.
    Dynamic(String),
    /// No IPv4 configuration (e.g. an assigned VTI, whose address comes from its phase 2).
    None,
}

/// One `<interfaces>` child: `wan`, `lan`, `opt1`...
#[derive(Debug, Clone)]
pub struct Interface {
    /// The logical name pfSense keys everything by.
    pub key: String,
    pub line: usize,
    pub descr: Option<String>,
    /// `<if>`: the OS device (`vmx0`, `ipsec1` for an assigned VTI).
    pub device: Option<String>,
    pub enabled: bool,
    pub ipaddr: IfAddr,
    pub subnet: Option<u8>,
    pub gateway: Option<String>,
}

impl Interface {
    /// The name pfSense shows: the description, or the key in capitals (`OPT1`).
    pub fn friendly(&self) -> String {
        self.descr.clone().unwrap_or_else(|| self.key.to_uppercase())
    }

    /// The VTI's interface name when this interface is an assigned `ipsecN`.
    pub fn vti_device(&self) -> Option<&str> {
        self.device.as_deref().filter(|d| d.strip_prefix("ipsec").is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())))
    }
}

#[derive(Debug, Clone)]
pub struct Phase1 {
    pub el: Element,
    pub ikeid: String,
    pub disabled: bool,
    pub mobile: bool,
    pub descr: Option<String>,
}

impl Phase1 {
    /// `ipsec/phase1[ikeid=1]`.
    pub fn path(&self) -> String {
        format!("ipsec/phase1[ikeid={}]", self.ikeid)
    }
}

#[derive(Debug, Clone)]
pub struct Phase2 {
    pub el: Element,
    pub ikeid: String,
    pub reqid: Option<String>,
    pub uniqid: Option<String>,
    pub disabled: bool,
    pub mobile: bool,
    pub descr: Option<String>,
    /// Position among `<phase2>` entries (1-based), for entries without `reqid`.
    pub position: usize,
}

impl Phase2 {
    /// `ipsec/phase2[reqid=1]`, or by uniqid or position when it has no reqid.
    pub fn path(&self) -> String {
        match (&self.reqid, &self.uniqid) {
            (Some(r), _) => format!("ipsec/phase2[reqid={r}]"),
            (None, Some(u)) => format!("ipsec/phase2[uniqid={u}]"),
            (None, None) => format!("ipsec/phase2[{}]", self.position),
        }
    }
}

/// A rule's source or destination.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoint {
    pub any: bool,
    /// `lan`, `lanip`, `opt1`, `(self)`...
    pub network: Option<String>,
    /// An address, a network in CIDR notation, or an alias name.
    pub address: Option<String>,
    pub not: bool,
    pub port: Option<String>,
}

/// One `<filter><rule>`.
#[derive(Debug, Clone)]
pub struct Rule {
    /// 1-based position in `<filter>`.
    pub index: usize,
    pub line: usize,
    /// `pass`, `block`, `reject`, `match`; empty for old rules (pfSense reads it as pass).
    pub kind: String,
    /// `lan`, `wan`, `optN`, `enc0` (the IPsec tab); floating rules may list several.
    pub interface: String,
    /// `inet`, `inet6`, `inet46`; absent on old rules (IPv4).
    pub ipprotocol: Option<String>,
    pub protocol: Option<String>,
    pub source: Endpoint,
    pub destination: Endpoint,
    pub disabled: bool,
    pub floating: bool,
    pub descr: Option<String>,
    /// Policy routing: the gateway this rule sends matching traffic to.
    pub gateway: Option<String>,
}

impl Rule {
    pub fn path(&self) -> String {
        format!("filter/rule[{}]", self.index)
    }
}

/// One `<aliases><alias>`.
#[derive(Debug, Clone)]
pub struct Alias {
    pub name: String,
    pub line: usize,
    /// `host`, `network`, `port`, `url`, `urltable`...
    pub kind: String,
    /// Space-separated entries: addresses, networks, host names or other aliases.
    pub entries: Vec<String>,
}

/// One `<gateways><gateway_item>`.
#[derive(Debug, Clone)]
pub struct Gateway {
    pub name: String,
    pub line: usize,
    pub interface: Option<String>,
    /// The next hop; `dynamic` for DHCP-learnt gateways.
    pub address: Option<String>,
}

/// One `<staticroutes><route>`.
#[derive(Debug, Clone)]
pub struct StaticRoute {
    pub index: usize,
    pub line: usize,
    /// A network in CIDR notation or a network alias.
    pub network: String,
    pub gateway: String,
    pub disabled: bool,
    pub descr: Option<String>,
}

impl StaticRoute {
    pub fn path(&self) -> String {
        format!("staticroutes/route[{}]", self.index)
    }
}

fn error(line: usize, element: impl Into<String>, message: impl Into<String>, hint: impl Into<String>) -> DeviceError {
    DeviceError { line: Some(line), element: element.into(), message: message.into(), hint: Some(hint.into()) }
}

impl Config {
    /// Reads the typed model from the root element, collecting every problem.
    pub fn read(root: &Element) -> Result<Config, Vec<DeviceError>> {
        let mut cfg = Config::default();
        let mut errors = Vec::new();
        for section in &root.children {
            match section.name.as_str() {
                "version" => cfg.version = Some((section.text().to_string(), section.line)),
                "system" => {
                    cfg.antilockout_disabled = section.child("webgui").is_some_and(|w| w.has("noantilockout"));
                    cfg.other_sections.push(("system".into(), section.line));
                }
                "interfaces" => {
                    for i in &section.children {
                        match interface(i) {
                            Ok(iface) => cfg.interfaces.push(iface),
                            Err(e) => errors.push(e),
                        }
                    }
                }
                "ipsec" => {
                    let mut position = 0;
                    for entry in &section.children {
                        match entry.name.as_str() {
                            "phase1" => match phase1(entry) {
                                Ok(p) => cfg.phase1.push(p),
                                Err(e) => errors.push(e),
                            },
                            "phase2" => {
                                position += 1;
                                match phase2(entry, position) {
                                    Ok(p) => cfg.phase2.push(p),
                                    Err(e) => errors.push(e),
                                }
                            }
                            _ => {}
                        }
                    }
                    cfg.ipsec = Some(section.clone());
                }
                "filter" => {
                    for (i, r) in section.all("rule").enumerate() {
                        cfg.rules.push(rule(r, i + 1));
                    }
                }
                "aliases" => {
                    for a in section.all("alias") {
                        let name = a.value_of("name").unwrap_or_default().to_string();
                        let entries = a.text_of("address").unwrap_or_default().split_whitespace().map(str::to_string).collect();
                        cfg.aliases.push(Alias { name, line: a.line, kind: a.text_of("type").unwrap_or_default().to_string(), entries });
                    }
                }
                "gateways" => {
                    for other in section.children.iter().filter(|c| c.name != "gateway_item") {
                        cfg.other_sections.push((format!("gateways/{}", other.name), other.line));
                    }
                    for g in section.all("gateway_item") {
                        cfg.gateways.push(Gateway {
                            name: g.value_of("name").unwrap_or_default().to_string(),
                            line: g.line,
                            interface: g.value_of("interface").map(str::to_string),
                            address: g.value_of("gateway").map(str::to_string),
                        });
                    }
                }
                "staticroutes" => {
                    for (i, r) in section.all("route").enumerate() {
                        cfg.routes.push(StaticRoute {
                            index: i + 1,
                            line: r.line,
                            network: r.value_of("network").unwrap_or_default().to_string(),
                            gateway: r.value_of("gateway").unwrap_or_default().to_string(),
                            disabled: r.has("disabled"),
                            descr: r.value_of("descr").map(str::to_string),
                        });
                    }
                }
                "installedpackages" => {
                    for p in &section.children {
                        if p.name.starts_with("frr") {
                            cfg.packages.push(p.clone());
                        } else {
                            cfg.other_sections.push((format!("installedpackages/{}", p.name), p.line));
                        }
                    }
                }
                other => cfg.other_sections.push((other.to_string(), section.line)),
            }
        }
        let mut seen: Vec<&str> = Vec::new();
        for p in &cfg.phase1 {
            if seen.contains(&p.ikeid.as_str()) {
                errors.push(error(p.el.line, p.path(), format!("a second phase 1 with ikeid {}", p.ikeid), "each phase 1 has its own ikeid"));
            }
            seen.push(&p.ikeid);
        }
        if errors.is_empty() {
            Ok(cfg)
        } else {
            Err(errors)
        }
    }
}

fn interface(el: &Element) -> Result<Interface, DeviceError> {
    let path = format!("interfaces/{}", el.name);
    let ipaddr = match el.value_of("ipaddr") {
        None => IfAddr::None,
        Some(text) => match text.parse::<Ipv4Addr>() {
            Ok(a) => IfAddr::Static(a),
            Err(_) if text.chars().all(|c| c.is_ascii_digit() || c == '.') => {
                let line = el.child("ipaddr").map_or(el.line, |c| c.line);
                return Err(error(line, format!("{path}/ipaddr"), format!("`{text}` is not an IPv4 address"), "an address such as 192.168.1.1, or dhcp"));
            }
            Err(_) => IfAddr::Dynamic(text.to_string()),
        },
    };
    let subnet = match el.value_of("subnet") {
        None => None,
        Some(text) => match text.parse::<u8>() {
            Ok(n) if n <= 32 => Some(n),
            _ => {
                let line = el.child("subnet").map_or(el.line, |c| c.line);
                return Err(error(line, format!("{path}/subnet"), format!("`{text}` is not an IPv4 prefix length"), "0 to 32, e.g. 24"));
            }
        },
    };
    Ok(Interface {
        key: el.name.clone(),
        line: el.line,
        descr: el.value_of("descr").map(str::to_string),
        device: el.value_of("if").map(str::to_string),
        enabled: el.has("enable"),
        ipaddr,
        subnet,
        gateway: el.value_of("gateway").map(str::to_string),
    })
}

fn phase1(el: &Element) -> Result<Phase1, DeviceError> {
    let Some(ikeid) = el.value_of("ikeid") else {
        return Err(error(el.line, "ipsec/phase1", "a phase 1 without <ikeid>", "<ikeid>N</ikeid>, unique per phase 1; its phase 2 entries name it"));
    };
    Ok(Phase1 {
        el: el.clone(),
        ikeid: ikeid.to_string(),
        disabled: el.has("disabled"),
        mobile: el.has("mobile"),
        descr: el.value_of("descr").map(str::to_string),
    })
}

fn phase2(el: &Element, position: usize) -> Result<Phase2, DeviceError> {
    let reqid = el.value_of("reqid").map(str::to_string);
    let uniqid = el.value_of("uniqid").map(str::to_string);
    let Some(ikeid) = el.value_of("ikeid") else {
        let p = Phase2 { el: el.clone(), ikeid: String::new(), reqid, uniqid, disabled: false, mobile: false, descr: None, position };
        return Err(error(el.line, p.path(), "a phase 2 without <ikeid>", "<ikeid>N</ikeid>: the ikeid of its phase 1"));
    };
    Ok(Phase2 {
        el: el.clone(),
        ikeid: ikeid.to_string(),
        reqid,
        uniqid,
        disabled: el.has("disabled"),
        mobile: el.has("mobile"),
        descr: el.value_of("descr").map(str::to_string),
        position,
    })
}

fn endpoint(el: Option<&Element>) -> Endpoint {
    let Some(el) = el else {
        return Endpoint { any: true, ..Endpoint::default() };
    };
    Endpoint {
        any: el.has("any"),
        network: el.value_of("network").map(str::to_string),
        address: el.value_of("address").map(str::to_string),
        not: el.has("not"),
        port: el.value_of("port").map(str::to_string),
    }
}

fn rule(el: &Element, index: usize) -> Rule {
    Rule {
        index,
        line: el.line,
        kind: el.text_of("type").unwrap_or_default().to_string(),
        interface: el.text_of("interface").unwrap_or_default().to_string(),
        ipprotocol: el.value_of("ipprotocol").map(str::to_string),
        protocol: el.value_of("protocol").map(str::to_string),
        source: endpoint(el.child("source")),
        destination: endpoint(el.child("destination")),
        disabled: el.has("disabled"),
        floating: el.value_of("floating") == Some("yes"),
        descr: el.value_of("descr").map(str::to_string),
        gateway: el.value_of("gateway").map(str::to_string),
    }
}
