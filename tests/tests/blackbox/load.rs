//! Load: 50 concurrent clients (speedrackctl processes, gRPC connections, HTTP page loads) for
//! 30 s while 1 000 tasks fire. No request may fail, and history must hold every due fire of
//! every task exactly once: no duplicate, no gap.
//!
//! The load is what a debug build sharing 2 cores with its clients sustains. Each task fires
//! every 10 s, the tasks spread over the ten seconds of each period, so 100 runs start every
//! second (about 3 000 in the window). Each client makes at most a request a second; one in 25
//! lists all 1 000 tasks, which costs the debug daemon 0.1-0.2 s of CPU, and listings take
//! turns: clients listing back to back queue for longer than the gateway's 10 s upstream
//! timeout, and its pages then fail with 504. How late a fire starts or how long a request
//! takes is not asserted; only that each fire happens once and each request succeeds.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use rusqlite::{Connection, OpenFlags};
use speedrack_proto::v1 as pb;
use speedrack_tests::{Daemon, DaemonBuilder, binary};

const TASKS: usize = 1000;
const PERIOD_SECONDS: i64 = 10;
const WINDOW: Duration = Duration::from_secs(30);
const CTL_CLIENTS: usize = 10;
const GRPC_CLIENTS: usize = 20;
const HTTP_CLIENTS: usize = 20;
/// Each client makes at most one request per `PACE` (50 a second in all, if the daemon keeps up).
const PACE: Duration = Duration::from_secs(1);
/// One request in this many lists all 1 000 tasks (`speedrackctl tasks`, ListTasks, the tasks
/// and config pages); the rest ask about one task, a run list or the status.
const LISTING_EVERY: usize = 25;
/// A request slower than this counts as failed. Pages list 1 000 tasks in a debug build on a
/// saturated machine, so it is long; it only bounds a hung request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
const MICROS: i64 = 1_000_000;

fn task_name(index: usize) -> String {
    format!("t{index:04}")
}

/// The second of each period at which a task fires.
fn offset_of(index: usize) -> i64 {
    i64::try_from(index).expect("fits") % PERIOD_SECONDS
}

/// `true` ends at once, and `overlap: parallel` starts every fire even if the previous run of
/// the task were still going, so no fire can be skipped by the overlap policy: a missing fire
/// is a fire the daemon lost.
fn tasks_yaml() -> String {
    let mut yaml = String::from("tasks:\n");
    for index in 0..TASKS {
        yaml.push_str(&format!(
            "  - {{name: {}, command: 'true', cron: '{}-59/{PERIOD_SECONDS} * * * * *', overlap: parallel}}\n",
            task_name(index),
            offset_of(index)
        ));
    }
    yaml
}

/// Requests made by one client, and what went wrong with any of them.
#[derive(Default)]
struct Tally {
    requests: u64,
    failures: Vec<String>,
    /// The slowest request, reported to judge the load (never asserted).
    slowest: Duration,
}

impl Tally {
    fn record(&mut self, began: Instant, failure: Option<String>) {
        self.requests += 1;
        self.slowest = self.slowest.max(began.elapsed());
        self.failures.extend(failure);
    }

    fn merge(&mut self, other: Tally) {
        self.requests += other.requests;
        self.slowest = self.slowest.max(other.slowest);
        self.failures.extend(other.failures);
    }
}

/// A client's next turn: at most one request per `PACE`, and never before the last one ended.
struct Pacer {
    interval: tokio::time::Interval,
    until: Instant,
    turn: usize,
}

impl Pacer {
    fn new(seed: usize, until: Instant) -> Pacer {
        let mut interval = tokio::time::interval(PACE);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Pacer {
            interval,
            until,
            turn: seed,
        }
    }

    /// The next turn number, or `None` once the window is over.
    async fn next(&mut self) -> Option<usize> {
        self.interval.tick().await;
        self.turn += 1;
        (Instant::now() < self.until).then_some(self.turn)
    }
}

/// Whether a turn lists all 1 000 tasks (see `LISTING_EVERY`), and the task other turns ask about.
fn turn_kind(turn: usize) -> (bool, String) {
    (
        turn.is_multiple_of(LISTING_EVERY),
        task_name(turn * 37 % TASKS),
    )
}

