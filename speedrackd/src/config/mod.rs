//! The settings and tasks files: reading them, and turning raw YAML into validated types.
//!
//! Two phases: serde structs that mirror the files (`deny_unknown_fields`), then validated types
//! whose invariants hold. A file that cannot be read or is not the right shape is an error for
//! the whole file; a single task that is wrong becomes a conf error entry, never fatal to the
//! others. Nothing here touches the scheduler or the history.

pub(crate) mod cluster_settings;
pub mod effective;
mod fields;
mod file_security;
mod interval;
pub mod limits;
mod nesting;
mod notify_settings;
mod py_lex;
mod py_parse;
mod py_settings;
mod py_str;
mod py_value;
mod read;
mod redact_text;
mod run_cgroup;
mod schedule_field;
mod settings;
mod settings_legacy;
mod task_def;
mod task_name;
mod tasks;
mod tasks_keys;
#[cfg(test)]
mod tests_legacy_keys;
mod yaml_hints;
mod yaml_lines;

use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use file_security::Role;

pub use cluster_settings::{BusySettings, LoadPerCpu, NodeName, StoreUrl};
pub use file_security::check_tasks_file;
pub use interval::{IntervalError, format_interval, parse_interval};
pub use notify_settings::{EmailSettings, NotifySettings, SmtpTls};
pub use run_cgroup::RunCgroup;
pub use schedule_field::parse_schedule;
pub use settings::{Settings, parse_settings};
pub use settings_legacy::IgnoredKey;
pub use task_def::{OnMissed, OutputPattern, Overlap, RunOn, TaskDef};
pub use task_name::TaskName;
pub use tasks::{BrokenTask, ConfError, TASK_KEYS, TaskEntry, TaskSet, TaskWarning, parse_tasks};
pub use tasks_keys::KeptKey;

/// A settings or tasks file that cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source} (check the path and its permissions)", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    #[error("refusing {what} {}: {why}; fix with: {fix}{hatch}", path.display())]
    Insecure {
        /// What the file is to the daemon: "the settings file", "shell (named at FILE:LINE)".
        what: String,
        path: PathBuf,
        why: String,
        /// The exact command that makes the file safe.
        fix: String,
        /// How to accept the file anyway, where anything may.
        hatch: &'static str,
    },
    #[error("cannot check {what} {}: {source} (fix the path in the settings)", path.display())]
    Named {
        what: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("refusing {}: it is larger than {limit} (split it, or shorten what it holds)", path.display())]
    TooLarge { path: PathBuf, limit: String },
}

impl ConfigError {
    /// `text` is the file's content: some errors come without a position and get one from it.
    fn invalid(path: &Path, text: &str, error: &serde_yaml::Error) -> ConfigError {
        let line = match error.location() {
            Some(location) => location.line(),
            None => yaml_lines::document_line(text),
        };
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line: Some(line),
            message: yaml_hints::with_hint(&strip_location(&error.to_string()), text, line),
        }
    }
}

/// serde_yaml appends "at line X column Y" to its messages; we print the position our own way.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// The settings file's `text` as a client may show it: the values of secret settings (those the
/// settings in effect show as `(redacted)`) redacted too.
pub fn shown_settings_text(text: &str, path: &Path) -> String {
    redact_text::redact_settings_text(text, py_settings::is_python(path), settings::SECRET_KEYS)
}

