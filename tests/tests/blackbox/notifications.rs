//! Notifications against a real SMTP server and real HTTP receivers: who gets mail, when
//! (the seed's state-change rules, spam, spam_fail), what it says, and what happens when the
//! mail server is down.

use std::time::Duration;

use axum::http::StatusCode;
use speedrack_proto::v1::watch_events_response::Event;
use speedrack_tests::receiver::Receiver;
use speedrack_tests::smtp::{Mail, SmtpServer};
use speedrack_tests::{DaemonBuilder, WAIT};

/// Fails on runs 1, 2 and 5 (fail, fail, success, success, fail), writing why to stderr.
const FLIP: &str = "n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; \
                    case $n in 0|1|4) echo \"broke on run $n\" >&2; exit 1;; esac; echo fine";

/// This machine's name, which mails and webhooks carry.
fn host() -> String {
    nix::unistd::gethostname()
        .expect("a host name")
        .into_string()
        .expect("a host name in UTF-8")
}

/// The subject of a mail that says `what` about a task, as sent from this machine.
fn subject(what: &str) -> String {
    format!("[Speedrack] {what} on {}", host())
}

fn settings(smtp_port: u16, extra: &str) -> String {
    format!(
        "email:
  smtp_host: 127.0.0.1
  smtp_port: {smtp_port}
  from: speedrack@example.org
  to_global: [ops@example.org]
email_url_prefix: https://cron.example.org/speedrack
script_name: /speedrack
{extra}"
    )
}

#[tokio::test]
async fn mail_goes_out_on_changes_of_state_only_to_task_and_global_recipients() {
    let smtp = SmtpServer::start();
    let work = tempfile::tempdir().expect("temp dir");
    let tasks = format!(
        "tasks:\n  - {{name: flip, command: '{FLIP}', interval: 400w, email: dev@example.org, working_dir: {}}}\n",
        work.path().display()
    );
    let daemon = DaemonBuilder::new(&tasks)
        .settings(&settings(smtp.port, ""))
        .start();
    let mut events = daemon.watch().await;
    let mut runs = Vec::new();
    let mut mails = Vec::new();
    // Run 6 succeeds after run 5 failed, so it mails: its mail is the marker that every mail
    // decided before it has been sent, so none for runs 2 and 4 is still on its way.
    for expect_mail in [true, false, true, false, true, true] {
        let run = daemon.run_now_and_wait(&mut events, "flip").await;
        if expect_mail {
            let mail = smtp.next_mail(WAIT).expect("a mail for this run");
            assert!(
                mail.data.contains(&format!("/runs/{}", run.id)),
                "the next mail is about run {} (none for runs 2 and 4): {}",
                run.id,
                mail.data
            );
            mails.push(mail);
        }
        runs.push(run);
    }
    mails.pop();
    let subjects: Vec<&str> = mails.iter().filter_map(Mail::subject).collect();
    assert_eq!(
        subjects,
        [
            subject("flip failed"),
            subject("flip success"),
            subject("flip failed")
        ]
    );
    let first = &mails[0];
    assert_eq!(first.from, "speedrack@example.org");
    assert_eq!(first.to, ["dev@example.org", "ops@example.org"]);
    assert!(
        first.data.contains("broke on run 0"),
        "the stderr excerpt: {}",
        first.data
    );
    let link = format!(
        "https://cron.example.org/speedrack/tasks/flip/runs/{}",
        runs[0].id
    );
    assert!(
        first.data.contains(&link),
        "the run link under the prefix, which holds the sub-path: {}",
        first.data
    );
    assert!(
        first.data.contains("Content-Type: text/html"),
        "an HTML part too"
    );
}

#[tokio::test]
async fn spam_mails_every_run_and_spam_fail_every_failure() {
    let smtp = SmtpServer::start();
    let tasks = "tasks:
  - {name: chatty, command: 'true', interval: 400w, spam: true}
  - {name: alarmist, command: 'false', interval: 400w, spam_fail: true}
";
    let daemon = DaemonBuilder::new(tasks)
        .settings(&settings(smtp.port, ""))
        .start();
    let mut events = daemon.watch().await;
    for task in ["chatty", "chatty", "alarmist", "alarmist"] {
        daemon.run_now_and_wait(&mut events, task).await;
        let mail = smtp
            .next_mail(WAIT)
            .unwrap_or_else(|| panic!("a mail after each {task} run"));
        let expected = if task == "chatty" {
            subject("chatty success")
        } else {
            subject("alarmist failed")
        };
        assert_eq!(mail.subject(), Some(expected.as_str()));
        assert_eq!(
            mail.to,
            ["ops@example.org"],
            "global recipients only: the task names none"
        );
    }
}

