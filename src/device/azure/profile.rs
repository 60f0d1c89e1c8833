//! From Azure's resources to the behaviour of the simulated gateway: the effective behaviour
//! ([`Effective`], what `vpnlab azure explain` prints) and the intent that reproduces it for one
//! run (proposals per role, selectors and how they are matched, lifetimes, DPD, who may start,
//! the filter in front of the gateway, the behaviours over time). Each choice names the rule of
//! `rules.rs` it implements.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::policy::{
    DEFAULT_ESP_PROPOSALS_POLICY_BASED, DEFAULT_ESP_PROPOSALS_ROUTE_BASED_INITIATOR, DEFAULT_ESP_PROPOSALS_ROUTE_BASED_RESPONDER,
    DEFAULT_IKE_PROPOSALS_POLICY_BASED, DEFAULT_IKE_PROPOSALS_ROUTE_BASED,
};
use super::rules::RuleId;
use super::{AzureSite, ConnectionMode, NarrowedSelectors, OtherIkeVersion, VpnType};
use crate::device::RunContext;
use crate::ike::intent::{scaled, Auth, Child, Connection, DpdAction, IkeVersion, Initiation, IpsecIntent, Listen, Secret, SelectorMatch, StartAction, Timed};
use crate::ike::proposal::{parse_all, Proposal, ProposalKind};

/// IKE SA lifetime: fixed at 28,800 s with or without a custom policy [S2] [S3].
pub const IKE_SA_LIFETIME_SECONDS: u64 = 28_800;
/// CHILD SA lifetimes of the Default policy [S1].
pub const ROUTE_BASED_CHILD_SA_SECONDS: u64 = 27_000;
pub const ROUTE_BASED_CHILD_SA_KILOBYTES: u64 = 102_400_000;
pub const POLICY_BASED_CHILD_SA_SECONDS: u64 = 3_600;
/// Azure refreshes its DNS cache every 5 minutes [S22].
pub const DNS_REFRESH_SECONDS: u64 = 300;

/// A set of traffic selectors Azure proposes or installs: local (VNet side) and remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorSet {
    pub local: Vec<Ipv4Net>,
    pub remote: Vec<Ipv4Net>,
}

impl SelectorSet {
    fn new(local: &[Ipv4Net], remote: &[Ipv4Net]) -> Self {
        SelectorSet { local: local.to_vec(), remote: remote.to_vec() }
    }
    fn any() -> Self {
        let any: Ipv4Net = "0.0.0.0/0".parse().expect("constant");
        SelectorSet { local: vec![any], remote: vec![any] }
    }
    pub fn describe(&self) -> String {
        let join = |v: &[Ipv4Net]| v.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
        format!("{} === {}", join(&self.local), join(&self.remote))
    }
}

/// What the gateway does, in real-world units, role by role.
#[derive(Debug, Clone)]
pub struct Effective {
    pub version: IkeVersion,
    pub ike_proposals: Vec<Proposal>,
    pub esp_offered: Vec<Proposal>,
    pub esp_accepted: Vec<Proposal>,
    pub ike_lifetime_s: u64,
    pub child_lifetime_s: u64,
    pub child_lifetime_kb: Option<u64>,
    /// DPD timeout, when the gateway runs DPD (policy-based gateways do not [S1]).
    pub dpd_timeout_s: Option<u32>,
    /// What Azure proposes when it initiates: one entry per CHILD SA.
    pub selectors_offered: Vec<SelectorSet>,
    /// How Azure matches what a peer proposes.
    pub selector_match: SelectorMatch,
    /// What Azure accepts as responder, in words.
    pub selectors_accepted: String,
    pub azure_may_initiate: bool,
    pub peer_may_initiate: bool,
    /// The rules this behaviour follows.
    pub rules: Vec<RuleId>,
}

