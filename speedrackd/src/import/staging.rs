//! Copying an execution's output into a staging directory of the data dir, under the output cap
//! the daemon applies to its own runs (`output_max_bytes`: the head, the tail and a marker, by
//! the capture's own code), so that a huge file is read only up to the cap. The history store
//! moves each staged directory into its run's place once the run is recorded.
//!
//! It does not decide what is kept of a stream; `exec::capture` does, for imports as for runs.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::exec::capture::copy_capped;

/// The staging area inside the data dir; emptied when an import starts.
pub const STAGING_DIR: &str = "import-staging";

/// What was staged for one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Staged {
    /// The staged directory, relative to the data dir; `None` when there was no output.
    pub dir: Option<PathBuf>,
    pub stdout_bytes: u64,
    pub stderr_bytes: u64,
    pub dropped_bytes: u64,
}

/// Empties the staging area: whatever is there belongs to no recorded run (the store settles
/// recorded ones first).
pub fn reset(data_dir: &Path) -> Result<(), String> {
    let dir = data_dir.join(STAGING_DIR);
    match std::fs::remove_dir_all(&dir) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(format!(
            "cannot empty {}: {}",
            dir.display(),
            super::scan::describe(&error)
        )),
        _ => Ok(()),
    }
}

/// Copies `stdout` and `stderr` (each a file and its size) into staging directory number `n`,
/// each under `cap` bytes (0: no cap). Empty streams get no file, as for the daemon's runs.
pub fn stage(
    data_dir: &Path,
    n: u64,
    stdout: Option<&(PathBuf, u64)>,
    stderr: Option<&(PathBuf, u64)>,
    cap: u64,
) -> Result<Staged, String> {
    if stdout.is_none() && stderr.is_none() {
        return Ok(Staged::default());
    }
    let relative = Path::new(STAGING_DIR).join(n.to_string());
    let dir = data_dir.join(&relative);
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|error| {
            format!(
                "cannot create {}: {}",
                dir.display(),
                super::scan::describe(&error)
            )
        })?;
    let mut staged = Staged {
        dir: Some(relative),
        ..Staged::default()
    };
    for (source, name) in [(stdout, "stdout"), (stderr, "stderr")] {
        let Some((path, len)) = source else { continue };
        let target = dir.join(name);
        let captured = super::scan::open_no_follow(path)
            .and_then(|mut file| copy_capped(&mut file, *len, &target, cap))
            .map_err(|error| {
                format!(
                    "cannot copy {} to {}: {}",
                    path.display(),
                    target.display(),
                    super::scan::describe(&error)
                )
            })?;
        match name {
            "stdout" => staged.stdout_bytes = captured.written,
            _ => staged.stderr_bytes = captured.written,
        }
        staged.dropped_bytes += captured.dropped;
    }
    Ok(staged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_each_stream_under_the_cap_and_nothing_for_no_output() {
        let data = tempfile::tempdir().expect("temp dir");
        let source = tempfile::tempdir().expect("temp dir");
        let out = source.path().join("std_out.txt");
        std::fs::write(&out, "abcdefghijklmnopqrstuvwxyz").expect("write");
        let staged = stage(data.path(), 4, Some(&(out, 26)), None, 10).expect("stage");
        assert_eq!(
            (
                staged.stdout_bytes,
                staged.stderr_bytes,
                staged.dropped_bytes
            ),
            (26, 0, 16)
        );
        let dir = data.path().join(staged.dir.expect("a staged dir"));
        let kept = std::fs::read_to_string(dir.join("stdout")).expect("read");
        assert!(
            kept.starts_with("abcde\n[... speedrack dropped 16 bytes"),
            "{kept}"
        );
        assert!(kept.ends_with("vwxyz"), "{kept}");
        assert!(!dir.join("stderr").exists());
        assert_eq!(stage(data.path(), 5, None, None, 10), Ok(Staged::default()));
        reset(data.path()).expect("reset");
        assert!(!data.path().join(STAGING_DIR).exists());
    }
}
