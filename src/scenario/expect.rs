//! A scenario's expected outcome, and how a run's evidence is judged against it: Phase 1 and
//! Phase 2 (up, with version, algorithms and selectors, or failed with a reason), pings (which
//! must succeed or fail, at which size, with or without DF, from which source address), TCP
//! transfers (which must complete or not), SA state after the steps, each CHILD SA by name or
//! selector pair, counters, and the causes the diagnosis must name. Negative expectations are
//! first-class. A scenario's pings and TCP transfers are its lab's probes (`probes`).

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
    /// TCP transfers that must complete (or must not).
    #[serde(default)]
    pub tcp: Vec<Spanned<RawTcp>>,
    #[serde(default)]
    pub sas: Vec<Spanned<RawSa>>,
    /// CHILD SAs, each found by name or by selector pair, installed or not.
    #[serde(default)]
    pub children: Vec<Spanned<RawChild>>,
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
    /// Send from this address of `from` (ping -I).
    #[serde(default)]
    pub source: Option<Spanned<Addr>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTcp {
    pub from: Spanned<String>,
    pub to: Addr,
    pub port: u16,
    pub completes: bool,
    /// Bytes to send (default: the lab's default, 1 MiB).
    #[serde(default)]
    pub bytes: Option<u64>,
    /// The bound on the whole transfer (default 3s).
    #[serde(default)]
    pub within: Option<String>,
    #[serde(default)]
    pub source: Option<Spanned<Addr>>,
}

/// One CHILD SA: `name` (the child's name, or the part after `:` as PAN-OS names a proxy-ID),
/// or, without a name, the selector pair (`local_ts` and `remote_ts`, as the node sees them).
/// With a name, selectors written are what that child must have.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChild {
    pub node: Spanned<String>,
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    pub local_ts: Option<Vec<crate::model::raw::Cidr>>,
    #[serde(default)]
    pub remote_ts: Option<Vec<crate::model::raw::Cidr>>,
    /// `installed` (default) or `none`.
    #[serde(default)]
    pub state: Option<Spanned<String>>,
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
    pub source: Option<Ipv4Addr>,
    pub succeeds: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TcpExpect {
    pub from: String,
    pub to: Ipv4Addr,
    pub port: u16,
    pub source: Option<Ipv4Addr>,
    pub completes: bool,
}

/// A CHILD SA on a node: the installed children that fit (the name if given, the selectors if
/// given; at least one of the two ways), and whether one must be installed or none.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildExpect {
    pub node: String,
    pub name: Option<String>,
    pub local_ts: Option<Vec<Ipv4Net>>,
    pub remote_ts: Option<Vec<Ipv4Net>>,
    pub installed: bool,
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
    pub tcp: Vec<TcpExpect>,
    pub sas: Vec<SaExpect>,
    pub children: Vec<ChildExpect>,
    pub counters: Vec<CounterExpect>,
    pub diagnosis: Vec<diagnose::CauseId>,
    /// Whether the rekeys the steps started are accepted.
    pub rekeys_succeed: Option<bool>,
    pub bgp: Vec<BgpExpect>,
}

/// A BGP state as scenarios write it (`established`, `down`, or an RFC 4271 state name);
/// `None`, with the error, for anything else.
pub fn bgp_state(errors: &mut Vec<LabError>, field: &str, s: &Spanned<String>) -> Option<StateMatch> {
    let parsed = StateMatch::parse(&s.value);
    if parsed.is_none() {
        errors.push(
            LabError::at(&s.referenced, field, format!("`{}` is not a BGP state", s.value))
                .hint("established, down, or Idle, Connect, Active, OpenSent, OpenConfirm, Established"),
        );
    }
    parsed
}

