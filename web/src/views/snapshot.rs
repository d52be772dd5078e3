//! Test support: rendered markup laid out for snapshot tests, one element per line.
//!
//! maud writes a fragment as one long line, which a snapshot shows as one long line too; a
//! break between adjacent tags makes each snapshot read like the markup and its diffs name the
//! element that changed. It does not indent or reorder anything, and adds breaks only between a
//! `>` and a `<`: escaped text (`&lt;`, `&gt;`) is never split.

use expect_test::Expect;
use maud::Markup;

/// Checks `markup` against `expect`, one tag per line.
pub fn check(markup: &Markup, expect: Expect) {
    expect.assert_eq(&lines(&markup.0));
}

/// Checks a whole page against `expect` by its title and its `<main>`, one tag per line: the
/// head and the navbar around them are the shell's, whose snapshot is in `layout.rs`, and
/// would otherwise repeat in every page's.
pub fn check_page(markup: &Markup, expect: Expect) {
    let html = &markup.0;
    // Each part ends at its first closing tag: the page's charts have titles of their own.
    let part = |open: &str, close: &str| {
        let start = html.find(open)?;
        let end = html[start..].find(close)? + start + close.len();
        Some(&html[start..end])
    };
    let part = |open: &str, close: &str| {
        part(open, close).unwrap_or_else(|| panic!("no {open}…{close} in {html}"))
    };
    let shown = format!(
        "{}{}",
        part("<title>", "</title>"),
        part("<main", "</main>")
    );
    expect.assert_eq(&lines(&shown));
}

fn lines(html: &str) -> String {
    format!("{}\n", html.replace("><", ">\n<"))
}

mod tests {
    use expect_test::expect;

    use super::*;

    #[test]
    fn adjacent_tags_break_and_text_stays_whole() {
        let markup = maud::html! { p { "a <b> c" } ul { li { "one" } li { "two" } } };
        check(
            &markup,
            expect![[r#"
                <p>a &lt;b&gt; c</p>
                <ul>
                <li>one</li>
                <li>two</li>
                </ul>
            "#]],
        );
    }

    #[test]
    fn a_page_is_shown_by_its_title_and_main_only() {
        let markup = maud::html! {
            html {
                head { title { "T" } meta charset="utf-8"; }
                body { nav { "N" } main { svg { title { "S" } } } }
            }
        };
        check_page(
            &markup,
            expect![[r#"
                <title>T</title>
                <main>
                <svg>
                <title>S</title>
                </svg>
                </main>
            "#]],
        );
    }
}
