//! The evidence catalogue of the simulated Azure VPN Gateway: every behaviour the gateway has
//! (or deliberately lacks), how strong the evidence for it is, which sources say so, and how
//! vpnlab reproduces it in strongSwan and nftables terms, or why it does not.
//!
//! This file owns the catalogue only; the behaviour itself lives in `profile.rs`, the
//! validation in `model/resolve.rs`. Source ids are the `[Sx]` tags of the reference sheet
//! `shared/reference/azure-vpn-gateway.md`, plus the two seed documents and the strongSwan lab
//! notes. `render_markdown` produces `docs/azure-model.md`; a test keeps the two in step.
//! Nothing here touches the system.

use std::fmt::Write as _;

/// Declares the rule ids: a typed id per rule of the catalogue, so that code naming a rule that
/// does not exist does not compile, and a test checks that every id has exactly one rule.
macro_rules! rule_ids {
    ($($variant:ident = $text:literal),+ $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum RuleId { $($variant),+ }
        impl RuleId {
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant),+];
            /// The id as documents and reports spell it, e.g. `custom-policy-exact`.
            pub fn as_str(self) -> &'static str {
                match self { $(RuleId::$variant => $text),+ }
            }
            pub fn parse(text: &str) -> Option<RuleId> {
                match text { $($text => Some(RuleId::$variant),)+ _ => None }
            }
        }
    };
}

rule_ids! {
    VpnTypeIkeVersions = "vpn-type-ike-versions",
    ConnectionProtocolDefault = "connection-protocol-default",
    PolicyBasedBasicOnly = "policy-based-basic-only",
    PolicyBasedStaticRouting = "policy-based-static-routing",
    PolicyBasedOneTunnel = "policy-based-one-tunnel",
    PolicyBasedPortal = "policy-based-portal",
    VpnTypeImmutable = "vpn-type-immutable",
    IkeVersionTransit = "ike-version-transit",
    VnetToVnet = "vnet-to-vnet",
    OtherIkeVersionIgnored = "other-ike-version-ignored",
    DefaultPolicyPhase1 = "default-policy-phase1",
    DefaultPolicyPhase2Initiator = "default-policy-phase2-initiator",
    DefaultPolicyPhase2Responder = "default-policy-phase2-responder",
    DefaultPolicyPolicyBasedPhase2 = "default-policy-policy-based-phase2",
    QuickModeSasPerIkeSa = "quick-mode-sas-per-ike-sa",
    CustomPolicyExact = "custom-policy-exact",
    CustomPolicyValues = "custom-policy-values",
    CustomPolicySingle = "custom-policy-single",
    CustomPolicyChange = "custom-policy-change",
    CustomPolicyScope = "custom-policy-scope",
    EspNull = "esp-null",
    DhGroupNames = "dh-group-names",
    RouteBasedAnyToAny = "route-based-any-to-any",
    PolicyBasedSelectors = "policy-based-selectors",
    PbtsCrossProduct = "pbts-cross-product",
    PbtsCustomPolicy = "pbts-custom-policy",
    PbtsNoTransitNoNat = "pbts-no-transit-no-nat",
    ResponderAcceptsAnySelectors = "responder-accepts-any-selectors",
    NarrowedSelectors = "narrowed-selectors",
    InitiatorOffersAny = "initiator-offers-any",
    InitiatorSelectorFallback = "initiator-selector-fallback",
    PbtsInitiatorNarrowFirst = "pbts-initiator-narrow-first",
    TrafficSelectorPolicies = "traffic-selector-policies",
    ConnectionModeDefault = "connection-mode-default",
    ConnectionModeInitiatorOnly = "connection-mode-initiator-only",
    ConnectionModeResponderOnly = "connection-mode-responder-only",
    DpdTimeout = "dpd-timeout",
    NatT = "nat-t",
    Ikev1Rekey = "ikev1-rekey",
    Ikev2Rekey = "ikev2-rekey",
    IkeSaLifetime = "ike-sa-lifetime",
    ChildSaLifetime = "child-sa-lifetime",
    LifetimesLocal = "lifetimes-local",
    PfsMismatchAtRekey = "pfs-mismatch-at-rekey",
    PolicyBasedIdleTeardown = "policy-based-idle-teardown",
    RouteBasedIdle = "route-based-idle",
    SharedKeyCharacters = "shared-key-characters",
    SharedKeyPerConnection = "shared-key-per-connection",
    PskOnly = "psk-only",
    LngAddressOrFqdn = "lng-address-or-fqdn",
    LngFqdnResolution = "lng-fqdn-resolution",
    LngPrefixesStaticRoutes = "lng-prefixes-static-routes",
    SkuTunnelLimits = "sku-tunnel-limits",
    SkuLegacy = "sku-legacy",
    SkuIkev1 = "sku-ikev1",
    SkuBgp = "sku-bgp",
    SkuCustomPolicy = "sku-custom-policy",
    SkuActiveActive = "sku-active-active",
    SkuBasicLimits = "sku-basic-limits",
    SkuPublicIp = "sku-public-ip",
    SkuThroughput = "sku-throughput",
    SkuNatRules = "sku-nat-rules",
    BgpAsnRules = "bgp-asn-rules",
    BgpApipa = "bgp-apipa",
    BgpPeerAddresses = "bgp-peer-addresses",
    BgpSession = "bgp-session",
    BgpHoldTime = "bgp-hold-time",
    BgpAdvertisements = "bgp-advertisements",
    BgpLngAddressSpace = "bgp-lng-address-space",
    BgpTransit = "bgp-transit",
    MssMtu = "mss-mtu",
    NoFragmentation = "no-fragmentation",
}

impl serde::Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How strong the evidence for a behaviour is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// Stated by Microsoft: Learn pages, includes, the REST specification, docs-repository threads.
    Documented,
    /// Sources disagree; the model has a named switch and says which side it follows.
    Conflicting,
    /// Observed in a field lab or by a third party, not in Microsoft's reference documents.
    FieldReport,
    /// Shown by the teaching material (the seed lesson), not by Microsoft's documents.
    Teaching,
    /// Follows from strongSwan behaviour measured in the lab notes.
    Measured,
    /// No primary source found.
    Unconfirmed,
}

impl Evidence {
    pub fn label(self) -> &'static str {
        match self {
            Evidence::Documented => "documented (Microsoft)",
            Evidence::Conflicting => "sources conflict (switch)",
            Evidence::FieldReport => "field report",
            Evidence::Teaching => "teaching material",
            Evidence::Measured => "measured (strongSwan lab notes)",
            Evidence::Unconfirmed => "unconfirmed",
        }
    }

    /// What the label means, for the legend of the rendered document.
    fn meaning(self) -> &'static str {
        match self {
            Evidence::Documented => "Microsoft states it (Learn pages and includes, the REST specification, threads in Microsoft's docs repository).",
            Evidence::Conflicting => "sources disagree; the rule names the switch that picks a side, and which side is the default.",
            Evidence::FieldReport => "observed in a field lab or by a third party; not in Microsoft's reference documents.",
            Evidence::Teaching => "shown by the teaching material (the seed lesson); Microsoft's documents are silent.",
            Evidence::Measured => "follows from strongSwan behaviour measured in the lab notes.",
            Evidence::Unconfirmed => "no primary source found.",
        }
    }

    const ALL: [Evidence; 6] =
        [Evidence::Documented, Evidence::Conflicting, Evidence::FieldReport, Evidence::Teaching, Evidence::Measured, Evidence::Unconfirmed];
}

/// One source. `url` is empty where the reference sheet gives no address; `title` then says
/// where the document lives.
pub struct Source {
    pub id: &'static str,
    pub title: &'static str,
    pub date: &'static str,
    pub url: &'static str,
}

/// One behaviour of the simulated gateway.
pub struct Rule {
    pub id: RuleId,
    /// One of the topics, in the order of `TOPICS`.
    pub topic: &'static str,
    /// The fact, in Azure's vocabulary.
    pub statement: &'static str,
    pub evidence: Evidence,
    /// Ids into `SOURCES`.
    pub sources: &'static [&'static str],
    /// How vpnlab reproduces it, or "Not modelled…" and why.
    pub modelled: &'static str,
}

const TYPES: &str = "Gateway types and IKE versions";
const DEFAULT: &str = "Default policy";
const CUSTOM: &str = "Custom IPsec/IKE policy";
const SELECTORS: &str = "Traffic selectors";
const MODES: &str = "Connection modes";
const TIMERS: &str = "DPD, NAT-T, rekey, lifetimes";
const KEY: &str = "Shared key";
const LNG: &str = "Local network gateway";
const SKUS: &str = "SKUs";
const BGP: &str = "BGP";
const MTU: &str = "MTU and fragmentation";

/// The topics, in the order the document presents them.
const TOPICS: [&str; 11] = [TYPES, DEFAULT, CUSTOM, SELECTORS, MODES, TIMERS, KEY, LNG, SKUS, BGP, MTU];

const LEARN_VPN_DEVICES: &str = "https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-about-vpn-devices";
const LEARN_FAQ: &str = "https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-vpn-faq";
const LEARN_SKUS: &str = "https://learn.microsoft.com/azure/vpn-gateway/about-gateway-skus";
const REST_SPECS: &str = "https://github.com/Azure/azure-rest-api-specs";

