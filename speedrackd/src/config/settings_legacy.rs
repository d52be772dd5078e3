//! Speedrack 0.6.1's settings keys in our settings file: which of its keys no longer mean
//! anything (accepted, each with a reason it is ignored), which keys are two spellings of one
//! setting (both at once is an error naming both), and the conversions 0.6.1's values need
//! (`MAX_RUNS = False`, `EMAIL_SMTP = "host:port"`). The keys that map one to one are serde
//! aliases on `Settings`; this file does not know the settings' types.
//!
//! The checks run on each top-level key as serde reads it, through a `MapAccess` that wraps the
//! file's, so a refusal carries the key's own line and the ignored keys never reach the
//! struct's `deny_unknown_fields`.

use std::fmt;
use std::path::Path;

use serde::de::{self, DeserializeSeed, IgnoredAny, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A key of 0.6.1 that speedrack accepts and ignores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredKey {
    pub key: String,
    /// Where it is written, when known.
    pub line: Option<usize>,
    pub reason: &'static str,
}

impl IgnoredKey {
    /// `FILE:LINE: KEY is ignored: why`, one line.
    pub fn describe(&self, settings: &Path) -> String {
        let line = self.line.map(|line| format!(":{line}")).unwrap_or_default();
        format!(
            "{}{line}: {} is ignored: {}",
            settings.display(),
            self.key,
            self.reason
        )
    }
}

/// Why a key of 0.6.1 means nothing to speedrack; `None` for every other key.
pub fn ignored_reason(key: &str) -> Option<&'static str> {
    let reason = match key {
        "DEBUG" => "speedrack has no debug mode; set RUST_LOG=debug for more detailed logs",
        "FLASK_DEBUG_TOOLBAR" => "the Flask debug toolbar is not part of speedrack",
        key if key.starts_with("DEBUG_TB_") => "the Flask debug toolbar is not part of speedrack",
        "LOG_DIR" => "speedrackd logs to the journal (or stderr), not to a directory of its own",
        "LOG_MAX_SIZE" | "MAX_LOG_SIZE" | "LOG_COUNT" => {
            "speedrackd logs to the journal (or stderr), whose own settings rotate the logs"
        }
        "JOB_STATE" => {
            "it held 0.6.1's scheduler state; speedrack keeps schedule state in its database \
             in data_dir"
        }
        "SECRET_KEY" => "the web UI signs its forms with a key it keeps in data_dir",
        "PORT" => {
            "0.6.1 took its port from `run --port`; use `speedrackd run --port N` or `listen`"
        }
        "EMAIL_DEBUG" => "there is no mail debug switch; RUST_LOG=debug logs each notification",
        _ => return None,
    };
    Some(reason)
}

/// Spellings of one setting: ours first, then 0.6.1's.
const SAME_SETTING: &[&[&str]] = &[
    &[
        "fail_by_retcode",
        "FAIL_BY_RETCODE",
        "FAIL_BY_NONZERO_STATUS_CODE",
    ],
    &["fail_by_stderr", "FAIL_BY_STDERR"],
    &["max_keep", "MAX_RUNS"],
    &["app_name", "APP_NAME"],
    &["script_name", "SCRIPT_NAME"],
    &["execution_display", "EXECUTION_DISPLAY"],
    &["fsize_max", "FSIZE_MAX"],
    &["fsize_summary", "FSIZE_SUMMARY"],
    &["email_url_prefix", "EMAIL_URL_PREFIX"],
    &["tasks_file", "CONFIG_YAML"],
    &["speedrack_dir", "SPEEDRACK_DIR"],
    &["job_root_dir", "JOB_ROOT_DIR"],
    &["suspended_file", "SUSPENDED_FILE"],
];

/// 0.6.1's flat email keys, which our `email:` section holds.
const FLAT_EMAIL: &[&str] = &[
    "EMAIL_DISABLED",
    "EMAIL_SMTP",
    "EMAIL_FROM_ADDRESS",
    "EMAIL_TO_GLOBAL",
];

