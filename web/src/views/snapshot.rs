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
}
