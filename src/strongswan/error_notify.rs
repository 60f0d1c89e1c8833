//! TEMPORARY stub until the real decoder lands.
use std::path::Path;
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind { Unknown(u32) }
impl AlertKind { pub fn name(&self) -> &'static str { "UNKNOWN" } }
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert { pub kind: AlertKind, pub message: String, pub connection: String, pub peer_id: String, pub peer_addr: String }
pub struct AlertReader { s: tokio::net::UnixStream }
impl AlertReader {
    pub async fn connect(path: &Path) -> std::io::Result<Self> { Ok(AlertReader { s: tokio::net::UnixStream::connect(path).await? }) }
    pub async fn next(&mut self) -> std::io::Result<Option<Alert>> { use tokio::io::AsyncReadExt; let mut b=[0u8;768]; match self.s.read_exact(&mut b).await { Ok(_) => Ok(Some(Alert{kind: AlertKind::Unknown(0), message: String::new(), connection: String::new(), peer_id: String::new(), peer_addr: String::new()})), Err(_) => Ok(None) } }
}