pub static SOURCES: &[Source] = &[
    Source {
        id: "S1",
        title: "About VPN devices and IPsec/IKE parameters for Site-to-Site VPN Gateway connections (Microsoft Learn; MicrosoftDocs/azure-docs `articles/vpn-gateway/vpn-gateway-about-vpn-devices.md`)",
        date: "2023-10-06",
        url: LEARN_VPN_DEVICES,
    },
    Source {
        id: "S1a",
        title: "About VPN devices and IPsec/IKE parameters for Site-to-Site VPN Gateway connections, 2016 version of [S1]",
        date: "2016-12-12",
        url: LEARN_VPN_DEVICES,
    },
    Source {
        id: "S1b",
        title: "About VPN devices and IPsec/IKE parameters for Site-to-Site VPN Gateway connections, 2018 version of [S1]",
        date: "2018-10-05",
        url: LEARN_VPN_DEVICES,
    },
    Source { id: "S2", title: "Azure VPN Gateway FAQ (Microsoft Learn)", date: "2026-06-04", url: LEARN_FAQ },
    Source { id: "S2a", title: "Azure VPN Gateway FAQ, 2023 version of [S2]", date: "2023-07-28", url: LEARN_FAQ },
    Source { id: "S2b", title: "Azure VPN Gateway FAQ include `vpn-gateway-faq-ipsecikepolicy-include.md`", date: "2022-05-25", url: "" },
    Source { id: "S2c", title: "Azure VPN Gateway FAQ include `vpn-gateway-faq-bgp-include.md`", date: "2019-02-12", url: "" },
    Source { id: "S2d", title: "Azure VPN Gateway FAQ include `vpn-gateway-faq-nat-include.md`", date: "2024-01-23", url: "" },
    Source {
        id: "S3",
        title: "Includes `vpn-gateway-ipsec-ike-algorithm-include.md` and `vpn-gateway-ipsec-ike-requirements-include.md` (MicrosoftDocs/azure-docs `includes/`), rendered in the IPsec/IKE policy articles",
        date: "2024-01-26 (algorithm include), 2023-01-11 (requirements include)",
        url: "",
    },
    Source { id: "S3a", title: "Include `vpn-gateway-ipsec-ike-algorithm-include.md`, 2023 version of [S3]", date: "2023-01-30", url: "" },
    Source {
        id: "S4",
        title: "Configure custom IPsec/IKE connection policies for S2S VPN and VNet-to-VNet: Azure portal (Microsoft Learn)",
        date: "2023-01-30",
        url: "https://learn.microsoft.com/azure/vpn-gateway/ipsec-ike-policy-howto",
    },
    Source {
        id: "S5",
        title: "Connect a VPN gateway to multiple on-premises policy-based VPN devices (Microsoft Learn)",
        date: "2023-10-10",
        url: "https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-connect-multiple-policybased-rm-ps",
    },
    Source {
        id: "S6",
        title: "About cryptographic requirements and Azure VPN gateways (Microsoft Learn)",
        date: "2017 repository copy and 2024 web copies",
        url: "https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-about-compliance-crypto",
    },
    Source { id: "S7", title: "Include `vpn-gateway-vpn-type-table.md` (MicrosoftDocs/azure-docs)", date: "2026-06-10", url: "" },
    Source {
        id: "S8",
        title: "FAQ section 'Why can't I specify policy-based and route-based VPN types?' in the Azure VPN Gateway FAQ [S2]",
        date: "2026-06-04",
        url: LEARN_FAQ,
    },
    Source { id: "S9", title: "About gateway SKUs (Microsoft Learn)", date: "2026-06-11", url: LEARN_SKUS },
    Source { id: "S9a", title: "Include `vpn-gateway-table-gwtype-aggtput-include.md`", date: "2018-10-29", url: "" },
    Source {
        id: "S9b",
        title: "Localised copies (pt-pt, ko-kr, sv-se) of the include `vpn-gateway-table-gwtype-aggtput-include.md`",
        date: "about 2023",
        url: "",
    },
    Source { id: "S9c", title: "About gateway SKUs, 2023 and 2024 versions of [S9]", date: "2023-11-28 and 2024-01-23", url: LEARN_SKUS },
    Source { id: "S9d", title: "Include `vpn-gateway-table-gwtype-legacy-aggtput-include.md`", date: "2018-03-21", url: "" },
    Source {
        id: "S10",
        title: "Create a Basic SKU VPN gateway using PowerShell (Microsoft Learn), and the include `vpn-gateway-basic-sku-limitations.md`",
        date: "2024-08-15",
        url: "https://learn.microsoft.com/azure/vpn-gateway/create-gateway-basic-sku-powershell",
    },
    Source {
        id: "S11",
        title: "About active-active mode VPN gateways (Microsoft Learn)",
        date: "2024-07-22",
        url: "https://learn.microsoft.com/azure/vpn-gateway/about-active-active-gateways",
    },
    Source {
        id: "S12-117048",
        title: "GitHub MicrosoftDocs/azure-docs issue #117048, 'Clarify that traffic selector are not supported with NAT rules'",
        date: "2023-11-14",
        url: "",
    },
    Source {
        id: "S13",
        title: "Azure REST API specification, `specification/network/resource-manager/Microsoft.Network/stable/2023-09-01/virtualNetworkGateway.json` (Azure/azure-rest-api-specs)",
        date: "API version 2023-09-01",
        url: REST_SPECS,
    },
    Source {
        id: "S13ex",
        title: "REST examples `VirtualNetworkGatewayConnectionGet.json`, `LocalNetworkGatewayCreate.json` and `VirtualNetworkGatewayGet.json`, in the folder of [S13]",
        date: "API version 2023-09-01",
        url: REST_SPECS,
    },
    Source {
        id: "S14",
        title: "Custom traffic selectors for VPN Gateway connections (Microsoft Learn)",
        date: "2019-10-17",
        url: "https://learn.microsoft.com/azure/vpn-gateway/custom-traffic-selectors",
    },
    Source {
        id: "S15",
        title: "Adam Stuart, 'Secure VPN connectivity, from Azure to remote third parties' (README.md; a field lab, not Microsoft reference)",
        date: "2021-10",
        url: "https://github.com/adstuart/azure-vpn-s2s/tree/main/3P-connectivity",
    },
    Source {
        id: "S16-17516",
        title: "GitHub MicrosoftDocs/azure-docs issue #17516, 'Cisco ASA Route based configuration', comment by yushwang",
        date: "2019-04-09",
        url: "",
    },
    Source {
        id: "S16-PR4368",
        title: "GitHub MicrosoftDocs/azure-docs PR #4368, 'Policy based traffic selectors are advertising address spaces'",
        date: "2018-01",
        url: "",
    },
    Source {
        id: "S17",
        title: "GitHub ministryofjustice/modernisation-platform PR #2923, 'Remove traffic selector for NOMS VPNs'",
        date: "2023-01-05",
        url: "",
    },
    Source {
        id: "S18",
        title: "Troubleshoot a Site-to-Site or Point-to-Site VPN tunnel that won't connect in Azure VPN Gateway (Microsoft troubleshooting article, marked AI-assisted; under learn.microsoft.com/troubleshoot/azure/vpn-gateway/, exact path unconfirmed)",
        date: "2026-09-18",
        url: "",
    },
    Source {
        id: "S19",
        title: "Diagnose on-premises connectivity via VPN gateways (Network Watcher, Microsoft Learn)",
        date: "2017-02-22",
        url: "https://learn.microsoft.com/azure/network-watcher/network-watcher-diagnose-on-premises-connectivity",
    },
    Source {
        id: "S20",
        title: "IPSEC_PFS_GROUP enumeration (ipsectypes.h), Microsoft Learn (Win32 API)",
        date: "undated",
        url: "https://learn.microsoft.com/windows/win32/api/ipsectypes/ne-ipsectypes-ipsec_pfs_group",
    },
    Source {
        id: "S21",
        title: "Microsoft Learn site-to-site portal tutorial, the 'Connection mode' bullet list (repeated in several azure-docs articles; also quoted on blog.matrixpost.net, 'azure-ipsec-vpn-tunnel-onpremise')",
        date: "undated",
        url: "",
    },
    Source {
        id: "S22",
        title: "Include `vpn-gateway-add-local-network-gateway-portal-include.md` (MicrosoftDocs/azure-docs), FQDN notes",
        date: "2023-06-23",
        url: "",
    },
    Source {
        id: "S23",
        title: "How to configure BGP for Azure VPN Gateway: portal (Microsoft Learn)",
        date: "2023-04-20",
        url: "https://learn.microsoft.com/azure/vpn-gateway/bgp-howto",
    },
    Source {
        id: "S24",
        title: "Azure VPN Gateway and FortiGate BGP, measured timers (syuheiuda.com, ?p=4403; third-party blog)",
        date: "undated",
        url: "",
    },
    Source { id: "S25", title: "Azure VPN Gateway BGP Timer Mismatches (Microsoft TechCommunity post)", date: "undated", url: "" },
    Source {
        id: "seed-000",
        title: "PAN-OS (Palo Alto) to Azure VPN Gateway lesson: the teaching material (seed document)",
        date: "undated",
        url: "shared/seeds/000_75eaf444ce26e2ef.txt",
    },
    Source {
        id: "seed-003",
        title: "pfSense behind a home NAT router to Azure VPN Gateway, route-based IKEv2 with BGP: a walkthrough (seed document)",
        date: "undated",
        url: "shared/seeds/003_7c82c928934fb89e.txt",
    },
    Source {
        id: "lab-notes",
        title: "strongSwan 5.9.8 in network namespaces: measured behaviour of every seed scenario (vpnlab's strongSwan lab notes)",
        date: "undated (strongSwan 5.9.8, Linux 6.18.44)",
        url: "shared/reference/strongswan-lab-notes.md",
    },
];

