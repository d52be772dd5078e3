//! The free space of the file system holding the data dir, and when it counts as low: where
//! history and runs' output go, so a full one costs records and output.
//!
//! It only measures; the runtime copes with refused writes (`runtime/records.rs`) and GetStatus,
//! the metrics and the clients show the figures.

use std::path::Path;

/// Low below this share of the file system...
const LOW_FRACTION_DIVISOR: u64 = 20;
/// ...or below this, whichever is smaller, so a large disk is not low with gigabytes free.
const LOW_CAP_BYTES: u64 = 1 << 30;

/// Free and total space of one file system, in bytes (free as available to unprivileged users).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskSpace {
    pub free_bytes: u64,
    pub total_bytes: u64,
}

impl DiskSpace {
    /// Measures the file system holding `path`.
    pub fn of(path: &Path) -> std::io::Result<DiskSpace> {
        let stats = nix::sys::statvfs::statvfs(path).map_err(std::io::Error::from)?;
        let block = stats.fragment_size();
        Ok(DiskSpace {
            free_bytes: stats.blocks_available().saturating_mul(block),
            total_bytes: stats.blocks().saturating_mul(block),
        })
    }

    /// Below 5 % of the file system, at most 1 GiB: writes may start failing soon.
    pub fn is_low(&self) -> bool {
        let threshold = (self.total_bytes / LOW_FRACTION_DIVISOR).min(LOW_CAP_BYTES);
        self.free_bytes < threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_is_five_percent_capped_at_a_gibibyte() {
        let check = |free, total, low| {
            let space = DiskSpace {
                free_bytes: free,
                total_bytes: total,
            };
            assert_eq!(space.is_low(), low, "{free} free of {total}");
        };
        check(0, 8 << 20, true);
        check(400 << 10, 8 << 20, true);
        check(420 << 10, 8 << 20, false);
        check(2 << 30, 1 << 40, false);
        check((1 << 30) - 1, 1 << 40, true);
        check(0, 0, false);
    }

    #[test]
    fn measures_a_real_directory() {
        let dir = tempfile::tempdir().expect("temp dir");
        let space = DiskSpace::of(dir.path()).expect("statvfs");
        assert!(space.total_bytes >= space.free_bytes && space.total_bytes > 0);
    }
}