/// Reads and validates the settings file; `None` means all defaults. The file and every file
/// it names must be safe from other users (see `file_security`), at start and at each reload.
/// A `.py` file is read as Speedrack 0.6.1 wrote it (`py_settings`), under the same rules.
/// Relative paths that 0.6.1's keys name are taken from the file's directory.
pub fn load_settings(path: Option<&Path>) -> Result<Settings, ConfigError> {
    let Some(path) = path else {
        return Ok(Settings::default());
    };
    let text = read::read_text(file_security::open_checked(path, Role::Settings)?, path)?;
    let text = match py_settings::is_python(path) {
        true => {
            py_settings::to_yaml(&text, Settings::is_key).map_err(|error| ConfigError::Invalid {
                path: path.to_path_buf(),
                line: Some(error.line),
                message: error.message,
            })?
        }
        false => text,
    };
    let mut settings =
        parse_settings(&text).map_err(|error| ConfigError::invalid(path, &text, &error))?;
    check_named_files(&settings, path, &text)?;
    let positions = yaml_lines::positions(&text);
    for ignored in &mut settings.ignored {
        ignored.line = positions
            .as_ref()
            .and_then(|root| root.line_of(&ignored.key));
    }
    if let Some(dir) = path.parent() {
        settings.resolve_paths(dir);
    }
    Ok(settings)
}

/// The tasks file: the command line's, else the settings' `tasks_file` (0.6.1's CONFIG_YAML),
/// `None` when neither names one. One the settings name must exist: the file 0.6.1's `init`
/// wrote names a CONFIG_YAML that 0.6.1's own command line always overrode.
pub fn tasks_file(
    given: Option<PathBuf>,
    settings: &Settings,
) -> Result<Option<PathBuf>, ConfigError> {
    let Some(path) = given.or_else(|| settings.tasks_file.clone()) else {
        return Ok(None);
    };
    if settings.tasks_file.as_ref() == Some(&path)
        && let Err(source) = std::fs::metadata(&path)
    {
        return Err(ConfigError::Invalid {
            path,
            line: None,
            message: format!(
                "cannot read the tasks file the settings name as tasks_file (0.6.1: \
                 CONFIG_YAML): {source}; fix the path there, or give --tasks"
            ),
        });
    }
    Ok(Some(path))
}

/// The shell and password files the settings name: each is guarded like the settings file.
fn check_named_files(settings: &Settings, path: &Path, text: &str) -> Result<(), ConfigError> {
    let positions = yaml_lines::positions(text);
    let named = [
        ("shell", Some(&settings.shell)),
        (
            "email.smtp_password_file",
            settings.email.smtp_password_file.as_ref(),
        ),
    ];
    for (key, file) in named {
        let Some(file) = file else { continue };
        let role = Role::Named {
            key,
            settings: path,
            line: positions.as_ref().and_then(|root| root.line_of(key)),
        };
        file_security::check_named_file(file, role)?;
    }
    Ok(())
}

/// Reads and validates the tasks file; `default_tz` is the zone of tasks that name none.
/// Broken tasks are entries of the set, not errors. Who may write it is checked apart
/// ([`check_tasks_file`]), since the settings may relax that.
pub fn load_tasks(path: &Path, default_tz: Tz) -> Result<TaskSet, ConfigError> {
    let text = read::read_text(read::open(path)?, path)?;
    let mut tasks = parse_tasks(&text, path, default_tz)
        .map_err(|error| ConfigError::invalid(path, &text, &error))?;
    tasks.file_hash = sha256_hex(text.as_bytes());
    Ok(tasks)
}

