//! Addresses as PAN-OS writes them where the lab needs prefixes: a literal (`10.10.0.0/16`,
//! `10.10.0.5`, `10.10.0.5-10.10.0.9`), an address object (`ip-netmask`, `ip-range`), a static
//! address group (nested), or `any`. Names that were looked up are remembered, so that the
//! import report can list the objects nothing used.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::config::{AddressValue, PanosConfig};

/// Resolves addresses against one configuration and remembers the objects it used.
pub struct Resolver<'c> {
    config: &'c PanosConfig,
    pub used: BTreeSet<String>,
}

/// How deep static groups may nest (PAN-OS allows a few levels; a loop is a mistake).
const MAX_NESTING: usize = 8;

impl<'c> Resolver<'c> {
    pub fn new(config: &'c PanosConfig) -> Resolver<'c> {
        Resolver { config, used: BTreeSet::new() }
    }

    /// The prefixes `word` stands for; `Ok(None)` for `any`. The error says what the word is
    /// and why it gives no prefix.
    pub fn prefixes(&mut self, word: &str) -> Result<Option<Vec<Ipv4Net>>, String> {
        if word == "any" {
            return Ok(None);
        }
        self.resolve(word, 0).map(Some)
    }

    /// One prefix (a gateway's local address, a proxy-ID side): a literal or an `ip-netmask`
    /// object, with its own prefix length kept.
    pub fn one(&mut self, word: &str) -> Result<Ipv4Net, String> {
        if let Some(net) = literal_net(word) {
            return Ok(net);
        }
        match self.config.address(word).and_then(|a| a.value.as_ref()) {
            Some(v) => {
                self.used.insert(word.to_string());
                match &v.value {
                    AddressValue::Netmask(text) => {
                        literal_net(text).ok_or_else(|| format!("address object `{word}` holds `{text}`, which is not an IPv4 address"))
                    }
                    _ => Err(format!("address object `{word}` is not an ip-netmask object")),
                }
            }
            None => Err(format!("`{word}` is neither an IPv4 address nor an address object")),
        }
    }

    fn resolve(&mut self, word: &str, depth: usize) -> Result<Vec<Ipv4Net>, String> {
        if let Some(net) = literal_net(word) {
            return Ok(vec![net.trunc()]);
        }
        if let Some(range) = literal_range(word) {
            return Ok(range);
        }
        if let Some(object) = self.config.address(word) {
            self.used.insert(word.to_string());
            return match object.value.as_ref().map(|v| &v.value) {
                Some(AddressValue::Netmask(text)) => {
                    literal_net(text).map(|n| vec![n.trunc()]).ok_or_else(|| format!("address object `{word}` holds `{text}`, not an IPv4 prefix"))
                }
                Some(AddressValue::Range(text)) => {
                    literal_range(text).ok_or_else(|| format!("address object `{word}` holds the range `{text}`, not two IPv4 addresses"))
                }
                Some(AddressValue::Fqdn(name)) => Err(format!("address object `{word}` is the FQDN {name}, which the lab does not resolve for rules")),
                Some(AddressValue::Wildcard(text)) => Err(format!("address object `{word}` is the wildcard mask {text}, which a prefix list cannot express")),
                None => Err(format!("address object `{word}` has no address")),
            };
        }
        if let Some(group) = self.config.address_group(word) {
            self.used.insert(word.to_string());
            if group.dynamic.is_some() {
                return Err(format!("address group `{word}` is dynamic (a tag filter), which the lab cannot evaluate"));
            }
            if depth >= MAX_NESTING {
                return Err(format!("address group `{word}` nests more than {MAX_NESTING} levels deep (a loop?)"));
            }
            let mut out = Vec::new();
            for m in &group.members {
                out.extend(self.resolve(&m.value, depth + 1)?);
            }
            return Ok(out);
        }
        Err(format!("`{word}` is neither an address, a range, an address object nor an address group"))
    }
}

/// `10.10.0.0/16` or `10.10.0.5` (a /32).
pub fn literal_net(word: &str) -> Option<Ipv4Net> {
    word.parse::<Ipv4Net>().ok().or_else(|| word.parse::<Ipv4Addr>().ok().map(Ipv4Net::from))
}

/// `10.10.0.5-10.10.0.9` as the fewest prefixes that cover exactly the range.
fn literal_range(word: &str) -> Option<Vec<Ipv4Net>> {
    let (a, b) = word.split_once('-')?;
    let (start, end) = (u32::from(a.trim().parse::<Ipv4Addr>().ok()?), u32::from(b.trim().parse::<Ipv4Addr>().ok()?));
    if start > end {
        return None;
    }
    let mut out = Vec::new();
    let (mut at, end) = (u64::from(start), u64::from(end));
    while at <= end {
        // The largest aligned block that starts at `at` and ends within the range.
        let mut size = if at == 0 { 1u64 << 32 } else { 1u64 << at.trailing_zeros().min(32) };
        while at + size - 1 > end {
            size >>= 1;
        }
        let prefix = 32 - size.trailing_zeros() as u8;
        out.push(Ipv4Net::new(Ipv4Addr::from(at as u32), prefix).ok()?);
        at += size;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::panos::config::{AddressGroup, AddressObject, At};

    fn at<T>(value: T) -> At<T> {
        At { value, line: None, path: String::new() }
    }

    #[test]
    fn literals_objects_ranges_and_groups() {
        let mut config = PanosConfig::default();
        config.addresses.push(AddressObject {
            name: "azure-vnet".into(),
            line: None,
            path: String::new(),
            value: Some(at(AddressValue::Netmask("10.20.0.0/16".into()))),
        });
        config.addresses.push(AddressObject {
            name: "servers".into(),
            line: None,
            path: String::new(),
            value: Some(at(AddressValue::Range("10.10.0.4-10.10.0.9".into()))),
        });
        config.addresses.push(AddressObject {
            name: "web".into(),
            line: None,
            path: String::new(),
            value: Some(at(AddressValue::Fqdn("web.example.com".into()))),
        });
        config.address_groups.push(AddressGroup {
            name: "both".into(),
            line: None,
            path: String::new(),
            members: vec![at("azure-vnet".into()), at("10.30.0.0/16".into())],
            dynamic: None,
        });
        let mut r = Resolver::new(&config);
        let nets = |v: &[&str]| v.iter().map(|s| s.parse::<Ipv4Net>().unwrap()).collect::<Vec<_>>();
        assert_eq!(r.prefixes("any"), Ok(None));
        assert_eq!(r.prefixes("10.10.0.1/16"), Ok(Some(nets(&["10.10.0.0/16"]))));
        assert_eq!(r.prefixes("servers"), Ok(Some(nets(&["10.10.0.4/30", "10.10.0.8/31"]))));
        assert_eq!(r.prefixes("both"), Ok(Some(nets(&["10.20.0.0/16", "10.30.0.0/16"]))));
        assert!(r.prefixes("web").unwrap_err().contains("FQDN"));
        assert!(r.prefixes("nothing").is_err());
        assert_eq!(r.one("172.16.0.2/30"), Ok("172.16.0.2/30".parse().unwrap()));
        assert_eq!(r.used.iter().cloned().collect::<Vec<_>>(), ["azure-vnet", "both", "servers", "web"]);
        assert_eq!(literal_range("0.0.0.0-255.255.255.255"), Some(nets(&["0.0.0.0/0"])));
    }
}
