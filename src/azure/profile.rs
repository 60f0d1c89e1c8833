//! From Azure's resources to the behaviour of the simulated gateway: the effective behaviour
//! ([`Effective`], what `vpnlab azure explain` prints), the charon profile that reproduces it,
//! and the packet filter for what charon cannot be configured to do (ignore the other IKE
//! version). Each choice names the rule of `rules.rs` it implements.

use std::fmt::Write as _;

use ipnet::Ipv4Net;

use super::policy::{
    DEFAULT_ESP_PROPOSALS_POLICY_BASED, DEFAULT_ESP_PROPOSALS_ROUTE_BASED_INITIATOR, DEFAULT_ESP_PROPOSALS_ROUTE_BASED_RESPONDER,
    DEFAULT_IKE_PROPOSALS_POLICY_BASED, DEFAULT_IKE_PROPOSALS_ROUTE_BASED,
};
use super::{AzureSite, ConnectionMode, NarrowedSelectors, OtherIkeVersion, Role, VpnType};
use crate::model::lab::{Auth, Child, Connection, IkeVersion, Secret, StrongswanProfile};

/// IKE SA lifetime: fixed at 28,800 s with or without a custom policy [S2] [S3].
pub const IKE_SA_LIFETIME_SECONDS: u64 = 28_800;
/// CHILD SA lifetimes of the Default policy [S1].
pub const ROUTE_BASED_CHILD_SA_SECONDS: u64 = 27_000;
pub const ROUTE_BASED_CHILD_SA_KILOBYTES: u64 = 102_400_000;
pub const POLICY_BASED_CHILD_SA_SECONDS: u64 = 3_600;

pub const REJECT_NARROWED_CHILD: &str = "reject-narrowed";
/// The child Azure falls back to when its 0/0 offer is refused (field report).
pub const FALLBACK_SUFFIX: &str = "-fallback";

/// Lab seconds to real seconds at `scale` (≥ 1 s: strongSwan counts whole seconds).
pub fn scaled(seconds: u64, scale: f64) -> u64 {
    ((seconds as f64 / scale).round() as u64).max(1)
}

/// A set of traffic selectors Azure proposes or installs: local (VNet side) and remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorSet {
    pub local: Vec<String>,
    pub remote: Vec<String>,
}

impl SelectorSet {
    fn new(local: &[Ipv4Net], remote: &[Ipv4Net]) -> Self {
        SelectorSet { local: local.iter().map(|p| p.to_string()).collect(), remote: remote.iter().map(|p| p.to_string()).collect() }
    }
    fn any() -> Self {
        SelectorSet { local: vec!["0.0.0.0/0".into()], remote: vec!["0.0.0.0/0".into()] }
    }
    pub fn describe(&self) -> String {
        format!("{} === {}", self.local.join(","), self.remote.join(","))
    }
}

/// What the gateway does, in real-world units, role by role.
#[derive(Debug, Clone)]
pub struct Effective {
    pub version: IkeVersion,
    pub ike_proposals: Vec<String>,
    pub esp_offered: Vec<String>,
    pub esp_accepted: Vec<String>,
    pub ike_lifetime_s: u64,
    pub child_lifetime_s: u64,
    pub child_lifetime_kb: Option<u64>,
    /// DPD timeout, when the gateway runs DPD (policy-based gateways do not [S1]).
    pub dpd_timeout_s: Option<u32>,
    /// What Azure proposes when it initiates: one entry per CHILD SA.
    pub selectors_offered: Vec<SelectorSet>,
    /// What Azure accepts as responder, in words.
    pub selectors_accepted: String,
    pub azure_may_initiate: bool,
    pub peer_may_initiate: bool,
    /// Rule ids (rules.rs) this behaviour follows.
    pub rules: Vec<&'static str>,
}

