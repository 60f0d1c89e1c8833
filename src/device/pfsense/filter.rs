//! pfSense's firewall rules as the lab's forward policy ([`ForwardPolicy`]).
//!
//! pfSense filters traffic where it enters: each interface tab's rules, in order, first match
//! wins (`quick`), and what no rule passes is blocked ("Default deny rule IPv4"). Traffic from
//! IPsec enters on the IPsec tab (`<interface>enc0</interface>` in config.xml), which has no
//! rule until one is added, so everything from the tunnel is blocked by default; traffic from
//! the LAN into the tunnel passes by the "Default allow LAN to any" rule when it is there.
//! With the IPsec filter mode `if_ipsec` the IPsec tab filters nothing: VTI traffic is filtered
//! on the VTI's assigned interface and tunnel-mode traffic is blocked.
//!
//! The lab's forward policy has interfaces, networks and an action, no protocol or port: a rule
//! limited to TCP or UDP cannot match the lab's probes (ping) and is left out; a rule the lab
//! cannot express (an inverted match, an alias of host names) is left out too. Each is reported.
//! pfSense's hidden rules (anti-lockout, IKE/NAT-T/ESP to the firewall) concern traffic to the
//! firewall itself, which nothing in the lab filters.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::config::{Config, Endpoint, Rule};
use super::ifmap::Interfaces;
use crate::device::ImportReport;
use crate::ike::intent::{Action, ForwardPolicy, ForwardRule, Port};

/// How IPsec traffic is filtered (`ipsec/filtermode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterMode {
    /// The IPsec tab (enc0) filters all IPsec traffic, VTI included (the default).
    Enc,
    /// The assigned VTI interfaces filter VTI traffic; tunnel-mode traffic is blocked.
    IfIpsec,
}

/// The name of the "Default deny rule IPv4" pfSense ends every interface with.
pub const DEFAULT_DENY: &str = "Default deny rule IPv4";

/// The rules of `cfg` as a forward policy, each rule reported.
pub fn forward_policy(cfg: &Config, ifaces: &Interfaces, mode: FilterMode, tunnel_mode: bool, report: &mut ImportReport) -> ForwardPolicy {
    let mut rules = Vec::new();
    let mut aliases_used: Vec<String> = Vec::new();
    if mode == FilterMode::IfIpsec && tunnel_mode {
        rules.push(ForwardRule {
            name: "IPsec filter mode if_ipsec blocks tunnel-mode traffic".into(),
            from: vec![Port::Tunnel],
            to: Vec::new(),
            src: Vec::new(),
            dst: Vec::new(),
            action: Action::Drop,
        });
    }
    let mut aliases_skipped: Vec<String> = Vec::new();
    for rule in &cfg.rules {
        // The aliases a rule names count as used only when the rule is.
        let mut named = Vec::new();
        let outcome = forward_rule(rule, cfg, ifaces, mode, &mut named);
        let into = if outcome.is_ok() { &mut aliases_used } else { &mut aliases_skipped };
        into.extend(named);
        match outcome {
            Ok((r, note)) => {
                let what = format!("{} {} -> {}{note}", if r.action == Action::Accept { "pass" } else { "block" }, nets(&r.src), nets(&r.dst));
                report.used(rule.path(), Some(rule.line), format!("{}: {what}", r.name));
                rules.push(r);
            }
            Err(why) => report.ignored(rule.path(), Some(rule.line), format!("{}: {why}", rule_name(rule, ifaces))),
        }
    }
    rules.push(ForwardRule { name: DEFAULT_DENY.into(), from: Vec::new(), to: Vec::new(), src: Vec::new(), dst: Vec::new(), action: Action::Drop });
    report.defaulted(
        "filter (default deny)",
        "block what no rule passes, on every tab (the IPsec tab included: traffic from the tunnel needs a pass rule)",
        "pfSense's hidden \"Default deny rule IPv4\"",
    );
    if cfg.antilockout_disabled {
        report.used("system/webgui/noantilockout", None, "the anti-lockout rule is off (it concerns traffic to the firewall itself)");
    } else {
        report.ignored(
            "filter (anti-lockout rule)",
            None,
            "pfSense's hidden rule passing LAN to this firewall's web GUI and SSH: traffic to the firewall itself, which the lab does not filter",
        );
    }
    report.ignored(
        "filter (IPsec rules on the phase 1 interface)",
        None,
        "pfSense's hidden rules passing IKE (UDP 500), NAT-T (UDP 4500) and ESP from the Remote Gateway to the firewall: nothing filters the lab node's own input (IKE from other addresses, which pfSense blocks, reaches charon in the lab)",
    );
    for alias in &cfg.aliases {
        let path = format!("aliases/alias[name={}]", alias.name);
        if aliases_used.contains(&alias.name) {
            report.used(path, Some(alias.line), format!("{} alias: {}", alias.kind, alias.entries.join(" ")));
        } else if aliases_skipped.contains(&alias.name) {
            report.ignored(path, Some(alias.line), "named only by rules the lab leaves out (see them)");
        } else {
            report.ignored(path, Some(alias.line), "not named by a rule or route the lab models");
        }
    }
    ForwardPolicy { rules, otherwise: Action::Drop }
}

