//! The part of PAN-OS's configuration schema the `set` reader needs: for each keyword, whether
//! it opens a container, names an entry of a list, takes one value, a member list, or nothing.
//!
//! A `set` line is only readable with the schema: `set network ike gateway gw protocol ikev2 dpd
//! enable yes` says where the path ends and the values begin only if one knows that `gateway`
//! takes a name, `ikev2` and `dpd` are containers and `enable` takes a value. PAN-OS's CLI is
//! generated from the XML schema the same way (pan-os-ipsec.md, "How the CLI relates to the
//! XML"). Keywords are those of pan-os-codegen's specs and pan-os-python ([P3] [P4]); the
//! schema covers what vpnlab reads plus common siblings, so that a line goes on after them. A
//! keyword not listed here stops the reading of its line, and the rest is reported as ignored.

/// What a keyword is.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A container element: the keywords below it.
    Container(&'static [Key]),
    /// A list of `<entry name=...>`: the next word is the entry's name, then its keywords.
    Entries(&'static [Key]),
    /// A list of entries without content (`auto-key ike-gateway gw`, `layer3 ip 10.0.0.1/24`):
    /// one name or `[ a b ]`.
    Names,
    /// One value.
    Leaf,
    /// One value that is a key: never printed.
    Secret,
    /// A `<member>` list: one value or `[ a b ]`; `set` appends.
    Members,
    /// An element without a value (`peer-address dynamic`, `protocol any`).
    Flag,
}

pub type Key = (&'static str, Kind);

use Kind::{Container, Entries, Flag, Leaf, Members, Names, Secret};

/// Keywords a `set` command may start with (after an optional `vsys vsys1`).
pub const ROOT: &[Key] = &[
    ("network", Container(NETWORK)),
    ("zone", Entries(ZONE)),
    ("rulebase", Container(RULEBASE)),
    ("pre-rulebase", Container(RULEBASE)),
    ("post-rulebase", Container(RULEBASE)),
    ("address", Entries(ADDRESS)),
    ("address-group", Entries(ADDRESS_GROUP)),
    ("shared", Container(SHARED)),
];

const SHARED: &[Key] =
    &[("address", Entries(ADDRESS)), ("address-group", Entries(ADDRESS_GROUP)), ("pre-rulebase", Container(RULEBASE)), ("post-rulebase", Container(RULEBASE))];

const NETWORK: &[Key] = &[
    ("interface", Container(INTERFACE)),
    ("ike", Container(IKE)),
    ("tunnel", Container(TUNNEL)),
    ("virtual-router", Entries(VIRTUAL_ROUTER)),
    ("profiles", Container(NETWORK_PROFILES)),
];

const INTERFACE: &[Key] = &[
    ("ethernet", Entries(ETHERNET)),
    ("aggregate-ethernet", Entries(ETHERNET)),
    ("tunnel", Container(&[("units", Entries(UNIT))])),
    ("loopback", Container(&[("units", Entries(UNIT))])),
    ("vlan", Container(&[("units", Entries(UNIT))])),
];

const ETHERNET: &[Key] = &[
    ("layer3", Container(LAYER3)),
    ("layer2", Container(&[])),
    ("virtual-wire", Container(&[])),
    ("tap", Container(&[])),
    ("ha", Container(&[])),
    ("comment", Leaf),
    ("link-speed", Leaf),
    ("link-duplex", Leaf),
    ("link-state", Leaf),
    ("aggregate-group", Leaf),
];

const LAYER3: &[Key] = &[
    ("ip", Names),
    ("units", Entries(UNIT)),
    ("mtu", Leaf),
    ("interface-management-profile", Leaf),
    ("adjust-tcp-mss", Container(ADJUST_TCP_MSS)),
    ("dhcp-client", Container(DHCP_CLIENT)),
    ("netflow-profile", Leaf),
    ("untagged-sub-interface", Leaf),
    ("ipv6", Container(&[("enabled", Leaf)])),
    ("lldp", Container(&[("enable", Leaf), ("profile", Leaf)])),
];

/// A layer-3 subinterface (`ethernet1/1.10`) or a tunnel, loopback or VLAN unit.
const UNIT: &[Key] = &[
    ("ip", Names),
    ("tag", Leaf),
    ("mtu", Leaf),
    ("comment", Leaf),
    ("interface-management-profile", Leaf),
    ("adjust-tcp-mss", Container(ADJUST_TCP_MSS)),
    ("dhcp-client", Container(DHCP_CLIENT)),
    ("netflow-profile", Leaf),
    ("ipv6", Container(&[("enabled", Leaf)])),
];

const ADJUST_TCP_MSS: &[Key] = &[("enable", Leaf), ("ipv4-mss-adjustment", Leaf), ("ipv6-mss-adjustment", Leaf)];

const DHCP_CLIENT: &[Key] =
    &[("enable", Leaf), ("create-default-route", Leaf), ("default-route-metric", Leaf), ("send-hostname", Container(&[("enable", Leaf), ("hostname", Leaf)]))];

const IKE: &[Key] = &[
    ("crypto-profiles", Container(&[("ike-crypto-profiles", Entries(IKE_CRYPTO)), ("ipsec-crypto-profiles", Entries(IPSEC_CRYPTO))])),
    ("gateway", Entries(GATEWAY)),
];

const LIFETIME: &[Key] = &[("seconds", Leaf), ("minutes", Leaf), ("hours", Leaf), ("days", Leaf)];

const IKE_CRYPTO: &[Key] =
    &[("encryption", Members), ("hash", Members), ("dh-group", Members), ("lifetime", Container(LIFETIME)), ("authentication-multiple", Leaf)];

const IPSEC_CRYPTO: &[Key] = &[
    ("esp", Container(&[("encryption", Members), ("authentication", Members)])),
    ("ah", Container(&[("authentication", Members)])),
    ("dh-group", Leaf),
    ("lifetime", Container(LIFETIME)),
    ("lifesize", Container(&[("kb", Leaf), ("mb", Leaf), ("gb", Leaf), ("tb", Leaf)])),
];

const DPD: &[Key] = &[("enable", Leaf), ("interval", Leaf), ("retry", Leaf)];

const GATEWAY: &[Key] = &[
    ("authentication", Container(&[("pre-shared-key", Container(&[("key", Secret)])), ("certificate", Container(&[]))])),
    (
        "protocol",
        Container(&[
            ("version", Leaf),
            ("ikev1", Container(&[("ike-crypto-profile", Leaf), ("exchange-mode", Leaf), ("dpd", Container(DPD))])),
            ("ikev2", Container(&[("ike-crypto-profile", Leaf), ("dpd", Container(DPD)), ("require-cookie", Leaf)])),
        ]),
    ),
    (
        "protocol-common",
        Container(&[
            ("nat-traversal", Container(&[("enable", Leaf), ("keep-alive-interval", Leaf), ("udp-checksum-enable", Leaf)])),
            ("fragmentation", Container(&[("enable", Leaf)])),
            ("passive-mode", Leaf),
        ]),
    ),
    ("local-address", Container(&[("interface", Leaf), ("ip", Leaf), ("floating-ip", Leaf)])),
    ("peer-address", Container(&[("ip", Leaf), ("fqdn", Leaf), ("dynamic", Flag)])),
    ("local-id", Container(&[("type", Leaf), ("id", Leaf)])),
    ("peer-id", Container(&[("type", Leaf), ("id", Leaf), ("matching", Leaf)])),
    ("disabled", Leaf),
    ("comment", Leaf),
    ("ipv6", Leaf),
];

const TUNNEL: &[Key] = &[("ipsec", Entries(IPSEC_TUNNEL)), ("gre", Entries(&[]))];

const PORTS: &[Key] = &[("local-port", Leaf), ("remote-port", Leaf)];

const PROXY_ID: &[Key] =
    &[("local", Leaf), ("remote", Leaf), ("protocol", Container(&[("any", Flag), ("number", Leaf), ("tcp", Container(PORTS)), ("udp", Container(PORTS))]))];

const IPSEC_TUNNEL: &[Key] = &[
    ("tunnel-interface", Leaf),
    ("auto-key", Container(&[("ike-gateway", Names), ("ipsec-crypto-profile", Leaf), ("proxy-id", Entries(PROXY_ID)), ("proxy-id-v6", Entries(PROXY_ID))])),
    ("manual-key", Container(&[])),
    ("global-protect-satellite", Container(&[])),
    ("tunnel-monitor", Container(&[("enable", Leaf), ("destination-ip", Leaf), ("proxy-id", Leaf), ("tunnel-monitor-profile", Leaf)])),
    ("anti-replay", Leaf),
    ("anti-replay-window", Leaf),
    ("copy-tos", Leaf),
    ("copy-flow-label", Leaf),
    ("ipsec-mode", Leaf),
    ("enable-gre-encapsulation", Leaf),
    ("disabled", Leaf),
    ("comment", Leaf),
    ("ipv6", Leaf),
];

const NEXTHOP: &[Key] = &[("ip-address", Leaf), ("next-vr", Leaf), ("fqdn", Leaf), ("ipv6-address", Leaf), ("discard", Flag), ("receive", Flag)];

const STATIC_ROUTE: &[Key] = &[
    ("destination", Leaf),
    ("interface", Leaf),
    ("nexthop", Container(NEXTHOP)),
    ("metric", Leaf),
    ("admin-dist", Leaf),
    ("route-table", Container(&[("unicast", Flag), ("multicast", Flag), ("both", Flag), ("no-install", Flag)])),
    ("bfd", Container(&[("profile", Leaf)])),
    ("path-monitor", Container(&[])),
];

const VIRTUAL_ROUTER: &[Key] = &[
    ("interface", Members),
    ("routing-table", Container(&[("ip", Container(&[("static-route", Entries(STATIC_ROUTE))])), ("ipv6", Container(&[]))])),
    ("protocol", Container(VR_PROTOCOL)),
    ("ecmp", Container(&[])),
    ("admin-dists", Container(&[])),
    ("multicast", Container(&[])),
];

/// A virtual router's routing protocols. BGP is read (`bgp.rs`); the others are containers
/// only, so that their lines are reported as a protocol the lab does not run.
const VR_PROTOCOL: &[Key] = &[
    ("bgp", Container(BGP)),
    ("redist-profile", Entries(REDIST_PROFILE)),
    ("redist-profile-ipv6", Entries(REDIST_PROFILE)),
    ("ospf", Container(&[])),
    ("ospfv3", Container(&[])),
    ("rip", Container(&[])),
];

// The legacy virtual router's BGP, as pan-os-codegen's `specs/network/virtual-router.yaml`
// [P3] and pan-os-python's `Bgp*` classes [P4] name it.
const BGP: &[Key] = &[
    ("enable", Leaf),
    ("router-id", Leaf),
    ("local-as", Leaf),
    ("install-route", Leaf),
    ("reject-default-route", Leaf),
    ("allow-redist-default-route", Leaf),
    ("ecmp-multi-as", Leaf),
    ("enforce-first-as", Leaf),
    ("global-bfd", Container(&[("profile", Leaf)])),
    ("routing-options", Container(BGP_ROUTING_OPTIONS)),
    ("auth-profile", Entries(&[("secret", Secret)])),
    (
        "dampening-profile",
        Entries(&[
            ("enable", Leaf),
            ("cutoff", Leaf),
            ("reuse", Leaf),
            ("max-hold-time", Leaf),
            ("decay-half-life-reachable", Leaf),
            ("decay-half-life-unreachable", Leaf),
        ]),
    ),
    ("peer-group", Entries(BGP_PEER_GROUP)),
    ("policy", Container(BGP_POLICY)),
    ("redist-rules", Entries(BGP_REDIST_RULE)),
];

const BGP_ROUTING_OPTIONS: &[Key] = &[
    ("as-format", Leaf),
    ("default-local-preference", Leaf),
    ("confederation-member-as", Leaf),
    ("reflector-cluster-id", Leaf),
    ("aggregate", Container(&[("aggregate-med", Leaf)])),
    ("med", Container(&[("always-compare-med", Leaf), ("deterministic-med-comparison", Leaf)])),
    ("graceful-restart", Container(&[("enable", Leaf), ("local-restart-time", Leaf), ("max-peer-restart-time", Leaf), ("stale-route-time", Leaf)])),
];

const NEXTHOP_EXPORT: &[Key] = &[("export-nexthop", Leaf)];

const BGP_PEER_GROUP: &[Key] = &[
    ("enable", Leaf),
    ("aggregated-confed-as-path", Leaf),
    ("soft-reset-with-stored-info", Leaf),
    (
        "type",
        Container(&[
            ("ibgp", Container(NEXTHOP_EXPORT)),
            ("ebgp-confed", Container(NEXTHOP_EXPORT)),
            ("ibgp-confed", Container(NEXTHOP_EXPORT)),
            ("ebgp", Container(&[("import-nexthop", Leaf), ("export-nexthop", Leaf), ("remove-private-as", Leaf)])),
        ]),
    ),
    ("peer", Entries(BGP_PEER)),
];

const BGP_PEER: &[Key] = &[
    ("enable", Leaf),
    ("peer-as", Leaf),
    ("enable-mp-bgp", Leaf),
    ("address-family-identifier", Leaf),
    ("subsequent-address-family-identifier", Container(&[("unicast", Leaf), ("multicast", Leaf)])),
    ("enable-sender-side-loop-detection", Leaf),
    ("reflector-client", Leaf),
    ("peering-type", Leaf),
    ("max-prefixes", Leaf),
    ("local-address", Container(&[("interface", Leaf), ("ip", Leaf)])),
    ("peer-address", Container(&[("ip", Leaf), ("fqdn", Leaf)])),
    ("connection-options", Container(BGP_CONNECTION)),
    ("bfd", Container(&[("profile", Leaf)])),
];

const BGP_CONNECTION: &[Key] = &[
    ("authentication", Leaf),
    ("keep-alive-interval", Leaf),
    ("min-route-adv-interval", Leaf),
    ("multihop", Leaf),
    ("open-delay-time", Leaf),
    ("hold-time", Leaf),
    ("idle-hold-time", Leaf),
    ("incoming-bgp-connection", Container(&[("remote-port", Leaf), ("allow", Leaf)])),
    ("outgoing-bgp-connection", Container(&[("local-port", Leaf), ("allow", Leaf)])),
];

const BGP_POLICY: &[Key] = &[
    ("import", Container(&[("rules", Entries(BGP_POLICY_RULE))])),
    ("export", Container(&[("rules", Entries(BGP_POLICY_RULE))])),
    ("aggregation", Container(&[])),
    ("conditional-advertisement", Container(&[])),
];

const REGEX: &[Key] = &[("regex", Leaf)];

const BGP_POLICY_RULE: &[Key] = &[
    ("enable", Leaf),
    ("used-by", Members),
    (
        "match",
        Container(&[
            ("route-table", Leaf),
            ("med", Leaf),
            ("address-prefix", Entries(&[("exact", Leaf)])),
            ("nexthop", Members),
            ("from-peer", Members),
            ("as-path", Container(REGEX)),
            ("community", Container(REGEX)),
            ("extended-community", Container(REGEX)),
        ]),
    ),
    ("action", Container(&[("allow", Container(&[("dampening", Leaf), ("update", Container(BGP_UPDATE))])), ("deny", Flag)])),
];

const COMMUNITY_UPDATE: &[Key] = &[("none", Flag), ("remove-all", Flag), ("remove-regex", Leaf), ("append", Members), ("overwrite", Members)];

const BGP_UPDATE: &[Key] = &[
    ("local-preference", Leaf),
    ("med", Leaf),
    ("weight", Leaf),
    ("nexthop", Leaf),
    ("origin", Leaf),
    ("as-path-limit", Leaf),
    ("as-path", Container(&[("none", Flag), ("remove", Flag), ("prepend", Leaf), ("remove-and-prepend", Leaf)])),
    ("community", Container(COMMUNITY_UPDATE)),
    ("extended-community", Container(COMMUNITY_UPDATE)),
];

const BGP_REDIST_RULE: &[Key] = &[
    ("address-family-identifier", Leaf),
    ("route-table", Leaf),
    ("enable", Leaf),
    ("set-origin", Leaf),
    ("set-med", Leaf),
    ("set-local-preference", Leaf),
    ("set-as-path-limit", Leaf),
    ("metric", Leaf),
    ("set-community", Members),
    ("set-extended-community", Members),
];

const REDIST_PROFILE: &[Key] = &[
    ("priority", Leaf),
    (
        "filter",
        Container(&[
            ("type", Members),
            ("interface", Members),
            ("destination", Members),
            ("nexthop", Members),
            ("ospf", Container(&[("path-type", Members), ("area", Members), ("tag", Members)])),
            ("bgp", Container(&[("community", Members), ("extended-community", Members)])),
        ]),
    ),
    ("action", Container(&[("no-redist", Flag), ("redist", Flag)])),
];

const NETWORK_PROFILES: &[Key] = &[("monitor-profile", Entries(&[("interval", Leaf), ("threshold", Leaf), ("action", Leaf)]))];

const ZONE: &[Key] = &[
    (
        "network",
        Container(&[
            ("layer3", Members),
            ("layer2", Members),
            ("virtual-wire", Members),
            ("tap", Members),
            ("external", Members),
            ("tunnel", Container(&[])),
            ("zone-protection-profile", Leaf),
            ("enable-packet-buffer-protection", Leaf),
            ("log-setting", Leaf),
        ]),
    ),
    ("enable-user-identification", Leaf),
    ("enable-device-identification", Leaf),
    ("user-acl", Container(&[("include-list", Members), ("exclude-list", Members)])),
    ("device-acl", Container(&[("include-list", Members), ("exclude-list", Members)])),
];

const RULEBASE: &[Key] =
    &[("security", Container(&[("rules", Entries(SECURITY_RULE))])), ("default-security-rules", Container(&[("rules", Entries(DEFAULT_RULE))]))];

const PROFILE_SETTING: &[Key] = &[("group", Members), ("profiles", Container(&[]))];

const SECURITY_RULE: &[Key] = &[
    ("from", Members),
    ("to", Members),
    ("source", Members),
    ("destination", Members),
    ("source-user", Members),
    ("category", Members),
    ("application", Members),
    ("service", Members),
    ("source-hip", Members),
    ("destination-hip", Members),
    ("tag", Members),
    ("action", Leaf),
    ("disabled", Leaf),
    ("rule-type", Leaf),
    ("description", Leaf),
    ("negate-source", Leaf),
    ("negate-destination", Leaf),
    ("log-start", Leaf),
    ("log-end", Leaf),
    ("log-setting", Leaf),
    ("schedule", Leaf),
    ("icmp-unreachable", Leaf),
    ("group-tag", Leaf),
    ("profile-setting", Container(PROFILE_SETTING)),
    ("option", Container(&[("disable-server-response-inspection", Leaf)])),
    ("target", Container(&[])),
];

const DEFAULT_RULE: &[Key] =
    &[("action", Leaf), ("log-start", Leaf), ("log-end", Leaf), ("log-setting", Leaf), ("profile-setting", Container(PROFILE_SETTING))];

const ADDRESS: &[Key] = &[("ip-netmask", Leaf), ("ip-range", Leaf), ("ip-wildcard", Leaf), ("fqdn", Leaf), ("description", Leaf), ("tag", Members)];

const ADDRESS_GROUP: &[Key] = &[("static", Members), ("dynamic", Container(&[("filter", Leaf)])), ("description", Leaf), ("tag", Members)];

/// The kind of `word` among `keys`.
pub fn find(keys: &[Key], word: &str) -> Option<Kind> {
    keys.iter().find(|(k, _)| *k == word).map(|(_, kind)| *kind)
}

/// Keywords that are alternatives of one choice: setting one replaces the others, as in PAN-OS
/// (`peer-address dynamic` after `peer-address ip`), keyed by their parent's keyword.
const CHOICES: &[(&str, &[&str])] = &[
    ("peer-address", &["ip", "fqdn", "dynamic"]),
    ("local-address", &["ip", "floating-ip"]),
    ("lifetime", &["seconds", "minutes", "hours", "days"]),
    ("lifesize", &["kb", "mb", "gb", "tb"]),
    ("nexthop", &["ip-address", "next-vr", "fqdn", "ipv6-address", "discard", "receive"]),
    ("protocol", &["any", "number", "tcp", "udp"]),
    // A BGP peer group's type, a policy rule's action, a redistribution profile's action.
    ("type", &["ibgp", "ebgp", "ebgp-confed", "ibgp-confed"]),
    ("action", &["allow", "deny", "redist", "no-redist"]),
];

/// The other alternatives of `tag` under `parent`, if `tag` is one of a choice.
pub fn alternatives(parent: &str, tag: &str) -> Vec<&'static str> {
    CHOICES.iter().filter(|(p, list)| *p == parent && list.contains(&tag)).flat_map(|(_, list)| list.iter().copied().filter(|t| *t != tag)).collect()
}
