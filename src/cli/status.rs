//! `vpnlab status [LAB]`: the running labs, or one lab's nodes, links and SAs (read live from
//! its daemons over VICI).

use std::collections::BTreeMap;

use anyhow::Result;

use super::{find_one_run, Format};
use crate::exit::Code;
use crate::report::status;

pub async fn status(lab: Option<&str>, view: Option<&str>, format: Format) -> Result<Code> {
    crate::preflight::check_root()?;
    let Some(lab) = lab else {
        let runs = crate::run::discover::all();
        match format {
            Format::Json => println!("{}", serde_json::to_string_pretty(&serde_json::json!({"schema": "vpnlab.runs/1", "runs": runs}))?),
            Format::Table if runs.is_empty() => println!("no labs are running (start one with `vpnlab up labs/azure-strongswan`)"),
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
    let mut bgp = BTreeMap::new();
    for (node, snap) in crate::run::live_bgp(&run, &lab).await {
        match snap {
            Ok(s) => {
                bgp.insert(node, s);
            }
            Err(e) => errors.push(format!("{node}: BGP: {e:#}")),
        }
    }
    if let Some(view) = view {
        return show_view(&lab, view, &sas_by_node, &bgp, &errors, format);
    }
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"schema": "vpnlab.status/1", "run": state, "nodes": nodes, "sas": sas_by_node, "bgp": bgp, "errors": errors})
            )?
        ),
        Format::Table => {
            println!("lab {} · run {} · {} mode\n", state.lab, run.id, state.mode);
            println!("{}\n", status::nodes_table(&nodes));
            println!("{}", status::sa_table(&sas_by_node));
            if !bgp.is_empty() {
                println!("\n{}", status::bgp_table(&bgp));
            }
            for e in &errors {
                println!("warning: {e}");
            }
        }
    }
    Ok(Code::Ok)
}

/// The views of the nodes whose device is `view` (azure, pan-os, pfsense), from their live SAs.
fn show_view(
    lab: &crate::model::Lab,
    view: &str,
    sas: &BTreeMap<String, Vec<crate::evidence::sa::IkeSa>>,
    bgp: &BTreeMap<String, crate::bgp::BgpSnapshot>,
    errors: &[String],
    format: Format,
) -> Result<Code> {
    let views: Vec<(String, crate::device::StatusView)> = lab
        .ipsec_nodes()
        .filter_map(|n| {
            let ipsec = n.ipsec()?;
            if ipsec.device.family() != view {
                return None;
            }
            let listed = sas.get(&n.name).map(Vec::as_slice).unwrap_or_default();
            let mut v = ipsec.device.status_view(&n.name, &ipsec.intent, listed)?;
            // The device's BGP pages follow its IPsec ones, when it runs a speaker.
            if let Some(snap) = bgp.get(&n.name) {
                v.tables.extend(ipsec.device.bgp_view(snap));
            }
            Some((n.name.clone(), v))
        })
        .collect();
    if views.is_empty() {
        let offered: Vec<&str> = lab.ipsec_nodes().filter_map(|n| n.ipsec()).map(|i| i.device.family()).filter(|f| *f != "strongswan").collect();
        return Err(crate::exit::fail(
            Code::BadInput,
            format!(
                "lab {} has no `{view}` device with a status view; it has: {}",
                lab.name,
                if offered.is_empty() { "none".to_string() } else { offered.join(", ") }
            ),
        ));
    }
    match format {
        Format::Json => {
            let list: Vec<serde_json::Value> = views.iter().map(|(node, v)| serde_json::json!({"node": node, "view": v})).collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({"schema": "vpnlab.status-view/1", "view": view, "nodes": list, "errors": errors}))?
            );
        }
        Format::Table => {
            for (node, v) in &views {
                println!("{node}: {}", crate::report::device::view_text(v));
            }
            for e in errors {
                println!("warning: {e}");
            }
        }
    }
    Ok(Code::Ok)
}
