//! Commands that change a daemon's SAs, bounded: `initiate` a connection's child (streaming
//! charon's log lines to the caller) and `terminate` an IKE SA. Used by runs, by `vpnlab
//! initiate` and by the supervisor, so all three drive charon the same way.

use std::time::Duration;

use anyhow::Result;

use super::vici::{Client, Section, ViciError};
use crate::wait::within;

/// How `initiate` ended: charon's verdict (success, or its error message).
pub type Initiated = std::result::Result<(), String>;

/// Initiates `child` of connection `ike`. charon gives up after `timeout`; the outer bound
/// (two seconds more) covers a daemon that does not answer at all, which is an `Err`.
pub async fn initiate(client: &mut Client, ike: &str, child: &str, timeout: Duration, on_log: &mut (dyn FnMut(String) + Send)) -> Result<Initiated> {
    let msg = Section::new()
        .kv("child", child)
        .kv("ike", ike)
        .kv("timeout", timeout.as_millis().to_string())
        // Initiate even when charon's half-open limits say no: a lab has one peer.
        .kv("init-limits", "no")
        .kv("loglevel", "1");
    let mut forward = |ev: Section| on_log(ev.str("msg").unwrap_or_default());
    let call = client.streamed("initiate", "control-log", msg, &mut forward);
    match within(timeout + Duration::from_secs(2), || format!("charon to answer the initiate of {ike}/{child}"), async { Ok::<_, ViciError>(call.await) })
        .await?
    {
        Ok(_) => Ok(Ok(())),
        Err(ViciError::CommandFailed { errmsg, .. }) => Ok(Err(errmsg)),
        Err(e) => Err(e.into()),
    }
}

/// Deletes the IKE SA with this unique id (and its CHILD SAs).
pub async fn terminate_ike(client: &mut Client, uniqueid: &str, timeout: Duration) -> Result<()> {
    let msg = Section::new().kv("ike-id", uniqueid).kv("timeout", timeout.as_millis().to_string());
    within(timeout + Duration::from_secs(2), || format!("charon to delete IKE SA {uniqueid}"), client.streamed("terminate", "control-log", msg, &mut |_| {}))
        .await?;
    Ok(())
}

/// Asks charon to rekey the CHILD SA of `child` (the exchange starts here, with this daemon's
/// offer). charon answers once the rekey is queued; its outcome shows in the events.
pub async fn rekey_child(client: &mut Client, child: &str, timeout: Duration) -> Result<Initiated> {
    let msg = Section::new().kv("child", child);
    match within(timeout, || format!("charon to answer the rekey of {child}"), async { Ok::<_, ViciError>(client.call("rekey", msg).await) }).await? {
        Ok(_) => Ok(Ok(())),
        Err(ViciError::CommandFailed { errmsg, .. }) => Ok(Err(errmsg)),
        Err(e) => Err(e.into()),
    }
}
