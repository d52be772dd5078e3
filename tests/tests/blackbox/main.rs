//! Black-box tests: the real daemon and ctl binaries on temp sockets and data dirs.
//! One integration binary, one module per area.

mod bounded_replies;
mod browser;
mod capture_full_disk;
mod catch_up_once;
mod config_limits;
mod containment;
mod contrib_files;
mod ctl;
mod data_dir_lock;
mod disk_full;
mod execution;
mod file_guard;
mod grpc_standard;
mod import_history;
mod lifecycle;
mod load;
mod log_levels;
mod metrics;
mod migration_settings;
mod migration_tasks;
mod notifications;
mod operations;
mod output_abuse;
mod reload;
mod scheduling;
mod security;
mod socket_trust;
mod tail_live;
mod time_engine;
mod torture;
mod watch_resume;
mod web;
mod web_auth;
mod web_hardening;
mod web_live;
