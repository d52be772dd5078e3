//! Files generated from the command line's definition, printed for packagers: shell completions
//! (`completions SHELL`) and the man page (`man`). The copies under contrib/ are kept current by
//! a black-box test that runs these commands.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::Cli;

pub fn print_completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "speedrackd", &mut script);
    std::io::stdout().lock().write_all(&script)?;
    Ok(ExitCode::SUCCESS)
}

/// The sections of the man page beyond what clap knows, in roff; `--help` ends with the exit
/// codes in short.
const MAN_SECTIONS: &str = r#".SH FILES
.TP
\fI/etc/speedrack/speedrack_settings.yaml\fR
The system service's settings (\fB\-\-settings\fR); the commented sample in
\fI/usr/share/doc/speedrack/examples/\fR documents every key. A settings file ending in \fI.py\fR
is read as Speedrack 0.6.1's, never executed.
.TP
\fI/etc/speedrack/speedrack_tasks.yaml\fR
The tasks (\fB\-\-tasks\fR, or the settings' \fBtasks_file\fR); see \fBspeedrack_tasks.yaml\fR(5).
.TP
\fI/var/lib/speedrack/\fR
The data dir of a daemon run by root (\fB\-\-data\-dir\fR); others use
\fI$XDG_STATE_HOME/speedrack\fR or \fI~/.local/state/speedrack\fR. It holds
\fIhistory.sqlite3\fR, each run's output under \fIruns/TASK/RUN_ID/\fR, the lock file
\fIspeedrackd.lock\fR with the daemon's pid, and the key that signs the web UI's forms.
.TP
\fI/run/speedrack/speedrackd.sock\fR
The API socket of a daemon run by root (\fB\-\-socket\fR); others use
\fI$XDG_RUNTIME_DIR/speedrack/speedrackd.sock\fR, else \fI/tmp/speedrack\-$UID/speedrackd.sock\fR.
.SH ENVIRONMENT
.TP
\fBSPEEDRACK_SOCKET\fR
The socket, as \fB\-\-socket\fR gives it.
.TP
\fBSPEEDRACK_LOG_FORMAT\fR
\fBtext\fR or \fBjson\fR, as \fB\-\-log\-format\fR gives it.
.TP
\fBRUST_LOG\fR
Which log lines are written (default \fBinfo\fR; \fBdebug\fR adds each fire and notification).
.TP
\fBNO_COLOR\fR, \fBJOURNAL_STREAM\fR
Logs are coloured only on a terminal and without \fBNO_COLOR\fR; with stderr connected to the
journal (\fBJOURNAL_STREAM\fR names it), lines carry journald priorities and no timestamps.
.TP
\fBXDG_STATE_HOME\fR, \fBXDG_RUNTIME_DIR\fR, \fBHOME\fR
Where a daemon not run by root keeps its data dir and socket.
.PP
Runs do not inherit the daemon's environment: each gets \fBPATH\fR, \fBSHELL\fR, \fBHOME\fR,
\fBUSER\fR, \fBLOGNAME\fR, \fBLANG\fR, \fBLC_ALL\fR, \fBTZ\fR, the task's \fBenv\fR, and
\fBSPEEDRACK_TASK\fR, \fBSPEEDRACK_RUN_ID\fR, \fBSPEEDRACK_TRIGGER\fR,
\fBSPEEDRACK_SCHEDULED_AT\fR and \fBSPEEDRACK_DATA_DIR\fR.
.SH SIGNALS
.TP
\fBSIGHUP\fR
Reload the settings and tasks files (as \fBspeedrackctl reload\fR and \fBsystemctl reload
speedrackd\fR). Both are validated first; with an error, the running configuration stays.
.TP
\fBSIGTERM\fR, \fBSIGINT\fR
Stop firing, give running tasks the settings' \fBshutdown_grace\fR (30 s), then end them as
\fBspeedrackctl kill\fR does, recorded as killed by \fIshutdown\fR, and exit 0.
.TP
\fBSIGKILL\fR
Nothing is lost: the next start closes the runs that were in flight as \fIinterrupted\fR and
kills their processes if they still run.
.SH "EXIT STATUS"
.TP
\fB0\fR
Success; \fBcheck\fR found no conf errors.
.TP
\fB1\fR
Failure; \fBcheck\fR found conf errors, or a run could not be served.
.TP
\fB2\fR
Usage error.
.TP
\fB78\fR
A settings or tasks file is unusable, another daemon holds the data dir, or the web UI or
\fB/metrics\fR would be served beyond loopback without authentication (systemd does not restart
on it).
.SH "SEE ALSO"
\fBspeedrackctl\fR(1), \fBspeedrack_tasks.yaml\fR(5)
"#;

pub fn print_man() -> anyhow::Result<ExitCode> {
    let page = speedrack_proto::man::page(Cli::command(), MAN_SECTIONS)?;
    std::io::stdout().lock().write_all(page.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
