//! `speedrack_settings.yaml`: the daemon's own behaviour. Every key is optional; an empty file
//! means all defaults, and an unknown key is an error naming it. The seed's (Speedrack 0.6.1's)
//! uppercase names are accepted as aliases where the seed had the setting; its keys that mean
//! nothing any more are accepted and reported (`settings_legacy`). A `.py` settings file is
//! turned into this same text first (`py_settings`).
//!
//! One struct is both what the file says and what the daemon uses: every field has a default and
//! the custom (de)serializers below validate as they read, so no second copy of the keys exists.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use speedrack_web::auth::WebSettings;
use speedrack_web::metrics_access::MetricsSettings;

use super::cluster_settings::{BusySettings, NodeName, StoreUrl};
use super::notify_settings::{EmailSettings, NotifySettings};
use super::settings_legacy::{self, Filter, Found, IgnoredKey, SmtpAddress};

/// Runs kept per task unless the settings or the task say otherwise: history is bounded with no
/// configuration (a task every minute keeps about eight hours).
pub const DEFAULT_MAX_KEEP: u32 = 500;
/// Output kept in all, unless the settings say otherwise: with `DEFAULT_MAX_KEEP`, a default
/// that a few chatty tasks cannot turn into a full disk.
pub const DEFAULT_HISTORY_MAX_BYTES: u64 = 1 << 30;

