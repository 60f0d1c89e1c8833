//! The command line: argument definitions (clap) and dispatch to one module per verb.

mod azure;
mod bench;
mod device;
mod down;
mod exec;
mod explain;
mod lab_ops;
mod repro;
mod run;
mod status;
pub(crate) mod test;
mod up;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};

use crate::exit::{fail, Code, EXIT_CODES_HELP};
use crate::run::state::{RunDir, RunState};

const ABOUT: &str = "Sealed site-to-site VPN labs on one Linux host: a simulated Azure VPN Gateway \
(strongSwan), a NAT router, the firewall under test, LAN and VNet hosts, each in its own network \
namespace, with verdicts on Phase 1, Phase 2 and traffic.";

const AFTER_HELP: &str = "\
Examples:
  vpnlab test labs/                            every scenario of every lab, in parallel
  vpnlab test labs/ --junit out.xml            ... with a JUnit report for CI
  vpnlab explain labs/azure-paloalto/scenarios/dh-mismatch.yaml
                                               one ticket: what happened, the cause, the fix
  vpnlab run labs/azure-paloalto               build, check, report, tear down
  vpnlab up labs/azure-paloalto                build and leave it running
  vpnlab status                                every running lab
  vpnlab exec azure-paloalto lan-pc -- ping -c1 10.20.0.4
  vpnlab down azure-paloalto                   or: vpnlab down --all

A LAB argument of status/exec/down is a lab name, the lab's folder, or a run id.
Labs run as root; state lives in /run/vpnlab (VPNLAB_STATE_DIR overrides).";

#[derive(Debug, Parser)]
#[command(name = "vpnlab", version, about = ABOUT, after_help = format!("{AFTER_HELP}\n\n{EXIT_CODES_HELP}"))]
pub struct Cli {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table, global = true)]
    pub format: Format,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables for people.
    Table,
    /// JSON with a stable schema (`schema` field names its version).
    Json,
}

