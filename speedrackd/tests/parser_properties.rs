//! Property tests of every parser an admin's text reaches: the settings and tasks files, intervals,
//! APScheduler-style cron mappings and crontab strings, plus the next-fire computation they feed.
//!
//! Whatever the input, a parser must return rather than panic, and a refusal must say where: a
//! file error names the file and a line, a conf error of one task names the file and a line, and
//! a string-level error names the text or key it refuses. Inputs come three ways: arbitrary
//! strings, YAML documents generated as trees (keys mostly real ones, so validation is reached
//! rather than stopped at the first unknown key), and field-shaped strings. What valid inputs
//! mean is tested beside each parser; here only the contract on every input is.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use speedrackd::config::{
    ConfigError, TaskSet, format_interval, load_settings, load_tasks, parse_interval,
    parse_schedule, parse_settings, parse_tasks,
};
use speedrackd::schedule::apscheduler::ApsCron;
use speedrackd::schedule::{Crontab, Pattern, Schedule};

// ---------------------------------------------------------------------------------------------
// YAML documents as trees, rendered to text with varied layout
// ---------------------------------------------------------------------------------------------

/// A YAML node. Collections carry their own layout choice so the same tree is exercised in block
/// and flow style.
#[derive(Debug, Clone)]
enum Doc {
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    Text(String),
    /// A value already written as inline YAML.
    Raw(&'static str),
    List {
        flow: bool,
        items: Vec<Doc>,
    },
    Map {
        flow: bool,
        entries: Vec<Entry>,
    },
}

/// A mapping entry; `comment` puts a comment line and a blank line before it, so line numbers
/// differ from entry positions.
#[derive(Debug, Clone)]
struct Entry {
    key: String,
    value: Doc,
    comment: bool,
}

impl Doc {
    fn map(entries: Vec<Entry>) -> Doc {
        Doc::Map {
            flow: false,
            entries,
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        match self {
            Doc::Map { flow: false, .. } | Doc::List { flow: false, .. } => {
                self.render_block(0, &mut out);
            }
            inline => {
                out.push_str(&inline.render_inline());
                out.push('\n');
            }
        }
        out
    }

    fn is_block(&self) -> bool {
        match self {
            Doc::Map { flow, entries } => !flow && !entries.is_empty(),
            Doc::List { flow, items } => !flow && !items.is_empty(),
            _ => false,
        }
    }

    fn render_block(&self, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match self {
            Doc::Map { entries, .. } => {
                for entry in entries {
                    if entry.comment {
                        out.push_str(&format!("{pad}# {}\n\n", entry.key.len()));
                    }
                    let key = text_scalar(&entry.key);
                    if entry.value.is_block() {
                        out.push_str(&format!("{pad}{key}:\n"));
                        entry.value.render_block(indent + 2, out);
                    } else {
                        out.push_str(&format!("{pad}{key}: {}\n", entry.value.render_inline()));
                    }
                }
            }
            Doc::List { items, .. } => {
                for item in items {
                    if item.is_block() {
                        out.push_str(&format!("{pad}-\n"));
                        item.render_block(indent + 2, out);
                    } else {
                        out.push_str(&format!("{pad}- {}\n", item.render_inline()));
                    }
                }
            }
            scalar => out.push_str(&format!("{pad}{}\n", scalar.render_inline())),
        }
    }

    fn render_inline(&self) -> String {
        match self {
            Doc::Int(number) => number.to_string(),
            // Debug keeps a decimal point, so the value reads back as a float, not an int.
            Doc::Float(number) => format!("{number:?}"),
            Doc::Bool(flag) => flag.to_string(),
            Doc::Null => "~".to_owned(),
            Doc::Raw(yaml) => (*yaml).to_owned(),
            Doc::Text(text) => text_scalar(text),
            Doc::List { items, .. } => {
                let items: Vec<String> = items.iter().map(Doc::render_inline).collect();
                format!("[{}]", items.join(", "))
            }
            Doc::Map { entries, .. } => {
                let entries: Vec<String> = entries
                    .iter()
                    .map(|entry| {
                        format!(
                            "{}: {}",
                            text_scalar(&entry.key),
                            entry.value.render_inline()
                        )
                    })
                    .collect();
                format!("{{{}}}", entries.join(", "))
            }
        }
    }
}

/// Plain when that cannot change the meaning, else double-quoted with JSON escapes (JSON's
/// string escapes are a subset of YAML's double-quoted ones).
fn text_scalar(text: &str) -> String {
    let plain_safe = text.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '.' | '-'))
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain_safe {
        text.to_owned()
    } else {
        serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

const TASK_KEYS: &[&str] = &[
    "name",
    "description",
    "command",
    "interval",
    "cron",
    "timezone",
    "email",
    "email_recipients",
    "spam",
    "spam_fail",
    "max_keep",
    "retain_failures",
    "fail_by_retcode",
    "fail_by_stderr",
    "sudo",
    "timeout",
    "working_dir",
    "env",
    "overlap",
    "on_missed",
    "suspended",
    "ok_exit_codes",
    "fail_on_exit_codes",
    "fail_if_output_matches",
    "output_max_bytes",
    "missed_deadline",
    "webhooks",
    "notify_after_failures",
    "notify_min_interval",
];

const CRON_KEYS: &[&str] = &[
    "year",
    "month",
    "day",
    "week",
    "day_of_week",
    "hour",
    "minute",
    "second",
    "start_date",
    "end_date",
    "minutes",
];

const SETTINGS_KEYS: &[&str] = &[
    "socket",
    "data_dir",
    "socket_group",
    "allow_insecure_tasks_file",
    "timezone",
    "shell",
    "shutdown_grace",
    "kill_grace",
    "fail_by_retcode",
    "FAIL_BY_NONZERO_STATUS_CODE",
    "fail_by_stderr",
    "FAIL_BY_STDERR",
    "output_max_bytes",
    "max_keep",
    "history_max_age",
    "history_max_bytes",
    "missed_deadline",
    "app_name",
    "script_name",
    "SCRIPT_NAME",
    "execution_display",
    "fsize_max",
    "fsize_summary",
    "email_url_prefix",
    "listen",
    "web",
    "email",
    "notify",
    "sentry_dsn",
    "EMAIL_DISABLED",
    "EMAIL_SMTP",
    "EMAIL_FROM_ADDRESS",
    "EMAIL_TO_GLOBAL",
];

/// Texts the parsers give meaning to: near misses are more interesting than noise.
const WORDS: &[&str] = &[
    "",
    " ",
    "0",
    "1",
    "-1",
    "21s",
    "1h10m",
    "0s",
    "5x",
    "1M",
    "99999999999999999999s",
    "*",
    "*/5",
    "*/0",
    "1-5",
    "5-1",
    "1-10/2",
    "mon-fri",
    "mon-fri/2",
    "last",
    "last sun",
    "1st fri",
    "6th mon",
    "jan",
    "L",
    "15W",
    "5#2",
    "@daily",
    "@reboot",
    "0 5 * * *",
    "61 * * * *",
    "* * * * * * *",
    "0 0 30 2 *",
    "2026-01-01",
    "2026-01-01 10:00:00",
    "2026-13-45",
    "2026-01-01T10:00:00Z",
    "Europe/Berlin",
    "America/New_York",
    "Mars/Olympus",
    "UTC",
    "30s",
    "1m 30s",
    "soon",
    "skip",
    "queue",
    "parallel",
    "replace",
    "run_once",
    "never",
    "/srv",
    "srv",
    "a@example.org",
    "nobody",
    "http://h/x",
    "ftp://h",
    "((",
    "ERROR|FATAL",
    "basic",
    "proxy_header",
    "none",
    "X-Forwarded-User",
    "bad header",
    "starttls",
    "/speedrack",
    "speedrack/",
    "127.0.0.1:8118",
    "[::1]:80",
    "nowhere",
    "backup",
    "-rf",
    "LANG",
    "1BAD",
];

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(WORDS).prop_map(str::to_owned)
}

/// Arbitrary text: mostly short and cron/interval-shaped, sometimes any printable string,
/// sometimes one of the meaningful words.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => word(),
        2 => "[0-9a-zA-Z*/,#@ :.\\-]{0,16}",
        1 => "\\PC{0,24}",
        1 => any::<String>(),
    ]
}

