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

/// The machine's 1-minute load average per online CPU; `None` where the kernel does not say.
/// The load average is the whole machine's, so it is divided by the machine's CPUs, not by
/// those a container's quota or affinity leaves this process.
pub fn load_per_cpu() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").ok()?;
    let cpus = cpu_count(&online).filter(|cpus| *cpus > 0)?;
    Some(one_minute(&text)? / cpus as f64)
}

/// How many CPUs a kernel CPU list names ("0-3,8,10-11\n": 7).
fn cpu_count(list: &str) -> Option<usize> {
    list.trim()
        .split(',')
        .map(|range| match range.split_once('-') {
            Some((first, last)) => {
                let (first, last): (usize, usize) = (first.parse().ok()?, last.parse().ok()?);
                last.checked_sub(first).map(|span| span + 1)
            }
            None => range.parse::<usize>().ok().map(|_| 1),
        })
        .sum()
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
    fn counts_the_cpus_a_kernel_list_names() {
        assert_eq!(cpu_count("0-1\n"), Some(2));
        assert_eq!(cpu_count("0-3,8,10-11"), Some(7));
        assert_eq!(cpu_count("0"), Some(1));
        assert_eq!(cpu_count("3-1"), None);
        assert_eq!(cpu_count("many"), None);
    }

    #[test]
    fn reads_the_one_minute_load() {
        assert_eq!(one_minute("0.52 0.58 0.59 1/467 12345\n"), Some(0.52));
        assert_eq!(one_minute(""), None);
        assert_eq!(one_minute("busy"), None);
    }
}
