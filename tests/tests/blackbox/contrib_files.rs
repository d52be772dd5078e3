//! The completions and man pages under contrib/ are what the binaries generate now.
//! `SPEEDRACK_UPDATE_CONTRIB=1 cargo test -p speedrack-tests contrib_files` refreshes them.

use std::path::PathBuf;
use std::process::Command;

use speedrack_tests::binary;

#[test]
fn contrib_completions_and_man_pages_are_current() {
    let contrib = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../contrib");
    let update = std::env::var_os("SPEEDRACK_UPDATE_CONTRIB").is_some();
    for program in ["speedrackd", "speedrackctl"] {
        let files = [
            (
                vec!["completions", "bash"],
                format!("completions/{program}.bash"),
            ),
            (
                vec!["completions", "zsh"],
                format!("completions/_{program}"),
            ),
            (
                vec!["completions", "fish"],
                format!("completions/{program}.fish"),
            ),
            (vec!["man"], format!("man/{program}.1")),
        ];
        for (args, file) in files {
            let output = Command::new(binary(program))
                .args(&args)
                .output()
                .expect("runs");
            assert!(
                output.status.success(),
                "{program} {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let path = contrib.join(&file);
            if update {
                std::fs::write(&path, &output.stdout).expect("write");
            }
            let committed = std::fs::read(&path).unwrap_or_default();
            assert!(
                committed == output.stdout,
                "contrib/{file} is out of date: run SPEEDRACK_UPDATE_CONTRIB=1 cargo test -p speedrack-tests contrib_files"
            );
        }
    }
}
