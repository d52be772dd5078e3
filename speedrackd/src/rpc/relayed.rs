//! The API across nodes: what this node asks another to do when the run or task is that
//! node's (a manual run of a task pinned elsewhere, a kill of a run elsewhere or of a task
//! everywhere, a suspension or a reload every node must apply, a piece of the output of a run
//! running there), and how it does what others ask of it, as its own API would. Carrying the
//! messages is `cluster::Relay`'s.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use speedrack_proto::v1 as pb;
use tokio::sync::watch;
use tonic::Status;

use super::remote_runs::Asked;
use super::{Service, convert};
use crate::cluster::OUTPUT_PIECE;
use crate::cluster::{Answer, ClusterView, Handler, Relay, Relayed};
use crate::config::{NodeName, TaskEntry, TaskName};
use crate::history::output::{Stream, read_slice, stream_path};
use crate::run::{RunId, RunStatus};
use crate::runtime::{Command, ControlError, RunNowOutcome};

/// This node's link to the others.
#[derive(Debug, Clone)]
pub struct ClusterLink {
    pub view: watch::Receiver<ClusterView>,
    pub relay: Relay,
    /// Room for the runs on other nodes this node follows (`remote_runs`).
    pub(super) followers: Arc<tokio::sync::Semaphore>,
}

impl ClusterLink {
    pub fn new(view: watch::Receiver<ClusterView>, relay: Relay) -> ClusterLink {
        ClusterLink {
            view,
            relay,
            followers: Arc::new(tokio::sync::Semaphore::new(
                super::remote_runs::MAX_FOLLOWED,
            )),
        }
    }
}

/// What carries out the requests other nodes send this one.
pub fn handler(service: Service) -> Handler {
    Arc::new(move |request| {
        let service = service.clone();
        Box::pin(async move { answer(&service, request).await })
    })
}

async fn answer(service: &Service, request: Relayed) -> Answer {
    let outcome = match request {
        Relayed::RunNow { task, by } => match parse(&task) {
            Ok(task) => service
                .ask(|reply| Command::RunNow { task, by, reply })
                .await
                .and_then(|outcome| outcome.map_err(Status::from))
                .map(|outcome| match outcome {
                    RunNowOutcome::Started(record) => Answer::Started { run: record.id.0 },
                    RunNowOutcome::Queued { behind } => Answer::Queued {
                        behind: behind.iter().map(|run| run.0).collect(),
                    },
                }),
            Err(status) => Err(status),
        },
        Relayed::Kill { task, run, by } => match parse(&task) {
            Ok(task) => service
                .ask(|reply| Command::Kill {
                    task,
                    run: run.map(RunId),
                    by,
                    reply,
                })
                .await
                .and_then(|killed| killed.map_err(Status::from))
                .map(|runs| Answer::Killed {
                    runs: runs.iter().map(|run| run.0).collect(),
                }),
            Err(status) => Err(status),
        },
        Relayed::Suspended { task, suspended } => match parse(&task) {
            Ok(task) => service
                .ask(|reply| Command::SetSuspended {
                    task,
                    suspended,
                    reply,
                })
                .await
                .and_then(|done| done.map_err(Status::from))
                .map(|_| Answer::Done),
            Err(status) => Err(status),
        },
        Relayed::ReadOutput {
            run,
            stderr,
            offset,
        } => {
            let stream = if stderr {
                Stream::Stderr
            } else {
                Stream::Stdout
            };
            own_output(service, RunId(run), stream, offset).await
        }
        Relayed::Reload => super::reload::reload(service)
            .await
            .map(|diff| Answer::Reloaded {
                added: count(&diff.added),
                removed: count(&diff.removed),
                changed: count(&diff.changed),
                conf_errors: count(&diff.conf_errors),
            }),
    };
    outcome.unwrap_or_else(|status| Answer::Refused {
        code: status.code() as i32,
        message: status.message().to_owned(),
    })
}

