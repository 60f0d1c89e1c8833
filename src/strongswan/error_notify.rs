//! Reader for strongSwan's error-notify plugin socket (`/run/charon.enfy` by
//! default, setting `charon.plugins.error-notify.socket`): the fixed-size
//! alert records charon writes there and their decoding.
//!
//! Checked against strongSwan 5.9.8 (`src/libcharon/plugins/error_notify/`):
//!
//! * The client sends nothing. charon adds every accepted connection to its
//!   listener list and only ever writes to it.
//! * Each alert is one packed `error_notify_msg_t` of 768 bytes:
//!   `int type` (set with `htonl`, so big-endian on the wire), then the
//!   NUL-terminated strings `str[384]` (description), `name[64]` (connection
//!   name), `id[256]` (peer EAP/IKE identity) and `ip[60]` (peer address and
//!   port, `%#H`). Fields charon did not know stay all-zero.
//! * charon writes alerts with a blocking `write_all` while holding a mutex,
//!   so a client that connects and stops reading can stall charon's threads
//!   once the socket buffer is full: keep calling [`AlertReader::next`] (or
//!   drop the reader).

use std::path::Path;

use tokio::io::AsyncReadExt;
use tokio::net::UnixStream;

pub use crate::evidence::alert::AlertKind;

/// Size of one `error_notify_msg_t` record on the wire.
pub const RECORD_LEN: usize = 768;

// Field layout of error_notify_msg_t (packed).
const TYPE_END: usize = 4;
const STR_END: usize = TYPE_END + 384;
const NAME_END: usize = STR_END + 64;
const ID_END: usize = NAME_END + 256;
const IP_END: usize = ID_END + 60;
const _: () = assert!(IP_END == RECORD_LEN);

/// One decoded alert. Empty strings mean charon did not know the field
/// (e.g. no IKE_SA was involved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub kind: AlertKind,
    /// Human-readable description (`str`).
    pub message: String,
    /// Connection (peer config) name (`name`).
    pub connection: String,
    /// Peer identity (`id`), the EAP identity if one was used.
    pub peer_id: String,
    /// Peer address and port (`ip`), e.g. `192.0.2.1[500]`.
    pub peer_addr: String,
}

