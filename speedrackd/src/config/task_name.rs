//! Task names: the seed's normalisation, and the guarantee that a name is safe as a path part.
//!
//! Output files live under `DATA_DIR/runs/NAME/`, so a name must never be able to climb out of
//! that directory or be empty. Normalisation keeps letters, digits and `_`, lowercased, and turns
//! every run of other characters (spaces, punctuation, `/`, `.`) into one `_`.

use std::fmt;

/// A normalised task name: non-empty, only lowercase letters, digits and `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskName(String);

impl TaskName {
    /// Normalises a name as written in the tasks file; `None` when nothing usable is left.
    pub fn normalise(written: &str) -> Option<TaskName> {
        let mut name = String::with_capacity(written.len());
        let mut in_separator_run = false;
        for ch in written.trim().chars() {
            if ch.is_alphanumeric() || ch == '_' {
                name.extend(ch.to_lowercase());
                in_separator_run = false;
            } else if !in_separator_run {
                name.push('_');
                in_separator_run = true;
            }
        }
        let has_word_char = name.chars().any(|c| c != '_');
        has_word_char.then_some(TaskName(name))
    }

    /// Accepts a name coming back from a client or the history store, which must already be in
    /// normal form (so `Some` only for names `normalise` could have produced).
    pub fn parse_normalised(name: &str) -> Option<TaskName> {
        TaskName::normalise(name).filter(|normal| normal.0 == name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TaskName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_the_seed() {
        let cases = [
            ("winner", Some("winner")),
            ("Long Runner", Some("long_runner")),
            ("cron  failer!!", Some("cron_failer_")),
            ("a-b.c", Some("a_b_c")),
            ("../../etc/passwd", Some("_etc_passwd")),
            ("..", None),
            ("   ", None),
            ("/", None),
            ("Ünïcode Täsk", Some("ünïcode_täsk")),
        ];
        for (written, expected) in cases {
            assert_eq!(
                TaskName::normalise(written).as_ref().map(TaskName::as_str),
                expected,
                "{written}"
            );
        }
    }

    #[test]
    fn normalised_names_are_single_safe_path_parts() {
        for written in ["../x", "a/b", ".", "x\0y", "C:\\dir", "~root"] {
            if let Some(name) = TaskName::normalise(written) {
                let path = std::path::Path::new(name.as_str());
                assert_eq!(path.components().count(), 1, "{written}");
                assert!(!name.as_str().contains(['/', '.', '\0', '\\']), "{written}");
            }
        }
    }

    #[test]
    fn parse_normalised_accepts_only_normal_forms() {
        assert!(TaskName::parse_normalised("long_runner").is_some());
        assert!(TaskName::parse_normalised("Long Runner").is_none());
        assert!(TaskName::parse_normalised("../x").is_none());
        assert!(TaskName::parse_normalised("").is_none());
    }
}
