//! `vpnlab azure explain`: the effective behaviour of a simulated gateway, phase by phase and
//! role by role, in real-world and (when the lab compresses time) lab units, with the rule
//! behind each line and that rule's evidence and sources.

use std::fmt::Write as _;

use serde::Serialize;
use tabled::builder::Builder;
use tabled::settings::Style;

use super::rules::{self, Rule, RuleId};
use super::{protocol_name, AzureSite, ConnectionMode, OtherIkeVersion, VpnType};
use crate::device::RunContext;
use crate::ike::intent::{scaled, IkeVersion};
use crate::ike::proposal;

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub topic: &'static str,
    pub what: String,
    pub value: String,
    /// The rule (rules.rs) this line follows.
    pub rule: RuleId,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleRef {
    pub id: &'static str,
    pub evidence: &'static str,
    pub sources: Vec<String>,
    pub statement: &'static str,
    pub modelled: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub node: String,
    pub summary: Vec<String>,
    pub role: &'static str,
    pub time_scale: f64,
    pub lines: Vec<Line>,
    pub rules: Vec<RuleRef>,
}

fn seconds(real: u64, scale: f64) -> String {
    let thousands = |n: u64| {
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    if scale == 1.0 {
        format!("{} s", thousands(real))
    } else {
        format!("{} s ({} s in this lab at time scale {scale})", thousands(real), thousands(scaled(real, scale)))
    }
}

/// The gateway of `node` as it behaves in a run with this context.
pub fn explain(node: &str, site: &AzureSite, run: RunContext) -> Explanation {
    let e = site.effective();
    let c = &site.connection;
    let mut lines = Vec::new();
    let mut line = |topic: &'static str, what: &str, value: String, rule: RuleId| {
        lines.push(Line { topic, what: what.to_string(), value, rule });
    };
    let policy_rule = if c.policy.is_some() { RuleId::CustomPolicyExact } else { RuleId::DefaultPolicyPhase1 };
    let version = protocol_name(e.version);
    line("Phase 1", "IKE version", format!("{version} only"), RuleId::VpnTypeIkeVersions);
    line("Phase 1", "offers as initiator", proposal::list(&e.ike_proposals), policy_rule);
    line("Phase 1", "accepts as responder", proposal::list(&e.ike_proposals), policy_rule);
    line("Phase 1", "lifetime", seconds(e.ike_lifetime_s, run.time_scale), RuleId::IkeSaLifetime);
    let rekey = if e.version == IkeVersion::V1 {
        "no in-place rekey: at 90 % of its lifetime the IKE SA is deleted and built again, so the tunnel drops (by the lab's supervisor, for labs left running by `vpnlab up`)"
    } else {
        "rekeyed in place at 90 % of its lifetime"
    };
    line("Phase 1", "renewal", rekey.to_string(), if e.version == IkeVersion::V1 { RuleId::Ikev1Rekey } else { RuleId::Ikev2Rekey });
    let (offer_rule, accept_rule) = match (&c.policy, site.gateway.vpn_type) {
        (Some(_), _) => (RuleId::CustomPolicyExact, RuleId::CustomPolicyExact),
        (None, VpnType::PolicyBased) => (RuleId::DefaultPolicyPolicyBasedPhase2, RuleId::DefaultPolicyPolicyBasedPhase2),
        (None, VpnType::RouteBased) => (RuleId::DefaultPolicyPhase2Initiator, RuleId::DefaultPolicyPhase2Responder),
    };
    line("Phase 2", "offers as initiator", proposal::list(&e.esp_offered), offer_rule);
    line("Phase 2", "accepts as responder", proposal::list(&e.esp_accepted), accept_rule);
    let kb = e.child_lifetime_kb.map(|k| format!(" / {k} KB")).unwrap_or_default();
    line("Phase 2", "lifetime", format!("{}{kb}", seconds(e.child_lifetime_s, run.time_scale)), RuleId::ChildSaLifetime);
    let offered: Vec<String> = e.selectors_offered.iter().map(|s| s.describe()).collect();
    let ts_rule = if site.gateway.vpn_type == VpnType::PolicyBased {
        RuleId::PolicyBasedSelectors
    } else if c.policy_based_selectors {
        if c.selector_policies.is_empty() {
            RuleId::PbtsCrossProduct
        } else {
            RuleId::TrafficSelectorPolicies
        }
    } else {
        RuleId::RouteBasedAnyToAny
    };
    line("Traffic selectors", "proposed as initiator", offered.join("; "), ts_rule);
    let accept_ts_rule = if c.policy_based_selectors {
        RuleId::ResponderAcceptsAnySelectors
    } else if site.gateway.vpn_type == VpnType::PolicyBased {
        RuleId::PolicyBasedSelectors
    } else {
        RuleId::NarrowedSelectors
    };
    line("Traffic selectors", "accepted as responder", e.selectors_accepted.clone(), accept_ts_rule);
    match e.dpd_timeout_s {
        Some(t) => line(
            "Liveness",
            "dead peer detection",
            format!("timeout {}; probes every {}", seconds(u64::from(t), run.time_scale), seconds(u64::from(t / 3).max(1), run.time_scale)),
            RuleId::DpdTimeout,
        ),
        None => line("Liveness", "dead peer detection", "none (policy-based gateways do not run DPD)".into(), RuleId::DpdTimeout),
    }
    line("Liveness", "NAT traversal", "supported; ESP in UDP 4500 (always, on this data path)".into(), RuleId::NatT);
    let mode_rule = match c.mode {
        ConnectionMode::Default => RuleId::ConnectionModeDefault,
        ConnectionMode::InitiatorOnly => RuleId::ConnectionModeInitiatorOnly,
        ConnectionMode::ResponderOnly => RuleId::ConnectionModeResponderOnly,
    };
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    line("Who initiates", "Azure may initiate", yes_no(e.azure_may_initiate).into(), mode_rule);
    line(
        "Who initiates",
        "the peer may initiate",
        format!("{}{}", yes_no(e.peer_may_initiate), if e.peer_may_initiate { "" } else { " (dropped silently)" }),
        mode_rule,
    );
    line("Who initiates", "in this lab", if run.starts_first { "Azure initiates".into() } else { "the peer initiates".into() }, mode_rule);
    let other = match site.switches.other_ike_version {
        OtherIkeVersion::Ignore => "ignored: dropped before the daemon (otherIkeVersion: ignore)",
        OtherIkeVersion::Reject => "answered with NO_PROPOSAL_CHOSEN (otherIkeVersion: reject)",
    };
    line("Who initiates", "the other IKE version", other.into(), RuleId::OtherIkeVersionIgnored);
    let prefixes: Vec<String> = site.local_gateway.prefixes.iter().map(|p| p.to_string()).collect();
    line("Routing", "routes into the tunnel", if prefixes.is_empty() { "none".into() } else { prefixes.join(", ") }, RuleId::LngPrefixesStaticRoutes);

    let mut ids: Vec<RuleId> = e.rules.clone();
    for l in &lines {
        if !ids.contains(&l.rule) {
            ids.push(l.rule);
        }
    }
    let rules = ids.iter().map(|id| rule_ref(rules::rule(*id))).collect();
    Explanation {
        node: node.to_string(),
        summary: site.summary(),
        role: if run.starts_first { "initiator" } else { "responder" },
        time_scale: run.time_scale,
        lines,
        rules,
    }
}

