//! The NAT router's firewall: an nftables ruleset rendered as text from the lab and applied
//! atomically inside the router's namespace with `nft -f -` (one transaction, readable in
//! artifacts, snapshot-tested). Chain and table names avoid nft's reserved words (`fwd`, `dnat`).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use anyhow::{bail, Context, Result};

use super::Backend;
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

/// The DUT's filter on traffic from the tunnel, like pfSense's IPsec tab: replies to
/// connections from the LAN pass (state), so do the pass rules; the rest is blocked.
pub fn render_tunnel_rules(rules: &[crate::model::TunnelRule]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "table inet vpnlab_dut {{");
    let _ = writeln!(s, "\tchain forward {{");
    let _ = writeln!(s, "\t\ttype filter hook forward priority filter; policy accept;");
    let _ = writeln!(s, "\t\tiifname \"ipsec0\" ct state established,related accept");
    for r in rules {
        let _ = writeln!(s, "\t\tiifname \"ipsec0\" ip saddr {} ip daddr {} counter accept", r.from, r.to);
    }
    let _ = writeln!(s, "\t\tiifname \"ipsec0\" counter drop comment \"no pass rule for traffic from the tunnel\"");
    let _ = writeln!(s, "\t}}");
    let _ = writeln!(s, "}}");
    s
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
    use crate::model::{DropRule, PortForward, Protocol};

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
