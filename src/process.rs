//! Processes vpnlab starts and finds: who a process is (pid and start time, so a reused pid is
//! never mistaken for the one recorded), whether it still runs, which user it acts for, what
//! its environment labels say, and what a child inherits (only stdin, stdout and stderr).

use std::os::unix::ffi::OsStrExt as _;

use serde::{Deserialize, Serialize};

/// The environment variable that labels every process of a run with its id (daemons, pings,
/// the keeper): cleanup and discovery find processes by it.
pub const RUN_LABEL: &str = "VPNLAB_RUN";

/// A process as recorded in a run's state: its pid and its start time (clock ticks since boot,
/// field 22 of `/proc/PID/stat`), which together name one process for as long as the host runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessId {
    pub pid: u32,
    pub start: u64,
}

impl ProcessId {
    pub fn me() -> ProcessId {
        let pid = std::process::id();
        ProcessId { pid, start: start_time(pid).unwrap_or(0) }
    }

    /// Still running (not a zombie) and the same process as recorded.
    pub fn is_alive(&self) -> bool {
        is_alive(self.pid) && (self.start == 0 || start_time(self.pid) == Some(self.start))
    }
}

fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces; fields after it start at `state`.
    let rest = stat.rsplit_once(')')?.1;
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// Field 22 of `/proc/PID/stat`: when the process started, in clock ticks since boot.
pub fn start_time(pid: u32) -> Option<u64> {
    stat_fields(pid)?.get(19)?.parse().ok()
}

/// Running, and not a zombie (a zombie has exited; only its parent has not reaped it).
pub fn is_alive(pid: u32) -> bool {
    stat_fields(pid).and_then(|f| f.first().cloned()).is_some_and(|state| state != "Z")
}

/// The process's command name (`/proc/PID/comm`), e.g. `vpnlab` or `charon`.
pub fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).map(|c| c.trim().to_string()).unwrap_or_default()
}

/// The process's argv.
pub fn argv(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline")).map(|c| c.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect()).unwrap_or_default()
}

/// The process's parent pid.
pub fn parent(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("PPid:"))?.trim().parse().ok()
}

/// The value of `name` in the environment `pid` was started with.
pub fn env_var(pid: u32, name: &str) -> Option<String> {
    let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let prefix = format!("{name}=");
    env.split(|b| *b == 0).find_map(|var| var.strip_prefix(prefix.as_bytes()).map(|v| String::from_utf8_lossy(v).into_owned()))
}

/// Every pid on the host.
pub fn all_pids() -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()).filter_map(|e| std::str::from_utf8(e.file_name().as_bytes()).ok().and_then(|s| s.parse().ok())).collect()
}

/// The user vpnlab acts for: the one who ran `sudo vpnlab ...` (SUDO_UID), else the real uid.
/// Runs are owned by this user; `down` removes another user's runs only with `--force`.
pub fn user_id() -> u32 {
    let uid = nix::unistd::getuid().as_raw();
    match std::env::var("SUDO_UID").ok().and_then(|v| v.parse().ok()) {
        Some(sudo) if uid == 0 => sudo,
        _ => uid,
    }
}

/// The user a running process acts for, by the same rule as [`user_id`].
pub fn user_of(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let uid: u32 = status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().next()?.parse().ok()?;
    match env_var(pid, "SUDO_UID").and_then(|v| v.parse().ok()) {
        Some(sudo) if uid == 0 => Some(sudo),
        _ => Some(uid),
    }
}

/// Marks every descriptor above stderr close-on-exec. Called between fork and exec of every
/// daemon vpnlab starts, so a lock, pipe or socket the caller held never stays open in a lab's
/// daemons (a held `flock`, or a pipe whose reader waits for EOF, would outlive the command).
/// Close-on-exec rather than close: the standard library's own exec-error pipe must survive
/// until the exec. Only raw syscalls: safe between fork and exec.
pub fn only_std_fds_on_exec() {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: a raw syscall with integer arguments.
    let done = unsafe { libc::syscall(libc::SYS_close_range, 3 as libc::c_uint, libc::c_uint::MAX, CLOSE_RANGE_CLOEXEC) } == 0;
    if !done {
        // Kernels before 5.11: the descriptors a process can have open by default.
        for fd in 3..4096 {
            // SAFETY: fcntl on a descriptor number; EBADF for closed ones is ignored.
            unsafe {
                let flags = libc::fcntl(fd, libc::F_GETFD);
                if flags >= 0 {
                    libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
                }
            }
        }
    }
}

/// Marks the descriptors this process inherited (above stderr) close-on-exec, at start-up, so
/// no helper vpnlab runs (nft, ping) inherits them either. Descriptors vpnlab opens itself are
/// close-on-exec already (the standard library and tokio open them so).
pub fn close_inherited_on_exec() {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else { return };
    let fds: Vec<i32> = dir.filter_map(|e| e.ok()).filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok())).filter(|fd| *fd > 2).collect();
    for fd in fds {
        // SAFETY: fcntl on a descriptor number; one that closed meanwhile gives EBADF.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
}

/// Reaps every child that has exited, without waiting for the others.
pub fn reap_exited_children() {
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    while let Ok(status) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
        if status == WaitStatus::StillAlive {
            break;
        }
    }
}

/// The last three lines of each of a daemon's `files` in `dir` (its stderr and its log), for
/// error messages: what it said before it failed.
pub fn last_words(dir: &std::path::Path, files: &[&str]) -> String {
    let mut words = Vec::new();
    for f in files {
        if let Ok(text) = std::fs::read_to_string(dir.join(f)) {
            let tail: Vec<&str> = text.lines().rev().take(3).collect();
            words.extend(tail.into_iter().rev().map(str::to_string));
        }
    }
    if words.is_empty() {
        "it printed nothing".into()
    } else {
        words.join(" | ")
    }
}

/// Gives the command, between fork and exec, a session of its own, only the standard
/// descriptors, and a private mount namespace (a slave of the host's, so nothing mounted there
/// propagates back) in which each `(source, target)` directory is bind-mounted: a daemon's
/// fixed paths (`/run`, `/var/tmp`) land in its node's run folder, so concurrent daemons never
/// share a pid file, socket or crash-log folder, and nothing is left on the host. The
/// namespace pins under `/run/netns` are dropped, so a daemon never keeps another lab's
/// namespace alive. Only raw syscalls run after the fork.
pub fn private_mounts_on_exec(cmd: &mut std::process::Command, binds: &[(&std::path::Path, &str)]) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::process::CommandExt;
    let mut prepared: Vec<(CString, CString)> = Vec::new();
    for (source, target) in binds {
        prepared.push((CString::new(source.as_os_str().as_bytes())?, CString::new(*target)?));
    }
    let root = CString::new("/")?;
    let netns_dir = CString::new("/run/netns")?;
    // SAFETY: between fork and exec only raw syscalls run on memory prepared before the fork.
    unsafe {
        cmd.pre_exec(move || {
            // Its own session: a Ctrl-C on vpnlab's terminal reaches vpnlab, which then tears
            // the lab down in order, instead of reaching every daemon at once.
            libc::setsid();
            only_std_fds_on_exec();
            if libc::unshare(libc::CLONE_NEWNS) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::mount(std::ptr::null(), root.as_ptr(), std::ptr::null(), libc::MS_REC | libc::MS_SLAVE, std::ptr::null()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::umount2(netns_dir.as_ptr(), libc::MNT_DETACH);
            for (source, target) in &prepared {
                if libc::mount(source.as_ptr(), target.as_ptr(), std::ptr::null(), libc::MS_BIND, std::ptr::null()) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    Ok(())
}