/// An SA state word: `yes` (`established`, `installed`) is true, `none` false; anything else
/// is an error at its own line.
pub fn sa_state(errors: &mut Vec<LabError>, v: &Option<Spanned<String>>, yes: &str, field: &str) -> Option<bool> {
    let v = v.as_ref()?;
    match v.value.as_str() {
        s if s == yes => Some(true),
        "none" => Some(false),
        other => {
            errors.push(LabError::at(&v.referenced, field, format!("`{other}` is not a state")).hint(format!("{yes} or none")));
            None
        }
    }
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
        let state = b.state.as_ref().and_then(|s| bgp_state(errors, "expect.bgp.state", s));
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
        // The source is checked against the node's addresses where the lab reads the probe.
        let source = p.value.source.as_ref().map(|s| s.value.0);
        e.pings.push(PingExpect { from: p.value.from.value.clone(), to: p.value.to.0, size: p.value.size, df: p.value.df, source, succeeds: p.value.succeeds });
    }
    for t in &raw.tcp {
        let t = &t.value;
        let source = t.source.as_ref().map(|s| s.value.0);
        e.tcp.push(TcpExpect { from: t.from.value.clone(), to: t.to.0, port: t.port, source, completes: t.completes });
    }
    for c in &raw.children {
        if let Some(child) = child(&c.value, &c.referenced, lab, errors) {
            e.children.push(child);
        }
    }
    for s in &raw.sas {
        ipsec_node(lab, errors, "expect.sas.node", &s.value.node);
        let ike = sa_state(errors, &s.value.ike, "established", "expect.sas.ike");
        let child = sa_state(errors, &s.value.child, "installed", "expect.sas.child");
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

/// The probes a scenario's expectations ask for, as the lab's `run.probes`: the pings in order,
/// then the TCP transfers. They replace the lab's own probes.
pub fn probes(raw: &RawExpect) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for p in &raw.ping {
        let p = &p.value;
        let mut m = serde_json::json!({ "from": p.from.value, "to": p.to.0.to_string() });
        if let Some(s) = p.size {
            m["size"] = s.into();
        }
        if p.df {
            m["df"] = true.into();
        }
        if let Some(s) = &p.source {
            m["source"] = s.value.0.to_string().into();
        }
        out.push(serde_json::json!({ "ping": m }));
    }
    for t in &raw.tcp {
        let t = &t.value;
        let mut m = serde_json::json!({ "from": t.from.value, "to": t.to.0.to_string(), "port": t.port });
        if let Some(b) = t.bytes {
            m["bytes"] = b.into();
        }
        if let Some(w) = &t.within {
            m["within"] = w.clone().into();
        }
        if let Some(s) = &t.source {
            m["source"] = s.value.0.to_string().into();
        }
        out.push(serde_json::json!({ "tcp": m }));
    }
    out
}

/// Where a field of the scenario's `expect.ping` or `expect.tcp` lands in the patched lab's
/// `run.probes` (as [`probes`] writes them), so that the lab's errors about a probe point at
/// the scenario's line: `expect.ping[1].source` is `run.probes[1].ping.source`, and with two
/// pings `expect.tcp[0].to` is `run.probes[2].tcp.to`.
pub fn probe_field(index: &crate::model::tree::Index, path: &str) -> Option<String> {
    let split = |rest: &str| -> Option<(usize, String)> {
        let (i, tail) = rest.strip_prefix('[')?.split_once(']')?;
        Some((i.parse().ok()?, tail.to_string()))
    };
    if path == "expect.ping" || path == "expect.tcp" {
        return Some("run.probes".into());
    }
    if let Some(rest) = path.strip_prefix("expect.ping") {
        let (i, tail) = split(rest)?;
        return Some(format!("run.probes[{i}].ping{tail}"));
    }
    let (i, tail) = split(path.strip_prefix("expect.tcp")?)?;
    let pings = index.entries.iter().filter(|e| e.path.strip_prefix("expect.ping").and_then(split).is_some_and(|(_, t)| t.is_empty())).count();
    Some(format!("run.probes[{}].tcp{tail}", pings + i))
}

