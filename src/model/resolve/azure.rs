//! Resolution of an `azure-gateway` node's `azure:` section: imports merged under the lab's own
//! keys, then Azure's rules, each error naming the rule that forbids the combination, as
//! Azure would refuse it. The charon profile is built later, once the run plan says which
//! role the gateway plays (`Resolver::finish_azure`).

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use ipnet::Ipv4Net;
use serde_saphyr::{Location, Spanned};

use super::Resolver;
use crate::device::azure::import::{self, ResourceKind};
use crate::device::azure::{
    self, asn_problem, in_azure_apipa_range, is_apipa, AzureConnection, AzureSite, Bgp, BgpHoldTime, ConnectionMode, IpsecPolicy, LocalNetworkGateway,
    NarrowedSelectors, OtherIkeVersion, PbtsWithDefaultPolicy, SelectorPolicy, Sku, Switches, VirtualNetworkGateway, VpnType,
};
use crate::ike::intent::IkeVersion;
use crate::model::lab::Interface;
use crate::model::raw::*;

impl Resolver {
    fn azure_enum<T>(&mut self, field: &str, v: &Spanned<String>, parse: fn(&str) -> Result<T, String>) -> Option<T> {
        match parse(&v.value) {
            Ok(t) => Some(t),
            Err(valid) => {
                self.err(&v.referenced, field, format!("`{}` is not a valid value", v.value), Some(&valid));
                None
            }
        }
    }

    /// Reads `import:` of one resource and merges the lab's keys over it.
    fn merge_import<T>(
        &mut self,
        path: &str,
        kind: ResourceKind,
        inline: Spanned<T>,
        import_of: impl Fn(&T) -> (Option<Spanned<String>>, Option<String>),
        notes: &mut Vec<String>,
    ) -> (T, Option<PathBuf>, Location)
    where
        T: Merge + Default + serde::de::DeserializeOwned,
    {
        let loc = inline.referenced;
        let (file, name) = import_of(&inline.value);
        let Some(file) = file else { return (inline.value, None, loc) };
        let full = match confined(&self.lab_dir, &file.value) {
            Ok(full) => full,
            Err(problem) => {
                self.err(
                    &file.referenced,
                    format!("{path}.import"),
                    format!("`{}` {problem}", file.value),
                    Some("a path relative to the lab's folder and inside it, e.g. `import: exports/connection.json`"),
                );
                return (inline.value, None, loc);
            }
        };
        match import::import(&full, kind, name.as_deref()) {
            Ok(imported) => {
                notes.extend(imported.notes.into_iter().map(|n| format!("{} ({}): {n}", file.value, kind.lab_key())));
                match serde_json::from_value::<T>(imported.value) {
                    Ok(t) => (inline.value.merge(t), Some(PathBuf::from(&file.value)), loc),
                    Err(e) => {
                        self.err(&file.referenced, format!("{path}.import"), format!("{}: {e}", file.value), None);
                        (inline.value, None, loc)
                    }
                }
            }
            Err(e) => {
                self.err(&file.referenced, format!("{path}.import"), e.to_string(), None);
                (inline.value, None, loc)
            }
        }
    }

    /// An error about a value that may have come from an export (then it has no location in
    /// the lab file, and the message names the export instead).
    pub(super) fn err_from(&mut self, origin: &Option<PathBuf>, loc: &Location, field: String, message: String, hint: Option<&str>) {
        if *loc == Location::UNKNOWN {
            if let Some(file) = origin {
                let mut e = crate::model::error::LabError::at(loc, field, message);
                e.file = Some(file.clone());
                if let Some(h) = hint {
                    e = e.hint(h);
                }
                self.errors.push(e);
                return;
            }
        }
        self.err(loc, field, message, hint);
    }

    /// A property the model needs is missing after the merge. When the resource was imported,
    /// the error names the export (and the lab's resource); otherwise the lab's resource.
    fn err_missing(&mut self, origin: &Option<PathBuf>, loc: &Location, field: String, message: String, hint: &str) {
        let mut e = crate::model::error::LabError::at(loc, field, message).hint(hint);
        e.file = origin.clone();
        self.errors.push(e);
    }

