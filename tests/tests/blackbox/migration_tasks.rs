//! A tasks file written for Speedrack 0.6.1, as its own demo and test files were (PyYAML
//! scalars, `spam: oh hell yes`, `sudo_user:`, numbers as text, names with punctuation, its
//! deliberate errors), created 0664 by root: it loads with exactly the conf errors 0.6.1
//! reported, says where it read values loosely, keeps the history of tasks whose key changed,
//! and mails links that are right under a sub-path. Needs root, to give files to root's group
//! and to another group (65534).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use nix::unistd::{Gid, Uid};
use speedrack_proto::v1 as pb;
use speedrack_tests::smtp::SmtpServer;
use speedrack_tests::{Daemon, DaemonBuilder, WAIT, binary};

/// 0.6.1's `config/test.yaml` and `sample.yaml` in their own style, with the commands made
/// harmless. 0.6.1 marked a task as a conf error only when it had no name, no command, a cron
/// mapping APScheduler refused, no schedule, or both schedules (`models.is_conf_error`); it
/// ignored keys it did not know and read every other value by Python's truthiness. So of these
/// fourteen, exactly the three `conf error …` tasks are broken.
const TASKS_0_6_1: &str = r#"tasks:

- name: interval running
  description: an interval task that is currently executing
  command: sleep 20 && echo success
  interval: 21s
  max_keep: 50

- name: interval winner!
  description: an interval task that succeeds
  command: echo winner
  interval: 61s
  max_keep: "50"

- name: interval failer return code
  description: an interval task that fails via status code
  command: sleep 1 && false
  interval: 62s
  max_keep: 50
  fail_by_retcode: True

- name: interval failer stderr
  description: an interval task that fails via stderr
  command: echo oops 1>&2
  interval: 63s
  max_keep: 50
  # default but testing
  fail_by_stderr: True

- name: interval winner later
  description: an interval task that hasn't been run yet
  command: echo later
  interval: 400w

- name: interval failer later
  description: an interval task that will never naturally run, but will fail at will
  command: echo later 1>&2
  interval: 400w
  email_recipients: ops@example.org

- name: interval failer later spammer
  description: an interval task that's Run Now and fails
  command: sleep 1 && false
  interval: 400w
  email: ops@example.org
  spam: oh hell yes
  max_keep: 50

- name: interval winner status code
  description: an interval task that succeeds despite status code
  command: sleep 1 && false
  interval: 65s
  fail_by_retcode: False

- name: cron winner stdout
  description: serves the role of a cron task that succeeds
  command: echo winner
  cron: { 'second': 20 }
  max_keep: 20

- name: cron winner stderr
  description: serves the role of a cron task that passes with stderr
  command: echo fine 1>&2
  cron: { 'second': 5 }
  fail_by_stderr: False

- name: "[nightly] db-dump.v2 (as backup)"
  description: runs as another user, mails every failure
  command: echo dump
  interval: 400w
  sudo_user: nobody
  spam_fail: yes

- name: conf error missing command
  description: serves the role of an interval task that isn't wired right (missing command)
  interval: 20w

- name: conf error cron
  description: a cron task that has superfluous keywords
  command: sleep 1 && false
  cron: { 'second': 15, 'minutes': 30 }
  max_keep: 50

- name: conf error timing
  description: a task with both interval and cron
  command: sleep 1 && false
  interval: 64s
  cron: { 'second': 5 }
  max_keep: 50
"#;

/// The uid and gid of `nobody`, standing for another local group.
const OTHER: u32 = 65534;

fn give(path: &Path, mode: u32, uid: u32, gid: u32) {
    nix::unistd::chown(path, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid))).expect("chown");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|line| line.contains(needle))
        .map(|index| index + 1)
        .unwrap_or_else(|| panic!("{needle:?} is in the file"))
}

async fn list_tasks(daemon: &Daemon) -> Vec<pb::Task> {
    daemon
        .client()
        .await
        .list_tasks(pb::ListTasksRequest::default())
        .await
        .expect("ListTasks")
        .into_inner()
        .tasks
}

