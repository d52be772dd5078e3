//! Task keys: the safe form of a task's name that history rows and output paths are filed
//! under, and the guarantee that a key is safe as a single path part.
//!
//! Output files live under `DATA_DIR/runs/KEY/`, so a key must never be able to climb out of
//! that directory or be empty. The name as written stays what people see; this module only
//! makes keys. The rule is close to how Speedrack 0.6.1 named its job directories (lowercased,
//! a few punctuation characters turned into `_`, dropped at the ends; it kept the others, such
//! as `+` or `:`), so the names 0.6.1 users write stay distinct unless they differ only in such
//! characters (a collision is then a conf error): letters, digits, `_`, `-` and `.` are kept, lowercased; every run
//! of other characters (spaces, punctuation, `/`, NUL) becomes one `_`; punctuation at the ends
//! is dropped, and a key never starts with `.` or `-`, so it is never `.`, `..` or an option.
//!
//! Before this rule, `-` and `.` became `_` and trailing punctuation a trailing `_`
//! ([`TaskName::legacy`]); history written under such a key stays with its task (see
//! `TaskSet::keep_legacy_keys`).

use std::fmt;
use std::sync::Arc;

/// A task key: non-empty, only lowercase letters, digits, `_`, `-` and `.`, never starting with
/// `.` or `-`.
///
/// Shared, not copied: a run's task is named in its record, its events, its task's state and
/// its supervisor, and a copy each was a tenth of the allocations a run cost (BENCHMARKS.md).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskName(Arc<str>);

/// Kept inside a key as written.
fn kept(ch: char) -> bool {
    ch.is_alphanumeric() || matches!(ch, '_' | '-' | '.')
}

