//! Aligned text columns: a table with a header row, and label/value lines.
//!
//! Pure string building. It does not know what the columns mean or shorten any cell; callers
//! pass one-line cells.

/// Columns separated by two spaces, each as wide as its widest cell.
pub struct Table<const N: usize> {
    header: [&'static str; N],
    rows: Vec<[String; N]>,
}

impl<const N: usize> Table<N> {
    /// A table with these column titles and no rows yet.
    pub fn new(header: [&'static str; N]) -> Self {
        Self {
            header,
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn push(&mut self, row: [String; N]) {
        self.rows.push(row);
    }

    /// The header and rows, one line each, every line ending in a newline.
    pub fn render(&self) -> String {
        let header = self.header.map(str::to_owned);
        let lines: Vec<&[String; N]> = std::iter::once(&header).chain(&self.rows).collect();
        let mut widths = [0; N];
        for line in &lines {
            for (width, cell) in widths.iter_mut().zip(line.iter()) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for line in lines {
            let padded: Vec<String> = line
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            // The last column is padded too; trimming keeps lines free of trailing blanks.
            out.push_str(padded.join("  ").trim_end());
            out.push('\n');
        }
        out
    }
}

/// "label  value" lines with the values aligned, e.g. for `status`.
pub fn key_values(pairs: &[(&str, String)]) -> String {
    let width = pairs
        .iter()
        .map(|(label, _)| label.chars().count())
        .max()
        .unwrap_or(0);
    pairs
        .iter()
        .map(|(label, value)| format!("{}\n", format!("{label:<width$}  {value}").trim_end()))
        .collect()
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    /// Snapshots hide trailing blanks, and `UPDATE_EXPECT=1` would accept them: check apart.
    fn check_rendered(rendered: &str, expect: Expect) {
        assert!(
            !rendered.lines().any(|line| line.ends_with(' ')),
            "a line ends in a blank:\n{rendered}"
        );
        expect.assert_eq(rendered);
    }

    fn check_table(rows: &[[&str; 3]], expect: Expect) {
        let mut table = Table::new(["NAME", "STATUS", "NEXT"]);
        for row in rows {
            table.push(row.map(str::to_owned));
        }
        check_rendered(&table.render(), expect);
    }

    #[test]
    fn an_empty_table_is_its_header() {
        check_table(
            &[],
            expect![[r#"
                NAME  STATUS  NEXT
            "#]],
        );
    }

    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        check_table(
            &[["backup", "success", "in 12s"], ["a", "never run", "-"]],
            expect![[r#"
                NAME    STATUS     NEXT
                backup  success    in 12s
                a       never run  -
            "#]],
        );
    }

    #[test]
    fn an_empty_last_cell_leaves_no_trailing_blanks() {
        check_table(
            &[["x", "conf error", ""]],
            expect![[r#"
                NAME  STATUS      NEXT
                x     conf error
            "#]],
        );
    }

    #[test]
    fn width_counts_characters_not_bytes() {
        check_table(
            &[["café", "ok", "-"]],
            expect![[r#"
                NAME  STATUS  NEXT
                café  ok      -
            "#]],
        );
    }

    #[test]
    fn key_value_lines() {
        let pairs = [("pid", "42".to_owned()), ("data dir", "/var".to_owned())];
        check_rendered(
            &key_values(&pairs),
            expect![[r#"
                pid       42
                data dir  /var
            "#]],
        );
        check_rendered(&key_values(&[]), expect![""]);
        check_rendered(
            &key_values(&[("a", String::new())]),
            expect![[r#"
                a
            "#]],
        );
    }
}
