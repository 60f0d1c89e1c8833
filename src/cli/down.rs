//! `vpnlab down LAB | --all`: remove runs from their labels, whoever built them.

use anyhow::Result;

use super::{find_runs, Format};
use crate::exit::{fail, Code};
use crate::run::cleanup;
use crate::run::state::RunDir;

pub fn down(lab: Option<&str>, all: bool, format: Format) -> Result<Code> {
    crate::preflight::check_root()?;
    let runs: Vec<RunDir> = if all {
        RunDir::all()
    } else {
        let lab = lab.unwrap_or_default();
        let found: Vec<RunDir> = find_runs(lab).into_iter().map(|(r, _)| r).collect();
        if found.is_empty() {
            return Err(fail(Code::BadInput, format!("no running lab matches `{lab}` (see `vpnlab status` for the running labs)")));
        }
        found
    };
    let mut errors = Vec::new();
    let mut done = Vec::new();
    for run in &runs {
        match cleanup::teardown(run) {
            Ok(r) => done.push(serde_json::json!({"run": run.id, "processes": r.processes, "namespaces": r.namespaces})),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    match format {
        Format::Json => println!("{}", serde_json::json!({"removed": done, "errors": errors})),
        Format::Table => {
            if runs.is_empty() {
                println!("nothing to remove: no vpnlab runs on this host");
            }
            for d in &done {
                println!("removed run {}: {} processes, {} namespaces", d["run"].as_str().unwrap_or(""), d["processes"], d["namespaces"]);
            }
            for e in &errors {
                eprintln!("error: {e}");
            }
        }
    }
    if errors.is_empty() {
        Ok(Code::Ok)
    } else {
        Ok(Code::Inconclusive)
    }
}
