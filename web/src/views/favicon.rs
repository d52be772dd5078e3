//! The favicons: one small SVG per state the tasks list can be in (see `triage::Worst`), and a
//! plain one for every other page, so that a pinned tab shows at a glance that something failed.
//!
//! Only the drawings and their names; the route that serves them is `routes/favicon.rs`, and
//! which one a page links is the page's choice.

use crate::views::triage::Worst;

/// The icon a page links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icon {
    /// For pages that do not look at every task.
    Plain,
    State(Worst),
}

impl Icon {
    /// The file name the icon is served under.
    pub fn file(self) -> String {
        let slug = match self {
            Icon::Plain => "plain",
            Icon::State(worst) => worst.slug(),
        };
        format!("{slug}.svg")
    }

    /// `file()` read back.
    pub fn parse(file: &str) -> Option<Icon> {
        let slug = file.strip_suffix(".svg")?;
        if slug == "plain" {
            return Some(Icon::Plain);
        }
        Worst::parse(slug).map(Icon::State)
    }

    /// The drawing: a disc in the state's colour (Bootstrap's) with a white mark.
    pub fn svg(self) -> String {
        let (colour, mark) = match self {
            Icon::Plain => ("#6c757d", PLAIN),
            Icon::State(Worst::Failing) => ("#dc3545", CROSS),
            Icon::State(Worst::ConfErrors) => ("#212529", BANG),
            Icon::State(Worst::Late) => ("#fd7e14", CLOCK),
            Icon::State(Worst::Running) => ("#0d6efd", PLAY),
            Icon::State(Worst::Ok) => ("#198754", CHECK),
        };
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16" width="16" height="16"><circle cx="8" cy="8" r="8" fill="{colour}"/><path d="{mark}" fill="none" stroke="#fff" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/></svg>"##
        )
    }
}

const PLAIN: &str = "M5 8h6";
const CROSS: &str = "M5 5l6 6M11 5l-6 6";
const BANG: &str = "M8 4v5M8 12v.01";
const CLOCK: &str = "M8 4v4l3 2";
const PLAY: &str = "M6 5v6l5-3z";
const CHECK: &str = "M4.5 8.5l2.5 2.5 4.5-5";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_icon_is_served_under_its_own_name() {
        let icons = std::iter::once(Icon::Plain).chain(Worst::ALL.map(Icon::State));
        let mut drawings = Vec::new();
        for icon in icons {
            assert_eq!(Icon::parse(&icon.file()), Some(icon));
            let svg = icon.svg();
            assert!(svg.starts_with("<svg xmlns="), "{svg}");
            drawings.push(svg);
        }
        drawings.sort();
        drawings.dedup();
        assert_eq!(drawings.len(), 6, "each state looks different");
        assert_eq!(Icon::parse("failing.png"), None);
        assert_eq!(Icon::parse("../x.svg"), None);
    }
}
