//! The `run_cgroup` setting: where each run's cgroup v2 goes. Only the value; what the daemon
//! does with it lives in `exec/contain.rs`.

use std::fmt;
use std::path::PathBuf;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `auto`, `off`, or an absolute path to a cgroup v2 directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RunCgroup {
    /// The daemon's own cgroup when systemd delegated it (`Delegate=yes`), else none.
    #[default]
    Auto,
    /// No cgroups: runs are contained by process group and environment marker.
    Off,
    /// Under this cgroup v2 directory, which belongs to this daemon alone.
    At(PathBuf),
}

impl Serialize for RunCgroup {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RunCgroup::Auto => serializer.serialize_str("auto"),
            RunCgroup::Off => serializer.serialize_str("off"),
            RunCgroup::At(dir) => serializer.serialize_str(&dir.display().to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for RunCgroup {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RunCgroup, D::Error> {
        struct Choice;
        impl Visitor<'_> for Choice {
            type Value = RunCgroup;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("auto, off, or the absolute path of a cgroup v2 directory")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<RunCgroup, E> {
                match value {
                    "auto" => Ok(RunCgroup::Auto),
                    "off" => Ok(RunCgroup::Off),
                    path if path.starts_with('/') => Ok(RunCgroup::At(PathBuf::from(path))),
                    other => Err(E::custom(format!(
                        "run_cgroup {other:?} must be auto, off, or an absolute path like /sys/fs/cgroup/speedrack"
                    ))),
                }
            }
        }
        deserializer.deserialize_str(Choice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_auto_off_and_absolute_paths_only() {
        let read = |yaml: &str| serde_yaml::from_str::<RunCgroup>(yaml).map_err(|e| e.to_string());
        assert_eq!(read("auto"), Ok(RunCgroup::Auto));
        assert_eq!(read("off"), Ok(RunCgroup::Off));
        assert_eq!(
            read("/sys/fs/cgroup/x"),
            Ok(RunCgroup::At(PathBuf::from("/sys/fs/cgroup/x")))
        );
        assert!(read("relative/dir").is_err_and(|e| e.contains("must be auto, off")));
        assert_eq!(
            serde_yaml::to_string(&RunCgroup::At(PathBuf::from("/c")))
                .ok()
                .as_deref(),
            Some("/c\n")
        );
    }
}
