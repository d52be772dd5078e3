//! A full disk under a run's output: the job runs to its end, the output kept so far stays, and
//! the run says how much was lost and why. Needs root to mount a small tmpfs; the database is
//! not on it (a full database is another test's matter).

use std::path::{Path, PathBuf};
use std::process::Command;

use speedrack_tests::Daemon;

/// Lines the task prints: about 1.6 MB, more than the 1 MiB tmpfs holds.
const LINES: u32 = 20_000;
const LINE_TEXT: &str = "of the output that fills a small disk, long enough that 20 000 of them do";

/// A tmpfs mounted on a directory, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).expect("create the mount point");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("mount runs");
        assert!(status.success(), "mount a tmpfs on {}", dir.display());
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a file the daemon still holds open must not keep the mount behind.
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn running_as_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Bytes the task prints in all.
fn total_bytes() -> u64 {
    (1..=LINES)
        .map(|i| format!("line {i} {LINE_TEXT}\n").len() as u64)
        .sum()
}

#[tokio::test]
async fn a_full_disk_costs_output_never_the_job() {
    if !running_as_root() {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    }
    let outside = tempfile::tempdir().expect("temp dir");
    let marker = outside.path().join("marker");
    let daemon = Daemon::start(&format!(
        "tasks:
  - name: full
    interval: 400w
    command: |
      i=1
      while [ $i -le {LINES} ]; do echo \"line $i {LINE_TEXT}\"; i=$((i+1)); done
      touch {}
",
        marker.display()
    ));
    let _disk = Tmpfs::mount(&daemon.data_dir().join("runs").join("full"), "1m");
    let mut events = daemon.watch().await;
    let run = daemon.run_now_and_wait(&mut events, "full").await;

    assert!(marker.exists(), "the job ran to its end: {run:?}");
    assert_eq!(run.exit_code, Some(0), "{run:?}");
    assert_eq!(run.signal, None, "no SIGPIPE: {run:?}");
    let prefix = "output incomplete: no space left on device (";
    let lost: u64 = run
        .op_error
        .lines()
        .find_map(|line| {
            line.strip_prefix(prefix)?
                .strip_suffix(" bytes of stdout lost)")
        })
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("the run says what was lost and why: {:?}", run.op_error));
    assert!(
        run.stdout_bytes > 500_000 && run.stdout_bytes <= 1 << 20,
        "the output that fitted is kept and counted: {}",
        run.stdout_bytes
    );
    assert_eq!(
        run.stdout_bytes + lost,
        total_bytes(),
        "kept + lost = printed"
    );
    let file = daemon
        .data_dir()
        .join(format!("runs/full/{}/stdout", run.id));
    let on_disk = std::fs::metadata(&file).expect("the output file").len();
    assert_eq!(
        on_disk, run.stdout_bytes,
        "stdout_bytes is what the file holds"
    );
}