#[tokio::test]
async fn webhooks_get_the_json_and_the_disabled_switch_stops_only_mail() {
    let smtp = SmtpServer::start();
    let mut hook = Receiver::start(StatusCode::OK).await;
    let extra = format!("notify:\n  webhooks: ['{}/hooks/secret-token']\n", hook.url);
    let settings =
        settings(smtp.port, &extra).replace("  smtp_host:", "  disabled: true\n  smtp_host:");
    let daemon = DaemonBuilder::new(
        "tasks:\n  - {name: broken, command: 'echo doom >&2; exit 3', interval: 400w}\n",
    )
    .settings(&settings)
    .start();
    let mut events = daemon.watch().await;
    let run = daemon.run_now_and_wait(&mut events, "broken").await;
    let received = hook.next(WAIT).await.expect("the webhook is called");
    assert_eq!(received.path, "/hooks/secret-token");
    let json: serde_json::Value = serde_json::from_slice(&received.body).expect("JSON");
    assert_eq!(json["task"], "broken");
    assert_eq!(json["state"], "failed");
    assert_eq!(json["exit_code"], 3);
    assert_eq!(json["run_id"], run.id);
    assert_eq!(json["output_excerpt"], "doom\n");
    assert_eq!(
        json["link"],
        format!(
            "https://cron.example.org/speedrack/tasks/broken/runs/{}",
            run.id
        )
    );
    assert!(json["text"].as_str().is_some_and(|text| {
        text.starts_with(&format!("{}: exit status 3", subject("broken failed")))
    }));
    // Mail goes first in a delivery, and the server has it before it answers the send, so
    // had it been sent it would be here by now: no wait.
    assert!(
        smtp.next_mail(Duration::ZERO).is_none(),
        "email.disabled stops mail"
    );
}

#[tokio::test]
async fn a_dead_mail_server_leaves_the_run_alone_and_records_the_failure() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let extra = "notify:\n  retries: 1\n  retry_backoff: 100ms\n";
    let daemon =
        DaemonBuilder::new("tasks:\n  - {name: broken, command: 'exit 1', interval: 400w}\n")
            .settings(&settings(port, extra))
            .start();
    let mut events = daemon.watch().await;
    let run = daemon.run_now_and_wait(&mut events, "broken").await;
    assert_eq!(run.reason, "exit status 1", "the run is judged as always");
    events
        .next_matching(WAIT, |event| match event {
            Event::TaskChanged(task)
                if task
                    .last_run
                    .as_ref()
                    .is_some_and(|last| !last.notification_error.is_empty()) =>
            {
                Some(())
            }
            _ => None,
        })
        .await
        .expect("the failed delivery is recorded and announced");
    let recorded = &daemon.ctl().json(&["runs", "broken"])["runs"][0];
    assert_eq!(recorded["status"], "failure");
    let status = daemon.ctl().json(&["status"]);
    assert_eq!(status["running_count"], 0);
    let run = daemon
        .client()
        .await
        .get_run(speedrack_proto::v1::GetRunRequest { run_id: run.id })
        .await
        .expect("run");
    let error = run.into_inner().run.expect("run").notification_error;
    assert!(
        error.starts_with("notification failed: email to ops@example.org: 127.0.0.1:"),
        "{error}"
    );
}