impl Command {
    /// Commands that only read and print (no lab is built, nothing to clean up): for them a
    /// closed stdout (`vpnlab device explain LAB | head`) ends the process quietly, as for any
    /// Unix filter, instead of a panic on the broken pipe. Not for commands that talk to a
    /// daemon's socket (`status LAB`): a socket the daemon closed must be an error, not a
    /// silent death.
    pub fn only_prints(&self) -> bool {
        matches!(self, Command::Explain { .. } | Command::Status { lab: None, .. } | Command::Device { .. } | Command::Azure { .. })
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build a lab, check it, report, and tear it down. The exit code says pass or fail.
    #[command(after_help = EXIT_CODES_HELP)]
    Run {
        /// The lab folder (holding lab.yaml), e.g. labs/azure-paloalto.
        lab: PathBuf,
    },
    /// Run a lab's scenarios (labs/<lab>/scenarios/*.yaml), each as its own lab, in parallel,
    /// and judge each against its expected outcome, with a diagnosis when it differs.
    #[command(after_help = EXIT_CODES_HELP)]
    Test {
        /// A lab folder, or a folder of labs (e.g. labs/).
        path: PathBuf,
        /// Only these scenarios (file names without .yaml); repeatable.
        #[arg(short = 's', long = "scenario")]
        scenarios: Vec<String>,
        /// Scenarios at once (default: four per core; scenarios mostly wait).
        #[arg(long)]
        jobs: Option<usize>,
        /// Also write JUnit XML here.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Keep each scenario's logs, configs (secrets redacted) and events under this folder.
        #[arg(long)]
        artifacts: Option<PathBuf>,
    },
    /// Run one scenario and tell its story: the ticket, what was observed, the cause, the fix.
    Explain {
        /// A scenario file, e.g. labs/azure-paloalto/scenarios/proxy-id-narrowed-teaching.yaml.
        scenario: PathBuf,
    },
    /// Build a lab, bring the tunnel up, print its status, and leave it running.
    #[command(after_help = EXIT_CODES_HELP)]
    Up {
        /// The lab folder (holding lab.yaml), e.g. labs/azure-paloalto.
        lab: PathBuf,
    },
    /// Show the running labs, or one lab's nodes, links and SAs.
    #[command(after_help = "\
Examples:
  vpnlab status                              every running lab
  vpnlab status azure-paloalto               its nodes, links and SAs
  vpnlab status azure-paloalto --view azure  the Azure connection blade (Connected, bytes, tunnels)
  vpnlab status azure-paloalto --view pan-os show vpn ike-sa / ipsec-sa / flow, as PAN-OS prints them")]
    Status {
        /// Lab name, lab folder or run id; without it, every running lab is listed.
        lab: Option<String>,
        /// A device's own view of its live SAs: azure, pan-os or pfsense.
        #[arg(long, requires = "lab")]
        view: Option<String>,
    },
    /// Run a command inside a node of a running lab, e.g. `vpnlab exec LAB lan-pc -- ping -c1 10.20.0.4`.
    Exec {
        /// Lab name, lab folder or run id.
        lab: String,
        /// The node to run in.
        node: String,
        /// The command and its arguments.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Initiate a running lab's tunnel from one node (its first connection's first child).
    Initiate {
        /// Lab name, lab folder or run id.
        lab: String,
        /// The IPsec node that initiates, e.g. firewall or azure-gw.
        node: String,
    },
    /// Set a record of a running lab's name server, e.g. after the branch's WAN address changed.
    Dns {
        /// Lab name, lab folder or run id.
        lab: String,
        /// The name, e.g. branch.example.com.
        name: String,
        /// Its new IPv4 address.
        address: std::net::Ipv4Addr,
    },
    /// (internal) The keeper of a lab left running by `up`: builds it, then owns it until SIGTERM.
    #[command(hide = true)]
    Supervise { run: String, lab: PathBuf },
    /// Remove labs: daemons, namespaces, links and run folders, found from their labels (also
    /// after a crash, or under another state folder). Only what is yours: `down LAB` removes your
    /// `up` labs and runs whose owner is gone; a run another vpnlab is using is listed and kept.
    #[command(after_help = "\
Examples:
  vpnlab down azure-paloalto        your `up` lab of that name (and debris of killed runs)
  vpnlab down k3x9qa                one run, by id
  vpnlab down --all                 every run whose owner is gone, and your `up` labs (asks)
  vpnlab down k3x9qa --force        that run even if another vpnlab is using it")]
    Down {
        /// Lab name, lab folder or run id.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        lab: Option<String>,
        /// Every run whose owner is gone (anyone's debris) and your own `up` labs; asks first
        /// on a terminal.
        #[arg(long)]
        all: bool,
        /// Also remove runs another process is using or another user started.
        #[arg(long)]
        force: bool,
        /// Do not ask before `--all` removes anything.
        #[arg(short = 'y', long)]
        yes: bool,
    },
    /// Reproduce a customer's ticket from their exports alone: a lab around the firewall's
    /// configuration and the Azure connection, run with each side initiating and across a
    /// compressed rekey; prints the outcome and the diagnosis.
    #[command(after_help = "\
Examples:
  vpnlab repro --device running-config.xml --psk-file psk.txt \\
               --azure gateway.json connection.json lng.json vnet.json
  vpnlab repro --device config.xml --azure gw.json cn.json lng.json --save labs/ticket-4711

Exports: az network vnet-gateway show, az network vpn-connection show, az network
local-gateway show, az network vnet show (or REST GETs, or an ARM template). The
gateway's public address is the one the firewall's configuration talks to.

Exit codes: 0 the tunnel works in every run, 1 a run failed (the diagnosis says why),
2 bad input, 3 the host cannot run labs, 4 inconclusive.")]
    Repro {
        /// The firewall's configuration: a PAN-OS `set` file or XML export, or a pfSense config.xml.
        #[arg(long)]
        device: PathBuf,
        /// pan-os or pfsense (detected from the file when not given).
        #[arg(long)]
        device_type: Option<String>,
        /// Which tunnel (PAN-OS) or phase 1 ikeid (pfSense), when there are several.
        #[arg(long)]
        tunnel: Option<String>,
        /// A file holding the pre-shared key (PAN-OS exports keep it encrypted).
        #[arg(long)]
        psk_file: Option<PathBuf>,
        /// The Azure exports: gateway, connection, local network gateway and optionally the VNet.
        #[arg(long, num_args = 1.., required = true)]
        azure: Vec<PathBuf>,
        /// Keep the generated lab and scenarios in this folder.
        #[arg(long)]
        save: Option<PathBuf>,
    },
    /// The firewall under test: what vpnlab read from its configuration and what it does.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// The simulated Azure VPN Gateway: what it does and on what evidence.
    Azure {
        #[command(subcommand)]
        command: AzureCommand,
    },
    /// Measure a lab end to end over many runs: median and spread per phase, and memory.
    Bench {
        /// The lab folder.
        #[arg(default_value = "labs/azure-paloalto")]
        lab: PathBuf,
        /// How many runs.
        #[arg(long, default_value_t = 20)]
        runs: usize,
        /// Also time the whole scenario matrix of this folder of labs (three times).
        #[arg(long)]
        matrix: Option<PathBuf>,
        /// Time the lab as this scenario patches it (its file name without .yaml, e.g. `bgp`):
        /// its steps run, and the run must pass the healthy checks (with BGP: every session
        /// Established with routes learned).
        #[arg(long, short = 's')]
        scenario: Option<String>,
        /// Instead of a lab, time reading these firewall configurations (PAN-OS set or XML,
        /// pfSense config.xml; FILE:NAME picks a tunnel or phase 1 of a file with several):
        /// median and spread over --runs reads each. Needs no root.
        #[arg(long, num_args = 1.., conflicts_with = "matrix")]
        import: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// For each IPsec node of a lab: what was imported from its configuration file (used,
    /// defaulted with the default's source, ignored and why) and the intent it became:
    /// proposals, selectors and how they are matched, who initiates, the forward policy.
    Explain {
        /// The lab folder, e.g. labs/azure-paloalto.
        lab: PathBuf,
        /// Only this node.
        #[arg(long)]
        node: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AzureCommand {
    /// Print the effective behaviour of a lab's gateway: proposals offered and accepted in each
    /// phase and role, lifetimes, DPD, selectors, who may initiate, and for each rule its
    /// evidence level and source. With --all: every modelled behaviour (docs/azure-model.md).
    Explain {
        /// The lab folder, e.g. labs/azure-paloalto.
        #[arg(required_unless_present = "all")]
        lab: Option<PathBuf>,
        /// Every behaviour vpnlab models, not just those of one lab.
        #[arg(long)]
        all: bool,
    },
}

pub async fn dispatch(cli: Cli) -> Result<Code> {
    match cli.command {
        Command::Run { lab } => run::run(&lab, cli.format).await,
        Command::Up { lab } => up::up(&lab, cli.format).await,
        Command::Explain { scenario } => explain::explain(&scenario, cli.format).await,
        Command::Test { path, scenarios, jobs, junit, artifacts } => {
            test::test(&path, &scenarios, jobs, junit.as_deref(), artifacts.as_deref(), cli.format).await
        }
        Command::Status { lab, view } => status::status(lab.as_deref(), view.as_deref(), cli.format).await,
        Command::Exec { lab, node, command } => exec::exec(&lab, &node, &command),
        Command::Initiate { lab, node } => lab_ops::initiate(&lab, &node, cli.format).await,
        Command::Dns { lab, name, address } => lab_ops::set_record(&lab, &name, address),
        Command::Supervise { run, lab } => up::keep(&run, &lab).await,
        Command::Down { lab, all, force, yes } => down::down(lab.as_deref(), all, force, yes, cli.format),
        Command::Azure { command: AzureCommand::Explain { lab, all } } => azure::explain(lab.as_deref(), all, cli.format),
        Command::Device { command: DeviceCommand::Explain { lab, node } } => device::explain(&lab, node.as_deref(), cli.format),
        Command::Repro { device, device_type, tunnel, psk_file, azure, save } => {
            let name = save.as_ref().and_then(|d| d.file_name()).map(|n| n.to_string_lossy().to_string());
            let inputs = crate::repro::Inputs { device, family: device_type, select: tunnel, psk_file, azure, name };
            repro::repro(inputs, save.as_deref(), cli.format).await
        }
        Command::Bench { import, runs, .. } if !import.is_empty() => bench::import(&import, runs, cli.format),
        Command::Bench { lab, runs, matrix, scenario, .. } => {
            let code = bench::bench(&lab, scenario.as_deref(), runs, cli.format).await?;
            match matrix {
                Some(dir) => bench::matrix(&dir, cli.format).await,
                None => Ok(code),
            }
        }
    }
}

/// Loads a lab file, mapping its problems to exit code 2.
fn load_lab(path: &std::path::Path) -> Result<crate::model::Lab> {
    crate::model::load(path).map_err(|e| fail(Code::BadInput, e.to_string()))
}

/// Finds the runs a LAB argument names: a run id, a lab name, or a lab folder.
fn find_runs(lab: &str) -> Vec<(RunDir, RunState)> {
    let wanted_path = std::fs::canonicalize(lab).ok();
    RunDir::all()
        .into_iter()
        .filter_map(|r| r.load().ok().map(|s| (r, s)))
        .filter(|(r, s)| r.id == lab || s.lab == lab || wanted_path.is_some() && std::fs::canonicalize(&s.lab_path).ok() == wanted_path)
        .collect()
}

/// Exactly one run, or an error that lists the candidates.
fn find_one_run(lab: &str) -> Result<(RunDir, RunState)> {
    let mut runs = find_runs(lab);
    match runs.len() {
        1 => Ok(runs.remove(0)),
        0 => Err(fail(Code::BadInput, format!("no running lab matches `{lab}` (see `vpnlab status` for the running labs)"))),
        _ => {
            let ids: Vec<String> = runs.iter().map(|(r, s)| format!("{} ({})", r.id, s.lab)).collect();
            Err(fail(Code::BadInput, format!("`{lab}` matches several runs: {}; name one by its run id", ids.join(", "))))
        }
    }
}