impl AzureSite {
    pub fn effective(&self) -> Effective {
        let c = &self.connection;
        let policy_based = self.gateway.vpn_type == VpnType::PolicyBased;
        let mut rules = vec![RuleId::VpnTypeIkeVersions];
        let (ike_proposals, esp_offered, esp_accepted, child_s, child_kb) = match (&c.policy, policy_based) {
            (Some(p), _) => {
                rules.push(RuleId::CustomPolicyExact);
                rules.push(RuleId::DhGroupNames);
                (vec![p.ike_proposal()], vec![p.esp_proposal()], vec![p.esp_proposal()], u64::from(p.sa_life_time_seconds), Some(p.sa_data_size_kilobytes))
            }
            (None, true) => {
                rules.extend([RuleId::DefaultPolicyPhase1, RuleId::DefaultPolicyPolicyBasedPhase2]);
                let esp = parse_all(DEFAULT_ESP_PROPOSALS_POLICY_BASED, ProposalKind::Esp);
                (parse_all(DEFAULT_IKE_PROPOSALS_POLICY_BASED, ProposalKind::Ike), esp.clone(), esp, POLICY_BASED_CHILD_SA_SECONDS, None)
            }
            (None, false) => {
                rules.extend([RuleId::DefaultPolicyPhase1, RuleId::DefaultPolicyPhase2Initiator, RuleId::DefaultPolicyPhase2Responder]);
                (
                    parse_all(DEFAULT_IKE_PROPOSALS_ROUTE_BASED, ProposalKind::Ike),
                    parse_all(DEFAULT_ESP_PROPOSALS_ROUTE_BASED_INITIATOR, ProposalKind::Esp),
                    parse_all(DEFAULT_ESP_PROPOSALS_ROUTE_BASED_RESPONDER, ProposalKind::Esp),
                    ROUTE_BASED_CHILD_SA_SECONDS,
                    Some(ROUTE_BASED_CHILD_SA_KILOBYTES),
                )
            }
        };
        rules.extend([RuleId::IkeSaLifetime, RuleId::ChildSaLifetime, RuleId::LifetimesLocal]);

        let vnet = &self.vnet_prefixes;
        let lng = &self.local_gateway.prefixes;
        let (selectors_offered, selector_match, selectors_accepted) = if policy_based {
            rules.extend([RuleId::PolicyBasedStaticRouting, RuleId::PolicyBasedSelectors]);
            // One Quick Mode SA per prefix pair: IKEv1 negotiates one selector pair per SA.
            let pairs = vnet.iter().flat_map(|v| lng.iter().map(move |l| SelectorSet::new(&[*v], &[*l]))).collect();
            (
                pairs,
                SelectorMatch::Exact,
                "exactly one of the VNet × local-network prefix pairs; a narrower or wider proposal gets NO_PROPOSAL_CHOSEN".to_string(),
            )
        } else if c.policy_based_selectors {
            rules.extend([RuleId::PbtsCrossProduct, RuleId::ResponderAcceptsAnySelectors]);
            if c.policy.is_none() {
                rules.push(RuleId::PbtsCustomPolicy);
            }
            let offered = if c.selector_policies.is_empty() {
                vec![SelectorSet::new(vnet, lng)]
            } else {
                rules.push(RuleId::TrafficSelectorPolicies);
                c.selector_policies.iter().map(|p| SelectorSet::new(&p.local, &p.remote)).collect()
            };
            (offered, SelectorMatch::Narrowing, "whatever the peer proposes".to_string())
        } else {
            rules.extend([RuleId::RouteBasedAnyToAny, RuleId::NarrowedSelectors]);
            let (matching, accepted) = match self.switches.narrowed_traffic_selectors {
                NarrowedSelectors::Accept => (SelectorMatch::Narrowing, "0.0.0.0/0 === 0.0.0.0/0, or anything narrower (narrowedTrafficSelectors: accept)"),
                NarrowedSelectors::Reject => {
                    (SelectorMatch::Exact, "only 0.0.0.0/0 === 0.0.0.0/0; narrower proposals get NO_PROPOSAL_CHOSEN (narrowedTrafficSelectors: reject)")
                }
            };
            (vec![SelectorSet::any()], matching, accepted.to_string())
        };

        let dpd_timeout_s = if policy_based { None } else { Some(c.dpd_timeout_seconds) };
        if dpd_timeout_s.is_some() {
            rules.push(RuleId::DpdTimeout);
        }
        rules.push(match c.mode {
            ConnectionMode::Default => RuleId::ConnectionModeDefault,
            ConnectionMode::InitiatorOnly => RuleId::ConnectionModeInitiatorOnly,
            ConnectionMode::ResponderOnly => RuleId::ConnectionModeResponderOnly,
        });
        rules.push(if c.protocol == IkeVersion::V1 { RuleId::Ikev1Rekey } else { RuleId::Ikev2Rekey });
        rules.extend([RuleId::OtherIkeVersionIgnored, RuleId::NatT, RuleId::LngPrefixesStaticRoutes, RuleId::SharedKeyCharacters, RuleId::MssMtu]);
        Effective {
            version: c.protocol,
            ike_proposals,
            esp_offered,
            esp_accepted,
            ike_lifetime_s: IKE_SA_LIFETIME_SECONDS,
            child_lifetime_s: child_s,
            child_lifetime_kb: child_kb,
            dpd_timeout_s,
            selectors_offered,
            selector_match,
            selectors_accepted,
            azure_may_initiate: c.mode != ConnectionMode::ResponderOnly,
            peer_may_initiate: c.mode != ConnectionMode::InitiatorOnly,
            rules,
        }
    }

