//! PAN-OS's names for algorithms and DH groups, both ways: the values a crypto profile may hold
//! (pan-os-ipsec.md §2.1) as typed transforms (`aes-256-cbc` → AES-CBC-256, `group14` → MODP
//! 2048), and a typed transform back in PAN-OS's words for fixes and views.

use crate::ike::dh::DhGroup;
use crate::ike::proposal::{Encryption, Integrity};

/// Encryption names of IKE and ESP crypto profiles. `aes128`/`aes192`/`aes256` are the names of
/// configurations from before PAN-OS 7.0 ([P4], the AWS-generated sample [P5]).
const ENCRYPTION: &[(&str, Encryption)] = &[
    ("des", Encryption::Des),
    ("3des", Encryption::TripleDes),
    ("aes-128-cbc", Encryption::Aes128),
    ("aes-192-cbc", Encryption::Aes192),
    ("aes-256-cbc", Encryption::Aes256),
    ("aes-128-gcm", Encryption::Aes128Gcm16),
    ("aes-256-gcm", Encryption::Aes256Gcm16),
    ("null", Encryption::Null),
    ("aes128", Encryption::Aes128),
    ("aes192", Encryption::Aes192),
    ("aes256", Encryption::Aes256),
];

fn is_legacy(name: &str) -> bool {
    matches!(name, "aes128" | "aes192" | "aes256")
}

/// Hash (IKE) and authentication (ESP) names; `non-auth` (IKE) and `none` (ESP) go with GCM.
const INTEGRITY: &[(&str, Integrity)] =
    &[("md5", Integrity::Md5), ("sha1", Integrity::Sha1), ("sha256", Integrity::Sha256), ("sha384", Integrity::Sha384), ("sha512", Integrity::Sha512)];

/// DH groups a PAN-OS profile may name (groups 15, 16 and 21 since PAN-OS 10.2 [P6] [P3]).
const GROUPS: &[(&str, DhGroup)] = &[
    ("group1", DhGroup::Modp768),
    ("group2", DhGroup::Modp1024),
    ("group5", DhGroup::Modp1536),
    ("group14", DhGroup::Modp2048),
    ("group15", DhGroup::Modp3072),
    ("group16", DhGroup::Modp4096),
    ("group19", DhGroup::Ecp256),
    ("group20", DhGroup::Ecp384),
    ("group21", DhGroup::Ecp521),
];

/// Where a name is met: IKE or IPsec profiles differ in their words for "no integrity".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Ike,
    Ipsec,
}

pub fn encryption(name: &str) -> Option<Encryption> {
    ENCRYPTION.iter().find(|(n, _)| *n == name).map(|(_, e)| *e)
}

/// `Some(None)`: the name for no integrity (`non-auth`, `none`).
pub fn integrity(name: &str, profile: Profile) -> Option<Option<Integrity>> {
    let none = match profile {
        Profile::Ike => "non-auth",
        Profile::Ipsec => "none",
    };
    if name == none {
        return Some(None);
    }
    INTEGRITY.iter().find(|(n, _)| *n == name).map(|(_, i)| Some(*i))
}

pub fn group(name: &str) -> Option<DhGroup> {
    GROUPS.iter().find(|(n, _)| *n == name).map(|(_, g)| *g)
}

/// The valid names, for hints.
pub fn encryption_names(profile: Profile) -> String {
    let mut names: Vec<&str> = ENCRYPTION.iter().map(|(n, _)| *n).filter(|n| !is_legacy(n)).collect();
    if profile == Profile::Ike {
        names.retain(|n| *n != "null");
    }
    names.join(", ")
}

pub fn integrity_names(profile: Profile) -> String {
    let mut names: Vec<&str> = INTEGRITY.iter().map(|(n, _)| *n).collect();
    names.push(if profile == Profile::Ike { "non-auth" } else { "none" });
    names.join(", ")
}

