//! Data-path probes: the real `ping`, run inside a node, as an engineer would run it.

pub use crate::evidence::PingResult;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::process::RUN_LABEL;
use crate::topology::Backend;

/// Each attempt sends one echo and waits up to `wait` for the reply.
pub async fn ping(backend: &dyn Backend, run_id: &str, p: &crate::model::Ping, attempts: u32, wait: Duration) -> PingResult {
    let (from, to) = (p.from.as_str(), p.to.to_string());
    let result =
        |success: bool, attempts: u32, output: String| PingResult { from: from.into(), to: to.clone(), size: p.size, df: p.df, success, attempts, output };
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
