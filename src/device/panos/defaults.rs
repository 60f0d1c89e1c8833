//! PAN-OS's defaults, each with its source: the predefined crypto profiles a factory
//! configuration holds (used when a gateway or tunnel names one the file does not define), the
//! schema's defaults for absent settings, and the two defaults on which sources disagree, as
//! named choices ([`Choices`]) whose value the import report names.

use crate::device::Choice;
use crate::ike::dh::DhGroup;
use crate::ike::proposal::{Encryption, Integrity};

/// A default value and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fact {
    pub value: &'static str,
    pub source: &'static str,
}

const CODEGEN: &str = "pan-os-codegen schema default (pan-os-ipsec.md §3.1 [P3])";

pub const IKE_VERSION: Fact = Fact { value: "ikev1", source: "pan-os-codegen schema default (pan-os-ipsec.md §3.1 [P3]; device-import-notes.md §3)" };
pub const CRYPTO_PROFILE: Fact = Fact { value: "default", source: "pan-os-codegen schema default profile name (pan-os-ipsec.md §2.2, §3.1 [P3])" };
pub const EXCHANGE_MODE: Fact = Fact { value: "auto", source: CODEGEN };
pub const IKEV1_DPD: Fact = Fact { value: "off", source: "`dpd enable` has no schema default (pan-os-codegen [P3]); absent means not enabled" };
pub const DPD_INTERVAL: Fact = Fact { value: "5", source: "pan-os-codegen schema default, interval 5 s (pan-os-ipsec.md §3.1 [P3] [P14])" };
pub const DPD_INTERVAL_S: u64 = 5;
pub const DPD_RETRY: Fact = Fact { value: "5", source: CODEGEN };
pub const DPD_RETRY_N: u64 = 5;
pub const NAT_TRAVERSAL: Fact = Fact { value: "off", source: "`nat-traversal enable` has no schema default (pan-os-codegen [P3]); absent means not enabled" };
pub const PASSIVE_MODE: Fact =
    Fact { value: "off", source: "`passive-mode` has no schema default (pan-os-codegen [P3]; device-import-notes.md §3, assumed off)" };
pub const LOCAL_ID: Fact = Fact { value: "none: the local address is the identity", source: "pan-os-ipsec.md §3.1 [P3] [P4]" };
pub const PEER_ID: Fact = Fact { value: "none: any identity the peer sends is accepted", source: "pan-os-ipsec.md §3.1 [P3] [P4]" };
pub const IKE_LIFETIME: Fact = Fact { value: "8 hours", source: "PAN-OS's IKE key lifetime default (pan-os-ipsec.md §2.2, §3.1 [P6] [P8])" };
pub const IKE_LIFETIME_S: u64 = 8 * 3600;
pub const IPSEC_LIFETIME: Fact = Fact { value: "1 hour", source: "PAN-OS's IPsec lifetime default (pan-os-ipsec.md §2.2 [P10])" };
pub const IPSEC_LIFETIME_S: u64 = 3600;
pub const IKE_DH_GROUP: Fact =
    Fact { value: "group2", source: "\"Group 2 — 1024 bits (default)\" (device-import-notes.md §3, PAN techdocs IKE Phase 1 [P6])" };
pub const PROXY_ID: Fact = Fact {
    value: "local 0.0.0.0/0, remote 0.0.0.0/0, protocol any",
    source: "no proxy-ID: PAN-OS proposes 0.0.0.0/0 both ways (pan-os-ipsec.md §4.2 [P17] [P18]; device-import-notes.md §3)",
};
pub const PROXY_PROTOCOL: Fact = Fact { value: "any", source: "pan-os-ipsec.md §4.1 [P3]" };
pub const MONITOR_PROFILE: Fact = Fact { value: "default", source: "pan-os-ipsec.md §4.1 [P3]" };
pub const RULE_ACTION: Fact = Fact { value: "allow", source: "pan-os-codegen schema default (pan-os-ipsec.md §1 [P3])" };
pub const RULE_TYPE: Fact = Fact { value: "universal", source: "pan-os-codegen schema default (pan-os-ipsec.md §1 [P3])" };
pub const INTRAZONE_DEFAULT: Fact = Fact { value: "allow", source: "PAN-OS's predefined rule intrazone-default" };
pub const INTERZONE_DEFAULT: Fact = Fact { value: "deny", source: "PAN-OS's predefined rule interzone-default" };