pub fn group_names() -> String {
    GROUPS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

/// PAN-OS's name for an encryption algorithm, if it has one.
pub fn encryption_name(e: Encryption) -> Option<&'static str> {
    ENCRYPTION.iter().find(|(n, x)| *x == e && !is_legacy(n)).map(|(n, _)| *n)
}

pub fn integrity_name(i: Integrity) -> Option<&'static str> {
    INTEGRITY.iter().find(|(_, x)| *x == i).map(|(n, _)| *n)
}

pub fn group_name(g: DhGroup) -> Option<&'static str> {
    GROUPS.iter().find(|(_, x)| *x == g).map(|(n, _)| *n)
}

/// How `show vpn ike-sa` and `show vpn ipsec-sa` abbreviate an algorithm of charon's listing
/// (`AES_CBC-256` → `A256`, `AES_GCM_16-256` → `G256`, `HMAC_SHA2_256_128` → `SHA256`,
/// `MODP_2048` → `DH14`), as in `PSK/DH14/A256/SHA256` and `ESP/G256/` ([P13] and public
/// outputs); `None` for words it leaves out (the PRF).
pub fn show_vpn_word(charon: &str) -> Option<String> {
    let (name, bits) = charon.split_once('-').unwrap_or((charon, ""));
    let word = match name {
        "AES_CBC" => format!("A{bits}"),
        "AES_GCM_16" | "AES_GCM_12" | "AES_GCM_8" => format!("G{bits}"),
        "3DES_CBC" => "3DES".into(),
        "DES_CBC" => "DES".into(),
        "NULL" => "NULL".into(),
        "HMAC_MD5_96" => "MD5".into(),
        "HMAC_SHA1_96" => "SHA1".into(),
        "HMAC_SHA2_256_128" => "SHA256".into(),
        "HMAC_SHA2_384_192" => "SHA384".into(),
        "HMAC_SHA2_512_256" => "SHA512".into(),
        n if n.starts_with("PRF_") || n == "NO_EXT_SEQ" || n == "EXT_SEQ" => return None,
        n => match dh_of_charon(n) {
            Some(g) => format!("DH{}", g.number()),
            None => n.to_string(),
        },
    };
    Some(word)
}

/// The DH group of charon's name for it (`MODP_2048`, `ECP_256`, `CURVE_25519`).
fn dh_of_charon(name: &str) -> Option<DhGroup> {
    let keyword = name.to_ascii_lowercase().replace('_', "");
    DhGroup::from_keyword(&keyword)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_both_ways() {
        assert_eq!(encryption("aes-256-cbc"), Some(Encryption::Aes256));
        assert_eq!(encryption("aes-128-gcm"), Some(Encryption::Aes128Gcm16));
        assert_eq!(encryption("aes256"), Some(Encryption::Aes256), "the pre-7.0 name");
        assert_eq!(encryption_name(Encryption::Aes256), Some("aes-256-cbc"));
        assert_eq!(encryption_name(Encryption::TripleDes), Some("3des"));
        assert_eq!(encryption_name(Encryption::Chacha20Poly1305), None);
        assert_eq!(integrity("non-auth", Profile::Ike), Some(None));
        assert_eq!(integrity("none", Profile::Ike), None);
        assert_eq!(integrity("none", Profile::Ipsec), Some(None));
        assert_eq!(group("group14"), Some(DhGroup::Modp2048));
        assert_eq!(group_name(DhGroup::Ecp384), Some("group20"));
        assert_eq!(group_name(DhGroup::Curve25519), None);
    }

    #[test]
    fn show_vpn_abbreviations() {
        let words: Vec<String> = "AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048".split('/').filter_map(show_vpn_word).collect();
        assert_eq!(words, ["A256", "SHA256", "DH14"]);
        assert_eq!(show_vpn_word("AES_GCM_16-256").as_deref(), Some("G256"));
        assert_eq!(show_vpn_word("ECP_384").as_deref(), Some("DH20"));
    }
}
