//! vpnlab: sealed site-to-site VPN labs in network namespaces, with verdicts.
//! `main` parses the command line, runs it, and turns the outcome into an exit code; a
//! Ctrl-C or SIGTERM drops the work in progress and removes every run this process owns.

use std::process::ExitCode;

use clap::Parser;
use tokio::signal::unix::{signal, SignalKind};

use vpnlab::exit::{Code, Failure};
use vpnlab::{cli, run};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return Code::Environment.exit();
        }
    };
    let code = runtime.block_on(async {
        let (Ok(mut sigint), Ok(mut sigterm)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
            eprintln!("error: cannot install signal handlers");
            return Code::Environment;
        };
        tokio::select! {
            result = cli::dispatch(cli) => match result {
                Ok(code) => code,
                Err(e) => report_error(&e),
            },
            _ = sigint.recv() => interrupted(Code::Interrupted, "interrupted (SIGINT)"),
            _ = sigterm.recv() => interrupted(Code::Terminated, "terminated (SIGTERM)"),
        }
    });
    // Event readers and netlink connections of an interrupted run may still be parked on
    // sockets; nothing they hold matters once the runs are gone.
    runtime.shutdown_background();
    code.exit()
}

fn report_error(e: &anyhow::Error) -> Code {
    match e.downcast_ref::<Failure>() {
        Some(f) => {
            eprintln!("{}", f.message.trim_end());
            f.code
        }
        None => {
            eprintln!("error: {e:#}");
            Code::Inconclusive
        }
    }
}

/// The interrupted work has been dropped; remove what it built.
fn interrupted(code: Code, what: &str) -> Code {
    let runs = run::active::take_all();
    for r in &runs {
        match run::cleanup::teardown(r) {
            Ok(_) => eprintln!("{what}: removed run {}", r.id),
            Err(e) => eprintln!("{what}: {e:#} (retry with `vpnlab down {}`)", r.id),
        }
    }
    if runs.is_empty() {
        eprintln!("{what}");
    }
    code
}
