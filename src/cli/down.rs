//! `vpnlab down LAB | --all`: remove runs, found from their labels (run folders, namespaces,
//! labelled processes), but only those that are yours to remove:
//!
//! - `down LAB` removes the matching runs of your own user that are either left running by
//!   `up` or whose owner is gone (a killed vpnlab's debris); another process's live run is
//!   listed and kept.
//! - `down --all` removes every run whose owner is gone (anyone's debris) and your own `up`
//!   labs, after asking on a terminal.
//! - `--force` removes what matches, whoever owns it and whether or not it is in use.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use anyhow::Result;

use super::Format;
use crate::exit::{fail, Code};
use crate::process::user_id;
use crate::run::cleanup;
use crate::run::discover::{self, FoundRun, Mode, Owner};

/// What `down` does with one run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    Remove,
    Keep(String),
}

fn describe_owner(r: &FoundRun) -> String {
    let user = r.user.map(|u| format!(" of user {u}")).unwrap_or_default();
    match (&r.owner, r.mode) {
        (Owner::Running { pid: 0 }, _) => "being started".to_string(),
        (Owner::Running { pid }, Mode::Up) => format!("kept by `up` (keeper pid {pid}{user})"),
        (Owner::Running { pid }, _) => format!("in use by vpnlab pid {pid}{user}"),
        (Owner::Gone, _) => format!("owner gone{user}"),
    }
}

fn decide(r: &FoundRun, all: bool, force: bool, me: u32) -> Decision {
    if force {
        return Decision::Remove;
    }
    let mine = r.user.is_none_or(|u| u == me);
    let gone = r.owner == Owner::Gone;
    let why_kept = || Decision::Keep(describe_owner(r));
    match (all, gone, r.mode) {
        (true, true, _) => Decision::Remove,
        (true, false, Mode::Up) if mine && r.keeper().is_some() => Decision::Remove,
        (false, true, _) | (false, false, Mode::Up) if mine && (gone || r.keeper().is_some()) => Decision::Remove,
        _ => why_kept(),
    }
}

/// Whether a LAB argument names this run: its id, its lab's name, or its lab's folder.
fn matches(r: &FoundRun, lab: &str) -> bool {
    if r.id == lab {
        return true;
    }
    let Some(s) = &r.state else { return false };
    let wanted = std::fs::canonicalize(lab).ok();
    s.lab == lab || wanted.is_some() && std::fs::canonicalize(&s.lab_path).ok() == wanted
}

