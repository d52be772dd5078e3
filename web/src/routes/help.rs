//! GET /help — `web/help.md` rendered, with the status labels in their colours.

use axum::http::StatusCode;
use axum::response::Response;
use maud::{PreEscaped, html};

use super::html as respond;
use crate::context::Ctx;
use crate::views::layout::{Nav, Page, render};
use crate::views::status::{TASK_STATUSES, badge, task_status, task_status_meaning};

pub async fn page(ctx: Ctx) -> Response {
    let rest = html! {
        div.row {
            div.col-lg-8.sr-help {
                // Trusted: Markdown compiled into the binary, with raw HTML dropped (help.rs).
                (PreEscaped(crate::help::help_html()))
            }
            div.col-lg-4 {
                h2.h5 { "Labels" }
                table.table.table-sm data-legend {
                    tbody {
                        @for status in TASK_STATUSES {
                            tr {
                                td { (badge(task_status(status))) }
                                td.small { (task_status_meaning(status)) }
                            }
                        }
                    }
                }
            }
        }
    };
    let page = Page {
        nav: Nav::Help,
        title: "Help",
        events: None,
        live: html! {},
        rest,
    };
    respond(StatusCode::OK, render(&ctx.chrome, page))
}
