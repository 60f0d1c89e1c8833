//! Packet filters as nftables rulesets: the NAT router's, and the filters an IPsec node's
//! intent asks for in front of its daemon (which peers it hears, an IKE version it ignores) and
//! behind its tunnel (pass rules for traffic from the tunnel). Rendered as text and applied
//! atomically inside the node's namespace with `nft -f -` (one transaction, readable in
//! artifacts, snapshot-tested). Chain and table names avoid nft's reserved words (`fwd`, `dnat`).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use anyhow::{bail, Context, Result};

use super::Backend;
use crate::ike::intent::{Action, ForwardPolicy, IkeVersion, IpsecIntent, Port};
use crate::model::Nat;
use crate::wait::within;

pub const NFT: &str = "/usr/sbin/nft";

/// Renders the ruleset of a NAT router.
pub fn render(nat: &Nat) -> String {
    let wan = &nat.masquerade;
    let mut s = String::new();
    let _ = writeln!(s, "table ip vpnlab {{");
    let _ = writeln!(s, "\tchain prerouting {{");
    let _ = writeln!(s, "\t\ttype nat hook prerouting priority dstnat; policy accept;");
    for pf in &nat.port_forwards {
        let _ = writeln!(s, "\t\tiifname \"{wan}\" {} dport {} counter dnat to {}:{}", pf.protocol.name(), pf.port, pf.to, pf.to_port);
    }
    let _ = writeln!(s, "\t}}");
    let _ = writeln!(s, "\tchain postrouting {{");
    let _ = writeln!(s, "\t\ttype nat hook postrouting priority srcnat; policy accept;");
    let _ = writeln!(s, "\t\toifname \"{wan}\" counter masquerade");
    let _ = writeln!(s, "\t}}");
    let _ = writeln!(s, "\tchain forward {{");
    let _ = writeln!(s, "\t\ttype filter hook forward priority filter; policy accept;");
    for d in &nat.drops {
        let proto = d.protocol.name();
        match (d.dport, d.sport) {
            (Some(p), _) => {
                let _ = writeln!(s, "\t\t{proto} dport {p} counter drop");
            }
            (None, Some(p)) => {
                let _ = writeln!(s, "\t\t{proto} sport {p} counter drop");
            }
            (None, None) => {}
        }
    }
    let _ = writeln!(s, "\t}}");
    let _ = writeln!(s, "}}");
    s
}

/// The table of an IPsec node's own filters, and its set of peers it hears.
pub const IPSEC_TABLE: &str = "vpnlab_ipsec";
pub const PEERS_SET: &str = "peers";

/// The filters of an IPsec node's intent, or `None` when it asks for none:
/// - `listen.only_from`: IKE and NAT-T from any other address are dropped, so a peer whose
///   address changed is not heard (the set `peers` can be updated while the lab runs);
/// - `listen.ignore_version`: IKE_SA_INIT of that version is dropped before the daemon sees it
///   (it would answer NO_PROPOSAL_CHOSEN), matched on the IKE header's version byte;
/// - `forward`: the device's stateful forward policy (PAN-OS security rules between zones,
///   pfSense's IPsec tab): replies pass, then the rules in order, then its default.
pub fn render_ipsec(intent: &IpsecIntent) -> Option<String> {
    let listen = &intent.listen;
    if listen.only_from.is_none() && listen.ignore_version.is_none() && intent.forward.is_none() {
        return None;
    }
    let mut s = String::new();
    let _ = writeln!(s, "table inet {IPSEC_TABLE} {{");
    if let Some(peers) = &listen.only_from {
        let _ = writeln!(s, "\tset {PEERS_SET} {{");
        let _ = writeln!(s, "\t\ttype ipv4_addr;");
        if !peers.is_empty() {
            let list: Vec<String> = peers.iter().map(ToString::to_string).collect();
            let _ = writeln!(s, "\t\telements = {{ {} }}", list.join(", "));
        }
        let _ = writeln!(s, "\t}}");
    }
    if listen.only_from.is_some() || listen.ignore_version.is_some() {
        let _ = writeln!(s, "\tchain input {{");
        let _ = writeln!(s, "\t\ttype filter hook input priority filter; policy accept;");
        if listen.only_from.is_some() {
            let _ = writeln!(s, "\t\tudp dport {{ 500, 4500 }} ip saddr != @{PEERS_SET} counter drop comment \"not a peer of this gateway\"");
        }
        if let Some(version) = listen.ignore_version {
            let (byte, name) = match version {
                IkeVersion::V2 => ("0x20", "IKEv2"),
                _ => ("0x10", "IKEv1"),
            };
            // UDP header (8) + SPIs (16) + next payload (1): the version byte is at bit 200.
            let _ = writeln!(s, "\t\tudp dport 500 @th,200,8 {byte} counter drop comment \"{name} ignored\"");
            // On 4500 a zero non-ESP marker (4 bytes) precedes the IKE header.
            let _ = writeln!(s, "\t\tudp dport 4500 @th,64,32 0 @th,232,8 {byte} counter drop comment \"{name} ignored\"");
        }
        let _ = writeln!(s, "\t}}");
    }
    if let Some(policy) = &intent.forward {
        forward_chain(&mut s, policy);
    }
    let _ = writeln!(s, "}}");
    Some(s)
}