pub static RULES: &[Rule] = &[
    // ----- Gateway types and IKE versions -----
    Rule {
        id: RuleId::VpnTypeIkeVersions,
        topic: TYPES,
        statement: "A `PolicyBased` gateway speaks IKEv1 only. A `RouteBased` gateway speaks IKEv1 and IKEv2 on \
            VpnGw1–5 and VpnGw1AZ–5AZ, and IKEv2 only on Basic. The Dec 2016 and Oct 2018 parameter tables listed \
            route-based as IKEv2 only; the Oct 2023 table and the crypto-requirements page list IKEv1 as well.",
        evidence: Evidence::Documented,
        sources: &["S2", "S7", "S8", "S1", "S1a", "S1b", "S6"],
        modelled: "The connection's IKE version (`connectionProtocol`, default IKEv2; IKEv1 on a policy-based \
            gateway) becomes the `version` of the gateway's charon connection. Invalid combinations are \
            refused when the lab is validated, naming this rule: IKEv2 on a `PolicyBased` gateway, IKEv1 on \
            a route-based Basic gateway.",
    },
    Rule {
        id: RuleId::ConnectionProtocolDefault,
        topic: TYPES,
        statement: "`connectionProtocol` defaults to IKEv2 when it is not given, and cannot be changed once the \
            connection exists: delete and re-create it.",
        evidence: Evidence::Documented,
        sources: &["S2"],
        modelled: "An absent `connectionProtocol` gives charon `version = 2`. Immutability needs nothing: every run \
            builds the gateway afresh from the lab file.",
    },
    Rule {
        id: RuleId::PolicyBasedBasicOnly,
        topic: TYPES,
        statement: "A `PolicyBased` gateway exists only with the Basic SKU.",
        evidence: Evidence::Documented,
        sources: &["S2", "S7", "S8"],
        modelled: "Validation refuses `vpnType: PolicyBased` with any SKU but Basic, naming this rule.",
    },
    Rule {
        id: RuleId::PolicyBasedStaticRouting,
        topic: TYPES,
        statement: "A `PolicyBased` gateway routes statically only; it has no BGP.",
        evidence: Evidence::Documented,
        sources: &["S2", "S7", "S8"],
        modelled: "Validation refuses `enableBgp` on a policy-based gateway; its routes into the tunnel are the \
            local network gateway's prefixes.",
    },
    Rule {
        id: RuleId::PolicyBasedOneTunnel,
        topic: TYPES,
        statement: "A `PolicyBased` gateway carries one site-to-site tunnel and no point-to-site connections (a \
            route-based Basic gateway carries 10).",
        evidence: Evidence::Documented,
        sources: &["S2", "S7", "S8", "S9"],
        modelled: "Holds by construction: a vpnlab Azure gateway has exactly one connection to one local network \
            gateway; validation also refuses active-active on a policy-based gateway.",
    },
    Rule {
        id: RuleId::PolicyBasedPortal,
        topic: TYPES,
        statement: "Since 1 October 2023 the Azure portal creates route-based gateways only; PowerShell and the Azure \
            CLI can still create `PolicyBased` ones.",
        evidence: Evidence::Documented,
        sources: &["S2"],
        modelled: "Not modelled: it concerns how a gateway is created, not how it behaves. A lab file describes the \
            gateway the way PowerShell or the CLI would.",
    },
    Rule {
        id: RuleId::VpnTypeImmutable,
        topic: TYPES,
        statement: "A gateway cannot be converted between `PolicyBased` and `RouteBased`: it must be deleted and \
            re-created (about 60 minutes), and its public IP is not kept.",
        evidence: Evidence::Documented,
        sources: &["S2"],
        modelled: "Not modelled: resources have no life cycle in vpnlab; every run builds the lab from its file.",
    },
    Rule {
        id: RuleId::IkeVersionTransit,
        topic: TYPES,
        statement: "Transit between IKEv1 and IKEv2 connections on the same gateway is allowed and enabled \
            automatically.",
        evidence: Evidence::Documented,
        sources: &["S2", "S6"],
        modelled: "Not modelled: a vpnlab gateway has one connection, so there is no second connection to transit to.",
    },
    Rule {
        id: RuleId::VnetToVnet,
        topic: TYPES,
        statement: "VNet-to-VNet and multi-site connections need route-based gateways. VNet-to-VNet uses IKEv2 \
            (2026 FAQ); the 2023 FAQ said IKEv1 and IKEv2.",
        evidence: Evidence::Documented,
        sources: &["S2", "S2a"],
        modelled: "Not modelled: vpnlab builds site-to-site connections only; validation rejects any \
            `connectionType` other than `IPsec`.",
    },
    Rule {
        id: RuleId::OtherIkeVersionIgnored,
        topic: TYPES,
        statement: "In the lesson, a firewall set to IKEv2 against a `PolicyBased` (IKEv1-only) gateway 'sits in init \
            forever' with no error that makes sense, which points to a gateway that does not answer the other IKE \
            version. Microsoft's documents do not say what the gateway sends back (the troubleshooting guide lists \
            'unsupported IKE version' only among Azure-side log entries [S18]); plain strongSwan answers \
            NO_PROPOSAL_CHOSEN at once instead (lab notes §2).",
        evidence: Evidence::Teaching,
        sources: &["seed-000", "S18", "lab-notes"],
        modelled: "An nftables rule in the gateway's namespace drops IKE_SA_INIT of the other IKE version, matched on \
            UDP port 500 and the IKE header's version byte (`udp dport 500 @th,200,8 0x20 drop` drops IKEv2, `0x10` \
            IKEv1). The peer retransmits and gives up: 3.55 s with vpnlab's retransmit schedule, error-notify \
            RETRANSMIT_SEND_TIMEOUT and PEER_INIT_UNREACHABLE, no `ike-updown` event (lab notes §2). Switch \
            `otherIkeVersion`: `ignore` (default, the teaching material) | `reject` (strongSwan's own answer, \
            NO_PROPOSAL_CHOSEN within milliseconds).",
    },
    // ----- Default policy -----
    Rule {
        id: RuleId::DefaultPolicyPhase1,
        topic: DEFAULT,
        statement: "Without a custom policy (`ipsecPolicies: []`), Phase 1 uses a pre-shared key and DH group 2 \
            (1024-bit MODP) only. Encryption and hash offers, in order: route-based AES256/SHA1, AES256/SHA256, \
            AES128/SHA1, AES128/SHA256, 3DES/SHA1, 3DES/SHA256; policy-based AES256/SHA256, AES256/SHA1, AES128/SHA1, \
            3DES/SHA1. Unconfirmed: the default IKEv2 PRF list, and whether other DH groups are ever accepted without \
            a custom policy.",
        evidence: Evidence::Documented,
        sources: &["S1", "S6", "S18"],
        modelled: "The gateway's IKE `proposals` are aes256-sha1-modp1024, aes256-sha256-modp1024, \
            aes128-sha1-modp1024, aes128-sha256-modp1024, 3des-sha1-modp1024, 3des-sha256-modp1024, in that order; \
            the PRF follows the integrity algorithm (strongSwan's default). A peer offering only DH group 14 gets \
            NO_PROPOSAL_CHOSEN in IKE_SA_INIT; one offering groups 14 and 2 gets INVALID_KE_PAYLOAD and continues \
            with group 2 (lab notes §3). The policy-based list comes with the policy-based model.",
    },
    Rule {
        id: RuleId::DefaultPolicyPhase2Initiator,
        topic: DEFAULT,
        statement: "A route-based gateway with the Default policy, when it initiates, offers six CHILD_SA (Quick Mode) \
            proposals in this order, none with PFS: GCM-AES256, AES256/SHA1, 3DES/SHA1, AES256/SHA256, AES128/SHA1, \
            3DES/SHA256.",
        evidence: Evidence::Documented,
        sources: &["S1", "S1b"],
        modelled: "A swanctl child has one `esp_proposals` list for every exchange, and charon takes the key \
            exchange of a CREATE_CHILD_SA it starts from the first proposal with a KE transform: the gateway's list \
            begins with `aes256gcm16-none`, so every exchange the gateway starts (its CHILD rekeys, a recreate \
            after expiry) carries no KE, whoever started the tunnel (measured on the wire against charon 5.9.8). \
            When the run plan makes the gateway the first initiator, the list holds these six offers first (its \
            IKE_AUTH offer) and then the responder table's PFS combinations over the same six pairs, so the \
            peer's PFS rekeys are still accepted. Tested: a peer that accepts only AES128/SHA256 comes up when it \
            initiates and fails Phase 2 when Azure initiates; a peer that requires PFS drops when Azure rekeys \
            first. Limit: after a peer rekeyed a CHILD SA with PFS, charon's own next rekey of that SA reuses the \
            group (what Azure does there is undocumented).",
    },
    Rule {
        id: RuleId::DefaultPolicyPhase2Responder,
        topic: DEFAULT,
        statement: "As responder, a route-based gateway with the Default policy accepts 26 CHILD_SA combinations: the \
            six initiator offers, DES/SHA1, AES128/SHA256, and AES256, AES128 or 3DES with SHA1 or SHA256 combined \
            with PFS group 1, 2, 14 or 24, in the listed combinations only. It accepts no ECP PFS (groups 19 and 20) \
            and no GCM-AES128.",
        evidence: Evidence::Documented,
        sources: &["S1"],
        modelled: "The gateway child's `esp_proposals` hold the 26 combinations in Azure's order (aes256gcm16, \
            aes256-sha1, 3des-sha1, aes256-sha256, aes128-sha1, 3des-sha256, des-sha1, aes256-sha1-modp768, …, \
            3des-sha1-modp2048), PFS groups 1/2/14/24 written modp768/modp1024/modp2048/modp2048s256. strongSwan \
            leaves the key exchange out of the first CHILD_SA, created inside IKE_AUTH, so the PFS group first \
            matters at the first CREATE_CHILD_SA rekey (lab notes §6), and only in rekeys the peer starts: the \
            list's first entry, `aes256gcm16-none`, makes the gateway's own rekeys carry no KE (Azure's initiator \
            table). Tested: a peer that requires PFS and rekeys first stays up with the group.",
    },
    Rule {
        id: RuleId::DefaultPolicyPolicyBasedPhase2,
        topic: DEFAULT,
        statement: "A `PolicyBased` gateway's Quick Mode offers AES256/SHA256, AES256/SHA1, AES128/SHA1 and 3DES/SHA1 \
            in that order, without PFS, with a lifetime of 3,600 s and 102,400,000 KB; policy-based gateways do not \
            support DPD.",
        evidence: Evidence::Documented,
        sources: &["S1"],
        modelled: "IKEv1 children with `esp_proposals` aes256-sha256, aes256-sha1, aes128-sha1, 3des-sha1, \
            `life_time` 3,600 s, and no `dpd_delay` on the connection (the healthy IKEv1 policy-based path \
            is measured in lab notes §11, and tested).",
    },
    Rule {
        id: RuleId::QuickModeSasPerIkeSa,
        topic: DEFAULT,
        statement: "One IKE SA carries at most 100 Quick Mode SAs.",
        evidence: Evidence::Documented,
        sources: &["S1"],
        modelled: "Not modelled: no lab comes near 100 CHILD_SAs on one IKE_SA, so the limit is never enforced.",
    },
    // ----- Custom IPsec/IKE policy -----
    Rule {
        id: RuleId::CustomPolicyExact,
        topic: CUSTOM,
        statement: "Once a connection has a custom policy (`ipsecPolicies`), the gateway offers and accepts only that \
            exact combination, as initiator and as responder; the default lists no longer apply. The peer must match \
            or contain the IKE encryption, IKE integrity and DH group, the IPsec encryption, IPsec integrity and PFS \
            group, and, with `usePolicyBasedTrafficSelectors`, the traffic selectors.",
        evidence: Evidence::Documented,
        sources: &["S2", "S4", "S3"],
        modelled: "The gateway's IKE `proposals` and its child's `esp_proposals` each hold one proposal built from \
            the policy (for example aes256-sha256-modp2048 and aes256-sha256). A peer without that combination gets \
            NO_PROPOSAL_CHOSEN in IKE_SA_INIT for Phase 1 (lab notes §3b), and at the first rekey when only the PFS \
            group differs (lab notes §6).",
    },
    Rule {
        id: RuleId::CustomPolicyValues,
        topic: CUSTOM,
        statement: "Allowed values (2024 include, 2026 FAQ): `ikeEncryption` GCMAES256, GCMAES128, AES256, AES192, \
            AES128; `ikeIntegrity` SHA384, SHA256, SHA1, MD5; `dhGroup` DHGroup24, ECP384, ECP256, DHGroup14, \
            DHGroup2048, DHGroup2, DHGroup1, None; `ipsecEncryption` GCMAES256, GCMAES192, GCMAES128, AES256, AES192, \
            AES128, DES3, DES, None; `ipsecIntegrity` GCMAES256, GCMAES192, GCMAES128, SHA256, SHA1, MD5; `pfsGroup` \
            PFS24, ECP384, ECP256, PFS2048, PFS2, PFS1, None; `saLifeTimeSeconds` at least 300 (default 27,000); \
            `saDataSizeKilobytes` at least 1,024 (default 102,400,000). With a GCM `ipsecEncryption` the \
            `ipsecIntegrity` must be the same GCM algorithm and key size; with a GCM `ikeEncryption` the \
            `ikeIntegrity` is used only as the PRF. The Jan 2023 include and the May 2022 FAQ include also allowed \
            DES3 and DES for `ikeEncryption` and GCMAES256/GCMAES128 for `ikeIntegrity`; the Jan 2024 include dropped \
            them, and the 2023-09-01 REST enums still contain them.",
        evidence: Evidence::Documented,
        sources: &["S3", "S2", "S4", "S3a", "S2b", "S13"],
        modelled: "Validation accepts the documented values, plus the REST enum's PFS14 and PFSMM for `pfsGroup` \
            (see `dh-group-names`); it refuses the older DES3/DES IKE encryption and GCM IKE integrity, enforces the \
            two minimums and the GCM rule, and names the field and the valid values. Values map to strongSwan \
            keywords: AES256 → aes256, GCMAES256 → aes256gcm16, DES3 → 3des, SHA256 → sha256; with a GCM \
            `ikeEncryption` the integrity becomes a PRF (prfsha384, for example).",
    },
    Rule {
        id: RuleId::CustomPolicySingle,
        topic: CUSTOM,
        statement: "A connection has at most one custom policy, and all eight fields must be given (`saLifeTimeSeconds`, \
            `saDataSizeKilobytes`, `ipsecEncryption`, `ipsecIntegrity`, `ikeEncryption`, `ikeIntegrity`, `dhGroup`, \
            `pfsGroup`): partial policies are refused, and the REST schema marks all eight as required.",
        evidence: Evidence::Documented,
        sources: &["S2", "S13"],
        modelled: "Validation rejects a second entry in `ipsecPolicies`, and the lab-file reader rejects a policy that \
            lacks any of the eight fields, naming it.",
    },
    Rule {
        id: RuleId::CustomPolicyChange,
        topic: CUSTOM,
        statement: "Adding, changing or removing a custom policy tears the tunnel down and runs IKE again, which takes \
            a few seconds.",
        evidence: Evidence::Documented,
        sources: &["S2"],
        modelled: "Not modelled: a lab's configuration is fixed for a run; a changed policy means a new run.",
    },
    Rule {
        id: RuleId::CustomPolicyScope,
        topic: CUSTOM,
        statement: "Each direction of a VNet-to-VNet link is its own connection resource, and both must carry the same \
            policy. Custom policies do not apply to ExpressRoute connections.",
        evidence: Evidence::Documented,
        sources: &["S2"],
        modelled: "Not modelled: vpnlab builds site-to-site connections only.",
    },
    Rule {
        id: RuleId::EspNull,
        topic: CUSTOM,
        statement: "ESP NULL encryption is possible on route-based gateways through a custom policy with \
            `ipsecEncryption: None`; no default offer contains it.",
        evidence: Evidence::Documented,
        sources: &["S1"],
        modelled: "`ipsecEncryption: None` maps to the ESP keyword `null`, so the gateway's single ESP proposal is \
            null with the policy's integrity algorithm (null-sha256, for example).",
    },
    Rule {
        id: RuleId::DhGroupNames,
        topic: CUSTOM,
        statement: "`dhGroup` and `pfsGroup` names map to IANA groups: DHGroup1/PFS1 = 1 (768-bit MODP), DHGroup2/PFS2 \
            = 2 (1024-bit MODP), DHGroup14, DHGroup2048 and PFS2048 = 14 (2048-bit MODP), ECP256 = 19, ECP384 = 20, \
            DHGroup24/PFS24 = 24 (2048-bit MODP, 256-bit prime-order subgroup), None = no DH or no PFS. The REST \
            enum's PFS14 and PFSMM are not in the docs; their meanings, group 14 and 'the main mode's group', are \
            unconfirmed for Azure and taken from the Windows IPSEC_PFS_GROUP enum, whose names Azure's match.",
        evidence: Evidence::Documented,
        sources: &["S2", "S3", "S13", "S20"],
        modelled: "strongSwan keywords modp768, modp1024, modp2048, ecp256, ecp384 and modp2048s256; `None` leaves the \
            key exchange out of the proposal. PFS14 is read as modp2048 and PFSMM as the group of `dhGroup`, after \
            the Windows enum.",
    },
    // ----- Traffic selectors -----
    Rule {
        id: RuleId::RouteBasedAnyToAny,
        topic: SELECTORS,
        statement: "A route-based gateway negotiates any-to-any traffic selectors (0.0.0.0/0 ↔ 0.0.0.0/0); routing \
            then decides which traffic enters which tunnel.",
        evidence: Evidence::Documented,
        sources: &["S2", "S5", "S16-17516"],
        modelled: "The gateway's child has `local_ts` and `remote_ts` 0.0.0.0/0, and the local network gateway's \
            prefixes are routed into the tunnel interface (`lng-prefixes-static-routes`).",
    },
    Rule {
        id: RuleId::PolicyBasedSelectors,
        topic: SELECTORS,
        statement: "A `PolicyBased` gateway builds its traffic selectors from the combinations of the local network \
            gateway's prefixes and the VNet's prefixes, and the on-premises device must be configured with the same \
            pairs.",
        evidence: Evidence::Documented,
        sources: &["S2", "S3"],
        modelled: "One IKEv1 child per (VNet prefix, local network prefix) pair, since IKEv1 negotiates one \
            selector pair per Quick Mode, matched exactly in both roles: a Quick Mode proposal that is narrower, \
            wider or overlapping is refused with NO_PROPOSAL_CHOSEN while Phase 1 stays up (the exact-match child of \
            `narrowed-selectors`, measured with IKEv1). That Azure refuses rather than narrows is vpnlab's strict \
            reading of the documented requirement; no source shows a policy-based gateway narrowing.",
    },
    Rule {
        id: RuleId::PbtsCrossProduct,
        topic: SELECTORS,
        statement: "With `usePolicyBasedTrafficSelectors: true` on a route-based connection, the gateway pairs every \
            local network gateway prefix with every VNet prefix (on-premises {10.1/16, 10.2/16} × VNet {192.168/16, \
            172.16/16} gives four pairs), and the on-premises device, which must speak IKEv2, needs the same pairs. \
            Field reports add that the VNet side uses address spaces rather than subnets, and includes peered spoke \
            VNets that use the remote gateway [S15] [S16-PR4368].",
        evidence: Evidence::Documented,
        sources: &["S3", "S2", "S5", "S15", "S16-PR4368"],
        modelled: "With `usePolicyBasedTrafficSelectors` and the gateway initiating, one child whose selectors are \
            the VNet prefixes (local) and the local network gateway's prefixes (remote): IKEv2 carries the \
            whole cross product in one CHILD SA. Validation refuses PBTS on a policy-based gateway, with \
            IKEv1, or without local prefixes. As responder the gateway accepts whatever the peer proposes \
            (`responder-accepts-any-selectors`).",
    },
    Rule {
        id: RuleId::PbtsCustomPolicy,
        topic: SELECTORS,
        statement: "The Oct 2023 how-to says `usePolicyBasedTrafficSelectors` is part of the custom policy, so a \
            complete IPsec/IKE policy must be given [S5]; the Jan 2023 portal how-to sets it, like the DPD timeout, \
            with the Default policy [S4]. A 2021 lab warns that selectors may not take effect without a custom policy \
            [S15].",
        evidence: Evidence::Conflicting,
        sources: &["S5", "S4", "S15"],
        modelled: "Switch `pbtsWithDefaultPolicy`: `accept` (default; vpnlab follows [S4] and adds a note) | \
            `reject` (follows [S5]: validation refuses `usePolicyBasedTrafficSelectors: true` with an empty \
            `ipsecPolicies`).",
    },
    Rule {
        id: RuleId::PbtsNoTransitNoNat,
        topic: SELECTORS,
        statement: "On-premises networks behind a PBTS connection reach only the VNet; they cannot transit to other \
            on-premises sites or VNets through the gateway. NAT rules are not supported on PBTS connections; a 2023 \
            docs issue says NAT needs any-to-any selectors in general.",
        evidence: Evidence::Documented,
        sources: &["S5", "S12-117048", "S15"],
        modelled: "Not modelled: a vpnlab gateway has one connection and no NAT rules, so neither transit nor NAT \
            arises.",
    },
    Rule {
        id: RuleId::ResponderAcceptsAnySelectors,
        topic: SELECTORS,
        statement: "As responder the gateway accepts any traffic selectors the peer proposes, in all three connection \
            modes; with PBTS the FAQ repeats that it 'accepts whatever TS the remote proposes, irrespective of its own \
            configuration'.",
        evidence: Evidence::Documented,
        sources: &["S2", "S3"],
        modelled: "The route-based child is 0.0.0.0/0 on both sides, so strongSwan narrows any proposal to it and \
            accepts, raising error-notify TS_NARROWED on the gateway (lab notes §5). `narrowedTrafficSelectors: \
            reject` overrides this for narrowed proposals (`narrowed-selectors`).",
    },
    Rule {
        id: RuleId::NarrowedSelectors,
        topic: SELECTORS,
        statement: "Microsoft documents that a route-based gateway, as responder, accepts selectors narrower than \
            0.0.0.0/0 [S2] [S16-17516]. The lesson (seed-000) shows a Palo Alto proxy-ID narrowed to 10.10.0.0/16 ↔ \
            10.20.0.0/16 failing Phase 2 with NO_PROPOSAL_CHOSEN while Phase 1 stays up, without saying which side \
            initiated. A 2023 infrastructure PR reports a Phase 2 mismatch with a narrow AWS selector; which side \
            refused is unconfirmed [S17].",
        evidence: Evidence::Conflicting,
        sources: &["S2", "S16-17516", "seed-000", "S17", "S18", "lab-notes"],
        modelled: "Switch `narrowedTrafficSelectors`: `accept` (default, documented: the 0/0 child narrows and \
            accepts) | `reject` (the teaching material). For `reject` the gateway matches selectors exactly: its \
            connection gets a second child whose selectors \
            are four mutually non-contained ranges per side (0.0.0.0-255.255.255.252, 0.0.0.1-255.255.255.253, \
            0.0.0.2-255.255.255.254, 0.0.0.3-255.255.255.255) and whose ESP proposal is a private-range algorithm \
            (serpent256-sha256_96; `charon.accept_private_algs = no`, the default). It wins strongSwan's child \
            selection for any narrowed proposal and cannot be negotiated, so the peer gets NO_PROPOSAL_CHOSEN with \
            Phase 1 kept, while an exact 0/0 proposal still selects the 0/0 child (lab notes §5). TS_UNACCEPTABLE, \
            which Azure's peers typically log on a selector mismatch [S18], cannot be produced by configuration.",
    },
    Rule {
        id: RuleId::InitiatorOffersAny,
        topic: SELECTORS,
        statement: "A route-based gateway on a default connection, when it initiates, first proposes TSi/TSr \
            0.0.0.0/0 ↔ 0.0.0.0/0 (IKEDiagnosticLog: 'Number of TSIs 1: StartAddress 0.0.0.0 EndAddress \
            255.255.255.255 …'); a peer that answers with narrower selectors gets the narrowed pair.",
        evidence: Evidence::FieldReport,
        sources: &["S15"],
        modelled: "The 0/0 child initiates with 0/0 ↔ 0/0, and strongSwan as initiator installs the narrowed pair a \
            responder returns (standard IKEv2 narrowing).",
    },
    Rule {
        id: RuleId::InitiatorSelectorFallback,
        topic: SELECTORS,
        statement: "When the peer refuses Azure's 0/0 proposal (with TS_UNACCEPTABLE, for example), Azure retries with \
            narrower selectors: VNet (hub and spokes) × local network gateway prefixes, then hub VNet only × local \
            prefixes.",
        evidence: Evidence::FieldReport,
        sources: &["S15"],
        modelled: "When the gateway initiates (route-based, without PBTS), its profile carries a second child with \
            the VNet × local network prefixes; when the first CHILD SA (0.0.0.0/0) is refused and Phase 1 is \
            up, the run initiates that child. Tested with a firewall that, like PAN-OS, accepts only an \
            exact proxy-ID match (`exact_proxy_id: true` on the dut): the 0/0 offer gets NO_PROPOSAL_CHOSEN, \
            the fallback comes up with the narrowed selectors (scenario proxy-id-narrowed-azure-initiates). \
            The second fallback (hub VNet only) does not arise: a lab has one VNet.",
    },
    Rule {
        id: RuleId::PbtsInitiatorNarrowFirst,
        topic: SELECTORS,
        statement: "With PBTS, and with `trafficSelectorPolicies` too, Azure starts with the narrow selectors when it \
            initiates, but still falls back to wide ones and still accepts wider selectors as responder. Only with \
            `connectionMode: InitiatorOnly` must the peer answer with selectors equal to or narrower than Azure's \
            fixed ones.",
        evidence: Evidence::FieldReport,
        sources: &["S15"],
        modelled: "Partly: with PBTS the gateway, when it initiates, proposes the VNet × local prefixes; the \
            fallback to wider selectors is not modelled (it needs a second initiate by the run).",
    },
    Rule {
        id: RuleId::TrafficSelectorPolicies,
        topic: SELECTORS,
        statement: "`trafficSelectorPolicies` is a per-connection list of `{localAddressRanges[], \
            remoteAddressRanges[]}` in CIDR form. It takes effect only with `usePolicyBasedTrafficSelectors`, and \
            Azure offers these selectors only when it initiates.",
        evidence: Evidence::Documented,
        sources: &["S2", "S13", "S14"],
        modelled: "With `usePolicyBasedTrafficSelectors` and the gateway initiating, one child per \
            `trafficSelectorPolicies` entry with its local and remote ranges; as responder they do not \
            apply. Without PBTS they are ignored, with a note.",
    },
    // ----- Connection modes -----
    Rule {
        id: RuleId::ConnectionModeDefault,
        topic: MODES,
        statement: "`connectionMode: Default` lets either the gateway or the on-premises device initiate.",
        evidence: Evidence::Documented,
        sources: &["S21", "seed-003"],
        modelled: "The gateway's connection is loaded with `start_action = none`: it answers any inbound IKE_SA_INIT, \
            and initiates (VICI `initiate`) when the run plan names it as `initiator`.",
    },
    Rule {
        id: RuleId::ConnectionModeInitiatorOnly,
        topic: MODES,
        statement: "`connectionMode: InitiatorOnly`: the gateway initiates and rejects every connection attempt from \
            the on-premises device. What the device then receives, a notify or silence, is not documented.",
        evidence: Evidence::Documented,
        sources: &["S21", "S15", "seed-003"],
        modelled: "`charon.initiator_only = yes` in the gateway's strongswan.conf: charon drops every inbound \
            IKE_SA_INIT before processing it and logs nothing, so a peer that initiates retransmits and gives up \
            (3.55 s with vpnlab's retransmit schedule; lab notes §8c). The option is global to that charon, which \
            serves this one connection.",
    },
    Rule {
        id: RuleId::ConnectionModeResponderOnly,
        topic: MODES,
        statement: "`connectionMode: ResponderOnly`: the gateway never initiates; the on-premises device must. A device \
            behind NAT then needs no port forwards on its router.",
        evidence: Evidence::Documented,
        sources: &["S21", "seed-003"],
        modelled: "vpnlab never initiates from the gateway in this mode: validation rejects a run plan whose \
            `initiator` is the gateway, naming `run.initiator`. Rekeys and DPD from the gateway are not suppressed; \
            what Azure does there is undocumented.",
    },
    // ----- DPD, NAT-T, rekey, lifetimes -----
    Rule {
        id: RuleId::DpdTimeout,
        topic: TIMERS,
        statement: "`dpdTimeoutSeconds` is set per connection: default 45 s, range 9–3,600 s, 30–45 s recommended; \
            shorter timeouts make IKE rekey more aggressively and can look like disconnects. The probe interval and \
            the retry count are unconfirmed: only the timeout is documented.",
        evidence: Evidence::Documented,
        sources: &["S2", "S3"],
        modelled: "`dpd_delay` = timeout / 3 (at least 1 s), `dpd_action = clear`, MOBIKE off, with vpnlab's short \
            retransmit schedule (0.5 s × 1.4ⁿ, 3 retransmits, given up 3.55 s after the first probe). A dead peer is \
            therefore cleared at most about timeout/3 + 3.6 s after its last packet (about 18.6 s at the default 45 \
            s), sooner than Azure's timeout: an approximation, since Azure's probing is undocumented (lab notes §9). \
            Validation rejects values outside 9–3,600. Measured for IKEv2; IKEv1 DPD timing is not measured.",
    },
    Rule {
        id: RuleId::NatT,
        topic: TIMERS,
        statement: "NAT traversal is supported. Azure does no NAT on the inner packets, and an on-premises device \
            behind NAT should initiate.",
        evidence: Evidence::Documented,
        sources: &["S2", "seed-003"],
        modelled: "strongSwan detects the NAT and moves IKE to UDP 4500; the kernel-libipsec data path always \
            UDP-encapsulates ESP, NAT or not (lab notes §1). A gateway-initiated run towards a device behind NAT \
            fails unless the NAT router forwards UDP 500 and 4500 (lab notes §8d, §8e).",
    },
    Rule {
        id: RuleId::Ikev1Rekey,
        topic: TIMERS,
        statement: "IKEv1 connections are not rekeyed in place: at each Main Mode rekey the tunnel drops and takes up \
            to 5 s to reconnect.",
        evidence: Evidence::Documented,
        sources: &["S2", "S6"],
        modelled: "For a lab left running by `vpnlab up`, the lab's supervisor deletes the gateway's IKEv1 SA at 90 \
            % of its 28,800 s lifetime (compressed by `time_scale`) and, when the connection mode lets Azure \
            initiate, builds it again a second later: the tunnel drops and comes back, as documented. \
            charon's own IKEv1 renewal is switched off (`rekey_time`/`reauth_time` 0), because strongSwan \
            moves the Quick Mode SAs onto a reauthenticated IKE SA and the data path would not drop \
            (`queue_ike_reauth` in task_manager_v1.c). Within a single `vpnlab run` the IKE SA is not \
            renewed. Tested at time scale 3000.",
    },
    Rule {
        id: RuleId::Ikev2Rekey,
        topic: TIMERS,
        statement: "IKEv2 connections rekey in place.",
        evidence: Evidence::Documented,
        sources: &["S2"],
        modelled: "strongSwan rekeys the IKE_SA and the CHILD_SAs in place with CREATE_CHILD_SA: the IKE_SA at 28,800 \
            s (`rekey_time`), each CHILD_SA at 90 % of its lifetime without jitter (`rand_time = 0s`).",
    },
    Rule {
        id: RuleId::IkeSaLifetime,
        topic: TIMERS,
        statement: "The IKE (Main Mode) SA lifetime is fixed at 28,800 s, with or without a custom policy. The Dec \
            2016 table and a 2017 Network Watcher article gave 10,800 s for route-based IKEv2; the Oct 2018 table \
            gives 28,800 s.",
        evidence: Evidence::Documented,
        sources: &["S2", "S3", "S1", "S1a", "S1b", "S19"],
        modelled: "The gateway's connection has `rekey_time = 28800s` whatever the policy.",
    },
    Rule {
        id: RuleId::ChildSaLifetime,
        topic: TIMERS,
        statement: "Default CHILD_SA (Quick Mode) lifetime: route-based 27,000 s and 102,400,000 KB; policy-based \
            3,600 s and 102,400,000 KB. A custom policy sets it with `saLifeTimeSeconds` and `saDataSizeKilobytes`. \
            In Dec 2016 the route-based figure was 3,600 s with no byte limit, and the Oct 2018 table gave no byte \
            limit ('-').",
        evidence: Evidence::Documented,
        sources: &["S1", "S1a", "S1b", "S3"],
        modelled: "`life_time` = 27,000 s (3,600 s policy-based) or the policy's `saLifeTimeSeconds`, `rekey_time` \
            at 90 % of it and `rand_time = 0s`, so rekeys are deterministic (setting only `life_time` makes \
            strongSwan 5.9.8 compute a negative rekey time; lab notes, Surprises 1); `life_bytes` / \
            `rekey_bytes` at 100 % / 90 % of `saDataSizeKilobytes` (102,400,000 KB by default). All timers \
            follow the lab's `time_scale`; tested: a 300 s SA at time scale 30 rekeys in seconds.",
    },
    Rule {
        id: RuleId::LifetimesLocal,
        topic: TIMERS,
        statement: "SA lifetimes are local to each side and need not match the peer's.",
        evidence: Evidence::Documented,
        sources: &["S2", "S3"],
        modelled: "The same in strongSwan: IKEv2 does not negotiate lifetimes, so each side rekeys on its own timers, \
            whichever expires first.",
    },
    Rule {
        id: RuleId::PfsMismatchAtRekey,
        topic: TIMERS,
        statement: "When a custom policy's `pfsGroup` and the peer's PFS setting differ (PFS on one side only), an \
            IKEv2 tunnel still comes up, because the first CHILD_SA is created inside IKE_AUTH without a key \
            exchange, and fails at the first Phase 2 rekey. Azure logs it as a policy mismatch [S18]; the lesson \
            warns that a half-matching policy 'drops the tunnel at the first rekey' (seed-000).",
        evidence: Evidence::Measured,
        sources: &["lab-notes", "seed-000", "S18"],
        modelled: "Emerges from strongSwan: the rekey gets NO_PROPOSAL_CHOSEN (error-notify PROPOSAL_MISMATCH_CHILD on \
            both sides), the CHILD_SA lives until its hard lifetime and is then deleted, and the IKE_SA stays up (lab \
            notes §6). The failure shows at whichever side's rekey comes first.",
    },
    Rule {
        id: RuleId::PolicyBasedIdleTeardown,
        topic: TIMERS,
        statement: "A `PolicyBased` gateway tears a tunnel down after more than 5 minutes without traffic, and builds \
            it again on new traffic.",
        evidence: Evidence::Documented,
        sources: &["S2"],
        modelled: "Not modelled yet: policy-based gateways are rejected at validation. strongSwan's child option \
            `inactivity = 300s` would close the CHILD_SA, but building it again on new traffic needs trap policies, \
            which kernel-libipsec does not support (lab notes, Surprises 3), and a run would need compressed time to \
            show it.",
    },
    Rule {
        id: RuleId::RouteBasedIdle,
        topic: TIMERS,
        statement: "No idle teardown is documented for route-based gateways. The lesson says Azure tears down an idle \
            tunnel after about 5 minutes and recommends a tunnel monitor, without naming the gateway type.",
        evidence: Evidence::Unconfirmed,
        sources: &["S2", "seed-000"],
        modelled: "Not modelled: a route-based tunnel stays up while idle, as strongSwan keeps SAs without traffic; \
            no Microsoft document says otherwise.",
    },
    // ----- Shared key -----
    Rule {
        id: RuleId::SharedKeyCharacters,
        topic: KEY,
        statement: "`sharedKey` may contain printable ASCII characters except space, hyphen (-) and tilde (~). The \
            reset API accepts 1–128 characters; the maximum length otherwise is unconfirmed.",
        evidence: Evidence::Documented,
        sources: &["S2", "S13"],
        modelled: "Validation checks both rules and names the position and kind of the first bad character, never \
            the key. The key reaches charon through VICI `load-shared`, so no configuration-file quoting applies \
            (lab notes §4 and Surprises 2).",
    },
    Rule {
        id: RuleId::SharedKeyPerConnection,
        topic: KEY,
        statement: "By default Azure generates a different shared key for each connection.",
        evidence: Evidence::Documented,
        sources: &["S2"],
        modelled: "Not modelled: the lab file must give `sharedKey`; vpnlab never generates one.",
    },
    Rule {
        id: RuleId::PskOnly,
        topic: KEY,
        statement: "Site-to-site connections authenticate with a pre-shared key only.",
        evidence: Evidence::Documented,
        sources: &["S2"],
        modelled: "The gateway's connection uses `auth = psk` on both ends; the lab file offers no certificates for \
            the gateway.",
    },
    // ----- Local network gateway -----
    Rule {
        id: RuleId::LngAddressOrFqdn,
        topic: LNG,
        statement: "A local network gateway names the on-premises device by `gatewayIpAddress` (a public IPv4 \
            address) or by `fqdn`.",
        evidence: Evidence::Documented,
        sources: &["S13", "S13ex", "S22"],
        modelled: "`gatewayIpAddress` becomes the gateway connection's `remote_addrs` and, with the gateway's \
            public IP, the identities of its PSK; validation requires it to be an address in the lab. An \
            `fqdn` resolves through the lab's `dns:` records (`lng-fqdn-resolution`).",
    },
    Rule {
        id: RuleId::LngFqdnResolution,
        topic: LNG,
        statement: "With `fqdn`, the gateway uses one IPv4 address, the first one DNS returns (IPv6 is not supported). \
            It keeps a DNS cache refreshed every 5 minutes and re-resolves only for disconnected tunnels; a gateway \
            reset also triggers resolution.",
        evidence: Evidence::Documented,
        sources: &["S22", "seed-003"],
        modelled: "An `fqdn` resolves through the lab's `dns:` records when the lab is built. With `dns: { server: \
            NODE }`, that node answers DNS on UDP 53 (vpnlab's own minimal name server) and, for a lab left \
            running by `vpnlab up`, the lab's supervisor asks it for the first IPv4 address every 5 minutes \
            (compressed by `time_scale`) while the gateway has no established IKE SA, and points the \
            connection at a new address; `vpnlab dns LAB NAME ADDRESS` changes a record. Tested: a stale \
            record keeps the tunnel down until the record is fixed and the next refresh re-resolves it.",
    },
    Rule {
        id: RuleId::LngPrefixesStaticRoutes,
        topic: LNG,
        statement: "The prefixes in `localNetworkAddressSpace.addressPrefixes` are installed on the gateway as static \
            routes into the tunnel.",
        evidence: Evidence::Documented,
        sources: &["S13", "S2"],
        modelled: "Each prefix becomes a route via the tunnel interface (ipsec0) in the gateway's namespace. \
            Validation also refuses prefixes that overlap the VNet's address space; that is a vpnlab check, not a \
            rule the reference sheet states.",
    },
    // ----- SKUs -----
    Rule {
        id: RuleId::SkuTunnelLimits,
        topic: SKUS,
        statement: "Site-to-site and VNet-to-VNet tunnels per gateway: Basic 10 (policy-based 1), VpnGw1–3 and their \
            AZ forms 30, VpnGw4/5 and their AZ forms 100 in the current table; ~2023 localised copies said 30 for \
            VpnGw4/5, and the 2023 feature table said 'up to 100' for every non-Basic SKU. The legacy Standard SKU \
            had 10 and HighPerformance 30; beyond 100 tunnels Microsoft points to Virtual WAN.",
        evidence: Evidence::Documented,
        sources: &["S9", "S9a", "S9b", "S9c", "S9d", "S2c"],
        modelled: "Checked at validation against the SKU (Basic 10, VpnGw1–3 30, VpnGw4–5 100; active-active counts \
            two tunnels); a vpnlab gateway has one connection, so a lab stays within every limit. `sku` \
            defaults to VpnGw1AZ (a vpnlab default, with a note).",
    },
    Rule {
        id: RuleId::SkuLegacy,
        topic: SKUS,
        statement: "The legacy Standard and HighPerformance SKUs are retired; after June 2026 Azure tries to migrate \
            Standard to VpnGw1AZ and HighPerformance to VpnGw2AZ.",
        evidence: Evidence::Documented,
        sources: &["S2", "S9d", "S2c"],
        modelled: "Validation refuses `Standard` and `HighPerformance` and lists the valid SKUs.",
    },
    Rule {
        id: RuleId::SkuIkev1,
        topic: SKUS,
        statement: "IKEv1 connections are not possible on Basic, nor on Standard or other legacy SKUs. The \
            crypto-requirements page says IKEv1 was once Basic-only and is now allowed on every SKU except Basic.",
        evidence: Evidence::Documented,
        sources: &["S2", "S6"],
        modelled: "Validation rejects `connectionProtocol: IKEv1` on a Basic gateway, naming the field.",
    },
    Rule {
        id: RuleId::SkuBgp,
        topic: SKUS,
        statement: "BGP is available on route-based gateways of every SKU except Basic.",
        evidence: Evidence::Documented,
        sources: &["S2", "S9"],
        modelled: "Validation refuses `enableBgp` on a Basic gateway, naming this rule.",
    },
    Rule {
        id: RuleId::SkuCustomPolicy,
        topic: SKUS,
        statement: "Custom IPsec/IKE policies are supported on every SKU except Basic (2023 wording: VpnGw1–5, \
            VpnGw1AZ–5AZ, Standard, HighPerformance).",
        evidence: Evidence::Documented,
        sources: &["S2", "S4"],
        modelled: "Validation rejects `ipsecPolicies` on a Basic gateway, naming the field.",
    },
    Rule {
        id: RuleId::SkuActiveActive,
        topic: SKUS,
        statement: "Active-active is not available on Basic and needs a route-based gateway with two Standard, Static \
            public IPs. Each of the gateway's two instances then has its own public IP and builds its own tunnel to \
            the device within the same connection; Azure sends a given flow on one tunnel and the return traffic may \
            use the other. Active-standby fails over with a brief interruption.",
        evidence: Evidence::Documented,
        sources: &["S11", "S9", "S2"],
        modelled: "Validation refuses `activeActive` on Basic or policy-based gateways; otherwise it is accepted \
            with a note: a simulated gateway is one charon with one public address, so the second tunnel is \
            not modelled.",
    },
    Rule {
        id: RuleId::SkuBasicLimits,
        topic: SKUS,
        statement: "A Basic gateway is configured with PowerShell or the CLI only, has no IPv6 and no RADIUS, needs a \
            Basic-SKU public IP with dynamic allocation (as of Aug 2024), and is not being retired (2026 FAQ).",
        evidence: Evidence::Documented,
        sources: &["S9", "S10", "S2"],
        modelled: "Not modelled: these concern the configuration surface. Labs are IPv4 only in any case (IPv6 is \
            disabled in every namespace).",
    },
    Rule {
        id: RuleId::SkuPublicIp,
        topic: SKUS,
        statement: "New non-Basic gateways need a Standard-SKU public IP; Basic-SKU public IPs were blocked for them \
            from 1 December 2023.",
        evidence: Evidence::Documented,
        sources: &["S9c", "S2"],
        modelled: "Not modelled: vpnlab has no public IP resource; `publicIpAddress` is simply an address of the \
            gateway node's interfaces.",
    },
    Rule {
        id: RuleId::SkuThroughput,
        topic: SKUS,
        statement: "Aggregate throughput ranges from 100 Mbps (Basic) to 10 Gbps (Gen2 VpnGw5). Per tunnel, Microsoft \
            measured 2.3 Gbps with GCMAES256 on Gen2 VpnGw4/5, about 500–700 Mbps with AES256+SHA256 and 130–140 \
            Mbps with DES3+SHA256, while the ~2023 localised include says one tunnel tops out at about 1 Gbps; both \
            are vendor statements.",
        evidence: Evidence::Documented,
        sources: &["S9", "S9b"],
        modelled: "Not modelled: a lab's throughput is that of strongSwan's userspace ESP (kernel-libipsec) on the \
            host and says nothing about a SKU.",
    },
    Rule {
        id: RuleId::SkuNatRules,
        topic: SKUS,
        statement: "NAT rules (`natRules`) exist on VpnGw2–5 and VpnGw2AZ–5AZ only, not on VNet-to-VNet or \
            point-to-site, and not with APIPA BGP. A gateway holds at most 100 rules (Jan 2024 include) or 500 (2026 \
            FAQ); static 1:1 and dynamic NAT are supported, NAT64 is not.",
        evidence: Evidence::Documented,
        sources: &["S2", "S2d"],
        modelled: "Not modelled: the lab file has no `natRules`; NAT in a lab is the on-premises NAT router's.",
    },
    // ----- BGP -----
    Rule {
        id: RuleId::BgpAsnRules,
        topic: BGP,
        statement: "Azure's default ASN is 65515, assigned even with BGP off and changeable. The on-premises side may \
            not use Azure's reserved ASNs (public 8074, 8075, 12076; private 65515, 65517, 65518, 65519, 65520) or \
            IANA-reserved ones (23456, 64496–64511, 65535–65551, and '429496729' as printed); usable private ASNs are \
            64512–65514 and 65521–65534. 32-bit ASNs are now supported (the 2019 FAQ said 16-bit only). The same ASN \
            on both sides is not allowed.",
        evidence: Evidence::Documented,
        sources: &["S2", "S2c"],
        modelled: "Validation: a local network gateway's ASN may not be one Azure or IANA reserves, nor the \
            gateway's own (default 65515). At run time the gateway's FRR speaker uses its ASN and expects the local \
            network gateway's: a device speaking another ASN is refused (OPEN, Bad Peer AS), and so is an Azure ASN \
            the device does not expect.",
    },
    Rule {
        id: RuleId::BgpApipa,
        topic: BGP,
        statement: "Custom APIPA BGP addresses lie in 169.254.21.0–169.254.22.255 and are used only when the local \
            network gateway's BGP peer IP is APIPA; otherwise Azure peers from its GatewaySubnet address. Azure never \
            initiates BGP from an APIPA address, so with APIPA the on-premises device must initiate. Addresses must \
            not overlap between peers and gateways.",
        evidence: Evidence::Documented,
        sources: &["S23", "S2"],
        modelled: "Validation refuses a custom APIPA address outside 169.254.21.0–169.254.22.255, and an APIPA peer IP \
            on the local network gateway when the gateway has no custom APIPA address. With an APIPA peer the \
            gateway's speaker peers from its APIPA address and is passive (FRR `neighbor … passive`).",
    },
    Rule {
        id: RuleId::BgpPeerAddresses,
        topic: BGP,
        statement: "Azure's BGP peer IP is one GatewaySubnet address (two in active-active), allocated automatically \
            and shown as `bgpPeeringAddress`; Azure initiates BGP from it to the local network gateway's peer IP. The \
            on-premises BGP IP must differ from the device's public IP and from the VNet's address space (a loopback \
            or APIPA address is fine), and the device needs a host route into the tunnel for Azure's BGP IP, with \
            eBGP multihop if needed.",
        evidence: Evidence::Documented,
        sources: &["S2", "S23"],
        modelled: "`bgpSettings.bgpPeeringAddress`, or the last usable address of the VNet's `GatewaySubnet` (the \
            one seed 003's gateway shows), held on the gateway node's loopback; the speaker connects from it \
            (update-source, eBGP multihop: the peer is never on a connected network). Validation refuses an \
            on-premises BGP IP equal to the device's public IP or inside the VNet. Only one instance: the second \
            active-active address is not modelled.",
    },
    Rule {
        id: RuleId::BgpSession,
        topic: BGP,
        statement: "BGP timers are fixed: keepalive 60 s, hold 180 s. BFD is not supported on site-to-site. A peer \
            that sends more than 4,000 prefixes has its session dropped.",
        evidence: Evidence::Documented,
        sources: &["S2", "S25", "S24"],
        modelled: "Timers 60/180 on the gateway's neighbor and `maximum-prefix 4000 restart 1` (the session is dropped \
            with a NOTIFICATION beyond it and tried again a minute later, FRR's shortest; Azure's own interval is not \
            documented). Whether a shorter on-premises hold time \
            is honoured is rule bgp-hold-time.",
    },
    Rule {
        id: RuleId::BgpHoldTime,
        topic: BGP,
        statement: "Azure 'uses fixed timers (60/180) and won't negotiate down' (a Microsoft TechCommunity post); a \
            third-party measurement with a FortiGate reports 60/180 by default, adjustable from the on-premises \
            side. RFC 4271 has both sides use the lower of the two hold times.",
        evidence: Evidence::Conflicting,
        sources: &["S25", "S24"],
        modelled: "Switch `bgpHoldTime`: `negotiate` (default: RFC 4271, the lower hold time wins, as the measured \
            report saw) | `fixed` (the gateway refuses an OPEN with a shorter hold time: FRR `bgp minimum-holdtime \
            180`, a NOTIFICATION, no session; the customers' symptom may differ).",
    },
    Rule {
        id: RuleId::BgpAdvertisements,
        topic: BGP,
        statement: "Azure advertises the VNet's prefixes, each connected local network gateway's prefixes, and routes \
            learned from other BGP peers except the default route and routes overlapping a VNet prefix. On-premises \
            may advertise 0.0.0.0/0, which Azure never re-advertises; exact VNet prefixes are filtered when gateway \
            transit is enabled (supersets pass). AS-path prepending is honoured; `routingWeight` is not used for VPN.",
        evidence: Evidence::Documented,
        sources: &["S2"],
        modelled: "The gateway originates the VNet's prefixes, never advertises 0.0.0.0/0 (an export filter), and \
            refuses prefixes identical to a VNet prefix from the peer (an import filter); a lab has one connection, \
            so routes from other peers are not modelled.",
    },
    Rule {
        id: RuleId::BgpLngAddressSpace,
        topic: BGP,
        statement: "With BGP, the local network gateway's address space may be empty: Azure adds a host route to the \
            peer's BGP IP over the tunnel itself. The 2019 FAQ said to put the peer's /32 in the address space; the \
            2026 FAQ says not to (it is redundant, and an APIPA peer IP cannot be added there), and any other \
            prefixes are installed as static routes in addition to BGP.",
        evidence: Evidence::Documented,
        sources: &["S23", "S2", "S2c"],
        modelled: "With `enableBgp` on the connection the address space may be empty; the gateway routes the \
            peer's BGP IP (/32) into the tunnel itself, and every prefix of the address space stays a static route \
            (`lng-prefixes-static-routes`).",
    },
    Rule {
        id: RuleId::BgpTransit,
        topic: BGP,
        statement: "Several tunnels to one site are allowed but need BGP on both sides, and each counts against the \
            tunnel quota; transit through the gateway needs BGP on every intermediate VNet-to-VNet connection.",
        evidence: Evidence::Documented,
        sources: &["S2"],
        modelled: "Not modelled: a vpnlab gateway has one connection.",
    },
    // ----- MTU and fragmentation -----
    Rule {
        id: RuleId::MssMtu,
        topic: MTU,
        statement: "Microsoft asks the on-premises device to clamp TCP MSS at 1350 or, if it cannot clamp, to set its \
            tunnel interface MTU to 1400.",
        evidence: Evidence::Documented,
        sources: &["S1", "S1b"],
        modelled: "The kernel-libipsec tunnel interface (ipsec0) has MTU 1400, fixed in strongSwan 5.9.8; lowering it \
            works, raising it silently truncates packets (lab notes §10). A DF packet of 1,401 bytes or more gets \
            'Frag needed and DF set (mtu = 1400)' at the sending side's tunnel. vpnlab clamps no MSS on the gateway.",
    },
    Rule {
        id: RuleId::NoFragmentation,
        topic: MTU,
        statement: "IP fragmentation is not supported, neither of ESP packets nor of packets inside the site-to-site \
            tunnel (2026 FAQ).",
        evidence: Evidence::Documented,
        sources: &["S2"],
        modelled: "Not modelled: without DF, the sender's kernel fragments an inner packet before the tunnel interface \
            and the fragments cross the tunnel (lab notes §10), where Azure would not carry them; the outer ESP \
            packets stay below 1,500 bytes (1,472 measured for a 1,400-byte inner packet), so ESP fragments never \
            arise on the lab's links. Dropping inner fragments at the gateway would take an nftables rule on ipsec0, \
            which is not written.",
    },
];

