//! A run's folder and state file. The folder (`/run/vpnlab/<run id>/`, or under
//! `$VPNLAB_STATE_DIR`) is created before any other resource of the run and removed last, so
//! every namespace, process and mount of a run can be found from it, even after a crash.

use std::io::Read;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context, Result};
use serde::{Deserialize, Serialize};

pub const DEFAULT_STATE_DIR: &str = "/run/vpnlab";

pub fn state_root() -> PathBuf {
    std::env::var_os("VPNLAB_STATE_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR))
}

/// What a later `vpnlab` process needs to find and act on a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunState {
    pub run_id: String,
    pub lab: String,
    /// The lab folder it was started from, as given.
    pub lab_path: String,
    /// Seconds since the epoch.
    pub started: u64,
    /// The vpnlab process that owns it: the one that built it, or for `up` the run's
    /// supervisor. A run whose owner is gone may be removed by anyone (`vpnlab down`).
    pub owner_pid: u32,
    /// The owner's start time (clock ticks since boot), so a reused pid is not taken for it.
    #[serde(default)]
    pub owner_start: u64,
    /// The user the owner acts for (`SUDO_UID` under sudo, else the real uid).
    #[serde(default)]
    pub user: u32,
    /// `up` (left running) or `run` (torn down by its owner).
    pub mode: String,
    pub nodes: Vec<String>,
    /// charon pids by node.
    pub daemons: Vec<(String, u32)>,
}

#[derive(Debug, Clone)]
pub struct RunDir {
    pub id: String,
    pub path: PathBuf,
}

/// Six characters from [a-z0-9]: short enough for namespace names, random enough that two
/// concurrent runs never pick the same one (and `mkdir` settles it if they do).
fn new_id() -> Result<String> {
    let mut bytes = [0u8; 6];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    Ok(bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect())
}

pub use crate::topology::is_run_id;

impl RunDir {
    /// Claims a fresh run id by creating its folder.
    pub fn create() -> Result<RunDir> {
        let root = state_root();
        std::fs::create_dir_all(&root).with_context(|| format!("creating state folder {}", root.display()))?;
        for _ in 0..16 {
            let id = new_id()?;
            let path = root.join(&id);
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(RunDir { id, path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(anyhow!("creating run folder {}: {e}", path.display())),
            }
        }
        Err(anyhow!("could not find a free run id under {}", root.display()))
    }

    pub fn open(id: &str) -> RunDir {
        RunDir { id: id.to_string(), path: state_root().join(id) }
    }

    /// Every run folder under the state root, including half-written ones (no state file yet,
    /// or a run that was being removed): `status` shows them and `down` decides from labels.
    pub fn all() -> Vec<RunDir> {
        let Ok(dir) = std::fs::read_dir(state_root()) else { return Vec::new() };
        let mut runs: Vec<RunDir> =
            dir.filter_map(|e| e.ok()).filter(|e| e.path().is_dir()).filter_map(|e| e.file_name().into_string().ok()).map(|id| RunDir::open(&id)).collect();
        runs.sort_by(|a, b| a.id.cmp(&b.id));
        runs
    }

    pub fn node_dir(&self, node: &str) -> PathBuf {
        self.path.join("nodes").join(node)
    }

    fn state_file(&self) -> PathBuf {
        self.path.join("state.json")
    }

    /// Writes the state atomically (write + rename), so a crash never leaves half a file.
    pub fn save(&self, state: &RunState) -> Result<()> {
        let tmp = self.path.join("state.json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(state)?).with_context(|| format!("writing the run's state to {}", tmp.display()))?;
        std::fs::rename(&tmp, self.state_file()).with_context(|| format!("renaming {} to state.json", tmp.display()))?;
        Ok(())
    }

    pub fn load(&self) -> Result<RunState> {
        let bytes = std::fs::read(self.state_file()).with_context(|| format!("reading {}", self.state_file().display()))?;
        Ok(serde_json::from_slice(&bytes)?)
    }

    /// A copy of the lab file the run was built from, so `status` shows what is running even
    /// if the file changed since.
    pub fn lab_copy(&self) -> PathBuf {
        self.path.join("lab.yaml")
    }

    /// The lab as it was when the run was built (from the copy in the run folder). Files the
    /// lab names (Azure exports, a device's configuration) are read from the lab's own folder,
    /// where the lab file named them.
    pub fn load_lab(&self) -> Result<crate::model::Lab> {
        let text = std::fs::read_to_string(self.lab_copy()).with_context(|| format!("reading {}", self.lab_copy().display()))?;
        let lab_dir = self.load().map(|s| PathBuf::from(s.lab_path)).unwrap_or_default();
        let as_if = if lab_dir.as_os_str().is_empty() { self.lab_copy() } else { lab_dir.join("lab.yaml") };
        crate::model::parse(&as_if, &text).map_err(|e| anyhow!("{e}"))
    }
}

pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl RunState {
    /// The owner process, if it still runs (the same process, not a reused pid).
    pub fn owner_alive(&self) -> bool {
        crate::process::ProcessId { pid: self.owner_pid, start: self.owner_start }.is_alive()
    }
}
