//! The tunnel's crypto profiles, from the file or PAN-OS's predefined table, as typed
//! proposals: every list in the profile's order, AES-GCM apart from CBC (strongSwan keeps AEAD
//! and classic ciphers in separate proposals), the IPsec profile's PFS group in every ESP
//! proposal (PAN-OS requires PFS when a group is set, it does not merely offer it).

use super::build::{error, list};
use super::config::{At, IkeGateway, IpsecTunnel, PanosConfig};
use super::defaults::{self, Choices};
use super::names;
use crate::device::{DeviceError, ImportReport};
use crate::ike::dh::DhGroup;
use crate::ike::proposal::{Encryption, Integrity, Ke, Prf, Proposal};

/// A crypto profile as the tunnel uses it, from the file or predefined.
pub(super) struct Crypto {
    pub name: String,
    pub encryption: Vec<Encryption>,
    pub integrity: Vec<Option<Integrity>>,
    pub lifetime_s: u64,
    /// Where the profile is written (`None`: predefined).
    pub line: Option<usize>,
}

fn used_list<T>(report: &mut ImportReport, items: &[At<T>], path: &str, text: impl Fn(&T) -> String) {
    if let Some(first) = items.first() {
        report.used(path, first.line, items.iter().map(|i| text(&i.value)).collect::<Vec<_>>().join(", "));
    }
}

/// The gateway's IKE crypto profile (from the file, or predefined) and its DH groups.
pub(super) fn ike_crypto(
    config: &PanosConfig,
    gateway: &IkeGateway,
    reference: &Option<At<String>>,
    block: &str,
    report: &mut ImportReport,
) -> Result<(Crypto, Vec<DhGroup>), Vec<DeviceError>> {
    let name = match reference {
        Some(r) => {
            report.used(&r.path, r.line, r.value.clone());
            r.value.clone()
        }
        None => {
            report.defaulted(format!("{} protocol {block} ike-crypto-profile", gateway.path), defaults::CRYPTO_PROFILE.value, defaults::CRYPTO_PROFILE.source);
            defaults::CRYPTO_PROFILE.value.to_string()
        }
    };
    if let Some(p) = config.ike_profile(&name) {
        if !p.problems.is_empty() {
            return Err(p.problems.clone());
        }
        report.used(&p.path, p.line, format!("the IKE crypto profile of gateway {}", gateway.name));
        if p.encryption.is_empty() {
            return Err(vec![error(
                p.line,
                &p.path,
                format!("IKE crypto profile `{name}` names no encryption"),
                format!("`encryption aes-256-cbc` (PAN-OS: {})", names::encryption_names(names::Profile::Ike)),
            )]);
        }
        if p.hash.is_empty() {
            return Err(vec![error(
                p.line,
                &p.path,
                format!("IKE crypto profile `{name}` names no hash"),
                format!("`hash sha256` (PAN-OS: {})", names::integrity_names(names::Profile::Ike)),
            )]);
        }
        used_list(report, &p.encryption, &format!("{} encryption", p.path), |e| format!("{} ({})", names::encryption_name(*e).unwrap_or("?"), e.keyword()));
        used_list(report, &p.hash, &format!("{} hash", p.path), |h| match h {
            Some(i) => format!("{} ({})", names::integrity_name(*i).unwrap_or("?"), i.keyword()),
            None => "non-auth".into(),
        });
        let groups = if p.dh_groups.is_empty() {
            report.defaulted(format!("{} dh-group", p.path), defaults::IKE_DH_GROUP.value, defaults::IKE_DH_GROUP.source);
            vec![DhGroup::Modp1024]
        } else {
            used_list(report, &p.dh_groups, &format!("{} dh-group", p.path), |g| format!("{} ({})", names::group_name(*g).unwrap_or("?"), g.keyword()));
            p.dh_groups.iter().map(|g| g.value).collect()
        };
        let lifetime_s = match &p.lifetime {
            Some(l) => {
                report.used(&l.path, l.line, format!("{} s", l.value));
                l.value
            }
            None => {
                report.defaulted(format!("{} lifetime", p.path), defaults::IKE_LIFETIME.value, defaults::IKE_LIFETIME.source);
                defaults::IKE_LIFETIME_S
            }
        };
        let crypto = Crypto {
            name,
            encryption: p.encryption.iter().map(|e| e.value).collect(),
            integrity: p.hash.iter().map(|h| h.value).collect(),
            lifetime_s,
            line: p.line,
        };
        return Ok((crypto, groups));
    }
    if let Some(p) = defaults::ike_profile(&name) {
        report.defaulted(format!("network ike crypto-profiles ike-crypto-profiles {name}"), predefined_text(p), p.source);
        let crypto = Crypto { name, encryption: p.encryption.to_vec(), integrity: p.integrity.to_vec(), lifetime_s: p.lifetime_s, line: None };
        return Ok((crypto, p.groups.to_vec()));
    }
    let mut known: Vec<&str> = config.ike_profiles.iter().map(|p| p.name.as_str()).collect();
    known.extend(defaults::IKE_PROFILES.iter().map(|p| p.name));
    Err(vec![error(
        reference.as_ref().and_then(|r| r.line),
        &reference.as_ref().map(|r| r.path.clone()).unwrap_or_else(|| gateway.path.clone()),
        format!("gateway `{}` names IKE crypto profile `{name}`, which is neither in the configuration nor predefined", gateway.name),
        format!("one of: {}", list(&known)),
    )])
}