/// Validated settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where to bind the API socket; `None` means the per-user default.
    pub socket: Option<PathBuf>,
    /// Where history and output live; `None` means the per-user default.
    pub data_dir: Option<PathBuf>,
    /// Members of this group may use the API too: the socket becomes mode 0660 for it.
    pub socket_group: Option<String>,
    /// Accept a tasks file that others could write (they could run commands as the daemon).
    pub allow_insecure_tasks_file: bool,
    /// The zone of tasks that name none; `None` means the system's zone.
    #[serde(with = "zone")]
    pub timezone: Option<Tz>,
    /// The shell that runs task commands, as `SHELL -c COMMAND`: an absolute path, so that no
    /// search path decides what runs.
    #[serde(deserialize_with = "shell")]
    pub shell: PathBuf,
    /// How long running tasks may go on after SIGTERM to the daemon before they are killed.
    #[serde(with = "duration")]
    pub shutdown_grace: Duration,
    /// After a timeout or kill sends SIGTERM to a run's group, how long until SIGKILL.
    #[serde(with = "duration")]
    pub kill_grace: Duration,
    /// A run fails when it exits non-zero or is killed by a signal (per-task override).
    #[serde(alias = "FAIL_BY_RETCODE", alias = "FAIL_BY_NONZERO_STATUS_CODE")]
    pub fail_by_retcode: bool,
    /// A run fails when it writes anything to stderr (per-task override).
    #[serde(alias = "FAIL_BY_STDERR")]
    pub fail_by_stderr: bool,
    /// Output kept per stream and run: the head and the tail, with a marker of what was dropped.
    pub output_max_bytes: u64,
    /// Runs kept per task (per-task `max_keep` overrides); `None` (written 0 or null) keeps
    /// all.
    #[serde(deserialize_with = "zero_is_unlimited")]
    pub max_keep: Option<u32>,
    /// Runs older than this are pruned; `None` keeps them.
    #[serde(with = "optional_duration")]
    pub history_max_age: Option<Duration>,
    /// Oldest runs are pruned while all output together is larger than this many bytes;
    /// `None` (written 0 or null) sets no limit.
    #[serde(deserialize_with = "zero_is_unlimited")]
    pub history_max_bytes: Option<u64>,
    /// Missed fires older than this are not made up for (see the task key `on_missed`).
    #[serde(with = "optional_duration")]
    pub missed_deadline: Option<Duration>,
    /// Shown in the title and navbar of the web UI.
    #[serde(alias = "APP_NAME")]
    pub app_name: String,
    /// Path prefix of every URL the web UI generates (seed SCRIPT_NAME), e.g. `/speedrack`.
    #[serde(alias = "SCRIPT_NAME", deserialize_with = "script_name")]
    pub script_name: String,
    /// Runs listed on a task page before "show all".
    #[serde(alias = "EXECUTION_DISPLAY")]
    pub execution_display: u32,
    /// Output larger than this many bytes is shown by its first `fsize_summary` bytes.
    #[serde(alias = "FSIZE_MAX")]
    pub fsize_max: u64,
    #[serde(alias = "FSIZE_SUMMARY")]
    pub fsize_summary: u64,
    /// External root URL of the web UI, for links in notifications (no trailing slash).
    #[serde(alias = "EMAIL_URL_PREFIX")]
    pub email_url_prefix: String,
    /// Where the web UI listens when speedrackd hosts it.
    pub listen: SocketAddr,
    /// The web UI's authentication (`auth: none | basic | proxy_header`).
    #[serde(deserialize_with = "web_settings")]
    pub web: WebSettings,
    /// Where `/metrics` is served on its own and the bearer token it asks for; read at start.
    pub metrics: MetricsSettings,
    pub email: EmailSettings,
    pub notify: NotifySettings,
    /// Failed runs become Sentry events; the DSN holds a key, so it is shown redacted.
    pub sentry_dsn: Option<String>,
    /// Where each run gets a cgroup v2 of its own (`auto`, `off` or a directory); read at start.
    pub run_cgroup: super::RunCgroup,
    /// The tasks file when the command line names none (0.6.1's CONFIG_YAML); a relative path
    /// is taken from the settings file's directory. Read at start.
    #[serde(alias = "CONFIG_YAML")]
    pub tasks_file: Option<PathBuf>,
    /// Where 0.6.1 kept its state (SPEEDRACK_DIR), for `import-history`; unused otherwise.
    #[serde(alias = "SPEEDRACK_DIR")]
    pub speedrack_dir: Option<PathBuf>,
    /// 0.6.1's job tree (JOB_ROOT_DIR); see [`Settings::legacy_job_root`].
    #[serde(alias = "JOB_ROOT_DIR")]
    pub job_root_dir: Option<PathBuf>,
    /// 0.6.1's suspended-tasks file (SUSPENDED_FILE); see [`Settings::legacy_suspended_file`].
    #[serde(alias = "SUSPENDED_FILE")]
    pub suspended_file: Option<PathBuf>,
    /// Where history lives: `sqlite` (the data dir's database) or a `postgres://` URL that
    /// several nodes share (CLUSTER.md). Read at start.
    pub store: StoreUrl,
    /// The file holding the PostgreSQL password (mode 0600 or tighter); read at start.
    pub store_password_file: Option<PathBuf>,
    /// PEM certificates of the authority that signed the PostgreSQL server's: the connection
    /// then uses TLS and checks the server's name and certificate. Read at start.
    pub store_ca_file: Option<PathBuf>,
    /// This daemon's name among the nodes of a cluster; `None` means the host name.
    pub node: Option<NodeName>,
    /// How long a node's heartbeat holds its place in a cluster: when it lapses, the other
    /// nodes close its runs as interrupted and take over its fires.
    #[serde(with = "duration")]
    pub lease: Duration,
    /// When this node, among several, is busy and yields its share of fires to idle nodes.
    pub busy: BusySettings,
    /// 0.6.1's keys this file wrote that mean nothing any more, each with the reason.
    #[serde(skip)]
    pub ignored: Vec<IgnoredKey>,
    #[serde(
        rename = "MAX_RUNS",
        default,
        skip_serializing,
        deserialize_with = "settings_legacy::max_runs"
    )]
    seed_max_runs: Option<Option<u32>>,
    /// 0.6.1 linked mails to `http://URL_ROOT:PORT` when EMAIL_URL_PREFIX was not set.
    #[serde(rename = "URL_ROOT", skip_serializing)]
    seed_url_root: Option<String>,
    // The seed's flat email settings, folded into `email` after reading.
    #[serde(rename = "EMAIL_DISABLED", skip_serializing)]
    seed_email_disabled: Option<bool>,
    #[serde(rename = "EMAIL_SMTP", skip_serializing)]
    seed_email_smtp: Option<SmtpAddress>,
    #[serde(rename = "EMAIL_FROM_ADDRESS", skip_serializing)]
    seed_email_from: Option<String>,
    #[serde(
        rename = "EMAIL_TO_GLOBAL",
        default,
        skip_serializing,
        deserialize_with = "seed_addresses"
    )]
    seed_email_to_global: Option<Vec<String>>,
}

