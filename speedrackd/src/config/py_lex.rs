//! Tokens of a Speedrack 0.6.1 settings file (`speedrack_settings.py`), as Python's tokenizer
//! cuts them: names, numbers, string literals, operators, and the ends of logical lines.
//! Comments, blank lines, line continuations (a backslash, or a newline inside brackets) and
//! indentation of continuation lines are dropped here. What the tokens mean is `py_parse`'s
//! business; this file never decides whether a construct is allowed, except for characters and
//! literals Python itself would refuse.

use super::py_str::{StringStart, read_string};
use super::py_value::PyError;

/// One token and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: Kind,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Name(String),
    Int(i64),
    Float(f64),
    Str(String),
    /// An operator or delimiter, e.g. `=`, `**`, `(`, `,`, `==`.
    Op(&'static str),
    /// The end of a logical line (a newline outside brackets, or `;`).
    Newline,
    /// A logical line that starts indented: Python refuses it at the top level.
    Indent,
}

/// Longest first, so that `**` wins over `*` and `//` over `/`.
const OPERATORS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "->", "**", "//", "==", "!=", "<=", ">=", "<<", ">>", "+=", "-=",
    "*=", "/=", "%=", "&=", "|=", "^=", "@=", ":=", "=", "+", "-", "*", "/", "%", "(", ")", "[",
    "]", "{", "}", ",", ":", ".", ";", "<", ">", "&", "|", "^", "~", "@", "`",
];