fn confirm(runs: &[&FoundRun]) -> bool {
    eprintln!("vpnlab down --all will remove {} run(s):", runs.len());
    for r in runs {
        eprintln!("  {} {} ({})", r.id, r.lab().unwrap_or("?"), describe_owner(r));
    }
    eprint!("remove them? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim(), "y" | "Y" | "yes")
}

/// Removes one run: its keeper first (it reaps its daemons), then whatever is left, by labels.
fn remove(r: &FoundRun) -> Result<cleanup::Removed> {
    let mut note = String::new();
    if let Some(keeper) = r.keeper().filter(|p| *p != 0) {
        if !cleanup::stop_keeper(keeper) {
            note = format!("the keeper (pid {keeper}) did not exit within {} s of SIGTERM; ", cleanup::KEEPER_STOP.as_secs());
        }
    }
    let mut removed = cleanup::teardown(&r.dir()).map_err(|e| anyhow::anyhow!("{note}{e:#}"))?;
    removed.processes = removed.processes.max(r.processes.len());
    removed.namespaces = removed.namespaces.max(r.namespaces.len());
    Ok(removed)
}

pub fn down(lab: Option<&str>, all: bool, force: bool, yes: bool, format: Format) -> Result<Code> {
    crate::preflight::check_root()?;
    let found = discover::all();
    let candidates: Vec<&FoundRun> = match lab {
        Some(lab) if !all => {
            let c: Vec<&FoundRun> = found.iter().filter(|r| matches(r, lab)).collect();
            if c.is_empty() {
                return Err(fail(Code::BadInput, format!("no running lab matches `{lab}` (see `vpnlab status` for the running labs)")));
            }
            c
        }
        _ => found.iter().collect(),
    };
    let me = user_id();
    let decided: Vec<(&FoundRun, Decision)> = candidates.iter().map(|r| (*r, decide(r, all, force, me))).collect();
    let to_remove: Vec<&FoundRun> = decided.iter().filter(|(_, d)| *d == Decision::Remove).map(|(r, _)| *r).collect();
    if all && !yes && !to_remove.is_empty() && std::io::stdin().is_terminal() && !confirm(&to_remove) {
        eprintln!("nothing removed");
        return Ok(Code::Ok);
    }
    let mut errors = Vec::new();
    let mut done = Vec::new();
    for r in &to_remove {
        match remove(r) {
            Ok(x) => done.push(serde_json::json!({"run": r.id, "lab": r.lab(), "processes": x.processes, "namespaces": x.namespaces})),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    let kept: Vec<serde_json::Value> = decided
        .iter()
        .filter_map(|(r, d)| match d {
            Decision::Keep(why) => Some(serde_json::json!({"run": r.id, "lab": r.lab(), "why": why})),
            Decision::Remove => None,
        })
        .collect();
    match format {
        Format::Json => println!("{}", serde_json::json!({"schema": "vpnlab.down/1", "removed": done, "kept": kept, "errors": errors})),
        Format::Table => {
            if candidates.is_empty() {
                println!("nothing to remove: no vpnlab runs on this host");
            }
            for d in &done {
                println!("removed run {}: {} processes, {} namespaces", d["run"].as_str().unwrap_or(""), d["processes"], d["namespaces"]);
            }
            for k in &kept {
                let id = k["run"].as_str().unwrap_or("");
                println!(
                    "kept run {id} ({}): {}; `vpnlab down {id} --force` removes it anyway",
                    k["lab"].as_str().unwrap_or("?"),
                    k["why"].as_str().unwrap_or("")
                );
            }
            for e in &errors {
                eprintln!("error: {e}");
            }
        }
    }
    if !errors.is_empty() {
        Ok(Code::Inconclusive)
    } else if !all && done.is_empty() {
        Err(fail(Code::BadInput, format!("nothing removed: every run matching `{}` is in use by someone else (see above)", lab.unwrap_or_default())))
    } else {
        Ok(Code::Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(owner: Owner, mode: Mode, user: Option<u32>) -> FoundRun {
        FoundRun { id: "abc123".into(), folder: None, state: None, namespaces: vec![], processes: vec![], owner, mode, user }
    }

    #[test]
    fn down_lab_removes_only_your_up_labs_and_debris() {
        let me = 1000;
        assert_eq!(decide(&run(Owner::Running { pid: 7 }, Mode::Up, Some(me)), false, false, me), Decision::Remove);
        assert_eq!(decide(&run(Owner::Gone, Mode::Run, Some(me)), false, false, me), Decision::Remove);
        assert_eq!(decide(&run(Owner::Gone, Mode::Unknown, None), false, false, me), Decision::Remove);
        assert!(
            matches!(decide(&run(Owner::Running { pid: 7 }, Mode::Run, Some(me)), false, false, me), Decision::Keep(w) if w.contains("in use by vpnlab pid 7"))
        );
        assert!(matches!(decide(&run(Owner::Running { pid: 7 }, Mode::Up, Some(1001)), false, false, me), Decision::Keep(w) if w.contains("user 1001")));
        assert!(matches!(decide(&run(Owner::Gone, Mode::Run, Some(1001)), false, false, me), Decision::Keep(_)));
        assert_eq!(decide(&run(Owner::Running { pid: 7 }, Mode::Run, Some(1001)), false, true, me), Decision::Remove);
    }

    #[test]
    fn down_all_removes_anyones_debris_and_your_up_labs() {
        let me = 1000;
        assert_eq!(decide(&run(Owner::Gone, Mode::Run, Some(1001)), true, false, me), Decision::Remove);
        assert_eq!(decide(&run(Owner::Running { pid: 7 }, Mode::Up, Some(me)), true, false, me), Decision::Remove);
        assert!(matches!(decide(&run(Owner::Running { pid: 7 }, Mode::Up, Some(1001)), true, false, me), Decision::Keep(_)));
        assert!(matches!(decide(&run(Owner::Running { pid: 7 }, Mode::Run, Some(me)), true, false, me), Decision::Keep(_)));
        assert!(matches!(decide(&run(Owner::Running { pid: 0 }, Mode::Unknown, None), true, false, me), Decision::Keep(w) if w == "being started"));
        assert_eq!(decide(&run(Owner::Running { pid: 7 }, Mode::Run, Some(1001)), true, true, me), Decision::Remove);
    }
}
