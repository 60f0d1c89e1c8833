//! Why an element of a PAN-OS configuration is not read: the reasons the import report gives
//! for parts of the file vpnlab does not model (a whole `deviceconfig`, an IKE gateway's
//! fragmentation setting), and the nearest keyword for a misspelt one.

use super::schema::{self, Key, Kind};

/// Why a top-level part of the configuration (`set deviceconfig ...`, `<mgt-config>`) is not
/// read.
pub fn why_not_read(root: &str) -> &'static str {
    match root {
        "deviceconfig" => "device settings (hostname, DNS, NTP, management interface): not part of a VPN lab",
        "mgt-config" => "administrator accounts: not part of a VPN lab",
        "import" => "the virtual system's interface imports: the lab runs one virtual system, which holds every interface",
        "application" | "application-group" | "application-filter" | "service" | "service-group" => {
            "App-ID and service objects: the lab's probes are ICMP echo; a rule naming an application or service other than any is reported with the rule"
        }
        "profiles" | "profile-group" => "security profiles (threat, URL, file inspection): inspection is not modelled",
        "log-settings" | "reports" | "report-group" | "email-scheduler" | "pdf-summary-report" => "logging and reporting: not modelled",
        "tag" => "tags: labels only",
        "rulebase nat" | "nat" => "NAT rules: the lab's NAT router does the translation",
        "readonly" => "Panorama's bookkeeping",
        "device-group" | "template" | "template-stack" => {
            "Panorama objects in `set` form are not read; export the configuration as XML (templates and device groups are read from XML)"
        }
        "vsys" => "a virtual system other than vsys1: only vsys1 is read",
        "setting" | "server-profile" | "certificate" | "ssl-tls-service-profile" | "authentication-profile" | "local-user-database" => {
            "device and certificate settings: not part of a VPN lab (vpnlab runs pre-shared keys)"
        }
        _ => "not part of what vpnlab models (IKE and IPsec, interfaces, zones, static routes, BGP, security rules, address objects)",
    }
}

/// Why an element the model reader did not read is not used, by its keyword (and the keyword
/// of its parent where the keyword alone is ambiguous).
pub fn why_unread(tag: &str, path: &str) -> String {
    if path.contains(" protocol bgp") {
        return why_unread_bgp(tag).to_string();
    }
    let why = match tag {
        "comment" | "description" => "a comment",
        "tag" | "group-tag" => "tags: labels only",
        "anti-replay" | "anti-replay-window" => "anti-replay: the lab's ESP (kernel-libipsec) always checks replays",
        "copy-tos" | "copy-flow-label" => "header copying: not modelled",
        "ipsec-mode" => "the mode: the lab runs tunnel mode",
        "enable-gre-encapsulation" => "GRE over IPsec: not modelled",
        "fragmentation" => "IKE fragmentation: charon's default applies",
        "require-cookie" => "IKEv2 cookies: charon sends cookies under load by itself",
        "keep-alive-interval" => "the NAT-T keepalive interval: charon sends keepalives every 20 s, the same as PAN-OS's default",
        "udp-checksum-enable" => "UDP checksums: not modelled",
        "interface-management-profile" => "management access to the firewall: not part of the lab",
        "mtu" => "the interface MTU: the lab's links keep theirs (a TunnelMtu fix names PAN-OS's setting)",
        "adjust-tcp-mss" => "TCP MSS adjustment: not modelled",
        "metric" | "admin-dist" => "route preference: the lab has one route per prefix",
        "route-table" | "bfd" | "path-monitor" => "route options: not modelled",
        "log-start" | "log-end" | "log-setting" => "logging: not modelled",
        "profile-setting" | "option" => "security profiles: inspection is not modelled",
        "source-user" | "source-hip" | "destination-hip" | "category" | "schedule" | "target" | "icmp-unreachable" => {
            "a rule condition the lab cannot meet or test (users, HIP, URL categories, schedules): the rule is modelled without it"
        }
        "zone-protection-profile" | "enable-packet-buffer-protection" | "enable-user-identification" | "enable-device-identification" => {
            "zone protection and identification: not modelled"
        }
        "user-acl" | "device-acl" => "zone access lists: not modelled",
        "link-speed" | "link-duplex" | "link-state" | "lldp" | "netflow-profile" => "link settings: the lab's veth links",
        "ipv6" | "proxy-id-v6" | "ipv6-address" => "IPv6: the lab runs IPv4",
        "ha" | "floating-ip" => "high availability: the lab runs one firewall",
        "protocol" if path.starts_with("network virtual-router") => "dynamic routing other than BGP: not modelled",
        "ospf" | "ospfv3" | "rip" if path.starts_with("network virtual-router") => "OSPF and RIP: the lab runs no routing protocol but BGP",
        "redist-profile-ipv6" => "IPv6 redistribution: the lab runs IPv4",
        "ecmp" | "admin-dists" | "multicast" => "virtual router options: not modelled",
        "dhcp-client" => "DHCP: the lab gives every interface its address",
        "gre" => "GRE tunnels: not modelled",
        _ => return why_not_read(tag).to_string(),
    };
    why.to_string()
}

