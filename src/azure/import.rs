//! TEMPORARY stub; replaced by the importer branch.
use std::path::Path;
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind { VirtualNetworkGateway, VirtualNetwork, LocalNetworkGateway, Connection }
#[derive(Debug, Clone, PartialEq)]
pub struct Imported { pub value: serde_json::Value, pub notes: Vec<String> }
#[derive(Debug, thiserror::Error)]
#[error("import not available")]
pub struct ImportError;
pub fn import(_file: &Path, _kind: ResourceKind, _name: Option<&str>) -> Result<Imported, ImportError> { Err(ImportError) }
