//! Reading Speedrack 0.6.1's job tree: `JOB_ROOT_DIR/<task>/<YYYY-MM-DD_HH:MM:SS>/` with
//! `std_out.txt`, `std_err.txt`, `status_code.txt`, `op_error.txt`, `op_params.txt` and
//! `.is_running`. A file counts when it is a regular file, as 0.6.1's `os.path.isfile` said;
//! output counts when it is not empty. Only small files are read here, each up to a bound; the
//! output files are only measured (`staging.rs` copies them under the output cap).
//!
//! What an execution means is `status.rs`'s and `params.rs`'s; this file only gathers facts,
//! and says in words why an execution cannot be read.

use std::fs::Metadata;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use super::params::{Params, parse_params};
use super::stamp::{Stamp, parse_stamp};
use super::status::{Facts, parse_status_code};

/// Most of `op_error.txt` kept (0.6.1 wrote a Python traceback there).
const OP_ERROR_MAX: u64 = 16 << 10;
/// Most of `op_params.txt` read; more is not the JSON 0.6.1 wrote.
const PARAMS_MAX: u64 = 256 << 10;
/// Most of `status_code.txt` read: a number and a newline.
const STATUS_MAX: u64 = 64;

/// One execution directory, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    pub stamp: Stamp,
    pub facts: Facts,
    pub params: Params,
    /// `std_out.txt` and its size, when not empty.
    pub stdout: Option<(PathBuf, u64)>,
    /// `std_err.txt` and its size, when not empty.
    pub stderr: Option<(PathBuf, u64)>,
    /// When 0.6.1 wrote the status code (or the op error): the run's end, as near as it is known.
    pub finished_at: DateTime<Utc>,
}

/// Entries left out, each with why.
pub type LeftOut = Vec<(String, String)>;

/// The entries of a directory that are directories, sorted by name as 0.6.1 sorted them, and
/// the others with why they are not used.
pub fn list_dirs(dir: &Path) -> io::Result<(Vec<String>, LeftOut)> {
    let mut dirs = Vec::new();
    let mut others = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str().map(str::to_owned) else {
            let shown = name.to_string_lossy().into_owned();
            others.push((shown, "its name is not UTF-8".to_owned()));
            continue;
        };
        match std::fs::symlink_metadata(entry.path()) {
            Ok(meta) if meta.is_dir() => dirs.push(name),
            Ok(meta) if meta.is_symlink() => {
                others.push((name, "a symbolic link, not followed".to_owned()));
            }
            Ok(_) => others.push((name, "not a directory".to_owned())),
            Err(error) => others.push((name, format!("cannot read it: {}", describe(&error)))),
        }
    }
    dirs.sort();
    others.sort();
    Ok((dirs, others))
}

/// Longest a task's newest execution is believed to have run, judging by its files' times.
const NEWEST_RUN_MAX: TimeDelta = TimeDelta::days(1);

/// Reads one execution directory named `name`, its start read in `tz`. `next` is the names of
/// the task's later executions: the first that is a start time bounds this one's end.
pub fn read_execution(
    dir: &Path,
    name: &str,
    later: &[String],
    tz: Tz,
) -> Result<Execution, String> {
    let stamp =
        parse_stamp(name, tz).ok_or("its name is not a 0.6.1 start time (YYYY-MM-DD_HH:MM:SS)")?;
    let file = |file: &str| regular_file(&dir.join(file));
    let op_error = file("op_error.txt")?;
    let status = file("status_code.txt")?;
    let exit = match &status {
        Some((path, meta)) if meta.len() > 0 => parse_status_code(&read_text(path, STATUS_MAX)?)?,
        _ => None,
    };
    let params = match file("op_params.txt")? {
        Some((_, meta)) if meta.len() > PARAMS_MAX => {
            return Err(format!(
                "op_params.txt is larger than {} KiB, more than 0.6.1 ever wrote",
                PARAMS_MAX >> 10
            ));
        }
        Some((path, _)) => parse_params(Some(&read_text(&path, PARAMS_MAX)?)),
        None => parse_params(None),
    };
    let stdout = non_empty(file("std_out.txt")?);
    let stderr = non_empty(file("std_err.txt")?);
    let ended = status
        .as_ref()
        .or(op_error.as_ref())
        .and_then(|(_, meta)| meta.modified().ok());
    let next_start = later
        .iter()
        .find_map(|next| parse_stamp(next, tz))
        .map(|next| next.at);
    let finished_at = plausible_end(stamp.at, ended.map(DateTime::<Utc>::from), next_start);
    let op_error = match &op_error {
        Some((path, _)) => Some(read_text(path, OP_ERROR_MAX)?),
        None => None,
    };
    Ok(Execution {
        facts: Facts {
            op_error,
            running: file(".is_running")?.is_some(),
            exit,
            stderr_bytes: stderr.as_ref().map_or(0, |(_, size)| *size),
        },
        stamp,
        params,
        stdout,
        stderr,
        finished_at,
    })
}

