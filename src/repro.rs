//! `vpnlab repro`: a lab built around a customer's firewall export and Azure exports alone.
//!
//! From the device's own configuration it takes what it says of its network ([`SiteHints`]:
//! its outside address, the identity it sends, the Azure address it talks to, the networks
//! behind it); from the exports the gateway, the local network gateway, the connection and,
//! when given, the VNet. It lays out the topology a support engineer would draw (LAN host,
//! firewall, a NAT router in front of it when its address is private or its identity is not the
//! local network gateway's address, an internet router, the gateway, a VM in the VNet), and
//! writes scenarios that run the tunnel with each side initiating and rekeying. Every guess it
//! makes is a note, never silent. Nothing here touches the system but reading the inputs and
//! writing the lab folder.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use ipnet::Ipv4Net;
use serde_json::Value;

use crate::device::azure::import::{self, ResourceKind};
use crate::device::{DeviceSource, SiteHints};

/// What `repro` starts from.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The firewall's configuration file.
    pub device: PathBuf,
    /// `pan-os` or `pfsense`; detected from the file when not given.
    pub family: Option<String>,
    /// Which tunnel (PAN-OS) or phase 1 (pfSense), when there are several.
    pub select: Option<String>,
    /// The pre-shared key beside the configuration (PAN-OS stores keys encrypted).
    pub psk_file: Option<PathBuf>,
    /// Azure exports: gateway, connection, local network gateway and, optionally, VNet (any
    /// order; a template may hold several).
    pub azure: Vec<PathBuf>,
    /// The lab's name (`repro` when none is given or it is not a valid lab name).
    pub name: Option<String>,
}

/// A generated lab folder, as files relative to it.
#[derive(Debug, Clone)]
pub struct Generated {
    pub name: String,
    pub files: Vec<(PathBuf, Vec<u8>)>,
    /// What was guessed or assumed, for the person reading the result.
    pub notes: Vec<String>,
}

impl Generated {
    /// Writes the lab folder (created if missing; existing files of the same names replaced).
    pub fn write(&self, dir: &Path) -> Result<(), String> {
        for (rel, bytes) in &self.files {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
            }
            std::fs::write(&path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))?;
        }
        Ok(())
    }
}

/// The family of a configuration file, from its content.
pub fn detect_family(text: &str) -> Option<&'static str> {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('<') {
        return Some(if t.contains("<pfsense>") || t.contains("<pfsense ") { "pfsense" } else { "pan-os" });
    }
    t.lines().any(|l| l.trim_start().starts_with("set ")).then_some("pan-os")
}

/// One export's resources: which kinds it holds (a template may hold several).
fn kinds_in(file: &Path) -> Vec<ResourceKind> {
    [ResourceKind::VirtualNetworkGateway, ResourceKind::VirtualNetwork, ResourceKind::LocalNetworkGateway, ResourceKind::Connection]
        .into_iter()
        .filter(|k| import::import(file, *k, None).is_ok())
        .collect()
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(*k)).and_then(Value::as_str)
}

fn prefixes_at(v: &Value, path: &[&str]) -> Vec<Ipv4Net> {
    path.iter()
        .try_fold(v, |v, k| v.get(*k))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).filter_map(|s| s.parse::<Ipv4Net>().ok()).map(|n| n.trunc()).collect())
        .unwrap_or_default()
}

fn private(a: Ipv4Addr) -> bool {
    a.is_private() || a.is_loopback() || a.is_link_local() || a.octets()[0] == 100 && (a.octets()[1] & 0xC0) == 64
}

/// An address for a router beside `host` in `net`: the first usable address, or the last when
/// the host has the first.
fn beside(net: Ipv4Net, host: Ipv4Addr) -> Ipv4Addr {
    let first = Ipv4Addr::from(u32::from(net.network()) + 1);
    if first != host {
        first
    } else {
        Ipv4Addr::from(u32::from(net.broadcast()) - 1)
    }
}

