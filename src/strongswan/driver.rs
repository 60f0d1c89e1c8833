//! strongSwan as the run's IKE daemon driver (`crate::driver`): one charon per IPsec node with
//! a generated strongswan.conf, configured over VICI from the node's intent, its events read
//! from VICI and the error-notify socket.

use std::time::Duration;

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use futures::future::BoxFuture;
use tokio::task::JoinHandle;

use super::conf::{self, CharonSettings};
use super::daemon::{charon_path, Charon};
use super::{config, control, events, sas, vici};
use crate::driver::{DaemonSpec, Driver, IkeControl, IkeDaemon, Initiated};
use crate::evidence::sa::IkeSa;
use crate::evidence::timeline::Timeline;
use crate::ike::intent::{Initiation, IpsecIntent};
use crate::topology::Backend;
use crate::wait::{within, VICI_ANSWER};

/// strongSwan 5.9's charon on the kernel-libipsec data path.
pub struct Strongswan;

impl Driver for Strongswan {
    fn name(&self) -> &'static str {
        "strongSwan charon"
    }

    fn start<'a>(
        &'a self,
        backend: &'a dyn Backend,
        run_id: &'a str,
        specs: Vec<DaemonSpec>,
        ready_within: Duration,
        spawned: &'a mut (dyn FnMut(&str, u32) -> Result<()> + Send),
    ) -> BoxFuture<'a, Result<Vec<Box<dyn IkeDaemon>>>> {
        Box::pin(async move {
            let charon = charon_path();
            let mut started = Vec::new();
            for spec in &specs {
                let settings = CharonSettings { initiator_only: spec.intent.initiation == Initiation::InitiatorOnly, ..CharonSettings::default() };
                let text = conf::render(&spec.node, run_id, &settings);
                let cmd = backend.command(&spec.node, &charon)?;
                // A handle dropped on the way out (an error below, an interrupt) kills and reaps
                // its daemon.
                let c = Charon::spawn(cmd, &spec.node, &spec.dir, &text, run_id)?;
                spawned(&spec.node, c.pid())?;
                started.push(c);
            }
            // Started together, waited for together: the daemons' start-ups overlap.
            let waits = started.into_iter().map(|mut c| async move {
                let r = c.wait_ready(ready_within).await;
                (c, r)
            });
            let mut daemons: Vec<Box<dyn IkeDaemon>> = Vec::new();
            let mut first_error = None;
            for (charon, ready) in futures::future::join_all(waits).await {
                match ready {
                    Ok(vici) => {
                        let control = Vici { node: charon.node.clone(), dir: charon.dir.clone(), vici };
                        daemons.push(Box::new(CharonDaemon { charon, control }))
                    }
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            match first_error {
                Some(e) => Err(e),
                None => Ok(daemons),
            }
        })
    }

    fn control<'a>(&'a self, node: &'a str, dir: &'a Path) -> BoxFuture<'a, Result<Box<dyn IkeControl>>> {
        Box::pin(async move {
            let path = dir.join("charon.vici");
            let vici = vici::Client::connect(&path).await.map_err(|e| anyhow!("the daemon of {node} does not answer on {}: {e}", path.display()))?;
            Ok(Box::new(Vici { node: node.to_string(), dir: dir.to_path_buf(), vici }) as Box<dyn IkeControl>)
        })
    }
}

/// A VICI connection to a node's charon: everything but its process.
struct Vici {
    node: String,
    dir: PathBuf,
    vici: vici::Client,
}

impl IkeControl for Vici {
    fn load<'a>(&'a mut self, intent: &'a IpsecIntent) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let messages = config::messages(intent);
            // What was sent, secrets redacted: for people reading a kept lab's run folder.
            let rendered: Vec<String> = messages.iter().map(|(c, m)| format!("# {c}\n{}", config::redacted(m).to_json())).collect();
            let file = self.dir.join("vici-messages.txt");
            std::fs::write(&file, rendered.join("\n")).with_context(|| format!("writing {}", file.display()))?;
            for (command, message) in messages {
                let what = || format!("charon of {} to answer `{command}`", self.node);
                within(VICI_ANSWER, what, self.vici.call(command, message)).await.with_context(|| format!("configuring {} ({command})", self.node))?;
            }
            Ok(())
        })
    }

    fn initiate<'a>(
        &'a mut self,
        connection: &'a str,
        child: &'a str,
        timeout: Duration,
        on_log: &'a mut (dyn FnMut(String) + Send),
    ) -> BoxFuture<'a, Result<Initiated>> {
        Box::pin(async move {
            control::initiate(&mut self.vici, connection, child, timeout, on_log).await.with_context(|| format!("initiating {connection} on {}", self.node))
        })
    }

    fn list_sas(&mut self) -> BoxFuture<'_, Result<Vec<IkeSa>>> {
        Box::pin(async move { within(VICI_ANSWER, || format!("charon of {} to list its SAs", self.node), sas::list(&mut self.vici)).await })
    }

    fn terminate_ike<'a>(&'a mut self, uniqueid: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(control::terminate_ike(&mut self.vici, uniqueid, Duration::from_secs(2)))
    }

    fn rekey_child<'a>(&'a mut self, child: &'a str) -> BoxFuture<'a, Result<Initiated>> {
        Box::pin(control::rekey_child(&mut self.vici, child, VICI_ANSWER))
    }
}

/// A started charon and its VICI connection.
struct CharonDaemon {
    charon: Charon,
    control: Vici,
}

impl IkeControl for CharonDaemon {
    fn load<'a>(&'a mut self, intent: &'a IpsecIntent) -> BoxFuture<'a, Result<()>> {
        self.control.load(intent)
    }

    fn initiate<'a>(
        &'a mut self,
        connection: &'a str,
        child: &'a str,
        timeout: Duration,
        on_log: &'a mut (dyn FnMut(String) + Send),
    ) -> BoxFuture<'a, Result<Initiated>> {
        self.control.initiate(connection, child, timeout, on_log)
    }

    fn list_sas(&mut self) -> BoxFuture<'_, Result<Vec<IkeSa>>> {
        self.control.list_sas()
    }

    fn terminate_ike<'a>(&'a mut self, uniqueid: &'a str) -> BoxFuture<'a, Result<()>> {
        self.control.terminate_ike(uniqueid)
    }

    fn rekey_child<'a>(&'a mut self, child: &'a str) -> BoxFuture<'a, Result<Initiated>> {
        self.control.rekey_child(child)
    }
}

impl IkeDaemon for CharonDaemon {
    fn node(&self) -> &str {
        &self.charon.node
    }

    fn watch(&mut self, timeline: Timeline) -> BoxFuture<'_, Result<Vec<JoinHandle<()>>>> {
        Box::pin(async move {
            let node = self.charon.node.clone();
            let watch = events::watch(&node, self.charon.vici_path(), self.charon.alerts_path(), timeline);
            within(VICI_ANSWER, || format!("charon of {node} to register its event subscriptions"), watch).await
        })
    }

    fn signal_kill(&mut self) {
        self.charon.signal_kill();
    }

    fn kill(&mut self) -> Result<()> {
        self.charon.kill()
    }

    fn has_exited(&mut self) -> bool {
        self.charon.has_exited()
    }
}