    /// The BGP peer addresses on both sides (rules bgp-peer-addresses, bgp-apipa): the gateway's
    /// from `bgpPeeringAddress` or the GatewaySubnet, the on-premises one outside the VNet and
    /// not the device's public address.
    #[allow(clippy::too_many_arguments)]
    fn bgp_addresses(
        &mut self,
        at: &BgpCheck,
        g: &RawVirtualNetworkGateway,
        v: &RawVirtualNetwork,
        l: &RawLocalNetworkGateway,
        vnet_prefixes: &[Ipv4Net],
        gateway_ip: Ipv4Addr,
        gw_bgp: &mut Bgp,
        lng_bgp: Option<&Bgp>,
        notes: &mut Vec<String>,
    ) {
        let gateway_subnet = v.subnets.iter().flatten().find(|s| s.name.eq_ignore_ascii_case("GatewaySubnet"));
        if let Some(s) = gateway_subnet {
            if !vnet_prefixes.iter().any(|p| p.contains(&s.address_prefix.value.0.trunc())) {
                self.err(
                    &s.address_prefix.referenced,
                    format!("{}.subnets.addressPrefix", at.vpath),
                    format!("the GatewaySubnet {} is not inside the virtual network's address space", s.address_prefix.value.0),
                    Some("a /27 or larger inside addressSpace.addressPrefixes"),
                );
            }
        }
        match (gw_bgp.peering_address, gateway_subnet) {
            (Some(a), Some(s)) if !s.address_prefix.value.0.trunc().contains(&a) => {
                let loc = g.bgp_settings.as_ref().and_then(|b| b.value.bgp_peering_address.as_ref()).map(|p| p.referenced).unwrap_or(at.g_loc);
                self.err_from(
                    at.g_origin,
                    &loc,
                    format!("{}.bgpSettings.bgpPeeringAddress", at.gpath),
                    format!("{a} is not in the GatewaySubnet {} (rule bgp-peer-addresses)", s.address_prefix.value.0),
                    Some("an address of the GatewaySubnet; Azure assigns it"),
                );
            }
            (Some(_), _) => {}
            (None, Some(s)) => {
                let net = s.address_prefix.value.0.trunc();
                let last_usable = Ipv4Addr::from(u32::from(net.broadcast()).saturating_sub(1));
                gw_bgp.peering_address = Some(last_usable);
                notes.push(format!(
                    "virtualNetworkGateway: BGP peer IP {last_usable}, the GatewaySubnet {net}'s last usable address, as Azure assigned it in seed 003 (rule bgp-peer-addresses)"
                ));
            }
            (None, None) => self.err_from(
                at.g_origin,
                &at.g_loc,
                format!("{}.bgpSettings.bgpPeeringAddress", at.gpath),
                "BGP needs the gateway's BGP peer IP, which Azure takes from the GatewaySubnet (rule bgp-peer-addresses)".into(),
                Some("virtualNetwork.subnets: [{ name: GatewaySubnet, addressPrefix: 10.30.255.0/27 }], or bgpSettings.bgpPeeringAddress"),
            ),
        }
        let Some(peer) = lng_bgp.and_then(|b| b.peering_address) else { return };
        let loc = l.bgp_settings.as_ref().and_then(|b| b.value.bgp_peering_address.as_ref()).map(|p| p.referenced).unwrap_or(at.l_loc);
        let field = format!("{}.bgpSettings.bgpPeeringAddress", at.lpath);
        if peer == gateway_ip {
            self.err_from(
                at.l_origin,
                &loc,
                field.clone(),
                format!("the on-premises BGP IP {peer} is the device's public address (rule bgp-peer-addresses)"),
                Some("an inside address of the device: its LAN address, a loopback, or an APIPA address"),
            );
        } else if vnet_prefixes.iter().any(|p| p.contains(&peer)) {
            self.err_from(
                at.l_origin,
                &loc,
                field.clone(),
                format!("the on-premises BGP IP {peer} is inside the virtual network's address space (rule bgp-peer-addresses)"),
                Some("an address outside the VNet"),
            );
        }
        if is_apipa(peer) && gw_bgp.apipa.is_empty() {
            self.err_from(
                at.l_origin,
                &loc,
                field,
                format!("the on-premises BGP IP {peer} is APIPA, but the gateway has no custom APIPA BGP address to peer from (rule bgp-apipa)"),
                Some("virtualNetworkGateway.bgpSettings.bgpPeeringAddresses: [{ customBgpIpAddresses: [169.254.21.1] }]"),
            );
        }
    }

