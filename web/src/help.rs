//! The Help page's content: `web/help.md`, compiled in and rendered from Markdown once.
//!
//! The same file is what the README links to, so the help cannot drift from the docs; tests
//! check it against the code (every status label, and every schedule example through the real
//! `speedrackd schedule`). Raw HTML in the Markdown is dropped, so even the help's own source
//! cannot inject markup.

use std::sync::OnceLock;

use pulldown_cmark::{Event, Options, Parser, html};

/// The help text, as Markdown.
pub const HELP_MARKDOWN: &str = include_str!("../help.md");

/// The help as HTML, rendered on first use.
pub fn help_html() -> &'static str {
    static RENDERED: OnceLock<String> = OnceLock::new();
    RENDERED.get_or_init(|| render(HELP_MARKDOWN))
}

/// Markdown to HTML, without any raw HTML the source may contain.
pub fn render(markdown: &str) -> String {
    let events = Parser::new_ext(markdown, Options::ENABLE_TABLES)
        .filter(|event| !matches!(event, Event::Html(_) | Event::InlineHtml(_)));
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::status::{TASK_STATUSES, task_status};

    #[test]
    fn the_help_explains_every_status_the_ui_shows() {
        for status in TASK_STATUSES {
            let label = task_status(status).text;
            assert!(
                HELP_MARKDOWN.contains(&format!("- **{label}**:")),
                "help.md does not explain {label:?}"
            );
        }
    }

    #[test]
    fn raw_html_is_dropped() {
        let html = render("# Hi\n\n<script>alert(1)</script>\n\ntext <b>x</b> `<i>`");
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("<code>&lt;i&gt;</code>"), "{html}");
    }
}
