//! The simulated Azure VPN Gateway: Azure's resources and rules, and the strongSwan
//! configuration that makes a charon behave like the gateway.
//!
//! Scope so far (issue 2): a route-based gateway with one site-to-site connection to one local
//! network gateway, the Default policy or one custom IPsec/IKE policy, DPD timeout and
//! connection mode. Each rule cites its source in `shared/reference/azure-vpn-gateway.md`
//! (S-numbers). Nothing here touches the system.

pub mod rules;

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::model::lab::{Auth, Child, Connection, IkeVersion, Secret, StrongswanProfile};

#[derive(Debug, Clone)]
pub struct AzureSite {
    pub gateway: VirtualNetworkGateway,
    pub vnet_name: String,
    pub vnet_prefixes: Vec<Ipv4Net>,
    pub local_gateway: LocalNetworkGateway,
    pub connection: AzureConnection,
    /// The charon configuration derived from the above.
    pub profile: StrongswanProfile,
}

#[derive(Debug, Clone)]
pub struct VirtualNetworkGateway {
    pub name: String,
    pub vpn_type: VpnType,
    pub sku: Sku,
    pub public_ip: Ipv4Addr,
}

#[derive(Debug, Clone)]
pub struct LocalNetworkGateway {
    pub name: String,
    pub gateway_ip: Ipv4Addr,
    pub prefixes: Vec<Ipv4Net>,
}

#[derive(Clone)]
pub struct AzureConnection {
    pub name: String,
    pub protocol: IkeVersion,
    pub shared_key: String,
    pub policy: Option<IpsecPolicy>,
    pub dpd_timeout_seconds: u32,
    pub mode: ConnectionMode,
}

impl std::fmt::Debug for AzureConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureConnection")
            .field("name", &self.name)
            .field("protocol", &self.protocol)
            .field("shared_key", &"<redacted>")
            .field("policy", &self.policy)
            .field("dpd_timeout_seconds", &self.dpd_timeout_seconds)
            .field("mode", &self.mode)
            .finish()
    }
}

/// Declares an enum of Azure names with parsing that lists the valid names on error.
macro_rules! azure_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn azure_name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            /// Parses Azure's spelling; the error lists every valid value.
            pub fn parse(text: &str) -> Result<Self, String> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Self::ALL.iter().map(|v| v.azure_name()).collect::<Vec<_>>().join(", ")),
                }
            }
        }
    };
}

azure_enum!(VpnType { RouteBased = "RouteBased", PolicyBased = "PolicyBased" });

azure_enum!(
    /// Gateway SKUs [S9]. Legacy Standard/HighPerformance are retired and not accepted.
    Sku {
        Basic = "Basic",
        VpnGw1 = "VpnGw1", VpnGw2 = "VpnGw2", VpnGw3 = "VpnGw3", VpnGw4 = "VpnGw4", VpnGw5 = "VpnGw5",
        VpnGw1AZ = "VpnGw1AZ", VpnGw2AZ = "VpnGw2AZ", VpnGw3AZ = "VpnGw3AZ", VpnGw4AZ = "VpnGw4AZ",
        VpnGw5AZ = "VpnGw5AZ",
    }
);

azure_enum!(ConnectionMode { Default = "Default", InitiatorOnly = "InitiatorOnly", ResponderOnly = "ResponderOnly" });

azure_enum!(IkeEncryption { GcmAes256 = "GCMAES256", GcmAes128 = "GCMAES128", Aes256 = "AES256", Aes192 = "AES192", Aes128 = "AES128" });
azure_enum!(IkeIntegrity { Sha384 = "SHA384", Sha256 = "SHA256", Sha1 = "SHA1", Md5 = "MD5" });
azure_enum!(DhGroup {
    DhGroup24 = "DHGroup24", Ecp384 = "ECP384", Ecp256 = "ECP256", DhGroup14 = "DHGroup14",
    DhGroup2048 = "DHGroup2048", DhGroup2 = "DHGroup2", DhGroup1 = "DHGroup1", None = "None",
});
azure_enum!(IpsecEncryption {
    GcmAes256 = "GCMAES256", GcmAes192 = "GCMAES192", GcmAes128 = "GCMAES128", Aes256 = "AES256",
    Aes192 = "AES192", Aes128 = "AES128", Des3 = "DES3", Des = "DES", None = "None",
});
azure_enum!(IpsecIntegrity {
    GcmAes256 = "GCMAES256", GcmAes192 = "GCMAES192", GcmAes128 = "GCMAES128", Sha256 = "SHA256",
    Sha1 = "SHA1", Md5 = "MD5",
});
azure_enum!(PfsGroup {
    Pfs24 = "PFS24", Ecp384 = "ECP384", Ecp256 = "ECP256", Pfs2048 = "PFS2048", Pfs2 = "PFS2",
    Pfs1 = "PFS1", Pfs14 = "PFS14", PfsMm = "PFSMM", None = "None",
});

