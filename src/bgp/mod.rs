//! BGP over the tunnel, in vendor-neutral terms: what a node's BGP speaker is meant to do
//! ([`BgpIntent`]), and what a run saw of it ([`BgpPeerState`], [`BgpRoute`]).
//!
//! Devices build a `BgpIntent` from their own configuration (Azure from `bgpSettings` and its
//! rules, pfSense from its FRR package settings, a strongSwan device from the lab's `frr:`
//! section); the FRR driver (`frr/`) renders and runs it; scenario judges and diagnoses read
//! the typed state. Nothing here names a vendor or a daemon. Pure.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::Serialize;

/// Where a node holds an address its BGP session needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AddressOn {
    /// On the loopback, as a /32 (Azure's BGP IP from the GatewaySubnet, a router's loopback).
    Loopback,
    /// On the tunnel interface (a VTI's transit address, pfSense's routed phase 2).
    Tunnel,
}

/// What one node's BGP speaker does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BgpIntent {
    pub asn: u32,
    pub router_id: Ipv4Addr,
    /// Addresses the node must hold for the session (added before the speaker starts).
    pub addresses: Vec<(AddressOn, Ipv4Net)>,
    pub neighbors: Vec<Neighbor>,
    /// Prefixes the node originates.
    pub networks: Vec<Ipv4Net>,
    /// FRR's `bgp ebgp-requires-policy` (on by default since FRR 7.4): an eBGP session with no
    /// policy on a direction exchanges nothing in that direction.
    pub ebgp_requires_policy: bool,
    /// Keepalive and hold time in seconds for every neighbor without its own.
    pub timers: Option<Timers>,
    /// Refuse a peer whose hold time is lower than this (FRR `bgp minimum-holdtime`): how a
    /// speaker that "won't negotiate down" behaves.
    pub minimum_hold_s: Option<u16>,
    /// Learned routes go into the node's routing table (PAN-OS's `install-route`, off by
    /// default there); without it the speaker exchanges routes and forwards by none of them.
    pub install_routes: bool,
}

/// Keepalive and hold time, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timers {
    pub keepalive_s: u16,
    pub hold_s: u16,
}

/// One BGP neighbor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbor {
    pub address: Ipv4Addr,
    pub remote_asn: u32,
    /// Never opens the TCP connection: waits for the peer (Azure towards an APIPA peer).
    pub passive: bool,
    /// The session's source address (a loopback or LAN address the peer knows us by).
    pub update_source: Option<Ipv4Addr>,
    /// eBGP multihop TTL: the peer is not on a connected network.
    pub ebgp_multihop: Option<u8>,
    pub timers: Option<Timers>,
    /// Drop the session when the peer sends more prefixes than this.
    pub max_prefix: Option<u32>,
    /// After such a drop, try the session again after this many minutes (none: stay down
    /// until cleared by hand).
    pub max_prefix_restart_min: Option<u16>,
    /// What the node accepts from and sends to this neighbor.
    pub import: Policy,
    pub export: Policy,
}

/// A direction's policy towards one neighbor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Policy {
    /// No policy: under `ebgp-requires-policy` nothing passes on an eBGP session.
    #[default]
    None,
    /// The first matching rule decides; a prefix no rule matches passes when `otherwise_permit`.
    Filter { rules: Vec<PrefixRule>, otherwise_permit: bool },
}

impl Policy {
    /// Everything passes but these prefixes (exactly).
    pub fn deny_exactly(prefixes: &[Ipv4Net]) -> Policy {
        Policy::Filter { rules: prefixes.iter().map(|p| PrefixRule { prefix: *p, or_longer: false, permit: false }).collect(), otherwise_permit: true }
    }

    /// Whether a prefix passes (`None` passes: whether anything is exchanged at all is
    /// [`BgpIntent::exchanges`]' question).
    pub fn passes(&self, prefix: Ipv4Net) -> bool {
        match self {
            Policy::None => true,
            Policy::Filter { rules, otherwise_permit } => rules.iter().find(|r| r.matches(prefix)).map(|r| r.permit).unwrap_or(*otherwise_permit),
        }
    }
}

/// A prefix filter entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixRule {
    pub prefix: Ipv4Net,
    /// Also every longer prefix inside it (`le 32`).
    pub or_longer: bool,
    pub permit: bool,
}

