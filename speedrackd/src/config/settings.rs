//! `speedrack_settings.yaml`: the daemon's own behaviour. Every key is optional; an empty file
//! means all defaults, and an unknown key is an error naming it. The seed's uppercase names are
//! accepted as aliases where the seed had the setting.

use std::path::PathBuf;
use std::time::Duration;

use chrono_tz::Tz;
use serde::Deserialize;

/// Validated settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Where to bind the API socket; `None` means the per-user default.
    pub socket: Option<PathBuf>,
    /// Where history and output live; `None` means the per-user default.
    pub data_dir: Option<PathBuf>,
    /// How long running tasks may go on after SIGTERM before their process groups are killed.
    pub shutdown_grace: Duration,
    /// A run fails when it exits non-zero or is killed by a signal (per-task override).
    pub fail_by_retcode: bool,
    /// A run fails when it writes anything to stderr (per-task override).
    pub fail_by_stderr: bool,
    /// The zone of tasks that name none; `None` means the system's zone.
    pub timezone: Option<Tz>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            socket: None,
            data_dir: None,
            shutdown_grace: Duration::from_secs(30),
            fail_by_retcode: true,
            fail_by_stderr: true,
            timezone: None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    socket: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    #[serde(default, with = "humantime_serde_opt")]
    shutdown_grace: Option<Duration>,
    #[serde(alias = "FAIL_BY_NONZERO_STATUS_CODE")]
    fail_by_retcode: Option<bool>,
    #[serde(alias = "FAIL_BY_STDERR")]
    fail_by_stderr: Option<bool>,
    #[serde(default, deserialize_with = "time_zone")]
    timezone: Option<Tz>,
}

fn time_zone<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Tz>, D::Error> {
    let Some(name) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    name.parse::<Tz>().map(Some).map_err(|_| {
        serde::de::Error::custom(format!(
            "unknown time zone {name:?} (use an IANA name like Europe/Berlin)"
        ))
    })
}

/// Parses the settings text; a blank or comment-only file gives the defaults.
pub fn parse_settings(text: &str) -> Result<Settings, serde_yaml::Error> {
    let raw: Option<RawSettings> = serde_yaml::from_str(text)?;
    let raw = raw.unwrap_or_default();
    let defaults = Settings::default();
    Ok(Settings {
        socket: raw.socket,
        data_dir: raw.data_dir,
        shutdown_grace: raw.shutdown_grace.unwrap_or(defaults.shutdown_grace),
        fail_by_retcode: raw.fail_by_retcode.unwrap_or(defaults.fail_by_retcode),
        fail_by_stderr: raw.fail_by_stderr.unwrap_or(defaults.fail_by_stderr),
        timezone: raw.timezone,
    })
}

/// Durations written like `30s` or `1m 30s`.
mod humantime_serde_opt {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, de::Error};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        let Some(text) = Option::<String>::deserialize(deserializer)? else {
            return Ok(None);
        };
        humantime::parse_duration(&text).map(Some).map_err(|err| {
            D::Error::custom(format!(
                "invalid duration {text:?}: {err} (write it like 30s or 1m 30s)"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_and_comment_only_files_mean_defaults() {
        for text in ["", "\n", "# nothing here\n", "---\n"] {
            assert_eq!(
                parse_settings(text).expect(text),
                Settings::default(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn reads_every_key_and_the_seed_aliases() {
        let text = "socket: /tmp/s.sock\ndata_dir: /tmp/d\nshutdown_grace: 1m 5s\n\
                    FAIL_BY_NONZERO_STATUS_CODE: false\nFAIL_BY_STDERR: false\n";
        let settings = parse_settings(text).expect("valid settings");
        assert_eq!(settings.socket, Some(PathBuf::from("/tmp/s.sock")));
        assert_eq!(settings.data_dir, Some(PathBuf::from("/tmp/d")));
        assert_eq!(settings.shutdown_grace, Duration::from_secs(65));
        assert!(!settings.fail_by_retcode);
        assert!(!settings.fail_by_stderr);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors_that_name_them() {
        let error = parse_settings("sokcet: /tmp/x\n").expect_err("typo must be refused");
        assert!(error.to_string().contains("sokcet"), "{error}");
        assert_eq!(error.location().map(|l| l.line()), Some(1));
        let error = parse_settings("shutdown_grace: soon\n").expect_err("bad duration");
        assert!(error.to_string().contains("soon"), "{error}");
        let error = parse_settings("timezone: Mars/Olympus\n").expect_err("bad zone");
        assert!(error.to_string().contains("Mars/Olympus"), "{error}");
        assert_eq!(
            parse_settings("timezone: Asia/Tokyo")
                .expect("zone")
                .timezone,
            Some(chrono_tz::Asia::Tokyo)
        );
    }
}
