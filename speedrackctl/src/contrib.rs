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

/// Writes the man page (roff) to stdout.
pub fn print_man() -> anyhow::Result<()> {
    clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout().lock())?;
    Ok(())
}
