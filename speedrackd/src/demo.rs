//! Demo mode: the built-in tasks that show what speedrack does, written to a fresh directory so
//! that the demo is an ordinary daemon with an ordinary tasks file (reload works on it too).

use std::path::{Path, PathBuf};

/// The demo tasks file (contrib/demo/), shipped inside the binary so that `run` without a tasks
/// file and `init --demo` write the same set.
pub const DEMO_TASKS: &str = include_str!("../../contrib/demo/speedrack_tasks.yaml");

/// File name of the tasks file inside the demo directory.
pub const DEMO_TASKS_FILE: &str = "speedrack_tasks.yaml";

/// Writes the demo tasks into `dir` and returns the file's path.
pub fn write_demo_tasks(dir: &Path) -> std::io::Result<PathBuf> {
    let path = dir.join(DEMO_TASKS_FILE);
    std::fs::write(&path, DEMO_TASKS)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_tasks;

    #[test]
    fn the_demo_has_churning_tasks_and_its_deliberate_conf_errors() {
        let set = parse_tasks(DEMO_TASKS, Path::new(DEMO_TASKS_FILE), chrono_tz::Tz::UTC)
            .expect("demo tasks parse");
        assert_eq!(set.broken().count(), 3);
        assert!(set.valid().count() >= 8);
    }
}
