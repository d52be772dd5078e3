//! The standard process metrics (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
//! …), read from /proc at each scrape, under the names every Prometheus client library uses,
//! so that existing dashboards and alerts work unchanged. A figure that cannot be read is left
//! out of that scrape.

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// What /proc/self/stat says of the process, in the kernel's units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    /// utime + stime, in clock ticks.
    cpu_ticks: u64,
    /// Since boot, in clock ticks.
    start_ticks: u64,
    virtual_bytes: u64,
    resident_pages: u64,
}

/// Parses /proc/PID/stat; the command name (field 2) may hold spaces and parentheses, so the
/// fields are counted from its last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let after_name = &text[text.rfind(')')? + 1..];
    // Fields from 3 (state) on: utime is field 14, so index 11 here.
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |number: usize| fields.get(number - 3)?.parse::<u64>().ok();
    Some(Stat {
        cpu_ticks: field(14)? + field(15)?,
        start_ticks: field(22)?,
        virtual_bytes: field(23)?,
        resident_pages: field(24)?,
    })
}

/// The boot time from /proc/stat's `btime` line, in seconds since the Unix epoch.
fn parse_boot_time(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|seconds| seconds.trim().parse().ok())
}

fn gauge(registry: &mut Registry, name: &str, help: &str, value: f64) {
    let metric = Gauge::<f64, AtomicU64>::default();
    metric.set(value);
    registry.register(name, help, metric);
}

/// Registers the process metrics as they are now.
pub fn register(registry: &mut Registry) {
    let ticks = rustix::param::clock_ticks_per_second() as f64;
    let stat = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|text| parse_stat(&text));
    if let Some(stat) = stat {
        let cpu = Counter::<f64, AtomicU64>::default();
        cpu.inc_by(stat.cpu_ticks as f64 / ticks);
        registry.register(
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds",
            cpu,
        );
        let page = rustix::param::page_size() as f64;
        gauge(
            registry,
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
            stat.resident_pages as f64 * page,
        );
        gauge(
            registry,
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes",
            stat.virtual_bytes as f64,
        );
        let boot = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|text| parse_boot_time(&text));
        if let Some(boot) = boot {
            gauge(
                registry,
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds",
                boot as f64 + stat.start_ticks as f64 / ticks,
            );
        }
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        gauge(
            registry,
            "process_open_fds",
            "Number of open file descriptors",
            fds.count() as f64,
        );
    }
    if let Some(limit) = rustix::process::getrlimit(rustix::process::Resource::Nofile).current {
        gauge(
            registry,
            "process_max_fds",
            "Maximum number of open file descriptors",
            limit as f64,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_stat_fields_past_a_name_with_spaces_and_parentheses() {
        let text = "4242 (speed rack) (x)) S 1 4242 4242 0 -1 4194560 1 0 0 0 \
                    150 25 0 0 20 0 7 0 8800 123456789 2048 18446744073709551615";
        assert_eq!(
            parse_stat(text),
            Some(Stat {
                cpu_ticks: 175,
                start_ticks: 8800,
                virtual_bytes: 123_456_789,
                resident_pages: 2048,
            })
        );
        assert_eq!(parse_stat("4242 (cut short) S 1"), None);
        assert_eq!(
            parse_boot_time("cpu 1 2 3\nbtime 1764547200\nprocesses 9\n"),
            Some(1_764_547_200)
        );
        assert_eq!(parse_boot_time("cpu 1 2 3\n"), None);
    }

    #[test]
    fn this_process_is_described() {
        let mut registry = Registry::default();
        register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry).expect("text");
        for name in [
            "process_cpu_seconds_total ",
            "process_resident_memory_bytes ",
            "process_start_time_seconds ",
            "process_open_fds ",
            "process_max_fds ",
        ] {
            assert!(text.contains(name), "{name} in {text}");
        }
    }
}
