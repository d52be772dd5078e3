//! The one way runs start, whatever asked for them (the schedule, run-now, a fire queued behind
//! a running run, a catch-up fire): record first, then start, then supervise.
//!
//! 1. One transaction records the fires of the instant (each task's last fire, the fires queued
//!    rather than started) and a row per run, `running`, before any process exists; a run
//!    that pays an owed fire deletes it in the same transaction, so no fire runs twice.
//! 2. The processes start side by side (`exec::spawn_all`).
//! 3. Each started process gets a supervisor task (`supervise.rs`), which reports the process
//!    group of a run that lasts, for crash recovery.
//!
//! A fire the database refuses to record never starts; it is kept to be written as an
//! execution error once the database accepts writes again (`records.rs`).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Runtime;
use super::launch::launch_of;
use super::pending_writes::Write;
use super::supervise::{failure_rules, supervise};
use super::task_state::InFlight;
use crate::config::{TaskDef, TaskName};
use crate::events::Event;
use crate::exec::{self, Launch};
use crate::history::{Claim, HistoryError, NewRun};
use crate::run::{Kill, RunEnd, RunId, RunRecord, RunStatus, Trigger, as_stored};

/// One run to start.
#[derive(Debug, Clone)]
pub struct StartRequest {
    pub def: Arc<TaskDef>,
    pub trigger: Trigger,
    pub due: DateTime<Utc>,
    /// A fire recorded as owed (queued or caught up) that this run settles.
    pub pays_owed: bool,
    /// The runs killed to make way for this one (overlap: replace), told which run replaced
    /// them before its start is announced.
    pub replaces: Vec<RunId>,
}

/// Fires of one instant, recorded with the runs they start.
#[derive(Debug, Clone, Default)]
pub struct Fires {
    /// Each firing task's newest scheduled instant, for phases and missed fires.
    pub last: Vec<(TaskName, DateTime<Utc>)>,
    /// Fires that passed now but wait behind a running run: owed until they start.
    pub owed: Vec<(TaskName, DateTime<Utc>)>,
}

impl Runtime {
    /// Tells the runs killed to make way for `by` which run that is. Only a link for people
    /// reading history: a refused write is logged, not retried.
    fn note_replacement(&self, task: &TaskName, replaced: &[RunId], by: RunId) {
        if let Err(error) = self.history.set_replaced_by(replaced, by) {
            tracing::warn!(task = %task, run = %by, %error, "cannot record which runs this run replaced");
        }
    }

    /// Records and starts `requests` with `fires`; returns the runs as recorded (an execution
    /// error already ended those whose process could not start). When the database refuses
    /// the record, nothing starts and the error is returned.
    pub(super) fn start_runs(
        &mut self,
        fires: Fires,
        requests: Vec<StartRequest>,
    ) -> Result<Vec<RunRecord>, HistoryError> {
        if fires.last.is_empty() && fires.owed.is_empty() && requests.is_empty() {
            return Ok(Vec::new());
        }
        let started_at = as_stored(self.clock.now());
        let recorded = {
            let new_runs: Vec<NewRun<'_>> = requests
                .iter()
                .map(|request| NewRun {
                    task: &request.def.name,
                    trigger: &request.trigger,
                    scheduled_at: request.due,
                    started_at,
                    definition: &request.def.definition,
                    pays_owed: request.pays_owed,
                    claim: claim_of(request),
                })
                .collect();
            self.history
                .record_starts(&fires.last, &fires.owed, &new_runs)
        };
        let ids = match recorded {
            Ok(ids) => ids,
            Err(error) => {
                self.lose_fires(fires, &requests, &error.to_string());
                return Err(error);
            }
        };
        // A fire another node recorded first is that node's to run.
        let (requests, records): (Vec<StartRequest>, Vec<RunRecord>) = requests
            .into_iter()
            .zip(ids)
            .filter_map(|(request, id)| {
                let record = RunRecord {
                    id: id?,
                    task: request.def.name.clone(),
                    trigger: request.trigger.clone(),
                    scheduled_at: as_stored(request.due),
                    started_at,
                    definition: request.def.definition.clone(),
                    notification_error: String::new(),
                    node: self.history.node().to_owned(),
                    end: None,
                };
                Some((request, record))
            })
            .unzip();
        for (request, record) in requests.iter().zip(&records) {
            if !request.replaces.is_empty() {
                self.note_replacement(&record.task, &request.replaces, record.id);
            }
        }
        let launches: Vec<Launch> = requests
            .iter()
            .zip(&records)
            .map(|(request, record)| {
                launch_of(
                    &request.def,
                    &self.settings,
                    record,
                    self.history.data_dir(),
                    &self.live_output,
                )
            })
            .collect();
        let spawning = std::time::Instant::now();
        let spawned = exec::spawn_all(launches);
        tracing::debug!(
            runs = records.len(),
            spawn_ms = spawning.elapsed().as_secs_f64() * 1e3,
            "started the processes of runs due together"
        );
        let mut out = Vec::with_capacity(records.len());
        for ((request, record), (launch, process)) in requests.iter().zip(records).zip(spawned) {
            let record = match process.and_then(exec::watch) {
                Ok(started) => {
                    let kill = supervise(
                        record.id,
                        record.task.clone(),
                        started,
                        launch,
                        failure_rules(&request.def, &self.settings),
                        Arc::clone(&self.clock),
                        self.finished_tx.clone(),
                    );
                    self.track(record.clone(), kill);
                    record
                }
                Err(error) => self.not_started(record, error.to_string()),
            };
            out.push(record);
        }
        Ok(out)
    }