fn scalar() -> impl Strategy<Value = Doc> {
    prop_oneof![
        4 => text().prop_map(Doc::Text),
        2 => prop_oneof![
            (-3i64..70).boxed(),
            any::<i64>().boxed(),
            Just(i64::from(u32::MAX) + 1).boxed(),
        ]
        .prop_map(Doc::Int),
        1 => prop_oneof![Just(0.5), Just(-1.0), Just(1e300), any::<f64>()]
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Doc::Float),
        1 => any::<bool>().prop_map(Doc::Bool),
        1 => Just(Doc::Null),
    ]
}

/// Any YAML tree, keys drawn from `keys` or made up.
fn tree(keys: &'static [&'static str]) -> impl Strategy<Value = Doc> {
    scalar().prop_recursive(3, 24, 5, move |inner| {
        prop_oneof![
            (any::<bool>(), prop::collection::vec(inner.clone(), 0..5))
                .prop_map(|(flow, items)| Doc::List { flow, items }),
            (any::<bool>(), entries(keys, inner))
                .prop_map(|(flow, entries)| Doc::Map { flow, entries }),
        ]
    })
}

fn key(keys: &'static [&'static str]) -> BoxedStrategy<String> {
    if keys.is_empty() {
        return text().boxed();
    }
    prop_oneof![
        4 => prop::sample::select(keys).prop_map(str::to_owned),
        1 => text(),
    ]
    .boxed()
}

