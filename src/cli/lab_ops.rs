//! Verbs that act on a running lab's behaviour: `initiate` (bring a tunnel up from one side),
//! and `dns` (change a record of the lab's name server).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::{find_one_run, Format};
use crate::exit::{fail, Code};
use crate::run::supervisor;

/// How long charon may take to bring the tunnel up before it gives up.
const INITIATE: Duration = Duration::from_secs(6);

pub async fn initiate(lab: &str, node: &str, format: Format) -> Result<Code> {
    crate::preflight::check_root()?;
    let (run, _) = find_one_run(lab)?;
    let lab = run.load_lab()?;
    let Some(intent) = lab.node(node).and_then(|n| n.intent()) else {
        let ipsec: Vec<&str> = lab.ipsec_nodes().map(|n| n.name.as_str()).collect();
        return Err(fail(Code::BadInput, format!("`{node}` runs no IKE daemon in run {}; these do: {}", run.id, ipsec.join(", "))));
    };
    let (conn, child) = match intent.first_child() {
        Some(x) => x,
        None => return Err(fail(Code::BadInput, format!("`{node}` has no connection to initiate"))),
    };
    let mut daemon = crate::run::driver().control(node, &run.node_dir(node)).await?;
    let start = Instant::now();
    let mut lines = Vec::new();
    let mut on_log = |line: String| lines.push(line);
    let result = daemon.initiate(&conn.name, &child.name, INITIATE, &mut on_log).await?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let (ok, error) = (result.is_ok(), result.err());
    match format {
        Format::Json => println!(
            "{}",
            serde_json::json!({"node": node, "connection": conn.name, "child": child.name, "success": ok, "error": error, "ms": ms, "log": lines})
        ),
        Format::Table => {
            for l in &lines {
                println!("  {l}");
            }
            match &error {
                None => println!("{node}: {}/{} is up ({ms:.1} ms)", conn.name, child.name),
                Some(e) => println!("{node}: initiating {}/{} failed after {ms:.1} ms: {e}", conn.name, child.name),
            }
        }
    }
    Ok(if ok { Code::Ok } else { Code::VerdictFailed })
}

pub fn set_record(lab: &str, name: &str, address: Ipv4Addr) -> Result<Code> {
    crate::preflight::check_root()?;
    let (run, _) = find_one_run(lab)?;
    let file = supervisor::records_file(&run);
    if !file.exists() {
        return Err(fail(Code::BadInput, format!("run {} has no name server (give the lab `dns: {{ server: NODE }}`)", run.id)));
    }
    let mut records: BTreeMap<String, Ipv4Addr> = supervisor::read_records(&file);
    let old = records.insert(name.to_ascii_lowercase(), address);
    supervisor::write_records(&file, &records)?;
    match old {
        Some(o) => println!("{name}: {o} -> {address}"),
        None => println!("{name}: {address} (new)"),
    }
    Ok(Code::Ok)
}
