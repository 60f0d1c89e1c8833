//! Nothing left behind, nothing shared: interrupted `test`/`run`/`up` remove every run they
//! started and reap their daemons; daemons inherit no descriptor of the caller; `down` removes
//! only what is yours, and finds runs from their labels when their folders are gone.

use std::io::Read as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::common::*;

/// A user of its own for a test that runs `down --all`, so that it removes only its own `up`
/// labs and never another test's (`down` counts `SUDO_UID` as the user under sudo).
fn as_user(c: &mut Command, uid: u32) -> &mut Command {
    c.env("SUDO_UID", uid.to_string())
}

fn signal(child: &Child, sig: Signal) {
    kill(Pid::from_raw(child.id() as i32), sig).unwrap();
}

/// Charons whose parent is `pid`.
fn charon_children(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            let status = std::fs::read_to_string(format!("/proc/{p}/status")).unwrap_or_default();
            status.lines().any(|l| l == "Name:\tcharon") && status.lines().any(|l| l.strip_prefix("PPid:").is_some_and(|v| v.trim() == pid.to_string()))
        })
        .collect()
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
}

/// Makes this test process the reaper of orphans, so that a daemon vpnlab failed to reap stays
/// a zombie we can see (instead of being reaped by PID 1 at some later moment).
fn become_subreaper() {
    // SAFETY: a prctl with integer arguments.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// A copy of the shipped PAN-OS lab whose only scenario is the healthy one plus a wait, so a
/// scenario is reliably still running while another user acts.
fn slow_lab(dir: &Path) -> PathBuf {
    let lab = dir.join("slow-lab");
    std::fs::create_dir_all(lab.join("scenarios")).unwrap();
    std::fs::copy(repo().join(LAB).join("lab.yaml"), lab.join("lab.yaml")).unwrap();
    let healthy = std::fs::read_to_string(repo().join(LAB).join("scenarios/healthy.yaml")).unwrap();
    let slow = healthy.replacen("expect:", "steps:\n  - wait: 8s\nexpect:", 1);
    std::fs::write(lab.join("scenarios/healthy-slow.yaml"), slow).unwrap();
    lab
}

fn assert_state_empty_and_gone(state: &Path, ids: &[String]) {
    for id in ids {
        assert_nothing_left(state, id);
    }
    assert!(run_ids(state).is_empty(), "run folders left: {:?}", run_ids(state));
}

/// How many scenarios the shipped labs have.
fn shipped_scenarios() -> usize {
    std::fs::read_dir(repo().join("labs"))
        .unwrap()
        .filter_map(|l| std::fs::read_dir(l.ok()?.path().join("scenarios")).ok())
        .flat_map(|d| d.filter_map(|f| f.ok()).filter(|f| f.path().extension().is_some_and(|e| e == "yaml")).collect::<Vec<_>>())
        .count()
}

/// When a trial sends its signal: at a moment of the run, then a pseudo-random 0-250 ms more.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// The first run folder exists (a lab is being built).
    FirstRun,
    /// At least this many daemons of vpnlab are running (several labs in flight).
    Daemons(usize),
    /// This many scenarios have finished.
    Finished(usize),
}