/// Entries with distinct keys: a key written twice makes the whole document invalid, which is
/// worth a few cases but would otherwise hide everything after it.
fn entries(
    keys: &'static [&'static str],
    value: impl Strategy<Value = Doc>,
) -> impl Strategy<Value = Vec<Entry>> {
    prop::collection::vec((key(keys), value, prop::bool::weighted(0.2)), 0..6).prop_map(|pairs| {
        let mut seen = std::collections::HashSet::new();
        pairs
            .into_iter()
            .filter(|(key, ..)| seen.insert(key.clone()))
            .map(|(key, value, comment)| Entry {
                key,
                value,
                comment,
            })
            .collect()
    })
}

/// A `cron:` value: a crontab text, or a mapping of field-shaped texts and numbers.
fn cron_value() -> impl Strategy<Value = Doc> {
    prop_oneof![
        crontab_text().prop_map(Doc::Text),
        (any::<bool>(), entries(CRON_KEYS, cron_field_value()))
            .prop_map(|(flow, entries)| Doc::Map { flow, entries }),
        tree(CRON_KEYS),
    ]
}

fn cron_field_value() -> impl Strategy<Value = Doc> {
    prop_oneof![
        4 => cron_field_text().prop_map(Doc::Text),
        2 => (0i64..70).prop_map(Doc::Int),
        1 => scalar(),
    ]
}

/// Values each task key is meant to take, as inline YAML, with a few near misses each.
const TASK_VALUES: &[(&str, &[&str])] = &[
    ("description", &["nightly backup", "''", "[a]"]),
    (
        "timezone",
        &[
            "UTC",
            "Europe/Berlin",
            "Australia/Lord_Howe",
            "Mars/Olympus",
            "''",
            "3",
        ],
    ),
    (
        "email",
        &[
            "a@example.org, b@example.org",
            "[a@example.org]",
            "nobody",
            "[1]",
            "{}",
        ],
    ),
    ("email_recipients", &["a@example.org", "[x@y.z, nobody]"]),
    ("spam", &["true", "false", "yes please", "1"]),
    ("spam_fail", &["true", "~"]),
    ("max_keep", &["50", "0", "-3", "4294967296", "many", "1.5"]),
    ("retain_failures", &["5", "-1"]),
    ("fail_by_retcode", &["false", "'false'"]),
    ("fail_by_stderr", &["true", "[]"]),
    ("sudo", &["backup", "-rf", "a b", "''", "root$"]),
    ("timeout", &["30s", "1h 30m", "0s", "soon", "''", "30"]),
    ("working_dir", &["/srv", "srv", "''", "/"]),
    (
        "env",
        &[
            "{LANG: C, RETRIES: 3}",
            "{1BAD: x}",
            "{A: [1]}",
            "[LANG]",
            "LANG=C",
        ],
    ),
    (
        "overlap",
        &["skip", "queue", "parallel", "replace", "sometimes", "1"],
    ),
    ("on_missed", &["skip", "run_once", "never"]),
    ("suspended", &["true", "false", "no"]),
    (
        "ok_exit_codes",
        &["[0, 1]", "4", "[zero]", "[4294967296]", "{a: 1}"],
    ),
    ("fail_on_exit_codes", &["[4]", "[-1, 255]", "x"]),
    (
        "fail_if_output_matches",
        &["'ERROR|FATAL'", "'(('", "'[z-a]'", "''"],
    ),
    ("output_max_bytes", &["1000", "-5", "1e3"]),
    ("missed_deadline", &["1h", "0s", "never"]),
    (
        "webhooks",
        &["[http://h/x]", "https://h/y, ftp://h", "[[1]]"],
    ),
    ("notify_after_failures", &["3", "-1"]),
    ("notify_min_interval", &["10m", "x"]),
];

