//! `api`: `speedrackctl status` end to end, and a GetStatus round trip on one connection.

use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use speedrack_proto::v1 as pb;

use super::daemon::{BenchDaemon, binary};
use super::report::{Report, percentile, sorted_ms};

const CTL_CALLS: usize = 200;
const RPC_CALLS: usize = 2000;

/// Runs the scenario.
pub async fn run() -> Result<Report> {
    let daemon = BenchDaemon::start(
        "tasks:\n  - name: idle\n    command: 'true'\n    interval: 400w\n",
        None,
    )?;
    let ctl = binary("speedrackctl")?;
    let mut ctl_times = Vec::with_capacity(CTL_CALLS);
    for _ in 0..CTL_CALLS {
        let start = Instant::now();
        let output = Command::new(&ctl)
            .arg("--socket")
            .arg(daemon.socket())
            .arg("status")
            .output()
            .context("cannot run speedrackctl")?;
        ctl_times.push(start.elapsed());
        if !output.status.success() {
            bail!(
                "speedrackctl status failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    let mut client = daemon.client().await?;
    // A few calls first so the connection and the daemon's code paths are warm.
    for _ in 0..20 {
        client.get_status(pb::GetStatusRequest {}).await?;
    }
    let mut rpc_times = Vec::with_capacity(RPC_CALLS);
    for _ in 0..RPC_CALLS {
        let start = Instant::now();
        client.get_status(pb::GetStatusRequest {}).await?;
        rpc_times.push(start.elapsed());
    }
    let ctl_ms = sorted_ms(&ctl_times);
    let rpc_ms = sorted_ms(&rpc_times);
    let mut report = Report::new("api");
    report.add("speedrackctl status p50", percentile(&ctl_ms, 50.0), "ms");
    report.at_most(
        "speedrackctl status p99",
        percentile(&ctl_ms, 99.0),
        "ms",
        15.0,
    );
    report.at_most(
        "GetStatus round trip p50",
        percentile(&rpc_ms, 50.0),
        "ms",
        0.5,
    );
    report.add("GetStatus round trip p99", percentile(&rpc_ms, 99.0), "ms");
    report.note(format!(
        "{CTL_CALLS} ctl processes one after another; {RPC_CALLS} sequential RPCs on one connection"
    ));
    Ok(report)
}
