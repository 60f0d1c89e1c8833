//! The run's events, typed where they are read: SA changes, alerts, the initiate's log lines.
//! Judges and diagnoses match on [`What`]; the JSON report renders each as
//! `{at_ms, node, source, kind, detail}`.

use serde::Serialize;

use super::alert::AlertKind;
use super::sa::{ChildState, IkeState};

/// One thing a daemon reported, stamped with the time since the run started.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Milliseconds since the run started.
    pub at_ms: f64,
    pub node: String,
    pub what: What,
}

/// How an SA changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Up,
    Down,
    Rekeyed,
}

/// What happened, typed at the reader: judges and diagnoses match on these, never on text.
#[derive(Debug, Clone, PartialEq)]
pub enum What {
    /// An IKE SA came up, went down (VICI `ike-updown`) or was rekeyed (`ike-rekey`).
    Ike { change: Change, sa: String, state: IkeState },
    /// A CHILD SA came up, went down (`child-updown`) or was rekeyed (`child-rekey`).
    Child { change: Change, sa: String, child: String, state: ChildState, local_ts: Vec<String>, remote_ts: Vec<String> },
    /// An error-notify alert.
    Alert { kind: AlertKind, message: String, connection: String, peer: String },
    /// A line of charon's log while vpnlab initiated; `retransmit` is the message ID of a
    /// request charon retransmitted (`retransmit N of request with message ID M`).
    ControlLog { line: String, retransmit: Option<u32> },
    /// The gateway's 0/0 offer was refused and it retried with this child (VNet x local
    /// network prefixes).
    Fallback { child: String },
    /// The first exchange got no IKE SA; the device starts again with another IKE version
    /// (PAN-OS `ikev2-preferred` falling back to IKEv1), on this connection.
    VersionFallback { connection: String, version: u8 },
    /// The node received an error notify from its peer, read from its log while vpnlab
    /// initiated (IKEv1 Quick Mode refusals raise no error-notify alert; this is their evidence).
    Notify { notify: Notify },
}

/// An IKE error notify a peer sent (RFC 7296 §3.10.1, RFC 2408 §3.14.1), by its IANA name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notify {
    NoProposalChosen,
    TsUnacceptable,
    AuthenticationFailed,
    InvalidKePayload,
    Other(String),
}

impl Notify {
    pub fn name(&self) -> &str {
        match self {
            Notify::NoProposalChosen => "NO_PROPOSAL_CHOSEN",
            Notify::TsUnacceptable => "TS_UNACCEPTABLE",
            Notify::AuthenticationFailed => "AUTHENTICATION_FAILED",
            Notify::InvalidKePayload => "INVALID_KE_PAYLOAD",
            Notify::Other(name) => name,
        }
    }

    fn from_name(name: &str) -> Notify {
        match name {
            "NO_PROPOSAL_CHOSEN" => Notify::NoProposalChosen,
            "TS_UNACCEPTABLE" => Notify::TsUnacceptable,
            "AUTHENTICATION_FAILED" => Notify::AuthenticationFailed,
            "INVALID_KE_PAYLOAD" => Notify::InvalidKePayload,
            other => Notify::Other(other.to_string()),
        }
    }
}

/// The notify in charon's `received NO_PROPOSAL_CHOSEN error notify` (IKEv1) or `received
/// NO_PROPOSAL_CHOSEN notify error` (IKEv2) line.
pub fn received_notify(line: &str) -> Option<Notify> {
    let rest = line.trim_start().strip_prefix("received ")?;
    let (name, tail) = rest.split_once(' ')?;
    let is_notify = tail.starts_with("error notify") || tail.starts_with("notify error") || tail.starts_with("notify,");
    (is_notify && name.chars().all(|c| c.is_ascii_uppercase() || c == '_') && !name.is_empty()).then(|| Notify::from_name(name))
}

