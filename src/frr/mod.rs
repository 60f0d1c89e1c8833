//! FRR (Debian's `frr` package) as a node's BGP speaker: zebra and bgpd started by vpnlab in
//! the node's network namespace, configured from the node's [`BgpIntent`], asked for their
//! state over their vty sockets.
//!
//! Every path is under the node's run folder (`<node>/frr/`: configuration, pid files, the
//! zserv and vty sockets, logs, FRR's crash-log folder): the daemons see that folder as
//! `/var/tmp` in a private mount namespace, so nothing is left on the host. The daemons carry the
//! run label in their environment, so cleanup finds and kills them exactly as it does charon.
//! They run as FRR's own `frr` user (zebra refuses root without the `frrvty` group), so the
//! folder belongs to that user.

pub mod conf;
pub mod show;
pub mod vty;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

use crate::bgp::{BgpIntent, BgpSnapshot};
use crate::process::RUN_LABEL;
use crate::topology::Backend;

/// Where Debian's frr package installs its daemons. `VPNLAB_FRR_DIR` overrides it.
pub const DEFAULT_FRR_DIR: &str = "/usr/lib/frr";

/// Where the node's `frr/` folder appears inside the daemons' private mount namespace. The
/// daemons run as the `frr` user, who may not be able to traverse the run folder's parents (a
/// private state directory); `/var/tmp` is open to everyone, and FRR's own crash-log folder
/// (`/var/tmp/frr`) lands in the node's folder with it.
const INSIDE: &str = "/var/tmp";

/// How long one question to a daemon may take.
const ASK_TIMEOUT: Duration = Duration::from_secs(3);

