//! The record of one run, as data: verdicts, SAs after the probes, phase times, events, and the
//! result they add up to. Built by `execute.rs`; rendered by `report/`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::verdict::{Outcome, Verdict};
use super::PhaseTime;
use crate::device::ImportReport;
use crate::evidence::event::Event;
use crate::evidence::sa::IkeSa;

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RunResult {
    /// Every verdict passed.
    Pass,
    /// The lab came up and at least one verdict failed.
    Fail,
    /// The lab never became testable (a daemon did not start, a wait ran out, ...).
    Inconclusive,
}

impl RunResult {
    pub fn word(self) -> &'static str {
        match self {
            RunResult::Pass => "PASS",
            RunResult::Fail => "FAIL",
            RunResult::Inconclusive => "INCONCLUSIVE",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DataPath {
    pub name: &'static str,
    pub limits: &'static str,
}

#[derive(Debug, Clone, Serialize)]
/// Everything one run produced, as data: the lab, the verdicts, the SAs, the phases, the
/// events. `report/` renders it; `schema` names the JSON shape.
pub struct RunRecord {
    pub schema: &'static str,
    pub lab: String,
    pub description: Option<String>,
    /// Lab seconds per real second for the daemons' timers.
    pub time_scale: f64,
    /// The Azure model's switches per gateway node, e.g. `narrowedTrafficSelectors accept`.
    pub azure_model: BTreeMap<String, Vec<String>>,
    /// What was ignored or assumed while reading the lab.
    pub notes: Vec<String>,
    pub run_id: String,
    pub result: RunResult,
    pub data_path: DataPath,
    /// Why the run is inconclusive, if it is.
    pub error: Option<String>,
    pub verdicts: Vec<Verdict>,
    /// SAs by node, after the probes.
    pub sas: BTreeMap<String, Vec<IkeSa>>,
    pub phases: Vec<PhaseTime>,
    pub total_ms: f64,
    pub events: Vec<Event>,
    /// Per IPsec node, its device: family, what it is in words, and for a device read from a
    /// configuration file, the import report (every element used, defaulted or ignored).
    pub devices: BTreeMap<String, DeviceRecord>,
    /// Per BGP speaker, what it showed after the probes: peers with their state and counters,
    /// its routes (learned and its own), and what it advertised to each peer. Absent without BGP.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub bgp: BTreeMap<String, crate::bgp::BgpSnapshot>,
    /// Every ping probe with its source, size, DF bit, attempts and ping's own summary.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pings: Vec<crate::evidence::PingResult>,
    /// Every TCP probe: connect time, bytes sent and received, completed or stalled.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tcp: Vec<crate::evidence::TcpResult>,
}

/// A node's device as the run used it.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceRecord {
    pub family: &'static str,
    pub summary: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import: Option<ImportReport>,
}

impl RunRecord {
    /// A report for a run that never started.
    pub fn empty(lab: &str) -> RunRecord {
        RunRecord {
            schema: "vpnlab.run/1",
            lab: lab.to_string(),
            description: None,
            time_scale: 1.0,
            azure_model: BTreeMap::new(),
            notes: Vec::new(),
            run_id: String::new(),
            result: RunResult::Inconclusive,
            data_path: DataPath { name: super::DATA_PATH, limits: super::DATA_PATH_LIMITS },
            error: None,
            verdicts: Vec::new(),
            sas: BTreeMap::new(),
            phases: Vec::new(),
            total_ms: 0.0,
            events: Vec::new(),
            devices: BTreeMap::new(),
            bgp: BTreeMap::new(),
            pings: Vec::new(),
            tcp: Vec::new(),
        }
    }

    pub fn result_of(verdicts: &[Verdict], error: &Option<String>) -> RunResult {
        if error.is_some() {
            RunResult::Inconclusive
        } else if verdicts.iter().all(|v| v.outcome == Outcome::Pass) && !verdicts.is_empty() {
            RunResult::Pass
        } else {
            RunResult::Fail
        }
    }
}