    /// BGP settings; `on_premises` ASNs must avoid the ranges Azure and IANA reserve.
    fn bgp(&mut self, path: &str, origin: &Option<PathBuf>, raw: &Option<Spanned<RawBgpSettings>>, on_premises: bool) -> Option<Bgp> {
        let raw = raw.as_ref()?;
        let asn = raw.value.asn.as_ref();
        if let Some(a) = asn.filter(|_| on_premises) {
            if let Some(problem) = asn_problem(a.value) {
                self.err_from(
                    origin,
                    &a.referenced,
                    format!("{path}.bgpSettings.asn"),
                    format!("ASN {} is {problem}", a.value),
                    Some("a private ASN in 64512-65514 or 65521-65534, or your public ASN"),
                );
            }
        }
        let mut apipa = Vec::new();
        for a in raw.value.bgp_peering_addresses.iter().flatten().flat_map(|p| &p.custom_bgp_ip_addresses) {
            if !in_azure_apipa_range(a.value.0) {
                self.err_from(
                    origin,
                    &a.referenced,
                    format!("{path}.bgpSettings.bgpPeeringAddresses.customBgpIpAddresses"),
                    format!("{} is not in Azure's custom APIPA range (rule bgp-apipa)", a.value.0),
                    Some("an address in 169.254.21.0-169.254.22.255, e.g. 169.254.21.1"),
                );
            }
            apipa.push(a.value.0);
        }
        Some(Bgp { asn: asn.map(|a| a.value).unwrap_or(0), peering_address: raw.value.bgp_peering_address.as_ref().map(|a| a.value.0), apipa })
    }