    pub fn initiation(&self) -> Initiation {
        match self.connection.mode {
            ConnectionMode::Default => Initiation::Either,
            ConnectionMode::InitiatorOnly => Initiation::InitiatorOnly,
            ConnectionMode::ResponderOnly => Initiation::ResponderOnly,
        }
    }

    /// The gateway's intent for one run: what it offers depends on who starts each exchange
    /// (the Default policy's per-exchange role), its timers follow the lab's clock.
    pub fn build_intent(&self, run: RunContext) -> IpsecIntent {
        let e = self.effective();
        let c = &self.connection;
        let scale = run.time_scale;
        let s = |secs: u64| scaled(secs, scale);
        let public_ip = self.gateway.public_ip.to_string();
        let lng_ip = self.local_gateway.gateway_ip.to_string();
        let starts_first = run.starts_first;
        // strongSwan has one ESP list per child for every exchange. The Default policy's role is
        // per exchange (rules default-policy-phase2-initiator/-responder): see
        // `default_route_based_gateway_esp`. A custom policy is one proposal both ways; the
        // policy-based Default policy has no PFS either way.
        let esp = if c.policy.is_none() && self.gateway.vpn_type == VpnType::RouteBased {
            super::policy::default_route_based_gateway_esp(starts_first)
        } else if starts_first {
            e.esp_offered.clone()
        } else {
            e.esp_accepted.clone()
        };

        // Scale the lifetime first, then rekey at 90 % of the scaled value, so that a compressed
        // clock never makes the rekey and the expiry fall on the same second.
        let life_s = s(e.child_lifetime_s);
        let rekey_s = (life_s * 9 / 10).clamp(1, life_s.saturating_sub(1).max(1));
        let life_s = life_s.max(rekey_s + 1);
        let child = |name: String, sel: &SelectorSet| Child {
            // Rekey at 90 % of the lifetime, without jitter: Azure's lifetimes are local, and
            // a fixed schedule keeps rekey scenarios reproducible (life_time alone would give a
            // negative rekey time, lab notes Surprises 1).
            rekey_time_s: Some(rekey_s),
            life_time_s: Some(life_s),
            rand_time_s: Some(0),
            rekey_bytes: e.child_lifetime_kb.map(|kb| kb * 1024 * 9 / 10),
            life_bytes: e.child_lifetime_kb.map(|kb| kb * 1024),
            dpd_action: Some(DpdAction::Clear),
            start_action: Some(StartAction::None),
            ..Child::new(name, sel.local.clone(), sel.remote.clone(), esp.clone())
        };
        let policy_based = self.gateway.vpn_type == VpnType::PolicyBased;
        let mut children = Vec::new();
        let mut fallback_child = None;
        if policy_based || starts_first {
            for (i, sel) in e.selectors_offered.iter().enumerate() {
                let name = if e.selectors_offered.len() == 1 { c.name.clone() } else { format!("{}-{}", c.name, i + 1) };
                children.push(child(name, sel));
            }
            if !policy_based && !c.policy_based_selectors && !self.local_gateway.prefixes.is_empty() {
                // Field report [S15]: when the peer refuses 0.0.0.0/0, Azure retries with the VNet
                // × local network prefixes (rule initiator-selector-fallback).
                let name = format!("{}-fallback", c.name);
                children.push(child(name.clone(), &SelectorSet::new(&self.vnet_prefixes, &self.local_gateway.prefixes)));
                fallback_child = Some(name);
            }
        } else {
            // As responder a route-based gateway installs 0.0.0.0/0 and accepts what the peer
            // proposes, narrowed to it, unless `narrowedTrafficSelectors: reject` makes the match
            // exact (rule narrowed-selectors).
            children.push(child(c.name.clone(), &SelectorSet::any()));
        }

        let v1 = c.protocol == IkeVersion::V1;
        // The IKE SA lives 28,800 s. IKEv2: rekeyed in place at 90 %, expiring at 100 %.
        // IKEv1: Azure has no in-place rekey and the tunnel drops at each Main Mode rekey
        // [S2]; strongSwan's own IKEv1 reauthentication keeps the Quick Mode SAs, so the daemon
        // does not renew it: a timed behaviour drops and rebuilds it (rule ikev1-rekey).
        let ike_renew = s(e.ike_lifetime_s * 9 / 10);
        let ike_over = s(e.ike_lifetime_s / 10);
        let dpd_probe = e.dpd_timeout_s.map(|t| s(u64::from(t / 3).max(1)));
        let connection = Connection {
            name: c.name.clone(),
            version: c.protocol,
            local_addrs: vec![public_ip.clone()],
            remote_addrs: vec![lng_ip.clone()],
            proposals: e.ike_proposals.clone(),
            // Probing at a third of Azure's DPD timeout lets the short retransmit schedule end
            // near the timeout; Azure's own probe interval is unconfirmed.
            dpd_delay_s: dpd_probe,
            // IKEv1 gives up on a peer dpd_timeout after the last message: however the clock is
            // compressed, leave room for three probes, or the first probe already times out.
            dpd_timeout_s: if v1 { e.dpd_timeout_s.zip(dpd_probe).map(|(t, probe)| s(u64::from(t)).max(3 * probe)) } else { None },
            // Azure does not do MOBIKE; left on, it also races DPD (lab notes §9).
            mobike: if v1 { None } else { Some(false) },
            encap: None,
            rekey_time_s: Some(if v1 { 0 } else { ike_renew }),
            reauth_time_s: if v1 { Some(0) } else { None },
            over_time_s: if v1 { None } else { Some(ike_over) },
            local: Auth::psk(Some(public_ip.clone())),
            remote: Auth::psk(None),
            children,
            selector_match: e.selector_match,
            fallback_child,
            version_fallback: None,
            start_every_child: false,
        };
        let mut clock = Vec::new();
        if let Some(fqdn) = &self.local_gateway.fqdn {
            // Azure re-resolves an FQDN local network gateway every 5 minutes while the
            // connection is down (rule lng-fqdn-resolution).
            clock.push(Timed::ReresolvePeer {
                connection: c.name.clone(),
                name: fqdn.clone(),
                current: self.local_gateway.gateway_ip,
                every_s: s(DNS_REFRESH_SECONDS),
            });
        }
        if v1 {
            clock.push(Timed::RebuildIkeSa { connection: c.name.clone(), after_s: ike_renew, reinitiate: c.mode != ConnectionMode::ResponderOnly });
        }
        IpsecIntent {
            connections: vec![connection],
            secrets: vec![Secret { ids: vec![public_ip, lng_ip], secret: c.shared_key.clone() }],
            initiation: self.initiation(),
            forward: None,
            listen: Listen {
                // The gateway talks IKE only with its local network gateway's address [S22].
                only_from: Some(vec![self.local_gateway.gateway_ip]),
                // With `otherIkeVersion: ignore`, IKE_SA_INIT of the version the connection does
                // not run is dropped before the daemon sees it (rule other-ike-version-ignored).
                ignore_version: match (self.switches.other_ike_version, c.protocol) {
                    (OtherIkeVersion::Reject, _) => None,
                    (OtherIkeVersion::Ignore, IkeVersion::V1) => Some(IkeVersion::V2),
                    (OtherIkeVersion::Ignore, _) => Some(IkeVersion::V1),
                },
            },
            clock,
        }
    }

