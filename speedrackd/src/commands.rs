//! The subcommands of speedrackd, each turning parsed arguments into library calls and an exit
//! code. Config problems come back as `StartupError::Config`, which `main` maps to 78.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use speedrackd::clock::{Clock, SystemClock};
use speedrackd::config::effective::{Effective, Source};
use speedrackd::config::{
    check_tasks_file, default_time_zone, load_settings, load_tasks, tasks_file,
};
use speedrackd::data_dir_lock::DataDirLock;
use speedrackd::startup::{Overrides, StartupError, prepare};
use speedrackd::web_host;
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::{CheckArgs, ImportArgs, InitArgs, RunArgs, ScheduleArgs};

/// A schedule given on the command line that is not one: a usage error, like clap's own.
const USAGE: u8 = 2;

/// `speedrackd run`: bind the socket and the web UI's port, then serve and schedule until
/// SIGTERM or SIGINT.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let overrides = Overrides {
        settings: args.settings,
        tasks: args.tasks,
        socket: args.socket,
        data_dir: args.data_dir,
    };
    let prepared = prepare(overrides)?;
    let mut config = prepared.config;
    // Before anything touches the data dir or the socket: a second daemon must change nothing.
    let _lock = DataDirLock::acquire(&config.data_dir)?;
    let listener = speedrackd::socket::bind(&config.socket_path, config.socket_group)?;
    let web = match args.no_web {
        true => None,
        false => {
            let authenticated = config.settings.web.auth != speedrack_web::auth::AuthMode::None;
            let (listen, source) = match (args.listen, args.port) {
                (Some(listen), _) => (listen, Source::Flag),
                (None, Some(port)) => (
                    std::net::SocketAddr::new(config.settings.listen.ip(), port),
                    Source::Flag,
                ),
                (None, None) => (config.settings.listen, listen_source(&config.settings)),
            };
            let web = web_host::bind(listen, authenticated)?;
            // The address bound, which says the port that 0 picked.
            let bound = web.local_addr().map_or(listen, |bound| bound);
            config.effective.push(Effective {
                name: "listen",
                value: bound.to_string(),
                source,
            });
            Some(web)
        }
    };
    let (metrics_token, metrics) = web_host::bind_metrics(&config.settings.metrics)?;
    let listeners = Listeners {
        web,
        metrics,
        metrics_token,
    };
    if config.demo_mode {
        tracing::info!(dir = %config.data_dir.display(), "demo mode: state is kept in a temporary directory");
    }
    tracing::info!(socket = %config.socket_path.display(), tasks = %config.tasks_path.display(), "starting");
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    // The API runs on a thread of its own; this one, where the files were read, hosts the
    // runtime loop (`runtime/thread.rs`).
    let (hand_over, handed) = std::sync::mpsc::sync_channel(1);
    let serving = std::thread::Builder::new()
        .name("serve".to_owned())
        .spawn(move || runtime.block_on(serve(config, listener, listeners, hand_over)))
        .context("cannot start the daemon's API thread")?;
    // No loop comes when serving failed before it was built.
    if let Ok(hosted) = handed.recv() {
        hosted.run();
    }
    serving
        .join()
        .map_err(|_| anyhow::anyhow!("the daemon's API thread panicked"))??;
    drop(prepared.demo_dir);
    Ok(ExitCode::SUCCESS)
}

/// The TCP side of `run`, bound before anything starts.
struct Listeners {
    web: Option<std::net::TcpListener>,
    /// `metrics.listen`'s, serving `/metrics` alone.
    metrics: Option<std::net::TcpListener>,
    metrics_token: Option<speedrack_web::metrics_access::MetricsToken>,
}

/// Whether the settings file sets `listen` (it is the default otherwise).
fn listen_source(settings: &speedrackd::config::Settings) -> Source {
    let set = settings
        .entries()
        .into_iter()
        .any(|(name, _, is_default)| name == "listen" && !is_default);
    if set {
        Source::SettingsFile
    } else {
        Source::Default
    }
}

