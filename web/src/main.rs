//! `speedrack-web`: the web gateway as its own process, for when speedrackd does not host it.
//!
//! Parses arguments, binds, logs the address it listens on (tests read that line), and calls
//! `speedrack_web::serve` until SIGINT or SIGTERM. Exit codes: 0 stopped cleanly, 1 failed,
//! 2 usage error (clap).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};
use speedrack_web::origin::{GatewayOrigin, Source};
use speedrack_web::{GatewayConfig, logging};

/// Serve the speedrack web UI over speedrackd's API.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// speedrackd's socket [default: $SPEEDRACK_SOCKET, else the system daemon's socket, else
    /// the per-user default path]
    #[arg(long, env = speedrack_proto::SOCKET_ENV)]
    socket: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free one); not loopback only with web.auth set
    #[arg(long, default_value = "127.0.0.1:8118")]
    listen: SocketAddr,
    /// speedrackd's settings file, for its `web:` section (authentication, connection limits)
    /// and `metrics.token_file`
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// File holding the key that signs CSRF tokens (made, mode 0600, if missing); without it a
    /// new key is drawn at every start, and forms of pages opened before fail once
    #[arg(long, value_name = "FILE")]
    csrf_key: Option<PathBuf>,
    /// Log line format: text (journald's form when stderr is the journal), or json lines
    #[arg(long, env = logging::LOG_FORMAT_ENV, value_parser = logging::LOG_FORMAT_NAMES,
        default_value = "text")]
    log_format: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let matches = Args::command().get_matches();
    let args = match Args::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(error) => error.exit(),
    };
    let origin = GatewayOrigin {
        listen: source(&matches, "listen"),
        socket: source(&matches, "socket"),
    };
    logging::init(logging::LogFormat::from_name(&args.log_format));
    match run(args, origin).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("speedrack-web: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Where clap found the argument `id`, for the config page.
fn source(matches: &ArgMatches, id: &str) -> Option<Source> {
    Some(match matches.value_source(id) {
        Some(ValueSource::CommandLine) => Source::Flag,
        Some(ValueSource::EnvVariable) => Source::Environment,
        // No socket given: `choose_socket` applies the discovery rule.
        Some(ValueSource::DefaultValue) | None => Source::Default,
        Some(_) => return None,
    })
}

async fn run(args: Args, origin: GatewayOrigin) -> anyhow::Result<()> {
    let socket = speedrack_proto::choose_socket(args.socket)?;
    let (web, metrics) = match &args.settings {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let in_file = |error| anyhow::anyhow!("{}: {error}", path.display());
            (
                speedrack_web::auth::web_settings_from_yaml(&text).map_err(in_file)?,
                speedrack_web::metrics_access::metrics_settings_from_yaml(&text)
                    .map_err(in_file)?,
            )
        }
        None => Default::default(),
    };
    // metrics.listen is speedrackd's to serve; the gateway honours the token on its own port.
    let metrics_token = metrics.token()?;
    let auth = web.auth().map_err(|error| anyhow::anyhow!(error))?;
    anyhow::ensure!(
        args.listen.ip().is_loopback() || !matches!(auth, speedrack_web::auth::Auth::None),
        "refusing to serve on {}: not a loopback address, and no web.auth in the settings",
        args.listen
    );
    let csrf_key = match &args.csrf_key {
        Some(path) => speedrack_web::secret::CsrfKey::load_or_create(path)?,
        None => speedrack_web::secret::CsrfKey::random(),
    };
    speedrack_web::limits::raise_nofile_limit();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {} (is the port in use?)", args.listen))?;
    let address = listener
        .local_addr()
        .context("the listener has no address")?;
    tracing::info!(
        "speedrack-web listening on http://{address} (speedrackd at {})",
        socket.display()
    );
    let config = GatewayConfig {
        socket,
        auth,
        limits: web.limits(),
        csrf_key,
        metrics_token,
        origin,
    };
    speedrack_web::serve(config, listener, stop_signal()).await?;
    Ok(())
}

/// Completes on SIGINT or SIGTERM; if the handlers cannot be installed, never.
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
}
