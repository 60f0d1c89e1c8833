//! Azure's words in diagnoses: where a fix is made in the portal (and its ARM property), the
//! custom-policy names of algorithms, what the gateway's IKE diagnostic log shows, and how an
//! engineer checks the connection (`az network vpn-connection show`).

use super::AzureSite;
use crate::device::{Remedy, Symptom, Vocabulary};
use crate::ike::dh::DhGroup;
use crate::ike::proposal::{Encryption, Integrity, Proposal};

/// `ipsecPolicies` names of an encryption algorithm, where Azure has one.
fn encryption(e: Encryption) -> Option<&'static str> {
    Some(match e {
        Encryption::Aes128 => "AES128",
        Encryption::Aes192 => "AES192",
        Encryption::Aes256 => "AES256",
        Encryption::Aes128Gcm16 => "GCMAES128",
        Encryption::Aes192Gcm16 => "GCMAES192",
        Encryption::Aes256Gcm16 => "GCMAES256",
        Encryption::TripleDes => "DES3",
        Encryption::Des => "DES",
        _ => return None,
    })
}

fn integrity(i: Integrity) -> Option<&'static str> {
    Some(match i {
        Integrity::Md5 => "MD5",
        Integrity::Sha1 => "SHA1",
        Integrity::Sha256 => "SHA256",
        Integrity::Sha384 => "SHA384",
        _ => return None,
    })
}

/// `dhGroup` names.
fn dh_group(g: DhGroup) -> Option<&'static str> {
    Some(match g {
        DhGroup::Modp768 => "DHGroup1",
        DhGroup::Modp1024 => "DHGroup2",
        DhGroup::Modp2048 => "DHGroup14",
        DhGroup::Modp2048s256 => "DHGroup24",
        DhGroup::Ecp256 => "ECP256",
        DhGroup::Ecp384 => "ECP384",
        _ => return None,
    })
}

/// `pfsGroup` names.
fn pfs_group(g: DhGroup) -> Option<&'static str> {
    Some(match g {
        DhGroup::Modp768 => "PFS1",
        DhGroup::Modp1024 => "PFS2",
        DhGroup::Modp2048 => "PFS2048",
        DhGroup::Modp2048s256 => "PFS24",
        DhGroup::Ecp256 => "ECP256",
        DhGroup::Ecp384 => "ECP384",
        _ => return None,
    })
}