/// One custom IPsec/IKE policy (`ipsecPolicies[0]`) [S2] [S3].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpsecPolicy {
    pub sa_life_time_seconds: u32,
    pub sa_data_size_kilobytes: u64,
    pub ipsec_encryption: IpsecEncryption,
    pub ipsec_integrity: IpsecIntegrity,
    pub ike_encryption: IkeEncryption,
    pub ike_integrity: IkeIntegrity,
    pub dh_group: DhGroup,
    pub pfs_group: PfsGroup,
}

impl IkeEncryption {
    fn keyword(self) -> &'static str {
        match self {
            IkeEncryption::GcmAes256 => "aes256gcm16",
            IkeEncryption::GcmAes128 => "aes128gcm16",
            IkeEncryption::Aes256 => "aes256",
            IkeEncryption::Aes192 => "aes192",
            IkeEncryption::Aes128 => "aes128",
        }
    }
    fn is_gcm(self) -> bool {
        matches!(self, IkeEncryption::GcmAes256 | IkeEncryption::GcmAes128)
    }
}

impl IkeIntegrity {
    fn keyword(self) -> &'static str {
        match self {
            IkeIntegrity::Sha384 => "sha384",
            IkeIntegrity::Sha256 => "sha256",
            IkeIntegrity::Sha1 => "sha1",
            IkeIntegrity::Md5 => "md5",
        }
    }
}

impl DhGroup {
    /// strongSwan keyword of the IANA group (§4.3 of the reference).
    fn keyword(self) -> Option<&'static str> {
        match self {
            DhGroup::DhGroup24 => Some("modp2048s256"),
            DhGroup::Ecp384 => Some("ecp384"),
            DhGroup::Ecp256 => Some("ecp256"),
            DhGroup::DhGroup14 | DhGroup::DhGroup2048 => Some("modp2048"),
            DhGroup::DhGroup2 => Some("modp1024"),
            DhGroup::DhGroup1 => Some("modp768"),
            DhGroup::None => None,
        }
    }
}

impl IpsecEncryption {
    fn keyword(self) -> &'static str {
        match self {
            IpsecEncryption::GcmAes256 => "aes256gcm16",
            IpsecEncryption::GcmAes192 => "aes192gcm16",
            IpsecEncryption::GcmAes128 => "aes128gcm16",
            IpsecEncryption::Aes256 => "aes256",
            IpsecEncryption::Aes192 => "aes192",
            IpsecEncryption::Aes128 => "aes128",
            IpsecEncryption::Des3 => "3des",
            IpsecEncryption::Des => "des",
            IpsecEncryption::None => "null",
        }
    }
    fn gcm_integrity(self) -> Option<IpsecIntegrity> {
        match self {
            IpsecEncryption::GcmAes256 => Some(IpsecIntegrity::GcmAes256),
            IpsecEncryption::GcmAes192 => Some(IpsecIntegrity::GcmAes192),
            IpsecEncryption::GcmAes128 => Some(IpsecIntegrity::GcmAes128),
            _ => None,
        }
    }
}

impl IpsecIntegrity {
    fn keyword(self) -> Option<&'static str> {
        match self {
            IpsecIntegrity::Sha256 => Some("sha256"),
            IpsecIntegrity::Sha1 => Some("sha1"),
            IpsecIntegrity::Md5 => Some("md5"),
            _ => None,
        }
    }
}