/// SIGINT or SIGTERM at several points of `vpnlab test labs/` (many scenarios in flight):
/// every run is removed, no daemon is left alive or a zombie, the partial JUnit report holds
/// exactly what finished, and the exit code is 130/143.
#[test]
fn interrupted_test_leaves_nothing_and_reports_what_finished() {
    if !privileged("interrupted_test_leaves_nothing_and_reports_what_finished") {
        return;
    }
    become_subreaper();
    let trials = [
        (Signal::SIGINT, Moment::FirstRun),
        (Signal::SIGTERM, Moment::Daemons(4)),
        (Signal::SIGINT, Moment::Daemons(8)),
        (Signal::SIGTERM, Moment::Finished(3)),
        (Signal::SIGINT, Moment::Finished(12)),
    ];
    for (n, (sig, moment)) in trials.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let junit = dir.path().join("junit.xml");
        let mut child = vpnlab(&state).args(["test", "labs/", "--junit"]).arg(&junit).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let reader = {
            let lines = lines.clone();
            let stderr = child.stderr.take().unwrap();
            std::thread::spawn(move || {
                for l in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
                    lines.lock().unwrap().push(l);
                }
            })
        };
        let finished = |lines: &std::sync::Mutex<Vec<String>>| lines.lock().unwrap().iter().filter(|l| l.starts_with('[')).count();
        let (mut ids, mut charons) = (Vec::<String>::new(), Vec::<u32>::new());
        let observe = |ids: &mut Vec<String>, charons: &mut Vec<u32>| {
            for id in run_ids(&state) {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            for c in charon_children(child.id()) {
                if !charons.contains(&c) {
                    charons.push(c);
                }
            }
        };
        wait_for(&format!("{moment:?}"), Duration::from_secs(60), || {
            observe(&mut ids, &mut charons);
            match moment {
                Moment::FirstRun => !ids.is_empty(),
                Moment::Daemons(k) => charon_children(child.id()).len() >= k,
                Moment::Finished(k) => finished(&lines) >= k,
            }
        });
        let extra = Duration::from_millis((std::process::id() as u64 * 7919 + n as u64 * 104_729) % 250);
        let until = Instant::now() + extra;
        while Instant::now() < until {
            observe(&mut ids, &mut charons);
            std::thread::sleep(Duration::from_millis(5));
        }
        observe(&mut ids, &mut charons);
        signal(&child, sig);
        let status = wait_exit(&mut child, "vpnlab test after a signal", Duration::from_secs(60));
        reader.join().unwrap();
        let stderr = lines.lock().unwrap().join("\n");
        let what = format!("{sig} at {moment:?} + {} ms", extra.as_millis());
        let code = if sig == Signal::SIGINT { 130 } else { 143 };
        assert_eq!(status.code(), Some(code), "{what}: stderr:\n{stderr}");
        assert_state_empty_and_gone(&state, &ids);
        for c in &charons {
            assert!(!is_zombie(*c), "{what}: charon {c} was never reaped");
            assert!(!Path::new(&format!("/proc/{c}")).exists(), "{what}: charon {c} still exists");
        }
        let xml = std::fs::read_to_string(&junit).unwrap();
        let done = finished(&lines);
        assert_eq!(xml.matches("<testcase").count(), done, "{what}: the JUnit report holds exactly the finished scenarios:\n{stderr}\n{xml}");
        assert!(stderr.contains(&format!("interrupted: {done} of {} scenarios finished", shipped_scenarios())), "{what}: {stderr}");
    }
}

