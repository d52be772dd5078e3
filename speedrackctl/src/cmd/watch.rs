//! `watch`: events as they happen, one line each (or one JSON document each with `--json`),
//! until Ctrl-C, which ends it with status 0.
//!
//! The stream resumes by itself after a disconnection or a daemon restart (`events.rs`); what a
//! line says is `render::event`'s business.

use tokio::signal::unix::{SignalKind, signal};

use super::events::{News, RESTART_PATIENCE, Watcher};
use super::{Context, Format, write_stdout};
use crate::render::event;

pub async fn run(ctx: &mut Context, utc: bool) -> anyhow::Result<()> {
    // Registered before anything shows, so that an early Ctrl-C also ends `watch` with 0.
    let mut interrupted = signal(SignalKind::interrupt())?;
    let mut watcher =
        Watcher::open(ctx.client.clone(), ctx.socket.clone(), RESTART_PATIENCE).await?;
    // On stderr, so that it never mixes with the events: says that events from now on show.
    eprintln!(
        "speedrackctl: watching speedrackd at {} (Ctrl-C to stop)",
        ctx.socket.display()
    );
    loop {
        let news = tokio::select! {
            news = watcher.next() => news?,
            _ = interrupted.recv() => return Ok(()),
        };
        let message = match news {
            News::Event(message) => message,
            News::Resumed => {
                eprintln!("speedrackctl: the connection to speedrackd broke; resumed watching");
                continue;
            }
        };
        let text = match (ctx.format, utc) {
            (Format::Json, _) => event::json_line(&message),
            (Format::Text, true) => event::line(&message, &chrono::Utc),
            (Format::Text, false) => event::line(&message, &chrono::Local),
        };
        if let Some(text) = text {
            write_stdout(text.as_bytes())?;
        }
    }
}
