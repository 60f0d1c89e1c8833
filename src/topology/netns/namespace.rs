//! Network namespaces: create, open, remove, list. Compatible with `ip netns` (pinned at
//! `/run/netns/NAME`), written on nix/libc instead of netns-rs (see ARCHITECTURE.md, "Choices").
//!
//! The one rule: no thread is ever left inside a foreign namespace. A namespace is created by a
//! short-lived std thread that unshares, pins the namespace, runs the caller's setup *inside*
//! it (sysctls, opening a netlink socket) and exits. Processes enter a namespace between fork
//! and exec (`pre_exec`), never on a runtime worker.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::Once;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};

pub const NETNS_DIR: &str = "/run/netns";

/// An open handle on a pinned network namespace.
#[derive(Debug)]
pub struct Namespace {
    file: File,
}

impl Namespace {
    pub fn path(name: &str) -> PathBuf {
        Path::new(NETNS_DIR).join(name)
    }

    pub fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    /// Creates namespace `name` and runs `setup` on a thread inside it; returns both.
    pub fn create<T, F>(name: &str, setup: F) -> io::Result<(Namespace, T)>
    where
        T: Send + 'static,
        F: FnOnce() -> io::Result<T> + Send + 'static,
    {
        prepare_netns_dir()?;
        let path = Self::path(name);
        // O_EXCL: an existing name is an error, never silently reused.
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot create namespace pin {}: {e}", path.display())))?;
        let pin = path.clone();
        let result = std::thread::Builder::new()
            .name(format!("netns-{name}"))
            .spawn(move || -> io::Result<T> {
                unshare(CloneFlags::CLONE_NEWNET).map_err(|e| io::Error::other(format!("unshare(CLONE_NEWNET): {e}")))?;
                // thread-self, not self: only this thread is in the new namespace.
                mount(Some("/proc/thread-self/ns/net"), &pin, None::<&str>, MsFlags::MS_BIND, None::<&str>)
                    .map_err(|e| io::Error::other(format!("pinning namespace at {}: {e}", pin.display())))?;
                setup()
            })
            .map_err(|e| io::Error::other(format!("spawning namespace thread: {e}")))?
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("namespace setup thread panicked")));
        let value = match result {
            Ok(v) => v,
            Err(e) => {
                let _ = Self::remove(name);
                return Err(e);
            }
        };
        let ns = Self::open(name).inspect_err(|_| {
            let _ = Self::remove(name);
        })?;
        Ok((ns, value))
    }

    pub fn open(name: &str) -> io::Result<Namespace> {
        let path = Self::path(name);
        let file = File::open(&path).map_err(|e| io::Error::new(e.kind(), format!("cannot open namespace {}: {e}", path.display())))?;
        Ok(Namespace { file })
    }

    /// Unpins and deletes a namespace. A namespace that does not exist is not an error.
    pub fn remove(name: &str) -> io::Result<()> {
        let path = Self::path(name);
        match umount2(&path, MntFlags::MNT_DETACH) {
            Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
            Err(e) => return Err(io::Error::other(format!("unmounting {}: {e}", path.display()))),
        }
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io::Error::new(e.kind(), format!("removing {}: {e}", path.display()))),
        }
    }

    /// Names of pinned namespaces that start with `prefix`.
    pub fn list(prefix: &str) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(NETNS_DIR) else { return Vec::new() };
        let mut names: Vec<String> = dir.filter_map(|e| e.ok()).filter_map(|e| e.file_name().into_string().ok()).filter(|n| n.starts_with(prefix)).collect();
        names.sort();
        names
    }
}

/// Makes `/run/netns` a shared mount point, as `ip netns add` does, so that namespace pins
/// propagate into (and their removal out of) every mount namespace that copies it.
fn prepare_netns_dir() -> io::Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        result = (|| {
            std::fs::create_dir_all(NETNS_DIR)?;
            let shared = MsFlags::MS_SHARED | MsFlags::MS_REC;
            if mount(None::<&str>, NETNS_DIR, None::<&str>, shared, None::<&str>).is_ok() {
                return Ok(());
            }
            // Not a mount point yet: bind it onto itself first.
            mount(Some(NETNS_DIR), NETNS_DIR, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
                .map_err(|e| io::Error::other(format!("bind-mounting {NETNS_DIR}: {e}")))?;
            mount(None::<&str>, NETNS_DIR, None::<&str>, shared, None::<&str>).map_err(|e| io::Error::other(format!("making {NETNS_DIR} shared: {e}")))
        })();
    });
    result
}

/// Writes a sysctl of the namespace the calling thread is in. Only for namespace threads.
pub fn write_sysctl(key: &str, value: &str) -> io::Result<()> {
    let path = format!("/proc/sys/{}", key.replace('.', "/"));
    std::fs::write(&path, value).map_err(|e| io::Error::new(e.kind(), format!("sysctl {key}={value}: {e}")))
}

/// Makes `cmd` enter the namespace `fd` between fork and exec.
pub fn enter_in_child(cmd: &mut std::process::Command, fd: RawFd) {
    use std::os::unix::process::CommandExt;
    // SAFETY: only a raw setns runs between fork and exec; `fd` stays open in the parent
    // until the command has been spawned.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setns(fd, libc::CLONE_NEWNET) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Runs `f` on a short-lived thread inside the pinned namespace `name` and returns its result,
/// e.g. to open a socket there (a socket stays in the namespace it was created in).
pub fn in_namespace<T, F>(name: &str, f: F) -> io::Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> io::Result<T> + Send + 'static,
{
    let ns = Namespace::open(name)?;
    std::thread::Builder::new()
        .name(format!("in-{name}"))
        .spawn(move || {
            nix::sched::setns(&ns.file, CloneFlags::CLONE_NEWNET).map_err(|e| io::Error::other(format!("entering the namespace: {e}")))?;
            f()
        })
        .map_err(|e| io::Error::other(format!("spawning a namespace thread: {e}")))?
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("namespace thread panicked")))
}
