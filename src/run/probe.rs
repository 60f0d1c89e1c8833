//! Data-path probes: the real `ping`, run inside a node, as an engineer would run it.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde::Serialize;

use crate::strongswan::daemon::RUN_LABEL;
use crate::topology::Backend;

#[derive(Debug, Clone, Serialize)]
pub struct PingResult {
    pub from: String,
    pub to: String,
    pub success: bool,
    pub attempts: u32,
    /// ping's own summary (or the reason it could not run).
    pub output: String,
}

/// Each attempt sends one echo and waits up to one second for the reply.
const ATTEMPTS: u32 = 2;

pub async fn ping(backend: &impl Backend, run_id: &str, from: &str, to: &str) -> PingResult {
    let mut output = String::new();
    for attempt in 1..=ATTEMPTS {
        let cmd = match backend.command(from, Path::new("ping")) {
            Ok(c) => c,
            Err(e) => return PingResult { from: from.into(), to: to.into(), success: false, attempts: attempt, output: e.to_string() },
        };
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.args(["-n", "-c", "1", "-W", "1", to]).env(RUN_LABEL, run_id).stdin(Stdio::null()).kill_on_drop(true);
        // ping bounds itself with -W; the outer timeout covers a ping that cannot start.
        match tokio::time::timeout(Duration::from_secs(3), cmd.output()).await {
            Ok(Ok(out)) => {
                let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
                output = summarize(&text);
                if out.status.success() {
                    return PingResult { from: from.into(), to: to.into(), success: true, attempts: attempt, output };
                }
            }
            Ok(Err(e)) => output = format!("could not run ping: {e}"),
            Err(_) => output = "ping did not finish within 3 s".to_string(),
        }
    }
    PingResult { from: from.into(), to: to.into(), success: false, attempts: ATTEMPTS, output }
}

/// The lines of ping's output worth showing: the reply or error, and the statistics.
fn summarize(text: &str) -> String {
    let keep: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("bytes from") || l.contains("packets transmitted") || l.contains("rtt") || l.contains("From ") || l.contains("error") || l.contains("unreachable"))
        .map(str::trim)
        .collect();
    if keep.is_empty() {
        text.trim().to_string()
    } else {
        keep.join("; ")
    }
}
