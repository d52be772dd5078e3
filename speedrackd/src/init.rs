//! `speedrackd init DIR` (seed `speedrack init`): writes the commented settings and a tasks file
//! whose examples are commented out, so a fresh configuration runs nothing and passes `check`;
//! `--demo` writes the demo tasks instead. The tasks file is code the daemon runs, so it is
//! created private (0600, or 0640 for a named group); the settings file 0640. Existing files
//! are never overwritten without `--force`. The demo set itself lives in `demo`.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::demo::DEMO_TASKS;

/// The commented sample settings, the same file as contrib/speedrack_settings.yaml.
pub const SAMPLE_SETTINGS: &str = include_str!("../../contrib/speedrack_settings.yaml");
/// The production skeleton, the same file as contrib/speedrack_tasks.yaml (and the Debian
/// package's /etc/speedrack/speedrack_tasks.yaml).
pub const SKELETON_TASKS: &str = include_str!("../../contrib/speedrack_tasks.yaml");
pub const SETTINGS_FILE: &str = "speedrack_settings.yaml";
pub const TASKS_FILE: &str = "speedrack_tasks.yaml";

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{} already exists; use --force to overwrite it", .0.display())]
    Exists(PathBuf),
    #[error("no group named {0:?}")]
    UnknownGroup(String),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Which tasks file `init` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tasks {
    /// Documented keys and commented-out examples: runs nothing.
    Skeleton,
    /// The demo set, deliberate failures and conf errors included.
    Demo,
}

impl Tasks {
    fn text(self) -> &'static str {
        match self {
            Tasks::Skeleton => SKELETON_TASKS,
            Tasks::Demo => DEMO_TASKS,
        }
    }
}

/// Writes both files into `dir`; returns their paths.
pub fn init(
    dir: &Path,
    tasks: Tasks,
    force: bool,
    group: Option<&str>,
) -> Result<Vec<PathBuf>, InitError> {
    let gid = match group {
        Some(name) => match nix::unistd::Group::from_name(name) {
            Ok(Some(group)) => Some(group.gid),
            _ => return Err(InitError::UnknownGroup(name.to_owned())),
        },
        None => None,
    };
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| InitError::Write { path, source }
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
        .map_err(write_error(dir))?;
    let tasks_mode = if gid.is_some() { 0o640 } else { 0o600 };
    let files = [
        (dir.join(SETTINGS_FILE), SAMPLE_SETTINGS, 0o640),
        (dir.join(TASKS_FILE), tasks.text(), tasks_mode),
    ];
    for (path, _, _) in &files {
        if path.exists() && !force {
            return Err(InitError::Exists(path.clone()));
        }
    }
    for (path, text, mode) in &files {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(*mode)
            .open(path)
            .map_err(write_error(path))?;
        file.write_all(text.as_bytes()).map_err(write_error(path))?;
        // The mode given at creation does not apply to a file that existed (--force).
        std::fs::set_permissions(path, Permissions::from_mode(*mode)).map_err(write_error(path))?;
        if let Some(gid) = gid {
            nix::unistd::chown(path, None, Some(gid)).map_err(|errno| InitError::Write {
                path: path.clone(),
                source: std::io::Error::from(errno),
            })?;
        }
    }
    Ok(files.into_iter().map(|(path, _, _)| path).collect())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;
    use crate::config::{load_settings, load_tasks};

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).expect("file").mode() & 0o777
    }

    #[test]
    fn writes_private_files_that_load() {
        let dir = tempfile::tempdir().expect("temp dir");
        let written = init(&dir.path().join("etc"), Tasks::Skeleton, false, None).expect("init");
        assert_eq!((mode(&written[0]), mode(&written[1])), (0o640, 0o600));
        load_settings(Some(&written[0])).expect("settings load");
        let tasks = load_tasks(&written[1], chrono_tz::Tz::UTC).expect("tasks load");
        assert_eq!(
            (tasks.valid().count(), tasks.broken().count()),
            (0, 0),
            "a fresh configuration runs nothing"
        );
    }

    /// An example that stopped parsing would greet the admin with a conf error the moment it
    /// is uncommented. Below `tasks:`, example lines are `#` before indented YAML.
    #[test]
    fn the_skeleton_examples_are_valid_tasks_once_uncommented() {
        let uncommented: String = SKELETON_TASKS
            .lines()
            .skip_while(|line| *line != "tasks:")
            .map(|line| {
                line.strip_prefix('#')
                    .filter(|rest| rest.starts_with("  "))
                    .unwrap_or(line)
            })
            .map(|line| format!("{line}\n"))
            .collect();
        let set =
            crate::config::parse_tasks(&uncommented, Path::new(TASKS_FILE), chrono_tz::Tz::UTC)
                .expect("uncommented skeleton parses");
        let errors: Vec<String> = set.broken().map(|task| format!("{task:?}")).collect();
        assert_eq!(errors, Vec::<String>::new());
        assert_eq!(set.valid().count(), 4);
    }

    #[test]
    fn demo_writes_the_demo_tasks() {
        let dir = tempfile::tempdir().expect("temp dir");
        let written = init(dir.path(), Tasks::Demo, false, None).expect("init --demo");
        assert_eq!(
            std::fs::read_to_string(&written[1]).expect("tasks"),
            DEMO_TASKS
        );
    }

    #[test]
    fn refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(TASKS_FILE), "tasks: []\n").expect("existing file");
        assert!(matches!(
            init(dir.path(), Tasks::Skeleton, false, None),
            Err(InitError::Exists(_))
        ));
        assert_eq!(
            std::fs::read_to_string(dir.path().join(TASKS_FILE)).expect("kept"),
            "tasks: []\n"
        );
        assert!(
            !dir.path().join(SETTINGS_FILE).exists(),
            "nothing is written when one file is refused"
        );
        init(dir.path(), Tasks::Demo, true, None).expect("--force overwrites");
        assert_eq!(mode(&dir.path().join(TASKS_FILE)), 0o600);
    }

    #[test]
    fn a_group_makes_the_tasks_file_group_readable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root_group = nix::unistd::Group::from_gid(nix::unistd::getgid())
            .ok()
            .flatten()
            .expect("own group");
        let written =
            init(dir.path(), Tasks::Skeleton, false, Some(&root_group.name)).expect("init");
        assert_eq!(mode(&written[1]), 0o640);
        assert_eq!(
            std::fs::metadata(&written[1]).expect("file").gid(),
            root_group.gid.as_raw()
        );
        assert!(matches!(
            init(
                dir.path(),
                Tasks::Skeleton,
                true,
                Some("no-such-group-here")
            ),
            Err(InitError::UnknownGroup(_))
        ));
    }
}
