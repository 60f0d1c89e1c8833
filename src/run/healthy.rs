//! The healthy scenario end to end: build, start daemons, load configs, initiate, probe both
//! ways, verdicts, and (unless the lab is kept) teardown. Used by `run`, `up` and `bench`.

use std::time::Instant;

use anyhow::Result;

use super::verdict;
use super::{LabRun, DATA_PATH, DATA_PATH_LIMITS};
use crate::model::Lab;
use crate::report::{DataPath, RunReport};

/// What to do with the lab after the verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterRun {
    TearDown,
    /// Leave it running (`vpnlab up`), except when it never became testable.
    Keep,
}

pub struct Outcome {
    pub report: RunReport,
    /// The run folder of a lab left running.
    pub kept: Option<super::state::RunDir>,
}

async fn drive(run: &mut LabRun) -> Result<(Vec<verdict::Verdict>, std::collections::BTreeMap<String, Vec<crate::strongswan::sas::IkeSa>>)> {
    run.build_topology().await?;
    run.pause_point("namespaces and links").await;
    run.start_daemons().await?;
    run.pause_point("daemons ready").await;
    run.load_configs().await?;
    run.pause_point("configs loaded").await;
    let initiated = run.initiate().await?;
    run.pause_point("tunnel up").await;
    let before = run.all_sas().await?;
    let mut pings = Vec::new();
    let probes = run.lab.plan.probes.clone();
    for p in &probes {
        pings.push(run.ping(&p.from, &p.to.to_string()).await);
    }
    let after = run.all_sas().await?;
    run.mark_phase("probes");
    let verdicts = verdict::healthy(&run.lab, &initiated, &before, &after, &pings);
    Ok((verdicts, after))
}

pub async fn execute(lab: Lab, after: AfterRun) -> Result<Outcome> {
    let start = Instant::now();
    let mode = if after == AfterRun::Keep { "up" } else { "run" };
    let mut run = LabRun::create(lab, mode)?;
    let driven = drive(&mut run).await;
    let (verdicts, sas, error) = match driven {
        Ok((v, s)) => (v, s, None),
        Err(e) => (Vec::new(), Default::default(), Some(format!("{e:#}"))),
    };
    let events = run.timeline.snapshot();
    let lab_name = run.lab.name.clone();
    let description = run.lab.description.clone();
    let time_scale = run.lab.time_scale;
    let notes = run.lab.notes.clone();
    let azure_model = run
        .lab
        .nodes
        .iter()
        .filter_map(|n| match &n.kind {
            crate::model::NodeKind::AzureGateway(site) => Some((
                n.name.clone(),
                {
                    let mut v = site.switches.describe();
                    v.push(format!("role {}", if site.role == crate::azure::Role::Initiator { "initiator" } else { "responder" }));
                    v
                },
            )),
            _ => None,
        })
        .collect();
    let run_id = run.run.id.clone();
    let mut phases = run.phases.clone();
    let mut kept = None;
    let mut error = error;
    if after == AfterRun::Keep && error.is_none() {
        kept = Some(run.detach());
    } else {
        match run.teardown() {
            Ok(d) => phases.push(super::PhaseTime { phase: "teardown", ms: d.as_secs_f64() * 1000.0 }),
            Err(e) => {
                let msg = format!("teardown failed: {e:#}");
                error = Some(match error {
                    Some(prev) => format!("{prev}; {msg}"),
                    None => msg,
                });
            }
        }
    }
    let result = RunReport::result_of(&verdicts, &error);
    let report = RunReport {
        schema: "vpnlab.run/1",
        lab: lab_name,
        description,
        time_scale,
        azure_model,
        notes,
        run_id,
        result,
        data_path: DataPath { name: DATA_PATH, limits: DATA_PATH_LIMITS },
        error,
        verdicts,
        sas,
        phases,
        total_ms: start.elapsed().as_secs_f64() * 1000.0,
        events,
    };
    Ok(Outcome { report, kept })
}
