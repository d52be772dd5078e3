//! The command line: flags, subcommands and their arguments, as clap derive structs.
//!
//! Parsing and usage errors only (clap exits with 2 on those). What a command does lives in
//! `cmd/`; how failures become exit codes lives in `exit.rs`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand, error::ErrorKind};
use clap_complete::ArgValueCandidates;
use speedrack_proto::v1::OutputStream;

use crate::cmd::Format;
use crate::complete;
use crate::exit::EXIT_CODES_HELP;

/// Where `--help` lists the flags that every subcommand accepts.
const GLOBAL: &str = "Global options";

/// Command-line client of speedrackd, the speedrack cron daemon.
#[derive(Debug, Parser)]
#[command(name = "speedrackctl", version, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// The daemon's Unix socket [default: the system daemon's /run/speedrack/speedrackd.sock
    /// when it is there (unless you may not use it and have a daemon of your own), else
    /// $XDG_RUNTIME_DIR/speedrack/speedrackd.sock or /tmp/speedrack-$UID/speedrackd.sock; a
    /// default socket owned by neither root nor you is refused]
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        value_name = "PATH",
        env = speedrack_proto::SOCKET_ENV
    )]
    pub socket: Option<PathBuf>,

    /// Print one JSON document instead of text (not with `output`, which writes raw bytes)
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// What to ask the daemon.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the daemon's version, paths and task counts
    Status,
    /// List every task with its status, schedule, next and last run
    Tasks,
    /// List the runs of a task, newest first
    Runs(RunsArgs),
    /// Write a run's stdout (or stderr, or speedrack's error text) to stdout, raw
    Output(OutputArgs),
    /// Start a run of a task now; its schedule does not move
    RunNow(RunNowArgs),
    /// Stop the scheduled runs of a task until `resume`
    Suspend {
        /// The task's name
        #[arg(add = ArgValueCandidates::new(complete::task_names))]
        task: String,
    },
    /// Restart the scheduled runs of a suspended task
    Resume {
        /// The task's name
        #[arg(add = ArgValueCandidates::new(complete::task_names))]
        task: String,
    },
    /// Re-read the settings and tasks files and show what changed (on every node, among several)
    Reload,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell); it completes task
    /// names and run ids by asking speedrackd, and nothing when speedrackd is down
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    Man,
    /// Send a test notification for a task through every configured channel
    TestNotify {
        /// The task's name
        #[arg(add = ArgValueCandidates::new(complete::task_names))]
        task: String,
    },
    /// End a task's running runs (SIGTERM to their process groups, SIGKILL after the kill grace),
    /// on every node among several
    Kill {
        /// The task's name
        #[arg(add = ArgValueCandidates::new(complete::task_names))]
        task: String,
    },
    /// Show a task: its definition, schedule, next fire times and last runs
    Show {
        /// The task's name
        #[arg(add = ArgValueCandidates::new(complete::task_names))]
        task: String,
    },
    /// Print events as they happen (runs starting and ending, tasks changing, reloads), one a
    /// line, until Ctrl-C; with --json, one JSON document a line
    Watch {
        /// Show times in UTC rather than the local time zone
        #[arg(long)]
        utc: bool,
    },
    /// Show the next fire times of a task, one RFC 3339 timestamp per line
    Next {
        /// The task's name
        #[arg(add = ArgValueCandidates::new(complete::task_names))]
        task: String,
        /// How many fire times to show
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
        count: u32,
    },
    /// List the nodes sharing the daemon's store (itself alone on SQLite): up, runs in flight,
    /// version, tasks file hash, clock offset, lease, and what is wrong with any
    Nodes,
}

/// Arguments of `runs`.
#[derive(Debug, clap::Args)]
pub struct RunsArgs {
    /// The task's name
    #[arg(add = ArgValueCandidates::new(complete::task_names))]
    pub task: String,

    /// Show at most this many runs
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,

    /// Show the runs older than a previous page (the token printed below it)
    #[arg(long, value_name = "TOKEN")]
    pub before_token: Option<String>,

    /// Show start times in UTC rather than the local time zone
    #[arg(long)]
    pub utc: bool,
}

/// The longest wait `--timeout` allows, and the bound when it is not given.
const MAX_WAIT: Duration = Duration::from_secs(7 * 86_400);

/// Arguments of `run-now`.
#[derive(Debug, clap::Args)]
pub struct RunNowArgs {
    /// The task's name
    #[arg(add = ArgValueCandidates::new(complete::task_names))]
    pub task: String,

    /// Wait until the run ends (a queued run: until it starts, then ends) and exit with its
    /// outcome: 0 success, 1 any other end, with the reason on stderr
    #[arg(long)]
    pub wait: bool,

