//! Diffie-Hellman groups, typed: the IANA number every vendor's name maps to, and strongSwan's
//! keyword for it. Azure's names (`DHGroup14`, `PFS2048`, ...), PAN-OS's (`group14`) and
//! pfSense's map onto these in their own modules; this is the one table of what a group is.

/// An IKE/ESP Diffie-Hellman group (IANA "Transform Type 4" numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DhGroup {
    Modp768,
    Modp1024,
    Modp1536,
    Modp2048,
    Modp3072,
    Modp4096,
    Modp6144,
    Modp8192,
    Ecp256,
    Ecp384,
    Ecp521,
    Modp1024s160,
    Modp2048s224,
    Modp2048s256,
    Ecp192,
    Ecp224,
    Curve25519,
    Curve448,
}

/// (group, IANA number, strongSwan keywords: the first is the canonical one).
const GROUPS: [(DhGroup, u16, &[&str]); 18] = [
    (DhGroup::Modp768, 1, &["modp768"]),
    (DhGroup::Modp1024, 2, &["modp1024"]),
    (DhGroup::Modp1536, 5, &["modp1536"]),
    (DhGroup::Modp2048, 14, &["modp2048"]),
    (DhGroup::Modp3072, 15, &["modp3072"]),
    (DhGroup::Modp4096, 16, &["modp4096"]),
    (DhGroup::Modp6144, 17, &["modp6144"]),
    (DhGroup::Modp8192, 18, &["modp8192"]),
    (DhGroup::Ecp256, 19, &["ecp256"]),
    (DhGroup::Ecp384, 20, &["ecp384"]),
    (DhGroup::Ecp521, 21, &["ecp521"]),
    (DhGroup::Modp1024s160, 22, &["modp1024s160"]),
    (DhGroup::Modp2048s224, 23, &["modp2048s224"]),
    (DhGroup::Modp2048s256, 24, &["modp2048s256"]),
    (DhGroup::Ecp192, 25, &["ecp192"]),
    (DhGroup::Ecp224, 26, &["ecp224"]),
    (DhGroup::Curve25519, 31, &["curve25519", "x25519"]),
    (DhGroup::Curve448, 32, &["curve448", "x448"]),
];

impl DhGroup {
    fn row(self) -> &'static (DhGroup, u16, &'static [&'static str]) {
        GROUPS.iter().find(|(g, _, _)| *g == self).expect("every group is in the table")
    }

    /// The IANA number, e.g. 14 for MODP-2048: what engineers call "DH group 14".
    pub fn number(self) -> u16 {
        self.row().1
    }

    /// strongSwan's keyword, e.g. `modp2048`.
    pub fn keyword(self) -> &'static str {
        self.row().2[0]
    }

    pub fn from_keyword(word: &str) -> Option<DhGroup> {
        GROUPS.iter().find(|(_, _, kws)| kws.contains(&word)).map(|(g, _, _)| *g)
    }

    pub fn from_number(n: u16) -> Option<DhGroup> {
        GROUPS.iter().find(|(_, num, _)| *num == n).map(|(g, _, _)| *g)
    }

    /// All strongSwan keywords that name a group (for proposal checks and hints).
    pub fn keywords() -> impl Iterator<Item = &'static str> {
        GROUPS.iter().flat_map(|(_, _, kws)| kws.iter().copied())
    }
}

impl std::fmt::Display for DhGroup {
    /// "DH group 14", the words engineers use whatever the vendor.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DH group {}", self.number())
    }
}

/// The DH groups a strongSwan proposal string names (`aes256-sha256-modp2048` has group 14).
pub fn groups_of(proposal: &str) -> Vec<DhGroup> {
    proposal.split('-').filter_map(DhGroup::from_keyword).collect()
}

/// The DH groups named anywhere in `proposals`, each once, in order of first mention.
pub fn groups_in<S: AsRef<str>>(proposals: &[S]) -> Vec<DhGroup> {
    let mut out = Vec::new();
    for g in proposals.iter().flat_map(|p| groups_of(p.as_ref())) {
        if !out.contains(&g) {
            out.push(g);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_table_of_groups() {
        assert_eq!(DhGroup::from_keyword("modp2048").map(DhGroup::number), Some(14));
        assert_eq!(DhGroup::from_keyword("x25519"), Some(DhGroup::Curve25519));
        assert_eq!(DhGroup::from_number(24).map(DhGroup::keyword), Some("modp2048s256"));
        assert_eq!(DhGroup::Modp1024.to_string(), "DH group 2");
        for (g, n, _) in GROUPS {
            assert_eq!(DhGroup::from_number(n), Some(g));
            assert_eq!(DhGroup::from_keyword(g.keyword()), Some(g));
        }
    }

    #[test]
    fn groups_named_in_proposals() {
        assert_eq!(groups_in(&["aes256-sha256-modp2048", "aes256-sha1-modp1024", "aes128-sha1-modp2048"]), [DhGroup::Modp2048, DhGroup::Modp1024]);
        assert!(groups_in(&["aes256-sha256"]).is_empty());
    }
}
