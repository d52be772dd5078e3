//! speedrackd's command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "speedrackd",
    version,
    about = "The speedrack daemon: runs scheduled tasks and keeps their history"
)]
#[command(
    after_help = "Exit status: 0 stopped normally, 1 failed while running, 78 invalid configuration.\n\
    Without --tasks, speedrackd runs the demo tasks with state in a fresh temporary directory."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options for `run`, accepted without the subcommand name too.
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon (the default).
    Run(RunArgs),
}

#[derive(Debug, Clone, Default, Args)]
pub struct RunArgs {
    /// Settings file (YAML); all defaults when absent.
    #[arg(long, value_name = "FILE", global = true)]
    pub settings: Option<PathBuf>,
    /// Tasks file (YAML); demo mode when absent.
    #[arg(long, value_name = "FILE", global = true)]
    pub tasks: Option<PathBuf>,
    /// API socket path [default: /run/speedrack/speedrackd.sock for root,
    /// $XDG_RUNTIME_DIR/speedrack/speedrackd.sock otherwise].
    #[arg(long, value_name = "PATH", global = true)]
    pub socket: Option<PathBuf>,
    /// Where history and run output are kept [default: /var/lib/speedrack for root,
    /// $XDG_STATE_HOME/speedrack otherwise].
    #[arg(long, value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
}