fn first<T: Copy>(list: &[T], name: fn(T) -> Option<&'static str>) -> Option<&'static str> {
    list.iter().find_map(|x| name(*x))
}

/// The custom-policy fields for an IKE proposal, or why Azure cannot match it.
fn ike_policy(p: &Proposal) -> String {
    let enc = first(&p.encryption, encryption);
    let aead = p.encryption.iter().any(|e| e.is_aead());
    let int = if aead { Some("SHA256") } else { first(&p.integrity, integrity) };
    let dh = first(&p.dh_groups(), dh_group);
    match (enc, int, dh) {
        (Some(e), Some(i), Some(d)) => format!("IKE encryption {e}, IKE integrity {i}, DH group {d}"),
        _ => format!("nothing: Azure has no custom-policy value for {p}; change the firewall instead"),
    }
}

/// The custom-policy fields for an ESP proposal.
fn esp_policy(p: &Proposal) -> String {
    let Some(e) = first(&p.encryption, encryption) else {
        return format!("nothing: Azure has no IPsec encryption for {p}; change the firewall instead");
    };
    let aead = p.encryption.iter().any(|e| e.is_aead());
    let i = if aead { Some(e) } else { first(&p.integrity, integrity) };
    let pfs = match p.dh_groups().first() {
        None => Some("None"),
        Some(g) => pfs_group(*g),
    };
    match (i, pfs) {
        (Some(i), Some(pfs)) => format!("IPsec encryption {e}, IPsec integrity {i}, PFS group {pfs}"),
        _ => format!("nothing: Azure has no custom-policy value for {p}; change the firewall instead"),
    }
}

const POLICY: &str = "Portal: Connection → Configuration → IPsec/IKE policy: Custom";

/// `az network vpn-connection ipsec-policy add` flags for an IKE proposal (the IPsec half
/// must be given too: a custom policy is one complete combination).
fn ike_flags(p: &Proposal) -> String {
    let enc = first(&p.encryption, encryption).unwrap_or("<IKE encryption>");
    let aead = p.encryption.iter().any(|e| e.is_aead());
    let int = if aead { "SHA256" } else { first(&p.integrity, integrity).unwrap_or("<IKE integrity>") };
    let dh = first(&p.dh_groups(), dh_group).unwrap_or("<DH group>");
    format!("--ike-encryption {enc} --ike-integrity {int} --dh-group {dh} --ipsec-encryption <...> --ipsec-integrity <...> --pfs-group <...> --sa-lifetime 27000 --sa-max-size 102400000")
}

/// The same for an ESP proposal.
fn esp_flags(p: &Proposal) -> String {
    let enc = first(&p.encryption, encryption).unwrap_or("<IPsec encryption>");
    let aead = p.encryption.iter().any(|e| e.is_aead());
    let int = if aead { enc } else { first(&p.integrity, integrity).unwrap_or("<IPsec integrity>") };
    let pfs = match p.dh_groups().first() {
        None => "None",
        Some(g) => pfs_group(*g).unwrap_or("<PFS group>"),
    };
    format!("--ipsec-encryption {enc} --ipsec-integrity {int} --pfs-group {pfs} --ike-encryption <...> --ike-integrity <...> --dh-group <...> --sa-lifetime 27000 --sa-max-size 102400000")
}

impl Vocabulary for AzureSite {
    fn name(&self) -> &'static str {
        "Azure"
    }

    fn remedy(&self, remedy: &Remedy) -> String {
        let conn = &self.connection.name;
        let lng = &self.local_gateway.name;
        let set = |property: &str| format!("az resource update -g <rg> -n {conn} --resource-type Microsoft.Network/connections --set properties.{property}");
        let policy_cli = |fields: &str| format!("az network vpn-connection ipsec-policy add -g <rg> --connection-name {conn} {fields}");
        match remedy {
            Remedy::IkeVersion(v) => format!(
                "Portal: Connection {conn} → Configuration → IKE Protocol: {} (ARM connectionProtocol; a PolicyBased gateway runs IKEv1 only). CLI: {}",
                super::protocol_name(*v),
                set(&format!("connectionProtocol={}", super::protocol_name(*v)))
            ),
            Remedy::IkeProposals(list) => match list.first() {
                Some(p) => format!("{POLICY} with {} (the Default policy accepts DH group 2 only). CLI: {}", ike_policy(p), policy_cli(&ike_flags(p))),
                None => format!("{POLICY}, with the firewall's IKE encryption, integrity and DH group"),
            },
            Remedy::EspProposals(list) => match list.first() {
                Some(p) => format!("{POLICY} with {}. CLI: {}", esp_policy(p), policy_cli(&esp_flags(p))),
                None => format!("{POLICY}, with the firewall's IPsec encryption, integrity and PFS group"),
            },
            Remedy::PfsGroup(Some(g)) => {
                let name = pfs_group(*g).unwrap_or("(none for this group)");
                format!("{POLICY} → PFS Group {name}, so that Azure's own rekeys offer it too (ARM ipsecPolicies[0].pfsGroup). CLI: {}", policy_cli(&format!("--pfs-group {name} ...")))
            }
            Remedy::PfsGroup(None) => format!("{POLICY} → PFS Group None (ARM ipsecPolicies[0].pfsGroup). CLI: {}", policy_cli("--pfs-group None ...")),
            Remedy::ChildLifetimeBelow(s) => format!(
                "{POLICY} → IPsec SA lifetime in seconds below {s} (ARM saLifeTimeSeconds, at least 300). CLI: {}",
                policy_cli(&format!("--sa-lifetime {} ...", (s * 2 / 15).max(300)))
            ),
            Remedy::Selectors { local, remote } => {
                let nets = |l: &[ipnet::Ipv4Net]| l.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
                if self.gateway.vpn_type == super::VpnType::PolicyBased {
                    format!(
                        "the policy-based gateway's pairs are the VNet's address space x the local network gateway's: Portal: Local network gateway {lng} → Configuration → Address space: {} (the firewall's local networks). CLI: az network local-gateway update -g <rg> -n {lng} --local-address-prefixes {}",
                        nets(remote),
                        nets(remote)
                    )
                } else {
                    format!(
                        "Portal: Connection {conn} → Configuration → Use policy based traffic selector: Enable, with local network gateway prefixes that match the firewall's ({}; ARM usePolicyBasedTrafficSelectors, trafficSelectorPolicies: local {} remote {}). CLI: az network vpn-connection update -g <rg> -n {conn} --use-policy-based-traffic-selectors true",
                        nets(remote),
                        nets(local),
                        nets(remote)
                    )
                }
            }
            Remedy::RetypePresharedKey => {
                format!("Portal: Connection {conn} → Authentication → Shared key (Azure refuses spaces, so an extra character is on the other side). Check: az network vpn-connection shared-key show -g <rg> --connection-name {conn}")
            }
            Remedy::SamePresharedKey => format!(
                "Portal: Connection {conn} → Authentication → Shared key; both must match byte for byte. CLI: az network vpn-connection shared-key update -g <rg> --connection-name {conn} --value '<the firewall's key>'"
            ),
            Remedy::DeadPeerDetection => format!("Portal: Connection {conn} → Configuration → DPD timeout in seconds (9-3600, default 45). CLI: {}", set("dpdTimeoutSeconds=45")),
            Remedy::NatTraversal => "nothing to change on Azure: it supports NAT-T; the on-premises side must initiate when it is behind NAT".into(),
            Remedy::TunnelRoute(p) => format!(
                "Portal: Local network gateway {lng} → Configuration → Address space: add {p}; Azure routes into the tunnel only what that list holds. CLI: az network local-gateway update -g <rg> -n {lng} --local-address-prefixes <the current prefixes> {p}"
            ),
            Remedy::AllowForward { src, dst, .. } => format!("the network security group of the VM's subnet or NIC must allow {src} -> {dst}"),
            Remedy::TunnelMtu { mss, .. } => {
                format!("nothing Azure lets you set: Microsoft recommends TCP MSS {mss} and tunnel MTU 1400 on the on-premises device; fragments are not carried")
            }
            Remedy::AllowInitiation => format!("Portal: Connection {conn} → Configuration → Connection mode: Default or InitiatorOnly. CLI: {}", set("connectionMode=Default")),
            Remedy::AllowResponding => format!(
                "Portal: Connection {conn} → Configuration → Connection mode: Default or ResponderOnly, so the firewall may initiate. CLI: {}",
                set("connectionMode=Default")
            ),
            Remedy::PeerAddress { name, address } => match name {
                Some(_) => format!(
                    "Portal: Local network gateway {lng} → Configuration: FQDN (re-resolved every 5 minutes while disconnected) or the new IP address {address}; resetting the gateway also re-resolves. CLI: az network vnet-gateway reset -g <rg> -n {}",
                    self.gateway.name
                ),
                None => format!("Portal: Local network gateway {lng} → Configuration → IP address: {address}. CLI: az network local-gateway update -g <rg> -n {lng} --gateway-ip-address {address}"),
            },
            Remedy::DynamicDns { name, address } => format!("the gateway's own address does not change; {name} is not Azure's to update (it should give {address})"),
            Remedy::BgpLocalAsn(n) => format!(
                "Portal: Virtual network gateway {} → Configuration → Autonomous system number (ASN): {n}. CLI: az network vnet-gateway update -g <rg> -n {} --asn {n}",
                self.gateway.name, self.gateway.name
            ),
            Remedy::BgpPeerAsn(n) => {
                format!("Portal: Local network gateway {lng} → Configuration → Configure BGP settings → ASN: {n}. CLI: az network local-gateway update -g <rg> -n {lng} --asn {n}")
            }
            Remedy::BgpHostRoute(a) => format!(
                "Portal: Local network gateway {lng} → Configuration → BGP peer IP address: {a} (Azure routes the peer IP into the tunnel itself). CLI: az network local-gateway update -g <rg> -n {lng} --bgp-peering-address {a}"
            ),
            Remedy::BgpActive => "nothing to set: Azure opens BGP sessions from its GatewaySubnet address, never from an APIPA one".into(),
            Remedy::BgpPolicy => "nothing to set: Azure's policy is fixed (it never advertises a default route, and refuses the VNet's own prefixes)".into(),
            Remedy::BgpWithdraw(list) => format!("nothing to set: Azure refuses {} from the peer on its own", crate::device::prefix_list(list)),
            Remedy::BgpAtMost(n) => format!("nothing to set: {n} prefixes per peer is Azure's fixed limit"),
            Remedy::BgpHoldTime(_) => "nothing to set: Azure's BGP timers are fixed (keepalive 60 s, hold 180 s)".into(),
            Remedy::BgpInstallRoutes => "nothing to set: the gateway always routes by what it learns".into(),
            Remedy::Nothing(why) => format!("nothing to change on Azure: {why}"),
        }
    }

    /// What the gateway's IKEDiagnosticLog shows (Azure-style: the winerror names Azure logs
    /// for these failures, reference azure-troubleshooting-surface.md).
    fn log_line(&self, symptom: Symptom) -> Option<String> {
        let line = match symptom {
            Symptom::PeerNotResponding => "IKEDiagnosticLog: no [RECEIVED] records from the peer; connectionStatus Connecting, retried every few seconds",
            Symptom::Phase1NoProposal | Symptom::Phase2NoProposal | Symptom::RekeyRefused => {
                "IKEDiagnosticLog: NO_PROPOSAL_CHOSEN, ErrorCode 13868 ERROR_IPSEC_IKE_POLICY_MATCH (Azure-style)"
            }
            Symptom::AuthenticationFailed => "IKEDiagnosticLog: ErrorCode 13801 ERROR_IPSEC_IKE_AUTH_FAIL (Azure-style)",
            Symptom::SelectorsRefused => "IKEDiagnosticLog: 'Received Traffic Selector payload request' then SA_NEGOTIATION_FAILED (Azure-style)",
            Symptom::DeadPeer => "TunnelDiagnosticLog: TunnelDisconnected after the DPD timeout",
            Symptom::NotRouted | Symptom::Blocked => "connection blade: Connected, egress bytes growing, ingress bytes not (or the reverse)",
            Symptom::NothingSent => "connection blade: NotConnected; IKEDiagnosticLog: no records at all for the connection",
            Symptom::BgpNoSession => "Virtual network gateway → Monitoring → BGP peers: the peer's Status is Connecting, not Connected; RouteDiagnosticLog: BGP session with the peer down",
            Symptom::BgpNoRoutes => "Virtual network gateway → Monitoring → BGP peers: Connected, Routes received 0; Learned routes lists nothing from the peer",
        };
        Some(line.to_string())
    }

    fn check(&self) -> String {
        format!(
            "az network vpn-connection show --name {} --resource-group <rg> --query '{{status:connectionStatus, in:ingressBytesTransferred, out:egressBytesTransferred}}'",
            self.connection.name
        )
    }
}