fn predefined_text(p: &defaults::Predefined) -> String {
    let enc: Vec<&str> = p.encryption.iter().filter_map(|e| names::encryption_name(*e)).collect();
    let int: Vec<&str> = p.integrity.iter().map(|i| i.and_then(names::integrity_name).unwrap_or("none")).collect();
    let groups: Vec<&str> = p.groups.iter().filter_map(|g| names::group_name(*g)).collect();
    format!("predefined {}: {} / {} / {}, {} s", p.name, enc.join(" "), int.join(" "), groups.join(" "), p.lifetime_s)
}

/// The tunnel's IPsec crypto profile, its PFS group and its lifesize.
pub(super) fn ipsec_crypto(
    config: &PanosConfig,
    tunnel: &IpsecTunnel,
    reference: Option<&At<String>>,
    choices: Choices,
    report: &mut ImportReport,
) -> Result<(Crypto, Option<DhGroup>, Option<u64>), Vec<DeviceError>> {
    let name = match reference {
        Some(r) => {
            report.used(&r.path, r.line, r.value.clone());
            r.value.clone()
        }
        None => {
            report.defaulted(format!("{} auto-key ipsec-crypto-profile", tunnel.path), defaults::CRYPTO_PROFILE.value, defaults::CRYPTO_PROFILE.source);
            defaults::CRYPTO_PROFILE.value.to_string()
        }
    };
    if let Some(p) = config.ipsec_profile(&name) {
        if !p.problems.is_empty() {
            return Err(p.problems.clone());
        }
        report.used(&p.path, p.line, format!("the IPsec crypto profile of tunnel {}", tunnel.name));
        if let Some(ah) = &p.ah {
            return Err(vec![error(
                ah.line,
                &ah.path,
                format!("IPsec crypto profile `{name}` uses AH, which vpnlab does not model"),
                "ESP: `esp encryption aes-256-cbc esp authentication sha256`",
            )]);
        }
        if p.encryption.is_empty() {
            return Err(vec![error(
                p.line,
                &p.path,
                format!("IPsec crypto profile `{name}` names no ESP encryption"),
                format!("`esp encryption aes-256-cbc` (PAN-OS: {})", names::encryption_names(names::Profile::Ipsec)),
            )]);
        }
        if p.authentication.is_empty() {
            return Err(vec![error(
                p.line,
                &p.path,
                format!("IPsec crypto profile `{name}` names no ESP authentication"),
                "`esp authentication sha256`, or `none` with aes-gcm",
            )]);
        }
        used_list(report, &p.encryption, &format!("{} esp encryption", p.path), |e| format!("{} ({})", names::encryption_name(*e).unwrap_or("?"), e.keyword()));
        used_list(report, &p.authentication, &format!("{} esp authentication", p.path), |h| match h {
            Some(i) => format!("{} ({})", names::integrity_name(*i).unwrap_or("?"), i.keyword()),
            None => "none".into(),
        });
        let pfs = match &p.dh_group {
            Some(g) => {
                report.used(
                    &g.path,
                    g.line,
                    g.value
                        .map(|g| format!("{} ({}): PFS, every ESP proposal carries it", names::group_name(g).unwrap_or("?"), g.keyword()))
                        .unwrap_or_else(|| "no-pfs: no key exchange in CREATE_CHILD_SA".into()),
                );
                g.value
            }
            None => {
                let (value, source) = choices.ipsec_dh_group.fact();
                report.defaulted(format!("{} dh-group", p.path), value, source);
                choices.ipsec_dh_group.group()
            }
        };
        let lifetime_s = match &p.lifetime {
            Some(l) => {
                report.used(&l.path, l.line, format!("{} s", l.value));
                l.value
            }
            None => {
                report.defaulted(format!("{} lifetime", p.path), defaults::IPSEC_LIFETIME.value, defaults::IPSEC_LIFETIME.source);
                defaults::IPSEC_LIFETIME_S
            }
        };
        let lifesize = p.lifesize_kb.as_ref().map(|l| {
            report.used(&l.path, l.line, format!("{} KB: rekey after that many kilobytes", l.value));
            l.value
        });
        let crypto = Crypto {
            name,
            encryption: p.encryption.iter().map(|e| e.value).collect(),
            integrity: p.authentication.iter().map(|h| h.value).collect(),
            lifetime_s,
            line: p.line,
        };
        return Ok((crypto, pfs, lifesize));
    }
    if let Some(p) = defaults::ipsec_profile(&name) {
        report.defaulted(format!("network ike crypto-profiles ipsec-crypto-profiles {name}"), predefined_text(p), p.source);
        let crypto = Crypto { name, encryption: p.encryption.to_vec(), integrity: p.integrity.to_vec(), lifetime_s: p.lifetime_s, line: None };
        return Ok((crypto, p.groups.first().copied(), None));
    }
    let mut known: Vec<&str> = config.ipsec_profiles.iter().map(|p| p.name.as_str()).collect();
    known.extend(defaults::IPSEC_PROFILES.iter().map(|p| p.name));
    Err(vec![error(
        reference.and_then(|r| r.line),
        &reference.map(|r| r.path.clone()).unwrap_or_else(|| tunnel.path.clone()),
        format!("tunnel `{}` names IPsec crypto profile `{name}`, which is neither in the configuration nor predefined", tunnel.name),
        format!("one of: {}", list(&known)),
    )])
}