impl PfsGroup {
    fn keyword(self, main_mode: DhGroup) -> Option<&'static str> {
        match self {
            PfsGroup::Pfs24 => Some("modp2048s256"),
            PfsGroup::Ecp384 => Some("ecp384"),
            PfsGroup::Ecp256 => Some("ecp256"),
            // PFS14 is unconfirmed for Azure; read as group 14 like the Windows enum [S13] [S20].
            PfsGroup::Pfs2048 | PfsGroup::Pfs14 => Some("modp2048"),
            PfsGroup::Pfs2 => Some("modp1024"),
            PfsGroup::Pfs1 => Some("modp768"),
            // PFSMM: "same group as main mode" (Windows IPSEC_PFS_MM) [S20].
            PfsGroup::PfsMm => main_mode.keyword(),
            PfsGroup::None => None,
        }
    }
}

impl IpsecPolicy {
    /// Checks the rules Azure applies to a policy [S2] [S3] [S4]. The error names the field.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.sa_life_time_seconds < 300 {
            return Err(("saLifeTimeSeconds", format!("{} is below Azure's minimum of 300 seconds", self.sa_life_time_seconds)));
        }
        if self.sa_data_size_kilobytes < 1024 {
            return Err(("saDataSizeKilobytes", format!("{} is below Azure's minimum of 1024 KB", self.sa_data_size_kilobytes)));
        }
        match (self.ipsec_encryption.gcm_integrity(), self.ipsec_integrity) {
            (Some(required), integrity) if integrity != required => {
                return Err(("ipsecIntegrity", format!(
                    "with ipsecEncryption {} the integrity must be the same GCM algorithm, {} (Azure FAQ)",
                    self.ipsec_encryption.azure_name(), required.azure_name()
                )));
            }
            (None, integrity) if integrity.keyword().is_none() => {
                return Err(("ipsecIntegrity", format!(
                    "{} needs a GCM ipsecEncryption of the same size; with {} use SHA256, SHA1 or MD5",
                    integrity.azure_name(), self.ipsec_encryption.azure_name()
                )));
            }
            _ => {}
        }
        Ok(())
    }

    /// The single IKE proposal Azure offers and accepts with this policy.
    pub fn ike_proposal(&self) -> String {
        let mut parts = vec![self.ike_encryption.keyword().to_string()];
        if self.ike_encryption.is_gcm() {
            // With GCM, Azure uses the integrity value as PRF only [S4].
            parts.push(format!("prf{}", self.ike_integrity.keyword()));
        } else {
            parts.push(self.ike_integrity.keyword().to_string());
        }
        if let Some(dh) = self.dh_group.keyword() {
            parts.push(dh.to_string());
        }
        parts.join("-")
    }

    /// The single ESP proposal Azure offers and accepts with this policy.
    pub fn esp_proposal(&self) -> String {
        let mut parts = vec![self.ipsec_encryption.keyword().to_string()];
        if let Some(i) = self.ipsec_integrity.keyword() {
            parts.push(i.to_string());
        }
        if let Some(pfs) = self.pfs_group.keyword(self.dh_group) {
            parts.push(pfs.to_string());
        }
        parts.join("-")
    }
}

/// Route-based Default policy, Phase 1, in Azure's order [S1]: DH group 2 only.
pub const DEFAULT_IKE_PROPOSALS_ROUTE_BASED: &[&str] = &[
    "aes256-sha1-modp1024",
    "aes256-sha256-modp1024",
    "aes128-sha1-modp1024",
    "aes128-sha256-modp1024",
    "3des-sha1-modp1024",
    "3des-sha256-modp1024",
];

/// Route-based Default policy, Phase 2 offers Azure accepts as responder, in order [S1].
pub const DEFAULT_ESP_PROPOSALS_ROUTE_BASED_RESPONDER: &[&str] = &[
    "aes256gcm16", "aes256-sha1", "3des-sha1", "aes256-sha256", "aes128-sha1", "3des-sha256",
    "des-sha1", "aes256-sha1-modp768", "aes256-sha1-modp1024", "aes256-sha1-modp2048",
    "aes128-sha1-modp768", "aes128-sha1-modp1024", "aes128-sha1-modp2048", "3des-sha1-modp768",
    "3des-sha1-modp1024", "3des-sha256-modp1024", "aes256-sha256-modp768",
    "aes256-sha256-modp1024", "aes256-sha256-modp2048", "aes256-sha1-modp2048s256",
    "aes256-sha256-modp2048s256", "aes128-sha256", "aes128-sha256-modp768",
    "aes128-sha256-modp1024", "aes128-sha256-modp2048", "3des-sha1-modp2048",
];

