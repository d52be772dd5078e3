//! `output TASK [RUN]`: a run's stdout, stderr or op-error text, written raw to stdout.
//!
//! Reads with ReadOutput chunk by chunk until the daemon says eof, so large outputs are never
//! held whole in memory. With `--follow` it reads with TailOutput instead, which keeps sending
//! what the run writes until it ends, and then exits with the run's outcome (`wait::verdict`).
//! A follow outlives a daemon restart: it reconnects and takes up the tail where it broke.

use std::io::Write;

use anyhow::bail;
use speedrack_proto::v1::{
    GetRunRequest, ListRunsRequest, OutputStream, ReadOutputRequest, Run, TailOutputRequest,
};

use super::events::{RESTART_PATIENCE, reconnect};
use super::{Context, required, wait};
use crate::cli::OutputArgs;
use crate::exit::NotFound;

/// Finds the run and copies the chosen stream to stdout.
pub async fn run(ctx: &mut Context, args: &OutputArgs) -> anyhow::Result<()> {
    let run_id = match args.run {
        Some(run_id) => {
            let reply = ctx.client.get_run(GetRunRequest { run_id }).await?;
            let run = required(reply.into_inner().run, "run")?;
            check_owner(&run, &args.task)?;
            run.id
        }
        None => newest_run(ctx, &args.task).await?,
    };
    if !args.follow {
        return copy_to_stdout(ctx, run_id, args.stream()).await;
    }
    follow_to_stdout(ctx, run_id, args.stream()).await?;
    let reply = ctx.client.get_run(GetRunRequest { run_id }).await?;
    wait::verdict(&required(reply.into_inner().run, "run")?)
}

/// Copies the stream to stdout as the run writes it, until the daemon says the run has ended.
async fn follow_to_stdout(
    ctx: &mut Context,
    run_id: i64,
    stream: OutputStream,
) -> anyhow::Result<()> {
    let mut request = TailOutputRequest {
        run_id,
        stream: stream as i32,
        offset: 0,
    };
    let mut tail = ctx.client.tail_output(request).await?.into_inner();
    let mut stdout = std::io::stdout();
    loop {
        let piece = match tail.message().await {
            Ok(Some(piece)) => piece,
            Ok(None) => bail!(
                "speedrackd ended the output of run {run_id} before the run ended; see how it \
                 went with speedrackctl runs"
            ),
            // The daemon stopped or died: once it is back, the run has ended (a restart
            // closes the runs it had) or runs on, and the tail resumes where it broke.
            Err(status) if connection_lost(&status) => {
                let socket = &ctx.socket;
                (ctx.client, tail) = reconnect(RESTART_PATIENCE, || async move {
                    let mut client = speedrack_proto::connect(socket).await?;
                    let tail = client.tail_output(request).await?.into_inner();
                    Ok((client, tail))
                })
                .await?;
                continue;
            }
            // What the daemon itself refused (the run pruned meanwhile, its file unreadable)
            // would be refused again: asking once more would loop.
            Err(status) => return Err(status.into()),
        };
        stdout.write_all(&piece.data)?;
        // A follower is read by a person or a pipe as it happens, not when a buffer fills.
        stdout.flush()?;
        request.offset = piece.offset + piece.data.len() as u64;
        if piece.finished {
            return Ok(());
        }
    }
}

/// Whether a tail's error is the connection going (a daemon killed: a broken HTTP/2 stream,
/// which tonic reports as Unknown; a daemon stopping: Unavailable), not an answer.
fn connection_lost(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled
    )
}

/// The id of the task's newest run.
async fn newest_run(ctx: &mut Context, task: &str) -> anyhow::Result<i64> {
    let reply = ctx
        .client
        .list_runs(ListRunsRequest {
            task: task.to_owned(),
            page_size: 1,
            page_token: String::new(),
            ..Default::default()
        })
        .await?;
    match reply.into_inner().runs.first() {
        Some(run) => Ok(run.id),
        None => bail!("task {task} has no runs yet"),
    }
}

/// A run id given on the command line must be a run of the task given with it, so that a
/// mistyped id cannot show another task's output as if it were this one's.
fn check_owner(run: &Run, task: &str) -> Result<(), NotFound> {
    if run.task == task {
        return Ok(());
    }
    Err(NotFound(format!(
        "run {} does not belong to task {task} (it is a run of {})",
        run.id, run.task
    )))
}

async fn copy_to_stdout(
    ctx: &mut Context,
    run_id: i64,
    stream: OutputStream,
) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout();
    let mut offset = 0;
    loop {
        let chunk = ctx
            .client
            .read_output(ReadOutputRequest {
                run_id,
                stream: stream as i32,
                offset,
                // 0 asks for the daemon's default chunk size.
                length: 0,
            })
            .await?
            .into_inner();
        stdout.write_all(&chunk.data)?;
        offset += chunk.data.len() as u64;
        if chunk.eof {
            break;
        }
        // Without progress and without eof, asking again would loop forever.
        if chunk.data.is_empty() {
            bail!(
                "speedrackd sent no data at byte {offset} of run {run_id}'s output but did not \
                 say it ended; try again"
            );
        }
    }
    stdout.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A follow resumes only when the connection went; an answer of the daemon's is final.
    #[test]
    fn only_a_lost_connection_is_resumed() {
        for code in [tonic::Code::Unavailable, tonic::Code::Unknown] {
            assert!(connection_lost(&tonic::Status::new(code, "")), "{code:?}");
        }
        for code in [
            tonic::Code::NotFound,
            tonic::Code::Internal,
            tonic::Code::InvalidArgument,
        ] {
            assert!(!connection_lost(&tonic::Status::new(code, "")), "{code:?}");
        }
    }

    #[test]
    fn run_must_belong_to_the_task() {
        let run = Run {
            id: 7,
            task: "backup".into(),
            ..Run::default()
        };
        assert!(check_owner(&run, "backup").is_ok());
        let err = check_owner(&run, "cleanup").expect_err("another task's run");
        assert_eq!(
            err.to_string(),
            "run 7 does not belong to task cleanup (it is a run of backup)"
        );
    }
}