    /// The local network gateway's current address, as the gateway's filter starts with it.
    pub fn peer_address(&self) -> Ipv4Addr {
        self.local_gateway.gateway_ip
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::azure::{AzureConnection, Bgp, LocalNetworkGateway, SelectorPolicy, Sku, Switches, VirtualNetworkGateway};

    fn site() -> AzureSite {
        AzureSite {
            gateway: VirtualNetworkGateway {
                name: "gw".into(),
                vpn_type: VpnType::RouteBased,
                sku: Sku::VpnGw1AZ,
                active_active: false,
                enable_bgp: false,
                bgp: Bgp { asn: 65515, peering_address: None, apipa: Vec::new() },
                public_ip: "198.51.100.20".parse().unwrap(),
            },
            vnet_name: "vnet".into(),
            vnet_prefixes: vec!["10.20.0.0/16".parse().unwrap()],
            local_gateway: LocalNetworkGateway {
                name: "lng".into(),
                gateway_ip: "203.0.113.10".parse().unwrap(),
                fqdn: None,
                prefixes: vec!["10.10.0.0/16".parse().unwrap(), "10.11.0.0/16".parse().unwrap()],
                bgp: None,
            },
            connection: AzureConnection {
                name: "cn".into(),
                protocol: IkeVersion::V2,
                shared_key: "k".into(),
                policy: None,
                dpd_timeout_seconds: 45,
                mode: ConnectionMode::Default,
                enable_bgp: false,
                policy_based_selectors: false,
                selector_policies: vec![],
            },
            switches: Switches::default(),
            notes: vec![],
        }
    }

    const RESPONDER: RunContext = RunContext { starts_first: false, time_scale: 1.0 };
    const INITIATOR: RunContext = RunContext { starts_first: true, time_scale: 1.0 };

    fn text(list: &[Proposal]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    fn nets(list: &[Ipv4Net]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn default_policy_offers_no_key_exchange_in_any_exchange_it_starts() {
        let s = site();
        let intent = s.build_intent(RESPONDER);
        let child = &intent.connections[0].children[0];
        assert_eq!(child.esp_proposals.len(), 26, "as responder it accepts the 26-entry table");
        assert_eq!(child.esp_proposals[0].to_string(), "aes256gcm16-none", "its own CREATE_CHILD_SA exchanges carry no KE");
        assert_eq!(intent.connections[0].proposals[0].to_string(), "aes256-sha1-modp1024");
        let intent = s.build_intent(INITIATOR);
        let esp = text(&intent.connections[0].children[0].esp_proposals);
        assert_eq!(esp[0], "aes256gcm16-none");
        assert_eq!(&esp[1..6], &DEFAULT_ESP_PROPOSALS_ROUTE_BASED_INITIATOR[1..], "the IKE_AUTH offer is the six initiator offers");
        assert!(esp.contains(&"aes256-sha256-modp2048".to_string()), "a peer's PFS rekey is still accepted");
    }

    #[test]
    fn narrowed_switch_makes_the_responder_match_exactly() {
        let mut s = site();
        assert_eq!(s.build_intent(RESPONDER).connections[0].selector_match, SelectorMatch::Narrowing);
        s.switches.narrowed_traffic_selectors = NarrowedSelectors::Reject;
        let intent = s.build_intent(RESPONDER);
        let conn = &intent.connections[0];
        assert_eq!(conn.selector_match, SelectorMatch::Exact);
        assert_eq!(conn.children.len(), 1);
        assert!(conn.children[0].is_any_to_any());
        let intent = s.build_intent(INITIATOR);
        let children = &intent.connections[0].children;
        assert_eq!(children.len(), 2, "0/0 and the VNet x LNG fallback");
        assert_eq!(children[1].name, "cn-fallback");
        assert_eq!(intent.connections[0].fallback_child.as_deref(), Some("cn-fallback"));
        assert_eq!(nets(&children[1].local_ts), ["10.20.0.0/16"]);
    }

    #[test]
    fn policy_based_selectors_as_initiator() {
        let mut s = site();
        s.connection.policy_based_selectors = true;
        let intent = s.build_intent(INITIATOR);
        let ch = &intent.connections[0].children;
        assert_eq!(ch.len(), 1);
        assert_eq!(nets(&ch[0].local_ts), ["10.20.0.0/16"]);
        assert_eq!(nets(&ch[0].remote_ts), ["10.10.0.0/16", "10.11.0.0/16"]);
        assert_eq!(intent.connections[0].fallback_child, None);
        s.connection.selector_policies = vec![SelectorPolicy { local: vec!["10.20.1.0/24".parse().unwrap()], remote: vec!["10.10.1.0/24".parse().unwrap()] }];
        assert_eq!(nets(&s.build_intent(INITIATOR).connections[0].children[0].local_ts), ["10.20.1.0/24"]);
        // As responder Azure accepts whatever the peer proposes (documented, rule
        // responder-accepts-any-selectors).
        let intent = s.build_intent(RESPONDER);
        assert!(intent.connections[0].children[0].is_any_to_any());
        assert_eq!(intent.connections[0].selector_match, SelectorMatch::Narrowing);
    }

    #[test]
    fn policy_based_gateway_is_ikev1_with_one_exact_sa_per_pair() {
        let mut s = site();
        s.gateway.vpn_type = VpnType::PolicyBased;
        s.gateway.sku = Sku::Basic;
        s.connection.protocol = IkeVersion::V1;
        for run in [RESPONDER, INITIATOR] {
            let intent = s.build_intent(run);
            let conn = &intent.connections[0];
            assert_eq!(conn.version, IkeVersion::V1);
            assert_eq!(conn.selector_match, SelectorMatch::Exact, "its own pairs, exactly");
            assert_eq!(conn.children.len(), 2);
            assert_eq!(nets(&conn.children[1].local_ts), ["10.20.0.0/16"]);
            assert_eq!(nets(&conn.children[1].remote_ts), ["10.11.0.0/16"]);
            assert_eq!(conn.children[0].life_time_s, Some(3600));
            assert_eq!(conn.dpd_delay_s, None, "policy-based gateways do not run DPD");
            assert_eq!(conn.reauth_time_s, Some(0), "a timed behaviour renews IKEv1 SAs, not the daemon");
            assert_eq!(conn.rekey_time_s, Some(0));
            assert_eq!(intent.listen.ignore_version, Some(IkeVersion::V2), "IKEv2 is ignored");
            assert_eq!(intent.listen.only_from, Some(vec!["203.0.113.10".parse().unwrap()]));
            assert!(matches!(intent.clock[..], [Timed::RebuildIkeSa { after_s: 25920, reinitiate: true, .. }]));
        }
    }

    #[test]
    fn time_scale_compresses_every_timer() {
        let s = site();
        let intent = s.build_intent(RunContext { starts_first: false, time_scale: 100.0 });
        let conn = &intent.connections[0];
        assert_eq!(conn.rekey_time_s, Some(259));
        assert_eq!(conn.children[0].life_time_s, Some(270));
        assert_eq!(conn.dpd_delay_s, Some(1), "45 s / 3 / 100 rounds up to one second");
        assert_eq!(scaled(3, 1000.0), 1);
    }

    #[test]
    fn fqdn_peer_is_re_resolved_on_the_lab_clock() {
        let mut s = site();
        s.local_gateway.fqdn = Some("home.example.net".into());
        let intent = s.build_intent(RunContext { starts_first: false, time_scale: 60.0 });
        assert_eq!(
            intent.clock,
            [Timed::ReresolvePeer { connection: "cn".into(), name: "home.example.net".into(), current: "203.0.113.10".parse().unwrap(), every_s: 5 }]
        );
    }

    #[test]
    fn modes() {
        let mut s = site();
        s.connection.mode = ConnectionMode::InitiatorOnly;
        assert_eq!(s.build_intent(INITIATOR).initiation, Initiation::InitiatorOnly);
        let e = s.effective();
        assert!(e.azure_may_initiate && !e.peer_may_initiate);
        s.connection.mode = ConnectionMode::ResponderOnly;
        let e = s.effective();
        assert!(!e.azure_may_initiate && e.peer_may_initiate);
        assert!(!s.initiation().may_initiate());
    }
}
