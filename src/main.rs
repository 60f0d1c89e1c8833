//! vpnlab: sealed site-to-site VPN labs in network namespaces, with verdicts.
//! `main` parses the command line, runs it, and turns the outcome into an exit code.
//!
//! A first SIGINT or SIGTERM asks the work to stop (`run::interrupt`): it starts nothing new,
//! tears down every run it built, reaps its daemons, writes what finished, and returns; the exit
//! code is then 130 or 143. A second signal, or work that has not returned within
//! [`STOP_GRACE`], removes whatever is still registered directly and exits.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tokio::signal::unix::{signal, SignalKind};

use vpnlab::exit::{Code, Failure};
use vpnlab::run::interrupt;
use vpnlab::{cli, process, run};

/// mimalloc instead of glibc's malloc: reading a firewall configuration allocates a tree of
/// small strings, and a 4,910-line PAN-OS export imported in a median 6.0 ms with glibc against
/// 4.4 ms with mimalloc (interleaved, `vpnlab bench --import`, ARCHITECTURE.md "Choices").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long interrupted work may take to tear its runs down before `main` does it instead.
const STOP_GRACE: Duration = Duration::from_secs(20);
/// After a second signal, how long the work may still run before the final sweep.
const HURRY_GRACE: Duration = Duration::from_secs(3);

fn main() -> ExitCode {
    // Before anything else: nothing this process inherited may reach the daemons it starts.
    process::close_inherited_on_exec();
    let cli = cli::Cli::parse();
    if cli.command.only_prints() {
        // SAFETY: restoring the default disposition of one signal before any thread starts.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
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
        let work = cli::dispatch(cli);
        tokio::pin!(work);
        let grace = tokio::time::sleep(Duration::MAX / 4);
        tokio::pin!(grace);
        loop {
            let signalled = tokio::select! {
                result = &mut work => {
                    let code = match result {
                        Ok(code) => code,
                        Err(e) if interrupt::is_interrupted(&e) => interrupt::requested().unwrap_or(Code::Interrupted),
                        Err(e) => report_error(&e),
                    };
                    return interrupt::requested().unwrap_or(code);
                }
                _ = sigint.recv() => Code::Interrupted,
                _ = sigterm.recv() => Code::Terminated,
                _ = &mut grace => {
                    eprintln!("the interrupted work did not stop within {} s; removing its runs now", STOP_GRACE.as_secs());
                    return remove_registered(interrupt::requested().unwrap_or(Code::Interrupted));
                }
            };
            let what = if signalled == Code::Interrupted { "interrupted (SIGINT)" } else { "terminated (SIGTERM)" };
            if interrupt::requested().is_none() {
                eprintln!("{what}: stopping; removing this process's runs (again to hurry)");
                interrupt::request(signalled);
                grace.as_mut().reset(tokio::time::Instant::now() + STOP_GRACE);
            } else {
                eprintln!("{what} again: removing this process's runs now");
                let code = remove_registered(interrupt::requested().unwrap_or(signalled));
                // Work still in flight (a topology being built) may register or create more
                // before it notices: give it a moment to end, then sweep again.
                let _ = tokio::time::timeout(HURRY_GRACE, &mut work).await;
                return remove_registered(code);
            }
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

/// The hurried path: removes every run still registered, from its labels, and reaps what died.
fn remove_registered(code: Code) -> Code {
    for r in run::active::take_all() {
        match run::cleanup::teardown(&r) {
            Ok(_) => eprintln!("removed run {}", r.id),
            Err(e) => eprintln!("{e:#} (retry with `vpnlab down {}`)", r.id),
        }
    }
    process::reap_exited_children();
    code
}
