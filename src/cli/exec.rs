//! `vpnlab exec LAB NODE -- COMMAND...`: run a command inside a node of a running lab, with
//! the terminal attached; its exit code becomes vpnlab's.

use anyhow::{Context, Result};

use super::find_one_run;
use crate::exit::{fail, Code};
use crate::process::RUN_LABEL;
use crate::topology::netns::NetnsBackend;
use crate::topology::Backend as _;

pub fn exec(lab: &str, node: &str, command: &[String]) -> Result<Code> {
    crate::preflight::check_root()?;
    let (run, state) = find_one_run(lab)?;
    if !state.nodes.iter().any(|n| n == node) {
        return Err(fail(Code::BadInput, format!("run {} ({}) has no node `{node}`; its nodes are: {}", run.id, state.lab, state.nodes.join(", "))));
    }
    let backend = NetnsBackend::attach(&run.id, &[node]).map_err(|e| fail(Code::BadInput, format!("node {node} of run {} is not running: {e:#}", run.id)))?;
    let mut cmd = backend.command(node, std::path::Path::new(&command[0]))?;
    cmd.args(&command[1..]).env(RUN_LABEL, &run.id);
    let status = cmd.status().with_context(|| format!("running {} in {node}", command[0]))?;
    let code = status.code().unwrap_or(1);
    std::process::exit(code);
}
