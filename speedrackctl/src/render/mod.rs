//! Pure rendering helpers shared by the subcommands: tables, times, enum names, conf errors and
//! JSON documents.
//!
//! Nothing here talks to the daemon, reads the clock or prints; each subcommand's own layout
//! lives in its file under `cmd/`.

pub mod conf_errors;
pub mod event;
pub mod json;
pub mod kill;
pub mod names;
pub mod table;
pub mod time;
