//! `vpnlab explain SCENARIO.yaml`: run one scenario and tell its story: the ticket, what was
//! observed, the cause, and the fix on each side.

use std::path::Path;

use anyhow::Result;

use super::Format;
use crate::exit::{fail, Code};
use crate::report::RunResult;
use crate::run::verdict::Outcome;
use crate::scenario::{self, runner};

pub async fn explain(file: &Path, format: Format) -> Result<Code> {
    let lab_dir = file
        .parent()
        .and_then(Path::parent)
        .filter(|d| d.join("lab.yaml").exists())
        .ok_or_else(|| fail(Code::BadInput, format!("{} is not a scenario of a lab (expected labs/<lab>/scenarios/<name>.yaml)", file.display())))?;
    let s = scenario::load(lab_dir, file).map_err(|e| fail(Code::BadInput, e))?;
    crate::preflight::check()?;
    let mut results = runner::run_all(vec![s], 1, None, |_, _, _| {}, |_, _, _| {}).await;
    let r = results.remove(0);
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&serde_json::json!({"schema": "vpnlab.explain/1", "scenario": r}))?),
        Format::Table => {
            println!("{} · {}/{}", r.title, r.lab, r.name);
            if !r.brief_tickets.is_empty() {
                let t: Vec<String> = r.brief_tickets.iter().map(|t| t.to_string()).collect();
                println!("(brief ticket {})", t.join(", "));
            }
            if let Some(t) = &r.ticket {
                println!("\nThe ticket\n  {}", t.trim());
            }
            for (node, switches) in &r.azure_model {
                println!("\nAzure model of {node}: {}", switches.join(", "));
            }
            println!("\nWhat happened");
            for s in &r.steps {
                println!("  step: {s}");
            }
            if let Some(p) = &r.phase1 {
                println!("  phase 1: {p}");
            }
            if let Some(p) = &r.phase2 {
                println!("  phase 2: {p}");
            }
            for v in r.verdicts.iter().filter(|v| v.check.starts_with("ping")) {
                println!("  {}: {}", v.check, v.evidence.split("; observed ").last().unwrap_or(""));
            }
            if let Some(e) = &r.error {
                println!("  the lab never became testable: {e}");
            }
            if r.diagnosis.is_empty() {
                println!("\nCause\n  nothing wrong found: the tunnel behaves as configured");
            }
            for d in &r.diagnosis {
                print!("\n{}", crate::report::diagnosis::text(d, ""));
            }
            let failed: Vec<String> =
                r.verdicts.iter().filter(|v| v.outcome == Outcome::Fail).map(|v| format!("{} ({}): {}", v.check, v.node, v.evidence)).collect();
            println!(
                "\nAs the scenario expects: {}",
                if failed.is_empty() && r.result == RunResult::Pass { "yes".to_string() } else { format!("no\n  {}", failed.join("\n  ")) }
            );
        }
    }
    Ok(match r.result {
        RunResult::Pass => Code::Ok,
        RunResult::Fail => Code::VerdictFailed,
        RunResult::Inconclusive => Code::Inconclusive,
    })
}