    pub(super) fn azure(
        &mut self,
        path: &str,
        node_loc: &Location,
        raw: RawAzure,
        interfaces: &[Interface],
        gateway_route: Option<Ipv4Addr>,
    ) -> Option<AzureSite> {
        let mut notes = Vec::new();
        let gpath = format!("{path}.virtualNetworkGateway");
        let vpath = format!("{path}.virtualNetwork");
        let lpath = format!("{path}.localNetworkGateway");
        let cpath = format!("{path}.connection");
        let (g, g_origin, g_loc) =
            self.merge_import(&gpath, ResourceKind::VirtualNetworkGateway, raw.gateway, |g| (g.import.clone(), g.import_name.clone()), &mut notes);
        let (v, v_origin, v_loc) = self.merge_import(&vpath, ResourceKind::VirtualNetwork, raw.vnet, |v| (v.import.clone(), v.import_name.clone()), &mut notes);
        let (l, l_origin, l_loc) =
            self.merge_import(&lpath, ResourceKind::LocalNetworkGateway, raw.local_gateway, |l| (l.import.clone(), l.import_name.clone()), &mut notes);
        let (c, c_origin, c_loc) =
            self.merge_import(&cpath, ResourceKind::Connection, raw.connection, |c| (c.import.clone(), c.import_name.clone()), &mut notes);

        // --- switches
        let model = raw.model.unwrap_or_default();
        let mut switches = Switches::default();
        if let Some(n) = &model.narrowed_traffic_selectors {
            switches.narrowed_traffic_selectors = self.azure_enum(&format!("{path}.model.narrowedTrafficSelectors"), n, NarrowedSelectors::parse)?;
        }
        if let Some(o) = &model.other_ike_version {
            switches.other_ike_version = self.azure_enum(&format!("{path}.model.otherIkeVersion"), o, OtherIkeVersion::parse)?;
        }
        if let Some(p) = &model.pbts_with_default_policy {
            switches.pbts_with_default_policy = self.azure_enum(&format!("{path}.model.pbtsWithDefaultPolicy"), p, PbtsWithDefaultPolicy::parse)?;
        }
        if let Some(h) = &model.bgp_hold_time {
            switches.bgp_hold_time = self.azure_enum(&format!("{path}.model.bgpHoldTime"), h, BgpHoldTime::parse)?;
        }

        // --- gateway
        let vpn_type = match &g.vpn_type {
            Some(t) => self.azure_enum(&format!("{gpath}.vpnType"), t, VpnType::parse),
            None => {
                let message = missing("the virtual network gateway", "vpnType", &g_origin);
                self.err_missing(&g_origin, &g_loc, format!("{gpath}.vpnType"), message, "vpnType: RouteBased or PolicyBased");
                None
            }
        };
        let sku = match &g.sku {
            Some(s) => self.azure_enum(&format!("{gpath}.sku"), s, Sku::parse),
            None => {
                notes.push("virtualNetworkGateway: no sku given, using VpnGw1AZ".into());
                Some(Sku::VpnGw1AZ)
            }
        };
        let policy_based = vpn_type == Some(VpnType::PolicyBased);
        if let (Some(VpnType::PolicyBased), Some(s)) = (vpn_type, sku) {
            if !s.is_basic() {
                let loc = g.sku.as_ref().map(|s| s.referenced).unwrap_or(g_loc);
                self.err_from(
                    &g_origin,
                    &loc,
                    format!("{gpath}.sku"),
                    format!("a PolicyBased gateway exists only on the Basic SKU, not {} (rule policy-based-basic-only)", s.azure_name()),
                    Some("sku: Basic, or vpnType: RouteBased"),
                );
            }
        }
        let active_active = g.active_active.as_ref().map(|a| a.value).unwrap_or(false);
        if active_active {
            let loc = g.active_active.as_ref().map(|a| a.referenced).unwrap_or(g_loc);
            if policy_based || sku.is_some_and(Sku::is_basic) {
                self.err_from(
                    &g_origin,
                    &loc,
                    format!("{gpath}.activeActive"),
                    "active-active needs a route-based gateway on a VpnGw SKU (rule sku-active-active)".into(),
                    None,
                );
            } else {
                notes.push("virtualNetworkGateway: activeActive: vpnlab runs one gateway instance; the second tunnel is not modelled".into());
            }
        }
        let gw_bgp_on = g.enable_bgp.as_ref().map(|b| b.value).unwrap_or(false);
        if gw_bgp_on && (policy_based || sku.is_some_and(Sku::is_basic)) {
            let loc = g.enable_bgp.as_ref().map(|b| b.referenced).unwrap_or(g_loc);
            let why = if policy_based {
                "policy-based gateways route statically (rule policy-based-static-routing)"
            } else {
                "the Basic SKU has no BGP (rule sku-bgp)"
            };
            self.err_from(
                &g_origin,
                &loc,
                format!("{gpath}.enableBgp"),
                format!("BGP is not available: {why}"),
                Some("enableBgp: false, or a route-based VpnGw SKU"),
            );
        }
        let gw_bgp = self.bgp(&gpath, &g_origin, &g.bgp_settings, false).map(|b| Bgp { asn: if b.asn == 0 { 65515 } else { b.asn }, ..b }).unwrap_or(Bgp {
            asn: 65515,
            peering_address: None,
            apipa: Vec::new(),
        });
        let public_ip = match &g.public_ip_address {
            Some(p) => {
                if !interfaces.iter().any(|i| i.address.addr() == p.value.0) {
                    self.err(
                        &p.referenced,
                        format!("{gpath}.publicIpAddress"),
                        format!("{} is not an address of this node's interfaces", p.value.0),
                        Some("the address of the gateway's internet-facing interface"),
                    );
                }
                p.value.0
            }
            None => match interfaces.iter().find(|i| gateway_route.is_some_and(|gw| i.address.contains(&gw))) {
                Some(i) => {
                    notes.push(format!("virtualNetworkGateway: publicIpAddress taken from interface {} ({})", i.name, i.address.addr()));
                    i.address.addr()
                }
                None => {
                    self.err(
                        node_loc,
                        format!("{gpath}.publicIpAddress"),
                        "the gateway's public address is not given and cannot be inferred",
                        Some("publicIpAddress: the address of the gateway's internet-facing interface"),
                    );
                    return None;
                }
            },
        };

        // --- virtual network
        let vnet_prefixes: Vec<Ipv4Net> = v.address_space.as_ref().map(|a| a.address_prefixes.iter().map(|p| p.value.0.trunc()).collect()).unwrap_or_default();
        if vnet_prefixes.is_empty() {
            let message = missing("the virtual network", "addressSpace.addressPrefixes", &v_origin);
            self.err_missing(
                &v_origin,
                &v_loc,
                format!("{vpath}.addressSpace.addressPrefixes"),
                message,
                "e.g. addressSpace: { addressPrefixes: [10.20.0.0/16] }",
            );
        }

        // --- local network gateway
        let lng_prefixes: Vec<Ipv4Net> =
            l.local_network_address_space.as_ref().map(|a| a.address_prefixes.iter().map(|p| p.value.0.trunc()).collect()).unwrap_or_default();
        let conn_bgp = c.enable_bgp.as_ref().is_some_and(|b| b.value);
        if lng_prefixes.is_empty() && !(conn_bgp && l.bgp_settings.is_some()) {
            // Azure routes these prefixes into the tunnel (and builds selectors from them);
            // without them (and without BGP) nothing would reach the branch.
            let message = missing("the local network gateway", "localNetworkAddressSpace.addressPrefixes", &l_origin);
            self.err_missing(
                &l_origin,
                &l_loc,
                format!("{lpath}.localNetworkAddressSpace.addressPrefixes"),
                message,
                "the on-premises prefixes, e.g. localNetworkAddressSpace: { addressPrefixes: [10.10.0.0/16] }",
            );
        }
        if let Some(space) = &l.local_network_address_space {
            for p in &space.address_prefixes {
                if vnet_prefixes.iter().any(|v| v.contains(&p.value.0.network()) || p.value.0.contains(&v.network())) {
                    self.err_from(
                        &l_origin,
                        &p.referenced,
                        format!("{lpath}.localNetworkAddressSpace.addressPrefixes"),
                        format!("{} overlaps the virtual network's address space", p.value.0),
                        Some("on-premises prefixes that do not overlap the VNet"),
                    );
                }
            }
        }
        let lng_bgp = self.bgp(&lpath, &l_origin, &l.bgp_settings, true);
        if let Some(b) = &lng_bgp {
            if b.asn == gw_bgp.asn {
                let loc = l.bgp_settings.as_ref().map(|s| s.referenced).unwrap_or(l_loc);
                self.err_from(
                    &l_origin,
                    &loc,
                    format!("{lpath}.bgpSettings.asn"),
                    format!("the local network gateway uses the gateway's own ASN {} (rule bgp-asn-rules)", b.asn),
                    Some("a different ASN on each side"),
                );
            }
        }
        let (gateway_ip, fqdn) = match (&l.fqdn, &l.gateway_ip_address) {
            (Some(f), ip) => {
                if ip.is_some() {
                    notes.push(format!("localNetworkGateway: both fqdn and gatewayIpAddress given; Azure uses the fqdn {}", f.value));
                }
                match self.dns.get(&f.value.to_ascii_lowercase()) {
                    Some(addr) => (*addr, Some(f.value.clone())),
                    None => {
                        let hint = format!("a record in the lab's dns, e.g. dns: {{ server: internet, records: {{ {}: 203.0.113.10 }} }}", f.value);
                        self.err_from(&l_origin, &f.referenced, format!("{lpath}.fqdn"), format!("the lab's dns has no record for {}", f.value), Some(&hint));
                        return None;
                    }
                }
            }
            (None, Some(ip)) => {
                self.deferred_addresses.push((ip.referenced, l_origin.clone(), format!("{lpath}.gatewayIpAddress"), ip.value.0));
                (ip.value.0, None)
            }
            (None, None) => {
                let message = missing("the local network gateway", "gatewayIpAddress or fqdn", &l_origin);
                self.err_missing(
                    &l_origin,
                    &l_loc,
                    format!("{lpath}.gatewayIpAddress"),
                    message,
                    "gatewayIpAddress: the on-premises public address (in the lab, e.g. the NAT router's WAN address)",
                );
                return None;
            }
        };

        // --- connection
        if let Some(t) = &c.connection_type {
            if t.value != "IPsec" {
                self.err_from(
                    &c_origin,
                    &t.referenced,
                    format!("{cpath}.connectionType"),
                    format!("`{}` is not a site-to-site connection", t.value),
                    Some("IPsec"),
                );
            }
        }
        let protocol = match &c.connection_protocol {
            None if policy_based => {
                notes.push("connection: no connectionProtocol; a policy-based gateway runs IKEv1".into());
                IkeVersion::V1
            }
            None => IkeVersion::V2,
            Some(p) => match p.value.as_str() {
                "IKEv2" if policy_based => {
                    self.err_from(
                        &c_origin,
                        &p.referenced,
                        format!("{cpath}.connectionProtocol"),
                        "a PolicyBased gateway runs IKEv1 only (rule vpn-type-ike-versions)".into(),
                        Some("IKEv1, or vpnType: RouteBased for IKEv2"),
                    );
                    IkeVersion::V2
                }
                "IKEv2" => IkeVersion::V2,
                "IKEv1" => {
                    if !policy_based && sku.is_some_and(Sku::is_basic) {
                        self.err_from(
                            &c_origin,
                            &p.referenced,
                            format!("{cpath}.connectionProtocol"),
                            "IKEv1 is not available on a route-based Basic gateway (rule sku-ikev1)".into(),
                            Some("IKEv2, or a VpnGw SKU"),
                        );
                    }
                    IkeVersion::V1
                }
                other => {
                    self.err_from(
                        &c_origin,
                        &p.referenced,
                        format!("{cpath}.connectionProtocol"),
                        format!("`{other}` is not a valid value"),
                        Some("IKEv2 (default) or IKEv1"),
                    );
                    IkeVersion::V2
                }
            },
        };
        let shared_key = match &c.shared_key {
            Some(k) => {
                if let Err(e) = azure::check_shared_key(&k.value) {
                    self.err_from(&c_origin, &k.referenced, format!("{cpath}.sharedKey"), format!("the shared key {e}"), None);
                }
                k.value.clone()
            }
            None => {
                let hint = if c_origin.is_some() {
                    "sharedKey: next to import: (az network vpn-connection show leaves it out; `az network vpn-connection shared-key show` prints it)"
                } else {
                    "sharedKey: the pre-shared key"
                };
                self.err(&c_loc, format!("{cpath}.sharedKey"), "the connection has no sharedKey", Some(hint));
                String::new()
            }
        };
        let policies = c.ipsec_policies.as_deref().unwrap_or(&[]);
        if policies.len() > 1 {
            self.err_from(
                &c_origin,
                &policies[1].referenced,
                format!("{cpath}.ipsecPolicies"),
                "Azure allows one IPsec/IKE policy per connection (rule custom-policy-single)".into(),
                Some("a single policy object"),
            );
        }
        let mut policy = None;
        if let Some(p) = policies.first() {
            let ppath = format!("{cpath}.ipsecPolicies[0]");
            if sku.is_some_and(Sku::is_basic) {
                self.err_from(
                    &c_origin,
                    &p.referenced,
                    ppath.clone(),
                    "custom IPsec/IKE policies are not supported on the Basic SKU (rule sku-custom-policy)".into(),
                    Some("remove ipsecPolicies, or use a VpnGw SKU"),
                );
            }
            policy = self.ipsec_policy(&ppath, &c_origin, &p.value);
        }
        let dpd_timeout_seconds = match &c.dpd_timeout_seconds {
            None => 45,
            Some(d) => {
                if !(9..=3600).contains(&d.value) {
                    self.err_from(
                        &c_origin,
                        &d.referenced,
                        format!("{cpath}.dpdTimeoutSeconds"),
                        format!("{} is outside Azure's range (rule dpd-timeout)", d.value),
                        Some("9 to 3600 seconds (default 45)"),
                    );
                }
                d.value
            }
        };
        let mode = match &c.connection_mode {
            None => ConnectionMode::Default,
            Some(m) => self.azure_enum(&format!("{cpath}.connectionMode"), m, ConnectionMode::parse).unwrap_or(ConnectionMode::Default),
        };
        let enable_bgp = c.enable_bgp.as_ref().map(|b| b.value).unwrap_or(false);
        if enable_bgp {
            let loc = c.enable_bgp.as_ref().map(|b| b.referenced).unwrap_or(c_loc);
            if !gw_bgp_on {
                self.err_from(
                    &c_origin,
                    &loc,
                    format!("{cpath}.enableBgp"),
                    "the connection enables BGP but the gateway does not (virtualNetworkGateway.enableBgp is false)".into(),
                    Some("enableBgp: true on the gateway too"),
                );
            }
            if lng_bgp.as_ref().is_none_or(|b| b.peering_address.is_none()) {
                self.err_from(
                    &c_origin,
                    &loc,
                    format!("{cpath}.enableBgp"),
                    "BGP needs the local network gateway's bgpSettings (asn and bgpPeeringAddress)".into(),
                    None,
                );
            }
        }
        let mut gw_bgp = gw_bgp;
        if enable_bgp && gw_bgp_on {
            self.bgp_addresses(
                &BgpCheck { gpath: &gpath, vpath: &vpath, lpath: &lpath, g_origin: &g_origin, l_origin: &l_origin, g_loc, l_loc },
                &g,
                &v,
                &l,
                &vnet_prefixes,
                gateway_ip,
                &mut gw_bgp,
                lng_bgp.as_ref(),
                &mut notes,
            );
        }
        let pbts = c.use_policy_based_traffic_selectors.as_ref().map(|b| b.value).unwrap_or(false);
        if pbts {
            let loc = c.use_policy_based_traffic_selectors.as_ref().map(|b| b.referenced).unwrap_or(c_loc);
            if policy_based {
                self.err_from(
                    &c_origin,
                    &loc,
                    format!("{cpath}.usePolicyBasedTrafficSelectors"),
                    "usePolicyBasedTrafficSelectors is a setting of route-based gateways (rule pbts-cross-product)".into(),
                    None,
                );
            } else if protocol == IkeVersion::V1 {
                self.err_from(
                    &c_origin,
                    &loc,
                    format!("{cpath}.usePolicyBasedTrafficSelectors"),
                    "usePolicyBasedTrafficSelectors needs an IKEv2 connection (rule pbts-cross-product)".into(),
                    Some("connectionProtocol: IKEv2"),
                );
            }
            if lng_prefixes.is_empty() {
                self.err_from(
                    &c_origin,
                    &loc,
                    format!("{cpath}.usePolicyBasedTrafficSelectors"),
                    "policy-based selectors are built from the local network gateway's prefixes, and it has none".into(),
                    None,
                );
            }
            if policy.is_none() {
                match switches.pbts_with_default_policy {
                    PbtsWithDefaultPolicy::Accept => notes.push("connection: usePolicyBasedTrafficSelectors without a custom policy: Microsoft's pages disagree whether that takes effect; vpnlab applies it (rule pbts-custom-policy, pbtsWithDefaultPolicy: accept)".into()),
                    PbtsWithDefaultPolicy::Reject => self.err_from(&c_origin, &loc, format!("{cpath}.usePolicyBasedTrafficSelectors"), "usePolicyBasedTrafficSelectors needs a custom IPsec/IKE policy in this model (rule pbts-custom-policy, pbtsWithDefaultPolicy: reject)".into(), Some("an ipsecPolicies entry, or model: { pbtsWithDefaultPolicy: accept }")),
                }
            }
        }
        let mut selector_policies = Vec::new();
        for tsp in c.traffic_selector_policies.as_deref().unwrap_or(&[]) {
            selector_policies.push(SelectorPolicy {
                local: tsp.value.local_address_ranges.iter().map(|p| p.value.0.trunc()).collect(),
                remote: tsp.value.remote_address_ranges.iter().map(|p| p.value.0.trunc()).collect(),
            });
        }
        if !selector_policies.is_empty() && !pbts {
            notes.push(
                "connection: trafficSelectorPolicies take effect only with usePolicyBasedTrafficSelectors; ignored (rule traffic-selector-policies)".into(),
            );
            selector_policies.clear();
        }
        let gw_name = g.name.clone().unwrap_or_else(|| "vnet-gateway".to_string());
        let lng_name = l.name.clone().unwrap_or_else(|| "local-network-gateway".to_string());
        for (reference, actual, what) in
            [(&c.virtual_network_gateway1, &gw_name, "virtualNetworkGateway1"), (&c.local_network_gateway2, &lng_name, "localNetworkGateway2")]
        {
            if let Some(r) = reference {
                if r != actual {
                    notes.push(format!("connection: {what} names `{r}`, but the lab's resource is `{actual}`; using the lab's"));
                }
            }
        }
        let conn_name = c.name.clone().unwrap_or_else(|| "azure-connection".to_string());
        if conn_name.is_empty() || conn_name.chars().any(|ch| !(ch.is_ascii_alphanumeric() || "-_.".contains(ch))) {
            self.err_from(
                &c_origin,
                &c_loc,
                format!("{cpath}.name"),
                format!("`{conn_name}` is not a usable connection name"),
                Some("letters, digits, '-', '_' and '.'"),
            );
        }
        let tunnels = if active_active { 2 } else { 1 };
        if let Some(s) = sku {
            if tunnels > s.max_tunnels() || (policy_based && tunnels > 1) {
                self.err(
                    &g_loc,
                    format!("{gpath}.sku"),
                    format!("{tunnels} tunnels exceed the {} SKU's limit of {} (rule sku-tunnel-limits)", s.azure_name(), s.max_tunnels()),
                    None,
                );
            }
        }

        Some(AzureSite {
            gateway: VirtualNetworkGateway { name: gw_name, vpn_type: vpn_type?, sku: sku?, active_active, enable_bgp: gw_bgp_on, bgp: gw_bgp, public_ip },
            vnet_name: v.name.clone().unwrap_or_else(|| "vnet".to_string()),
            vnet_prefixes,
            local_gateway: LocalNetworkGateway { name: lng_name, gateway_ip, fqdn, prefixes: lng_prefixes, bgp: lng_bgp },
            connection: AzureConnection {
                name: conn_name,
                protocol,
                shared_key,
                policy,
                dpd_timeout_seconds,
                mode,
                enable_bgp,
                policy_based_selectors: pbts,
                selector_policies,
            },
            switches,
            notes,
        })
    }

