//! A scripted driver for unit tests of a whole run without root: its daemons start no process,
//! record what the run asked of them, and answer `initiate` from a script (the children that
//! come up, the ones that are refused). A child that comes up makes every daemon list an
//! established IKE SA with that child installed, and puts the up events on the timeline, as
//! real daemons would.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use futures::future::BoxFuture;
use tokio::task::JoinHandle;

use super::{DaemonSpec, Driver, IkeControl, IkeDaemon, Initiated};
use crate::evidence::event::{Change, What};
use crate::evidence::sa::{ChildState, IkeSa, IkeState};
use crate::evidence::timeline::Timeline;
use crate::ike::intent::IpsecIntent;
use crate::topology::Backend;

/// One request a run made of a daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriverCall {
    Start {
        nodes: Vec<String>,
    },
    /// A node's intent was loaded: its connections and their children.
    Load {
        node: String,
        connections: Vec<(String, Vec<String>)>,
    },
    Watch {
        node: String,
    },
    Initiate {
        node: String,
        connection: String,
        child: String,
    },
    ListSas {
        node: String,
    },
    Terminate {
        node: String,
    },
    Rekey {
        node: String,
        child: String,
    },
    Kill {
        node: String,
    },
}

/// What the fake daemons share: the script and the tunnel's state.
#[derive(Default)]
pub struct Script {
    /// Children whose initiate is refused, with the daemon's message.
    pub refuse: Vec<(String, String)>,
    /// Connections whose first exchange nobody answers: no IKE SA, only retransmits.
    pub unanswered: Vec<String>,
    /// The child that came up, if any.
    pub up: Option<String>,
    /// Phase 1 is up (a refused child keeps it, as charon does).
    ike_up: bool,
    /// Starting the daemons fails with this message.
    pub fail_start: Option<String>,
    /// How many SA listings there were: the tunnel's counters rise with each, as if traffic
    /// crossed between two listings.
    listings: u64,
    pub calls: Vec<DriverCall>,
    timelines: Vec<(String, Timeline)>,
}

#[derive(Clone, Default)]
pub struct FakeDriver {
    pub script: Arc<Mutex<Script>>,
}

impl FakeDriver {
    /// A driver whose initiates of these children are refused (NO_PROPOSAL_CHOSEN); every
    /// other child comes up.
    pub fn refusing(children: &[&str]) -> FakeDriver {
        let d = FakeDriver::default();
        d.script.lock().expect("script").refuse = children.iter().map(|c| (c.to_string(), "NO_PROPOSAL_CHOSEN".to_string())).collect();
        d
    }

    /// A driver whose initiates over these connections get no answer (the peer ignores them).
    pub fn unanswered(connections: &[&str]) -> FakeDriver {
        let d = FakeDriver::default();
        d.script.lock().expect("script").unanswered = connections.iter().map(|c| c.to_string()).collect();
        d
    }

    pub fn calls(&self) -> Vec<DriverCall> {
        self.script.lock().expect("script").calls.clone()
    }
}

impl Driver for FakeDriver {
    fn name(&self) -> &'static str {
        "fake"
    }

    fn start<'a>(
        &'a self,
        _backend: &'a dyn Backend,
        _run_id: &'a str,
        specs: Vec<DaemonSpec>,
        _ready_within: Duration,
        spawned: &'a mut (dyn FnMut(&str, u32) -> Result<()> + Send),
    ) -> BoxFuture<'a, Result<Vec<Box<dyn IkeDaemon>>>> {
        Box::pin(async move {
            let fail = {
                let mut script = self.script.lock().expect("script");
                script.calls.push(DriverCall::Start { nodes: specs.iter().map(|s| s.node.clone()).collect() });
                script.fail_start.clone()
            };
            if let Some(why) = fail {
                anyhow::bail!(why);
            }
            let mut out: Vec<Box<dyn IkeDaemon>> = Vec::new();
            for (i, spec) in specs.into_iter().enumerate() {
                // No process: a pid that is never a live daemon of this test.
                spawned(&spec.node, 4_000_000 + i as u32)?;
                out.push(Box::new(FakeDaemon { node: spec.node, script: self.script.clone(), exited: false }));
            }
            Ok(out)
        })
    }

    fn control<'a>(&'a self, node: &'a str, _dir: &'a std::path::Path) -> BoxFuture<'a, Result<Box<dyn IkeControl>>> {
        Box::pin(async move { Ok(Box::new(FakeDaemon { node: node.to_string(), script: self.script.clone(), exited: false }) as Box<dyn IkeControl>) })
    }
}

