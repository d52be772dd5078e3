//! speedrackd's command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "speedrackd",
    version,
    about = "The speedrack daemon: runs scheduled tasks and keeps their history"
)]
#[command(args_conflicts_with_subcommands = true)]
#[command(
    after_help = "Exit status: 0 ok; 1 failed (for `check`: conf errors found); 2 usage;\n\
    78 a settings or tasks file is unusable.\n\
    Without --tasks or the settings' tasks_file, `run` starts the demo tasks with state in a\n\
    fresh temporary directory."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options for `run`, accepted without the subcommand name too.
    #[command(flatten)]
    pub run: RunArgs,
    /// Log line format: text (journald's form when stderr is the journal), or json lines
    #[arg(long, global = true, env = speedrack_web::logging::LOG_FORMAT_ENV,
        value_parser = speedrack_web::logging::LOG_FORMAT_NAMES, default_value = "text")]
    pub log_format: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon (the default).
    Run(RunArgs),
    /// Validate the settings and tasks files, show each task's next fire, list conf errors.
    Check(CheckArgs),
    /// Print the next fire times of a schedule, one RFC 3339 timestamp per line.
    Schedule(ScheduleArgs),
    /// Write commented settings and a tasks file that runs nothing yet into DIR (the current
    /// directory by default); --demo writes the demo tasks instead.
    Init(InitArgs),
    /// Read a password on stdin and print its argon2 hash, for web.users in the settings.
    HashPassword,
    /// Import Speedrack 0.6.1's run history and suspended tasks (daemon stopped; see MIGRATING.md).
    ImportHistory(ImportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff).
    Man,
}

#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// Where to write speedrack_settings.yaml and speedrack_tasks.yaml [default: the current
    /// directory, as Speedrack 0.6.1's `init` did].
    pub dir: Option<PathBuf>,
    /// Overwrite files that exist.
    #[arg(long)]
    pub force: bool,
    /// Make the files readable by this group (tasks file 0640 instead of 0600).
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// Write the demo tasks (some fail on purpose, three are conf errors) instead of the
    /// skeleton whose examples are commented out.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Settings file (0.6.1's .py works), for `timezone`, `output_max_bytes`, `fail_by_*`,
    /// `data_dir` and where 0.6.1's state is (JOB_ROOT_DIR, SUSPENDED_FILE, SPEEDRACK_DIR).
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Speedrack 0.6.1's job directory [default: the settings' JOB_ROOT_DIR, by default
    /// SPEEDRACK_DIR/jobs].
    #[arg(long, value_name = "DIR")]
    pub jobs: Option<PathBuf>,
    /// Its suspended-tasks file [default: the settings' SUSPENDED_FILE, else
    /// speedrack.suspended beside DIR/jobs].
    #[arg(long, value_name = "FILE")]
    pub suspended: Option<PathBuf>,
    /// The stopped daemon's data dir [default: as for `run`].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Args)]
pub struct RunArgs {
    /// Settings file: YAML, or Speedrack 0.6.1's Python settings when it ends in .py; all
    /// defaults when absent.
    #[arg(long, short = 's', value_name = "FILE", alias = "settings_file")]
    pub settings: Option<PathBuf>,
    /// Tasks file (YAML) [default: the settings' tasks_file (0.6.1's CONFIG_YAML), else demo
    /// mode].
    #[arg(long, short = 'y', value_name = "FILE", aliases = ["yaml", "yaml_file"])]
    pub tasks: Option<PathBuf>,
    /// API socket path [default: /run/speedrack/speedrackd.sock for root,
    /// $XDG_RUNTIME_DIR/speedrack/speedrackd.sock otherwise].
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Where history and run output are kept [default: /var/lib/speedrack for root,
    /// $XDG_STATE_HOME/speedrack otherwise].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where the web UI listens [default: the settings' `listen`, 127.0.0.1:8118].
    #[arg(long, value_name = "ADDR", conflicts_with = "port")]
    pub listen: Option<std::net::SocketAddr>,
    /// The web UI's port, on the address of the settings' `listen` (0.6.1's `run --port`).
    #[arg(long, short = 'p', value_name = "N")]
    pub port: Option<u16>,
    /// Do not serve the web UI (run `speedrack-web` separately, or not at all).
    #[arg(long)]
    pub no_web: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Settings file: YAML, or Speedrack 0.6.1's Python settings when it ends in .py; all
    /// defaults when absent.
    #[arg(long, short = 's', value_name = "FILE", alias = "settings_file")]
    pub settings: Option<PathBuf>,
    /// Tasks file (YAML) [default: the settings' tasks_file (0.6.1's CONFIG_YAML)].
    #[arg(long, short = 'y', value_name = "FILE", aliases = ["yaml", "yaml_file"])]
    pub tasks: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
#[command(group = clap::ArgGroup::new("schedule").required(true).args(["cron", "interval"]))]
pub struct ScheduleArgs {
    /// A cron schedule: a crontab text ('*/5 * * * *', '@daily') or a YAML mapping ('{day_of_week: 2, hour: 23}').
    #[arg(long, value_name = "VALUE")]
    pub cron: Option<String>,
    /// An interval like 21s or 1h10m (units M w d h m s).
    #[arg(long, value_name = "VALUE")]
    pub interval: Option<String>,
    /// IANA time zone for cron schedules [default: the settings' `timezone`, else the system's].
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Fires strictly after this instant (RFC 3339) [default: now].
    #[arg(long, value_name = "RFC3339")]
    pub from: Option<String>,
    /// How many fires to print.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub count: usize,
    /// Settings file, for its `timezone`.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
}
