//! Finding runs on this host from their labels, whoever built them and whatever state folder
//! they used: run folders under the state root, namespaces named `vpnlab-<id>-<node>`, and
//! processes whose environment carries `VPNLAB_RUN=<id>`. For each run: whether its owner still
//! runs, which user it acts for, and how it was started, so that `down` removes only what is
//! safe to remove and `status` never trusts a stale pid.
//!
//! The owner of a run with a state file is recorded there (pid and start time). A run found
//! only by its labels (its folder is gone, or lives under another `VPNLAB_STATE_DIR`) has as
//! owner, in this order: its keeper (`vpnlab supervise`, for `up`), the live vpnlab that is the
//! parent of its daemons, or a live vpnlab holding one of its namespaces open (a run still being
//! built). With none of those it is an orphan.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::state::{is_run_id, RunDir, RunState};
use crate::process;
use crate::process::RUN_LABEL;

/// A run folder without a state file younger than this is a run being started, not debris.
const STARTING: Duration = Duration::from_secs(30);

/// Who owns a run, as far as the labels tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Owner {
    /// The owner process runs: the run is in use.
    Running { pid: u32 },
    /// The owner is gone (killed, crashed): the run is debris anyone may remove.
    Gone,
}

/// How a run was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// `vpnlab up`: left running on purpose, owned by its keeper.
    Up,
    /// `vpnlab run`, `test`, `explain`, `bench`: removed by its owner when it ends.
    Run,
    /// Not known (no state file, no keeper).
    Unknown,
}

impl Mode {
    pub fn word(self) -> &'static str {
        match self {
            Mode::Up => "up",
            Mode::Run => "run",
            Mode::Unknown => "?",
        }
    }
}

/// One run and every label found of it.
#[derive(Debug, Clone, Serialize)]
pub struct FoundRun {
    pub id: String,
    /// Its folder under this process's state root, if there is one.
    #[serde(skip)]
    pub folder: Option<RunDir>,
    pub state: Option<RunState>,
    pub namespaces: Vec<String>,
    /// Live processes labelled with the run (daemons, the keeper).
    pub processes: Vec<u32>,
    pub owner: Owner,
    pub mode: Mode,
    /// The user the owner acts for, when known.
    pub user: Option<u32>,
}

impl FoundRun {
    /// The folder to remove (its own, or where it would be under this state root).
    pub fn dir(&self) -> RunDir {
        self.folder.clone().unwrap_or_else(|| RunDir::open(&self.id))
    }

    pub fn lab(&self) -> Option<&str> {
        self.state.as_ref().map(|s| s.lab.as_str())
    }

    /// The keeper of an `up` lab, when it runs.
    pub fn keeper(&self) -> Option<u32> {
        match (self.mode, &self.owner) {
            (Mode::Up, Owner::Running { pid }) => Some(*pid),
            _ => None,
        }
    }
}

fn is_keeper(pid: u32) -> bool {
    process::argv(pid).get(1).is_some_and(|a| a == super::keeper::SUBCOMMAND)
}

/// A live vpnlab holding one of these resources open (a run still being built).
fn holder_of(resources: &[String]) -> Option<u32> {
    crate::topology::resources().iter().find_map(|r| r.holder(resources))
}

/// Every run on the host, by id.
pub fn all() -> Vec<FoundRun> {
    let mut folders: BTreeMap<String, RunDir> = RunDir::all().into_iter().map(|r| (r.id.clone(), r)).collect();
    let mut namespaces: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for resources in crate::topology::resources() {
        for (id, names) in resources.runs() {
            namespaces.entry(id).or_default().extend(names);
        }
    }
    let me = std::process::id();
    let mut processes: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for pid in process::all_pids().into_iter().filter(|p| *p != me) {
        if let Some(id) = process::env_var(pid, RUN_LABEL).filter(|id| is_run_id(id)) {
            if process::is_alive(pid) {
                processes.entry(id).or_default().push(pid);
            }
        }
    }
    let mut ids: Vec<String> = folders.keys().chain(namespaces.keys()).chain(processes.keys()).cloned().collect();
    ids.sort();
    ids.dedup();
    ids.into_iter()
        .map(|id| {
            let folder = folders.remove(&id);
            let state = folder.as_ref().and_then(|f| f.load().ok());
            let namespaces = namespaces.remove(&id).unwrap_or_default();
            let processes = processes.remove(&id).unwrap_or_default();
            judge(id, folder, state, namespaces, processes)
        })
        .collect()
}

fn judge(id: String, folder: Option<RunDir>, state: Option<RunState>, namespaces: Vec<String>, processes: Vec<u32>) -> FoundRun {
    let keeper = processes.iter().copied().find(|p| is_keeper(*p));
    let (owner, mode, user) = match &state {
        Some(s) => {
            let mode = if s.mode == "up" { Mode::Up } else { Mode::Run };
            let owner = if s.owner_alive() { Owner::Running { pid: s.owner_pid } } else { Owner::Gone };
            (owner, mode, Some(s.user))
        }
        None => {
            let parent_vpnlab =
                || processes.iter().filter_map(|p| process::parent(*p)).find(|pp| *pp > 1 && process::is_alive(*pp) && process::comm(*pp) == "vpnlab");
            let owner = keeper.or_else(parent_vpnlab).or_else(|| holder_of(&namespaces));
            // A folder just claimed by `up`, whose keeper has not written the state yet.
            let starting = owner.is_none()
                && processes.is_empty()
                && namespaces.is_empty()
                && folder
                    .as_ref()
                    .and_then(|f| std::fs::metadata(&f.path).ok())
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age < STARTING);
            let mode = if keeper.is_some() { Mode::Up } else { Mode::Unknown };
            match owner {
                Some(pid) => (Owner::Running { pid }, mode, process::user_of(pid)),
                None if starting => (Owner::Running { pid: 0 }, mode, None),
                None => (Owner::Gone, mode, None),
            }
        }
    };
    FoundRun { id, folder, state, namespaces, processes, owner, mode, user }
}