struct FakeDaemon {
    node: String,
    script: Arc<Mutex<Script>>,
    exited: bool,
}

impl FakeDaemon {
    fn record(&self, c: DriverCall) {
        self.script.lock().expect("script").calls.push(c);
    }
}

impl IkeControl for FakeDaemon {
    fn load<'a>(&'a mut self, intent: &'a IpsecIntent) -> BoxFuture<'a, Result<()>> {
        let connections = intent.connections.iter().map(|c| (c.name.clone(), c.children.iter().map(|ch| ch.name.clone()).collect())).collect();
        self.record(DriverCall::Load { node: self.node.clone(), connections });
        Box::pin(async { Ok(()) })
    }

    fn initiate<'a>(
        &'a mut self,
        connection: &'a str,
        child: &'a str,
        _timeout: Duration,
        on_log: &'a mut (dyn FnMut(String) + Send),
    ) -> BoxFuture<'a, Result<Initiated>> {
        self.record(DriverCall::Initiate { node: self.node.clone(), connection: connection.into(), child: child.into() });
        let mut script = self.script.lock().expect("script");
        if script.unanswered.iter().any(|c| c == connection) {
            on_log("retransmit 2 of request with message ID 0".into());
            on_log(format!("giving up after 2 retransmits; establishing IKE_SA '{connection}' failed"));
            let failed = Err(format!("establishing IKE_SA '{connection}' failed, peer not responding"));
            return Box::pin(async move { Ok(failed) });
        }
        let refused = script.refuse.iter().find(|(c, _)| c == child).map(|(_, why)| why.clone());
        script.ike_up = true;
        let result = match refused {
            Some(why) => {
                on_log(format!("received {why} notify, no CHILD_SA built"));
                Err(format!("establishing CHILD_SA '{child}' failed"))
            }
            None => {
                script.up = Some(child.to_string());
                for (node, timeline) in &script.timelines {
                    timeline.push(node, What::Ike { change: Change::Up, sa: connection.into(), state: IkeState::Established });
                    let (local_ts, remote_ts) = (vec!["0.0.0.0/0".to_string()], vec!["0.0.0.0/0".to_string()]);
                    timeline.push(
                        node,
                        What::Child { change: Change::Up, sa: connection.into(), child: child.into(), state: ChildState::Installed, local_ts, remote_ts },
                    );
                }
                Ok(())
            }
        };
        Box::pin(async move { Ok(result) })
    }

    fn list_sas(&mut self) -> BoxFuture<'_, Result<Vec<IkeSa>>> {
        self.record(DriverCall::ListSas { node: self.node.clone() });
        let mut script = self.script.lock().expect("script");
        script.listings += 1;
        let sas = if script.ike_up { vec![IkeSa::example(script.up.as_deref(), script.listings * 84)] } else { Vec::new() };
        Box::pin(async move { Ok(sas) })
    }

    fn rekey_child<'a>(&'a mut self, child: &'a str) -> BoxFuture<'a, Result<Initiated>> {
        self.record(DriverCall::Rekey { node: self.node.clone(), child: child.into() });
        Box::pin(async { Ok(Ok(())) })
    }

    fn terminate_ike<'a>(&'a mut self, _uniqueid: &'a str) -> BoxFuture<'a, Result<()>> {
        self.record(DriverCall::Terminate { node: self.node.clone() });
        let mut script = self.script.lock().expect("script");
        script.ike_up = false;
        script.up = None;
        Box::pin(async { Ok(()) })
    }
}

impl IkeDaemon for FakeDaemon {
    fn node(&self) -> &str {
        &self.node
    }

    fn watch(&mut self, timeline: Timeline) -> BoxFuture<'_, Result<Vec<JoinHandle<()>>>> {
        self.record(DriverCall::Watch { node: self.node.clone() });
        self.script.lock().expect("script").timelines.push((self.node.clone(), timeline));
        Box::pin(async { Ok(Vec::new()) })
    }

    fn signal_kill(&mut self) {}

    fn kill(&mut self) -> Result<()> {
        if !self.exited {
            self.exited = true;
            self.record(DriverCall::Kill { node: self.node.clone() });
        }
        Ok(())
    }

    fn has_exited(&mut self) -> bool {
        self.exited
    }
}