    /// With --wait, give up waiting after this long (e.g. 90s, 10m, 2h; at most 7d) and exit
    /// with 124; the run goes on [default: 7d]
    #[arg(long, requires = "wait", value_name = "DURATION", value_parser = wait_limit)]
    pub timeout: Option<Duration>,
}

impl RunNowArgs {
    /// How long `--wait` waits at most.
    pub fn wait_limit(&self) -> Duration {
        self.timeout.unwrap_or(MAX_WAIT)
    }
}

/// "90", "90s", "10m", "2h", "1d": a whole number with an optional unit, up to [`MAX_WAIT`].
fn wait_limit(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit_secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit {unit:?}: use s, m, h or d")),
    };
    let secs = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_secs))
        .filter(|secs| (1..=MAX_WAIT.as_secs()).contains(secs))
        .ok_or_else(|| format!("{text:?} is not a duration from 1s to 7d, like 90s or 10m"))?;
    Ok(Duration::from_secs(secs))
}

/// Arguments of `output`.
#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    /// The task's name
    #[arg(add = ArgValueCandidates::new(complete::task_names))]
    pub task: String,

    /// The run's id (default: the newest run of the task)
    #[arg(add = ArgValueCandidates::new(complete::run_ids))]
    pub run: Option<i64>,

    /// Write the run's stderr instead of its stdout
    #[arg(long)]
    pub stderr: bool,

    /// Write speedrack's own text about the run (why it could not start, what it killed)
    #[arg(long, conflicts_with = "stderr")]
    pub op_error: bool,

    /// Keep writing the output as the run writes it, until the run ends; then exit with its
    /// outcome as `run-now --wait` does
    #[arg(long, short = 'f')]
    pub follow: bool,
}

impl OutputArgs {
    /// The stream the flags select.
    pub fn stream(&self) -> OutputStream {
        match (self.stderr, self.op_error) {
            (true, _) => OutputStream::Stderr,
            (false, true) => OutputStream::OpError,
            (false, false) => OutputStream::Stdout,
        }
    }
}

impl Cli {
    /// Text unless `--json` was given.
    pub fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            Format::Text
        }
    }

    /// Parses the process arguments; on a usage error prints it and exits with 2, like clap.
    pub fn parse_checked() -> Self {
        let cli = Self::parse();
        // `--json` is global so that it can follow the subcommand, which means clap cannot
        // refuse it for `output` by itself.
        if cli.json && matches!(cli.command, Command::Output(_)) {
            Self::command()
                .error(
                    ErrorKind::ArgumentConflict,
                    "--json cannot be used with output, which writes the run's raw bytes",
                )
                .exit();
        }
        cli
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("speedrackctl").chain(args.iter().copied()))
    }

    #[test]
    fn global_flags_may_follow_the_subcommand() {
        let cli = parse(&["tasks", "--json", "--socket", "/tmp/s.sock"]).expect("valid");
        assert!(cli.json);
        assert_eq!(cli.socket, Some(PathBuf::from("/tmp/s.sock")));
    }

    #[test]
    fn output_stream_flags() {
        let check = |args: &[&str], expected: OutputStream| {
            let cli = parse(args).expect("valid");
            let Command::Output(output) = cli.command else {
                panic!("not output: {args:?}");
            };
            assert_eq!(output.stream(), expected, "{args:?}");
        };
        check(&["output", "t"], OutputStream::Stdout);
        check(&["output", "t", "3", "--stderr"], OutputStream::Stderr);
        check(&["output", "t", "--op-error"], OutputStream::OpError);
        assert!(parse(&["output", "t", "--stderr", "--op-error"]).is_err());
    }

    #[test]
    fn wait_limits() {
        let check = |text: &str, expected: Option<u64>| {
            assert_eq!(
                wait_limit(text).ok(),
                expected.map(Duration::from_secs),
                "{text}"
            );
        };
        check("90", Some(90));
        check("90s", Some(90));
        check("10m", Some(600));
        check("2h", Some(7200));
        check("7d", Some(7 * 86_400));
        check("8d", None);
        check("0s", None);
        check("5x", None);
        check("m", None);
        check("-5s", None);
        check("99999999999999999999d", None);
        assert!(parse(&["run-now", "t", "--timeout", "5s"]).is_err());
        let cli = parse(&["run-now", "t", "--wait", "--timeout", "5s"]).expect("valid");
        let Command::RunNow(args) = cli.command else {
            panic!("not run-now");
        };
        assert_eq!(args.wait_limit(), Duration::from_secs(5));
    }

    #[test]
    fn runs_limit_is_bounded() {
        let cli = parse(&["runs", "t"]).expect("valid");
        let Command::Runs(runs) = cli.command else {
            panic!("not runs");
        };
        assert_eq!(runs.limit, 20);
        assert!(parse(&["runs", "t", "--limit", "0"]).is_err());
        assert!(parse(&["runs", "t", "--limit", "1001"]).is_err());
    }
}
