//! speedrack-bench: starts the real (release) speedrackd on temp dirs, drives it through one
//! scenario, prints a table and optionally writes the figures as JSON.
//!
//! Run with `cargo run --release -p speedrack-tests --bin speedrack-bench -- SCENARIO`, after
//! `cargo build --release -p speedrackd -p speedrackctl`; the daemon binaries are taken from
//! the bench binary's own directory (or `SPEEDRACK_BIN_DIR`). BENCHMARKS.md explains each one.
//! Targets are checked here, in the report; no test asserts a timing.
//!
//! It drives the daemon only through its API, HTTP and /proc, except `history` and `wide`,
//! which fill its database through the daemon's store API (the `speedrackd` library) before
//! starting it.

mod api;
mod cluster;
mod daemon;
mod footprint;
mod guarded;
mod history;
mod lateness;
mod peers;
mod procfs;
mod record_cost;
mod report;
mod scale;
mod spawn_floor;
mod throughput;
mod wide;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, ValueEnum};

/// Benchmarks of speedrackd against the targets of BENCHMARKS.md.
#[derive(Parser)]
struct Args {
    scenario: Scenario,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Length of the measured window, for the scenarios that have one.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
}

#[derive(Clone, Copy, ValueEnum)]
enum Scenario {
    Lateness,
    Footprint,
    Api,
    Throughput,
    History,
    Scale,
    Wide,
    Cluster,
    Peers,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let report = match args.scenario {
        Scenario::Lateness => lateness::run(args.seconds).await?,
        Scenario::Footprint => footprint::run(args.seconds).await?,
        Scenario::Api => api::run().await?,
        Scenario::Throughput => throughput::run(args.seconds.min(30)).await?,
        Scenario::History => history::run().await?,
        Scenario::Scale => scale::run(args.seconds).await?,
        Scenario::Wide => wide::run().await?,
        Scenario::Cluster => cluster::run(args.seconds).await?,
        Scenario::Peers => peers::run().await?,
    };
    let machine = procfs::machine();
    report.print(&machine);
    if let Some(path) = args.json {
        report.write_json(&machine, &path)?;
    }
    Ok(())
}