// Virtual-router BGP (legacy routing engine). [P3] is pan-os-codegen's
// `specs/network/virtual-router.yaml`, [P4] pan-os-python's `Bgp*` classes; "help" is the PAN-OS
// web interface help, Network > Virtual Routers > BGP (General, Peer Group, Redist Rules,
// Import and Export tabs).
pub const BGP_ENABLE: Fact =
    Fact { value: "yes", source: "assumed: pan-os-python's `Bgp.enable` defaults to True [P4]; pan-os-codegen's schema names no default [P3] (unconfirmed)" };
pub const BGP_INSTALL_ROUTE: Fact = Fact {
    value: "no",
    source: "pan-os-python `Bgp.install_route` default False [P4]; help, BGP General Tab: \"Install Route: select to install BGP routes in the global routing table\"",
};
pub const BGP_REJECT_DEFAULT: Fact =
    Fact { value: "yes", source: "pan-os-python `Bgp.reject_default_route` default True [P4] (the web interface help states no default: unconfirmed)" };
pub const BGP_ALLOW_REDIST_DEFAULT: Fact = Fact { value: "no", source: "pan-os-python `Bgp.allow_redist_default_route` default False [P4]" };
pub const BGP_PEER_GROUP_TYPE: Fact = Fact { value: "ebgp", source: "pan-os-python `BgpPeerGroup.type` default 'ebgp' [P4]" };
pub const BGP_ENABLED_ENTRY: Fact = Fact {
    value: "yes",
    source:
        "assumed: no schema default (pan-os-codegen [P3]); pan-os-python documents peer groups and peers as enabled by default [P4] (unconfirmed for rules)",
};
pub const BGP_KEEPALIVE: Fact =
    Fact { value: "30", source: "help, BGP Peer Group Tab > Connection Options: Keep Alive Interval default 30 s; pan-os-codegen default '30' [P3]" };
pub const BGP_KEEPALIVE_S: u16 = 30;
pub const BGP_HOLD: Fact =
    Fact { value: "90", source: "help, BGP Peer Group Tab > Connection Options: Hold Time default 90 s; pan-os-codegen default '90' [P3]" };
pub const BGP_HOLD_S: u16 = 90;
pub const BGP_MULTIHOP: Fact = Fact {
    value: "0: a TTL of 1 towards an eBGP peer (the peer must be on a connected network), 255 towards an iBGP peer",
    source: "help, BGP Peer Group Tab > Connection Options: \"The default value of 0 means 1 for eBGP. The default value of 0 means 255 for iBGP\" (pan-os-python's docstring says 2 for eBGP [P4]; the help is followed)",
};
pub const BGP_MAX_PREFIXES: Fact =
    Fact { value: "5000", source: "pan-os-codegen default '5000' [P3]; help, BGP Peer Group Tab > Advanced: Max Prefixes 1 to 100,000 or unlimited" };
pub const BGP_MAX_PREFIXES_N: u32 = 5000;
pub const BGP_CONNECTION_ALLOW: Fact = Fact {
    value: "yes",
    source: "assumed: no schema default (pan-os-codegen [P3]); help, BGP Peer Group Tab > Connection Options lists Incoming and Outgoing Connections, each with Allow (unconfirmed)",
};
pub const BGP_EBGP_POLICY: Fact = Fact {
    value: "none needed: an eBGP peer exchanges routes without import or export rules (rendered `no bgp ebgp-requires-policy`)",
    source: "PAN-OS has no counterpart to FRR's `ebgp-requires-policy` (none in pan-os-codegen's virtual-router BGP schema [P3]); help, BGP Import and Export Tabs: rules filter routes and are optional",
};
pub const BGP_EXACT: Fact = Fact {
    value: "no: the prefix and every longer prefix inside it",
    source: "pan-os-codegen `exact`: \"match exact prefix length\" [P3], no default; pan-os-python default None [P4] (unconfirmed)",
};

/// The predefined `default` tunnel monitor profile: interval 3 s, threshold 5, wait-recover
/// (pan-os-ipsec.md §4.1 [P10]).
pub const MONITOR_DEFAULT: (u64, u64) = (3, 5);
pub const MONITOR_SOURCE: &str = "predefined monitor profile `default`: interval 3, threshold 5, wait-recover (pan-os-ipsec.md §4.1 [P10])";

