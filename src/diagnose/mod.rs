//! Diagnosis: from a run's typed evidence (alerts, SAs, pings, steps) and the intents of the lab's
//! two IPsec sides to a cause and its fixes.
//!
//! Each cause is found as data ([`Finding`]: what is wrong, with the values of both sides, and
//! the [`Remedy`] on each side), then rendered in each side's own vocabulary: a strongSwan
//! device gets swanctl.conf keys and charon's log lines, the Azure gateway the portal's fields
//! and its diagnostic log. Nothing here names a vendor's menu. The finders live by phase:
//! `ike.rs` (Phase 1 and authentication), `child.rs` (Phase 2: proposals, selectors, PFS at
//! rekey), `path.rs` (the data path, a dead peer, a moved peer).

mod bgp;
mod child;
mod ike;
mod path;
mod sides;
#[cfg(test)]
mod tests;

use serde::Serialize;

use self::sides::Sides;
use crate::device::{Remedy, Symptom};
use crate::evidence::Evidence;
use crate::model::Lab;

/// A cause vpnlab can name. Scenario files name causes by [`CauseId::as_str`]; an unknown
/// name is refused when the scenario loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CauseId {
    IkeVersionMismatch,
    PolicyBasedGateway,
    IkeProposalMismatch,
    PskMismatch,
    PskWhitespace,
    SelectorMismatch,
    EspProposalMismatch,
    PfsMismatch,
    MissingRoute,
    MissingFirewallRule,
    NatTBlocked,
    NobodyCanInitiate,
    PeerAddressChanged,
    PeerDead,
    Mtu,
    BgpAsnMismatch,
    BgpPeerUnreachable,
    BgpBothPassive,
    BgpNoPolicy,
    BgpVnetPrefix,
    BgpPrefixLimit,
    BgpHoldTime,
    BgpRoutesNotInstalled,
    StaysDownAfterRestart,
}

/// (cause, id, title) in one table so the three cannot drift apart.
const CAUSES: [(CauseId, &str, &str); 24] = [
    (CauseId::IkeVersionMismatch, "ike-version-mismatch", "IKE version mismatch"),
    (CauseId::PolicyBasedGateway, "policy-based-gateway", "Azure gateway is policy-based"),
    (CauseId::IkeProposalMismatch, "ike-proposal-mismatch", "Phase 1 proposal mismatch"),
    (CauseId::PskMismatch, "psk-mismatch", "pre-shared key mismatch"),
    (CauseId::PskWhitespace, "psk-whitespace", "pre-shared key with trailing whitespace"),
    (CauseId::SelectorMismatch, "selector-mismatch", "traffic selector (proxy-ID) mismatch"),
    (CauseId::EspProposalMismatch, "esp-proposal-mismatch", "Phase 2 proposal mismatch"),
    (CauseId::PfsMismatch, "pfs-mismatch", "PFS on one side only"),
    (CauseId::MissingRoute, "missing-route", "no route into the tunnel"),
    (CauseId::MissingFirewallRule, "missing-firewall-rule", "no firewall rule passes the tunnel's traffic"),
    (CauseId::NatTBlocked, "nat-t-blocked", "NAT-T (UDP 4500) blocked"),
    (CauseId::NobodyCanInitiate, "nobody-can-initiate", "nobody is allowed to initiate"),
    (CauseId::PeerAddressChanged, "peer-address-changed", "the branch's public address changed, Azure still uses the old one"),
    (CauseId::PeerDead, "peer-dead", "peer dead, cleared by DPD"),
    (CauseId::Mtu, "mtu", "packet too large for the tunnel (MTU/MSS)"),
    (CauseId::BgpAsnMismatch, "bgp-asn-mismatch", "BGP AS number mismatch"),
    (CauseId::BgpPeerUnreachable, "bgp-peer-unreachable", "the BGP peer IP is not routed through the tunnel"),
    (CauseId::BgpBothPassive, "bgp-both-passive", "both BGP speakers wait for the other"),
    (CauseId::BgpNoPolicy, "bgp-no-policy", "eBGP without a policy exchanges nothing (FRR ebgp-requires-policy)"),
    (CauseId::BgpVnetPrefix, "bgp-vnet-prefix", "a VNet prefix advertised back to Azure"),
    (CauseId::BgpPrefixLimit, "bgp-prefix-limit", "more prefixes than Azure accepts from a BGP peer"),
    (CauseId::BgpHoldTime, "bgp-hold-time", "BGP hold time shorter than Azure accepts"),
    (CauseId::BgpRoutesNotInstalled, "bgp-routes-not-installed", "BGP routes learned but not installed in the routing table"),
    (CauseId::StaysDownAfterRestart, "stays-down-after-restart", "a peer restarted and nobody started the tunnel again"),
];

