//! Where a lab's nodes live. A [`Backend`] turns the validated lab into isolated nodes joined
//! by links and starts processes inside them; `netns` is the backend for one Linux host
//! (a container backend comes later). Removal is not part of the trait: it works from the
//! run's labels (`run::cleanup`), so it also works after a crash.

pub mod netns;
pub mod nft;

use std::path::Path;
use std::process::Command;

use anyhow::Result;
use ipnet::Ipv4Net;

use crate::model::Lab;

#[allow(async_fn_in_trait)]
pub trait Backend {
    /// Creates every node, link, address, static route and sysctl of the lab.
    async fn build(&mut self, lab: &Lab) -> Result<()>;
    /// Routes `prefixes` into the node's tunnel interface `device` (route-based VPN), once the
    /// IKE daemon has created that interface.
    async fn add_tunnel_routes(&self, node: &str, device: &str, prefixes: &[Ipv4Net]) -> Result<()>;
    /// Moves an interface from one address to another (a dynamic WAN address that changes).
    async fn replace_address(&self, node: &str, interface: &str, old: Ipv4Net, new: Ipv4Net) -> Result<()>;
    /// A command that runs `program` inside `node`'s network.
    fn command(&self, node: &str, program: &Path) -> Result<Command>;
}