/// When a run ended: the time 0.6.1 wrote its status code, when that is plausible (not before
/// the start, not after the task's next execution started, which 0.6.1 never did for its
/// scheduled runs, and for the newest no more than a day after the start); otherwise, as after a
/// copy that did not keep file times, the start: the run's duration is then unknown, shown as 0.
fn plausible_end(
    start: DateTime<Utc>,
    written: Option<DateTime<Utc>>,
    next_start: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    let limit = next_start.unwrap_or(start + NEWEST_RUN_MAX);
    written
        .filter(|end| start <= *end && *end <= limit)
        .unwrap_or(start)
}

/// The file and its metadata when it is a regular file. A symbolic link makes the execution
/// unreadable: 0.6.1 never wrote one, and following it could copy any file the importing user
/// may read (root's, usually) into history others can read.
fn regular_file(path: &Path) -> Result<Option<(PathBuf, Metadata)>, String> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => Ok(Some((path.to_path_buf(), meta))),
        Ok(meta) if meta.is_symlink() => {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            Err(format!("{name} is a symbolic link, not followed"))
        }
        Ok(_) => Ok(None),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(cannot_read(path, &error)),
    }
}

fn non_empty(file: Option<(PathBuf, Metadata)>) -> Option<(PathBuf, u64)> {
    file.map(|(path, meta)| (path, meta.len()))
        .filter(|(_, size)| *size > 0)
}

