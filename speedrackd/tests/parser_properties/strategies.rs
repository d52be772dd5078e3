//! Strategies for the parser properties: texts that look like intervals, crontab fields and cron
//! mapping fields; YAML trees of settings and tasks files with real keys and near-miss values;
//! valid schedules; time zones and instants, near clock changes among them.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use speedrackd::schedule::apscheduler::ApsCron;
use speedrackd::schedule::{Crontab, Pattern, Schedule};

use super::yaml_doc::{Doc, Entry};

pub(super) use speedrackd::config::TASK_KEYS;

pub(super) const CRON_KEYS: &[&str] = &[
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

pub(super) const SETTINGS_KEYS: &[&str] = &[
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
pub(super) const WORDS: &[&str] = &[
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

pub(super) fn word() -> impl Strategy<Value = String> {
    prop::sample::select(WORDS).prop_map(str::to_owned)
}

/// Arbitrary text: mostly short and cron/interval-shaped, sometimes any printable string,
/// sometimes one of the meaningful words.
pub(super) fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => word(),
        2 => "[0-9a-zA-Z*/,#@ :.\\-]{0,16}",
        1 => "\\PC{0,24}",
        1 => any::<String>(),
    ]
}

pub(super) fn scalar() -> impl Strategy<Value = Doc> {
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
pub(super) fn tree(keys: &'static [&'static str]) -> impl Strategy<Value = Doc> {
    scalar().prop_recursive(3, 24, 5, move |inner| {
        prop_oneof![
            (any::<bool>(), prop::collection::vec(inner.clone(), 0..5))
                .prop_map(|(flow, items)| Doc::List { flow, items }),
            (any::<bool>(), entries(keys, inner))
                .prop_map(|(flow, entries)| Doc::Map { flow, entries }),
        ]
    })
}

pub(super) fn key(keys: &'static [&'static str]) -> BoxedStrategy<String> {
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
pub(super) fn entries(
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
pub(super) fn cron_value() -> impl Strategy<Value = Doc> {
    prop_oneof![
        crontab_text().prop_map(Doc::Text),
        (any::<bool>(), entries(CRON_KEYS, cron_field_value()))
            .prop_map(|(flow, entries)| Doc::Map { flow, entries }),
        tree(CRON_KEYS),
    ]
}

pub(super) fn cron_field_value() -> impl Strategy<Value = Doc> {
    prop_oneof![
        4 => cron_field_text().prop_map(Doc::Text),
        2 => (0i64..70).prop_map(Doc::Int),
        1 => scalar(),
    ]
}

/// Values each task key is meant to take, as inline YAML, with a few near misses each.
pub(super) const TASK_VALUES: &[(&str, &[&str])] = &[
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

pub(super) const SETTINGS_VALUES: &[(&str, &[&str])] = &[
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
pub(super) fn value_for(
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
pub(super) fn keyed_entries(
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
pub(super) fn task() -> impl Strategy<Value = Doc> {
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
pub(super) fn tasks_document() -> impl Strategy<Value = Doc> {
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

pub(super) fn settings_document() -> impl Strategy<Value = Doc> {
    prop_oneof![
        6 => keyed_entries(SETTINGS_KEYS, SETTINGS_VALUES, 0..6).prop_map(Doc::map),
        1 => tree(SETTINGS_KEYS),
    ]
}

pub(super) fn interval_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[0-9]{1,3}[Mwdhms]([0-9]{1,3}[Mwdhms]){0,3}",
        2 => "[0-9 Mwdhmsx\\-]{0,12}",
        1 => text(),
    ]
}

pub(super) fn crontab_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(crontab_field(), 5..=7).prop_map(|fields| fields.join(" ")),
        1 => prop::collection::vec(crontab_field(), 0..9).prop_map(|fields| fields.join(" ")),
        1 => prop::sample::select(&["@yearly", "@monthly", "@weekly", "@daily", "@hourly",
            "@midnight", "@reboot", "@"][..]).prop_map(str::to_owned),
        1 => text(),
    ]
}

pub(super) fn crontab_field() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "(\\*|[0-9]{1,2})(-[0-9]{1,2})?(/[0-9]{1,2})?",
        1 => "[0-9]{1,2}(,[0-9]{1,2}){1,3}",
        1 => "[0-9]{0,2}[LW#?][0-9]?",
        1 => prop::sample::select(&["mon-fri", "jan", "sun#2", "5L", "LW", "?", "*/0", "0-"][..])
            .prop_map(str::to_owned),
        1 => "[0-9*/,#LW?a-z\\-]{1,5}",
    ]
}

pub(super) fn cron_field_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "(\\*|[0-9]{1,4})(-[0-9]{1,4})?(/[0-9]{1,3})?",
        1 => "(\\*|[0-9]{1,2})(,(\\*|[0-9]{1,2})(/[0-9])?){1,3}",
        1 => "(1st|2nd|3rd|4th|5th|last|6th) +(mon|tue|wed|thu|fri|sat|sun|xyz)",
        1 => "(mon|tue|fri|sun|jan|feb|dec|xyz)(-(mon|fri|sun|dec))?(/[0-9])?",
        1 => "[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?",
        1 => text(),
    ]
}

/// Any string, or lines built from YAML's punctuation, which reach deeper than random text.
pub(super) fn yaml_ish_text() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => any::<String>(),
        2 => prop::collection::vec("[ -]{0,4}[a-z_#&*!|>'\"{}\\[\\],:?~0-9-]{0,12}", 0..8)
            .prop_map(|lines| lines.join("\n")),
    ]
}

pub(super) fn interval_or_any() -> impl Strategy<Value = String> {
    prop_oneof![3 => interval_text(), 1 => any::<String>()]
}

/// Wall times across the range any schedule can be asked about, the edges included.
pub(super) fn wall_time() -> impl Strategy<Value = NaiveDateTime> {
    instant().prop_map(|at| at.naive_utc())
}

/// Instants mostly around now, sometimes anywhere from year 1 to 9999.
pub(super) fn instant() -> impl Strategy<Value = DateTime<Utc>> {
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

pub(super) fn zone() -> impl Strategy<Value = Tz> {
    prop::sample::select(&chrono_tz::TZ_VARIANTS[..])
}

/// Clock changes to search around: spring forward and fall back in Europe and North America,
/// half-hour ones (Lord Howe), ones at midnight (São Paulo, Santiago) and Samoa's skipped day.
pub(super) const CLOCK_CHANGES: &[(Tz, i64)] = &[
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
pub(super) fn zone_and_instant() -> impl Strategy<Value = (Tz, DateTime<Utc>)> {
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
pub(super) fn valid_schedule(tz: Tz) -> impl Strategy<Value = Schedule> {
    prop_oneof![
        (1u64..400_000_000).prop_map(|seconds| Schedule::Interval(Duration::from_secs(seconds))),
        crontab_text().prop_filter_map("not a crontab", move |text| {
            let crontab = Crontab::parse(&text).ok()?;
            Some(Schedule::Calendar {
                pattern: Pattern::Crontab(std::sync::Arc::new(crontab)),
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