const SETTINGS_VALUES: &[(&str, &[&str])] = &[
    ("socket", &["/tmp/s.sock", "''", "[a]"]),
    ("data_dir", &["/var/lib/speedrack", "~"]),
    ("socket_group", &["adm", "1"]),
    ("allow_insecure_tasks_file", &["true", "maybe"]),
    ("timezone", &["Europe/Berlin", "Mars/Olympus", "~", "''"]),
    ("shell", &["/bin/bash", "[sh]"]),
    ("shutdown_grace", &["30s", "1m 30s", "soon", "-1", "~", "5"]),
    ("kill_grace", &["0s", "10s", "1 fortnight"]),
    ("fail_by_retcode", &["false", "no"]),
    ("output_max_bytes", &["1000", "-1", "18446744073709551616"]),
    ("max_keep", &["10", "~", "-1"]),
    ("history_max_age", &["30days", "~", "old"]),
    ("history_max_bytes", &["1000000", "lots"]),
    ("missed_deadline", &["1h", "[1h]"]),
    ("app_name", &["Cron Central", "{a: 1}"]),
    (
        "script_name",
        &["/speedrack", "speedrack/", "/", "''", "' '"],
    ),
    ("SCRIPT_NAME", &["/a", "/a/"]),
    ("execution_display", &["20", "many"]),
    (
        "listen",
        &["127.0.0.1:8118", "'[::1]:80'", "nowhere", "8118"],
    ),
    ("sentry_dsn", &["https://key@sentry.example/1", "~"]),
    ("EMAIL_DISABLED", &["true", "'yes'"]),
    ("EMAIL_SMTP", &["mail.example.org"]),
    (
        "EMAIL_TO_GLOBAL",
        &["a@example.org, b@example.org", "[a@example.org]", "{a: b}"],
    ),
    (
        "web",
        &[
            "{auth: none}",
            "{auth: basic}",
            "{auth: basic, users: {a: notahash}}",
            "{auth: proxy_header, proxy_header: 'bad header'}",
            "{auth: proxy_header}",
            "{auth: sometimes}",
            "{realm: r, colour: blue}",
            "~",
            "[]",
        ],
    ),
    (
        "email",
        &[
            "{smtp_host: h, smtp_tls: starttls, to_global: [x@y.z]}",
            "{smtp_tls: sometimes}",
            "{smtp_port: 70000}",
            "{to_global: a@b.c, d@e.f}",
        ],
    ),
    (
        "notify",
        &[
            "{webhooks: [http://h/x], after_failures: 3, min_interval: 10m}",
            "{retry_backoff: soon}",
            "{retries: -1}",
        ],
    ),
];

