//! `speedrackd import-history`: a generated Speedrack 0.6.1 job tree with mixed outcomes and a
//! suspended-tasks file, imported by the real binary into a data dir, then read back through the
//! daemon (speedrackctl and the gRPC API); importing again adds nothing, and importing while a
//! daemon holds the data dir is refused.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use nix::sys::signal::Signal;
use serde_json::Value;
use speedrack_proto::v1::GetRunRequest;
use speedrack_tests::web::WebClient;
use speedrack_tests::{Daemon, DaemonBuilder, binary};

/// Every task the tree has, configured so that none fires during the test.
const TASKS: &str = "tasks:
  - {name: backup, command: 'true', interval: 400w}
  - {name: noisy, command: 'true', interval: 400w}
  - {name: broken, command: 'true', interval: 400w}
  - {name: long_runner, command: 'true', interval: 400w}
  - {name: corrupt, command: 'true', interval: 400w}
  - {name: big, command: 'true', interval: 400w}
";

/// 0.6.1's local times are read in this zone: 18:41:44 CEST is 16:41:44 UTC.
const SETTINGS: &str = "timezone: Europe/Berlin\noutput_max_bytes: 1000\n";

/// Bytes `big` printed: far more than the cap.
const BIG: usize = 100_000;

/// Writes one execution directory with the given files.
fn execution(jobs: &Path, task: &str, stamp: &str, files: &[(&str, &str)]) {
    let dir = jobs.join(task).join(stamp);
    std::fs::create_dir_all(&dir).expect("execution dir");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("execution file");
    }
}

fn params(task: &str, command: &str, fail_by_stderr: &str) -> String {
    format!(
        r#"{{"command": "{command}", "fail_by_retcode": null, "fail_by_stderr": {fail_by_stderr}, "max_keep": null, "name": "{task}", "parsed_cron": null, "parsed_interval": {{"minutes": 1}}, "spam": null, "spam_fail": null, "sudo": null}}"#
    )
}

/// A 0.6.1 `SPEEDRACK_DIR`: `jobs/` with mixed outcomes and `speedrack.suspended`.
fn speedrack_dir(root: &Path) -> PathBuf {
    let jobs = root.join("jobs");
    let ok = params("backup", "tar czf /b.tgz /etc", "null");
    execution(
        &jobs,
        "backup",
        "2012-05-03_18:41:44",
        &[
            ("std_out.txt", "backed up\n"),
            ("std_err.txt", ""),
            ("status_code.txt", "0"),
            ("op_params.txt", &ok),
        ],
    );
    execution(
        &jobs,
        "backup",
        "2012-05-03_19:41:44",
        &[
            ("std_out.txt", "partial\n"),
            ("std_err.txt", ""),
            ("status_code.txt", "2"),
            ("op_params.txt", &ok),
        ],
    );
    // 0.6.1 wrote the status code as the run ended, 7 s after its start (16:41:44 UTC).
    let ended = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_336_063_311);
    std::fs::File::options()
        .write(true)
        .open(jobs.join("backup/2012-05-03_18:41:44/status_code.txt"))
        .and_then(|file| file.set_modified(ended))
        .expect("set the status code's time");
    for (stamp, fail_by_stderr) in [
        ("2012-05-03_18:00:00", "true"),
        ("2012-05-03_19:00:00", "false"),
    ] {
        execution(
            &jobs,
            "noisy",
            stamp,
            &[
                ("std_err.txt", "warning\n"),
                ("status_code.txt", "0"),
                ("op_params.txt", &params("noisy", "warn", fail_by_stderr)),
            ],
        );
    }
    execution(
        &jobs,
        "broken",
        "2012-05-03_18:00:00",
        &[
            (
                "op_error.txt",
                "Exception running broken:\nOSError: [Errno 2] No such file",
            ),
            ("op_params.txt", &params("broken", "nope", "null")),
        ],
    );
    execution(
        &jobs,
        "long_runner",
        "2012-05-03_20:00:00",
        &[("std_out.txt", "started\n"), (".is_running", "True")],
    );
    execution(
        &jobs,
        "corrupt",
        "2012-05-03_18:00:00",
        &[("status_code.txt", "garbage")],
    );
    execution(
        &jobs,
        "corrupt",
        "2012-05-03_19:00:00",
        &[("status_code.txt", "0")],
    );
    std::fs::create_dir_all(jobs.join("corrupt/yesterday")).expect("a dir that is no execution");
    let big = format!("{}{}", "h".repeat(BIG - 4), "TAIL");
    execution(
        &jobs,
        "big",
        "2012-05-03_18:00:00",
        &[("std_out.txt", &big), ("status_code.txt", "0")],
    );
    std::fs::write(root.join("speedrack.suspended"), "noisy\ngone_task").expect("suspended file");
    jobs
}