/// A piece of the output of a run of this node's, for another node following it.
async fn own_output(
    service: &Service,
    run: RunId,
    stream: Stream,
    offset: u64,
) -> Result<Answer, Status> {
    let record = service
        .read(move |history| history.get_run(run))
        .await?
        .ok_or_else(|| Status::not_found(format!("no run with id {run}")))?;
    if record.node != service.info.node.as_str() {
        return Err(Status::failed_precondition(format!(
            "run {run} is node {}'s, not this node's",
            record.node
        )));
    }
    let path = stream_path(service.history.data_dir(), &record.task, run, stream);
    let slice = tokio::task::spawn_blocking(move || read_slice(&path, offset, OUTPUT_PIECE))
        .await
        .map_err(|error| Status::internal(format!("output reader failed: {error}")))?
        .map_err(|error| {
            Status::internal(format!("cannot read the output of run {run}: {error}"))
        })?;
    Ok(Answer::Output {
        data: BASE64.encode(&slice.data),
        total_size: slice.total_size,
        running: record.status() == RunStatus::Running,
    })
}

fn count<T>(list: &[T]) -> u32 {
    u32::try_from(list.len()).unwrap_or(u32::MAX)
}

fn parse(task: &str) -> Result<TaskName, Status> {
    TaskName::parse_normalised(task)
        .ok_or_else(|| Status::not_found(format!("no task named {task:?}")))
}

impl Service {
    /// The node that must run `task` now when this one may not (its `run_on` names others);
    /// `None` when this node runs it. UNAVAILABLE when none of its nodes is alive.
    pub(super) async fn run_now_elsewhere(
        &self,
        task: &TaskName,
    ) -> Result<Option<NodeName>, Status> {
        let Some(link) = &self.cluster else {
            return Ok(None);
        };
        let snapshot = self.snapshot().await?;
        let run_on = snapshot.tasks.entries.iter().find_map(|entry| match entry {
            TaskEntry::Valid(def) if def.name == *task => Some(def.run_on.clone()),
            _ => None,
        });
        let Some(run_on) = run_on.filter(|run_on| !run_on.allows(self.info.node.as_str())) else {
            return Ok(None);
        };
        let view = link.view.borrow();
        view.membership
            .node_for(task, snapshot.taken_at, &run_on)
            .cloned()
            .map(Some)
            .ok_or_else(|| {
                Status::unavailable(format!(
                    "task {task} runs only on nodes none of which is up; see speedrackctl nodes"
                ))
            })
    }

    /// Asks `node` to run `task` now and answers as RunNow does.
    pub(super) async fn run_now_on(
        &self,
        node: &NodeName,
        task: &TaskName,
        by: String,
    ) -> Result<pb::RunNowResponse, Status> {
        // Read before asking: a run queued there is newer than this.
        let newest = {
            let task = task.clone();
            self.read(move |history| history.list_runs_brief(&task, None, 1))
                .await?
                .first()
                .map_or(RunId(0), |run| run.id)
        };
        let answer = self
            .relay(
                node,
                Relayed::RunNow {
                    task: task.to_string(),
                    by,
                },
            )
            .await?;
        match answer {
            Answer::Started { run } => {
                let record = self
                    .history
                    .get_run(RunId(run))
                    .map_err(|error| Status::internal(error.to_string()))?
                    .ok_or_else(|| {
                        Status::internal(format!(
                            "node {node} started run {run}, which history does not hold"
                        ))
                    })?;
                let response = pb::RunNowResponse {
                    run: Some(convert::run(&record)),
                    queued: false,
                    queued_behind_run_ids: Vec::new(),
                };
                self.follow_remote_run(Asked::Started(Box::new(record)));
                Ok(response)
            }
            Answer::Queued { behind } => {
                self.follow_remote_run(Asked::Queued {
                    node: node.clone(),
                    task: task.clone(),
                    behind: behind.iter().copied().map(RunId).collect(),
                    newest,
                });
                Ok(pb::RunNowResponse {
                    run: None,
                    queued: true,
                    queued_behind_run_ids: behind,
                })
            }
            other => Err(unexpected(node, &other)),
        }
    }

