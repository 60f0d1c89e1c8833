//! pfSense's Status > IPsec pages from the lab's live SAs: the Overview (one row per IKE SA of
//! the imported phase 1, or a Disconnected row; its child SA entries with their counters) and
//! the SPDs tab (the policies of the installed CHILD SAs). The columns are pfSense's own;
//! values the lab's SA listing does not carry (SPIs, time left until a rekey) are marked, not
//! made up: timers show the configured value.

use super::PfsenseDevice;
use crate::device::{StatusView, ViewTable};
use crate::evidence::sa::{ChildState, IkeSa, IkeState};
use crate::ike::intent::{IkeVersion, IpsecIntent};

/// `7:12:00`, or `1d 07:12:00` with days, as the GUI writes durations.
fn dhms(seconds: u64) -> String {
    let (d, h, m, s) = (seconds / 86400, seconds % 86400 / 3600, seconds % 3600 / 60, seconds % 60);
    if d > 0 {
        format!("{d}d {h:02}:{m:02}:{s:02}")
    } else {
        format!("{h}:{m:02}:{s:02}")
    }
}

/// `AES_CBC-256/HMAC_SHA2_256_128/...` as the Algo column lists it: `AES_CBC (256)` and the
/// rest one per line.
fn algo(algorithms: &str) -> String {
    algorithms
        .split('/')
        .map(|part| match part.rsplit_once('-') {
            Some((name, bits)) if bits.chars().all(|c| c.is_ascii_digit()) => format!("{name} ({bits})"),
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn identity(id: &str) -> String {
    match id {
        "" => "Unknown".into(),
        "%any" => "Any identifier".into(),
        other => other.into(),
    }
}

fn state_name(state: &IkeState) -> String {
    let lower = state.as_str().to_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => lower,
    }
}

pub fn view(dev: &PfsenseDevice, node: &str, intent: &IpsecIntent, sas: &[IkeSa]) -> StatusView {
    let conn_name = dev.connection_name();
    let conn = intent.connections.iter().find(|c| c.name == conn_name);
    let mine: Vec<&IkeSa> = sas.iter().filter(|sa| sa.name == conn_name).collect();
    let descr = dev.descr.clone().unwrap_or_default();
    let secs = |s: Option<u64>| match s {
        Some(0) | None => "Disabled".to_string(),
        Some(v) => format!("{v}s ({}) as configured", dhms(v)),
    };
    let mut rows = Vec::new();
    for sa in &mine {
        let nat = |b: bool| if b { " NAT-T" } else { "" };
        let timers = match (sa.version, conn) {
            (2, Some(c)) => format!("Rekey: {}\nReauth: {}", secs(c.rekey_time_s), secs(c.reauth_time_s)),
            (_, Some(c)) => format!("Reauth: {}", secs(c.reauth_time_s)),
            (_, None) => String::new(),
        };
        let status = if sa.state == IkeState::Established {
            format!("Established\n{} seconds ({}) ago", sa.established_s, dhms(sa.established_s))
        } else {
            state_name(&sa.state)
        };
        rows.push(vec![
            format!("{} #{}", sa.name, sa.uniqueid),
            descr.clone(),
            format!("ID: {}\nHost: {}:{}{}", identity(&sa.local_id), sa.local_host, sa.local_port, nat(sa.nat_local)),
            format!("ID: {}\nHost: {}:{}{}", identity(&sa.remote_id), sa.remote_host, sa.remote_port, nat(sa.nat_remote)),
            format!("IKEv{}\n{}", sa.version, if sa.initiator { "Initiator" } else { "Responder" }),
            timers,
            algo(&sa.algorithms),
            status,
        ]);
    }
    if mine.is_empty() {
        let (local_id, local_host, remote_id, remote_host) = match conn {
            Some(c) => (
                c.local.id.clone().unwrap_or_else(|| "Unknown".into()),
                c.local_addrs.first().cloned().unwrap_or_else(|| "Unknown".into()),
                c.remote.id.clone().unwrap_or_else(|| "Unknown".into()),
                c.remote_addrs.first().cloned().unwrap_or_else(|| "Unknown".into()),
            ),
            None => ("Unknown".into(), "Unknown".into(), "Unknown".into(), "Unknown".into()),
        };
        rows.push(vec![
            conn_name.clone(),
            descr.clone(),
            format!("ID: {}\nHost: {local_host}", identity(&local_id)),
            format!("ID: {}\nHost: {remote_host}", identity(&remote_id)),
            String::new(),
            String::new(),
            String::new(),
            "Disconnected".into(),
        ]);
    }
    let overview = ViewTable {
        title: "Status > IPsec > Overview".into(),
        headers: ["ID", "Description", "Local", "Remote", "Role", "Timers", "Algo", "Status"].iter().map(|s| s.to_string()).collect(),
        rows,
    };
    let mut tables = vec![overview];

    let nets = |v: &[String]| if v.is_empty() { "Unknown".to_string() } else { v.join("\n") };
    let mut spd_rows = Vec::new();
    for sa in &mine {
        let mut child_rows = Vec::new();
        for ch in &sa.children {
            let infos: Vec<_> = dev.phase2.iter().filter(|p| p.child == ch.name).collect();
            let description = match infos.as_slice() {
                [one] => one.descr.clone().unwrap_or_default(),
                [] => String::new(),
                _ => "Multiple".into(),
            };
            let configured = conn.and_then(|c| c.children.iter().find(|x| x.name == ch.name));
            let times = match configured {
                Some(c) => format!(
                    "Rekey: {}\nLife: {}",
                    c.rekey_time_s.map(|v| format!("{v}s as configured")).unwrap_or_else(|| "charon's default".into()),
                    c.life_time_s.map(|v| format!("{v}s as configured")).unwrap_or_else(|| "charon's default".into())
                ),
                None => String::new(),
            };
            child_rows.push(vec![
                format!("{}:\n#{}", ch.name, ch.uniqueid),
                description,
                nets(&ch.local_ts),
                "(not in the lab's SA listing)".into(),
                nets(&ch.remote_ts),
                times,
                algo(&ch.algorithms),
                format!("Bytes-In: {}\nPackets-In: {}\nBytes-Out: {}\nPackets-Out: {}", ch.bytes_in, ch.packets_in, ch.bytes_out, ch.packets_out),
            ]);
            if ch.state == ChildState::Installed && sa.state == IkeState::Established {
                let vti = infos.iter().any(|p| p.vti);
                let mode = match (vti, dev.vti.first()) {
                    (true, Some(v)) => format!("VTI {}", v.interface),
                    (true, None) => "VTI".into(),
                    (false, _) => "Tunnel".into(),
                };
                for l in &ch.local_ts {
                    for r in &ch.remote_ts {
                        spd_rows.push(vec![
                            mode.clone(),
                            l.clone(),
                            r.clone(),
                            "→ Outbound".into(),
                            "ESP".into(),
                            format!("{} → {}", sa.local_host, sa.remote_host),
                        ]);
                        spd_rows.push(vec![
                            mode.clone(),
                            r.clone(),
                            l.clone(),
                            "← Inbound".into(),
                            "ESP".into(),
                            format!("{} ← {}", sa.local_host, sa.remote_host),
                        ]);
                    }
                }
            }
        }
        // Phase 2 entries without a CHILD SA (IKEv1 or split: one per entry).
        for p in &dev.phase2 {
            if !sa.children.iter().any(|c| c.name == p.child) {
                let show = |v: &[ipnet::Ipv4Net]| v.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
                child_rows.push(vec![
                    p.child.clone(),
                    p.descr.clone().unwrap_or_default(),
                    show(&p.local),
                    String::new(),
                    show(&p.remote),
                    String::new(),
                    String::new(),
                    "Disconnected".into(),
                ]);
            }
        }
        tables.push(ViewTable {
            title: format!("Status > IPsec > Overview > {} #{} > Show child SA entries", sa.name, sa.uniqueid),
            headers: ["ID", "Description", "Local", "SPI(s)", "Remote", "Times", "Algo", "Stats"].iter().map(|s| s.to_string()).collect(),
            rows: child_rows,
        });
    }
    if spd_rows.is_empty() {
        spd_rows.push(vec!["No IPsec security policies configured.".into(), String::new(), String::new(), String::new(), String::new(), String::new()]);
    }
    tables.push(ViewTable {
        title: "Status > IPsec > SPDs (the policies of the installed CHILD SAs)".into(),
        headers: ["Mode", "Source", "Destination", "Direction", "Protocol", "Tunnel endpoints"].iter().map(|s| s.to_string()).collect(),
        rows: spd_rows,
    });
    let version = conn.map(|c| c.version).unwrap_or(IkeVersion::V2);
    StatusView { title: format!("pfSense {node}: Status > IPsec ({conn_name}, {})", version.name()), tables }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_algorithms_as_the_gui_shows_them() {
        assert_eq!(dhms(25920), "7:12:00");
        assert_eq!(dhms(90061), "1d 01:01:01");
        assert_eq!(algo("AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048"), "AES_CBC (256)\nHMAC_SHA2_256_128\nPRF_HMAC_SHA2_256\nMODP_2048");
        assert_eq!(state_name(&IkeState::Connecting), "Connecting");
    }
}
