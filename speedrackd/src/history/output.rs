//! Where a run's output files live: `DATA_DIR/runs/TASK/RUN_ID/{stdout,stderr}`, a layout
//! admins can grep directly. Task names are normalised, so they are always one safe path part.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::config::TaskName;
use crate::run::RunId;

/// One of a run's captured streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn file_name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// The directory of one run's files.
pub fn run_dir(data_dir: &Path, task: &TaskName, run: RunId) -> PathBuf {
    run_path(data_dir, task, run, None)
}

/// The file holding one stream of a run.
pub fn stream_path(data_dir: &Path, task: &TaskName, run: RunId, stream: Stream) -> PathBuf {
    run_path(data_dir, task, run, Some(stream))
}

/// Built in one buffer: every run starts by naming its two files, and joining part by part
/// cost five allocations a name.
fn run_path(data_dir: &Path, task: &TaskName, run: RunId, stream: Option<Stream>) -> PathBuf {
    let mut id = itoa::Buffer::new();
    let id = id.format(run.0);
    let length = data_dir.as_os_str().len() + task.as_str().len() + id.len() + 20;
    let mut path = PathBuf::with_capacity(length);
    path.push(data_dir);
    path.push("runs");
    path.push(task.as_str());
    path.push(id);
    if let Some(stream) = stream {
        path.push(stream.file_name());
    }
    path
}

/// A slice of a stream file and the file's size now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    pub data: Vec<u8>,
    pub total_size: u64,
}

/// Reads up to `length` bytes from `offset`. A missing file reads as empty: a stream that stayed
/// empty, or a run that could not start, has no file.
pub fn read_slice(path: &Path, offset: u64, length: usize) -> std::io::Result<Slice> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Slice {
                data: Vec::new(),
                total_size: 0,
            });
        }
        Err(error) => return Err(error),
    };
    let total_size = file.metadata()?.len();
    let mut data = Vec::new();
    if offset < total_size {
        file.seek(SeekFrom::Start(offset))?;
        file.take(length as u64).read_to_end(&mut data)?;
    }
    Ok(Slice { data, total_size })
}

/// Removes the output directories of runs whose rows were deleted; one that cannot be removed
/// is logged and left (the quota sweep does not count it again: its row is gone).
pub fn remove_run_dirs(data_dir: &Path, runs: &[(TaskName, RunId)]) {
    for (task, run) in runs {
        let dir = run_dir(data_dir, task, *run);
        if let Err(error) = std::fs::remove_dir_all(&dir)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(dir = %dir.display(), "cannot remove the output of a pruned run: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lays_out_runs_by_task_and_id() {
        let task = TaskName::normalise("Long Runner").expect("name");
        let path = stream_path(
            Path::new("/var/lib/speedrack"),
            &task,
            RunId(42),
            Stream::Stderr,
        );
        assert_eq!(
            path,
            Path::new("/var/lib/speedrack/runs/long_runner/42/stderr")
        );
    }

    #[test]
    fn reads_slices_and_treats_a_missing_file_as_empty() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("stdout");
        std::fs::write(&path, b"0123456789").expect("write");
        let cases = [
            (0, 4, &b"0123"[..]),
            (8, 10, b"89"),
            (10, 5, b""),
            (50, 5, b""),
        ];
        for (offset, length, expected) in cases {
            let slice = read_slice(&path, offset, length).expect("read");
            assert_eq!(
                (slice.data.as_slice(), slice.total_size),
                (expected, 10),
                "{offset}+{length}"
            );
        }
        let missing = read_slice(&dir.path().join("nope"), 0, 10).expect("missing is empty");
        assert_eq!(
            missing,
            Slice {
                data: Vec::new(),
                total_size: 0
            }
        );
    }
}
