//! Log set-up of both binaries, speedrackd and speedrack-web: where their lines go and in what
//! form. It lives here because speedrackd already links this crate, and clients depend on no
//! daemon code. It does not decide what is logged nor at which level, except that the
//! housekeeping scheduler's start-up chatter is left to debug.
//!
//! Forms: coloured text on a terminal (unless NO_COLOR is set), plain text on anything else,
//! journald's stream form (`<N>` priority prefix, no timestamp: the journal adds its own) when
//! stderr is the stream systemd names in JOURNAL_STREAM, and JSON lines on request.

use std::ffi::OsStr;
use std::fmt;
use std::os::unix::fs::MetadataExt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The variable that chooses the line format, beside the binaries' `--log-format`.
pub const LOG_FORMAT_ENV: &str = "SPEEDRACK_LOG_FORMAT";

/// The format names `--log-format` accepts.
pub const LOG_FORMAT_NAMES: [&str; 2] = ["text", "json"];

/// Without RUST_LOG, info.
const DEFAULT_FILTER: &str = "info";

/// Libraries whose info lines tell an operator nothing, heard only when asked for debug or by
/// name: tokio-cron-scheduler (the hourly sweep's clock) says it was created and started;
/// tokio-postgres passes on every NOTICE the server sends ("relation already exists").
const QUIET_TARGETS: [&str; 2] = ["tokio_cron_scheduler", "tokio_postgres"];

/// The line format asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Text for people; journald's form when stderr is the journal.
    #[default]
    Text,
    /// One JSON object a line, with `timestamp`, `level`, `message`, `target` and the fields.
    Json,
}

impl LogFormat {
    /// `name` is one of [`LOG_FORMAT_NAMES`]; anything else is text (clap has refused it).
    pub fn from_name(name: &str) -> Self {
        if name == "json" {
            Self::Json
        } else {
            Self::Text
        }
    }
}

/// How lines are written, once the format and stderr are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Text { ansi: bool },
    Journal,
    Json,
}

/// Installs the global subscriber on stderr; the filter comes from RUST_LOG.
pub fn init(format: LogFormat) {
    let stderr = std::io::stderr();
    let output = choose(
        format,
        std::env::var_os("JOURNAL_STREAM").as_deref(),
        stderr_identity(),
        std::io::IsTerminal::is_terminal(&stderr),
        std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty()),
    );
    let rust_log = std::env::var(EnvFilter::DEFAULT_ENV).ok();
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| DEFAULT_FILTER.into());
    for target in QUIET_TARGETS {
        if quiet(target, rust_log.as_deref()) {
            let directive = format!("{target}=warn")
                .parse()
                .expect("a constant directive parses");
            filter = filter.add_directive(directive);
        }
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match output {
        Output::Text { ansi } => builder.with_ansi(ansi).init(),
        Output::Journal => builder
            .with_ansi(false)
            .event_format(Prioritised(
                tracing_subscriber::fmt::format()
                    .without_time()
                    .with_level(false),
            ))
            .init(),
        Output::Json => builder.with_ansi(false).json().flatten_event(true).init(),
    }
}

fn choose(
    format: LogFormat,
    journal_stream: Option<&OsStr>,
    stderr: Option<(u64, u64)>,
    terminal: bool,
    no_color: bool,
) -> Output {
    if format == LogFormat::Json {
        return Output::Json;
    }
    let journal = journal_stream
        .and_then(OsStr::to_str)
        .and_then(parse_journal_stream);
    if journal.is_some() && journal == stderr {
        return Output::Journal;
    }
    Output::Text {
        ansi: terminal && !no_color,
    }
}

/// Whether to hold `target`'s chatter back: yes, unless RUST_LOG names it or asks for debug
/// or trace everywhere.
fn quiet(target: &str, rust_log: Option<&str>) -> bool {
    let Some(rust_log) = rust_log else {
        return true;
    };
    !rust_log.split(',').map(str::trim).any(|directive| {
        directive.contains(target)
            || ["debug", "trace"].contains(&directive.to_ascii_lowercase().as_str())
    })
}

/// `DEV:INODE`, both decimal, as systemd sets JOURNAL_STREAM (systemd.exec(5)).
fn parse_journal_stream(text: &str) -> Option<(u64, u64)> {
    let (device, inode) = text.split_once(':')?;
    Some((device.parse().ok()?, inode.parse().ok()?))
}

/// Device and inode of what fd 2 is open on; a duplicate of it is enough to ask.
fn stderr_identity() -> Option<(u64, u64)> {
    use std::os::fd::AsFd;
    let fd = std::io::stderr().as_fd().try_clone_to_owned().ok()?;
    let metadata = std::fs::File::from(fd).metadata().ok()?;
    Some((metadata.dev(), metadata.ino()))
}

/// syslog's priority of a level, which journald reads from a `<N>` line prefix (sd-daemon(3)).
fn priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

/// Another event format behind journald's priority prefix.
struct Prioritised<F>(F);

impl<S, N, F> FormatEvent<S, N> for Prioritised<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "<{}>", priority(*event.metadata().level()))?;
        self.0.format_event(ctx, writer.by_ref(), event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STDERR: Option<(u64, u64)> = Some((64769, 1234));

    #[test]
    fn the_journal_only_when_it_is_stderr() {
        let journal = |variable: &str| {
            choose(
                LogFormat::Text,
                Some(OsStr::new(variable)),
                STDERR,
                false,
                false,
            )
        };
        assert_eq!(journal("64769:1234"), Output::Journal);
        for other in ["64769:1235", "1:1234", "64769", "", "x:y", "64769:1234:0"] {
            assert_eq!(journal(other), Output::Text { ansi: false }, "{other:?}");
        }
        assert_eq!(
            choose(LogFormat::Text, None, STDERR, false, false),
            Output::Text { ansi: false }
        );
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        let text = |terminal, no_color| choose(LogFormat::Text, None, STDERR, terminal, no_color);
        assert_eq!(text(true, false), Output::Text { ansi: true });
        assert_eq!(text(true, true), Output::Text { ansi: false });
        assert_eq!(text(false, false), Output::Text { ansi: false });
    }

    #[test]
    fn json_when_asked_even_in_the_journal() {
        assert_eq!(
            choose(
                LogFormat::Json,
                Some(OsStr::new("64769:1234")),
                STDERR,
                true,
                false
            ),
            Output::Json
        );
        assert_eq!(LogFormat::from_name("json"), LogFormat::Json);
        assert_eq!(LogFormat::from_name("text"), LogFormat::Text);
    }

    #[test]
    fn chatty_libraries_are_heard_only_at_debug_or_by_name() {
        for target in QUIET_TARGETS {
            for rust_log in [None, Some("info"), Some("warn,speedrackd=debug"), Some("")] {
                assert!(quiet(target, rust_log), "{target} {rust_log:?}");
            }
            let by_name = format!("info,{target}=info");
            for heard in ["debug", "TRACE", by_name.as_str()] {
                assert!(!quiet(target, Some(heard)), "{target} {heard}");
            }
        }
        assert!(quiet("tokio_postgres", Some("tokio_cron_scheduler=info")));
    }

    #[test]
    fn journal_priorities_are_syslogs() {
        assert_eq!(
            [Level::ERROR, Level::WARN, Level::INFO, Level::DEBUG].map(priority),
            [3, 4, 6, 7]
        );
    }
}
