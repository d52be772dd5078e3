//! The counts at the top of the tasks list (all, failing, conf errors, late, running,
//! suspended): each a plain link that filters the list, and with them the favicon of the worst
//! state, swapped into the head out of band whenever the counts are fetched again.
//!
//! Only this bar; what is counted and how is `triage.rs`, the list around it `tasks.rs`.

use maud::{Markup, html};

use crate::views::favicon::Icon;
use crate::views::layout::Chrome;
use crate::views::triage::{self, Filter, View};

/// When a part of the tasks page fetches itself again: after changed rows arrive, a little
/// later, so that a burst of rows costs one fetch.
pub const REFETCH: &str = "sse:rows delay:300ms";

/// The counts, each a link that filters the table (and, when it is the filter, shows all
/// again), with the favicon that goes with them: a refresh of the counts replaces the one in
/// the head by id (an out-of-band swap), so a pinned tab follows the list without a script.
pub fn counts_bar(chrome: &Chrome, view: View, counts: &[(Filter, usize)], total: usize) -> Markup {
    let (worst, _) = triage::worst(counts);
    let urls = &chrome.urls;
    let refetch = view.is_plain().then_some(REFETCH);
    html! {
        nav #sr-counts.d-flex.flex-wrap.gap-2.mb-3 aria-label="Filter tasks" data-counts
            hx-get=[refetch.map(|_| urls.path(&chrome.here))] hx-select=[refetch.map(|_| "#sr-counts")]
            hx-swap=[refetch.map(|_| "outerHTML")] hx-trigger=[refetch] {
            link #sr-icon rel="icon" type="image/svg+xml" href=(urls.favicon(Icon::State(worst)))
                hx-swap-oob="true";
            (count_link(urls.tasks_view(View { filter: None, ..view }), view.filter.is_none(),
                "all", "all", total, "secondary"))
            @for &(filter, count) in counts {
                @let active = view.filter == Some(filter);
                @let target = View { filter: (!active).then_some(filter), ..view };
                @let tone = if count == 0 { "secondary" } else { tone(filter) };
                (count_link(urls.tasks_view(target), active, filter.slug(),
                    filter.label(), count, tone))
            }
        }
    }
}

fn count_link(
    href: String,
    active: bool,
    slug: &str,
    words: &str,
    count: usize,
    tone: &str,
) -> Markup {
    let class = if active {
        format!("btn btn-sm btn-{tone}")
    } else {
        format!("btn btn-sm btn-outline-{tone}")
    };
    html! {
        a class=(class) href=(href) data-filter=(slug) data-count=(count)
            aria-current=[active.then_some("true")] {
            span.fw-semibold { (count) } " " (words)
        }
    }
}

/// The colour of a count that is not zero.
fn tone(filter: Filter) -> &'static str {
    match filter {
        Filter::Failing => "danger",
        Filter::ConfErrors => "dark",
        Filter::Late => "warning",
        Filter::Running => "info",
        Filter::Suspended => "secondary",
    }
}