/// The rule behind an id (every id has one: a test checks it).
pub fn rule(id: RuleId) -> &'static Rule {
    RULES.iter().find(|r| r.id == id).expect("every rule id has a rule in the catalogue")
}

pub fn source(id: &str) -> Option<&'static Source> {
    SOURCES.iter().find(|s| s.id == id)
}

impl Rule {
    fn is_modelled(&self) -> bool {
        !self.modelled.starts_with("Not modelled")
    }

    /// The switch a rule names in `modelled` ("Switch `name`…"), if any.
    fn switch(&self) -> Option<&'static str> {
        let modelled: &'static str = self.modelled;
        let rest = &modelled[modelled.find("Switch `")? + "Switch `".len()..];
        Some(&rest[..rest.find('`')?])
    }
}

/// docs/azure-model.md: every rule grouped by topic (statement, evidence, sources with
/// titles/dates/URLs, how modelled), a section "Not modelled, and why", and the source list.
pub fn render_markdown() -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# The simulated Azure VPN Gateway: behaviours, evidence, sources");
    let _ = writeln!(s);
    let _ = writeln!(s, "<!-- Generated by render_markdown() in src/device/azure/rules.rs; do not edit by hand.");
    let _ = writeln!(s, "     Regenerate with: VPNLAB_WRITE_DOCS=1 cargo test --lib device::azure::rules -->");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Every behaviour of vpnlab's simulated Azure VPN Gateway: the fact in Azure's vocabulary, the evidence for \
         it, its sources, and how vpnlab reproduces it with strongSwan and nftables, or why it does not. Source tags \
         ([S1], [S2], …) are those of the reference sheet `shared/reference/azure-vpn-gateway.md`; `seed-000` and \
         `seed-003` are the seed documents and `lab-notes` the strongSwan lab notes. Where sources conflict, the \
         model has a named switch, and the rule says which side is the default."
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "Evidence levels:");
    let _ = writeln!(s);
    for e in Evidence::ALL {
        let _ = writeln!(s, "- **{}**: {}", e.label(), e.meaning());
    }
    let _ = writeln!(s);
    let modelled = RULES.iter().filter(|r| r.is_modelled()).count();
    let _ = writeln!(
        s,
        "{} rules in {} topics; {} modelled, {} not (listed in \"Not modelled, and why\").",
        RULES.len(),
        TOPICS.len(),
        modelled,
        RULES.len() - modelled
    );
    let switches: Vec<&Rule> = RULES.iter().filter(|r| r.switch().is_some()).collect();
    if !switches.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "Switches:");
        let _ = writeln!(s);
        for r in switches {
            let _ = writeln!(s, "- `{}`: rule `{}`, evidence: {}", r.switch().unwrap_or_default(), r.id, r.evidence.label());
        }
    }

    for topic in TOPICS {
        let _ = writeln!(s);
        let _ = writeln!(s, "## {topic}");
        for r in RULES.iter().filter(|r| r.topic == topic) {
            let _ = writeln!(s);
            let _ = writeln!(s, "### `{}`", r.id);
            let _ = writeln!(s);
            let _ = writeln!(s, "{}", r.statement);
            let _ = writeln!(s);
            let _ = writeln!(s, "- **Evidence:** {}", r.evidence.label());
            let _ = writeln!(s, "- **Sources:**");
            for id in r.sources {
                match source(id) {
                    Some(src) => {
                        let _ = writeln!(s, "  - {}", describe(src));
                    }
                    None => {
                        let _ = writeln!(s, "  - [{id}] (missing from the source list)");
                    }
                }
            }
            let _ = writeln!(s, "- **Modelled:** {}", r.modelled);
        }
    }

    let _ = writeln!(s);
    let _ = writeln!(s, "## Not modelled, and why");
    let _ = writeln!(s);
    for topic in TOPICS {
        for r in RULES.iter().filter(|r| r.topic == topic && !r.is_modelled()) {
            let _ = writeln!(s, "- `{}` ({}): {}", r.id, r.topic, r.modelled);
        }
    }

    let _ = writeln!(s);
    let _ = writeln!(s, "## Sources");
    let _ = writeln!(s);
    for src in SOURCES {
        let _ = writeln!(s, "- {}", describe(src));
    }
    s
}

