//! Speedrack 0.6.1's suspended tasks (`SUSPENDED_FILE`, by default `SPEEDRACK_DIR/speedrack.suspended`):
//! one task name per line, as 0.6.1's web UI lowercased it, joined with newlines, each line read
//! back stripped. Names become task keys by the daemon's own rules. Pure but for reading the file.

use std::io::Read;
use std::path::Path;

use crate::config::TaskName;

/// The most of the file read: far more names than any tasks file holds.
const FILE_MAX: u64 = 1 << 20;

/// The tasks a suspended file names, and the lines that name none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SuspendedList {
    pub tasks: Vec<TaskName>,
    /// Lines that leave no task key, with why.
    pub unreadable: Vec<(String, String)>,
}

/// Reads a suspended-tasks file; `Err` says why it cannot be read.
pub fn read_suspended(path: &Path) -> Result<SuspendedList, String> {
    let mut bytes = Vec::new();
    super::scan::open_no_follow(path)
        .and_then(|file| file.take(FILE_MAX).read_to_end(&mut bytes))
        .map_err(|error| {
            format!(
                "cannot read the suspended-tasks file {}: {}",
                path.display(),
                super::scan::describe(&error)
            )
        })?;
    Ok(parse_suspended(&String::from_utf8_lossy(&bytes)))
}

/// The task keys of a suspended-tasks file's text, each once, in file order.
pub fn parse_suspended(text: &str) -> SuspendedList {
    let mut list = SuspendedList::default();
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
        match TaskName::normalise(line) {
            Some(task) if !list.tasks.contains(&task) => list.tasks.push(task),
            Some(_) => {}
            None => list
                .unreadable
                .push((line.to_owned(), "it leaves no task key".to_owned())),
        }
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_name_per_line_as_0_6_1_wrote_them() {
        let list = parse_suspended("nightly_backup\n  report \n\nnightly_backup\n!!!\nlast");
        let names: Vec<&str> = list.tasks.iter().map(TaskName::as_str).collect();
        assert_eq!(names, ["nightly_backup", "report", "last"]);
        assert_eq!(
            list.unreadable,
            [("!!!".to_owned(), "it leaves no task key".to_owned())]
        );
        assert_eq!(parse_suspended(""), SuspendedList::default());
    }
}
