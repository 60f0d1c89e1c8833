//! The run's timeline: every VICI event and error-notify alert of every daemon, stamped with
//! the time since the run started. Each stream is read by its own task; the streams are
//! separate sockets, so their relative order is only as good as the timestamps (lab notes §0).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::task::JoinHandle;

pub use crate::evidence::event::{retransmitted_message, Change, Event, What};
use crate::strongswan::error_notify::AlertReader;
use crate::strongswan::sas::{ChildState, IkeState};
use crate::strongswan::vici::{self, Section, Value};

#[derive(Clone)]
pub struct Timeline {
    start: Instant,
    events: Arc<Mutex<Vec<Event>>>,
}

impl Timeline {
    pub fn new(start: Instant) -> Self {
        Timeline { start, events: Arc::new(Mutex::new(Vec::new())) }
    }

    pub fn push(&self, node: &str, what: What) {
        let at_ms = self.start.elapsed().as_secs_f64() * 1000.0;
        if let Ok(mut ev) = self.events.lock() {
            ev.push(Event { at_ms, node: node.to_string(), what });
        }
    }

    pub fn snapshot(&self) -> Vec<Event> {
        let mut ev = self.events.lock().map(|e| e.clone()).unwrap_or_default();
        ev.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
        ev
    }
}

/// The SAs an updown/rekey event `name` reports, one [`What`] each.
pub fn parse(name: &str, ev: &Section) -> Vec<What> {
    let up = ev.str("up").as_deref() == Some("yes");
    let change = if name.ends_with("rekey") {
        Change::Rekeyed
    } else if up {
        Change::Up
    } else {
        Change::Down
    };
    let mut out = Vec::new();
    for (ike, v) in ev.entries() {
        let Value::Section(sa) = v else { continue };
        if name.starts_with("child") {
            for (_, c) in sa.sub("child-sas").map(|c| c.entries().to_vec()).unwrap_or_default() {
                if let Value::Section(c) = c {
                    out.push(What::Child {
                        change,
                        sa: ike.clone(),
                        child: c.str("name").unwrap_or_default(),
                        state: ChildState::parse(&c.str("state").unwrap_or_default()),
                        local_ts: c.list_of("local-ts").unwrap_or_default(),
                        remote_ts: c.list_of("remote-ts").unwrap_or_default(),
                    });
                }
            }
        } else {
            out.push(What::Ike { change, sa: ike.clone(), state: IkeState::parse(&sa.str("state").unwrap_or_default()) });
        }
    }
    out
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
            for what in parse(&name, &ev) {
                t1.push(&n1, what);
            }
        }
    });
    let (n2, t2) = (node.to_string(), timeline);
    let alert_task = tokio::spawn(async move {
        while let Ok(Some(a)) = alerts.next().await {
            t2.push(&n2, What::Alert { kind: a.kind, message: a.message, connection: a.connection, peer: a.peer_addr });
        }
    });
    Ok(vec![vici_task, alert_task])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updown_events_become_typed_sa_changes() {
        let child = Section::new().kv("name", "tunnel").kv("state", "INSTALLED").list("local-ts", ["0.0.0.0/0"]).list("remote-ts", ["0.0.0.0/0"]);
        let ev = Section::new()
            .kv("up", "yes")
            .section("gw", Section::new().kv("state", "ESTABLISHED").section("child-sas", Section::new().section("tunnel-1", child)));
        let child_up = parse("child-updown", &ev);
        assert_eq!(child_up.len(), 1);
        assert!(child_up[0].child_up());
        assert_eq!(child_up[0].detail(), "gw/tunnel up 0.0.0.0/0 === 0.0.0.0/0 (INSTALLED)");
        let ike_down = parse("ike-updown", &Section::new().section("gw", Section::new().kv("state", "CONNECTING")));
        assert!(ike_down[0].ike_down() && !ike_down[0].ike_up());
        assert_eq!(ike_down[0].kind(), "ike-updown");
        assert_eq!(ike_down[0].detail(), "gw down (CONNECTING)");
        assert!(parse("ike-rekey", &Section::new().section("gw", Section::new().kv("state", "ESTABLISHED")))[0].ike_up());
    }

    #[test]
    fn retransmits_are_read_once_at_the_reader() {
        assert_eq!(retransmitted_message("retransmit 2 of request with message ID 1"), Some(1));
        assert_eq!(retransmitted_message("sending packet: from 1.2.3.4"), None);
    }
}
