//! Data-path probes: the real `ping`, run inside a node as an engineer would run it (from a
//! chosen source address with `-I`), and a TCP transfer from a socket in one node to a sink
//! vpnlab runs in the destination's node, bounded, which tells a connection that never
//! opened from one that opened and stalled.

pub use crate::evidence::{PingResult, TcpOutcome, TcpResult};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::model::TcpProbe;
use crate::process::RUN_LABEL;
use crate::topology::Backend;

/// Each attempt sends one echo and waits up to `wait` for the reply.
pub async fn ping(backend: &dyn Backend, run_id: &str, p: &crate::model::Ping, attempts: u32, wait: Duration) -> PingResult {
    let (from, to) = (p.from.as_str(), p.to.to_string());
    let source = p.source.map(|s| s.to_string());
    let result = |success: bool, attempts: u32, output: String| PingResult {
        from: from.into(),
        to: to.clone(),
        source: source.clone(),
        size: p.size,
        df: p.df,
        success,
        attempts,
        output,
    };
    let mut output = String::new();
    for attempt in 1..=attempts {
        let cmd = match backend.command(from, Path::new("ping")) {
            Ok(c) => c,
            Err(e) => return result(false, attempt, e.to_string()),
        };
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.args(["-n", "-c", "1", "-W", &format!("{:.1}", wait.as_secs_f64())]);
        if let Some(size) = p.size {
            cmd.args(["-s", &size.to_string()]);
        }
        if p.df {
            cmd.args(["-M", "do"]);
        }
        if let Some(source) = &source {
            cmd.args(["-I", source]);
        }
        cmd.arg(&to).env(RUN_LABEL, run_id).stdin(Stdio::null()).kill_on_drop(true);
        // ping bounds itself with -W; the outer timeout covers a ping that cannot start.
        match tokio::time::timeout(Duration::from_secs(3), cmd.output()).await {
            Ok(Ok(out)) => {
                let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
                output = summarize(&text, wait);
                if out.status.success() {
                    // A first packet lost (a route or neighbour still settling) is worth seeing.
                    if attempt > 1 {
                        output = format!("{output} (attempt {attempt} of {attempts})");
                    }
                    return result(true, attempt, output);
                }
            }
            Ok(Err(e)) => output = format!("could not run ping: {e}"),
            Err(_) => output = "ping did not finish within 3 s".to_string(),
        }
    }
    result(false, attempts, output)
}

impl super::LabRun {
    /// A TCP transfer as a probe says. Without the tunnel nothing can answer (every probe
    /// crosses it), so the bound shrinks to half a second, as the pings' does.
    pub async fn tcp(&self, p: &TcpProbe, tunnel_up: bool) -> TcpResult {
        let bound = if tunnel_up { p.within } else { p.within.min(Duration::from_millis(500)) };
        tcp(self.backend.as_ref(), p, bound).await
    }
}

