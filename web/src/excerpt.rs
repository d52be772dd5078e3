//! Where the head and the tail of an output too big to show whole are cut, as pure functions
//! over bytes: whole lines where there are any, so that line numbers stay true.
//!
//! Reading the bytes is the route's business (`routes/run.rs`), showing them the view's
//! (`views/output.rs`).

/// How many bytes of the output's head and of its tail are shown, out of `summary` in all.
pub fn halves(summary: u64) -> (u64, u64) {
    let tail = summary / 2;
    (summary - tail, tail)
}

/// The head to show of `data` (the output's first bytes): up to its last line end, or all of
/// it when one line fills it.
pub fn head(data: &[u8]) -> &[u8] {
    match data.iter().rposition(|&byte| byte == b'\n') {
        Some(end) => &data[..=end],
        None => data,
    }
}

/// The tail to show of `data`, read from one byte before where the tail may start (so the
/// first byte tells whether a line starts right after it): from the first line start on, or
/// everything after that first byte when one line fills it. Returns how many bytes of `data`
/// are left out, and the tail.
pub fn tail(data: &[u8]) -> (usize, &[u8]) {
    let Some(&before) = data.first() else {
        return (0, data);
    };
    let from = if before == b'\n' {
        1
    } else {
        match data[1..].iter().position(|&byte| byte == b'\n') {
            Some(end) if end + 2 < data.len() => end + 2,
            _ => 1,
        }
    };
    (from, &data[from..])
}

/// The number of line ends in `data`.
pub fn line_ends(data: &[u8]) -> u64 {
    data.iter().filter(|&&byte| byte == b'\n').count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_add_up_to_the_summary() {
        assert_eq!(halves(100), (50, 50));
        assert_eq!(halves(101), (51, 50));
        assert_eq!(halves(1), (1, 0));
    }

    #[test]
    fn the_head_ends_at_a_line_end() {
        assert_eq!(head(b"one\ntwo\nthr"), b"one\ntwo\n");
        assert_eq!(head(b"one\n"), b"one\n");
        assert_eq!(head(b"one line, no end"), b"one line, no end");
        assert_eq!(head(b""), b"");
    }

    #[test]
    fn the_tail_starts_at_a_line_start() {
        assert_eq!(tail(b"\nnine\nten\n"), (1, &b"nine\nten\n"[..]));
        assert_eq!(tail(b"ght\nnine\nten\n"), (4, &b"nine\nten\n"[..]));
        assert_eq!(tail(b"xlong line"), (1, &b"long line"[..]));
        // The only line end closes the last line: keep the partial line rather than nothing.
        assert_eq!(tail(b"xend\n"), (1, &b"end\n"[..]));
        assert_eq!(tail(b""), (0, &b""[..]));
    }

    #[test]
    fn line_ends_are_counted() {
        assert_eq!(line_ends(b"a\nb\n\nc"), 3);
        assert_eq!(line_ends(b""), 0);
    }
}
