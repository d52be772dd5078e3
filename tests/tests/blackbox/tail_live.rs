//! TailOutput follows a run's output as the capture writes it: a line the run prints while it
//! still runs reaches the tailer then, not when the run ends. The run waits on fifos the test
//! opens, so each line is printed when the test says, and the run outlives it.

use std::path::{Path, PathBuf};

use speedrack_proto::v1 as pb;
use speedrack_tests::{Daemon, WAIT};
use tonic::Streaming;

fn fifo(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
    path
}

/// Lets the run past its `read < fifo`: opening blocks until the run has opened its end.
async fn release(fifo: PathBuf) {
    tokio::task::spawn_blocking(move || std::fs::write(&fifo, "go\n").expect("write the fifo"))
        .await
        .expect("the fifo was written");
}

async fn next(tail: &mut Streaming<pb::TailOutputResponse>) -> pb::TailOutputResponse {
    tokio::time::timeout(WAIT, tail.message())
        .await
        .expect("output comes in time")
        .expect("the stream stays healthy")
        .expect("the stream stays open")
}

/// Reads messages until they add up to `wanted` (from `offset`); returns the last.
async fn read_text(
    tail: &mut Streaming<pb::TailOutputResponse>,
    offset: &mut u64,
    wanted: &str,
) -> pb::TailOutputResponse {
    let mut text = Vec::new();
    loop {
        let message = next(tail).await;
        assert_eq!(message.offset, *offset, "messages follow one another");
        *offset += message.data.len() as u64;
        text.extend_from_slice(&message.data);
        if text.len() >= wanted.len() || message.finished {
            assert_eq!(String::from_utf8_lossy(&text), wanted);
            return message;
        }
    }
}

#[tokio::test]
async fn a_line_printed_while_the_run_waits_reaches_the_tailer_at_once() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let (first_gate, second_gate) = (fifo(scratch.path(), "one"), fifo(scratch.path(), "two"));
    let daemon = Daemon::start(&format!(
        "tasks:
  - name: talker
    command: \"echo first; read x < {}; echo second; read y < {}; echo third\"
    interval: 400w
",
        first_gate.display(),
        second_gate.display()
    ));
    let mut events = daemon.watch().await;
    daemon.ctl().ok(&["run-now", "talker"]);
    let run = events
        .run_started("talker", WAIT)
        .await
        .expect("talker starts");
    let mut tail = daemon
        .client()
        .await
        .tail_output(pb::TailOutputRequest {
            run_id: run.id,
            stream: pb::OutputStream::Stdout.into(),
            offset: 0,
        })
        .await
        .expect("tail output")
        .into_inner();
    let mut offset = 0;
    read_text(&mut tail, &mut offset, "first\n").await;

    release(first_gate).await;
    let second = read_text(&mut tail, &mut offset, "second\n").await;
    assert!(
        !second.finished,
        "the line came while the run still waits on the second fifo"
    );

    release(second_gate).await;
    let mut last = read_text(&mut tail, &mut offset, "third\n").await;
    while !last.finished {
        last = next(&mut tail).await;
        assert!(
            last.data.is_empty(),
            "nothing after the last line: {last:?}"
        );
    }
    let finished = events
        .run_finished("talker", WAIT)
        .await
        .expect("talker ends");
    assert_eq!(finished.stdout_bytes, offset, "every byte was sent once");
}
