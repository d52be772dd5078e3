//! `footprint`: the demo tasks with the web UI on, mostly idle; RSS, CPU and wakeups.
//!
//! A second daemon with no tasks at all runs beside it for the same window, so that what the
//! daemon costs by itself (timers it keeps even with nothing to do) is told apart from what
//! the demo tasks cost. Wakeups are voluntary context switches summed over all threads.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::daemon::BenchDaemon;
use super::procfs::{Sample, sample};
use super::report::Report;

const DEMO_TASKS: &str = include_str!("../../../../contrib/demo/speedrack_tasks.yaml");

/// Peak RSS and the first and last samples of one daemon.
struct Watch {
    pid: u32,
    first: Sample,
    last: Sample,
    peak_rss_kib: u64,
    peak_anon_kib: u64,
}

impl Watch {
    fn new(pid: u32) -> Result<Watch> {
        let first = sample(pid)?;
        Ok(Watch {
            pid,
            first,
            last: first,
            peak_rss_kib: first.rss_kib,
            peak_anon_kib: first.rss_anon_kib,
        })
    }

    fn look(&mut self) -> Result<()> {
        self.last = sample(self.pid)?;
        self.peak_rss_kib = self.peak_rss_kib.max(self.last.rss_kib);
        self.peak_anon_kib = self.peak_anon_kib.max(self.last.rss_anon_kib);
        Ok(())
    }

    fn report(&self, report: &mut Report, label: &str, seconds: f64, targets: bool) {
        let cpu_seconds = self.last.cpu.saturating_sub(self.first.cpu).as_secs_f64();
        let cpu_percent = cpu_seconds / seconds * 100.0;
        let rss_mib = self.peak_rss_kib as f64 / 1024.0;
        let wakeups =
            (self.last.voluntary_switches - self.first.voluntary_switches) as f64 / seconds;
        if targets {
            report.at_most(&format!("{label}: peak RSS"), rss_mib, "MiB", 12.0);
            report.at_most(&format!("{label}: CPU"), cpu_percent, "%", 0.1);
        } else {
            report.add(&format!("{label}: peak RSS"), rss_mib, "MiB");
            report.add(&format!("{label}: CPU"), cpu_percent, "%");
        }
        // The rest of RSS is the binary's code and data mapped from its file: shared and
        // reclaimable, unlike this.
        report.add(
            &format!("{label}: peak private (anonymous) RSS"),
            self.peak_anon_kib as f64 / 1024.0,
            "MiB",
        );
        report.add(
            &format!("{label}: wakeups (voluntary switches)"),
            wakeups,
            "/s",
        );
        report.add(
            &format!("{label}: involuntary switches"),
            (self.last.involuntary_switches - self.first.involuntary_switches) as f64 / seconds,
            "/s",
        );
    }
}

/// Runs the scenario for `seconds` after a short warm-up.
pub async fn run(seconds: u64) -> Result<Report> {
    let demo = BenchDaemon::start(DEMO_TASKS, None)?;
    let empty = BenchDaemon::start("tasks: []\n", None)?;
    // Load the web UI once, as a visitor would, so its first-use allocations are counted.
    if let Some(url) = demo.web_url() {
        let _ = reqwest::get(url).await?.text().await?;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut demo_watch = Watch::new(demo.pid())?;
    let mut empty_watch = Watch::new(empty.pid())?;
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    while start.elapsed() < Duration::from_secs(seconds) {
        tick.tick().await;
        demo_watch.look()?;
        empty_watch.look()?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut report = Report::new("footprint");
    demo_watch.report(&mut report, "demo tasks, web on", elapsed, true);
    empty_watch.report(&mut report, "no tasks, web on", elapsed, false);
    report.note(format!(
        "sampled every second for {elapsed:.1} s after a 3 s warm-up and one page load"
    ));
    Ok(report)
}
