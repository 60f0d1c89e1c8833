//! `vpnlab status [LAB]`: the running labs, or one lab's nodes, links and SAs (read live from
//! its daemons over VICI).

use std::collections::BTreeMap;

use anyhow::Result;

use super::{find_one_run, Format};
use crate::exit::Code;
use crate::report::status;

pub async fn status(lab: Option<&str>, format: Format) -> Result<Code> {
    crate::preflight::check_root()?;
    let Some(lab) = lab else {
        let runs = crate::run::discover::all();
        match format {
            Format::Json => println!("{}", serde_json::to_string_pretty(&serde_json::json!({"schema": "vpnlab.runs/1", "runs": runs}))?),
            Format::Table if runs.is_empty() => println!("no labs are running (start one with `vpnlab up labs/azure-paloalto`)"),
            Format::Table => println!("{}", status::runs_table(&runs)),
        }
        return Ok(Code::Ok);
    };
    let (run, state) = find_one_run(lab)?;
    let lab = run.load_lab()?;
    let nodes = status::nodes(&lab, &run.id);
    let mut sas_by_node = BTreeMap::new();
    let mut errors = Vec::new();
    let driver = crate::run::driver();
    for node in lab.ipsec_nodes() {
        let listed = match driver.control(&node.name, &run.node_dir(&node.name)).await {
            Ok(mut daemon) => daemon.list_sas().await,
            Err(e) => Err(e),
        };
        match listed {
            Ok(list) => {
                sas_by_node.insert(node.name.clone(), list);
            }
            Err(e) => errors.push(format!("{}: {e:#}", node.name)),
        }
    }
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"schema": "vpnlab.status/1", "run": state, "nodes": nodes, "sas": sas_by_node, "errors": errors})
            )?
        ),
        Format::Table => {
            println!("lab {} · run {} · {} mode\n", state.lab, run.id, state.mode);
            println!("{}\n", status::nodes_table(&nodes));
            println!("{}", status::sa_table(&sas_by_node));
            for e in &errors {
                println!("warning: {e}");
            }
        }
    }
    Ok(Code::Ok)
}