const PREDEFINED_SOURCE: &str =
    "predefined profile of a factory configuration (device-import-notes.md §3: iron-skillet baseline.xml, PAN-OS 10.1; pan-os-ipsec.md §2.2 [P10])";

/// A predefined crypto profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Predefined {
    pub name: &'static str,
    pub encryption: &'static [Encryption],
    /// `None` stands for `non-auth` (IKE) or `none` (ESP).
    pub integrity: &'static [Option<Integrity>],
    pub groups: &'static [DhGroup],
    pub lifetime_s: u64,
    pub source: &'static str,
}

/// IKE crypto profiles a factory configuration holds.
pub const IKE_PROFILES: &[Predefined] = &[
    Predefined {
        name: "default",
        encryption: &[Encryption::Aes128, Encryption::TripleDes],
        integrity: &[Some(Integrity::Sha1)],
        groups: &[DhGroup::Modp1024],
        lifetime_s: 8 * 3600,
        source: PREDEFINED_SOURCE,
    },
    Predefined {
        name: "Suite-B-GCM-128",
        encryption: &[Encryption::Aes128],
        integrity: &[Some(Integrity::Sha256)],
        groups: &[DhGroup::Ecp256],
        lifetime_s: 8 * 3600,
        source: PREDEFINED_SOURCE,
    },
    Predefined {
        name: "Suite-B-GCM-256",
        encryption: &[Encryption::Aes256],
        integrity: &[Some(Integrity::Sha384)],
        groups: &[DhGroup::Ecp384],
        lifetime_s: 8 * 3600,
        source: PREDEFINED_SOURCE,
    },
];

/// IPsec crypto profiles a factory configuration holds (ESP; one PFS group each).
pub const IPSEC_PROFILES: &[Predefined] = &[
    Predefined {
        name: "default",
        encryption: &[Encryption::Aes128, Encryption::TripleDes],
        integrity: &[Some(Integrity::Sha1)],
        groups: &[DhGroup::Modp1024],
        lifetime_s: 3600,
        source: PREDEFINED_SOURCE,
    },
    Predefined {
        name: "Suite-B-GCM-128",
        encryption: &[Encryption::Aes128Gcm16],
        integrity: &[None],
        groups: &[DhGroup::Ecp256],
        lifetime_s: 3600,
        source: PREDEFINED_SOURCE,
    },
    Predefined {
        name: "Suite-B-GCM-256",
        encryption: &[Encryption::Aes256Gcm16],
        integrity: &[None],
        groups: &[DhGroup::Ecp384],
        lifetime_s: 3600,
        source: PREDEFINED_SOURCE,
    },
];

pub fn ike_profile(name: &str) -> Option<&'static Predefined> {
    IKE_PROFILES.iter().find(|p| p.name == name)
}

pub fn ipsec_profile(name: &str) -> Option<&'static Predefined> {
    IPSEC_PROFILES.iter().find(|p| p.name == name)
}

/// The IKEv2 liveness check when the gateway's `protocol ikev2 dpd enable` is absent. Sources
/// disagree (device-import-notes.md §3): the PAN-OS 11.0 admin guide says enabled by default
/// [P12], the 10.2 web help "always on" [P14], the PAN-OS 7.0 knowledge-base article "not
/// enabled by default" [P13].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LivenessDefault {
    /// The current documentation (11.0 admin guide, 10.2 web help). vpnlab's choice.
    On,
    /// The PAN-OS 7.0 knowledge-base article.
    Off,
}

/// An IPsec crypto profile without `dh-group`. Sources disagree (device-import-notes.md §7.3):
/// the schema and PAN-OS's documentation say group2, PFS on by default [P3] [P9]; Batfish reads
/// an absent group as no PFS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpsecDhDefault {
    /// The schema default and the documentation. vpnlab's choice.
    Group2,
    /// Batfish's reading.
    NoPfs,
}

/// The choices where sources disagree, with the values vpnlab uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choices {
    pub ikev2_liveness: LivenessDefault,
    pub ipsec_dh_group: IpsecDhDefault,
}

/// The choices as a lab names them (`choices: { ikev2-liveness-default: off }`).
pub const CHOICES: &[Choice] = &[
    Choice {
        name: "ikev2-liveness-default",
        values: &["on", "off"],
        default: "on",
        about: "the IKEv2 liveness check of a gateway without `protocol ikev2 dpd enable`: the 11.0 admin guide and 10.2 web help say on, the 7.0 KB says off",
    },
    Choice {
        name: "ipsec-dh-group-default",
        values: &["group2", "no-pfs"],
        default: "group2",
        about: "PFS of an IPsec crypto profile without `dh-group`: the schema and PAN-OS's docs say group2, Batfish reads no PFS",
    },
];

