//! The IPsec intent: what one IPsec node is meant to do, in vendor-neutral IKE terms.
//!
//! Devices (`device/`: Azure, a plain strongSwan gateway, later PAN-OS and pfSense) build an
//! intent from their own configuration and the run plan; the strongSwan driver
//! (`strongswan::config`) renders it as charon configuration, the netfilter renderer
//! (`topology::nft`) its packet filters, and the run's supervisor its timed behaviours. Nothing
//! here names a vendor. Times are real seconds: a device has already applied the lab's clock.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::proposal::Proposal;

/// What one IPsec node does: its connections (IKE and their children), its keys, who may
/// start exchanges, the filters in front of it and the behaviours that need a clock.
#[derive(Debug, Clone, Default)]
pub struct IpsecIntent {
    pub connections: Vec<Connection>,
    pub secrets: Vec<Secret>,
    /// Who may start an exchange.
    pub initiation: Initiation,
    /// The device's stateful filter on traffic it forwards (PAN-OS security rules between
    /// zones, pfSense's IPsec tab): `None` forwards everything.
    pub forward: Option<ForwardPolicy>,
    /// Which IKE packets reach the daemon at all.
    pub listen: Listen,
    /// Behaviours over time that no daemon setting gives.
    pub clock: Vec<Timed>,
}

impl IpsecIntent {
    /// The child a run initiates: the first connection's first child. The one place that says so.
    pub fn first_child(&self) -> Option<(&Connection, &Child)> {
        let c = self.connections.first()?;
        Some((c, c.children.first()?))
    }

    /// The child of the first connection called `name`.
    pub fn child(&self, name: &str) -> Option<(&Connection, &Child)> {
        let c = self.connections.first()?;
        Some((c, c.children.iter().find(|ch| ch.name == name)?))
    }

    /// Whether any connection speaks IKEv1 only.
    pub fn runs_ikev1(&self) -> bool {
        self.connections.iter().any(|c| c.version == IkeVersion::V1)
    }
}

/// Who may start an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Initiation {
    #[default]
    Either,
    /// Never answers an exchange it did not start (Azure's InitiatorOnly mode).
    InitiatorOnly,
    /// Never starts an exchange (Azure's ResponderOnly mode, a passive device).
    ResponderOnly,
}

impl Initiation {
    pub fn may_initiate(self) -> bool {
        self != Initiation::ResponderOnly
    }
    pub fn may_respond(self) -> bool {
        self != Initiation::InitiatorOnly
    }
}

/// Which IKE packets reach the daemon: what a gateway's own filter drops before its IKE
/// implementation sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listen {
    /// Only IKE (and NAT-T) from these addresses; `None` hears everyone. A timed behaviour
    /// ([`Timed::ReresolvePeer`]) may replace the address while the lab runs.
    pub only_from: Option<Vec<Ipv4Addr>>,
    /// IKE_SA_INIT of this version is dropped unanswered (the peer only sees its retransmits).
    pub ignore_version: Option<IkeVersion>,
}

/// A behaviour that needs a clock, run by the run's supervisor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timed {
    /// Every `every_s` seconds, while `connection` has no established IKE SA, resolve `name`
    /// through the lab's name server and, when the address changed, point the connection, its
    /// keys and the listen filter at the new one.
    ReresolvePeer { connection: String, name: String, current: Ipv4Addr, every_s: u64 },
    /// `after_s` seconds after `connection`'s IKE SA was established, delete it (no rekey in
    /// place) and, when `reinitiate`, build it again a second later.
    RebuildIkeSa { connection: String, after_s: u64, reinitiate: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IkeVersion {
    /// Either version (swanctl `version = 0`).
    Any,
    V1,
    V2,
}

impl IkeVersion {
    pub fn number(self) -> u8 {
        match self {
            IkeVersion::Any => 0,
            IkeVersion::V1 => 1,
            IkeVersion::V2 => 2,
        }
    }

    /// "IKEv1", "IKEv2", or "IKEv1 or IKEv2".
    pub fn name(self) -> &'static str {
        match self {
            IkeVersion::V1 => "IKEv1",
            IkeVersion::V2 => "IKEv2",
            IkeVersion::Any => "IKEv1 or IKEv2",
        }
    }

    /// Whether two sides can agree on a version.
    pub fn compatible(self, other: IkeVersion) -> bool {
        self == IkeVersion::Any || other == IkeVersion::Any || self == other
    }
}

