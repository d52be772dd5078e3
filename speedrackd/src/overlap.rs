//! What a fire does while its task is still running: a pure decision per `overlap` policy.

use crate::config::Overlap;

/// The runtime's next step for one fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Start,
    /// Drop the fire (counted).
    Skip,
    /// Start it when the running run ends.
    Queue,
    /// Kill the running runs, then start it when they have ended.
    ReplaceThenStart,
}

/// Decides for a fire of a task with `running` runs in flight and a fire already queued or not.
pub fn decide(policy: Overlap, running: usize, queued: bool) -> Decision {
    if running == 0 {
        return if queued {
            Decision::Queue
        } else {
            Decision::Start
        };
    }
    match policy {
        Overlap::Skip => Decision::Skip,
        Overlap::Queue if queued => Decision::Skip,
        Overlap::Queue => Decision::Queue,
        Overlap::Parallel => Decision::Start,
        Overlap::Replace => Decision::ReplaceThenStart,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_policy_decides_as_documented() {
        let cases = [
            (Overlap::Skip, 0, false, Decision::Start),
            (Overlap::Skip, 1, false, Decision::Skip),
            (Overlap::Queue, 1, false, Decision::Queue),
            (Overlap::Queue, 1, true, Decision::Skip), // at most one waits
            (Overlap::Queue, 0, true, Decision::Queue), // the waiting one goes first
            (Overlap::Parallel, 3, false, Decision::Start),
            (Overlap::Replace, 1, false, Decision::ReplaceThenStart),
            (Overlap::Replace, 0, false, Decision::Start),
        ];
        for (policy, running, queued, expected) in cases {
            assert_eq!(
                decide(policy, running, queued),
                expected,
                "{policy:?} running={running} queued={queued}"
            );
        }
    }
}
