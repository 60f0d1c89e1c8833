//! Typed evidence: what a run observed, under everything that reads it. The driver and the
//! probes fill it in (`strongswan/`, `run/`); verdicts, scenario judges, diagnoses, bench and
//! the reports read it, and never parse text back.

pub mod alert;
pub mod event;
pub mod sa;
pub mod timeline;

use std::collections::BTreeMap;

use serde::Serialize;

use self::alert::AlertKind;
use self::event::Event;
use self::sa::IkeSa;

/// How `initiate` ended.
#[derive(Debug, Clone, Serialize)]
pub struct InitiateOutcome {
    pub node: String,
    pub connection: String,
    pub child: String,
    pub success: bool,
    /// charon's error message when it failed.
    pub error: Option<String>,
    pub ms: f64,
}

/// One ping probe: from which node to which address, and whether it answered.
#[derive(Debug, Clone, Serialize)]
pub struct PingResult {
    pub from: String,
    pub to: String,
    /// The source address it was sent from (ping -I), when the probe chose one.
    pub source: Option<String>,
    pub size: Option<u16>,
    pub df: bool,
    pub success: bool,
    pub attempts: u32,
    /// ping's own summary (or the reason it could not run).
    pub output: String,
}

/// How a TCP probe ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TcpOutcome {
    /// Connected, every byte sent and acknowledged by the sink, within the bound.
    Completed,
    /// Connected, but the transfer did not finish within the bound (the classic MTU black hole,
    /// or a return path that drops the data's acknowledgements).
    Stalled,
    /// The connection attempt was answered with a reset or an ICMP error.
    Refused,
    /// No answer to the connection attempt within the bound.
    NoConnection,
    /// The probe could not run (no socket in the node, the sink could not listen).
    Error,
}

impl TcpOutcome {
    pub fn word(self) -> &'static str {
        match self {
            TcpOutcome::Completed => "completed",
            TcpOutcome::Stalled => "stalled",
            TcpOutcome::Refused => "refused",
            TcpOutcome::NoConnection => "no connection",
            TcpOutcome::Error => "error",
        }
    }
}

/// One TCP probe: a connection from a node to an address where vpnlab ran a sink, and how much
/// of the transfer arrived.
#[derive(Debug, Clone, Serialize)]
pub struct TcpResult {
    pub from: String,
    pub to: String,
    pub port: u16,
    pub source: Option<String>,
    /// Bytes the probe was to send.
    pub bytes: u64,
    /// Bytes the sink received.
    pub received: u64,
    /// Milliseconds until the connection was established, if it was.
    pub connect_ms: Option<f64>,
    /// Milliseconds from the start until the probe ended (completed, or gave up).
    pub ms: f64,
    pub within_ms: u64,
    pub outcome: TcpOutcome,
    /// In words: what happened and where it stopped.
    pub detail: String,
}

impl TcpResult {
    pub fn completed(&self) -> bool {
        self.outcome == TcpOutcome::Completed
    }
}

/// A rekey a scenario step started on one side, and how it ended.
#[derive(Debug, Clone, Serialize)]
pub struct RekeyOutcome {
    /// The node that started the rekey (its offer went out).
    pub node: String,
    /// The CHILD SA it rekeyed.
    pub child: String,
    pub success: bool,
    /// What showed it: the rekey event, or the refusal.
    pub detail: String,
}

/// What a run observed, for judges and diagnoses.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub initiated: Option<InitiateOutcome>,
    /// SAs by node before and after the probes.
    pub before: BTreeMap<String, Vec<IkeSa>>,
    pub after: BTreeMap<String, Vec<IkeSa>>,
    pub pings: Vec<PingResult>,
    /// TCP probes, after the pings.
    pub tcp: Vec<TcpResult>,
    /// One line per step: what it did and saw (for people).
    pub steps: Vec<String>,
    /// Nodes whose IKE daemon a step killed.
    pub killed: Vec<String>,
    /// Nodes whose IKE daemon a step restarted (or made forget its SAs).
    pub restarts: Vec<String>,
    /// Address changes made by steps: (node, interface, old, new).
    pub address_changes: Vec<(String, String, ipnet::Ipv4Net, ipnet::Ipv4Net)>,
    /// Name records changed by steps.
    pub dns_updates: Vec<(String, std::net::Ipv4Addr)>,
    /// Rekeys started by steps.
    pub rekeys: Vec<RekeyOutcome>,
    pub events: Vec<Event>,
    /// Each BGP speaker's state after the probes, by node.
    pub bgp: BTreeMap<String, crate::bgp::BgpSnapshot>,
}

impl Evidence {
    /// The error-notify alerts of these kinds, as `KIND on node`, each once, in order.
    pub fn alerts(&self, kinds: &[AlertKind]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for ev in self.events.iter().filter(|ev| ev.what.is_alert(kinds)) {
            let s = format!("{} on {}", ev.what.kind(), ev.node);
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }
}

impl Evidence {
    /// CHILD SA proposals refused: error-notify alerts, and NO_PROPOSAL_CHOSEN received by a
    /// node whose IKE SA came up (IKEv1 Quick Mode raises no alert), as `KIND on node`, each
    /// once. (The notify is read from the initiate's log stream and the IKE SA's event from
    /// the event stream, so their order in the timeline says nothing.)
    pub fn child_refusals(&self) -> Vec<String> {
        let mut out = self.alerts(&[AlertKind::ProposalMismatchChild]);
        let ike_up = |node: &str| self.events.iter().any(|ev| ev.node == node && ev.what.ike_up());
        for ev in &self.events {
            if matches!(&ev.what, event::What::Notify { notify: event::Notify::NoProposalChosen }) && ike_up(&ev.node) {
                let s = format!("NO_PROPOSAL_CHOSEN received by {}", ev.node);
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        }
        out
    }

    /// IKEv1 Main Mode messages that could not be decrypted (`PARSE_ERROR_BODY`), when the lab
    /// runs IKEv1: the mark of a pre-shared key mismatch, since the key encrypts the identity.
    pub fn ikev1_undecryptable(&self, runs_ikev1: bool) -> Vec<String> {
        if runs_ikev1 {
            self.alerts(&[AlertKind::ParseErrorBody])
        } else {
            Vec::new()
        }
    }
}
