//! Reports: one [`RunReport`] per run, rendered as a terminal table (tabled) or as JSON with a
//! stable, versioned schema (`schema: "vpnlab.run/1"`). Secrets never appear: the report is
//! built from SAs, verdicts and events, none of which carries a key.

pub mod junit;
pub mod status;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use tabled::builder::Builder;
use tabled::settings::Style;

use crate::run::events::Event;
use crate::run::verdict::{Outcome, Verdict};
use crate::run::PhaseTime;
use crate::strongswan::sas::IkeSa;

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
pub struct RunReport {
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
}

impl RunReport {
    /// A report for a run that never started.
    pub fn empty(lab: &str) -> RunReport {
        RunReport {
            schema: "vpnlab.run/1",
            lab: lab.to_string(),
            description: None,
            time_scale: 1.0,
            azure_model: BTreeMap::new(),
            notes: Vec::new(),
            run_id: String::new(),
            result: RunResult::Inconclusive,
            data_path: DataPath { name: crate::run::DATA_PATH, limits: crate::run::DATA_PATH_LIMITS },
            error: None,
            verdicts: Vec::new(),
            sas: BTreeMap::new(),
            phases: Vec::new(),
            total_ms: 0.0,
            events: Vec::new(),
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

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"report serialization failed: {e}\"}}"))
    }

    /// The terminal rendering.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "lab {} · run {} · data path {} ({})", self.lab, self.run_id, self.data_path.name, self.data_path.limits);
        if let Some(d) = &self.description {
            let _ = writeln!(out, "{}", d.trim());
        }
        for (node, switches) in &self.azure_model {
            let _ = writeln!(out, "Azure model of {node}: {}", switches.join(", "));
        }
        if self.time_scale != 1.0 {
            let _ = writeln!(out, "time scale {}: daemon timers run {}x faster than real time", self.time_scale, self.time_scale);
        }
        for n in &self.notes {
            let _ = writeln!(out, "note: {n}");
        }
        let _ = writeln!(out);
        if !self.verdicts.is_empty() {
            let mut b = Builder::default();
            b.push_record(["check", "node", "result", "evidence"]);
            for v in &self.verdicts {
                let word = match v.outcome {
                    Outcome::Pass => "PASS",
                    Outcome::Fail => "FAIL",
                };
                b.push_record([v.check.as_str(), v.node.as_str(), word, v.evidence.as_str()]);
            }
            let _ = writeln!(out, "{}\n", b.build().with(Style::psql()));
        }
        if !self.sas.is_empty() {
            let _ = writeln!(out, "{}\n", status::sa_table(&self.sas));
        }
        let phases: Vec<String> = self.phases.iter().map(|p| format!("{} {:.1} ms", p.phase, p.ms)).collect();
        let _ = writeln!(out, "timing: {} · total {:.1} ms", phases.join(" · "), self.total_ms);
        if let Some(e) = &self.error {
            let _ = writeln!(out, "\n{}: {e}", self.result.word());
        } else {
            let passed = self.verdicts.iter().filter(|v| v.outcome == Outcome::Pass).count();
            let _ = writeln!(out, "\n{}: {passed} of {} checks passed", self.result.word(), self.verdicts.len());
        }
        out
    }
}
