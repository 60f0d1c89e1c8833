//! Typed IKE and ESP proposals: encryption, integrity, PRF, key exchange (DH/PFS) and ESN
//! transforms, each a type with its IANA name and its keyword in the proposal notation
//! (`aes256-sha256-modp2048`, the notation strongSwan introduced and lab files use).
//!
//! Devices build proposals from their own vocabularies (Azure's `GCMAES256`, PAN-OS's
//! `aes-256-cbc`, a lab file's keywords) and the driver renders them; diagnoses compare them by
//! type, never by text. A proposal with no transform at all stands for the implementation's
//! default proposals (the keyword `default`).

use std::fmt;

use super::dh::DhGroup;

/// Whether a proposal is for IKE (Phase 1) or ESP (Phase 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalKind {
    Ike,
    Esp,
}

/// Declares a transform enum from one table: variant, keywords (the first is canonical) and the
/// IANA / engineers' name.
macro_rules! transform {
    ($(#[$m:meta])* $name:ident { $($variant:ident = [$($kw:literal),+], $iana:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The keyword in the proposal notation, e.g. `aes256`.
            pub fn keyword(self) -> &'static str {
                match self { $($name::$variant => [$($kw),+][0]),+ }
            }
            /// The algorithm's standard name, e.g. `AES-CBC-256`.
            pub fn iana(self) -> &'static str {
                match self { $($name::$variant => $iana),+ }
            }
            pub fn from_keyword(word: &str) -> Option<$name> {
                match word { $($($kw)|+ => Some($name::$variant),)+ _ => None }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.keyword())
            }
        }
    };
}

transform!(
    /// Encryption (Transform Type 1).
    Encryption {
        Aes128 = ["aes128", "aes"], "AES-CBC-128";
        Aes192 = ["aes192"], "AES-CBC-192";
        Aes256 = ["aes256"], "AES-CBC-256";
        Aes128Gcm8 = ["aes128gcm8", "aes128gcm64"], "AES-GCM-8-128";
        Aes128Gcm12 = ["aes128gcm12", "aes128gcm96"], "AES-GCM-12-128";
        Aes128Gcm16 = ["aes128gcm16", "aes128gcm128"], "AES-GCM-16-128";
        Aes192Gcm8 = ["aes192gcm8"], "AES-GCM-8-192";
        Aes192Gcm12 = ["aes192gcm12"], "AES-GCM-12-192";
        Aes192Gcm16 = ["aes192gcm16"], "AES-GCM-16-192";
        Aes256Gcm8 = ["aes256gcm8", "aes256gcm64"], "AES-GCM-8-256";
        Aes256Gcm12 = ["aes256gcm12", "aes256gcm96"], "AES-GCM-12-256";
        Aes256Gcm16 = ["aes256gcm16", "aes256gcm128"], "AES-GCM-16-256";
        Aes128Ctr = ["aes128ctr"], "AES-CTR-128";
        Aes256Ctr = ["aes256ctr"], "AES-CTR-256";
        Chacha20Poly1305 = ["chacha20poly1305"], "CHACHA20-POLY1305";
        TripleDes = ["3des"], "3DES-CBC";
        Des = ["des"], "DES-CBC";
        Null = ["null"], "NULL";
    }
);

impl Encryption {
    /// An AEAD cipher carries its own integrity.
    pub fn is_aead(self) -> bool {
        matches!(
            self,
            Encryption::Aes128Gcm8
                | Encryption::Aes128Gcm12
                | Encryption::Aes128Gcm16
                | Encryption::Aes192Gcm8
                | Encryption::Aes192Gcm12
                | Encryption::Aes192Gcm16
                | Encryption::Aes256Gcm8
                | Encryption::Aes256Gcm12
                | Encryption::Aes256Gcm16
                | Encryption::Chacha20Poly1305
        )
    }
}