impl AzureSite {
    pub fn effective(&self) -> Effective {
        let c = &self.connection;
        let policy_based = self.gateway.vpn_type == VpnType::PolicyBased;
        let mut rules = vec!["vpn-type-ike-versions"];
        let (ike_proposals, esp_offered, esp_accepted, child_s, child_kb) = match (&c.policy, policy_based) {
            (Some(p), _) => {
                rules.push("custom-policy-exact");
                rules.push("dh-group-names");
                (vec![p.ike_proposal()], vec![p.esp_proposal()], vec![p.esp_proposal()], u64::from(p.sa_life_time_seconds), Some(p.sa_data_size_kilobytes))
            }
            (None, true) => {
                rules.extend(["default-policy-phase1", "default-policy-policy-based-phase2"]);
                let esp = strings(DEFAULT_ESP_PROPOSALS_POLICY_BASED);
                (strings(DEFAULT_IKE_PROPOSALS_POLICY_BASED), esp.clone(), esp, POLICY_BASED_CHILD_SA_SECONDS, None)
            }
            (None, false) => {
                rules.extend(["default-policy-phase1", "default-policy-phase2-initiator", "default-policy-phase2-responder"]);
                (
                    strings(DEFAULT_IKE_PROPOSALS_ROUTE_BASED),
                    strings(DEFAULT_ESP_PROPOSALS_ROUTE_BASED_INITIATOR),
                    strings(DEFAULT_ESP_PROPOSALS_ROUTE_BASED_RESPONDER),
                    ROUTE_BASED_CHILD_SA_SECONDS,
                    Some(ROUTE_BASED_CHILD_SA_KILOBYTES),
                )
            }
        };
        rules.extend(["ike-sa-lifetime", "child-sa-lifetime", "lifetimes-local"]);

        let vnet = &self.vnet_prefixes;
        let lng = &self.local_gateway.prefixes;
        let (selectors_offered, selectors_accepted) = if policy_based {
            rules.push("policy-based-static-routing");
            // One Quick Mode SA per prefix pair: IKEv1 negotiates one selector pair per SA.
            let pairs = vnet.iter().flat_map(|v| lng.iter().map(move |l| SelectorSet::new(&[*v], &[*l]))).collect();
            (pairs, "exactly the VNet × local-network prefix pairs".to_string())
        } else if c.policy_based_selectors {
            rules.extend(["pbts-cross-product", "responder-accepts-any-selectors"]);
            if c.policy.is_none() {
                rules.push("pbts-custom-policy");
            }
            let offered = if c.selector_policies.is_empty() {
                vec![SelectorSet::new(vnet, lng)]
            } else {
                rules.push("traffic-selector-policies");
                c.selector_policies.iter().map(|p| SelectorSet::new(&p.local, &p.remote)).collect()
            };
            (offered, "whatever the peer proposes".to_string())
        } else {
            rules.extend(["route-based-any-to-any", "narrowed-selectors"]);
            let accepted = match self.switches.narrowed_traffic_selectors {
                NarrowedSelectors::Accept => "0.0.0.0/0 === 0.0.0.0/0, or anything narrower (narrowedTrafficSelectors: accept)",
                NarrowedSelectors::Reject => "only 0.0.0.0/0 === 0.0.0.0/0; narrower proposals get NO_PROPOSAL_CHOSEN (narrowedTrafficSelectors: reject)",
            };
            (vec![SelectorSet::any()], accepted.to_string())
        };

        let dpd_timeout_s = if policy_based { None } else { Some(c.dpd_timeout_seconds) };
        if dpd_timeout_s.is_some() {
            rules.push("dpd-timeout");
        }
        rules.push(match c.mode {
            ConnectionMode::Default => "connection-mode-default",
            ConnectionMode::InitiatorOnly => "connection-mode-initiator-only",
            ConnectionMode::ResponderOnly => "connection-mode-responder-only",
        });
        rules.push(if c.protocol == IkeVersion::V1 { "ikev1-rekey" } else { "ikev2-rekey" });
        rules.extend(["other-ike-version-ignored", "nat-t", "lng-prefixes-static-routes", "shared-key-characters", "mss-mtu"]);
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
            selectors_accepted,
            azure_may_initiate: c.mode != ConnectionMode::ResponderOnly,
            peer_may_initiate: c.mode != ConnectionMode::InitiatorOnly,
            rules,
        }
    }

    /// Builds the charon configuration of the simulated gateway for its role in the lab.
    pub fn build_profile(&mut self) {
        let e = self.effective();
        let c = &self.connection;
        let scale = self.time_scale;
        let s = |secs: u64| format!("{}s", scaled(secs, scale));
        let public_ip = self.gateway.public_ip.to_string();
        let lng_ip = self.local_gateway.gateway_ip.to_string();
        let responder = self.role == Role::Responder;
        // strongSwan has one ESP list per child for every exchange. The Default policy's role is
        // per exchange (rule default-policy-phase2-per-exchange): see
        // `default_route_based_gateway_esp`. A custom policy is one proposal both ways; the
        // policy-based Default policy has no PFS either way.
        let esp = if c.policy.is_none() && self.gateway.vpn_type == VpnType::RouteBased {
            super::policy::default_route_based_gateway_esp(!responder)
        } else if responder {
            e.esp_accepted.clone()
        } else {
            e.esp_offered.clone()
        };

        // Scale the lifetime first, then rekey at 90 % of the scaled value, so that a compressed
        // clock never makes the rekey and the expiry fall on the same second.
        let life_s = scaled(e.child_lifetime_s, scale);
        let rekey_s = (life_s * 9 / 10).clamp(1, life_s.saturating_sub(1).max(1));
        let life_s = life_s.max(rekey_s + 1);
        let child = |name: String, sel: &SelectorSet| Child {
            name,
            local_ts: sel.local.clone(),
            remote_ts: sel.remote.clone(),
            esp_proposals: esp.clone(),
            // Rekey at 90 % of the lifetime, without jitter: Azure's lifetimes are local, and
            // a fixed schedule keeps rekey scenarios reproducible (life_time alone would give a
            // negative rekey time, lab notes Surprises 1).
            rekey_time: Some(format!("{rekey_s}s")),
            life_time: Some(format!("{life_s}s")),
            rand_time: Some("0s".to_string()),
            rekey_bytes: e.child_lifetime_kb.map(|kb| kb * 1024 * 9 / 10),
            life_bytes: e.child_lifetime_kb.map(|kb| kb * 1024),
            dpd_action: Some("clear".to_string()),
            start_action: Some("none".to_string()),
        };
        let mut children = Vec::new();
        if self.gateway.vpn_type == VpnType::PolicyBased || !responder {
            for (i, sel) in e.selectors_offered.iter().enumerate() {
                let name = if e.selectors_offered.len() == 1 { c.name.clone() } else { format!("{}-{}", c.name, i + 1) };
                children.push(child(name, sel));
            }
            if self.gateway.vpn_type == VpnType::RouteBased && !c.policy_based_selectors && !self.local_gateway.prefixes.is_empty() {
                // Field report [S15]: when the peer refuses 0.0.0.0/0, Azure retries with the VNet
                // × local network prefixes. The run initiates this child after a refused 0/0.
                children.push(child(format!("{}{FALLBACK_SUFFIX}", c.name), &SelectorSet::new(&self.vnet_prefixes, &self.local_gateway.prefixes)));
            }
        } else {
            // As responder a route-based gateway installs 0.0.0.0/0 and, per the documentation,
            // accepts whatever narrower selectors the peer proposes (strongSwan narrows to them).
            children.push(child(c.name.clone(), &SelectorSet::any()));
            if !c.policy_based_selectors && self.switches.narrowed_traffic_selectors == NarrowedSelectors::Reject {
                children.push(crate::strongswan::config::exact_match_only_child(REJECT_NARROWED_CHILD));
            }
        }

        let v1 = c.protocol == IkeVersion::V1;
        // The IKE SA lives 28,800 s. IKEv2: rekeyed in place at 90 %, expiring at 100 %.
        // IKEv1: Azure has no in-place rekey and the tunnel drops at each Main Mode rekey
        // [S2]; strongSwan's own IKEv1 reauthentication keeps the Quick Mode SAs, so charon
        // does not renew it: the lab's supervisor drops and rebuilds it (`run::supervisor`).
        let ike_renew = s(e.ike_lifetime_s * 9 / 10);
        let ike_over = s(e.ike_lifetime_s / 10);
        let connection = Connection {
            name: c.name.clone(),
            version: c.protocol,
            local_addrs: vec![public_ip.clone()],
            remote_addrs: vec![lng_ip.clone()],
            proposals: e.ike_proposals.clone(),
            // Probing at a third of Azure's DPD timeout lets vpnlab's short retransmit schedule
            // end near the timeout; Azure's own probe interval is unconfirmed.
            dpd_delay: e.dpd_timeout_s.map(|t| s(u64::from(t / 3).max(1))),
            // IKEv1 gives up on a peer dpd_timeout after the last message: however the clock is
            // compressed, leave room for three probes, or the first probe already times out.
            dpd_timeout: if v1 {
                e.dpd_timeout_s.map(|t| format!("{}s", scaled(u64::from(t), scale).max(3 * scaled(u64::from(t / 3).max(1), scale))))
            } else {
                None
            },
            // Azure does not do MOBIKE; left on, it also races DPD (lab notes §9).
            mobike: if v1 { None } else { Some(false) },
            encap: None,
            rekey_time: if v1 { Some("0s".into()) } else { Some(ike_renew) },
            reauth_time: if v1 { Some("0s".into()) } else { None },
            over_time: if v1 { None } else { Some(ike_over) },
            local: Auth { auth: "psk".to_string(), id: Some(public_ip.clone()) },
            remote: Auth { auth: "psk".to_string(), id: None },
            children,
        };
        self.profile = StrongswanProfile {
            connections: vec![connection],
            secrets: vec![Secret { ids: vec![public_ip, lng_ip], secret: c.shared_key.clone() }],
            tunnel_rules: None,
            initiator_only: c.mode == ConnectionMode::InitiatorOnly,
        };
    }

    /// The gateway's own packet filter, for what charon cannot be configured to do:
    /// - it talks IKE and ESP only with its local network gateway's address (set `peers`, which
    ///   the lab's supervisor updates when an FQDN re-resolves): from any other address the
    ///   packets are dropped, so a peer whose address changed is not heard [S22];
    /// - with `otherIkeVersion: ignore`, IKE_SA_INIT of the version the connection does not run
    ///   is dropped before charon sees it (charon would answer NO_PROPOSAL_CHOSEN, lab notes §2),
    ///   matched on the IKE header's version byte.
    pub fn nft_ruleset(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "table inet {AZURE_NFT_TABLE} {{");
        let _ = writeln!(out, "\tset {AZURE_PEERS_SET} {{");
        let _ = writeln!(out, "\t\ttype ipv4_addr;");
        let _ = writeln!(out, "\t\telements = {{ {} }}", self.local_gateway.gateway_ip);
        let _ = writeln!(out, "\t}}");
        let _ = writeln!(out, "\tchain input {{");
        let _ = writeln!(out, "\t\ttype filter hook input priority filter; policy accept;");
        let _ =
            writeln!(out, "\t\tudp dport {{ 500, 4500 }} ip saddr != @{AZURE_PEERS_SET} counter drop comment \"not a local network gateway of this gateway\"");
        if self.switches.other_ike_version == OtherIkeVersion::Ignore {
            let (other, name) = match self.connection.protocol {
                IkeVersion::V1 => ("0x20", "IKEv2"),
                _ => ("0x10", "IKEv1"),
            };
            // UDP header (8) + SPIs (16) + next payload (1): the version byte is at bit 200.
            let _ = writeln!(out, "\t\tudp dport 500 @th,200,8 {other} counter drop comment \"{name} ignored (otherIkeVersion: ignore)\"");
            // On 4500 a zero non-ESP marker (4 bytes) precedes the IKE header.
            let _ = writeln!(out, "\t\tudp dport 4500 @th,64,32 0 @th,232,8 {other} counter drop comment \"{name} ignored (otherIkeVersion: ignore)\"");
        }
        let _ = writeln!(out, "\t}}");
        let _ = writeln!(out, "}}");
        out
    }
}

