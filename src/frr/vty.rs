//! FRR's vtysh protocol on a daemon's unix socket (`<daemon>.vty`): a command ends with a NUL
//! byte, the answer with three NUL bytes and a status byte (0: success). What `vtysh -c` does,
//! without starting a process per question. Every exchange is bounded.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// Asks the daemon behind `socket` one command and returns its answer.
pub async fn ask(socket: &Path, command: &str, timeout: Duration) -> Result<String> {
    tokio::time::timeout(timeout, exchange(socket, command))
        .await
        .map_err(|_| anyhow!("no answer to `{command}` on {} within {} ms", socket.display(), timeout.as_millis()))?
}

async fn exchange(socket: &Path, command: &str) -> Result<String> {
    let mut stream = UnixStream::connect(socket).await.with_context(|| format!("connecting to {}", socket.display()))?;
    let mut request = command.as_bytes().to_vec();
    request.push(0);
    stream.write_all(&request).await?;
    let mut answer = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            bail!("{} closed the connection during `{command}`", socket.display());
        }
        answer.extend_from_slice(&buf[..n]);
        if let Some((status, body)) = split_end(&answer) {
            let text = String::from_utf8_lossy(body).into_owned();
            if status != 0 {
                bail!("`{command}` failed ({status}): {}", text.trim());
            }
            return Ok(text);
        }
    }
}

/// The status byte and the body, once the answer's end marker has arrived.
fn split_end(answer: &[u8]) -> Option<(u8, &[u8])> {
    let n = answer.len();
    (n >= 4 && answer[n - 4..n - 1] == [0, 0, 0]).then(|| (answer[n - 1], &answer[..n - 4]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_ends_with_three_nuls_and_a_status() {
        assert_eq!(split_end(b"{}\0\0\0\0"), Some((0, &b"{}"[..])));
        assert_eq!(split_end(b"% Unknown\0\0\0\x02"), Some((2, &b"% Unknown"[..])));
        assert_eq!(split_end(b"{\"a\":1"), None);
    }
}