    fn ipsec_policy(&mut self, ppath: &str, origin: &Option<PathBuf>, v: &RawIpsecPolicy) -> Option<IpsecPolicy> {
        use crate::device::azure::policy::{DhGroup, IkeEncryption, IkeIntegrity, IpsecEncryption, IpsecIntegrity, PfsGroup};
        macro_rules! parse {
            ($field:literal, $value:expr, $ty:ty) => {
                match <$ty>::parse(&$value.value) {
                    Ok(x) => Some(x),
                    Err(valid) => {
                        let message = format!("`{}` is not a valid value (rule custom-policy-values)", $value.value);
                        self.err_from(origin, &$value.referenced, format!("{ppath}.{}", $field), message, Some(&valid));
                        None
                    }
                }
            };
        }
        let parsed = (
            parse!("ipsecEncryption", v.ipsec_encryption, IpsecEncryption),
            parse!("ipsecIntegrity", v.ipsec_integrity, IpsecIntegrity),
            parse!("ikeEncryption", v.ike_encryption, IkeEncryption),
            parse!("ikeIntegrity", v.ike_integrity, IkeIntegrity),
            parse!("dhGroup", v.dh_group, DhGroup),
            parse!("pfsGroup", v.pfs_group, PfsGroup),
        );
        let (Some(ipsec_encryption), Some(ipsec_integrity), Some(ike_encryption), Some(ike_integrity), Some(dh_group), Some(pfs_group)) = parsed else {
            return None;
        };
        let pol = IpsecPolicy {
            sa_life_time_seconds: v.sa_life_time_seconds.value,
            sa_data_size_kilobytes: v.sa_data_size_kilobytes.value,
            ipsec_encryption,
            ipsec_integrity,
            ike_encryption,
            ike_integrity,
            dh_group,
            pfs_group,
        };
        match pol.check() {
            Ok(()) => Some(pol),
            Err((field, msg)) => {
                let loc = match field {
                    "saLifeTimeSeconds" => v.sa_life_time_seconds.referenced,
                    "saDataSizeKilobytes" => v.sa_data_size_kilobytes.referenced,
                    _ => v.ipsec_integrity.referenced,
                };
                self.err_from(origin, &loc, format!("{ppath}.{field}"), format!("{msg} (rule custom-policy-values)"), None);
                None
            }
        }
    }
}