impl CauseId {
    pub fn all() -> impl Iterator<Item = CauseId> {
        CAUSES.iter().map(|(c, _, _)| *c)
    }

    pub fn parse(id: &str) -> Option<CauseId> {
        CAUSES.iter().find(|(_, i, _)| *i == id).map(|(c, _, _)| *c)
    }

    /// The id scenario files and reports use, e.g. `ike-proposal-mismatch`.
    pub fn as_str(self) -> &'static str {
        CAUSES.iter().find(|(c, _, _)| *c == self).map(|(_, i, _)| *i).expect("every cause is in the table")
    }

    pub fn title(self) -> &'static str {
        CAUSES.iter().find(|(c, _, _)| *c == self).map(|(_, _, t)| *t).expect("every cause is in the table")
    }
}

impl std::fmt::Display for CauseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CauseId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Which side has to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Firewall,
    Azure,
    /// Either side can fix it (both fixes work).
    Either,
    /// Something between the sites (a NAT router, a filter).
    Network,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Firewall => "firewall",
            Side::Azure => "azure",
            Side::Either => "either",
            Side::Network => "network",
        }
    }
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A diagnosis as people and reports read it: the cause, and each side's fix in its own words.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub id: CauseId,
    pub title: &'static str,
    /// What is wrong, with the values of both sides.
    pub cause: String,
    /// What to change on the device under test, in its vocabulary, with its log line.
    pub firewall: String,
    /// What to change in Azure (portal / ARM), with what its diagnostic log shows.
    pub azure: String,
    /// A change between the sites (NAT router, filters), when that is where the fix is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    pub change: Side,
    /// The evidence that led here.
    pub evidence: String,
    /// How to confirm it on each side: the commands that show the state it rests on.
    pub check: Vec<String>,
}

/// A cause found in the evidence, as data: the remedies are rendered per side afterwards.
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    pub id: CauseId,
    pub cause: String,
    pub firewall: Vec<Remedy>,
    pub azure: Vec<Remedy>,
    pub network: Option<String>,
    /// The symptom each side logs, for the log line in its fix.
    pub symptom: Option<Symptom>,
    pub change: Side,
    pub evidence: String,
}

impl Finding {
    fn new(id: CauseId, cause: String, change: Side, evidence: String) -> Finding {
        Finding { id, cause, firewall: Vec::new(), azure: Vec::new(), network: None, symptom: None, change, evidence }
    }
    fn firewall(mut self, r: Remedy) -> Self {
        self.firewall.push(r);
        self
    }
    fn azure(mut self, r: Remedy) -> Self {
        self.azure.push(r);
        self
    }
    fn network(mut self, text: impl Into<String>) -> Self {
        self.network = Some(text.into());
        self
    }
    fn symptom(mut self, s: Symptom) -> Self {
        self.symptom = Some(s);
        self
    }
}

/// Every cause the evidence supports, most specific first.
pub fn diagnose(lab: &Lab, e: &Evidence) -> Vec<Diagnosis> {
    let Some(sides) = Sides::of(lab) else { return Vec::new() };
    let mut found = Vec::new();
    found.extend(ike::nobody_starts(&sides, e));
    found.extend(ike::unanswered(&sides, e));
    found.extend(ike::refused(&sides, e));
    found.extend(ike::authentication(&sides, e));
    found.extend(child::phase2(&sides, e));
    found.extend(path::peer_address_changed(&sides, e));
    found.extend(path::peer_dead(&sides, e));
    found.extend(path::stays_down_after_restart(&sides, e));
    // A route that BGP should have brought is BGP's cause, not a missing static route.
    let routing = bgp::sessions(&sides, e);
    if routing.is_empty() {
        found.extend(path::data_path(&sides, e));
    }
    found.extend(routing);
    found.into_iter().map(|f| sides.render(f)).collect()
}
