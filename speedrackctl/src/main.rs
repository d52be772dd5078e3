//! speedrackctl: the command-line client of speedrackd.
//!
//! Parses the command line, connects, reads the clock once, dispatches to `cmd/`, and turns the
//! outcome into an exit code; it does no rendering and holds no command logic.

mod cli;
mod cmd;
mod complete;
mod contrib;
mod exit;
mod render;

use std::process::ExitCode;

use clap::CommandFactory;
use cli::Cli;

fn main() -> ExitCode {
    // A shell asking for completions (COMPLETE set) is answered here, and the process ends.
    clap_complete::CompleteEnv::with_factory(Cli::command)
        .var(complete::VAR)
        .complete();
    let cli = Cli::parse_checked();
    // Chosen once, so that messages name the socket that was actually tried.
    let socket = speedrack_proto::choose_socket(cli.socket.clone());
    let shown_socket = match &socket {
        Ok(path) => path.clone(),
        Err(untrusted) => untrusted.path.clone(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(run(&cli, socket)),
        Err(err) => Err(anyhow::Error::new(err).context("cannot start speedrackctl's runtime")),
    };
    let outcome = match result {
        Ok(()) => return ExitCode::SUCCESS,
        Err(err) => exit::classify(&err, &shown_socket),
    };
    if let Some(message) = outcome.message {
        eprintln!("speedrackctl: {message}");
    }
    ExitCode::from(outcome.code)
}

#[allow(
    clippy::disallowed_methods,
    reason = "the ctl's one clock read, at its entry point"
)]
async fn run(
    cli: &Cli,
    socket: Result<std::path::PathBuf, speedrack_proto::UntrustedSocket>,
) -> anyhow::Result<()> {
    // Generated documentation needs no daemon.
    match &cli.command {
        cli::Command::Completions { shell } => return contrib::print_completions(*shell),
        cli::Command::Man => return contrib::print_man(),
        _ => {}
    }
    let socket = socket?;
    let client = speedrack_proto::connect(&socket).await?;
    let mut ctx = cmd::Context {
        client,
        socket,
        format: cli.format(),
        // The one clock read: every relative time in the output is measured from here.
        now: chrono::Utc::now(),
    };
    cmd::run(&cli.command, &mut ctx).await
}