// The two checks below run inside a visitor: serde_yaml gives an error the position of the value
// being visited, whereas one raised after reading would carry the enclosing mapping's position.

fn script_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct ScriptName;
    impl Visitor<'_> for ScriptName {
        type Value = String;

        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("a path prefix like /speedrack")
        }

        fn visit_str<E: de::Error>(self, name: &str) -> Result<String, E> {
            if !name.is_empty() && (!name.starts_with('/') || name.ends_with('/')) {
                return Err(E::custom(format!(
                    "script_name {name:?} must start with / and not end with one, like /speedrack"
                )));
            }
            Ok(name.to_owned())
        }
    }
    deserializer.deserialize_str(ScriptName)
}

/// A limit where 0 or null means none, as Speedrack 0.6.1's `MAX_RUNS = 0` did.
fn zero_is_unlimited<'de, D, N>(deserializer: D) -> Result<Option<N>, D::Error>
where
    D: Deserializer<'de>,
    N: Deserialize<'de> + Default + PartialEq,
{
    Ok(Option::<N>::deserialize(deserializer)?.filter(|limit| *limit != N::default()))
}

fn shell<'de, D: Deserializer<'de>>(deserializer: D) -> Result<PathBuf, D::Error> {
    struct Shell;
    impl Visitor<'_> for Shell {
        type Value = PathBuf;

        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("an absolute path like /bin/sh")
        }

        fn visit_str<E: de::Error>(self, shell: &str) -> Result<PathBuf, E> {
            let path = PathBuf::from(shell);
            if !path.is_absolute() {
                return Err(E::custom(format!(
                    "shell {shell:?} must be an absolute path, like /bin/bash"
                )));
            }
            Ok(path)
        }
    }
    deserializer.deserialize_str(Shell)
}

fn web_settings<'de, D: Deserializer<'de>>(deserializer: D) -> Result<WebSettings, D::Error> {
    struct Web;
    impl<'de> Visitor<'de> for Web {
        type Value = WebSettings;

        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("the web section, a mapping like {auth: none}")
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<WebSettings, A::Error> {
            let web = WebSettings::deserialize(de::value::MapAccessDeserializer::new(map))?;
            web.auth().map_err(de::Error::custom)?;
            Ok(web)
        }
    }
    deserializer.deserialize_map(Web)
}

fn seed_addresses<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    super::notify_settings::address_list(deserializer).map(Some)
}

/// Settings whose values are secrets: shown as `(redacted)` (webhook URLs carry tokens too).
pub(super) const SECRET_KEYS: &[&str] = &["sentry_dsn", "notify", "web"];

