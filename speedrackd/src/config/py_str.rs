//! String literals of a 0.6.1 settings file: prefixes (`r`, `u`), the four quotings (`'`, `"`,
//! `'''`, `"""`) and backslash escapes as Python 2 read them, since 0.6.1 ran on Python 2:
//! `\u`, `\U` are escapes only in `u''` strings, and `\x`/octal escapes give the code point.
//! Byte strings and f-strings are refused (an f-string is code). Only the literal's text is
//! read here; concatenation is the parser's.

/// How a literal opens: its prefix and quote.
#[derive(Debug)]
pub struct StringStart {
    prefix_len: usize,
    raw: bool,
    unicode: bool,
    quote: &'static str,
}

impl StringStart {
    /// The literal opening `text`, if one does; `Err` for a prefix the settings cannot hold.
    pub fn at(text: &str) -> Option<Result<StringStart, String>> {
        let prefix_len = text
            .find(|c: char| !c.is_ascii_alphabetic())
            .filter(|&len| len <= 2)?;
        let quote = ["'''", "\"\"\"", "'", "\""]
            .into_iter()
            .find(|quote| text[prefix_len..].starts_with(quote))?;
        let prefix = text[..prefix_len].to_ascii_lowercase();
        let refused = match prefix.as_str() {
            "" | "r" | "u" | "ur" => None,
            "b" | "br" | "rb" => Some("a byte string"),
            "f" | "fr" | "rf" => Some("an f-string, which is code"),
            _ => return None,
        };
        Some(match refused {
            Some(what) => Err(format!(
                "{}{quote}…{quote} is {what}; write a plain string like '…'",
                &text[..prefix_len]
            )),
            None => Ok(StringStart {
                prefix_len,
                raw: prefix.contains('r'),
                unicode: prefix.contains('u'),
                quote,
            }),
        })
    }
}

/// Reads the literal at the start of `text`: its value, the bytes it takes, and the newlines in
/// it (so that the tokenizer keeps counting lines).
pub fn read_string(text: &str, start: &StringStart) -> Result<(String, usize, usize), String> {
    let body_start = start.prefix_len + start.quote.len();
    let triple = start.quote.len() == 3;
    let mut value = String::new();
    let mut newlines = 0;
    let mut chars = text[body_start..].char_indices().peekable();
    while let Some((at, ch)) = chars.next() {
        let here = &text[body_start + at..];
        if here.starts_with(start.quote) {
            return Ok((value, body_start + at + start.quote.len(), newlines));
        }
        match ch {
            '\n' if !triple => {
                return Err(
                    "a string that is not triple-quoted ends at the end of its line; close it"
                        .to_owned(),
                );
            }
            '\n' => {
                newlines += 1;
                value.push('\n');
            }
            '\\' => {
                let Some((_, next)) = chars.next() else { break };
                if next == '\n' {
                    newlines += 1;
                }
                if start.raw {
                    // A raw string keeps the backslash; the quote after it does not end it.
                    value.push('\\');
                    value.push(next);
                    continue;
                }
                escape(next, &mut chars, &mut value, start.unicode)?;
            }
            _ => value.push(ch),
        }
    }
    Err(format!(
        "the string opened with {} is never closed",
        start.quote
    ))
}

type Chars<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

/// One escape after its backslash, as Python 2 read it.
fn escape(ch: char, chars: &mut Chars, value: &mut String, unicode: bool) -> Result<(), String> {
    let simple = match ch {
        '\n' => return Ok(()),
        '\\' => Some('\\'),
        '\'' => Some('\''),
        '"' => Some('"'),
        'a' => Some('\x07'),
        'b' => Some('\x08'),
        'f' => Some('\x0c'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\x0b'),
        _ => None,
    };
    if let Some(simple) = simple {
        value.push(simple);
        return Ok(());
    }
    let code = match ch {
        '0'..='7' => {
            let mut code = ch.to_digit(8).unwrap_or(0);
            for _ in 0..2 {
                match chars.peek().and_then(|&(_, c)| c.to_digit(8)) {
                    Some(digit) => {
                        code = code * 8 + digit;
                        chars.next();
                    }
                    None => break,
                }
            }
            code
        }
        'x' => hex_digits(chars, 2, "\\x")?,
        'u' if unicode => hex_digits(chars, 4, "\\u")?,
        'U' if unicode => hex_digits(chars, 8, "\\U")?,
        'N' if unicode => {
            return Err("\\N{…} escapes are not supported; write the character itself".to_owned());
        }
        other => {
            // Python keeps an unknown escape as it is written.
            value.push('\\');
            value.push(other);
            return Ok(());
        }
    };
    let decoded = char::from_u32(code)
        .ok_or_else(|| format!("the escape for code point {code:#x} is not a character"))?;
    value.push(decoded);
    Ok(())
}

fn hex_digits(chars: &mut Chars, count: usize, escape: &str) -> Result<u32, String> {
    let mut code = 0;
    for _ in 0..count {
        let digit = chars
            .next()
            .and_then(|(_, c)| c.to_digit(16))
            .ok_or_else(|| format!("{escape} needs {count} hex digits"))?;
        code = code * 16 + digit;
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<(String, usize, usize), String> {
        let start = StringStart::at(text).expect("a string")?;
        read_string(text, &start)
    }

    #[test]
    fn reads_quotings_prefixes_and_escapes() {
        let cases = [
            (r#""plain" rest"#, "plain", 7),
            (r"'it\'s'", "it's", 7),
            (r#""a\tb\n\\""#, "a\tb\n\\", 10),
            (r"'\x41\101\7'", "AA\x07", 12),
            (r"'\u00e9'", "\\u00e9", 8),
            (r"u'\u00e9'", "é", 9),
            (r"U'\U0001F600'", "😀", 13),
            (r"r'C:\new\'q'", r"C:\new\'q", 12),
            (r"'\d'", "\\d", 4),
            ("'''a\n'b'\n'''", "a\n'b'\n", 12),
            ("\"\"\"x\"\"\"", "x", 7),
            ("'a\\\nb'", "ab", 6),
            ("ur'\\n'", "\\n", 6),
        ];
        for (text, value, consumed) in cases {
            let (read_value, read_len, _) = read(text).expect(text);
            assert_eq!((read_value.as_str(), read_len), (value, consumed), "{text}");
        }
        assert_eq!(read("'''a\nb\nc'''").expect("triple").2, 2);
    }

    #[test]
    fn names_are_not_strings() {
        for text in ["abc = 1", "rabbit", "u", "x1'"] {
            assert!(StringStart::at(text).is_none(), "{text}");
        }
    }

    #[test]
    fn refuses_bytes_f_strings_and_unclosed_strings() {
        let cases = [
            ("b'x'", "byte string"),
            ("f'{x}'", "f-string"),
            ("'abc", "never closed"),
            ("'ab\ncd'", "end of its line"),
            (r"'\x4'", "2 hex digits"),
            (r"u'\N{DASH}'", "\\N{"),
            (r"u'\ud800'", "not a character"),
        ];
        for (text, message) in cases {
            let error = read(text).expect_err(text);
            assert!(error.contains(message), "{text}: {error}");
        }
    }
}
