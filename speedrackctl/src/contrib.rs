//! Files generated from the command line's definition: shell completions and the man page.
//! `completions SHELL` prints them; a test keeps the copies under contrib/ current.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;

/// Writes the completion script for `shell` to stdout.
pub fn print_completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "speedrackctl", &mut script);
    std::io::stdout().lock().write_all(&script)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// The files under contrib/ and what they must contain.
    fn expected() -> Vec<(PathBuf, Vec<u8>)> {
        let contrib = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../contrib");
        let mut files = Vec::new();
        for (shell, file) in [
            (clap_complete::Shell::Bash, "completions/speedrackctl.bash"),
            (clap_complete::Shell::Zsh, "completions/_speedrackctl"),
            (clap_complete::Shell::Fish, "completions/speedrackctl.fish"),
        ] {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "speedrackctl", &mut script);
            files.push((contrib.join(file), script));
        }
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut page)
            .expect("render the man page");
        files.push((contrib.join("man/speedrackctl.1"), page));
        files
    }

    #[test]
    fn contrib_completions_and_man_page_are_current() {
        let update = std::env::var_os("SPEEDRACK_UPDATE_CONTRIB").is_some();
        for (path, content) in expected() {
            if update {
                std::fs::create_dir_all(path.parent().expect("a folder")).expect("create");
                std::fs::write(&path, &content).expect("write");
            }
            let committed = std::fs::read(&path).unwrap_or_default();
            assert!(
                committed == content,
                "{} is out of date: run SPEEDRACK_UPDATE_CONTRIB=1 cargo test -p speedrackctl contrib",
                path.display()
            );
        }
    }
}
