//! Many tasks with long scripts and their retained runs, shared by the `bounded_replies` test
//! and the `wide` bench: the tasks file, and history filled through the daemon's own store API
//! (the same rows real runs leave, one transaction per task), so neither waits for fires.
//!
//! It only makes data; what is measured or asserted lives with the test and the bench.

use anyhow::Context;
use chrono::{DateTime, Utc};
use speedrackd::config::TaskName;
use speedrackd::history::{NewRun, Store};
use speedrackd::run::{Exit, RunEnd, RunStatus, Trigger, Usage};

/// `tasks` tasks, each a `command: |` script of about `script_bytes`, named `PREFIX_NNNN`. None
/// fires while a test or bench runs: they are due at New Year only.
#[derive(Debug, Clone, Copy)]
pub struct WideTasks {
    pub prefix: &'static str,
    pub tasks: usize,
    pub script_bytes: usize,
}

impl WideTasks {
    /// The name of task `index`.
    pub fn name(&self, index: usize) -> String {
        format!("{}_{index:04}", self.prefix)
    }

    /// The whole tasks file.
    pub fn tasks_yaml(&self) -> String {
        let script = self.script();
        let mut yaml = String::from("tasks:\n");
        for index in 0..self.tasks {
            yaml.push_str(&self.task_yaml(index, &script));
        }
        yaml
    }

    /// `runs_per_task` finished runs of every task, a minute apart and ending before `now`,
    /// each recording the task's whole definition as a real run does.
    pub fn fill_history(
        &self,
        history: &dyn Store,
        runs_per_task: usize,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let script = self.script();
        for index in 0..self.tasks {
            let task = TaskName::parse_normalised(&self.name(index))
                .with_context(|| format!("{} is not a task name", self.name(index)))?;
            let definition = self.task_yaml(index, &script);
            let due = |n: usize| now - chrono::Duration::minutes((runs_per_task - n) as i64);
            let runs: Vec<NewRun<'_>> = (0..runs_per_task)
                .map(|n| NewRun {
                    task: &task,
                    trigger: &Trigger::Schedule,
                    scheduled_at: due(n),
                    started_at: due(n),
                    definition: &definition,
                    pays_owed: false,
                    claim: speedrackd::history::Claim::Cluster,
                })
                .collect();
            let ids = history.record_starts(&[], &[], &runs)?;
            for (n, id) in ids.into_iter().enumerate() {
                let id = id.context("a single node's history claims every fire")?;
                history.finish_run(id, &succeeded(due(n)))?;
            }
        }
        Ok(())
    }

    /// Every task's script, indented for its `command: |` block.
    pub fn script(&self) -> String {
        let mut script = String::new();
        let mut line = 0;
        while script.len() < self.script_bytes {
            script.push_str(&format!(
                "      echo \"step {line}: rotate, compress and ship the logs of the night\"\n"
            ));
            line += 1;
        }
        script
    }

    fn task_yaml(&self, index: usize, script: &str) -> String {
        format!(
            "  - name: {}\n    cron: '0 0 1 1 *'\n    command: |\n{script}",
            self.name(index)
        )
    }
}

/// A successful end, 40 ms after `started`.
fn succeeded(started: DateTime<Utc>) -> RunEnd {
    RunEnd {
        finished_at: started + chrono::Duration::milliseconds(40),
        exit: Some(Exit::Code(0)),
        status: RunStatus::Success,
        stdout_bytes: 120,
        stderr_bytes: 0,
        op_error: String::new(),
        reason: String::new(),
        killed_by: String::new(),
        kill_cause: None,
        replaced_by: None,
        usage: Usage::default(),
        output_dropped_bytes: 0,
    }
}
