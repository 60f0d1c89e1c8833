//! Checks that this host can run a lab, before anything is created: root, the strongSwan
//! daemon and its kernel-libipsec plugin, nftables, ping, and the TUN device.

use std::path::Path;

use crate::exit::{fail, Code};
use crate::strongswan::daemon::charon_path;
use crate::topology::nft::NFT;

const PLUGIN_DIR: &str = "/usr/lib/ipsec/plugins";

/// Root alone: enough for commands that only act on existing labs (`down`, `exec`).
pub fn check_root() -> anyhow::Result<()> {
    if !nix::unistd::geteuid().is_root() {
        return Err(fail(
            Code::Environment,
            "vpnlab needs root: it creates network namespaces, veth pairs and nftables rules, and starts charon daemons. Run it with sudo, or as root.",
        ));
    }
    Ok(())
}

pub fn check() -> anyhow::Result<()> {
    check_root()?;
    let charon = charon_path();
    if !charon.exists() {
        return Err(fail(
            Code::Environment,
            format!(
                "strongSwan's charon daemon is missing (looked for {}). Install the Debian packages strongswan-charon, strongswan-swanctl, libstrongswan-standard-plugins and libcharon-extra-plugins (`make deps` does it), or point VPNLAB_CHARON at the daemon.",
                charon.display()
            ),
        ));
    }
    if std::env::var_os("VPNLAB_CHARON").is_none() {
        // Every plugin the generated strongswan.conf loads, and the Debian package that has it.
        for plugin in crate::strongswan::conf::PLUGINS.split_whitespace() {
            if !Path::new(PLUGIN_DIR).join(format!("libstrongswan-{plugin}.so")).exists() {
                let package = match plugin {
                    "vici" => "strongswan-swanctl",
                    "openssl" => "libstrongswan-standard-plugins",
                    "kernel-libipsec" | "error-notify" => "libcharon-extra-plugins",
                    "counters" | "socket-default" | "kernel-netlink" => "strongswan-libcharon",
                    _ => "libstrongswan",
                };
                return Err(fail(
                    Code::Environment,
                    format!("strongSwan's {plugin} plugin is missing from {PLUGIN_DIR}; vpnlab's daemons load it. Install the Debian package {package} (`make deps` installs everything vpnlab needs)."),
                ));
            }
        }
    }
    if !Path::new(NFT).exists() {
        return Err(fail(
            Code::Environment,
            format!("nftables is missing ({NFT}); the NAT router needs it. Install the Debian package nftables (`make deps`)."),
        ));
    }
    if !Path::new("/usr/bin/ping").exists() && !Path::new("/bin/ping").exists() {
        return Err(fail(Code::Environment, "ping is missing; probes need it. Install the Debian package iputils-ping (`make deps`)."));
    }
    if !Path::new("/dev/net/tun").exists() {
        return Err(fail(Code::Environment, "/dev/net/tun is missing: kernel-libipsec needs the TUN driver (modprobe tun)."));
    }
    Ok(())
}