/// "the X has no P", or, for an imported resource, that neither the export nor the lab has it.
fn missing(what: &str, property: &str, origin: &Option<PathBuf>) -> String {
    match origin {
        Some(file) => format!("{what} has no {property}: the export {} does not set it and neither does the lab", file.display()),
        None => format!("{what} has no {property}"),
    }
}

/// `import:` names a file inside the lab's folder: not an absolute path, no `..` out of it,
/// no symlink that leads out of it (an import is read and its values end up in reports).
/// Returns the path to read, or what is wrong with it.
pub(super) fn confined(lab_dir: &Path, import: &str) -> Result<PathBuf, String> {
    use std::path::Component;
    let rel = Path::new(import);
    if import.is_empty() {
        return Err("is empty".to_string());
    }
    if rel.is_absolute() || rel.components().any(|c| matches!(c, Component::Prefix(_) | Component::RootDir)) {
        return Err("is an absolute path; imports are read from the lab's folder only".to_string());
    }
    let mut depth: i32 = 0;
    for c in rel.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            return Err("leads out of the lab's folder (`..`); imports are read from the lab's folder only".to_string());
        }
    }
    let full = lab_dir.join(rel);
    let dir = if lab_dir.as_os_str().is_empty() { Path::new(".") } else { lab_dir };
    if let (Ok(real_dir), Ok(real)) = (dir.canonicalize(), full.canonicalize()) {
        if !real.starts_with(&real_dir) {
            return Err(format!("resolves (through a symbolic link) to {}, outside the lab's folder", real.display()));
        }
    }
    Ok(full)
}

/// The folder a lab's relative paths (imports) are resolved against.
pub fn lab_dir(file: &Path) -> PathBuf {
    file.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Where the BGP checks point their errors.
struct BgpCheck<'a> {
    gpath: &'a str,
    vpath: &'a str,
    lpath: &'a str,
    g_origin: &'a Option<PathBuf>,
    l_origin: &'a Option<PathBuf>,
    g_loc: Location,
    l_loc: Location,
}