// The receivers answer from other worker threads while speedrackctl blocks this one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_runs_become_sentry_events_and_test_notify_reports_each_channel() {
    let mut sentry = Receiver::start(StatusCode::OK).await;
    let mut hook = Receiver::start(StatusCode::INTERNAL_SERVER_ERROR).await;
    let dsn = sentry.url.replace("http://", "http://publickey@") + "/42";
    let settings = format!(
        "sentry_dsn: {dsn}\nnotify:\n  webhooks: ['{}/down']\n  retries: 0\n",
        hook.url
    );
    let daemon =
        DaemonBuilder::new("tasks:\n  - {name: broken, command: 'exit 2', interval: 400w}\n")
            .settings(&settings)
            .start();
    let mut events = daemon.watch().await;
    daemon.run_now_and_wait(&mut events, "broken").await;
    let envelope = sentry
        .next(WAIT)
        .await
        .expect("an event reaches the Sentry endpoint");
    assert_eq!(envelope.path, "/api/42/envelope/");
    let body = String::from_utf8_lossy(&envelope.body);
    assert!(
        body.contains(&format!("{}: exit status 2", subject("broken failed"))),
        "{body}"
    );
    assert!(body.contains("\"fingerprint\":[\"broken\"]"), "{body}");
    hook.next(WAIT).await.expect("the webhook was tried too");

    let output = daemon.ctl().run(&["test-notify", "broken"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "a channel failed: {stdout}");
    assert!(
        stdout.contains("failed  webhook http://127.0.0.1:"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("/down"),
        "webhook paths may be secrets and are never shown: {stdout}"
    );
    assert!(stdout.contains("ok      sentry"), "{stdout}");
    sentry
        .next(WAIT)
        .await
        .expect("the test event reached Sentry");
}

#[tokio::test]
async fn a_run_that_cannot_start_is_mailed_like_any_failure() {
    let smtp = SmtpServer::start();
    let work = tempfile::tempdir().expect("temp dir");
    let gone = work.path().join("gone");
    let tasks = format!(
        "tasks:\n  - {{name: lost, command: 'true', interval: 400w, email: dev@example.org, working_dir: {}}}\n",
        gone.display()
    );
    let daemon = DaemonBuilder::new(&tasks)
        .settings(&settings(smtp.port, ""))
        .start();
    let mut events = daemon.watch().await;
    let run = daemon.run_now_and_wait(&mut events, "lost").await;
    assert_eq!(
        run.status(),
        speedrack_proto::v1::RunStatus::ExecutionError,
        "{run:?}"
    );
    let mail = smtp
        .next_mail(WAIT)
        .expect("the execution error is mailed, as a failure that ran would be");
    assert_eq!(mail.subject(), Some(subject("lost failed").as_str()));
    assert!(
        mail.data.contains(&format!("/runs/{}", run.id)),
        "{}",
        mail.data
    );
}

/// Whether `text` is a duration as mails write it: `2 ms`, `1.5 s`, `3 min 4 s`, `< 1 ms`.
fn is_human_duration(text: &str) -> bool {
    let words: Vec<&str> = text.split(' ').collect();
    let number = |word: &str| {
        let (whole, tenths) = word.split_once('.').unwrap_or((word, "0"));
        !whole.is_empty()
            && whole.bytes().all(|byte| byte.is_ascii_digit())
            && tenths.len() == 1
            && tenths.bytes().all(|byte| byte.is_ascii_digit())
    };
    match words.as_slice() {
        ["<", "1", "ms"] => true,
        [value, unit] => number(value) && ["ms", "s", "min", "h", "d"].contains(unit),
        [large, large_unit, small, small_unit] => {
            number(large) && number(small) && [*large_unit, *small_unit] != ["ms", "ms"]
        }
        _ => false,
    }
}

#[tokio::test]
async fn a_mail_names_its_host_its_stream_and_a_human_duration() {
    let smtp = SmtpServer::start();
    let tasks = "tasks:
  - {name: loud, command: 'echo disk full >&2; exit 1', interval: 400w, spam: true}
  - {name: quiet, command: 'echo all done', interval: 400w, spam: true}
";
    let daemon = DaemonBuilder::new(tasks)
        .settings(&settings(smtp.port, ""))
        .start();
    let mut events = daemon.watch().await;
    let mut message_ids = Vec::new();
    for (task, label) in [("loud", "Output (stderr):"), ("quiet", "Output (stdout):")] {
        daemon.run_now_and_wait(&mut events, task).await;
        let mail = smtp.next_mail(WAIT).expect("a mail for the run");
        let header = |name: &str| {
            mail.data
                .lines()
                .find_map(|line| line.strip_prefix(&format!("{name}: ")))
                .map(str::to_owned)
        };
        assert_eq!(header("Auto-Submitted").as_deref(), Some("auto-generated"));
        let message_id = header("Message-ID").expect("a Message-ID");
        assert!(
            message_id.starts_with('<') && message_id.ends_with(&format!("@{}>", host())),
            "{message_id}"
        );
        message_ids.push(message_id);
        assert!(
            mail.subject()
                .is_some_and(|subject| subject.ends_with(&host())),
            "{:?}",
            mail.subject()
        );
        assert!(
            mail.data.contains(&format!("\nHost: {}", host())),
            "the host in the body: {}",
            mail.data
        );
        assert!(mail.data.contains(label), "{label} in {}", mail.data);
        let duration = header("Duration").expect("a duration line in the text part");
        assert!(
            is_human_duration(&duration),
            "{duration:?} in {}",
            mail.data
        );
    }
    assert_ne!(message_ids[0], message_ids[1], "each mail has its own id");
}

#[test]
fn the_duration_check_tells_humantime_apart() {
    for good in ["2 ms", "< 1 ms", "1.5 s", "3 min 4 s", "2 h"] {
        assert!(is_human_duration(good), "{good}");
    }
    for bad in ["2ms 14us 262ns", "2ms", "1.55 s", "", "3 min 4"] {
        assert!(!is_human_duration(bad), "{bad}");
    }
}
