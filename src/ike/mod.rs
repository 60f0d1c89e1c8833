//! The shared IKE vocabulary: the algorithm keywords of strongSwan proposal strings, checked
//! before a proposal ever reaches a daemon so that a typo is reported against the lab file
//! (with the valid keywords) instead of as an opaque `load-conn` failure.

pub mod dh;

/// Encryption keywords strongSwan 5.9 accepts in proposals (the subset vpnlab supports).
const ENCRYPTION: &[&str] = &[
    "aes128",
    "aes192",
    "aes256",
    "aes128gcm8",
    "aes128gcm12",
    "aes128gcm16",
    "aes192gcm8",
    "aes192gcm12",
    "aes192gcm16",
    "aes256gcm8",
    "aes256gcm12",
    "aes256gcm16",
    "aes128gcm64",
    "aes128gcm96",
    "aes128gcm128",
    "aes256gcm64",
    "aes256gcm96",
    "aes256gcm128",
    "3des",
    "des",
    "null",
    "chacha20poly1305",
    "aes128ctr",
    "aes256ctr",
];

const INTEGRITY: &[&str] = &["md5", "sha1", "sha256", "sha384", "sha512", "sha256_96", "aesxcbc"];

const PRF: &[&str] = &["prfmd5", "prfsha1", "prfsha256", "prfsha384", "prfsha512", "prfaesxcbc"];

const ESN: &[&str] = &["esn", "noesn"];

/// Whether a proposal is for IKE (Phase 1) or ESP (Phase 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalKind {
    Ike,
    Esp,
}

/// Checks one proposal string such as `aes256-sha256-modp2048`. The error names the first
/// unknown keyword and lists what would be valid.
pub fn check_proposal(proposal: &str, kind: ProposalKind) -> Result<(), String> {
    if proposal == "default" {
        return Ok(());
    }
    if proposal.trim().is_empty() {
        return Err("an empty proposal".to_string());
    }
    let mut has_encryption = false;
    for token in proposal.split('-') {
        let known = ENCRYPTION.contains(&token)
            || INTEGRITY.contains(&token)
            || dh::DhGroup::from_keyword(token).is_some()
            || (kind == ProposalKind::Ike && PRF.contains(&token))
            || (kind == ProposalKind::Esp && ESN.contains(&token));
        if !known {
            let mut valid = vec![
                format!("encryption {}", ENCRYPTION.join(" ")),
                format!("integrity {}", INTEGRITY.join(" ")),
                format!("DH groups {}", dh::DhGroup::keywords().collect::<Vec<_>>().join(" ")),
            ];
            match kind {
                ProposalKind::Ike => valid.push(format!("PRF {}", PRF.join(" "))),
                ProposalKind::Esp => valid.push("esn noesn".to_string()),
            }
            return Err(format!("unknown algorithm `{token}` in proposal `{proposal}` (valid: {})", valid.join("; ")));
        }
        has_encryption |= ENCRYPTION.contains(&token);
    }
    if !has_encryption {
        return Err(format!("proposal `{proposal}` names no encryption algorithm"));
    }
    Ok(())
}

/// Checks a strongSwan duration such as `27000s`, `8h`, `45m`, `1d` or a bare number of seconds.
pub fn check_duration(text: &str) -> Result<u64, String> {
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = digits.parse().map_err(|_| format!("`{text}` is not a duration (valid: a number with s, m, h or d, e.g. 27000s or 8h)"))?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("`{text}` has an unknown unit `{unit}` (valid: s, m, h or d, e.g. 27000s or 8h)")),
    };
    Ok(n * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_proposals() {
        for p in ["aes256-sha256-modp2048", "aes256gcm16-prfsha256-ecp384", "3des-sha1-modp1024"] {
            check_proposal(p, ProposalKind::Ike).unwrap();
        }
        for p in ["aes256-sha256", "aes256gcm16", "aes128-sha1-modp2048-noesn"] {
            check_proposal(p, ProposalKind::Esp).unwrap();
        }
    }

    #[test]
    fn names_the_unknown_keyword() {
        let e = check_proposal("aes257-sha256-modp2048", ProposalKind::Ike).unwrap_err();
        assert!(e.starts_with("unknown algorithm `aes257` in proposal `aes257-sha256-modp2048`"), "{e}");
        let e = check_proposal("sha256-modp2048", ProposalKind::Ike).unwrap_err();
        assert_eq!(e, "proposal `sha256-modp2048` names no encryption algorithm");
        let e = check_proposal("aes256-sha256-prfsha256", ProposalKind::Esp).unwrap_err();
        assert!(e.contains("`prfsha256`"), "{e}");
    }

    #[test]
    fn durations() {
        assert_eq!(check_duration("27000s"), Ok(27000));
        assert_eq!(check_duration("8h"), Ok(28800));
        assert_eq!(check_duration("45"), Ok(45));
        assert!(check_duration("8 hours").unwrap_err().contains("unknown unit"));
        assert!(check_duration("h").unwrap_err().contains("not a duration"));
    }
}
