//! Supervising real processes: when a run is told to be lasting (its group's leader start time,
//! for a crash recovery), and when it is not.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::oneshot;

use super::environment::Environment;
use super::*;

fn launch(command: &str, dir: &Path) -> Launch {
    Launch {
        invocation: Invocation {
            shell: PathBuf::from("/bin/sh"),
            command: command.to_owned(),
            sudo: None,
            working_dir: None,
            env: Environment::default(),
        },
        stdout: dir.join("stdout"),
        stderr: dir.join("stderr"),
        timeout: None,
        kill_grace: Duration::from_secs(1),
        output_max_bytes: 0,
        pattern: None,
        live: None,
    }
}

/// Supervises `command`, telling `told` after `after` if it still runs then; the sender asks
/// the run to end.
fn supervised(
    command: &str,
    after: Duration,
    dir: &Path,
) -> (
    i32,
    oneshot::Receiver<Option<u64>>,
    oneshot::Sender<Kill>,
    tokio::task::JoinHandle<Outcome>,
) {
    let launch = launch(command, dir);
    let started = spawn_share(std::slice::from_ref(&launch))
        .pop()
        .expect("one result")
        .and_then(watch)
        .expect("the command starts");
    let pid = started.process_group;
    let (tell, told) = oneshot::channel();
    let (kill, kills) = oneshot::channel();
    let lasting = Lasting {
        after,
        tell: move |ticks| {
            let _ = tell.send(ticks);
        },
    };
    let supervising =
        tokio::spawn(async move { supervise(started, &launch, kills, lasting).await });
    (pid, told, kill, supervising)
}

#[tokio::test]
async fn a_run_still_running_after_the_delay_is_told_with_its_leader_start_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (pid, told, kill, supervising) =
        supervised("exec sleep 30", Duration::from_millis(20), dir.path());
    let ticks = tokio::time::timeout(Duration::from_secs(10), told)
        .await
        .expect("told within the wait")
        .expect("told once");
    assert_eq!(ticks, start_ticks(pid));
    assert!(ticks.is_some());
    kill.send(Kill {
        cause: KillCause::User,
        by: "test".to_owned(),
    })
    .expect("the supervisor listens");
    let outcome = supervising.await.expect("supervised to the end");
    assert_eq!(outcome.exit, Some(Exit::Signal(libc::SIGTERM)));
}

#[tokio::test]
async fn a_run_that_ends_before_the_delay_is_never_told() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, told, _kill, supervising) = supervised("true", Duration::from_secs(30), dir.path());
    let outcome = supervising.await.expect("supervised to the end");
    assert_eq!(outcome.exit, Some(Exit::Code(0)));
    assert!(told.await.is_err(), "nobody was told of a run that ended");
}

#[tokio::test]
async fn a_run_that_fills_its_pipe_before_its_output_is_followed_still_ends_with_all_of_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Three pipes' worth on each stream at once: the child blocks until the captures start.
    let command = "head -c 200000 /dev/zero; head -c 300000 /dev/zero >&2";
    let (_, _, _kill, supervising) = supervised(command, Duration::from_secs(30), dir.path());
    let outcome = supervising.await.expect("supervised to the end");
    assert_eq!(outcome.exit, Some(Exit::Code(0)));
    assert_eq!(
        (outcome.stdout.written, outcome.stderr.written),
        (200_000, 300_000)
    );
    let sizes = ["stdout", "stderr"]
        .map(|name| std::fs::metadata(dir.path().join(name)).map_or(0, |meta| meta.len()));
    assert_eq!(sizes, [200_000, 300_000]);
}
