//! speedrackd's entry point: parse arguments, dispatch to the subcommand, and decide the exit
//! status. Everything else lives in the library and in `commands`.

mod cli;
mod commands;
mod contrib_files;

use std::process::ExitCode;

use clap::Parser;
use speedrackd::data_dir_lock::LockError;
use speedrackd::startup::StartupError;
use speedrackd::web_host::WebHostError;

use crate::cli::{Cli, Command};

/// glibc's malloc arenas at most. By default it gives up to eight per core to threads that
/// allocate at once, and each keeps its freed memory: with 10 000 tasks the daemon's resident
/// memory after a minute was 68 MiB with the default, 54 MiB with two (BENCHMARKS.md).
const MALLOC_ARENAS: i32 = 2;

/// EX_CONFIG from sysexits.h: systemd's RestartPreventExitStatus stops restart loops on it.
const EXIT_CONFIG: u8 = 78;

fn main() -> ExitCode {
    limit_malloc_arenas();
    // Before any other thread exists, so that all of them inherit it.
    if let Err(error) = speedrackd::hold_child_signal() {
        eprintln!("speedrackd: cannot block SIGCHLD, runs cost more to start: {error}");
    }
    let cli = Cli::parse();
    speedrack_web::logging::init(speedrack_web::logging::LogFormat::from_name(
        &cli.log_format,
    ));
    let outcome = match cli.command {
        Some(Command::Run(args)) => commands::run(args),
        None => commands::run(cli.run),
        Some(Command::Check(args)) => commands::check(args),
        Some(Command::Schedule(args)) => commands::schedule(args),
        Some(Command::Init(args)) => commands::init(args),
        Some(Command::HashPassword) => commands::hash_password(),
        Some(Command::ImportHistory(args)) => commands::import_history(args),
        Some(Command::Completions { shell }) => contrib_files::print_completions(shell),
        Some(Command::Man) => contrib_files::print_man(),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("speedrackd: {error:#}");
            let config_error = matches!(
                error.downcast_ref::<StartupError>(),
                Some(StartupError::Config(_))
            ) || matches!(
                error.downcast_ref::<LockError>(),
                Some(LockError::Held { .. })
            ) || error
                .downcast_ref::<WebHostError>()
                .is_some_and(WebHostError::is_config)
                || error
                    .downcast_ref::<speedrackd::DaemonError>()
                    .is_some_and(speedrackd::DaemonError::is_config);
            ExitCode::from(if config_error { EXIT_CONFIG } else { 1 })
        }
    }
}

#[allow(
    unsafe_code,
    reason = "mallopt is glibc's only interface to its arena limit"
)]
fn limit_malloc_arenas() {
    #[cfg(target_env = "gnu")]
    // SAFETY: called first thing in main, before any other thread exists; mallopt only sets
    // a tunable of the allocator and reports failure by its return value, which is harmless
    // to ignore (the default applies).
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
    }
}
