//! Several nodes on one PostgreSQL (issue 17): each scheduled fire runs exactly once in the
//! cluster, spread over the nodes; a node killed with -9 hands its fires to the others within
//! its lease and its in-flight runs are closed as interrupted; a pinned task runs only where it
//! is pinned; `run_on: all` runs once per node.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use nix::sys::signal::Signal;
use speedrack_tests::cluster::{
    LEASE, connect, database, node_settings, scheduled_runs, start_node, wait_until_all_see,
};
use speedrack_tests::web::WebClient;
use speedrack_tests::{DaemonBuilder, WAIT};
use speedrackd::clock::{Clock, SystemClock};

const SECOND_US: i64 = 1_000_000;

/// `count` tasks every second, each a command that ends at once.
fn every_second(count: usize) -> String {
    let mut yaml = String::from("tasks:\n");
    for n in 0..count {
        yaml.push_str(&format!(
            "  - {{name: t{n:02}, command: 'true', cron: '* * * * * *', fail_by_stderr: false}}\n"
        ));
    }
    yaml
}

/// The next whole second at least `ahead` from now, in microseconds.
fn second_after(ahead: Duration) -> i64 {
    let at = SystemClock.now().timestamp_micros() + i64::try_from(ahead.as_micros()).unwrap_or(0);
    (at / SECOND_US + 1) * SECOND_US
}

/// Waits until the instant `to` (µs) has passed, and 2 s more for the runs due before it to be
/// recorded: the window is wall-clock time itself, not an event to wait for.
async fn wait_past(to: i64) {
    let left = u64::try_from(to - SystemClock.now().timestamp_micros()).unwrap_or(0);
    tokio::time::sleep(Duration::from_micros(left) + Duration::from_secs(2)).await;
}

