//! `vpnlab run LAB`: build, check, report, tear down.

use std::path::Path;

use anyhow::Result;

use super::{load_lab, Format};
use crate::exit::Code;
use crate::report::RunResult;
use crate::run::execute::{execute, AfterRun};

pub async fn run(lab: &Path, format: Format) -> Result<Code> {
    let lab = load_lab(lab)?;
    crate::preflight::check()?;
    let outcome = execute(lab, AfterRun::TearDown).await?;
    match format {
        Format::Table => print!("{}", outcome.report.to_table()),
        Format::Json => println!("{}", outcome.report.to_json()),
    }
    Ok(match outcome.report.result {
        RunResult::Pass => Code::Ok,
        RunResult::Fail => Code::VerdictFailed,
        RunResult::Inconclusive => Code::Inconclusive,
    })
}
