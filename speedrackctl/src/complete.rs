//! Shell completion: the scripts `completions SHELL` prints, and the task names and run ids
//! they complete, asked of the daemon as the user types.
//!
//! clap_complete's dynamic completion (`CompleteEnv`): the shell calls speedrackctl with
//! `COMPLETE=SHELL` set, and the words typed so far. Everything but task names and run ids
//! comes from the command line's definition. A daemon that is down, slow or refuses us gives
//! no candidates, never an error: a completion must not print into the user's prompt.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap_complete::CompletionCandidate;
use clap_complete::env::EnvCompleter;
use speedrack_proto::v1::{ListRunsRequest, ListTasksRequest};

use crate::render::names;

/// How long a completion may wait for the daemon, all calls included.
const PATIENCE: Duration = Duration::from_secs(2);
/// Run ids offered: the newest ones.
const RUNS: u32 = 30;
/// The variable the scripts set to ask for completions.
pub const VAR: &str = "COMPLETE";

/// Writes the script that registers speedrackctl's completion with `shell`.
pub fn registration(
    shell: clap_complete::Shell,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let completer: &dyn EnvCompleter = match shell {
        clap_complete::Shell::Bash => &clap_complete::env::Bash,
        clap_complete::Shell::Elvish => &clap_complete::env::Elvish,
        clap_complete::Shell::Fish => &clap_complete::env::Fish,
        clap_complete::Shell::PowerShell => &clap_complete::env::Powershell,
        clap_complete::Shell::Zsh => &clap_complete::env::Zsh,
        _ => &clap_complete::env::Bash,
    };
    completer.write_registration(VAR, "speedrackctl", "speedrackctl", "speedrackctl", out)
}

/// The daemon's task names, each with its status as help.
pub fn task_names() -> Vec<CompletionCandidate> {
    ask(|mut client| async move {
        let template = ListTasksRequest::default();
        let tasks = speedrack_proto::list_all_tasks(&mut client, template)
            .await
            .ok()?;
        Some(
            tasks
                .iter()
                .map(|task| {
                    CompletionCandidate::new(&task.name)
                        .help(Some(names::words(names::task_status(task.status)).into()))
                })
                .collect(),
        )
    })
}

/// The newest run ids of the task typed before them (`output TASK RUN`).
pub fn run_ids() -> Vec<CompletionCandidate> {
    let Some(task) = typed_task(&typed_words()) else {
        return Vec::new();
    };
    ask(|mut client| async move {
        let request = ListRunsRequest {
            task,
            page_size: RUNS,
            page_token: String::new(),
            ..Default::default()
        };
        let runs = client.list_runs(request).await.ok()?.into_inner().runs;
        Some(
            runs.iter()
                .map(|run| {
                    CompletionCandidate::new(run.id.to_string())
                        .help(Some(names::words(names::run_status(run.status)).into()))
                })
                .collect(),
        )
    })
}

type Client = speedrack_proto::v1::speedrack_client::SpeedrackClient<tonic::transport::Channel>;

/// Connects (as the command typed would) and runs `query` within [`PATIENCE`]; nothing on any
/// failure.
fn ask<F, Fut>(query: F) -> Vec<CompletionCandidate>
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = Option<Vec<CompletionCandidate>>>,
{
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Vec::new();
    };
    let socket = typed_socket(&typed_words());
    runtime
        .block_on(async {
            let socket = speedrack_proto::choose_socket(socket).ok()?;
            let work = async { query(speedrack_proto::connect(&socket).await.ok()?).await };
            tokio::time::timeout(PATIENCE, work).await.ok()?
        })
        .unwrap_or_default()
}

/// The words typed so far: what follows `--` in the arguments the script passed.
fn typed_words() -> Vec<OsString> {
    std::env::args_os()
        .skip_while(|arg| arg != "--")
        .skip(1)
        .collect()
}

/// `--socket PATH` or `--socket=PATH` as typed, else the environment's, else none.
fn typed_socket(words: &[OsString]) -> Option<PathBuf> {
    let words: Vec<&str> = words.iter().filter_map(|word| word.to_str()).collect();
    for (index, word) in words.iter().enumerate() {
        if let Some(path) = word.strip_prefix("--socket=") {
            return Some(path.into());
        }
        if *word == "--socket" {
            return words.get(index + 1).map(PathBuf::from);
        }
    }
    std::env::var_os(speedrack_proto::SOCKET_ENV).map(PathBuf::from)
}

/// The task of `output TASK RUN`: the first word after `output` that is not a flag.
fn typed_task(words: &[OsString]) -> Option<String> {
    let words: Vec<&str> = words.iter().filter_map(|word| word.to_str()).collect();
    let after = words.iter().position(|word| *word == "output")?;
    words[after + 1..]
        .iter()
        .find(|word| !word.starts_with('-'))
        .map(|word| (*word).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<OsString> {
        text.split(' ').map(OsString::from).collect()
    }

    #[test]
    fn the_socket_and_task_typed_so_far() {
        assert_eq!(
            typed_socket(&words("speedrackctl --socket /s.sock output")),
            Some(PathBuf::from("/s.sock"))
        );
        assert_eq!(
            typed_socket(&words("speedrackctl output --socket=/t.sock a")),
            Some(PathBuf::from("/t.sock"))
        );
        assert_eq!(
            typed_task(&words("speedrackctl output --stderr backup ")),
            Some("backup".into())
        );
        assert_eq!(typed_task(&words("speedrackctl runs backup")), None);
    }
}
