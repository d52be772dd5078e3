//! Output abuse: a task printing a gigabyte, one printing binary garbage (NUL, invalid UTF-8,
//! markup) and one printing ten-megabyte lines without a newline, all running at once.
//!
//! The daemon must stream each to disk within `output_max_bytes`, report what the cap dropped,
//! keep its own peak memory flat, and go on serving the run pages and the API. Sizes, contents
//! and memory are asserted; how long the runs take is not.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use speedrack_proto::v1 as pb;
use speedrack_proto::v1::watch_events_response::Event;
use speedrack_tests::web::Page;
use speedrack_tests::{Daemon, DaemonBuilder};

/// The output cap (the default, written out so the test does not hang on it).
const CAP: u64 = 10 << 20;
/// Output over this is shown on the run page by `SUMMARY` bytes: half its head, half its tail.
const FSIZE_MAX: u64 = 1 << 20;
const SUMMARY: u64 = 64 << 10;
const GIGABYTE: u64 = 1 << 30;
/// Under the cap, so the garbage is stored whole and can be compared byte for byte.
const GARBAGE_LEN: usize = 5_000_000;
const LINE: u64 = 10 << 20;
/// What the daemon's peak RSS may grow by while the runs pass 1 GiB through it: buffering any
/// one stream whole would take 20 MiB (the lines) to 1 GiB; streaming takes a buffer per pipe.
const RUNS_RSS_GROWTH: u64 = 16 << 20;
/// The same once the pages and whole files have been served too: the gateway reads output in
/// 1 MiB slices, a few of which are alive at once.
const TOTAL_RSS_GROWTH: u64 = 64 << 20;
/// A gigabyte through a pipe in a debug build on a shared machine, with ample headroom.
const BIG_WAIT: Duration = Duration::from_secs(300);

/// The start of the garbage: a NUL, bytes that are never UTF-8, a truncated sequence, an
/// encoded surrogate, and markup that would close the `<pre>` and run a script if unescaped.
const GARBAGE_HEAD: &[u8] =
    b"\0\xff\xfe</pre><script>alert('out')</script>\xc3\x28\xed\xa0\x80\x1b[31m\r\n";
/// How the run page's `<pre>` shows `GARBAGE_HEAD`: each byte that is not UTF-8 (and the NUL,
/// which HTML forbids) as U+FFFD, the markup as text.
const GARBAGE_SHOWN: &str = "\u{fffd}\u{fffd}\u{fffd}</pre><script>alert('out')</script>\u{fffd}(\u{fffd}\u{fffd}\u{fffd}\u{1b}[31m\n";

fn garbage() -> Vec<u8> {
    let mut bytes = GARBAGE_HEAD.to_vec();
    let mut state: u64 = 0x0bad_c0de;
    while bytes.len() < GARBAGE_LEN {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        bytes.extend_from_slice(&state.to_be_bytes()[..4]);
    }
    bytes.truncate(GARBAGE_LEN);
    bytes
}

fn tasks(garbage: &std::path::Path) -> String {
    format!(
        "tasks:
  - name: gigabyte
    command: head -c {GIGABYTE} /dev/zero
    interval: 400w
  - name: garbage
    command: cat '{}'
    interval: 400w
  - name: long_lines
    command: head -c {LINE} /dev/zero | tr '\\0' a; echo; head -c {LINE} /dev/zero | tr '\\0' b
    interval: 400w
",
        garbage.display()
    )
}

/// What one task must leave behind.
struct Expected {
    task: &'static str,
    written: u64,
    stored: Vec<u8>,
}

/// The cap's marker, as the daemon writes it between the head and the tail.
fn marker(dropped: u64) -> Vec<u8> {
    format!("\n[... speedrack dropped {dropped} bytes here: output_max_bytes is {CAP} ...]\n")
        .into_bytes()
}

/// A stream of `written` bytes kept as its first and last `CAP / 2` bytes around the marker.
fn capped(written: u64, head: u8, tail: u8) -> Vec<u8> {
    let half = usize::try_from(CAP / 2).expect("fits");
    let mut stored = vec![head; half];
    stored.extend(marker(written - CAP));
    stored.extend(vec![tail; half]);
    stored
}

