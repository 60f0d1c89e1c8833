//! The simulated Azure VPN Gateway, a device: Azure's resources and rules in Azure's
//! vocabulary (`policy.rs` for IPsec/IKE policies, `profile.rs` for the effective behaviour and
//! the intent that reproduces it per run, `rules.rs` for the evidence behind each behaviour,
//! `import.rs` for real exports, `explain.rs` for `vpnlab azure explain`, `vocabulary.rs` for
//! the portal's words in diagnoses).
//!
//! Each rule cites its source in `shared/reference/azure-vpn-gateway.md` (S-numbers).
//! Nothing here touches the system.

pub mod bgp_blade;
pub mod blade;
pub mod explain;
pub mod import;
pub mod policy;
pub mod profile;
pub mod rules;
mod vocabulary;

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

pub use self::policy::IpsecPolicy;
use crate::device::{Device, RunContext};
use crate::ike::intent::{IkeVersion, Initiation, IpsecIntent};

/// Declares an enum of Azure names with parsing that lists the valid names on error.
macro_rules! azure_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($(#[$vm])* $variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn azure_name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            /// Parses Azure's spelling; the error lists every valid value.
            pub fn parse(text: &str) -> Result<Self, String> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Self::ALL.iter().map(|v| v.azure_name()).collect::<Vec<_>>().join(", ")),
                }
            }
        }
    };
}
pub(crate) use azure_enum;

azure_enum!(VpnType { RouteBased = "RouteBased", PolicyBased = "PolicyBased" });

azure_enum!(
    /// Gateway SKUs [S9]. Legacy Standard/HighPerformance are retired and not accepted.
    Sku {
        Basic = "Basic",
        VpnGw1 = "VpnGw1", VpnGw2 = "VpnGw2", VpnGw3 = "VpnGw3", VpnGw4 = "VpnGw4", VpnGw5 = "VpnGw5",
        VpnGw1AZ = "VpnGw1AZ", VpnGw2AZ = "VpnGw2AZ", VpnGw3AZ = "VpnGw3AZ", VpnGw4AZ = "VpnGw4AZ",
        VpnGw5AZ = "VpnGw5AZ",
    }
);

impl Sku {
    /// S2S/VNet-to-VNet tunnels (about-gateway-skus, 2026 table [S9]).
    pub fn max_tunnels(self) -> u32 {
        match self {
            Sku::Basic => 10,
            Sku::VpnGw4 | Sku::VpnGw5 | Sku::VpnGw4AZ | Sku::VpnGw5AZ => 100,
            _ => 30,
        }
    }
    /// Basic has no BGP, no custom policy, no active-active, and no IKEv1 on route-based
    /// gateways [S2] [S9] [S11].
    pub fn is_basic(self) -> bool {
        self == Sku::Basic
    }
}

azure_enum!(ConnectionMode { Default = "Default", InitiatorOnly = "InitiatorOnly", ResponderOnly = "ResponderOnly" });

azure_enum!(
    /// How the gateway answers a peer whose selectors are narrower than its own 0.0.0.0/0.
    NarrowedSelectors {
        /// Microsoft's documentation: a route-based gateway accepts them as responder.
        Accept = "accept",
        /// The teaching material (seed 000): Phase 2 fails with NO_PROPOSAL_CHOSEN.
        Reject = "reject",
    }
);

azure_enum!(
    /// How the gateway answers an IKE_SA_INIT of the IKE version it does not run.
    OtherIkeVersion {
        /// The peer hears nothing and retransmits (the lesson's "sits in init forever").
        Ignore = "ignore",
        /// strongSwan's own answer, NO_PROPOSAL_CHOSEN (lab notes §2).
        Reject = "reject",
    }
);

azure_enum!(
    /// Whether `usePolicyBasedTrafficSelectors` works with the Default policy.
    PbtsWithDefaultPolicy {
        /// The 2023 portal how-to [S4]: yes.
        Accept = "accept",
        /// The 2023 PowerShell how-to [S5]: PBTS is part of a custom policy.
        Reject = "reject",
    }
);

azure_enum!(
    /// Whether the gateway's fixed 60/180 BGP timers give way to a shorter on-premises hold time.
    BgpHoldTime {
        /// RFC 4271: the lower hold time of the two OPENs wins (a FortiGate field report [S24]).
        Negotiate = "negotiate",
        /// Azure "won't negotiate down" (TechCommunity [S25]): a shorter hold time is refused.
        Fixed = "fixed",
    }
);