impl Default for Settings {
    fn default() -> Self {
        Settings {
            socket: None,
            data_dir: None,
            socket_group: None,
            allow_insecure_tasks_file: false,
            timezone: None,
            shell: PathBuf::from("/bin/sh"),
            shutdown_grace: Duration::from_secs(30),
            kill_grace: Duration::from_secs(10),
            fail_by_retcode: true,
            fail_by_stderr: true,
            output_max_bytes: 10 << 20,
            max_keep: Some(DEFAULT_MAX_KEEP),
            history_max_age: None,
            history_max_bytes: Some(DEFAULT_HISTORY_MAX_BYTES),
            missed_deadline: None,
            app_name: "Speedrack".to_owned(),
            script_name: String::new(),
            execution_display: 20,
            fsize_max: 1 << 20,
            fsize_summary: 64 << 10,
            email_url_prefix: String::new(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8118)),
            web: WebSettings::default(),
            metrics: MetricsSettings::default(),
            email: EmailSettings::default(),
            notify: NotifySettings::default(),
            sentry_dsn: None,
            run_cgroup: super::RunCgroup::Auto,
            tasks_file: None,
            speedrack_dir: None,
            job_root_dir: None,
            suspended_file: None,
            store: StoreUrl::Sqlite,
            store_password_file: None,
            store_ca_file: None,
            node: None,
            lease: Duration::from_secs(10),
            busy: BusySettings::default(),
            ignored: Vec::new(),
            seed_max_runs: None,
            seed_url_root: None,
            seed_email_disabled: None,
            seed_email_smtp: None,
            seed_email_from: None,
            seed_email_to_global: None,
        }
    }
}

impl Settings {
    /// How many of a task's newest runs its row shows: `execution_display`, where 0 stands for
    /// the default, as the web gateway reads it.
    pub fn row_runs(&self) -> usize {
        let runs = match self.execution_display {
            0 => Settings::default().execution_display,
            runs => runs,
        };
        usize::try_from(runs).unwrap_or(usize::MAX)
    }

    /// This daemon's node name: the `node` setting, else the host name.
    pub fn node_name(&self) -> NodeName {
        self.node.clone().unwrap_or_else(NodeName::of_host)
    }

    /// 0.6.1's state directory: SPEEDRACK_DIR, else what 0.6.1 fell back to, the system's
    /// temporary directory joined with APP_NAME. 0.6.1's default name was `speedrack`, so our
    /// default (`Speedrack`) stands for it.
    pub fn legacy_speedrack_dir(&self) -> PathBuf {
        if let Some(dir) = non_empty(&self.speedrack_dir) {
            return dir.to_path_buf();
        }
        let name = match self.app_name.as_str() {
            name if name == Settings::default().app_name => "speedrack",
            name => name,
        };
        std::env::temp_dir().join(name)
    }

    /// 0.6.1's job tree: JOB_ROOT_DIR, else `SPEEDRACK_DIR/jobs` as 0.6.1 made it.
    pub fn legacy_job_root(&self) -> PathBuf {
        non_empty(&self.job_root_dir).map_or_else(
            || self.legacy_speedrack_dir().join("jobs"),
            Path::to_path_buf,
        )
    }

    /// 0.6.1's suspended-tasks file: SUSPENDED_FILE, else `SPEEDRACK_DIR/speedrack.suspended`.
    pub fn legacy_suspended_file(&self) -> PathBuf {
        non_empty(&self.suspended_file).map_or_else(
            || self.legacy_speedrack_dir().join("speedrack.suspended"),
            Path::to_path_buf,
        )
    }

    /// Takes the relative paths 0.6.1's keys name from `dir`, the settings file's directory:
    /// 0.6.1 took them from the directory it was started in, which `speedrack init` and its
    /// documentation made the settings file's own.
    pub fn resolve_paths(&mut self, dir: &Path) {
        for path in [
            &mut self.tasks_file,
            &mut self.speedrack_dir,
            &mut self.job_root_dir,
            &mut self.suspended_file,
        ]
        .into_iter()
        .flatten()
        {
            if path.is_relative() && !path.as_os_str().is_empty() {
                *path = dir.join(&*path);
            }
        }
    }

    /// Whether `name` is one of the settings' own top-level keys (not an alias).
    pub(super) fn is_key(name: &str) -> bool {
        matches!(
            serde_yaml::to_value(Settings::default()),
            Ok(serde_yaml::Value::Mapping(keys)) if keys.contains_key(name)
        )
    }

