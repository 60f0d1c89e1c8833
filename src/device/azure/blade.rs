//! The gateway as Azure's portal shows it: the connection blade (`connectionStatus`, ingress
//! and egress bytes, per-tunnel health, as `az network vpn-connection show` returns them), read
//! from the simulated gateway's live SAs. The status values and field names are Azure's own
//! (reference azure-troubleshooting-surface.md); the figures are the lab's.

use super::AzureSite;
use crate::device::{StatusView, ViewTable};
use crate::evidence::sa::{ChildState, IkeSa, IkeState};

/// Azure's `connectionStatus` for a connection whose SAs are `sas`.
pub fn connection_status(sas: &[IkeSa]) -> &'static str {
    let installed = |sa: &IkeSa| sa.is_established() && sa.children.iter().any(|c| c.state == ChildState::Installed);
    if sas.iter().any(installed) {
        "Connected"
    } else if sas.iter().any(|sa| matches!(sa.state, IkeState::Connecting | IkeState::Established | IkeState::Rekeying)) {
        "Connecting"
    } else {
        "NotConnected"
    }
}

pub fn view(site: &AzureSite, sas: &[IkeSa]) -> StatusView {
    let mine: Vec<&IkeSa> = sas.iter().filter(|sa| sa.name == site.connection.name).collect();
    let owned: Vec<IkeSa> = mine.iter().map(|s| (*s).clone()).collect();
    let status = connection_status(&owned);
    let bytes = |f: fn(&crate::evidence::sa::ChildSa) -> u64| mine.iter().flat_map(|sa| sa.children.iter()).map(f).sum::<u64>();
    let (ingress, egress) = (bytes(|c| c.bytes_in), bytes(|c| c.bytes_out));
    let connection = ViewTable {
        title: format!("Connection {} (az network vpn-connection show)", site.connection.name),
        headers: vec!["field".into(), "value".into()],
        rows: vec![
            vec!["connectionStatus".into(), status.into()],
            vec!["connectionProtocol".into(), super::protocol_name(site.connection.protocol).into()],
            vec!["ingressBytesTransferred".into(), ingress.to_string()],
            vec!["egressBytesTransferred".into(), egress.to_string()],
            vec!["connectionMode".into(), site.connection.mode.azure_name().into()],
            vec!["usePolicyBasedTrafficSelectors".into(), site.connection.policy_based_selectors.to_string()],
        ],
    };
    // One instance is modelled (an active-active gateway's second instance is not), so one
    // tunnel row: Azure's instance names are GatewayTenantWorker_IN_0/1.
    let tunnel_rows = if mine.is_empty() {
        vec![vec!["GatewayTenantWorker_IN_0".into(), "NotConnected".into(), "0".into(), "0".into(), "-".into()]]
    } else {
        mine.iter()
            .map(|sa| {
                let (i, e) = (sa.children.iter().map(|c| c.bytes_in).sum::<u64>(), sa.children.iter().map(|c| c.bytes_out).sum::<u64>());
                let up = if sa.is_established() { format!("{} s ago", sa.established_s) } else { "-".into() };
                vec!["GatewayTenantWorker_IN_0".into(), connection_status(std::slice::from_ref(*sa)).into(), i.to_string(), e.to_string(), up]
            })
            .collect()
    };
    let tunnels = ViewTable {
        title: "tunnelConnectionStatus".into(),
        headers: vec!["tunnel".into(), "connectionStatus".into(), "ingressBytes".into(), "egressBytes".into(), "lastConnectionEstablished".into()],
        rows: tunnel_rows,
    };
    StatusView {
        title: format!("Azure: virtual network gateway {} · connection {}", site.gateway.name, site.connection.name),
        tables: vec![connection, tunnels],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_the_sas() {
        let up = IkeSa::example(Some("c"), 840);
        assert_eq!(connection_status(std::slice::from_ref(&up)), "Connected");
        let phase1_only = IkeSa::example(None, 0);
        assert_eq!(connection_status(&[phase1_only]), "Connecting");
        assert_eq!(connection_status(&[]), "NotConnected");
    }
}