fn nets(list: &[Ipv4Net]) -> String {
    if list.is_empty() {
        "any".into()
    } else {
        list.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
    }
}

/// The tab a rule is on, as pfSense shows it: `IPsec`, `LAN`, `WAN`, a description.
fn tab(interface: &str, ifaces: &Interfaces) -> String {
    match interface {
        "enc0" => "IPsec".into(),
        other => ifaces.friendly(other),
    }
}

/// `IPsec: Allow VNet to LAN` (the tab and the rule's description, or its position).
fn rule_name(rule: &Rule, ifaces: &Interfaces) -> String {
    let descr = rule.descr.clone().unwrap_or_else(|| format!("rule {}", rule.index));
    if rule.floating {
        return format!("Floating: {descr}");
    }
    format!("{}: {descr}", tab(&rule.interface, ifaces))
}

/// Where a rule's traffic enters, in the lab's words.
fn port(interface: &str, ifaces: &Interfaces, mode: FilterMode) -> Result<Port, String> {
    if interface == "enc0" {
        return match mode {
            FilterMode::Enc => Ok(Port::Tunnel),
            FilterMode::IfIpsec => Err("IPsec filter mode if_ipsec: the IPsec tab filters nothing (VTI traffic is filtered on its assigned interface)".into()),
        };
    }
    if interface.contains(',') {
        return Err(format!("several interfaces ({interface}): only floating rules name several, and those are not modelled"));
    }
    let Some(m) = ifaces.get(interface) else {
        return Err(format!("interface `{interface}` is not in <interfaces> (an interface group or a removed interface)"));
    };
    if m.iface.vti_device().is_some() {
        return match mode {
            FilterMode::IfIpsec => Ok(Port::Tunnel),
            FilterMode::Enc => Err("a rule on an assigned VTI interface: with the IPsec filter mode enc (the default) VTI traffic is filtered on the IPsec tab, and pfSense generates no rules for this interface".into()),
        };
    }
    match &m.lab {
        Some((name, _)) => Ok(Port::Interface(name.clone())),
        None => Err(format!("interface {} is not in the lab", m.iface.friendly())),
    }
}