#[tokio::test]
async fn a_0_6_1_tasks_file_loads_with_exactly_the_conf_errors_0_6_1_reported() {
    let builder = DaemonBuilder::new(TASKS_0_6_1);
    let tasks_path = builder.dir().join("tasks.yaml");
    // Someone else's group may not write it; root's group may, as root's umask 002 left it.
    give(&tasks_path, 0o664, 0, OTHER);
    let stderr = Daemon::refusal(Daemon::command(builder.dir(), None));
    assert!(
        stderr.contains("its group (gid 65534) can write it (mode 0664)"),
        "{stderr}"
    );
    give(&tasks_path, 0o664, 0, 0);
    let daemon = builder.start();

    let tasks = list_tasks(&daemon).await;
    assert_eq!(tasks.len(), 14, "every task of the file is listed");
    let mut broken: Vec<(&str, usize)> = tasks
        .iter()
        .filter(|task| task.status == pb::TaskStatus::ConfError as i32)
        .map(|task| (task.name.as_str(), task.conf_errors.len()))
        .collect();
    broken.sort_unstable();
    assert_eq!(
        broken,
        [
            ("conf_error_cron", 1),
            ("conf_error_missing_command", 1),
            ("conf_error_timing", 1)
        ],
        "exactly 0.6.1's conf errors: {tasks:#?}"
    );
    let names: Vec<(&str, &str)> = tasks
        .iter()
        .map(|task| (task.name.as_str(), task.display_name.as_str()))
        .collect();
    for shown in [
        ("interval_winner", "interval winner!"),
        (
            "nightly_db-dump.v2_as_backup",
            "[nightly] db-dump.v2 (as backup)",
        ),
    ] {
        assert!(names.contains(&shown), "{shown:?} in {names:?}");
    }

    let spam_line = line_of(TASKS_0_6_1, "spam: oh hell yes");
    let warning = format!(
        "{}:{spam_line}: interval failer later spammer: spam: \"oh hell yes\" is not true or \
         false; read as true",
        tasks_path.display()
    );
    assert!(
        daemon
            .wait_for_log(WAIT, |line| line.contains(&warning))
            .is_some(),
        "the start logs where a value was read loosely"
    );

    let check = std::process::Command::new(binary("speedrackd"))
        .args(["check", "--tasks"])
        .arg(&tasks_path)
        .output()
        .expect("speedrackd check runs");
    let report = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(1), "conf errors: {report}");
    assert!(report.contains("14 tasks, 3 with conf errors"), "{report}");
    assert!(
        report.contains(&format!("warnings:\n  {warning}")),
        "{report}"
    );
    let located = format!("  {}:", tasks_path.display());
    assert_eq!(
        report
            .lines()
            .filter(|line| line.starts_with(&located))
            .count(),
        4,
        "three conf errors and one warning, nothing else: {report}"
    );
}

#[tokio::test]
async fn a_state_change_mails_a_link_under_the_sub_path_without_repeating_it() {
    let smtp = SmtpServer::start();
    let tasks = "tasks:
- name: '[Nightly] DB-dump.v2!'
  command: sleep 0 && false
  interval: 400w
  email: dev@example.org
  spam: no
";
    let settings = format!(
        "email:
  smtp_host: 127.0.0.1
  smtp_port: {}
  from: speedrack@example.org
script_name: /speedrack
email_url_prefix: http://example.com/speedrack
",
        smtp.port
    );
    let daemon = DaemonBuilder::new(tasks).settings(&settings).start();
    let mut events = daemon.watch().await;
    let run = daemon
        .run_now_and_wait(&mut events, "nightly_db-dump.v2")
        .await;
    let mail = smtp
        .next_mail(WAIT)
        .expect("the first failure is a change of state");
    // The text part is quoted-printable: long lines carry soft breaks.
    let text = mail.data.replace("=\r\n", "").replace("=\n", "");
    let link = format!(
        "http://example.com/speedrack/tasks/nightly_db-dump.v2/runs/{}",
        run.id
    );
    assert!(text.contains(&link), "{link} in {text}");
    assert!(
        !text.contains("/speedrack/speedrack/"),
        "the sub-path once: {text}"
    );
    // Behind the proxy that serves the sub-path, the link's path is the UI's own.
    let page = reqwest::get(format!(
        "{}/tasks/nightly_db-dump.v2/runs/{}",
        daemon.web_url(),
        run.id
    ))
    .await
    .expect("the web UI answers");
    assert_eq!(
        page.status(),
        reqwest::StatusCode::OK,
        "the linked page exists"
    );
    let body = page.text().await.expect("the page's text");
    assert!(
        body.contains("[Nightly] DB-dump.v2!"),
        "the page names the task as written"
    );
}

#[tokio::test]
async fn a_task_whose_key_changed_keeps_its_history_across_reload_and_restart() {
    // The history an earlier version wrote for `db-dump.daily` and `weekly-report!`, under
    // the keys it made then: a run of one, a suspension of the other (which never ran).
    let mut daemon = Daemon::start(
        "tasks:
- {name: db_dump_daily, command: echo dump, interval: 400w}
- {name: weekly_report_, command: echo report, interval: 400w}
",
    );
    let mut events = daemon.watch().await;
    let run = daemon.run_now_and_wait(&mut events, "db_dump_daily").await;
    daemon.ctl().ok(&["suspend", "weekly_report_"]);

    daemon.write_tasks(
        "tasks:
- {name: db-dump.daily, command: echo dump, interval: 400w}
- {name: weekly-report!, command: echo report, interval: 400w}
- {name: fresh-task, command: echo new, interval: 400w}
",
    );
    daemon.ctl().ok(&["reload"]);
    let kept = |tasks: &[pb::Task]| {
        let mut names: Vec<(String, u64, bool)> = tasks
            .iter()
            .map(|task| (task.name.clone(), task.runs_retained, task.suspended))
            .collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                ("db_dump_daily".to_owned(), 1, false),
                ("fresh-task".to_owned(), 0, false),
                ("weekly_report_".to_owned(), 0, true),
            ],
            "renamed tasks keep their history's keys; a new one gets the new key"
        );
    };
    kept(&list_tasks(&daemon).await);
    assert!(
        daemon
            .wait_for_log(WAIT, |line| line
                .contains("task kept under the key its history is filed under"))
            .is_some()
    );

    daemon.stop_with(nix::sys::signal::Signal::SIGTERM);
    let daemon = daemon.restart();
    let tasks = list_tasks(&daemon).await;
    kept(&tasks);
    let renamed = tasks
        .iter()
        .find(|task| task.name == "db_dump_daily")
        .expect("listed");
    let last = renamed
        .last_run
        .as_ref()
        .expect("the run before the rename");
    assert_eq!(last.id, run.id);
}
