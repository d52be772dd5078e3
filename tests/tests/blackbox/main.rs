//! Black-box tests: the real daemon and ctl binaries on temp sockets and data dirs.
//! One integration binary, one module per area.

mod bounded_replies;
mod browser;
mod contrib_files;
mod ctl;
mod execution;
mod lifecycle;
mod load;
mod metrics;
mod notifications;
mod operations;
mod output_abuse;
mod reload;
mod scheduling;
mod security;
mod time_engine;
mod torture;
mod web;
mod web_auth;
