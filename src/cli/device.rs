//! `vpnlab device explain LAB [--node NODE]`: what vpnlab read from each IPsec node's
//! configuration and the intent it became. Reads the lab only; needs no root.

use std::path::Path;

use anyhow::Result;

use super::{load_lab, Format};
use crate::exit::{fail, Code};

pub fn explain(lab_path: &Path, node: Option<&str>, format: Format) -> Result<Code> {
    let lab = load_lab(lab_path)?;
    let nodes: Vec<&crate::model::Node> = lab.ipsec_nodes().filter(|n| node.is_none_or(|want| n.name == want)).collect();
    if nodes.is_empty() {
        let names: Vec<&str> = lab.ipsec_nodes().map(|n| n.name.as_str()).collect();
        return Err(fail(Code::BadInput, format!("lab {} has no IPsec node `{}`; its IPsec nodes: {}", lab.name, node.unwrap_or(""), names.join(", "))));
    }
    match format {
        Format::Json => {
            let list: Vec<serde_json::Value> = nodes
                .iter()
                .map(|n| {
                    let ipsec = n.ipsec().expect("an IPsec node");
                    serde_json::json!({
                        "node": n.name,
                        "family": ipsec.device.family(),
                        "summary": ipsec.device.summary(&ipsec.intent),
                        "import": ipsec.device.import_report(),
                        "intent": crate::report::device::intent_text(&ipsec.intent).lines().map(str::trim).collect::<Vec<_>>(),
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&serde_json::json!({"schema": "vpnlab.device-explain/1", "lab": lab.name, "devices": list}))?);
        }
        Format::Table => {
            for (i, n) in nodes.iter().enumerate() {
                let ipsec = n.ipsec().expect("an IPsec node");
                if i > 0 {
                    println!();
                }
                print!("{}", crate::report::device::explain_text(&n.name, ipsec.device.as_ref(), &ipsec.intent));
            }
            for note in &lab.notes {
                print!("{}", crate::report::device::note_text(note));
            }
        }
    }
    Ok(Code::Ok)
}
