//! The daemon's files generated from its command line: shell completions and the man page,
//! committed under contrib/ and kept current by this test.

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use clap::CommandFactory;

    use crate::cli::Cli;

    fn expected() -> Vec<(PathBuf, Vec<u8>)> {
        let contrib = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../contrib");
        let mut files = Vec::new();
        for (shell, file) in [
            (clap_complete::Shell::Bash, "completions/speedrackd.bash"),
            (clap_complete::Shell::Zsh, "completions/_speedrackd"),
            (clap_complete::Shell::Fish, "completions/speedrackd.fish"),
        ] {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "speedrackd", &mut script);
            files.push((contrib.join(file), script));
        }
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut page)
            .expect("render the man page");
        files.push((contrib.join("man/speedrackd.1"), page));
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
                "{} is out of date: run SPEEDRACK_UPDATE_CONTRIB=1 cargo test -p speedrackd contrib",
                path.display()
            );
        }
    }
}
