//! One daemon per data dir: an exclusive `flock` on `speedrackd.lock` in the data dir, taken
//! before recovery, history or the socket touch anything, and held for the daemon's life. The
//! file carries the holder's pid so that a refused daemon can name it.
//!
//! It does not protect against a daemon that ignores the lock (an older speedrackd), and the pid
//! in the file is informative only: the lock itself is the kernel's, released when the holder's
//! process dies however it dies (the file descriptor is close-on-exec, so runs never inherit it).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// File name of the lock inside the data dir.
pub const LOCK_FILE: &str = "speedrackd.lock";

/// The most of the lock file read back to name the holder: a pid and a newline.
const PID_TEXT_MAX: u64 = 32;

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another daemon uses the data dir (exit 78: restarting cannot help).
    #[error(
        "another speedrackd (pid {holder}) already uses the data dir {}; stop it first, or give this one another --data-dir",
        data_dir.display()
    )]
    Held { data_dir: PathBuf, holder: String },
    #[error("cannot lock the data dir with {}: {source} (check its owner and mode)", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock on `data_dir` without waiting, and writes this process's pid into it.
    pub fn acquire(data_dir: &Path) -> Result<DataDirLock, LockError> {
        let path = data_dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            // A link planted in the data dir must not make the daemon truncate its target.
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    data_dir: data_dir.to_path_buf(),
                    holder: holder_pid(&mut file),
                });
            }
            Err(TryLockError::Error(source)) => return Err(io(source)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(DataDirLock { _file: file })
    }
}

/// The pid the holder wrote, or "unknown" when it has not written it yet or it is unreadable.
fn holder_pid(file: &mut File) -> String {
    let mut text = String::new();
    let read = Read::take(&mut *file, PID_TEXT_MAX).read_to_string(&mut text);
    match read.ok().and_then(|_| text.trim().parse::<u32>().ok()) {
        Some(pid) => pid.to_string(),
        None => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_dir_is_refused_with_the_holders_pid() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = DataDirLock::acquire(dir.path()).expect("first lock");
        match DataDirLock::acquire(dir.path()) {
            Err(LockError::Held { holder, .. }) => {
                assert_eq!(holder, std::process::id().to_string())
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        drop(first);
        DataDirLock::acquire(dir.path()).expect("free again once the holder is gone");
    }

    #[test]
    fn a_link_in_place_of_the_lock_file_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("precious");
        std::fs::write(&target, "keep me").expect("write target");
        std::os::unix::fs::symlink(&target, dir.path().join(LOCK_FILE)).expect("plant link");
        assert!(matches!(
            DataDirLock::acquire(dir.path()),
            Err(LockError::Io { .. })
        ));
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "keep me");
    }
}
