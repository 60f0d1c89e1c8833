//! Reports: every renderer of what runs observed. A run's [`RunRecord`] (built by `run/`) as a
//! terminal table (tabled) or as JSON with a stable, versioned schema (`schema:
//! "vpnlab.run/1"`); scenario results and a scenario's story (`scenarios.rs`); a diagnosis
//! (`diagnosis.rs`); status tables (`status.rs`); JUnit (`junit.rs`); benchmark figures
//! (`bench.rs`). Secrets never appear: the records are made of SAs, verdicts and events, none of
//! which carries a key.

pub mod bench;
pub mod device;
pub mod diagnosis;
pub mod junit;
pub mod scenarios;
pub mod status;

use std::fmt::Write as _;

use tabled::builder::Builder;
use tabled::settings::Style;

pub use crate::run::record::{RunRecord, RunResult};
use crate::run::verdict::Outcome;

impl RunRecord {
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