/// A value for `key`: usually one it is meant to take (or nearly), otherwise anything.
fn value_for(
    table: &'static [(&'static str, &'static [&'static str])],
    key: &str,
) -> BoxedStrategy<Doc> {
    let meant = table
        .iter()
        .find(|(known, _)| *known == key)
        .map(|(_, values)| *values);
    match key {
        "cron" => return cron_value().boxed(),
        "interval" => return interval_text().prop_map(Doc::Text).boxed(),
        _ => {}
    }
    match meant {
        Some(values) => prop_oneof![
            4 => prop::sample::select(values).prop_map(Doc::Raw),
            1 => scalar(),
            1 => tree(&[]),
        ]
        .boxed(),
        None => prop_oneof![3 => scalar(), 1 => tree(&[])].boxed(),
    }
}

/// Entries for known keys with plausible values, and now and then one made-up key; later
/// entries replace earlier ones of the same key, since a key written twice refuses the whole file.
fn keyed_entries(
    keys: &'static [&'static str],
    table: &'static [(&'static str, &'static [&'static str])],
    count: std::ops::Range<usize>,
) -> impl Strategy<Value = Vec<Entry>> {
    let known = prop::sample::select(keys).prop_flat_map(move |key| {
        (
            Just(key.to_owned()),
            value_for(table, key),
            prop::bool::weighted(0.2),
        )
    });
    let made_up = prop::option::weighted(0.15, (text(), scalar()));
    (prop::collection::vec(known, count), made_up).prop_map(|(known, made_up)| {
        let made_up = made_up.map(|(key, value)| (key, value, false));
        let mut entries: Vec<Entry> = Vec::new();
        for (key, value, comment) in known.into_iter().chain(made_up) {
            entries.retain(|existing| existing.key != key);
            entries.push(Entry {
                key,
                value,
                comment,
            });
        }
        entries
    })
}

/// A task: a name, a command and a schedule (so validation reaches the options), then options.
fn task() -> impl Strategy<Value = Doc> {
    let name = prop_oneof![3 => "[A-Za-z][A-Za-z0-9 _-]{0,12}", 1 => text()];
    let schedule = prop_oneof![
        (
            Just("interval"),
            interval_text().prop_map(Doc::Text).boxed()
        ),
        (Just("cron"), cron_value().boxed()),
    ];
    (name, schedule, keyed_entries(TASK_KEYS, TASK_VALUES, 0..5)).prop_map(
        |(name, (schedule_key, schedule), options)| {
            let mut entries = vec![
                Entry {
                    key: "name".into(),
                    value: Doc::Text(name),
                    comment: false,
                },
                Entry {
                    key: "command".into(),
                    value: Doc::Text("true".into()),
                    comment: false,
                },
                Entry {
                    key: schedule_key.into(),
                    value: schedule,
                    comment: false,
                },
            ];
            for option in options {
                entries.retain(|existing| existing.key != option.key);
                entries.push(option);
            }
            Doc::map(entries)
        },
    )
}

/// A tasks file: a `tasks` list of tasks (and some other nodes), sometimes another top-level key.
fn tasks_document() -> impl Strategy<Value = Doc> {
    let item = prop_oneof![8 => task(), 1 => tree(TASK_KEYS)];
    (
        prop::collection::vec(item, 0..6),
        any::<bool>(),
        prop::option::weighted(0.1, (text(), tree(&[]))),
    )
        .prop_map(|(tasks, flow, other)| {
            let mut entries = vec![Entry {
                key: "tasks".into(),
                value: Doc::List { flow, items: tasks },
                comment: false,
            }];
            if let Some((key, value)) = other.filter(|(key, _)| key != "tasks") {
                entries.push(Entry {
                    key,
                    value,
                    comment: true,
                });
            }
            Doc::map(entries)
        })
}

fn settings_document() -> impl Strategy<Value = Doc> {
    prop_oneof![
        6 => keyed_entries(SETTINGS_KEYS, SETTINGS_VALUES, 0..6).prop_map(Doc::map),
        1 => tree(SETTINGS_KEYS),
    ]
}

fn interval_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[0-9]{1,3}[Mwdhms]([0-9]{1,3}[Mwdhms]){0,3}",
        2 => "[0-9 Mwdhmsx\\-]{0,12}",
        1 => text(),
    ]
}