/// How long the steady-state window lasts: the 60 s unless the environment shortens
/// it for a quick local run.
fn window() -> Duration {
    std::env::var("SPEEDRACK_CLUSTER_WINDOW_S")
        .ok()
        .and_then(|text| text.parse().ok())
        .map_or(Duration::from_secs(60), Duration::from_secs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_run_each_fire_exactly_once_spread_over_the_nodes() {
    let Some(url) = database() else { return };
    let tasks = every_second(10);
    let a = start_node(&url, "a", &tasks);
    let b = start_node(&url, "b", &tasks);
    let c = start_node(&url, "c", &tasks);
    wait_until_all_see(&[(&a, 0), (&b, 0), (&c, 0)], &["a", "b", "c"]);
    let from = second_after(Duration::from_secs(1));
    let seconds = i64::try_from(window().as_secs()).unwrap_or(60);
    let to = from + seconds * SECOND_US;
    wait_past(to).await;
    let db = connect(&url).await;
    let runs = scheduled_runs(&db, from, to).await;

    let mut per_fire: BTreeMap<(&str, i64), Vec<&str>> = BTreeMap::new();
    for (task, due, node) in &runs {
        per_fire.entry((task, *due)).or_default().push(node);
    }
    let twice: Vec<_> = per_fire
        .iter()
        .filter(|(_, nodes)| nodes.len() > 1)
        .collect();
    assert!(twice.is_empty(), "fires run more than once: {twice:?}");
    let expected = 10 * usize::try_from(seconds).unwrap_or(0);
    assert_eq!(
        per_fire.len(),
        expected,
        "each of 10 tasks × {seconds} instants once"
    );
    let mut share: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, _, node) in &runs {
        *share.entry(node.as_str()).or_default() += 1;
    }
    for node in ["a", "b", "c"] {
        let ran = share.get(node).copied().unwrap_or(0);
        assert!(
            ran * 6 >= expected,
            "node {node} ran {ran} of {expected} fires: not spread ({share:?})"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_hands_its_fires_over_within_the_lease_and_its_runs_end_interrupted() {
    let Some(url) = database() else { return };
    let tasks = format!(
        "{}  - {{name: long, command: 'sleep 600', interval: 100w, run_on: [c]}}\n",
        every_second(10)
    );
    let a = start_node(&url, "a", &tasks);
    let b = start_node(&url, "b", &tasks);
    let mut c = start_node(&url, "c", &tasks);
    wait_until_all_see(&[(&a, 0), (&b, 0), (&c, 0)], &["a", "b", "c"]);
    let long = c.ctl().ok(&["run-now", "long"]);
    assert!(!long.is_empty());
    let db = connect(&url).await;
    let running: i64 = db
        .query_one(
            "SELECT id FROM runs WHERE task = 'long' AND status = 'running' AND node = 'c'",
            &[],
        )
        .await
        .expect("the long run is running on c")
        .get(0);

    let marks = (a.log_len(), b.log_len());
    c.stop_with(Signal::SIGKILL);
    let killed_at = SystemClock.now().timestamp_micros();
    wait_until_all_see(&[(&a, marks.0), (&b, marks.1)], &["a", "b"]);
    // From a lease and a heartbeat after the kill, every fire runs, on a or b, once.
    let from = second_after(Duration::ZERO);
    assert!(
        from - killed_at
            <= i64::try_from((LEASE + LEASE / 3 + Duration::from_secs(2)).as_micros()).unwrap_or(0),
        "the others saw c gone only {} ms after the kill",
        (from - killed_at) / 1000
    );
    let to = from + 10 * SECOND_US;
    wait_past(to).await;
    let after = scheduled_runs(&db, from, to).await;
    let fires: BTreeSet<(&str, i64)> = after.iter().map(|(t, due, _)| (t.as_str(), *due)).collect();
    assert_eq!(fires.len(), after.len(), "a fire ran twice after the kill");
    assert_eq!(
        fires.len(),
        100,
        "10 tasks × 10 instants after c's lease lapsed"
    );
    assert!(after.iter().all(|(_, _, node)| node != "c"));
    let all = scheduled_runs(&db, 0, to).await;
    let distinct: BTreeSet<(&str, i64)> =
        all.iter().map(|(t, due, _)| (t.as_str(), *due)).collect();
    assert_eq!(distinct.len(), all.len(), "a fire ran twice");

    let row = db
        .query_one(
            "SELECT status, op_error FROM runs WHERE id = $1",
            &[&running],
        )
        .await
        .expect("the long run");
    let (status, op_error): (String, String) = (row.get(0), row.get(1));
    assert_eq!(status, "interrupted");
    assert!(
        op_error.contains("node c") && op_error.contains("lease"),
        "who and why: {op_error:?}"
    );

    // c comes back: the run it lost is not resumed, and its process is killed.
    let c = c.restart();
    c.wait_for_log(WAIT, |line| {
        line.contains("killed the processes of a run whose daemon died")
    })
    .expect("c kills the sleep its previous life left");
    let status: String = db
        .query_one("SELECT status FROM runs WHERE id = $1", &[&running])
        .await
        .expect("the long run")
        .get(0);
    assert_eq!(status, "interrupted");
}

/// A TailOutput stream of `run`'s stdout through `node`'s API.
async fn tail_stdout(
    node: &speedrack_tests::Daemon,
    run: i64,
) -> tonic::Streaming<speedrack_proto::v1::TailOutputResponse> {
    node.client()
        .await
        .tail_output(speedrack_proto::v1::TailOutputRequest {
            run_id: run,
            stream: speedrack_proto::v1::OutputStream::Stdout.into(),
            offset: 0,
        })
        .await
        .expect("TailOutput of another node's run")
        .into_inner()
}

/// Polls `query` (one text column of one row) until it answers `wanted`, at most [`WAIT`].
async fn wait_for_value(db: &tokio_postgres::Client, query: &str, run: i64, wanted: &str) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let value: String = db
            .query_one(query, &[&run])
            .await
            .expect("read the run")
            .get(0);
        if value == wanted {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{query} stayed {value:?}, not {wanted:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_stalled_past_its_lease_ends_the_runs_another_node_closed() {
    let Some(url) = database() else { return };
    let shared = tempfile::tempdir().expect("temp dir");
    let pid_file = shared.path().join("long.pid");
    let tasks = format!(
        "tasks:\n  - {{name: long, command: 'echo $$ > {0}.new; mv {0}.new {0}; exec sleep 600', \
         interval: 100w, run_on: [b]}}\n",
        pid_file.display()
    );
    let a = start_node(&url, "a", &tasks);
    let b = start_node(&url, "b", &tasks);
    wait_until_all_see(&[(&a, 0), (&b, 0)], &["a", "b"]);
    let run = b.ctl().json(&["run-now", "long"])["run"]["id"]
        .as_i64()
        .expect("the long run's id");
    assert!(speedrack_tests::files::wait_for_file(&pid_file, WAIT));
    let sleep = std::fs::read_to_string(&pid_file).expect("the sleep's pid");
    let sleep = nix::unistd::Pid::from_raw(sleep.trim().parse().expect("a pid"));
    let db = connect(&url).await;

    // A paused VM, as far as the cluster can tell: b is silent, its sleep goes on.
    let b_pid = nix::unistd::Pid::from_raw(i32::try_from(b.pid()).expect("pid"));
    nix::sys::signal::kill(b_pid, Signal::SIGSTOP).expect("stop b");
    wait_for_value(
        &db,
        "SELECT status FROM runs WHERE id = $1",
        run,
        "interrupted",
    )
    .await;
    assert!(
        nix::sys::signal::kill(sleep, None).is_ok(),
        "the run's process lives on while b is stopped"
    );
    let marks = (a.log_len(), b.log_len());
    nix::sys::signal::kill(b_pid, Signal::SIGCONT).expect("continue b");
    b.wait_for_log_from(marks.1, WAIT, |line| line.contains("lease was taken over"))
        .expect("b learns its lease was taken over");
    let alive = || {
        let found = nix::sys::signal::kill(sleep, None).is_ok();
        found.then_some(sleep.as_raw()).into_iter().collect()
    };
    assert_eq!(
        speedrack_tests::procs::wait_until_reaped(alive, WAIT),
        Vec::<i32>::new(),
        "b let the run another node closed go on"
    );
    let row = db
        .query_one("SELECT status, op_error FROM runs WHERE id = $1", &[&run])
        .await
        .expect("the long run");
    let (status, op_error): (String, String) = (row.get(0), row.get(1));
    assert_eq!(
        status, "interrupted",
        "b's kill did not overwrite a's closing"
    );
    assert!(op_error.contains("node a closed"), "{op_error:?}");
    // b is back among the nodes, as a's log says once it sees b's new lease.
    wait_until_all_see(&[(&a, marks.0)], &["a", "b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_node_yields_its_fires_to_an_idle_one_and_none_is_lost() {
    let Some(url) = database() else { return };
    let tasks = format!(
        "{}  - {{name: long, command: 'sleep 600', interval: 100w, run_on: [a]}}\n",
        every_second(10)
    );
    // a is busy with one run in flight.
    let a = DaemonBuilder::new(&tasks)
        .settings(&node_settings(&url, "a").replace("busy: {load: 0}", "busy: {load: 0, runs: 1}"))
        .no_web()
        .start();
    let b = start_node(&url, "b", &tasks);
    wait_until_all_see(&[(&a, 0), (&b, 0)], &["a", "b"]);
    a.ctl().ok(&["run-now", "long"]);
    let deadline = std::time::Instant::now() + WAIT;
    let busy = |node: &speedrack_tests::Daemon| {
        node.ctl().json(&["nodes"])["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .any(|n| n["name"] == "a" && n["busy"] == true)
    };
    while !(busy(&a) && busy(&b)) {
        assert!(
            std::time::Instant::now() < deadline,
            "a never said it is busy"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let from = second_after(Duration::from_secs(1));
    let to = from + 5 * SECOND_US;
    // a claims the fires it yielded 2 s after their instants: wait those out too.
    wait_past(to + 2 * SECOND_US).await;
    let db = connect(&url).await;
    let runs = scheduled_runs(&db, from, to).await;
    let fires: BTreeSet<(&str, i64)> = runs.iter().map(|(t, due, _)| (t.as_str(), *due)).collect();
    assert_eq!(fires.len(), runs.len(), "a fire ran twice");
    assert_eq!(fires.len(), 50, "10 tasks × 5 instants, none lost");
    let on_a: Vec<_> = runs.iter().filter(|(_, _, node)| node == "a").collect();
    assert!(on_a.is_empty(), "busy a ran {on_a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_task_runs_only_on_its_node_and_run_on_all_once_per_node() {
    let Some(url) = database() else { return };
    let tasks = "tasks:
  - {name: pinned, command: 'true', cron: '* * * * * *', run_on: [b]}
  - {name: everywhere, command: 'true', cron: '* * * * * *', run_on: all}
";
    let a = start_node(&url, "a", tasks);
    let b = start_node(&url, "b", tasks);
    let c = start_node(&url, "c", tasks);
    wait_until_all_see(&[(&a, 0), (&b, 0), (&c, 0)], &["a", "b", "c"]);
    let from = second_after(Duration::from_secs(1));
    let to = from + 5 * SECOND_US;
    wait_past(to).await;
    let db = connect(&url).await;
    let runs = scheduled_runs(&db, from, to).await;
    let pinned: Vec<&str> = runs
        .iter()
        .filter(|(task, ..)| task == "pinned")
        .map(|(_, _, node)| node.as_str())
        .collect();
    assert_eq!(pinned, ["b"; 5], "pinned to b, once an instant");
    let mut everywhere: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
    for (task, due, node) in &runs {
        if task == "everywhere" {
            everywhere.entry(*due).or_default().push(node);
        }
    }
    assert_eq!(everywhere.len(), 5);
    for nodes in everywhere.values() {
        assert_eq!(nodes, &["a", "b", "c"], "once on every node");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_now_on_one_node_runs_where_the_task_is_pinned_and_its_output_shows_anywhere() {
    let Some(url) = database() else { return };
    let tasks = "tasks:
  - {name: pinned, command: 'echo made-on-the-pinned-node', interval: 100w, run_on: [b]}
";
    let a = DaemonBuilder::new(tasks)
        .settings(&node_settings(&url, "a"))
        .start();
    let b = start_node(&url, "b", tasks);
    wait_until_all_see(&[(&a, 0), (&b, 0)], &["a", "b"]);
    let mark = b.log_len();
    let asked = a.ctl().json(&["run-now", "pinned"]);
    let run = asked["run"]["id"]
        .as_i64()
        .expect("RunNow on a answers with b's run");
    assert_eq!(asked["run"]["node"], "b", "{asked}");
    b.wait_for_log_from(mark, WAIT, |line| {
        line.contains("run finished") && line.contains(&format!("run={run}"))
    })
    .expect("the run ends on b");
    let db = connect(&url).await;
    let node: String = db
        .query_one("SELECT node FROM runs WHERE id = $1", &[&run])
        .await
        .expect("the run")
        .get(0);
    assert_eq!(node, "b");
    let a_ran: i64 = db
        .query_one("SELECT count(*) FROM runs WHERE node = 'a'", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(a_ran, 0, "nothing ran on a");

    let output = a.ctl().run(&["output", "pinned", &run.to_string()]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "made-on-the-pinned-node\n"
    );
    let mut tail = tail_stdout(&a, run).await;
    let mut tailed = Vec::new();
    while let Some(message) = tail.message().await.expect("tail message") {
        tailed.extend(message.data);
        if message.finished {
            break;
        }
    }
    assert_eq!(tailed, b"made-on-the-pinned-node\n");

    let web = WebClient::with(a.web_url(), reqwest::Client::new());
    let page = web.get(&format!("/tasks/pinned/runs/{run}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("made-on-the-pinned-node"),
        "a's run page shows b's output"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_on_another_node_is_followed_live_from_any_node() {
    let Some(url) = database() else { return };
    let shared = tempfile::tempdir().expect("temp dir");
    let gate = shared.path().join("gate");
    let tasks = format!(
        "tasks:\n  - {{name: pinned, command: 'echo first; while [ ! -e {} ]; do sleep 0.05; \
         done; echo second', interval: 100w, run_on: [b]}}\n",
        gate.display()
    );
    let a = DaemonBuilder::new(&tasks)
        .settings(&node_settings(&url, "a"))
        .start();
    let b = start_node(&url, "b", &tasks);
    wait_until_all_see(&[(&a, 0), (&b, 0)], &["a", "b"]);
    // run-now --wait on a: a announces the start and end of b's run to a's own watchers.
    let ctl = a.ctl();
    let waiting =
        std::thread::spawn(move || ctl.run(&["run-now", "pinned", "--wait", "--timeout", "30s"]));
    let db = connect(&url).await;
    let deadline = std::time::Instant::now() + WAIT;
    let run: i64 = loop {
        let row = db
            .query_opt(
                "SELECT id FROM runs WHERE task = 'pinned' AND node = 'b'",
                &[],
            )
            .await
            .expect("read the runs");
        if let Some(row) = row {
            break row.get(0);
        }
        assert!(std::time::Instant::now() < deadline, "b never ran pinned");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut tail = tail_stdout(&a, run).await;
    let mut tailed = Vec::new();
    while tailed != b"first\n" {
        let message = tokio::time::timeout(WAIT, tail.message())
            .await
            .expect("the first line comes while the run runs")
            .expect("tail message")
            .expect("the tail goes on");
        assert!(!message.finished, "finished before the gate opened");
        tailed.extend(message.data);
    }
    let so_far = a.ctl().run(&["output", "pinned", &run.to_string()]);
    assert!(so_far.status.success(), "{so_far:?}");
    assert_eq!(String::from_utf8_lossy(&so_far.stdout), "first\n");
    let web = WebClient::with(a.web_url(), reqwest::Client::new());
    let page = web.get(&format!("/tasks/pinned/runs/{run}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("first"), "a's page of b's running run");

    std::fs::write(&gate, "").expect("open the gate");
    loop {
        let message = tokio::time::timeout(WAIT, tail.message())
            .await
            .expect("the tail ends with the run")
            .expect("tail message")
            .expect("a finished message ends the tail");
        tailed.extend(message.data);
        if message.finished {
            break;
        }
    }
    assert_eq!(String::from_utf8_lossy(&tailed), "first\nsecond\n");
    let waited = waiting.join().expect("the waiting speedrackctl");
    assert!(waited.status.success(), "{waited:?}");
    let said = String::from_utf8_lossy(&waited.stdout);
    assert!(
        said.contains(&format!("run {run} of pinned: success")),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_of_a_task_asked_anywhere_reaches_its_runs_and_names_the_nodes_it_missed() {
    let Some(url) = database() else { return };
    let tasks = "tasks:\n  - {name: long, command: 'sleep 600', interval: 100w, run_on: [b]}\n";
    let a = start_node(&url, "a", tasks);
    let b = start_node(&url, "b", tasks);
    // c's lease is long, so that it is still alive to a, however slowly a busy machine runs
    // the kill below, when a asks it and waits for its answer.
    let c = DaemonBuilder::new(tasks)
        .settings(&node_settings(&url, "c").replace("lease: 3s", "lease: 30s"))
        .no_web()
        .start();
    wait_until_all_see(&[(&a, 0), (&b, 0), (&c, 0)], &["a", "b", "c"]);
    let run = b.ctl().json(&["run-now", "long"])["run"]["id"]
        .as_i64()
        .expect("the long run on b");

    // c is silent but its lease has seconds left: a asks it, and says it did not answer.
    let c_pid = nix::unistd::Pid::from_raw(i32::try_from(c.pid()).expect("pid"));
    nix::sys::signal::kill(c_pid, Signal::SIGSTOP).expect("stop c");
    let killed = a.ctl().run(&["--json", "kill", "long"]);
    nix::sys::signal::kill(c_pid, Signal::SIGCONT).expect("continue c");
    assert!(killed.status.success(), "{killed:?}");
    let answer: serde_json::Value = serde_json::from_slice(&killed.stdout).expect("JSON");
    assert_eq!(
        answer["killed_run_ids"],
        serde_json::json!([run]),
        "{answer}"
    );
    let unreached = answer["unreached_nodes"].as_array().expect("a list");
    assert_eq!(unreached.len(), 1, "{answer}");
    assert!(
        unreached[0]
            .as_str()
            .is_some_and(|text| text.contains("node c")),
        "{answer}"
    );
    assert!(String::from_utf8_lossy(&killed.stderr).contains("warning: node c"));

    let db = connect(&url).await;
    wait_for_value(&db, "SELECT status FROM runs WHERE id = $1", run, "failure").await;
    let killed_by: String = db
        .query_one("SELECT killed_by FROM runs WHERE id = $1", &[&run])
        .await
        .expect("the long run")
        .get(0);
    assert!(!killed_by.is_empty(), "b recorded who killed it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_asked_on_one_node_reloads_every_node_and_says_how_each_went() {
    let Some(url) = database() else { return };
    let tasks = "tasks:\n  - {name: first, command: 'true', interval: 100w}\n";
    let a = start_node(&url, "a", tasks);
    let b = start_node(&url, "b", tasks);
    wait_until_all_see(&[(&a, 0), (&b, 0)], &["a", "b"]);
    let names = |node: &speedrack_tests::Daemon| -> Vec<String> {
        node.ctl().json(&["tasks"])["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .map(|task| task["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    // The new file deployed to b (a's is the same as before).
    b.write_tasks(&format!(
        "{tasks}  - {{name: second, command: 'true', interval: 100w}}\n"
    ));
    let said = a.ctl().ok(&["reload"]);
    assert!(said.contains("node b: reloaded: 1 added"), "{said}");
    assert_eq!(names(&b), ["first", "second"]);

    // Not YAML: the whole file is refused, not one task.
    b.write_tasks("tasks:\n  - {name: broken\n");
    let refused = a.ctl().run(&["reload"]);
    assert!(!refused.status.success(), "{refused:?}");
    let stdout = String::from_utf8_lossy(&refused.stdout);
    assert!(stdout.contains("node b: not reloaded"), "{stdout}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("not confirmed on node b"), "{stderr}");
    assert_eq!(names(&b), ["first", "second"], "b kept its configuration");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_tells_its_watchers_of_runs_other_nodes_ran_on_their_schedule() {
    use speedrack_proto::v1::watch_events_response::Event as PbEvent;
    let Some(url) = database() else { return };
    let tasks = "tasks:\n  - {name: pinned, command: 'true', cron: '* * * * * *', run_on: [b]}\n";
    let a = start_node(&url, "a", tasks);
    let b = start_node(&url, "b", tasks);
    wait_until_all_see(&[(&a, 0), (&b, 0)], &["a", "b"]);
    let mut events = a
        .client()
        .await
        .watch_events(speedrack_proto::v1::WatchEventsRequest::default())
        .await
        .expect("WatchEvents on a")
        .into_inner();
    let row = tokio::time::timeout(WAIT, async {
        loop {
            let message = events
                .message()
                .await
                .expect("an event")
                .expect("the stream goes on");
            if let Some(PbEvent::TaskChanged(task)) = message.event
                && task.name == "pinned"
                && task.last_run.as_ref().is_some_and(|run| run.node == "b")
            {
                return task;
            }
        }
    })
    .await
    .expect("a announces pinned's row changed by b's runs");
    assert!(row.runs_retained >= 1, "{row:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspension_asked_on_one_node_holds_on_every_node() {
    let Some(url) = database() else { return };
    let tasks = "tasks:\n  - {name: shared, command: 'true', interval: 100w}\n";
    let a = start_node(&url, "a", tasks);
    let b = start_node(&url, "b", tasks);
    wait_until_all_see(&[(&a, 0), (&b, 0)], &["a", "b"]);
    let suspended = |node: &speedrack_tests::Daemon| {
        node.ctl().json(&["tasks"])["tasks"][0]["suspended"].as_bool()
    };
    assert_eq!(suspended(&b), Some(false));
    let mark = b.log_len();
    a.ctl().ok(&["suspend", "shared"]);
    b.wait_for_log_from(mark, WAIT, |line| {
        line.contains("task suspension changed") && line.contains("suspended=true")
    })
    .expect("b is told of the suspension");
    assert_eq!(suspended(&b), Some(true));
    let mark = a.log_len();
    b.ctl().ok(&["resume", "shared"]);
    a.wait_for_log_from(mark, WAIT, |line| {
        line.contains("task suspension changed") && line.contains("suspended=false")
    })
    .expect("a is told of the resumption");
    assert_eq!(suspended(&a), Some(false));
}