fn expectations(garbage: Vec<u8>) -> Vec<Expected> {
    let lines = 2 * LINE + 1;
    vec![
        Expected {
            task: "gigabyte",
            written: GIGABYTE,
            stored: capped(GIGABYTE, 0, 0),
        },
        Expected {
            task: "garbage",
            written: GARBAGE_LEN as u64,
            stored: garbage,
        },
        Expected {
            task: "long_lines",
            written: lines,
            stored: capped(lines, b'a', b'b'),
        },
    ]
}

/// The process's peak resident set (`VmHWM`), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|number| number.trim().parse().ok())
        .expect("VmHWM in /proc/PID/status");
    kib * 1024
}

/// Where two byte strings first differ, for a failure message that does not print megabytes.
fn first_difference(left: &[u8], right: &[u8]) -> String {
    let at = left.iter().zip(right).position(|(a, b)| a != b);
    format!(
        "lengths {} and {}, first difference at {at:?}",
        left.len(),
        right.len()
    )
}

/// The whole stdout of a run through ReadOutput, slice by slice.
async fn read_all(daemon: &Daemon, run: i64) -> Vec<u8> {
    let mut client = daemon.client().await;
    let mut data = Vec::new();
    loop {
        let slice = client
            .read_output(pb::ReadOutputRequest {
                run_id: run,
                stream: pb::OutputStream::Stdout.into(),
                offset: data.len() as u64,
                length: 4 << 20,
            })
            .await
            .expect("ReadOutput")
            .into_inner();
        data.extend_from_slice(&slice.data);
        assert!(data.len() as u64 <= slice.total_size, "never past the end");
        if slice.eof {
            return data;
        }
        assert!(!slice.data.is_empty(), "a slice short of the end has data");
    }
}

/// GETs `url` and checks the body is UTF-8 without a raw NUL before parsing it.
async fn get_page(http: &reqwest::Client, url: &str) -> Page {
    let response = http.get(url).send().await.expect("GET");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body").to_vec();
    assert!(!bytes.contains(&0), "{url}: a raw NUL in the HTML");
    let body = String::from_utf8(bytes).unwrap_or_else(|error| panic!("{url}: {error}"));
    Page {
        status,
        headers,
        body,
    }
}

async fn get_bytes(http: &reqwest::Client, url: &str) -> Vec<u8> {
    let response = http.get(url).send().await.expect("GET");
    assert_eq!(response.status(), 200, "{url}");
    response.bytes().await.expect("body").to_vec()
}

/// Runs every task now, all at once, and waits until each has finished.
async fn run_all_at_once(daemon: &Daemon, tasks: &[&str]) -> HashMap<String, pb::Run> {
    let mut events = daemon.watch().await;
    for task in tasks {
        daemon.ctl().ok(&["run-now", task]);
    }
    let mut finished = HashMap::new();
    while finished.len() < tasks.len() {
        let run = events
            .next_matching(BIG_WAIT, |event| match event {
                Event::RunFinished(run) => Some(run),
                _ => None,
            })
            .await
            .unwrap_or_else(|| panic!("not all finished within {BIG_WAIT:?}: {finished:?}"));
        finished.insert(run.task.clone(), run);
    }
    finished
}

/// The run, the file on disk and ReadOutput all say what `expected` says.
async fn check_stored(daemon: &Daemon, run: &pb::Run, expected: &Expected) {
    let task = expected.task;
    assert_eq!(run.status(), pb::RunStatus::Success, "{task}: {run:?}");
    assert_eq!(run.stdout_bytes, expected.written, "{task}: all counted");
    assert_eq!(
        run.output_dropped_bytes,
        expected.written.saturating_sub(CAP),
        "{task}: the run reports what the cap dropped"
    );
    let run_dir: PathBuf = daemon
        .data_dir()
        .join("runs")
        .join(task)
        .join(run.id.to_string());
    let on_disk = std::fs::read(run_dir.join("stdout")).expect("stdout file");
    assert!(
        on_disk == expected.stored,
        "{task}: stored output: {}",
        first_difference(&on_disk, &expected.stored)
    );
    assert!(
        on_disk.len() as u64 <= CAP + marker(expected.written).len() as u64,
        "{task}: within the cap"
    );
    assert!(
        !run_dir.join("stdout.tail").exists(),
        "{task}: the ring file is gone"
    );
    let served = read_all(daemon, run.id).await;
    assert!(
        served == on_disk,
        "{task}: ReadOutput: {}",
        first_difference(&served, &on_disk)
    );
}