fn crontab_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(crontab_field(), 5..=7).prop_map(|fields| fields.join(" ")),
        1 => prop::collection::vec(crontab_field(), 0..9).prop_map(|fields| fields.join(" ")),
        1 => prop::sample::select(&["@yearly", "@monthly", "@weekly", "@daily", "@hourly",
            "@midnight", "@reboot", "@"][..]).prop_map(str::to_owned),
        1 => text(),
    ]
}

fn crontab_field() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "(\\*|[0-9]{1,2})(-[0-9]{1,2})?(/[0-9]{1,2})?",
        1 => "[0-9]{1,2}(,[0-9]{1,2}){1,3}",
        1 => "[0-9]{0,2}[LW#?][0-9]?",
        1 => prop::sample::select(&["mon-fri", "jan", "sun#2", "5L", "LW", "?", "*/0", "0-"][..])
            .prop_map(str::to_owned),
        1 => "[0-9*/,#LW?a-z\\-]{1,5}",
    ]
}

fn cron_field_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "(\\*|[0-9]{1,4})(-[0-9]{1,4})?(/[0-9]{1,3})?",
        1 => "(\\*|[0-9]{1,2})(,(\\*|[0-9]{1,2})(/[0-9])?){1,3}",
        1 => "(1st|2nd|3rd|4th|5th|last|6th) +(mon|tue|wed|thu|fri|sat|sun|xyz)",
        1 => "(mon|tue|fri|sun|jan|feb|dec|xyz)(-(mon|fri|sun|dec))?(/[0-9])?",
        1 => "[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?",
        1 => text(),
    ]
}

// ---------------------------------------------------------------------------------------------
// What every refusal must carry
// ---------------------------------------------------------------------------------------------

const TASKS_PATH: &str = "/etc/speedrack/tasks.yaml";

fn line_count(text: &str) -> usize {
    text.lines().count().max(1)
}

/// Every conf error of a broken task names the file and a line inside it. (Whole-file errors are
/// checked through the loaders, which give them their line.)
fn check_conf_errors(text: &str, set: &TaskSet) -> Result<(), TestCaseError> {
    for broken in set.broken() {
        prop_assert!(
            !broken.errors.is_empty(),
            "{} broken for no reason\n{}",
            broken.label,
            text
        );
        for error in &broken.errors {
            prop_assert_eq!(error.file.as_path(), Path::new(TASKS_PATH));
            prop_assert!(
                error
                    .line
                    .is_some_and(|line| (1..=line_count(text)).contains(&line)),
                "conf error without a line in the file: {:?}\n{}",
                error,
                text
            );
            prop_assert!(!error.message.is_empty());
        }
    }
    Ok(())
}

/// What an admin sees of a file that cannot be used is `PATH:LINE: message`.
fn check_loaded(
    text: &str,
    path: &Path,
    result: Result<impl Sized, ConfigError>,
) -> Result<(), TestCaseError> {
    match result {
        Ok(_) => {}
        Err(ConfigError::Invalid {
            path: named,
            line,
            message,
        }) => {
            prop_assert_eq!(named.as_path(), path);
            // serde_yaml may point just past the last line, at the end of the input.
            prop_assert!(
                line.is_some_and(|line| (1..=line_count(text) + 1).contains(&line)),
                "{:?} is not a line of the file, for: {}\n{}",
                line,
                message,
                text
            );
            prop_assert!(!message.is_empty());
        }
        Err(other) => prop_assert!(false, "unexpected error: {}", other),
    }
    Ok(())
}

fn check_tasks_file(text: &str, default_tz: Tz) -> Result<(), TestCaseError> {
    if let Ok(set) = parse_tasks(text, Path::new(TASKS_PATH), default_tz) {
        check_conf_errors(text, &set)?;
    }
    let (_dir, path) = write_temp(text);
    check_loaded(text, &path, load_tasks(&path, default_tz))
}

fn check_settings_file(text: &str) -> Result<(), TestCaseError> {
    let (_dir, path) = write_temp(text);
    check_loaded(text, &path, load_settings(Some(&path)))
}