/// Starts a `speedrackctl` process per turn; the process is the client.
async fn ctl_client(socket: PathBuf, seed: usize, until: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut pacer = Pacer::new(seed, until);
    while let Some(turn) = pacer.next().await {
        let (listing, task) = turn_kind(turn);
        let args: Vec<&str> = match (listing, turn % 2) {
            (true, _) => vec!["tasks"],
            (false, 0) => vec!["status"],
            (false, _) => vec!["runs", &task],
        };
        let began = Instant::now();
        let output = tokio::process::Command::new(binary("speedrackctl"))
            .arg("--socket")
            .arg(&socket)
            .args(&args)
            .output()
            .await
            .expect("speedrackctl runs");
        tally.record(
            began,
            (!output.status.success()).then(|| {
                format!(
                    "speedrackctl {args:?}: {}: {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                )
            }),
        );
    }
    tally
}

/// One gRPC connection, one call per turn.
async fn grpc_client(socket: PathBuf, seed: usize, until: Instant) -> Tally {
    let mut tally = Tally::default();
    let began = Instant::now();
    let mut client = match speedrack_proto::connect(&socket).await {
        Ok(client) => client,
        Err(error) => {
            tally.record(began, Some(format!("connect: {error}")));
            return tally;
        }
    };
    let mut pacer = Pacer::new(seed, until);
    while let Some(turn) = pacer.next().await {
        let (listing, task) = turn_kind(turn);
        let began = Instant::now();
        let result = match (listing, turn % 3) {
            (true, _) => client
                .list_tasks(pb::ListTasksRequest {
                    recent_runs: 0,
                    ..pb::ListTasksRequest::default()
                })
                .await
                .map(|_| ()),
            (false, 0) => client.get_status(pb::GetStatusRequest {}).await.map(|_| ()),
            (false, 1) => client
                .get_task(pb::GetTaskRequest { name: task })
                .await
                .map(|_| ()),
            (false, _) => client
                .list_runs(pb::ListRunsRequest {
                    task,
                    page_size: 20,
                    page_token: String::new(),
                    ..Default::default()
                })
                .await
                .map(|_| ()),
        };
        tally.record(
            began,
            result
                .err()
                .map(|status| format!("gRPC call {turn}: {status}")),
        );
    }
    tally
}

/// One browser-like client, one page per turn, each body read whole.
async fn http_client(base: String, seed: usize, until: Instant) -> Tally {
    let mut tally = Tally::default();
    let http = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("HTTP client");
    let mut pacer = Pacer::new(seed, until);
    while let Some(turn) = pacer.next().await {
        let (listing, task) = turn_kind(turn);
        let path = match (listing, turn % 3) {
            (true, _) if turn.is_multiple_of(2) => "/".to_owned(),
            (true, _) => "/config".to_owned(),
            (false, 0) => format!("/tasks/{task}"),
            (false, 1) => format!("/tasks/{task}/runs"),
            (false, _) => "/metrics".to_owned(),
        };
        let began = Instant::now();
        let failure = match http.get(format!("{base}{path}")).send().await {
            Ok(response) if response.status().is_success() => response
                .bytes()
                .await
                .err()
                .map(|e| format!("GET {path}: {e}")),
            Ok(response) => Some(format!("GET {path}: {}", response.status())),
            Err(error) => Some(format!("GET {path}: {error}")),
        };
        tally.record(began, failure);
    }
    tally
}

/// Runs every client for the window, all at once, and adds up their tallies per kind.
async fn load(daemon: &Daemon) -> BTreeMap<&'static str, Tally> {
    let until = Instant::now() + WINDOW;
    let mut clients: Vec<(&'static str, tokio::task::JoinHandle<Tally>)> = Vec::new();
    for seed in 0..CTL_CLIENTS {
        let client = ctl_client(daemon.socket(), seed, until);
        clients.push(("speedrackctl", tokio::spawn(client)));
    }
    for seed in 0..GRPC_CLIENTS {
        let client = grpc_client(daemon.socket(), seed, until);
        clients.push(("gRPC", tokio::spawn(client)));
    }
    for seed in 0..HTTP_CLIENTS {
        let client = http_client(daemon.web_url(), seed, until);
        clients.push(("HTTP", tokio::spawn(client)));
    }
    let mut tallies: BTreeMap<&'static str, Tally> = BTreeMap::new();
    for (kind, handle) in clients {
        let tally = handle.await.expect("client");
        tallies.entry(kind).or_default().merge(tally);
    }
    tallies
}

fn micros(timestamp: Option<&prost_types::Timestamp>) -> i64 {
    let timestamp = timestamp.expect("a timestamp");
    timestamp.seconds * MICROS + i64::from(timestamp.nanos) / 1000
}

/// Each task's next fire, as the runtime loop sees it now: every fire due before it has been
/// taken, so its run row exists.
async fn next_fires(daemon: &Daemon) -> HashMap<String, i64> {
    let tasks = daemon
        .client()
        .await
        .list_tasks(pb::ListTasksRequest {
            recent_runs: 0,
            ..pb::ListTasksRequest::default()
        })
        .await
        .expect("ListTasks")
        .into_inner()
        .tasks;
    tasks
        .into_iter()
        .map(|task| (task.name.clone(), micros(task.next_fire.as_ref())))
        .collect()
}

/// The due instants of task `index` after `started` (exclusive) up to `last` (inclusive).
fn due_instants(index: usize, started: i64, last: i64) -> Vec<i64> {
    let started_second = started.div_euclid(MICROS);
    let mut second = started_second - started_second.rem_euclid(PERIOD_SECONDS) + offset_of(index);
    while second * MICROS <= started {
        second += PERIOD_SECONDS;
    }
    let mut instants = Vec::new();
    while second * MICROS <= last {
        instants.push(second * MICROS);
        second += PERIOD_SECONDS;
    }
    instants
}

/// Scheduled runs per task from the history of a stopped daemon: (due instant, status).
fn scheduled_runs(daemon: &Daemon) -> HashMap<String, Vec<(i64, String)>> {
    let conn = Connection::open_with_flags(
        daemon.data_dir().join("history.sqlite3"),
        OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the history database");
    let mut statement = conn
        .prepare(
            "SELECT task, scheduled_at_us, status FROM runs WHERE trigger = 'schedule'
             ORDER BY task, scheduled_at_us",
        )
        .expect("prepare");
    let rows = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("query");
    let mut runs: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for row in rows {
        let (task, due, status): (String, i64, String) = row.expect("row");
        runs.entry(task).or_default().push((due, status));
    }
    runs
}

/// What is wrong with one task's fires, if anything. Every instant after the daemon started and
/// before the task's next fire must be there once; fires taken after that (between the look at
/// the next fires and the stop) must continue the sequence without a gap or a repeat.
fn check_task(index: usize, started: i64, next: i64, runs: &[(i64, String)]) -> Option<String> {
    let fired: Vec<i64> = runs.iter().map(|(due, _)| *due).collect();
    let last = fired
        .last()
        .copied()
        .unwrap_or(0)
        .max(next - PERIOD_SECONDS * MICROS);
    let expected = due_instants(index, started, last);
    if fired != expected {
        return Some(format!(
            "{}: fired {fired:?}, due {expected:?}",
            task_name(index)
        ));
    }
    let window = usize::try_from(WINDOW.as_secs() / PERIOD_SECONDS.unsigned_abs()).expect("fits");
    if fired.len() < window {
        return Some(format!(
            "{}: only {} fires in the window",
            task_name(index),
            fired.len()
        ));
    }
    runs.iter()
        .find(|(_, status)| status != "success")
        .map(|(due, status)| format!("{}: the run due {due} ended {status}", task_name(index)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_for_thirty_seconds_while_a_thousand_tasks_fire() {
    let mut daemon = DaemonBuilder::new(&tasks_yaml())
        .settings("timezone: UTC\n")
        .start();
    let started = micros(
        daemon
            .client()
            .await
            .get_status(pb::GetStatusRequest {})
            .await
            .expect("GetStatus")
            .into_inner()
            .started_at
            .as_ref(),
    );

    let tallies = load(&daemon).await;
    let next = next_fires(&daemon).await;
    // SIGTERM lets the runs in flight finish, so every row has its final status.
    let exit = daemon.stop_with(Signal::SIGTERM);
    assert!(exit.success(), "{exit}");

    let mut failures = Vec::new();
    for (kind, tally) in &tallies {
        eprintln!(
            "{kind}: {} requests, {} failed, slowest {:?}",
            tally.requests,
            tally.failures.len(),
            tally.slowest
        );
        assert!(tally.requests > 0, "{kind} clients made no request");
        failures.extend(tally.failures.iter().take(5).cloned());
    }
    assert_eq!(failures, Vec::<String>::new(), "no request may fail");

    let runs = scheduled_runs(&daemon);
    eprintln!(
        "{} scheduled runs",
        runs.values().map(Vec::len).sum::<usize>()
    );
    let wrong: Vec<String> = (0..TASKS)
        .filter_map(|index| {
            let name = task_name(index);
            check_task(
                index,
                started,
                next[&name],
                runs.get(&name).map_or(&[][..], Vec::as_slice),
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {TASKS} tasks fired wrongly, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
}