    /// The node other than this one that ran `run`, when history says so.
    pub(super) fn node_of_run(&self, run: RunId) -> Result<Option<NodeName>, Status> {
        if self.cluster.is_none() {
            return Ok(None);
        }
        let record = self
            .history
            .get_run(run)
            .map_err(|error| Status::internal(error.to_string()))?;
        Ok(record
            .and_then(|record| NodeName::parse(&record.node).ok())
            .filter(|node| *node != self.info.node))
    }

    /// The live nodes besides this one.
    pub(super) fn other_nodes(&self) -> Vec<NodeName> {
        self.cluster.as_ref().map_or_else(Vec::new, |link| {
            let view = link.view.borrow();
            view.membership
                .live
                .iter()
                .filter(|node| **node != self.info.node)
                .cloned()
                .collect()
        })
    }

    /// Asks every other live node to reload, at once; how each went, by name.
    pub(super) async fn reload_others(&self) -> Vec<pb::NodeReload> {
        let others = self.other_nodes();
        let answers = futures_util::future::join_all(
            others.iter().map(|node| self.relay(node, Relayed::Reload)),
        )
        .await;
        others
            .iter()
            .zip(answers)
            .map(|(node, answer)| {
                let mut reload = pb::NodeReload {
                    node: node.to_string(),
                    ..pb::NodeReload::default()
                };
                match answer {
                    Ok(Answer::Reloaded {
                        added,
                        removed,
                        changed,
                        conf_errors,
                    }) => {
                        reload.added = added;
                        reload.removed = removed;
                        reload.changed = changed;
                        reload.conf_errors = conf_errors;
                    }
                    Ok(other) => reload.error = unexpected(node, &other).message().to_owned(),
                    Err(status) => reload.error = status.message().to_owned(),
                }
                reload
            })
            .collect()
    }

    /// Whether this node is one of several.
    pub(super) fn in_cluster(&self) -> bool {
        self.cluster.is_some()
    }

    /// Kills the task's runs on this node and, at once, on every other live node. A node with
    /// none running is not an error; one that cannot be reached is named in the answer, or
    /// fails the kill when nothing was killed anywhere.
    pub(super) async fn kill_everywhere(
        &self,
        task: &TaskName,
        by: String,
    ) -> Result<pb::KillResponse, Status> {
        let here = self
            .ask(|reply| Command::Kill {
                task: task.clone(),
                run: None,
                by: by.clone(),
                reply,
            })
            .await?;
        // Nothing of it here, or the task not (validly) in this node's file, which may differ
        // from the others': their runs are still to be killed.
        let (mut killed, refusal): (Vec<i64>, Option<ControlError>) = match here {
            Ok(runs) => (runs.iter().map(|run| run.0).collect(), None),
            Err(
                error @ (ControlError::NotRunning(_)
                | ControlError::UnknownTask(_)
                | ControlError::ConfError { .. }),
            ) => (Vec::new(), Some(error)),
            Err(other) => return Err(other.into()),
        };
        let others = self.other_nodes();
        let answers = futures_util::future::join_all(
            others
                .iter()
                .map(|node| self.kill_on(node, task, None, by.clone())),
        )
        .await;
        let mut unreached_nodes = Vec::new();
        for (node, answer) in others.iter().zip(answers) {
            match answer {
                Ok(runs) => killed.extend(runs),
                // Nothing of it running there, or the task is not (validly) in its file.
                Err(status)
                    if matches!(
                        status.code(),
                        tonic::Code::FailedPrecondition | tonic::Code::NotFound
                    ) => {}
                Err(status) if status.message().contains(&format!("node {node}")) => {
                    unreached_nodes.push(status.message().to_owned());
                }
                Err(status) => unreached_nodes.push(format!("node {node}: {}", status.message())),
            }
        }
        if killed.is_empty() {
            return Err(match (unreached_nodes.is_empty(), refusal) {
                (true, Some(refusal)) => refusal.into(),
                (true, None) => ControlError::NotRunning(task.clone()).into(),
                (false, _) => Status::deadline_exceeded(format!(
                    "task {task} is running on none of the nodes that answered, and not every \
                     node did: {}",
                    unreached_nodes.join("; ")
                )),
            });
        }
        killed.sort_unstable();
        Ok(pb::KillResponse {
            killed_run_ids: killed,
            unreached_nodes,
        })
    }