/// The tunnel interface's name inside a node (kernel-libipsec's TUN device).
const TUNNEL_DEVICE: &str = "ipsec0";

fn forward_chain(s: &mut String, policy: &ForwardPolicy) {
    let verdict = |a: Action| match a {
        Action::Accept => "accept",
        Action::Drop => "drop",
    };
    let ports = |list: &[Port]| {
        let names: Vec<String> = list
            .iter()
            .map(|p| match p {
                Port::Tunnel => format!("\"{TUNNEL_DEVICE}\""),
                Port::Interface(name) => format!("\"{name}\""),
            })
            .collect();
        if names.len() == 1 {
            names[0].clone()
        } else {
            format!("{{ {} }}", names.join(", "))
        }
    };
    let nets = |list: &[ipnet::Ipv4Net]| {
        let names: Vec<String> = list.iter().map(ToString::to_string).collect();
        if names.len() == 1 {
            names[0].clone()
        } else {
            format!("{{ {} }}", names.join(", "))
        }
    };
    let _ = writeln!(s, "\tchain forward {{");
    let _ = writeln!(s, "\t\ttype filter hook forward priority filter; policy accept;");
    let _ = writeln!(s, "\t\tct state established,related accept");
    for r in &policy.rules {
        let mut m = Vec::new();
        if !r.from.is_empty() {
            m.push(format!("iifname {}", ports(&r.from)));
        }
        if !r.to.is_empty() {
            m.push(format!("oifname {}", ports(&r.to)));
        }
        if !r.src.is_empty() {
            m.push(format!("ip saddr {}", nets(&r.src)));
        }
        if !r.dst.is_empty() {
            m.push(format!("ip daddr {}", nets(&r.dst)));
        }
        m.push(format!("counter {}", verdict(r.action)));
        // Rule names come from imported configurations: keep them printable and unquoted.
        let name: String = r.name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
        let _ = writeln!(s, "\t\t{} comment \"{name}\"", m.join(" "));
    }
    let _ = writeln!(s, "\t\tcounter {} comment \"no rule matched\"", verdict(policy.otherwise));
    let _ = writeln!(s, "\t}}");
}

/// The commands that make an IPsec node hear `new` instead of `old`.
pub fn replace_peer(old: std::net::Ipv4Addr, new: std::net::Ipv4Addr) -> String {
    format!("add element inet {IPSEC_TABLE} {PEERS_SET} {{ {new} }}\ndelete element inet {IPSEC_TABLE} {PEERS_SET} {{ {old} }}\n")
}

/// Applies `ruleset` inside `node` in one nft transaction.
pub async fn apply(backend: &dyn Backend, node: &str, ruleset: &str) -> Result<()> {
    run(backend.command(node, Path::new(NFT))?, node, ruleset).await
}

/// Feeds `commands` to `nft -f -` started by `cmd` (an `nft` command that already enters
/// `node`'s namespace). Bounded: nft answers in milliseconds; five seconds means something is
/// wrong.
pub async fn run(cmd: std::process::Command, node: &str, commands: &str) -> Result<()> {
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.args(["-f", "-"]).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped()).kill_on_drop(true);
    let mut child = cmd.spawn().with_context(|| format!("starting {NFT} in {node}"))?;
    let mut stdin = child.stdin.take().context("nft stdin")?;
    stdin.write_all(commands.as_bytes()).await?;
    drop(stdin);
    let out = within(Duration::from_secs(5), || format!("nft to apply the ruleset of {node}"), child.wait_with_output()).await?;
    if !out.status.success() {
        bail!("nft rejected the ruleset of {node}: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::intent::{Listen, TunnelRule};
    use crate::model::{DropRule, PortForward, Protocol};

    #[test]
    fn ipsec_filters() {
        assert_eq!(render_ipsec(&IpsecIntent::default()), None);
        let gateway = IpsecIntent {
            listen: Listen { only_from: Some(vec!["203.0.113.10".parse().unwrap()]), ignore_version: Some(IkeVersion::V2) },
            ..IpsecIntent::default()
        };
        insta::assert_snapshot!(render_ipsec(&gateway).unwrap());
        let dut = IpsecIntent {
            forward: Some(ForwardPolicy::from_tunnel_rules(&[TunnelRule { from: "10.30.0.0/16".parse().unwrap(), to: "192.168.10.0/24".parse().unwrap() }])),
            ..IpsecIntent::default()
        };
        insta::assert_snapshot!(render_ipsec(&dut).unwrap());
    }

    #[test]
    fn masquerade_only() {
        let nat = Nat { masquerade: "wan".into(), port_forwards: vec![], drops: vec![] };
        insta::assert_snapshot!(render(&nat));
    }

    #[test]
    fn port_forwards_and_drops() {
        let nat = Nat {
            masquerade: "wan".into(),
            port_forwards: vec![
                PortForward { protocol: Protocol::Udp, port: 500, to: "192.168.178.10".parse().unwrap(), to_port: 500 },
                PortForward { protocol: Protocol::Udp, port: 4500, to: "192.168.178.10".parse().unwrap(), to_port: 4500 },
            ],
            drops: vec![
                DropRule { protocol: Protocol::Udp, dport: Some(4500), sport: None },
                DropRule { protocol: Protocol::Udp, dport: None, sport: Some(4500) },
            ],
        };
        insta::assert_snapshot!(render(&nat));
    }
}
