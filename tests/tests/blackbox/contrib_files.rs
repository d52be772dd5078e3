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

/// Every speedrack page a man page refers to (`\fBname\fR(N)`) is one that contrib/ ships, so
/// no reader is sent to a page that does not exist; and groff, where installed, finds nothing
/// to warn about.
#[test]
fn man_pages_refer_only_to_pages_that_exist() {
    let man = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../contrib/man");
    let pages: Vec<PathBuf> = std::fs::read_dir(&man)
        .expect("contrib/man")
        .map(|entry| entry.expect("entry").path())
        .collect();
    assert!(pages.len() >= 3, "{pages:?}");
    let shipped: Vec<String> = pages
        .iter()
        .filter_map(|page| page.file_name()?.to_str().map(str::to_owned))
        .collect();
    for page in &pages {
        let text = std::fs::read_to_string(page).expect("a text page");
        for reference in references(&text) {
            let file = reference.replace("\\-", "-");
            assert!(
                !file.starts_with("speedrack") || shipped.contains(&file),
                "{} refers to {file}, which contrib/man does not ship",
                page.display()
            );
        }
        if let Ok(output) = Command::new("groff")
            .args(["-man", "-ww", "-z"])
            .arg(page)
            .output()
        {
            let warnings = String::from_utf8_lossy(&output.stderr);
            assert!(warnings.is_empty(), "{}: {warnings}", page.display());
        }
    }
}

/// `name.N` for each `name(N)` in roff text, with `name` bold or plain.
fn references(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices('(') {
        let section = text[at + 1..].chars().next().filter(char::is_ascii_digit);
        let closes = text[at + 1..].chars().nth(1) == Some(')');
        let before = text[..at].trim_end_matches("\\fR");
        let name: String = before
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '\\'))
            .collect::<Vec<char>>()
            .into_iter()
            .rev()
            .collect();
        let name = name.trim_start_matches("\\fB");
        if let (Some(section), true, false) = (section, closes, name.is_empty()) {
            found.push(format!("{name}.{section}"));
        }
    }
    found
}
