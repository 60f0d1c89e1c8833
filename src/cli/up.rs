//! `vpnlab up LAB`: build, bring the tunnel up, show status, leave it running.

use std::path::Path;

use anyhow::Result;

use super::{load_lab, Format};
use crate::exit::Code;
use crate::report::{status, RunResult};
use crate::run::execute::{execute, AfterRun};

pub async fn up(lab: &Path, format: Format) -> Result<Code> {
    let lab = load_lab(lab)?;
    crate::preflight::check()?;
    let node_status = lab.clone();
    let outcome = execute(lab, AfterRun::Keep).await?;
    let report = &outcome.report;
    if let Some(run) = &outcome.kept {
        if crate::run::supervisor::needed(&node_status) {
            crate::run::supervisor::spawn_detached(run)?;
        }
    }
    match format {
        Format::Json => println!("{}", report.to_json()),
        Format::Table => {
            if let Some(run) = &outcome.kept {
                println!("{}\n", status::nodes_table(&status::nodes(&node_status, &run.id)));
            }
            print!("{}", report.to_table());
            if let Some(run) = &outcome.kept {
                let host = node_status.plan.probes.first().map(|p| (p.from.clone(), p.to.to_string()));
                println!("\nlab {} is running as run {}:", report.lab, run.id);
                println!("  vpnlab status {}", run.id);
                if let Some((from, to)) = host {
                    println!("  vpnlab exec {} {from} -- ping -c1 {to}", run.id);
                }
                println!("  vpnlab down {}", run.id);
            }
        }
    }
    Ok(match report.result {
        RunResult::Pass => Code::Ok,
        RunResult::Fail => Code::VerdictFailed,
        RunResult::Inconclusive => Code::Inconclusive,
    })
}