/// The switches of the model, where sources disagree; each report names the values used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Switches {
    pub narrowed_traffic_selectors: NarrowedSelectors,
    pub other_ike_version: OtherIkeVersion,
    pub pbts_with_default_policy: PbtsWithDefaultPolicy,
    pub bgp_hold_time: BgpHoldTime,
}

impl Default for Switches {
    fn default() -> Self {
        Switches {
            narrowed_traffic_selectors: NarrowedSelectors::Accept,
            other_ike_version: OtherIkeVersion::Ignore,
            pbts_with_default_policy: PbtsWithDefaultPolicy::Accept,
            bgp_hold_time: BgpHoldTime::Negotiate,
        }
    }
}

impl Switches {
    /// `name value` pairs, for reports.
    pub fn describe(&self) -> Vec<String> {
        vec![
            format!("narrowedTrafficSelectors {}", self.narrowed_traffic_selectors.azure_name()),
            format!("otherIkeVersion {}", self.other_ike_version.azure_name()),
            format!("pbtsWithDefaultPolicy {}", self.pbts_with_default_policy.azure_name()),
            format!("bgpHoldTime {}", self.bgp_hold_time.azure_name()),
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bgp {
    pub asn: u64,
    pub peering_address: Option<Ipv4Addr>,
    /// The gateway's custom APIPA BGP addresses (empty on a local network gateway).
    pub apipa: Vec<Ipv4Addr>,
}

/// Whether an address is link-local (APIPA, 169.254.0.0/16).
pub fn is_apipa(a: Ipv4Addr) -> bool {
    a.octets()[0] == 169 && a.octets()[1] == 254
}

/// Azure's custom APIPA BGP range, 169.254.21.0–169.254.22.255 (rule bgp-apipa).
pub fn in_azure_apipa_range(a: Ipv4Addr) -> bool {
    let [o1, o2, o3, _] = a.octets();
    o1 == 169 && o2 == 254 && (o3 == 21 || o3 == 22)
}

#[derive(Debug, Clone)]
pub struct VirtualNetworkGateway {
    pub name: String,
    pub vpn_type: VpnType,
    pub sku: Sku,
    pub active_active: bool,
    pub enable_bgp: bool,
    pub bgp: Bgp,
    pub public_ip: Ipv4Addr,
}

#[derive(Debug, Clone)]
pub struct LocalNetworkGateway {
    pub name: String,
    /// The peer's public address: `gatewayIpAddress`, or `fqdn` resolved by the lab's DNS.
    pub gateway_ip: Ipv4Addr,
    pub fqdn: Option<String>,
    pub prefixes: Vec<Ipv4Net>,
    pub bgp: Option<Bgp>,
}

/// A pair of `trafficSelectorPolicies` ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorPolicy {
    pub local: Vec<Ipv4Net>,
    pub remote: Vec<Ipv4Net>,
}

#[derive(Clone)]
pub struct AzureConnection {
    pub name: String,
    pub protocol: IkeVersion,
    pub shared_key: String,
    pub policy: Option<IpsecPolicy>,
    pub dpd_timeout_seconds: u32,
    pub mode: ConnectionMode,
    pub enable_bgp: bool,
    pub policy_based_selectors: bool,
    pub selector_policies: Vec<SelectorPolicy>,
}

impl std::fmt::Debug for AzureConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureConnection")
            .field("name", &self.name)
            .field("protocol", &self.protocol)
            .field("shared_key", &"<redacted>")
            .field("policy", &self.policy)
            .field("dpd_timeout_seconds", &self.dpd_timeout_seconds)
            .field("mode", &self.mode)
            .field("policy_based_selectors", &self.policy_based_selectors)
            .field("selector_policies", &self.selector_policies)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct AzureSite {
    pub gateway: VirtualNetworkGateway,
    pub vnet_name: String,
    pub vnet_prefixes: Vec<Ipv4Net>,
    pub local_gateway: LocalNetworkGateway,
    pub connection: AzureConnection,
    pub switches: Switches,
    /// What was ignored or assumed while reading the resources (imports, defaults).
    pub notes: Vec<String>,
}

impl Device for AzureSite {
    fn family(&self) -> &'static str {
        "azure"
    }

    fn under_test(&self) -> bool {
        false
    }

    fn initiation(&self) -> Initiation {
        AzureSite::initiation(self)
    }

    fn intent(&self, run: RunContext) -> IpsecIntent {
        self.build_intent(run)
    }

    /// A connection that may initiate does (Default: "initiate or respond"); ResponderOnly
    /// waits.
    fn starts_unprompted(&self) -> bool {
        self.connection.mode != ConnectionMode::ResponderOnly
    }

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    fn bgp(&self) -> Option<crate::bgp::BgpIntent> {
        AzureSite::bgp_intent(self)
    }

    fn summary(&self, _intent: &IpsecIntent) -> Vec<String> {
        AzureSite::summary(self)
    }

    fn bgp_view(&self, snapshot: &crate::bgp::BgpSnapshot) -> Vec<crate::device::ViewTable> {
        bgp_blade::tables(self.bgp_address(), snapshot)
    }

    fn status_view(&self, _node: &str, _intent: &IpsecIntent, sas: &[crate::evidence::sa::IkeSa]) -> Option<crate::device::StatusView> {
        Some(blade::view(self, sas))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn clone_box(&self) -> Box<dyn Device> {
        Box::new(self.clone())
    }
}

impl AzureSite {
    /// The address the gateway's BGP speaker uses: its custom APIPA address when the local
    /// network gateway's peer IP is APIPA, otherwise its GatewaySubnet address (rule bgp-apipa).
    pub fn bgp_address(&self) -> Option<Ipv4Addr> {
        let peer = self.local_gateway.bgp.as_ref()?.peering_address?;
        if is_apipa(peer) {
            self.gateway.bgp.apipa.first().copied()
        } else {
            self.gateway.bgp.peering_address
        }
    }

    /// The gateway's BGP speaker, when the gateway and the connection enable BGP: its ASN, its
    /// BGP IP on the loopback, the local network gateway as the one neighbor with Azure's fixed
    /// timers and prefix limit, passive towards an APIPA peer; it originates the VNet's
    /// prefixes, never advertises a default route, and refuses the VNet's own prefixes.
    pub fn bgp_intent(&self) -> Option<crate::bgp::BgpIntent> {
        use crate::bgp::{AddressOn, BgpIntent, Neighbor, Policy, Timers};
        if !(self.gateway.enable_bgp && self.connection.enable_bgp) {
            return None;
        }
        let peer = self.local_gateway.bgp.as_ref()?;
        let peer_ip = peer.peering_address?;
        let own = self.bgp_address()?;
        let default_route = Ipv4Net::new(Ipv4Addr::UNSPECIFIED, 0).expect("a /0");
        let timers = Timers { keepalive_s: 60, hold_s: 180 };
        Some(BgpIntent {
            asn: self.gateway.bgp.asn as u32,
            router_id: own,
            addresses: vec![(AddressOn::Loopback, Ipv4Net::new(own, 32).expect("a /32"))],
            neighbors: vec![Neighbor {
                address: peer_ip,
                remote_asn: peer.asn as u32,
                passive: is_apipa(peer_ip),
                update_source: Some(own),
                ebgp_multihop: Some(255),
                timers: Some(timers),
                max_prefix: Some(4000),
                // Dropped beyond the limit and retried: after FRR's shortest restart, a minute.
                max_prefix_restart_min: Some(1),
                import: Policy::deny_exactly(&self.vnet_prefixes),
                export: Policy::deny_exactly(&[default_route]),
            }],
            networks: self.vnet_prefixes.clone(),
            ebgp_requires_policy: true,
            timers: Some(timers),
            minimum_hold_s: (self.switches.bgp_hold_time == BgpHoldTime::Fixed).then_some(180),
            install_routes: true,
        })
    }

    /// The resources in Azure's words, one line each, for status tables.
    pub fn summary(&self) -> Vec<String> {
        let join = |v: &[Ipv4Net]| v.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ");
        let c = &self.connection;
        let policy = match &c.policy {
            None => "Default policy".to_string(),
            Some(p) => format!(
                "custom policy IKE {}/{}/{}, IPsec {}/{}/{}, {} s",
                p.ike_encryption.azure_name(),
                p.ike_integrity.azure_name(),
                p.dh_group.azure_name(),
                p.ipsec_encryption.azure_name(),
                p.ipsec_integrity.azure_name(),
                p.pfs_group.azure_name(),
                p.sa_life_time_seconds
            ),
        };
        let lng = match &self.local_gateway.fqdn {
            Some(f) => format!("{f} ({})", self.local_gateway.gateway_ip),
            None => self.local_gateway.gateway_ip.to_string(),
        };
        let mut lines = vec![
            format!("gateway {} ({}, {}) {}", self.gateway.name, self.gateway.vpn_type.azure_name(), self.gateway.sku.azure_name(), self.gateway.public_ip),
            format!("vnet {} [{}]", self.vnet_name, join(&self.vnet_prefixes)),
            format!("local network gateway {} {lng} [{}]", self.local_gateway.name, join(&self.local_gateway.prefixes)),
            format!("connection {}: {}, {policy}, DPD {} s, {} mode", c.name, protocol_name(c.protocol), c.dpd_timeout_seconds, c.mode.azure_name()),
        ];
        if c.policy_based_selectors {
            lines.push("usePolicyBasedTrafficSelectors".to_string());
        }
        if self.gateway.active_active {
            lines.push("activeActive (one instance modelled)".to_string());
        }
        if self.gateway.enable_bgp || c.enable_bgp {
            let peer = self.local_gateway.bgp.as_ref().map(|b| format!("peer ASN {}", b.asn)).unwrap_or_else(|| "no peer settings".into());
            let own = self.bgp_address().map(|a| format!(" at {a}")).unwrap_or_default();
            let peer_ip = self.local_gateway.bgp.as_ref().and_then(|b| b.peering_address).map(|a| format!(" at {a}")).unwrap_or_default();
            lines.push(format!("BGP: gateway ASN {}{own}, {peer}{peer_ip}, connection enableBgp {}", self.gateway.bgp.asn, c.enable_bgp));
        }
        lines.push(format!("model: {}", self.switches.describe().join(", ")));
        lines
    }
}

/// Azure's name for a connection protocol: `IKEv1` or `IKEv2` (Azure has no "either").
pub fn protocol_name(v: IkeVersion) -> &'static str {
    match v {
        IkeVersion::V1 => "IKEv1",
        _ => "IKEv2",
    }
}

/// Azure's shared-key rules: printable ASCII except space, hyphen and tilde; 1–128
/// characters [S2] [S13]. Returns what is wrong, never the key itself.
pub fn check_shared_key(key: &str) -> Result<(), String> {
    let len = key.chars().count();
    if len == 0 || len > 128 {
        return Err(format!("is {len} characters long; Azure accepts 1 to 128"));
    }
    if let Some((i, c)) = key.chars().enumerate().find(|(_, c)| !c.is_ascii_graphic() || matches!(c, '-' | '~')) {
        let what = match c {
            ' ' => "a space".to_string(),
            '\n' => "a newline".to_string(),
            '\t' => "a tab".to_string(),
            '-' => "a hyphen".to_string(),
            '~' => "a tilde".to_string(),
            c => format!("the character U+{:04X}", c as u32),
        };
        return Err(format!("contains {what} at position {}; Azure accepts printable ASCII except space, hyphen (-) and tilde (~)", i + 1));
    }
    Ok(())
}

/// ASNs Azure reserves or IANA reserves; none may be used on-premises [S2].
pub fn asn_problem(asn: u64) -> Option<&'static str> {
    match asn {
        8074 | 8075 | 12076 => Some("reserved by Azure (public)"),
        65515 | 65517..=65520 => Some("reserved by Azure (private)"),
        23456 | 64496..=64511 | 65535..=65551 => Some("reserved by IANA"),
        0 => Some("not a valid ASN"),
        a if a > 4_294_967_295 => Some("larger than a 32-bit ASN"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_key_rules() {
        check_shared_key("S2sVpnAzure!Psk#2026").unwrap();
        assert!(check_shared_key("abc ").unwrap_err().starts_with("contains a space at position 4"));
        assert!(check_shared_key("a-b").unwrap_err().contains("hyphen"));
        assert!(check_shared_key("").unwrap_err().contains("1 to 128"));
        assert!(check_shared_key(&"x".repeat(129)).is_err());
    }

    #[test]
    fn sku_facts() {
        assert_eq!(Sku::Basic.max_tunnels(), 10);
        assert_eq!(Sku::VpnGw1AZ.max_tunnels(), 30);
        assert_eq!(Sku::VpnGw5.max_tunnels(), 100);
        assert!(Sku::Basic.is_basic() && !Sku::VpnGw2AZ.is_basic());
    }

    #[test]
    fn asn_rules() {
        assert_eq!(asn_problem(65515), Some("reserved by Azure (private)"));
        assert_eq!(asn_problem(64500), Some("reserved by IANA"));
        assert_eq!(asn_problem(65010), None);
        assert_eq!(asn_problem(4_200_000_000), None);
    }
}
