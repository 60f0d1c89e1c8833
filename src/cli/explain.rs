//! `vpnlab explain SCENARIO.yaml`: run one scenario and tell its story: the ticket, what was
//! observed, the cause, and the fix on each side.

use std::path::Path;

use anyhow::Result;

use super::Format;
use crate::exit::{fail, Code};
use crate::report::RunResult;
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
        Format::Table => print!("{}", crate::report::scenarios::story(&r)),
    }
    Ok(match r.result {
        RunResult::Pass => Code::Ok,
        RunResult::Fail => Code::VerdictFailed,
        RunResult::Inconclusive => Code::Inconclusive,
    })
}