/// What the key filter saw in one file.
#[derive(Debug, Default)]
pub struct Found {
    seen: Vec<String>,
    pub ignored: Vec<IgnoredKey>,
}

impl Found {
    /// Records `key`; an error when another spelling of the same setting came before it.
    fn see(&mut self, key: &str) -> Result<(), String> {
        let earlier = |candidates: &[&str]| {
            self.seen
                .iter()
                .find(|seen| *seen != key && candidates.contains(&seen.as_str()))
                .cloned()
        };
        if let Some(group) = SAME_SETTING.iter().find(|group| group.contains(&key))
            && let Some(other) = earlier(group)
        {
            return Err(format!(
                "`{other}` and `{key}` are two names of the same setting ({} in 0.6.1's \
                 spelling); keep one of them",
                group[0]
            ));
        }
        let clash = match key {
            "email" => earlier(FLAT_EMAIL),
            flat if FLAT_EMAIL.contains(&flat) => earlier(&["email"]),
            _ => None,
        };
        if let Some(other) = clash {
            return Err(format!(
                "`{other}` and `{key}` both set the email settings; keep them in one place: \
                 0.6.1's EMAIL_SMTP, EMAIL_FROM_ADDRESS, EMAIL_TO_GLOBAL, EMAIL_DISABLED, or the \
                 `email:` section (smtp_host, smtp_port, from, to_global, disabled)"
            ));
        }
        self.seen.push(key.to_owned());
        Ok(())
    }
}

/// The file's top-level mapping, with 0.6.1's ignored keys taken out and its spellings checked.
pub struct Filter<'f, A> {
    pub map: A,
    pub found: &'f mut Found,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Filter<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let mut seed = Some(seed);
        loop {
            let key = KeySeed {
                seed: &mut seed,
                found: self.found,
            };
            match self.map.next_key_seed(key)? {
                None => return Ok(None),
                Some(Some(key)) => return Ok(Some(key)),
                Some(None) => {
                    self.map.next_value::<IgnoredAny>()?;
                }
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// Reads one key: `None` for an ignored key, else the struct's own field for it. It reads the
/// key as text itself, inside the file's deserializer, so that its errors carry the key's line.
struct KeySeed<'s, K> {
    seed: &'s mut Option<K>,
    found: &'s mut Found,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, K> {
    type Value = Option<K::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de, K: DeserializeSeed<'de>> Visitor<'de> for KeySeed<'_, K> {
    type Value = Option<K::Value>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a setting's name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        if let Some(reason) = ignored_reason(key) {
            self.found.ignored.push(IgnoredKey {
                key: key.to_owned(),
                line: None,
                reason,
            });
            return Ok(None);
        }
        self.found.see(key).map_err(E::custom)?;
        let seed = self
            .seed
            .take()
            .ok_or_else(|| E::custom("a key was read twice"))?;
        seed.deserialize(key.into_deserializer()).map(Some)
    }
}

/// 0.6.1's `MAX_RUNS`: `False` (or 0, which 0.6.1 also took for "no limit") keeps all runs.
pub fn max_runs<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<u32>>, D::Error> {
    struct MaxRuns;
    impl Visitor<'_> for MaxRuns {
        type Value = Option<u32>;

        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("False (keep all runs) or a number of runs")
        }

        fn visit_bool<E: de::Error>(self, keep: bool) -> Result<Option<u32>, E> {
            match keep {
                false => Ok(None),
                true => Err(E::custom(
                    "MAX_RUNS = True is no number of runs; write False to keep all, or a number",
                )),
            }
        }

        fn visit_u64<E: de::Error>(self, count: u64) -> Result<Option<u32>, E> {
            let count = u32::try_from(count)
                .map_err(|_| E::custom(format!("MAX_RUNS must be at most {}", u32::MAX)))?;
            Ok(Some(count).filter(|&count| count > 0))
        }

        fn visit_i64<E: de::Error>(self, count: i64) -> Result<Option<u32>, E> {
            let count = u64::try_from(count)
                .map_err(|_| E::custom(format!("MAX_RUNS must not be negative, not {count}")))?;
            self.visit_u64(count)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Option<u32>, E> {
            Ok(None)
        }
    }
    deserializer.deserialize_any(MaxRuns).map(Some)
}

