//! Reads the tokens of a 0.6.1 settings file as a list of `NAME = value` assignments, working
//! out each value as it goes: literals, constant arithmetic, adjacent strings, and names
//! assigned earlier in the same file (`JOB_ROOT_DIR = SPEEDRACK_DIR + "/jobs"`), which Python
//! allowed and costs nothing to honour. Nothing is ever executed: every other construct
//! (imports, calls, attributes, conditions, loops, definitions) is refused with its line and
//! the line's text. Which names are settings is `py_settings`'s business.

use std::collections::HashMap;

use super::limits::{MAX_FILE_BYTES, MAX_NESTING};
use super::py_lex::{Kind, Token};
use super::py_value::{PyError, PyValue};

/// `NAME = value` at a line.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub name: String,
    pub line: usize,
    pub value: PyValue,
}

/// Python's statement keywords: a line opening with one is code.
const KEYWORDS: &[&str] = &[
    "import", "from", "def", "class", "if", "elif", "else", "for", "while", "with", "try",
    "except", "finally", "print", "del", "pass", "return", "global", "nonlocal", "assert", "exec",
    "raise", "lambda", "yield", "async", "await", "break", "continue", "and", "or", "not", "in",
    "is",
];

/// Every assignment of `tokens`, in file order; `source` is the file, for quoting lines.
pub fn parse(tokens: &[Token], source: &str) -> Result<Vec<Assignment>, PyError> {
    let mut parser = Parser {
        tokens,
        at: 0,
        lines: source.lines().collect(),
        names: HashMap::new(),
        depth: 0,
        built: 0,
    };
    let mut assignments = Vec::new();
    while parser.peek().is_some() {
        let assignment = parser.statement()?;
        parser
            .names
            .insert(assignment.name.clone(), assignment.value.clone());
        assignments.push(assignment);
    }
    Ok(assignments)
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    lines: Vec<&'a str>,
    /// Values assigned so far, for later lines that name them.
    names: HashMap<String, PyValue>,
    depth: usize,
    /// Bytes of values built by references and concatenation, bounded like the file itself.
    built: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Kind> {
        self.tokens.get(self.at).map(|token| &token.kind)
    }

    fn line(&self) -> usize {
        self.tokens
            .get(self.at)
            .or(self.tokens.last())
            .map_or(1, |token| token.line)
    }

    fn next(&mut self) -> Option<Kind> {
        let kind = self.peek().cloned();
        self.at += 1;
        kind
    }

    fn eat(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Kind::Op(next)) if *next == op) {
            self.at += 1;
            return true;
        }
        false
    }

    /// The line's own text, trimmed and cut short, to quote in a refusal.
    fn snippet(&self, line: usize) -> String {
        let text = self.lines.get(line - 1).map_or("", |text| text.trim());
        match text.char_indices().nth(60) {
            Some((at, _)) => format!("{}…", &text[..at]),
            None => text.to_owned(),
        }
    }

    /// A refusal of the construct at `line`; `what` names it when the line alone does not.
    fn code(&self, line: usize, what: Option<&str>) -> PyError {
        let what = what.map(|what| format!(" ({what})")).unwrap_or_default();
        PyError::new(
            line,
            format!(
                "`{}` is Python code{what}; the settings file may only assign literal values",
                self.snippet(line)
            ),
        )
    }

    fn statement(&mut self) -> Result<Assignment, PyError> {
        let line = self.line();
        let name = match (self.next(), self.peek()) {
            (Some(Kind::Indent), _) => {
                return Err(PyError::new(
                    line,
                    format!(
                        "`{}` is indented; settings are `NAME = value` lines at the start of a line",
                        self.snippet(line)
                    ),
                ));
            }
            (Some(Kind::Name(name)), Some(Kind::Op("="))) if !KEYWORDS.contains(&name.as_str()) => {
                name
            }
            (Some(Kind::Name(name)), _) if KEYWORDS.contains(&name.as_str()) => {
                return Err(self.code(line, None));
            }
            (Some(Kind::Name(_)), Some(Kind::Op(op))) => {
                let what = match *op {
                    "," => "an unpacking assignment",
                    other => after_value(other),
                };
                return Err(self.code(line, Some(what)));
            }
            _ => return Err(self.code(line, None)),
        };
        self.at += 1;
        let value = self.tuple_or_value()?;
        match self.next() {
            Some(Kind::Newline) => Ok(Assignment { name, line, value }),
            Some(Kind::Op("=")) => Err(self.code(line, Some("a chained assignment"))),
            Some(Kind::Op(op)) => Err(self.code(line, Some(after_value(op)))),
            Some(Kind::Name(word)) => Err(self.code(line, Some(after_word(&word)))),
            _ => Err(self.code(line, None)),
        }
    }

    /// `1, 2` without brackets is a tuple in Python.
    fn tuple_or_value(&mut self) -> Result<PyValue, PyError> {
        let first = self.value()?;
        if self.peek() != Some(&Kind::Op(",")) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat(",") {
            if matches!(self.peek(), Some(Kind::Newline) | None) {
                break;
            }
            items.push(self.value()?);
        }
        Ok(PyValue::List(items))
    }

    fn nest<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Result<T, PyError>,
    ) -> Result<T, PyError> {
        if self.depth >= MAX_NESTING {
            return Err(PyError::new(
                self.line(),
                format!("values nest deeper than {MAX_NESTING} levels; flatten the value"),
            ));
        }
        self.depth += 1;
        let result = read(self);
        self.depth -= 1;
        result
    }

    /// `a + b - c`.
    fn value(&mut self) -> Result<PyValue, PyError> {
        let mut value = self.term()?;
        while let Some(Kind::Op(op @ ("+" | "-"))) = self.peek() {
            let (op, line) = (*op, self.line());
            self.at += 1;
            let right = self.term()?;
            value = self.combine(value, op, right, line)?;
        }
        Ok(value)
    }

    /// `a * b / c // d % e`.
    fn term(&mut self) -> Result<PyValue, PyError> {
        let mut value = self.factor()?;
        while let Some(Kind::Op(op @ ("*" | "/" | "//" | "%"))) = self.peek() {
            let (op, line) = (*op, self.line());
            self.at += 1;
            let right = self.factor()?;
            value = self.combine(value, op, right, line)?;
        }
        Ok(value)
    }

    /// `-a`, `+a`, and `a ** b` (which binds tighter on its left, looser on its right).
    fn factor(&mut self) -> Result<PyValue, PyError> {
        let line = self.line();
        if let Some(Kind::Op(op @ ("-" | "+"))) = self.peek() {
            let op = *op;
            self.at += 1;
            let value = self.nest(Self::factor)?;
            return value
                .unary(op)
                .map_err(|message| PyError::new(line, message));
        }
        let base = self.atom()?;
        if self.eat("**") {
            let exponent = self.nest(Self::factor)?;
            return self.combine(base, "**", exponent, line);
        }
        Ok(base)
    }

    fn combine(
        &mut self,
        left: PyValue,
        op: &str,
        right: PyValue,
        line: usize,
    ) -> Result<PyValue, PyError> {
        let value = left
            .binary(op, right)
            .map_err(|message| PyError::new(line, message))?;
        if let PyValue::Str(text) = &value {
            self.charge(text.len(), line)?;
        }
        Ok(value)
    }

    fn charge(&mut self, bytes: usize, line: usize) -> Result<(), PyError> {
        self.built = self.built.saturating_add(bytes);
        if self.built as u64 > MAX_FILE_BYTES {
            return Err(PyError::new(
                line,
                "the values built from other values add up to more than the 16 MiB a settings \
                 file may hold; write them out instead",
            ));
        }
        Ok(())
    }

    fn atom(&mut self) -> Result<PyValue, PyError> {
        let line = self.line();
        let value = match self.next() {
            Some(Kind::Int(i)) => PyValue::Int(i),
            Some(Kind::Float(f)) => PyValue::Float(f),
            Some(Kind::Str(first)) => self.adjacent_strings(first),
            Some(Kind::Name(name)) => self.name(&name, line)?,
            Some(Kind::Op("(")) => self.parenthesized()?,
            Some(Kind::Op("[")) => PyValue::List(self.items("]")?),
            Some(Kind::Op("{")) => self.dict()?,
            Some(Kind::Newline) | None => {
                return Err(PyError::new(
                    line,
                    format!("`{}` assigns no value", self.snippet(line)),
                ));
            }
            Some(_) => return Err(self.code(line, None)),
        };
        if let Some(Kind::Op(op)) = self.peek()
            && let Some(what) = trailer(op)
        {
            return Err(self.code(line, Some(what)));
        }
        Ok(value)
    }

    /// `'a' "b"` is one string in Python.
    fn adjacent_strings(&mut self, first: String) -> PyValue {
        let mut text = first;
        while let Some(Kind::Str(next)) = self.peek() {
            text.push_str(next);
            self.at += 1;
        }
        PyValue::Str(text)
    }

    fn name(&mut self, name: &str, line: usize) -> Result<PyValue, PyError> {
        match name {
            "True" => return Ok(PyValue::Bool(true)),
            "False" => return Ok(PyValue::Bool(false)),
            "None" => return Ok(PyValue::None),
            _ => {}
        }
        if self
            .peek()
            .is_some_and(|next| matches!(next, Kind::Op(op) if trailer(op).is_some()))
        {
            let what = match self.peek() {
                Some(Kind::Op(op)) => trailer(op),
                _ => None,
            };
            return Err(self.code(line, what));
        }
        if KEYWORDS.contains(&name) {
            return Err(self.code(line, Some(after_word(name))));
        }
        if self.peek() == Some(&Kind::Op("=")) {
            return Err(self.code(line, Some("a chained assignment")));
        }
        let value = self.names.get(name).cloned().ok_or_else(|| {
            PyError::new(
                line,
                format!(
                    "`{}` names {name}, which is not assigned above; the settings file may only \
                     assign literal values (or names assigned earlier in it)",
                    self.snippet(line)
                ),
            )
        })?;
        self.charge(value.weight(), line)?;
        Ok(value)
    }

    /// `(x)` is x; `()`, `(x,)` and `(x, y)` are tuples.
    fn parenthesized(&mut self) -> Result<PyValue, PyError> {
        self.nest(|parser| {
            if parser.eat(")") {
                return Ok(PyValue::List(Vec::new()));
            }
            let first = parser.value()?;
            if parser.eat(")") {
                return Ok(first);
            }
            if !parser.eat(",") {
                return Err(parser.unexpected_in("a parenthesis"));
            }
            let mut items = vec![first];
            items.extend(parser.items(")")?);
            Ok(PyValue::List(items))
        })
    }

    /// Comma-separated values up to `close`, a trailing comma allowed.
    fn items(&mut self, close: &str) -> Result<Vec<PyValue>, PyError> {
        self.nest(|parser| {
            let mut items = Vec::new();
            loop {
                if parser.eat(close) {
                    return Ok(items);
                }
                items.push(parser.value()?);
                if parser.eat(close) {
                    return Ok(items);
                }
                if !parser.eat(",") {
                    return Err(parser.unexpected_in(if close == "]" {
                        "a list"
                    } else {
                        "a tuple"
                    }));
                }
            }
        })
    }

    fn dict(&mut self) -> Result<PyValue, PyError> {
        self.nest(|parser| {
            let mut pairs = Vec::new();
            loop {
                if parser.eat("}") {
                    return Ok(PyValue::Dict(pairs));
                }
                let line = parser.line();
                let key = parser.value()?;
                if matches!(parser.peek(), Some(Kind::Op("," | "}"))) {
                    return Err(parser.code(
                        line,
                        Some("a set; settings take lists [..] or dicts {k: v}"),
                    ));
                }
                if !parser.eat(":") {
                    return Err(parser.unexpected_in("a dict"));
                }
                if matches!(key, PyValue::List(_) | PyValue::Dict(_) | PyValue::Float(_)) {
                    return Err(PyError::new(
                        line,
                        format!(
                            "a dict key must be a string or a whole number, not a {}",
                            key.type_name()
                        ),
                    ));
                }
                let value = parser.value()?;
                pairs.push((key, value));
                if parser.eat("}") {
                    return Ok(PyValue::Dict(pairs));
                }
                if !parser.eat(",") {
                    return Err(parser.unexpected_in("a dict"));
                }
            }
        })
    }

    fn unexpected_in(&self, inside: &str) -> PyError {
        let line = self.line();
        let what = match self.peek() {
            Some(Kind::Op(op)) => after_value(op).to_owned(),
            Some(Kind::Name(word)) => after_word(word).to_owned(),
            _ => format!("something other than a value inside {inside}"),
        };
        self.code(line, Some(&what))
    }
}

