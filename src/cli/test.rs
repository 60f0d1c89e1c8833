//! `vpnlab test PATH`: every scenario of a lab (or of every lab under a folder), in parallel,
//! each as its own lab; a line per scenario as it finishes, a summary, JSON and JUnit for CI,
//! artifacts per scenario.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::Format;
use crate::exit::{fail, Code};
use crate::report::RunResult;
use crate::scenario::{self, runner};

/// Scenarios at once by default. Most of a scenario's time is spent waiting (retransmits,
/// compressed lifetimes, DNS refresh), not computing: measured on 2 cores, 8 at once ran the
/// matrix in 9.1 s against 12.3 s with 4.
pub fn default_jobs() -> usize {
    4 * std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// The labs a PATH names: itself when it holds a lab.yaml, otherwise its subfolders that do.
fn labs_under(path: &Path) -> Vec<PathBuf> {
    if path.join("lab.yaml").exists() {
        return vec![path.to_path_buf()];
    }
    let mut labs: Vec<PathBuf> =
        std::fs::read_dir(path).map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.join("lab.yaml").exists()).collect()).unwrap_or_default();
    labs.sort();
    labs
}

/// Creates `dir` if needed and proves a file can be written in it.
fn check_writable_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(".vpnlab-write-check");
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

pub async fn test(path: &Path, only: &[String], jobs: Option<usize>, junit: Option<&Path>, artifacts: Option<&Path>, format: Format) -> Result<Code> {
    let labs = labs_under(path);
    if labs.is_empty() {
        return Err(fail(Code::BadInput, format!("{} is neither a lab folder (with a lab.yaml) nor a folder of labs", path.display())));
    }
    let mut scenarios = Vec::new();
    let mut problems = Vec::new();
    for lab in &labs {
        for file in scenario::files(lab) {
            let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            if !only.is_empty() && !only.contains(&name) {
                continue;
            }
            match scenario::load(lab, &file) {
                Ok(s) => scenarios.push(s),
                Err(e) => problems.push(e),
            }
        }
    }
    if !problems.is_empty() {
        return Err(fail(Code::BadInput, problems.join("\n")));
    }
    if scenarios.is_empty() {
        let what = if only.is_empty() { "no scenarios (labs/<lab>/scenarios/*.yaml)".to_string() } else { format!("no scenario named {}", only.join(", ")) };
        return Err(fail(Code::BadInput, format!("{}: {what}", path.display())));
    }
    // Where the reports go must be writable before anything runs, not after the whole matrix.
    let junit_file = match junit {
        Some(f) => Some(std::fs::File::create(f).map_err(|e| fail(Code::BadInput, format!("--junit {}: cannot write there: {e}", f.display())))?),
        None => None,
    };
    if let Some(dir) = artifacts {
        check_writable_dir(dir).map_err(|e| fail(Code::BadInput, format!("--artifacts {}: cannot write there: {e}", dir.display())))?;
    }
    crate::preflight::check()?;
    let jobs = jobs.unwrap_or_else(default_jobs);
    let total = scenarios.len();
    let quiet = format == Format::Json;
    // On a terminal a status line shows what is running; elsewhere (CI logs) plain lines only.
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr()) && !quiet;
    let clear = || {
        if terminal {
            eprint!("\r\x1b[2K");
        }
    };
    let results = runner::run_all(
        scenarios,
        jobs,
        artifacts.map(Path::to_path_buf),
        |r, done, total| {
            if !quiet {
                clear();
                let word = r.result.word();
                eprintln!("[{done}/{total}] {word:<12} {}/{} ({:.0} ms) {}", r.lab, r.name, r.duration_ms, r.title);
            }
        },
        |running, done, total| {
            if terminal && !running.is_empty() {
                clear();
                let line: String = format!("[{done}/{total}] running: {}", running.join(", ")).chars().take(150).collect();
                eprint!("{line}");
            }
        },
    )
    .await;
    clear();
    let interrupted = crate::run::interrupt::requested().is_some();
    if interrupted {
        eprintln!("interrupted: {} of {total} scenarios finished, every lab removed; the reports hold the finished ones", results.len());
    }

    if let (Some(mut f), Some(path)) = (junit_file, junit) {
        std::io::Write::write_all(&mut f, crate::report::junit::render(&results).as_bytes())
            .map_err(|e| fail(Code::Inconclusive, format!("--junit {}: writing the report failed: {e}", path.display())))?;
    }
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"schema": "vpnlab.test/1", "interrupted": interrupted, "total": total, "scenarios": results}))?
        ),
        Format::Table => print!("{}", crate::report::scenarios::table(&results)),
    }
    Ok(if results.iter().any(|r| r.result == RunResult::Fail) {
        Code::VerdictFailed
    } else if results.iter().any(|r| r.result == RunResult::Inconclusive) {
        Code::Inconclusive
    } else {
        Code::Ok
    })
}