/// 0.6.1's settings as its users wrote them: the job tree and the suspended file are found
/// from `SPEEDRACK_DIR`, with 0.6.1's defaults below it.
fn old_settings(root: &Path) -> String {
    format!(
        "# speedrack_settings.py\nSPEEDRACK_DIR = {:?}\nJOB_ROOT_DIR = SPEEDRACK_DIR + '/jobs'\nLOG_MAX_SIZE = 1024 * 1024 * 5\ntimezone = 'Europe/Berlin'\noutput_max_bytes = 1000\n",
        root.display().to_string()
    )
}

/// Runs `speedrackd import-history` with the old settings file on the builder's data dir.
fn import(settings: &Path, data_dir: &Path) -> Output {
    Command::new(binary("speedrackd"))
        .arg("import-history")
        .arg("--settings")
        .arg(settings)
        .arg("--data-dir")
        .arg(data_dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("speedrackd runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The task's runs as `speedrackctl --json runs` lists them, newest first.
fn runs(daemon: &Daemon, task: &str) -> Vec<Value> {
    daemon.ctl().json(&["runs", task])["runs"]
        .as_array()
        .expect("a list of runs")
        .clone()
}

#[tokio::test]
async fn a_0_6_1_job_tree_imports_once_with_statuses_output_params_and_suspension() {
    let old = tempfile::tempdir().expect("temp dir");
    let jobs = speedrack_dir(old.path());
    let settings = old.path().join("speedrack_settings.py");
    std::fs::write(&settings, old_settings(old.path())).expect("settings");
    let builder = DaemonBuilder::new(TASKS).settings(SETTINGS);
    let data_dir = builder.data_dir();

    let first = import(&settings, &data_dir);
    let summary = text(&first.stdout);
    assert!(first.status.success(), "{summary}{}", text(&first.stderr));
    assert!(
        summary.starts_with(&format!(
            "imported 8 runs from {}: 0 skipped as already imported, 2 unreadable\n",
            jobs.display()
        )),
        "{summary}"
    );
    for line in [
        "  backup: 2 imported, 0 skipped, 0 unreadable\n",
        "  corrupt: 1 imported, 0 skipped, 2 unreadable\n",
        "    2012-05-03_18:00:00: status_code.txt holds \"garbage\", not an exit status\n",
        "    yesterday: its name is not a 0.6.1 start time (YYYY-MM-DD_HH:MM:SS)\n",
        "2 suspended (noisy, gone_task), 0 kept as already set here\n",
    ] {
        assert!(summary.contains(line), "{line:?} in:\n{summary}");
    }

    let mut daemon = builder.start();
    let backup = runs(&daemon, "backup");
    let shape: Vec<(&Value, &Value, &Value, &Value)> = backup
        .iter()
        .map(|run| {
            (
                &run["status"],
                &run["trigger"],
                &run["exit_code"],
                &run["reason"],
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (
                &"failure".into(),
                &"imported".into(),
                &2.into(),
                &"exit status 2".into()
            ),
            (&"success".into(), &"imported".into(), &0.into(), &"".into()),
        ]
    );
    assert_eq!(backup[1]["started_at"], "2012-05-03T16:41:44.000Z");
    assert_eq!(
        backup[1]["duration_secs"], 7.0,
        "ended when it wrote its status code"
    );
    assert_eq!(
        backup[0]["finished_at"], "2012-05-03T17:41:44.000Z",
        "a status code written years later (a copy) leaves the end unknown: the start"
    );
    let older = backup[1]["id"].as_i64().expect("an id").to_string();
    assert_eq!(
        daemon.ctl().ok(&["output", "backup", &older]),
        "backed up\n"
    );
    let definition = daemon
        .client()
        .await
        .get_run(GetRunRequest {
            run_id: backup[1]["id"].as_i64().expect("an id"),
        })
        .await
        .expect("GetRun")
        .into_inner()
        .run
        .expect("a run")
        .definition;
    assert!(
        definition.contains("command: tar czf /b.tgz /etc\n"),
        "{definition}"
    );
    let web = WebClient::with(daemon.web_url(), reqwest::Client::new());
    let page = web.get(&format!("/tasks/backup/runs/{older}")).await;
    assert_eq!(page.text("[data-trigger]"), "imported from Speedrack 0.6.1");

    let noisy: Vec<(Value, Value)> = runs(&daemon, "noisy")
        .iter()
        .map(|run| (run["status"].clone(), run["reason"].clone()))
        .collect();
    assert_eq!(
        noisy,
        [
            ("success".into(), "".into()),
            ("failure".into(), "stderr not empty (8 bytes)".into()),
        ],
        "fail_by_stderr from each run's op_params"
    );
    let broken = &runs(&daemon, "broken")[0];
    assert_eq!(broken["status"], "execution_error");
    assert!(
        broken["op_error"]
            .as_str()
            .is_some_and(|text| text.contains("OSError: [Errno 2]")),
        "{broken}"
    );
    let lost = &runs(&daemon, "long_runner")[0];
    assert_eq!(lost["status"], "interrupted");
    assert!(
        lost["op_error"]
            .as_str()
            .is_some_and(|text| text.contains(".is_running")),
        "{lost}"
    );
    assert_eq!(runs(&daemon, "corrupt").len(), 1);
    let big = &runs(&daemon, "big")[0];
    assert_eq!(
        (&big["stdout_bytes"], &big["output_dropped_bytes"]),
        (&BIG.into(), &(BIG - 1000).into())
    );
    let kept = daemon.ctl().ok(&["output", "big"]);
    assert!(
        kept.contains(&format!("[... speedrack dropped {} bytes here", BIG - 1000)),
        "{kept}"
    );
    assert!(
        kept.ends_with("TAIL") && kept.len() < 1200,
        "{} bytes kept",
        kept.len()
    );

    let tasks = daemon.ctl().json(&["tasks"]);
    let suspended: Vec<&str> = tasks["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter(|task| task["suspended"] == true)
        .filter_map(|task| task["name"].as_str())
        .collect();
    assert_eq!(suspended, ["noisy"]);

    let refused = import(&settings, &data_dir);
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("import-history works on a stopped daemon's data dir only")
            && stderr.contains(&format!("another speedrackd (pid {})", daemon.pid())),
        "{stderr}"
    );

    daemon.stop_with(Signal::SIGTERM);
    let again = import(&settings, &data_dir);
    let summary = text(&again.stdout);
    assert!(again.status.success(), "{summary}{}", text(&again.stderr));
    assert!(
        summary.starts_with(&format!(
            "imported 0 runs from {}: 8 skipped as already imported, 2 unreadable\n",
            jobs.display()
        )),
        "{summary}"
    );
    assert!(
        summary.contains("0 suspended, 2 kept as already set here (noisy, gone_task)"),
        "{summary}"
    );
    let daemon = daemon.restart();
    assert_eq!(runs(&daemon, "backup").len(), 2, "nothing added");
}
