//! Azure's IPsec/IKE policy vocabulary: the algorithm and group names of `ipsecPolicies`, their
//! rules, their strongSwan keywords, and the Default policy's offer lists [S1] [S2] [S3].
//! Nothing here touches the system.

use super::azure_enum;
use crate::ike::proposal::{parse_all, Ke, Proposal, ProposalKind};

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
                return Err((
                    "ipsecIntegrity",
                    format!(
                        "with ipsecEncryption {} the integrity must be the same GCM algorithm, {}",
                        self.ipsec_encryption.azure_name(),
                        required.azure_name()
                    ),
                ));
            }
            (None, integrity) if integrity.keyword().is_none() => {
                return Err((
                    "ipsecIntegrity",
                    format!(
                        "{} needs a GCM ipsecEncryption of the same size; with {} use SHA256, SHA1 or MD5",
                        integrity.azure_name(),
                        self.ipsec_encryption.azure_name()
                    ),
                ));
            }
            _ => {}
        }
        Ok(())
    }

    /// The single IKE proposal Azure offers and accepts with this policy.
    pub fn ike_proposal(&self) -> Proposal {
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
        parse_all(&[&parts.join("-")], ProposalKind::Ike).remove(0)
    }

    /// The single ESP proposal Azure offers and accepts with this policy.
    pub fn esp_proposal(&self) -> Proposal {
        let mut parts = vec![self.ipsec_encryption.keyword().to_string()];
        if let Some(i) = self.ipsec_integrity.keyword() {
            parts.push(i.to_string());
        }
        if let Some(pfs) = self.pfs_group.keyword(self.dh_group) {
            parts.push(pfs.to_string());
        }
        parse_all(&[&parts.join("-")], ProposalKind::Esp).remove(0)
    }
}

/// Route-based Default policy, Phase 1, in Azure's order [S1]: DH group 2 only.
pub const DEFAULT_IKE_PROPOSALS_ROUTE_BASED: &[&str] =
    &["aes256-sha1-modp1024", "aes256-sha256-modp1024", "aes128-sha1-modp1024", "aes128-sha256-modp1024", "3des-sha1-modp1024", "3des-sha256-modp1024"];

/// Route-based Default policy, Phase 2 offers Azure accepts as responder, in order [S1].
pub const DEFAULT_ESP_PROPOSALS_ROUTE_BASED_RESPONDER: &[&str] = &[
    "aes256gcm16",
    "aes256-sha1",
    "3des-sha1",
    "aes256-sha256",
    "aes128-sha1",
    "3des-sha256",
    "des-sha1",
    "aes256-sha1-modp768",
    "aes256-sha1-modp1024",
    "aes256-sha1-modp2048",
    "aes128-sha1-modp768",
    "aes128-sha1-modp1024",
    "aes128-sha1-modp2048",
    "3des-sha1-modp768",
    "3des-sha1-modp1024",
    "3des-sha256-modp1024",
    "aes256-sha256-modp768",
    "aes256-sha256-modp1024",
    "aes256-sha256-modp2048",
    "aes256-sha1-modp2048s256",
    "aes256-sha256-modp2048s256",
    "aes128-sha256",
    "aes128-sha256-modp768",
    "aes128-sha256-modp1024",
    "aes128-sha256-modp2048",
    "3des-sha1-modp2048",
];

/// Route-based Default policy, Phase 2 offers when Azure initiates, in order: no PFS [S1].
pub const DEFAULT_ESP_PROPOSALS_ROUTE_BASED_INITIATOR: &[&str] = &["aes256gcm16", "aes256-sha1", "3des-sha1", "aes256-sha256", "aes128-sha1", "3des-sha256"];

