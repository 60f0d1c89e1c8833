//! `vpnlab up LAB`: build, bring the tunnel up, show status, leave it running.
//!
//! The lab is built and then owned by a keeper process (`run/keeper.rs`), so that its daemons
//! have a parent that reaps them and a SIGTERM from `vpnlab down` removes it in order. `up`
//! claims the run folder, starts the keeper, prints its report, and exits; interrupted before
//! the report, it stops the keeper, which removes what it built.

use std::path::Path;

use anyhow::Result;

use super::{load_lab, Format};
use crate::exit::{fail, Code};
use crate::report::{status, RunResult};
use crate::run::execute::{execute_in, healthy_judge, AfterRun};
use crate::run::state::RunDir;
use crate::run::{cleanup, interrupt, keeper};

pub async fn up(lab_path: &Path, format: Format) -> Result<Code> {
    load_lab(lab_path)?;
    crate::preflight::check()?;
    let run = RunDir::create()?;
    crate::run::active::register(&run);
    let mut child = match keeper::spawn(&run, lab_path) {
        Ok(c) => c,
        Err(e) => {
            let _ = cleanup::teardown(&run);
            crate::run::active::unregister(&run);
            return Err(e);
        }
    };
    let ready = tokio::select! {
        r = keeper::read_ready(&mut child) => Some(r),
        _ = interrupt::wait() => None,
    };
    let error = match ready {
        Some(Ok(ready)) => {
            // The keeper owns the run from here on.
            crate::run::active::unregister(&run);
            match format {
                Format::Json => println!("{}", ready.json),
                Format::Table => print!("{}", ready.table),
            }
            return Ok(match ready.code {
                0 => Code::Ok,
                1 => Code::VerdictFailed,
                _ => Code::Inconclusive,
            });
        }
        Some(Err(e)) => Some(e),
        None => None,
    };
    // Interrupted, or the keeper died or hung: stop it (it removes what it built), then remove
    // by labels whatever is left.
    if let Some(pid) = child.id() {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGTERM);
    }
    if tokio::time::timeout(cleanup::KEEPER_STOP, child.wait()).await.is_err() {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
    let removed = cleanup::teardown(&run);
    crate::run::active::unregister(&run);
    match error {
        None => Err(interrupt::Interrupted.into()),
        Some(e) => Err(fail(
            Code::Inconclusive,
            format!("error: {e:#}{}", removed.err().map(|e| format!("\n{e:#} (retry with `vpnlab down {}`)", run.id)).unwrap_or_default()),
        )),
    }
}

/// The keeper's side (`vpnlab supervise RUN LAB`): builds the lab in the claimed run folder,
/// reports to `up`, and holds the lab until SIGTERM.
pub async fn keep(run_id: &str, lab_path: &Path) -> Result<Code> {
    let lab = load_lab(lab_path)?;
    let run = RunDir::open(run_id);
    let node_status = lab.clone();
    let outcome = execute_in(Some(run.clone()), lab, AfterRun::Keep, &[], &healthy_judge, None).await?;
    let report = &outcome.report;
    let code = match report.result {
        RunResult::Pass => Code::Ok,
        RunResult::Fail => Code::VerdictFailed,
        RunResult::Inconclusive => Code::Inconclusive,
    };
    let mut table = String::new();
    if outcome.kept.is_some() {
        table += &format!("{}\n\n", status::nodes_table(&status::nodes(&node_status, &run.id)));
    }
    table += &report.to_table();
    if outcome.kept.is_some() {
        table += &format!("\nlab {} is running as run {}:\n  vpnlab status {}\n", report.lab, run.id, run.id);
        if let Some(p) = node_status.plan.probes.first() {
            table += &format!("  vpnlab exec {} {} -- ping -c1 {}\n", run.id, p.from, p.to);
        }
        table += &format!("  vpnlab down {}\n", run.id);
    }
    let ready = keeper::Ready { code: code as u8, table, json: report.to_json(), kept: outcome.kept.is_some() };
    let sent = keeper::send_ready(&run, &ready);
    match outcome.kept {
        // `up` is gone (killed) if the report could not be sent; the lab stays, as `up` promised.
        Some(kept) => keeper::hold(kept).await?,
        None => sent?,
    }
    Ok(code)
}