/// A second Ctrl-C hurries the teardown: still nothing left, still 130.
#[test]
fn second_interrupt_still_leaves_nothing() {
    if !privileged("second_interrupt_still_leaves_nothing") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let mut child = vpnlab(state.path()).args(["test", "labs/"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    wait_for("two scenarios with daemons", Duration::from_secs(30), || run_ids(state.path()).iter().filter(|i| processes_of(i).len() == 2).count() >= 2);
    let ids = run_ids(state.path());
    signal(&child, Signal::SIGINT);
    std::thread::sleep(Duration::from_millis(20));
    signal(&child, Signal::SIGINT);
    let status = wait_exit(&mut child, "vpnlab test after two SIGINTs", Duration::from_secs(60));
    assert_eq!(status.code(), Some(130));
    assert_state_empty_and_gone(state.path(), &ids);
}

/// `up` interrupted while its keeper builds the lab: the keeper removes it, `up` exits 130.
#[test]
fn interrupted_up_leaves_nothing() {
    if !privileged("interrupted_up_leaves_nothing") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let mut child =
        vpnlab(state.path()).args(["up", LAB]).env("VPNLAB_PAUSE_AFTER", "daemons ready").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut id = String::new();
    wait_for("up's keeper to start the daemons", Duration::from_secs(20), || {
        run_ids(state.path()).first().map(|i| id = i.clone()).is_some() && processes_of(&id).len() == 3 && namespaces_of(&id).len() == 6
    });
    signal(&child, Signal::SIGINT);
    let status = wait_exit(&mut child, "vpnlab up after SIGINT", Duration::from_secs(30));
    assert_eq!(status.code(), Some(130));
    assert_nothing_left(state.path(), &id);
}

/// Descriptors the caller holds (a lock, the write end of a pipe) are not open in the lab's
/// daemons or its keeper: `bash -c 'exec 3>&1; vpnlab up LAB >/dev/null' | cat` ends when
/// `up` does, and no daemon's /proc/PID/fd shows the caller's file.
#[test]
fn daemons_inherit_no_descriptor_of_the_caller() {
    if !privileged("daemons_inherit_no_descriptor_of_the_caller") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let lock = dir.path().join("caller.lock");
    let file = std::fs::File::create(&lock).unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
    let script = format!("exec 3>&1; \"$0\" up {LAB} >/dev/null 2>&1; echo up-exited-$?");
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_vpnlab"))
        .env("VPNLAB_STATE_DIR", &state)
        .current_dir(repo())
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    // SAFETY: dup2 between fork and exec: the caller's lock file as descriptor 7, inheritable.
    unsafe {
        cmd.pre_exec(move || {
            libc::dup2(fd, 7);
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        let _ = tx.send(s);
    });
    let printed = rx.recv_timeout(Duration::from_secs(60)).expect("the pipe never reached EOF: a lab process holds the caller's descriptor");
    child.wait().unwrap();
    let ids = run_ids(&state);
    assert_eq!(ids.len(), 1, "{printed}");
    let _guard = Running { state: state.clone(), id: ids[0].clone() };
    assert!(printed.contains("up-exited-0"), "{printed}");
    let procs = processes_of(&ids[0]);
    assert_eq!(procs.len(), 3, "two charons and the keeper");
    for pid in procs {
        let fds: Vec<PathBuf> = std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().filter_map(|e| std::fs::read_link(e.ok()?.path()).ok()).collect();
        assert!(!fds.iter().any(|f| f == &lock), "process {pid} holds the caller's lock file: {fds:?}");
        assert!(fds.iter().filter(|f| f.to_string_lossy().starts_with("pipe:")).count() == 0 || pid_is_charon(pid), "keeper {pid} holds a pipe: {fds:?}");
    }
}

fn pid_is_charon(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "charon")
}

/// Two users share the host: user A's scenario is running and user A has an `up` lab; user B's
/// `down NAME` and `down --all` keep both and say why, and A's scenario still passes. A's own
/// `down --all` removes A's `up` lab.
#[test]
fn down_keeps_another_users_live_runs() {
    if !privileged("down_keeps_another_users_live_runs") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (user_a, user_b) = (61_001, 61_002);
    let slow = slow_lab(dir.path());
    let mut scenario =
        as_user(&mut vpnlab(&state), user_a).args(["test", "--format", "json"]).arg(&slow).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut test_run = String::new();
    wait_for("user A's scenario to have its daemons", Duration::from_secs(30), || {
        run_ids(&state).first().map(|i| test_run = i.clone()).is_some() && processes_of(&test_run).len() == 2
    });
    let up = as_user(&mut vpnlab(&state), user_a).args(["up", LAB]).output().unwrap();
    assert_eq!(up.status.code(), Some(0), "{}", describe(&up));
    let up_run = run_ids(&state).into_iter().find(|i| *i != test_run).expect("the up run");
    let _guard = Running { state: state.clone(), id: up_run.clone() };

    // B, by lab name: both runs are A's, so both are kept; nothing removed is an error. (Tests
    // running at the same time may leave debris of a lab of this name, which B may remove:
    // then the exit is 0, and still neither of A's runs is removed.)
    let down = as_user(&mut vpnlab(&state), user_b).args(["down", "azure-strongswan"]).output().unwrap();
    let said = text(&down.stdout);
    let removed_debris = said.contains("removed run ");
    assert_eq!(down.status.code(), Some(if removed_debris { 0 } else { 2 }), "{}", describe(&down));
    for run in [&test_run, &up_run] {
        assert!(!said.contains(&format!("removed run {run}")), "{}", describe(&down));
    }
    assert!(said.contains(&format!("kept run {test_run}")) && said.contains("in use by vpnlab pid"), "{}", describe(&down));
    assert!(said.contains(&format!("kept run {up_run}")) && said.contains(&format!("user {user_a}")), "{}", describe(&down));
    // B, everything: A's runs still kept. (Other tests running at the same time may leave
    // debris on purpose, which `down --all` rightly removes: only A's runs are asserted.)
    let down = as_user(&mut vpnlab(&state), user_b).args(["down", "--all"]).output().unwrap();
    assert_eq!(down.status.code(), Some(0), "{}", describe(&down));
    for run in [&test_run, &up_run] {
        assert!(!text(&down.stdout).contains(&format!("removed run {run}")), "{}", describe(&down));
    }
    // B, by run id from another state folder (labels only): the live owner is found anyway.
    let elsewhere = dir.path().join("other-state");
    let down = as_user(&mut vpnlab(&elsewhere), user_b).args(["down", &test_run]).output().unwrap();
    assert_eq!(down.status.code(), Some(2), "{}", describe(&down));
    assert!(text(&down.stdout).contains(&format!("kept run {test_run}")), "{}", describe(&down));
    assert_eq!(processes_of(&test_run).len(), 2, "A's scenario lost its daemons");
    assert_eq!(processes_of(&up_run).len(), 3, "A's up lab lost processes");

    let status = wait_exit(&mut scenario, "user A's scenario", Duration::from_secs(60));
    let mut out = String::new();
    scenario.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert_eq!(status.code(), Some(0), "A's scenario must still pass:\n{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["scenarios"][0]["result"], "pass", "{out}");

    // A's own `down --all` (no terminal: no question) removes A's up lab.
    let down = as_user(&mut vpnlab(&state), user_a).args(["down", "--all"]).output().unwrap();
    assert_eq!(down.status.code(), Some(0), "{}", describe(&down));
    assert!(text(&down.stdout).contains(&format!("removed run {up_run}")), "{}", describe(&down));
    assert_nothing_left(&state, &up_run);
}

/// A crashed `up` (keeper and all killed with SIGKILL, the run folder deleted): `down --all`
/// still finds the lab from its labels (namespaces, labelled daemons) and removes it.
#[test]
fn down_all_finds_runs_by_labels_after_the_folder_is_gone() {
    if !privileged("down_all_finds_runs_by_labels_after_the_folder_is_gone") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let up = as_user(&mut vpnlab(state.path()), 61_003).args(["up", LAB]).output().unwrap();
    assert_eq!(up.status.code(), Some(0), "{}", describe(&up));
    let id = run_ids(state.path()).pop().unwrap();
    let _guard = Running { state: state.path().to_path_buf(), id: id.clone() };
    let keeper = processes_of(&id).into_iter().find(|p| !pid_is_charon(*p)).expect("the keeper");
    kill(Pid::from_raw(keeper as i32), Signal::SIGKILL).unwrap();
    wait_for("the keeper to die", Duration::from_secs(5), || processes_of(&id).len() == 2);
    std::fs::remove_dir_all(state.path().join(&id)).unwrap();
    let status = vpnlab(state.path()).args(["status"]).output().unwrap();
    assert!(text(&status.stdout).contains(&id) && text(&status.stdout).contains("labels only"), "{}", describe(&status));

    let down = as_user(&mut vpnlab(state.path()), 61_003).args(["down", "--all"]).output().unwrap();
    assert_eq!(down.status.code(), Some(0), "{}", describe(&down));
    assert_nothing_left(state.path(), &id);
}

/// FRR is cleaned up like charon: a BGP scenario interrupted once its speakers run leaves no
/// zebra or bgpd (alive or zombie) and nothing of the run; after a `kill -9` of vpnlab, its
/// speakers outlive it until `vpnlab down` finds them by their run label.
#[test]
fn bgp_speakers_are_removed_on_interrupt_and_by_down() {
    if !privileged("bgp_speakers_are_removed_on_interrupt_and_by_down") {
        return;
    }
    become_subreaper();
    let frr_children = |pid: u32| -> Vec<u32> {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|p| {
                let status = std::fs::read_to_string(format!("/proc/{p}/status")).unwrap_or_default();
                (status.lines().any(|l| l == "Name:\tzebra") || status.lines().any(|l| l == "Name:\tbgpd"))
                    && status.lines().any(|l| l.strip_prefix("PPid:").is_some_and(|v| v.trim() == pid.to_string()))
            })
            .collect()
    };
    for sig in [Signal::SIGTERM, Signal::SIGKILL] {
        let state = tempfile::tempdir().unwrap();
        let mut child = vpnlab(state.path())
            .args(["test", "labs/azure-pfsense-home", "-s", "bgp"])
            .env("VPNLAB_PAUSE_AFTER", "routing ready")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut id = String::new();
        // Two charons and, per BGP node, zebra and bgpd.
        wait_for("the BGP scenario's charons and FRR speakers", Duration::from_secs(30), || {
            run_ids(state.path()).first().map(|i| id = i.clone()).is_some() && processes_of(&id).len() == 6
        });
        let speakers = frr_children(child.id());
        assert_eq!(speakers.len(), 4, "zebra and bgpd on the pfSense and the Azure gateway");
        signal(&child, sig);
        let status = wait_exit(&mut child, "vpnlab test after a signal", Duration::from_secs(30));
        if sig == Signal::SIGKILL {
            assert_eq!(processes_of(&id).len(), 6, "the daemons outlive a kill -9'd vpnlab");
            let down = vpnlab(state.path()).args(["down", &id]).output().unwrap();
            assert_eq!(down.status.code(), Some(0), "{}", describe(&down));
            assert!(text(&down.stdout).contains("6 processes"), "{}", describe(&down));
        } else {
            assert_eq!(status.code(), Some(143));
        }
        assert_nothing_left(state.path(), &id);
        for p in &speakers {
            if sig == Signal::SIGKILL {
                // Orphaned by the kill -9, they were this test's (the subreaper's) to reap.
                let _ = nix::sys::wait::waitpid(Pid::from_raw(*p as i32), None);
            }
            assert!(!is_zombie(*p), "{sig}: FRR daemon {p} was never reaped");
            assert!(!Path::new(&format!("/proc/{p}")).exists(), "{sig}: FRR daemon {p} still exists");
        }
        assert!(!Path::new("/var/tmp/frr").exists(), "FRR left its crash-log folder on the host");
    }
}