transform!(
    /// Integrity (Transform Type 3).
    Integrity {
        Md5 = ["md5"], "HMAC-MD5-96";
        Sha1 = ["sha1", "sha"], "HMAC-SHA1-96";
        Sha256 = ["sha256", "sha2_256"], "HMAC-SHA2-256-128";
        Sha384 = ["sha384", "sha2_384"], "HMAC-SHA2-384-192";
        Sha512 = ["sha512", "sha2_512"], "HMAC-SHA2-512-256";
        Sha256_96 = ["sha256_96", "sha2_256_96"], "HMAC-SHA2-256-96";
        AesXcbc = ["aesxcbc"], "AES-XCBC-96";
    }
);

transform!(
    /// Pseudo-random function (Transform Type 2, IKE only).
    Prf {
        Md5 = ["prfmd5"], "PRF-HMAC-MD5";
        Sha1 = ["prfsha1"], "PRF-HMAC-SHA1";
        Sha256 = ["prfsha256"], "PRF-HMAC-SHA2-256";
        Sha384 = ["prfsha384"], "PRF-HMAC-SHA2-384";
        Sha512 = ["prfsha512"], "PRF-HMAC-SHA2-512";
        AesXcbc = ["prfaesxcbc"], "PRF-AES128-XCBC";
    }
);

impl Prf {
    /// The PRF an IKE proposal without one uses: the one of its integrity algorithm.
    pub fn of(integrity: Integrity) -> Option<Prf> {
        match integrity {
            Integrity::Md5 => Some(Prf::Md5),
            Integrity::Sha1 => Some(Prf::Sha1),
            Integrity::Sha256 | Integrity::Sha256_96 => Some(Prf::Sha256),
            Integrity::Sha384 => Some(Prf::Sha384),
            Integrity::Sha512 => Some(Prf::Sha512),
            Integrity::AesXcbc => Some(Prf::AesXcbc),
        }
    }
}

transform!(
    /// Extended sequence numbers (Transform Type 5, ESP only).
    Esn {
        Yes = ["esn"], "ESN";
        No = ["noesn"], "no ESN";
    }
);

/// A key exchange transform (Transform Type 4): a DH group, or explicitly none (no PFS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ke {
    None,
    Group(DhGroup),
}

impl Ke {
    pub fn keyword(self) -> &'static str {
        match self {
            Ke::None => "none",
            Ke::Group(g) => g.keyword(),
        }
    }
    pub fn from_keyword(word: &str) -> Option<Ke> {
        if word == "none" {
            return Some(Ke::None);
        }
        DhGroup::from_keyword(word).map(Ke::Group)
    }
    pub fn group(self) -> Option<DhGroup> {
        match self {
            Ke::None => None,
            Ke::Group(g) => Some(g),
        }
    }
}

/// One proposal: every algorithm it allows, per transform type. A responder picks one of each.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Proposal {
    pub encryption: Vec<Encryption>,
    pub integrity: Vec<Integrity>,
    pub prf: Vec<Prf>,
    /// Empty: no key exchange transform (ESP without PFS; an IKE proposal always has one).
    pub ke: Vec<Ke>,
    pub esn: Vec<Esn>,
}

impl Proposal {
    /// The implementation's default proposals (the keyword `default`).
    pub fn defaults() -> Proposal {
        Proposal::default()
    }

    pub fn is_defaults(&self) -> bool {
        self.encryption.is_empty() && self.integrity.is_empty() && self.prf.is_empty() && self.ke.is_empty() && self.esn.is_empty()
    }

    /// A proposal of single algorithms (devices that configure one value per transform).
    pub fn of(encryption: Encryption, integrity: Option<Integrity>, ke: Option<DhGroup>) -> Proposal {
        Proposal {
            encryption: vec![encryption],
            integrity: integrity.into_iter().collect(),
            ke: ke.map(Ke::Group).into_iter().collect(),
            ..Proposal::default()
        }
    }

