//! Tidy checks over the workspace's own source, in the manner of rust-analyzer's `tidy.rs`:
//! rules about how files are written that no compiler or lint enforces.
//!
//! Owns: every `.rs` file opens with a `//!` comment saying what it owns. Does not judge what
//! the comment says, and skips build output (`target/`), hidden directories and nested git
//! worktrees, which are not this workspace's source.

use std::fs;
use std::path::{Path, PathBuf};

#[test]
fn every_source_file_opens_with_a_module_doc() {
    let root = workspace_root();
    let files = rust_files(&root);
    assert!(
        files.len() > 100,
        "found only {} .rs files under {}: the walk is looking in the wrong place",
        files.len(),
        root.display()
    );
    let undocumented: Vec<String> = files
        .iter()
        .filter(|file| !opens_with_module_doc(&read(file)))
        .map(|file| {
            file.strip_prefix(&root)
                .unwrap_or(file)
                .display()
                .to_string()
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "{} files do not open with a `//!` comment; start each with one saying what the file \
         owns (and what it does not):\n  {}",
        undocumented.len(),
        undocumented.join("\n  ")
    );
}

#[test]
fn the_opening_is_the_first_non_empty_line() {
    let cases = [
        ("//! Owns X.\nfn main() {}\n", true),
        ("\n\n  //! Indented, after blank lines.\n", true),
        ("// A plain comment.\n//! Too late.\n", false),
        ("/// An item doc, not the module's.\n", false),
        ("#![allow(dead_code)]\n//! After an attribute.\n", false),
        ("use std::fs;\n", false),
        ("", false),
    ];
    for (text, expected) in cases {
        assert_eq!(opens_with_module_doc(text), expected, "{text:?}");
    }
}

/// Whether the first non-empty line is a `//!` comment.
fn opens_with_module_doc(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .is_some_and(|line| line.starts_with("//!"))
}

fn workspace_root() -> PathBuf {
    let tests_crate = Path::new(env!("CARGO_MANIFEST_DIR"));
    tests_crate
        .parent()
        .expect("the tests crate sits inside the workspace")
        .to_path_buf()
}

/// Every `.rs` file under `root`, sorted, leaving out what is not the workspace's source.
fn rust_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
                .path();
            if path.is_dir() {
                if !skipped(&path) {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Build output, hidden directories (`.git`) and nested worktrees or checkouts, which hold their
/// own copy of the source.
fn skipped(dir: &Path) -> bool {
    let name = dir.file_name().and_then(|name| name.to_str()).unwrap_or("");
    name == "target" || name.starts_with('.') || dir.join(".git").exists()
}

fn read(file: &Path) -> String {
    fs::read_to_string(file)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", file.display()))
}