async fn serve(
    config: speedrackd::DaemonConfig,
    listener: std::os::unix::net::UnixListener,
    listeners: Listeners,
    hand_over: std::sync::mpsc::SyncSender<speedrackd::Hosted>,
) -> anyhow::Result<()> {
    let listener =
        tokio::net::UnixListener::from_std(listener).context("cannot use the bound socket")?;
    let stopping = stop_on_signals()?;
    let reloads = reload_on_hangup()?;
    let metrics = match listeners.metrics {
        Some(metrics) => Some(host_metrics(
            metrics,
            &config,
            listeners.metrics_token.clone(),
            stopping.clone(),
        )?),
        None => None,
    };
    let gateway = match listeners.web {
        Some(web) => Some(host_web(
            web,
            &config,
            listeners.metrics_token,
            stopping.clone(),
        )?),
        None => None,
    };
    let socket_path = config.socket_path.clone();
    let mut stop = stopping.clone();
    let shutdown = async move {
        let _ = stop.wait_for(|stopping| *stopping).await;
    };
    let result = speedrackd::serve(
        config,
        listener,
        Arc::new(SystemClock),
        shutdown,
        reloads,
        |hosted| {
            hand_over
                .send(hosted)
                .map_err(|_| speedrackd::LoopError::Died)
        },
    )
    .await;
    let _ = std::fs::remove_file(&socket_path);
    for (name, server) in [("web UI", gateway), ("metrics listener", metrics)] {
        if let Some(server) = server
            && tokio::time::timeout(std::time::Duration::from_secs(5), server)
                .await
                .is_err()
        {
            tracing::warn!("the {name} did not stop in time; exiting anyway");
        }
    }
    result.map_err(anyhow::Error::from)
}

/// Turns true on SIGTERM or SIGINT.
fn stop_on_signals() -> anyhow::Result<tokio::sync::watch::Receiver<bool>> {
    let mut terminate = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = interrupt.recv() => tracing::info!("SIGINT: shutting down"),
        }
        stop.send_replace(true);
    });
    Ok(stopping)
}

/// One message per SIGHUP.
fn reload_on_hangup() -> anyhow::Result<tokio::sync::mpsc::UnboundedReceiver<()>> {
    let mut hangup = signal(SignalKind::hangup()).context("cannot watch SIGHUP")?;
    let (reload, reloads) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            tracing::debug!("SIGHUP: reloading the settings and tasks files");
            if reload.send(()).is_err() {
                return;
            }
        }
    });
    Ok(reloads)
}

/// Starts the in-process gateway. It raises the open-file limit first, so that the gateway's
/// share of descriptors (and the reserve it leaves to runs) is counted from the highest limit
/// the service may have; the gateway derives its connection cap from it.
///
/// A CSRF key file that cannot be read or made never stops the scheduler: the UI then signs
/// with a key held in memory. A key file others may know refuses the web UI only.
fn host_web(
    web: std::net::TcpListener,
    config: &speedrackd::DaemonConfig,
    metrics_token: Option<speedrack_web::metrics_access::MetricsToken>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let settings = &config.settings.web;
    let auth = settings.auth().map_err(anyhow::Error::msg)?;
    let limits = settings.limits();
    speedrack_web::limits::raise_nofile_limit();
    let csrf_key = match web_host::csrf_key(&config.data_dir) {
        Ok(key) => key,
        Err(error) if speedrack_web::secret::CsrfKey::is_insecure(&error) => {
            tracing::error!("{error}; the web UI stays off until it is fixed, the scheduler runs");
            return Ok(tokio::spawn(async {}));
        }
        Err(error) => {
            tracing::error!(
                "{error}; until it is fixed, the web UI signs its forms with a key held in memory, so \
                 forms from pages opened earlier fail once"
            );
            speedrack_web::secret::CsrfKey::random()
        }
    };
    let web = tokio::net::TcpListener::from_std(web).context("cannot use the web UI's port")?;
    let address = web
        .local_addr()
        .context("cannot read the web UI's address")?;
    tracing::info!("web UI on http://{address}");
    let listen_origin = match config
        .effective
        .iter()
        .find(|effective| effective.name == "listen")
        .map(|effective| effective.source)
    {
        Some(Source::Flag) => speedrack_web::origin::Source::Flag,
        Some(Source::SettingsFile) => speedrack_web::origin::Source::SettingsFile,
        Some(Source::Default) | None => speedrack_web::origin::Source::Default,
    };
    let config = speedrack_web::GatewayConfig {
        socket: config.socket_path.clone(),
        auth,
        limits,
        csrf_key,
        metrics_token,
        origin: speedrack_web::origin::GatewayOrigin {
            listen: Some(listen_origin),
            socket: Some(speedrack_web::origin::Source::Daemon),
        },
    };
    Ok(tokio::spawn(async move {
        let stop = async move {
            let _ = stopping.wait_for(|stopping| *stopping).await;
        };
        if let Err(error) = speedrack_web::serve(config, web, stop).await {
            tracing::error!("{error}");
        }
    }))
}