    /// Parses the proposal notation (`aes256-sha256-modp2048`). The error names the first
    /// unknown keyword and lists what would be valid.
    pub fn parse(text: &str, kind: ProposalKind) -> Result<Proposal, String> {
        if text == "default" {
            return Ok(Proposal::defaults());
        }
        if text.trim().is_empty() {
            return Err("an empty proposal".to_string());
        }
        let mut p = Proposal::default();
        for token in text.split('-') {
            if let Some(e) = Encryption::from_keyword(token) {
                p.encryption.push(e);
            } else if let Some(i) = Integrity::from_keyword(token) {
                p.integrity.push(i);
            } else if let Some(k) = Ke::from_keyword(token) {
                p.ke.push(k);
            } else if let (ProposalKind::Ike, Some(f)) = (kind, Prf::from_keyword(token)) {
                p.prf.push(f);
            } else if let (ProposalKind::Esp, Some(e)) = (kind, Esn::from_keyword(token)) {
                p.esn.push(e);
            } else {
                let words = |list: &[&str]| list.join(" ");
                let mut valid = vec![
                    format!("encryption {}", words(&Encryption::ALL.iter().map(|e| e.keyword()).collect::<Vec<_>>())),
                    format!("integrity {}", words(&Integrity::ALL.iter().map(|e| e.keyword()).collect::<Vec<_>>())),
                    format!("DH groups {}", DhGroup::keywords().collect::<Vec<_>>().join(" ")),
                ];
                match kind {
                    ProposalKind::Ike => valid.push(format!("PRF {}", words(&Prf::ALL.iter().map(|e| e.keyword()).collect::<Vec<_>>()))),
                    ProposalKind::Esp => valid.push("esn noesn; none (no PFS)".to_string()),
                }
                return Err(format!("unknown algorithm `{token}` in proposal `{text}` (valid: {})", valid.join("; ")));
            }
        }
        if p.encryption.is_empty() {
            return Err(format!("proposal `{text}` names no encryption algorithm"));
        }
        Ok(p)
    }

    /// The DH groups of the proposal (its PFS groups, for ESP).
    pub fn dh_groups(&self) -> Vec<DhGroup> {
        self.ke.iter().filter_map(|k| k.group()).collect()
    }

    /// Whether the proposal asks for a key exchange (PFS, for ESP).
    pub fn has_pfs(&self) -> bool {
        self.ke.iter().any(|k| k.group().is_some())
    }

    /// Whether a proposal may also go without a key exchange.
    pub fn allows_no_pfs(&self) -> bool {
        self.ke.is_empty() || self.ke.contains(&Ke::None)
    }

    /// The same proposal without its key exchange transforms.
    pub fn without_ke(&self) -> Proposal {
        Proposal { ke: Vec::new(), ..self.clone() }
    }

    /// The PRFs an IKE proposal uses: its own, or those of its integrity algorithms.
    fn effective_prf(&self) -> Vec<Prf> {
        if self.prf.is_empty() {
            self.integrity.iter().filter_map(|i| Prf::of(*i)).collect()
        } else {
            self.prf.clone()
        }
    }

    /// Whether a responder configured with `other` accepts this proposal: one algorithm of each
    /// transform type in common (no key exchange counts as `none`). Defaults agree with nothing
    /// here: what they hold is the implementation's business, so callers name them instead.
    pub fn agrees_with(&self, other: &Proposal, kind: ProposalKind) -> bool {
        if self.is_defaults() || other.is_defaults() {
            return false;
        }
        fn common<T: PartialEq>(a: &[T], b: &[T]) -> bool {
            (a.is_empty() && b.is_empty()) || a.iter().any(|x| b.contains(x))
        }
        let ke = |p: &Proposal| if p.ke.is_empty() { vec![Ke::None] } else { p.ke.clone() };
        let ok = common(&self.encryption, &other.encryption) && common(&self.integrity, &other.integrity) && common(&ke(self), &ke(other));
        match kind {
            ProposalKind::Ike => ok && common(&self.effective_prf(), &other.effective_prf()),
            ProposalKind::Esp => ok && (self.esn.is_empty() || other.esn.is_empty() || common(&self.esn, &other.esn)),
        }
    }
}

