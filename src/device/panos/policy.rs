//! The firewall's security policy as the lab's forward filter: zones become the lab ports of
//! their interfaces (the tunnel's interface is the tunnel, an ethernet interface the lab
//! interface with its address), security rules are evaluated in order and the first match
//! decides, and PAN-OS's predefined rules close the list: `intrazone-default` allows traffic
//! within a zone, `interzone-default` denies the rest (both may be overridden in the file).
//!
//! The lab's probes are ICMP echo, so a rule that names an application or service other than
//! `any` (or `ping`/`icmp`, `application-default`) cannot match them and is left out, reported
//! with why; so is a rule the lab cannot express (negated addresses) or whose zones have no
//! interface in the lab.

use std::collections::BTreeMap;

use ipnet::Ipv4Net;

use super::addresses::Resolver;
use super::config::{At, PanosConfig, RuleAction, RuleType, SecurityRule};
use super::defaults;
use crate::device::{DeviceError, ImportReport};
use crate::ike::intent::{Action, ForwardPolicy, ForwardRule, Port};

/// Which lab port each PAN-OS interface is (interfaces without one are not in the lab).
pub type Ports = BTreeMap<String, Port>;

fn action(a: RuleAction) -> Action {
    if a.allows() {
        Action::Accept
    } else {
        Action::Drop
    }
}

fn port_name(p: &Port) -> String {
    match p {
        Port::Tunnel => "tunnel".into(),
        Port::Interface(n) => n.clone(),
    }
}

/// The lab ports of a zone's interfaces.
pub fn zone_ports(config: &PanosConfig, ports: &Ports, zone: &str) -> Vec<Port> {
    let Some(z) = config.zones.iter().find(|z| z.name == zone) else { return Vec::new() };
    let mut out: Vec<Port> = z.layer3.iter().filter_map(|m| ports.get(&m.value).cloned()).collect();
    out.dedup();
    out
}

/// Zones a rule side names, as lab ports: `None` for `any`. A zone the file does not define
/// (a snippet that leaves the firewall's zones out) holds no lab port.
fn side(config: &PanosConfig, ports: &Ports, zones: &[At<String>]) -> Option<Vec<Port>> {
    if zones.is_empty() || zones.iter().any(|z| z.value == "any") {
        return None;
    }
    let mut out = Vec::new();
    for z in zones {
        for p in zone_ports(config, ports, &z.value) {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    Some(out)
}

/// The zones of a list the configuration does not define.
fn undefined<'a>(config: &PanosConfig, zones: &'a [At<String>]) -> Vec<&'a str> {
    zones.iter().map(|z| z.value.as_str()).filter(|z| *z != "any" && !config.zones.iter().any(|d| d.name == *z)).collect()
}

/// A rule side's addresses as prefixes: empty for `any`.
fn addresses(resolver: &mut Resolver, list: &[At<String>], rule: &SecurityRule, errors: &mut Vec<DeviceError>) -> Vec<Ipv4Net> {
    let mut out = Vec::new();
    for a in list {
        match resolver.prefixes(&a.value) {
            Ok(None) => return Vec::new(),
            Ok(Some(nets)) => out.extend(nets),
            Err(problem) => errors.push(DeviceError {
                line: a.line,
                element: a.path.clone(),
                message: format!("rule `{}`: {problem}", rule.name),
                hint: Some("a prefix (10.10.0.0/16), an address, a range (a-b), an ip-netmask or ip-range object, a static group, or any".into()),
            }),
        }
    }
    out
}

/// Why the lab's ICMP probes can never match a rule, if they cannot.
fn misses_icmp(rule: &SecurityRule) -> Option<String> {
    let apps: Vec<&str> = rule.application.iter().map(|a| a.value.as_str()).collect();
    if !apps.is_empty() && !apps.iter().any(|a| matches!(*a, "any" | "ping" | "icmp" | "traceroute")) {
        return Some(format!("it matches application {} only; the lab's probes are ICMP echo (App-ID ping)", apps.join(", ")));
    }
    let services: Vec<&str> = rule.service.iter().map(|s| s.value.as_str()).collect();
    if !services.is_empty() && !services.iter().any(|s| matches!(*s, "any" | "application-default")) {
        return Some(format!("it matches service {} only (TCP/UDP ports); the lab's probes are ICMP echo", services.join(", ")));
    }
    None
}

fn nets_text(list: &[Ipv4Net]) -> String {
    if list.is_empty() {
        "any".into()
    } else {
        list.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
    }
}

fn zones_text(list: &[At<String>]) -> String {
    if list.is_empty() {
        "any".into()
    } else {
        list.iter().map(|z| z.value.as_str()).collect::<Vec<_>>().join(",")
    }
}