/// The encryptions split by kind, in the profile's order: strongSwan keeps AEAD and classic
/// ciphers in separate proposals.
fn split(encryption: &[Encryption]) -> Vec<(bool, Vec<Encryption>)> {
    let mut out: Vec<(bool, Vec<Encryption>)> = Vec::new();
    for e in encryption {
        let aead = e.is_aead();
        match out.iter_mut().find(|(a, _)| *a == aead) {
            Some((_, list)) => list.push(*e),
            None => out.push((aead, vec![*e])),
        }
    }
    out
}

/// IKE proposals of a profile: its lists, in order (PAN-OS offers every combination). With
/// AES-GCM the PRF follows the profile's hashes; with `non-auth` alone it is PRF-HMAC-SHA-256
/// (an assumption: PAN-OS does not document it).
pub(super) fn ike_proposals(crypto: &Crypto, groups: &[DhGroup]) -> Result<Vec<Proposal>, String> {
    let integrity: Vec<Integrity> = crypto.integrity.iter().flatten().copied().collect();
    let ke: Vec<Ke> = groups.iter().map(|g| Ke::Group(*g)).collect();
    let mut out = Vec::new();
    for (aead, encryption) in split(&crypto.encryption) {
        if aead {
            let mut prf: Vec<Prf> = integrity.iter().filter_map(|i| Prf::of(*i)).collect();
            prf.dedup();
            if prf.is_empty() {
                prf.push(Prf::Sha256);
            }
            out.push(Proposal { encryption, prf, ke: ke.clone(), ..Proposal::default() });
        } else {
            if integrity.is_empty() {
                let names: Vec<&str> = encryption.iter().filter_map(|e| names::encryption_name(*e)).collect();
                return Err(format!("hash non-auth with {}: only AES-GCM carries its own integrity", names.join(", ")));
            }
            out.push(Proposal { encryption, integrity: integrity.clone(), ke: ke.clone(), ..Proposal::default() });
        }
    }
    Ok(out)
}