/// What an operator right after a value makes of it, where that is code.
fn trailer(op: &str) -> Option<&'static str> {
    match op {
        "(" => Some("a function call"),
        "." => Some("attribute access"),
        "[" => Some("a subscript"),
        _ => None,
    }
}

fn after_value(op: &str) -> &'static str {
    match op {
        "==" | "!=" | "<" | ">" | "<=" | ">=" => "a comparison",
        "+=" | "-=" | "*=" | "/=" | "//=" | "%=" | "**=" => "an augmented assignment",
        ":" => "an annotation",
        ":=" => "an assignment expression",
        "&" | "|" | "^" | "~" | "<<" | ">>" => "a bitwise operator",
        _ => trailer(op).unwrap_or("not a literal value"),
    }
}

fn after_word(word: &str) -> &'static str {
    match word {
        "if" | "else" => "a conditional expression",
        "and" | "or" | "not" => "a boolean operator",
        "for" => "a comprehension",
        "lambda" => "a function",
        "in" | "is" => "a comparison",
        _ => "not a literal value",
    }
}

#[cfg(test)]
mod tests {
    use super::super::py_lex::tokenize;
    use super::*;

    fn assignments(text: &str) -> Result<Vec<(String, usize, PyValue)>, PyError> {
        let tokens = tokenize(text)?;
        Ok(parse(&tokens, text)?
            .into_iter()
            .map(|a| (a.name, a.line, a.value))
            .collect())
    }

