//! A full disk costs output, never the job or the record (the database half): with the whole
//! data dir full, a run's end and the fires due meanwhile are kept and written once space
//! returns, fires that could not start surface as execution errors saying why, and the low
//! disk shows in `status`, on the Configuration page and in `/metrics`.
//!
//! The data dir is a small tmpfs (the tests run as root), unmounted when the test ends.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::sys::signal::Signal;
use rusqlite::{Connection, OpenFlags};
use speedrack_proto::v1 as pb;
use speedrack_tests::files::Gate;
use speedrack_tests::web::WebClient;
use speedrack_tests::{DaemonBuilder, WAIT};

/// `long` runs until the test opens its gate, so it ends while the disk is full however long
/// filling it and the checks take.
fn tasks(gate: &Gate) -> String {
    format!(
        "tasks:
  - {{name: long, command: '{}', interval: 400w, suspended: true}}
  - {{name: tick, command: 'true', interval: 1s}}
",
        gate.wait()
    )
}

/// A tmpfs mounted for the test's life.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(at).expect("create the mount point");
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(at)
            .status()
            .expect("mount runs");
        assert!(status.success(), "mount a tmpfs at {}", at.display());
        Tmpfs(at.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes zeros into `path` until the file system is full.
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).expect("create the filler");
    let chunk = vec![0u8; 64 << 10];
    while file
        .write_all(&chunk)
        .and_then(|()| file.sync_data())
        .is_ok()
    {}
}

fn statuses(data_dir: &Path, status: &str) -> Vec<(String, String)> {
    let conn = Connection::open_with_flags(
        data_dir.join("history.sqlite3"),
        OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the history");
    let mut statement = conn
        .prepare("SELECT task, op_error FROM runs WHERE status = ?1")
        .expect("prepare");
    statement
        .query_map([status], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .map(|row| row.expect("row"))
        .collect()
}

#[tokio::test]
async fn a_full_data_dir_delays_the_records_and_loses_none() {
    let gate = Gate::new();
    let builder = DaemonBuilder::new(&tasks(&gate));
    let data_dir = builder.dir().join("data");
    let _tmpfs = Tmpfs::mount(&data_dir, "8m");
    let mut daemon = builder.start();
    let mut events = daemon.watch().await;
    daemon.ctl().ok(&["run-now", "long"]);
    let long = events.run_started("long", WAIT).await.expect("long starts");
    // speedrack's own text about a run is complete only once its end is recorded: a tail of it
    // must outlast the refused end and close when the retried write lands.
    let mut tail = daemon
        .client()
        .await
        .tail_output(pb::TailOutputRequest {
            run_id: long.id,
            stream: pb::OutputStream::OpError.into(),
            offset: 0,
        })
        .await
        .expect("tail op_error")
        .into_inner();
    let tail = tokio::spawn(async move {
        let mut finished = false;
        while let Ok(Some(chunk)) = tail.message().await {
            finished |= chunk.finished;
        }
        finished
    });

    let filler = data_dir.join("filler");
    fill(&filler);
    let status = daemon.ctl().ok(&["status"]);
    assert!(
        status.contains("(LOW"),
        "status shows the low disk: {status}"
    );
    let web = WebClient::with(daemon.web_url(), reqwest::Client::new());
    let config = web.get("/config").await;
    assert!(
        config.body.contains("data-low-disk"),
        "the web page shows it"
    );
    let metrics = web.get("/metrics").await;
    assert!(
        metrics.body.contains("speedrack_data_dir_low_disk 1"),
        "so does /metrics: {}",
        metrics.body
    );
    gate.open();
    daemon
        .wait_for_log(WAIT, |line| {
            line.contains("cannot record the end of a run, will retry")
        })
        .expect("the end of long was refused");
    daemon
        .wait_for_log(WAIT, |line| line.contains("a fire could not be recorded"))
        .expect("a fire of tick was refused");
    let mut client = daemon.client().await;
    let pending = client
        .get_status(pb::GetStatusRequest {})
        .await
        .expect("status")
        .into_inner();
    assert!(
        pending.low_disk && pending.pending_history_writes > 0,
        "{pending:?}"
    );

    assert!(
        !tail.is_finished(),
        "the op_error tail waits for the recorded end"
    );

    std::fs::remove_file(&filler).expect("space returns");
    // RunFinished says history holds the end, so it comes once the retried write lands.
    let finished = events
        .run_finished("long", WAIT)
        .await
        .expect("long's end is announced");
    assert_eq!(finished.id, long.id);
    let tail_end = tokio::time::timeout(WAIT, tail)
        .await
        .expect("the tail closes once the end lands")
        .expect("the tail task");
    assert!(
        tail_end,
        "the tail's last message says the text is complete"
    );
    daemon
        .wait_for_log(WAIT, |line| line.contains("history accepts writes again"))
        .expect("the refused writes land");
    let run = client
        .get_run(pb::GetRunRequest { run_id: long.id })
        .await
        .expect("get run")
        .into_inner()
        .run
        .expect("a run");
    assert_eq!(run.status(), pb::RunStatus::Success, "{run:?}");

    daemon.stop_with(Signal::SIGTERM);
    assert_eq!(
        statuses(&data_dir, "running"),
        Vec::new(),
        "nothing left running"
    );
    let lost = statuses(&data_dir, "execution_error");
    assert!(
        !lost.is_empty()
            && lost.iter().all(|(task, why)| task == "tick"
                && why.contains("could not be recorded")
                && why.contains("full")),
        "fires due while the disk was full are execution errors saying why: {lost:?}"
    );
}