/// A child expectation, checked: a node that runs IKE, a way to find the child, a state, and
/// a name the node's intent knows.
fn child(c: &RawChild, at: &serde_saphyr::Location, lab: &Lab, errors: &mut Vec<LabError>) -> Option<ChildExpect> {
    ipsec_node(lab, errors, "expect.children.node", &c.node);
    let installed = match c.state.as_ref().map(|s| (s, s.value.as_str())) {
        None | Some((_, "installed")) => true,
        Some((_, "none")) => false,
        Some((s, other)) => {
            errors.push(LabError::at(&s.referenced, "expect.children.state", format!("`{other}` is not a CHILD SA state")).hint("installed or none"));
            return None;
        }
    };
    if c.name.is_none() && (c.local_ts.is_none() || c.remote_ts.is_none()) {
        let given = match (&c.local_ts, &c.remote_ts) {
            (Some(_), None) => "only `local_ts`",
            (None, Some(_)) => "only `remote_ts`",
            _ => "neither a name nor selectors",
        };
        errors.push(
            LabError::at(
                at,
                "expect.children",
                format!("a CHILD SA of {} is found by its name or by its selector pair, and this one has {given}", c.node.value),
            )
            .hint("`name: CHILD` (its selectors may follow), or both `local_ts: [...]` and `remote_ts: [...]` as the node sees them"),
        );
        return None;
    }
    if let (Some(n), Some(intent)) = (&c.name, lab.node(&c.node.value).and_then(|x| x.intent())) {
        let names: Vec<&str> = intent.connections.iter().flat_map(|conn| conn.children.iter()).map(|ch| ch.name.as_str()).collect();
        if !names.is_empty() && !names.iter().any(|x| child_named(x, &n.value)) {
            errors.push(
                LabError::at(&n.referenced, "expect.children.name", format!("{} has no CHILD SA named `{}`", c.node.value, n.value)).hint(names.join(", ")),
            );
        }
    }
    let nets = |v: &Vec<crate::model::raw::Cidr>| -> Vec<Ipv4Net> {
        let mut out: Vec<Ipv4Net> = v.iter().map(|x| x.0.trunc()).collect();
        out.sort();
        out
    };
    Some(ChildExpect {
        node: c.node.value.clone(),
        name: c.name.as_ref().map(|n| n.value.clone()),
        local_ts: c.local_ts.as_ref().map(nets),
        remote_ts: c.remote_ts.as_ref().map(nets),
        installed,
    })
}

/// Whether a child called `actual` is the one a scenario calls `wanted`: the whole name, or
/// the part after the connection's name (`azure-ipsec-tunnel:lan-low` is `lan-low`).
fn child_named(actual: &str, wanted: &str) -> bool {
    actual == wanted || actual.rsplit_once(':').is_some_and(|(_, n)| n == wanted)
}

/// Selectors as charon lists them, as a sorted set of prefixes (`None` when one is not a
/// prefix: a range, say, which no expectation can name).
fn selector_set(ts: &[String]) -> Option<Vec<Ipv4Net>> {
    let mut out = ts.iter().map(|t| t.parse::<Ipv4Net>().ok().map(|n| n.trunc())).collect::<Option<Vec<_>>>()?;
    out.sort();
    Some(out)
}