/// A fixed-size C string field: up to the first NUL, or the whole field if
/// charon filled it completely (snprintf always terminates, but do not rely
/// on the peer for memory safety).
fn c_string(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// Decode one record.
pub fn decode_record(rec: &[u8; RECORD_LEN]) -> Alert {
    let code = u32::from_be_bytes([rec[0], rec[1], rec[2], rec[3]]);
    Alert {
        kind: AlertKind::from_code(code),
        message: c_string(&rec[TYPE_END..STR_END]),
        connection: c_string(&rec[STR_END..NAME_END]),
        peer_id: c_string(&rec[NAME_END..ID_END]),
        peer_addr: c_string(&rec[ID_END..IP_END]),
    }
}

/// Async reader of alerts from the error-notify socket.
pub struct AlertReader {
    stream: UnixStream,
    buf: Box<[u8; RECORD_LEN]>,
    /// Bytes of the current record received so far; kept in the struct so a
    /// cancelled `next()` (e.g. in `select!` or under a timeout) loses nothing.
    filled: usize,
}

impl AlertReader {
    /// Connect to the error-notify socket. Nothing needs to be sent: charon
    /// starts writing alerts to the connection right away.
    pub async fn connect(path: &Path) -> std::io::Result<Self> {
        let stream =
            UnixStream::connect(path).await.map_err(|e| std::io::Error::new(e.kind(), format!("connecting to error-notify socket {}: {e}", path.display())))?;
        Ok(AlertReader { stream, buf: Box::new([0u8; RECORD_LEN]), filled: 0 })
    }

    /// The next alert; `None` when charon closed the socket between records.
    /// Cancel-safe.
    pub async fn next(&mut self) -> std::io::Result<Option<Alert>> {
        while self.filled < RECORD_LEN {
            let n = self.stream.read(&mut self.buf[self.filled..]).await?;
            if n == 0 {
                if self.filled == 0 {
                    return Ok(None);
                }
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("charon closed the error-notify socket in the middle of an alert ({} of {RECORD_LEN} bytes)", self.filled),
                ));
            }
            self.filled += n;
        }
        self.filled = 0;
        Ok(Some(decode_record(&self.buf)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use tokio::io::AsyncWriteExt;
    use tokio::net::UnixListener;

    fn record(code: u32, msg: &[u8], name: &[u8], id: &[u8], ip: &[u8]) -> [u8; RECORD_LEN] {
        let mut r = [0u8; RECORD_LEN];
        r[..4].copy_from_slice(&code.to_be_bytes());
        r[4..4 + msg.len()].copy_from_slice(msg);
        r[388..388 + name.len()].copy_from_slice(name);
        r[452..452 + id.len()].copy_from_slice(id);
        r[708..708 + ip.len()].copy_from_slice(ip);
        r
    }

    #[test]
    fn decodes_hand_built_record() {
        let mut r = [0u8; RECORD_LEN];
        // type 24 in network byte order: 00 00 00 18
        r[..4].copy_from_slice(&[0, 0, 0, 0x18]);
        let msg = b"peer did not respond to initial message, try 1";
        r[4..4 + msg.len()].copy_from_slice(msg);
        r[388..393].copy_from_slice(b"probe");
        r[452..455].copy_from_slice(b"sun");
        r[708..723].copy_from_slice(b"10.99.0.2[500]\0");
        // Bytes after a NUL are ignored.
        r[724] = b'X';
        let a = decode_record(&r);
        assert_eq!(a.kind, AlertKind::PeerInitUnreachable);
        assert_eq!(a.kind.name(), "PEER_INIT_UNREACHABLE");
        assert_eq!(a.message, "peer did not respond to initial message, try 1");
        assert_eq!(a.connection, "probe");
        assert_eq!(a.peer_id, "sun");
        assert_eq!(a.peer_addr, "10.99.0.2[500]");
    }

    #[test]
    fn type_is_big_endian() {
        // Little-endian 8 would be 0x08000000 in network order: unknown.
        let mut r = [0u8; RECORD_LEN];
        r[..4].copy_from_slice(&[8, 0, 0, 0]);
        assert_eq!(decode_record(&r).kind, AlertKind::Unknown(0x0800_0000));
        r[..4].copy_from_slice(&[0, 0, 0, 8]);
        assert_eq!(decode_record(&r).kind, AlertKind::ProposalMismatchIke);
    }

    #[test]
    fn full_length_strings_without_nul() {
        let r = record(6, &[b'm'; 384], &[b'n'; 64], &[b'i'; 256], &[b'a'; 60]);
        let a = decode_record(&r);
        assert_eq!(a.kind, AlertKind::RetransmitSendTimeout);
        assert_eq!(a.message, "m".repeat(384));
        assert_eq!(a.connection, "n".repeat(64));
        assert_eq!(a.peer_id, "i".repeat(256));
        assert_eq!(a.peer_addr, "a".repeat(60));
    }

    #[test]
    fn empty_fields_and_invalid_utf8() {
        let a = decode_record(&record(3, b"bad \xff", b"", b"", b""));
        assert_eq!(a.kind, AlertKind::PeerAuthFailed);
        assert_eq!(a.message, "bad \u{fffd}");
        assert_eq!(a.connection, "");
        assert_eq!(a.peer_id, "");
        assert_eq!(a.peer_addr, "");
    }

    #[test]
    fn codes_names_round_trip_and_unknown() {
        for code in 1..=32 {
            let k = AlertKind::from_code(code);
            assert!(!matches!(k, AlertKind::Unknown(_)), "code {code}");
            assert_eq!(k.code(), code);
            assert_ne!(k.name(), "UNKNOWN");
        }
        assert_eq!(AlertKind::from_code(0), AlertKind::Unknown(0));
        assert_eq!(AlertKind::from_code(33), AlertKind::Unknown(33));
        assert_eq!(AlertKind::Unknown(33).name(), "UNKNOWN");
        assert_eq!(AlertKind::Unknown(33).to_string(), "UNKNOWN(33)");
        assert_eq!(AlertKind::from_code(21).name(), "RETRANSMIT_CLEARED");
        assert_eq!(AlertKind::from_code(32), AlertKind::CertPolicyViolation);
        let r = decode_record(&record(999, b"x", b"", b"", b""));
        assert_eq!(r.kind, AlertKind::Unknown(999));
    }

    struct TempSock {
        dir: PathBuf,
    }

    impl TempSock {
        fn new(tag: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("enfy-test-{}-{tag}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create temp dir");
            TempSock { dir }
        }
        fn path(&self) -> PathBuf {
            self.dir.join("charon.enfy")
        }
    }

    impl Drop for TempSock {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    #[tokio::test]
    async fn reads_two_records_then_eof() {
        let sock = TempSock::new("two");
        let listener = UnixListener::bind(sock.path()).unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(&record(20, b"IKE message retransmission number 1", b"probe", b"", b"10.99.0.2[500]")).await.unwrap();
            // The second record split across two writes.
            let r2 = record(6, b"IKE message retransmission timed out", b"probe", b"", b"10.99.0.2[500]");
            s.write_all(&r2[..100]).await.unwrap();
            s.flush().await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            s.write_all(&r2[100..]).await.unwrap();
        });
        let mut reader = AlertReader::connect(&sock.path()).await.unwrap();
        let a = reader.next().await.unwrap().unwrap();
        assert_eq!(a.kind, AlertKind::RetransmitSend);
        assert_eq!(a.message, "IKE message retransmission number 1");
        assert_eq!(a.peer_addr, "10.99.0.2[500]");
        let b = reader.next().await.unwrap().unwrap();
        assert_eq!(b.kind, AlertKind::RetransmitSendTimeout);
        assert_eq!(b.connection, "probe");
        assert_eq!(reader.next().await.unwrap(), None);
        server.await.unwrap();
    }

    #[tokio::test]
    async fn eof_inside_a_record_is_an_error() {
        let sock = TempSock::new("partial");
        let listener = UnixListener::bind(sock.path()).unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(&[0u8; 10]).await.unwrap();
        });
        let mut reader = AlertReader::connect(&sock.path()).await.unwrap();
        let err = reader.next().await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
        assert!(err.to_string().contains("10 of 768"), "{err}");
        server.await.unwrap();
    }

    #[tokio::test]
    async fn connect_error_names_the_path() {
        let sock = TempSock::new("noconn");
        let err = AlertReader::connect(&sock.path()).await.err().unwrap();
        assert!(err.to_string().contains("charon.enfy"), "{err}");
    }
}