impl What {
    /// `vici` or `error-notify`: the socket it came from.
    pub fn source(&self) -> &'static str {
        match self {
            What::Alert { .. } => "error-notify",
            _ => "vici",
        }
    }

    /// The VICI event name or the alert name.
    pub fn kind(&self) -> &'static str {
        match self {
            What::Ike { change: Change::Rekeyed, .. } => "ike-rekey",
            What::Ike { .. } => "ike-updown",
            What::Child { change: Change::Rekeyed, .. } => "child-rekey",
            What::Child { .. } => "child-updown",
            What::Alert { kind, .. } => kind.name(),
            What::ControlLog { .. } => "control-log",
            What::Fallback { .. } => "fallback",
            What::VersionFallback { .. } => "version-fallback",
            What::Notify { .. } => "notify",
        }
    }

    /// One line for people: `azure-ike-gw up (ESTABLISHED)`,
    /// `azure-ike-gw/azure-ipsec-tunnel up 0.0.0.0/0 === 0.0.0.0/0 (INSTALLED)`.
    pub fn detail(&self) -> String {
        let word = |c: &Change| if *c == Change::Down { "down" } else { "up" };
        match self {
            What::Ike { change, sa, state } => format!("{sa} {} ({state})", word(change)),
            What::Child { change, sa, child, state, local_ts, remote_ts } => {
                format!("{sa}/{child} {} {} === {} ({state})", word(change), local_ts.join(","), remote_ts.join(","))
            }
            What::Alert { message, connection, peer, .. } => {
                let mut d = message.clone();
                if !connection.is_empty() {
                    d = format!("{d} [connection {connection}]");
                }
                if !peer.is_empty() {
                    d = format!("{d} [peer {peer}]");
                }
                d
            }
            What::ControlLog { line, .. } => line.clone(),
            What::Fallback { child } => format!("0.0.0.0/0 refused; retrying with {child} (VNet x local network prefixes)"),
            What::VersionFallback { connection, version } => format!("no IKE SA from the first offer; starting again with IKEv{version} ({connection})"),
            What::Notify { notify } => format!("received {} from the peer", notify.name()),
        }
    }

    pub fn is_alert(&self, kinds: &[AlertKind]) -> bool {
        matches!(self, What::Alert { kind, .. } if kinds.contains(kind))
    }

    /// An IKE SA that came up (or was rekeyed, which keeps it up).
    pub fn ike_up(&self) -> bool {
        matches!(self, What::Ike { change: Change::Up | Change::Rekeyed, .. })
    }

    pub fn ike_down(&self) -> bool {
        matches!(self, What::Ike { change: Change::Down, .. })
    }

    pub fn child_up(&self) -> bool {
        matches!(self, What::Child { change: Change::Up | Change::Rekeyed, .. })
    }
}

/// Lines of charon's log are typed once, where they are read.
#[cfg(test)]
#[test]
fn log_lines() {
    assert_eq!(received_notify("received NO_PROPOSAL_CHOSEN error notify"), Some(Notify::NoProposalChosen));
    assert_eq!(received_notify("received TS_UNACCEPTABLE notify, no CHILD_SA built"), Some(Notify::TsUnacceptable));
    assert_eq!(received_notify("received AUTHENTICATION_FAILED notify error"), Some(Notify::AuthenticationFailed));
    assert_eq!(received_notify("received packet: from 198.51.100.20[4500] to 172.16.0.2[4500] (92 bytes)"), None);
    assert_eq!(retransmitted_message("retransmit 2 of request with message ID 1"), Some(1));
    assert_eq!(retransmitted_message("sending packet: from 1.2.3.4"), None);
}

/// The message ID in `retransmit 2 of request with message ID 1`, charon's retransmit line.
pub fn retransmitted_message(line: &str) -> Option<u32> {
    let rest = line.trim_start().strip_prefix("retransmit ")?;
    rest.split_once("message ID ")?.1.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// The JSON shape of `events[]` (docs/reports.md): `{at_ms, node, source, kind, detail}`.
impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("Event", 5)?;
        st.serialize_field("at_ms", &self.at_ms)?;
        st.serialize_field("node", &self.node)?;
        st.serialize_field("source", self.what.source())?;
        st.serialize_field("kind", self.what.kind())?;
        st.serialize_field("detail", &self.what.detail())?;
        st.end()
    }
}
