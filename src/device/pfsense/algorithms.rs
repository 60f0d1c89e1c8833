//! pfSense's algorithm names, both ways: config.xml's tokens (`aes` with a key length,
//! `aes256gcm` with an ICV length, `sha256`/`hmac_sha256`, DH group numbers) into typed
//! transforms, and typed transforms into the names its GUI shows (`AES` `256 bits`,
//! `SHA256`, `14 (2048 bit)`).
//!
//! 3DES, Blowfish, CAST128 and MD5 were removed by the config upgrade of 2022-11-03 (22.7 to
//! 22.8): a backup that still has them is pre-2022, and restoring it drops them.

use crate::ike::dh::DhGroup;
use crate::ike::proposal::{Encryption, Integrity, Prf};

/// Cipher names the 22.8 upgrade removed.
pub fn removed_cipher(name: &str) -> bool {
    matches!(name, "3des" | "blowfish" | "cast128" | "des")
}

/// Hash names the 22.8 upgrade removed.
pub fn removed_hash(name: &str) -> bool {
    matches!(name, "md5" | "hmac_md5")
}

/// pfSense moves ciphers whose name holds `gcm` (after its first letter) to the front of a
/// phase 2's ESP list; ChaCha20-Poly1305 is AEAD too but stays in place.
pub fn moved_to_front(name: &str) -> bool {
    name.find("gcm").is_some_and(|i| i > 0)
}

/// Ciphers that carry their own integrity: pfSense writes no hash after them in ESP.
pub fn is_aead(name: &str) -> bool {
    moved_to_front(name) || name == "chacha20poly1305"
}

/// The key lengths `auto` stands for, high to low (pfSense's `keysel` ranges).
pub fn auto_keylens(name: &str) -> &'static [u16] {
    match name {
        "aes" => &[256, 192, 128],
        "aes128gcm" | "aes192gcm" | "aes256gcm" => &[128, 96, 64],
        _ => &[],
    }
}

const CIPHERS: &str = "aes (key length 128, 192, 256), aes128gcm, aes192gcm, aes256gcm (ICV length 64, 96, 128), chacha20poly1305";

/// A cipher and its key (or, for GCM, ICV) length in bits. `None`: pfSense writes the bare
/// name, which strongSwan reads as the smallest key (`aes` is AES-128).
pub fn encryption(name: &str, bits: Option<u16>) -> Result<Encryption, String> {
    use Encryption::*;
    let gcm = |e8, e12, e16| match bits {
        Some(64) => Ok(e8),
        Some(96) => Ok(e12),
        Some(128) => Ok(e16),
        Some(b) => Err(format!("`{name}` with ICV length {b}: pfSense offers 64, 96 and 128 bits")),
        None => Err(format!("`{name}` needs its ICV length (keylen 64, 96 or 128)")),
    };
    match name {
        "aes" => match bits {
            None | Some(128) => Ok(Aes128),
            Some(192) => Ok(Aes192),
            Some(256) => Ok(Aes256),
            Some(b) => Err(format!("AES with a {b}-bit key: pfSense offers 128, 192 and 256")),
        },
        "aes128gcm" => gcm(Aes128Gcm8, Aes128Gcm12, Aes128Gcm16),
        "aes192gcm" => gcm(Aes192Gcm8, Aes192Gcm12, Aes192Gcm16),
        "aes256gcm" => gcm(Aes256Gcm8, Aes256Gcm12, Aes256Gcm16),
        "chacha20poly1305" => Ok(Chacha20Poly1305),
        other => Err(format!("unknown encryption algorithm `{other}` (valid: {CIPHERS})")),
    }
}

/// A phase 1 hash or a phase 2 hash option (with or without pfSense's `hmac_` prefix).
pub fn integrity(name: &str) -> Result<Integrity, String> {
    match name.strip_prefix("hmac_").unwrap_or(name) {
        "sha1" => Ok(Integrity::Sha1),
        "sha256" => Ok(Integrity::Sha256),
        "sha384" => Ok(Integrity::Sha384),
        "sha512" => Ok(Integrity::Sha512),
        "aesxcbc" => Ok(Integrity::AesXcbc),
        _ => Err(format!("unknown hash algorithm `{name}` (valid: sha1, sha256, sha384, sha512, aesxcbc; hmac_ before them in phase 2)")),
    }
}

pub fn prf(name: &str) -> Result<Prf, String> {
    match name {
        "sha1" => Ok(Prf::Sha1),
        "sha256" => Ok(Prf::Sha256),
        "sha384" => Ok(Prf::Sha384),
        "sha512" => Ok(Prf::Sha512),
        "aesxcbc" => Ok(Prf::AesXcbc),
        _ => Err(format!("unknown PRF algorithm `{name}` (valid: sha1, sha256, sha384, sha512, aesxcbc)")),
    }
}

