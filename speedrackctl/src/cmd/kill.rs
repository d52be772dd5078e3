//! `kill TASK`: end a task's running runs as a timeout would (SIGTERM to each run's process
//! group, SIGKILL after the kill grace); the runs record who killed them.

use speedrack_proto::v1::KillRequest;

use super::{Context, Format, print_json, print_text};

pub async fn run(ctx: &mut Context, task: &str) -> anyhow::Result<()> {
    let request = KillRequest {
        task: task.to_owned(),
        on_behalf_of: String::new(),
        run_id: 0,
    };
    let response = ctx.client.kill(request).await?.into_inner();
    // Several nodes: a kill of the whole task that did not reach every node.
    for unreached in &response.unreached_nodes {
        eprintln!("speedrackctl: warning: {unreached}; its runs of {task}, if any, may go on");
    }
    match ctx.format {
        Format::Json => print_json(&serde_json::json!({
            "killed_run_ids": response.killed_run_ids,
            "unreached_nodes": response.unreached_nodes,
        })),
        Format::Text => print_text(&render(task, &response.killed_run_ids)),
    }
}

fn render(task: &str, killed: &[i64]) -> String {
    let runs: Vec<String> = killed.iter().map(ToString::to_string).collect();
    format!("terminating run {} of {task}\n", runs.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_runs() {
        assert_eq!(
            render("backup", &[7, 9]),
            "terminating run 7, 9 of backup\n"
        );
    }
}
