//! IKE and CHILD SAs as observed: their states (charon's names, typed), algorithms,
//! selectors and counters. The driver fills them in (`strongswan/sas.rs`); verdicts, judges,
//! diagnoses and reports read them.

use serde::{Serialize, Serializer};

/// Declares a charon state enum: its wire names (as VICI and swanctl print them), and
/// `Other` for a name this build does not know (kept verbatim, never dropped).
macro_rules! charon_states {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            $($variant,)+
            Other(String),
        }

        impl $name {
            pub fn parse(s: &str) -> Self {
                match s {
                    $($wire => $name::$variant,)+
                    other => $name::Other(other.to_string()),
                }
            }

            /// charon's own name for the state.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Other(s) => s,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

charon_states! {
    /// An IKE SA's state (charon's `ike_sa_state_t`).
    IkeState {
        Created = "CREATED",
        Connecting = "CONNECTING",
        Established = "ESTABLISHED",
        Passive = "PASSIVE",
        Rekeying = "REKEYING",
        Rekeyed = "REKEYED",
        Deleting = "DELETING",
        Destroying = "DESTROYING",
    }
}

charon_states! {
    /// A CHILD SA's state (charon's `child_sa_state_t`).
    ChildState {
        Created = "CREATED",
        Routed = "ROUTED",
        Installing = "INSTALLING",
        Installed = "INSTALLED",
        Updating = "UPDATING",
        Rekeying = "REKEYING",
        Rekeyed = "REKEYED",
        Retrying = "RETRYING",
        Deleting = "DELETING",
        Deleted = "DELETED",
        Destroying = "DESTROYING",
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IkeSa {
    pub name: String,
    pub uniqueid: String,
    /// 1 or 2.
    pub version: u8,
    pub state: IkeState,
    pub local_host: String,
    pub local_port: String,
    pub local_id: String,
    pub remote_host: String,
    pub remote_port: String,
    pub remote_id: String,
    pub initiator: bool,
    /// This end is behind NAT.
    pub nat_local: bool,
    /// The peer is behind NAT.
    pub nat_remote: bool,
    /// e.g. `AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048`.
    pub algorithms: String,
    /// Seconds since the IKE SA was established.
    pub established_s: u64,
    pub children: Vec<ChildSa>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChildSa {
    pub name: String,
    pub uniqueid: String,
    pub state: ChildState,
    /// TUNNEL or TRANSPORT.
    pub mode: String,
    /// ESP or AH.
    pub protocol: String,
    /// ESP in UDP (NAT-T, and always with kernel-libipsec).
    pub encap: bool,
    /// e.g. `AES_CBC-256/HMAC_SHA2_256_128` (plus the PFS group if any).
    pub algorithms: String,
    pub local_ts: Vec<String>,
    pub remote_ts: Vec<String>,
    pub bytes_in: u64,
    pub packets_in: u64,
    pub bytes_out: u64,
    pub packets_out: u64,
}

/// The established IKE SA among `sas`, if any.
pub fn established(sas: &[IkeSa]) -> Option<&IkeSa> {
    sas.iter().find(|s| s.is_established())
}

impl IkeSa {
    /// An established IKEv2 SA with `child` installed (0/0 both ways, `bytes` each way), for
    /// tests of code that reads SAs.
    #[cfg(test)]
    pub fn example(child: Option<&str>, bytes: u64) -> IkeSa {
        IkeSa {
            name: "c".into(),
            uniqueid: "1".into(),
            version: 2,
            state: IkeState::Established,
            local_host: String::new(),
            local_port: "4500".into(),
            local_id: String::new(),
            remote_host: String::new(),
            remote_port: "4500".into(),
            remote_id: String::new(),
            initiator: true,
            nat_local: false,
            nat_remote: false,
            algorithms: "AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048".into(),
            established_s: 1,
            children: child
                .into_iter()
                .map(|child| ChildSa {
                    name: child.into(),
                    uniqueid: "1".into(),
                    state: ChildState::Installed,
                    mode: "TUNNEL".into(),
                    protocol: "ESP".into(),
                    encap: true,
                    algorithms: "AES_CBC-256/HMAC_SHA2_256_128".into(),
                    local_ts: vec!["0.0.0.0/0".into()],
                    remote_ts: vec!["0.0.0.0/0".into()],
                    bytes_in: bytes,
                    packets_in: bytes / 84,
                    bytes_out: bytes,
                    packets_out: bytes / 84,
                })
                .collect(),
        }
    }

    pub fn is_established(&self) -> bool {
        self.state == IkeState::Established
    }

    /// Its installed CHILD SA, if any.
    pub fn installed(&self) -> Option<&ChildSa> {
        self.children.iter().find(|c| c.state == ChildState::Installed)
    }
}