#[derive(Debug, Clone)]
pub struct Connection {
    pub name: String,
    pub version: IkeVersion,
    pub local_addrs: Vec<String>,
    pub remote_addrs: Vec<String>,
    /// IKE proposals; empty: the implementation's defaults.
    pub proposals: Vec<Proposal>,
    pub dpd_delay_s: Option<u64>,
    /// IKEv1 only: DPD timeout.
    pub dpd_timeout_s: Option<u64>,
    pub mobike: Option<bool>,
    pub encap: Option<bool>,
    pub rekey_time_s: Option<u64>,
    /// IKEv1: rebuild the IKE SA (break-before-make) instead of rekeying it. 0: never.
    pub reauth_time_s: Option<u64>,
    /// Time after rekey/reauth time until the IKE SA expires.
    pub over_time_s: Option<u64>,
    pub local: Auth,
    pub remote: Auth,
    pub children: Vec<Child>,
    /// How a proposal another side starts is matched against the children's selectors.
    pub selector_match: SelectorMatch,
    /// When the first child's proposal is refused with Phase 1 kept, the child to try next
    /// (Azure's fallback from 0/0 to VNet x local prefixes).
    pub fallback_child: Option<String>,
    /// When this connection's first exchange gets no answer or is refused (no IKE SA at all),
    /// the connection to initiate next: PAN-OS's `ikev2-preferred` falls back to IKEv1.
    pub version_fallback: Option<String>,
    /// Every child is an SA of its own that the device brings up with the tunnel (PAN-OS: one
    /// IPsec SA per proxy-ID); otherwise only the first child is initiated.
    pub start_every_child: bool,
}

/// How a responder matches the traffic selectors a peer proposes against its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SelectorMatch {
    /// IKEv2 narrowing (RFC 7296 §2.9): a proposal that overlaps a child's selectors is
    /// narrowed to the overlap and accepted. strongSwan's and Azure's route-based default.
    #[default]
    Narrowing,
    /// Only a proposal equal to a child's own selector pairs is accepted; a narrower, wider or
    /// overlapping one is refused (NO_PROPOSAL_CHOSEN, Phase 1 kept). PAN-OS's proxy-IDs,
    /// Azure's policy-based gateway.
    Exact,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Psk,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    pub method: AuthMethod,
    pub id: Option<String>,
}

impl Auth {
    pub fn psk(id: Option<String>) -> Auth {
        Auth { method: AuthMethod::Psk, id }
    }
}

/// What a node does when DPD declares the peer dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DpdAction {
    Clear,
    Restart,
    Trap,
}

impl DpdAction {
    pub fn keyword(self) -> &'static str {
        match self {
            DpdAction::Clear => "clear",
            DpdAction::Restart => "restart",
            DpdAction::Trap => "trap",
        }
    }
}

/// What a node does with a child once its configuration is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAction {
    /// Nothing: the run initiates when its plan says so.
    None,
    /// Initiate at once.
    Start,
}