/// A host address in `net` other than the device's own.
fn host_in(net: Ipv4Net, taken: Ipv4Addr, offset: u32) -> Ipv4Addr {
    let base = u32::from(net.network());
    let candidate = Ipv4Addr::from(base + offset);
    if net.contains(&candidate) && candidate != taken && candidate != net.broadcast() {
        candidate
    } else {
        let last = Ipv4Addr::from(u32::from(net.broadcast()) - 1);
        if last != taken {
            last
        } else {
            Ipv4Addr::from(u32::from(net.broadcast()) - 2)
        }
    }
}

/// The subnet a public address gets on the lab's internet router: its /24, or its /30 when
/// the two public addresses share a /24.
fn public_net(a: Ipv4Addr, other: Ipv4Addr) -> Ipv4Net {
    let wide = Ipv4Net::new(a, 24).expect("a /24").trunc();
    if wide.contains(&other) {
        Ipv4Net::new(a, 30).expect("a /30").trunc()
    } else {
        wide
    }
}

fn cidr(a: Ipv4Addr, net: Ipv4Net) -> String {
    format!("{a}/{}", net.prefix_len())
}

/// Builds the lab from the inputs.
pub fn generate(inputs: &Inputs) -> Result<Generated, String> {
    let device_text = std::fs::read_to_string(&inputs.device).map_err(|e| format!("cannot read {}: {e}", inputs.device.display()))?;
    let family = match &inputs.family {
        Some(f) if f == "pan-os" || f == "pfsense" => f.clone(),
        Some(f) => return Err(format!("--device-type `{f}`: vpnlab reads pan-os (a `set` file or XML export) or pfsense (config.xml)")),
        None => detect_family(&device_text)
            .ok_or_else(|| {
                format!(
                    "{} is neither a PAN-OS configuration (`set` lines or XML) nor a pfSense config.xml; name it with --device-type",
                    inputs.device.display()
                )
            })?
            .to_string(),
    };
    let psk = match &inputs.psk_file {
        Some(p) => {
            let t = std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            Some(t.strip_suffix('\n').map(|k| k.strip_suffix('\r').unwrap_or(k)).unwrap_or(&t).to_string())
        }
        None => None,
    };
    if family == "pan-os" && psk.is_none() {
        return Err("a PAN-OS export holds its pre-shared key encrypted: give the key with --psk-file FILE".into());
    }
    // What the configuration says of its network (read without lab interfaces: nothing is mapped).
    let source =
        DeviceSource { file: &inputs.device, text: &device_text, select: inputs.select.as_deref(), psk: psk.as_deref(), interfaces: &[], choices: &[] };
    let device = crate::device::load(&family, &source).map_err(|errors| {
        errors
            .iter()
            .map(|e| {
                format!(
                    "{}{}: {}{}",
                    inputs.device.display(),
                    e.line.map(|l| format!(":{l}")).unwrap_or_default(),
                    if e.element.is_empty() { String::new() } else { format!("{}: ", e.element) },
                    e.message
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let hints: SiteHints = device.site();

    // The Azure exports, by kind.
    let mut found: Vec<(ResourceKind, PathBuf)> = Vec::new();
    for f in &inputs.azure {
        let kinds = kinds_in(f);
        if kinds.is_empty() {
            return Err(format!("{}: not an export of a virtual network gateway, connection, local network gateway or virtual network", f.display()));
        }
        for k in kinds {
            if found.iter().any(|(kk, _)| *kk == k) {
                return Err(format!(
                    "two exports of a {}: {} and {}",
                    k.lab_key(),
                    found.iter().find(|(kk, _)| *kk == k).map(|(_, p)| p.display().to_string()).unwrap_or_default(),
                    f.display()
                ));
            }
            found.push((k, f.clone()));
        }
    }
    let export = |k: ResourceKind| found.iter().find(|(kk, _)| *kk == k).map(|(_, p)| p.clone());
    let need =
        |k: ResourceKind| export(k).ok_or_else(|| format!("no export of the {} among --azure (az network {} show > file.json)", k.lab_key(), cli_noun(k)));
    let (gw_file, conn_file, lng_file) =
        (need(ResourceKind::VirtualNetworkGateway)?, need(ResourceKind::Connection)?, need(ResourceKind::LocalNetworkGateway)?);
    let read = |k: ResourceKind, f: &Path| import::import(f, k, None).map(|i| i.value).map_err(|e| e.to_string());
    let lng = read(ResourceKind::LocalNetworkGateway, &lng_file)?;
    let conn = read(ResourceKind::Connection, &conn_file)?;
    let vnet = match export(ResourceKind::VirtualNetwork) {
        Some(f) => Some(read(ResourceKind::VirtualNetwork, &f)?),
        None => None,
    };
    let mut notes = Vec::new();

    // Addresses.
    let gw_ip = match hints.peer_address {
        Some(a) => a,
        None => {
            notes.push("the firewall's configuration names no peer address; the gateway gets 198.51.100.20".into());
            "198.51.100.20".parse().expect("constant")
        }
    };
    let lng_ip: Ipv4Addr = match str_at(&lng, &["gatewayIpAddress"]).and_then(|s| s.parse().ok()) {
        Some(a) => a,
        None => {
            let a = hints.local_address.map(|n| n.addr()).filter(|a| !private(*a)).unwrap_or_else(|| "203.0.113.10".parse().expect("constant"));
            notes.push(format!("the local network gateway export has no gatewayIpAddress (an FQDN?); the branch's public address is {a}"));
            a
        }
    };
    let lng_prefixes = prefixes_at(&lng, &["localNetworkAddressSpace", "addressPrefixes"]);
    let vnet_prefixes = match &vnet {
        Some(v) => prefixes_at(v, &["addressSpace", "addressPrefixes"]),
        None => {
            let guessed: Vec<Ipv4Net> = device.tunnel_routes();
            if guessed.is_empty() {
                notes.push("no VNet export and no route into the tunnel on the firewall: the VNet is 10.255.0.0/16".into());
                vec!["10.255.0.0/16".parse().expect("constant")]
            } else {
                notes.push(format!(
                    "no VNet export: its address space is taken from the firewall's routes into the tunnel ({})",
                    guessed.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                ));
                guessed
            }
        }
    };
    let vnet_net = *vnet_prefixes.first().ok_or("the VNet export has no address prefix")?;
    let inside = match hints.inside.first() {
        Some(n) => *n,
        None => {
            let n: Ipv4Net = lng_prefixes
                .first()
                .map(|p| Ipv4Net::new(Ipv4Addr::from(u32::from(p.network()) + 1), p.prefix_len()).expect("valid"))
                .unwrap_or_else(|| "10.10.0.1/16".parse().expect("constant"));
            notes.push(format!("the firewall's configuration names no inside network; the LAN is {}", n.trunc()));
            n
        }
    };
    let wan = hints.local_address;
    let behind_nat = match wan {
        Some(w) => private(w.addr()) || hints.local_id.as_deref().is_some_and(|id| id != lng_ip.to_string()) || w.addr() != lng_ip,
        None => true,
    };
    let wan = match (wan, behind_nat) {
        (Some(w), _) => w,
        (None, _) => {
            notes.push("the firewall's configuration gives no outside address; it gets 172.16.0.2/30 behind a NAT router".into());
            "172.16.0.2/30".parse().expect("constant")
        }
    };
    if behind_nat {
        notes.push(format!(
            "the firewall's outside address {} is {}: a NAT router in front of it has the local network gateway's address {lng_ip}",
            wan,
            if private(wan.addr()) { "private" } else { "not the local network gateway's address" }
        ));
    }

    // Layout.
    let on_prem_public = public_net(lng_ip, gw_ip);
    let azure_public = public_net(gw_ip, lng_ip);
    let internet_onprem = beside(on_prem_public, lng_ip);
    let internet_azure = beside(azure_public, gw_ip);
    let lan_host = host_in(inside.trunc(), inside.addr(), 5);
    let vm = host_in(vnet_net, Ipv4Addr::from(u32::from(vnet_net.network()) + 1), 4);
    let gw_vnet = Ipv4Addr::from(u32::from(vnet_net.network()) + 1);
    let wan_net = wan.trunc();
    let nat_lan = beside(wan_net, wan.addr());
    let config_name = inputs.device.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "config".into());
    let valid = |n: &str| {
        !n.is_empty()
            && n.len() <= 32
            && n.starts_with(|c: char| c.is_ascii_lowercase())
            && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    let name = inputs.name.clone().filter(|n| valid(n)).unwrap_or_else(|| "repro".to_string());

    let mut lab = String::new();
    let _ = writeln!(lab, "name: {name}");
    let _ = writeln!(lab, "description: >\n  The customer's {family} firewall and Azure connection, as exported, in a sealed lab.\n");
    let _ = writeln!(lab, "nodes:");
    let _ = writeln!(lab, "  lan-pc:\n    kind: host\n    interfaces:\n      eth0: {}\n    gateway: {}\n", cidr(lan_host, inside), inside.addr());
    let _ = writeln!(lab, "  firewall:\n    kind: dut\n    device: {family}\n    config: dut/{config_name}");
    if let Some(s) = &inputs.select {
        let key = if family == "pfsense" { "phase1" } else { "tunnel" };
        let _ = writeln!(lab, "    {key}: {s}");
    }
    if psk.is_some() && family == "pan-os" {
        let _ = writeln!(lab, "    psk_file: dut/psk.txt");
    }
    let fw_gateway = if behind_nat { nat_lan } else { internet_onprem };
    let _ = writeln!(
        lab,
        "    interfaces:\n      lan: {inside}\n      wan: {}\n    gateway: {fw_gateway}\n",
        if behind_nat { wan.to_string() } else { cidr(lng_ip, on_prem_public) }
    );
    if behind_nat {
        let _ = writeln!(
            lab,
            "  branch-nat:\n    kind: nat-router\n    interfaces:\n      lan: {}\n      wan: {}\n    gateway: {internet_onprem}\n    nat:\n      masquerade: wan\n",
            cidr(nat_lan, wan_net),
            cidr(lng_ip, on_prem_public)
        );
    }
    let _ = writeln!(
        lab,
        "  internet:\n    kind: router\n    interfaces:\n      onprem: {}\n      azure: {}\n",
        cidr(internet_onprem, on_prem_public),
        cidr(internet_azure, azure_public)
    );
    let _ = writeln!(
        lab,
        "  azure-gw:\n    kind: azure-gateway\n    interfaces:\n      wan: {}\n      vnet: {}\n    gateway: {internet_azure}",
        cidr(gw_ip, azure_public),
        cidr(gw_vnet, vnet_net)
    );
    let _ = writeln!(lab, "    azure:");
    let _ = writeln!(lab, "      virtualNetworkGateway:\n        import: exports/{}\n        publicIpAddress: {gw_ip}", file_name(&gw_file));
    match export(ResourceKind::VirtualNetwork) {
        Some(f) => {
            let _ = writeln!(lab, "      virtualNetwork:\n        import: exports/{}", file_name(&f));
        }
        None => {
            let list: Vec<String> = vnet_prefixes.iter().map(ToString::to_string).collect();
            let _ = writeln!(lab, "      virtualNetwork:\n        name: vnet\n        addressSpace:\n          addressPrefixes: [{}]", list.join(", "));
        }
    }
    let _ = writeln!(lab, "      localNetworkGateway:\n        import: exports/{}", file_name(&lng_file));
    if str_at(&lng, &["gatewayIpAddress"]).is_none() {
        let _ = writeln!(lab, "        gatewayIpAddress: {lng_ip}");
    }
    let _ = writeln!(lab, "      connection:\n        import: exports/{}", file_name(&conn_file));
    if str_at(&conn, &["sharedKey"]).is_none() {
        match &psk {
            Some(k) => {
                notes.push("the connection export has no sharedKey (az network vpn-connection shared-key show holds it): the firewall's key is assumed; edit it in the saved lab to test a mismatch".into());
                let _ = writeln!(lab, "        sharedKey: {}", yaml_string(k));
            }
            None => return Err("the connection export has no sharedKey, and the firewall's key is unknown: give it with --psk-file".into()),
        }
    }
    let _ = writeln!(lab, "\n  azure-vm:\n    kind: host\n    interfaces:\n      eth0: {}\n    gateway: {gw_vnet}\n", cidr(vm, vnet_net));
    let _ = writeln!(lab, "links:");
    let _ = writeln!(lab, "  - endpoints: [lan-pc:eth0, firewall:lan]");
    if behind_nat {
        let _ = writeln!(lab, "  - endpoints: [firewall:wan, branch-nat:lan]");
        let _ = writeln!(lab, "  - endpoints: [branch-nat:wan, internet:onprem]");
    } else {
        let _ = writeln!(lab, "  - endpoints: [firewall:wan, internet:onprem]");
    }
    let _ = writeln!(lab, "  - endpoints: [internet:azure, azure-gw:wan]");
    let _ = writeln!(lab, "  - endpoints: [azure-gw:vnet, azure-vm:eth0]\n");
    let _ = writeln!(lab, "run:\n  initiator: firewall\n  probes:\n    - ping: {{ from: lan-pc, to: {vm} }}\n    - ping: {{ from: azure-vm, to: {lan_host} }}");

    // The notes head the lab file, so whoever opens the saved lab reads what was guessed.
    let mut head = format!("# Built by `vpnlab repro` from {} and the Azure exports.\n", file_name(&inputs.device));
    for n in &notes {
        let _ = writeln!(head, "# note: {n}");
    }
    let mut files: Vec<(PathBuf, Vec<u8>)> =
        vec![(PathBuf::from("lab.yaml"), (head + &lab).into_bytes()), (PathBuf::from("dut").join(&config_name), device_text.clone().into_bytes())];
    if let (Some(k), "pan-os") = (&psk, family.as_str()) {
        files.push((PathBuf::from("dut/psk.txt"), format!("{k}\n").into_bytes()));
    }
    for f in [Some(gw_file.clone()), Some(conn_file.clone()), Some(lng_file.clone()), export(ResourceKind::VirtualNetwork)].into_iter().flatten() {
        let rel = PathBuf::from("exports").join(file_name(&f));
        if !files.iter().any(|(p, _)| *p == rel) {
            let bytes = std::fs::read(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
            files.push((rel, bytes));
        }
    }
    let device_may_start = device.initiation().may_initiate();
    let azure_may_start = str_at(&conn, &["connectionMode"]) != Some("ResponderOnly");
    for (file, text) in scenarios(device_may_start, azure_may_start, behind_nat, wan.addr(), lan_host, vm, &mut notes) {
        files.push((PathBuf::from("scenarios").join(file), text.into_bytes()));
    }
    Ok(Generated { name, files, notes })
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default()
}

fn cli_noun(k: ResourceKind) -> &'static str {
    match k {
        ResourceKind::VirtualNetworkGateway => "vnet-gateway",
        ResourceKind::VirtualNetwork => "vnet",
        ResourceKind::LocalNetworkGateway => "local-gateway",
        ResourceKind::Connection => "vpn-connection",
    }
}

/// A YAML double-quoted string (keys can hold `#`, `:` or spaces).
fn yaml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The three runs of a repro: the firewall starts the tunnel, Azure starts it (through port
/// forwards when the firewall sits behind NAT), and each side rekeys the CHILD SA. Each expects
/// the healthy outcome, so whatever the ticket is fails with its diagnosis.
fn scenarios(
    device_may_start: bool,
    azure_may_start: bool,
    behind_nat: bool,
    fw_wan: Ipv4Addr,
    lan_host: Ipv4Addr,
    vm: Ipv4Addr,
    notes: &mut Vec<String>,
) -> Vec<(String, String)> {
    let expect = format!(
        "expect:\n  phase1: {{ outcome: up }}\n  phase2: {{ outcome: up }}\n  ping:\n    - {{ from: lan-pc, to: {vm}, succeeds: true }}\n    - {{ from: azure-vm, to: {lan_host}, succeeds: true }}\n"
    );
    let forwards = if behind_nat {
        format!("add:\n  nodes:\n    branch-nat:\n      nat:\n        port_forwards:\n          - {{ protocol: udp, port: 500, to: {fw_wan} }}\n          - {{ protocol: udp, port: 4500, to: {fw_wan} }}\n")
    } else {
        String::new()
    };
    let mut out = Vec::new();
    if device_may_start {
        out.push(("firewall-initiates.yaml".to_string(), format!("title: The firewall starts the tunnel\n{expect}")));
    } else {
        notes.push("the firewall never initiates (passive): no run where it starts the tunnel".into());
    }
    if azure_may_start {
        out.push(("azure-initiates.yaml".to_string(), format!("title: Azure starts the tunnel\ninitiator: azure-gw\n{forwards}{expect}")));
    } else {
        notes.push("the connection is ResponderOnly: no run where Azure starts the tunnel".into());
    }
    // Both sides rekey the CHILD SA at once, each with its own offer (Azure's rekeys carry no
    // PFS with the Default policy; a firewall's carry its PFS group): a rekey ticket shows
    // whichever side's clock would start it in production, in milliseconds instead of hours.
    let initiator = if device_may_start { "firewall" } else { "azure-gw" };
    let rekey_forwards = if initiator == "azure-gw" { forwards.as_str() } else { "" };
    out.push((
        "rekey.yaml".to_string(),
        format!(
            "title: Each side rekeys the CHILD SA with its own offer\ninitiator: {initiator}\n{rekey_forwards}steps:\n  - rekey: {{ node: azure-gw }}\n  - rekey: {{ node: firewall }}\n{expect}  rekey: {{ succeeds: true }}\n"
        ),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_from_content() {
        assert_eq!(detect_family("set network ike gateway gw protocol version ikev2\n"), Some("pan-os"));
        assert_eq!(detect_family("<?xml version=\"1.0\"?>\n<config version=\"10.1.0\"><devices/></config>"), Some("pan-os"));
        assert_eq!(detect_family("<?xml version=\"1.0\"?>\n<pfsense><version>23.3</version></pfsense>"), Some("pfsense"));
        assert_eq!(detect_family("hello"), None);
    }

    #[test]
    fn addresses_beside_each_other() {
        let net: Ipv4Net = "203.0.113.0/24".parse().unwrap();
        assert_eq!(beside(net, "203.0.113.10".parse().unwrap()), "203.0.113.1".parse::<Ipv4Addr>().unwrap());
        assert_eq!(beside(net, "203.0.113.1".parse().unwrap()), "203.0.113.254".parse::<Ipv4Addr>().unwrap());
        assert_eq!(public_net("198.51.100.20".parse().unwrap(), "198.51.100.30".parse().unwrap()), "198.51.100.20/30".parse::<Ipv4Net>().unwrap().trunc());
        assert_eq!(host_in("10.10.0.0/16".parse().unwrap(), "10.10.0.1".parse().unwrap(), 5), "10.10.0.5".parse::<Ipv4Addr>().unwrap());
        assert!(private("172.16.0.2".parse().unwrap()) && !private("203.0.113.10".parse().unwrap()));
    }

    #[test]
    fn keys_are_quoted_for_yaml() {
        assert_eq!(yaml_string("S2s#Vpn: \"x\""), "\"S2s#Vpn: \\\"x\\\"\"");
    }
}