/// Lowercase hex SHA-256 of `bytes`.
fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The zone of tasks that name none: the settings' `timezone`, else the system's own zone, else
/// UTC when the system's cannot be told (logged, since cron times then shift).
pub fn default_time_zone(settings: &Settings) -> Tz {
    if let Some(tz) = settings.timezone {
        return tz;
    }
    match iana_time_zone::get_timezone().map(|name| name.parse::<Tz>()) {
        Ok(Ok(tz)) => tz,
        Ok(Err(_)) | Err(_) => {
            tracing::warn!(
                "cannot tell the system's time zone; using UTC (set `timezone` in the settings)"
            );
            Tz::UTC
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal_line(error: &serde_yaml::Error, text: &str) -> Option<usize> {
        match ConfigError::invalid(Path::new("file.yaml"), text, error) {
            ConfigError::Invalid { line, .. } => line,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn whole_file_errors_name_a_line_even_when_serde_yaml_gives_none() {
        // Found by the property tests: serde_yaml reports these without a position.
        let tasks = [("{}\u{11280}", 1), ("tasks: []\n---\ntasks: []\n", 2)];
        for (text, line) in tasks {
            let error = parse_tasks(text, Path::new("t.yaml"), Tz::UTC).expect_err(text);
            assert_eq!(refusal_line(&error, text), Some(line), "{text:?}: {error}");
        }
        let settings = [("# comment\n- a\n", 2), ("app_name: a\n---\nshell: b\n", 2)];
        for (text, line) in settings {
            let error = parse_settings(text).expect_err(text);
            assert_eq!(refusal_line(&error, text), Some(line), "{text:?}: {error}");
        }
    }

    fn write_settings(dir: &Path, name: &str, text: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("mode");
        path
    }

    #[test]
    fn python_settings_load_like_yaml_with_the_py_files_lines() {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = "# 0.6.1 style\nDEBUG = False\nAPP_NAME = 'Cron' \\\n    ' Central'\n\
                    LOG_MAX_SIZE = 1024 * 1024 * 5\nCONFIG_YAML = \"tasks.yaml\"\n\
                    EXECUTION_DISPLAY = (10,)[0] if False else 30\n";
        let path = write_settings(dir.path(), "s.py", text);
        let error = load_settings(Some(&path)).expect_err("a conditional is code");
        assert!(
            error
                .to_string()
                .starts_with(&format!("{}:7: `EXECUTION_DISPLAY", path.display())),
            "{error}"
        );
        let text = text.replace("(10,)[0] if False else 30", "30");
        let path = write_settings(dir.path(), "s.py", &text);
        let settings = load_settings(Some(&path)).expect("valid");
        assert_eq!(settings.app_name, "Cron Central");
        assert_eq!(settings.execution_display, 30);
        assert_eq!(settings.tasks_file, Some(dir.path().join("tasks.yaml")));
        let ignored: Vec<(String, Option<usize>)> = settings
            .ignored
            .iter()
            .map(|key| (key.key.clone(), key.line))
            .collect();
        assert_eq!(
            ignored,
            [
                ("DEBUG".to_owned(), Some(2)),
                ("LOG_MAX_SIZE".to_owned(), Some(5))
            ]
        );
        let path = write_settings(
            dir.path(),
            "s.py",
            "APP_NAME = 'x'\n\nSCRIPT_NAME = '/a/'\n",
        );
        let error = load_settings(Some(&path)).expect_err("invalid value");
        assert!(
            error
                .to_string()
                .starts_with(&format!("{}:3: SCRIPT_NAME: script_name", path.display())),
            "{error}"
        );
        let path = write_settings(dir.path(), "s.py", "APP_NAME = 'x'\nSOKCET = '/tmp/s'\n");
        let error = load_settings(Some(&path)).expect_err("unknown key");
        assert!(
            error.to_string().contains(":2: unknown field `SOKCET`"),
            "{error}"
        );
    }

    #[test]
    fn a_loaded_tasks_file_carries_the_sha256_of_its_bytes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("tasks.yaml");
        std::fs::write(&path, "tasks: []\n").expect("write");
        let tasks = load_tasks(&path, Tz::UTC).expect("valid");
        // sha256sum of the same 10 bytes.
        assert_eq!(
            tasks.file_hash,
            "5881da4e97000d866443ccbf3857424c58f4890a91213bdc387e1b1f582d3887"
        );
    }

    #[test]
    fn python_settings_others_can_write_are_refused_like_yaml() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = write_settings(dir.path(), "s.py", "APP_NAME = 'x'\n");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).expect("mode");
        assert!(matches!(
            load_settings(Some(&path)),
            Err(ConfigError::Insecure { .. })
        ));
    }
}