fn write_temp(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("file.yaml");
    std::fs::write(&path, text).expect("write temp file");
    (dir, path)
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

proptest! {
    // No regression files: a failure found here is kept as a unit test beside the parser.
    #![proptest_config(ProptestConfig {
        cases: 384,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn tasks_files_of_any_text_are_read_or_refused_with_a_line(text in yaml_ish_text()) {
        check_tasks_file(&text, Tz::UTC)?;
    }

    #[test]
    fn generated_tasks_files_are_read_or_refused_with_a_line(doc in tasks_document()) {
        check_tasks_file(&doc.render(), chrono_tz::Europe::Berlin)?;
    }

    #[test]
    fn settings_of_any_text_are_read_or_refused_with_a_line(text in yaml_ish_text()) {
        check_settings_file(&text)?;
    }

    #[test]
    fn generated_settings_are_read_or_refused_with_a_line(doc in settings_document()) {
        let text = doc.render();
        // The pure parser must not panic either; its errors are located by the loader.
        let _ = parse_settings(&text);
        check_settings_file(&text)?;
    }

    #[test]
    fn intervals_parse_to_a_positive_period_or_name_the_text(text in interval_or_any()) {
        match parse_interval(&text) {
            Ok(period) => {
                prop_assert!(period > Duration::ZERO);
                // What is shown for an interval reads back as the same interval.
                prop_assert_eq!(parse_interval(&format_interval(period)), Ok(period));
            }
            Err(error) => {
                let message = error.to_string();
                prop_assert!(message.contains("interval"), "{}", message);
                let trimmed = text.trim();
                if !trimmed.is_empty() {
                    prop_assert!(message.contains(&format!("{trimmed:?}")), "{}", message);
                }
            }
        }
    }

    #[test]
    fn crontabs_parse_and_fire_forward_or_name_the_text(
        text in prop_oneof![3 => crontab_text(), 1 => any::<String>()],
        wall in wall_time(),
    ) {
        match Crontab::parse(&text) {
            Ok(crontab) => {
                if let Some(next) = crontab.next_wall_after(wall) {
                    prop_assert!(next > wall, "{} after {}: {}", text, wall, next);
                }
            }
            Err(message) => {
                prop_assert!(message.contains(&format!("{text:?}")), "{}", message);
            }
        }
    }

    #[test]
    fn cron_mappings_parse_and_fire_forward_or_name_each_bad_key(
        fields in prop::collection::vec(
            (key(CRON_KEYS), prop_oneof![3 => cron_field_text(), 1 => any::<String>()]),
            0..6,
        ),
        wall in wall_time(),
    ) {
        match ApsCron::from_fields(&fields) {
            Ok(cron) => {
                if let Some(next) = cron.next_wall_after(wall) {
                    prop_assert!(next > wall, "{:?} after {}: {}", fields, wall, next);
                }
                prop_assert!(!cron.describe().is_empty());
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                for error in errors {
                    match &error.key {
                        Some(key) => {
                            prop_assert!(
                                fields.iter().any(|(given, _)| given == key),
                                "error names a key not given: {:?}",
                                error
                            );
                            prop_assert!(error.message.contains(key.as_str()), "{:?}", error);
                        }
                        // Only "no field at all" is about the mapping as a whole.
                        None => prop_assert!(
                            error.message.contains("at least one"),
                            "{:?}",
                            error
                        ),
                    }
                }
            }
        }
    }

    #[test]
    fn schedules_from_the_command_line_parse_or_say_why(
        interval in proptest::option::of(interval_or_any()),
        cron in proptest::option::of(prop_oneof![crontab_text(), any::<String>()]),
    ) {
        match parse_schedule(interval.as_deref(), cron.as_deref(), Tz::UTC) {
            Ok((_, shown)) => prop_assert!(!shown.is_empty()),
            Err(message) => prop_assert!(!message.trim().is_empty()),
        }
    }

    #[test]
    fn next_fires_are_strictly_later_in_any_zone(
        (schedule, after) in zone_and_instant()
            .prop_flat_map(|(tz, after)| (valid_schedule(tz), Just(after))),
        anchor in instant(),
    ) {
        if let Some(next) = schedule.next_after(anchor, after) {
            prop_assert!(next > after, "{:?}: after {} came {}", schedule, after, next);
            if let Some(following) = schedule.next_after(anchor, next) {
                prop_assert!(following > next, "{:?}: after {} came {}", schedule, next, following);
            }
        }
    }
}

/// Any string, or lines built from YAML's punctuation, which reach deeper than random text.
fn yaml_ish_text() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => any::<String>(),
        2 => prop::collection::vec("[ -]{0,4}[a-z_#&*!|>'\"{}\\[\\],:?~0-9-]{0,12}", 0..8)
            .prop_map(|lines| lines.join("\n")),
    ]
}