/// IKE SA lifetime: fixed at 28,800 s with or without a custom policy [S2] [S3].
pub const IKE_SA_LIFETIME_SECONDS: u64 = 28_800;
/// Route-based Default policy CHILD SA lifetime [S1].
pub const DEFAULT_CHILD_SA_LIFETIME_SECONDS: u64 = 27_000;

impl AzureSite {
    /// The resources in Azure's words, one line each, for status tables.
    pub fn summary(&self) -> Vec<String> {
        let join = |v: &[Ipv4Net]| v.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ");
        let c = &self.connection;
        let policy = match &c.policy {
            None => "Default policy".to_string(),
            Some(p) => format!(
                "custom policy IKE {}/{}/{}, IPsec {}/{}/{}, {} s",
                p.ike_encryption.azure_name(),
                p.ike_integrity.azure_name(),
                p.dh_group.azure_name(),
                p.ipsec_encryption.azure_name(),
                p.ipsec_integrity.azure_name(),
                p.pfs_group.azure_name(),
                p.sa_life_time_seconds
            ),
        };
        let protocol = match c.protocol {
            IkeVersion::V1 => "IKEv1",
            _ => "IKEv2",
        };
        vec![
            format!("gateway {} ({}, {}) {}", self.gateway.name, self.gateway.vpn_type.azure_name(), self.gateway.sku.azure_name(), self.gateway.public_ip),
            format!("vnet {} [{}]", self.vnet_name, join(&self.vnet_prefixes)),
            format!("local network gateway {} {} [{}]", self.local_gateway.name, self.local_gateway.gateway_ip, join(&self.local_gateway.prefixes)),
            format!("connection {}: {protocol}, {policy}, DPD {} s, {} mode", c.name, c.dpd_timeout_seconds, c.mode.azure_name()),
        ]
    }

    /// Builds the charon configuration of the simulated gateway.
    pub fn build_profile(&mut self) {
        let (ike, esp, child_life) = match &self.connection.policy {
            Some(p) => (vec![p.ike_proposal()], vec![p.esp_proposal()], u64::from(p.sa_life_time_seconds)),
            None => (
                DEFAULT_IKE_PROPOSALS_ROUTE_BASED.iter().map(|s| s.to_string()).collect(),
                DEFAULT_ESP_PROPOSALS_ROUTE_BASED_RESPONDER.iter().map(|s| s.to_string()).collect(),
                DEFAULT_CHILD_SA_LIFETIME_SECONDS,
            ),
        };
        let public_ip = self.gateway.public_ip.to_string();
        let lng_ip = self.local_gateway.gateway_ip.to_string();
        let any: Ipv4Net = "0.0.0.0/0".parse().expect("constant prefix");
        // Rekey at 90 % of the lifetime without jitter: Azure's lifetimes are local and a
        // deterministic schedule keeps rekey scenarios reproducible. (Setting only life_time
        // makes strongSwan derive a negative rekey time; see the lab notes, Surprises 1.)
        let child = Child {
            name: self.connection.name.clone(),
            // Route-based gateways negotiate any-to-any selectors [S2] [S5].
            local_ts: vec![any],
            remote_ts: vec![any],
            esp_proposals: esp,
            rekey_time: Some(format!("{}s", child_life * 9 / 10)),
            life_time: Some(format!("{child_life}s")),
            rand_time: Some("0s".to_string()),
            dpd_action: Some("clear".to_string()),
            start_action: Some("none".to_string()),
        };
        let connection = Connection {
            name: self.connection.name.clone(),
            version: self.connection.protocol,
            local_addrs: vec![public_ip.clone()],
            remote_addrs: vec![lng_ip.clone()],
            proposals: ike,
            // The DPD timeout is Azure's only documented DPD figure [S2]; probing at a third of
            // it lets the retransmit schedule end near the timeout.
            dpd_delay: Some(format!("{}s", (self.connection.dpd_timeout_seconds / 3).max(1))),
            // Azure does not do MOBIKE; left on, it also races DPD (lab notes §9).
            mobike: Some(false),
            encap: None,
            rekey_time: Some(format!("{IKE_SA_LIFETIME_SECONDS}s")),
            local: Auth { auth: "psk".to_string(), id: Some(public_ip.clone()) },
            remote: Auth { auth: "psk".to_string(), id: None },
            children: vec![child],
        };
        self.profile = StrongswanProfile {
            connections: vec![connection],
            secrets: vec![Secret { ids: vec![public_ip, lng_ip], secret: self.connection.shared_key.clone() }],
            initiator_only: self.connection.mode == ConnectionMode::InitiatorOnly,
        };
    }
}