fn forward_rule(rule: &Rule, cfg: &Config, ifaces: &Interfaces, mode: FilterMode, aliases_used: &mut Vec<String>) -> Result<(ForwardRule, String), String> {
    if rule.disabled {
        return Err("disabled".into());
    }
    if rule.floating {
        return Err("a floating rule: not modelled (the lab's forward policy has per-interface rules only)".into());
    }
    match rule.ipprotocol.as_deref() {
        None | Some("inet") | Some("inet46") => {}
        Some(other) => return Err(format!("address family `{other}`: the lab is IPv4 only")),
    }
    let action = match rule.kind.as_str() {
        "block" | "reject" => Action::Drop,
        "match" => return Err("a match rule passes and blocks nothing".into()),
        // pass, and older rules without a type, which pfSense reads as pass.
        _ => Action::Accept,
    };
    let mut note = String::new();
    match rule.protocol.as_deref() {
        None | Some("any") => {}
        Some("icmp") => note.push_str(" (ICMP only on pfSense; the lab's forward policy has no protocol, so it applies to every protocol)"),
        Some(other) => {
            return Err(format!("protocol {other}: the lab's forward policy has no protocol, and this rule cannot match its probes (ping), so it is left out"))
        }
    }
    if rule.gateway.is_some() {
        note.push_str(" (its policy-routing gateway is not modelled)");
    }
    let from = port(&rule.interface, ifaces, mode)?;
    let src = endpoint(&rule.source, "source", cfg, ifaces, aliases_used)?;
    let dst = endpoint(&rule.destination, "destination", cfg, ifaces, aliases_used)?;
    Ok((ForwardRule { name: rule_name(rule, ifaces), from: vec![from], to: Vec::new(), src, dst, action }, note))
}

/// A rule's source or destination as networks (empty: any), or why the lab cannot match it.
fn endpoint(ep: &Endpoint, side: &str, cfg: &Config, ifaces: &Interfaces, aliases_used: &mut Vec<String>) -> Result<Vec<Ipv4Net>, String> {
    if ep.not {
        return Err(format!("an inverted {side} (`not`): the lab's forward policy cannot express it"));
    }
    if ep.any {
        return Ok(Vec::new());
    }
    if let Some(network) = &ep.network {
        return match network.as_str() {
            "(self)" => Err(format!("{side} This Firewall: traffic to or from the firewall itself is never forwarded")),
            "pppoe" | "l2tp" => Err(format!("{side} {network} clients: not in the lab")),
            key => match key.strip_suffix("ip").filter(|k| ifaces.get(k).is_some()) {
                Some(iface) => ifaces.host(iface).map(|a| vec![Ipv4Net::from(a)]).map_err(|why| format!("{side} {network}: {why}")),
                None => ifaces.network(key).map(|n| vec![n]).map_err(|why| format!("{side} {network}: {why}")),
            },
        };
    }
    match &ep.address {
        Some(address) => address_entry(address, cfg, aliases_used, 0).map_err(|why| format!("{side} {address}: {why}")),
        None => Ok(Vec::new()),
    }
}

/// An address, a network, or an alias (resolved through nested aliases).
pub fn address_entry(text: &str, cfg: &Config, aliases_used: &mut Vec<String>, depth: usize) -> Result<Vec<Ipv4Net>, String> {
    if let Ok(ip) = text.parse::<Ipv4Addr>() {
        return Ok(vec![Ipv4Net::from(ip)]);
    }
    if let Ok(net) = text.parse::<Ipv4Net>() {
        return Ok(vec![net.trunc()]);
    }
    if text.contains(':') {
        return Err("IPv6: the lab is IPv4 only".into());
    }
    let Some(alias) = cfg.aliases.iter().find(|a| a.name == text) else {
        return Err("neither an address, a network nor an alias in <aliases>".into());
    };
    if depth > 8 {
        return Err("aliases nested too deep (a loop?)".into());
    }
    match alias.kind.as_str() {
        "host" | "network" => {}
        other => return Err(format!("alias of type {other}: its entries are not in config.xml (or are not addresses)")),
    }
    if !aliases_used.contains(&alias.name) {
        aliases_used.push(alias.name.clone());
    }
    let mut out = Vec::new();
    for entry in &alias.entries {
        if entry.contains('-') && !entry.contains('/') && entry.split('-').all(|p| p.parse::<Ipv4Addr>().is_ok()) {
            return Err(format!("the alias holds the range {entry}, which the lab's forward policy does not take"));
        }
        match address_entry(entry, cfg, aliases_used, depth + 1) {
            Ok(list) => out.extend(list),
            Err(_) if entry.chars().any(|c| c.is_ascii_alphabetic()) && cfg.aliases.iter().all(|a| &a.name != entry) => {
                return Err(format!("the alias holds the host name {entry}, which pfSense resolves at run time"));
            }
            Err(why) => return Err(format!("{entry}: {why}")),
        }
    }
    Ok(out)
}
