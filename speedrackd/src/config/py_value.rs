//! The values a 0.6.1 settings file may assign, the constant arithmetic on them (with Python 2's
//! meaning, which 0.6.1 ran on), and how each is written as YAML flow text so that the settings
//! reader sees what a YAML file would have said. Nothing here knows which keys exist.

use std::fmt::Write as _;

/// A refusal at a line of the settings file.
#[derive(Debug, Clone, PartialEq)]
pub struct PyError {
    pub line: usize,
    pub message: String,
}

impl PyError {
    pub fn new(line: usize, message: impl Into<String>) -> PyError {
        PyError {
            line,
            message: message.into(),
        }
    }
}

/// A Python literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Lists and tuples alike: both are sequences to the settings.
    List(Vec<PyValue>),
    Dict(Vec<(PyValue, PyValue)>),
}

/// An exponent above this is refused: no setting needs a larger power, and the bound keeps
/// `2 ** 10 ** 9`-style lines from costing anything.
const MAX_EXPONENT: i64 = 128;

impl PyValue {
    /// What Python calls the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            PyValue::None => "None",
            PyValue::Bool(_) => "bool",
            PyValue::Int(_) => "int",
            PyValue::Float(_) => "float",
            PyValue::Str(_) => "str",
            PyValue::List(_) => "list",
            PyValue::Dict(_) => "dict",
        }
    }

    /// Bytes this value holds, for the bound on what a file may build.
    pub fn weight(&self) -> usize {
        match self {
            PyValue::Str(text) => text.len() + 1,
            PyValue::List(items) => items.iter().map(PyValue::weight).sum::<usize>() + 1,
            PyValue::Dict(pairs) => {
                pairs
                    .iter()
                    .map(|(key, value)| key.weight() + value.weight())
                    .sum::<usize>()
                    + 1
            }
            _ => 1,
        }
    }

    /// A number as Python's arithmetic sees it: `True` is 1.
    fn number(&self) -> Option<Number> {
        match *self {
            PyValue::Bool(b) => Some(Number::Int(i64::from(b))),
            PyValue::Int(i) => Some(Number::Int(i)),
            PyValue::Float(f) => Some(Number::Float(f)),
            _ => None,
        }
    }

    /// `-x` and `+x`.
    pub fn unary(self, op: &str) -> Result<PyValue, String> {
        let negate = op == "-";
        match self.number() {
            Some(Number::Int(i)) if negate => {
                i.checked_neg().map(PyValue::Int).ok_or_else(overflow)
            }
            Some(Number::Int(i)) => Ok(PyValue::Int(i)),
            Some(Number::Float(f)) => Ok(PyValue::Float(if negate { -f } else { f })),
            None => Err(format!(
                "`{op}` applies to numbers, not to a {}",
                self.type_name()
            )),
        }
    }

    /// `self OP other` for `+ - * / // % **`.
    pub fn binary(self, op: &str, other: PyValue) -> Result<PyValue, String> {
        if let (PyValue::Str(left), "+", PyValue::Str(right)) = (&self, op, &other) {
            return Ok(PyValue::Str(format!("{left}{right}")));
        }
        if let (PyValue::Str(_), "%") = (&self, op) {
            return Err(
                "`%` formatting of strings is code; write the string out, or join strings with +"
                    .to_owned(),
            );
        }
        match (self.number(), other.number()) {
            (Some(Number::Int(a)), Some(Number::Int(b))) => int_op(a, op, b),
            (Some(a), Some(b)) => float_op(a.float(), op, b.float()),
            _ => Err(format!(
                "`{op}` cannot combine a {} with a {}; only numbers, and strings with +",
                self.type_name(),
                other.type_name()
            )),
        }
    }

    /// The value as YAML flow text, exactly: strings double-quoted, floats never mistaken
    /// for integers, mappings and sequences in brackets.
    pub fn write_yaml(&self, out: &mut String) {
        match self {
            PyValue::None => out.push_str("null"),
            PyValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            PyValue::Int(i) => {
                let _ = write!(out, "{i}");
            }
            PyValue::Float(f) => {
                let _ = write!(out, "{f:?}");
            }
            PyValue::Str(text) => write_yaml_string(text, out),
            PyValue::List(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    item.write_yaml(out);
                }
                out.push(']');
            }
            PyValue::Dict(pairs) => {
                out.push('{');
                for (index, (key, value)) in pairs.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    key.write_yaml(out);
                    out.push_str(": ");
                    value.write_yaml(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_yaml_string(text: &str, out: &mut String) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20
                || c == '\u{7f}'
                || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}') =>
            {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[derive(Clone, Copy)]
enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    fn float(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

fn overflow() -> String {
    "the result does not fit in 64 bits".to_owned()
}

fn int_op(a: i64, op: &str, b: i64) -> Result<PyValue, String> {
    let zero = || format!("`{op}` by zero");
    let result = match op {
        "+" => a.checked_add(b),
        "-" => a.checked_sub(b),
        "*" => a.checked_mul(b),
        // Python 2 divided integers by flooring; 0.6.1's files were read that way.
        "/" | "//" if b == 0 => return Err(zero()),
        "/" | "//" => a.checked_div(b).map(|q| {
            if a % b != 0 && (a < 0) != (b < 0) {
                q - 1
            } else {
                q
            }
        }),
        "%" if b == 0 => return Err(zero()),
        "%" => a.checked_rem(b).map(|r| {
            if r != 0 && (r < 0) != (b < 0) {
                r + b
            } else {
                r
            }
        }),
        "**" if b < 0 => return float_op(a as f64, op, b as f64),
        "**" if b > MAX_EXPONENT => {
            return Err(format!("an exponent above {MAX_EXPONENT} is not a setting"));
        }
        "**" => u32::try_from(b).ok().and_then(|b| a.checked_pow(b)),
        _ => return Err(format!("`{op}` is not arithmetic the settings support")),
    };
    result.map(PyValue::Int).ok_or_else(overflow)
}

fn float_op(a: f64, op: &str, b: f64) -> Result<PyValue, String> {
    let zero = || format!("`{op}` by zero");
    let result = match op {
        "+" => a + b,
        "-" => a - b,
        "*" => a * b,
        "/" if b == 0.0 => return Err(zero()),
        "/" => a / b,
        "//" if b == 0.0 => return Err(zero()),
        "//" => (a / b).floor(),
        "%" if b == 0.0 => return Err(zero()),
        "%" => a - b * (a / b).floor(),
        "**" if b.abs() > MAX_EXPONENT as f64 => {
            return Err(format!("an exponent above {MAX_EXPONENT} is not a setting"));
        }
        "**" => a.powf(b),
        _ => return Err(format!("`{op}` is not arithmetic the settings support")),
    };
    if result.is_finite() {
        Ok(PyValue::Float(result))
    } else {
        Err("the result is not a finite number".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(i: i64) -> PyValue {
        PyValue::Int(i)
    }

    #[test]
    fn arithmetic_has_python_2s_meaning() {
        let cases = [
            (int(1024), "*", int(5), int(5120)),
            (int(7), "/", int(2), int(3)),
            (int(-7), "/", int(2), int(-4)),
            (int(7), "//", int(-2), int(-4)),
            (int(-7), "%", int(3), int(2)),
            (int(7), "%", int(-3), int(-2)),
            (int(2), "**", int(10), int(1024)),
            (int(2), "**", int(-1), PyValue::Float(0.5)),
            (PyValue::Float(7.0), "/", int(2), PyValue::Float(3.5)),
            (PyValue::Float(7.5), "//", int(2), PyValue::Float(3.0)),
            (PyValue::Bool(true), "+", int(1), int(2)),
            (
                PyValue::Str("/srv".into()),
                "+",
                PyValue::Str("/jobs".into()),
                PyValue::Str("/srv/jobs".into()),
            ),
        ];
        for (a, op, b, expected) in cases {
            assert_eq!(
                a.clone().binary(op, b.clone()),
                Ok(expected),
                "{a:?} {op} {b:?}"
            );
        }
        assert_eq!(int(5).unary("-"), Ok(int(-5)));
    }

    #[test]
    fn arithmetic_refuses_overflow_division_by_zero_and_mixed_types() {
        let cases = [
            (int(i64::MAX), "+", int(1), "64 bits"),
            (int(2), "**", int(200), "exponent"),
            (int(10), "**", int(100), "64 bits"),
            (int(1), "/", int(0), "by zero"),
            (int(1), "%", int(0), "by zero"),
            (PyValue::Str("a".into()), "*", int(3), "cannot combine"),
            (PyValue::Str("%s".into()), "%", int(3), "formatting"),
            (
                PyValue::List(vec![]),
                "+",
                PyValue::List(vec![]),
                "cannot combine",
            ),
            (PyValue::Float(1e308), "*", int(10), "finite"),
        ];
        for (a, op, b, message) in cases {
            let error = a.binary(op, b).expect_err(op);
            assert!(error.contains(message), "{op}: {error}");
        }
        assert!(int(i64::MIN).unary("-").is_err());
        assert!(PyValue::Str("x".into()).unary("-").is_err());
    }

    #[test]
    fn writes_yaml_that_reads_back_as_the_same_value() {
        let value = PyValue::Dict(vec![
            (PyValue::Str("a\"b\\c\n\u{1}".into()), PyValue::Float(1.0)),
            (
                PyValue::Int(-3),
                PyValue::List(vec![PyValue::None, PyValue::Bool(false)]),
            ),
            (PyValue::Str("yes".into()), PyValue::Str("0755".into())),
        ]);
        let mut text = String::new();
        value.write_yaml(&mut text);
        let read: serde_yaml::Value = serde_yaml::from_str(&text).expect(&text);
        let expected: serde_yaml::Value = serde_yaml::from_str(
            "{\"a\\\"b\\\\c\\n\\u0001\": 1.0, -3: [~, false], \"yes\": \"0755\"}",
        )
        .expect("expected");
        assert_eq!(read, expected, "{text}");
        assert!(read.get("yes").is_some_and(serde_yaml::Value::is_string));
    }
}
