//! Removing a run, from its labels rather than from memory: processes whose environment
//! carries `VPNLAB_RUN=<id>`, the backends' labelled resources (namespaces named
//! `vpnlab-<id>-*`), and the run folder. Works
//! the same after success, failure, a signal, or a `kill -9` of the vpnlab that built it.
//! Best effort: every step runs, and every error is collected and reported.

use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::state::RunDir;
use crate::process::is_alive;
use crate::process::RUN_LABEL;

/// How long to wait for killed processes to disappear.
const KILL_WAIT: Duration = Duration::from_secs(3);

/// Pids of processes labelled with this run.
pub fn labelled_processes(run_id: &str) -> Vec<u32> {
    let me = std::process::id();
    crate::process::all_pids().into_iter().filter(|pid| *pid != me && crate::process::env_var(*pid, RUN_LABEL).as_deref() == Some(run_id)).collect()
}

/// How long a keeper (`up`) may take to remove its lab after SIGTERM.
pub const KEEPER_STOP: Duration = Duration::from_secs(5);

/// Asks the keeper of an `up` lab to remove it (SIGTERM) and waits, bounded, for it to exit:
/// the keeper kills and reaps its daemons and removes the namespaces itself, so nothing is left
/// a zombie. Returns false if it was still running after [`KEEPER_STOP`].
pub fn stop_keeper(pid: u32) -> bool {
    let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
    let deadline = Instant::now() + KEEPER_STOP;
    while is_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    !is_alive(pid)
}

/// What a teardown removed, for reports.
#[derive(Debug, Default)]
pub struct Removed {
    pub processes: usize,
    pub namespaces: usize,
}

/// Removes everything of run `run`. Errors from individual steps are collected; the run
/// folder is removed only when everything else is gone, so a failed teardown can be retried
/// with `vpnlab down`.
pub fn teardown(run: &RunDir) -> Result<Removed> {
    let mut errors = Vec::new();
    let mut removed = Removed::default();

    let pids = labelled_processes(&run.id);
    for pid in &pids {
        match kill(Pid::from_raw(*pid as i32), Signal::SIGKILL) {
            Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
            Err(e) => errors.push(format!("killing process {pid}: {e}")),
        }
    }
    let deadline = Instant::now() + KILL_WAIT;
    let mut alive: Vec<u32> = pids.clone();
    while !alive.is_empty() && Instant::now() < deadline {
        alive.retain(|p| is_alive(*p));
        if !alive.is_empty() {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    if !alive.is_empty() {
        errors.push(format!("processes {alive:?} of run {} still alive {} ms after SIGKILL", run.id, KILL_WAIT.as_millis()));
    }
    removed.processes = pids.len() - alive.len();

    for resources in crate::topology::resources() {
        match resources.remove_run(&run.id) {
            Ok(n) => removed.namespaces += n,
            Err(e) => errors.extend(e),
        }
    }

    if errors.is_empty() {
        if let Err(e) = std::fs::remove_dir_all(&run.path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                errors.push(format!("removing {}: {e}", run.path.display()));
            }
        }
    }
    if errors.is_empty() {
        Ok(removed)
    } else {
        Err(anyhow!("teardown of run {} incomplete: {}", run.id, errors.join("; ")))
    }
}
