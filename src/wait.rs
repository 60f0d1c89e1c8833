//! Bounded waits. Every wait in vpnlab has a limit, and when it runs out the error says what
//! was being waited for and for how long.

use std::future::Future;
use std::time::Duration;

use anyhow::{anyhow, Result};

/// How long a daemon may take to answer one VICI command (other than `initiate`, which
/// carries its own bound).
pub const VICI_ANSWER: Duration = Duration::from_secs(5);

/// Runs `fut` for at most `limit`; `what` completes the sentence "gave up waiting for ...".
pub async fn within<T, E>(limit: Duration, what: impl FnOnce() -> String, fut: impl Future<Output = Result<T, E>>) -> Result<T>
where
    E: Into<anyhow::Error>,
{
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r.map_err(Into::into),
        Err(_) => Err(anyhow!("gave up after {} ms waiting for {}", limit.as_millis(), what())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn says_what_it_waited_for() {
        let e = within(Duration::from_millis(10), || "the answer".to_string(), async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<(), anyhow::Error>(())
        })
        .await
        .unwrap_err();
        assert_eq!(e.to_string(), "gave up after 10 ms waiting for the answer");
        let v = within(Duration::from_secs(1), || unreachable!(), async { Ok::<_, anyhow::Error>(7) }).await.unwrap();
        assert_eq!(v, 7);
    }
}