impl PrefixRule {
    pub fn matches(&self, p: Ipv4Net) -> bool {
        if self.or_longer {
            self.prefix.contains(&p)
        } else {
            self.prefix == p
        }
    }
}

impl BgpIntent {
    /// The neighbor at `address`.
    pub fn neighbor(&self, address: Ipv4Addr) -> Option<&Neighbor> {
        self.neighbors.iter().find(|n| n.address == address)
    }

    /// The timers a neighbor uses: its own, the speaker's, or the protocol default 60/180.
    pub fn timers_for(&self, n: &Neighbor) -> Timers {
        n.timers.or(self.timers).unwrap_or(Timers { keepalive_s: 60, hold_s: 180 })
    }

    /// Whether prefixes flow on an eBGP session in a direction.
    pub fn exchanges(&self, n: &Neighbor, export: bool) -> bool {
        let ebgp = n.remote_asn != self.asn;
        let policy = if export { &n.export } else { &n.import };
        !(ebgp && self.ebgp_requires_policy && *policy == Policy::None)
    }
}

/// `01:02:03`: a session's duration as FRR, PAN-OS and Azure's portal print it.
pub fn hms(seconds: u64) -> String {
    format!("{:02}:{:02}:{:02}", seconds / 3600, seconds % 3600 / 60, seconds % 60)
}

/// The BGP finite state machine's states (RFC 4271 §8.2.2), as every vendor names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum SessionState {
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
}

impl SessionState {
    pub const ALL: [SessionState; 6] =
        [SessionState::Idle, SessionState::Connect, SessionState::Active, SessionState::OpenSent, SessionState::OpenConfirm, SessionState::Established];

    pub fn name(self) -> &'static str {
        match self {
            SessionState::Idle => "Idle",
            SessionState::Connect => "Connect",
            SessionState::Active => "Active",
            SessionState::OpenSent => "OpenSent",
            SessionState::OpenConfirm => "OpenConfirm",
            SessionState::Established => "Established",
        }
    }

    /// Reads a state as speakers print it (`Established`, `Idle (Admin)`, `Active`).
    pub fn parse(s: &str) -> Option<SessionState> {
        let word = s.split([' ', '(']).next().unwrap_or("");
        SessionState::ALL.into_iter().find(|st| st.name().eq_ignore_ascii_case(word))
    }
}

/// A session state a scenario waits for or expects: one state, or "anything but Established".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateMatch {
    Is(SessionState),
    /// Anything but Established.
    Down,
}

impl StateMatch {
    pub fn parse(s: &str) -> Option<StateMatch> {
        match s {
            "established" => Some(StateMatch::Is(SessionState::Established)),
            "down" => Some(StateMatch::Down),
            other => SessionState::parse(other).filter(|st| st.name() == other).map(StateMatch::Is),
        }
    }

    pub fn holds(self, s: SessionState) -> bool {
        match self {
            StateMatch::Is(want) => s == want,
            StateMatch::Down => s != SessionState::Established,
        }
    }

    pub fn describe(self) -> String {
        match self {
            StateMatch::Is(s) => s.name().to_string(),
            StateMatch::Down => "not Established".into(),
        }
    }
}

/// One neighbor as the speaker saw it when asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BgpPeerState {
    pub address: Ipv4Addr,
    pub remote_asn: u32,
    pub state: SessionState,
    /// Seconds since the session was established (0 when it is not).
    pub uptime_s: u64,
    pub prefixes_received: u32,
    pub prefixes_sent: u32,
    /// The last NOTIFICATION sent or received, as the speaker words it ("Hold Timer Expired").
    pub last_notification: Option<String>,
    /// Why the speaker last reset the session, in its words.
    pub last_reset: Option<String>,
    /// The peer's End-of-RIB marker arrived: it has sent everything it had.
    pub end_of_rib_received: bool,
    pub notifications_sent: u32,
    pub notifications_received: u32,
    pub messages_sent: u64,
    pub messages_received: u64,
    /// Negotiated hold time and keepalive, when established.
    pub hold_s: Option<u32>,
    pub keepalive_s: Option<u32>,
}

