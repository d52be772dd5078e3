//! Finding the lines of output files that contain a text, within a budget of bytes read and
//! lines found, so that a search of a large history stays bounded.
//!
//! It reads files and matches lines; which runs to search, and in which order, is the
//! caller's business (`rpc/search.rs`).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use regex::bytes::{Regex, RegexBuilder};

use super::output::Stream;

/// At most this much of a matching line is kept to show.
pub const MAX_SHOWN_LINE: usize = 500;
/// Lines are read in pieces of at most this size, each matched on its own, so that a file
/// without line ends is read in bounded memory. A match across two pieces is not found.
const MAX_PIECE: u64 = 64 << 10;

/// A text to find: literal, ignoring case.
#[derive(Debug, Clone)]
pub struct Needle(Regex);

impl Needle {
    /// An escaped literal always compiles unless it is too large for the matcher.
    pub fn new(text: &str) -> Result<Needle, regex::Error> {
        RegexBuilder::new(&regex::escape(text))
            .case_insensitive(true)
            .build()
            .map(Needle)
    }
}

/// What a search may still use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub bytes_left: u64,
    pub hits_left: u32,
}

/// One line of a file that holds the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineHit {
    pub stream: Stream,
    /// 1 for the first line.
    pub line_number: u64,
    /// Where the line starts, in bytes.
    pub offset: u64,
    /// The line around its first match, at most `MAX_SHOWN_LINE` bytes, lossily decoded.
    pub line: String,
    /// `line` is not the whole line.
    pub cut: bool,
}

/// The lines of `path` that contain `needle`, read within `budget` (which is spent). A missing
/// file is an empty one: a stream that stayed empty has no file.
pub fn search_file(
    path: &Path,
    stream: Stream,
    needle: &Needle,
    budget: &mut Budget,
) -> std::io::Result<Vec<LineHit>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let mut reader = BufReader::new(file.take(budget.bytes_left));
    let mut hits = Vec::new();
    let mut piece = Vec::new();
    let (mut offset, mut line_number, mut line_start) = (0u64, 1u64, true);
    while budget.hits_left > 0 {
        piece.clear();
        let read = (&mut reader)
            .take(MAX_PIECE)
            .read_until(b'\n', &mut piece)?;
        if read == 0 {
            break;
        }
        budget.bytes_left = budget.bytes_left.saturating_sub(read as u64);
        let complete = piece.last() == Some(&b'\n');
        let text = trim_line_end(&piece);
        if let Some(found) = needle.0.find(text) {
            let (line, cut) = excerpt(text, found.start());
            hits.push(LineHit {
                stream,
                line_number,
                offset,
                line,
                cut: cut || !line_start || !complete,
            });
            budget.hits_left -= 1;
        }
        offset += read as u64;
        line_start = complete;
        if complete {
            line_number += 1;
        }
    }
    Ok(hits)
}

fn trim_line_end(piece: &[u8]) -> &[u8] {
    let piece = piece.strip_suffix(b"\n").unwrap_or(piece);
    piece.strip_suffix(b"\r").unwrap_or(piece)
}

/// At most `MAX_SHOWN_LINE` bytes of `line` around `at` (a little before it, most after),
/// cut at character boundaries; and whether anything was left out.
fn excerpt(line: &[u8], at: usize) -> (String, bool) {
    if line.len() <= MAX_SHOWN_LINE {
        return (String::from_utf8_lossy(line).into_owned(), false);
    }
    let mut start = at.saturating_sub(MAX_SHOWN_LINE / 5);
    while start > 0 && is_continuation(line[start]) {
        start -= 1;
    }
    let mut end = (start + MAX_SHOWN_LINE).min(line.len());
    while end < line.len() && end > start && is_continuation(line[end]) {
        end -= 1;
    }
    (
        String::from_utf8_lossy(&line[start..end]).into_owned(),
        true,
    )
}

fn is_continuation(byte: u8) -> bool {
    byte & 0b1100_0000 == 0b1000_0000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(content: &[u8], text: &str, budget: &mut Budget) -> Vec<LineHit> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("stdout");
        std::fs::write(&path, content).expect("write");
        search_file(
            &path,
            Stream::Stdout,
            &Needle::new(text).expect("a literal"),
            budget,
        )
        .expect("search")
    }

    fn plenty() -> Budget {
        Budget {
            bytes_left: 1 << 20,
            hits_left: 100,
        }
    }

    #[test]
    fn matching_lines_are_found_with_their_number_and_offset_ignoring_case() {
        let hits = search(
            b"one\r\nTwo ERROR here\nthree\nerror: [x.*]\n",
            "Error",
            &mut plenty(),
        );
        let found: Vec<(u64, u64, &str)> = hits
            .iter()
            .map(|hit| (hit.line_number, hit.offset, hit.line.as_str()))
            .collect();
        assert_eq!(found, [(2, 5, "Two ERROR here"), (4, 26, "error: [x.*]")]);
        let literal = search(b"a.c\nabc\n", "a.c", &mut plenty());
        assert_eq!(literal.len(), 1, "the text is no pattern");
    }

    #[test]
    fn the_budget_bounds_bytes_and_hits() {
        let mut bytes = Budget {
            bytes_left: 10,
            hits_left: 100,
        };
        let hits = search(b"hit 1\nhit 2\nhit 3\n", "hit", &mut bytes);
        assert_eq!(hits.len(), 2, "10 bytes reach into the second line");
        assert_eq!(bytes.bytes_left, 0);
        let mut few = Budget {
            bytes_left: 1 << 20,
            hits_left: 2,
        };
        let hits = search(b"hit\nhit\nhit\n", "hit", &mut few);
        assert_eq!((hits.len(), few.hits_left), (2, 0));
        let mut none = plenty();
        let missing = search_file(
            Path::new("/nonexistent/stdout"),
            Stream::Stderr,
            &Needle::new("x").expect("a literal"),
            &mut none,
        )
        .expect("a missing file is empty");
        assert!(missing.is_empty());
    }

    #[test]
    fn a_long_line_shows_a_bounded_excerpt_around_the_match() {
        let mut line = "é".repeat(1000).into_bytes();
        line.extend_from_slice(b"NEEDLE");
        line.extend("ü".repeat(1000).into_bytes());
        let hits = search(&line, "needle", &mut plenty());
        assert_eq!(hits.len(), 1);
        let hit = &hits[0];
        assert!(hit.cut);
        assert!(hit.line.len() <= MAX_SHOWN_LINE, "{}", hit.line.len());
        assert!(hit.line.contains("NEEDLE"));
        assert!(
            !hit.line.contains('\u{FFFD}'),
            "cut at character boundaries"
        );
    }
}
