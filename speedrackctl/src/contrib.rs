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

/// The sections a man page has beyond what clap knows, in roff; they take the place of the
/// "EXTRA" section clap makes of `--help`'s closing text (the exit codes).
const MAN_SECTIONS: &str = r#".SH ENVIRONMENT
.TP
\fBSPEEDRACK_SOCKET\fR
The daemon's socket, as \fB\-\-socket\fR gives it.
.TP
\fBCOMPLETE\fR
Set by the completion scripts: speedrackctl then prints completions for the words after
\fB\-\-\fR and exits.
.SH FILES
.TP
\fI/run/speedrack/speedrackd.sock\fR
The system daemon's socket (see \fB\-\-socket\fR for which default is used).
.TP
\fI$XDG_RUNTIME_DIR/speedrack/speedrackd.sock\fR, \fI/tmp/speedrack\-$UID/speedrackd.sock\fR
A per\-user daemon's socket.
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
\fB124\fR
\fBrun\-now \-\-wait\fR gave up waiting (\fB\-\-timeout\fR); the run goes on.
"#;

/// Writes the man page (roff) to stdout.
pub fn print_man() -> anyhow::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    let page = String::from_utf8(page)?;
    std::io::stdout()
        .lock()
        .write_all(with_sections(&page).as_bytes())?;
    Ok(())
}

/// `page` with its EXTRA section replaced by [`MAN_SECTIONS`]; unchanged if it has none.
fn with_sections(page: &str) -> String {
    let Some(start) = page.find(".SH EXTRA\n") else {
        return page.to_owned();
    };
    let end = page[start + 1..]
        .find("\n.SH ")
        .map_or(page.len(), |at| start + 1 + at + 1);
    format!("{}{MAN_SECTIONS}{}", &page[..start], &page[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn man_sections_replace_extra() {
        let page = ".SH SUBCOMMANDS\nx\n.SH EXTRA\nExit codes:\n.SH VERSION\nv1\n";
        let made = with_sections(page);
        assert!(
            made.starts_with(".SH SUBCOMMANDS\nx\n.SH ENVIRONMENT\n"),
            "{made}"
        );
        assert!(
            made.ends_with("the run goes on.\n.SH VERSION\nv1\n"),
            "{made}"
        );
        assert!(!made.contains("EXTRA"));
    }
}
