//! Doing one blocking job per item from a few short-lived threads, results kept in order.
//!
//! Used to start the processes of fires due at the same instant. Most of a spawn's time is the
//! kernel and the child's exec, during which the calling thread waits; with several callers the
//! machine's cores start children side by side. Threads live only for the batch, so an idle
//! daemon keeps none around.

use std::num::NonZeroUsize;
use std::sync::OnceLock;

/// Spawning threads per core. Measured on 2 cores with the `scale` benchmark (191 fires due
/// together), two runs each: child start p99 162 and 169 ms from 4 threads, 187 and 204 ms
/// from 2. `lateness` (50 fires) showed no difference (BENCHMARKS.md).
const THREADS_PER_CORE: usize = 2;

/// `work` applied to every item, from up to `THREADS_PER_CORE` threads per core; a single item
/// is done on the calling thread.
pub fn in_parallel<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = items.len().min(cores() * THREADS_PER_CORE);
    if threads <= 1 {
        return items.iter().map(&work).collect();
    }
    let work = &work;
    // Thread k takes items k, k + threads, …: neighbours in the batch start side by side.
    let striped: Vec<Vec<(usize, R)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|first| {
                scope.spawn(move || {
                    (first..items.len())
                        .step_by(threads)
                        .map(|index| (index, work(&items[index])))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut results: Vec<(usize, R)> = striped.into_iter().flatten().collect();
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// The cores this process may use, read once: the standard library reads the cgroup quota
/// files on every call, which cost more than the rest of starting a single fire.
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn results_come_back_in_item_order_whatever_the_batch_size() {
        for size in [0, 1, 2, 3, 7, 50, 171] {
            let items: Vec<usize> = (0..size).collect();
            let doubled = in_parallel(&items, |item| item * 2);
            assert_eq!(
                doubled,
                items.iter().map(|item| item * 2).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn a_batch_is_shared_between_threads_and_one_item_stays_on_the_caller() {
        let me = std::thread::current().id();
        let seen = Mutex::new(HashSet::new());
        in_parallel(&[()], |()| {
            seen.lock()
                .expect("lock")
                .insert(std::thread::current().id());
        });
        assert_eq!(*seen.lock().expect("lock"), HashSet::from([me]));

        let seen = Mutex::new(HashSet::new());
        let items = vec![(); 64];
        in_parallel(&items, |()| {
            seen.lock()
                .expect("lock")
                .insert(std::thread::current().id());
        });
        let threads = seen.lock().expect("lock").len();
        assert_eq!(threads, (cores() * THREADS_PER_CORE).min(64));
        assert!(!seen.lock().expect("lock").contains(&me));
    }
}