/// 0.6.1's `EMAIL_SMTP`: a host, or `host:port` as Python's smtplib split it (at the one colon;
/// a text with more colons is an IPv6 address without a port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpAddress {
    pub host: String,
    pub port: Option<u16>,
}

impl<'de> Deserialize<'de> for SmtpAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Address;
        impl Visitor<'_> for Address {
            type Value = SmtpAddress;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("an SMTP server as host or host:port")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<SmtpAddress, E> {
                split_smtp(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Address)
    }
}

fn split_smtp(text: &str) -> Result<SmtpAddress, String> {
    let text = text.trim();
    let (host, port) = match text.split_once(':') {
        Some((host, port)) if !port.contains(':') => (host, Some(port)),
        _ => (text, None),
    };
    let port = port
        .map(|port| {
            port.parse::<u16>().map_err(|_| {
                format!("EMAIL_SMTP {text:?}: the port after `:` must be a number from 0 to 65535")
            })
        })
        .transpose()?;
    if host.is_empty() {
        return Err(format!(
            "EMAIL_SMTP {text:?} names no host; write host or host:port"
        ));
    }
    Ok(SmtpAddress {
        host: host.to_owned(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obsolete_keys_each_have_a_reason_and_others_none() {
        for key in [
            "DEBUG",
            "FLASK_DEBUG_TOOLBAR",
            "DEBUG_TB_INTERCEPT_REDIRECTS",
            "DEBUG_TB_ENABLED",
            "LOG_DIR",
            "LOG_MAX_SIZE",
            "LOG_COUNT",
            "JOB_STATE",
            "PORT",
        ] {
            assert!(ignored_reason(key).is_some(), "{key}");
        }
        for key in ["APP_NAME", "debug", "DEBUGGER", "app_name", "MAX_RUNS"] {
            assert!(ignored_reason(key).is_none(), "{key}");
        }
    }

    #[test]
    fn two_spellings_of_one_setting_are_refused_naming_both() {
        let mut found = Found::default();
        found.see("FAIL_BY_NONZERO_STATUS_CODE").expect("first");
        found.see("app_name").expect("other setting");
        let error = found.see("fail_by_retcode").expect_err("same setting");
        assert!(
            error.contains("`FAIL_BY_NONZERO_STATUS_CODE` and `fail_by_retcode`"),
            "{error}"
        );
        let mut found = Found::default();
        found.see("EMAIL_SMTP").expect("flat");
        found
            .see("EMAIL_FROM_ADDRESS")
            .expect("flat keys go together");
        let error = found.see("email").expect_err("two places");
        assert!(error.contains("`EMAIL_SMTP` and `email`"), "{error}");
    }

    #[test]
    fn smtp_addresses_split_as_smtplib_split_them() {
        let cases = [
            ("smtp.example.org", "smtp.example.org", None),
            ("smtp.example.org:2525", "smtp.example.org", Some(2525)),
            (" mail:25 ", "mail", Some(25)),
            ("::1", "::1", None),
        ];
        for (text, host, port) in cases {
            let address = split_smtp(text).expect(text);
            assert_eq!(
                (address.host.as_str(), address.port),
                (host, port),
                "{text}"
            );
        }
        for text in ["mail:smtp", "mail:70000", ":25", ""] {
            assert!(split_smtp(text).is_err(), "{text}");
        }
    }

    #[test]
    fn ignored_keys_are_described_on_one_line_with_their_place() {
        let key = IgnoredKey {
            key: "LOG_DIR".to_owned(),
            line: Some(7),
            reason: ignored_reason("LOG_DIR").unwrap_or_default(),
        };
        let text = key.describe(Path::new("/etc/speedrack_settings.py"));
        assert!(
            text.starts_with("/etc/speedrack_settings.py:7: LOG_DIR is ignored: speedrackd logs"),
            "{text}"
        );
        assert!(!text.contains('\n'));
    }
}