/// A DH group by pfSense's number.
pub fn dh_group(number: &str) -> Result<DhGroup, String> {
    let n: u16 = number.parse().map_err(|_| format!("`{number}` is not a DH group number"))?;
    match n {
        27..=30 => Err(format!("DH group {n} (brainpool) is not in vpnlab's table of DH groups")),
        _ => DhGroup::from_number(n).ok_or_else(|| format!("there is no DH group {n} (valid: 1, 2, 5, 14 to 26, 31, 32)")),
    }
}

/// The GUI's name of a cipher and its key length: `AES` `256 bits`, `AES256-GCM` `128 bits`.
pub fn encryption_label(e: Encryption) -> String {
    use Encryption::*;
    let (name, bits) = match e {
        Aes128 => ("AES", 128),
        Aes192 => ("AES", 192),
        Aes256 => ("AES", 256),
        Aes128Gcm8 => ("AES128-GCM", 64),
        Aes128Gcm12 => ("AES128-GCM", 96),
        Aes128Gcm16 => ("AES128-GCM", 128),
        Aes192Gcm8 => ("AES192-GCM", 64),
        Aes192Gcm12 => ("AES192-GCM", 96),
        Aes192Gcm16 => ("AES192-GCM", 128),
        Aes256Gcm8 => ("AES256-GCM", 64),
        Aes256Gcm12 => ("AES256-GCM", 96),
        Aes256Gcm16 => ("AES256-GCM", 128),
        Chacha20Poly1305 => return "CHACHA20-POLY1305".into(),
        other => return format!("{} (not offered by current pfSense)", other.iana()),
    };
    format!("{name} {bits} bits")
}

pub fn integrity_label(i: Integrity) -> String {
    match i {
        Integrity::Sha1 => "SHA1".into(),
        Integrity::Sha256 => "SHA256".into(),
        Integrity::Sha384 => "SHA384".into(),
        Integrity::Sha512 => "SHA512".into(),
        Integrity::AesXcbc => "AES-XCBC".into(),
        other => format!("{} (not offered by current pfSense)", other.iana()),
    }
}

pub fn prf_label(p: Prf) -> String {
    match p {
        Prf::Sha1 => "SHA1".into(),
        Prf::Sha256 => "SHA256".into(),
        Prf::Sha384 => "SHA384".into(),
        Prf::Sha512 => "SHA512".into(),
        Prf::AesXcbc => "AES-XCBC".into(),
        other => format!("{} (not offered by current pfSense)", other.iana()),
    }
}

/// The GUI's DH group entry: `14 (2048 bit)`.
pub fn dh_label(g: DhGroup) -> String {
    let size = match g {
        DhGroup::Modp768 => "768 bit",
        DhGroup::Modp1024 => "1024 bit",
        DhGroup::Modp1536 => "1536 bit",
        DhGroup::Modp2048 => "2048 bit",
        DhGroup::Modp3072 => "3072 bit",
        DhGroup::Modp4096 => "4096 bit",
        DhGroup::Modp6144 => "6144 bit",
        DhGroup::Modp8192 => "8192 bit",
        DhGroup::Ecp256 => "nist ecp256",
        DhGroup::Ecp384 => "nist ecp384",
        DhGroup::Ecp521 => "nist ecp521",
        DhGroup::Modp1024s160 => "1024(sub 160) bit",
        DhGroup::Modp2048s224 => "2048(sub 224) bit",
        DhGroup::Modp2048s256 => "2048(sub 256) bit",
        DhGroup::Ecp192 => "nist ecp192",
        DhGroup::Ecp224 => "nist ecp224",
        DhGroup::Curve25519 => "Elliptic Curve 25519, 256 bit",
        DhGroup::Curve448 => "Elliptic Curve 25519, 448 bit",
    };
    format!("{} ({size})", g.number())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_tokens_to_transforms_and_back() {
        assert_eq!(encryption("aes", Some(256)), Ok(Encryption::Aes256));
        assert_eq!(encryption("aes", None), Ok(Encryption::Aes128), "strongSwan reads a bare `aes` as AES-128");
        assert_eq!(encryption("aes256gcm", Some(128)), Ok(Encryption::Aes256Gcm16), "GCM key lengths are ICV lengths");
        assert!(encryption("aes", Some(512)).unwrap_err().contains("128, 192 and 256"));
        assert_eq!(integrity("hmac_sha256"), Ok(Integrity::Sha256));
        assert_eq!(dh_group("14").map(|g| g.number()), Ok(14));
        assert!(dh_group("28").unwrap_err().contains("brainpool"));
        assert_eq!(encryption_label(Encryption::Aes256), "AES 256 bits");
        assert_eq!(dh_label(DhGroup::Modp1024), "2 (1024 bit)");
        assert!(moved_to_front("aes128gcm") && !moved_to_front("chacha20poly1305") && is_aead("chacha20poly1305"));
    }
}