    /// Keeps a started run in its task's state and tells everyone.
    fn track(&mut self, record: RunRecord, kill: tokio::sync::oneshot::Sender<Kill>) {
        let task = record.task.clone();
        let lateness_ms = (record.started_at - record.scheduled_at).num_milliseconds();
        self.metrics.run_started(&task, lateness_of(&record));
        tracing::info!(task = %task, run = %record.id, lateness_ms, "run started");
        self.emit(Event::RunStarted(record.clone()));
        let state = self.state_mut(&task);
        state.runs_since_start += 1;
        state.running.insert(
            record.id,
            InFlight {
                record,
                kill: Some(kill),
            },
        );
        self.task_changed(&task);
    }

    /// A run whose process could not start: it ends here as an execution error, and is told
    /// like any other end (notified, pruned, announced).
    fn not_started(&mut self, record: RunRecord, message: String) -> RunRecord {
        let end = RunEnd::bare(
            as_stored(self.clock.now()),
            RunStatus::ExecutionError,
            message,
        );
        tracing::error!(task = %record.task, run = %record.id, "run could not start: {}", end.op_error);
        self.metrics.run_started(&record.task, lateness_of(&record));
        self.state_mut(&record.task).runs_since_start += 1;
        self.emit(Event::RunStarted(record.clone()));
        let ended = [(record, end)];
        let recorded = self.record_ends(&ended);
        let [(record, end)] = ended;
        let mut told = record.clone();
        told.end = Some(end.clone());
        self.after_end(record, end, recorded);
        told
    }

    /// Fires the database refused to record: none starts, and all are written as execution
    /// errors once it accepts writes.
    fn lose_fires(&mut self, fires: Fires, requests: &[StartRequest], reason: &str) {
        let runs = requests
            .iter()
            .map(|request| {
                self.lost_run(&request.def, request.trigger.clone(), request.due, reason)
            })
            .collect();
        self.queue_write(Write::Lost {
            last_fires: fires.last,
            owed: fires.owed,
            runs,
        });
    }
}

/// A scheduled fire is the cluster's or, with `run_on: all`, each node's; a manual run is
/// nobody else's.
fn claim_of(request: &StartRequest) -> Claim {
    match request.trigger {
        Trigger::Schedule if request.def.run_on.is_all() => Claim::PerNode,
        Trigger::Schedule => Claim::Cluster,
        _ => Claim::None,
    }
}

/// How late a run started; only a scheduled run has a due instant to be late for.
fn lateness_of(record: &RunRecord) -> Option<chrono::Duration> {
    (record.trigger == Trigger::Schedule).then(|| record.started_at - record.scheduled_at)
}