fn rule_ref(r: &'static Rule) -> RuleRef {
    RuleRef {
        id: r.id.as_str(),
        evidence: r.evidence.label(),
        sources: r
            .sources
            .iter()
            .map(|s| match rules::source(s) {
                Some(src) => format!("[{}] {} ({})", src.id, src.title, src.date),
                None => format!("[{s}]"),
            })
            .collect(),
        statement: r.statement,
        modelled: r.modelled,
    }
}

impl Explanation {
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} · role in this lab: {}", self.node, self.role);
        for s in &self.summary {
            let _ = writeln!(out, "  {s}");
        }
        let _ = writeln!(out);
        let mut b = Builder::default();
        b.push_record(["", "", "behaviour", "rule"]);
        let mut last = "";
        for l in &self.lines {
            let topic = if l.topic == last { "" } else { l.topic };
            last = l.topic;
            b.push_record([topic, l.what.as_str(), l.value.as_str(), l.rule.as_str()]);
        }
        let _ = writeln!(out, "{}\n", b.build().with(Style::psql()));
        let mut r = Builder::default();
        r.push_record(["rule", "evidence", "sources"]);
        for rule in &self.rules {
            // Source ids only here; titles, dates and addresses are in --format json and in
            // docs/azure-model.md (`vpnlab azure explain --all`).
            let ids: Vec<&str> = rule.sources.iter().map(|s| s.split(']').next().unwrap_or(s).trim_start_matches('[')).collect();
            r.push_record([rule.id, rule.evidence, &ids.join(", ")]);
        }
        let _ = writeln!(out, "{}", r.build().with(Style::psql()));
        let _ = writeln!(out, "sources: `vpnlab azure explain --all` or docs/azure-model.md");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The explanation of a shipped gateway in each role: every line names its rule, and the
    /// role line follows the run.
    #[test]
    fn explanations_follow_the_run() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for lab in ["labs/azure-strongswan", "labs/azure-pfsense-home", "tests/fixtures/azure"] {
            let lab = crate::model::load(&root.join(lab)).expect("lab loads");
            let (node, site, _) = lab.azure_gateway().expect("a gateway");
            for starts_first in [true, false] {
                let e = explain(&node.name, site, RunContext { starts_first, time_scale: lab.time_scale });
                assert_eq!(e.role, if starts_first { "initiator" } else { "responder" });
                for l in &e.lines {
                    assert!(e.rules.iter().any(|r| r.id == l.rule.as_str()), "{}: rule {} of `{}` is not listed", lab.name, l.rule, l.what);
                }
            }
        }
    }
}
