//! News of a node's runs for the other nodes: when runs start or end, the transaction that
//! records them also sends, on commit, the names of their tasks on [`RUNS_CHANNEL`], so that
//! every other node can tell its own watchers (its web UI's live list) that those tasks' rows
//! changed. Only names travel; what changed is read from the shared history.

use std::collections::BTreeSet;

use deadpool_postgres::Transaction;
use serde::{Deserialize, Serialize};

use super::worker::JobResult;

/// The NOTIFY channel of run news.
pub const RUNS_CHANNEL: &str = "speedrack_runs";
/// The longest payload sent: NOTIFY takes under 8000 bytes. Beyond it the news names no
/// task, which means "any task".
const MAX_PAYLOAD: usize = 7000;

/// Which tasks' runs started or ended on `node`; no task named means any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunNews {
    pub node: String,
    pub tasks: Vec<String>,
}

impl RunNews {
    /// The payload of the news of `tasks` on `node`.
    fn payload(node: &str, tasks: &[&str]) -> String {
        let tasks: BTreeSet<&str> = tasks.iter().copied().collect();
        let news = RunNews {
            node: node.to_owned(),
            tasks: tasks.into_iter().map(str::to_owned).collect(),
        };
        // Serialising these plain strings cannot fail.
        let text = serde_json::to_string(&news).unwrap_or_default();
        if text.len() <= MAX_PAYLOAD {
            return text;
        }
        let any = RunNews {
            node: node.to_owned(),
            tasks: Vec::new(),
        };
        serde_json::to_string(&any).unwrap_or_default()
    }
}

/// Sends the news of `tasks` when `tx` commits; nothing for no task.
pub(super) async fn send(tx: &Transaction<'_>, node: &str, tasks: &[&str]) -> JobResult<()> {
    if tasks.is_empty() {
        return Ok(());
    }
    let payload = RunNews::payload(node, tasks);
    tx.execute("SELECT pg_notify($1, $2)", &[&RUNS_CHANNEL, &payload])
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn news_names_each_task_once_or_none_when_too_many_to_fit() {
        let text = RunNews::payload("a", &["b", "a", "b"]);
        let news: RunNews = serde_json::from_str(&text).expect("parse");
        assert_eq!(news.tasks, ["a", "b"]);
        let many: Vec<String> = (0..2000).map(|n| format!("task_{n}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let text = RunNews::payload("a", &many);
        assert!(text.len() <= MAX_PAYLOAD, "{}", text.len());
        let news: RunNews = serde_json::from_str(&text).expect("parse");
        assert!(news.tasks.is_empty(), "any task");
    }
}