impl Choices {
    /// The choices from checked (name, value) pairs; a pair not in [`CHOICES`] is ignored (the
    /// lab's resolution has refused it with its line).
    pub fn from_pairs(pairs: &[(String, String)]) -> Choices {
        let mut c = Choices::default();
        for (name, value) in pairs {
            match (name.as_str(), value.as_str()) {
                ("ikev2-liveness-default", "on") => c.ikev2_liveness = LivenessDefault::On,
                ("ikev2-liveness-default", "off") => c.ikev2_liveness = LivenessDefault::Off,
                ("ipsec-dh-group-default", "group2") => c.ipsec_dh_group = IpsecDhDefault::Group2,
                ("ipsec-dh-group-default", "no-pfs") => c.ipsec_dh_group = IpsecDhDefault::NoPfs,
                _ => {}
            }
        }
        c
    }
}

impl Default for Choices {
    fn default() -> Choices {
        Choices { ikev2_liveness: LivenessDefault::On, ipsec_dh_group: IpsecDhDefault::Group2 }
    }
}

impl LivenessDefault {
    /// The value and its source, naming the choice and the other reading.
    pub fn fact(self) -> (String, String) {
        match self {
            LivenessDefault::On => (
                format!("on, every {} s", DPD_INTERVAL.value),
                "choice ikev2-liveness-default = on: PAN-OS 11.0 admin guide \"enabled by default\" [P12] and 10.2 web help \"always on\" [P14]; the PAN-OS 7.0 KB says off [P13] (device-import-notes.md §3)".into(),
            ),
            LivenessDefault::Off => (
                "off".into(),
                "choice ikev2-liveness-default = off: PAN-OS 7.0 KB kA10g000000ClgcCAC \"not enabled by default\" [P13]; the 11.0 admin guide says on [P12] (device-import-notes.md §3)".into(),
            ),
        }
    }
}

impl IpsecDhDefault {
    pub fn group(self) -> Option<DhGroup> {
        match self {
            IpsecDhDefault::Group2 => Some(DhGroup::Modp1024),
            IpsecDhDefault::NoPfs => None,
        }
    }

    pub fn fact(self) -> (String, String) {
        match self {
            IpsecDhDefault::Group2 => (
                "group2 (PFS on)".into(),
                "choice ipsec-dh-group-default = group2: the schema default and \"PFS is enabled by default\" [P3] [P9]; Batfish reads no default (device-import-notes.md §7.3)".into(),
            ),
            IpsecDhDefault::NoPfs => (
                "no-pfs".into(),
                "choice ipsec-dh-group-default = no-pfs: Batfish's reading; the schema and PAN-OS's docs say group2 [P3] [P9] (device-import-notes.md §7.3)".into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predefined_profiles_match_the_factory_table() {
        let ike = ike_profile("default").unwrap();
        assert_eq!(ike.encryption, [Encryption::Aes128, Encryption::TripleDes]);
        assert_eq!(ike.groups, [DhGroup::Modp1024]);
        assert_eq!(ike.lifetime_s, 28800);
        let esp = ipsec_profile("Suite-B-GCM-256").unwrap();
        assert_eq!(esp.encryption, [Encryption::Aes256Gcm16]);
        assert_eq!(esp.integrity, [None]);
        assert_eq!(esp.groups, [DhGroup::Ecp384]);
        assert_eq!(esp.lifetime_s, 3600);
        assert!(ike_profile("mine").is_none());
        assert_eq!(Choices::default().ipsec_dh_group.group(), Some(DhGroup::Modp1024));
    }

    #[test]
    fn every_choice_of_the_table_is_read_and_its_default_is_vpnlabs() {
        let defaults: Vec<(String, String)> = CHOICES.iter().map(|c| (c.name.to_string(), c.default.to_string())).collect();
        assert_eq!(Choices::from_pairs(&defaults), Choices::default());
        for c in CHOICES {
            for v in c.values.iter().filter(|v| **v != c.default) {
                let other = Choices::from_pairs(&[(c.name.to_string(), v.to_string())]);
                assert_ne!(other, Choices::default(), "{} = {v} changes nothing", c.name);
            }
        }
    }
}