    /// Every setting as `(name, value as YAML, is the default)`, in file order.
    pub fn entries(&self) -> Vec<(String, String, bool)> {
        let defaults = serde_yaml::to_value(Settings::default()).unwrap_or_default();
        let Ok(serde_yaml::Value::Mapping(current)) = serde_yaml::to_value(self) else {
            return Vec::new();
        };
        current
            .iter()
            .map(|(key, value)| {
                let name = key.as_str().unwrap_or_default().to_owned();
                let is_default = defaults.get(&name) == Some(value);
                let text = if SECRET_KEYS.contains(&name.as_str()) && !is_default {
                    "(redacted)".to_owned()
                } else {
                    serde_yaml::to_string(value)
                        .unwrap_or_default()
                        .trim_end()
                        .to_owned()
                };
                (name, text, is_default)
            })
            .collect()
    }
}

/// 0.6.1 took an empty path as no path.
fn non_empty(path: &Option<PathBuf>) -> Option<&Path> {
    path.as_deref().filter(|path| !path.as_os_str().is_empty())
}

/// Parses the settings text; a blank or comment-only file gives the defaults.
pub fn parse_settings(text: &str) -> Result<Settings, serde_yaml::Error> {
    let settings: Option<Read> = serde_yaml::from_str(text)?;
    Ok(settings.map(|Read(settings)| settings).unwrap_or_default())
}

/// The whole file: its top-level keys pass the 0.6.1 key filter on their way to `Settings`.
struct Read(Settings);

impl<'de> Deserialize<'de> for Read {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ReadVisitor)
    }
}

struct ReadVisitor;

impl<'de> Visitor<'de> for ReadVisitor {
    type Value = Read;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a mapping of settings, like `app_name: Cron Central`")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Read, A::Error> {
        let mut found = Found::default();
        let filter = Filter {
            map,
            found: &mut found,
        };
        let mut settings = Settings::deserialize(de::value::MapAccessDeserializer::new(filter))?;
        settings.ignored = found.ignored;
        fold_seed_keys(&mut settings);
        Ok(Read(settings))
    }
}

fn fold_seed_keys(settings: &mut Settings) {
    if let Some(max_keep) = settings.seed_max_runs.take() {
        settings.max_keep = max_keep;
    }
    if let Some(root) = settings.seed_url_root.take()
        && settings.email_url_prefix.is_empty()
        && !root.is_empty()
    {
        // With the sub-path, which 0.6.1 left out (its links then missed SCRIPT_NAME).
        settings.email_url_prefix = format!(
            "http://{root}:{}{}",
            settings.listen.port(),
            settings.script_name
        );
    }
    if let Some(disabled) = settings.seed_email_disabled.take() {
        settings.email.disabled = disabled;
    }
    if let Some(address) = settings.seed_email_smtp.take() {
        settings.email.smtp_host = Some(address.host);
        if let Some(port) = address.port {
            settings.email.smtp_port = port;
        }
    }
    if let Some(from) = settings.seed_email_from.take() {
        settings.email.from = Some(from);
    }
    if let Some(to) = settings.seed_email_to_global.take() {
        settings.email.to_global = to;
    }
}

/// Durations written like `30s` or `1m 30s`, at most [`MAX_DURATION`](super::super::limits::MAX_DURATION).
pub(super) mod duration {
    use std::fmt;
    use std::time::Duration;

    use serde::de::{Error, Visitor};
    use serde::{Deserializer, Serializer};

    use super::super::limits::check_duration;

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&humantime::format_duration(*value).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        // A visitor, so that serde_yaml places a refusal on the value's own line.
        struct Text;
        impl Visitor<'_> for Text {
            type Value = Duration;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a duration like 30s or 1m 30s")
            }

            fn visit_str<E: Error>(self, text: &str) -> Result<Duration, E> {
                let duration = humantime::parse_duration(text).map_err(|err| {
                    E::custom(format!(
                        "invalid duration {text:?}: {err} (write it like 30s or 1m 30s)"
                    ))
                })?;
                check_duration(&format!("duration {text:?}"), duration).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Text)
    }
}