/// Azure's shared-key rules: printable ASCII except space, hyphen and tilde; 1–128
/// characters [S2] [S13]. Returns what is wrong, never the key itself.
pub fn check_shared_key(key: &str) -> Result<(), String> {
    let len = key.chars().count();
    if len == 0 || len > 128 {
        return Err(format!("is {len} characters long; Azure accepts 1 to 128"));
    }
    if let Some((i, c)) = key.chars().enumerate().find(|(_, c)| !c.is_ascii_graphic() || matches!(c, '-' | '~')) {
        let what = match c {
            ' ' => "a space".to_string(),
            '\n' => "a newline".to_string(),
            '\t' => "a tab".to_string(),
            '-' => "a hyphen".to_string(),
            '~' => "a tilde".to_string(),
            c => format!("the character U+{:04X}", c as u32),
        };
        return Err(format!(
            "contains {what} at position {}; Azure accepts printable ASCII except space, hyphen (-) and tilde (~)",
            i + 1
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> IpsecPolicy {
        IpsecPolicy {
            sa_life_time_seconds: 27000,
            sa_data_size_kilobytes: 102_400_000,
            ipsec_encryption: IpsecEncryption::Aes256,
            ipsec_integrity: IpsecIntegrity::Sha256,
            ike_encryption: IkeEncryption::Aes256,
            ike_integrity: IkeIntegrity::Sha256,
            dh_group: DhGroup::DhGroup14,
            pfs_group: PfsGroup::None,
        }
    }

    #[test]
    fn custom_policy_maps_to_one_proposal_each() {
        let p = policy();
        assert_eq!(p.ike_proposal(), "aes256-sha256-modp2048");
        assert_eq!(p.esp_proposal(), "aes256-sha256");
        let gcm = IpsecPolicy {
            ike_encryption: IkeEncryption::GcmAes256,
            ike_integrity: IkeIntegrity::Sha384,
            dh_group: DhGroup::Ecp384,
            ipsec_encryption: IpsecEncryption::GcmAes256,
            ipsec_integrity: IpsecIntegrity::GcmAes256,
            pfs_group: PfsGroup::PfsMm,
            ..p
        };
        assert_eq!(gcm.ike_proposal(), "aes256gcm16-prfsha384-ecp384");
        assert_eq!(gcm.esp_proposal(), "aes256gcm16-ecp384");
        gcm.check().unwrap();
    }

    #[test]
    fn gcm_integrity_must_match() {
        let bad = IpsecPolicy { ipsec_encryption: IpsecEncryption::GcmAes256, ..policy() };
        let (field, msg) = bad.check().unwrap_err();
        assert_eq!(field, "ipsecIntegrity");
        assert!(msg.contains("GCMAES256"), "{msg}");
        let bad = IpsecPolicy { ipsec_integrity: IpsecIntegrity::GcmAes128, ..policy() };
        assert_eq!(bad.check().unwrap_err().0, "ipsecIntegrity");
        let bad = IpsecPolicy { sa_life_time_seconds: 299, ..policy() };
        assert_eq!(bad.check().unwrap_err().0, "saLifeTimeSeconds");
    }

    #[test]
    fn parse_lists_valid_names() {
        assert_eq!(DhGroup::parse("DHGroup14"), Ok(DhGroup::DhGroup14));
        assert_eq!(
            DhGroup::parse("DH14").unwrap_err(),
            "DHGroup24, ECP384, ECP256, DHGroup14, DHGroup2048, DHGroup2, DHGroup1, None"
        );
    }

    #[test]
    fn shared_key_rules() {
        check_shared_key("S2sVpnAzure!Psk#2026").unwrap();
        assert!(check_shared_key("abc ").unwrap_err().starts_with("contains a space at position 4"));
        assert!(check_shared_key("a-b").unwrap_err().contains("hyphen"));
        assert!(check_shared_key("").unwrap_err().contains("1 to 128"));
        assert!(check_shared_key(&"x".repeat(129)).is_err());
    }
}
