//! A scenario's expected outcome, and how a run's evidence is judged against it: Phase 1 and
//! Phase 2 (up, with version, algorithms and selectors, or failed with a reason), pings (which
//! must succeed or fail, at which size, with or without DF), SA state after the steps,
//! counters, and the causes the diagnosis must name. Negative expectations are first-class.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::bgp::{SessionState, StateMatch};
use crate::diagnose::{self, Diagnosis};
use crate::evidence::alert::AlertKind;
use crate::evidence::sa::{established, ChildSa, ChildState, IkeSa};
use crate::evidence::Evidence;
use crate::model::error::LabError;
use crate::model::raw::Addr;
use crate::model::Lab;
use crate::run::verdict::{Outcome, Verdict};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    #[serde(default)]
    pub phase1: Option<Spanned<RawPhase>>,
    #[serde(default)]
    pub phase2: Option<Spanned<RawPhase>>,
    #[serde(default)]
    pub ping: Vec<Spanned<RawPing>>,
    #[serde(default)]
    pub sas: Vec<Spanned<RawSa>>,
    #[serde(default)]
    pub counters: Vec<Spanned<RawCounter>>,
    #[serde(default)]
    pub diagnosis: Vec<Spanned<String>>,
    /// `rekey: { succeeds: true }`: every rekey a step started is accepted (or refused).
    #[serde(default)]
    pub rekey: Option<RawRekeyExpect>,
    /// BGP sessions and routes, per node and peer.
    #[serde(default)]
    pub bgp: Vec<Spanned<RawBgp>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBgp {
    pub node: Spanned<String>,
    /// The neighbor's address (default: the node's only neighbor).
    #[serde(default)]
    pub peer: Option<Spanned<Addr>>,
    /// `established`, `down` (anything else), or an RFC 4271 state (`Idle`, `Active`, ...).
    #[serde(default)]
    pub state: Option<Spanned<String>>,
    /// Exactly these prefixes learned from the peer.
    #[serde(default)]
    pub learned: Option<Vec<crate::model::raw::Cidr>>,
    /// Exactly these prefixes advertised to the peer.
    #[serde(default)]
    pub advertised: Option<Vec<crate::model::raw::Cidr>>,
    /// None of these learned from the peer.
    #[serde(default)]
    pub not_learned: Vec<crate::model::raw::Cidr>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRekeyExpect {
    pub succeeds: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPhase {
    /// `up`, `failed` or `none` (never attempted / no SA).
    pub outcome: Spanned<String>,
    #[serde(default)]
    pub reason: Option<Spanned<String>>,
    /// Where to check (default: the initiator).
    #[serde(default)]
    pub node: Option<Spanned<String>>,
    #[serde(default)]
    pub version: Option<u8>,
    #[serde(default)]
    pub algorithms: Option<String>,
    #[serde(default)]
    pub local_ts: Option<Vec<String>>,
    #[serde(default)]
    pub remote_ts: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPing {
    pub from: Spanned<String>,
    pub to: Addr,
    pub succeeds: bool,
    #[serde(default)]
    pub size: Option<u16>,
    #[serde(default)]
    pub df: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSa {
    pub node: Spanned<String>,
    /// `established` or `none`.
    #[serde(default)]
    pub ike: Option<Spanned<String>>,
    /// `installed` or `none`.
    #[serde(default)]
    pub child: Option<Spanned<String>>,
    /// How many CHILD SAs are installed (one per proxy-ID, one per policy-based pair).
    #[serde(default)]
    pub children: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCounter {
    pub node: Spanned<String>,
    /// `in` or `out`.
    pub direction: Spanned<String>,
    /// `zero` or `rises`.
    pub bytes: Spanned<String>,
}

/// Why a phase failed, in the vocabulary engineers search logs for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Reason {
    #[serde(rename = "NO_PROPOSAL_CHOSEN")]
    NoProposalChosen,
    #[serde(rename = "AUTHENTICATION_FAILED")]
    AuthenticationFailed,
    #[serde(rename = "TS_UNACCEPTABLE")]
    TsUnacceptable,
    #[serde(rename = "PEER_NOT_RESPONDING")]
    PeerNotResponding,
    /// The SA came up and was later gone (expired after a failed rekey, or cleared by DPD).
    #[serde(rename = "EXPIRED")]
    Expired,
}

impl Reason {
    const ALL: [(Reason, &'static str); 5] = [
        (Reason::NoProposalChosen, "NO_PROPOSAL_CHOSEN"),
        (Reason::AuthenticationFailed, "AUTHENTICATION_FAILED"),
        (Reason::TsUnacceptable, "TS_UNACCEPTABLE"),
        (Reason::PeerNotResponding, "PEER_NOT_RESPONDING"),
        (Reason::Expired, "EXPIRED"),
    ];
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(r, _)| *r == self).map(|(_, n)| *n).unwrap_or("?")
    }
    fn parse(s: &str) -> Option<Reason> {
        Self::ALL.iter().find(|(_, n)| *n == s).map(|(r, _)| *r)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum PhaseExpect {
    Up { node: Option<String>, version: Option<u8>, algorithms: Option<String>, local_ts: Option<Vec<String>>, remote_ts: Option<Vec<String>> },
    Failed { node: Option<String>, reason: Option<Reason> },
    None { node: Option<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct PingExpect {
    pub from: String,
    pub to: std::net::Ipv4Addr,
    pub size: Option<u16>,
    pub df: bool,
    pub succeeds: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SaExpect {
    pub node: String,
    pub ike: Option<bool>,
    pub child: Option<bool>,
    /// Installed CHILD SAs, counted over the node's IKE SAs.
    pub children: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CounterExpect {
    pub node: String,
    pub outbound: bool,
    pub rises: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BgpExpect {
    pub node: String,
    pub peer: Ipv4Addr,
    pub state: Option<StateMatch>,
    pub learned: Option<Vec<Ipv4Net>>,
    pub advertised: Option<Vec<Ipv4Net>>,
    pub not_learned: Vec<Ipv4Net>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expect {
    pub phase1: Option<PhaseExpect>,
    pub phase2: Option<PhaseExpect>,
    pub pings: Vec<PingExpect>,
    pub sas: Vec<SaExpect>,
    pub counters: Vec<CounterExpect>,
    pub diagnosis: Vec<diagnose::CauseId>,
    /// Whether the rekeys the steps started are accepted.
    pub rekeys_succeed: Option<bool>,
    pub bgp: Vec<BgpExpect>,
}

/// The BGP neighbor `peer` names on `node` (or its only one), with errors for people.
pub fn bgp_peer(lab: &Lab, errors: &mut Vec<LabError>, field: &str, node: &Spanned<String>, peer: Option<&Spanned<Addr>>) -> Option<Ipv4Addr> {
    let Some(bgp) = lab.node(&node.value).and_then(|n| n.ipsec()).and_then(|i| i.bgp.as_ref()) else {
        let speakers: Vec<&str> = lab.ipsec_nodes().filter(|n| n.ipsec().is_some_and(|i| i.bgp.is_some())).map(|n| n.name.as_str()).collect();
        let hint = if speakers.is_empty() { "no node of this lab runs BGP".to_string() } else { speakers.join(", ") };
        errors.push(LabError::at(&node.referenced, format!("{field}.node"), format!("`{}` runs no BGP speaker", node.value)).hint(hint));
        return None;
    };
    let addresses: Vec<String> = bgp.neighbors.iter().map(|n| n.address.to_string()).collect();
    match peer {
        Some(p) if bgp.neighbor(p.value.0).is_some() => Some(p.value.0),
        Some(p) => {
            errors.push(
                LabError::at(&p.referenced, format!("{field}.peer"), format!("{} is not a BGP neighbor of {}", p.value.0, node.value))
                    .hint(addresses.join(", ")),
            );
            None
        }
        None if bgp.neighbors.len() == 1 => Some(bgp.neighbors[0].address),
        None => {
            errors.push(
                LabError::at(&node.referenced, format!("{field}.peer"), format!("{} has {} BGP neighbors: name one", node.value, bgp.neighbors.len()))
                    .hint(addresses.join(", ")),
            );
            None
        }
    }
}

fn ipsec_node(lab: &Lab, errors: &mut Vec<LabError>, field: &str, n: &Spanned<String>) {
    if lab.node(&n.value).and_then(|x| x.ipsec()).is_none() {
        let names: Vec<&str> = lab.ipsec_nodes().map(|x| x.name.as_str()).collect();
        errors.push(LabError::at(&n.referenced, field, format!("`{}` runs no IKE daemon", n.value)).hint(names.join(", ")));
    }
}

fn phase(raw: &Spanned<RawPhase>, field: &str, lab: &Lab, errors: &mut Vec<LabError>) -> Option<PhaseExpect> {
    let p = &raw.value;
    if let Some(n) = &p.node {
        ipsec_node(lab, errors, &format!("{field}.node"), n);
    }
    let node = p.node.as_ref().map(|n| n.value.clone());
    match p.outcome.value.as_str() {
        "up" => {
            Some(PhaseExpect::Up { node, version: p.version, algorithms: p.algorithms.clone(), local_ts: p.local_ts.clone(), remote_ts: p.remote_ts.clone() })
        }
        "failed" => {
            let reason = match &p.reason {
                None => None,
                Some(r) => match Reason::parse(&r.value) {
                    Some(x) => Some(x),
                    None => {
                        let valid: Vec<&str> = Reason::ALL.iter().map(|(_, n)| *n).collect();
                        errors.push(
                            LabError::at(&r.referenced, format!("{field}.reason"), format!("`{}` is not a failure reason vpnlab observes", r.value))
                                .hint(valid.join(", ")),
                        );
                        None
                    }
                },
            };
            Some(PhaseExpect::Failed { node, reason })
        }
        "none" => Some(PhaseExpect::None { node }),
        other => {
            errors.push(LabError::at(&p.outcome.referenced, format!("{field}.outcome"), format!("`{other}` is not an outcome")).hint("up, failed or none"));
            None
        }
    }
}

pub fn resolve(raw: &RawExpect, lab: &Lab, errors: &mut Vec<LabError>) -> Expect {
    let phase1 = raw.phase1.as_ref().and_then(|p| phase(p, "expect.phase1", lab, errors));
    let phase2 = raw.phase2.as_ref().and_then(|p| phase(p, "expect.phase2", lab, errors));
    let mut e = Expect { phase1, phase2, rekeys_succeed: raw.rekey.as_ref().map(|r| r.succeeds), ..Expect::default() };
    for b in &raw.bgp {
        let b = &b.value;
        let state = b.state.as_ref().and_then(|s| {
            let parsed = StateMatch::parse(&s.value);
            if parsed.is_none() {
                errors.push(
                    LabError::at(&s.referenced, "expect.bgp.state", format!("`{}` is not a BGP state", s.value))
                        .hint("established, down, or Idle, Connect, Active, OpenSent, OpenConfirm, Established"),
                );
            }
            parsed
        });
        if let Some(peer) = bgp_peer(lab, errors, "expect.bgp", &b.node, b.peer.as_ref()) {
            let nets = |v: &Vec<crate::model::raw::Cidr>| -> Vec<Ipv4Net> {
                let mut out: Vec<Ipv4Net> = v.iter().map(|c| c.0.trunc()).collect();
                out.sort();
                out
            };
            e.bgp.push(BgpExpect {
                node: b.node.value.clone(),
                peer,
                state,
                learned: b.learned.as_ref().map(nets),
                advertised: b.advertised.as_ref().map(nets),
                not_learned: nets(&b.not_learned),
            });
        }
    }
    for p in &raw.ping {
        if lab.node(&p.value.from.value).is_none() {
            errors.push(LabError::at(&p.value.from.referenced, "expect.ping.from", format!("no node `{}`", p.value.from.value)));
        }
        e.pings.push(PingExpect { from: p.value.from.value.clone(), to: p.value.to.0, size: p.value.size, df: p.value.df, succeeds: p.value.succeeds });
    }
    let state = |errors: &mut Vec<LabError>, v: &Option<Spanned<String>>, yes: &str, field: &str| -> Option<bool> {
        let v = v.as_ref()?;
        match v.value.as_str() {
            s if s == yes => Some(true),
            "none" => Some(false),
            other => {
                errors.push(LabError::at(&v.referenced, field, format!("`{other}` is not a state")).hint(format!("{yes} or none")));
                None
            }
        }
    };
    for s in &raw.sas {
        ipsec_node(lab, errors, "expect.sas.node", &s.value.node);
        let ike = state(errors, &s.value.ike, "established", "expect.sas.ike");
        let child = state(errors, &s.value.child, "installed", "expect.sas.child");
        e.sas.push(SaExpect { node: s.value.node.value.clone(), ike, child, children: s.value.children });
    }
    for c in &raw.counters {
        ipsec_node(lab, errors, "expect.counters.node", &c.value.node);
        let outbound = match c.value.direction.value.as_str() {
            "out" => true,
            "in" => false,
            other => {
                errors
                    .push(LabError::at(&c.value.direction.referenced, "expect.counters.direction", format!("`{other}` is not a direction")).hint("in or out"));
                true
            }
        };
        let rises = match c.value.bytes.value.as_str() {
            "rises" => true,
            "zero" => false,
            other => {
                errors.push(
                    LabError::at(&c.value.bytes.referenced, "expect.counters.bytes", format!("`{other}` is not a counter expectation")).hint("zero or rises"),
                );
                true
            }
        };
        e.counters.push(CounterExpect { node: c.value.node.value.clone(), outbound, rises });
    }
    for d in &raw.diagnosis {
        match diagnose::CauseId::parse(&d.value) {
            Some(id) => e.diagnosis.push(id),
            None => {
                let ids: Vec<&str> = diagnose::CauseId::all().map(diagnose::CauseId::as_str).collect();
                errors
                    .push(LabError::at(&d.referenced, "expect.diagnosis", format!("`{}` is not a cause in vpnlab's catalogue", d.value)).hint(ids.join(", ")));
            }
        }
    }
    e
}

/// What a phase did, as observed.
#[derive(Debug, Clone, Serialize)]
pub struct Observed {
    pub up: bool,
    pub reason: Option<Reason>,
    /// In words, with the evidence.
    pub detail: String,
}

fn initiator(lab: &Lab) -> &str {
    &lab.plan.initiator
}

pub fn observe_phase1(lab: &Lab, e: &Evidence, node: &str) -> Observed {
    let sas = e.after.get(node).map(Vec::as_slice).unwrap_or(&[]);
    if let Some(sa) = established(sas) {
        return Observed { up: true, reason: None, detail: format!("up: IKEv{} {}", sa.version, sa.algorithms) };
    }
    let npc = e.alerts(&[AlertKind::ProposalMismatchIke]);
    let mut auth = e.alerts(&[AlertKind::LocalAuthFailed, AlertKind::PeerAuthFailed]);
    if auth.is_empty() {
        auth = e
            .ikev1_undecryptable(lab.ipsec_nodes().any(|n| n.intent().is_some_and(|i| i.runs_ikev1())))
            .into_iter()
            .map(|a| format!("{a}: IKEv1 ID payload not decryptable"))
            .collect();
    }
    let timeout = e.alerts(&[AlertKind::PeerInitUnreachable, AlertKind::RetransmitSendTimeout]);
    let was_up = e.events.iter().any(|ev| ev.node == node && ev.what.ike_up());
    let (reason, detail) = if !auth.is_empty() {
        (Some(Reason::AuthenticationFailed), auth.join(", "))
    } else if !npc.is_empty() {
        (Some(Reason::NoProposalChosen), npc.join(", "))
    } else if was_up {
        (Some(Reason::Expired), "was up, then gone".to_string())
    } else if !timeout.is_empty() {
        (Some(Reason::PeerNotResponding), timeout.join(", "))
    } else {
        let msg = e.initiated.as_ref().and_then(|i| i.error.clone()).unwrap_or_else(|| "no IKE SA".into());
        (None, msg)
    };
    let _ = lab;
    Observed { up: false, reason, detail: format!("failed: {}{}", reason.map(|r| format!("{} ", r.name())).unwrap_or_default(), format_args!("({detail})")) }
}

pub fn observe_phase2(e: &Evidence, node: &str) -> Observed {
    let sas = e.after.get(node).map(Vec::as_slice).unwrap_or(&[]);
    if let Some(c) = established(sas).and_then(IkeSa::installed) {
        return Observed { up: true, reason: None, detail: format!("up: {} {} === {}", c.algorithms, c.local_ts.join(","), c.remote_ts.join(",")) };
    }
    let was_up = e.events.iter().any(|ev| ev.node == node && ev.what.child_up());
    let npc = e.child_refusals();
    let ts = e.alerts(&[AlertKind::TsMismatch]);
    let (reason, detail) = if was_up {
        let why = if npc.is_empty() { String::new() } else { format!("; {}", npc.join(", ")) };
        (Some(Reason::Expired), format!("was up, then gone{why}"))
    } else if !ts.is_empty() {
        (Some(Reason::TsUnacceptable), ts.join(", "))
    } else if !npc.is_empty() {
        (Some(Reason::NoProposalChosen), npc.join(", "))
    } else if established(sas).is_none() {
        (None, "no IKE SA, so no CHILD SA".to_string())
    } else {
        (None, "no CHILD SA".to_string())
    };
    Observed { up: false, reason, detail: format!("failed: {}({detail})", reason.map(|r| format!("{} ", r.name())).unwrap_or_default()) }
}

fn verdict(check: String, node: &str, pass: bool, evidence: String) -> Verdict {
    Verdict { check, node: node.to_string(), outcome: if pass { Outcome::Pass } else { Outcome::Fail }, evidence }
}

fn judge_phase(which: &str, expect: &PhaseExpect, lab: &Lab, e: &Evidence) -> Verdict {
    let node_of = |n: &Option<String>| n.clone().unwrap_or_else(|| initiator(lab).to_string());
    let observe = |node: &str| if which == "phase 1" { observe_phase1(lab, e, node) } else { observe_phase2(e, node) };
    match expect {
        PhaseExpect::Up { node, version, algorithms, local_ts, remote_ts } => {
            let node = node_of(node);
            let o = observe(&node);
            let mut pass = o.up;
            let mut wanted = vec!["up".to_string()];
            let sas = e.after.get(&node).map(Vec::as_slice).unwrap_or(&[]);
            if let Some(sa) = established(sas) {
                if which == "phase 1" {
                    if let Some(v) = version {
                        pass &= sa.version == *v;
                        wanted.push(format!("IKEv{v}"));
                    }
                    if let Some(a) = algorithms {
                        pass &= &sa.algorithms == a;
                        wanted.push(a.clone());
                    }
                } else if let Some(c) = sa.installed() {
                    if let Some(a) = algorithms {
                        pass &= &c.algorithms == a;
                        wanted.push(a.clone());
                    }
                    if let Some(l) = local_ts {
                        pass &= &c.local_ts == l;
                        wanted.push(format!("local {}", l.join(",")));
                    }
                    if let Some(r) = remote_ts {
                        pass &= &c.remote_ts == r;
                        wanted.push(format!("remote {}", r.join(",")));
                    }
                }
            }
            verdict(which.to_string(), &node, pass, format!("expected {}; observed {}", wanted.join(" "), o.detail))
        }
        PhaseExpect::Failed { node, reason } => {
            let node = node_of(node);
            let o = observe(&node);
            let pass = !o.up && (reason.is_none() || o.reason == *reason);
            let wanted = reason.map(|r| format!("failed with {}", r.name())).unwrap_or_else(|| "failed".into());
            verdict(which.to_string(), &node, pass, format!("expected {wanted}; observed {}", o.detail))
        }
        PhaseExpect::None { node } => {
            let node = node_of(node);
            let o = observe(&node);
            verdict(which.to_string(), &node, !o.up, format!("expected none; observed {}", o.detail))
        }
    }
}

fn judge_bgp(b: &BgpExpect, e: &Evidence) -> Verdict {
    let check = format!("BGP {} -> {}", b.node, b.peer);
    let list = |v: &[Ipv4Net]| if v.is_empty() { "nothing".to_string() } else { v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ") };
    let Some(snap) = e.bgp.get(&b.node) else {
        return verdict(check, &b.node, false, "expected a BGP speaker; observed none (the run ended before BGP started)".into());
    };
    let Some(peer) = snap.peer(b.peer) else {
        return verdict(check, &b.node, false, format!("expected a session with {}; the speaker has no such neighbor", b.peer));
    };
    let mut pass = true;
    let mut wanted = Vec::new();
    let learned = snap.learned_from(peer);
    let advertised = snap.advertised_to(b.peer);
    if let Some(s) = b.state {
        pass &= s.holds(peer.state);
        wanted.push(s.describe());
    }
    if let Some(l) = &b.learned {
        pass &= &learned == l;
        wanted.push(format!("learned {}", list(l)));
    }
    if let Some(a) = &b.advertised {
        pass &= &advertised == a;
        wanted.push(format!("advertised {}", list(a)));
    }
    if !b.not_learned.is_empty() {
        pass &= !b.not_learned.iter().any(|n| learned.contains(n));
        wanted.push(format!("not learned {}", list(&b.not_learned)));
    }
    let reset = match (&peer.last_reset, &peer.last_notification) {
        _ if peer.state == SessionState::Established => String::new(),
        (Some(r), Some(n)) => format!(", last reset: {r} ({n})"),
        (Some(r), None) => format!(", last reset: {r}"),
        (None, _) => String::new(),
    };
    let observed = format!("{} (AS {}), learned {}, advertised {}{reset}", peer.state.name(), peer.remote_asn, list(&learned), list(&advertised));
    verdict(check, &b.node, pass, format!("expected {}; observed {observed}", wanted.join(", ")))
}

/// Judges a run against a scenario's expectations; the diagnosis is part of the judgement.
pub fn judge(expect: &Expect, lab: &Lab, e: &Evidence) -> (Vec<Verdict>, Vec<Diagnosis>) {
    let mut out = Vec::new();
    if let Some(p) = &expect.phase1 {
        out.push(judge_phase("phase 1", p, lab, e));
    }
    if let Some(p) = &expect.phase2 {
        out.push(judge_phase("phase 2", p, lab, e));
    }
    for (p, r) in expect.pings.iter().zip(&e.pings) {
        let size = p.size.map(|s| format!(" size {s}")).unwrap_or_default();
        let df = if p.df { " DF" } else { "" };
        let check = format!("ping {} -> {}{size}{df}", p.from, p.to);
        let wanted = if p.succeeds { "a reply" } else { "no reply" };
        out.push(verdict(check, &p.from, r.success == p.succeeds, format!("expected {wanted}; observed {}", r.output)));
    }
    for s in &expect.sas {
        let sas = e.after.get(&s.node).map(Vec::as_slice).unwrap_or(&[]);
        let ike = established(sas).is_some();
        let child = established(sas).and_then(IkeSa::installed).is_some();
        let mut pass = true;
        let mut wanted = Vec::new();
        if let Some(x) = s.ike {
            pass &= ike == x;
            wanted.push(format!("IKE SA {}", if x { "established" } else { "none" }));
        }
        if let Some(x) = s.child {
            pass &= child == x;
            wanted.push(format!("CHILD SA {}", if x { "installed" } else { "none" }));
        }
        let installed: Vec<&str> = sas.iter().flat_map(|sa| sa.children.iter()).filter(|c| c.state == ChildState::Installed).map(|c| c.name.as_str()).collect();
        if let Some(n) = s.children {
            pass &= installed.len() == n as usize;
            wanted.push(format!("{n} CHILD SA(s) installed"));
        }
        let mut seen = format!("IKE SA {}, CHILD SA {}", if ike { "established" } else { "none" }, if child { "installed" } else { "none" });
        if s.children.is_some() {
            seen = format!("{seen}, {} installed ({})", installed.len(), installed.join(", "));
        }
        let steps = if e.steps.is_empty() { String::new() } else { format!(" (after: {})", e.steps.join("; ")) };
        out.push(verdict("SAs after the steps".into(), &s.node, pass, format!("expected {}; observed {seen}{steps}", wanted.join(", "))));
    }
    for c in &expect.counters {
        let child = |m: &std::collections::BTreeMap<String, Vec<IkeSa>>| m.get(&c.node).and_then(|s| established(s)).and_then(IkeSa::installed).cloned();
        let (b, a) = (child(&e.before), child(&e.after));
        let value = |x: &Option<ChildSa>| x.as_ref().map(|c2| if c.outbound { c2.bytes_out } else { c2.bytes_in }).unwrap_or(0);
        let (v0, v1) = (value(&b), value(&a));
        let rose = v1 > v0;
        let dir = if c.outbound { "out" } else { "in" };
        out.push(verdict(
            format!("bytes {dir}"),
            &c.node,
            rose == c.rises,
            format!("expected {}; observed {v0} -> {v1} bytes", if c.rises { "rising" } else { "zero (no traffic into the tunnel)" }),
        ));
    }
    if let Some(want) = expect.rekeys_succeed {
        for r in &e.rekeys {
            let word = if want { "accepted" } else { "refused" };
            out.push(verdict(format!("rekey started by {}", r.node), &r.node, r.success == want, format!("expected {word}; observed {}", r.detail)));
        }
    }
    for b in &expect.bgp {
        out.push(judge_bgp(b, e));
    }
    let diagnosis = diagnose::diagnose(lab, e);
    for id in &expect.diagnosis {
        let found = diagnosis.iter().any(|d| d.id == *id);
        let named: Vec<&str> = diagnosis.iter().map(|d| d.id.as_str()).collect();
        out.push(verdict(
            format!("diagnosis names {id}"),
            initiator(lab),
            found,
            format!("diagnosed: {}", if named.is_empty() { "nothing".into() } else { named.join(", ") }),
        ));
    }
    (out, diagnosis)
}