/// Serves `/metrics` alone on `metrics.listen` until the daemon stops.
fn host_metrics(
    listener: std::net::TcpListener,
    config: &speedrackd::DaemonConfig,
    token: Option<speedrack_web::metrics_access::MetricsToken>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener =
        tokio::net::TcpListener::from_std(listener).context("cannot use the metrics listener")?;
    let address = listener
        .local_addr()
        .context("cannot read the metrics listener's address")?;
    let auth = match token {
        Some(_) => "bearer token",
        None => "no token",
    };
    tracing::info!("metrics on http://{address}/metrics ({auth})");
    let socket = config.socket_path.clone();
    Ok(tokio::spawn(async move {
        let stop = async move {
            let _ = stopping.wait_for(|stopping| *stopping).await;
        };
        speedrack_web::serve_metrics(socket, token, listener, stop).await;
    }))
}

/// `speedrackd check`: 0 when both files are valid and no task has conf errors, 1 otherwise.
/// The settings' ignored 0.6.1 keys are listed first, one line each.
pub fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let settings = load_settings(args.settings.as_deref()).map_err(StartupError::from)?;
    if let Some(path) = &args.settings {
        for ignored in &settings.ignored {
            println!("warning: {}", ignored.describe(path));
        }
    }
    let Some(tasks_path) = tasks_file(args.tasks, &settings).map_err(StartupError::from)? else {
        eprintln!(
            "speedrackd: no tasks file to check: give --tasks FILE, or name it in the settings \
             as tasks_file (0.6.1: CONFIG_YAML)"
        );
        return Ok(ExitCode::from(USAGE));
    };
    check_tasks_file(&tasks_path, settings.allow_insecure_tasks_file)
        .map_err(StartupError::from)?;
    let tasks =
        load_tasks(&tasks_path, default_time_zone(&settings)).map_err(StartupError::from)?;
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

/// `speedrackd init [DIR]`: the commented demo configuration, with safe file modes; without
/// DIR in the current directory, as 0.6.1's `speedrack init` did.
pub fn init(args: InitArgs) -> anyhow::Result<ExitCode> {
    let dir = match args.dir {
        Some(dir) => dir,
        None => std::env::current_dir()
            .context("cannot tell the current directory; name one: speedrackd init DIR")?,
    };
    let tasks = if args.demo {
        speedrackd::init::Tasks::Demo
    } else {
        speedrackd::init::Tasks::Skeleton
    };
    let written = speedrackd::init::init(&dir, tasks, args.force, args.group.as_deref())?;
    for path in &written {
        println!("wrote {}", path.display());
    }
    println!(
        "check them with: speedrackd check --settings {} --tasks {}",
        written[0].display(),
        written[1].display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `speedrackd hash-password`: reads a password from stdin and prints its argon2 hash, for
/// `web.users` in the settings.
pub fn hash_password() -> anyhow::Result<ExitCode> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .context("cannot read the password from stdin")?;
    let password = password.trim_end_matches(['\r', '\n']);
    anyhow::ensure!(
        !password.is_empty(),
        "no password on stdin (try: read -rs P; echo \"$P\" | speedrackd hash-password)"
    );
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|error| anyhow::anyhow!("cannot hash the password: {error}"))?;
    println!("{hash}");
    Ok(ExitCode::SUCCESS)
}

/// `speedrackd import-history`: Speedrack 0.6.1's runs and suspended tasks into a stopped
/// daemon's data dir; a progress line on a terminal, the summary on stdout.
pub fn import_history(args: ImportArgs) -> anyhow::Result<ExitCode> {
    use speedrackd::import::{ImportOptions, Progress, resolve_sources};
    let settings = load_settings(args.settings.as_deref()).map_err(StartupError::from)?;
    let old_settings = args.settings.is_some().then_some(&settings);
    let sources = resolve_sources(args.jobs, args.suspended, old_settings)?;
    let data_dir = speedrackd::startup::resolve_data_dir(args.data_dir, &settings)?;
    let lock = DataDirLock::acquire(&data_dir)
        .context("import-history works on a stopped daemon's data dir only")?;
    let store = speedrackd::history::SqliteStore::open(&data_dir)?;
    let options = ImportOptions {
        jobs: sources.jobs,
        suspended: sources.suspended,
        time_zone: default_time_zone(&settings),
        fail_by_retcode: settings.fail_by_retcode,
        fail_by_stderr: settings.fail_by_stderr,
        output_max_bytes: settings.output_max_bytes,
    };
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut show = |progress: Progress| {
        if terminal {
            eprint!(
                "\rimporting: {} of {} executions",
                progress.done, progress.total
            );
        }
    };
    let summary = speedrackd::import::import_history(&lock, &store, &options, &mut show);
    if terminal {
        eprintln!();
    }
    let summary = summary?;
    // Not print!: a closed stdout (`| head`) must not panic after the import succeeded.
    std::io::Write::write_all(&mut std::io::stdout(), summary.to_string().as_bytes())
        .context("the import is done, but its summary could not be printed")?;
    Ok(ExitCode::SUCCESS)
}