    /// Asks `node` to kill runs of `task` (all, or `run`); returns the ids killed.
    pub(super) async fn kill_on(
        &self,
        node: &NodeName,
        task: &TaskName,
        run: Option<RunId>,
        by: String,
    ) -> Result<Vec<i64>, Status> {
        let request = Relayed::Kill {
            task: task.to_string(),
            run: run.map(|run| run.0),
            by,
        };
        match self.relay(node, request).await? {
            Answer::Killed { runs } => Ok(runs),
            other => Err(unexpected(node, &other)),
        }
    }

    /// Up to [`OUTPUT_PIECE`] bytes of `run`'s `stream` from `offset`, read by `node`, which
    /// runs it.
    pub(super) async fn output_on(
        &self,
        node: &NodeName,
        run: RunId,
        stream: Stream,
        offset: u64,
    ) -> Result<RelayedOutput, Status> {
        let request = Relayed::ReadOutput {
            run: run.0,
            stderr: stream == Stream::Stderr,
            offset,
        };
        match self.relay(node, request).await? {
            Answer::Output {
                data,
                total_size,
                running,
            } => Ok(RelayedOutput {
                data: BASE64.decode(data).map_err(|error| {
                    Status::internal(format!(
                        "node {node} sent output that is not base64: {error}"
                    ))
                })?,
                total_size,
                running,
            }),
            other => Err(unexpected(node, &other)),
        }
    }

    /// Tells every other node that `task` was suspended or resumed here. A node that misses
    /// it reads the suspension from the shared history at its next start; logged, not fatal.
    pub(super) async fn tell_suspension(&self, task: &TaskName, suspended: bool) {
        let Some(link) = &self.cluster else {
            return;
        };
        let request = Relayed::Suspended {
            task: task.to_string(),
            suspended,
        };
        if let Err(error) = link.relay.tell_all(request).await {
            tracing::warn!(task = %task, "cannot tell the other nodes of a suspension: {error}");
        }
    }

    async fn relay(&self, node: &NodeName, request: Relayed) -> Result<Answer, Status> {
        let Some(link) = &self.cluster else {
            return Err(Status::internal("no cluster to relay a request through"));
        };
        let answer = link
            .relay
            .ask(node, request)
            .await
            .map_err(|error| match error {
                // UNAVAILABLE would read as this daemon being down to a client.
                crate::cluster::RelayError::NoAnswer { .. } => {
                    Status::deadline_exceeded(error.to_string())
                }
                _ => Status::aborted(error.to_string()),
            })?;
        match answer {
            Answer::Refused { code, message } => Err(Status::new(
                tonic::Code::from_i32(code),
                format!("node {node}: {message}"),
            )),
            answer => Ok(answer),
        }
    }
}

/// A piece of a running run's output, from the node that runs it.
#[derive(Debug)]
pub(super) struct RelayedOutput {
    pub data: Vec<u8>,
    pub total_size: u64,
    /// Whether the run was still running when the piece was read.
    pub running: bool,
}

fn unexpected(node: &NodeName, answer: &Answer) -> Status {
    Status::internal(format!(
        "node {node} answered {answer:?}, which does not fit the request"
    ))
}
