//! `vpnlab bench`'s figures as data and their renderings: the healthy scenario's phases end to
//! end with their spread, the memory of a running lab, and the scenario matrix's time to
//! verdict per class. JSON schemas `vpnlab.bench/1` and `vpnlab.bench-matrix/1`.

use std::fmt::Write as _;

use serde::Serialize;
use tabled::builder::Builder;
use tabled::settings::Style;

/// Median and spread of a set of durations, in ms.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Spread {
    pub median_ms: f64,
    pub p10_ms: f64,
    pub p90_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
}

impl Spread {
    /// The spread of `v` (at least one value).
    pub fn of(mut v: Vec<f64>) -> Spread {
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        Spread { median_ms: at(0.5), p10_ms: at(0.1), p90_ms: at(0.9), min_ms: v[0], max_ms: v[v.len() - 1] }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PhaseSpread {
    pub phase: &'static str,
    #[serde(flatten)]
    pub spread: Spread,
}

/// Memory of processes, in KiB.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Memory {
    pub rss: u64,
    pub peak_rss: u64,
    pub pss: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemoryKib {
    pub lab_rss: u64,
    pub lab_peak_rss: u64,
    pub lab_pss: u64,
    pub vpnlab_rss: u64,
    pub vpnlab_peak_rss: u64,
    pub vpnlab_pss: u64,
}

/// The healthy scenario's figures.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRecord {
    pub schema: &'static str,
    pub lab: String,
    pub runs: usize,
    pub end_to_end: Spread,
    pub phases: Vec<PhaseSpread>,
    pub memory_kib: MemoryKib,
    /// Each daemon of the running lab: (what, its memory).
    #[serde(skip)]
    pub processes: Vec<(String, Memory)>,
}

fn ms(x: f64) -> String {
    format!("{x:.1}")
}

fn mib(k: u64) -> String {
    format!("{:.1}", k as f64 / 1024.0)
}

impl BenchRecord {
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "lab {} · {} runs end to end (up, P1/P2, BGP when the lab has it, ping both ways, down)\n", self.lab, self.runs);
        let mut b = Builder::default();
        b.push_record(["phase", "median ms", "p10", "p90", "min", "max"]);
        let row = |name: &str, s: &Spread| [name.to_string(), ms(s.median_ms), ms(s.p10_ms), ms(s.p90_ms), ms(s.min_ms), ms(s.max_ms)];
        for p in &self.phases {
            b.push_record(row(p.phase, &p.spread));
        }
        b.push_record(row("end to end", &self.end_to_end));
        let _ = writeln!(out, "{}\n", b.build().with(Style::psql()));
        let mut m = Builder::default();
        m.push_record(["process of the running lab", "RSS MiB", "peak RSS MiB", "PSS MiB"]);
        for (name, mem) in &self.processes {
            m.push_record([name.clone(), mib(mem.rss), mib(mem.peak_rss), mib(mem.pss)]);
        }
        let k = &self.memory_kib;
        m.push_record(["running lab, total".to_string(), mib(k.lab_rss), mib(k.lab_peak_rss), mib(k.lab_pss)]);
        m.push_record(["vpnlab itself (this bench process)".to_string(), mib(k.vpnlab_rss), mib(k.vpnlab_peak_rss), mib(k.vpnlab_pss)]);
        let _ = writeln!(out, "{}", m.build().with(Style::psql()));
        if self.phases.iter().any(|p| p.phase == "bgp settled") {
            // A BGP lab waits for the speakers after the tunnel: its own targets (issue 10).
            let _ = writeln!(out, "\ntargets (BGP): ≤ 2 s median from the tunnel up to BGP settled, ≤ 3 s end to end");
        } else {
            let _ = writeln!(out, "\ntargets: ≤ 150 ms median end to end, ≤ 25 MiB for a running lab");
        }
        out
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassFigures {
    pub class: &'static str,
    pub scenarios: usize,
    pub median_ms: f64,
    pub max_ms: f64,
}

/// The scenario matrix's figures.
#[derive(Debug, Clone, Serialize)]
pub struct MatrixRecord {
    pub schema: &'static str,
    /// The folder of labs.
    #[serde(skip)]
    pub dir: String,
    pub scenarios: usize,
    pub jobs: usize,
    pub wall_median_ms: f64,
    pub wall_min_ms: f64,
    pub wall_max_ms: f64,
    pub scenarios_per_hour: f64,
    pub classes: Vec<ClassFigures>,
}

impl MatrixRecord {
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "\nscenario matrix of {}: {} scenarios, {} at a time, 3 runs", self.dir, self.scenarios, self.jobs);
        let mut b = Builder::default();
        b.push_record(["class", "scenarios", "median ms to verdict", "max ms"]);
        for c in &self.classes {
            b.push_record([c.class.to_string(), c.scenarios.to_string(), format!("{:.0}", c.median_ms), format!("{:.0}", c.max_ms)]);
        }
        let _ = writeln!(out, "{}", b.build().with(Style::psql()));
        let _ = writeln!(
            out,
            "whole matrix: median {:.1} s (min {:.1}, max {:.1}); {:.0} scenarios per hour",
            self.wall_median_ms / 1000.0,
            self.wall_min_ms / 1000.0,
            self.wall_max_ms / 1000.0,
            self.scenarios_per_hour
        );
        let _ = writeln!(out, "targets: matrix ≤ 10 s on 2 cores; definitive failure ≤ 150 ms; silent peer ≤ 2.5 s");
        out
    }
}

/// Time to read one configuration file.
#[derive(Debug, Clone, Serialize)]
pub struct ImportFigures {
    pub file: String,
    pub family: &'static str,
    pub lines: usize,
    #[serde(flatten)]
    pub spread: Spread,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportRecord {
    pub schema: &'static str,
    pub runs: usize,
    pub files: Vec<ImportFigures>,
}

impl ImportRecord {
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "reading firewall configurations into devices (parse, defaults, intent), {} reads each\n", self.runs);
        let mut b = Builder::default();
        b.push_record(["file", "device", "lines", "median ms", "p90", "max"]);
        for f in &self.files {
            b.push_record([
                f.file.clone(),
                f.family.to_string(),
                f.lines.to_string(),
                format!("{:.3}", f.spread.median_ms),
                format!("{:.3}", f.spread.p90_ms),
                format!("{:.3}", f.spread.max_ms),
            ]);
        }
        let _ = writeln!(out, "{}", b.build().with(Style::psql()));
        let _ = writeln!(out, "target: ≤ 5 ms per configuration");
        out
    }
}
