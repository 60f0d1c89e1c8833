//! The shared IKE vocabulary, under every device and driver: typed proposals (`proposal`),
//! DH groups (`dh`), the IPsec intent a device hands to a driver (`intent`), and durations.
//! Nothing here names a vendor or touches the system.

pub mod dh;
pub mod intent;
pub mod proposal;

pub use proposal::{Proposal, ProposalKind};

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
    fn durations() {
        assert_eq!(check_duration("27000s"), Ok(27000));
        assert_eq!(check_duration("8h"), Ok(28800));
        assert_eq!(check_duration("45"), Ok(45));
        assert!(check_duration("8 hours").unwrap_err().contains("unknown unit"));
        assert!(check_duration("h").unwrap_err().contains("not a duration"));
    }
}
