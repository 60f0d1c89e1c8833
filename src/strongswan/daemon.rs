//! One charon per IPsec node, started by vpnlab as its own child inside the node's network
//! namespace, with a private `/run` (the node's run folder) so that concurrent daemons never
//! share a pid file or socket, and with its environment labelled with the run id so that
//! cleanup can find it after a crash.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

use super::vici;

/// Where Debian's strongswan-charon installs the daemon. `VPNLAB_CHARON` overrides it.
pub const DEFAULT_CHARON: &str = "/usr/lib/ipsec/charon";

use crate::process::RUN_LABEL;

pub fn charon_path() -> PathBuf {
    std::env::var_os("VPNLAB_CHARON").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(DEFAULT_CHARON))
}

#[derive(Debug)]
pub struct Charon {
    pub node: String,
    /// The node's run folder as seen from the host; `/run` inside the daemon.
    pub dir: PathBuf,
    child: Child,
}

impl Charon {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn vici_path(&self) -> PathBuf {
        self.dir.join("charon.vici")
    }

    pub fn alerts_path(&self) -> PathBuf {
        self.dir.join("charon.enfy")
    }

    /// Starts charon. `cmd` must already enter the node's network namespace (the backend's
    /// `command`); this adds the private mount namespace and the run label.
    pub fn spawn(mut cmd: Command, node: &str, dir: &Path, conf: &str, run_id: &str) -> Result<Charon> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        // Charon leaves its sockets behind on exit; readiness is decided by connecting, but a
        // stale socket must not be mistaken for a live one.
        for stale in ["charon.vici", "charon.enfy", "charon.pid", "charon.ctl"] {
            let _ = std::fs::remove_file(dir.join(stale));
        }
        std::fs::write(dir.join("strongswan.conf"), conf).with_context(|| format!("writing {}", dir.join("strongswan.conf").display()))?;
        let stderr = File::create(dir.join("charon.stderr")).with_context(|| format!("creating {}", dir.join("charon.stderr").display()))?;

        crate::process::private_mounts_on_exec(&mut cmd, &[(dir, "/run")])?;
        let child = cmd
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("STRONGSWAN_CONF", format!("{}/strongswan.conf", super::conf::RUN_DIR_INSIDE))
            .env(RUN_LABEL, run_id)
            .env("VPNLAB_NODE", node)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| {
                if e.raw_os_error() == Some(libc::EINVAL) {
                    // mount(MS_SLAVE) on "/" fails this way when "/" is not a mount point.
                    anyhow!("starting charon for {node}: could not give it a private mount namespace ({e}); is / a mount point? (in a chroot, bind-mount the root onto itself first)")
                } else {
                    anyhow!("starting charon for {node}: {e}")
                }
            })?;
        Ok(Charon { node: node.to_string(), dir: dir.to_path_buf(), child })
    }

    /// Waits until the daemon answers on VICI, and returns that connection. Bounded by
    /// `timeout`; fails early with the daemon's own words if it exits.
    pub async fn wait_ready(&mut self, timeout: Duration) -> Result<vici::Client> {
        let start = Instant::now();
        let path = self.vici_path();
        let mut pause = Duration::from_millis(1);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("charon of {} exited during start ({status}): {}", self.node, self.last_words());
            }
            if let Ok(client) = vici::Client::connect(&path).await {
                return Ok(client);
            }
            if start.elapsed() >= timeout {
                bail!("charon of {} did not answer on {} within {} ms: {}", self.node, path.display(), timeout.as_millis(), self.last_words());
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(8));
        }
    }

    /// The end of the daemon's stderr and log, for error messages.
    pub fn last_words(&self) -> String {
        crate::process::last_words(&self.dir, &["charon.stderr", "charon.log"])
    }

    /// True once the daemon has exited; reaps it if it has.
    pub fn has_exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGKILL without waiting (see [`Charon::kill`] for why SIGKILL).
    pub fn signal_kill(&mut self) {
        let _ = self.child.kill();
    }

    /// Kills and reaps the daemon. SIGKILL, not SIGTERM: a lab's daemon holds no state worth
    /// a graceful shutdown, and SIGTERM took up to 1.7 s for a daemon that had SAs (crate
    /// survey §3) against ~8 ms for SIGKILL (lab notes §0).
    pub fn kill(&mut self) -> Result<()> {
        match self.child.try_wait() {
            Ok(Some(_)) => return Ok(()),
            Ok(None) => {}
            Err(e) => return Err(anyhow!("checking charon of {}: {e}", self.node)),
        }
        let _ = self.child.kill();
        self.child.wait().with_context(|| format!("reaping charon of {}", self.node))?;
        Ok(())
    }
}

/// A daemon is never left behind by a dropped handle, nor a zombie: a run interrupted while it
/// waits for its daemons drops their handles, and this kills and reaps each.
impl Drop for Charon {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}