fn interval_or_any() -> impl Strategy<Value = String> {
    prop_oneof![3 => interval_text(), 1 => any::<String>()]
}

/// Wall times across the range any schedule can be asked about, the edges included.
fn wall_time() -> impl Strategy<Value = NaiveDateTime> {
    instant().prop_map(|at| at.naive_utc())
}

/// Instants mostly around now, sometimes anywhere from year 1 to 9999.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    const YEAR_1: i64 = -62_135_596_800;
    const YEAR_9999_END: i64 = 253_402_300_799;
    prop_oneof![
        4 => 1_600_000_000i64..2_200_000_000,
        1 => YEAR_1..=YEAR_9999_END,
        1 => prop::sample::select(&[YEAR_1, 0, YEAR_9999_END - 3600, YEAR_9999_END][..]),
    ]
    .prop_map(|seconds| {
        Utc.timestamp_opt(seconds, 0)
            .single()
            .expect("in chrono's range")
    })
}

fn zone() -> impl Strategy<Value = Tz> {
    prop::sample::select(&chrono_tz::TZ_VARIANTS[..])
}

/// Clock changes to search around: spring forward and fall back in Europe and North America,
/// half-hour ones (Lord Howe), ones at midnight (São Paulo, Santiago) and Samoa's skipped day.
const CLOCK_CHANGES: &[(Tz, i64)] = &[
    (chrono_tz::Europe::Berlin, 1_774_746_000),
    (chrono_tz::Europe::Berlin, 1_792_890_000),
    (chrono_tz::America::New_York, 1_772_953_200),
    (chrono_tz::America::New_York, 1_793_512_800),
    (chrono_tz::Australia::Lord_Howe, 1_791_041_400),
    (chrono_tz::Australia::Lord_Howe, 1_775_314_800),
    (chrono_tz::Pacific::Apia, 1_325_239_200),
    (chrono_tz::America::Sao_Paulo, 1_541_300_400),
    (chrono_tz::America::Santiago, 1_775_358_000),
];

/// A zone and an instant: anywhere in any zone, or within hours of one of its clock changes.
fn zone_and_instant() -> impl Strategy<Value = (Tz, DateTime<Utc>)> {
    const HOURS_4: i64 = 4 * 3600;
    prop_oneof![
        (zone(), instant()),
        (prop::sample::select(CLOCK_CHANGES), -HOURS_4..HOURS_4).prop_map(
            |((tz, change), offset)| {
                let at = Utc.timestamp_opt(change + offset, 0).single();
                (tz, at.expect("near 2026"))
            }
        ),
    ]
}

/// Schedules that parse: generated texts that fail to parse are dropped, so the strategy leans on
/// shapes that mostly succeed.
fn valid_schedule(tz: Tz) -> impl Strategy<Value = Schedule> {
    prop_oneof![
        (1u64..400_000_000).prop_map(|seconds| Schedule::Interval(Duration::from_secs(seconds))),
        crontab_text().prop_filter_map("not a crontab", move |text| {
            let crontab = Crontab::parse(&text).ok()?;
            Some(Schedule::Calendar {
                pattern: Pattern::Crontab(Box::new(crontab)),
                tz,
            })
        }),
        prop::collection::vec((prop::sample::select(CRON_KEYS), cron_field_text()), 1..4)
            .prop_filter_map("not a cron mapping", move |fields| {
                let fields: Vec<(String, String)> = fields
                    .into_iter()
                    .map(|(key, value)| (key.to_owned(), value))
                    .collect();
                let cron = ApsCron::from_fields(&fields).ok()?;
                Some(Schedule::Calendar {
                    pattern: Pattern::Aps(cron),
                    tz,
                })
            }),
    ]
}
