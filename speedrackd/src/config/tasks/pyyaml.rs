//! Scalars of boolean and numeric task keys as Speedrack 0.6.1 read them. It read the tasks file
//! with PyYAML (YAML 1.1) and then used each value by Python's truthiness (`if spam:`) or
//! `int(max_keep)`, so files written for it say `spam: yes`, `spam: oh hell yes` or
//! `max_keep: "50"`. serde_yaml reads YAML 1.2, where all three are text. This module says what
//! such a value means and whether that deserves a warning; it does not read any other key.
//!
//! Not told apart: a quoted `"no"` is text to PyYAML (and so true to 0.6.1) but is read here as
//! the YAML 1.1 `no`, since serde_yaml keeps no quoting; a file that relied on that would have
//! meant the opposite of what it says.

use serde_yaml::Value;

use crate::config::fields::kind;

/// What PyYAML resolves to true and false, besides the `true`/`false` spellings serde_yaml
/// already reads. (`y` and `n` are YAML 1.1 booleans too, but PyYAML never resolved them: to
/// 0.6.1 they were text, and so true.)
const YAML11_TRUE: &[&str] = &["yes", "Yes", "YES", "on", "On", "ON"];
const YAML11_FALSE: &[&str] = &["no", "No", "NO", "off", "Off", "OFF"];

/// A boolean key's value, read as 0.6.1 read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Truth {
    /// Left empty: the key is as good as absent.
    Unset,
    /// A boolean in YAML 1.1 or 1.2.
    Plain(bool),
    /// Text or a number that 0.6.1 read by Python's truthiness; the note says so.
    Truthy { flag: bool, note: String },
    /// A list or a mapping: never meant as a boolean.
    Refused(String),
}

/// Reads `value` of the boolean key `key`.
pub fn truth(key: &str, value: &Value) -> Truth {
    match value {
        Value::Null => Truth::Unset,
        Value::Bool(flag) => Truth::Plain(*flag),
        Value::String(text) if YAML11_TRUE.contains(&text.as_str()) => Truth::Plain(true),
        Value::String(text) if YAML11_FALSE.contains(&text.as_str()) => Truth::Plain(false),
        Value::String(text) => {
            let flag = !text.is_empty();
            let what = if flag { "text" } else { "empty text" };
            Truth::Truthy {
                flag,
                note: format!(
                    "{text:?} is not true or false; read as {flag}, as Speedrack 0.6.1 read any \
                     {what} (write true or false to say which)"
                ),
            }
        }
        Value::Number(number) => {
            let flag = number.as_f64().is_none_or(|n| n != 0.0);
            match number.as_u64() {
                Some(0 | 1) => Truth::Plain(flag),
                _ => Truth::Truthy {
                    flag,
                    note: format!(
                        "the number {number} is not true or false; read as {flag}, as \
                         Speedrack 0.6.1 did (write true or false to say which)"
                    ),
                },
            }
        }
        other => Truth::Refused(format!("{key} must be true or false, not {}", kind(other))),
    }
}

/// A whole number written as text (`"50"`, `" 50 "`, `"+50"`), as Python's `int()` read it;
/// `None` for any other value.
pub fn number_in_text(value: &Value) -> Option<u64> {
    match value {
        Value::String(text) => text.trim().parse::<u64>().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).expect("a YAML scalar")
    }

    #[test]
    fn booleans_of_yaml_1_1_and_1_2_are_plain() {
        let cases = [
            ("true", true),
            ("True", true),
            ("TRUE", true),
            ("false", false),
            ("False", false),
            ("yes", true),
            ("Yes", true),
            ("YES", true),
            ("on", true),
            ("ON", true),
            ("no", false),
            ("No", false),
            ("NO", false),
            ("off", false),
            ("Off", false),
            ("0", false),
            ("1", true),
        ];
        for (text, flag) in cases {
            assert_eq!(truth("spam", &yaml(text)), Truth::Plain(flag), "{text}");
        }
        assert_eq!(truth("spam", &yaml("~")), Truth::Unset);
    }

    #[test]
    fn other_text_is_true_unless_empty_and_says_so() {
        let cases = [
            ("oh hell yes", true),
            ("y", true),
            ("n", true),
            ("nope", true),
            ("yEs", true),
            ("\"\"", false),
        ];
        for (text, expected) in cases {
            let Truth::Truthy { flag, note } = truth("spam", &yaml(text)) else {
                panic!("{text} is read by truthiness");
            };
            assert_eq!(flag, expected, "{text}");
            assert!(note.contains(" is not true or false"), "{note}");
            assert!(note.contains(&format!("read as {expected}")), "{note}");
        }
    }

    #[test]
    fn numbers_other_than_0_and_1_are_truthy_with_a_note() {
        let cases = [("2", true), ("-1", true), ("0.0", false), ("0.5", true)];
        for (text, expected) in cases {
            let Truth::Truthy { flag, .. } = truth("fail_by_stderr", &yaml(text)) else {
                panic!("{text} is read by truthiness");
            };
            assert_eq!(flag, expected, "{text}");
        }
    }

    #[test]
    fn lists_and_mappings_are_refused() {
        for text in ["[yes]", "{a: 1}"] {
            assert!(
                matches!(truth("spam", &yaml(text)), Truth::Refused(_)),
                "{text}"
            );
        }
    }

    #[test]
    fn whole_numbers_in_text_read_as_python_int_did() {
        let cases = [
            ("'50'", Some(50)),
            ("' 50 '", Some(50)),
            ("'+7'", Some(7)),
            ("'0050'", Some(50)),
            ("'-3'", None),
            ("'5.0'", None),
            ("'fifty'", None),
            ("50", None),
        ];
        for (text, expected) in cases {
            assert_eq!(number_in_text(&yaml(text)), expected, "{text}");
        }
    }
}