impl fmt::Display for Proposal {
    /// The proposal notation: `aes256-sha256-modp2048`, or `default`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_defaults() {
            return f.write_str("default");
        }
        let words: Vec<&str> = self
            .encryption
            .iter()
            .map(|e| e.keyword())
            .chain(self.integrity.iter().map(|i| i.keyword()))
            .chain(self.prf.iter().map(|p| p.keyword()))
            .chain(self.ke.iter().map(|k| k.keyword()))
            .chain(self.esn.iter().map(|e| e.keyword()))
            .collect();
        f.write_str(&words.join("-"))
    }
}

/// Parses a list of proposal strings that are known to be valid (tables in the code).
pub fn parse_all(list: &[&str], kind: ProposalKind) -> Vec<Proposal> {
    list.iter().map(|p| Proposal::parse(p, kind).unwrap_or_else(|e| panic!("a built-in proposal is invalid: {e}"))).collect()
}

/// The DH groups named anywhere in `proposals`, each once, in order of first mention.
pub fn groups_in(proposals: &[Proposal]) -> Vec<DhGroup> {
    let mut out = Vec::new();
    for g in proposals.iter().flat_map(|p| p.dh_groups()) {
        if !out.contains(&g) {
            out.push(g);
        }
    }
    out
}

/// Proposals in the notation, comma separated.
pub fn list(proposals: &[Proposal]) -> String {
    proposals.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_proposals_and_renders_them_back() {
        for p in ["aes256-sha256-modp2048", "aes256gcm16-prfsha256-ecp384", "3des-sha1-modp1024"] {
            assert_eq!(Proposal::parse(p, ProposalKind::Ike).unwrap().to_string(), p);
        }
        for p in ["aes256-sha256", "aes256gcm16", "aes128-sha1-modp2048-noesn", "aes256gcm16-none"] {
            assert_eq!(Proposal::parse(p, ProposalKind::Esp).unwrap().to_string(), p);
        }
        assert!(Proposal::parse("default", ProposalKind::Esp).unwrap().is_defaults());
        let p = Proposal::parse("aes256-aes128-sha256-sha1-modp2048-modp1024", ProposalKind::Ike).unwrap();
        assert_eq!(p.encryption, [Encryption::Aes256, Encryption::Aes128]);
        assert_eq!(p.dh_groups(), [DhGroup::Modp2048, DhGroup::Modp1024]);
    }

    #[test]
    fn names_the_unknown_keyword() {
        let e = Proposal::parse("aes257-sha256-modp2048", ProposalKind::Ike).unwrap_err();
        assert!(e.starts_with("unknown algorithm `aes257` in proposal `aes257-sha256-modp2048`"), "{e}");
        let e = Proposal::parse("sha256-modp2048", ProposalKind::Ike).unwrap_err();
        assert_eq!(e, "proposal `sha256-modp2048` names no encryption algorithm");
        let e = Proposal::parse("aes256-sha256-prfsha256", ProposalKind::Esp).unwrap_err();
        assert!(e.contains("`prfsha256`"), "{e}");
    }

    #[test]
    fn agreement_is_one_algorithm_of_each_type_in_common() {
        let esp = |s| Proposal::parse(s, ProposalKind::Esp).unwrap();
        assert!(esp("aes256-sha256").agrees_with(&esp("aes128-aes256-sha1-sha256"), ProposalKind::Esp));
        assert!(!esp("aes256-sha256-modp2048").agrees_with(&esp("aes256-sha256"), ProposalKind::Esp), "PFS against no PFS");
        assert!(esp("aes256gcm16-none").agrees_with(&esp("aes256gcm16"), ProposalKind::Esp), "none is no key exchange");
        assert!(!esp("aes256-sha256").agrees_with(&Proposal::defaults(), ProposalKind::Esp));
        let ike = |s| Proposal::parse(s, ProposalKind::Ike).unwrap();
        assert!(ike("aes256-sha256-modp2048").agrees_with(&ike("aes256-sha256-prfsha256-modp2048"), ProposalKind::Ike), "the PRF follows the integrity");
        assert!(!ike("aes256-sha256-modp2048").agrees_with(&ike("aes256-sha256-modp1024"), ProposalKind::Ike));
    }
}
