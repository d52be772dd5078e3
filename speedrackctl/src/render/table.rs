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
    use super::*;

    fn table(rows: &[[&str; 3]]) -> String {
        let mut table = Table::new(["NAME", "STATUS", "NEXT"]);
        for row in rows {
            table.push(row.map(str::to_owned));
        }
        table.render()
    }

    #[test]
    fn tables() {
        let cases: [(&[[&str; 3]], &str); 4] = [
            (&[], "NAME  STATUS  NEXT\n"),
            (
                &[["backup", "success", "in 12s"], ["a", "never run", "-"]],
                "NAME    STATUS     NEXT\n\
                 backup  success    in 12s\n\
                 a       never run  -\n",
            ),
            (
                // An empty last cell leaves no trailing blanks.
                &[["x", "conf error", ""]],
                "NAME  STATUS      NEXT\nx     conf error\n",
            ),
            (
                // Width counts characters, not bytes.
                &[["café", "ok", "-"]],
                "NAME  STATUS  NEXT\ncafé  ok      -\n",
            ),
        ];
        for (rows, expected) in cases {
            assert_eq!(table(rows), expected, "{rows:?}");
        }
    }

    #[test]
    fn key_value_lines() {
        let pairs = [("pid", "42".to_owned()), ("data dir", "/var".to_owned())];
        assert_eq!(key_values(&pairs), "pid       42\ndata dir  /var\n");
        assert_eq!(key_values(&[]), "");
        // An empty value leaves no trailing blanks.
        assert_eq!(key_values(&[("a", String::new())]), "a\n");
    }
}
