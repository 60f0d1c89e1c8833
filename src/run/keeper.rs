//! A lab left running by `vpnlab up` is owned by a keeper process: `up` claims the run folder
//! and starts `vpnlab supervise RUN LAB` in its own session (labelled with the run id, with only
//! stdin/stdout/stderr), which builds the lab, reports back once over a pipe, and then holds the
//! lab: its daemons are the keeper's children, which it reaps; the lab's clock-driven behaviours
//! run in it; a SIGTERM (from `vpnlab down`) makes it tear the lab down and exit.
//!
//! The keeper's only message is [`Ready`], one JSON line: the report already rendered both
//! ways, so `up` prints what the user asked for without parsing anything back.

use std::os::fd::AsRawFd as _;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};

use super::state::RunDir;
use super::LabRun;
use crate::process::RUN_LABEL;

/// The hidden subcommand the keeper runs as.
pub const SUBCOMMAND: &str = "supervise";

/// How long a bring-up may take before `up` gives up on its keeper: the run's own waits
/// (daemon start, initiate, probes) are bounded well below this.
pub const READY_WITHIN: Duration = Duration::from_secs(90);

/// The keeper's one message to `up`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ready {
    /// The exit code `up` should end with.
    pub code: u8,
    /// What `up` prints for `--format table` and for `--format json`.
    pub table: String,
    pub json: String,
    /// Whether the lab was left running (it is not when it never became testable).
    pub kept: bool,
}

/// Starts the keeper of `run` for the lab at `lab_path` (`up`'s side).
pub fn spawn(run: &RunDir, lab_path: &Path) -> Result<tokio::process::Child> {
    let exe = std::env::current_exe().context("finding the vpnlab executable")?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg(SUBCOMMAND)
        .arg(&run.id)
        .arg(lab_path)
        .env(RUN_LABEL, &run.id)
        .env("VPNLAB_STATE_DIR", super::state::state_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: only raw syscalls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            // Its own session: a Ctrl-C on the terminal reaches `up`, never the kept lab.
            libc::setsid();
            crate::process::only_std_fds_on_exec();
            Ok(())
        });
    }
    let child = tokio::process::Command::from(cmd).kill_on_drop(false).spawn().context("starting the lab's keeper process")?;
    Ok(child)
}

/// Waits (bounded) for the keeper's [`Ready`]; what the keeper wrote to stderr (its errors)
/// is returned with the error when it exits without one.
pub async fn read_ready(child: &mut tokio::process::Child) -> Result<Ready> {
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("the keeper's stdout is not a pipe"))?;
    let mut stderr = child.stderr.take().ok_or_else(|| anyhow!("the keeper's stderr is not a pipe"))?;
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(READY_WITHIN, lines.next_line())
        .await
        .map_err(|_| anyhow!("the lab's keeper did not report within {} s", READY_WITHIN.as_secs()))?
        .context("reading the keeper's report")?;
    match line {
        Some(line) => serde_json::from_str(&line).with_context(|| format!("the keeper's report is not a report: {line}")),
        None => {
            let mut words = String::new();
            let _ = tokio::time::timeout(Duration::from_secs(2), stderr.read_to_string(&mut words)).await;
            let status = tokio::time::timeout(Duration::from_secs(2), child.wait()).await.ok().and_then(|s| s.ok());
            let how = status.map(|s| s.to_string()).unwrap_or_else(|| "still running".into());
            Err(anyhow!("the lab's keeper ended without a report ({how}): {}", words.trim()))
        }
    }
}

/// The keeper's side: sends `ready` to `up`, after pointing its own stderr at the run folder's
/// `keeper.log` (and then its stdout too), so that nothing is ever written to `up`'s pipes once
/// `up` is gone.
pub fn send_ready(run: &RunDir, ready: &Ready) -> Result<()> {
    let log_path = run.path.join("keeper.log");
    let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path).with_context(|| format!("opening {}", log_path.display()))?;
    let line = serde_json::to_string(ready)? + "\n";
    // SAFETY: dup2 onto the standard descriptors; the log file stays open while we use it.
    unsafe {
        libc::dup2(log.as_raw_fd(), 2);
    }
    let written = std::io::Write::write_all(&mut std::io::stdout().lock(), line.as_bytes()).and_then(|_| std::io::Write::flush(&mut std::io::stdout()));
    // SAFETY: as above.
    unsafe {
        libc::dup2(log.as_raw_fd(), 1);
    }
    written.context("sending the report to `vpnlab up`")
}

/// Holds a kept lab until a stop is requested (SIGTERM from `vpnlab down`), reaping daemons
/// that exit on their own meanwhile; then removes it.
pub async fn hold(mut run: LabRun) -> Result<()> {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = super::interrupt::wait() => break,
            _ = tick.tick() => {
                for node in run.reap_exited() {
                    eprintln!("{} the daemon of {node} exited", super::state::now_secs());
                }
            }
        }
    }
    run.teardown().map(|_| ())
}