pub fn frr_dir() -> PathBuf {
    std::env::var_os("VPNLAB_FRR_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(DEFAULT_FRR_DIR))
}

/// Whether FRR is installed (the preflight's and the error's question).
pub fn installed() -> bool {
    frr_dir().join("bgpd").exists() && frr_dir().join("zebra").exists()
}

/// One node's zebra and bgpd.
#[derive(Debug)]
pub struct Speaker {
    pub node: String,
    /// `<node>/frr/` in the run folder.
    pub dir: PathBuf,
    pub asn: u32,
    peers: Vec<(std::net::Ipv4Addr, u32)>,
    daemons: Vec<Child>,
}

impl Speaker {
    /// Starts zebra and bgpd in `node` and waits, bounded by `timeout`, until bgpd answers
    /// (its configuration is read and it listens on port 179).
    pub async fn start(backend: &dyn Backend, run_id: &str, node: &str, node_dir: &Path, intent: &BgpIntent, timeout: Duration) -> Result<Speaker> {
        if !installed() {
            bail!("{node} speaks BGP, which needs FRR: {} has no zebra or bgpd (Debian package `frr`; `make deps` installs it)", frr_dir().display());
        }
        let dir = node_dir.join("frr");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let inside = Path::new(INSIDE);
        for stale in ["zebra.vty", "bgpd.vty", "zserv.api", "zebra.pid", "bgpd.pid"] {
            let _ = std::fs::remove_file(dir.join(stale));
        }
        std::fs::write(dir.join("zebra.conf"), conf::zebra(node, inside))?;
        std::fs::write(dir.join("bgpd.conf"), conf::bgpd(node, inside, intent))?;
        // vtysh reads vtysh.conf from its config dir and prints a warning into JSON without one.
        std::fs::write(dir.join("vtysh.conf"), "")?;
        give_to_frr_user(&dir)?;

        let mut speaker = Speaker {
            node: node.to_string(),
            dir: dir.clone(),
            asn: intent.asn,
            peers: intent.neighbors.iter().map(|n| (n.address, n.remote_asn)).collect(),
            daemons: Vec::new(),
        };
        for daemon in ["zebra", "bgpd"] {
            let mut cmd = backend.command(node, &frr_dir().join(daemon))?;
            cmd.arg("-f")
                .arg(inside.join(format!("{daemon}.conf")))
                .arg("-i")
                .arg(inside.join(format!("{daemon}.pid")))
                .arg("-z")
                .arg(inside.join("zserv.api"))
                .arg("--vty_socket")
                .arg(inside)
                .args(["-P", "0"]);
            if daemon == "bgpd" {
                cmd.args(["-A", "127.0.0.1"]);
            }
            speaker.daemons.push(spawn(cmd, node, daemon, &dir, run_id)?);
            // zebra first, and answering: by then it has read the node's routes (the ones
            // into the tunnel), so bgpd's first next-hop questions get real answers.
            speaker.wait_ready(timeout).await?;
        }
        Ok(speaker)
    }

    /// Pids of the daemons (for the run's state file).
    pub fn pids(&self) -> Vec<u32> {
        self.daemons.iter().map(Child::id).collect()
    }

    async fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            let names = ["zebra", "bgpd"];
            for (child, name) in self.daemons.iter_mut().zip(names) {
                if let Some(status) = child.try_wait()? {
                    bail!("{name} of {} exited during start ({status}): {}", self.node, last_words(&self.dir, name));
                }
            }
            let mut ready = true;
            for name in &names[..self.daemons.len()] {
                ready &= vty::ask(&self.dir.join(format!("{name}.vty")), "show version", ASK_TIMEOUT).await.is_ok();
            }
            if ready {
                return Ok(());
            }
            if start.elapsed() >= timeout {
                bail!("FRR of {} did not answer on {} within {} ms: {}", self.node, self.dir.display(), timeout.as_millis(), last_words(&self.dir, "bgpd"));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// The speaker's peers, routes and what it advertises to each peer, typed.
    pub async fn snapshot(&self) -> Result<BgpSnapshot> {
        snapshot_at(&self.dir, self.asn, &self.peers).await.with_context(|| format!("asking FRR of {}", self.node))
    }

    /// Kills and reaps both daemons (SIGKILL, as for charon: nothing to save).
    pub fn kill(&mut self) {
        for child in &mut self.daemons {
            if matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

impl Drop for Speaker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What the speaker whose sockets are in `dir` (a node's `frr/` folder) shows: its peers, its
/// routes (with whether zebra installed them) and what it advertises to each of `peers`
/// (address, ASN). Works from any process: `vpnlab status` asks a kept lab's speakers this way.
pub async fn snapshot_at(dir: &Path, asn: u32, peers: &[(std::net::Ipv4Addr, u32)]) -> Result<BgpSnapshot> {
    let bgpd = dir.join("bgpd.vty");
    let states = show::neighbors(&vty::ask(&bgpd, "show bgp neighbors json", ASK_TIMEOUT).await?)?;
    let mut routes = show::routes(&vty::ask(&bgpd, "show bgp ipv4 unicast json", ASK_TIMEOUT).await?)?;
    let installed = show::installed(&vty::ask(&dir.join("zebra.vty"), "show ip route bgp json", ASK_TIMEOUT).await?)?;
    for r in routes.iter_mut().filter(|r| r.best) {
        r.installed = installed.contains(&r.prefix);
    }
    let mut advertised = Vec::new();
    for (addr, peer_asn) in peers {
        let json = vty::ask(&bgpd, &format!("show bgp ipv4 unicast neighbors {addr} advertised-routes json"), ASK_TIMEOUT).await?;
        advertised.push((*addr, show::advertised(&json, *peer_asn).unwrap_or_default()));
    }
    Ok(BgpSnapshot { asn, peers: states, routes, advertised })
}

fn spawn(mut cmd: Command, node: &str, daemon: &str, dir: &Path, run_id: &str) -> Result<Child> {
    crate::process::private_mounts_on_exec(&mut cmd, &[(dir, INSIDE)])?;
    let stderr = File::create(dir.join(format!("{daemon}.stderr")))?;
    cmd.env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env(RUN_LABEL, run_id)
        .env("VPNLAB_NODE", node)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| anyhow!("starting {daemon} for {node}: {e}"))
}

/// FRR's daemons drop to the `frr` user: the folder must be theirs.
fn give_to_frr_user(dir: &Path) -> Result<()> {
    let user = nix::unistd::User::from_name("frr")?.ok_or_else(|| anyhow!("there is no `frr` user (Debian package `frr` creates it)"))?;
    for entry in std::iter::once(dir.to_path_buf()).chain(std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path()))) {
        nix::unistd::chown(&entry, Some(user.uid), Some(user.gid)).with_context(|| format!("giving {} to the frr user", entry.display()))?;
    }
    Ok(())
}

/// The end of a daemon's stderr and log, for error messages.
fn last_words(dir: &Path, daemon: &str) -> String {
    crate::process::last_words(dir, &[&format!("{daemon}.stderr"), &format!("{daemon}.log")])
}
