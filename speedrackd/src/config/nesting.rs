//! A cheap scan for how deeply a YAML text nests collections, run before the YAML parser.
//!
//! The parser refuses nesting past its own limit, but on flow collections (`[[[[…`) it spends
//! time quadratic in the depth first: 500 KB took 15 s of CPU. This scan is linear and counts
//! block indentation, `- ` entries and flow brackets outside quotes, comments and block scalars.
//! It does not validate YAML; the parser still does that. It is an estimate: a `- ` entry may
//! count one level more than it is, and brackets count only where a value starts, so text in
//! plain scalars (`test [ -f x ]`, `it's`) never counts. The limit is far above any real file.

/// The first line (1-based) on which nesting goes deeper than `limit`.
pub fn too_deep(text: &str, limit: usize) -> Option<usize> {
    let mut scan = Scan::default();
    for (index, line) in text.lines().enumerate() {
        if scan.line(line) > limit {
            return Some(index + 1);
        }
    }
    None
}

#[derive(Default)]
struct Scan {
    /// Indentation of the open block collections.
    indents: Vec<usize>,
    /// Open flow collections (`[`, `{`), which may span lines.
    flow: usize,
    /// The quote character of a quoted scalar still open at the end of the last line.
    quote: Option<char>,
    /// Inside a block scalar (`|`, `>`): the indentation of the line that opened it.
    block_scalar: Option<usize>,
}

impl Scan {
    /// Scans one line; returns the deepest nesting reached on it.
    fn line(&mut self, line: &str) -> usize {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        if let Some(opener) = self.block_scalar {
            if rest.is_empty() || indent > opener {
                return 0;
            }
            self.block_scalar = None;
        }
        let mut block_depth = self.indents.len();
        let mut value = rest;
        if self.flow == 0 && self.quote.is_none() {
            if rest.is_empty() || rest.starts_with('#') {
                return 0;
            }
            while self.indents.last().is_some_and(|&open| open >= indent) {
                self.indents.pop();
            }
            self.indents.push(indent);
            let entries = leading_entries(rest);
            value = entries.1;
            block_depth = self.indents.len() + entries.0;
            if opens_block_scalar(value) {
                self.block_scalar = Some(indent);
            }
            value = structured_value(value);
        }
        self.flow_in(value, block_depth)
    }

    /// Follows quotes and flow brackets along `text`; nesting is `block_depth` plus the open
    /// flow collections. Returns the deepest it reached.
    fn flow_in(&mut self, text: &str, block_depth: usize) -> usize {
        let mut deepest = block_depth + self.flow;
        let mut previous = ' ';
        for (at, ch) in text.char_indices() {
            let at_start = at == 0;
            match (self.quote, ch) {
                (Some(quote), ch) if ch == quote => self.quote = None,
                (Some(_), _) => {}
                (None, '#') if previous == ' ' => break,
                (None, '\'' | '"') if starts_token(previous) => self.quote = Some(ch),
                (None, '[' | '{') if self.flow > 0 || at_start => {
                    self.flow += 1;
                    deepest = deepest.max(block_depth + self.flow);
                }
                (None, ']' | '}') if self.flow > 0 => self.flow -= 1,
                _ => {}
            }
            previous = ch;
        }
        deepest
    }
}

/// `- - x` opens two sequences on one line: how many, and the text after them.
fn leading_entries(mut text: &str) -> (usize, &str) {
    let mut count = 0;
    while let Some(rest) = text.strip_prefix("- ").or_else(|| text.strip_prefix("? ")) {
        count += 1;
        text = rest.trim_start_matches(' ');
    }
    (count, text)
}

/// A value that is a block scalar header: `key: |`, `- >-`, `|2`.
fn opens_block_scalar(value: &str) -> bool {
    let value = match value.find(": ") {
        Some(at) => value[at + 2..].trim_start(),
        None => value,
    };
    let mut chars = value.chars();
    matches!(chars.next(), Some('|' | '>'))
        && chars
            .take_while(|&c| c != '#')
            .all(|c| matches!(c, '+' | '-' | ' ') || c.is_ascii_digit())
}

/// Whether a quote after `previous` opens a quoted scalar rather than sitting inside a plain one.
fn starts_token(previous: char) -> bool {
    matches!(previous, ' ' | '[' | '{' | ',' | ':')
}

/// In block context, the part of a line that can open something spanning lines: a value that
/// starts with a bracket or a quote (after `key: `, or the whole text). A plain scalar gives "".
fn structured_value(text: &str) -> &str {
    let value = match text.find(": ") {
        Some(at) if !text.starts_with(['[', '{', '"', '\'']) => text[at + 2..].trim_start(),
        _ => text,
    };
    if value.starts_with(['[', '{', '"', '\'']) {
        value
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(text: &str) -> usize {
        let mut scan = Scan::default();
        text.lines().map(|line| scan.line(line)).max().unwrap_or(0)
    }

    #[test]
    fn counts_block_and_flow_nesting() {
        let cases = [
            ("a: 1\n", 1),
            ("tasks:\n  - name: x\n    cron:\n      hour: 5\n", 4),
            ("tasks: [[[1]]]\n", 4),
            ("tasks: {a: {b: [1, 2]}}\n", 4),
            // Each entry counts its sequence and the line's own level: an estimate from above.
            ("- - - x\n", 4),
            ("tasks: [\n  [\n    [1]\n  ]\n]\n", 4),
        ];
        for (text, expected) in cases {
            assert_eq!(depth(text), expected, "{text:?}");
        }
    }

    #[test]
    fn brackets_in_scalars_comments_and_block_scalars_do_not_count() {
        let cases = [
            "command: test [ -f x ] && echo {a}\n",
            "command: \"[[[[[[\"\n",
            "command: '{{{{{{'\n",
            "a: 1 # [[[[[[[\n",
            "command: |\n  [[[[[[[[\n      {{{{{{\n        deep indent\nnext: 1\n",
            "description: it's [[[[ fine\n",
        ];
        for text in cases {
            assert!(depth(text) <= 2, "{text:?}: {}", depth(text));
        }
    }

    #[test]
    fn names_the_line_where_nesting_passes_the_limit() {
        let deep = format!("tasks:\n  - {}{}\n", "[".repeat(100), "]".repeat(100));
        assert_eq!(too_deep(&deep, 64), Some(2));
        let block: String = (0..80)
            .map(|level| format!("{}k:\n", " ".repeat(level)))
            .collect();
        assert_eq!(too_deep(&block, 64), Some(65));
        assert_eq!(too_deep("tasks: []\n", 64), None);
    }
}