    fn value(text: &str) -> PyValue {
        let parsed = assignments(&format!("X = {text}\n")).expect(text);
        parsed[0].2.clone()
    }

    fn s(text: &str) -> PyValue {
        PyValue::Str(text.to_owned())
    }

    #[test]
    fn reads_literals_of_every_kind() {
        let cases = [
            ("True", PyValue::Bool(true)),
            ("None", PyValue::None),
            ("-5", PyValue::Int(-5)),
            ("- -5", PyValue::Int(5)),
            ("'a' \"b\" r'\\c'", s("ab\\c")),
            ("[1, 'x',]", PyValue::List(vec![PyValue::Int(1), s("x")])),
            ("(1,)", PyValue::List(vec![PyValue::Int(1)])),
            ("()", PyValue::List(vec![])),
            ("(1)", PyValue::Int(1)),
            (
                "1, 2",
                PyValue::List(vec![PyValue::Int(1), PyValue::Int(2)]),
            ),
            (
                "{'a': 1, 2: [None]}",
                PyValue::Dict(vec![
                    (s("a"), PyValue::Int(1)),
                    (PyValue::Int(2), PyValue::List(vec![PyValue::None])),
                ]),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(value(text), expected, "{text}");
        }
    }

    #[test]
    fn works_out_constant_arithmetic_with_python_precedence() {
        let cases = [
            ("1024 * 1024 * 5", PyValue::Int(5 << 20)),
            ("2 + 3 * 4", PyValue::Int(14)),
            ("(2 + 3) * 4", PyValue::Int(20)),
            ("2 ** 3 ** 2", PyValue::Int(512)),
            ("-2 ** 2", PyValue::Int(-4)),
            ("10 - 2 - 3", PyValue::Int(5)),
            ("7 // 2 % 2", PyValue::Int(1)),
            ("'/srv' + '/jobs'", s("/srv/jobs")),
            ("1.5 * 2", PyValue::Float(3.0)),
        ];
        for (text, expected) in cases {
            assert_eq!(value(text), expected, "{text}");
        }
    }

    #[test]
    fn reads_names_assigned_above_and_keeps_lines() {
        let text =
            "base = '/srv'\n\n# jobs\nJOB_ROOT_DIR = (base +\n    '/jobs')\nN = 2\nM = N * N\n";
        let parsed = assignments(text).expect("valid");
        assert_eq!(parsed[1], ("JOB_ROOT_DIR".to_owned(), 4, s("/srv/jobs")));
        assert_eq!(parsed[3], ("M".to_owned(), 7, PyValue::Int(4)));
    }

    #[test]
    fn refuses_code_naming_the_line_and_the_construct() {
        let cases = [
            (
                "A = 1\nimport os\n",
                2,
                "`import os` is Python code; the settings file may only assign literal values",
            ),
            (
                "from os import path\n",
                1,
                "`from os import path` is Python code",
            ),
            ("def f():\n    return 1\n", 1, "`def f():` is Python code"),
            ("A = os.getenv('X')\n", 1, "(attribute access)"),
            (
                "A = open('x')\n",
                1,
                "`A = open('x')` is Python code (a function call)",
            ),
            ("A = [1][0]\n", 1, "(a subscript)"),
            ("A = 1 if B else 2\n", 1, "(a conditional expression)"),
            ("A = 1 == 1\n", 1, "(a comparison)"),
            (
                "A = [x for x in y]\n",
                1,
                "names x, which is not assigned above",
            ),
            ("A = B\n", 1, "names B, which is not assigned above"),
            ("A = 1\nA += 1\n", 2, "(an augmented assignment)"),
            ("A = B = 1\n", 1, "(a chained assignment)"),
            ("A, B = 1, 2\n", 1, "`A, B = 1, 2` is Python code"),
            ("print 'hi'\n", 1, "is Python code"),
            ("A = 1\n  B = 2\n", 2, "is indented"),
            ("if True:\n    A = 1\n", 1, "`if True:` is Python code"),
            ("A = lambda: 1\n", 1, "(a function)"),
            ("A = {1, 2}\n", 1, "(a set;"),
            ("A = '%s/x' % 'y'\n", 1, "formatting"),
            ("A =\n", 1, "assigns no value"),
            ("A = {[1]: 2}\n", 1, "dict key"),
            ("A = 1 and 2\n", 1, "(a boolean operator)"),
        ];
        for (text, line, message) in cases {
            let error = assignments(text).expect_err(text);
            assert_eq!(error.line, line, "{text}: {}", error.message);
            assert!(error.message.contains(message), "{text}: {}", error.message);
        }
    }

    #[test]
    fn deep_nesting_and_runaway_growth_are_refused() {
        let deep = format!("A = {}1{}\n", "[".repeat(100), "]".repeat(100));
        let error = assignments(&deep).expect_err("deep");
        assert!(
            error.message.contains("nest deeper than 64"),
            "{}",
            error.message
        );
        let mut doubling = String::from("A0 = '");
        doubling.push_str(&"x".repeat(1 << 20));
        doubling.push_str("'\n");
        for level in 1..40 {
            doubling.push_str(&format!("A{level} = A{} + A{}\n", level - 1, level - 1));
        }
        let error = assignments(&doubling).expect_err("doubling");
        assert!(error.message.contains("16 MiB"), "{}", error.message);
    }
}
