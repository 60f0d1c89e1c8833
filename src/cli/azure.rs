//! `vpnlab azure explain LAB | --all`: what the simulated Azure VPN Gateway of a lab does, and
//! the evidence behind it. Reads the lab only; needs no root.

use std::path::Path;

use anyhow::Result;

use super::{load_lab, Format};
use crate::device::azure::{explain, rules};
use crate::device::RunContext;
use crate::exit::{fail, Code};

pub fn explain(lab: Option<&Path>, all: bool, format: Format) -> Result<Code> {
    if all {
        match format {
            Format::Table => print!("{}", rules::render_markdown()),
            Format::Json => {
                let list: Vec<_> = rules::RULES
                    .iter()
                    .map(|r| serde_json::json!({"id": r.id.as_str(), "topic": r.topic, "statement": r.statement, "evidence": r.evidence.label(), "sources": r.sources, "modelled": r.modelled}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({"schema": "vpnlab.azure-rules/1", "rules": list}))?);
            }
        }
        return Ok(Code::Ok);
    }
    let Some(path) = lab else {
        return Err(fail(Code::BadInput, "name a lab (e.g. `vpnlab azure explain labs/azure-strongswan`), or give --all for every modelled behaviour"));
    };
    let lab = load_lab(path)?;
    let explanations: Vec<_> = lab
        .nodes
        .iter()
        .filter_map(|n| {
            let site = n.ipsec()?.azure()?;
            Some(explain::explain(&n.name, site, RunContext { starts_first: lab.plan.initiator == n.name, time_scale: lab.time_scale }))
        })
        .collect();
    if explanations.is_empty() {
        return Err(fail(Code::BadInput, format!("lab {} has no azure-gateway node", lab.name)));
    }
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"schema": "vpnlab.azure-explain/1", "lab": lab.name, "notes": lab.notes, "gateways": explanations})
            )?
        ),
        Format::Table => {
            for e in &explanations {
                println!("{}", e.to_table());
            }
            for n in &lab.notes {
                println!("note: {n}");
            }
        }
    }
    Ok(Code::Ok)
}
