//! Files generated from the command line's definition, printed for packagers: shell completions
//! (`completions SHELL`) and the man page (`man`). The copies under contrib/ are kept current by
//! a black-box test that runs these commands.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;

/// Writes the completion script for `shell` to stdout.
pub fn print_completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut script = Vec::new();
    crate::complete::registration(shell, &mut script)?;
    std::io::stdout().lock().write_all(&script)?;
    Ok(())
}

/// The sections of the man page beyond what clap knows, in roff; `--help` ends with the exit
/// codes in short.
const MAN_SECTIONS: &str = r#".SH ENVIRONMENT
.TP
\fBSPEEDRACK_SOCKET\fR
The daemon's socket, as \fB\-\-socket\fR gives it.
.TP
\fBSPEEDRACK_SYSTEM_SOCKET\fR
Where the system daemon's socket is looked for first (default
\fI/run/speedrack/speedrackd.sock\fR).
.TP
\fBCOMPLETE\fR
Set by the completion scripts: speedrackctl then prints completions for the words after
\fB\-\-\fR and exits.
.SH FILES
.TP
\fI/run/speedrack/speedrackd.sock\fR
The system daemon's socket, tried first when no socket is named; members of the settings'
\fBsocket_group\fR may use it.
.TP
\fI$XDG_RUNTIME_DIR/speedrack/speedrackd.sock\fR, \fI/tmp/speedrack\-$UID/speedrackd.sock\fR
A per\-user daemon's socket, tried when there is no system socket.
.SH SIGNALS
.TP
\fBSIGINT\fR, \fBSIGTERM\fR
End \fBwatch\fR, \fBoutput \-\-follow\fR and \fBrun\-now \-\-wait\fR at once; the run goes on in
the daemon (\fBkill\fR ends it).
.SH "EXIT STATUS"
.TP
\fB0\fR
Success; for \fBrun\-now \-\-wait\fR and \fBoutput \-\-follow\fR, the run succeeded.
.TP
\fB1\fR
The operation failed; for \fBrun\-now \-\-wait\fR and \fBoutput \-\-follow\fR, the run
ended otherwise, the reason on stderr.
.TP
\fB2\fR
Usage error.
.TP
\fB3\fR
speedrackd is unreachable.
.TP
\fB4\fR
No such task or run.
.TP
\fB5\fR
The socket exists but this user may not use it (not in its group).
.TP
\fB124\fR
\fBrun\-now \-\-wait\fR gave up waiting (\fB\-\-timeout\fR); the run goes on.
.SH "SEE ALSO"
\fBspeedrackd\fR(1), \fBspeedrack_tasks.yaml\fR(5)
"#;

/// Writes the man page (roff) to stdout.
pub fn print_man() -> anyhow::Result<()> {
    let page = speedrack_proto::man::page(Cli::command(), MAN_SECTIONS)?;
    std::io::stdout().lock().write_all(page.as_bytes())?;
    Ok(())
}