/// The gateway's nft table and its set of peer addresses.
pub const AZURE_NFT_TABLE: &str = "vpnlab_azure";
pub const AZURE_PEERS_SET: &str = "peers";

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::{AzureConnection, Bgp, LocalNetworkGateway, SelectorPolicy, Sku, Switches, VirtualNetworkGateway};

    fn site() -> AzureSite {
        AzureSite {
            gateway: VirtualNetworkGateway {
                name: "gw".into(),
                vpn_type: VpnType::RouteBased,
                sku: Sku::VpnGw1AZ,
                active_active: false,
                enable_bgp: false,
                bgp: Bgp { asn: 65515, peering_address: None },
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
            role: Role::Responder,
            time_scale: 1.0,
            notes: vec![],
            profile: StrongswanProfile::default(),
        }
    }

    #[test]
    fn default_policy_offers_no_key_exchange_in_any_exchange_it_starts() {
        let mut s = site();
        s.build_profile();
        let child = &s.profile.connections[0].children[0];
        assert_eq!(child.esp_proposals.len(), 26, "as responder it accepts the 26-entry table");
        assert_eq!(child.esp_proposals[0], "aes256gcm16-none", "its own CREATE_CHILD_SA exchanges carry no KE");
        assert_eq!(s.profile.connections[0].proposals[0], "aes256-sha1-modp1024");
        s.role = Role::Initiator;
        s.build_profile();
        let esp = &s.profile.connections[0].children[0].esp_proposals;
        assert_eq!(esp[0], "aes256gcm16-none");
        assert_eq!(&esp[1..6], &DEFAULT_ESP_PROPOSALS_ROUTE_BASED_INITIATOR[1..], "the IKE_AUTH offer is the six initiator offers");
        assert!(esp.contains(&"aes256-sha256-modp2048".to_string()), "a peer's PFS rekey is still accepted");
    }

    #[test]
    fn narrowed_switch_adds_the_reject_child_only_as_responder() {
        let mut s = site();
        s.switches.narrowed_traffic_selectors = NarrowedSelectors::Reject;
        s.build_profile();
        let children = &s.profile.connections[0].children;
        assert_eq!(children.len(), 2);
        assert_eq!(children[1].name, REJECT_NARROWED_CHILD);
        assert_eq!(children[1].esp_proposals, ["serpent256-sha256_96"]);
        s.role = Role::Initiator;
        s.build_profile();
        let children = &s.profile.connections[0].children;
        assert_eq!(children.len(), 2, "0/0 and the VNet x LNG fallback");
        assert_eq!(children[1].name, "cn-fallback");
        assert_eq!(children[1].local_ts, ["10.20.0.0/16"]);
    }

    #[test]
    fn policy_based_selectors_as_initiator() {
        let mut s = site();
        s.connection.policy_based_selectors = true;
        s.role = Role::Initiator;
        s.build_profile();
        let ch = &s.profile.connections[0].children;
        assert_eq!(ch.len(), 1);
        assert_eq!(ch[0].local_ts, ["10.20.0.0/16"]);
        assert_eq!(ch[0].remote_ts, ["10.10.0.0/16", "10.11.0.0/16"]);
        s.connection.selector_policies = vec![SelectorPolicy { local: vec!["10.20.1.0/24".parse().unwrap()], remote: vec!["10.10.1.0/24".parse().unwrap()] }];
        s.build_profile();
        assert_eq!(s.profile.connections[0].children[0].local_ts, ["10.20.1.0/24"]);
        // As responder Azure accepts whatever the peer proposes.
        s.role = Role::Responder;
        s.build_profile();
        assert_eq!(s.profile.connections[0].children[0].local_ts, ["0.0.0.0/0"]);
    }

    #[test]
    fn policy_based_gateway_is_ikev1_with_one_sa_per_pair() {
        let mut s = site();
        s.gateway.vpn_type = VpnType::PolicyBased;
        s.gateway.sku = Sku::Basic;
        s.connection.protocol = IkeVersion::V1;
        s.build_profile();
        let conn = &s.profile.connections[0];
        assert_eq!(conn.version, IkeVersion::V1);
        assert_eq!(conn.children.len(), 2);
        assert_eq!(conn.children[1].local_ts, ["10.20.0.0/16"]);
        assert_eq!(conn.children[1].remote_ts, ["10.11.0.0/16"]);
        assert_eq!(conn.children[0].life_time.as_deref(), Some("3600s"));
        assert_eq!(conn.dpd_delay, None, "policy-based gateways do not run DPD");
        assert_eq!(conn.reauth_time.as_deref(), Some("0s"), "the supervisor renews IKEv1 SAs, not charon");
        assert_eq!(conn.rekey_time.as_deref(), Some("0s"));
        assert!(s.nft_ruleset().contains("@th,200,8 0x20"), "IKEv2 is ignored");
        assert!(s.nft_ruleset().contains("elements = { 203.0.113.10 }"));
    }

    #[test]
    fn time_scale_compresses_every_timer() {
        let mut s = site();
        s.time_scale = 100.0;
        s.build_profile();
        let conn = &s.profile.connections[0];
        assert_eq!(conn.rekey_time.as_deref(), Some("259s"));
        assert_eq!(conn.children[0].life_time.as_deref(), Some("270s"));
        assert_eq!(conn.dpd_delay.as_deref(), Some("1s"), "45 s / 3 / 100 rounds up to one second");
        assert_eq!(scaled(3, 1000.0), 1);
    }

    #[test]
    fn modes() {
        let mut s = site();
        s.connection.mode = ConnectionMode::InitiatorOnly;
        s.build_profile();
        assert!(s.profile.initiator_only);
        let e = s.effective();
        assert!(e.azure_may_initiate && !e.peer_may_initiate);
        s.connection.mode = ConnectionMode::ResponderOnly;
        let e = s.effective();
        assert!(!e.azure_may_initiate && e.peer_may_initiate);
    }
}