/// A route the speaker holds: learned from a neighbor or originated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BgpRoute {
    pub prefix: Ipv4Net,
    pub next_hop: Ipv4Addr,
    /// The AS path, nearest first (empty for a local route).
    pub as_path: Vec<u32>,
    /// Usable: its next hop resolves (a path whose next hop does not is held, not used).
    pub valid: bool,
    /// The best path for its prefix.
    pub best: bool,
    /// Installed into the node's routing table (zebra's FIB), as the best path.
    pub installed: bool,
}

/// What one node's speaker showed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BgpSnapshot {
    pub asn: u32,
    pub peers: Vec<BgpPeerState>,
    /// Every route in the speaker's table (learned and local).
    pub routes: Vec<BgpRoute>,
    /// Prefixes advertised to each peer.
    pub advertised: Vec<(Ipv4Addr, Vec<Ipv4Net>)>,
}

impl BgpSnapshot {
    pub fn peer(&self, address: Ipv4Addr) -> Option<&BgpPeerState> {
        self.peers.iter().find(|p| p.address == address)
    }

    /// Prefixes learned from a peer (its next hop or the first AS in the path is the peer's).
    pub fn learned_from(&self, peer: &BgpPeerState) -> Vec<Ipv4Net> {
        let mut out: Vec<Ipv4Net> =
            self.routes.iter().filter(|r| r.as_path.first() == Some(&peer.remote_asn) || r.next_hop == peer.address).map(|r| r.prefix).collect();
        out.sort();
        out.dedup();
        out
    }

    /// Every session established, every peer's End-of-RIB received, and every best route learned
    /// from a peer installed in the node's table (when the speaker `installs` routes at all):
    /// what the node will forward by has settled.
    pub fn settled(&self, installs: bool) -> bool {
        let learned: Vec<&BgpRoute> = self.routes.iter().filter(|r| !r.as_path.is_empty()).collect();
        !self.peers.is_empty()
            && self.peers.iter().all(|p| p.state == SessionState::Established && p.end_of_rib_received)
            && learned.len() == self.peers.iter().map(|p| p.prefixes_received as usize).sum::<usize>()
            && learned.iter().all(|r| r.valid && (!r.best || r.installed || !installs))
    }

    /// Whether a session with this peer refused or dropped with a NOTIFICATION.
    pub fn notified(&self) -> bool {
        self.peers.iter().any(|p| p.notifications_sent + p.notifications_received > 0 && p.state != SessionState::Established)
    }

    pub fn advertised_to(&self, peer: Ipv4Addr) -> Vec<Ipv4Net> {
        self.advertised.iter().find(|(p, _)| *p == peer).map(|(_, v)| v.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn neighbor(asn: u32) -> Neighbor {
        Neighbor {
            address: "10.0.0.2".parse().unwrap(),
            remote_asn: asn,
            passive: false,
            update_source: None,
            ebgp_multihop: None,
            timers: None,
            max_prefix: None,
            max_prefix_restart_min: None,
            import: Policy::None,
            export: Policy::None,
        }
    }

    #[test]
    fn an_ebgp_session_without_policy_exchanges_nothing_under_ebgp_requires_policy() {
        let n = neighbor(65515);
        let mut intent = BgpIntent {
            asn: 65010,
            router_id: "10.0.0.1".parse().unwrap(),
            addresses: vec![],
            neighbors: vec![n.clone()],
            networks: vec![],
            ebgp_requires_policy: true,
            timers: None,
            minimum_hold_s: None,
            install_routes: true,
        };
        assert!(!intent.exchanges(&n, true));
        assert!(!intent.exchanges(&n, false));
        let ibgp = neighbor(65010);
        assert!(intent.exchanges(&ibgp, true), "iBGP needs no policy");
        intent.ebgp_requires_policy = false;
        assert!(intent.exchanges(&n, true));
        assert_eq!(intent.timers_for(&n), Timers { keepalive_s: 60, hold_s: 180 });
    }

    #[test]
    fn states_read_as_speakers_print_them() {
        assert_eq!(SessionState::parse("Established"), Some(SessionState::Established));
        assert_eq!(SessionState::parse("Idle (Admin)"), Some(SessionState::Idle));
        assert_eq!(SessionState::parse("active"), Some(SessionState::Active));
        assert_eq!(SessionState::parse("Clearing"), None);
    }
}
