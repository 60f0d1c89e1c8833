//! pfSense interfaces (`wan`, `lan`, `optN`) mapped onto the lab node's interfaces: by name
//! first (the logical name, then the description), then by address (the configured address, or
//! a lab address inside the configured subnet). An interface assigned to a VTI (`<if>ipsecN`)
//! is the lab's tunnel interface, not a lab link.
//!
//! The address an interface has in the lab wins over config.xml's: it is what the node really
//! has, and `dhcp` has no address in the file at all. A difference is reported.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::config::{IfAddr, Interface};
use crate::device::ImportReport;

/// One pfSense interface and where it is in the lab.
#[derive(Debug, Clone)]
pub struct Mapped {
    pub iface: Interface,
    /// The lab interface it maps to: its name and address.
    pub lab: Option<(String, Ipv4Net)>,
}

impl Mapped {
    /// The interface's address with its prefix: the lab's, else the static one in the file.
    pub fn address(&self) -> Option<Ipv4Net> {
        if let Some((_, net)) = &self.lab {
            return Some(*net);
        }
        match (&self.iface.ipaddr, self.iface.subnet) {
            (IfAddr::Static(a), Some(p)) => Ipv4Net::new(*a, p).ok(),
            (IfAddr::Static(a), None) => Ipv4Net::new(*a, 32).ok(),
            _ => None,
        }
    }

    /// The static address and prefix config.xml gives, if any.
    pub fn configured(&self) -> Option<Ipv4Net> {
        match (&self.iface.ipaddr, self.iface.subnet) {
            (IfAddr::Static(a), Some(p)) => Ipv4Net::new(*a, p).ok(),
            _ => None,
        }
    }
}

/// Every pfSense interface with its place in the lab.
#[derive(Debug, Clone, Default)]
pub struct Interfaces {
    pub list: Vec<Mapped>,
}

impl Interfaces {
    /// Maps `ifaces` onto the lab's `lab` interfaces and reports each mapping.
    pub fn map(ifaces: &[Interface], lab: &[(String, Ipv4Net)], report: &mut ImportReport) -> Interfaces {
        let mut taken: Vec<usize> = Vec::new();
        let mut list: Vec<Mapped> = ifaces.iter().map(|i| Mapped { iface: i.clone(), lab: None }).collect();
        let mut how: Vec<&str> = vec![""; list.len()];
        // Name first, for every interface, so that an address match cannot take a lab
        // interface another pfSense interface names.
        for (n, m) in list.iter_mut().enumerate() {
            if m.iface.vti_device().is_some() {
                continue;
            }
            let by_key = lab.iter().position(|(name, _)| name == &m.iface.key);
            let by_descr = || m.iface.descr.as_ref().and_then(|d| lab.iter().position(|(name, _)| name.eq_ignore_ascii_case(d)));
            if let Some(i) = by_key.or_else(by_descr).filter(|i| !taken.contains(i)) {
                taken.push(i);
                m.lab = Some(lab[i].clone());
                how[n] = "by name";
            }
        }
        for (n, m) in list.iter_mut().enumerate() {
            if m.lab.is_some() || m.iface.vti_device().is_some() {
                continue;
            }
            let found = match (&m.iface.ipaddr, m.iface.subnet) {
                (IfAddr::Static(a), subnet) => lab.iter().enumerate().position(|(i, (_, net))| {
                    !taken.contains(&i) && (net.addr() == *a || subnet.and_then(|p| Ipv4Net::new(*a, p).ok()).is_some_and(|s| s.trunc().contains(&net.addr())))
                }),
                _ => None,
            };
            if let Some(i) = found {
                taken.push(i);
                m.lab = Some(lab[i].clone());
                how[n] = "by address";
            }
        }
        for (m, how) in list.iter().zip(how) {
            let path = format!("interfaces/{}", m.iface.key);
            let name = m.iface.friendly();
            let line = Some(m.iface.line);
            if let Some(vti) = m.iface.vti_device() {
                report.used(path, line, format!("{name}: assigned VTI {vti}, the lab's tunnel interface (kernel-libipsec's ipsec0)"));
                continue;
            }
            match (&m.lab, m.configured()) {
                (Some((lab_name, lab_net)), Some(conf)) if conf == *lab_net => {
                    report.used(path, line, format!("{name} {conf}: lab interface `{lab_name}` ({how})"));
                }
                (Some((lab_name, lab_net)), Some(conf)) => report.used(
                    path,
                    line,
                    format!("{name}: lab interface `{lab_name}` ({how}) with {lab_net}; config.xml says {conf}, the lab's address is used"),
                ),
                (Some((lab_name, lab_net)), None) => {
                    let conf = match &m.iface.ipaddr {
                        IfAddr::Dynamic(kind) => format!("config.xml says {kind}"),
                        _ => "config.xml has no IPv4 address".to_string(),
                    };
                    report.used(path, line, format!("{name}: lab interface `{lab_name}` ({how}) with {lab_net}; {conf}, so the lab's address is used"));
                }
                (None, _) => {
                    report.ignored(path, line, format!("{name}: no lab interface has its name or its address; rules and selectors naming it cannot be placed"))
                }
            }
        }
        for (i, (name, net)) in lab.iter().enumerate() {
            if !taken.contains(&i) {
                report.ignored(
                    format!("lab interface {name}"),
                    None,
                    format!("{net}: no pfSense interface maps to it (nothing in config.xml filters or routes it)"),
                );
            }
        }
        Interfaces { list }
    }

    pub fn get(&self, key: &str) -> Option<&Mapped> {
        self.list.iter().find(|m| m.iface.key == key)
    }

    /// The interface's address (with prefix), or why there is none.
    pub fn address(&self, key: &str) -> Result<Ipv4Net, String> {
        let Some(m) = self.get(key) else {
            return Err(format!("config.xml has no interface `{key}`"));
        };
        m.address().ok_or_else(|| match &m.iface.ipaddr {
            IfAddr::Dynamic(kind) => format!("interface {} is {kind} and no lab interface maps to it, so its address is unknown", m.iface.friendly()),
            _ => format!("interface {} has no IPv4 address", m.iface.friendly()),
        })
    }

    /// The interface's network (what a phase 2 `lan` or a rule's `lan` means).
    pub fn network(&self, key: &str) -> Result<Ipv4Net, String> {
        self.address(key).map(|n| n.trunc())
    }

    /// The interface's own address (a rule's `lanip`).
    pub fn host(&self, key: &str) -> Result<Ipv4Addr, String> {
        self.address(key).map(|n| n.addr())
    }

    /// The name pfSense shows for `key` (`LAN`, a description), or `key` itself.
    pub fn friendly(&self, key: &str) -> String {
        self.get(key).map(|m| m.iface.friendly()).unwrap_or_else(|| key.to_string())
    }
}
