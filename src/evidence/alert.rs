//! What an IKE daemon alerts about: the kinds of strongSwan's error-notify records
//! (`ERROR_NOTIFY_*`), with their wire codes and names. The reader that decodes the records is
//! the driver's (`strongswan/error_notify.rs`); judges and diagnoses match on these kinds.

/// The alert types of error_notify_msg.h (`ERROR_NOTIFY_*`), strongSwan
/// 5.9.8. Names follow that header, which differs from charon's internal
/// `ALERT_*` names in two places: `RETRANSMIT_CLEARED` (for
/// `ALERT_RETRANSMIT_SEND_CLEARED`) and `NO_ISSUER_CERT` (for
/// `ALERT_CERT_NO_ISSUER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// 1: a RADIUS request timed out.
    RadiusNotResponding,
    /// 2: local authentication failed.
    LocalAuthFailed,
    /// 3: peer authentication failed.
    PeerAuthFailed,
    /// 4: parsing an IKE header failed.
    ParseErrorHeader,
    /// 5: parsing an IKE message body failed.
    ParseErrorBody,
    /// 6: IKE retransmissions exhausted.
    RetransmitSendTimeout,
    /// 7: IKE_SA not established within the half-open timeout.
    HalfOpenTimeout,
    /// 8: no acceptable IKE proposal.
    ProposalMismatchIke,
    /// 9: no acceptable CHILD_SA proposal.
    ProposalMismatchChild,
    /// 10: traffic selectors did not match.
    TsMismatch,
    /// 11: installing the IPsec SA in the kernel failed.
    InstallChildSaFailed,
    /// 12: installing the IPsec policy in the kernel failed.
    InstallChildPolicyFailed,
    /// 13: an old IKE_SA was replaced due to the uniqueness policy.
    UniqueReplace,
    /// 14: a new IKE_SA was rejected due to the uniqueness policy.
    UniqueKeep,
    /// 15: virtual IP allocation failed.
    VipFailure,
    /// 16: an authorization plugin refused the IKE_SA.
    AuthorizationFailed,
    /// 17: certificate expired.
    CertExpired,
    /// 18: certificate revoked.
    CertRevoked,
    /// 19: no trusted issuer certificate found.
    NoIssuerCert,
    /// 20: an IKE message is being retransmitted.
    RetransmitSend,
    /// 21: a response arrived after retransmitting.
    RetransmitCleared,
    /// 22: the peer retransmitted a request.
    RetransmitReceive,
    /// 23: resolving the peer address failed.
    PeerAddrFailed,
    /// 24: the peer did not answer the initial message.
    PeerInitUnreachable,
    /// 25: an IKE message with an unknown SPI arrived.
    InvalidIkeSpi,
    /// 26: traffic selectors were narrowed.
    TsNarrowed,
    /// 27: IKE_SA kept after a CHILD_SA failed.
    KeepOnChildSaFailure,
    /// 28: IKE_SA expired without replacement.
    IkeSaExpired,
    /// 29: certificate status could not be validated.
    CertValidationFailed,
    /// 30: self-signed root certificate is not trusted.
    UntrustedRootCert,
    /// 31: trust chain exceeds the path length constraint.
    CertExceededPathLen,
    /// 32: certificate violates a policy.
    CertPolicyViolation,
    /// A code this module does not know (a newer strongSwan).
    Unknown(u32),
}

/// (code, kind, name) in one table so the three cannot drift apart.
const KINDS: [(u32, AlertKind, &str); 32] = [
    (1, AlertKind::RadiusNotResponding, "RADIUS_NOT_RESPONDING"),
    (2, AlertKind::LocalAuthFailed, "LOCAL_AUTH_FAILED"),
    (3, AlertKind::PeerAuthFailed, "PEER_AUTH_FAILED"),
    (4, AlertKind::ParseErrorHeader, "PARSE_ERROR_HEADER"),
    (5, AlertKind::ParseErrorBody, "PARSE_ERROR_BODY"),
    (6, AlertKind::RetransmitSendTimeout, "RETRANSMIT_SEND_TIMEOUT"),
    (7, AlertKind::HalfOpenTimeout, "HALF_OPEN_TIMEOUT"),
    (8, AlertKind::ProposalMismatchIke, "PROPOSAL_MISMATCH_IKE"),
    (9, AlertKind::ProposalMismatchChild, "PROPOSAL_MISMATCH_CHILD"),
    (10, AlertKind::TsMismatch, "TS_MISMATCH"),
    (11, AlertKind::InstallChildSaFailed, "INSTALL_CHILD_SA_FAILED"),
    (12, AlertKind::InstallChildPolicyFailed, "INSTALL_CHILD_POLICY_FAILED"),
    (13, AlertKind::UniqueReplace, "UNIQUE_REPLACE"),
    (14, AlertKind::UniqueKeep, "UNIQUE_KEEP"),
    (15, AlertKind::VipFailure, "VIP_FAILURE"),
    (16, AlertKind::AuthorizationFailed, "AUTHORIZATION_FAILED"),
    (17, AlertKind::CertExpired, "CERT_EXPIRED"),
    (18, AlertKind::CertRevoked, "CERT_REVOKED"),
    (19, AlertKind::NoIssuerCert, "NO_ISSUER_CERT"),
    (20, AlertKind::RetransmitSend, "RETRANSMIT_SEND"),
    (21, AlertKind::RetransmitCleared, "RETRANSMIT_CLEARED"),
    (22, AlertKind::RetransmitReceive, "RETRANSMIT_RECEIVE"),
    (23, AlertKind::PeerAddrFailed, "PEER_ADDR_FAILED"),
    (24, AlertKind::PeerInitUnreachable, "PEER_INIT_UNREACHABLE"),
    (25, AlertKind::InvalidIkeSpi, "INVALID_IKE_SPI"),
    (26, AlertKind::TsNarrowed, "TS_NARROWED"),
    (27, AlertKind::KeepOnChildSaFailure, "KEEP_ON_CHILD_SA_FAILURE"),
    (28, AlertKind::IkeSaExpired, "IKE_SA_EXPIRED"),
    (29, AlertKind::CertValidationFailed, "CERT_VALIDATION_FAILED"),
    (30, AlertKind::UntrustedRootCert, "UNTRUSTED_ROOT_CERT"),
    (31, AlertKind::CertExceededPathLen, "CERT_EXCEEDED_PATH_LEN"),
    (32, AlertKind::CertPolicyViolation, "CERT_POLICY_VIOLATION"),
];

impl AlertKind {
    pub fn from_code(code: u32) -> Self {
        KINDS.iter().find(|(c, _, _)| *c == code).map(|(_, k, _)| *k).unwrap_or(AlertKind::Unknown(code))
    }

    /// The wire code (`ERROR_NOTIFY_*` value).
    #[cfg(test)]
    pub fn code(&self) -> u32 {
        match self {
            AlertKind::Unknown(c) => *c,
            known => KINDS.iter().find(|(_, k, _)| k == known).map(|(c, _, _)| *c).unwrap_or(0),
        }
    }

    /// strongSwan's name without the `ERROR_NOTIFY_` prefix, e.g.
    /// `"PROPOSAL_MISMATCH_IKE"`; `"UNKNOWN"` for unknown codes.
    pub fn name(&self) -> &'static str {
        KINDS.iter().find(|(_, k, _)| k == self).map(|(_, _, n)| *n).unwrap_or("UNKNOWN")
    }
}

impl std::fmt::Display for AlertKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AlertKind::Unknown(c) => write!(f, "UNKNOWN({c})"),
            k => f.write_str(k.name()),
        }
    }
}