/// May start a key: what is kept, less `.` and `-`.
fn starts_key(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

impl TaskName {
    /// The key of a name as written in the tasks file; `None` when nothing usable is left.
    pub fn normalise(written: &str) -> Option<TaskName> {
        // Lowercased first: lowercasing can turn one letter into a letter and a mark (`İ` →
        // `i̇`), and the mark must be judged like any other character, so that a key read
        // back from history is a key again.
        let lowered = written.to_lowercase();
        let trimmed = lowered
            .trim_start_matches(|ch| !starts_key(ch))
            .trim_end_matches(|ch| !kept(ch));
        let mut key = String::with_capacity(trimmed.len());
        let mut in_separator_run = false;
        for ch in trimmed.chars() {
            if kept(ch) {
                key.push(ch);
                in_separator_run = false;
            } else if !in_separator_run {
                key.push('_');
                in_separator_run = true;
            }
        }
        (!key.is_empty()).then(|| TaskName(key.into()))
    }

    /// The key the same name had before `-` and `.` were kept: letters and digits lowercased,
    /// every run of anything else one `_`. `None` when that rule left nothing usable.
    pub fn legacy(written: &str) -> Option<TaskName> {
        let mut key = String::with_capacity(written.len());
        let mut in_separator_run = false;
        for ch in written.trim().chars() {
            if ch.is_alphanumeric() || ch == '_' {
                key.extend(ch.to_lowercase());
                in_separator_run = false;
            } else if !in_separator_run {
                key.push('_');
                in_separator_run = true;
            }
        }
        key.chars().any(|c| c != '_').then(|| TaskName(key.into()))
    }

    /// Accepts a key coming back from a client or the history store, which must already be a
    /// key (so `Some` only for keys `normalise` could have produced, legacy keys included).
    pub fn parse_normalised(name: &str) -> Option<TaskName> {
        TaskName::normalise(name).filter(|normal| &*normal.0 == name)
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

    fn key(written: &str) -> Option<String> {
        TaskName::normalise(written).map(|name| name.0.to_string())
    }

    #[test]
    fn keys_keep_dashes_and_dots_and_drop_punctuation_at_the_ends() {
        let cases = [
            ("winner", Some("winner")),
            ("Long Runner", Some("long_runner")),
            ("cron  failer!!", Some("cron_failer")),
            ("trailing!", Some("trailing")),
            ("!!!leading", Some("leading")),
            ("(parenthesised)", Some("parenthesised")),
            ("a-b.c", Some("a-b.c")),
            ("backup.db-nightly", Some("backup.db-nightly")),
            ("version 1.2.", Some("version_1.2.")),
            ("a - b", Some("a_-_b")),
            ("_private", Some("_private")),
            ("..hidden", Some("hidden")),
            ("-flag", Some("flag")),
            (".-._x", Some("_x")),
            ("../../etc/passwd", Some("etc_passwd")),
            ("a/b", Some("a_b")),
            ("x\0y", Some("x_y")),
            ("C:\\dir", Some("c_dir")),
            ("..", None),
            (".", None),
            ("-", None),
            ("   ", None),
            ("/", None),
            ("!!!", None),
            ("___", Some("___")),
            ("Ünïcode Täsk", Some("ünïcode_täsk")),
        ];
        for (written, expected) in cases {
            assert_eq!(key(written).as_deref(), expected, "{written:?}");
        }
    }

    #[test]
    fn keys_of_speedrack_0_6_1_job_directories_are_unchanged() {
        // 0.6.1 lowercased names, dropped its punctuation at the ends and turned runs of it
        // into `_`; its demo names and its directories come out the same here.
        let same = [
            (
                "interval failer later spammer",
                "interval_failer_later_spammer",
            ),
            ("cron winner stdout", "cron_winner_stdout"),
            ("Nightly Backup!", "nightly_backup"),
            ("db-dump.daily", "db-dump.daily"),
            ("[weekly] report", "weekly_report"),
        ];
        for (written, directory) in same {
            assert_eq!(key(written).as_deref(), Some(directory), "{written:?}");
        }
    }

    #[test]
    fn names_distinct_in_0_6_1_stay_distinct() {
        let pairs = [
            ("a-b", "a_b"),
            ("a.b", "a_b"),
            ("a.b", "a-b"),
            ("v1.2", "v12"),
        ];
        for (one, other) in pairs {
            assert_ne!(key(one), key(other), "{one:?} and {other:?}");
        }
    }

    #[test]
    fn keys_are_single_safe_path_parts() {
        for written in [
            "../x", "a/b", ".", "..", "x\0y", "C:\\dir", "~root", "-rf", ".x", "a/../..",
        ] {
            if let Some(name) = TaskName::normalise(written) {
                let path = std::path::Path::new(name.as_str());
                assert_eq!(path.components().count(), 1, "{written}");
                assert!(
                    matches!(
                        path.components().next(),
                        Some(std::path::Component::Normal(_))
                    ),
                    "{written}"
                );
                assert!(!name.as_str().contains(['/', '\0', '\\']), "{written}");
                assert!(!name.as_str().starts_with(['.', '-']), "{written}");
            }
        }
    }

    #[test]
    fn legacy_keys_follow_the_rule_before_dashes_and_dots_were_kept() {
        let cases = [
            ("Long Runner", Some("long_runner")),
            ("cron  failer!!", Some("cron_failer_")),
            ("a-b.c", Some("a_b_c")),
            ("../../etc/passwd", Some("_etc_passwd")),
            ("..", None),
        ];
        for (written, expected) in cases {
            assert_eq!(
                TaskName::legacy(written).as_ref().map(TaskName::as_str),
                expected,
                "{written}"
            );
        }
    }

    #[test]
    fn legacy_keys_are_still_accepted_as_keys() {
        for written in ["cron  failer!!", "a-b.c", "../../etc/passwd", "Long Runner"] {
            let legacy = TaskName::legacy(written).expect("a legacy key");
            assert_eq!(
                TaskName::parse_normalised(legacy.as_str()),
                Some(legacy.clone()),
                "{written}"
            );
        }
    }

    #[test]
    fn parse_normalised_accepts_only_keys() {
        assert!(TaskName::parse_normalised("long_runner").is_some());
        assert!(TaskName::parse_normalised("a-b.c").is_some());
        assert!(TaskName::parse_normalised("Long Runner").is_none());
        assert!(TaskName::parse_normalised("../x").is_none());
        assert!(TaskName::parse_normalised(".x").is_none());
        assert!(TaskName::parse_normalised("").is_none());
    }
}