pub(super) mod optional_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => super::duration::serialize(value, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped(#[serde(with = "super::duration")] Duration);
        Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|Wrapped(duration)| duration))
    }
}

/// IANA time zone names, checked against the compiled-in zone database.
mod zone {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(value: &Option<Tz>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(tz) => serializer.serialize_str(tz.name()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Tz>, D::Error> {
        let Some(name) = Option::<String>::deserialize(deserializer)? else {
            return Ok(None);
        };
        name.parse::<Tz>().map(Some).map_err(|_| {
            D::Error::custom(format!(
                "unknown time zone {name:?} (use an IANA name like Europe/Berlin)"
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
    fn a_row_shows_execution_display_runs_and_the_default_for_zero() {
        let rows = |text: &str| parse_settings(text).expect(text).row_runs();
        assert_eq!(rows("execution_display: 7\n"), 7);
        assert_eq!(rows("execution_display: 0\n"), 20, "as the web reads 0");
        assert_eq!(rows(""), 20);
    }

    #[test]
    fn reads_keys_and_the_seed_aliases() {
        let text = "socket: /tmp/s.sock\ndata_dir: /tmp/d\nshutdown_grace: 1m 5s\n\
                    FAIL_BY_NONZERO_STATUS_CODE: false\nFAIL_BY_STDERR: false\n\
                    APP_NAME: Cron Central\nSCRIPT_NAME: /speedrack\ntimezone: Asia/Tokyo\n\
                    history_max_age: 30days\nlisten: 0.0.0.0:9000\n";
        let settings = parse_settings(text).expect("valid settings");
        assert_eq!(settings.socket, Some(PathBuf::from("/tmp/s.sock")));
        assert_eq!(settings.data_dir, Some(PathBuf::from("/tmp/d")));
        assert_eq!(settings.shutdown_grace, Duration::from_secs(65));
        assert!(!settings.fail_by_retcode && !settings.fail_by_stderr);
        assert_eq!(settings.app_name, "Cron Central");
        assert_eq!(settings.script_name, "/speedrack");
        assert_eq!(settings.timezone, Some(chrono_tz::Asia::Tokyo));
        assert_eq!(
            settings.history_max_age,
            Some(Duration::from_secs(30 * 86_400))
        );
        assert_eq!(settings.listen, SocketAddr::from(([0, 0, 0, 0], 9000)));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors_that_name_them() {
        let cases = [
            ("sokcet: /tmp/x\n", "sokcet"),
            ("shutdown_grace: soon\n", "soon"),
            ("timezone: Mars/Olympus\n", "Mars/Olympus"),
            ("script_name: speedrack/\n", "script_name"),
            ("execution_display: many\n", "execution_display"),
            ("shell: bash\n", "absolute path"),
            ("kill_grace: 18446744073709551615s\n", "at most 3650d"),
            ("shutdown_grace: 3651d\n", "at most 3650d"),
            ("notify: {retry_backoff: 99999999999h}\n", "at most 3650d"),
        ];
        for (text, named) in cases {
            let error = parse_settings(text).expect_err(text);
            assert!(error.to_string().contains(named), "{text}: {error}");
        }
        let error = parse_settings("app_name: x\nsokcet: /tmp/x\n").expect_err("typo");
        assert_eq!(error.location().map(|l| l.line()), Some(2));
    }

    #[test]
    fn values_refused_after_their_type_is_read_still_name_their_line() {
        // Found by the property tests: these checks once ran after reading, without a position.
        let cases = [
            ("app_name: x\nscript_name: \" \"\n", 2, "script_name"),
            ("app_name: x\nSCRIPT_NAME: /a/\n", 2, "script_name"),
            ("app_name: x\nkill_grace: 3651d\n", 2, "at most 3650d"),
            ("app_name: x\nshell: sh\n", 2, "absolute path"),
            ("app_name: x\nweb:\n  auth: basic\n", 3, "web.users"),
            ("web:\n  realm: r\n  colour: blue\n", 3, "colour"),
            (
                "web: {auth: proxy_header, proxy_header: 'bad header'}\n",
                1,
                "proxy_header",
            ),
        ];
        for (text, line, named) in cases {
            let error = parse_settings(text).expect_err(text);
            assert!(error.to_string().contains(named), "{text}: {error}");
            assert_eq!(error.location().map(|l| l.line()), Some(line), "{text}");
        }
        for text in [
            "web:\n",
            "web: {}\n",
            "web: {auth: none}\nscript_name: ''\n",
        ] {
            assert_eq!(parse_settings(text).expect(text), Settings::default());
        }
    }

    #[test]
    fn history_is_bounded_by_default_and_zero_or_null_lifts_a_limit() {
        let defaults = parse_settings("").expect("empty");
        assert_eq!(defaults.max_keep, Some(DEFAULT_MAX_KEEP));
        assert_eq!(defaults.history_max_bytes, Some(DEFAULT_HISTORY_MAX_BYTES));
        for text in [
            "max_keep: 0\nhistory_max_bytes: 0\n",
            "max_keep: null\nhistory_max_bytes: ~\n",
        ] {
            let unlimited = parse_settings(text).expect(text);
            assert_eq!(
                (unlimited.max_keep, unlimited.history_max_bytes),
                (None, None),
                "{text}"
            );
        }
        let set = parse_settings("max_keep: 20\nhistory_max_bytes: 5000\n").expect("set");
        assert_eq!(
            (set.max_keep, set.history_max_bytes),
            (Some(20), Some(5000))
        );
    }

    #[test]
    fn email_settings_take_the_seeds_flat_names_and_secrets_are_redacted() {
        let text = "EMAIL_SMTP: mail.example.org\nEMAIL_FROM_ADDRESS: cron@example.org\n\
                    EMAIL_TO_GLOBAL: a@example.org, b@example.org\nsentry_dsn: https://key@sentry.example/1\n";
        let settings = parse_settings(text).expect("valid");
        assert_eq!(
            settings.email.smtp_host.as_deref(),
            Some("mail.example.org")
        );
        assert_eq!(settings.email.from.as_deref(), Some("cron@example.org"));
        assert_eq!(settings.email.to_global, ["a@example.org", "b@example.org"]);
        let entries = settings.entries();
        let dsn = entries
            .iter()
            .find(|(name, ..)| name == "sentry_dsn")
            .expect("listed");
        assert_eq!(dsn.1, "(redacted)");
        assert!(
            !entries.iter().any(|(name, ..)| name.starts_with("EMAIL")),
            "seed names are folded in"
        );
        let nested =
            parse_settings("email: {smtp_host: h, smtp_tls: starttls, to_global: [x@y.z]}\n")
                .expect("valid");
        assert_eq!(
            nested.email.smtp_tls,
            super::super::notify_settings::SmtpTls::Starttls
        );
    }

    #[test]
    fn entries_list_every_setting_and_mark_defaults() {
        let settings = parse_settings("app_name: Cron Central\n").expect("valid");
        let entries = settings.entries();
        let app = entries
            .iter()
            .find(|(name, ..)| name == "app_name")
            .expect("app_name listed");
        assert_eq!((app.1.as_str(), app.2), ("Cron Central", false));
        let grace = entries
            .iter()
            .find(|(name, ..)| name == "shutdown_grace")
            .expect("listed");
        assert_eq!((grace.1.as_str(), grace.2), ("30s", true));
        assert_eq!(entries.len(), 38);
    }
}
