//! Whether a node is busy, and so yields its share of fires to idle nodes: a plain decision
//! over its load and its runs in flight (`busy` in the settings), and the machine's load as
//! the kernel reports it.

use crate::config::BusySettings;

/// Whether a node with this load average per CPU (`None`: unknown) and this many runs in
/// flight is busy by `settings`.
pub fn is_busy(settings: &BusySettings, load_per_cpu: Option<f64>, running: u32) -> bool {
    let by_load = settings.load.0 > 0.0 && load_per_cpu.is_some_and(|load| load >= settings.load.0);
    let by_runs = settings.runs > 0 && running >= settings.runs;
    by_load || by_runs
}

/// The machine's 1-minute load average per CPU; `None` where the kernel does not say.
pub fn load_per_cpu() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let cpus = std::thread::available_parallelism().ok()?.get();
    Some(one_minute(&text)? / cpus as f64)
}

/// The first field of /proc/loadavg ("0.52 0.58 0.59 1/467 12345").
fn one_minute(loadavg: &str) -> Option<f64> {
    loadavg.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LoadPerCpu;

    fn settings(load: f64, runs: u32) -> BusySettings {
        BusySettings {
            load: LoadPerCpu(load),
            runs,
        }
    }

    #[test]
    fn busy_by_load_or_by_runs_and_never_by_a_limit_of_zero() {
        let both = settings(1.5, 10);
        assert!(!is_busy(&both, Some(1.49), 9));
        assert!(is_busy(&both, Some(1.5), 0));
        assert!(is_busy(&both, Some(0.1), 10));
        assert!(
            !is_busy(&both, None, 9),
            "an unknown load is not a busy one"
        );
        let off = settings(0.0, 0);
        assert!(!is_busy(&off, Some(50.0), 10_000));
    }

    #[test]
    fn reads_the_one_minute_load() {
        assert_eq!(one_minute("0.52 0.58 0.59 1/467 12345\n"), Some(0.52));
        assert_eq!(one_minute(""), None);
        assert_eq!(one_minute("busy"), None);
    }
}