/// The route-based Default policy as the gateway's charon holds it: one `esp_proposals` list per
/// child serves every exchange, and Azure's role is per exchange (rule
/// default-policy-phase2-per-exchange). The first proposal names the key exchange `none`
/// explicitly: charon takes the KE group of a CREATE_CHILD_SA it starts from the first proposal
/// with a KE transform, so every exchange the gateway starts (its rekeys, a recreate after
/// expiry) carries no KE, as Azure's initiator table has no PFS; as responder the same list
/// still accepts the PFS combinations (measured against charon 5.9.8, ARCHITECTURE.md).
///
/// `azure_starts_first`: which no-PFS pairs the list holds, since they are what the gateway
/// offers in IKE_AUTH when it starts the first exchange (the six initiator offers, with the PFS
/// combinations of the responder table over those six pairs), and otherwise the whole responder
/// table.
pub fn default_route_based_gateway_esp(azure_starts_first: bool) -> Vec<Proposal> {
    let responder = parse_all(DEFAULT_ESP_PROPOSALS_ROUTE_BASED_RESPONDER, ProposalKind::Esp);
    let mut list: Vec<Proposal> = if azure_starts_first {
        let offers = parse_all(DEFAULT_ESP_PROPOSALS_ROUTE_BASED_INITIATOR, ProposalKind::Esp);
        let pfs_over_offers: Vec<Proposal> = responder.into_iter().filter(|p| p.has_pfs() && offers.contains(&p.without_ke())).collect();
        offers.into_iter().chain(pfs_over_offers).collect()
    } else {
        responder
    };
    if let Some(first) = list.first_mut() {
        debug_assert!(!first.has_pfs(), "the first proposal of Azure's tables has no PFS");
        first.ke = vec![Ke::None];
    }
    list
}

/// Policy-based Default policy, Phase 1 (IKEv1 Main Mode), in order [S1].
pub const DEFAULT_IKE_PROPOSALS_POLICY_BASED: &[&str] = &["aes256-sha256-modp1024", "aes256-sha1-modp1024", "aes128-sha1-modp1024", "3des-sha1-modp1024"];

/// Policy-based Default policy, Phase 2 (Quick Mode), in order, no PFS [S1].
pub const DEFAULT_ESP_PROPOSALS_POLICY_BASED: &[&str] = &["aes256-sha256", "aes256-sha1", "aes128-sha1", "3des-sha1"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_lists_start_without_key_exchange_and_keep_the_tables() {
        let text = |l: &[Proposal]| l.iter().map(ToString::to_string).collect::<Vec<_>>();
        let responder = text(&default_route_based_gateway_esp(false));
        assert_eq!(responder[0], "aes256gcm16-none");
        assert_eq!(responder.len(), DEFAULT_ESP_PROPOSALS_ROUTE_BASED_RESPONDER.len());
        assert_eq!(&responder[1..], &DEFAULT_ESP_PROPOSALS_ROUTE_BASED_RESPONDER[1..]);
        let initiator = default_route_based_gateway_esp(true);
        assert_eq!(text(&initiator[..6]), ["aes256gcm16-none", "aes256-sha1", "3des-sha1", "aes256-sha256", "aes128-sha1", "3des-sha256"]);
        // The PFS combinations over the six offered pairs: every PFS row but AES128/SHA256's.
        assert_eq!(initiator.len(), 6 + 15);
        assert!(text(&initiator[6..]).iter().all(|p| !p.starts_with("aes128-sha256")));
        assert!(initiator[6..].iter().all(|p| p.dh_groups().len() == 1));
        assert!(text(&initiator).contains(&"aes256-sha256-modp2048".to_string()));
    }

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
        assert_eq!(p.ike_proposal().to_string(), "aes256-sha256-modp2048");
        assert_eq!(p.esp_proposal().to_string(), "aes256-sha256");
        let gcm = IpsecPolicy {
            ike_encryption: IkeEncryption::GcmAes256,
            ike_integrity: IkeIntegrity::Sha384,
            dh_group: DhGroup::Ecp384,
            ipsec_encryption: IpsecEncryption::GcmAes256,
            ipsec_integrity: IpsecIntegrity::GcmAes256,
            pfs_group: PfsGroup::PfsMm,
            ..p
        };
        assert_eq!(gcm.ike_proposal().to_string(), "aes256gcm16-prfsha384-ecp384");
        assert_eq!(gcm.esp_proposal().to_string(), "aes256gcm16-ecp384");
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
        assert_eq!(DhGroup::parse("DH14").unwrap_err(), "DHGroup24, ECP384, ECP256, DHGroup14, DHGroup2048, DHGroup2, DHGroup1, None");
    }
}
