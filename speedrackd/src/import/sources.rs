//! Where Speedrack 0.6.1's state is: its job directory (`JOB_ROOT_DIR`) and its suspended-tasks
//! file (`SUSPENDED_FILE`). The command line's paths win, then what 0.6.1's settings file says
//! (with 0.6.1's defaults under `SPEEDRACK_DIR`); without a suspended-tasks file, 0.6.1's
//! default beside a job directory (`SPEEDRACK_DIR/jobs` and `SPEEDRACK_DIR/speedrack.suspended`)
//! is used when it exists. Reading them is the import's.

use std::path::{Path, PathBuf};

use super::ImportError;
use crate::config::Settings;

/// The name 0.6.1 gave its suspended-tasks file inside `SPEEDRACK_DIR`.
const DEFAULT_SUSPENDED: &str = "speedrack.suspended";

/// The old state to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    pub jobs: PathBuf,
    /// `None`: there is none to import.
    pub suspended: Option<PathBuf>,
}

/// The paths to import from: given on the command line, else named by 0.6.1's settings
/// (`old_settings`, when a settings file was given), else derived from 0.6.1's defaults.
pub fn resolve_sources(
    jobs: Option<PathBuf>,
    suspended: Option<PathBuf>,
    old_settings: Option<&Settings>,
) -> Result<Sources, ImportError> {
    let jobs = jobs
        .or_else(|| old_settings.map(Settings::legacy_job_root))
        .ok_or(ImportError::NoJobs)?;
    let suspended = suspended
        .or_else(|| {
            old_settings
                .map(Settings::legacy_suspended_file)
                .filter(|file| file.is_file())
        })
        .or_else(|| beside_default_jobs(&jobs));
    Ok(Sources { jobs, suspended })
}

/// 0.6.1's default suspended-tasks file, when `jobs` is its default job directory and the file
/// is there.
fn beside_default_jobs(jobs: &Path) -> Option<PathBuf> {
    if jobs.file_name()? != "jobs" {
        return None;
    }
    let file = jobs.parent()?.join(DEFAULT_SUSPENDED);
    file.is_file().then_some(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_wins_and_0_6_1s_default_layout_fills_in() {
        let dir = tempfile::tempdir().expect("temp dir");
        let jobs = dir.path().join("jobs");
        assert!(matches!(
            resolve_sources(None, None, None),
            Err(ImportError::NoJobs)
        ));
        let none = resolve_sources(Some(jobs.clone()), None, None).expect("sources");
        assert_eq!(none.suspended, None, "no file there");
        let default = dir.path().join(DEFAULT_SUSPENDED);
        std::fs::write(&default, "a\n").expect("write");
        let found = resolve_sources(Some(jobs.clone()), None, None).expect("sources");
        assert_eq!(found.suspended, Some(default));
        let given = resolve_sources(Some(jobs), Some(PathBuf::from("/x")), None).expect("sources");
        assert_eq!(given.suspended, Some(PathBuf::from("/x")));
        let elsewhere =
            resolve_sources(Some(dir.path().join("history")), None, None).expect("sources");
        assert_eq!(
            elsewhere.suspended, None,
            "not 0.6.1's default job directory"
        );
    }

    #[test]
    fn the_old_settings_name_the_job_tree_and_the_suspended_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let suspended = dir.path().join("paused.txt");
        let mut settings = Settings::default();
        settings.job_root_dir = Some(dir.path().join("old-jobs"));
        settings.suspended_file = Some(suspended.clone());
        let missing = resolve_sources(None, None, Some(&settings)).expect("sources");
        assert_eq!(missing.jobs, dir.path().join("old-jobs"));
        assert_eq!(
            missing.suspended, None,
            "a suspended file that is not there"
        );
        std::fs::write(&suspended, "a\n").expect("write");
        let found = resolve_sources(None, None, Some(&settings)).expect("sources");
        assert_eq!(found.suspended, Some(suspended));
        let given =
            resolve_sources(Some(PathBuf::from("/j")), None, Some(&settings)).expect("sources");
        assert_eq!(given.jobs, PathBuf::from("/j"), "the command line wins");
    }
}
