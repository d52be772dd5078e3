//! Manual runs this node asked another node to start (RunNow of a task pinned elsewhere),
//! announced in this node's own events: the other node's events reach only its own watchers,
//! and `run-now --wait` or a web page on this node waits for the run's start and end here.
//!
//! The shared history is the only link: each followed run is read again every
//! [`FOLLOW_EVERY`] until it ends (a node that dies has its runs closed by another, so every
//! run ends), at most [`MAX_FOLLOWED`] at once and for at most [`FOLLOW_AT_MOST`]. A queued
//! run is taken to be the first manual run of its task on its node newer than every run the
//! task had when it was asked for; it is waited for while the runs it waits behind run, and
//! [`QUEUE_GRACE`] after.

use std::time::Duration;

use tokio::sync::OwnedSemaphorePermit;

use super::Service;
use crate::config::{NodeName, TaskName};
use crate::events::{Announce, Event, Stamped};
use crate::run::{RunId, RunRecord, Trigger};

/// How often a followed run is read again.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);
/// Runs followed at once; a run-now beyond it is answered as usual, its end not announced.
pub(super) const MAX_FOLLOWED: usize = 64;
/// The longest a run is followed; `run-now --wait` has its own, shorter bound.
const FOLLOW_AT_MOST: Duration = Duration::from_secs(24 * 3600);
/// Runs read at once while looking for a queued run's start.
const RECENT: usize = 10;
/// How long a queued run is waited for once the runs it waited behind have ended.
const QUEUE_GRACE: Duration = Duration::from_secs(10);

/// What this node knows of the run it asked for.
pub(super) enum Asked {
    /// It started as this record.
    Started(Box<RunRecord>),
    /// It was queued on `node` behind these runs of `task`, when the newest run the task
    /// had was `newest` (its run is newer).
    Queued {
        node: NodeName,
        task: TaskName,
        behind: Vec<RunId>,
        newest: RunId,
    },
}

impl Service {
    /// Announces the run's start (when it started) and, from a task of its own, its later
    /// start (when it was queued) and its end.
    pub(super) fn follow_remote_run(&self, asked: Asked) {
        let Some(link) = &self.cluster else {
            return;
        };
        if let Asked::Started(record) = &asked {
            self.announce(
                record.started_at,
                Event::RunStarted(record.as_ref().clone()),
            );
        }
        let Ok(permit) = std::sync::Arc::clone(&link.followers).try_acquire_owned() else {
            tracing::warn!(
                "{MAX_FOLLOWED} runs on other nodes are being followed already; what becomes \
                 of this one will not be announced on this node"
            );
            return;
        };
        let service = self.clone();
        tokio::spawn(async move {
            let mut stopping = service.stopping.clone();
            tokio::select! {
                _ = tokio::time::timeout(FOLLOW_AT_MOST, service.follow(asked, permit)) => {}
                _ = stopping.wait_for(|stopping| *stopping) => {}
            }
        });
    }

    async fn follow(&self, asked: Asked, _permit: OwnedSemaphorePermit) {
        let run = match asked {
            Asked::Started(record) => record.id,
            Asked::Queued {
                node,
                task,
                behind,
                newest,
            } => {
                let after = behind.iter().copied().fold(newest, std::cmp::max);
                let Some(record) = self.queued_start(&node, &task, &behind, after).await else {
                    return;
                };
                let id = record.id;
                self.announce(record.started_at, Event::RunStarted(record));
                id
            }
        };
        loop {
            tokio::time::sleep(FOLLOW_EVERY).await;
            match self.read(move |history| history.get_run(run)).await {
                Ok(Some(record)) if let Some(at) = record.finished_at() => {
                    return self.announce(at, Event::RunFinished(record));
                }
                Ok(Some(_)) => {}
                Ok(None) => return,
                Err(status) => {
                    tracing::warn!(run = %run, "cannot read a run on another node: {}", status.message());
                }
            }
        }
    }

    /// The manual run of `task` that `node` queued behind `behind`, newer than `after`, once
    /// it started; `None` once it is not coming (its node died, or it did not start within
    /// [`QUEUE_GRACE`] of the end of the runs it waited behind).
    async fn queued_start(
        &self,
        node: &NodeName,
        task: &TaskName,
        behind: &[RunId],
        after: RunId,
    ) -> Option<RunRecord> {
        let mut behind_ended_at: Option<tokio::time::Instant> = None;
        loop {
            tokio::time::sleep(FOLLOW_EVERY).await;
            // A node that died took its queue with it.
            if !self.other_nodes().contains(node) {
                return None;
            }
            match behind_ended_at {
                Some(at) if at.elapsed() > QUEUE_GRACE => return None,
                Some(_) => {}
                None if self.all_ended(behind).await => {
                    behind_ended_at = Some(tokio::time::Instant::now());
                }
                None => {}
            }
            let listed = {
                let task = task.clone();
                self.read(move |history| history.list_runs_brief(&task, None, RECENT))
                    .await
            };
            match listed {
                Ok(runs) => {
                    // Newest first: the oldest of the candidates is the one asked for.
                    let started = runs.into_iter().rev().find(|run| {
                        run.id > after
                            && run.node == node.as_str()
                            && matches!(run.trigger, Trigger::Manual { .. })
                    });
                    if started.is_some() {
                        return started;
                    }
                }
                Err(status) => {
                    tracing::warn!(task = %task, "cannot read the runs of a task: {}", status.message());
                }
            }
        }
    }

    /// Whether every one of `runs` has ended (or is gone); false when history cannot say.
    async fn all_ended(&self, runs: &[RunId]) -> bool {
        let runs = runs.to_vec();
        let ended = self
            .read(move |history| {
                for run in runs {
                    if history
                        .get_run(run)?
                        .is_some_and(|record| record.end.is_none())
                    {
                        return Ok(false);
                    }
                }
                Ok(true)
            })
            .await;
        ended.unwrap_or(false)
    }

    /// Sends `event` to this node's watchers, stamped with when it happened on the other node.
    fn announce(&self, at: chrono::DateTime<chrono::Utc>, event: Event) {
        self.feed.announce(Stamped { at, event });
    }
}