/// The forward policy, with every zone and rule in the report.
pub fn forward_policy(config: &PanosConfig, ports: &Ports, resolver: &mut Resolver, report: &mut ImportReport) -> Result<ForwardPolicy, Vec<DeviceError>> {
    let mut errors: Vec<DeviceError> = config.problems.clone();
    for z in &config.zones {
        if let Some(t) = &z.other_type {
            report.ignored(&z.path, z.line, format!("a {} zone: the lab forwards at layer 3", t.value));
            continue;
        }
        let members: Vec<String> = z
            .layer3
            .iter()
            .map(|m| match ports.get(&m.value) {
                Some(p) => format!("{} (lab {})", m.value, port_name(p)),
                None => format!("{} (not in the lab)", m.value),
            })
            .collect();
        report.used(&z.path, z.line, format!("zone {}: {}", z.name, if members.is_empty() { "no interfaces".into() } else { members.join(", ") }));
    }
    let mut rules = Vec::new();
    for r in &config.rules {
        if !r.problems.is_empty() {
            errors.extend(r.problems.iter().cloned());
            continue;
        }
        if r.disabled.as_ref().is_some_and(|d| d.value) {
            report.ignored(&r.path, r.line, "a disabled rule");
            continue;
        }
        let negated: Vec<&str> = [("negate-source", &r.negate_source), ("negate-destination", &r.negate_destination)]
            .into_iter()
            .filter(|(_, v)| v.as_ref().is_some_and(|v| v.value))
            .map(|(k, _)| k)
            .collect();
        if !negated.is_empty() {
            report.ignored(&r.path, r.line, format!("{}: the lab's filter cannot express a negated address, so the rule is left out", negated.join(" and ")));
            continue;
        }
        if let Some(why) = misses_icmp(r) {
            report.ignored(&r.path, r.line, format!("{why}, so it never decides a probe and is left out"));
            continue;
        }
        let from = side(config, ports, &r.from);
        let to = side(config, ports, &r.to);
        let src = addresses(resolver, &r.source, r, &mut errors);
        let dst = addresses(resolver, &r.destination, r, &mut errors);
        let unreachable = [(&from, &r.from), (&to, &r.to)].into_iter().find(|(p, _)| p.as_ref().is_some_and(Vec::is_empty)).map(|(_, z)| zones_text(z));
        if let Some(zones) = unreachable {
            let missing: Vec<&str> = undefined(config, &r.from).into_iter().chain(undefined(config, &r.to)).collect();
            let why = if missing.is_empty() {
                format!("zone {zones} has no interface in this lab, so the rule never matches")
            } else {
                format!("zone {} is not defined in the configuration, so no lab interface is in it and the rule never matches", missing.join(", "))
            };
            report.ignored(&r.path, r.line, why);
            continue;
        }
        let rule_action = r.action.as_ref().map(|a| a.value).unwrap_or(RuleAction::Allow);
        let rule_type = r.rule_type.as_ref().map(|t| t.value).unwrap_or(RuleType::Universal);
        let verdict = if rule_action.allows() { "allow" } else { "deny" };
        let defaulted =
            if r.action.is_none() { format!(" ({} default: {})", defaults::RULE_ACTION.value, defaults::RULE_ACTION.source) } else { String::new() };
        report.used(
            &r.path,
            r.line,
            format!("{verdict} {} -> {}, {} -> {}{defaulted}", zones_text(&r.from), zones_text(&r.to), nets_text(&src), nets_text(&dst)),
        );
        let make =
            |from: Vec<Port>, to: Vec<Port>| ForwardRule { name: r.name.clone(), from, to, src: src.clone(), dst: dst.clone(), action: action(rule_action) };
        match rule_type {
            RuleType::Universal => rules.push(make(from.unwrap_or_default(), to.unwrap_or_default())),
            // Within each zone the rule names (every zone for `any`).
            RuleType::Intrazone => {
                let zones: Vec<&str> = if r.from.iter().any(|z| z.value == "any") || r.from.is_empty() {
                    config.zones.iter().map(|z| z.name.as_str()).collect()
                } else {
                    r.from.iter().map(|z| z.value.as_str()).collect()
                };
                for z in zones {
                    let p = zone_ports(config, ports, z);
                    if !p.is_empty() {
                        rules.push(make(p.clone(), p));
                    }
                }
            }
            // Between different zones only: one rule per pair.
            RuleType::Interzone => {
                let names = |list: &[At<String>]| -> Vec<String> {
                    if list.iter().any(|z| z.value == "any") || list.is_empty() {
                        config.zones.iter().map(|z| z.name.clone()).collect()
                    } else {
                        list.iter().map(|z| z.value.clone()).collect()
                    }
                };
                for a in names(&r.from) {
                    for b in names(&r.to).into_iter().filter(|b| *b != a) {
                        let (pa, pb) = (zone_ports(config, ports, &a), zone_ports(config, ports, &b));
                        if !pa.is_empty() && !pb.is_empty() {
                            rules.push(make(pa, pb));
                        }
                    }
                }
            }
        }
    }
    let (intrazone, interzone) = (&config.intrazone_default, &config.interzone_default);
    let intrazone_action = match intrazone {
        Some(a) => {
            report.used(&a.path, a.line, format!("intrazone-default: {}", if a.value.allows() { "allow" } else { "deny" }));
            a.value
        }
        None => {
            report.defaulted("rulebase default-security-rules rules intrazone-default", defaults::INTRAZONE_DEFAULT.value, defaults::INTRAZONE_DEFAULT.source);
            RuleAction::Allow
        }
    };
    for z in &config.zones {
        let p = zone_ports(config, ports, &z.name);
        if !p.is_empty() {
            rules.push(ForwardRule {
                name: "intrazone-default".into(),
                from: p.clone(),
                to: p,
                src: Vec::new(),
                dst: Vec::new(),
                action: action(intrazone_action),
            });
        }
    }
    let otherwise = match interzone {
        Some(a) => {
            report.used(&a.path, a.line, format!("interzone-default: {}", if a.value.allows() { "allow" } else { "deny" }));
            action(a.value)
        }
        None => {
            report.defaulted("rulebase default-security-rules rules interzone-default", defaults::INTERZONE_DEFAULT.value, defaults::INTERZONE_DEFAULT.source);
            Action::Drop
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ForwardPolicy { rules, otherwise })
}
