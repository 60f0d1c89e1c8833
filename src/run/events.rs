//! The run's timeline: every VICI event and error-notify alert of every daemon, stamped with
//! the time since the run started. Each stream is read by its own task; the streams are
//! separate sockets, so their relative order is only as good as the timestamps (lab notes §0).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;
use tokio::task::JoinHandle;

use crate::strongswan::error_notify::AlertReader;
use crate::strongswan::vici::{self, Section, Value};

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Milliseconds since the run started.
    pub at_ms: f64,
    pub node: String,
    /// `vici` or `error-notify`.
    pub source: &'static str,
    /// VICI event name (`ike-updown`, ...) or alert name (`PROPOSAL_MISMATCH_IKE`, ...).
    pub kind: String,
    pub detail: String,
}

#[derive(Clone)]
pub struct Timeline {
    start: Instant,
    events: Arc<Mutex<Vec<Event>>>,
}

impl Timeline {
    pub fn new(start: Instant) -> Self {
        Timeline { start, events: Arc::new(Mutex::new(Vec::new())) }
    }

    pub fn push(&self, node: &str, source: &'static str, kind: &str, detail: String) {
        let at_ms = self.start.elapsed().as_secs_f64() * 1000.0;
        if let Ok(mut ev) = self.events.lock() {
            ev.push(Event { at_ms, node: node.to_string(), source, kind: kind.to_string(), detail });
        }
    }

    pub fn snapshot(&self) -> Vec<Event> {
        let mut ev = self.events.lock().map(|e| e.clone()).unwrap_or_default();
        ev.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
        ev
    }
}

/// One line describing an updown/rekey event: `azure-ike-gw up`, `azure-ike-gw/azure-ipsec-tunnel
/// up 0.0.0.0/0 === 0.0.0.0/0`, `azure-ike-gw down (CONNECTING)`.
pub fn describe(name: &str, ev: &Section) -> String {
    let up = ev.str("up").as_deref() == Some("yes");
    let mut parts = Vec::new();
    for (ike, v) in ev.entries() {
        let Value::Section(sa) = v else { continue };
        let state = sa.str("state").unwrap_or_default();
        if name.starts_with("child") {
            if let Some(children) = sa.sub("child-sas") {
                for (_, c) in children.entries() {
                    if let Value::Section(c) = c {
                        let ts =
                            format!("{} === {}", c.list_of("local-ts").unwrap_or_default().join(","), c.list_of("remote-ts").unwrap_or_default().join(","));
                        parts.push(format!(
                            "{ike}/{} {} {ts} ({})",
                            c.str("name").unwrap_or_default(),
                            if up { "up" } else { "down" },
                            c.str("state").unwrap_or_default()
                        ));
                    }
                }
            }
        } else {
            parts.push(format!("{ike} {} ({state})", if up || name.ends_with("rekey") { "up" } else { "down" }));
        }
    }
    parts.join("; ")
}

/// Starts the tasks that feed the timeline from one daemon. They end when the daemon's
/// sockets close (the daemon died or vpnlab exits).
pub async fn watch(node: &str, vici_path: PathBuf, alerts_path: PathBuf, timeline: Timeline) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let mut events = vici::Client::connect(&vici_path).await?;
    for name in ["ike-updown", "child-updown", "ike-rekey", "child-rekey"] {
        events.register(name).await?;
    }
    let mut alerts = AlertReader::connect(&alerts_path).await?;
    let (n1, t1) = (node.to_string(), timeline.clone());
    let vici_task = tokio::spawn(async move {
        while let Ok((name, ev)) = events.next_event().await {
            t1.push(&n1, "vici", &name, describe(&name, &ev));
        }
    });
    let (n2, t2) = (node.to_string(), timeline);
    let alert_task = tokio::spawn(async move {
        while let Ok(Some(a)) = alerts.next().await {
            let mut detail = a.message.clone();
            if !a.connection.is_empty() {
                detail = format!("{detail} [connection {}]", a.connection);
            }
            if !a.peer_addr.is_empty() {
                detail = format!("{detail} [peer {}]", a.peer_addr);
            }
            t2.push(&n2, "error-notify", a.kind.name(), detail);
        }
    });
    Ok(vec![vici_task, alert_task])
}