/// Up to `max` bytes of a file as text (invalid UTF-8 replaced).
fn read_text(path: &Path, max: u64) -> Result<String, String> {
    let mut bytes = Vec::new();
    open_no_follow(path)
        .and_then(|file| file.take(max).read_to_end(&mut bytes))
        .map_err(|error| cannot_read(path, &error))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Opens a file of the tree for reading, refusing a symbolic link put there after it was
/// looked at.
pub fn open_no_follow(path: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

fn cannot_read(path: &Path, error: &io::Error) -> String {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    format!("cannot read {name}: {}", describe(error))
}

/// An I/O error in words, lowercase and without the `(os error N)` suffix.
pub fn describe(error: &io::Error) -> String {
    match error.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_lowercase(),
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Exit;

    fn write(dir: &Path, file: &str, text: &str) {
        std::fs::write(dir.join(file), text).expect("write");
    }

    #[test]
    fn lists_directories_sorted_and_says_why_others_are_left() {
        let root = tempfile::tempdir().expect("temp dir");
        for dir in ["b", "a", "c"] {
            std::fs::create_dir(root.path().join(dir)).expect("dir");
        }
        write(root.path(), "notes.txt", "");
        let (dirs, others) = list_dirs(root.path()).expect("list");
        assert_eq!(dirs, ["a", "b", "c"]);
        assert_eq!(
            others,
            [("notes.txt".to_owned(), "not a directory".to_owned())]
        );
    }

    #[test]
    fn reads_an_execution_as_0_6_1_wrote_it() {
        let root = tempfile::tempdir().expect("temp dir");
        let name = "2012-05-03_18:41:44";
        let dir = root.path().join(name);
        std::fs::create_dir(&dir).expect("dir");
        write(&dir, "std_out.txt", "hello\n");
        write(&dir, "std_err.txt", "");
        write(&dir, "status_code.txt", "3");
        write(
            &dir,
            "op_params.txt",
            r#"{"fail_by_stderr": false, "name": "t"}"#,
        );
        let execution = read_execution(&dir, name, &[], Tz::UTC).expect("readable");
        assert_eq!(execution.facts.exit, Some(Exit::Code(3)));
        assert_eq!(execution.facts.stderr_bytes, 0);
        assert!(!execution.facts.running && execution.facts.op_error.is_none());
        assert_eq!(execution.stdout.as_ref().map(|(_, size)| *size), Some(6));
        assert_eq!(execution.stderr, None, "an empty std_err.txt is no stderr");
        assert_eq!(execution.params.fail_by_stderr, Some(false));
        assert!(execution.finished_at >= execution.stamp.at);

        write(&dir, ".is_running", "True");
        write(&dir, "op_error.txt", "Traceback");
        let execution = read_execution(&dir, name, &[], Tz::UTC).expect("readable");
        assert!(execution.facts.running);
        assert_eq!(execution.facts.op_error.as_deref(), Some("Traceback"));
    }

    #[test]
    fn an_end_is_the_status_codes_time_only_when_plausible() {
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .expect("instant")
                .to_utc()
        };
        let start = at("2012-05-03T18:00:00Z");
        let next = Some(at("2012-05-03T19:00:00Z"));
        let cases = [
            (Some("2012-05-03T18:00:07Z"), next, "2012-05-03T18:00:07Z"),
            (Some("2012-05-03T19:00:00Z"), next, "2012-05-03T19:00:00Z"),
            (Some("2012-05-03T19:00:01Z"), next, "2012-05-03T18:00:00Z"),
            (Some("2012-05-03T17:59:59Z"), next, "2012-05-03T18:00:00Z"),
            (None, next, "2012-05-03T18:00:00Z"),
            (Some("2012-05-04T17:00:00Z"), None, "2012-05-04T17:00:00Z"),
            (Some("2026-12-01T00:00:00Z"), None, "2012-05-03T18:00:00Z"),
        ];
        for (written, next, expected) in cases {
            assert_eq!(
                plausible_end(start, written.map(at), next),
                at(expected),
                "{written:?} before {next:?}"
            );
        }
    }

    #[test]
    fn says_why_an_execution_cannot_be_read() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join("2012-05-03_18:41:44");
        std::fs::create_dir(&dir).expect("dir");
        write(&dir, "status_code.txt", "garbage");
        assert_eq!(
            read_execution(&dir, "2012-05-03_18:41:44", &[], Tz::UTC),
            Err("status_code.txt holds \"garbage\", not an exit status".to_owned())
        );
        assert_eq!(
            read_execution(&dir, "yesterday", &[], Tz::UTC),
            Err("its name is not a 0.6.1 start time (YYYY-MM-DD_HH:MM:SS)".to_owned())
        );
        std::fs::remove_file(dir.join("status_code.txt")).expect("remove");
        write(root.path(), "secret", "root's secret");
        std::os::unix::fs::symlink(root.path().join("secret"), dir.join("std_out.txt"))
            .expect("link");
        assert_eq!(
            read_execution(&dir, "2012-05-03_18:41:44", &[], Tz::UTC).map(|_| ()),
            Err("std_out.txt is a symbolic link, not followed".to_owned())
        );
        std::fs::remove_file(dir.join("std_out.txt")).expect("remove");
        write(
            &dir,
            "op_params.txt",
            &" ".repeat((PARAMS_MAX + 1) as usize),
        );
        let error = read_execution(&dir, "2012-05-03_18:41:44", &[], Tz::UTC).expect_err("big");
        assert!(error.starts_with("op_params.txt is larger than"), "{error}");
    }

    #[test]
    fn a_symbolic_link_in_the_tree_is_listed_and_not_followed() {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(root.path().join("real")).expect("dir");
        std::os::unix::fs::symlink("/etc", root.path().join("etc")).expect("link");
        let (dirs, others) = list_dirs(root.path()).expect("listed");
        assert_eq!(dirs, ["real"]);
        assert_eq!(
            others,
            [("etc".to_owned(), "a symbolic link, not followed".to_owned())]
        );
    }
}