/// The sink's side of a TCP probe: a connection is read to its end, counted into `received`,
/// and answered with the count (8 bytes, big-endian), which tells the sender that everything
/// arrived. Connections are served one after the other, in this task, so aborting it closes
/// every socket it holds (a probe opens one).
async fn sink(listener: tokio::net::TcpListener, received: Arc<AtomicU64>) {
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok((mut conn, _)) = listener.accept().await {
        let mut total = 0u64;
        loop {
            match conn.read(&mut buf).await {
                Ok(0) => {
                    let _ = conn.write_all(&total.to_be_bytes()).await;
                    let _ = conn.shutdown().await;
                    break;
                }
                Ok(n) => {
                    total += n as u64;
                    received.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(_) => break,
            }
        }
    }
}

/// Connects from `p.from` (from `p.source` if given) to the sink on `p.to:p.port` and sends
/// `p.bytes`, all within `bound`.
pub async fn tcp(backend: &dyn Backend, p: &TcpProbe, bound: Duration) -> TcpResult {
    let mut r = TcpResult {
        from: p.from.clone(),
        to: p.to.to_string(),
        port: p.port,
        source: p.source.map(|s| s.to_string()),
        bytes: p.bytes,
        received: 0,
        connect_ms: None,
        ms: 0.0,
        within_ms: bound.as_millis() as u64,
        outcome: TcpOutcome::Error,
        detail: String::new(),
    };
    let bind = SocketAddr::from((p.to, p.port));
    let listener = match backend.tcp_listener(&p.sink, bind).and_then(|l| Ok(tokio::net::TcpListener::from_std(l)?)) {
        Ok(l) => l,
        Err(e) => {
            r.detail = format!("the sink could not listen in {}: {e:#}", p.sink);
            return r;
        }
    };
    // Where the sink really listens (the address asked for; the fake backend's own otherwise).
    let target = listener.local_addr().unwrap_or(bind);
    let received = Arc::new(AtomicU64::new(0));
    let sink = tokio::spawn(sink(listener, received.clone()));
    let socket = match backend.tcp_socket(&p.from, p.source) {
        Ok(s) => s,
        Err(e) => {
            sink.abort();
            r.detail = format!("no TCP socket in {}: {e:#}", p.from);
            return r;
        }
    };
    let start = Instant::now();
    let deadline = tokio::time::Instant::from_std(start + bound);
    let secs = bound.as_secs_f64();
    let (outcome, detail) = match tokio::time::timeout_at(deadline, socket.connect(target)).await {
        Err(_) => (TcpOutcome::NoConnection, format!("no answer to the connection attempt within {secs} s")),
        Ok(Err(e)) => (TcpOutcome::Refused, format!("the connection attempt failed: {e}")),
        Ok(Ok(mut stream)) => {
            let connect_ms = start.elapsed().as_secs_f64() * 1000.0;
            r.connect_ms = Some(connect_ms);
            let transfer = async {
                let chunk = vec![0u8; 64 * 1024];
                let mut left = p.bytes;
                while left > 0 {
                    let n = left.min(chunk.len() as u64) as usize;
                    stream.write_all(&chunk[..n]).await?;
                    left -= n as u64;
                }
                stream.shutdown().await?;
                let mut ack = [0u8; 8];
                stream.read_exact(&mut ack).await?;
                Ok::<u64, std::io::Error>(u64::from_be_bytes(ack))
            };
            match tokio::time::timeout_at(deadline, transfer).await {
                Ok(Ok(n)) if n == p.bytes => {
                    (TcpOutcome::Completed, format!("connected in {connect_ms:.1} ms, {n} bytes in {:.1} ms", start.elapsed().as_secs_f64() * 1000.0))
                }
                Ok(Ok(n)) => (TcpOutcome::Stalled, format!("connected in {connect_ms:.1} ms; the sink counted {n} of {} bytes", p.bytes)),
                Ok(Err(e)) => (
                    TcpOutcome::Stalled,
                    format!("connected in {connect_ms:.1} ms; the transfer broke off after {} of {} bytes: {e}", received.load(Ordering::Relaxed), p.bytes),
                ),
                Err(_) => (
                    TcpOutcome::Stalled,
                    format!("connected in {connect_ms:.1} ms; {} of {} bytes arrived within {secs} s", received.load(Ordering::Relaxed), p.bytes),
                ),
            }
        }
    };
    sink.abort();
    r.ms = start.elapsed().as_secs_f64() * 1000.0;
    r.received = received.load(Ordering::Relaxed);
    r.outcome = outcome;
    r.detail = detail;
    r
}

/// What ping said, in one line: the reply and its round-trip time, or the error (an ICMP
/// error, a local error), or that no reply came.
fn summarize(text: &str, wait: Duration) -> String {
    for line in text.lines().map(str::trim) {
        if let Some((from, rest)) = line.split_once(" bytes from ").map(|(_, r)| r).and_then(|r| r.split_once(": ")) {
            let time = rest.split_whitespace().find_map(|w| w.strip_prefix("time=")).unwrap_or("?");
            return format!("reply from {from} in {time} ms");
        }
    }
    let errors: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("From ") || l.contains("error") || l.contains("unreachable") || l.contains("Unreachable"))
        .collect();
    if !errors.is_empty() {
        return errors.join("; ");
    }
    match text.lines().find(|l| l.contains("packets transmitted")) {
        Some(stats) => format!("no reply within {} s ({})", wait.as_secs_f64(), stats.trim()),
        None => text.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::summarize;
    use std::time::Duration;

    /// The probe end to end on the fake backend's loopback sockets: the sink counts every byte
    /// and acknowledges them, and the sockets were asked for in the right nodes.
    #[tokio::test]
    async fn tcp_transfer_completes_and_is_counted() {
        use crate::topology::fake::{Call, FakeBackend};
        let backend = FakeBackend::default();
        let p = crate::model::TcpProbe {
            from: "lan-pc".into(),
            to: "10.20.0.4".parse().unwrap(),
            port: 5001,
            sink: "azure-vm".into(),
            bytes: 200_000,
            within: Duration::from_secs(3),
            source: Some("10.10.0.5".parse().unwrap()),
        };
        let r = super::tcp(&backend, &p, p.within).await;
        assert_eq!((r.outcome, r.received, r.source.as_deref()), (super::TcpOutcome::Completed, 200_000, Some("10.10.0.5")), "{r:?}");
        assert!(r.connect_ms.is_some() && r.detail.contains("200000 bytes"), "{r:?}");
        let calls = backend.calls.lock().unwrap().clone();
        assert_eq!(
            calls,
            [
                Call::TcpListener { node: "azure-vm".into(), bind: "10.20.0.4:5001".parse().unwrap() },
                Call::TcpSocket { node: "lan-pc".into(), source: p.source },
            ]
        );
    }

    #[test]
    fn summaries() {
        let ok = "PING 10.20.0.4 (10.20.0.4) 56(84) bytes of data.\n64 bytes from 10.20.0.4: icmp_seq=1 ttl=62 time=0.865 ms\n\n--- 10.20.0.4 ping statistics ---\n1 packets transmitted, 1 received, 0% packet loss, time 0ms\n";
        let second = Duration::from_secs(1);
        assert_eq!(summarize(ok, second), "reply from 10.20.0.4 in 0.865 ms");
        let lost = "PING 10.20.0.4 (10.20.0.4) 56(84) bytes of data.\n\n--- 10.20.0.4 ping statistics ---\n1 packets transmitted, 0 received, 100% packet loss, time 0ms\n";
        assert_eq!(summarize(lost, second), "no reply within 1 s (1 packets transmitted, 0 received, 100% packet loss, time 0ms)");
        assert!(summarize(lost, Duration::from_millis(200)).starts_with("no reply within 0.2 s"));
        let icmp = "PING 10.20.0.4 (10.20.0.4) 1373(1401) bytes of data.\nFrom 10.10.0.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)\n";
        assert_eq!(summarize(icmp, second), "From 10.10.0.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)");
    }
}
