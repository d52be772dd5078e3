//! Typed reading of one YAML mapping, key by key, collecting every problem as a conf error with
//! its line instead of stopping at the first. Boolean and numeric keys read their values as
//! Speedrack 0.6.1 did (`tasks/pyyaml.rs`); what it read by Python's truthiness is kept as a
//! warning with its line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_yaml::{Mapping, Value};

use super::limits::{MAX_DURATION, MAX_TEXT_BYTES, bytes_text, check_duration};
use super::tasks::ConfError;
use super::tasks::pyyaml::{self, Truth};
use super::yaml_lines::Node;

/// One mapping being read, and the problems found so far.
pub struct Fields<'a> {
    map: &'a Mapping,
    positions: Option<&'a Node>,
    file: &'a Path,
    pub errors: Vec<ConfError>,
    /// What loads but may not mean what it says: shown by `check`, logged at start and reload.
    pub warnings: Vec<ConfError>,
}

impl<'a> Fields<'a> {
    pub fn new(map: &'a Mapping, positions: Option<&'a Node>, file: &'a Path) -> Fields<'a> {
        Fields {
            map,
            positions,
            file,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The line of a key path (`cron.minute`), else of the mapping itself.
    pub fn line(&self, key: Option<&str>) -> Option<usize> {
        let node = self.positions?;
        key.and_then(|key| node.line_of(key)).or(Some(node.line()))
    }

    pub fn error(&mut self, key: Option<&str>, message: impl Into<String>) {
        let error = self.problem(key, message.into());
        self.errors.push(error);
    }

    pub fn warn(&mut self, key: Option<&str>, message: impl Into<String>) {
        let warning = self.problem(key, message.into());
        self.warnings.push(warning);
    }

    fn problem(&self, key: Option<&str>, message: String) -> ConfError {
        ConfError {
            file: self.file.to_path_buf(),
            line: self.line(key),
            key: key.map(str::to_owned),
            message,
        }
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    /// Keys that are not in `known`, each an error with its line. (Keys written twice never get
    /// here: serde_yaml refuses such a document as a whole.)
    pub fn check_keys(&mut self, known: &[&str]) {
        let unknown: Vec<String> = self
            .map
            .keys()
            .map(|key| {
                key.as_str()
                    .map_or_else(|| format!("{key:?}"), str::to_owned)
            })
            .filter(|key| !known.contains(&key.as_str()))
            .collect();
        for key in unknown {
            self.error(
                Some(&key),
                format!("unknown key {key:?} (known keys: {})", known.join(", ")),
            );
        }
    }

    /// A text value of at most [`MAX_TEXT_BYTES`]; numbers are not silently turned into text.
    pub fn text(&mut self, key: &str) -> Option<String> {
        self.text_at_most(key, MAX_TEXT_BYTES)
    }

    /// A text value of at most `limit` bytes.
    pub fn text_at_most(&mut self, key: &str, limit: usize) -> Option<String> {
        match self.get(key)? {
            Value::String(text) if text.len() > limit => {
                self.error(
                    Some(key),
                    format!(
                        "{key} is {} bytes long: at most {} (move long scripts into a file and run that)",
                        text.len(),
                        bytes_text(limit as u64)
                    ),
                );
                None
            }
            Value::String(text) => Some(text.clone()),
            Value::Null => None,
            other => {
                self.error(
                    Some(key),
                    format!("{key} must be text, not {} (put it in quotes)", kind(other)),
                );
                None
            }
        }
    }

    /// A boolean: YAML 1.1's `yes`/`no`/`on`/`off` too, and any other text or number by
    /// Python's truthiness, with a warning.
    pub fn flag(&mut self, key: &str) -> Option<bool> {
        match pyyaml::truth(key, self.get(key)?) {
            Truth::Unset => None,
            Truth::Plain(flag) => Some(flag),
            Truth::Truthy { flag, note } => {
                self.warn(Some(key), note);
                Some(flag)
            }
            Truth::Refused(message) => {
                self.error(Some(key), message);
                None
            }
        }
    }

    /// A whole number from 0 to `u32::MAX`, written as a number or as text (`"50"`).
    pub fn count(&mut self, key: &str) -> Option<u32> {
        let value = self.get(key)?;
        if let Some(number) = pyyaml::number_in_text(value) {
            return self.count_of(key, serde_yaml::Number::from(number));
        }
        match value {
            Value::Number(number) => self.count_of(key, number.clone()),
            Value::Null => None,
            other => {
                self.error(
                    Some(key),
                    format!("{key} must be a whole number, not {}", kind(other)),
                );
                None
            }
        }
    }

    fn count_of(&mut self, key: &str, number: serde_yaml::Number) -> Option<u32> {
        match number.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(count) => Some(count),
            None => {
                self.error(
                    Some(key),
                    format!(
                        "{key} must be a whole number from 0 to {}, not {number}",
                        u32::MAX
                    ),
                );
                None
            }
        }
    }

    /// A list of whole numbers (exit codes).
    pub fn int_list(&mut self, key: &str) -> Vec<i32> {
        let values = match self.get(key) {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Sequence(values)) => values.clone(),
            Some(single @ Value::Number(_)) => vec![single.clone()],
            Some(other) => {
                let message = format!("{key} must be a list of whole numbers, not {}", kind(other));
                self.error(Some(key), message);
                return Vec::new();
            }
        };
        let numbers: Option<Vec<i32>> = values
            .iter()
            .map(|value| value.as_i64().and_then(|n| i32::try_from(n).ok()))
            .collect();
        numbers.unwrap_or_else(|| {
            self.error(
                Some(key),
                format!("{key} must be a list of whole numbers, like [0, 1]"),
            );
            Vec::new()
        })
    }

    /// A positive duration like `30s` or `1h 30m`, at most [`MAX_DURATION`].
    pub fn duration(&mut self, key: &str) -> Option<Duration> {
        let text = self.text(key)?;
        match humantime::parse_duration(&text) {
            Ok(duration) if duration > MAX_DURATION => {
                let message = check_duration(key, duration).err().unwrap_or_default();
                self.error(Some(key), message);
                None
            }
            Ok(duration) if !duration.is_zero() => Some(duration),
            Ok(_) => {
                self.error(Some(key), format!("{key} must be longer than zero"));
                None
            }
            Err(error) => {
                self.error(
                    Some(key),
                    format!(
                        "{key} {text:?} is not a duration ({error}); write it like 30s or 1h 30m"
                    ),
                );
                None
            }
        }
    }

    /// One of a fixed set of words.
    pub fn choice<T: Copy>(&mut self, key: &str, choices: &[(&str, T)]) -> Option<T> {
        let text = self.text(key)?;
        let found = choices
            .iter()
            .find(|(word, _)| *word == text)
            .map(|(_, value)| *value);
        if found.is_none() {
            let words: Vec<&str> = choices.iter().map(|(word, _)| *word).collect();
            self.error(
                Some(key),
                format!("{key} {text:?} is not one of: {}", words.join(", ")),
            );
        }
        found
    }

    /// A list of texts, written as a YAML list or as one comma-separated text.
    pub fn text_list(&mut self, key: &str) -> Option<Vec<String>> {
        let items: Vec<String> = match self.get(key)? {
            Value::String(text) => text.split(',').map(|item| item.trim().to_owned()).collect(),
            Value::Sequence(values) => {
                let mut items = Vec::new();
                for value in values {
                    match value.as_str() {
                        Some(text) => items.push(text.trim().to_owned()),
                        None => {
                            self.error(
                                Some(key),
                                format!("every item of {key} must be text, not {}", kind(value)),
                            );
                            return None;
                        }
                    }
                }
                items
            }
            Value::Null => return None,
            other => {
                self.error(
                    Some(key),
                    format!("{key} must be text or a list, not {}", kind(other)),
                );
                return None;
            }
        };
        if let Some(long) = items.iter().find(|item| item.len() > MAX_TEXT_BYTES) {
            let message = too_long_item(key, long.len());
            self.error(Some(key), message);
            return None;
        }
        Some(items.into_iter().filter(|item| !item.is_empty()).collect())
    }

    /// A mapping of names to scalar values, all turned into text.
    pub fn text_map(&mut self, key: &str) -> Option<BTreeMap<String, String>> {
        let map = match self.get(key)? {
            Value::Mapping(map) => map,
            Value::Null => return None,
            other => {
                self.error(
                    Some(key),
                    format!(
                        "{key} must be a mapping of NAME: value, not {}",
                        kind(other)
                    ),
                );
                return None;
            }
        };
        let mut out = BTreeMap::new();
        for (name, value) in map {
            let (Some(name), Some(value)) = (name.as_str(), scalar_text(value)) else {
                self.error(
                    Some(key),
                    format!("{key} entries must be NAME: value with a text or number value"),
                );
                return None;
            };
            if name.len().max(value.len()) > MAX_TEXT_BYTES {
                let message = too_long_item(key, name.len().max(value.len()));
                self.error(Some(key), message);
                return None;
            }
            out.insert(name.to_owned(), value);
        }
        Some(out)
    }

    pub fn absolute_path(&mut self, key: &str) -> Option<PathBuf> {
        let path = PathBuf::from(self.text(key)?);
        if path.is_absolute() {
            Some(path)
        } else {
            self.error(
                Some(key),
                format!("{key} {} must be an absolute path", path.display()),
            );
            None
        }
    }
}

fn too_long_item(key: &str, length: usize) -> String {
    format!(
        "an entry of {key} is {length} bytes long: at most {}",
        bytes_text(MAX_TEXT_BYTES as u64)
    )
}

/// A scalar as text: strings as they are, numbers and booleans as written.
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// What kind of YAML value this is, for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "empty",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}
