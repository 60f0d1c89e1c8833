//! `vpnlab repro`: from a customer's firewall export and the Azure exports alone, a lab around
//! them (`crate::repro`), run with each side initiating and across a compressed rekey; the
//! outcome and the diagnosis printed; `--save DIR` keeps the lab and its scenarios for
//! `vpnlab test DIR`.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;

use super::Format;
use crate::exit::{fail, Code};
use crate::report::RunResult;
use crate::repro::{generate, Inputs};
use crate::scenario::{self, runner};

pub async fn repro(inputs: Inputs, save: Option<&Path>, format: Format) -> Result<Code> {
    let start = Instant::now();
    let generated = generate(&inputs).map_err(|e| fail(Code::BadInput, e))?;
    crate::preflight::check()?;
    // The lab lives in --save DIR, or in a folder of its own that is removed afterwards.
    let (dir, temporary) = match save {
        Some(d) => (d.to_path_buf(), false),
        None => (std::env::temp_dir().join(format!("vpnlab-repro-{}-{}", std::process::id(), start.elapsed().as_nanos())), true),
    };
    generated.write(&dir).map_err(|e| fail(Code::BadInput, e))?;
    let result = run_it(&dir, &generated.notes, format).await;
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    } else if format == Format::Table {
        println!("\nsaved: {} (replay with `vpnlab test {}`)", dir.display(), dir.display());
    }
    let code = result?;
    if format == Format::Table {
        println!("repro took {:.2} s", start.elapsed().as_secs_f64());
    }
    Ok(code)
}

async fn run_it(dir: &Path, notes: &[String], format: Format) -> Result<Code> {
    let mut scenarios = Vec::new();
    for file in scenario::files(dir) {
        scenarios.push(
            scenario::load(dir, &file)
                .map_err(|e| fail(Code::BadInput, format!("the generated lab does not load (a vpnlab bug; it is in {}):\n{e}", dir.display())))?,
        );
    }
    let results = runner::run_all(scenarios, super::test::default_jobs(), None, |_, _, _| {}, |_, _, _| {}).await;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&serde_json::json!({"schema": "vpnlab.repro/1", "notes": notes, "scenarios": results}))?),
        Format::Table => {
            for n in notes {
                println!("note: {n}");
            }
            if !notes.is_empty() {
                println!();
            }
            print!("{}", crate::report::scenarios::table(&results));
        }
    }
    Ok(if results.iter().any(|r| r.result == RunResult::Fail) {
        Code::VerdictFailed
    } else if results.iter().any(|r| r.result == RunResult::Inconclusive) {
        Code::Inconclusive
    } else {
        Code::Ok
    })
}
