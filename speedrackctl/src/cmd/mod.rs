//! The subcommands, one file each: call the daemon, then print what a pure renderer made of
//! the reply.
//!
//! Shared here: the context every command gets, the dispatch, and writing to stdout. Exit
//! codes are not decided here; commands return errors and `main` maps them.

mod events;
mod kill;
mod next;
mod nodes;
mod output;
mod reload;
mod run_now;
mod runs;
mod show;
mod status;
mod suspend;
mod tasks;
mod test_notify;
mod wait;
mod watch;

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use speedrack_proto::v1::speedrack_client::SpeedrackClient;
use tonic::transport::Channel;

use crate::cli::Command;

/// How read commands print their result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned text for people.
    Text,
    /// One JSON document for scripts.
    Json,
}

/// What every command gets.
pub struct Context {
    /// The connected daemon.
    pub client: SpeedrackClient<Channel>,
    /// Where it was reached, for commands that reconnect after it restarts.
    pub socket: PathBuf,
    pub format: Format,
    /// When this invocation started; relative times are measured from it.
    pub now: DateTime<Utc>,
}

/// Runs one subcommand.
pub async fn run(command: &Command, ctx: &mut Context) -> anyhow::Result<()> {
    match command {
        Command::Status => status::run(ctx).await,
        Command::Tasks => tasks::run(ctx).await,
        Command::Runs(args) => runs::run(ctx, args).await,
        Command::Output(args) => output::run(ctx, args).await,
        Command::RunNow(args) => run_now::run(ctx, args).await,
        Command::Show { task } => show::run(ctx, task).await,
        Command::Watch { utc } => watch::run(ctx, *utc).await,
        Command::Suspend { task } => suspend::suspend(ctx, task).await,
        Command::Resume { task } => suspend::resume(ctx, task).await,
        Command::Reload => reload::run(ctx).await,
        Command::Kill { task } => kill::run(ctx, task).await,
        // Answered in main, before connecting: completions need no daemon.
        Command::Completions { .. } | Command::Man => Ok(()),
        Command::TestNotify { task } => test_notify::run(ctx, task).await,
        Command::Next { task, count } => next::run(ctx, task, *count).await,
        Command::Nodes => nodes::run(ctx).await,
    }
}

/// Prints text meant for people, as rendered.
fn print_text(text: &str) -> anyhow::Result<()> {
    write_stdout(text.as_bytes())
}

/// Prints one JSON document, pretty, with a final newline.
fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)? + "\n";
    write_stdout(text.as_bytes())
}

/// Writes to stdout, returning errors (a closed pipe included) where `print!` would panic.
fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()?;
    Ok(())
}

/// A message field of a reply that the contract says is always set.
fn required<T>(field: Option<T>, what: &str) -> anyhow::Result<T> {
    field.with_context(|| {
        format!(
            "speedrackd's reply has no {what}; check that speedrackd and speedrackctl are the \
             same version"
        )
    })
}
