//! From command-line overrides to a validated [`DaemonConfig`]: which files, which socket,
//! which data dir, checked now so that problems show at start rather than at the first run.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::DaemonConfig;
use crate::config::effective::{Effective, Source};
use crate::config::{
    ConfigError, check_tasks_file, default_time_zone, load_settings, load_tasks, tasks_file,
};
use crate::demo::write_demo_tasks;

/// What the command line said; each `Some` wins over the settings file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub settings: Option<PathBuf>,
    pub tasks: Option<PathBuf>,
    pub socket: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The settings or tasks file is unusable (exit 78, so systemd stops restarting).
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot use the data dir {}: {source} (create it, or give another with --data-dir)", path.display())]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no data dir given and neither XDG_STATE_HOME nor HOME is set; use --data-dir")]
    NoDataDir,
    #[error("socket_group {0:?} is not a group on this system")]
    UnknownGroup(String),
    #[error("cannot prepare the demo directory: {0}")]
    Demo(#[source] std::io::Error),
}

/// A ready configuration, and the demo directory to remove at exit (demo mode only).
#[derive(Debug)]
pub struct Prepared {
    pub config: DaemonConfig,
    pub demo_dir: Option<tempfile::TempDir>,
}

/// Resolves files and directories, loads and validates both files, and checks the data dir.
/// The tasks file is the command line's, else the settings' `tasks_file` (0.6.1's CONFIG_YAML);
/// without either, prepares demo mode in a fresh temporary directory. The settings' ignored
/// 0.6.1 keys are logged, one warning each.
pub fn prepare(overrides: Overrides) -> Result<Prepared, StartupError> {
    let settings_path = overrides.settings.as_deref().map(absolute).transpose()?;
    let settings = load_settings(settings_path.as_deref())?;
    if let Some(path) = &settings_path {
        for ignored in &settings.ignored {
            tracing::warn!("{}", ignored.describe(path));
        }
    }
    let tasks_source = Source::of(overrides.tasks.as_ref(), settings.tasks_file.as_ref());
    let data_dir_source = Source::of(overrides.data_dir.as_ref(), settings.data_dir.as_ref());
    let socket_source = Source::of(overrides.socket.as_ref(), settings.socket.as_ref());
    let (tasks_path, demo_dir) = match tasks_file(overrides.tasks, &settings)? {
        Some(path) => (absolute(&path)?, None),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("speedrack-demo-")
                .tempdir()
                .map_err(StartupError::Demo)?;
            (
                write_demo_tasks(dir.path()).map_err(StartupError::Demo)?,
                Some(dir),
            )
        }
    };
    check_tasks_file(&tasks_path, settings.allow_insecure_tasks_file)?;
    let tasks = load_tasks(&tasks_path, default_time_zone(&settings))?;
    crate::check::log_warnings(&tasks);
    let data_dir = match (overrides.data_dir, settings.data_dir.clone(), &demo_dir) {
        (Some(dir), _, _) | (None, Some(dir), _) => dir,
        (None, None, Some(demo)) => demo.path().join("data"),
        (None, None, None) => default_data_dir()?,
    };
    let data_dir = absolute(&data_dir)?;
    check_data_dir(&data_dir)?;
    let socket_group = match &settings.socket_group {
        Some(name) => match nix::unistd::Group::from_name(name) {
            Ok(Some(group)) => Some(group.gid.as_raw()),
            _ => return Err(StartupError::UnknownGroup(name.clone())),
        },
        None => None,
    };
    let socket_path = overrides
        .socket
        .or_else(|| settings.socket.clone())
        .unwrap_or_else(speedrack_proto::default_socket_path);
    let effective = vec![
        Effective::path("socket", &socket_path, socket_source),
        Effective::path("data_dir", &data_dir, data_dir_source),
        Effective::path("tasks_file", &tasks_path, tasks_source),
    ];
    let config = DaemonConfig {
        settings,
        settings_path,
        tasks,
        tasks_path,
        socket_path,
        data_dir,
        demo_mode: demo_dir.is_some(),
        socket_group,
        effective,
    };
    Ok(Prepared { config, demo_dir })
}

/// The data dir a command other than `run` works on: `given`, else the settings', else the
/// per-user default; created (private) when missing and proven writable, as at start.
pub fn resolve_data_dir(
    given: Option<PathBuf>,
    settings: &crate::config::Settings,
) -> Result<PathBuf, StartupError> {
    let dir = match given.or_else(|| settings.data_dir.clone()) {
        Some(dir) => dir,
        None => default_data_dir()?,
    };
    let dir = absolute(&dir)?;
    check_data_dir(&dir)?;
    Ok(dir)
}

fn absolute(path: &Path) -> Result<PathBuf, StartupError> {
    std::path::absolute(path).map_err(|source| {
        ConfigError::Read {
            path: path.to_path_buf(),
            source,
        }
        .into()
    })
}

/// `/var/lib/speedrack` for root; `$XDG_STATE_HOME/speedrack` (or `~/.local/state/speedrack`)
/// for other users.
fn default_data_dir() -> Result<PathBuf, StartupError> {
    if nix::unistd::getuid().is_root() {
        return Ok(PathBuf::from("/var/lib/speedrack"));
    }
    let state_home = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute());
    let home = std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state"));
    state_home
        .or(home)
        .map(|dir| dir.join("speedrack"))
        .ok_or(StartupError::NoDataDir)
}

/// Creates the data dir (private to the daemon's user) and proves it is writable.
fn check_data_dir(dir: &Path) -> Result<(), StartupError> {
    let failed = |source| StartupError::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(failed)?;
    tempfile::tempfile_in(dir).map_err(failed)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_mode_writes_its_tasks_and_keeps_state_in_the_demo_dir() {
        let prepared = prepare(Overrides::default()).expect("demo mode prepares");
        let demo = prepared.demo_dir.as_ref().expect("demo dir");
        assert!(prepared.config.demo_mode);
        assert!(prepared.config.tasks_path.starts_with(demo.path()));
        assert!(prepared.config.data_dir.starts_with(demo.path()));
        assert!(prepared.config.tasks.valid().count() > 0);
    }

    #[test]
    fn an_unwritable_data_dir_fails_at_start() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, "").expect("write");
        let overrides = Overrides {
            data_dir: Some(file.join("data")),
            ..Overrides::default()
        };
        assert!(matches!(
            prepare(overrides),
            Err(StartupError::DataDir { .. })
        ));
    }

    #[test]
    fn a_broken_tasks_file_is_a_config_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let tasks = dir.path().join("tasks.yaml");
        std::fs::write(&tasks, "tasks: [unclosed").expect("write");
        let overrides = Overrides {
            tasks: Some(tasks),
            data_dir: Some(dir.path().join("d")),
            ..Overrides::default()
        };
        assert!(matches!(prepare(overrides), Err(StartupError::Config(_))));
    }
}