/// "[id] title, date, url" (the url left out where the reference sheet has none).
fn describe(src: &Source) -> String {
    let mut line = format!("[{}] {}, {}", src.id, src.title, src.date);
    if !src.url.is_empty() {
        line.push_str(", ");
        line.push_str(src.url);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::path::PathBuf;

    fn docs_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/azure-model.md")
    }

    /// With VPNLAB_WRITE_DOCS=1, (re)writes docs/azure-model.md from the catalogue.
    fn write_docs_if_asked() -> bool {
        if std::env::var("VPNLAB_WRITE_DOCS").as_deref() != Ok("1") {
            return false;
        }
        let path = docs_path();
        std::fs::create_dir_all(path.parent().expect("docs has a parent")).expect("creating docs/");
        std::fs::write(&path, render_markdown()).expect("writing docs/azure-model.md");
        true
    }

    #[test]
    fn docs_are_current() {
        if write_docs_if_asked() {
            return;
        }
        let rendered = render_markdown();
        let on_disk = std::fs::read_to_string(docs_path()).unwrap_or_default();
        if on_disk != rendered {
            let line = on_disk
                .lines()
                .zip(rendered.lines())
                .position(|(a, b)| a != b)
                .map_or_else(|| on_disk.lines().count().min(rendered.lines().count()) + 1, |i| i + 1);
            panic!(
                "docs/azure-model.md is stale: run VPNLAB_WRITE_DOCS=1 cargo test --lib azure::rules \
                 (first difference at line {line})"
            );
        }
    }

    #[test]
    fn every_rule_source_exists() {
        for r in RULES {
            assert!(!r.sources.is_empty(), "rule {} has no source", r.id);
            for id in r.sources {
                assert!(source(id).is_some(), "rule {} cites [{id}], which is not in SOURCES", r.id);
            }
        }
    }

    #[test]
    fn every_source_is_cited() {
        let cited: HashSet<&str> = RULES.iter().flat_map(|r| r.sources.iter().copied()).collect();
        for s in SOURCES {
            assert!(cited.contains(s.id), "source [{}] is cited by no rule", s.id);
        }
    }

    #[test]
    fn ids_are_unique() {
        let mut seen = HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "rule id {} appears twice", r.id);
        }
        let mut seen = HashSet::new();
        for s in SOURCES {
            assert!(seen.insert(s.id), "source id {} appears twice", s.id);
        }
        for r in RULES {
            let mut cited = HashSet::new();
            for id in r.sources {
                assert!(cited.insert(id), "rule {} cites [{id}] twice", r.id);
            }
        }
    }

    /// Every typed id has exactly one rule, and every rule's id round-trips through its text.
    #[test]
    fn every_id_has_one_rule() {
        for id in RuleId::ALL {
            assert_eq!(RULES.iter().filter(|r| r.id == *id).count(), 1, "rule id {id} has no rule or several");
            assert_eq!(RuleId::parse(id.as_str()), Some(*id));
        }
        assert_eq!(RULES.len(), RuleId::ALL.len());
    }

    #[test]
    fn conflicting_rules_name_their_switch() {
        for r in RULES.iter().filter(|r| r.evidence == Evidence::Conflicting) {
            assert!(r.switch().is_some(), "rule {} is Conflicting but names no switch in `modelled`", r.id);
        }
        let names: Vec<&str> = RULES.iter().filter_map(|r| r.switch()).collect();
        let unique: HashSet<&str> = names.iter().copied().collect();
        assert_eq!(names.len(), unique.len(), "a switch is named by two rules: {names:?}");
        assert_eq!(rule(RuleId::NarrowedSelectors).switch(), Some("narrowedTrafficSelectors"));
        assert_eq!(rule(RuleId::OtherIkeVersionIgnored).switch(), Some("otherIkeVersion"));
    }

    #[test]
    fn rules_are_well_formed() {
        for r in RULES {
            assert!(TOPICS.contains(&r.topic), "rule {} has unknown topic {}", r.id, r.topic);
            assert!(!r.statement.trim().is_empty() && !r.modelled.trim().is_empty(), "rule {} is empty", r.id);
            assert!(!r.statement.contains("  ") && !r.modelled.contains("  "), "rule {} has a double space", r.id);
            assert!(r.id.as_str().chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "rule id {}", r.id);
            // "Not modelled" must lead, so the document lists the rule under "Not modelled, and why".
            assert!(r.modelled.starts_with("Not modelled") || !r.modelled.contains("Not modelled"), "rule {}: 'Not modelled' must start `modelled`", r.id);
        }
        // Rules appear grouped by topic, in the topic order.
        let order: Vec<usize> = RULES.iter().map(|r| TOPICS.iter().position(|t| *t == r.topic).unwrap_or(usize::MAX)).collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "RULES are not grouped in TOPICS order");
        for topic in TOPICS {
            assert!(RULES.iter().any(|r| r.topic == topic), "topic {topic} has no rule");
        }
        for s in SOURCES {
            assert!(!s.title.is_empty() && !s.date.is_empty(), "source {} lacks a title or date", s.id);
        }
    }

    #[test]
    fn evidence_labels() {
        assert_eq!(Evidence::Documented.label(), "documented (Microsoft)");
        assert_eq!(Evidence::Conflicting.label(), "sources conflict (switch)");
        assert_eq!(Evidence::FieldReport.label(), "field report");
        assert_eq!(Evidence::Teaching.label(), "teaching material");
        assert_eq!(Evidence::Measured.label(), "measured (strongSwan lab notes)");
        assert_eq!(Evidence::Unconfirmed.label(), "unconfirmed");
    }

    #[test]
    fn rendering_has_every_rule_and_source() {
        let md = render_markdown();
        for r in RULES {
            assert!(md.contains(&format!("### `{}`", r.id)), "rule {} missing from the document", r.id);
            if !r.is_modelled() {
                assert!(md.contains(&format!("- `{}` ({}): Not modelled", r.id, r.topic)), "rule {} missing from 'Not modelled'", r.id);
            }
        }
        for s in SOURCES {
            assert!(md.contains(&format!("- [{}] {}", s.id, s.title)), "source {} missing from the list", s.id);
        }
        let headings: Vec<&str> = md.lines().filter_map(|l| l.strip_prefix("## ")).collect();
        let mut expected: Vec<&str> = TOPICS.to_vec();
        expected.extend(["Not modelled, and why", "Sources"]);
        assert_eq!(headings, expected);
        assert!(!md.contains("missing from the source list"));
    }

    #[test]
    fn lookups() {
        assert_eq!(rule(RuleId::NatT).topic, TIMERS);
        assert_eq!(RuleId::parse("no-such-rule"), None);
        assert_eq!(source("S15").map(|s| s.date), Some("2021-10"));
        assert!(source("S99").is_none());
        assert_eq!(rule(RuleId::NarrowedSelectors).evidence, Evidence::Conflicting);
        assert_eq!(rule(RuleId::OtherIkeVersionIgnored).evidence, Evidence::Teaching);
        assert_eq!(rule(RuleId::InitiatorSelectorFallback).evidence, Evidence::FieldReport);
        assert!(rule(RuleId::LngFqdnResolution).modelled.contains("every 5 minutes"));
    }
}
