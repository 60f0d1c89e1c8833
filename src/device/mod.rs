//! Devices: every IPsec node of a lab is a device with behaviour; strongSwan is only the driver
//! that runs it.
//!
//! A device owns three things:
//! - its **intent** ([`IpsecIntent`]): what it does in vendor-neutral IKE terms, built from its
//!   own configuration and the run plan ([`RunContext`]: whether it starts the first exchange,
//!   the lab's clock), including its filters and its behaviours over time (Azure's FQDN
//!   re-resolution, its IKEv1 rekey drop), which the run carries out without knowing whose they
//!   are;
//! - its **vocabulary** ([`Vocabulary`]): how it names algorithms, where an engineer changes a
//!   setting on it ([`Remedy`]), the log line it writes for a symptom, the command that shows
//!   its state. Diagnoses are data rendered through it, so a strongSwan device gets swanctl.conf
//!   fixes and Azure gets portal fixes;
//! - what it **noted** while reading its configuration (imports, defaults), for reports.
//!
//! Families so far: `azure` (the simulated gateway) and `strongswan` (a plain strongSwan
//! gateway). A new family is a new folder here and one arm in the lab file's resolution;
//! nothing else names a vendor. Imports point down only: to `ike/`.

pub mod azure;
pub mod strongswan;

use std::any::Any;
use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::ike::dh::DhGroup;
use crate::ike::intent::{IkeVersion, Initiation, IpsecIntent};
use crate::ike::proposal::{self, Proposal};

/// What a device learns from the run plan before it builds its intent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunContext {
    /// The run plan has this node start the first exchange.
    pub starts_first: bool,
    /// Lab seconds per real second for the device's timers (1 = real time).
    pub time_scale: f64,
}

/// An IPsec node's behaviour. Object-safe: a lab holds its devices as `Box<dyn Device>`.
pub trait Device: fmt::Debug + Send + Sync + Vocabulary {
    /// The family's name as lab files and reports spell it: `azure`, `strongswan`.
    fn family(&self) -> &'static str;
    /// Whether this node is the device under test (the firewall), not a simulated peer.
    fn under_test(&self) -> bool;
    /// Who may start exchanges, known before the run plan is (the plan is checked against it).
    fn initiation(&self) -> Initiation;
    /// What the device does in this run, ready for the driver.
    fn intent(&self, run: RunContext) -> IpsecIntent;
    /// What was ignored or assumed while reading the device's configuration.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
    /// The device's configuration in its own words, one line each, for status tables.
    fn summary(&self, intent: &IpsecIntent) -> Vec<String>;
    /// For code that needs one family's own model (Azure's explain, its status blade).
    fn as_any(&self) -> &dyn Any;
    fn clone_box(&self) -> Box<dyn Device>;
}

impl Clone for Box<dyn Device> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// A change that would fix a cause, named without a vendor and carrying the values to set.
/// Each device's [`Vocabulary::remedy`] says where it is done and how, in its own words.
#[derive(Debug, Clone, PartialEq)]
pub enum Remedy {
    /// Run this IKE version.
    IkeVersion(IkeVersion),
    /// Offer (or accept) one of these IKE proposals.
    IkeProposals(Vec<Proposal>),
    /// Offer (or accept) one of these ESP proposals.
    EspProposals(Vec<Proposal>),
    /// Phase 2 PFS with this group, or none.
    PfsGroup(Option<DhGroup>),
    /// A CHILD SA lifetime below this many seconds, so that this side always rekeys first.
    ChildLifetimeBelow(u64),
    /// These Phase 2 selectors (proxy-IDs).
    Selectors { local: Vec<Ipv4Net>, remote: Vec<Ipv4Net> },
    /// Type the pre-shared key again by hand: it carries invisible whitespace.
    RetypePresharedKey,
    /// The same pre-shared key on both sides, byte for byte.
    SamePresharedKey,
    /// Run dead peer detection (and keep the tunnel from going quiet).
    DeadPeerDetection,
    /// NAT traversal, with UDP 4500 allowed on the way.
    NatTraversal,
    /// A route for this prefix into the tunnel.
    TunnelRoute(Ipv4Net),
    /// A pass rule for traffic from the tunnel, from `from` to `to`.
    TunnelFilterPass { from: Ipv4Net, to: Ipv4Net },
    /// Packets that fit the tunnel: this MTU on the tunnel, TCP MSS clamped to this.
    TunnelMtu { mtu: u16, mss: u16 },
    /// Let this side start the tunnel.
    AllowInitiation,
    /// Let the other side start the tunnel (accept what it starts).
    AllowResponding,
    /// Keep the peer's public address current (dynamic DNS, or the new address).
    PeerAddress { name: Option<String>, address: Ipv4Addr },
    /// Nothing to change on this side, with why.
    Nothing(&'static str),
}

/// A symptom a device logs in its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symptom {
    /// The peer never answered IKE_SA_INIT / Main Mode.
    PeerNotResponding,
    Phase1NoProposal,
    Phase2NoProposal,
    AuthenticationFailed,
    /// Phase 2 came up and a later rekey was refused.
    RekeyRefused,
    /// The peer's selectors were refused.
    SelectorsRefused,
    DeadPeer,
    /// SAs up, traffic not passing.
    NoTraffic,
}

/// A device's words for its settings, its algorithms, its logs and its checks.
pub trait Vocabulary {
    /// The device as an engineer names it in a fix: `strongSwan`, `Azure`.
    fn name(&self) -> &'static str;
    /// A proposal in the device's own algorithm names.
    fn proposal(&self, p: &Proposal) -> String {
        p.to_string()
    }
    /// Where `remedy` is done on this device and what to set, in its own words.
    fn remedy(&self, remedy: &Remedy) -> String;
    /// The line the device logs for a symptom, if it has a recognisable one.
    fn log_line(&self, symptom: Symptom) -> Option<String>;
    /// The command (or view) that shows the state a diagnosis rests on.
    fn check(&self) -> String;

    /// Proposals in the device's names, comma separated; its defaults named, never blank.
    fn proposals(&self, list: &[Proposal]) -> String {
        if list.is_empty() || list.iter().all(Proposal::is_defaults) {
            return format!("{}'s default proposals", self.name());
        }
        list.iter().map(|p| self.proposal(p)).collect::<Vec<_>>().join(", ")
    }
}

/// Proposals in the notation, for code without a device at hand.
pub fn notation(list: &[Proposal]) -> String {
    proposal::list(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_proposals_are_named_not_blank() {
        let d = strongswan::StrongswanDevice::example();
        assert!(d.proposals(&[]).starts_with("strongSwan 5.9's default proposals"));
        let p = Proposal::parse("aes256-sha256", crate::ike::ProposalKind::Esp).unwrap();
        assert_eq!(d.proposals(&[p]), "aes256-sha256");
    }
}