/// ESP proposals of a profile; with a PFS group every proposal carries it, so the peer must
/// use PFS too (PAN-OS requires it, it does not merely offer it).
pub(super) fn esp_proposals(crypto: &Crypto, pfs: Option<DhGroup>) -> Result<Vec<Proposal>, String> {
    let integrity: Vec<Integrity> = crypto.integrity.iter().flatten().copied().collect();
    let ke: Vec<Ke> = pfs.map(Ke::Group).into_iter().collect();
    let mut out = Vec::new();
    for (aead, encryption) in split(&crypto.encryption) {
        if aead {
            out.push(Proposal { encryption, ke: ke.clone(), ..Proposal::default() });
        } else if integrity.is_empty() {
            let names: Vec<&str> = encryption.iter().filter_map(|e| names::encryption_name(*e)).collect();
            return Err(format!("esp authentication none with {}: ESP needs an integrity algorithm unless the encryption is AES-GCM", names.join(", ")));
        } else {
            out.push(Proposal { encryption, integrity: integrity.clone(), ke: ke.clone(), ..Proposal::default() });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::proposal::ProposalKind;

    fn crypto(encryption: &[Encryption], integrity: &[Option<Integrity>]) -> Crypto {
        Crypto { name: "p".into(), encryption: encryption.to_vec(), integrity: integrity.to_vec(), lifetime_s: 3600, line: None }
    }

    #[test]
    fn gcm_and_cbc_go_in_separate_proposals_in_the_profile_s_order() {
        let c = crypto(&[Encryption::Aes256Gcm16, Encryption::Aes256, Encryption::Aes128], &[Some(Integrity::Sha384), Some(Integrity::Sha256)]);
        let ike = ike_proposals(&c, &[DhGroup::Ecp384, DhGroup::Modp2048]).unwrap();
        let text: Vec<String> = ike.iter().map(ToString::to_string).collect();
        assert_eq!(text, ["aes256gcm16-prfsha384-prfsha256-ecp384-modp2048", "aes256-aes128-sha384-sha256-ecp384-modp2048"]);
        let esp = esp_proposals(&crypto(&[Encryption::Aes128Gcm16], &[None]), Some(DhGroup::Ecp256)).unwrap();
        assert_eq!(esp, [Proposal::parse("aes128gcm16-ecp256", ProposalKind::Esp).unwrap()]);
        let no_pfs = esp_proposals(&crypto(&[Encryption::Aes256], &[Some(Integrity::Sha256)]), None).unwrap();
        assert!(no_pfs[0].allows_no_pfs());
    }

    #[test]
    fn non_auth_alone_with_gcm_assumes_prf_sha256_and_is_refused_with_cbc() {
        let gcm = ike_proposals(&crypto(&[Encryption::Aes128Gcm16], &[None]), &[DhGroup::Ecp256]).unwrap();
        assert_eq!(gcm[0].prf, [Prf::Sha256]);
        let e = ike_proposals(&crypto(&[Encryption::Aes256], &[None]), &[DhGroup::Modp2048]).unwrap_err();
        assert_eq!(e, "hash non-auth with aes-256-cbc: only AES-GCM carries its own integrity");
    }
}