fn nets_text(v: &[Ipv4Net]) -> String {
    v.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

/// Every installed CHILD SA of a node, with its selectors, for an observation.
fn installed_children(sas: &[IkeSa]) -> Vec<&ChildSa> {
    sas.iter().flat_map(|sa| sa.children.iter()).filter(|c| c.state == ChildState::Installed).collect()
}

fn judge_child(c: &ChildExpect, e: &Evidence) -> Verdict {
    let sas = e.after.get(&c.node).map(Vec::as_slice).unwrap_or(&[]);
    let installed = installed_children(sas);
    let fits = |ch: &ChildSa| {
        c.name.as_ref().is_none_or(|n| child_named(&ch.name, n))
            && c.local_ts.as_ref().is_none_or(|l| selector_set(&ch.local_ts).as_ref() == Some(l))
            && c.remote_ts.as_ref().is_none_or(|r| selector_set(&ch.remote_ts).as_ref() == Some(r))
    };
    let found = installed.iter().any(|ch| fits(ch));
    let mut what = Vec::new();
    if let Some(n) = &c.name {
        what.push(n.clone());
    }
    match (&c.local_ts, &c.remote_ts) {
        (Some(l), Some(r)) => what.push(format!("{} === {}", nets_text(l), nets_text(r))),
        (Some(l), None) => what.push(format!("local {}", nets_text(l))),
        (None, Some(r)) => what.push(format!("remote {}", nets_text(r))),
        (None, None) => {}
    }
    let what = what.join(" ");
    let wanted = if c.installed { "installed" } else { "none installed" };
    let seen = if installed.is_empty() {
        let ike = if established(sas).is_some() { "IKE SA established" } else { "no IKE SA" };
        format!("no CHILD SA installed ({ike})")
    } else {
        let list: Vec<String> = installed.iter().map(|ch| format!("{} {} === {}", ch.name, ch.local_ts.join(","), ch.remote_ts.join(","))).collect();
        format!("{} installed: {}", list.len(), list.join("; "))
    };
    verdict(format!("CHILD SA {what}"), &c.node, found == c.installed, format!("expected {wanted}; observed {seen}"))
}

fn judge_tcp(t: &TcpExpect, r: Option<&crate::evidence::TcpResult>) -> Verdict {
    let source = t.source.map(|s| format!(" from {s}")).unwrap_or_default();
    let check = format!("tcp {} -> {}:{}{source}", t.from, t.to, t.port);
    let Some(r) = r else {
        return verdict(check, &t.from, false, "expected a transfer; observed none (the run ended before the probes)".into());
    };
    let wanted = if t.completes { format!("{} bytes within {} s", r.bytes, r.within_ms as f64 / 1000.0) } else { "no complete transfer".into() };
    verdict(check, &t.from, r.completed() == t.completes, format!("expected {wanted}; observed {}: {}", r.outcome.word(), r.detail))
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
        let source = p.source.map(|s| format!(" from {s}")).unwrap_or_default();
        let check = format!("ping {} -> {}{source}{size}{df}", p.from, p.to);
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
    for c in &expect.children {
        out.push(judge_child(c, e));
    }
    for (i, t) in expect.tcp.iter().enumerate() {
        out.push(judge_tcp(t, e.tcp.get(i)));
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::evidence::{TcpOutcome, TcpResult};

    const LAB: &str = include_str!("../../labs/azure-strongswan/lab.yaml");
    const LAB_FILE: &str = "labs/azure-strongswan/lab.yaml";
    const FILE: &str = "labs/azure-strongswan/scenarios/probes.yaml";

    fn scenario(text: &str) -> Result<crate::scenario::Scenario, String> {
        crate::scenario::parse(Path::new(FILE), text, Path::new(LAB_FILE), LAB)
    }

    /// A node's SAs: one IKE SA with these installed children (name, local, remote).
    fn sas(children: &[(&str, &str, &str)]) -> Vec<IkeSa> {
        let mut sa = IkeSa::example(Some("x"), 0);
        let template = sa.children.remove(0);
        for (name, l, r) in children {
            sa.children.push(ChildSa { name: name.to_string(), local_ts: vec![l.to_string()], remote_ts: vec![r.to_string()], ..template.clone() });
        }
        vec![sa]
    }

    fn child(name: Option<&str>, ts: Option<(&str, &str)>, installed: bool) -> ChildExpect {
        ChildExpect {
            node: "firewall".into(),
            name: name.map(Into::into),
            local_ts: ts.map(|(l, _)| vec![l.parse().unwrap()]),
            remote_ts: ts.map(|(_, r)| vec![r.parse().unwrap()]),
            installed,
        }
    }

    #[test]
    fn children_by_name_or_by_selector_pair() {
        let mut e = Evidence::default();
        e.after.insert("firewall".into(), sas(&[("azure-ipsec-tunnel:lan-low", "10.10.0.0/17", "10.20.0.0/16")]));
        let pass = |c: ChildExpect| judge_child(&c, &e).outcome == Outcome::Pass;
        // The proxy-ID's own name, or the whole child name; with its selectors, or others.
        assert!(pass(child(Some("lan-low"), None, true)));
        assert!(pass(child(Some("azure-ipsec-tunnel:lan-low"), Some(("10.10.0.0/17", "10.20.0.0/16")), true)));
        assert!(!pass(child(Some("lan-low"), Some(("10.10.0.0/16", "10.20.0.0/16")), true)));
        assert!(pass(child(Some("lan-high"), None, false)));
        assert!(pass(child(None, Some(("10.10.0.0/17", "10.20.0.0/16")), true)));
        assert!(pass(child(None, Some(("10.10.128.0/17", "10.20.0.0/16")), false)));
        assert!(!pass(child(None, Some(("10.10.0.0/17", "10.20.0.0/16")), false)));
        // A failing expectation lists every installed child with its selectors.
        let v = judge_child(&child(Some("lan-high"), None, true), &e);
        assert_eq!(v.check, "CHILD SA lan-high");
        assert_eq!(v.evidence, "expected installed; observed 1 installed: azure-ipsec-tunnel:lan-low 10.10.0.0/17 === 10.20.0.0/16");
        let v = judge_child(&ChildExpect { node: "azure-gw".into(), ..child(None, Some(("10.20.0.0/16", "10.10.0.0/17")), true) }, &e);
        assert_eq!((v.outcome, v.evidence.as_str()), (Outcome::Fail, "expected installed; observed no CHILD SA installed (no IKE SA)"));
    }

    #[test]
    fn tcp_completes_or_not() {
        let expect = TcpExpect { from: "lan-pc".into(), to: "10.20.0.4".parse().unwrap(), port: 5001, source: None, completes: true };
        let result = |outcome, detail: &str| TcpResult {
            from: "lan-pc".into(),
            to: "10.20.0.4".into(),
            port: 5001,
            source: None,
            bytes: 1000,
            received: if outcome == TcpOutcome::Completed { 1000 } else { 300 },
            connect_ms: Some(1.0),
            ms: 3000.0,
            within_ms: 3000,
            outcome,
            detail: detail.into(),
        };
        let done = result(TcpOutcome::Completed, "connected in 1.0 ms, 1000 bytes in 2.0 ms");
        assert_eq!(judge_tcp(&expect, Some(&done)).outcome, Outcome::Pass);
        let stalled = result(TcpOutcome::Stalled, "connected in 1.0 ms; 300 of 1000 bytes arrived within 3 s");
        let v = judge_tcp(&expect, Some(&stalled));
        assert_eq!(v.check, "tcp lan-pc -> 10.20.0.4:5001");
        assert_eq!(
            (v.outcome, v.evidence.as_str()),
            (Outcome::Fail, "expected 1000 bytes within 3 s; observed stalled: connected in 1.0 ms; 300 of 1000 bytes arrived within 3 s")
        );
        assert_eq!(judge_tcp(&TcpExpect { completes: false, ..expect.clone() }, Some(&stalled)).outcome, Outcome::Pass);
        assert_eq!(judge_tcp(&expect, None).outcome, Outcome::Fail);
    }

    #[test]
    fn scenario_probes_become_the_labs_probes() {
        let s = scenario(
            "title: t\nexpect:\n  ping:\n    - { from: firewall, source: 172.16.0.2, to: 10.20.0.4, succeeds: false }\n  tcp:\n    - { from: lan-pc, to: 10.20.0.4, port: 5001, bytes: 4096, within: 2s, completes: true }\n",
        )
        .unwrap();
        assert_eq!(s.lab.plan.probes[0].source, Some("172.16.0.2".parse().unwrap()));
        let t = &s.lab.plan.tcp[0];
        assert_eq!((t.sink.as_str(), t.port, t.bytes, t.within.as_secs()), ("azure-vm", 5001, 4096, 2));
        assert_eq!(s.expect.pings[0].source, s.lab.plan.probes[0].source);
        assert!(s.expect.tcp[0].completes);
    }

    #[test]
    fn probe_and_child_mistakes_point_at_the_scenario() {
        let e = scenario("title: t\nexpect:\n  ping:\n    - { from: firewall, source: 10.10.0.5, to: 10.20.0.4, succeeds: true }\n").unwrap_err();
        assert!(e.contains("probes.yaml:4:33: run.probes.ping.source: 10.10.0.5 is not an address of firewall"), "{e}");
        assert!(e.contains("firewall's addresses: 10.10.0.1 (lan), 172.16.0.2 (wan)"), "{e}");
        let e = scenario("title: t\nexpect:\n  ping:\n    - { from: lan-pc, to: 10.20.0.4, succeeds: true }\n  tcp:\n    - { from: lan-pc, to: 10.99.0.4, port: 80, completes: true }\n").unwrap_err();
        assert!(e.contains("probes.yaml:6:27: run.probes.tcp.to: no node of the lab has 10.99.0.4"), "{e}");
        let e = scenario("title: t\nexpect:\n  children:\n    - { node: firewall, local_ts: [10.10.0.0/16] }\n").unwrap_err();
        assert!(
            e.contains(
                "probes.yaml:4:7: expect.children: a CHILD SA of firewall is found by its name or by its selector pair, and this one has only `local_ts`"
            ),
            "{e}"
        );
        let e = scenario("title: t\nexpect:\n  children:\n    - { node: firewall, name: nope, state: up }\n").unwrap_err();
        assert!(e.contains("`up` is not a CHILD SA state"), "{e}");
        let e = scenario("title: t\nexpect:\n  children:\n    - { node: firewall, name: nope }\n").unwrap_err();
        assert!(e.contains("expect.children.name: firewall has no CHILD SA named `nope`"), "{e}");
    }

    #[test]
    fn probe_fields_map_to_the_labs_probes() {
        let text = "expect:\n  ping:\n    - { from: a, to: 1.2.3.4, succeeds: true }\n    - { from: a, to: 1.2.3.4, succeeds: true }\n  tcp:\n    - { from: a, to: 1.2.3.4, port: 1, completes: true }\n";
        let index = crate::model::tree::Index::of(text).unwrap();
        assert_eq!(probe_field(&index, "expect.ping[1].source").as_deref(), Some("run.probes[1].ping.source"));
        assert_eq!(probe_field(&index, "expect.tcp[0].to").as_deref(), Some("run.probes[2].tcp.to"));
        assert_eq!(probe_field(&index, "expect.phase1"), None);
    }
}