/// The run page renders, escaped and valid, shows the beginning and says what was cut.
async fn check_page(http: &reqwest::Client, base: &str, run: &pb::Run, expected: &Expected) {
    let task = expected.task;
    let url = format!("{base}/tasks/{task}/runs/{}", run.id);
    let page = get_page(http, &url).await;
    assert_eq!(page.status, 200, "{task}: {}", page.body);
    // Too big to show whole: a head and a tail, each in its own <pre>, and nothing else.
    assert_eq!(
        (
            page.count("pre[data-stream='stdout']"),
            page.count("pre[data-stream='stdout'][data-part='head']"),
            page.count("pre[data-stream='stdout'][data-part='tail']"),
        ),
        (2, 1, 1),
        "{task}: output cannot close its <pre>"
    );
    assert!(
        !page.body.contains("<script>alert"),
        "{task}: output is escaped"
    );
    assert_eq!(
        page.count("[data-truncated]"),
        1,
        "{task}: the page says what it skipped"
    );
    let shown = page.text("pre[data-stream='stdout'][data-part='head']");
    // The head is the larger half of the summary (the tail the other); with no line end in
    // it, it is not cut back to one.
    let summary = usize::try_from(SUMMARY - SUMMARY / 2).expect("fits");
    match task {
        "gigabyte" => assert!(
            shown.chars().count() == summary && shown.chars().all(|c| c == '\u{fffd}'),
            "{task}: NULs shown as U+FFFD"
        ),
        "garbage" => assert!(
            shown.starts_with(GARBAGE_SHOWN),
            "{task}: {:?}",
            shown.chars().take(60).collect::<String>()
        ),
        _ => assert!(
            shown == "a".repeat(summary),
            "{task}: the first line's start"
        ),
    }
    if expected.written > CAP {
        assert!(
            page.texts("dl")
                .concat()
                .contains("dropped from the middle of the output"),
            "{task}: the page reports the cap"
        );
    }
    let whole = get_bytes(http, &format!("{url}/stdout")).await;
    assert!(
        whole == expected.stored,
        "{task}: whole file: {}",
        first_difference(&whole, &expected.stored)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gigabyte_garbage_and_huge_lines_are_capped_streamed_and_shown() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let garbage_path = scratch.path().join("garbage.bin");
    std::fs::write(&garbage_path, garbage()).expect("write the garbage");
    let daemon = DaemonBuilder::new(&tasks(&garbage_path))
        .settings(&format!(
            "output_max_bytes: {CAP}\nfsize_max: {FSIZE_MAX}\nfsize_summary: {SUMMARY}\n"
        ))
        .start();
    let http = reqwest::Client::new();
    let base = daemon.web_url();
    // The gateway's first page sets up what every later page reuses; that is not output's cost.
    assert_eq!(get_page(&http, &base).await.status, 200);
    let before = peak_rss(daemon.pid());

    let expected = expectations(garbage());
    let names: Vec<&str> = expected.iter().map(|e| e.task).collect();
    let runs = run_all_at_once(&daemon, &names).await;
    let after_runs = peak_rss(daemon.pid());
    for want in &expected {
        check_stored(&daemon, &runs[want.task], want).await;
    }
    for want in &expected {
        check_page(&http, &base, &runs[want.task], want).await;
    }
    let after_pages = peak_rss(daemon.pid());
    eprintln!(
        "speedrackd peak RSS (VmHWM): {} KiB before, {} KiB after the runs, {} KiB after the pages",
        before >> 10,
        after_runs >> 10,
        after_pages >> 10
    );
    let grown =
        format!("peak RSS grew from {before} to {after_runs} (runs), {after_pages} (pages)");
    assert!(after_runs - before < RUNS_RSS_GROWTH, "{grown}");
    assert!(after_pages - before < TOTAL_RSS_GROWTH, "{grown}");

    let status = daemon
        .client()
        .await
        .get_status(pb::GetStatusRequest {})
        .await
        .expect("the daemon still answers")
        .into_inner();
    assert_eq!(status.task_count, 3);
}
