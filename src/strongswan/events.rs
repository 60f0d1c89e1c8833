//! charon's events, typed where they are read: VICI `ike-updown`, `child-updown`, `ike-rekey`
//! and `child-rekey` events and error-notify alerts, fed into the run's timeline by one task
//! per stream.

use std::path::PathBuf;

use tokio::task::JoinHandle;

use super::error_notify::AlertReader;
use super::vici::{self, Section, Value};
use crate::evidence::event::{Change, What};
use crate::evidence::sa::{ChildState, IkeState};
use crate::evidence::timeline::Timeline;

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
}
