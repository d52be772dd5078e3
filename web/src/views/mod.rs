//! HTML views: pure functions from data (API messages, settings, `now`) to maud markup.
//!
//! No view calls the API, reads the clock or a cookie; routes gather that and pass it in, so
//! every view is testable without a server. maud escapes every value interpolated into the
//! markup; `PreEscaped` is used only for the Help page's Markdown, which is compiled into the
//! binary (see `help.rs`), and for the search page's fixed marker comment; never for data.

pub mod chart_duration;
pub mod chart_heatmap;
pub mod chart_scale;
pub mod config;
pub mod counts;
pub mod error;
pub mod favicon;
pub mod forms;
pub mod killed;
pub mod layout;
pub mod mask;
pub mod nodes;
pub mod output;
pub mod run;
pub mod runs;
pub mod search;
#[cfg(test)]
mod snapshot;
pub mod sparkline;
pub mod status;
pub mod task;
pub mod tasks;
pub mod time;
pub mod triage;