impl StartAction {
    pub fn keyword(self) -> &'static str {
        match self {
            StartAction::None => "none",
            StartAction::Start => "start",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Child {
    pub name: String,
    pub local_ts: Vec<Ipv4Net>,
    pub remote_ts: Vec<Ipv4Net>,
    /// ESP proposals; empty: the implementation's defaults.
    pub esp_proposals: Vec<Proposal>,
    pub rekey_time_s: Option<u64>,
    pub life_time_s: Option<u64>,
    pub rand_time_s: Option<u64>,
    pub rekey_bytes: Option<u64>,
    pub life_bytes: Option<u64>,
    pub dpd_action: Option<DpdAction>,
    pub start_action: Option<StartAction>,
}

impl Child {
    /// A child with these selectors and proposals, everything else left to the implementation.
    pub fn new(name: impl Into<String>, local_ts: Vec<Ipv4Net>, remote_ts: Vec<Ipv4Net>, esp_proposals: Vec<Proposal>) -> Child {
        Child {
            name: name.into(),
            local_ts,
            remote_ts,
            esp_proposals,
            rekey_time_s: None,
            life_time_s: None,
            rand_time_s: None,
            rekey_bytes: None,
            life_bytes: None,
            dpd_action: None,
            start_action: None,
        }
    }

    /// `10.10.0.0/16 === 10.20.0.0/16`, as engineers write a selector pair.
    pub fn selectors(&self) -> String {
        let join = |v: &[Ipv4Net]| v.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
        format!("{} === {}", join(&self.local_ts), join(&self.remote_ts))
    }

    /// Whether both sides are 0.0.0.0/0 (or unset, which means the same).
    pub fn is_any_to_any(&self) -> bool {
        self.local_ts.iter().chain(&self.remote_ts).all(|t| t.prefix_len() == 0)
    }
}

/// A pass rule for traffic from the tunnel (the lab file's `tunnel_rules:` shorthand).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelRule {
    pub from: Ipv4Net,
    pub to: Ipv4Net,
}

/// Where forwarded traffic enters or leaves the device.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Port {
    /// The IPsec tunnel interface.
    Tunnel,
    /// One of the node's interfaces, by its name in the lab.
    Interface(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Accept,
    Drop,
}

/// One rule of a forward policy. An empty list matches anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardRule {
    /// The rule's name on the device, for reports and fixes.
    pub name: String,
    pub from: Vec<Port>,
    pub to: Vec<Port>,
    pub src: Vec<Ipv4Net>,
    pub dst: Vec<Ipv4Net>,
    pub action: Action,
}

/// A stateful forward filter: replies to accepted traffic pass; otherwise the first rule that
/// matches decides, and `otherwise` decides what no rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardPolicy {
    pub rules: Vec<ForwardRule>,
    pub otherwise: Action,
}

impl ForwardPolicy {
    /// pfSense's IPsec tab and the lab's `tunnel_rules:`: traffic from the tunnel passes only
    /// where a rule allows it; everything else is forwarded.
    pub fn from_tunnel_rules(rules: &[TunnelRule]) -> ForwardPolicy {
        let mut list: Vec<ForwardRule> = rules
            .iter()
            .enumerate()
            .map(|(i, r)| ForwardRule {
                name: format!("tunnel rule {}", i + 1),
                from: vec![Port::Tunnel],
                to: Vec::new(),
                src: vec![r.from],
                dst: vec![r.to],
                action: Action::Accept,
            })
            .collect();
        list.push(ForwardRule {
            name: "no pass rule for traffic from the tunnel".into(),
            from: vec![Port::Tunnel],
            to: Vec::new(),
            src: Vec::new(),
            dst: Vec::new(),
            action: Action::Drop,
        });
        ForwardPolicy { rules: list, otherwise: Action::Accept }
    }

    /// The rule that decides a new flow (its name), and whether it passes.
    pub fn decide(&self, from: &Port, to: &Port, src: std::net::Ipv4Addr, dst: std::net::Ipv4Addr) -> (Option<&str>, Action) {
        let matches = |r: &ForwardRule| {
            (r.from.is_empty() || r.from.contains(from))
                && (r.to.is_empty() || r.to.contains(to))
                && (r.src.is_empty() || r.src.iter().any(|n| n.contains(&src)))
                && (r.dst.is_empty() || r.dst.iter().any(|n| n.contains(&dst)))
        };
        match self.rules.iter().find(|r| matches(r)) {
            Some(r) => (Some(r.name.as_str()), r.action),
            None => (None, self.otherwise),
        }
    }
}

/// A pre-shared key. `Debug` never prints the key.
#[derive(Clone)]
pub struct Secret {
    pub ids: Vec<String>,
    pub secret: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret").field("ids", &self.ids).field("secret", &"<redacted>").finish()
    }
}

/// Real seconds for `seconds` of lab time at `scale` lab seconds per real second (at least 1:
/// IKE implementations count whole seconds).
pub fn scaled(seconds: u64, scale: f64) -> u64 {
    ((seconds as f64 / scale).round() as u64).max(1)
}
