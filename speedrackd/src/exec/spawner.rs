//! Doing blocking work on the items of a batch from a few long-lived threads, each taking its
//! share of the batch at once; results kept in order.
//!
//! Used to start the processes of fires due at the same instant. Most of a spawn's time is the
//! kernel and the child's exec; with several callers the machine's cores start children side by
//! side.
//!
//! The threads live as long as the daemon, because a process's parent is the thread that forked
//! it: were they to exit after each batch, the kernel would hand their running children to the
//! main thread, whose list of children is where the daemon looks for the orphans it adopts
//! after every run (`orphans.rs`). Reading that list costs the square of its length.

use std::num::NonZeroUsize;
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, Sender, channel};

/// Spawning threads per core. Measured on 2 cores with the `scale` benchmark (191 fires due
/// together), two runs each: child start p99 162 and 169 ms from 4 threads, 187 and 204 ms
/// from 2. `lateness` (50 fires) showed no difference (BENCHMARKS.md).
const THREADS_PER_CORE: usize = 2;

/// A share of a batch for one thread: items with their place in the batch, and where the
/// results go.
type Stripe<T, R> = (Vec<(usize, T)>, Sender<Vec<(usize, (T, R))>>);

/// Work on a share of items: one result per item, in their order.
type Work<T, R> = fn(&[T]) -> Vec<R>;

/// Long-lived threads that apply `work` to the shares they are sent.
pub struct Pool<T, R> {
    stripes: Vec<Sender<Stripe<T, R>>>,
    work: Work<T, R>,
}

impl<T: Send + 'static, R: Send + 'static> Pool<T, R> {
    /// Starts the threads, named `name`; `None` when none can be started.
    pub fn start(name: &str, work: Work<T, R>) -> Option<Pool<T, R>> {
        let mut stripes = Vec::new();
        for _ in 0..threads() {
            let (sender, receiver) = channel::<Stripe<T, R>>();
            let started = std::thread::Builder::new()
                .name(name.to_owned())
                .spawn(move || serve(&receiver, work));
            match started {
                Ok(_) => stripes.push(sender),
                Err(error) => tracing::warn!("cannot start a {name} thread: {error}"),
            }
        }
        (!stripes.is_empty()).then_some(Pool { stripes, work })
    }

    /// `work` applied to every item, shared between the threads; each item comes back with
    /// its result, in the order given. A single item is done on the calling thread.
    pub fn run(&self, items: Vec<T>) -> Vec<(T, R)> {
        let work = self.work;
        let threads = items.len().min(self.stripes.len());
        if threads <= 1 {
            let results = work(&items);
            return items.into_iter().zip(results).collect();
        }
        // Thread k takes items k, k + threads, …: neighbours in the batch start side by side.
        let mut shares: Vec<Vec<(usize, T)>> = (0..threads).map(|_| Vec::new()).collect();
        for (index, item) in items.into_iter().enumerate() {
            shares[index % threads].push((index, item));
        }
        let (results, replies) = channel();
        let mut expected = 0;
        let mut done_here = Vec::new();
        for (stripe, share) in self.stripes.iter().zip(shares) {
            if let Err(refused) = stripe.send((share, results.clone())) {
                // The thread is gone (it panicked): its share is done here.
                done_here.extend(refused.0.0);
            } else {
                expected += 1;
            }
        }
        drop(results);
        let mut finished = work_on(done_here, work);
        for reply in replies.iter().take(expected) {
            finished.extend(reply);
        }
        finished.sort_by_key(|(index, _)| *index);
        finished.into_iter().map(|(_, pair)| pair).collect()
    }
}

fn serve<T, R>(stripes: &Receiver<Stripe<T, R>>, work: Work<T, R>) {
    while let Ok((share, reply)) = stripes.recv() {
        // The caller waits for every share; it is gone only if it panicked.
        let _ = reply.send(work_on(share, work));
    }
}

/// `work` on a share, each item back with its place in the batch and its result.
fn work_on<T, R>(share: Vec<(usize, T)>, work: Work<T, R>) -> Vec<(usize, (T, R))> {
    let (places, items): (Vec<usize>, Vec<T>) = share.into_iter().unzip();
    let results = work(&items);
    places
        .into_iter()
        .zip(items.into_iter().zip(results))
        .collect()
}

/// How many threads a pool starts.
pub fn threads() -> usize {
    cores() * THREADS_PER_CORE
}

/// The cores this process may use, read once: the standard library reads the cgroup quota
/// files on every call, which cost more than the rest of starting a single fire.
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

#[cfg(test)]
mod tests {
    use std::thread::ThreadId;

    use super::*;

    fn double_on(items: &[usize]) -> Vec<(usize, ThreadId)> {
        let thread = std::thread::current().id();
        items.iter().map(|item| (item * 2, thread)).collect()
    }

    #[test]
    fn results_come_back_with_their_items_in_order_whatever_the_batch_size() {
        let pool = Pool::start("test-pool", double_on).expect("threads start");
        for size in [0, 1, 2, 3, 7, 50, 171] {
            let items: Vec<usize> = (0..size).collect();
            let done = pool.run(items.clone());
            let pairs: Vec<(usize, usize)> = done
                .into_iter()
                .map(|(item, (doubled, _))| (item, doubled))
                .collect();
            let expected: Vec<(usize, usize)> =
                items.iter().map(|item| (*item, item * 2)).collect();
            assert_eq!(pairs, expected);
        }
    }

    #[test]
    fn a_batch_is_shared_by_the_same_threads_every_time_and_one_item_stays_on_the_caller() {
        let pool = Pool::start("test-pool", double_on).expect("threads start");
        let me = std::thread::current().id();
        let single = pool.run(vec![1]);
        assert_eq!(single[0].1.1, me);

        let threads_of = |batch: Vec<(usize, (usize, ThreadId))>| {
            let mut threads: Vec<ThreadId> = batch.into_iter().map(|(_, (_, id))| id).collect();
            threads.sort_by_key(|id| format!("{id:?}"));
            threads.dedup();
            threads
        };
        let first = threads_of(pool.run((0..64).collect()));
        let second = threads_of(pool.run((0..64).collect()));
        assert_eq!(first.len(), (cores() * THREADS_PER_CORE).min(64));
        assert!(!first.contains(&me));
        assert_eq!(
            first, second,
            "the threads outlive a batch: their children are never handed to the main thread"
        );
    }
}