/// Cuts `text` into tokens; every logical line ends with a `Newline`.
pub fn tokenize(text: &str) -> Result<Vec<Token>, PyError> {
    let mut lexer = Lexer {
        text,
        at: 0,
        line: 1,
        depth: 0,
        opened_at: 0,
        tokens: Vec::new(),
        line_start: true,
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

struct Lexer<'a> {
    text: &'a str,
    at: usize,
    line: usize,
    /// Open brackets: inside them a newline does not end the line.
    depth: usize,
    /// Where the outermost open bracket was opened, to name it if it is never closed.
    opened_at: usize,
    tokens: Vec<Token>,
    /// Nothing but whitespace seen yet on this logical line.
    line_start: bool,
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn push(&mut self, kind: Kind, line: usize) {
        self.line_start = false;
        self.tokens.push(Token { kind, line });
    }

    fn end_line(&mut self) {
        if !self.line_start {
            self.tokens.push(Token {
                kind: Kind::Newline,
                line: self.line,
            });
        }
        self.line_start = true;
    }

    fn run(&mut self) -> Result<(), PyError> {
        while let Some(ch) = self.rest().chars().next() {
            match ch {
                '\n' => {
                    if self.depth == 0 {
                        self.end_line();
                    }
                    self.at += 1;
                    self.line += 1;
                }
                ' ' | '\t' | '\r' | '\x0c' => {
                    let leading = self.line_start && self.depth == 0;
                    let after = self.rest().trim_start_matches([' ', '\t', '\r', '\x0c']);
                    self.at = self.text.len() - after.len();
                    if leading && !(after.is_empty() || after.starts_with(['#', '\n'])) {
                        self.push(Kind::Indent, self.line);
                    }
                }
                '#' => self.at += self.rest().find('\n').unwrap_or(self.rest().len()),
                '\\' => self.continuation()?,
                ';' if self.depth == 0 => {
                    self.end_line();
                    // The next statement on the line is not indented.
                    let after = self.rest()[1..].trim_start_matches([' ', '\t']);
                    self.at = self.text.len() - after.len();
                }
                _ => self.token(ch)?,
            }
        }
        self.end_line();
        if self.depth > 0 {
            return Err(PyError::new(
                self.opened_at,
                "this bracket is never closed (the file ends inside it); close it",
            ));
        }
        Ok(())
    }

    fn continuation(&mut self) -> Result<(), PyError> {
        let after = &self.rest()[1..];
        let after = after.strip_prefix('\r').unwrap_or(after);
        if !after.starts_with('\n') {
            return Err(PyError::new(
                self.line,
                "a backslash outside a string must end the line (a line continuation)",
            ));
        }
        self.at = self.text.len() - after.len() + 1;
        self.line += 1;
        Ok(())
    }

    fn token(&mut self, ch: char) -> Result<(), PyError> {
        let line = self.line;
        if let Some(start) = StringStart::at(self.rest()) {
            let start = start.map_err(|message| PyError::new(line, message))?;
            let (value, consumed, lines) =
                read_string(self.rest(), &start).map_err(|message| PyError::new(line, message))?;
            self.at += consumed;
            self.line += lines;
            self.push(Kind::Str(value), line);
        } else if ch.is_ascii_digit()
            || (ch == '.' && self.rest()[1..].starts_with(|c: char| c.is_ascii_digit()))
        {
            let (kind, consumed) =
                number(self.rest()).map_err(|message| PyError::new(line, message))?;
            self.at += consumed;
            self.push(kind, line);
        } else if ch == '_' || ch.is_alphabetic() {
            let len = self
                .rest()
                .find(|c: char| !(c == '_' || c.is_alphanumeric()))
                .unwrap_or(self.rest().len());
            let name = self.rest()[..len].to_owned();
            self.at += len;
            self.push(Kind::Name(name), line);
        } else if let Some(op) = OPERATORS.iter().find(|op| self.rest().starts_with(**op)) {
            match *op {
                "(" | "[" | "{" => {
                    if self.depth == 0 {
                        self.opened_at = line;
                    }
                    self.depth += 1;
                }
                ")" | "]" | "}" => {
                    self.depth = self.depth.checked_sub(1).ok_or_else(|| {
                        PyError::new(
                            line,
                            format!("`{op}` closes a bracket that was never opened"),
                        )
                    })?
                }
                _ => {}
            }
            self.at += op.len();
            self.push(Kind::Op(op), line);
        } else {
            return Err(PyError::new(
                line,
                format!(
                    "unexpected character {ch:?}; the settings file holds `NAME = value` lines"
                ),
            ));
        }
        Ok(())
    }
}

/// A number literal at the start of `text`: its value and length.
fn number(text: &str) -> Result<(Kind, usize), String> {
    let len = text
        .char_indices()
        .find(|&(at, c)| {
            let exponent_sign = matches!(c, '+' | '-')
                && at > 0
                && matches!(text.as_bytes()[at - 1], b'e' | b'E')
                && !text.starts_with("0x")
                && !text.starts_with("0X");
            !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || exponent_sign)
        })
        .map_or(text.len(), |(at, _)| at);
    let written = &text[..len];
    let digits = written.replace('_', "");
    let digits = digits
        .strip_suffix(['l', 'L'])
        .filter(|d| !d.contains(['.', 'e', 'E']) || d.starts_with("0x"))
        .unwrap_or(&digits);
    let too_large = || format!("the number {written} does not fit in 64 bits");
    let radix = |prefix: &[&str], radix| {
        prefix
            .iter()
            .find_map(|p| digits.strip_prefix(p))
            .map(|body| i64::from_str_radix(body, radix))
    };
    let parsed =
        if let Some(value) = radix(&["0x", "0X"], 16)
            .or_else(|| radix(&["0o", "0O"], 8))
            .or_else(|| radix(&["0b", "0B"], 2))
        {
            Kind::Int(value.map_err(|_| format!("{written} is not a number"))?)
        } else if digits.ends_with(['j', 'J']) {
            return Err(format!(
                "{written} is a complex number; settings take plain numbers"
            ));
        } else if digits.contains(['.', 'e', 'E']) {
            let value: f64 = digits
                .parse()
                .map_err(|_| format!("{written} is not a number"))?;
            if !value.is_finite() {
                return Err(too_large());
            }
            Kind::Float(value)
        } else if digits.len() > 1 && digits.starts_with('0') {
            // Python 2, which 0.6.1 ran on, read a leading zero as octal.
            Kind::Int(
                i64::from_str_radix(&digits[1..], 8)
                    .map_err(|_| format!("{written} is not a number (a leading 0 means octal)"))?,
            )
        } else {
            Kind::Int(digits.parse().map_err(
                |error: std::num::ParseIntError| match error.kind() {
                    std::num::IntErrorKind::PosOverflow => too_large(),
                    _ => format!("{written} is not a number"),
                },
            )?)
        };
    Ok((parsed, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Kind> {
        tokenize(text)
            .expect(text)
            .into_iter()
            .map(|token| token.kind)
            .collect()
    }

    fn name(text: &str) -> Kind {
        Kind::Name(text.to_owned())
    }

    #[test]
    fn cuts_assignments_into_tokens_and_ends_each_logical_line() {
        assert_eq!(
            kinds("A = 1 # bytes\n\n# comment\nB=\"x\";C = 2.5\n"),
            [
                name("A"),
                Kind::Op("="),
                Kind::Int(1),
                Kind::Newline,
                name("B"),
                Kind::Op("="),
                Kind::Str("x".to_owned()),
                Kind::Newline,
                name("C"),
                Kind::Op("="),
                Kind::Float(2.5),
                Kind::Newline,
            ]
        );
    }

    #[test]
    fn newlines_inside_brackets_and_after_backslashes_continue_the_line() {
        let tokens = tokenize("A = [\n  1,\n  2,\n]\nB = 1 + \\\n    2\nC = 3\n").expect("valid");
        let newlines: Vec<usize> = tokens
            .iter()
            .filter(|token| token.kind == Kind::Newline)
            .map(|token| token.line)
            .collect();
        assert_eq!(newlines, [4, 6, 7]);
        let c = tokens.iter().find(|token| token.kind == name("C"));
        assert_eq!(c.map(|token| token.line), Some(7));
    }

    #[test]
    fn numbers_as_python_2_wrote_them() {
        let cases = [
            ("10", Kind::Int(10)),
            ("1_000", Kind::Int(1000)),
            ("10L", Kind::Int(10)),
            ("0x1F", Kind::Int(31)),
            ("0o17", Kind::Int(15)),
            ("017", Kind::Int(15)),
            ("0b101", Kind::Int(5)),
            ("0", Kind::Int(0)),
            ("1.5", Kind::Float(1.5)),
            (".5", Kind::Float(0.5)),
            ("1.", Kind::Float(1.0)),
            ("1e3", Kind::Float(1000.0)),
            ("2.5E-1", Kind::Float(0.25)),
        ];
        for (text, expected) in cases {
            assert_eq!(kinds(text), [expected, Kind::Newline], "{text}");
        }
        for text in ["99999999999999999999", "1j", "08", "0x", "1e999"] {
            assert!(tokenize(text).is_err(), "{text}");
        }
    }

    #[test]
    fn an_indented_statement_is_marked_but_indented_comments_and_blank_lines_are_not() {
        assert_eq!(
            kinds("A = 1\n    # note\n   \nB = 2\n"),
            [
                name("A"),
                Kind::Op("="),
                Kind::Int(1),
                Kind::Newline,
                name("B"),
                Kind::Op("="),
                Kind::Int(2),
                Kind::Newline,
            ]
        );
        assert_eq!(kinds("A = 1\n  B = 2\n")[4], Kind::Indent);
    }

    #[test]
    fn refusals_name_the_line() {
        let cases = [
            ("A = 1\nB = $x\n", 2, "unexpected character '$'"),
            ("A = 1\nB = (1,\n2\n", 2, "never closed"),
            ("A = 1)\n", 1, "never opened"),
            ("A = 1 \\ 2\n", 1, "backslash"),
        ];
        for (text, line, message) in cases {
            let error = tokenize(text).expect_err(text);
            assert_eq!(error.line, line, "{text}");
            assert!(error.message.contains(message), "{text}: {}", error.message);
        }
    }
}
