//! The subcommands of speedrackd, each turning parsed arguments into library calls and an exit
//! code. Config problems come back as `StartupError::Config`, which `main` maps to 78.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use speedrackd::clock::{Clock, SystemClock};
use speedrackd::config::{default_time_zone, load_settings, load_tasks};
use speedrackd::startup::{Overrides, StartupError, prepare};
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::{CheckArgs, RunArgs, ScheduleArgs};

/// A schedule given on the command line that is not one: a usage error, like clap's own.
const USAGE: u8 = 2;

/// `speedrackd run`: bind, serve and schedule until SIGTERM or SIGINT.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
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
        let mut hangup = signal(SignalKind::hangup()).context("cannot watch SIGHUP")?;
        let (reload, reloads) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading the settings and tasks files");
                if reload.send(()).is_err() {
                    return;
                }
            }
        });
        let shutdown = async move {
            tokio::select! {
                _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
                _ = interrupt.recv() => tracing::info!("SIGINT: shutting down"),
            }
        };
        let socket_path = config.socket_path.clone();
        let result =
            speedrackd::run(config, listener, Arc::new(SystemClock), shutdown, reloads).await;
        let _ = std::fs::remove_file(&socket_path);
        result.map_err(anyhow::Error::from)
    })?;
    drop(prepared.demo_dir);
    Ok(ExitCode::SUCCESS)
}

/// `speedrackd check`: 0 when both files are valid and no task has conf errors, 1 otherwise.
pub fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let settings = load_settings(args.settings.as_deref()).map_err(StartupError::from)?;
    let tasks =
        load_tasks(&args.tasks, default_time_zone(&settings)).map_err(StartupError::from)?;
    let (report, clean) = speedrackd::check::report(&tasks, SystemClock.now());
    print!("{report}");
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `speedrackd schedule`: the next fires of a schedule given on the command line.
pub fn schedule(args: ScheduleArgs) -> anyhow::Result<ExitCode> {
    let tz = match &args.tz {
        Some(name) => name.parse::<Tz>().map_err(|_| {
            anyhow::anyhow!("unknown time zone {name:?} (use an IANA name like Europe/Berlin)")
        })?,
        None => {
            default_time_zone(&load_settings(args.settings.as_deref()).map_err(StartupError::from)?)
        }
    };
    let from = match &args.from {
        Some(text) => DateTime::parse_from_rfc3339(text)
            .with_context(|| {
                format!("--from {text:?} is not an RFC 3339 instant like 2026-03-29T01:30:00+01:00")
            })?
            .with_timezone(&Utc),
        None => SystemClock.now(),
    };
    match speedrackd::preview::preview(
        args.interval.as_deref(),
        args.cron.as_deref(),
        tz,
        from,
        args.count,
    ) {
        Ok(lines) => {
            print!("{lines}");
            Ok(ExitCode::SUCCESS)
        }
        Err(message) => {
            eprintln!("speedrackd: {message}");
            Ok(ExitCode::from(USAGE))
        }
    }
}
