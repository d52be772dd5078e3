//! speedrackd's entry point: parse arguments, prepare and bind, run until a signal, and decide
//! the exit status. Everything else lives in the library.

mod cli;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use speedrackd::clock::SystemClock;
use speedrackd::startup::{Overrides, StartupError, prepare};
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::{Cli, Command, RunArgs};

/// EX_CONFIG from sysexits.h: systemd's RestartPreventExitStatus stops restart loops on it.
const EXIT_CONFIG: u8 = 78;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = match cli.command {
        Some(Command::Run(args)) => args,
        None => cli.run,
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("speedrackd: {error:#}");
            let config_error = matches!(
                error.downcast_ref::<StartupError>(),
                Some(StartupError::Config(_))
            );
            ExitCode::from(if config_error { EXIT_CONFIG } else { 1 })
        }
    }
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    let overrides = Overrides {
        settings: args.settings,
        tasks: args.tasks,
        socket: args.socket,
        data_dir: args.data_dir,
    };
    let prepared = prepare(overrides)?;
    let config = prepared.config;
    let listener = speedrackd::socket::bind(&config.socket_path)?;
    if config.demo_mode {
        tracing::info!(dir = %config.data_dir.display(), "demo mode: state is kept in a temporary directory");
    }
    tracing::info!(socket = %config.socket_path.display(), tasks = %config.tasks_path.display(), "starting");
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener =
            tokio::net::UnixListener::from_std(listener).context("cannot use the bound socket")?;
        let mut terminate = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
        let shutdown = async move {
            tokio::select! {
                _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
                _ = interrupt.recv() => tracing::info!("SIGINT: shutting down"),
            }
        };
        let socket_path = config.socket_path.clone();
        let result = speedrackd::run(config, listener, Arc::new(SystemClock), shutdown).await;
        let _ = std::fs::remove_file(&socket_path);
        result.map_err(anyhow::Error::from)
    })?;
    drop(prepared.demo_dir);
    Ok(())
}
