//! The IKE daemon seam: what a run asks of the daemon on each IPsec node. strongSwan's charon
//! implements it (`strongswan::driver`); unit tests give a run a scripted fake (`driver::fake`)
//! so that a whole run is tested without root. The run speaks intents, typed SAs and timeline
//! events to it, never a daemon's own protocol.

#[cfg(test)]
pub mod fake;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use futures::future::BoxFuture;
use tokio::task::JoinHandle;

use crate::evidence::sa::IkeSa;
use crate::evidence::timeline::Timeline;
use crate::ike::intent::IpsecIntent;
use crate::topology::Backend;

/// How `initiate` ended: the daemon's verdict (success, or its error message).
pub type Initiated = std::result::Result<(), String>;

/// One IPsec node's daemon to start.
pub struct DaemonSpec {
    pub node: String,
    /// The node's own folder in the run folder (config, sockets, logs).
    pub dir: PathBuf,
    pub intent: IpsecIntent,
}

/// Starts the daemons of a run, and reaches the daemon of a running one.
pub trait Driver: Send + Sync {
    /// The daemon and data path, for reports.
    fn name(&self) -> &'static str;
    /// Starts one daemon per spec inside its node (`backend`), labelled with `run_id`; tells
    /// `spawned` each daemon's pid as soon as it exists (so cleanup can find it), then waits,
    /// bounded by `ready_within`, until every daemon answers. On failure no daemon is left.
    fn start<'a>(
        &'a self,
        backend: &'a dyn Backend,
        run_id: &'a str,
        specs: Vec<DaemonSpec>,
        ready_within: Duration,
        spawned: &'a mut (dyn FnMut(&str, u32) -> Result<()> + Send),
    ) -> BoxFuture<'a, Result<Vec<Box<dyn IkeDaemon>>>>;
    /// Control of the daemon already running on `node` (another process may own it: the
    /// supervisor of a kept lab, `vpnlab initiate`, `vpnlab status`). `dir` is the node's folder.
    fn control<'a>(&'a self, node: &'a str, dir: &'a Path) -> BoxFuture<'a, Result<Box<dyn IkeControl>>>;
}

/// What can be asked of a running IKE daemon, whoever owns its process.
pub trait IkeControl: Send + Sync {
    /// Loads the intent's keys and connections (bounded), replacing what was loaded; keeps what
    /// was sent, secrets redacted, in the node's folder.
    fn load<'a>(&'a mut self, intent: &'a IpsecIntent) -> BoxFuture<'a, Result<()>>;
    /// Initiates `child` of `connection`, passing the daemon's log lines to `on_log`; the
    /// daemon gives up after `timeout`.
    fn initiate<'a>(
        &'a mut self,
        connection: &'a str,
        child: &'a str,
        timeout: Duration,
        on_log: &'a mut (dyn FnMut(String) + Send),
    ) -> BoxFuture<'a, Result<Initiated>>;
    /// Every SA the daemon holds (bounded).
    fn list_sas(&mut self) -> BoxFuture<'_, Result<Vec<IkeSa>>>;
    /// Deletes the IKE SA with this unique id and its CHILD SAs, telling the peer (bounded).
    fn terminate_ike<'a>(&'a mut self, uniqueid: &'a str) -> BoxFuture<'a, Result<()>>;
    /// Starts a rekey of `child`'s CHILD SA from this side (bounded); its outcome shows in the
    /// events (a child rekey, or a refusal).
    fn rekey_child<'a>(&'a mut self, child: &'a str) -> BoxFuture<'a, Result<Initiated>>;
}

/// A daemon a run started: control, its events, and its process.
pub trait IkeDaemon: IkeControl {
    fn node(&self) -> &str;
    /// Starts feeding `timeline` with the daemon's events, until it dies.
    fn watch(&mut self, timeline: Timeline) -> BoxFuture<'_, Result<Vec<JoinHandle<()>>>>;
    /// Sends SIGKILL without waiting.
    fn signal_kill(&mut self);
    /// Kills and reaps the daemon.
    fn kill(&mut self) -> Result<()>;
    /// True once the daemon has exited (reaped).
    fn has_exited(&mut self) -> bool;
}
