//! Resolution of `run.probes`: pings (with an optional source address, which must be one of
//! the sending node's own) and TCP transfers (whose destination must be an address of a node of
//! the lab, since vpnlab runs the receiving end there).

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::time::Duration;

use serde_saphyr::Spanned;

use super::Resolver;
use crate::ike::check_duration;
use crate::model::lab::{Node, Ping, TcpProbe};
use crate::model::raw::{Addr, RawProbe};

/// Bytes a TCP probe sends unless it says: enough for several windows, little enough to finish
/// well within a second through kernel-libipsec.
pub const TCP_DEFAULT_BYTES: u64 = 1 << 20;
/// How long a TCP probe may take unless it says.
pub const TCP_DEFAULT_WITHIN: Duration = Duration::from_secs(3);

impl Resolver {
    /// The lab's pings and TCP transfers, in the order written (each kind on its own).
    pub(super) fn probes(&mut self, raw: &[Spanned<RawProbe>], nodes: &[Node], declared: &HashSet<String>) -> (Vec<Ping>, Vec<TcpProbe>) {
        let (mut pings, mut tcp) = (Vec::new(), Vec::new());
        // Field names without the index, as every other lab error names a list's field.
        let field = "run.probes";
        for p in raw {
            match (&p.value.ping, &p.value.tcp) {
                (Some(ping), None) => {
                    let f = format!("{field}.ping");
                    self.probe_from(&f, &ping.from, declared);
                    let source = self.probe_source(&f, &ping.from.value, ping.source.as_ref(), nodes);
                    pings.push(Ping { from: ping.from.value.clone(), to: ping.to.0, size: ping.size, df: ping.df, source });
                }
                (None, Some(t)) => {
                    let f = format!("{field}.tcp");
                    self.probe_from(&f, &t.from, declared);
                    let source = self.probe_source(&f, &t.from.value, t.source.as_ref(), nodes);
                    let to = t.to.value.0;
                    // The sink listens where the address is: a node of the lab must have it.
                    let sink = nodes.iter().find(|n| n.interfaces.iter().any(|x| x.address.addr() == to)).map(|n| n.name.clone());
                    if sink.is_none() && !self.all_addresses.contains(&to) {
                        self.err(
                            &t.to.referenced,
                            format!("{f}.to"),
                            format!("no node of the lab has {to}, so nothing could listen there"),
                            Some("an interface address of a host (vpnlab runs the receiving end in that node)"),
                        );
                    }
                    if t.port.value == 0 {
                        self.err(&t.port.referenced, format!("{f}.port"), "port 0 is not a port to connect to", Some("1-65535, e.g. 5001"));
                    }
                    let within = match &t.within {
                        None => TCP_DEFAULT_WITHIN,
                        Some(w) => match check_duration(&w.value) {
                            Ok(s) if s > 0 => Duration::from_secs(s),
                            Ok(_) => {
                                self.err(&w.referenced, format!("{f}.within"), "a TCP probe needs time to run", Some("e.g. 3s"));
                                TCP_DEFAULT_WITHIN
                            }
                            Err(e) => {
                                self.err(&w.referenced, format!("{f}.within"), e, None);
                                TCP_DEFAULT_WITHIN
                            }
                        },
                    };
                    tcp.push(TcpProbe {
                        from: t.from.value.clone(),
                        to,
                        port: t.port.value,
                        sink: sink.unwrap_or_default(),
                        bytes: t.bytes.unwrap_or(TCP_DEFAULT_BYTES),
                        within,
                        source,
                    });
                }
                (ping, _) => {
                    let what = if ping.is_some() { "both `ping:` and `tcp:`" } else { "neither `ping:` nor `tcp:`" };
                    self.err(
                        &p.referenced,
                        field,
                        format!("a probe has {what}"),
                        Some("one of them per entry: `- ping: { from, to }` or `- tcp: { from, to, port }`"),
                    );
                }
            }
        }
        (pings, tcp)
    }

    fn probe_from(&mut self, field: &str, from: &Spanned<String>, declared: &HashSet<String>) {
        if !declared.contains(&from.value) {
            self.err(&from.referenced, format!("{field}.from"), format!("no node `{}`", from.value), Some("the name of a host node"));
        }
    }

    /// A probe's source address, which must be one of `from`'s own (a node that did not resolve
    /// has had its own error).
    fn probe_source(&mut self, field: &str, from: &str, source: Option<&Spanned<Addr>>, nodes: &[Node]) -> Option<Ipv4Addr> {
        let source = source?;
        let addr = source.value.0;
        if let Some(node) = nodes.iter().find(|n| n.name == from) {
            if !node.interfaces.iter().any(|i| i.address.addr() == addr) {
                let own: Vec<String> = node.interfaces.iter().map(|i| format!("{} ({})", i.address.addr(), i.name)).collect();
                let hint = if own.is_empty() { format!("{from} has no address") } else { format!("{from}'s addresses: {}", own.join(", ")) };
                self.err(&source.referenced, format!("{field}.source"), format!("{addr} is not an address of {from}"), Some(&hint));
            }
        }
        Some(addr)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    const SHIPPED: &str = include_str!("../../../labs/azure-strongswan/lab.yaml");
    const PINGS: &str = "    - ping: { from: lan-pc, to: 10.20.0.4 }";

    fn errors(probe: &str) -> String {
        assert!(SHIPPED.contains(PINGS));
        match super::super::parse(Path::new("lab.yaml"), &SHIPPED.replacen(PINGS, probe, 1)) {
            Ok(_) => panic!("accepted: {probe}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_probe_is_a_ping_or_a_tcp_transfer() {
        let both = errors("    - { ping: { from: lan-pc, to: 10.20.0.4 }, tcp: { from: lan-pc, to: 10.20.0.4, port: 80 } }");
        assert!(both.contains("run.probes: a probe has both `ping:` and `tcp:`"), "{both}");
        assert!(errors("    - {}").contains("run.probes: a probe has neither `ping:` nor `tcp:`"));
        let port = errors("    - tcp: { from: lan-pc, to: 10.20.0.4, port: 0 }");
        assert!(port.contains("run.probes.tcp.port: port 0 is not a port to connect to"), "{port}");
        let within = errors("    - tcp: { from: lan-pc, to: 10.20.0.4, port: 80, within: soon }");
        assert!(within.contains("run.probes.tcp.within"), "{within}");
        let source = errors("    - ping: { from: lan-pc, source: 10.10.0.1, to: 10.20.0.4 }");
        assert!(source.contains("10.10.0.1 is not an address of lan-pc") && source.contains("lan-pc's addresses: 10.10.0.5 (eth0)"), "{source}");
    }
}