/// Why a setting of a virtual router's BGP is not read: the lab's speaker is FRR with what
/// `bgp.rs` maps, and FRR's own behaviour where PAN-OS's is not modelled.
fn why_unread_bgp(tag: &str) -> &'static str {
    match tag {
        "comment" | "description" => "a comment",
        "ecmp-multi-as" | "enforce-first-as" => "path selection options: FRR's defaults apply",
        "global-bfd" | "bfd" => "BFD: not modelled (Azure supports no BFD on S2S connections)",
        "routing-options" => "routing options (AS format, MED comparison, graceful restart, default local preference): FRR's defaults apply",
        "auth-profile" => "MD5 authentication profiles: the lab's sessions run without authentication",
        "dampening-profile" | "dampening" => "route flap dampening: not modelled",
        "aggregation" => "route aggregation: not modelled, the aggregate is not originated",
        "conditional-advertisement" => "conditional advertisement: not modelled",
        "aggregated-confed-as-path" | "soft-reset-with-stored-info" => "peer group options: not modelled",
        "import-nexthop" | "export-nexthop" => {
            "next-hop handling: FRR keeps the peer's next hop on import and sets its own towards an eBGP peer (PAN-OS's original and resolve)"
        }
        "remove-private-as" => "removing private AS numbers: not modelled",
        "enable-mp-bgp" | "address-family-identifier" | "subsequent-address-family-identifier" => "multiprotocol BGP: the lab's speaker runs IPv4 unicast",
        "enable-sender-side-loop-detection" | "reflector-client" | "peering-type" => "peer options: not modelled",
        "min-route-adv-interval" | "open-delay-time" | "idle-hold-time" => "connection timers other than keepalive and hold time: FRR's defaults apply",
        "set-origin" | "set-med" | "set-local-preference" | "set-as-path-limit" | "metric" | "set-community" | "set-extended-community" => {
            "path attributes of redistributed routes: not modelled (FRR originates them with origin IGP)"
        }
        _ => "a BGP setting vpnlab does not model: FRR's default applies",
    }
}

/// Every keyword of the schema, once.
fn all_keywords() -> Vec<&'static str> {
    fn collect(keys: &[Key], out: &mut Vec<&'static str>, depth: usize) {
        for (word, kind) in keys {
            if !out.contains(word) {
                out.push(word);
            }
            // The schema is a tree of constants; the depth bound only guards against a
            // mistake in it.
            if depth < 16 {
                match kind {
                    Kind::Container(k) | Kind::Entries(k) => collect(k, out, depth + 1),
                    _ => {}
                }
            }
        }
    }
    let mut out = Vec::new();
    collect(schema::ROOT, &mut out, 0);
    out
}

/// A keyword of the schema within two edits of `word`, for "did you mean".
pub fn closest_keyword(word: &str) -> Option<&'static str> {
    all_keywords().into_iter().map(|k| (distance(word, k), k)).filter(|(d, _)| *d > 0 && *d <= 2).min_by_key(|(d, _)| *d).map(|(_, k)| k)
}

/// Levenshtein distance, for short keywords.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_keyword_gets_a_suggestion() {
        assert_eq!(closest_keyword("peer-adress"), Some("peer-address"));
        assert_eq!(closest_keyword("zzzzzzzz"), None);
        assert!(why_not_read("deviceconfig").starts_with("device settings"));
    }
}
